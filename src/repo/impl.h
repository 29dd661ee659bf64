/*
 * impl.h - the repository handle's insides, shared by repo*.c only.
 *
 * Locking: r->lock guards the table of new objects and the counters;
 * r->qlock the worker queue; r->block the free chunk buffers; r->rlock the
 * read cache and the read-side sealer.  Each is held briefly and never
 * while writing to the pool; qlock and block are never held while taking
 * another lock.  Packs have one owner each (a worker, or the caller's
 * thread for r->data and r->meta) and need no lock.  The vault's index
 * runs (r->dx) have their own locks: lookups there never hold r->lock
 * (index_disk.h).
 */
#ifndef VG_REPO_IMPL_H
#define VG_REPO_IMPL_H

#include <pthread.h>

#include "repo/index.h"
#include "repo/index_disk.h"
#include "repo/pack.h"
#include "repo/repo.h"

#define VG_DATA_PACK_TARGET (4u << 20)
#define VG_META_PACK_TARGET (2u << 20)
#define VG_META_COPIES 2
#define VG_ROOT_COPIES 3
#define VG_READ_CACHE 4
#define VG_MAX_WORKERS 64
#define VG_INLINE_MAX (64u << 10) /* smaller objects skip the worker queue */
#define VG_REPO_BUF_SLACK (1u << 20) /* chunk buffer = largest chunk + this */

struct packer {
	struct vg_pack_builder b;
	struct vg_buf blk; /* the finished block (swapped with b's buffer) */
	struct vg_sealer *s; /* the owner's: seals the pack table */
	uint16_t btype;
	int copies;
	size_t target;
};

/* Small new chunks travel in batches: one job, many objects in one buffer.
 * The caller hashes them (cheap at this size, and a directory's tree can
 * then be stored without waiting for a worker); workers seal them. */
#define VG_BATCH_BYTES (1u << 20)
#define VG_BATCH_MAX 256u

struct job_item {
	uint32_t off, len;
	struct vg_id id;
};

struct job {
	int otype;
	struct vg_id id;
	struct vg_id *slot; /* non-NULL: the worker computes id, writes it here */
	uint8_t *data;      /* a pool buffer, given back by the worker */
	size_t len;
	struct job_item *items; /* a batch (malloc'd): data holds them all, ids known */
	uint32_t nitems;
};

struct cached_pack {
	struct vg_bp bp;
	uint8_t *data;
	size_t cap;
	uint64_t tick;
};

struct vg_repo {
	struct vg_pool *pool;
	struct vg_root root; /* committed state plus snapshots added since */
	struct vg_idkey key;
	uint8_t master[VG_MASTER_LEN]; /* repokey: data key | id key; zero otherwise */
	struct vg_chunker chunker;
	int sticky; /* a failed commit or write: refuse further writes */

	pthread_mutex_t lock;
	struct vg_index idx;  /* objects added since the last commit (and pending) */
	struct vg_dindex dx;  /* the committed runs: r->root.runs, in the same order */
	bool no_index;        /* opened without dx: no lookups, no new objects */
	uint32_t index_block; /* entries per index block written */
	struct packer data, meta; /* the caller's thread's own */
	struct vg_sealer wsealer; /* sealing on the caller's thread */
	struct vg_repo_counts counts;

	/* workers */
	pthread_mutex_t qlock;
	pthread_cond_t qcond, qspace, qidle, qids;
	struct job *q;
	size_t qcap, qhead, qlen;
	size_t ids_pending; /* queued or running jobs whose id is not written yet */
	struct job batch;   /* small chunks gathered by the caller's thread */
	int nworkers, busy;
	bool stop;
	pthread_t th[VG_MAX_WORKERS];
	struct wctx *w[VG_MAX_WORKERS];
	int werr;
	char werrmsg[1024];

	/* chunk buffers (repo_write.c) */
	pthread_mutex_t block;
	pthread_cond_t bfree;
	uint8_t **freebufs;
	size_t nfree, nbufs, maxbufs, bufcap;

	/* reads */
	pthread_mutex_t rlock;
	struct vg_sealer rsealer;
	struct cached_pack cache[VG_READ_CACHE];
	uint64_t tick;
};

/* repo_write.c */
int vg_repo_workers_start(struct vg_repo *r, int n);
void vg_repo_workers_stop(struct vg_repo *r);
void vg_repo_packer_init(struct packer *p, uint16_t btype, int copies, size_t target, struct vg_sealer *s);
void vg_repo_packer_release(struct packer *p);
/* Seal one object into p (the calling thread's own packer), writing the
 * pack first when it might not fit; takes r->lock for the counters. */
int vg_repo_pack_object(struct vg_repo *r, struct vg_sealer *s, struct packer *p, int otype,
			const struct vg_id *id, const void *data, size_t len);
/* Write the open packs, the workers' too (they must be idle). */
int vg_repo_flush_packs(struct vg_repo *r);

/* repo_read.c */
void vg_repo_cache_release(struct vg_repo *r);
/* Where id lives: the handle's table of new objects first, then the vault's runs.  0
 * (*e, and *bp unless e->pack is VG_INDEX_PENDING), VG_ENOENT (no message
 * set) or an error.  Holds r->lock only while reading the table. */
int vg_repo_index_lookup(struct vg_repo *r, const struct vg_id *id, struct vg_index_entry *e, struct vg_bp *bp);

#endif
