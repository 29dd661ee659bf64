/*
 * test_pool.c - the storage engine: layouts, commits, self-healing reads,
 * degraded and faulted vaults, bad labels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/err.h"
#include "os/fault.h"
#include "pool/impl.h"
#include "pool/pool.h"
#include "pool/rs.h"
#include "t.h"

#define NBLK 24

struct fixture {
	int n;
	const char *paths[VG_POOL_MAX_DEVS];
	char store[VG_POOL_MAX_DEVS][512];
	struct vg_bp bp[NBLK];
	size_t len[NBLK];
	struct vg_bp root;
};

static size_t blk_len(int i) { return i == 0 ? 1 : (size_t)(i * 37001) % (3u << 20) + 1; }

/* Devices at t_path(fmt, d) (fmt takes one int). */
static int make_vault_at(struct fixture *fx, const char *layout, int n, const char *fmt)
{
	struct vg_layout l;
	struct vg_pool *p;
	int err;
	fx->n = n;
	for (int d = 0; d < n; d++) {
		char rel[256];
		snprintf(rel, sizeof rel, fmt, d);
		snprintf(fx->store[d], sizeof fx->store[d], "%s", t_path("%s", rel));
		fx->paths[d] = fx->store[d];
	}
	if ((err = vg_layout_parse(layout, n, &l)) || (err = vg_pool_create(vg_os_posix(), &l, fx->paths, &p)))
		return err;
	for (int i = 0; i < NBLK; i++) {
		fx->len[i] = blk_len(i);
		uint8_t *b = malloc(fx->len[i]);
		t_fill(b, fx->len[i], (uint64_t)i + 1);
		err = vg_pool_write(p, 1, b, fx->len[i], i % 3 == 0 ? 2 : 1, &fx->bp[i]);
		free(b);
		if (err)
			break;
	}
	fx->root = fx->bp[1];
	if (!err)
		err = vg_pool_commit(p, &fx->root);
	int e2 = vg_pool_close(p);
	return err ? err : e2;
}

static int make_vault(struct fixture *fx, const char *layout, int n) { return make_vault_at(fx, layout, n, "dev%d"); }

/* Reads every block and compares; returns the number of mismatches or
 * failed reads. */
static int read_all(struct vg_pool *p, struct fixture *fx)
{
	int bad = 0;
	for (int i = 0; i < NBLK; i++) {
		uint8_t *want = malloc(fx->len[i]), *got = malloc(fx->len[i]);
		t_fill(want, fx->len[i], (uint64_t)i + 1);
		int err = vg_pool_read(p, &fx->bp[i], got);
		if (err || memcmp(want, got, fx->len[i])) {
			if (err)
				fprintf(stderr, "  block %d: %s\n", i, vg_errmsg());
			bad++;
		}
		free(want);
		free(got);
	}
	return bad;
}

static uint64_t cksum_errs(struct vg_pool *p, int d)
{
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	return st.dev[d].cksum_errs;
}

/* Overwrite len bytes at off of every segment file of device d. */
static void scribble(const char *dev, uint64_t seed)
{
	for (int seg = 0; seg < 4; seg++) {
		char path[600];
		snprintf(path, sizeof path, "%s/seg-%08x", dev, seg);
		FILE *f = fopen(path, "r+b");
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		long size = ftell(f);
		uint64_t s = seed;
		for (int k = 0; k < 64 && size > 0; k++) {
			long off = (long)(t_rand(&s) % (uint64_t)size);
			fseek(f, off, SEEK_SET);
			char junk[16];
			t_fill(junk, sizeof junk, t_rand(&s));
			fwrite(junk, 1, sizeof junk, f);
		}
		fclose(f);
	}
}

TEST(rs_reconstructs_every_erasure_pattern)
{
	for (int k = 1; k <= 9; k++)
		for (int m = 1; m <= 3; m++) {
			size_t len = 4096;
			uint8_t *mem = malloc((size_t)(k + m) * len), *orig = malloc((size_t)(k + m) * len);
			uint8_t *cols[VG_RS_MAX_COLS];
			for (int c = 0; c < k + m; c++)
				cols[c] = mem + (size_t)c * len;
			t_fill(mem, (size_t)k * len, (uint64_t)(k * 10 + m));
			vg_rs_encode(k, m, len, cols);
			memcpy(orig, mem, (size_t)(k + m) * len);
			for (unsigned mask = 1; mask < (1u << (k + m)); mask++) {
				if (__builtin_popcount(mask) > m)
					continue;
				bool e[VG_RS_MAX_COLS] = {0};
				for (int c = 0; c < k + m; c++)
					if (mask & (1u << c)) {
						e[c] = true;
						memset(cols[c], 0xa5, len);
					}
				T_OK(vg_rs_reconstruct(k, m, len, cols, e));
				T_CHECKF(!memcmp(mem, orig, (size_t)(k + m) * len), "k=%d m=%d mask=%x", k, m, mask);
			}
			free(mem);
			free(orig);
		}
}

