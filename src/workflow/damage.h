/*
 * damage.h - which snapshot paths a set of damaged blocks affects.
 *
 * The pool's error log names blocks (bps) found damaged beyond repair.
 * This maps them back to what a user restores: a data pack's objects are
 * file chunks (through the index), every file using one of them in any
 * snapshot is affected; a metadata pack holds directory listings (the
 * directory and all below it are unreadable); a snapshot block is a whole
 * snapshot; a damaged index hides everything.  Like ZFS's "Permanent
 * errors have been detected in the following files".
 */
#ifndef VG_WORKFLOW_DAMAGE_H
#define VG_WORKFLOW_DAMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "pool/pool.h"
#include "repo/id.h"
#include "repo/repo.h"

#define VG_DAMAGE_MAX 100000

enum vg_damage_kind {
	VG_DAMAGE_FILE = 1,     /* file content */
	VG_DAMAGE_DIR = 2,      /* directory listing: everything below too */
	VG_DAMAGE_SNAPSHOT = 3, /* the snapshot record itself */
	VG_DAMAGE_INDEX = 4,    /* the index: the snapshot's files cannot be found */
};

struct vg_damage_item {
	struct vg_id snap;
	int64_t time_ns;
	char *path; /* "/top/dir/file" inside the snapshot; "" for the whole snapshot */
	int kind;   /* enum vg_damage_kind */
};

struct vg_damage_report {
	struct vg_damage_item *v; /* by snapshot (oldest first), then path */
	size_t n;
	uint64_t dropped;  /* items beyond VG_DAMAGE_MAX */
};

/* ro: how to open the repository (its passphrase); NULL: defaults. */
int vg_damage_map(struct vg_pool *pool, const struct vg_repo_opts *ro, const struct vg_bp *bad, size_t nbad,
		  struct vg_damage_report *out);
void vg_damage_report_release(struct vg_damage_report *r);
const char *vg_damage_kind_name(int kind);

#endif
