/*
 * scrub.c - the scrub workflow (see scrub.h).
 *
 * Order of work: collect the live blocks (the walk reads and heals the
 * metadata on its way), sort them by their first copy's physical position,
 * drop duplicates, skip those at or before the checkpointed position when
 * resuming, then scrub block by block.  The record is committed at start,
 * every checkpoint and at the end; the position only moves past blocks
 * already scrubbed, so a crash repeats at most one checkpoint's work.
 */
#include "workflow/scrub.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "os/os.h"
#include "repo/walk.h"

#define MAX_BAD 10000
#define REQUEST_FILE "scrub.request"

struct blocks {
	struct vg_bp *v;
	size_t n, cap;
};

static int collect(void *ctx, const struct vg_bp *bp, const char *what)
{
	struct blocks *b = ctx;
	(void)what;
	int err = vg_grow(&b->v, &b->cap, b->n + 1, sizeof *b->v, "listing the vault's blocks");
	if (err)
		return err;
	b->v[b->n++] = *bp;
	return 0;
}

static int pos_cmp(const struct vg_dva *a, const struct vg_dva *b)
{
	if (a->seg != b->seg)
		return a->seg < b->seg ? -1 : 1;
	return (a->off > b->off) - (a->off < b->off);
}

static int bp_cmp(const void *x, const void *y)
{
	const struct vg_bp *a = x, *b = y;
	int c = pos_cmp(&a->dva[0], &b->dva[0]);
	return c ? c : memcmp(a, b, sizeof *a);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A pending request ("pause" / "stop") left in any device directory; the
 * file is removed once seen. */
static int take_request(struct vg_pool *pool)
{
	struct vg_pool_status st;
	struct vg_os *os = vg_pool_os(pool);
	int got = 0;
	vg_pool_status(pool, &st);
	for (int d = 0; d < st.ndevs; d++) {
		char *path = vg_path_join(st.dev[d].path, REQUEST_FILE);
		struct vg_file *f = NULL;
		char buf[16] = "";
		size_t n = 0;
		if (path && !vg_os_open(os, path, VG_O_RDONLY, &f)) {
			vg_os_pread(f, buf, sizeof buf - 1, 0, &n);
			buf[n] = 0;
			vg_os_close(f);
			vg_os_unlink(os, path);
			if (!strncmp(buf, "pause", 5))
				got = VG_SCRUB_PAUSED;
			else if (!strncmp(buf, "stop", 4))
				got = VG_SCRUB_CANCELED;
		}
		free(path);
	}
	return got;
}

int vg_scrub_request(struct vg_pool *pool, const char *what)
{
	struct vg_pool_status st;
	struct vg_os *os = vg_pool_os(pool);
	int err = VG_ERR(VG_EIO, "no device of the vault is reachable");
	vg_pool_status(pool, &st);
	for (int d = 0; d < st.ndevs; d++) {
		if (st.dev[d].state != VG_DEV_ONLINE)
			continue;
		char *path = vg_path_join(st.dev[d].path, REQUEST_FILE);
		struct vg_file *f = NULL;
		if (!path)
			return VG_ERR(VG_ENOMEM, "out of memory");
		err = vg_os_open(os, path, VG_O_RDWR | VG_O_CREAT, &f);
		if (!err) {
			err = vg_os_truncate(f, 0);
			if (!err)
				err = vg_os_pwrite(f, what, strlen(what), 0);
			vg_os_close(f);
		}
		free(path);
		if (!err)
			return 0;
	}
	return err;
}

int vg_scrub_mark(struct vg_pool *pool, enum vg_scrub_state state)
{
	struct vg_scrub_record r;
	vg_pool_scrub_get(pool, &r);
	if (r.state != VG_SCRUB_RUNNING && r.state != VG_SCRUB_PAUSED)
		return VG_ERR(VG_ENOENT, "no scrub is in progress on this vault");
	r.state = state;
	if (state == VG_SCRUB_CANCELED)
		r.end = wall_ns();
	return vg_pool_scrub_put(pool, &r);
}

void vg_scrub_result_release(struct vg_scrub_result *res)
{
	free(res->bad);
	res->bad = NULL;
	res->nbad = 0;
}

/*
 * Blocks are scrubbed in batches by several threads (the reads, checksums
 * and parity of different blocks are independent, and one core cannot keep
 * up with the devices); the results are then accounted block by block in
 * order, exactly as if scrubbed one after the other.  Checkpoints happen
 * between batches, when no I/O is running (a commit needs that).
 */
#define BATCH_BYTES (32u << 20)
#define BATCH_BLOCKS 256
#define MAX_THREADS 8

struct bres {
	struct vg_scrub_counts c;
	int err;
};

struct batch {
	struct vg_pool *pool;
	const struct vg_bp *v;
	size_t start, end;       /* blocks [start, end) */
	struct bres *res;        /* one per block of the batch */
	size_t cap;
	size_t next;             /* next block to take (under lock) */
	pthread_mutex_t lock;
};

static void *batch_worker(void *arg)
{
	struct batch *bt = arg;
	for (;;) {
		pthread_mutex_lock(&bt->lock);
		size_t i = bt->next++;
		pthread_mutex_unlock(&bt->lock);
		if (i >= bt->end)
			return NULL;
		struct bres *br = &bt->res[i - bt->start];
		memset(br, 0, sizeof *br);
		br->err = vg_pool_scrub_block(bt->pool, &bt->v[i], &br->c);
	}
}

static int run_batch(struct batch *bt, size_t start, size_t n, size_t max_blocks)
{
	uint64_t bytes = 0;
	size_t end = start;
	while (end < n && end - start < max_blocks && (end == start || bytes < BATCH_BYTES))
		bytes += bt->v[end++].psize;
	if (end - start > bt->cap) {
		struct bres *nr = realloc(bt->res, (end - start) * sizeof *nr);
		if (!nr)
			return VG_ERR(VG_ENOMEM, "out of memory");
		bt->res = nr;
		bt->cap = end - start;
	}
	bt->start = bt->next = start;
	bt->end = end;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nthreads = ncpu < 1 ? 1 : ncpu > MAX_THREADS ? MAX_THREADS : (int)ncpu;
	if ((size_t)nthreads > end - start)
		nthreads = (int)(end - start);
	pthread_t th[MAX_THREADS];
	int started = 0;
	pthread_mutex_init(&bt->lock, NULL);
	for (int t = 1; t < nthreads; t++)
		if (pthread_create(&th[started], NULL, batch_worker, bt) == 0)
			started++;
	batch_worker(bt); /* this thread works too */
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	pthread_mutex_destroy(&bt->lock);
	return 0;
}

int vg_scrub_run(struct vg_pool *pool, const struct vg_scrub_opts *o, struct vg_scrub_result *res)
{
	struct batch bt = {0};
	struct blocks b = {0};
	struct vg_scrub_record r;
	int err;
	memset(res, 0, sizeof *res);
	double ckpt = o && o->checkpoint_secs > 0 ? o->checkpoint_secs : 2.0;

	take_request(pool); /* a stale request must not stop this run */
	if ((err = vg_repo_walk_blocks(pool, collect, &b)))
		goto out;
	qsort(b.v, b.n, sizeof *b.v, bp_cmp);
	size_t n = 0;
	for (size_t i = 0; i < b.n; i++)
		if (!n || memcmp(&b.v[i], &b.v[n - 1], sizeof b.v[i]))
			b.v[n++] = b.v[i];
	b.n = n;

	uint64_t total = 0;
	for (size_t i = 0; i < b.n; i++)
		total += b.v[i].psize;
	vg_pool_scrub_get(pool, &r);
	size_t first = 0;
	if (r.state == VG_SCRUB_RUNNING || r.state == VG_SCRUB_PAUSED) {
		res->resumed = true;
		while (first < b.n && pos_cmp(&b.v[first].dva[0], &r.pos) <= 0)
			first++;
	} else {
		memset(&r, 0, sizeof r);
		r.start = wall_ns();
		r.txg = vg_pool_txg(pool);
	}
	r.state = VG_SCRUB_RUNNING;
	r.end = 0;
	r.bytes_total = total;
	if ((err = vg_pool_scrub_put(pool, &r)))
		goto out;

	double t0 = now(), last = t0;
	uint64_t run_bytes = 0;
	bt.pool = pool;
	bt.v = b.v;
	for (size_t i = first; i < b.n; i++) {
		/* a rate-limited scrub goes block by block: it must not run ahead */
		if ((i == first || i >= bt.end) &&
		    (err = run_batch(&bt, i, b.n, o && o->rate_limit > 0 ? 1 : BATCH_BLOCKS)))
			goto out;
		struct vg_scrub_counts c = bt.res[i - bt.start].c;
		int e = bt.res[i - bt.start].err;
		if (e && e != VG_ECORRUPT && e != VG_EIO) {
			err = e;
			goto out;
		}
		if (c.unrecoverable && res->nbad < MAX_BAD) {
			struct vg_bp *nb = realloc(res->bad, (res->nbad + 1) * sizeof *nb);
			if (nb) {
				res->bad = nb;
				res->bad[res->nbad++] = b.v[i];
			}
		}
		r.bytes_done += b.v[i].psize;
		r.repaired_bytes += c.repaired_bytes;
		res->rebuilt_bytes += c.rebuilt_bytes;
		r.errors += c.errors;
		r.unrecoverable += c.unrecoverable;
		r.pos = b.v[i].dva[0];
		run_bytes += b.v[i].psize;
		double t = now();
		if (o && o->progress) {
			struct vg_scrub_progress p = {r.bytes_done, r.bytes_total, r.repaired_bytes, r.errors,
						      r.unrecoverable, t > t0 ? (double)run_bytes / (t - t0) : 0};
			o->progress(o->ctx, &p);
		}
		if (o && o->rate_limit > 0) {
			double ahead = (double)run_bytes / o->rate_limit - (t - t0);
			if (ahead > 0) {
				struct timespec ts = {(time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9)};
				nanosleep(&ts, NULL);
				t = now();
			}
		}
		if (t - last >= ckpt && i + 1 < b.n) {
			last = t;
			int req = take_request(pool);
			if (req) {
				r.state = req;
				if (req == VG_SCRUB_CANCELED)
					r.end = wall_ns();
				res->paused = req == VG_SCRUB_PAUSED;
				res->stopped = req == VG_SCRUB_CANCELED;
				err = vg_pool_scrub_put(pool, &r);
				res->rec = r;
				goto out;
			}
			if ((err = vg_pool_scrub_put(pool, &r)))
				goto out;
		}
	}
	r.state = VG_SCRUB_FINISHED;
	r.end = wall_ns();
	free(bt.res);
	bt.res = NULL;
	/* The error log becomes what this scrub found (a resumed scrub keeps
	 * the earlier entries it did not get to check again). */
	if (!res->resumed && (err = vg_pool_errlog_set(pool, res->bad, res->nbad)))
		goto out;
	if ((err = vg_pool_scrub_put(pool, &r)))
		goto out;
	if (!r.unrecoverable)
		err = vg_pool_resilver_done(pool, r.txg);
	res->rec = r;
out:
	free(bt.res);
	free(b.v);
	return err;
}
