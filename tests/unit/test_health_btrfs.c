/*
 * test_health_btrfs.c - one btrfs filesystem from the four tool outputs
 * (device stats, filesystem show, scrub status, filesystem usage -T), each
 * row a combination of real recorded outputs with the expected level,
 * finding text and action; truncated or garbled output warns.
 */
#include <string.h>

#include "health_t.h"
#include "source/health.h"

struct bcase {
	const char *stats, *show, *scrub, *usage; /* fixture names or NULL */
	const char *now;
	enum vg_health_level want;
	const char *msg[4];
	const char *action;
	size_t cut_usage; /* > 0: usage output cut after this many bytes */
};

static const struct bcase cases[] = {
	/* healthy: clean counters, all devices, recent clean scrub, raid1 profiles */
	{"btrfs-device-stats-clean.txt", "btrfs-filesystem-show-single.txt",
	 "btrfs-scrub-status-finished-clean.txt", "btrfs-filesystem-usage-T-raid1-raid1c4.txt",
	 "2020-06-20", VG_HEALTH_OK,
	 {"btrfs at /mnt: 1 device present, no I/O or corruption errors, Data chunks RAID1",
	  "last scrub of /mnt completed 15 days ago (2020-06-04)"}, NULL, 0},
	/* corruption_errs > 0 and nothing to repair from (profile unknown): CRIT */
	{"btrfs-device-stats-corruption-errs.txt", NULL, NULL, NULL, "2019-09-25", VG_HEALTH_CRIT,
	 {"/dev/mapper/vg1-volume_1 in btrfs at /mnt has 1014 corruption errors and the data profile "
	  "is unknown"}, "ddrescue", 0},
	/* ... with Data single on two devices: still CRIT, says why */
	{"btrfs-device-stats-corruption-errs.txt", NULL, NULL,
	 "btrfs-filesystem-usage-T-single-data-two-devices.txt", "2019-09-25", VG_HEALTH_CRIT,
	 {"has 1014 corruption errors and its data profile keeps one copy",
	  "keeps Data as single on 2 devices: corruption is detected but cannot be repaired"},
	 "stop writing to it", 0},
	/* ... with RAID1 data: btrfs repaired it, WARN */
	{"btrfs-device-stats-corruption-errs.txt", NULL, NULL,
	 "btrfs-filesystem-usage-T-raid1-raid1c4.txt", "2019-09-25", VG_HEALTH_WARN,
	 {"has 1014 corruption errors: btrfs repaired them from the other copy"},
	 "btrfs scrub start /mnt", 0},
	{"btrfs-device-stats-errors-multidevice.txt", NULL, NULL,
	 "btrfs-filesystem-usage-T-raid1-raid1c4.txt", "2019-09-25", VG_HEALTH_WARN,
	 {"/dev/sda in btrfs at /mnt has 223539 write errors, 79 flush errors"}, NULL, 0},
	/* raid1 with single chunks left behind */
	{"btrfs-device-stats-clean.txt", NULL, NULL, "btrfs-filesystem-usage-T-raid1-single-chunks.txt",
	 "2023-06-04", VG_HEALTH_WARN,
	 {"btrfs at /mnt has Data chunks in profile single next to RAID1: what they hold has no copy "
	  "on another device"},
	 "btrfs balance start -dconvert=raid1,soft /mnt", 0},
	/* a device missing from a raid1: no redundancy left */
	{NULL, "btrfs-filesystem-show-missing.txt", NULL, "btrfs-filesystem-usage-T-raid1-raid1c4.txt",
	 "2024-08-21", VG_HEALTH_CRIT,
	 {"btrfs at /mnt is missing 1 of its 7 devices: no redundancy left"},
	 "btrfs replace start DEVID /dev/NEW /mnt", 0},
	{NULL, NULL, "btrfs-scrub-status-finished-uncorrectable.txt", NULL, "2023-04-03",
	 VG_HEALTH_CRIT,
	 {"the last scrub of btrfs at /mnt (2023-04-01) found 239 uncorrectable errors (csum=239)",
	  "last scrub of /mnt completed 1 days ago"},
	 "dmesg names the damaged files", 0},
	{NULL, NULL, "btrfs-scrub-status-aborted-uncorrectable.txt", NULL, "2021-02-04",
	 VG_HEALTH_CRIT,
	 {"found 77 uncorrectable errors (verify=79 csum=5)",
	  "the last scrub of btrfs at /mnt (started 2021-02-02) did not finish"}, NULL, 0},
	{NULL, NULL, "btrfs-scrub-status-running-no-errors.txt", NULL, "2023-04-10", VG_HEALTH_INFO,
	 {"scrub of btrfs at /mnt in progress since 2023-04-10"}, NULL, 0},
	/* a scrub 60 days old */
	{NULL, NULL, "btrfs-scrub-status-finished-clean.txt", NULL, "2020-08-03 12:00:00",
	 VG_HEALTH_WARN, {"last scrub of /mnt completed 60 days ago"}, "btrfs scrub start /mnt", 0},
	/* as non-root: profiles not checked (a note), nothing else known */
	{NULL, NULL, NULL, "btrfs-filesystem-usage-overall-nonroot.txt", "2023-01-01", VG_HEALTH_INFO,
	 {"chunk profiles of btrfs at /mnt were not checked (needs root)"}, NULL, 0},
	/* truncated usage output: cannot parse, WARN */
	{NULL, NULL, NULL, "btrfs-filesystem-usage-T-raid1-raid1c4.txt", "2023-01-01", VG_HEALTH_WARN,
	 {"cannot parse btrfs filesystem usage -T output: no profile table"}, NULL, 300},
	/* the scrub error fragment alone has no Status: cannot parse */
	{NULL, NULL, "btrfs-scrub-status-errors-fragment.txt", NULL, "2023-01-01", VG_HEALTH_CRIT,
	 {"cannot parse btrfs scrub status output", "72 uncorrectable errors"}, NULL, 0},
};

