/*
 * index_disk.c - the run set in memory, lookups through the block cache,
 * the merge policy (see index_disk.h for the theory).
 *
 * The block cache holds decoded index blocks keyed by their bp, evicting
 * the least recently used beyond its byte budget.  A miss reads and
 * decodes with no lock held; two threads missing the same block both read
 * it and the second insert is dropped: wasted work, never a wrong answer.
 */
#include "repo/index_disk.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/reach.h"

struct cblock {
	struct vg_bp bp;
	struct vg_index_entry *e;
	struct vg_bp *packs;
	uint32_t n, np;
	size_t bytes;
	uint64_t tick;
};

struct icache {
	pthread_mutex_t lock;
	struct cblock *v;
	size_t n, cap;
	size_t bytes, max;
	uint64_t tick;
};

static void cblock_free(struct cblock *c)
{
	free(c->e);
	free(c->packs);
	memset(c, 0, sizeof *c);
}

static int cache_new(struct icache **out, size_t max)
{
	struct icache *c = calloc(1, sizeof *c);
	if (!c)
		return VG_ERR(VG_ENOMEM, "out of memory");
	pthread_mutex_init(&c->lock, NULL);
	c->max = max ? max : VG_INDEX_CACHE_BYTES;
	*out = c;
	return 0;
}

static void cache_clear(struct icache *c)
{
	for (size_t i = 0; i < c->n; i++)
		cblock_free(&c->v[i]);
	c->n = 0;
	c->bytes = 0;
}

