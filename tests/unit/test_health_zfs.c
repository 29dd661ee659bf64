/*
 * test_health_zfs.c - `zpool status` text and JSON: every fixture gives the
 * expected level, finding text and action (table-driven), and truncated or
 * garbled output is a WARN "cannot parse", never OK.
 */
#include <string.h>

#include "health_t.h"
#include "source/health.h"

static const struct hcase text_cases[] = {
	{"zpool-status-p-healthy-two-pools-scrub-finished.txt", "pool0", "2023-11-20", VG_HEALTH_OK,
	 {"pool pool0 is ONLINE: 3 devices, no read, write or checksum errors",
	  "last scrub of pool0 completed 7 days ago (2023-11-12)"}, NULL, 0},
	{"zpool-status-p-healthy-two-pools-scrub-finished.txt", "pool1", "2023-11-20", VG_HEALTH_INFO,
	 {"pool pool1 is ONLINE", "the last scrub of pool1 (2023-11-12) repaired 1M"}, NULL, 0},
	/* last scrub 60 days ago: WARN; past twice the threshold: CRIT */
	{"zpool-status-p-healthy-two-pools-scrub-finished.txt", "pool0", "2024-01-11 12:00:00",
	 VG_HEALTH_WARN, {"last scrub of pool0 completed 60 days ago (2023-11-12), more than 35 days"},
	 "zpool scrub pool0", 0},
	{"zpool-status-p-healthy-two-pools-scrub-finished.txt", "pool0", "2024-02-01", VG_HEALTH_CRIT,
	 {"completed 80 days ago|more than 70 days"}, "zfs-scrub-monthly@pool0.timer", 0},
	/* DEGRADED raidz2 with an UNAVAIL disk: redundancy left, so WARN + replace */
	{"zpool-status-degraded-unavail-scrub-in-progress.txt", "rpool", "2023-07-17", VG_HEALTH_WARN,
	 {"pool rpool is DEGRADED: raidz2-0 lost 17844476680277185950 (UNAVAIL, was /dev/sdc1); 1 of "
	  "2 redundant devices left",
	  "scrub of rpool in progress since 2023-07-16, 20.80% done"},
	 "zpool replace rpool 17844476680277185950 /dev/disk/by-id/NEW", 0},
	/* single-disk pool with checksum errors: CRIT, go cold */
	{"zpool-status-single-disk-cksum.txt", "backup", "2023-11-20", VG_HEALTH_CRIT,
	 {"nvme-Samsung_SSD_980_500GB_S64DNL0T824602E-part1 in pool backup has 3 checksum errors "
	  "(ONLINE) and no redundancy to repair from",
	  "pool backup has 3 data errors", "found 3 errors it could not repair"},
	 "image the disk with GNU ddrescue", 0},
	{"zpool-status-single-disk-cksum.txt", "backup", "2023-11-20", VG_HEALTH_CRIT, {NULL},
	 "stop writing to it", 0},
	/* permanent errors listing files; scrub in progress */
	{"zpool-status-v-permanent-errors-scrub-in-progress.txt", "vmdata", "2025-09-30",
	 VG_HEALTH_CRIT,
	 {"pool vmdata has permanent errors in 14 files: vmdata/vm-100-disk-0:<0x1>, "
	  "vmdata/vm-100-disk-0@pre-playbooks-with-ansible:<0x1>",
	  "scrub of vmdata in progress since 2025-09-29, 0.00% done"},
	 "restore the files from a backup taken before the damage", 0},
	{"zpool-status-suspended-faulted-too-many-errors.txt", "vmdata", "2025-09-02", VG_HEALTH_CRIT,
	 {"pool vmdata is SUSPENDED: ZFS stopped all I/O after device failures (ZFS-8000-HC)",
	  "sdc in pool vmdata has 8 read errors, 126 write errors (FAULTED, too many errors)",
	  "pool vmdata has 67 data errors"},
	 "zpool clear vmdata", 0},
	{"zpool-status-resilver-in-progress-replacing.txt", "rpool", "2023-07-18", VG_HEALTH_WARN,
	 {"raidz2-0 lost replacing-2 (DEGRADED); 1 of 2 redundant devices left",
	  "resilver of rpool in progress since 2023-07-17, 0.01% done: redundancy is reduced"},
	 NULL, 0},
	{"zpool-status-x-cksum-errors-legacy.txt", "test", "2023-11-20", VG_HEALTH_WARN,
	 {"sda in pool test has 2 checksum errors (ONLINE): ZFS repaired them from redundancy",
	  "test has no completed scrub on record"},
	 "zpool clear test sda", 0},
	{"zpool-status-xv-permanent-errors-legacy.txt", "test", "2023-11-20", VG_HEALTH_CRIT,
	 {"sda in pool test has 2 checksum errors (ONLINE) and no redundancy",
	  "pool test has permanent errors in 1 files: /export/example/foo"},
	 NULL, 0},
	{"zpool-status-x-degraded-faulted-legacy.txt", "test", "2023-11-20", VG_HEALTH_CRIT,
	 {"pool test has no redundancy left: mirror lost sdb (FAULTED, cannot open)"},
	 "zpool replace test", 0},
	{"zpool-status-p-degraded-and-unavail-pool-solaris2011.txt", "rpool", "2011-11-20",
	 VG_HEALTH_CRIT,
	 {"mirror-0 lost c4d1s0 (UNAVAIL, cannot open), c3d1s0 (UNAVAIL, cannot open)"}, NULL, 0},
	{"zpool-status-p-degraded-and-unavail-pool-solaris2011.txt", "zpool", "2011-11-20",
	 VG_HEALTH_CRIT, {"pool zpool is UNAVAIL"}, NULL, 0},
	{"zpool-status-p-degraded-unavail-guid-logs-illumos2016.txt", "zones", "2016-07-20",
	 VG_HEALTH_CRIT,
	 {"mirror-0 lost 9669136929555758172 (UNAVAIL, was /dev/dsk/c0t5000C5006349E003d0s0)",
	  "last scrub of zones completed 5 days ago"},
	 NULL, 0},
	{"zpool-status-x-faulted-pool-unavail-log-legacy.txt", "test", "2023-11-20", VG_HEALTH_CRIT,
	 {"pool test is FAULTED", "log device"}, NULL, 0},
	/* excerpts without the final "errors:" line are reported as cut */
	{"zpool-status-online-none-requested.txt", "tank", "2023-11-20", VG_HEALTH_WARN,
	 {"cannot parse zpool status output: the output ends before the pool's 'errors:' line",
	  "tank has no completed scrub on record"},
	 NULL, 0},
	{"zpool-status-p-degraded-spare-faulted-zol2014.txt", "test", "2014-08-23", VG_HEALTH_CRIT,
	 {"mirror-0 lost spare-0 (DEGRADED)", "cannot parse"}, NULL, 0},
	{"zpool-status-draid-sequential-resilver-in-progress.txt", "tank", "2020-11-24",
	 VG_HEALTH_CRIT,
	 {"draid1:4d:11c:1s-0 lost spare-6 (DEGRADED)",
	  "resilver of tank in progress since 2020-11-24, 57.17% done"},
	 NULL, 0},
	{"zpool-status-draid-healing-resilver-replacing.txt", "tank", "2020-11-24", VG_HEALTH_CRIT,
	 {"hot spare draid1-0-0 of pool tank is in use", "99.44% done"}, NULL, 0},
	/* truncated real output: WARN cannot parse, never OK */
	{"zpool-status-p-healthy-two-pools-scrub-finished.txt", "pool0", "2023-11-20", VG_HEALTH_WARN,
	 {"cannot parse zpool status output"}, NULL, 400},
	{"zpool-status-p-healthy-two-pools-scrub-finished.txt", "pool0", "2023-11-20", VG_HEALTH_WARN,
	 {"cannot parse zpool status output: no 'state:' line"}, NULL, 20},
	{"zpool-status-degraded-unavail-scrub-in-progress.txt", "rpool", "2023-07-17", VG_HEALTH_WARN,
	 {"cannot parse zpool status output"}, NULL, 700},
};

