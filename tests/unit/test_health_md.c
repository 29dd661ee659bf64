/*
 * test_health_md.c - /proc/mdstat and md sysfs attributes: degraded arrays
 * ([U_]), failed members, resync/recovery/check in progress, inactive
 * arrays, mismatch_cnt, and garbled input.
 */
#include <string.h>

#include "health_t.h"
#include "source/health.h"
#include "source/probe.h"

static const struct hcase cases[] = {
	{"mdstat-raid1-degraded.txt", "md0", "2024-09-08", VG_HEALTH_CRIT,
	 {"md array md0 (raid1) is degraded: [2/1] [U_], 1 device missing; no redundancy left"},
	 "mdadm /dev/md0 --add NEWDEV", 0},
	{"mdstat-composite-node_exporter.txt", "md127", NULL, VG_HEALTH_OK,
	 {"md array md127 (raid1) is clean: [2/2] [UU]"}, NULL, 0},
	{"mdstat-composite-node_exporter.txt", "md6", NULL, VG_HEALTH_CRIT,
	 {"md array md6 (raid1) is degraded: [2/1] [U_], 1 device missing, failed: sdb2",
	  "md array md6: recovery in progress, 8.5% done"}, NULL, 0},
	{"mdstat-composite-node_exporter.txt", "md7", NULL, VG_HEALTH_WARN,
	 {"md array md7 (raid6) is degraded: [4/3] [U_UU], 1 device missing, failed: sdc1"}, NULL, 0},
	{"mdstat-composite-node_exporter.txt", "md4", NULL, VG_HEALTH_CRIT,
	 {"md array md4 is inactive"}, "do not --create over it", 0},
	{"mdstat-composite-node_exporter.txt", "md201", NULL, VG_HEALTH_INFO,
	 {"md array md201: check in progress, 5.7% done"}, NULL, 0},
	{"mdstat-composite-node_exporter.txt", "md9", NULL, VG_HEALTH_WARN,
	 {"has failed members (sde, sdf)", "resync DELAYED"}, NULL, 0},
	{"mdstat-composite-node_exporter.txt", "md10", NULL, VG_HEALTH_OK,
	 {"md array md10 (raid0) is active; it has no redundancy of its own"}, NULL, 0},
	{"mdstat-composite-node_exporter.txt", "md99", NULL, VG_HEALTH_WARN,
	 {"md array md99 is not in /proc/mdstat"}, NULL, 0},
	/* without its first line: said, and what could be read still counts */
	{"mdstat-raid1-degraded.txt", "md0", NULL, VG_HEALTH_CRIT,
	 {"cannot parse /proc/mdstat: no 'Personalities' line", "md0 (raid1) is degraded"}, NULL, 0},
};

TEST(mdstat_fixtures)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !t_failed(); i++) {
		const struct hcase *c = &cases[i];
		size_t len;
		char *buf = fixture(c->fixture, &len);
		T_CHECK(buf);
		const char *start = buf;
		if (i == sizeof cases / sizeof cases[0] - 1) { /* cut off the first line */
			start = (const char *)memchr(buf, 10, len) + 1;
			len -= (size_t)(start - buf);
		}
		struct vg_health_list l = {0};
		T_OK(vg_mdstat_parse(start, len, c->subject, NULL, &l));
		HCHECK(c, &l);
		vg_health_list_release(&l);
		free(buf);
	}
}

static void write_file(const char *rel, const char *text)
{
	t_sh("mkdir -p \"$(dirname '%s')\"", t_path("%s", rel));
	t_write_file(t_path("%s", rel), text, strlen(text));
}

TEST(md_sysfs_mismatch_and_broken)
{
	size_t len;
	char *md = fixture("mdstat-composite-node_exporter.txt", &len);
	T_CHECK(md);
	t_sh("mkdir -p '%s'", t_path("proc"));
	T_EQ(t_write_file(t_path("proc/mdstat"), md, len), 0);
	free(md);
	write_file("sys/block/md127/md/mismatch_cnt", "128\n");
	write_file("sys/block/md127/md/level", "raid1\n");
	write_file("sys/block/md3/md/mismatch_cnt", "0\n");
	write_file("sys/block/md3/md/array_state", "broken\n");
	struct vg_health_eff e;
	vg_health_eff(NULL, &e);
	struct vg_health_list l = {0};
	vg_md_check(t_tmpdir(), "md127", &e, &l);
	const struct vg_health_finding *f =
		has(&l, VG_HEALTH_WARN, "md array md127: the last check found 128 mismatched sectors");
	if (!f)
		dump(&l);
	T_CHECK(f && strstr(f->message, "raid1/raid10"));
	T_CHECK(!has(&l, -1, "cannot read"));
	T_EQ(l.nc, 1);
	T_EQ(l.c[0].value, 128);
	vg_health_list_release(&l);
	vg_md_check(t_tmpdir(), "md3", &e, &l);
	T_CHECK(has(&l, VG_HEALTH_CRIT, "md array md3 is broken"));
	vg_health_list_release(&l);
	/* sysfs alone knows: degraded count and a check running */
	write_file("sys/block/md127/md/degraded", "1\n");
	write_file("sys/block/md127/md/sync_action", "check\n");
	vg_md_check(t_tmpdir(), "md127", &e, &l);
	T_CHECK(has(&l, VG_HEALTH_WARN, "md array md127 has 1 degraded device (sysfs)"));
	T_CHECK(has(&l, VG_HEALTH_INFO, "md array md127: check in progress (sysfs)"));
	vg_health_list_release(&l);
	/* ... but not twice when /proc/mdstat already said it */
	write_file("sys/block/md6/md/degraded", "1\n");
	write_file("sys/block/md6/md/sync_action", "recover\n");
	vg_md_check(t_tmpdir(), "md6", &e, &l);
	T_CHECK(!has(&l, -1, "(sysfs)"));
	vg_health_list_release(&l);
	/* no /proc/mdstat at all: said, never OK */
	vg_md_check("/nonexistent-root", "md0", &e, &l);
	T_CHECK(has(&l, VG_HEALTH_WARN, "cannot read /nonexistent-root/proc/mdstat: md array md0 was NOT checked"));
	vg_health_list_release(&l);
}

TEST(mdstat_garbage_is_never_ok)
{
	char buf[1024];
	for (uint64_t seed = 1; seed <= 100; seed++) {
		size_t n = 1 + seed * 29 % sizeof buf;
		garbage(buf, n, seed, "md0 : active raid1 ");
		struct vg_health_list l = {0};
		T_OK(vg_mdstat_parse(buf, n, "md0", NULL, &l));
		T_CHECK(vg_health_list_level(&l) >= VG_HEALTH_WARN);
		vg_health_list_release(&l);
	}
}

/* Found by fuzz_mdstat: a progress word at the very end of the buffer was
 * read past its end.  The copy is exactly sized so ASan sees any overread. */
TEST(mdstat_progress_at_end_of_buffer)
{
	const char text[] = "Personalities : [raid1]\nmd9 : active raid1 sda1[0] sdb1[1]\n"
			    "      523968 blocks super 1.2 [2/2] [UU]\n      resync=DELAYED";
	size_t n = sizeof text - 1;
	char *exact = malloc(n);
	T_CHECK(exact);
	memcpy(exact, text, n);
	struct vg_health_list l = {0};
	T_OK(vg_mdstat_parse(exact, n, "md9", NULL, &l));
	T_CHECK(has(&l, VG_HEALTH_INFO, "md array md9: resync DELAYED"));
	vg_health_list_release(&l);
	free(exact);
}
