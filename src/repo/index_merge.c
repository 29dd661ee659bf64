/*
 * index_merge.c - streaming over index runs: a k-way merge of runs (and of
 * a sorted array, the new entries) in id order, and the writer
 * of a new run (see index_disk.h).
 *
 * Memory is bounded whatever the runs' sizes: a run source holds one
 * decoded block at a time, the writer one open block, its pack table and
 * the new run's fences and filter.  k is O(log n), so the merge picks the
 * smallest head by a linear scan.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "repo/index_disk.h"
#include "repo/reach.h"

struct msrc {
	/* a run: its header, the next block to read, the decoded block */
	const struct vg_index_run *h;
	uint32_t next;
	struct vg_index_entry *e;
	struct vg_bp *packs;
	uint32_t n, np;
	/* or an array (h NULL) */
	const struct vg_index_entry *ae;
	const struct vg_bp *apacks;
	size_t an;
	size_t i; /* position in the block or array */
};

void vg_imerge_init(struct vg_imerge *m, struct vg_pool *pool, const uint8_t *key)
{
	memset(m, 0, sizeof *m);
	m->pool = pool;
	m->key = key;
}

static int add_src(struct vg_imerge *m, struct msrc **out)
{
	int err = vg_grow(&m->s, &m->cap, m->n + 1, sizeof *m->s, "merging index runs");
	if (err)
		return err;
	*out = &m->s[m->n++];
	memset(*out, 0, sizeof **out);
	return 0;
}

int vg_imerge_add_run(struct vg_imerge *m, const struct vg_index_run *h)
{
	struct msrc *s = NULL;
	int err = add_src(m, &s);
	if (!err)
		s->h = h;
	return err;
}

int vg_imerge_add_array(struct vg_imerge *m, const struct vg_index_entry *e, size_t n, const struct vg_bp *packs)
{
	struct msrc *s = NULL;
	int err = add_src(m, &s);
	if (!err) {
		s->ae = e;
		s->an = n;
		s->apacks = packs;
	}
	return err;
}

static void drop_block(struct msrc *s)
{
	free(s->e);
	free(s->packs);
	s->e = NULL;
	s->packs = NULL;
	s->n = s->np = 0;
	s->i = 0;
}

void vg_imerge_release(struct vg_imerge *m)
{
	for (size_t i = 0; i < m->n; i++)
		drop_block(&m->s[i]);
	free(m->s);
	memset(m, 0, sizeof *m);
}

/* Make s's head valid, reading its next block when needed: 1 when it has
 * one, 0 when it is exhausted. */
static int fill(struct vg_imerge *m, struct msrc *s)
{
	if (!s->h)
		return s->i < s->an;
	if (s->i < s->n)
		return 1;
	drop_block(s);
	if (s->next == s->h->nblocks)
		return 0;
	int err = vg_index_block_read(m->pool, m->key, &s->h->f[s->next++], &s->packs, &s->np, &s->e, &s->n);
	return err < 0 ? err : 1;
}

static const struct vg_index_entry *head(const struct msrc *s) { return s->h ? &s->e[s->i] : &s->ae[s->i]; }

int vg_imerge_next(struct vg_imerge *m, struct vg_index_entry *e, struct vg_bp *pack)
{
	struct msrc *best = NULL;
	for (size_t i = 0; i < m->n; i++) {
		struct msrc *s = &m->s[i];
		int has = fill(m, s);
		if (has < 0)
			return has;
		if (has && (!best || vg_id_cmp(&head(s)->id, &head(best)->id) <= 0))
			best = s; /* later sources are newer: they win ties */
	}
	if (!best)
		return 0;
	*e = *head(best);
	*pack = best->h ? best->packs[e->pack] : best->apacks[e->pack];
	/* every source at this id moves past it */
	for (size_t i = 0; i < m->n; i++) {
		struct msrc *s = &m->s[i];
		if ((s->h ? s->i < s->n : s->i < s->an) && vg_id_eq(&head(s)->id, &e->id))
			s->i++;
	}
	return 1;
}

/* ---- the run writer ---- */

int vg_run_writer_init(struct vg_run_writer *w, struct vg_pool *pool, struct vg_sealer *s, uint64_t max,
		       uint32_t block_entries)
{
	memset(w, 0, sizeof *w);
	w->pool = pool;
	w->s = s;
	w->max = max;
	w->bmax = block_entries ? block_entries : VG_INDEX_BLOCK_DEFAULT;
	vg_buf_init(&w->out, VG_POOL_MAX_BLOCK);
	if (w->bmax > VG_INDEX_BLOCK_MAX)
		return VG_ERR(VG_EINVAL, "index blocks of %u entries (at most %u)", w->bmax, VG_INDEX_BLOCK_MAX);
	w->nslot = 1;
	while (w->nslot < 2 * (size_t)w->bmax)
		w->nslot *= 2;
	w->e = malloc(w->bmax * sizeof *w->e);
	w->packs = malloc(w->bmax * sizeof *w->packs);
	w->slot = calloc(w->nslot, sizeof *w->slot);
	if (!w->e || !w->packs || !w->slot)
		return VG_ERR(VG_ENOMEM, "out of memory writing the index");
	return max ? vg_filter_init(&w->filter, vg_filter_lines(max)) : 0;
}