TEST(layout_parse_checks_device_counts)
{
	struct vg_layout l;
	T_OK(vg_layout_parse("raidz2", 4, &l));
	T_EQ(l.nparity, 2);
	T_EQ(vg_layout_parse("raidz3", 4, &l), VG_EINVAL);
	T_EQ(vg_layout_parse("mirror", 5, &l), VG_EINVAL);
	T_EQ(vg_layout_parse("raidz1", 13, &l), VG_EINVAL);
	T_EQ(vg_layout_parse("raid5", 3, &l), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "unknown layout 'raid5'"));
}

TEST(bp_roundtrip_and_rejects_garbage)
{
	struct vg_bp a = {.ndva = 2, .cksum_alg = 1, .type = 7, .psize = 12345, .birth = 99,
			  .dva = {{1, 2}, {3, 4}}};
	a.cksum[0] = 0xaa;
	uint8_t e[VG_BP_SIZE];
	struct vg_bp b;
	vg_bp_encode(&a, e);
	T_OK(vg_bp_decode(e, &b));
	T_CHECK(!memcmp(&a, &b, sizeof a));
	e[0] = 4;
	T_EQ(vg_bp_decode(e, &b), VG_ECORRUPT);
	e[0] = 2;
	e[79] = 1;
	T_EQ(vg_bp_decode(e, &b), VG_EVERSION);
}

static void roundtrip(const char *layout, int n)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, layout, n));
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[n - 1], VG_POOL_RDONLY, &p));
	struct vg_bp root;
	bool has;
	vg_pool_root(p, &root, &has);
	T_CHECK(has && !memcmp(&root, &fx.root, sizeof root));
	T_EQ(read_all(p, &fx), 0);
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	T_EQ(st.state, VG_POOL_ONLINE);
	T_EQ(st.txg, 2);
	vg_pool_close(p);
}

TEST(roundtrip_single1) { roundtrip("single", 1); }
TEST(roundtrip_single3) { roundtrip("single", 3); }
TEST(roundtrip_mirror2) { roundtrip("mirror", 2); }
TEST(roundtrip_mirror4) { roundtrip("mirror", 4); }
TEST(roundtrip_raidz1) { roundtrip("raidz1", 4); }
TEST(roundtrip_raidz2) { roundtrip("raidz2", 6); }
TEST(roundtrip_raidz3_12) { roundtrip("raidz3", 12); }

static void lose(const char *layout, int n, int nlost, int expect_state)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, layout, n));
	for (int d = 0; d < nlost; d++)
		T_EQ(t_sh("rm -rf '%s'", fx.paths[d]), 0);
	int err = vg_pool_open(vg_os_posix(), fx.paths[n - 1], VG_POOL_RDWR, &p);
	if (expect_state == VG_POOL_FAULTED) {
		T_EQ(err, VG_EFAULTED);
		T_CHECKF(strstr(vg_errmsg(), fx.paths[0]) != NULL, "message names the device: %s", vg_errmsg());
		return;
	}
	T_OK(err);
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	T_EQ(st.state, expect_state);
	for (int d = 0; d < nlost; d++)
		T_EQ(st.dev[d].state, VG_DEV_UNAVAIL);
	T_EQ(read_all(p, &fx), 0);
	T_OK(vg_pool_close(p));
}

TEST(degraded_raidz1_one_lost) { lose("raidz1", 4, 1, VG_POOL_DEGRADED); }
TEST(degraded_raidz2_two_lost) { lose("raidz2", 6, 2, VG_POOL_DEGRADED); }
TEST(degraded_raidz3_three_lost) { lose("raidz3", 7, 3, VG_POOL_DEGRADED); }
TEST(degraded_mirror3_two_lost) { lose("mirror", 3, 2, VG_POOL_DEGRADED); }
TEST(faulted_raidz1_two_lost) { lose("raidz1", 4, 2, VG_POOL_FAULTED); }
TEST(faulted_single_one_lost) { lose("single", 2, 1, VG_POOL_FAULTED); }

