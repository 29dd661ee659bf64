/*
 * tree.h - one directory's entries, as stored in a tree object.
 *
 * A tree lists a directory's entries sorted by name bytes (strictly
 * ascending, so names are unique), each with its full metadata and its
 * content: the chunk ids of a file, the subtree id of a directory, the
 * target of a symlink.  Names are arbitrary bytes except '/' and NUL, and
 * never "." or ".." (vg_fs_name_ok); the decoder rejects anything else, so
 * a hostile tree is refused before restore sees it.
 *
 * A directory too large for one object is stored as a *parts* tree: a list
 * of TREE_PART object ids whose plaintexts, concatenated, are the ordinary
 * encoding (repo.c does the splitting and joining).
 *
 * Entries carry an extension area (tag, length, bytes): owner names (2),
 * xattrs with ACLs (3), hardlink set (4), sparse extents (5).  An unknown
 * tag with bit 0 clear is skipped, one with bit 0 set makes the tree
 * unreadable (VG_EVERSION) - it would be wrong to restore the entry
 * without it.
 */
#ifndef VG_REPO_TREE_H
#define VG_REPO_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "os/fs.h"
#include "repo/id.h"

#define VG_TREE_KIND_ENTRIES 0
#define VG_TREE_KIND_PARTS 1
#define VG_TREE_PART_MAX (4u << 20) /* split larger encodings into parts */
#define VG_TREE_MAX (1u << 30)      /* largest directory encoding accepted */

struct vg_tree_entry {
	const char *name; /* NUL-terminated; name_len bytes */
	size_t name_len;
	struct vg_fs_stat st;      /* type, mode, owner, times, size, ino, dev, nlink, rdev */
	const struct vg_id *chunks; /* file content, in order */
	size_t nchunks;
	struct vg_id subtree;      /* directory */
	const char *target;        /* symlink target (NUL-terminated) */
	/* Extensions (docs/FORMAT.md "Trees"); NULL / 0 when absent. */
	const char *user, *group;  /* owner names (tag 2) */
	const uint8_t *xattrs;     /* xattr list, os/fs.h encoding (tag 3, critical) */
	size_t xattrs_len;
	uint64_t link_group;       /* hardlink set number, > 0 (tag 4) */
	const uint64_t *extents;   /* encode: non-NULL for a sparse file: its data extents, */
	size_t nextents;           /* offset/length pairs (0 pairs: all hole) (tag 5, critical) */
	const uint8_t *ext_raw;    /* decode: tag 5 as stored (checked); vg_tree_extents() */
	size_t ext_raw_len;
};

/* The data extents of a decoded entry into *out (malloc'd pairs, non-NULL
 * for a sparse file even with 0 pairs; NULL when it has no holes). */
int vg_tree_extents(const struct vg_tree_entry *e, uint64_t **out, size_t *n);

struct vg_tree {
	struct vg_tree_entry *e;
	size_t n;
	uint8_t *arena; /* names, targets and chunk ids of the entries */
};

/* Encode entries (must be sorted, names valid) as a kind-0 tree. */
int vg_tree_encode(const struct vg_tree_entry *e, size_t n, struct vg_buf *out);
/* Decode a kind-0 tree (VG_ECORRUPT / VG_EVERSION naming the problem). */
int vg_tree_decode(const uint8_t *p, size_t len, struct vg_tree *out);
void vg_tree_release(struct vg_tree *t);

/* VG_TREE_KIND_* of an encoded tree, or a negative error. */
int vg_tree_kind(const uint8_t *p, size_t len);
int vg_tree_parts_encode(const struct vg_id *parts, size_t n, uint64_t total, struct vg_buf *out);
int vg_tree_parts_decode(const uint8_t *p, size_t len, struct vg_id **parts, size_t *n, uint64_t *total);

/* Binary search by name; NULL if absent. */
const struct vg_tree_entry *vg_tree_find(const struct vg_tree *t, const char *name, size_t len);
/* Byte-order comparison of two names. */
int vg_name_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif
