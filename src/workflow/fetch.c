/*
 * fetch.c - reading a file's chunks ahead on worker threads (see fetch.h).
 *
 * The chunks of one file are fetched into a ring of FETCH_AHEAD slots:
 * worker i takes the next chunk not yet taken as long as it is fewer than
 * the ring's size ahead of the one the caller holds, reads it (index, pack
 * cache, decryption, decompression, id check) with its own sealer, and
 * marks its slot done.  The caller consumes the slots strictly in order,
 * so the file is written sequentially while the next chunks are decoded.
 *
 * Invariants (f->lock): taken <= n; released <= taken; a worker writes
 * slot k % ring only while k < released + ring, so a slot the caller still
 * reads is never overwritten.
 */
#include "workflow/fetch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

#define FETCH_MAX_THREADS 8

struct slot {
	struct vg_buf data;
	bool done;
	int err;
	char msg[512];
};

struct worker {
	struct vg_fetcher *f;
	struct vg_sealer s;
	struct vg_buf tmp;
	pthread_t th;
	bool started;
};

struct vg_fetcher {
	struct vg_repo *r;
	pthread_mutex_t lock;
	pthread_cond_t work, ready;
	const struct vg_id *ids;
	size_t n, taken, released, ring;
	int busy;
	bool stop;
	struct slot *slots;
	struct worker w[FETCH_MAX_THREADS];
	int nw;
};

static bool can_take(const struct vg_fetcher *f)
{
	return f->taken < f->n && f->taken < f->released + f->ring;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct vg_fetcher *f = w->f;
	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->stop && !can_take(f))
			pthread_cond_wait(&f->work, &f->lock);
		if (f->stop)
			break;
		size_t k = f->taken++;
		const struct vg_id id = f->ids[k];
		struct slot *sl = &f->slots[k % f->ring];
		f->busy++;
		pthread_mutex_unlock(&f->lock);
		int err = vg_repo_get_with(f->r, &w->s, &w->tmp, VG_OT_CHUNK, &id, &sl->data);
		if (err)
			snprintf(sl->msg, sizeof sl->msg, "%s", vg_errmsg());
		pthread_mutex_lock(&f->lock);
		sl->err = err;
		sl->done = true;
		f->busy--;
		pthread_cond_broadcast(&f->ready);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

int vg_fetcher_start(struct vg_repo *r, int threads, struct vg_fetcher **out)
{
	*out = NULL;
	if (threads < 1)
		return 0;
	if (threads > FETCH_MAX_THREADS)
		threads = FETCH_MAX_THREADS;
	struct vg_fetcher *f = calloc(1, sizeof *f);
	if (!f)
		return VG_ERR(VG_ENOMEM, "out of memory starting restore threads");
	f->r = r;
	f->ring = (size_t)threads * 2 + 1;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->work, NULL);
	pthread_cond_init(&f->ready, NULL);
	int err = 0;
	if (!(f->slots = calloc(f->ring, sizeof *f->slots)))
		err = VG_ERR(VG_ENOMEM, "out of memory starting restore threads");
	for (size_t i = 0; !err && i < f->ring; i++)
		vg_buf_init(&f->slots[i].data, VG_OBJ_MAX);
	for (int i = 0; !err && i < threads; i++) {
		struct worker *w = &f->w[i];
		w->f = f;
		vg_buf_init(&w->tmp, VG_OBJ_MAX + VG_SEAL_OVERHEAD);
		f->nw = i + 1;
		if ((err = vg_repo_reader_init(r, &w->s)) < 0)
			break;
		if (pthread_create(&w->th, NULL, run, w) != 0)
			err = VG_ERR(VG_ENOMEM, "cannot start a restore thread");
		w->started = !err;
	}
	if (err) {
		vg_fetcher_stop(f);
		return err;
	}
	*out = f;
	return 0;
}

void vg_fetcher_stop(struct vg_fetcher *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_cond_broadcast(&f->work);
	pthread_mutex_unlock(&f->lock);
	for (int i = 0; i < f->nw; i++) {
		if (f->w[i].started)
			pthread_join(f->w[i].th, NULL);
		vg_sealer_release(&f->w[i].s);
		vg_buf_release(&f->w[i].tmp);
	}
	for (size_t i = 0; f->slots && i < f->ring; i++)
		vg_buf_release(&f->slots[i].data);
	free(f->slots);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->work);
	pthread_cond_destroy(&f->ready);
	free(f);
}

void vg_fetcher_begin(struct vg_fetcher *f, const struct vg_id *ids, size_t n)
{
	pthread_mutex_lock(&f->lock);
	f->ids = ids;
	f->n = n;
	f->taken = f->released = 0;
	for (size_t i = 0; i < f->ring; i++)
		f->slots[i].done = false;
	pthread_cond_broadcast(&f->work);
	pthread_mutex_unlock(&f->lock);
}

int vg_fetcher_next(struct vg_fetcher *f, size_t i, const uint8_t **p, size_t *len)
{
	struct slot *sl = &f->slots[i % f->ring];
	pthread_mutex_lock(&f->lock);
	if (i > 0 && f->released < i) { /* the caller is done with chunk i - 1 */
		f->slots[(i - 1) % f->ring].done = false;
		f->released = i;
		pthread_cond_broadcast(&f->work);
	}
	while (!sl->done)
		pthread_cond_wait(&f->ready, &f->lock);
	int err = sl->err;
	pthread_mutex_unlock(&f->lock);
	if (err)
		return VG_ERR(err, "%s", sl->msg);
	*p = sl->data.p;
	*len = sl->data.len;
	return 0;
}

void vg_fetcher_end(struct vg_fetcher *f)
{
	pthread_mutex_lock(&f->lock);
	f->n = f->taken; /* nothing more is taken */
	while (f->busy)
		pthread_cond_wait(&f->ready, &f->lock);
	f->ids = NULL;
	f->n = f->taken = f->released = 0;
	pthread_mutex_unlock(&f->lock);
}
