/*
 * test_health_check.c - vg_health_check() end to end on a recorded system:
 * a sysroot tree (mountinfo, /proc/mdstat, sysfs, /dev/disk links) and fake
 * zpool/btrfs/smartctl first on PATH that log their calls and print real
 * recorded outputs.  Checks that each path gets the probes of its storage
 * and only those, that a pool shared by two paths is asked once, that the
 * calls run concurrently, that timeouts, missing tools and uninspectable
 * storage are reported, and that counters are remembered between runs.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "health_t.h"
#include "source/health.h"

static const char mountinfo[] =
	"22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw,lowerdir=/x\n"
	"30 22 9:0 / /srv rw,relatime shared:2 - ext4 /dev/md0 rw\n"
	"31 22 0:50 / /home rw,relatime shared:3 - btrfs /dev/sdd rw,space_cache=v2\n"
	"32 22 0:44 / /tank rw,noatime shared:4 - zfs tank rw,xattr,noacl\n"
	"33 32 0:45 / /tank/sub rw,noatime shared:5 - zfs tank/sub rw,xattr,noacl\n"
	"34 22 8:33 / /data rw,relatime shared:6 - xfs /dev/sdc1 rw\n"
	"35 22 0:60 / /scratch rw,relatime shared:7 - tmpfs tmpfs rw\n"
	"36 22 253:0 / /lvm rw,relatime shared:8 - ext4 /dev/mapper/vg-root rw\n"
	"37 22 0:61 / /my\\040files rw,relatime shared:9 - xfs /dev/sdc1 rw\n"
	"38 22 254:0 / /vm rw,relatime shared:10 - ext4 /dev/vda rw\n";

static const char mdstat[] = "Personalities : [raid1]\n"
			     "md0 : active raid1 sdb1[1] sda1[0]\n"
			     "      8381440 blocks super 1.2 [2/2] [UU]\n\n"
			     "unused devices: <none>\n";

static void put(const char *rel, const char *text)
{
	t_sh("mkdir -p \"$(dirname '%s')\"", t_path("%s", rel));
	t_write_file(t_path("%s", rel), text, strlen(text));
}

static void dir(const char *rel) { t_sh("mkdir -p '%s'", t_path("%s", rel)); }

static void link_(const char *target, const char *rel)
{
	t_sh("mkdir -p \"$(dirname '%s')\" && ln -s '%s' '%s'", t_path("%s", rel), target,
	     t_path("%s", rel));
}

static void tool(const char *name, const char *body)
{
	char text[4096];
	snprintf(text, sizeof text, "#!/bin/sh\necho \"%s $*\" >> \"$TOOL_LOG\"\n%s\n", name, body);
	put(name, text);
	chmod(t_path("%s", name), 0755);
}

/* The recorded machine and its tools. */
static void machine(void)
{
	put("root/proc/self/mountinfo", mountinfo);
	put("root/proc/mdstat", mdstat);
	put("root/sys/block/md0/md/mismatch_cnt", "0\n");
	put("root/sys/block/md0/md/level", "raid1\n");
	const char *blocks[] = {"md0/md", "md0/slaves/sda1", "md0/slaves/sdb1", "sda", "sdb", "sdc",
				"sdd", "sde", "sdf", "vda", "dm-0/slaves/sde2", "sda1", "sdb1", "sdc1", "sde2"};
	for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
		dir(t_path("root/sys/class/block/%s", blocks[i]) + strlen(t_tmpdir()) + 1);
	put("root/sys/class/block/sda1/partition", "1\n");
	put("root/sys/class/block/sdb1/partition", "1\n");
	put("root/sys/class/block/sdc1/partition", "1\n");
	put("root/sys/class/block/sde2/partition", "2\n");
	put("root/sys/class/block/dm-0/dm/name", "vg-root\n");
	link_("../../devices/virtual/block/md0", "root/sys/dev/block/9:0");
	link_("../../devices/pci0000:00/0000:00:17.0/ata3/host2/target2:0:0/2:0:0:0/block/sdc/sdc1",
	      "root/sys/dev/block/8:33");
	link_("../../devices/virtual/block/dm-0", "root/sys/dev/block/253:0");
	link_("../../devices/pci0000:00/0000:00:04.0/virtio2/block/vda", "root/sys/dev/block/254:0");
	dir("root/sys/fs/btrfs/76fac721-2294-4f89-a1af-620cde7a1980/devices/sdd");
	dir("root/sys/fs/btrfs/76fac721-2294-4f89-a1af-620cde7a1980/devices/sdf");
	/* the pool's leaf devices, as udev names them */
	link_("../../sda", "root/dev/disk/by-id/ata-TOSHIBA_MG09ACA18TE_82X0A0QMFJDH");
	link_("../../sdb", "root/dev/disk/by-id/ata-TOSHIBA_MG09ACA18TE_82J0A00FFJDH");
	link_("../../sdf", "root/dev/disk/by-id/ata-TOSHIBA_MG09ACA18TE_82X0A0QPFJDH");

	char fx[1024];
	snprintf(fx, sizeof fx, "%s", fixture_path(""));
	char body[8192];
	snprintf(body, sizeof body,
		 "case \"$*\" in *-j*) echo \"invalid option 'j'\" >&2; exit 2;; esac\n"
		 "sed s/pool0/tank/g '%szpool-status-p-healthy-two-pools-scrub-finished.txt'", fx);
	tool("bin/zpool", body);
	snprintf(body, sizeof body,
		 "case \"$1 $2\" in\n"
		 "'device stats') exec cat '%sbtrfs-device-stats-clean.txt';;\n"
		 "'filesystem show') exec cat '%sbtrfs-filesystem-show-single.txt';;\n"
		 "'scrub status') exec cat '%sbtrfs-scrub-status-finished-clean.txt';;\n"
		 "'filesystem usage') exec cat '%sbtrfs-filesystem-usage-T-raid1-raid1c4.txt';;\n"
		 "esac\nexit 1",
		 fx, fx, fx, fx);
	tool("bin/btrfs", body);
	snprintf(body, sizeof body,
		 "for a; do dev=$a; done; dev=${dev##*/}\n"
		 "[ -n \"$SMART_SLEEP\" ] && sleep \"$SMART_SLEEP\"\n"
		 "[ \"$SMART_HANG\" = \"$dev\" ] && exec sleep 30\n"
		 "eval f=\\${SMART_$dev:-%ssmartctl-ata-healthy.json}\n"
		 "exec cat \"$f\"",
		 fx);
	tool("bin/smartctl", body);
	char path[4096];
	snprintf(path, sizeof path, "%s:%s", t_path("bin"), getenv("PATH"));
	setenv("PATH", path, 1);
	setenv("TOOL_LOG", t_path("calls.log"), 1);
}

