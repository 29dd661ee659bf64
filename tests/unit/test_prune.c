/*
 * test_prune.c - retention rules (restic's semantics, health-aware),
 * forget, garbage collection: a dry run lists exactly what a real run
 * removes, the vault's disk use goes down, what stays restores identically
 * and scrubs clean.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "repo/gc.h"
#include "repo/policy.h"
#include "t.h"
#include "tvault.h"
#include "workflow/prune.h"

#define H (3600ll * 1000000000ll)
#define D (24 * H)
#define T0 (1700010000ll * 1000000000ll) /* 2023-11-15 01:00:00 UTC, a Wednesday */

static void utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

/* n synthetic snapshots at the given hour offsets from T0 (all healthy). */
static void mk(struct vg_policy_snap *s, size_t n, const int64_t *at, const char *host)
{
	static char *paths[] = {"/data"};
	for (size_t i = 0; i < n; i++)
		s[i] = (struct vg_policy_snap){T0 + at[i], host, NULL, 0, paths, 1, true};
}

static unsigned kept(const unsigned *keep, size_t n)
{
	unsigned mask = 0;
	for (size_t i = 0; i < n; i++)
		mask |= (keep[i] ? 1u : 0u) << i;
	return mask;
}

TEST(keep_last_and_periods)
{
	utc();
	struct vg_policy_snap s[8];
	unsigned keep[8];
	/* two per day over four days, ascending */
	int64_t at[8] = {0, 2 * H, D, D + 2 * H, 2 * D, 2 * D + 2 * H, 3 * D, 3 * D + 1 * H};
	mk(s, 8, at, "h");
	struct vg_policy p = {.last = 3, .by_host = true};
	T_OK(vg_policy_apply(&p, s, 8, keep, NULL));
	T_EQ(kept(keep, 8), 0xe0u); /* the three newest */
	p = (struct vg_policy){.daily = 2};
	T_OK(vg_policy_apply(&p, s, 8, keep, NULL));
	T_EQ(kept(keep, 8), 0xa0u); /* newest of each of the two newest days */
	T_CHECK(keep[7] & VG_KEEP_DAILY);
	/* more periods wanted than exist: restic keeps the oldest too */
	p = (struct vg_policy){.daily = 10};
	T_OK(vg_policy_apply(&p, s, 8, keep, NULL));
	T_EQ(kept(keep, 8), 0xabu);
	T_CHECK(keep[0] & VG_KEEP_OLDEST);
	p = (struct vg_policy){.monthly = -1};
	T_OK(vg_policy_apply(&p, s, 8, keep, NULL));
	T_EQ(kept(keep, 8), 0x80u); /* all in one month; unlimited never "runs short" */
	/* within is relative to the newest snapshot, not to now */
	p = (struct vg_policy){.within_ns = 2 * D};
	T_OK(vg_policy_apply(&p, s, 8, keep, NULL));
	T_EQ(kept(keep, 8), 0xf8u);
	p = (struct vg_policy){.hourly = 2, .weekly = 1};
	T_OK(vg_policy_apply(&p, s, 8, keep, NULL));
	T_EQ(kept(keep, 8), 0xc0u);
}

TEST(groups_are_separate)
{
	utc();
	struct vg_policy_snap s[4];
	unsigned keep[4];
	size_t grp[4];
	int64_t at[4] = {0, H, 2 * H, 3 * H};
	mk(s, 4, at, "a");
	s[1].host = s[3].host = "b";
	struct vg_policy p = {.last = 1, .by_host = true, .by_paths = true};
	T_OK(vg_policy_apply(&p, s, 4, keep, grp));
	T_EQ(kept(keep, 4), 0xcu);
	T_EQ(grp[0], 0);
	T_EQ(grp[1], 1);
	p.by_host = false;
	T_OK(vg_policy_apply(&p, s, 4, keep, grp));
	T_EQ(kept(keep, 4), 0x8u);
}

TEST(unhealthy_snapshots_never_displace_healthy_ones)
{
	utc();
	struct vg_policy_snap s[10];
	unsigned keep[10];
	int64_t at[10];
	for (int i = 0; i < 10; i++)
		at[i] = i * H;
	mk(s, 10, at, "h");
	s[2].healthy = false;                                        /* old suspect: goes */
	s[6].healthy = s[7].healthy = s[8].healthy = s[9].healthy = false; /* newest 4 */
	struct vg_policy p = {.last = 3};
	T_OK(vg_policy_apply(&p, s, 10, keep, NULL));
	/* the 3 newest healthy (5, 4, 3) and the 4 unhealthy newer than them */
	T_EQ(kept(keep, 10), 0x3f8u);
	T_EQ(keep[9], VG_KEEP_UNHEALTHY);
	T_EQ(keep[3], VG_KEEP_LAST);
	T_EQ(keep[2], 0);
	/* keep-within may keep an unhealthy one, it never counts for last */
	p.within_ns = 8 * H;
	T_OK(vg_policy_apply(&p, s, 10, keep, NULL));
	T_CHECK(keep[2] & VG_KEEP_WITHIN);
	T_EQ(kept(keep, 10), 0x3fcu);
}

