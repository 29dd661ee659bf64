/*
 * alert_int.h - what the files of src/alert/ share: the context, channels
 * and their ops table, messages, and the helpers each channel uses.
 * Not for use outside src/alert/.
 *
 * A message (struct msg) is an event made concrete for delivery: it owns
 * copies of its strings, carries its state (firing, reminder, escalated,
 * resolved, test) and times, and round-trips through JSON for the spool.
 * A channel is one [alert "NAME"] section; its ops table does the talking.
 */
#ifndef VG_ALERT_ALERT_INT_H
#define VG_ALERT_ALERT_INT_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "alert/alert.h"
#include "base/buf.h"

struct vg_config_section;

enum msg_state { MSG_FIRING, MSG_REMINDER, MSG_ESCALATED, MSG_RESOLVED, MSG_TEST };

struct msg {
	char id[33]; /* random hex, names the spool file */
	enum msg_state state;
	enum vg_alert_level level;      /* for resolved: the level it had */
	enum vg_alert_level prev_level; /* for escalated */
	enum vg_alert_kind kind;
	char *key, *host, *subject, *title, *body; /* key may be NULL */
	struct {
		char *name, *value;
	} fig[VG_ALERT_MAX_FIGURES];
	size_t nfig;
	long long time;       /* when made, epoch seconds */
	long long first_seen; /* when the condition was first seen (0: n/a) */
};

struct channel;

struct channel_ops {
	const char *type;
	const char *const *keys; /* type-specific keys allowed besides the common ones */
	/* Reads and checks the channel's keys (the common ones are done). */
	int (*setup)(struct vg_alert_ctx *ctx, struct channel *ch);
	/* Delivers m within timeout_ms; on failure returns < 0 with a one-line
	 * description in err (not yet redacted). */
	int (*send)(struct vg_alert_ctx *ctx, struct channel *ch, const struct msg *m,
		    long long timeout_ms, char *err, size_t errlen);
	void (*release)(struct channel *ch);
};

struct channel {
	const struct channel_ops *ops;
	const char *name; /* points into the config */
	const struct vg_config_section *sec;
	unsigned levels; /* bit per vg_alert_level */
	unsigned kinds;  /* bit per vg_alert_kind */
	const char *url, *token, *user;
	long long connect_ms, request_ms;
	void *priv;
	bool failed;  /* failed in this run (or this retry round): no more attempts */
	bool backlog; /* has spooled messages: new ones queue behind them */
	bool down;    /* its backlog failed again when this run started: no retry rounds */
};

#define MAX_CHANNELS 64
#define MAX_REPORT 512
#define MAX_WARNINGS 32

struct vg_alert_ctx {
	struct vg_config *cfg;
	struct channel ch[MAX_CHANNELS];
	size_t nch;
	char host[256];
	char dir[4096]; /* <state>/alert */
	long long now;
	long long budget_ms, spent_ms;
	long long remind_ms;
	char rid[37];
	struct vg_alert_delivery report[MAX_REPORT];
	size_t nreport;
	char *warnings[MAX_WARNINGS + 1];
	size_t nwarnings;
	char **seen; /* condition keys emitted in this context (for sweep) */
	size_t nseen, seen_cap;
	size_t spooled;
	size_t spooled_now; /* messages spooled by this context */
	bool finished;
};

/* ---- channels (ch_*.c) ---- */
extern const struct channel_ops vg_ch_exec, vg_ch_webhook, vg_ch_ntfy, vg_ch_gotify,
	vg_ch_pushover, vg_ch_pagerduty, vg_ch_healthchecks, vg_ch_email;

/* The healthchecks channel's pings (ch_healthchecks.c). */
enum hc_signal { HC_START, HC_SUCCESS, HC_FAIL, HC_EXIT, HC_LOG };
int vg_hc_ping(struct vg_alert_ctx *ctx, struct channel *ch, enum hc_signal sig, int status,
	       const char *body, long long timeout_ms, char *err, size_t errlen);

/* Runs argv (ch_exec.c) with input on stdin within the channel's request
 * timeout and timeout_ms; 0 on exit status 0, else err says what happened
 * ("<what> exited with status 3: <first line of stderr>"). */
int run_command(struct channel *ch, const char *const *argv, const char *const *env,
		const void *input, size_t len, long long timeout_ms, const char *what, char *err,
		size_t errlen);

/* ---- messages (msg.c) ---- */
void msg_release(struct msg *m);
/* From an event: copies strings; VG_EINVAL if it lacks a title. */
int msg_from_event(struct vg_alert_ctx *ctx, const struct vg_alert_event *ev, enum msg_state st,
		   struct msg *m);
const char *msg_state_name(enum msg_state s);
/* "CRITICAL: nas1: pool tank ...", "resolved: nas1: ...", "test: ..." */
const char *msg_headline(const struct msg *m, char *buf, size_t len);
/* Body, then the facts block (host, subject, kind, condition, figures). */
int msg_text(const struct msg *m, struct vg_buf *out);
/* The JSON document webhook and exec receive, also kept in the spool. */
json_t *msg_to_json(const struct msg *m);
int msg_from_json(const json_t *j, struct msg *m);
/* ISO 8601 UTC ("2024-05-01T12:00:00Z"). */
const char *msg_iso_time(long long t, char *buf, size_t len);