static void run_cases(const struct hcase *cases, size_t n, bool json)
{
	for (size_t i = 0; i < n && !t_failed(); i++) {
		const struct hcase *c = &cases[i];
		size_t len;
		char *buf = fixture(c->fixture, &len);
		if (!buf)
			return;
		struct vg_health_opts o = {.now = utc(c->now)};
		struct vg_health_list l = {0};
		size_t cut = c->cut ? c->cut : len;
		int err = json ? vg_zpool_parse_json(buf, cut, c->subject, &o, &l)
			       : vg_zpool_parse_text(buf, cut, c->subject, &o, &l);
		if (err)
			t_fail(__FILE__, __LINE__, "%s: error %d", c->fixture, err);
		HCHECK(c, &l);
		vg_health_list_release(&l);
		free(buf);
	}
}

TEST(zpool_text_fixtures)
{
	run_cases(text_cases, sizeof text_cases / sizeof text_cases[0], false);
}

static const struct hcase json_cases[] = {
	/* the shipped shape (constructed from the degraded text sample) */
	{"zpool-status-j-degraded-raidz2.json", "rpool", "2023-07-17", VG_HEALTH_WARN,
	 {"pool rpool is DEGRADED: raidz2-0 lost 17844476680277185950 (UNAVAIL, was /dev/sdc1); 1 of "
	  "2 redundant devices left",
	  "scrub of rpool in progress since 2023-07-16, 20.81% done"},
	 "zpool replace rpool", 0},
	/* the man page's example: healthy, but no scan_stats at all */
	{"zpool-status-j-manpage-example.json", "tank", "2024-01-01", VG_HEALTH_WARN,
	 {"pool tank is ONLINE: 6 devices", "tank has no completed scrub on record"}, NULL, 0},
	{"zpool-status-j-degraded-raidz2.json", "rpool", "2023-07-17", VG_HEALTH_WARN,
	 {"cannot parse zpool status -j output: invalid JSON"}, NULL, 1000},
	{"zpool-status-j-degraded-raidz2.json", "tank", "2023-07-17", VG_HEALTH_WARN,
	 {"cannot parse zpool status -j output: the output does not list the pool"}, NULL, 0},
};

