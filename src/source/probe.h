/*
 * probe.h - what the health probes share inside src/source/ (not public).
 *
 * Finding lists have a sticky out-of-memory flag: after a failed
 * allocation every add is a no-op and the owner returns VG_ENOMEM once at
 * the end (vg_hl_status()), which keeps the parsers free of error plumbing.
 * Adders return the new finding, valid until the next add, or NULL (OOM);
 * the fig/append functions accept NULL.
 *
 * Text routines work on (buffer, length) pairs that need not be
 * NUL-terminated: tool output is outside input.
 */
#ifndef VG_SOURCE_PROBE_H
#define VG_SOURCE_PROBE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "source/health.h"
#include "source/storage.h"

/* Caps on what a parser keeps from outside input. */
#define VG_HL_MAX_FINDINGS 4096
#define VG_HL_MAX_COUNTERS 8192
#define VG_HL_LINE_MAX 4096
#define VG_HL_MAX_ERRFILES 20 /* permanent-error files named in a message */

struct vg_health_finding *vg_hl_add(struct vg_health_list *l, enum vg_health_level lvl,
				    enum vg_health_probe probe, const char *subject,
				    const char *action, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void vg_hl_fig(struct vg_health_list *l, struct vg_health_finding *f, const char *key, int64_t v);
void vg_hl_figs(struct vg_health_list *l, struct vg_health_finding *f, const char *key,
		const char *s);
/* Append formatted text to the finding's message. */
void vg_hl_append(struct vg_health_list *l, struct vg_health_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vg_hl_counter(struct vg_health_list *l, enum vg_health_probe probe, const char *key,
		   const char *subject, const char *name, uint64_t value,
		   enum vg_health_level rise_level);
/* Deep-copy every finding and counter of src to the end of dst. */
void vg_hl_merge(struct vg_health_list *dst, const struct vg_health_list *src);
/* 0, or VG_ENOMEM when an allocation failed since the list was created. */
int vg_hl_status(const struct vg_health_list *l);
/* The first finding with this probe and subject, or NULL. */
struct vg_health_finding *vg_hl_find(struct vg_health_list *l, enum vg_health_probe probe,
				     const char *subject);

/* Make room for element n of a growable array (doubling; new slots are
 * zeroed).  False on OOM or when n reaches max. */
bool vg_hl_grow(void **p, size_t *cap, size_t n, size_t elem, size_t max);

/* Printf into a fresh malloc'd string (NULL on OOM). */
char *vg_hl_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Line iteration: *pos advances past the line; the line is [*s, *s+*n)
 * without its newline (and without a trailing CR).  False at the end. */
bool vg_hl_line(const char *buf, size_t len, size_t *pos, const char **s, size_t *n);
/* Skip leading blanks (space, TAB) of a line. */
void vg_hl_ltrim(const char **s, size_t *n);
void vg_hl_rtrim(const char *s, size_t *n);
/* Does [s, s+n) start with prefix? */
bool vg_hl_starts(const char *s, size_t n, const char *prefix);
/* Next whitespace-separated token in [*s, *s+*n); advances. */
bool vg_hl_token(const char **s, size_t *n, const char **tok, size_t *tn);
/* Copy a token into a fixed buffer, NUL-terminated (truncating).  The copy
 * has non-printable bytes replaced by '?', so garbage never reaches a
 * terminal or a JSON string. */
void vg_hl_copy(char *dst, size_t cap, const char *s, size_t n);
/* Decimal integer, whole token; false when it is not one. */
bool vg_hl_u64(const char *s, size_t n, uint64_t *v);
/* A zfs_nicenum-style count: "0", "12", "1.88K", "3M" (approximate). */
bool vg_hl_nicenum(const char *s, size_t n, uint64_t *v);

/* ctime()-style "Sun Nov 12 07:22:03 2023" (as zpool and btrfs print it, in
 * local time); (time_t)-1 when it is not one. */
time_t vg_hl_ctime(const char *s, size_t n);
/* "2023-11-12" into buf. */
void vg_hl_date(time_t t, char *buf, size_t len);

/* The options with defaults filled in (sysroot from the environment). */
struct vg_health_eff {
	const char *sysroot; /* "" for none */
	time_t now;
	int timeout_ms;
	int scrub_warn_days, scrub_crit_days;
	bool allow_uninspectable, no_smart;
};
void vg_health_eff(const struct vg_health_opts *o, struct vg_health_eff *e);

/* Memory between runs (memory.c).  open: file NULL is the default in the
 * state dir, "" disables memory (NULL returned); a damaged or unreadable
 * file is a note (WARN) and counts as empty.  apply: compare the list's
 * counters with the last run's (rises annotate or add findings, drops add
 * an INFO) and record them.  close: write the file atomically (a failure
 * is a note) and free.  NULL-safe. */
struct vg_hmem;
struct vg_hmem *vg_hmem_open(const char *file, time_t now, struct vg_health_list *notes);
void vg_hmem_apply(struct vg_hmem *m, struct vg_health_list *l);
void vg_hmem_close(struct vg_hmem *m, struct vg_health_list *notes);

/* Probes without a public parser entry (health.c calls them). */
/* md: /proc/mdstat and /sys/block/<md>/md/ under sysroot. */
void vg_md_check(const char *sysroot, const char *md, const struct vg_health_eff *e,
		 struct vg_health_list *out);
/* Device paths named by `btrfs filesystem show` ("/dev/sdb"). */
void vg_btrfs_devices(const char *buf, size_t len, struct vg_names *out);

/* "cannot parse" finding with the first offending line quoted. */
void vg_hl_unparsable(struct vg_health_list *l, enum vg_health_probe probe, const char *subject,
		      const char *what, const char *why, const char *line, size_t n);

/* The "go cold" guidance for a non-redundant device that is losing data. */
extern const char vg_health_go_cold[];

#endif
