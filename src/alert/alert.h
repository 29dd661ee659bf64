/*
 * alert.h - tell people, once, with the facts: tiers, routing, dedup,
 * resolve, spool and the dead-man's switch (docs/ALERTS.md).
 *
 * A workflow opens one context per run, emits events as it finds things,
 * and finishes the context at the end:
 *
 *   vg_alert_open(cfg, NULL, &ctx);      reads [alert] and [alert "NAME"]
 *   vg_alert_run_begin(ctx);             Healthchecks /start?rid=...
 *   vg_alert_emit(ctx, &ev);             route, dedup, deliver or spool
 *   vg_alert_sweep(ctx, "gate:zfs:");    resolve conditions not seen again
 *   vg_alert_run_end(ctx, status, tail); Healthchecks success or /<status>
 *   vg_alert_finish(ctx);                retry with backoff, spool the rest
 *   vg_alert_free(ctx);
 *
 * Invariants (the laws the tests hold us to):
 *  1. Bounded: all delivery work of one context (attempts, retries, backoff
 *     sleeps) together takes at most the configured timeout (+ one request's
 *     slack); a backup is never held up longer.  A channel that failed once
 *     in a run gets no further attempt until the retry rounds of finish.
 *  2. Never lost: a message not delivered is written to the spool (one file
 *     per message under <state>/alert/spool/, temp + rename) before the call
 *     returns, and is retried when the next context opens (vigil alert
 *     flush, or any run).  Per channel, messages go out in the order they
 *     were made: a channel with a backlog gets new messages queued behind it,
 *     so a resolve never overtakes its trigger.
 *  3. Once: an event with a condition key alerts when new, again only when
 *     its level rises or after the reminder interval, and a resolve is sent
 *     when it clears.  The state lives in <state>/alert/state.json, updated
 *     under a lock (zedlets run concurrently); a damaged state file is
 *     treated as empty with a warning.
 *  4. Secret: no token, key, password or ping URL reaches an error, a
 *     report or the spool; every text leaving this module is redacted.
 *
 * Pings to Healthchecks channels are never spooled: a late ping lies.
 */
#ifndef VG_ALERT_ALERT_H
#define VG_ALERT_ALERT_H

#include <stdbool.h>
#include <stddef.h>

struct vg_config;
struct vg_alert_ctx;

enum vg_alert_level { VG_ALERT_INFO, VG_ALERT_WARNING, VG_ALERT_CRITICAL };

enum vg_alert_kind {
	VG_KIND_GATE_FINDING,     /* the source health gate found something */
	VG_KIND_VAULT_DEGRADED,   /* our vault lost redundancy or a device */
	VG_KIND_SCRUB_RESULT,     /* a scrub or resilver finished */
	VG_KIND_CHECKSUM_ERRORS,  /* checksum errors counted on a device */
	VG_KIND_IO_ERRORS,        /* read/write errors counted on a device */
	VG_KIND_DEVICE_STATE,     /* a device or pool changed state */
	VG_KIND_BIT_ROT,          /* content changed while size/mtime/ctime did not */
	VG_KIND_BACKUP_FAILED,
	VG_KIND_BACKUP_SUCCEEDED,
	VG_KIND_SNAPSHOT_SUSPECT, /* a snapshot was taken from an unhealthy source */
	VG_KIND_PRUNED,
	VG_KIND_TEST,             /* vigil alert test */
	VG_KIND_COUNT_
};

/* Stable names used in config, JSON and environment ("critical",
 * "checksum-errors"); parse returns -1 for an unknown name. */
struct json_t;
/* What is being alerted on, without sending anything: {"conditions":
 * [{"key", "level", "kind", "host", "subject", "title", "first_seen",
 * "last_sent", "last_seen", "count"}...], "spooled": messages waiting}
 * (a new jansson reference). */
int vg_alert_status(struct vg_alert_ctx *ctx, struct json_t **out);

const char *vg_alert_level_name(enum vg_alert_level l);
const char *vg_alert_kind_name(enum vg_alert_kind k);
int vg_alert_level_parse(const char *s);
int vg_alert_kind_parse(const char *s);
extern const char *const vg_alert_level_names[]; /* NULL-terminated */
extern const char *const vg_alert_kind_names[];

struct vg_alert_figure {
	const char *name;  /* e.g. "cksum_errors" */
	const char *value; /* e.g. "12" */
};
#define VG_ALERT_MAX_FIGURES 16

struct vg_alert_event {
	enum vg_alert_level level;
	enum vg_alert_kind kind;
	const char *key;     /* stable condition key ("gate:zfs:tank:sdb") for dedup
				and resolve; NULL: a one-off, always sent */
	const char *host;    /* NULL: [alert] host, else this host's name */
	const char *subject; /* what it is about: source, vault, pool, device */
	const char *title;   /* one line: what happened, with the numbers */
	const char *body;    /* the facts and the action to take */
	const struct vg_alert_figure *figures;
	size_t nfigures;
};

