/*
 * reach.h - what a repository's snapshots reach: id sets, a tree walker
 * and a scan of every index entry.
 *
 * Shared by prune (which objects are live), check (is everything
 * reachable well-formed and indexed) and the damage report (which paths
 * use a damaged block).  The index scan reads the committed index runs
 * straight from the format, so it sees exactly what the vault holds,
 * whatever the repository handle caches.
 */
#ifndef VG_REPO_REACH_H
#define VG_REPO_REACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool/pool.h"
#include "repo/index.h"
#include "repo/repo.h"

/* A set of ids (open addressing; ids are uniformly random). */
struct vg_idset {
	struct vg_id *k;
	size_t cap, n;
};
void vg_idset_init(struct vg_idset *s);
void vg_idset_release(struct vg_idset *s);
/* *fresh (optional) says whether it was not there yet. */
int vg_idset_add(struct vg_idset *s, const struct vg_id *id, bool *fresh);
bool vg_idset_has(const struct vg_idset *s, const struct vg_id *id);

/* Lookups in an array of structs sorted by id, each starting with its
 * struct vg_id: ids are uniformly random, so their top bits index a
 * table of where each range starts, and a search touches a few entries
 * close together instead of log2(n) spread over the array.  Memory: a
 * size_t per 8 entries (at most 2^20 + 1 of them). */
struct vg_idfence {
	size_t *start;
	int bits;
	const uint8_t *base;
	size_t n, stride;
};
int vg_idfence_build(struct vg_idfence *f, const void *base, size_t n, size_t stride);
/* The entry with that id, or NULL. */
void *vg_idfence_find(const struct vg_idfence *f, const struct vg_id *id);
void vg_idfence_release(struct vg_idfence *f);

/* What the walker calls; every member is optional.  A non-zero return
 * stops the walk with that value, except where said. */
struct vg_reach_ops {
	/* A tree about to be read: return 1 to skip it (and all below it). */
	int (*tree)(void *ctx, const struct vg_id *id);
	/* A part of a split tree. */
	int (*part)(void *ctx, const struct vg_id *id);
	/* Every entry, path relative to the walk's start ("dir/file"). */
	int (*entry)(void *ctx, const char *path, const struct vg_tree_entry *e);
	/* A tree that cannot be read (path "" for the start): return 0 to go
	 * on without it.  Without this member the walk stops with err. */
	int (*bad_tree)(void *ctx, const char *path, const struct vg_id *id, int err);
	void *ctx;
};
/* Depth first, entries in name order. */
int vg_reach_tree(struct vg_repo *r, const struct vg_id *tree, const struct vg_reach_ops *o);

/* The committed root, decoded (release with vg_root_release). */
int vg_reach_root(struct vg_pool *pool, struct vg_root *out);

/* Every entry of every index run of root, in id order, with the bp of
 * its pack (e->pack is meaningless).  An id listed by two runs is given
 * once (the newest, as lookups use).  Streams: memory is the run headers
 * and one decoded index block per run. */
typedef int (*vg_index_scan_fn)(void *ctx, const struct vg_index_entry *e, const struct vg_bp *pack);
/* key: the repository's master key (vg_repo_master()) for an encrypted
 * vault, NULL otherwise. */
int vg_index_scan(struct vg_pool *pool, const struct vg_root *root, const uint8_t *key, vg_index_scan_fn fn,
		  void *ctx);

/* Same block: equal first copy, size and checksum. */
bool vg_bp_same(const struct vg_bp *a, const struct vg_bp *b);

#endif
