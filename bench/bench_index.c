/*
 * bench_index.c - the chunk index at scale: build a vault of N small
 * objects through the repository API, then (each in a fresh process, so
 * peak RSS is that step's alone) open it and store a small backup's worth
 * of objects, or time lookups.
 *
 *   bench_index build  DIR N [COMMITS [BLOCK]]  vault of N 24-byte objects in COMMITS commits
 *   bench_index open   DIR                      open, put 1000 new + 1000 known objects, commit
 *   bench_index lookup DIR N [SECS]             random hits and misses, SECS seconds each
 *
 * Object i holds (seed, i): its id can be recomputed for hits.  Prints one
 * line per step with the figures and peak RSS (getrusage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/err.h"
#include "pool/pool.h"
#include "repo/index_disk.h"
#include "repo/reach.h"
#include "repo/repo.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void object(uint64_t i, uint64_t v[3])
{
	v[0] = 0x5eed;
	v[1] = i;
	v[2] = i * 0x9e3779b97f4a7c15ull;
}

static int die(const char *what)
{
	fprintf(stderr, "bench_index: %s: %s\n", what, vg_errmsg());
	return 1;
}

static int open_vault(const char *dir, bool create, uint32_t block, struct vg_pool **p, struct vg_repo **r)
{
	char dev[1024];
	const char *paths[] = {dev};
	struct vg_layout l;
	struct vg_repo_opts o = {.comp_set = true, .comp_level = 0, .index_block = block};
	snprintf(dev, sizeof dev, "%s/dev0", dir);
	if (create)
		return vg_layout_parse("single", 1, &l) || vg_pool_create(vg_os_posix(), &l, paths, p) ||
		       vg_repo_create(*p, &o, r);
	return vg_pool_open(vg_os_posix(), dev, VG_POOL_RDWR, p) || vg_repo_open(*p, &o, r);
}

static int put_range(struct vg_repo *r, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		uint64_t v[3];
		struct vg_id id;
		bool added;
		object(i, v);
		if (vg_repo_put(r, VG_OT_CHUNK, v, sizeof v, &id, &added))
			return -1;
	}
	return 0;
}

static int build(const char *dir, uint64_t n, int commits, uint32_t block)
{
	struct vg_pool *p;
	struct vg_repo *r;
	if (open_vault(dir, true, block, &p, &r))
		return die("create");
	double t0 = now(), tc = 0;
	for (int c = 0; c < commits; c++) {
		if (put_range(r, n * (uint64_t)c / (uint64_t)commits, n * (uint64_t)(c + 1) / (uint64_t)commits))
			return die("put");
		double t1 = now();
		if (vg_repo_commit(r))
			return die("commit");
		tc += now() - t1;
	}
	double t = now() - t0;
	printf("build: %llu objects in %d commits, blocks of %u: %.1f s (%.0f objects/s), %.1f s in commits "
	       "(merges), peak RSS %ld MiB\n",
	       (unsigned long long)n, commits, block ? block : VG_INDEX_BLOCK_DEFAULT, t, (double)n / t, tc,
	       peak_kib() / 1024);
	vg_repo_close(r);
	return vg_pool_close(p) ? die("close") : 0;
}

static int open_and_backup(const char *dir)
{
	struct vg_pool *p;
	struct vg_repo *r;
	double t0 = now();
	if (open_vault(dir, false, 0, &p, &r))
		return die("open");
	double topen = now() - t0;
	long rss_open = peak_kib();
	t0 = now();
	/* a small backup: 1000 new objects and 1000 already stored */
	if (put_range(r, 1ull << 40, (1ull << 40) + 1000) || put_range(r, 0, 1000) || vg_repo_commit(r))
		return die("small backup");
	double tb = now() - t0;
	struct vg_root root;
	if (vg_reach_root(p, &root))
		return die("root");
	printf("vault: %zu index runs:", root.nruns);
	for (size_t i = 0; i < root.nruns; i++)
		printf(" %llu", (unsigned long long)root.runs[i].count);
	printf("\n");
	vg_root_release(&root);
	struct vg_dindex_stats s;
	vg_repo_index_stats(r, &s);
	printf("open: %.3f s, peak RSS after open %ld MiB; small backup (1000 new, 1000 known): %.3f s, "
	       "%llu index blocks read; peak RSS %ld MiB\n",
	       topen, rss_open / 1024, tb, (unsigned long long)s.block_reads, peak_kib() / 1024);
	vg_repo_close(r);
	return vg_pool_close(p) ? die("close") : 0;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int lookups(const char *dir, uint64_t n, double secs)
{
	struct vg_pool *p;
	struct vg_repo *r;
	uint64_t st = 88172645463325252ull;
	if (open_vault(dir, false, 0, &p, &r))
		return die("open");
	for (int hit = 1; hit >= 0; hit--) {
		struct vg_dindex_stats a, b;
		uint64_t k = 0;
		vg_repo_index_stats(r, &a);
		double t0 = now(), t = 0;
		while ((t = now() - t0) < secs)
			for (int j = 0; j < 256; j++, k++) {
				struct vg_id id;
				uint64_t v[3];
				object(rnd(&st) % n, v);
				if (!hit)
					v[0] = rnd(&st) | 1; /* never stored */
				if (vg_id_compute(vg_repo_idkey(r), v, sizeof v, &id) < 0)
					return die("id");
				if (vg_repo_has(r, &id) != hit)
					return die(hit ? "a stored object was not found" : "an absent object was found");
			}
		vg_repo_index_stats(r, &b);
		printf("lookup %s: %.0f/s (%llu in %.1f s); runs probed per lookup %.3f, blocks read per lookup %.3f\n",
		       hit ? "hits" : "misses", (double)k / t, (unsigned long long)k, t,
		       (double)(b.probes - a.probes) / (double)k, (double)(b.block_reads - a.block_reads) / (double)k);
	}
	printf("lookup: peak RSS %ld MiB\n", peak_kib() / 1024);
	vg_repo_close(r);
	return vg_pool_close(p) ? die("close") : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "build"))
		return build(argv[2], strtoull(argv[3], NULL, 10), argc > 4 ? atoi(argv[4]) : 10,
			     argc > 5 ? (uint32_t)atoi(argv[5]) : 0);
	if (argc >= 3 && !strcmp(argv[1], "open"))
		return open_and_backup(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "lookup"))
		return lookups(argv[2], strtoull(argv[3], NULL, 10), argc > 4 ? atof(argv[4]) : 2);
	fprintf(stderr, "usage: bench_index build DIR N [COMMITS [BLOCK]] | open DIR | lookup DIR N [SECS]\n");
	return 64;
}