void vg_run_writer_release(struct vg_run_writer *w)
{
	free(w->e);
	free(w->packs);
	free(w->slot);
	vg_index_run_release(&w->h);
	vg_filter_release(&w->filter);
	vg_buf_release(&w->out);
	memset(w, 0, sizeof *w);
}

static uint64_t bp_hash(const struct vg_bp *bp)
{
	return ((uint64_t)bp->dva[0].seg << 32 | bp->dva[0].off) * 0x9e3779b97f4a7c15ull;
}

/* The open block's local number for pack bp, added when new. */
static uint32_t local_pack(struct vg_run_writer *w, const struct vg_bp *bp)
{
	size_t mask = w->nslot - 1;
	for (size_t j = (bp_hash(bp) >> 20) & mask;; j = (j + 1) & mask) {
		if (!w->slot[j]) {
			w->packs[w->np] = *bp;
			w->slot[j] = ++w->np;
			return w->np - 1;
		}
		if (vg_bp_same(&w->packs[w->slot[j] - 1], bp))
			return w->slot[j] - 1;
	}
}

static int add_fence(struct vg_run_writer *w, const struct vg_index_fence *f)
{
	if (w->h.nblocks == w->fcap) {
		uint32_t nc = w->fcap ? 2 * w->fcap : 64;
		if (nc > VG_INDEX_RUN_MAX_BLOCKS)
			return VG_ERR(VG_EINVAL, "index run of more than %u blocks", VG_INDEX_RUN_MAX_BLOCKS);
		struct vg_index_fence *nf = realloc(w->h.f, nc * sizeof *nf);
		if (!nf)
			return VG_ERR(VG_ENOMEM, "out of memory writing the index");
		w->h.f = nf;
		w->fcap = nc;
	}
	w->h.f[w->h.nblocks++] = *f;
	w->h.total += f->count;
	return 0;
}

static int flush_block(struct vg_run_writer *w)
{
	if (!w->n)
		return 0;
	struct vg_index_fence f = {.first = w->e[0].id, .last = w->e[w->n - 1].id, .count = w->n};
	int err;
	if ((err = vg_index_block_encode(w->s, w->packs, w->np, w->e, w->n, &w->out)) < 0 ||
	    (err = vg_pool_write(w->pool, VG_BT_INDEX_BLOCK, w->out.p, w->out.len, VG_INDEX_COPIES, &f.bp)) < 0 ||
	    (err = add_fence(w, &f)) < 0)
		return err;
	w->n = w->np = 0;
	memset(w->slot, 0, w->nslot * sizeof *w->slot);
	return 0;
}

int vg_run_writer_add(struct vg_run_writer *w, const struct vg_index_entry *e, const struct vg_bp *pack)
{
	const struct vg_id *prev = w->n ? &w->e[w->n - 1].id : w->h.nblocks ? &w->h.f[w->h.nblocks - 1].last : NULL;
	if (w->added == w->max || (prev && vg_id_cmp(prev, &e->id) >= 0))
		return VG_ERR(VG_EINVAL, "index run entries out of order or beyond %llu", (unsigned long long)w->max);
	w->e[w->n] = *e;
	w->e[w->n].pack = local_pack(w, pack);
	w->n++;
	w->added++;
	vg_filter_add(&w->filter, &e->id);
	return w->n == w->bmax ? flush_block(w) : 0;
}

int vg_run_writer_finish(struct vg_run_writer *w, struct vg_drun *run)
{
	int err;
	memset(run, 0, sizeof *run);
	if (!w->added)
		return 0;
	if ((err = flush_block(w)) < 0)
		return err;
	w->h.flines = w->filter.nlines;
	w->h.nfparts = vg_filter_nparts(w->filter.nlines);
	if (!(w->h.fparts = calloc(w->h.nfparts, sizeof *w->h.fparts)))
		return VG_ERR(VG_ENOMEM, "out of memory writing the index");
	for (uint32_t i = 0; i < w->h.nfparts; i++)
		if ((err = vg_filter_part_encode(&w->filter, i, &w->out)) < 0 ||
		    (err = vg_pool_write(w->pool, VG_BT_INDEX_FILTER, w->out.p, w->out.len, VG_INDEX_COPIES,
					 &w->h.fparts[i])) < 0)
			return err;
	if ((err = vg_index_run_encode(&w->h, &w->out)) < 0 ||
	    (err = vg_pool_write(w->pool, VG_BT_INDEX_RUN, w->out.p, w->out.len, VG_INDEX_COPIES, &run->ref.bp)) < 0)
		return err;
	run->ref.count = w->h.total;
	run->h = w->h;
	run->filter = w->filter;
	memset(&w->h, 0, sizeof w->h);
	memset(&w->filter, 0, sizeof w->filter);
	w->fcap = 0;
	return 0;
}
