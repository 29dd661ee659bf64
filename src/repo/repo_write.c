/*
 * repo_write.c - storing new objects: dedup, sealing, packing, workers.
 *
 * An object is entered in the index as *pending* (pack unknown) the
 * moment its id is first seen, so a duplicate arriving while the first
 * copy is still being compressed is recognised.  Sealing (the expensive
 * part) runs on a worker when there are workers (small objects are
 * sealed by the caller); adding to a pack happens under r->plock, a full
 * pack is taken out of its packer and written to the pool with no lock
 * held, and only then do its entries get their final location (under
 * r->lock).
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
	struct vg_buf scratch;
};

static int fail_sticky(struct vg_repo *r, int err)
{
	if (!r->sticky)
		r->sticky = err;
	return err;
}

/* Write a pack taken out of its packer, then give its objects their
 * location.  Runs without any lock held while the pool writes, so the
 * reader and the other workers go on. */
static int write_pack(struct vg_repo *r, struct vg_pack_builder *b, const struct packer *p)
{
	struct vg_buf blk;
	struct vg_bp bp;
	uint32_t no;
	int err = 0;
	if (b->n == 0)
		return 0;
	vg_buf_init(&blk, VG_OBJ_MAX);
	if ((err = vg_pack_finish(b, &blk)) < 0 ||
	    (err = vg_pool_write(r->pool, p->btype, blk.p, blk.len, p->copies, &bp)) < 0)
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
	vg_buf_release(&blk);
	return err;
}

/* Take the packer's objects out (r->plock held); the packer starts anew. */
static void detach(struct packer *p, struct vg_pack_builder *out)
{
	*out = p->b;
	vg_pack_init(&p->b);
}

int vg_repo_flush_packs(struct vg_repo *r)
{
	struct vg_pack_builder d, m;
	pthread_mutex_lock(&r->plock);
	detach(&r->data, &d);
	detach(&r->meta, &m);
	pthread_mutex_unlock(&r->plock);
	int err = write_pack(r, &d, &r->data);
	if (!err)
		err = write_pack(r, &m, &r->meta);
	vg_pack_release(&d);
	vg_pack_release(&m);
	return err;
}

int vg_repo_pack_object(struct vg_repo *r, struct vg_sealer *s, struct vg_buf *scratch, int otype,
			const struct vg_id *id, const void *data, size_t len)
{
	struct vg_pack_builder full;
	bool have_full = false;
	const void *stored;
	size_t slen;
	uint8_t comp;
	int err = vg_seal_view(s, data, len, scratch, &stored, &slen, &comp);
	if (err)
		return err;
	pthread_mutex_lock(&r->plock);
	struct packer *p = otype == VG_OT_CHUNK ? &r->data : &r->meta;
	if (p->b.n && (vg_pack_size_with(&p->b, slen) > p->target || p->b.n >= VG_PACK_MAX_OBJECTS)) {
		detach(p, &full);
		have_full = true;
	}
	err = vg_pack_add(&p->b, id, (uint8_t)otype, comp, (uint8_t)s->enc, stored, slen, len);
	pthread_mutex_unlock(&r->plock);
	if (!err) {
		pthread_mutex_lock(&r->lock);
		r->counts.new_objects++;
		r->counts.new_bytes += len;
		r->counts.stored_bytes += slen;
		pthread_mutex_unlock(&r->lock);
	}
	if (have_full) {
		int werr = write_pack(r, &full, p);
		vg_pack_release(&full);
		if (!err)
			err = werr;
	}
	return err;
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

		int err = skip ? 0 : vg_repo_pack_object(r, &w->s, &w->scratch, j.otype, &j.id, j.data, j.len);
		free(j.data);
		if (err)
			record_err(r, err);

		pthread_mutex_lock(&r->qlock);
		if (--r->busy == 0 && r->qlen == 0)
			pthread_cond_broadcast(&r->qidle);
		pthread_mutex_unlock(&r->qlock);
	}
	vg_sealer_release(&w->s);
	vg_buf_release(&w->scratch);
	free(w);
	return NULL;
}

int vg_repo_workers_start(struct vg_repo *r, int n)
{
	if (n > VG_MAX_WORKERS)
		n = VG_MAX_WORKERS;
	if (n <= 0)
		return 0;
	r->qcap = (size_t)n * 2;
	if (!(r->q = calloc(r->qcap, sizeof *r->q)))
		return VG_ERR(VG_ENOMEM, "out of memory starting workers");
	for (int i = 0; i < n; i++) {
		struct wctx *w = calloc(1, sizeof *w);
		int err = w ? vg_sealer_init(&w->s, r->root.cfg.level, r->root.cfg.enc, r->master)
			    : VG_ERR(VG_ENOMEM, "out of memory starting workers");
		if (!err) {
			w->r = r;
			vg_buf_init(&w->scratch, VG_OBJ_MAX);
			if (pthread_create(&r->th[i], NULL, worker, w) != 0)
				err = VG_ERR(VG_ENOMEM, "cannot start a worker thread");
		}
		if (err) {
			if (w)
				vg_sealer_release(&w->s);
			free(w);
			return err;
		}
		r->nworkers++;
	}
	return 0;
}

void vg_repo_workers_stop(struct vg_repo *r)
{
	pthread_mutex_lock(&r->qlock);
	r->stop = true;
	pthread_cond_broadcast(&r->qcond);
	pthread_mutex_unlock(&r->qlock);
	for (int i = 0; i < r->nworkers; i++)
		pthread_join(r->th[i], NULL);
	r->nworkers = 0;
	free(r->q);
	r->q = NULL;
}

static int enqueue(struct vg_repo *r, int otype, const struct vg_id *id, const void *data, size_t len)
{
	struct job j = {.otype = otype, .id = *id, .len = len, .data = malloc(len ? len : 1)};
	if (!j.data)
		return VG_ERR(VG_ENOMEM, "out of memory queueing a %zu-byte object", len);
	memcpy(j.data, data, len);
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
		free(j.data);
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

int vg_repo_put_id(struct vg_repo *r, int otype, const struct vg_id *id, const void *data, size_t len,
		   bool *added)
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
	/* Small objects are sealed right here: queueing them to a worker
	 * would cost more than compressing them. */
	if (!err)
		err = r->nworkers && len >= VG_INLINE_MAX
			      ? enqueue(r, otype, id, data, len)
			      : vg_repo_pack_object(r, &r->wsealer, &r->wscratch, otype, id, data, len);
	if (err)
		return fail_sticky(r, err);
	*added = true;
	return 0;
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
