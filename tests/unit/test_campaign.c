/*
 * test_campaign.c - the corruption campaign.
 *
 * Within redundancy: on raidz1 (4 devices), raidz2 (6) and mirror (2),
 * 1,000 random corruptions - bit flips, zeroed 4 KiB ranges, truncated
 * segment files - all on the first P devices (never more bad columns in a
 * stripe than the parity covers), each inside a column of a live block.
 * One scrub must detect and repair all of it: every live column is
 * byte-identical to what was written, nothing is unrecoverable, a second
 * scrub finds nothing, and restore is identical.
 *
 * Beyond redundancy: on raidz1, blocks damaged on two devices are lost;
 * the damage report must list exactly the files that no longer restore,
 * and every other file must restore identically.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "pool/impl.h"
#include "repo/obj.h"
#include "t.h"
#include "tvault.h"
#include "workflow/damage.h"
#include "workflow/restore.h"

#define NCORRUPT 1000

/* A live column on one device: file and byte range. */
struct col {
	int dev;
	uint32_t seg;
	uint64_t off, len;
	const struct vg_bp *bp;
};

struct cols {
	struct col *v;
	size_t n;
};

static void columns(struct vg_pool *p, const struct vg_bp *b, size_t nb, int maxdev, struct cols *out)
{
	struct vg_layout l;
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	l = st.layout;
	out->v = NULL;
	out->n = 0;
	for (size_t i = 0; i < nb; i++)
		for (int k = 0; k < b[i].ndva; k++) {
			struct vg_geom g;
			vg_geom_of(&l, b[i].psize, &b[i].dva[k], &g);
			for (int c = 0; c < g.ncols; c++) {
				if (g.dev[c] >= maxdev)
					continue;
				out->v = realloc(out->v, (out->n + 1) * sizeof *out->v);
				out->v[out->n++] = (struct col){g.dev[c], b[i].dva[k].seg, (uint64_t)b[i].dva[k].off * VG_SECTOR,
								g.colsize, &b[i]};
			}
		}
}

static const char *seg_file(const char *vdir, int dev, uint32_t seg)
{
	return t_path("%s/d%d/seg-%08x", vdir, dev, seg);
}

/* Apply n corruptions to the listed columns; returns how many landed
 * (a truncated file has no bytes left past its end to damage). */
static int corrupt(const char *vdir, const struct cols *c, int n, uint64_t seed)
{
	uint64_t st = seed;
	int landed = 0, truncs = 0;
	for (int i = 0; i < n; i++) {
		const struct col *x = &c->v[t_rand(&st) % c->n];
		const char *path = seg_file(vdir, x->dev, x->seg);
		FILE *f = fopen(path, "r+b");
		if (!f)
			continue; /* truncated away entirely: nothing left to damage */
		uint64_t kind = t_rand(&st) % 100, at = x->off + t_rand(&st) % x->len;
		struct stat sb;
		fstat(fileno(f), &sb);
		if (kind < 1 && truncs < 4) { /* cut the file inside its last column */
			const struct col *last = x;
			for (size_t k = 0; k < c->n; k++)
				if (c->v[k].dev == x->dev && c->v[k].seg == x->seg && c->v[k].off > last->off)
					last = &c->v[k];
			at = last->off + t_rand(&st) % last->len;
			fclose(f);
			if ((off_t)at >= sb.st_size)
				continue;
			if (truncate(path, (off_t)at))
				return -1;
			truncs++;
			landed++;
			continue;
		}
		if ((off_t)at >= sb.st_size) {
			fclose(f);
			continue;
		}
		landed++;
		if (kind < 60) { /* flip one bit */
			uint8_t byte;
			fseek(f, (long)at, SEEK_SET);
			if (fread(&byte, 1, 1, f) != 1)
				byte = 0;
			byte ^= (uint8_t)(1u << (t_rand(&st) % 8));
			fseek(f, (long)at, SEEK_SET);
			fwrite(&byte, 1, 1, f);
		} else { /* zero a 4 KiB range (inside the column) */
			static const uint8_t zero[4096];
			uint64_t start = x->off + ((at - x->off) & ~4095ull);
			fseek(f, (long)start, SEEK_SET);
			fwrite(zero, 1, 4096, f);
		}
		fclose(f);
	}
	return landed;
}