static void cache_free(struct icache *c)
{
	if (!c)
		return;
	cache_clear(c);
	free(c->v);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The cached block for bp, or NULL (lock held). */
static struct cblock *cache_get(struct icache *c, const struct vg_bp *bp)
{
	for (size_t i = 0; i < c->n; i++)
		if (vg_bp_same(&c->v[i].bp, bp)) {
			c->v[i].tick = ++c->tick;
			return &c->v[i];
		}
	return NULL;
}

/* Take *b over (lock held); evicts the least recently used blocks.  The
 * block just put stays even when alone it exceeds the budget. */
static struct cblock *cache_put(struct icache *c, struct cblock *b)
{
	struct cblock *have = cache_get(c, &b->bp);
	if (have) {
		cblock_free(b);
		return have;
	}
	while (c->n && c->bytes + b->bytes > c->max) {
		size_t old = 0;
		for (size_t i = 1; i < c->n; i++)
			if (c->v[i].tick < c->v[old].tick)
				old = i;
		c->bytes -= c->v[old].bytes;
		cblock_free(&c->v[old]);
		c->v[old] = c->v[--c->n];
	}
	if (c->n == c->cap) {
		size_t nc = c->cap ? 2 * c->cap : 16;
		struct cblock *nv = realloc(c->v, nc * sizeof *nv);
		if (!nv) {
			cblock_free(b);
			return NULL;
		}
		c->v = nv;
		c->cap = nc;
	}
	b->tick = ++c->tick;
	c->bytes += b->bytes;
	c->v[c->n] = *b;
	memset(b, 0, sizeof *b);
	return &c->v[c->n++];
}

int vg_index_block_read(struct vg_pool *pool, const uint8_t *key, const struct vg_index_fence *f,
			struct vg_bp **packs, uint32_t *np, struct vg_index_entry **e, uint32_t *n)
{
	uint8_t *raw = malloc(f->bp.psize ? f->bp.psize : 1);
	int err;
	*packs = NULL;
	*e = NULL;
	if (!raw)
		return VG_ERR(VG_ENOMEM, "out of memory reading the index");
	if ((err = vg_pool_read(pool, &f->bp, raw)) < 0)
		vg_err_prefix(err, "reading the index");
	else if (!(err = vg_index_block_decode(key, raw, f->bp.psize, packs, np, e, n)) &&
		 (*n != f->count || !vg_id_eq(&(*e)[0].id, &f->first) || !vg_id_eq(&(*e)[*n - 1].id, &f->last))) {
		err = VG_ERR(VG_ECORRUPT, "index block does not match its run header");
		free(*packs);
		free(*e);
		*packs = NULL;
		*e = NULL;
	}
	free(raw);
	return err;
}

static int load_block(struct vg_dindex *d, const struct vg_index_fence *f, struct cblock *out)
{
	memset(out, 0, sizeof *out);
	int err = vg_index_block_read(d->pool, d->key, f, &out->packs, &out->np, &out->e, &out->n);
	if (err)
		return err;
	out->bp = f->bp;
	out->bytes = sizeof *out + (size_t)out->n * sizeof *out->e + (size_t)out->np * sizeof *out->packs;
	return 0;
}

static void release_runs(struct vg_drun *run, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vg_drun_release(&run[i]);
	free(run);
}

void vg_drun_release(struct vg_drun *r)
{
	vg_index_run_release(&r->h);
	vg_filter_release(&r->filter);
	memset(r, 0, sizeof *r);
}

/* The filter's blocks into run->filter; unreadable ones leave no filter. */
static int load_filter(struct vg_dindex *d, struct vg_drun *run, struct vg_buf *raw)
{
	int err = vg_filter_init(&run->filter, run->h.flines);
	for (uint32_t i = 0; i < run->h.nfparts && !err; i++) {
		const struct vg_bp *bp = &run->h.fparts[i];
		if ((err = vg_buf_reserve(raw, bp->psize)) < 0)
			break;
		if (vg_pool_read(d->pool, bp, raw->p) < 0) {
			/* damaged beyond repair (the pool logged it): search
			 * this run by its fences instead */
			vg_filter_release(&run->filter);
			d->no_filter++;
			return 0;
		}
		err = vg_filter_part_decode(&run->filter, i, raw->p, bp->psize);
	}
	return err;
}

static int load_run(struct vg_dindex *d, const struct vg_runref *ref, size_t i, struct vg_drun *run,
		    struct vg_buf *raw)
{
	int err;
	run->ref = *ref;
	if ((err = vg_buf_reserve(raw, ref->bp.psize)) < 0)
		return err;
	if ((err = vg_pool_read(d->pool, &ref->bp, raw->p)) < 0)
		return vg_err_prefix(err, "reading the index");
	if ((err = vg_index_run_decode(raw->p, ref->bp.psize, &run->h)) < 0)
		return vg_err_prefix(err, "index run %zu", i);
	if (run->h.total != ref->count)
		return VG_ERR(VG_ECORRUPT, "index run %zu holds %llu entries, the root says %llu", i,
			      (unsigned long long)run->h.total, (unsigned long long)ref->count);
	if ((err = load_filter(d, run, raw)) < 0)
		return vg_err_prefix(err, "index run %zu", i);
	return 0;
}

int vg_dindex_init(struct vg_dindex *d, struct vg_pool *pool, const uint8_t *key, size_t cache_bytes)
{
	memset(d, 0, sizeof *d);
	d->pool = pool;
	d->key = key;
	pthread_rwlock_init(&d->lock, NULL);
	return cache_new(&d->cache, cache_bytes);
}

int vg_dindex_open(struct vg_dindex *d, struct vg_pool *pool, const uint8_t *key, const struct vg_runref *refs,
		   size_t n, size_t cache_bytes)
{
	struct vg_buf raw;
	int err = vg_dindex_init(d, pool, key, cache_bytes);
	if (err || !n)
		return err;
	if (!(d->run = calloc(n, sizeof *d->run)))
		return VG_ERR(VG_ENOMEM, "out of memory reading the index");
	d->n = n;
	vg_buf_init(&raw, VG_POOL_MAX_BLOCK);
	for (size_t i = 0; i < n && !err; i++)
		err = load_run(d, &refs[i], i, &d->run[i], &raw);
	vg_buf_release(&raw);
	return err;
}

void vg_dindex_release(struct vg_dindex *d)
{
	if (!d->cache)
		return;
	release_runs(d->run, d->n);
	cache_free(d->cache);
	pthread_rwlock_destroy(&d->lock);
	memset(d, 0, sizeof *d);
}

/* The block of run that may hold id (fence binary search), or -1. */
static long fence_of(const struct vg_index_run *h, const struct vg_id *id)
{
	size_t lo = 0, hi = h->nblocks; /* first block whose first id is > id */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (vg_id_cmp(&h->f[mid].first, id) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || vg_id_cmp(id, &h->f[lo - 1].last) > 0)
		return -1;
	return (long)lo - 1;
}

static bool block_find(const struct cblock *b, const struct vg_id *id, struct vg_index_entry *e,
		       struct vg_bp *pack)
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = vg_id_cmp(&b->e[mid].id, id);
		if (c == 0) {
			*e = b->e[mid];
			*pack = b->packs[e->pack];
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Look id up in one block (run set read-locked): 0, VG_ENOENT or error. */
static int find_in_block(struct vg_dindex *d, const struct vg_index_fence *f, const struct vg_id *id,
			 struct vg_index_entry *e, struct vg_bp *pack)
{
	struct icache *c = d->cache;
	struct cblock fresh;
	pthread_mutex_lock(&c->lock);
	struct cblock *b = cache_get(c, &f->bp);
	bool hit = b && block_find(b, id, e, pack);
	pthread_mutex_unlock(&c->lock);
	if (b)
		return hit ? 0 : VG_ENOENT;
	int err = load_block(d, f, &fresh);
	if (err)
		return err;
	atomic_fetch_add(&d->block_reads, 1);
	hit = block_find(&fresh, id, e, pack);
	pthread_mutex_lock(&c->lock);
	cache_put(c, &fresh); /* frees it when it cannot be kept */
	pthread_mutex_unlock(&c->lock);
	return hit ? 0 : VG_ENOENT;
}

int vg_dindex_find(struct vg_dindex *d, const struct vg_id *id, struct vg_index_entry *e, struct vg_bp *pack)
{
	int err = VG_ENOENT;
	atomic_fetch_add(&d->lookups, 1);
	pthread_rwlock_rdlock(&d->lock);
	for (size_t i = d->n; i-- > 0 && err == VG_ENOENT;) {
		const struct vg_drun *run = &d->run[i];
		if (run->filter.bits && !vg_filter_maybe(&run->filter, id))
			continue;
		atomic_fetch_add(&d->probes, 1);
		long b = fence_of(&run->h, id);
		err = b < 0 ? VG_ENOENT : find_in_block(d, &run->h.f[b], id, e, pack);
		if (err == VG_ENOENT)
			atomic_fetch_add(&d->false_pos, 1);
	}
	pthread_rwlock_unlock(&d->lock);
	return err;
}

size_t vg_dindex_merge_count(const struct vg_runref *runs, size_t n, uint64_t fresh)
{
	uint64_t acc = fresh;
	size_t k = 0;
	while (k < n && (acc * 2 >= runs[n - 1 - k].count || n - k + 1 > VG_INDEX_MAX_RUNS)) {
		acc += runs[n - 1 - k].count;
		k++;
	}
	return k;
}

int vg_dindex_replace(struct vg_dindex *d, size_t k, struct vg_drun *merged)
{
	if (k > d->n)
		return VG_ERR(VG_EINVAL, "merging %zu of %zu index runs", k, d->n);
	size_t keep = d->n - k, nn = keep + (merged->ref.count ? 1 : 0);
	struct vg_drun *nr = calloc(nn ? nn : 1, sizeof *nr);
	if (!nr)
		return VG_ERR(VG_ENOMEM, "out of memory");
	pthread_rwlock_wrlock(&d->lock);
	if (keep)
		memcpy(nr, d->run, keep * sizeof *nr);
	if (merged->ref.count) {
		nr[keep] = *merged;
		memset(merged, 0, sizeof *merged);
	}
	for (size_t i = keep; i < d->n; i++)
		vg_drun_release(&d->run[i]);
	free(d->run);
	d->run = nr;
	d->n = nn;
	/* the merged runs' blocks are never read again */
	pthread_mutex_lock(&d->cache->lock);
	if (k)
		cache_clear(d->cache);
	pthread_mutex_unlock(&d->cache->lock);
	pthread_rwlock_unlock(&d->lock);
	return 0;
}

void vg_dindex_stats(struct vg_dindex *d, struct vg_dindex_stats *out)
{
	out->lookups = atomic_load(&d->lookups);
	out->probes = atomic_load(&d->probes);
	out->false_pos = atomic_load(&d->false_pos);
	out->block_reads = atomic_load(&d->block_reads);
	out->no_filter = d->no_filter;
}
