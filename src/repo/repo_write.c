/*
 * repo_write.c - storing new objects: dedup, sealing, packing, workers.
 *
 * An object is entered in the index as *pending* (pack unknown) the
 * moment its id is first seen, so a duplicate arriving while the first
 * copy is still being compressed is recognised.  Large new objects go to
 * a worker in the buffer they were read into (no copy); small ones, and
 * everything when there are no workers, are sealed by the caller.  Each
 * worker has its own pack, and sealing writes straight into it, so a
 * chunk's bytes are touched by zstd and the cipher only, with no lock
 * held: a full pack is written to the pool by the thread that filled it,
 * and only then do its entries get their final location (under r->lock).
 * The caller's own packs (r->data, r->meta) are used by its thread only.
 *
 * Chunk buffers come from a bounded pool (vg_repo_buf_get): the reader
 * waits for one when all are in the queue or with the workers, which is
 * what bounds a backup's memory.
 *
 * Any failure after an entry went pending leaves the index ahead of the
 * vault, so it makes the handle sticky: nothing is committed from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/impl.h"

struct wctx {
	struct vg_repo *r;
	struct vg_sealer s;
	struct packer pk;
};

static int fail_sticky(struct vg_repo *r, int err)
{
	if (!r->sticky)
		r->sticky = err;
	return err;
}

void vg_repo_packer_init(struct packer *p, uint16_t btype, int copies, size_t target)
{
	vg_pack_init(&p->b);
	vg_buf_init(&p->blk, VG_OBJ_MAX);
	p->btype = btype;
	p->copies = copies;
	p->target = target;
}

void vg_repo_packer_release(struct packer *p)
{
	vg_pack_release(&p->b);
	vg_buf_release(&p->blk);
}

/* Write a packer's pack, then give its objects their location.  No lock
 * is held while the pool writes, so the reader and the other workers go
 * on.  The packer starts anew, also after a failure. */
static int write_pack(struct vg_repo *r, struct packer *p)
{
	struct vg_pack_builder *b = &p->b;
	struct vg_bp bp;
	uint32_t no;
	int err = 0;
	if (b->n == 0)
		return 0;
	if ((err = vg_pack_finish(b, &p->blk)) < 0 ||
	    (err = vg_pool_write(r->pool, p->btype, p->blk.p, p->blk.len, p->copies, &bp)) < 0)
		goto out;
	pthread_mutex_lock(&r->lock);
	if (!(err = vg_index_add_pack(&r->idx, &bp, &no))) {
		for (uint32_t i = 0; i < b->n && !err; i++) {
			const struct vg_pack_entry *pe = &b->e[i];
			struct vg_index_entry *e = vg_index_find(&r->idx, &pe->id);
			if (!e) {
				err = VG_ERR(VG_EINVAL, "packed object missing from the index");
				break;
			}
			e->pack = no;
			e->off = pe->off;
			e->slen = pe->slen;
			e->rlen = pe->rlen;
			e->comp = pe->comp;
			e->enc = pe->enc;
		}
		r->counts.packs++;
	}
	pthread_mutex_unlock(&r->lock);
out:
	vg_pack_reset(b);
	vg_buf_reset(&p->blk);
	return err;
}

int vg_repo_flush_packs(struct vg_repo *r)
{
	int err = write_pack(r, &r->data);
	if (!err)
		err = write_pack(r, &r->meta);
	for (int i = 0; i < r->nworkers && !err; i++)
		err = write_pack(r, &r->w[i]->pk);
	return err;
}