TEST(faulted_open_changes_nothing)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, "raidz1", 4));
	T_EQ(t_sh("rm -rf '%s' '%s'", fx.paths[0], fx.paths[1]), 0);
	T_EQ(t_sh("cd '%s' && find dev2 dev3 -type f | sort | xargs sha256sum > sums; stat -c '%%n %%s %%Y' dev2/* dev3/* > stats",
		  t_tmpdir()), 0);
	T_EQ(vg_pool_open(vg_os_posix(), fx.paths[2], VG_POOL_RDWR, &p), VG_EFAULTED);
	T_EQ(t_sh("cd '%s' && find dev2 dev3 -type f | sort | xargs sha256sum | cmp - sums && stat -c '%%n %%s %%Y' dev2/* dev3/* | cmp - stats",
		  t_tmpdir()), 0);
}

static void heal(const char *layout, int n, int nbad)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, layout, n));
	for (int d = 0; d < nbad; d++)
		scribble(fx.paths[d], 1000 + (uint64_t)d);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[n - 1], VG_POOL_RDWR, &p));
	T_EQ(read_all(p, &fx), 0);
	uint64_t found = 0;
	for (int d = 0; d < n; d++) {
		if (d < nbad)
			found += cksum_errs(p, d);
		else
			T_EQ(cksum_errs(p, d), 0);
	}
	T_CHECKF(found > 0, "corruption was noticed and blamed on the damaged devices");
	T_OK(vg_pool_close(p));
	/* counters persisted; the second pass reads repaired copies */
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[n - 1], VG_POOL_RDWR, &p));
	uint64_t after = 0;
	for (int d = 0; d < nbad; d++)
		after += cksum_errs(p, d);
	T_EQ(after, found);
	T_EQ(read_all(p, &fx), 0);
	uint64_t again = 0;
	for (int d = 0; d < n; d++)
		again += cksum_errs(p, d);
	T_EQ(again, found);
	T_OK(vg_pool_clear(p));
	T_EQ(cksum_errs(p, 0), 0);
	T_OK(vg_pool_close(p));
}

TEST(heal_raidz1_one_bad) { heal("raidz1", 4, 1); }
TEST(heal_raidz2_two_bad) { heal("raidz2", 6, 2); }
TEST(heal_raidz3_three_bad) { heal("raidz3", 8, 3); }
TEST(heal_mirror_one_bad) { heal("mirror", 2, 1); }
TEST(heal_mirror3_two_bad) { heal("mirror", 3, 2); }

TEST(single_corruption_is_an_error_never_data)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, "single", 1));
	scribble(fx.paths[0], 77);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDONLY, &p));
	int failed = 0;
	for (int i = 0; i < NBLK; i++) {
		uint8_t *want = malloc(fx.len[i]), *got = malloc(fx.len[i]);
		t_fill(want, fx.len[i], (uint64_t)i + 1);
		int err = vg_pool_read(p, &fx.bp[i], got);
		if (err) {
			T_CHECK(err == VG_ECORRUPT);
			T_CHECK(strstr(vg_errmsg(), "damaged beyond repair") != NULL);
			failed++;
		} else {
			T_CHECKF(!memcmp(want, got, fx.len[i]), "block %d returned wrong data", i);
		}
		free(want);
		free(got);
	}
	T_CHECK(failed > 0);
	vg_pool_close(p);
}

TEST(newest_damaged_uberblock_falls_back)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, "mirror", 2));
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
	T_OK(vg_pool_commit(p, &fx.bp[2])); /* txg 3 */
	T_OK(vg_pool_close(p));
	/* tear txg 3's slot on both devices */
	for (int d = 0; d < 2; d++) {
		FILE *f = fopen(t_path("dev%d/label", d), "r+b");
		T_CHECK(f);
		fseek(f, VG_UB_RING_OFF + 3 * VG_UB_SLOT + 100, SEEK_SET);
		fputc(0x55, f);
		fclose(f);
	}
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[1], VG_POOL_RDONLY, &p));
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	T_EQ(st.txg, 2);
	struct vg_bp root;
	bool has;
	vg_pool_root(p, &root, &has);
	T_CHECK(!memcmp(&root, &fx.bp[1], sizeof root));
	vg_pool_close(p);
}

