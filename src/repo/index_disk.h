/*
 * index_disk.h - the chunk index in the vault: lookups that read one index
 * block, merging of runs, streaming over every entry.
 *
 * Theory (docs/INDEX.md has the figures):
 *  1. What stays in memory per run is small: its header (fence keys, 148
 *     bytes per index block of 256 entries) and its membership filter
 *     (10 bits per entry).  Nothing else grows with the vault's object
 *     count; decoded index blocks live in a cache of a few MiB.
 *  2. A lookup tries runs newest first: filter, then a binary search of the
 *     fences, then one index block (cache or pool), then a binary search in
 *     it.  A filter hit that the block does not confirm (a false positive)
 *     just moves on to the next run: "absent" is only ever the answer when
 *     every run said so.  A block that cannot be read or decoded is an
 *     error, never "absent" (that would store a duplicate or lose an
 *     object's location).  A run whose filter could not be read is searched
 *     by its fences for every lookup: slower, never wrong.
 *  3. Runs are immutable.  A commit merges the newest runs together with
 *     the new entries into one new run (streaming, one decoded
 *     block per input), the root lists it instead of its inputs, and the
 *     pool commits that root atomically; only then does the in-memory run
 *     set change.  Before the commit the old runs are whole in the vault,
 *     after it the new one is; the inputs' blocks are unreferenced, never
 *     read again, and their segments are reclaimed by the next gc.
 *  4. Merge policy: the newest runs are merged while the newer ones
 *     together hold at least half as many entries as the next older run,
 *     or while there are more than VG_INDEX_MAX_RUNS.  Run sizes then at
 *     least double from newest to oldest: O(log n) runs, and every entry is
 *     rewritten O(log n) times over its life.
 *  5. An id in two runs (never written so, but a reader must decide): the
 *     newest run wins, in lookups, merges and scans alike.
 *
 * Threads: vg_dindex_find() may be called from any number of threads; it
 * takes the run set's read lock and the block cache's own lock, never the
 * repository's, and reads the pool with no lock held.  vg_dindex_replace()
 * takes the write lock.
 */
#ifndef VG_REPO_INDEX_DISK_H
#define VG_REPO_INDEX_DISK_H

#include <pthread.h>
#include <stdatomic.h>

#include "pool/pool.h"
#include "repo/filter.h"
#include "repo/index.h"
#include "repo/root.h"

#define VG_INDEX_MAX_RUNS 24
#define VG_INDEX_CACHE_BYTES (4u << 20)
#define VG_INDEX_COPIES 2

/* One run in memory. */
struct vg_drun {
	struct vg_runref ref;    /* entries and header bp, as in the root */
	struct vg_index_run h;   /* fences and filter block bps */
	struct vg_filter filter; /* bits NULL: could not be read, not consulted */
};

struct vg_dindex_stats {
	uint64_t lookups;     /* vg_dindex_find calls */
	uint64_t probes;      /* runs whose filter said "maybe" */
	uint64_t false_pos;   /* ... and whose block did not hold the id */
	uint64_t block_reads; /* cache misses: blocks read and decoded */
	uint64_t no_filter;   /* runs whose filter could not be read at open */
};

struct icache;

struct vg_dindex {
	struct vg_pool *pool;
	const uint8_t *key; /* data key (not owned), NULL without encryption */
	pthread_rwlock_t lock;
	struct vg_drun *run; /* oldest first, as in the root */
	size_t n;
	struct icache *cache;
	_Atomic uint64_t lookups, probes, false_pos, block_reads;
	uint64_t no_filter;
};

/* Read every run's header and filter.  key must outlive d. */
int vg_dindex_open(struct vg_dindex *d, struct vg_pool *pool, const uint8_t *key, const struct vg_runref *refs,
		   size_t n, size_t cache_bytes);
/* An empty set (no runs), e.g. for a new repository. */
int vg_dindex_init(struct vg_dindex *d, struct vg_pool *pool, const uint8_t *key, size_t cache_bytes);
void vg_dindex_release(struct vg_dindex *d);

/* 0: found (*e, with e->pack meaningless, and its pack's bp); VG_ENOENT:
 * in no run (no message set); anything else: the error, with a message. */
int vg_dindex_find(struct vg_dindex *d, const struct vg_id *id, struct vg_index_entry *e, struct vg_bp *pack);

/* How many of the newest runs (counts oldest first) to merge with a new
 * run of `fresh` entries (point 4). */
size_t vg_dindex_merge_count(const struct vg_runref *runs, size_t n, uint64_t fresh);

/* The merged run (taken over, *merged is zeroed) replaces the k newest. */
int vg_dindex_replace(struct vg_dindex *d, size_t k, struct vg_drun *merged);
void vg_drun_release(struct vg_drun *r);

void vg_dindex_stats(struct vg_dindex *d, struct vg_dindex_stats *out);

/* Read and decode the index block of fence f, checked against it (count,
 * first and last id).  Thread-safe. */
int vg_index_block_read(struct vg_pool *pool, const uint8_t *key, const struct vg_index_fence *f,
			struct vg_bp **packs, uint32_t *np, struct vg_index_entry **e, uint32_t *n);

/* ---- streaming (index_merge.c) ---- */

/* Merge of sources in id order; sources added later are newer and win on
 * equal ids.  Memory: one decoded block per run source. */
struct msrc;
struct vg_imerge {
	struct vg_pool *pool;
	const uint8_t *key;
	struct msrc *s;
	size_t n, cap;
};
void vg_imerge_init(struct vg_imerge *m, struct vg_pool *pool, const uint8_t *key);
int vg_imerge_add_run(struct vg_imerge *m, const struct vg_index_run *h);
/* e sorted by id, pack numbers into packs[] (both outlive m). */
int vg_imerge_add_array(struct vg_imerge *m, const struct vg_index_entry *e, size_t n, const struct vg_bp *packs);
/* 1: *e (pack number meaningless) and *pack set; 0: no more; < 0: error. */
int vg_imerge_next(struct vg_imerge *m, struct vg_index_entry *e, struct vg_bp *pack);
void vg_imerge_release(struct vg_imerge *m);

/* Writes one run: entries added in ascending id order are cut into
 * blocks, each written as soon as it is full. */
struct vg_run_writer {
	struct vg_pool *pool;
	struct vg_sealer *s;
	uint32_t bmax;
	uint64_t max, added;
	struct vg_index_entry *e; /* the open block, pack numbers local */
	uint32_t n;
	struct vg_bp *packs;      /* its pack table */
	uint32_t np;
	uint32_t *slot;           /* pack bp -> local number + 1 */
	size_t nslot;
	struct vg_index_run h;
	uint32_t fcap;
	struct vg_filter filter;
	struct vg_buf out;
};
/* At most max entries (sizes the filter); blocks of block_entries (0:
 * VG_INDEX_BLOCK_DEFAULT).  s seals the entries. */
int vg_run_writer_init(struct vg_run_writer *w, struct vg_pool *pool, struct vg_sealer *s, uint64_t max,
		       uint32_t block_entries);
int vg_run_writer_add(struct vg_run_writer *w, const struct vg_index_entry *e, const struct vg_bp *pack);
/* Write the last block, the filter and the header.  *run gets them (its
 * ref.count is 0 and nothing is written when no entry was added). */
int vg_run_writer_finish(struct vg_run_writer *w, struct vg_drun *run);
void vg_run_writer_release(struct vg_run_writer *w);

#endif