int vg_repo_pack_object(struct vg_repo *r, struct vg_sealer *s, struct packer *p, int otype,
			const struct vg_id *id, const void *data, size_t len)
{
	int err = 0;
	/* close the pack first if this object might not fit */
	if (p->b.n && (vg_pack_size_with(&p->b, vg_seal_bound(s, len)) > p->target ||
		       p->b.n >= VG_PACK_MAX_OBJECTS) &&
	    (err = write_pack(r, p)) < 0)
		return err;
	struct vg_buf *d = vg_pack_open(&p->b);
	if (!d)
		return VG_ERR(VG_ENOMEM, "out of memory building a pack");
	size_t at = d->len;
	uint8_t comp;
	if ((err = vg_seal(s, data, len, true, d, &comp)) < 0 ||
	    (err = vg_pack_note(&p->b, id, (uint8_t)otype, comp, (uint8_t)s->enc, at, len)) < 0)
		return err;
	pthread_mutex_lock(&r->lock);
	r->counts.new_objects++;
	r->counts.new_bytes += len;
	r->counts.stored_bytes += d->len - at;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

/* --- chunk buffers --- */

size_t vg_repo_buf_cap(const struct vg_repo *r)
{
	return r->bufcap;
}

int vg_repo_buf_get(struct vg_repo *r, uint8_t **out)
{
	int err = 0;
	*out = NULL;
	pthread_mutex_lock(&r->block);
	while (!r->nfree && r->nbufs == r->maxbufs)
		pthread_cond_wait(&r->bfree, &r->block);
	if (r->nfree) {
		*out = r->freebufs[--r->nfree];
	} else if ((*out = malloc(r->bufcap))) {
		r->nbufs++;
	} else {
		err = VG_ERR(VG_ENOMEM, "out of memory for a %zu-byte read buffer", r->bufcap);
	}
	pthread_mutex_unlock(&r->block);
	return err;
}

void vg_repo_buf_put(struct vg_repo *r, uint8_t *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&r->block);
	r->freebufs[r->nfree++] = b; /* never more than nbufs <= maxbufs */
	pthread_cond_signal(&r->bfree);
	pthread_mutex_unlock(&r->block);
}

static int bufs_init(struct vg_repo *r, int nworkers)
{
	r->bufcap = (size_t)r->chunker.p.max + VG_REPO_BUF_SLACK;
	r->maxbufs = (size_t)nworkers * 3 + 3; /* queue (2 per worker) + one each + the reader's */
	r->freebufs = calloc(r->maxbufs, sizeof *r->freebufs);
	if (!r->freebufs)
		return VG_ERR(VG_ENOMEM, "out of memory for read buffers");
	pthread_mutex_init(&r->block, NULL);
	pthread_cond_init(&r->bfree, NULL);
	return 0;
}

static void bufs_release(struct vg_repo *r)
{
	if (!r->freebufs)
		return;
	for (size_t i = 0; i < r->nfree; i++)
		free(r->freebufs[i]);
	free(r->freebufs);
	r->freebufs = NULL;
	r->nfree = r->nbufs = 0;
	pthread_mutex_destroy(&r->block);
	pthread_cond_destroy(&r->bfree);
}

/* --- workers --- */

static void record_err(struct vg_repo *r, int err)
{
	pthread_mutex_lock(&r->qlock);
	if (!r->werr) {
		r->werr = err;
		snprintf(r->werrmsg, sizeof r->werrmsg, "%s", vg_errmsg());
	}
	pthread_cond_broadcast(&r->qspace);
	pthread_mutex_unlock(&r->qlock);
}

/* The first worker error, re-raised on the calling thread (qlock held). */
static int worker_err_locked(struct vg_repo *r)
{
	return r->werr ? VG_ERR(r->werr, "%s", r->werrmsg) : 0;
}