static char *load(const char *name, size_t *len)
{
	*len = 0;
	return name ? fixture(name, len) : NULL;
}

TEST(btrfs_fixture_combinations)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !t_failed(); i++) {
		const struct bcase *c = &cases[i];
		struct vg_btrfs_outputs in = {0};
		char *a = load(c->stats, &in.stats_len), *b = load(c->show, &in.show_len);
		char *s = load(c->scrub, &in.scrub_len), *u = load(c->usage, &in.usage_len);
		in.stats = a, in.show = b, in.scrub = s, in.usage = u;
		if (c->cut_usage)
			in.usage_len = c->cut_usage;
		struct vg_health_opts o = {.now = utc(c->now)};
		struct vg_health_list l = {0};
		T_OK(vg_btrfs_parse(&in, "/mnt", &o, &l));
		struct hcase h = {c->stats ? c->stats : c->scrub ? c->scrub : c->usage ? c->usage : c->show,
				  NULL, c->now, c->want, {c->msg[0], c->msg[1], c->msg[2], c->msg[3]},
				  c->action, 0};
		HCHECK(&h, &l);
		vg_health_list_release(&l);
		free(a), free(b), free(s), free(u);
	}
}

TEST(btrfs_counters_are_remembered_per_device)
{
	size_t n;
	char *a = fixture("btrfs-device-stats-errors-multidevice.txt", &n);
	T_CHECK(a);
	struct vg_btrfs_outputs in = {.stats = a, .stats_len = n};
	struct vg_health_list l = {0};
	T_OK(vg_btrfs_parse(&in, "/mnt", NULL, &l));
	T_EQ(l.nc, 6 * 5);
	bool seen = false;
	for (size_t i = 0; i < l.nc; i++)
		seen |= !strcmp(l.c[i].key, "btrfs:/dev/sda") && !strcmp(l.c[i].name, "write errors") &&
			l.c[i].value == 223539;
	T_CHECK(seen);
	vg_health_list_release(&l);
	free(a);
}

TEST(btrfs_garbage_is_never_ok)
{
	char buf[2048];
	for (uint64_t seed = 1; seed <= 100; seed++) {
		size_t n = 1 + seed * 53 % sizeof buf;
		garbage(buf, n, seed, "[/dev/sda].write_io_errs 0\n");
		struct vg_btrfs_outputs in = {buf, buf, buf, buf, n, n, n, n};
		struct vg_health_list l = {0};
		T_OK(vg_btrfs_parse(&in, "/mnt", NULL, &l));
		T_CHECKF(vg_health_list_level(&l) >= VG_HEALTH_WARN && has(&l, -1, "cannot parse"),
			 "seed %llu gave %s", (unsigned long long)seed,
			 vg_health_level_name(vg_health_list_level(&l)));
		vg_health_list_release(&l);
	}
}