TEST(zpool_json_fixtures)
{
	run_cases(json_cases, sizeof json_cases / sizeof json_cases[0], true);
}

/* Text and JSON of the same pool reach the same verdict and counters. */
TEST(zpool_text_and_json_agree)
{
	size_t tl, jl;
	char *t = fixture("zpool-status-degraded-unavail-scrub-in-progress.txt", &tl);
	char *j = fixture("zpool-status-j-degraded-raidz2.json", &jl);
	T_CHECK(t && j);
	struct vg_health_opts o = {.now = utc("2023-07-17")};
	struct vg_health_list a = {0}, b = {0};
	T_OK(vg_zpool_parse_text(t, tl, "rpool", &o, &a));
	T_OK(vg_zpool_parse_json(j, jl, "rpool", &o, &b));
	T_EQ(vg_health_list_level(&a), vg_health_list_level(&b));
	T_EQ(a.nc, b.nc);
	T_EQ(a.nc, 3 * 7); /* 6 raidz2 disks and the log device; cache devices hold no data */
	vg_health_list_release(&a);
	vg_health_list_release(&b);
	free(t);
	free(j);
}

TEST(zpool_garbage_is_never_ok)
{
	char buf[4096];
	for (uint64_t seed = 1; seed <= 200; seed++) {
		size_t n = 1 + seed * 37 % sizeof buf;
		garbage(buf, n, seed, "  pool: x\n");
		for (int json = 0; json < 2; json++) {
			struct vg_health_list l = {0};
			T_OK(json ? vg_zpool_parse_json(buf, n, "x", NULL, &l)
				  : vg_zpool_parse_text(buf, n, "x", NULL, &l));
			T_CHECKF(vg_health_list_level(&l) >= VG_HEALTH_WARN, "seed %llu json %d gave %s",
				 (unsigned long long)seed, json,
				 vg_health_level_name(vg_health_list_level(&l)));
			T_CHECK(has(&l, VG_HEALTH_WARN, "cannot parse"));
			vg_health_list_release(&l);
		}
	}
}

/* Every truncation of a real output is either recognised as cut or still
 * parses to the same non-OK or complete answer: never a false OK. */
TEST(zpool_every_truncation_is_not_ok)
{
	size_t len;
	char *buf = fixture("zpool-status-p-healthy-two-pools-scrub-finished.txt", &len);
	T_CHECK(buf);
	struct vg_health_opts o = {.now = utc("2023-11-20")};
	/* pool1 is the last pool: any cut before its errors: line must warn */
	size_t need = (size_t)((const char *)memrchr(buf, ':', len) - buf);
	for (size_t cut = 0; cut < need; cut += 7) {
		struct vg_health_list l = {0};
		T_OK(vg_zpool_parse_text(buf, cut, "pool1", &o, &l));
		T_CHECKF(vg_health_list_level(&l) >= VG_HEALTH_WARN, "cut at %zu gave %s", cut,
			 vg_health_level_name(vg_health_list_level(&l)));
		vg_health_list_release(&l);
	}
	free(buf);
}

TEST(humanized_counters_are_read)
{
	const char *s = "  pool: t\n state: ONLINE\n  scan: none requested\nconfig:\n\n"
			"\tNAME        STATE     READ WRITE CKSUM\n"
			"\tt           ONLINE       0     0     0\n"
			"\t  mirror-0  ONLINE       0     0     0\n"
			"\t    sda     ONLINE       0     0 1.88K\n"
			"\t    sdb     ONLINE       0     0     0\n\nerrors: No known data errors\n";
	struct vg_health_list l = {0};
	T_OK(vg_zpool_parse_text(s, strlen(s), "t", NULL, &l));
	const struct vg_health_finding *f = has(&l, VG_HEALTH_WARN, "sda in pool t has 1925 checksum");
	if (!f)
		dump(&l);
	T_CHECK(f);
	vg_health_list_release(&l);
}
