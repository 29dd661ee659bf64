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

void vg_repo_packer_init(struct packer *p, uint16_t btype, int copies, size_t target, struct vg_sealer *s)
{
	p->s = s;
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
	if ((err = vg_pack_finish(b, p->s, &p->blk)) < 0 ||
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
	/* the block's memory goes back to the builder: one buffer per packer */
	if (p->blk.p && !b->data.p) {
		b->data = p->blk;
		memset(&p->blk, 0, sizeof p->blk);
		vg_buf_init(&p->blk, VG_OBJ_MAX);
	}
	vg_pack_reset(b);
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
	r->maxbufs = (size_t)nworkers * 2 + 3; /* queue (1 per worker) + one each + the reader's 2 + a batch */
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

static int claim(struct vg_repo *r, int otype, const struct vg_id *id, size_t len, bool *added);

/* Hash an object, write its id to slot, store it unless known. */
static int hash_store(struct vg_repo *r, struct wctx *w, int otype, const uint8_t *data, size_t len,
		      struct vg_id *slot)
{
	struct vg_id id;
	bool added;
	int err = vg_id_compute(&r->key, data, len, &id);
	if (err)
		return err;
	*slot = id;
	if ((err = claim(r, otype, &id, len, &added)) < 0 || !added)
		return err;
	return vg_repo_pack_object(r, &w->s, &w->pk, otype, &id, data, len);
}

/* One job: hash it if the reader did not, store it unless known. */
static int job_run(struct vg_repo *r, struct wctx *w, struct job *j)
{
	int err = 0;
	for (uint32_t i = 0; i < j->nitems && !err; i++)
		err = vg_repo_pack_object(r, &w->s, &w->pk, j->otype, &j->items[i].id, j->data + j->items[i].off,
					  j->items[i].len);
	if (j->items)
		return err;
	if (j->slot)
		return hash_store(r, w, j->otype, j->data, j->len, j->slot);
	return vg_repo_pack_object(r, &w->s, &w->pk, j->otype, &j->id, j->data, j->len);
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

		int err = skip ? 0 : job_run(r, w, &j);
		vg_repo_buf_put(r, j.data);
		free(j.items);
		if (err)
			record_err(r, err);
		if (j.slot) {
			pthread_mutex_lock(&r->qlock);
			if (--r->ids_pending == 0)
				pthread_cond_broadcast(&r->qids);
			pthread_mutex_unlock(&r->qlock);
		}

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
	r->qcap = (size_t)n;
	if (!(r->q = calloc(r->qcap, sizeof *r->q)))
		return VG_ERR(VG_ENOMEM, "out of memory starting workers");
	for (int i = 0; i < n; i++) {
		struct wctx *w = calloc(1, sizeof *w);
		err = w ? vg_sealer_init(&w->s, r->root.cfg.level, r->root.cfg.enc, r->master)
			: VG_ERR(VG_ENOMEM, "out of memory starting workers");
		if (!err) {
			w->r = r;
			vg_repo_packer_init(&w->pk, VG_BT_DATA_PACK, 1, VG_DATA_PACK_TARGET, &w->s);
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
	vg_repo_buf_put(r, r->batch.data); /* never sent: nothing is committed from it */
	free(r->batch.items);
	memset(&r->batch, 0, sizeof r->batch);
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

/* Hand a pool buffer to the workers (they give it back).  slot: the
 * worker computes the id and writes it there. */
static int enqueue_job(struct vg_repo *r, struct job j)
{
	pthread_mutex_lock(&r->qlock);
	while (r->qlen == r->qcap && !r->werr)
		pthread_cond_wait(&r->qspace, &r->qlock);
	int err = worker_err_locked(r);
	if (!err) {
		r->q[(r->qhead + r->qlen) % r->qcap] = j;
		r->qlen++;
		r->ids_pending += j.slot != NULL;
		pthread_cond_signal(&r->qcond);
	}
	pthread_mutex_unlock(&r->qlock);
	if (err) {
		vg_repo_buf_put(r, j.data);
		free(j.items);
	}
	return err;
}

static int enqueue(struct vg_repo *r, int otype, const struct vg_id *id, struct vg_id *slot, uint8_t *data,
		   size_t len)
{
	struct job j = {.otype = otype, .slot = slot, .len = len, .data = data};
	if (id)
		j.id = *id;
	return enqueue_job(r, j);
}

/* Send the open batch of small chunks to the workers. */
static int batch_submit(struct vg_repo *r)
{
	struct job j = r->batch;
	if (!j.data)
		return 0;
	memset(&r->batch, 0, sizeof r->batch);
	return enqueue_job(r, j);
}

/* Copy a small new chunk into the open batch, for a worker to seal. */
static int batch_add(struct vg_repo *r, const uint8_t *data, size_t len, const struct vg_id *id)
{
	struct job *b = &r->batch;
	int err;
	if (b->data && (b->len + len > VG_BATCH_BYTES || b->nitems == VG_BATCH_MAX) && (err = batch_submit(r)) < 0)
		return err;
	if (!b->data) {
		if (!(b->items = malloc(VG_BATCH_MAX * sizeof *b->items)))
			return VG_ERR(VG_ENOMEM, "out of memory gathering small chunks");
		if ((err = vg_repo_buf_get(r, &b->data)) < 0) {
			free(b->items);
			b->items = NULL;
			return err;
		}
		b->otype = VG_OT_CHUNK;
	}
	memcpy(b->data + b->len, data, len);
	b->items[b->nitems++] = (struct job_item){.off = (uint32_t)b->len, .len = (uint32_t)len, .id = *id};
	b->len += len;
	return 0;
}

int vg_repo_wait_ids(struct vg_repo *r)
{
	int err;
	pthread_mutex_lock(&r->qlock);
	while (r->ids_pending)
		pthread_cond_wait(&r->qids, &r->qlock);
	err = worker_err_locked(r);
	pthread_mutex_unlock(&r->qlock);
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
	int err = batch_submit(r);
	if (!err && r->nworkers)
		err = drain(r);
	if (!err)
		err = vg_repo_flush_packs(r);
	return err ? fail_sticky(r, err) : 0;
}

/* --- put --- */

static int check_put(struct vg_repo *r)
{
	return r->sticky ? VG_ERR(VG_EREADONLY, "an earlier write to this repository failed; nothing more is stored")
			 : 0;
}

/* Enter id as pending (*added), or find it known (in the handle's table of new objects
 * or the vault's index).  A failure here leaves the handle unusable:
 * callers make it sticky (a worker through werr). */
static int claim(struct vg_repo *r, int otype, const struct vg_id *id, size_t len, bool *added)
{
	*added = false;
	if (len > VG_OBJ_MAX || otype < VG_OT_CHUNK || otype > VG_OT_TREE_PART)
		return VG_ERR(VG_EINVAL, "cannot store a %s of %zu bytes", vg_otype_name(otype), len);
	int err = vg_repo_has(r, id); /* the vault's runs are read without r->lock */
	if (err)
		return err < 0 ? err : 0;
	pthread_mutex_lock(&r->lock);
	if (vg_index_find(&r->idx, id)) { /* put by another thread meanwhile */
		pthread_mutex_unlock(&r->lock);
		return 0;
	}
	struct vg_index_entry e = {.id = *id, .pack = VG_INDEX_PENDING, .otype = (uint8_t)otype};
	err = vg_index_insert(&r->idx, &e, NULL);
	if (!err && otype == VG_OT_CHUNK)
		r->counts.new_chunks++;
	pthread_mutex_unlock(&r->lock);
	if (err)
		return err;
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

/* Store data under its id unless known; large chunks are copied into a
 * pool buffer for a worker, everything else is sealed here. */
static int put_id(struct vg_repo *r, int otype, const struct vg_id *id, const void *data, size_t len, bool *added)
{
	int err = check_put(r);
	if (err || (err = claim(r, otype, id, len, added)) < 0)
		return err ? fail_sticky(r, err) : 0;
	if (!*added)
		return 0;
	uint8_t *b = NULL;
	if (otype == VG_OT_CHUNK && r->nworkers && len >= VG_INLINE_MAX && len <= r->bufcap) {
		if ((err = vg_repo_buf_get(r, &b)) < 0)
			return fail_sticky(r, err);
		memcpy(b, data, len);
		err = enqueue(r, otype, id, NULL, b, len);
		return err ? fail_sticky(r, err) : 0;
	}
	return seal_here(r, otype, id, data, len);
}

int vg_repo_put_chunk(struct vg_repo *r, uint8_t *buf, size_t len, struct vg_id *slot)
{
	int err = check_put(r);
	if (!err && r->nworkers && len >= VG_INLINE_MAX) {
		err = enqueue(r, VG_OT_CHUNK, NULL, slot, buf, len); /* buf goes with the job, or back */
		return err ? fail_sticky(r, err) : 0;
	}
	/* a small chunk (or no workers): hashed here, sealed here or by a
	 * worker in a batch */
	bool added = false;
	if (!err && !(err = vg_id_compute(&r->key, buf, len, slot)) && !(err = claim(r, VG_OT_CHUNK, slot, len, &added)) &&
	    added)
		err = r->nworkers ? batch_add(r, buf, len, slot) : seal_here(r, VG_OT_CHUNK, slot, buf, len);
	vg_repo_buf_put(r, buf);
	return err ? fail_sticky(r, err) : 0;
}

int vg_repo_put(struct vg_repo *r, int otype, const void *data, size_t len, struct vg_id *id, bool *added)
{
	int err = vg_id_compute(&r->key, data, len, id);
	return err ? err : put_id(r, otype, id, data, len, added);
}

int vg_repo_has(struct vg_repo *r, const struct vg_id *id)
{
	struct vg_index_entry e;
	struct vg_bp bp;
	int err = vg_repo_index_lookup(r, id, &e, &bp);
	return err == VG_ENOENT ? 0 : err < 0 ? err : 1;
}
