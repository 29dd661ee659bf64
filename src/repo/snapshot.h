/*
 * snapshot.h - what one backup run recorded.
 *
 * A snapshot names the root tree of the backed-up paths and says how
 * much it can be trusted: its health verdict (ok, suspect, incomplete)
 * with the reasons in words, and its statistics.  Its id is the keyed hash
 * of its encoding (id.h), so it names the content exactly.
 */
#ifndef VG_REPO_SNAPSHOT_H
#define VG_REPO_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "repo/id.h"

enum vg_verdict {
	VG_VERDICT_OK = 0,
	VG_VERDICT_SUSPECT = 1,    /* source unhealthy or content doubtful */
	VG_VERDICT_INCOMPLETE = 2, /* something could not be backed up */
};

#define VG_SNAP_MAX_STR 4096      /* host, tag, path */
#define VG_SNAP_MAX_LIST 4096     /* tags, paths */
#define VG_SNAP_MAX_REASONS 1000  /* reasons kept verbatim; the rest are counted */
#define VG_SNAP_MAX_REASON 8192

struct vg_snap_stats {
	uint64_t files, dirs, others; /* entries stored, by kind */
	uint64_t bytes;               /* file content bytes */
	uint64_t new_bytes;           /* plaintext bytes of chunks new to the vault */
	uint64_t stored_bytes;        /* their stored (compressed) size */
	uint64_t chunks, new_chunks;
};

struct vg_snapshot {
	int64_t time_ns; /* when the backup started */
	char *host;
	char **tags;
	size_t ntags;
	char **paths; /* absolute source paths */
	size_t npaths;
	struct vg_id root; /* root tree */
	bool has_parent;
	struct vg_id parent; /* the snapshot incrementals were based on */
	int verdict;         /* enum vg_verdict */
	char **reasons;
	size_t nreasons;
	uint64_t reasons_dropped; /* reasons beyond VG_SNAP_MAX_REASONS */
	struct vg_snap_stats stats;
	bool has_cursor;       /* extension 2: */
	uint8_t verify_cursor; /* --verify-unchanged window start (0..99) */
};

int vg_snapshot_encode(const struct vg_snapshot *s, struct vg_buf *out);
/* Decoded strings are malloc'd and owned by *s. */
int vg_snapshot_decode(const uint8_t *p, size_t len, struct vg_snapshot *s);
void vg_snapshot_release(struct vg_snapshot *s);
/* Append a string to a list (tags, paths, reasons); copies it. */
int vg_snapshot_add_str(char ***list, size_t *n, const char *str);
const char *vg_verdict_name(int verdict);

#endif