struct vg_alert_opts {
	long long now;        /* seconds since the epoch; 0: $VIGIL_NOW, else the clock */
	long long timeout_ms; /* total delivery budget; 0: [alert] timeout (30s) */
	bool no_flush;        /* do not retry the spool when opening */
};

/* Reads the channels from cfg (which must outlive the context; secrets
 * found are registered in it), loads nothing else yet, and retries the
 * spool (unless opts->no_flush).  VG_EINVAL names the config line at fault. */
int vg_alert_open(struct vg_config *cfg, const struct vg_alert_opts *opts,
		  struct vg_alert_ctx **out);

/* Routes, deduplicates and delivers one event.  Returns 0 when every
 * routed channel got it, or it was suppressed as a repeat, or it is safely
 * spooled; an error only when it could not even be spooled or the event is
 * invalid (VG_EINVAL). */
int vg_alert_emit(struct vg_alert_ctx *ctx, const struct vg_alert_event *ev);
/* The condition cleared: sends "resolved" (PagerDuty: resolve with the same
 * dedup key) where it was alerted, and forgets it.  Unknown keys: no-op. */
int vg_alert_resolve(struct vg_alert_ctx *ctx, const char *key);
/* Resolves every active condition whose key starts with prefix and that was
 * not emitted through this context: what a check that ran completely and no
 * longer sees a condition calls. */
int vg_alert_sweep(struct vg_alert_ctx *ctx, const char *prefix);

/* The dead-man's switch: pings every Healthchecks channel with the run's id
 * (rid).  run_end sends success for status 0, /<status> for 1..255, /fail
 * otherwise, with the log tail as body (capped at 10 KB, redacted). */
int vg_alert_run_begin(struct vg_alert_ctx *ctx);
int vg_alert_run_end(struct vg_alert_ctx *ctx, int exit_status, const char *log_tail);

/* Sends a test message through one channel (name) or all (NULL); each
 * outcome is in the report.  VG_ENOENT if the named channel is unknown. */
int vg_alert_test(struct vg_alert_ctx *ctx, const char *name);
/* Retries the spool with backoff within the remaining budget. */
int vg_alert_flush(struct vg_alert_ctx *ctx);
/* End of run: retry rounds with backoff for whatever is queued, within the
 * remaining budget; the rest stays spooled.  Idempotent. */
int vg_alert_finish(struct vg_alert_ctx *ctx);
void vg_alert_free(struct vg_alert_ctx *ctx); /* finishes first if needed */

/* ---- what happened (for the CLI and the workflows' logs) ---- */

enum vg_alert_outcome {
	VG_ALERT_DELIVERED,  /* the channel accepted it */
	VG_ALERT_SPOOLED,    /* not delivered now; kept for a later run */
	VG_ALERT_SUPPRESSED, /* a repeat of an ongoing condition */
	VG_ALERT_FAILED,     /* not delivered and not kept (pings, tests) */
	VG_ALERT_UNROUTED,   /* no channel takes this level and kind */
};

struct vg_alert_delivery {
	const char *channel;  /* channel name, NULL for suppressed/unrouted */
	const char *type;     /* "ntfy", ... */
	const char *what;     /* "firing", "reminder", "escalated", "resolved", "test",
				 "ping-start", "ping-end", "spooled-retry" */
	const char *headline; /* the rendered title */
	enum vg_alert_outcome outcome;
	const char *error;    /* redacted, NULL if none */
	long long ms;         /* time spent */
};

size_t vg_alert_report_count(const struct vg_alert_ctx *ctx);
const struct vg_alert_delivery *vg_alert_report_at(const struct vg_alert_ctx *ctx, size_t i);
const char *vg_alert_outcome_name(enum vg_alert_outcome o);
/* Warnings (damaged state, spool entries for unknown channels, ...). */
const char *vg_alert_warning(const struct vg_alert_ctx *ctx, size_t i);
/* Messages still in the spool after the last flush/finish. */
size_t vg_alert_spooled(const struct vg_alert_ctx *ctx);
/* The channels, for listings: name and type of channel i, NULL past the end. */
const char *vg_alert_channel_name(const struct vg_alert_ctx *ctx, size_t i);
const char *vg_alert_channel_type(const struct vg_alert_ctx *ctx, size_t i);
/* Text with every configured secret masked (for callers that log). */
void vg_alert_redact(const struct vg_alert_ctx *ctx, const char *in, char *out, size_t len);

#endif