TEST(bad_devices_get_clear_errors)
{
	struct fixture fx;
	struct vg_pool *p;
	struct vg_layout l;
	T_OK(make_vault(&fx, "mirror", 2));
	T_EQ(vg_pool_open(vg_os_posix(), t_path("nowhere"), VG_POOL_RDONLY, &p), VG_ENOENT);
	T_CHECK(strstr(vg_errmsg(), "nowhere"));
	T_EQ(t_sh("mkdir '%s'", t_path("empty")), 0);
	T_EQ(vg_pool_open(vg_os_posix(), t_path("empty"), VG_POOL_RDONLY, &p), VG_ENOENT);
	T_CHECK(strstr(vg_errmsg(), "not a vigil vault device"));
	/* truncated label */
	T_EQ(t_sh("truncate -s 100 '%s'", t_path("dev0/label")), 0);
	T_EQ(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDONLY, &p), VG_ECORRUPT);
	T_CHECKF(strstr(vg_errmsg(), "label of") && strstr(vg_errmsg(), "damaged"), "%s", vg_errmsg());
	/* through the good device, the truncated one is UNAVAIL */
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[1], VG_POOL_RDONLY, &p));
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	T_EQ(st.dev[0].state, VG_DEV_UNAVAIL);
	T_EQ(st.state, VG_POOL_DEGRADED);
	vg_pool_close(p);
	/* creating over an existing device refuses */
	T_OK(vg_layout_parse("single", 1, &l));
	const char *one[] = {fx.paths[1]};
	T_EQ(vg_pool_create(vg_os_posix(), &l, one, &p), VG_EEXIST);
	/* a device of another vault in place of a member */
	T_EQ(t_sh("rm -rf '%s'", fx.paths[0]), 0);
	const char *other[] = {fx.paths[0]};
	T_OK(vg_pool_create(vg_os_posix(), &l, other, &p));
	vg_pool_close(p);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[1], VG_POOL_RDONLY, &p));
	vg_pool_status(p, &st);
	T_EQ(st.dev[0].state, VG_DEV_UNAVAIL);
	T_CHECKF(strstr(st.dev[0].reason, "another vault"), "%s", st.dev[0].reason);
	vg_pool_close(p);
}

TEST(second_writer_is_refused)
{
	struct fixture fx;
	struct vg_pool *p, *q;
	T_OK(make_vault(&fx, "single", 1));
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
	T_EQ(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &q), VG_EBUSY);
	vg_pool_close(p);
}

static void scrub_heals(const char *layout, int n, int nbad)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, layout, n));
	T_EQ(t_sh("cp -a '%s' '%s.orig'", t_tmpdir(), t_tmpdir()), 0);
	for (int d = 0; d < nbad; d++)
		scribble(fx.paths[d], 500 + (uint64_t)d);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[n - 1], VG_POOL_RDWR, &p));
	struct vg_scrub_counts c = {0}, c2 = {0};
	for (int i = 0; i < NBLK; i++)
		T_OK(vg_pool_scrub_block(p, &fx.bp[i], &c));
	T_CHECK(c.errors > 0 && c.repaired_bytes > 0 && c.unrecoverable == 0);
	T_OK(vg_pool_close(p));
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[n - 1], VG_POOL_RDWR, &p));
	for (int i = 0; i < NBLK; i++)
		T_OK(vg_pool_scrub_block(p, &fx.bp[i], &c2));
	T_EQ(c2.errors, 0);
	T_EQ(c2.bytes, c.bytes);
	T_OK(vg_pool_close(p));
	/* every segment byte is back to what was written */
	for (int d = 0; d < n; d++)
		T_EQ(t_sh("cd '%s' && for f in dev%d/seg-*; do cmp -s \"$f\" '%s.orig'/\"$f\" || exit 1; done",
			  t_tmpdir(), d, t_tmpdir()), 0);
	t_sh("rm -rf '%s.orig'", t_tmpdir());
}

TEST(scrub_heals_raidz1) { scrub_heals("raidz1", 4, 1); }
TEST(scrub_heals_raidz2) { scrub_heals("raidz2", 6, 2); }
TEST(scrub_heals_mirror) { scrub_heals("mirror", 2, 1); }
TEST(scrub_heals_single_ditto_only)
{
	/* on single only ditto (metadata) blocks can heal: blocks with 2 copies */
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, "single", 1));
	/* damage the first copy of block 0 (two copies) only */
	FILE *f = fopen(t_path("dev0/seg-00000000"), "r+b");
	T_CHECK(f);
	fseek(f, (long)fx.bp[0].dva[0].off * 4096, SEEK_SET);
	fputc(0x42 ^ 0xff, f);
	fclose(f);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
	struct vg_scrub_counts c = {0};
	T_OK(vg_pool_scrub_block(p, &fx.bp[0], &c));
	T_EQ(c.errors, 1);
	T_EQ(c.unrecoverable, 0);
	uint8_t got[1];
	T_OK(vg_pool_read(p, &fx.bp[0], got));
	struct vg_scrub_counts c2 = {0};
	T_OK(vg_pool_scrub_block(p, &fx.bp[0], &c2));
	T_EQ(c2.errors, 0);
	vg_pool_close(p);
}

