/*
 * browse.h - looking into snapshots: resolve SNAPSHOT:PATH, walk a
 * snapshot's entries (ls), compare two snapshots (diff).
 *
 * PATH is relative to the snapshot's top (as ls shows it) or an absolute
 * source path.  Walks go in name order; paths passed to callbacks are
 * relative to the snapshot's top and valid during the call only.
 */
#ifndef VG_WORKFLOW_BROWSE_H
#define VG_WORKFLOW_BROWSE_H

#include "repo/repo.h"

/* On success either *dir is the directory PATH names (its tree id) and
 * *entry NULL, or *entry (inside *holder, release it) is the one
 * non-directory entry.  VG_ENOENT naming what is missing. */
int vg_browse_resolve(struct vg_repo *r, const struct vg_snapshot *s, const char *sub, struct vg_id *dir,
		      struct vg_tree *holder, const struct vg_tree_entry **entry);

/* Return non-zero from a callback to stop (that value is returned). */
typedef int (*vg_browse_fn)(void *ctx, const char *path, const struct vg_tree_entry *e);
/* Every entry below snapshot:sub (recursive), or the one entry it names. */
int vg_browse_ls(struct vg_repo *r, const struct vg_id *snap, const char *sub, vg_browse_fn fn, void *ctx);

enum vg_diff_kind { VG_DIFF_ADDED = '+', VG_DIFF_REMOVED = '-', VG_DIFF_MODIFIED = 'M', VG_DIFF_TYPE = 'T' };
/* kind; a (old) and b (new) entries (NULL when absent).  Modified: content
 * (chunks, target, device) or metadata (mode, owner, mtime, xattrs). */
typedef int (*vg_diff_fn)(void *ctx, int kind, const char *path, const struct vg_tree_entry *a,
			  const struct vg_tree_entry *b);
/* Differences from snapshot a to snapshot b; subtrees with equal ids are
 * skipped without being read. */
int vg_browse_diff(struct vg_repo *r, const struct vg_id *a, const struct vg_id *b, vg_diff_fn fn, void *ctx);

#endif