/* ---- HTTP through libcurl (http.c; libcurl itself: curl_lib.h) ---- */
struct http_req {
	const char *method; /* "POST" (default), "GET", "PUT" */
	const char *url;
	const char *const *headers; /* "Name: value", NULL-terminated, or NULL */
	const char *content_type;
	const char *body;
	size_t body_len;
};
struct http_resp {
	long status;
	char body[2048]; /* the start of the reply, NUL-terminated */
};
/* Sends req with the channel's connect timeout and min(request timeout,
 * timeout_ms).  Returns 0 for a 2xx answer; otherwise < 0 and err says what
 * happened, naming the server by scheme://host:port only. */
int http_send(struct channel *ch, const struct http_req *req, long long timeout_ms,
	      struct http_resp *resp, char *err, size_t errlen);
/* POSTs (or PUTs) doc as JSON; takes ownership of doc (NULL: out of memory). */
int http_post_json(struct channel *ch, const char *method, const char *url,
		   const char *const *headers, json_t *doc, long long timeout_ms, char *err,
		   size_t errlen);
/* libcurl options every channel shares (CURL *curl): timeouts, error
 * buffer, ca-file, tls-verify. */
void curl_common(void *curl, struct channel *ch, long long total_ms, char *ebuf);
/* Turns a CURLcode into 0 or an error with err filled in. */
int curl_outcome(int rc, const char *origin, long long total_ms, const char *ebuf, char *err,
		 size_t errlen);
/* scheme://host[:port] of url, never its path or credentials. */
const char *http_origin(const char *url, char *buf, size_t len);
/* application/x-www-form-urlencoded "k=v&k=v" from pairs (NULL-terminated);
 * on failure (no libcurl, out of memory) err says why. */
int http_form(const char *const *pairs, struct vg_buf *out, char *err, size_t errlen);
/* Makes header text safe: one line, printable. */
void http_header_value(const char *in, char *out, size_t len);
/* One line of header text; non-ASCII text becomes RFC 2047 encoded words
 * ("=?UTF-8?B?...?="), as ntfy and mail readers decode them. */
void rfc2047(const char *in, char *out, size_t len);
/* Copies at most max bytes of in, cut at a UTF-8 character boundary, with
 * " [...]" appended when cut. */
void utf8_cut(const char *in, size_t max, char *out, size_t len);

/* ---- helpers (alert.c) ---- */
/* Reads a key every channel type may have; helpers for setup(). */
int ch_need(struct vg_alert_ctx *ctx, struct channel *ch, const char *key, const char **out);
int ch_opt(struct channel *ch, const char *key, const char **out);
void ctx_warn(struct vg_alert_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
long long ctx_left_ms(const struct vg_alert_ctx *ctx);
void ctx_report(struct vg_alert_ctx *ctx, const struct channel *ch, const char *what,
		const char *headline, enum vg_alert_outcome o, const char *err, long long ms);
long long mono_ms(void);
/* SIGPIPE blocked for this thread around a write that may hit a closed
 * pipe or socket (a command that does not read its stdin, a server that
 * hangs up): the write fails with EPIPE instead of killing the process.
 * A SIGPIPE raised meanwhile is consumed before the mask is restored. */
struct sigpipe_guard {
	sigset_t old;
	bool was_pending;
};
void sigpipe_block(struct sigpipe_guard *g);
void sigpipe_restore(struct sigpipe_guard *g);
void random_hex(char *out, size_t nbytes); /* out gets 2*nbytes hex + NUL */

/* ---- files (state.c) ---- */
/* Reading goes through vg_fs_read_small() (os/fs.h).  Writing: a
 * temp file, fsync, rename, fsync of the directory. */
int alert_write_atomic(const char *path, const char *data, size_t len);

/* ---- dedup state (state.c) ---- */
struct cond {
	enum vg_alert_level level;
	enum vg_alert_kind kind;
	char *host, *subject, *title;
	long long first_seen, last_sent, last_seen;
	long long count;
};
enum decision { DECIDE_NEW, DECIDE_REPEAT, DECIDE_REMIND, DECIDE_WORSE };
/* Under the state lock: records ev and says whether to send. */
int state_note(struct vg_alert_ctx *ctx, const struct vg_alert_event *ev, const char *host,
	       enum decision *d, long long *first_seen, enum vg_alert_level *prev);
/* Under the state lock: removes key; *found false if it was not active. */
int state_clear(struct vg_alert_ctx *ctx, const char *key, bool *found, struct cond *c);
/* The active conditions as a JSON array (new reference), each with its
 * "key" added. */
int state_list(struct vg_alert_ctx *ctx, json_t **out);
/* Active keys starting with prefix (malloc'd array of malloc'd strings). */
int state_keys(struct vg_alert_ctx *ctx, const char *prefix, char ***keys, size_t *n);
void cond_release(struct cond *c);

/* ---- spool (spool.c) ---- */
int spool_add(struct vg_alert_ctx *ctx, const struct channel *ch, const struct msg *m,
	      const char *err);
/* One pass over the spool in order: each channel not yet failed gets its
 * messages tried; delivered ones are removed.  *left counts what remains. */
int spool_pass(struct vg_alert_ctx *ctx, size_t *left);
/* Marks channels that have spooled messages (ch->backlog). */
int spool_scan(struct vg_alert_ctx *ctx, size_t *count);

/* ---- delivery (deliver.c) ---- */
/* One attempt within the budget; reports; on failure marks ch->failed. */
int deliver_once(struct vg_alert_ctx *ctx, struct channel *ch, const struct msg *m,
		 const char *what, char *err, size_t errlen);
bool ch_routes(const struct channel *ch, enum vg_alert_level l, enum vg_alert_kind k);

#endif