static void *worker(void *arg)
{
	struct wctx *w = arg;
	struct vg_repo *r = w->r;
	for (;;) {
		pthread_mutex_lock(&r->qlock);
		while (!r->qlen && !r->stop)
			pthread_cond_wait(&r->qcond, &r->qlock);
		if (!r->qlen) {
			pthread_mutex_unlock(&r->qlock);
			break;
		}
		struct job j = r->q[r->qhead];
		r->qhead = (r->qhead + 1) % r->qcap;
		r->qlen--;
		r->busy++;
		bool skip = r->werr != 0;
		pthread_cond_signal(&r->qspace);
		pthread_mutex_unlock(&r->qlock);

		int err = skip ? 0 : vg_repo_pack_object(r, &w->s, &w->pk, j.otype, &j.id, j.data, j.len);
		vg_repo_buf_put(r, j.data);
		if (err)
			record_err(r, err);

		pthread_mutex_lock(&r->qlock);
		if (--r->busy == 0 && r->qlen == 0)
			pthread_cond_broadcast(&r->qidle);
		pthread_mutex_unlock(&r->qlock);
	}
	return NULL;
}

static void wctx_free(struct wctx *w)
{
	if (!w)
		return;
	vg_sealer_release(&w->s);
	vg_repo_packer_release(&w->pk);
	free(w);
}

int vg_repo_workers_start(struct vg_repo *r, int n)
{
	if (n > VG_MAX_WORKERS)
		n = VG_MAX_WORKERS;
	if (n < 0)
		n = 0;
	int err = bufs_init(r, n);
	if (err || n == 0)
		return err;
	r->qcap = (size_t)n * 2;
	if (!(r->q = calloc(r->qcap, sizeof *r->q)))
		return VG_ERR(VG_ENOMEM, "out of memory starting workers");
	for (int i = 0; i < n; i++) {
		struct wctx *w = calloc(1, sizeof *w);
		err = w ? vg_sealer_init(&w->s, r->root.cfg.level, r->root.cfg.enc, r->master)
			: VG_ERR(VG_ENOMEM, "out of memory starting workers");
		if (!err) {
			w->r = r;
			vg_repo_packer_init(&w->pk, VG_BT_DATA_PACK, 1, VG_DATA_PACK_TARGET);
			if (pthread_create(&r->th[i], NULL, worker, w) != 0)
				err = VG_ERR(VG_ENOMEM, "cannot start a worker thread");
		}
		if (err) {
			wctx_free(w);
			return err;
		}
		r->w[r->nworkers++] = w;
	}
	return 0;
}

void vg_repo_workers_stop(struct vg_repo *r)
{
	pthread_mutex_lock(&r->qlock);
	r->stop = true;
	pthread_cond_broadcast(&r->qcond);
	pthread_mutex_unlock(&r->qlock);
	for (int i = 0; i < r->nworkers; i++) {
		pthread_join(r->th[i], NULL);
		wctx_free(r->w[i]);
		r->w[i] = NULL;
	}
	r->nworkers = 0;
	free(r->q);
	r->q = NULL;
	bufs_release(r);
}

/* Hand a pool buffer to the workers (they give it back). */
static int enqueue(struct vg_repo *r, int otype, const struct vg_id *id, uint8_t *data, size_t len)
{
	struct job j = {.otype = otype, .id = *id, .len = len, .data = data};
	pthread_mutex_lock(&r->qlock);
	while (r->qlen == r->qcap && !r->werr)
		pthread_cond_wait(&r->qspace, &r->qlock);
	int err = worker_err_locked(r);
	if (!err) {
		r->q[(r->qhead + r->qlen) % r->qcap] = j;
		r->qlen++;
		pthread_cond_signal(&r->qcond);
	}
	pthread_mutex_unlock(&r->qlock);
	if (err)
		vg_repo_buf_put(r, data);
	return err;
}

/* Wait until every queued object is packed; the first worker error. */
static int drain(struct vg_repo *r)
{
	pthread_mutex_lock(&r->qlock);
	while (r->qlen || r->busy)
		pthread_cond_wait(&r->qidle, &r->qlock);
	int err = worker_err_locked(r);
	pthread_mutex_unlock(&r->qlock);
	return err;
}

int vg_repo_flush(struct vg_repo *r)
{
	int err = r->nworkers ? drain(r) : 0;
	if (!err)
		err = vg_repo_flush_packs(r);
	return err ? fail_sticky(r, err) : 0;
}