TEST(durations)
{
	int64_t v;
	T_OK(vg_policy_duration("1y5m7d2h30min", &v));
	T_EQ(v, ((365 + 150 + 7) * 86400ll + 2 * 3600 + 1800) * 1000000000ll);
	T_OK(vg_policy_duration("2w", &v));
	T_EQ(v, 14 * D);
	T_EQ(vg_policy_duration("", &v), VG_EINVAL);
	T_EQ(vg_policy_duration("3x", &v), VG_EINVAL);
	T_EQ(vg_policy_duration("d", &v), VG_EINVAL);
	T_EQ(vg_policy_duration("99999999999999999d", &v), VG_EINVAL);
}

/* Four backups of sources with unique data (src0..src3). */
static void four(const char *dev0, struct vg_id id[4])
{
	struct vg_pool *p;
	struct vg_repo *r;
	T_OK(tv_open(dev0, &p, &r));
	for (int i = 0; i < 4; i++) {
		t_sh("mkdir -p '%s/src%d/d' && head -c 1500000 /dev/urandom > '%s/src%d/big' && echo %d > '%s/src%d/d/small'",
		     t_tmpdir(), i, t_tmpdir(), i, i, t_tmpdir(), i);
		T_OK(tv_backup(r, t_path("src%d", i), "h", &id[i]));
	}
	tv_close(p, r);
}

static const char *four_backups(const char *layout, int ndevs, struct vg_id id[4])
{
	const char *dev0 = tv_create("v", layout, ndevs);
	four(dev0, id);
	return dev0;
}

TEST(dry_run_lists_exactly_what_goes_and_space_comes_back)
{
	struct vg_id id[4];
	const char *dev0 = four_backups("raidz1", 3, id);
	uint64_t before = tv_disk_use(t_path("v"));
	struct vg_pool *p;
	struct vg_prune_result dry, real;
	struct vg_prune_opts o = {.policy = {.last = 2}, .gc = true, .dry_run = true};
	T_OK(vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDONLY, &p));
	T_OK(vg_prune_run(p, &o, &dry));
	vg_pool_close(p);
	T_EQ(dry.n, 4);
	T_EQ(dry.nforget, 2);
	T_CHECK(dry.gc.dead_objects > 0 && !dry.gc.committed);
	T_EQ(tv_disk_use(t_path("v")), before);

	o.dry_run = false;
	T_OK(vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDWR, &p));
	T_OK(vg_prune_run(p, &o, &real));
	vg_pool_close(p);
	for (size_t i = 0; i < 4; i++) {
		T_CHECK(vg_id_eq(&dry.snaps[i].id, &real.snaps[i].id));
		T_EQ(dry.snaps[i].forget, real.snaps[i].forget);
	}
	T_EQ(dry.gc.dead_objects, real.gc.dead_objects);
	T_CHECK(real.forgot && real.gc.committed && real.gc.freed.files > 0);
	vg_prune_result_release(&dry);
	vg_prune_result_release(&real);
	uint64_t after = tv_disk_use(t_path("v"));
	T_CHECKF(after < before * 7 / 10, "disk use %llu -> %llu", (unsigned long long)before,
		 (unsigned long long)after);

	struct vg_repo *r;
	T_OK(tv_open(dev0, &p, &r));
	T_EQ(vg_repo_snapshot_count(r), 2);
	T_EQ(tv_restore_same(r, &id[2], t_path("src2")), 0);
	T_EQ(tv_restore_same(r, &id[3], t_path("src3")), 0);
	struct vg_snapshot s;
	T_EQ(vg_repo_snapshot_load(r, &id[0], &s), VG_ENOENT);
	vg_repo_close(r);
	T_EQ(tv_scrub(p), 0);
	/* a second collection finds nothing more to do */
	struct vg_gc_result g;
	T_OK(vg_repo_gc(p, NULL, &g));
	T_EQ(g.dead_objects, 0);
	T_CHECK(!g.committed);
	vg_pool_close(p);
}

/* A reader (a restore, ls, scrub) that opened the vault before a prune
 * still reads everything its state names: the prune commits, but deletes
 * no segment file while the reader is open; the next prune does. */