TEST(device_back_after_missing_writes_is_not_blamed)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, "raidz1", 4));
	T_EQ(t_sh("mv '%s' '%s.away'", fx.paths[1], fx.paths[1]), 0);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
	struct vg_bp nb[6];
	uint8_t *b = malloc(1 << 20), *got = malloc(1 << 20);
	for (int i = 0; i < 6; i++) {
		t_fill(b, 1 << 20, 900 + (uint64_t)i);
		T_OK(vg_pool_write(p, 1, b, 1 << 20, 1, &nb[i]));
	}
	T_OK(vg_pool_commit(p, &fx.root));
	T_OK(vg_pool_close(p));
	T_EQ(t_sh("mv '%s.away' '%s'", fx.paths[1], fx.paths[1]), 0);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	T_EQ(st.state, VG_POOL_ONLINE);
	T_CHECK(st.dev[1].resilver_needed);
	for (int i = 0; i < 6; i++) {
		t_fill(b, 1 << 20, 900 + (uint64_t)i);
		T_OK(vg_pool_read(p, &nb[i], got));
		T_CHECK(!memcmp(b, got, 1 << 20));
	}
	T_EQ(read_all(p, &fx), 0);
	/* a scrub rebuilds every stale column (parity too, which reads skip) */
	struct vg_scrub_counts c = {0};
	for (int i = 0; i < 6; i++)
		T_OK(vg_pool_scrub_block(p, &nb[i], &c));
	T_CHECK(c.rebuilt_bytes > 0 && c.repaired_bytes == 0);
	vg_pool_status(p, &st);
	for (int d = 0; d < 4; d++)
		T_EQ(st.dev[d].cksum_errs + st.dev[d].read_errs, 0);
	T_OK(vg_pool_close(p));
	/* with another device gone, the blocks written while dev1 was away
	 * still read */
	T_EQ(t_sh("rm -rf '%s'", fx.paths[2]), 0);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDONLY, &p));
	for (int i = 0; i < 6; i++) {
		t_fill(b, 1 << 20, 900 + (uint64_t)i);
		T_OK(vg_pool_read(p, &nb[i], got));
		T_CHECK(!memcmp(b, got, 1 << 20));
	}
	vg_pool_close(p);
	free(b);
	free(got);
}

static void scrub_all(struct vg_pool *p, struct fixture *fx, struct vg_scrub_counts *c)
{
	for (int i = 0; i < NBLK; i++)
		vg_pool_scrub_block(p, &fx->bp[i], c);
}

TEST(replace_missing_device)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, "raidz1", 4));
	T_EQ(t_sh("rm -rf '%s'", fx.paths[1]), 0);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
	int d = vg_pool_find_dev(p, fx.paths[1]);
	T_EQ(d, 1);
	T_OK(vg_pool_replace(p, d, t_path("new1")));
	uint64_t start = vg_pool_txg(p);
	struct vg_scrub_counts c = {0};
	scrub_all(p, &fx, &c);
	T_EQ(c.unrecoverable, 0);
	T_OK(vg_pool_resilver_done(p, start));
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	T_EQ(st.state, VG_POOL_ONLINE);
	for (int k = 0; k < 4; k++) {
		T_EQ(st.dev[k].read_errs + st.dev[k].write_errs + st.dev[k].cksum_errs, 0);
		T_CHECK(!st.dev[k].resilver_needed);
	}
	T_CHECK(!strcmp(st.dev[1].path, t_path("new1")));
	T_OK(vg_pool_close(p));
	/* reopen through the new device; a second scrub is clean */
	T_OK(vg_pool_open(vg_os_posix(), t_path("new1"), VG_POOL_RDWR, &p));
	struct vg_scrub_counts c2 = {0};
	scrub_all(p, &fx, &c2);
	T_EQ(c2.errors, 0);
	T_OK(vg_pool_close(p));
	/* the new device really holds its columns: lose another one */
	T_EQ(t_sh("rm -rf '%s'", fx.paths[2]), 0);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDONLY, &p));
	T_EQ(read_all(p, &fx), 0);
	vg_pool_close(p);
}

/* Devices that moved (their directory renamed, disks mounted elsewhere)
 * are found among the directories the user names, only if their labels
 * say so; once saved, the vault opens from the new places alone. */