static int calls(const char *pattern)
{
	return t_sh("exit $(grep -c -- '%s' '%s' 2>/dev/null)", pattern, t_path("calls.log"));
}

static int check(const char *const *paths, struct vg_health_opts *o, struct vg_health_report *r)
{
	o->sysroot = t_path("root");
	if (!o->state_file)
		o->state_file = "";
	if (!o->now)
		o->now = utc("2023-11-20");
	unlink(t_path("calls.log"));
	return vg_health_check(paths, o, r);
}

TEST(md_backed_path_checks_md_and_its_disks_only)
{
	machine();
	const char *paths[] = {"/srv/www", NULL};
	struct vg_health_opts o = {0};
	struct vg_health_report r;
	T_OK(check(paths, &o, &r));
	struct vg_health_list *l = &r.sources[0].findings;
	if (r.verdict != VG_HEALTH_OK)
		dump(l);
	T_EQ(r.verdict, VG_HEALTH_OK);
	T_CHECK(!strcmp(r.sources[0].storage, "ext4 on /dev/md0"));
	T_CHECK(has(l, -1, "md array md0 (raid1) is clean: [2/2] [UU]"));
	T_CHECK(has(l, -1, "sda (WDC WD140EDFZ-11A0VA0, serial 9RK1XXXX): SMART health PASSED"));
	T_CHECK(has(l, -1, "sdb (WDC"));
	T_EQ(calls("smartctl"), 2);
	T_EQ(calls("/dev/sda"), 1);
	T_EQ(calls("/dev/sdb"), 1);
	T_EQ(calls("zpool"), 0);
	T_EQ(calls("btrfs"), 0);
	vg_health_report_release(&r);
}