TEST(a_reader_keeps_the_segments_a_prune_would_delete)
{
	struct vg_id id[4];
	const char *dev0 = four_backups("raidz1", 3, id);
	struct vg_pool *rp, *p;
	struct vg_repo *rr;
	struct vg_prune_result res;
	struct vg_prune_opts o = {.policy = {.last = 1}, .gc = true};
	T_OK(vg_pool_open(vg_os_posix(), t_path("v/d1"), VG_POOL_RDONLY, &rp)); /* through another device */
	T_OK(vg_repo_open(rp, NULL, &rr));
	uint64_t before = tv_disk_use(t_path("v"));
	T_OK(vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDWR, &p));
	T_OK(vg_prune_run(p, &o, &res));
	vg_pool_close(p);
	T_CHECK(res.gc.committed && res.gc.freed.deferred);
	T_EQ(res.gc.freed.files, 0);
	vg_prune_result_release(&res);
	for (int i = 0; i < 4; i++)
		T_EQ(tv_restore_same(rr, &id[i], t_path("src%d", i)), 0);
	vg_repo_close(rr);
	vg_pool_close(rp);

	T_OK(vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDWR, &p));
	T_OK(vg_prune_run(p, &o, &res));
	vg_pool_close(p);
	T_CHECK(!res.gc.freed.deferred && res.gc.freed.files > 0);
	vg_prune_result_release(&res);
	T_CHECK(tv_disk_use(t_path("v")) < before);
	struct vg_repo *r;
	T_OK(tv_open(dev0, &p, &r));
	T_EQ(tv_restore_same(r, &id[3], t_path("src3")), 0);
	tv_close(p, r);
}

TEST(forget_by_id_then_gc_with_mirror)
{
	struct vg_id id[4];
	const char *dev0 = four_backups("mirror", 2, id);
	struct vg_pool *p;
	struct vg_repo *r;
	T_OK(vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDWR, &p));
	T_OK(vg_repo_forget(p, &id[1], 1));
	T_EQ(vg_repo_forget(p, &id[1], 1), VG_ENOENT);
	struct vg_gc_result g;
	T_OK(vg_repo_gc(p, &(struct vg_gc_opts){.max_unused = 0.9}, &g));
	T_CHECK(g.committed && g.dead_objects >= 2);
	T_EQ(g.cleaned_segments, 0); /* a quarter dead: under 90% */
	vg_pool_close(p);
	T_OK(tv_open(dev0, &p, &r));
	T_EQ(vg_repo_snapshot_count(r), 3);
	for (int i = 0; i < 4; i++)
		if (i != 1)
			T_EQ(tv_restore_same(r, &id[i], t_path("src%d", i)), 0);
	/* new backups still work after collection */
	struct vg_id nid;
	T_OK(tv_backup(r, t_path("src1"), "h", &nid));
	T_EQ(tv_restore_same(r, &nid, t_path("src1")), 0);
	vg_repo_close(r);
	T_EQ(tv_scrub(p), 0);
	vg_pool_close(p);
}

/* Extra snapshots with the root tree of base, at later times, marked. */
static void add_marked(struct vg_repo *r, const struct vg_id *base, int n, int verdict, int64_t t0, struct vg_id *out)
{
	struct vg_snapshot s;
	T_OK(vg_repo_snapshot_load(r, base, &s));
	for (int i = 0; i < n; i++) {
		s.time_ns = t0 + i * H;
		s.verdict = verdict;
		T_OK(vg_repo_snapshot_add(r, &s, &out[i]));
	}
	vg_snapshot_release(&s);
	T_OK(vg_repo_commit(r));
}

TEST(keep_last_3_with_the_newest_4_suspect)
{
	struct vg_id id[4], ok[5], bad[4];
	const char *dev0 = four_backups("single", 1, id);
	struct vg_pool *p;
	struct vg_repo *r;
	int64_t now = (int64_t)time(NULL) * 1000000000ll;
	T_OK(tv_open(dev0, &p, &r));
	add_marked(r, &id[3], 5, VG_VERDICT_OK, now + H, ok);
	add_marked(r, &id[3], 4, VG_VERDICT_SUSPECT, now + 10 * H, bad);
	vg_repo_close(r);
	struct vg_prune_result res;
	/* one group: the four backups were of different paths */
	struct vg_prune_opts o = {.policy = {.last = 3, .by_host = true}, .gc = true};
	T_OK(vg_prune_run(p, &o, &res));
	vg_prune_result_release(&res);
	vg_pool_close(p);
	T_OK(tv_open(dev0, &p, &r));
	T_EQ(vg_repo_snapshot_count(r), 7);
	struct vg_snapshot s;
	for (int i = 0; i < 4; i++) {
		T_OK(vg_repo_snapshot_load(r, &bad[i], &s));
		vg_snapshot_release(&s);
	}
	for (int i = 2; i < 5; i++) {
		T_OK(vg_repo_snapshot_load(r, &ok[i], &s));
		vg_snapshot_release(&s);
	}
	T_EQ(vg_repo_snapshot_load(r, &ok[1], &s), VG_ENOENT);
	T_EQ(vg_repo_snapshot_load(r, &id[0], &s), VG_ENOENT);
	T_EQ(tv_restore_same(r, &ok[4], t_path("src3")), 0);
	tv_close(p, r);
}