TEST(moved_devices_found_among_those_named_and_saved)
{
	struct fixture fx, other;
	struct vg_pool *p;
	struct vg_pool_status st;
	T_EQ(t_sh("cd '%s' && mkdir old b", t_tmpdir()), 0);
	T_OK(make_vault_at(&fx, "raidz1", 3, "old/d%d"));
	T_OK(make_vault_at(&other, "raidz1", 3, "b/d%d"));
	T_EQ(t_sh("cd '%s' && mv old new", t_tmpdir()), 0);
	T_EQ(vg_pool_open(vg_os_posix(), t_path("new/d0"), VG_POOL_RDWR, &p), VG_EFAULTED);
	/* another vault's device under a name given is not taken */
	const char *wrong[] = {t_path("b/d1"), t_path("b/d2"), t_path("new/d2")};
	T_OK(vg_pool_open_with(vg_os_posix(), t_path("new/d0"), VG_POOL_RDWR, wrong, 3, &p));
	vg_pool_status(p, &st);
	T_EQ(st.state, VG_POOL_DEGRADED);
	T_EQ(st.dev[1].state, VG_DEV_UNAVAIL);
	T_CHECK(!strcmp(st.dev[2].path, t_path("new/d2")));
	T_OK(vg_pool_close(p));
	const char *right[] = {t_path("new/d2"), t_path("new/d1")};
	T_OK(vg_pool_open_with(vg_os_posix(), t_path("new/d0"), VG_POOL_RDWR, right, 2, &p));
	vg_pool_status(p, &st);
	T_EQ(st.state, VG_POOL_ONLINE);
	T_EQ(read_all(p, &fx), 0);
	int moved = -1;
	T_OK(vg_pool_save_paths(p, &moved));
	T_EQ(moved, 3);
	T_OK(vg_pool_close(p));
	/* saved: any one of them opens it, all devices at their new places */
	T_OK(vg_pool_open(vg_os_posix(), t_path("new/d2"), VG_POOL_RDWR, &p));
	vg_pool_status(p, &st);
	T_EQ(st.state, VG_POOL_ONLINE);
	for (int d = 0; d < 3; d++)
		T_CHECKF(!strcmp(st.dev[d].path, t_path("new/d%d", d)), "device %d at '%s'", d, st.dev[d].path);
	T_EQ(read_all(p, &fx), 0);
	T_OK(vg_pool_save_paths(p, &moved));
	T_EQ(moved, 0);
	T_OK(vg_pool_close(p));
}

TEST(replace_reads_old_device_only_when_needed)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, "raidz1", 4));
	struct vg_os *os = vg_os_fault_new(vg_os_posix());
	T_OK(vg_pool_open(os, fx.paths[0], VG_POOL_RDWR, &p));
	T_OK(vg_pool_replace(p, 1, t_path("new1")));
	uint64_t start = vg_pool_txg(p);
	vg_fault_counts_reset(os);
	struct vg_scrub_counts c = {0};
	scrub_all(p, &fx, &c);
	struct vg_fault_counts fc;
	vg_fault_counts(os, fx.paths[1], &fc);
	T_EQ(fc.reads, 0); /* every column came from the other devices */
	T_EQ(c.unrecoverable, 0);
	T_OK(vg_pool_close(p));
	vg_os_destroy(os);

	/* now with another device silently damaged: the old one is needed,
	 * for some blocks only */
	T_EQ(t_sh("rm -rf '%s'/*", t_tmpdir()), 0);
	T_OK(make_vault(&fx, "raidz1", 4));
	scribble(fx.paths[2], 4242);
	os = vg_os_fault_new(vg_os_posix());
	T_OK(vg_pool_open(os, fx.paths[0], VG_POOL_RDWR, &p));
	T_OK(vg_pool_replace(p, 1, t_path("new1")));
	start = vg_pool_txg(p);
	vg_fault_counts_reset(os);
	struct vg_scrub_counts c2 = {0};
	scrub_all(p, &fx, &c2);
	vg_fault_counts(os, fx.paths[1], &fc);
	T_CHECK(fc.reads > 0);
	T_CHECK(fc.reads < (uint64_t)NBLK + 8); /* not everything */
	T_EQ(c2.unrecoverable, 0);
	T_OK(vg_pool_resilver_done(p, start));
	T_OK(vg_pool_close(p));
	vg_os_destroy(os);
	T_EQ(t_sh("rm -rf '%s'", fx.paths[1]), 0);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
	T_EQ(read_all(p, &fx), 0);
	struct vg_scrub_counts c3 = {0};
	scrub_all(p, &fx, &c3);
	T_EQ(c3.errors, 0);
	vg_pool_close(p);
}

