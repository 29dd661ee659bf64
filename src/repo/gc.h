/*
 * gc.h - forgetting snapshots and reclaiming the space nothing uses.
 *
 * Forget rewrites the root without the given snapshots and commits: one
 * atomic step, the data stays.  Garbage collection then finds what the
 * remaining snapshots reach, rewrites the index with only those objects,
 * moves the live blocks out of segments that are mostly dead, commits,
 * and deletes the segment files no longer used.  Theory in gc.c.
 *
 * Both need the vault open read-write (the vault lock keeps backups
 * out); neither needs more than the repository's id key, and data
 * objects are moved as stored bytes, never unsealed.
 */
#ifndef VG_REPO_GC_H
#define VG_REPO_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool/pool.h"
#include "repo/id.h"

/* Remove snapshots (every id must be listed: VG_ENOENT naming the first
 * that is not) from the committed root and commit. */
int vg_repo_forget(struct vg_pool *pool, const struct vg_id *ids, size_t n);

struct vg_root;
/* Write root (3 copies) and commit it as the vault's new state. */
int vg_repo_publish_root(struct vg_pool *pool, const struct vg_root *root);

struct vg_gc_opts {
	/* Clean (move the live blocks out of and delete) a segment when more
	 * than this share of what it holds is dead; 0 means 0.2. */
	double max_unused;
	bool dry_run; /* count only; write nothing */
	/* Dry run: count as if these snapshots were already forgotten. */
	const struct vg_id *exclude;
	size_t nexclude;
	/* How to open the repository (its passphrase); NULL: defaults. */
	const struct vg_repo_opts *repo;
};

struct vg_gc_result {
	uint64_t objects, dead_objects;     /* index entries before */
	uint64_t dead_bytes;                /* stored bytes of dead objects */
	uint64_t packs, dead_packs;         /* packs before; packs with nothing live */
	uint64_t repacked_packs;            /* partly live packs whose live objects moved */
	uint64_t moved_objects, moved_bytes; /* live data rewritten (objects, snapshot blocks) */
	uint32_t segments, cleaned_segments;  /* segments in use before; to be emptied */
	uint32_t kept_segments;             /* meant to be cleaned, kept: a block could not be read */
	bool committed;                     /* a new state was written */
	struct vg_pool_reclaim freed;       /* segment files deleted */
};

int vg_repo_gc(struct vg_pool *pool, const struct vg_gc_opts *o, struct vg_gc_result *res);

#endif