TEST(each_path_gets_the_probes_of_its_storage)
{
	machine();
	const char *paths[] = {"/data/x", "/lvm", "/home/u", "/tank", "/tank/sub/deeper", "/my files",
			       NULL};
	struct vg_health_opts o = {0};
	struct vg_health_report r;
	T_OK(check(paths, &o, &r));
	T_EQ(r.nsources, 6);
	/* xfs on a partition: its disk */
	T_CHECK(has(&r.sources[0].findings, -1, "sdc (WDC"));
	T_EQ(r.sources[0].findings.n, 1);
	/* LVM: device-mapper -> its physical volume's disk */
	T_CHECK(has(&r.sources[1].findings, -1, "sde (WDC"));
	/* btrfs: the four calls on the mount point, and both member disks */
	struct vg_health_list *b = &r.sources[2].findings;
	T_CHECK(has(b, -1, "btrfs at /home: 1 device present"));
	T_CHECK(has(b, -1, "sdd (WDC") && has(b, -1, "sdf (WDC"));
	T_EQ(calls("btrfs device stats /home"), 1);
	T_EQ(calls("btrfs filesystem usage -T /home"), 1);
	/* one pool under two paths is asked once (-j, then text) */
	T_CHECK(has(&r.sources[3].findings, -1, "pool tank is ONLINE"));
	T_CHECK(has(&r.sources[4].findings, -1, "pool tank is ONLINE"));
	T_EQ(calls("zpool status -j -p -v tank"), 1);
	T_EQ(calls("zpool status -p -v tank"), 1);
	/* the pool's leaves found their disks through /dev/disk/by-id */
	T_CHECK(has(&r.sources[3].findings, -1, "sda (WDC") && has(&r.sources[3].findings, -1, "sdf (WDC"));
	/* every disk asked once although several paths use it */
	T_EQ(calls("smartctl"), 6); /* sdc sde sdd sdf sda sdb, once each */
	T_CHECK(!strcmp(r.sources[5].mountpoint, "/my files"));
	vg_health_report_release(&r);
}

TEST(uninspectable_storage_warns_unless_allowed)
{
	machine();
	const char *paths[] = {"/scratch/a", "/", "/vm", NULL};
	struct vg_health_opts o = {0};
	struct vg_health_report r;
	T_OK(check(paths, &o, &r));
	T_EQ(r.verdict, VG_HEALTH_WARN);
	T_CHECK(has(&r.sources[2].findings, VG_HEALTH_WARN,
		    "(vda is a virtual disk: its health is the host's to check)"));
	T_EQ(calls("smartctl"), 0);
	T_CHECK(has(&r.sources[0].findings, VG_HEALTH_WARN,
		    "/scratch/a is on storage vigil cannot inspect (tmpfs from tmpfs)"));
	T_CHECK(has(&r.sources[1].findings, VG_HEALTH_WARN, "(overlay from overlay)"));
	vg_health_report_release(&r);
	o.allow_uninspectable = true;
	T_OK(check(paths, &o, &r));
	T_EQ(r.verdict, VG_HEALTH_INFO);
	vg_health_report_release(&r);
	/* per path, from the config: only that one */
	struct vg_health_hint hints[3] = {{.allow_uninspectable = true}, {0}, {0}};
	struct vg_health_opts o2 = {.hints = hints};
	T_OK(check(paths, &o2, &r));
	T_EQ(r.sources[0].verdict, VG_HEALTH_INFO);
	T_EQ(r.sources[1].verdict, VG_HEALTH_WARN);
	vg_health_report_release(&r);
}