/* Power cut during replace, after the new device's label and one other
 * member's label are written but before the uberblock names the new
 * device: the vault is still the old device's.  Opening reads the root
 * before it knows that; nothing of the new, empty device may stand in for
 * the old one (no error blamed on it, no repair written to the new
 * directory, no read served from it), so damage on another device is
 * still within the redundancy.  Every device index is replaced in turn so
 * that the root's data columns lie on the replaced device for some. */
TEST(replace_cut_before_its_commit_keeps_the_old_device)
{
	struct fixture fx;
	struct vg_pool *p;
	struct vg_layout l;
	struct vg_geom g;
	int root_on_victim = 0;
	T_OK(vg_layout_parse("raidz1", 4, &l));
	for (int d = 1; d < 4; d++) {
		T_EQ(t_sh("rm -rf '%s'/*", t_tmpdir()), 0);
		T_OK(make_vault(&fx, "raidz1", 4));
		vg_geom_of(&l, fx.root.psize, &fx.root.dva[0], &g);
		for (int c = 0; c < g.ndata; c++)
			root_on_victim += g.dev[c] == d;
		struct vg_os *os = vg_os_fault_new(vg_os_posix());
		T_OK(vg_pool_open(os, fx.paths[0], VG_POOL_RDWR, &p));
		/* write 1: the new label; 2 and 3: both label copies of dev0 */
		vg_fault_crash_at(os, 3, 17 + (uint64_t)d);
		T_EQ(vg_pool_replace(p, d, t_path("new")), VG_ECRASH);
		T_OK(vg_fault_powerloss(os, NULL));
		vg_pool_close(p);
		vg_os_destroy(os);
		int other = d % 3 + 1;
		scribble(fx.paths[other], 99 + (uint64_t)d);

		T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
		struct vg_pool_status st;
		vg_pool_status(p, &st);
		T_CHECK(!strcmp(st.dev[d].path, fx.paths[d]));
		T_EQ(st.dev[d].read_errs + st.dev[d].cksum_errs, 0);
		T_EQ(read_all(p, &fx), 0);
		struct vg_scrub_counts c = {0};
		scrub_all(p, &fx, &c);
		T_EQ(c.unrecoverable, 0);
		T_CHECK(c.errors > 0 && cksum_errs(p, other) > 0);
		vg_pool_status(p, &st);
		T_EQ(st.dev[d].read_errs + st.dev[d].cksum_errs, 0);
		T_EQ(st.state, VG_POOL_ONLINE);
		T_CHECKF(t_sh("ls '%s' | grep -q seg-", t_path("new")) != 0,
			 "replacing device %d: segment files written to the uncommitted new device", d);
		/* the same replace, run again, takes the directory it left */
		T_OK(vg_pool_replace(p, d, t_path("new")));
		scrub_all(p, &fx, &c);
		T_EQ(c.unrecoverable, 0);
		T_OK(vg_pool_close(p));
		T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
		vg_pool_status(p, &st);
		T_CHECK(!strcmp(st.dev[d].path, t_path("new")));
		T_EQ(read_all(p, &fx), 0);
		T_OK(vg_pool_close(p));
		if (t_failed())
			return;
	}
	T_CHECK(root_on_victim > 0);
}

/* Only an uncommitted replacement of this vault is taken over by a new
 * replace: a device of another vault, or the copy of a live member's
 * directory, is refused and left as it was. */
TEST(replace_refuses_directories_it_did_not_leave)
{
	struct fixture fx;
	struct vg_pool *p, *q;
	struct vg_layout l;
	T_OK(make_vault(&fx, "raidz1", 3));
	const char *other[] = {t_path("other0")};
	T_OK(vg_layout_parse("single", 1, &l));
	T_OK(vg_pool_create(vg_os_posix(), &l, other, &q));
	T_OK(vg_pool_close(q));
	T_EQ(t_sh("cp -a '%s' '%s'", fx.paths[2], t_path("copy2")), 0);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
	T_EQ(vg_pool_replace(p, 1, t_path("other0")), VG_EEXIST);
	T_EQ(vg_pool_replace(p, 1, t_path("copy2")), VG_EEXIST);
	T_OK(vg_pool_close(p));
	T_EQ(t_sh("test -s '%s/label' && test -s '%s/label' && ls '%s' | grep -q seg-", t_path("other0"),
		  t_path("copy2"), t_path("copy2")),
	     0);
}

