/*
 * test_index.c - the chunk index in the vault: the filter, lookups across
 * many runs and after merges, newest-wins on duplicates, false positives,
 * damaged index blocks and filters, concurrent lookups.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/filter.h"
#include "repo/impl.h"
#include "repo/index_disk.h"
#include "repo/reach.h"
#include "repo/repo.h"
#include "repo/walk.h"
#include "t.h"
#include "tvault.h"

static struct vg_id rid(uint64_t *st)
{
	struct vg_id id;
	for (int i = 0; i < VG_ID_LEN; i += 8) {
		uint64_t v = t_rand(st);
		memcpy(id.b + i, &v, 8);
	}
	return id;
}

static struct vg_bp fake_pack(uint32_t n)
{
	struct vg_bp bp;
	memset(&bp, 0, sizeof bp);
	bp.type = VG_BT_DATA_PACK;
	bp.cksum_alg = VG_CKSUM_XXH3_128;
	bp.birth = 2;
	bp.psize = 1u << 20;
	bp.ndva = 1;
	bp.dva[0].seg = n / 7;
	bp.dva[0].off = n;
	bp.cksum[0] = (uint8_t)n;
	return bp;
}

TEST(filter_never_misses_and_rarely_lies)
{
	struct vg_filter f;
	uint64_t st = 1;
	const uint32_t n = 100000;
	T_OK(vg_filter_init(&f, vg_filter_lines(n)));
	for (uint32_t i = 0; i < n; i++) {
		struct vg_id id = rid(&st);
		vg_filter_add(&f, &id);
	}
	st = 1;
	for (uint32_t i = 0; i < n; i++) {
		struct vg_id id = rid(&st);
		T_CHECK(vg_filter_maybe(&f, &id));
	}
	uint32_t fp = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct vg_id id = rid(&st);
		fp += vg_filter_maybe(&f, &id);
	}
	fprintf(stderr, "  false positives: %u of %u (%.2f%%)\n", fp, n, 100.0 * fp / n);
	T_CHECKF(fp > n / 500 && fp < n / 50, "false positive rate %u/%u is not about 1%%", fp, n);
	/* blocks round-trip; a part that does not fit is refused */
	struct vg_buf b = {0};
	struct vg_filter g;
	T_OK(vg_filter_part_encode(&f, 0, &b));
	T_OK(vg_filter_init(&g, f.nlines));
	T_OK(vg_filter_part_decode(&g, 0, b.p, b.len));
	T_CHECK(!memcmp(f.bits, g.bits, (size_t)f.nlines * VG_FILTER_LINE));
	T_EQ(vg_filter_part_decode(&g, 0, b.p, b.len - 1), VG_ECORRUPT);
	b.p[4] = 9;
	T_EQ(vg_filter_part_decode(&g, 0, b.p, b.len), VG_EVERSION);
	vg_filter_release(&g);
	T_OK(vg_filter_init(&g, f.nlines + 1));
	b.p[4] = 1;
	T_EQ(vg_filter_part_decode(&g, 0, b.p, b.len), VG_ECORRUPT);
	vg_filter_release(&g);
	vg_filter_release(&f);
	vg_buf_release(&b);
}

/* ---- runs written directly ---- */

static int by_id(const void *a, const void *b)
{
	const struct vg_index_entry *x = a, *y = b;
	return vg_id_cmp(&x->id, &y->id);
}

/* A run of the given entries (sorted here); pack n of entry i is fake_pack(e.pack). */
static int write_run(struct vg_pool *p, struct vg_index_entry *e, size_t n, uint32_t block, struct vg_drun *out)
{
	struct vg_sealer s;
	struct vg_run_writer w;
	qsort(e, n, sizeof *e, by_id);
	int err = vg_sealer_init(&s, 0, VG_ENC_NONE, NULL);
	if (!err && !(err = vg_run_writer_init(&w, p, &s, n, block))) {
		for (size_t i = 0; i < n && !err; i++) {
			struct vg_bp bp = fake_pack(e[i].pack);
			err = vg_run_writer_add(&w, &e[i], &bp);
		}
		if (!err)
			err = vg_run_writer_finish(&w, out);
		vg_run_writer_release(&w);
	}
	vg_sealer_release(&s);
	return err;
}