/* Every listed column equal in the two vault copies. */
static size_t differing(const char *a, const char *b, const struct cols *c)
{
	size_t bad = 0;
	uint8_t *x = malloc(16u << 20), *y = malloc(16u << 20);
	for (size_t i = 0; i < c->n; i++) {
		FILE *f = fopen(seg_file(a, c->v[i].dev, c->v[i].seg), "rb");
		FILE *g = fopen(seg_file(b, c->v[i].dev, c->v[i].seg), "rb");
		size_t nx = 0, ny = 0;
		if (f && g && !fseek(f, (long)c->v[i].off, SEEK_SET) && !fseek(g, (long)c->v[i].off, SEEK_SET)) {
			nx = fread(x, 1, c->v[i].len, f);
			ny = fread(y, 1, c->v[i].len, g);
		}
		/* a column may end in a hole at the end of the file: compare what
		 * the original has */
		if (!f || !g || nx > ny || memcmp(x, y, nx))
			bad++;
		if (f)
			fclose(f);
		if (g)
			fclose(g);
	}
	free(x);
	free(y);
	return bad;
}

static void dataset(void)
{
	t_sh("mkdir -p '%s/src/d' && for i in $(seq 1 12); do head -c $((200000 + i * 37000)) /dev/urandom > \"%s/src/f$i\"; done "
	     "&& for i in $(seq 1 40); do echo small $i > \"%s/src/d/s$i\"; done && "
	     "head -c 2000000 /dev/zero > '%s/src/zeros'",
	     t_tmpdir(), t_tmpdir(), t_tmpdir(), t_tmpdir());
}

/* Six backups, each changing a few files first, so the vault holds many
 * blocks of every kind; the last snapshot is of the final src. */
static void backups(struct vg_repo *r, struct vg_id *id)
{
	for (int k = 0; k < 6; k++) {
		t_sh("for i in 1 2 3; do head -c $((100000 + $i * 50000)) /dev/urandom > \"%s/src/f$(( (%d * 3 + $i) %% 12 + 1 ))\"; "
		     "done; echo %d >> '%s/src/d/s%d'", t_tmpdir(), k, k, t_tmpdir(), k + 1);
		T_OK(tv_backup(r, t_path("src"), "h", id));
	}
}

static void campaign(const char *layout, int ndevs, int parity, uint64_t seed)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_id id;
	struct vg_bp *b;
	size_t nb;
	struct cols c;
	char vdir[64];
	snprintf(vdir, sizeof vdir, "v-%s", layout);
	const char *dev0 = tv_create(vdir, layout, ndevs);
	T_OK(tv_open(dev0, &p, &r));
	backups(r, &id);
	vg_repo_close(r);
	T_OK(tv_blocks(p, &b, &nb));
	columns(p, b, nb, parity, &c);
	vg_pool_close(p);
	T_EQ(t_sh("cp -a '%s/%s' '%s/%s.orig'", t_tmpdir(), vdir, t_tmpdir(), vdir), 0);
	int landed = corrupt(vdir, &c, NCORRUPT, seed);
	T_CHECKF(landed >= NCORRUPT * 9 / 10, "%s: only %d corruptions landed", layout, landed);
	char orig[80];
	snprintf(orig, sizeof orig, "%s.orig", vdir);
	size_t damaged = differing(vdir, orig, &c);
	T_CHECKF(damaged > c.n / 4, "%s: only %zu of %zu columns damaged", layout, damaged, c.n);

	T_OK(vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDWR, &p));
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	T_CHECKF(tv_scrub(p) > 0, "%s: the scrub found nothing", layout);
	struct vg_scrub_record rec;
	vg_pool_scrub_get(p, &rec);
	T_EQ(rec.unrecoverable, 0);
	T_EQ(tv_scrub(p), 0);
	vg_pool_close(p);
	T_EQ(differing(vdir, orig, &c), 0);
	T_OK(tv_open(dev0, &p, &r));
	T_EQ(tv_restore_same(r, &id, t_path("src")), 0);
	tv_close(p, r);
	fprintf(stderr, "  %s: %d corruptions over %zu columns (%zu damaged), all repaired\n", layout, landed, c.n,
		damaged);
	free(c.v);
	free(b);
}