/* A missing device plus silent damage on another, within raidz2: the
 * search must also try erasing a corrupt parity column that the rebuild
 * of the missing data column relies on. */
TEST(heal_raidz2_missing_plus_corrupt)
{
	struct fixture fx;
	struct vg_pool *p;
	for (int victim = 1; victim < 4; victim++) {
		T_EQ(t_sh("rm -rf '%s'/*", t_tmpdir()), 0);
		T_OK(make_vault(&fx, "raidz2", 4));
		T_EQ(t_sh("rm -rf '%s'", fx.paths[0]), 0);
		scribble(fx.paths[victim], 77 + (uint64_t)victim);
		T_OK(vg_pool_open(vg_os_posix(), fx.paths[3 - (victim == 3)], VG_POOL_RDWR, &p));
		T_EQ(read_all(p, &fx), 0);
		T_CHECK(cksum_errs(p, victim) > 0);
		T_OK(vg_pool_close(p));
	}
}

/* Damage in the zero padding after a block's data is outside its checksum;
 * scrub must blame and rewrite the padded column, never the parity. */
TEST(scrub_blames_damaged_padding_not_parity)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, "raidz1", 4));
	int i = 5; /* a block whose size is not a multiple of the column size */
	struct vg_geom g;
	struct vg_layout l;
	T_OK(vg_layout_parse("raidz1", 4, &l));
	vg_geom_of(&l, fx.bp[i].psize, &fx.bp[i].dva[0], &g);
	size_t used = fx.bp[i].psize - (size_t)(g.ndata - 1) * g.colsize;
	T_CHECK(used < g.colsize);
	int dev = g.dev[g.ndata - 1];
	T_EQ(t_sh("cp -a '%s' '%s.orig'", t_tmpdir(), t_tmpdir()), 0);
	FILE *f = fopen(t_path("dev%d/seg-%08x", dev, fx.bp[i].dva[0].seg), "r+b");
	T_CHECK(f);
	fseek(f, (long)((uint64_t)fx.bp[i].dva[0].off * VG_SECTOR + used + 1), SEEK_SET);
	fputc(0x5a, f);
	fclose(f);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
	struct vg_scrub_counts c = {0};
	T_OK(vg_pool_scrub_block(p, &fx.bp[i], &c));
	T_EQ(c.errors, 1);
	for (int d = 0; d < 4; d++)
		T_EQ(cksum_errs(p, d), d == dev ? 1 : 0);
	T_OK(vg_pool_close(p));
	for (int d = 0; d < 4; d++)
		T_EQ(t_sh("cd '%s' && for s in dev%d/seg-*; do cmp -s \"$s\" '%s.orig'/\"$s\" || exit 1; done",
			  t_tmpdir(), d, t_tmpdir()), 0);
	t_sh("rm -rf '%s.orig'", t_tmpdir());
}

TEST(error_log_persists_and_clears)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, "single", 1));
	scribble(fx.paths[0], 31337);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
	int bad = 0;
	for (int i = 0; i < NBLK; i++) {
		uint8_t *b = malloc(fx.len[i]);
		if (vg_pool_read(p, &fx.bp[i], b))
			bad++;
		free(b);
	}
	T_CHECK(bad > 0);
	const struct vg_bp *list;
	size_t n;
	vg_pool_errlog(p, &list, &n);
	T_EQ(n, bad);
	T_OK(vg_pool_close(p));
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDONLY, &p));
	vg_pool_errlog(p, &list, &n);
	T_EQ(n, bad);
	vg_pool_close(p);
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDWR, &p));
	T_OK(vg_pool_clear(p));
	T_OK(vg_pool_close(p));
	T_OK(vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDONLY, &p));
	vg_pool_errlog(p, &list, &n);
	T_EQ(n, 0);
	vg_pool_close(p);
}

/* A vault whose data is gone must not open as an empty vault (the root-less
 * uberblock of txg 1 is no fallback for a newer state). */
TEST(unreadable_root_is_an_error_not_an_empty_vault)
{
	struct fixture fx;
	struct vg_pool *p;
	T_OK(make_vault(&fx, "single", 1));
	T_EQ(t_sh("rm '%s'/seg-*", fx.paths[0]), 0);
	int err = vg_pool_open(vg_os_posix(), fx.paths[0], VG_POOL_RDONLY, &p);
	T_CHECKF(err == VG_EIO || err == VG_ECORRUPT, "open returned %d", err);
	T_CHECK(strstr(vg_errmsg(), "unreadable") != NULL);
}
