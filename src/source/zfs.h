/*
 * zfs.h - the parsed form of `zpool status`, shared by the text parser
 * (zpool_text.c), the JSON parser (zpool_json.c) and the evaluation that
 * turns a pool into findings (zfs_eval.c).  Not public.
 *
 * Both parsers produce the same model, so one set of rules decides the
 * level whatever the installed OpenZFS prints.  Sizes are capped: names are
 * truncated to their field, a pool keeps at most ZFS_MAX_VDEVS rows and
 * ZFS_MAX_POOLS pools are kept per output.
 */
#ifndef VG_SOURCE_ZFS_H
#define VG_SOURCE_ZFS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "source/probe.h"

#define ZFS_MAX_POOLS 64
#define ZFS_MAX_VDEVS 2048
#define ZFS_MAX_ERRFILES 1000

enum zfs_class { ZC_NORMAL, ZC_LOGS, ZC_CACHE, ZC_SPARES, ZC_SPECIAL, ZC_DEDUP };

struct zfs_vdev {
	char name[160];
	char state[16]; /* ONLINE DEGRADED FAULTED OFFLINE REMOVED UNAVAIL, AVAIL/INUSE for spares */
	char aux[160];  /* "was /dev/sdc1", "cannot open", "(resilvering)" ... */
	uint64_t err[3]; /* READ WRITE CKSUM */
	int depth;       /* 0: the pool's root row, 1: top-level vdevs, ... */
	enum zfs_class cls;
	int parent;      /* index of the parent row, -1 for the root and class headers */
	int nchild;
	bool header;     /* a class header row (logs, cache, spares, ...) */
};

enum zfs_scan_fn { ZS_NONE, ZS_SCRUB, ZS_RESILVER, ZS_OTHER };
enum zfs_scan_state { ZS_NEVER, ZS_FINISHED, ZS_RUNNING, ZS_CANCELED, ZS_PAUSED, ZS_UNPARSED };
enum zfs_errors { ZE_MISSING, ZE_NONE, ZE_COUNT, ZE_LIST, ZE_UNAVAILABLE, ZE_UNPARSED };

struct zfs_pool {
	char name[160];
	char state[16];
	char msgid[24];
	bool have_state, have_config;
	enum zfs_scan_fn scan_fn;
	enum zfs_scan_state scan_state;
	time_t scan_start, scan_end;
	uint64_t scan_errors;
	char scan_repaired[24]; /* as printed ("0B", "1M"); "" if unknown */
	bool repaired_nonzero;
	double pct_done;        /* < 0: unknown */
	char scan_line[200];    /* raw, for "cannot parse" */
	enum zfs_errors errors;
	uint64_t error_count;
	char errors_line[200];
	char **errfiles;
	size_t nerrfiles;       /* kept (capped) */
	uint64_t nerrfiles_total;
	struct zfs_vdev *v;
	size_t nv, capv;
	char parse_error[160];  /* set when this pool's block was malformed */
	char bad_line[200];
};

struct zfs_status {
	struct zfs_pool *pools;
	size_t n, cap;
	bool oom;
	char parse_error[160]; /* whole-output problem ("no 'pool:' line") */
	char bad_line[200];
};

void zfs_status_release(struct zfs_status *st);
/* Append a pool / a vdev row (NULL on OOM or past the caps). */
struct zfs_pool *zfs_pool_add(struct zfs_status *st);
struct zfs_vdev *zfs_vdev_add(struct zfs_status *st, struct zfs_pool *p);
void zfs_errfile_add(struct zfs_status *st, struct zfs_pool *p, const char *s, size_t n);
/* Link rows: parent/nchild from depth (text) - JSON sets them directly. */
void zfs_link_tree(struct zfs_pool *p);

/* Parsers: fill st; problems go to st->parse_error / pool->parse_error. */
void zfs_parse_text(const char *buf, size_t len, struct zfs_status *st);
void zfs_parse_json(const char *buf, size_t len, struct zfs_status *st);

/* Findings for the pools in st (only `pool` when not NULL); format names
 * the parser for "cannot parse" messages ("zpool status" / "zpool status -j"). */
void zfs_eval(const struct zfs_status *st, const char *pool, const char *format,
	      const struct vg_health_eff *e, struct vg_health_list *out);

#endif