static struct vg_index_entry entry(const struct vg_id *id, uint32_t tag)
{
	return (struct vg_index_entry){.id = *id, .pack = tag % 50, .off = tag, .slen = 1, .rlen = 1, .otype = VG_OT_CHUNK};
}

static struct vg_pool *scratch_pool(void)
{
	struct vg_pool *p = NULL;
	const char *dev = tv_create("v", "single", 1);
	if (!dev || vg_pool_open(vg_os_posix(), dev, VG_POOL_RDWR, &p))
		return NULL;
	return p;
}

struct runs3 {
	struct vg_runref ref[3];
	struct vg_id id[300];
};

/* Three runs of 100 ids, blocks of 7; run 2 repeats ids 0-9 of run 0
 * with other locations (tag 1000 + i). */
static int three_runs(struct vg_pool *p, struct runs3 *r)
{
	uint64_t st = 42;
	int err = 0;
	for (int i = 0; i < 300; i++)
		r->id[i] = rid(&st);
	for (int k = 0; k < 3 && !err; k++) {
		struct vg_index_entry e[110];
		struct vg_drun out;
		size_t n = 0;
		for (int i = 0; i < 100; i++, n++)
			e[n] = entry(&r->id[k * 100 + i], (uint32_t)(k * 100 + i));
		for (int i = 0; k == 2 && i < 10; i++, n++)
			e[n] = entry(&r->id[i], 1000u + (uint32_t)i);
		if (!(err = write_run(p, e, n, 7, &out)))
			r->ref[k] = out.ref;
		vg_drun_release(&out);
	}
	return err;
}

TEST(lookups_across_runs_newest_wins)
{
	struct vg_pool *p = scratch_pool();
	struct runs3 r;
	struct vg_dindex d;
	struct vg_index_entry e;
	struct vg_bp bp;
	T_CHECK(p);
	T_OK(three_runs(p, &r));
	T_OK(vg_dindex_open(&d, p, NULL, r.ref, 3, 3 * 1024)); /* a cache of ~2 blocks: evictions */
	for (int i = 0; i < 300; i++) {
		T_OK(vg_dindex_find(&d, &r.id[i], &e, &bp));
		uint32_t want = i < 10 ? 1000u + (uint32_t)i : (uint32_t)i;
		T_CHECKF(e.off == want && bp.dva[0].off == want % 50, "id %d found at %u", i, e.off);
	}
	uint64_t st = 777;
	for (int i = 0; i < 2000; i++) {
		struct vg_id x = rid(&st);
		T_EQ(vg_dindex_find(&d, &x, &e, &bp), VG_ENOENT);
	}
	struct vg_dindex_stats s;
	vg_dindex_stats(&d, &s);
	T_CHECKF(s.probes < 300 + 2000 * 3 / 20, "%llu runs probed: the filters do not filter",
		 (unsigned long long)s.probes);
	vg_dindex_release(&d);

	/* the scan and a merge give every id once, the newest location */
	struct vg_root root = {.runs = r.ref, .nruns = 3};
	struct vg_imerge m;
	struct vg_index_entry x;
	int got, n = 0;
	vg_imerge_init(&m, p, NULL);
	struct vg_index_run h[3];
	for (int k = 0; k < 3; k++) {
		uint8_t *buf = malloc(r.ref[k].bp.psize);
		T_OK(vg_pool_read(p, &r.ref[k].bp, buf));
		T_OK(vg_index_run_decode(buf, r.ref[k].bp.psize, &h[k]));
		free(buf);
		T_OK(vg_imerge_add_run(&m, &h[k]));
	}
	struct vg_id prev = {{0}};
	while ((got = vg_imerge_next(&m, &x, &bp)) > 0) {
		T_CHECK(n == 0 || vg_id_cmp(&prev, &x.id) < 0);
		prev = x.id;
		n++;
		for (int i = 0; i < 10; i++)
			T_CHECK(!vg_id_eq(&x.id, &r.id[i]) || x.off == 1000u + (uint32_t)i);
	}
	T_EQ(got, 0);
	T_EQ(n, 300);
	vg_imerge_release(&m);
	for (int k = 0; k < 3; k++)
		vg_index_run_release(&h[k]);
	(void)root;
	T_OK(vg_pool_close(p));
}