TEST(raidz1_within_redundancy)
{
	dataset();
	campaign("raidz1", 4, 1, 11);
}

TEST(raidz2_within_redundancy)
{
	dataset();
	campaign("raidz2", 6, 2, 12);
}

TEST(mirror_within_redundancy)
{
	dataset();
	campaign("mirror", 2, 1, 13);
}

TEST(raidz1_beyond_redundancy_lists_exactly_the_lost_files)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_id id;
	struct vg_bp *b;
	size_t nb;
	dataset();
	const char *dev0 = tv_create("v", "raidz1", 4);
	T_OK(tv_open(dev0, &p, &r));
	T_OK(tv_backup(r, t_path("src"), "h", &id));
	vg_repo_close(r);
	T_OK(tv_blocks(p, &b, &nb));
	/* two columns of every other data pack: beyond one parity */
	struct cols c;
	int hit = 0;
	for (size_t i = 0; i < nb; i++) {
		if (b[i].type != VG_BT_DATA_PACK || hit++ % 2)
			continue;
		columns(p, &b[i], 1, 4, &c);
		for (size_t k = 0; k < c.n && k < 2; k++) {
			FILE *f = fopen(seg_file("v", c.v[k].dev, c.v[k].seg), "r+b");
			T_CHECK(f != NULL);
			fseek(f, (long)c.v[k].off + 100, SEEK_SET);
			fwrite("garbage!", 1, 8, f);
			fclose(f);
		}
		free(c.v);
	}
	free(b);
	T_CHECK(tv_scrub(p) > 0);
	const struct vg_bp *log;
	size_t n;
	vg_pool_errlog(p, &log, &n);
	T_CHECK(n >= 1);
	struct vg_damage_report rep;
	T_OK(vg_damage_map(p, NULL, log, n, &rep));
	T_OK(vg_repo_open(p, NULL, &r));
	const char *target = t_path("rest");
	struct vg_restore_opts ro = {.target = target};
	struct vg_restore_result rr;
	T_OK(vg_restore_run(r, &id, &ro, &rr));
	vg_restore_result_release(&rr);
	/* every file: listed exactly when it does not restore identically */
	int listed = 0, files = 0;
	for (int i = 1; i <= 53; i++) {
		char rel[32], path[40];
		if (i <= 12)
			snprintf(rel, sizeof rel, "f%d", i);
		else if (i <= 52)
			snprintf(rel, sizeof rel, "d/s%d", i - 12);
		else
			snprintf(rel, sizeof rel, "zeros");
		snprintf(path, sizeof path, "/src/%s", rel);
		bool in = false;
		for (size_t k = 0; k < rep.n; k++)
			in = in || (!strcmp(rep.v[k].path, path) && rep.v[k].kind == VG_DAMAGE_FILE);
		bool same = !t_sh("cmp -s '%s/src/%s' '%s/src/%s'", t_tmpdir(), rel, target, rel);
		T_CHECKF(in != same, "%s: listed %d, restores identically %d", rel, in, same);
		listed += in;
		files++;
	}
	T_EQ((size_t)listed, rep.n);
	T_CHECKF(listed < files, "%d of %d files lost", listed, files);
	T_CHECK(listed > 0);
	vg_damage_report_release(&rep);
	tv_close(p, r);
}
