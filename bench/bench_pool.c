/*
 * bench_pool.c - raw storage-engine throughput: write, read and scrub of
 * large blocks on a vault in a given directory (use tmpfs to measure the
 * engine, not the disk).
 *
 *   bench_pool DIR LAYOUT NDEV MIB [BLOCK_KIB]
 *
 * Prints one line per phase: MB/s of logical bytes, and the bytes the
 * engine wrote to devices (parity included).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "pool/pool.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s DIR LAYOUT NDEV MIB [BLOCK_KIB]\n", argv[0]);
		return 64;
	}
	int n = atoi(argv[3]);
	size_t mib = (size_t)atol(argv[4]);
	size_t bsz = (argc > 5 ? (size_t)atol(argv[5]) : 4096) * 1024;
	char paths[12][1024];
	const char *pp[12];
	for (int d = 0; d < n && d < 12; d++) {
		snprintf(paths[d], sizeof paths[d], "%s/dev%d", argv[1], d);
		pp[d] = paths[d];
	}
	struct vg_layout l;
	struct vg_pool *p;
	int err = vg_layout_parse(argv[2], n, &l);
	if (!err)
		err = vg_pool_create(vg_os_posix(), &l, pp, &p);
	if (err) {
		fprintf(stderr, "%s\n", vg_errmsg());
		return 1;
	}
	size_t nblk = mib * 1024 * 1024 / bsz;
	struct vg_bp *bps = calloc(nblk, sizeof *bps);
	uint8_t *buf = malloc(bsz);
	for (size_t i = 0; i < bsz; i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 9));
	double t0 = now();
	for (size_t i = 0; i < nblk && !err; i++) {
		buf[0] = (uint8_t)i;
		err = vg_pool_write(p, 1, buf, bsz, 1, &bps[i]);
	}
	if (!err)
		err = vg_pool_commit(p, &bps[0]);
	double t1 = now();
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	printf("write  %8.1f MB/s  (%zu MiB logical, %.1f MiB allocated on devices)\n",
	       (double)(nblk * bsz) / 1e6 / (t1 - t0), nblk * bsz >> 20, (double)st.alloc_bytes / 1048576.0);
	vg_pool_close(p);
	if (!err)
		err = vg_pool_open(vg_os_posix(), pp[0], VG_POOL_RDWR, &p);
	t0 = now();
	for (size_t i = 0; i < nblk && !err; i++)
		err = vg_pool_read(p, &bps[i], buf);
	t1 = now();
	printf("read   %8.1f MB/s\n", (double)(nblk * bsz) / 1e6 / (t1 - t0));
	struct vg_scrub_counts c = {0};
	t0 = now();
	for (size_t i = 0; i < nblk && !err; i++)
		err = vg_pool_scrub_block(p, &bps[i], &c);
	t1 = now();
	printf("scrub  %8.1f MB/s  (%.1f MiB read incl. parity: %.1f MB/s)\n",
	       (double)(nblk * bsz) / 1e6 / (t1 - t0), (double)c.bytes / 1048576.0,
	       (double)c.bytes / 1e6 / (t1 - t0));
	vg_pool_close(p);
	free(bps);
	free(buf);
	if (err)
		fprintf(stderr, "%s\n", vg_errmsg());
	return err ? 1 : 0;
}