TEST(a_false_positive_still_answers_absent)
{
	struct vg_pool *p = scratch_pool();
	struct runs3 r;
	struct vg_dindex d;
	struct vg_index_entry e;
	struct vg_bp bp;
	T_CHECK(p);
	T_OK(three_runs(p, &r));
	T_OK(vg_dindex_open(&d, p, NULL, r.ref, 3, 0));
	/* an id that is in no run but passes the newest run's filter */
	uint64_t st = 99;
	struct vg_id fp;
	int tries = 0;
	do {
		fp = rid(&st);
	} while (!vg_filter_maybe(&d.run[2].filter, &fp) && ++tries < 1000000);
	T_CHECK(tries < 1000000);
	struct vg_dindex_stats before, after;
	vg_dindex_stats(&d, &before);
	T_EQ(vg_dindex_find(&d, &fp, &e, &bp), VG_ENOENT);
	vg_dindex_stats(&d, &after);
	T_CHECK(after.false_pos > before.false_pos);
	/* a run without its filter is searched by its fences: still exact */
	vg_filter_release(&d.run[1].filter);
	for (int i = 0; i < 300; i++)
		T_OK(vg_dindex_find(&d, &r.id[i], &e, &bp));
	T_EQ(vg_dindex_find(&d, &fp, &e, &bp), VG_ENOENT);
	vg_dindex_release(&d);
	T_OK(vg_pool_close(p));
}

TEST(a_filter_block_that_is_not_a_filter_is_an_error)
{
	struct vg_pool *p = scratch_pool();
	struct runs3 r;
	struct vg_dindex d;
	struct vg_buf b = {0};
	T_CHECK(p);
	T_OK(three_runs(p, &r));
	/* a run header whose filter bp names an index block (checksum fine) */
	uint8_t *buf = malloc(r.ref[0].bp.psize);
	struct vg_index_run h;
	T_OK(vg_pool_read(p, &r.ref[0].bp, buf));
	T_OK(vg_index_run_decode(buf, r.ref[0].bp.psize, &h));
	h.fparts[0] = h.f[0].bp;
	T_OK(vg_index_run_encode(&h, &b));
	T_OK(vg_pool_write(p, VG_BT_INDEX_RUN, b.p, b.len, 1, &r.ref[0].bp));
	T_EQ(vg_dindex_open(&d, p, NULL, r.ref, 3, 0), VG_ECORRUPT);
	T_CHECKF(strstr(t_errmsg(), "not an index filter") && !strchr(t_errmsg(), '\n'), "message: %s", t_errmsg());
	vg_dindex_release(&d);
	vg_index_run_release(&h);
	free(buf);
	vg_buf_release(&b);
	T_OK(vg_pool_close(p));
}

/* ---- through the repository ---- */

static uint32_t count_runs(struct vg_pool *p)
{
	struct vg_root root;
	if (vg_reach_root(p, &root))
		return 0;
	uint32_t n = (uint32_t)root.nruns;
	vg_root_release(&root);
	return n;
}

static int put_n(struct vg_repo *r, uint64_t *st, size_t n, struct vg_id *ids)
{
	int err = 0;
	for (size_t i = 0; i < n && !err; i++) {
		uint64_t v[3] = {t_rand(st), t_rand(st), t_rand(st)};
		bool added;
		err = vg_repo_put(r, VG_OT_CHUNK, v, sizeof v, &ids[i], &added);
		if (!err && !added)
			err = VG_ERR(VG_EINVAL, "object %zu was not new", i);
	}
	return err;
}

static int check_all(struct vg_repo *r, const struct vg_id *ids, size_t n, uint64_t seed)
{
	struct vg_buf got = {0};
	uint64_t st = seed;
	int err = 0;
	for (size_t i = 0; i < n && !err; i++) {
		uint64_t v[3] = {t_rand(&st), t_rand(&st), t_rand(&st)};
		if (!(err = vg_repo_get(r, VG_OT_CHUNK, &ids[i], &got)) && (got.len != sizeof v || memcmp(got.p, v, sizeof v)))
			err = VG_ERR(VG_ECORRUPT, "object %zu differs", i);
	}
	vg_buf_release(&got);
	return err;
}