/* --- put --- */

static int add_fresh(struct vg_repo *r, const struct vg_id *id)
{
	if (r->nfresh == r->freshcap) {
		size_t nc = r->freshcap ? r->freshcap * 2 : 1024;
		struct vg_id *nf = realloc(r->fresh, nc * sizeof *nf);
		if (!nf)
			return VG_ERR(VG_ENOMEM, "out of memory");
		r->fresh = nf;
		r->freshcap = nc;
	}
	r->fresh[r->nfresh++] = *id;
	return 0;
}

/* Enter id as pending; *added false when it was already known. */
static int claim(struct vg_repo *r, int otype, const struct vg_id *id, size_t len, bool *added)
{
	*added = false;
	if (r->sticky)
		return VG_ERR(VG_EREADONLY, "an earlier write to this repository failed; nothing more is stored");
	if (len > VG_OBJ_MAX || otype < VG_OT_CHUNK || otype > VG_OT_TREE_PART)
		return VG_ERR(VG_EINVAL, "cannot store a %s of %zu bytes", vg_otype_name(otype), len);
	pthread_mutex_lock(&r->lock);
	if (vg_index_find(&r->idx, id)) {
		pthread_mutex_unlock(&r->lock);
		return 0;
	}
	struct vg_index_entry e = {.id = *id, .pack = VG_INDEX_PENDING, .otype = (uint8_t)otype};
	int err = vg_index_insert(&r->idx, &e, NULL);
	if (!err)
		err = add_fresh(r, id);
	pthread_mutex_unlock(&r->lock);
	if (err)
		return fail_sticky(r, err);
	*added = true;
	return 0;
}

/* Small objects are sealed right here: queueing them to a worker would
 * cost more than compressing them. */
static int seal_here(struct vg_repo *r, int otype, const struct vg_id *id, const void *data, size_t len)
{
	struct packer *p = otype == VG_OT_CHUNK ? &r->data : &r->meta;
	int err = vg_repo_pack_object(r, &r->wsealer, p, otype, id, data, len);
	return err ? fail_sticky(r, err) : 0;
}

int vg_repo_put_id(struct vg_repo *r, int otype, const struct vg_id *id, const void *data, size_t len,
		   bool *added)
{
	int err = claim(r, otype, id, len, added);
	if (err || !*added)
		return err;
	uint8_t *b = NULL;
	if (otype == VG_OT_CHUNK && r->nworkers && len >= VG_INLINE_MAX && len <= r->bufcap) {
		if ((err = vg_repo_buf_get(r, &b)) < 0)
			return fail_sticky(r, err);
		memcpy(b, data, len);
		err = enqueue(r, otype, id, b, len);
		return err ? fail_sticky(r, err) : 0;
	}
	return seal_here(r, otype, id, data, len);
}

int vg_repo_put_buf(struct vg_repo *r, const struct vg_id *id, uint8_t *buf, size_t len, bool *added)
{
	int err = claim(r, VG_OT_CHUNK, id, len, added);
	if (!err && *added) {
		if (r->nworkers && len >= VG_INLINE_MAX) {
			err = enqueue(r, VG_OT_CHUNK, id, buf, len); /* gives buf back on failure */
			return err ? fail_sticky(r, err) : 0;
		}
		err = seal_here(r, VG_OT_CHUNK, id, buf, len);
	}
	vg_repo_buf_put(r, buf);
	return err;
}

int vg_repo_put(struct vg_repo *r, int otype, const void *data, size_t len, struct vg_id *id, bool *added)
{
	int err = vg_id_compute(&r->key, data, len, id);
	return err ? err : vg_repo_put_id(r, otype, id, data, len, added);
}

bool vg_repo_has(struct vg_repo *r, const struct vg_id *id)
{
	pthread_mutex_lock(&r->lock);
	bool has = vg_index_find(&r->idx, id) != NULL;
	pthread_mutex_unlock(&r->lock);
	return has;
}