TEST(hints_name_storage_detection_cannot_see)
{
	machine();
	const char *paths[] = {"/scratch", NULL};
	const char *disks[] = {"/dev/sdc", NULL};
	struct vg_health_hint h = {.zfs_pool = "tank", .md_device = "/dev/md0", .disks = disks};
	struct vg_health_opts o = {.hints = &h};
	struct vg_health_report r;
	T_OK(check(paths, &o, &r));
	struct vg_health_list *l = &r.sources[0].findings;
	T_CHECK(has(l, -1, "pool tank is ONLINE"));
	T_CHECK(has(l, -1, "md array md0 (raid1) is clean"));
	T_CHECK(has(l, -1, "sdc (WDC") && has(l, -1, "sda (WDC") && has(l, -1, "sdb (WDC"));
	T_CHECK(!has(l, -1, "cannot inspect"));
	vg_health_report_release(&r);
}

TEST(tool_calls_run_concurrently)
{
	machine();
	/* six disks, each smartctl taking 400 ms: one after the other would be 2.4 s */
	setenv("SMART_SLEEP", "0.4", 1);
	const char *paths[] = {"/srv", "/data", "/lvm", "/home", NULL};
	struct vg_health_opts o = {.now = utc("2020-06-20")}; /* the btrfs scrub is recent */
	struct vg_health_report r;
	T_OK(check(paths, &o, &r));
	T_EQ(calls("smartctl"), 6);
	T_CHECKF(r.elapsed_ms < 1500, "took %ld ms", r.elapsed_ms);
	for (size_t i = 0; i < r.nsources; i++)
		if (r.sources[i].verdict != VG_HEALTH_OK)
			dump(&r.sources[i].findings);
	T_EQ(r.verdict, VG_HEALTH_OK);
	vg_health_report_release(&r);
}

TEST(a_hanging_tool_is_killed_and_reported)
{
	machine();
	setenv("SMART_HANG", "sdb", 1);
	const char *paths[] = {"/srv", NULL};
	struct vg_health_opts o = {.timeout_ms = 300};
	struct vg_health_report r;
	T_OK(check(paths, &o, &r));
	struct vg_health_list *l = &r.sources[0].findings;
	T_EQ(r.verdict, VG_HEALTH_WARN);
	T_CHECK(has(l, VG_HEALTH_WARN,
		    "'smartctl --json=c -i -H -A /dev/sdb' did not answer within 300 ms and was killed: "
		    "sdb was NOT checked"));
	T_CHECK(has(l, VG_HEALTH_OK, "sda (WDC"));
	T_CHECKF(r.elapsed_ms < 3000, "took %ld ms", r.elapsed_ms);
	vg_health_report_release(&r);
}

TEST(a_missing_tool_says_what_to_install)
{
	machine();
	char *saved = strdup(getenv("PATH"));
	setenv("PATH", "/nonexistent", 1);
	const char *paths[] = {"/tank", "/home", NULL};
	struct vg_health_opts o = {.no_smart = true};
	struct vg_health_report r;
	int err = check(paths, &o, &r);
	setenv("PATH", saved, 1); /* the harness needs rm */
	free(saved);
	T_OK(err);
	T_EQ(r.verdict, VG_HEALTH_WARN);
	const struct vg_health_finding *f =
		has(&r.sources[0].findings, VG_HEALTH_WARN, "zpool is not installed (not found on PATH): tank was NOT checked");
	T_CHECK(f && strstr(f->action, "apt install zfsutils-linux"));
	f = has(&r.sources[1].findings, VG_HEALTH_WARN, "btrfs is not installed");
	T_CHECK(f && strstr(f->action, "btrfs-progs"));
	T_EQ(r.sources[1].findings.n, 1); /* one finding for the four calls */
	vg_health_report_release(&r);
}