TEST(commits_merge_runs_and_keep_every_entry)
{
	const char *dev = tv_create("v", "raidz1", 3);
	struct vg_repo_opts o = {.index_block = 16, .index_cache = 64 << 10};
	struct vg_pool *p;
	struct vg_repo *r;
	enum { N = 6000 };
	struct vg_id *ids = malloc(N * sizeof *ids);
	uint64_t st = 5;
	size_t n = 0, maxruns = 0;
	T_OK(vg_pool_open(vg_os_posix(), dev, VG_POOL_RDWR, &p));
	T_OK(vg_repo_open(p, &o, &r));
	/* commits of random sizes: the run count stays logarithmic */
	for (int c = 0; n < N; c++) {
		size_t k = 1 + (t_rand(&st) % 400);
		if (k > N - n)
			k = N - n;
		uint64_t seed = 1000 + (uint64_t)c;
		uint64_t s2 = seed;
		T_OK(put_n(r, &s2, k, ids + n));
		n += k;
		T_OK(vg_repo_commit(r));
		size_t runs = count_runs(p);
		if (runs > maxruns)
			maxruns = runs;
		/* an existing id is a duplicate, in any run */
		bool added;
		uint64_t v[3];
		uint64_t s3 = 1000;
		v[0] = t_rand(&s3), v[1] = t_rand(&s3), v[2] = t_rand(&s3);
		struct vg_id id;
		T_OK(vg_repo_put(r, VG_OT_CHUNK, v, sizeof v, &id, &added));
		T_CHECK(!added && vg_id_eq(&id, &ids[0]));
	}
	fprintf(stderr, "  %zu objects, at most %zu runs\n", n, maxruns);
	T_CHECKF(maxruns <= 14, "%zu runs for %zu entries", maxruns, n);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
	/* after a reopen: every object, exactly once in the scan */
	T_OK(vg_pool_open(vg_os_posix(), dev, VG_POOL_RDWR, &p));
	T_OK(vg_repo_open(p, &o, &r));
	st = 5;
	n = 0;
	for (int c = 0; n < N; c++) {
		size_t k = 1 + (t_rand(&st) % 400);
		if (k > N - n)
			k = N - n;
		T_OK(check_all(r, ids + n, k, 1000 + (uint64_t)c));
		n += k;
	}
	uint64_t sa = 31337;
	for (int i = 0; i < 500; i++) {
		struct vg_id x = rid(&sa);
		T_EQ(vg_repo_has(r, &x), 0);
	}
	struct vg_root root;
	T_OK(vg_reach_root(p, &root));
	uint64_t total = 0;
	for (size_t i = 0; i < root.nruns; i++)
		total += root.runs[i].count;
	T_EQ(total, N); /* no id in two runs */
	vg_root_release(&root);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
	free(ids);
}

TEST(the_table_of_new_objects_shadows_the_runs)
{
	const char *dev = tv_create("v", "single", 1);
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_id id;
	bool added;
	T_OK(vg_pool_open(vg_os_posix(), dev, VG_POOL_RDWR, &p));
	T_OK(vg_repo_open(p, NULL, &r));
	T_OK(vg_repo_put(r, VG_OT_CHUNK, "in a run", 8, &id, &added));
	T_OK(vg_repo_commit(r));
	T_EQ(r->idx.n, 0); /* committed entries live in the runs only */
	struct vg_index_entry e, s = {.id = id, .pack = VG_INDEX_PENDING, .otype = VG_OT_TREE};
	struct vg_bp bp;
	T_OK(vg_repo_index_lookup(r, &id, &e, &bp));
	T_CHECK(e.otype == VG_OT_CHUNK && e.pack != VG_INDEX_PENDING);
	T_OK(vg_index_insert(&r->idx, &s, NULL));
	T_OK(vg_repo_index_lookup(r, &id, &e, &bp));
	T_CHECK(e.otype == VG_OT_TREE && e.pack == VG_INDEX_PENDING);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
}

/* The blocks of one kind (smashed after the walk, which reads them). */
struct smash {
	const char *what;
	struct vg_bp bp[64];
	int n;
};

static int smash_kind(void *ctx, const struct vg_bp *bp, const char *what)
{
	struct smash *s = ctx;
	if (!strcmp(what, s->what) && s->n < 64)
		s->bp[s->n++] = *bp;
	return 0;
}

static void damaged(const char *what)
{
	const char *dev = tv_create("v", "single", 1);
	struct vg_repo_opts o = {.index_block = 8};
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_id ids[64];
	struct vg_buf got = {0};
	uint64_t st = 3;
	bool added;
	T_OK(vg_pool_open(vg_os_posix(), dev, VG_POOL_RDWR, &p));
	T_OK(vg_repo_open(p, &o, &r));
	T_OK(put_n(r, &st, 64, ids));
	T_OK(vg_repo_commit(r));
	vg_repo_close(r);
	struct smash sm = {.what = what};
	T_OK(vg_repo_walk_blocks(p, smash_kind, &sm));
	T_CHECK(sm.n > 0);
	for (int i = 0; i < sm.n; i++) /* every copy */
		for (int c = 0; c < sm.bp[i].ndva; c++)
			T_OK(tv_smash(dev, &sm.bp[i], c));
	T_OK(vg_pool_close(p));
	T_OK(vg_pool_open(vg_os_posix(), dev, VG_POOL_RDWR, &p));
	T_OK(vg_repo_open(p, &o, &r));
	struct vg_dindex_stats s;
	vg_repo_index_stats(r, &s);
	uint64_t v[3];
	st = 3;
	v[0] = t_rand(&st), v[1] = t_rand(&st), v[2] = t_rand(&st);
	if (!strcmp(what, "index filter")) {
		/* the filter is lost: lookups search the run and stay exact */
		T_EQ(s.no_filter, 1);
		T_OK(check_all(r, ids, 64, 3));
		T_OK(vg_repo_put(r, VG_OT_CHUNK, v, sizeof v, &ids[0], &added));
		T_CHECK(!added);
		uint64_t sa = 8;
		struct vg_id x = rid(&sa);
		T_EQ(vg_repo_has(r, &x), 0);
	} else {
		/* every index block is gone: an error, never "absent" */
		int err = vg_repo_get(r, VG_OT_CHUNK, &ids[5], &got);
		T_CHECKF(err == VG_ECORRUPT || err == VG_EIO, "get gave %d", err);
		T_CHECKF(strstr(t_errmsg(), "index") && !strchr(t_errmsg(), '\n'), "message: %s", t_errmsg());
		T_CHECK(vg_repo_has(r, &ids[5]) < 0);
		err = vg_repo_put(r, VG_OT_CHUNK, v, sizeof v, &ids[0], &added);
		T_CHECKF(err < 0 && !added, "a put over an unreadable index gave %d, added %d", err, added);
		struct vg_repo_counts c;
		vg_repo_counts(r, &c);
		T_EQ(c.new_objects, 0); /* no duplicate was stored */
	}
	vg_buf_release(&got);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
}

TEST(a_damaged_index_block_is_an_error_not_absent) { damaged("index block"); }
TEST(a_damaged_filter_costs_speed_not_answers) { damaged("index filter"); }

struct lk {
	struct vg_repo *r;
	const struct vg_id *ids;
	size_t n;
	int bad;
};

static void *lookups(void *arg)
{
	struct lk *l = arg;
	struct vg_buf got = {0};
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < l->n; i++)
			if (vg_repo_has(l->r, &l->ids[(i * 7 + (size_t)round) % l->n]) != 1 ||
			    vg_repo_get(l->r, VG_OT_CHUNK, &l->ids[(i * 13) % l->n], &got))
				l->bad++;
	vg_buf_release(&got);
	return NULL;
}

TEST(concurrent_lookups_share_the_block_cache)
{
	const char *dev = tv_create("v", "raidz1", 3);
	struct vg_repo_opts o = {.index_block = 8, .index_cache = 16 << 10};
	struct vg_pool *p;
	struct vg_repo *r;
	enum { N = 1500 };
	struct vg_id *ids = malloc(N * sizeof *ids);
	uint64_t st = 11;
	T_OK(vg_pool_open(vg_os_posix(), dev, VG_POOL_RDWR, &p));
	T_OK(vg_repo_open(p, &o, &r));
	for (int c = 0; c < 5; c++) {
		T_OK(put_n(r, &st, N / 5, ids + c * (N / 5)));
		T_OK(vg_repo_commit(r));
	}
	vg_repo_close(r);
	T_OK(vg_repo_open(p, &o, &r));
	pthread_t th[4];
	struct lk l[4];
	for (int i = 0; i < 4; i++) {
		l[i] = (struct lk){r, ids, N, 0};
		T_CHECK(pthread_create(&th[i], NULL, lookups, &l[i]) == 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++)
		T_EQ(l[i].bad, 0);
	struct vg_dindex_stats s;
	vg_repo_index_stats(r, &s);
	T_CHECK(s.block_reads > 0 && s.lookups >= 4 * 3 * N);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
	free(ids);
}