TEST(counters_rise_between_runs_through_the_gate)
{
	machine();
	const char *state = t_path("state/counters.json");
	t_sh("mkdir -p '%s'", t_path("state"));
	const char *paths[] = {"/data", NULL};
	setenv("SMART_sdc", fixture_path("smartctl-ata-megaraid-reallocated.json"), 1);
	struct vg_health_opts o = {.state_file = state, .now = utc("2024-03-01")};
	struct vg_health_report r;
	T_OK(check(paths, &o, &r));
	T_EQ(r.verdict, VG_HEALTH_WARN);
	vg_health_report_release(&r);
	setenv("SMART_sdc", fixture_path("smartctl-ata-megaraid-reallocated-later.json"), 1);
	o.now = utc("2024-03-05");
	T_OK(check(paths, &o, &r));
	const struct vg_health_finding *f = has(&r.sources[0].findings, VG_HEALTH_WARN,
						"3 new reallocated sectors on sdc since the last check (2024-03-01)");
	if (!f)
		dump(&r.sources[0].findings);
	T_CHECK(f);
	char sum[2048];
	T_EQ(vg_health_summary(&r, sum, sizeof sum), VG_HEALTH_WARN);
	T_CHECKF(strstr(sum, "WARN: /data on xfs on /dev/sdc1: sdc (WD4000FYYX, serial XXXXXXXXXXXX): "
			     "390 reallocated sectors; 3 new reallocated sectors on sdc"),
		 "summary: %s", sum);
	T_CHECK(strstr(sum, "Action: copy the data off while the disk still reads"));
	vg_health_report_release(&r);
}

TEST(report_json_and_summary_name_pool_device_counters)
{
	machine();
	char body[8192];
	snprintf(body, sizeof body, "case \"$*\" in *-j*) exit 2;; esac\nexec cat '%s'",
		 fixture_path("zpool-status-suspended-faulted-too-many-errors.txt"));
	tool("bin/zpool", body);
	t_sh("sed -i 's/vmdata/tank/g' '%s'", t_path("bin/zpool")); /* no-op for the fixture path */
	const char *paths[] = {"/tank", NULL};
	struct vg_health_hint h = {.zfs_pool = "vmdata"};
	struct vg_health_opts o = {.hints = &h, .now = utc("2025-09-02"), .no_smart = true};
	struct vg_health_report r;
	T_OK(check(paths, &o, &r));
	char sum[4096];
	T_EQ(vg_health_summary(&r, sum, sizeof sum), VG_HEALTH_CRIT);
	T_CHECKF(strstr(sum, "sdc in pool vmdata has 8 read errors, 126 write errors"), "%s", sum);
	T_CHECK(strstr(sum, "pool vmdata is SUSPENDED"));
	char *js = vg_health_report_json(&r);
	T_CHECK(js);
	json_error_t e;
	json_t *j = json_loads(js, 0, &e);
	T_CHECK(j);
	T_CHECK(!strcmp(json_string_value(json_object_get(j, "verdict")), "CRIT"));
	json_t *fs = json_object_get(json_array_get(json_object_get(j, "sources"), 0), "findings");
	bool found = false;
	size_t i;
	json_t *f;
	json_array_foreach(fs, i, f)
	{
		json_t *figs = json_object_get(f, "figures");
		if (!strcmp(json_string_value(json_object_get(f, "subject")), "vmdata/sdc"))
			found = json_integer_value(json_object_get(figs, "write_errors")) == 126 &&
				!strcmp(json_string_value(json_object_get(f, "level")), "CRIT") &&
				json_is_string(json_object_get(f, "action"));
	}
	T_CHECK(found);
	json_decref(j);
	free(js);
	vg_health_report_release(&r);
}
