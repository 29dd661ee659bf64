/*
 * test_health_smart.c - smartctl --json: ATA attributes and overall health,
 * NVMe health log, unreadable devices, garbage; and the memory between
 * runs: reallocated sectors rising between two runs, a cleared counter, a
 * damaged state file.
 */
#include <jansson.h>
#include <string.h>

#include "health_t.h"
#include "source/health.h"
#include "source/probe.h"

static const struct hcase cases[] = {
	{"smartctl-ata-healthy.json", "sdb", NULL, VG_HEALTH_OK,
	 {"sdb (WDC WD140EDFZ-11A0VA0, serial 9RK1XXXX): SMART health PASSED"}, NULL, 0},
	{"smartctl-ata-failing.json", "sdc", NULL, VG_HEALTH_CRIT,
	 {"SMART overall-health self-assessment FAILED|attribute 5 (reallocated sectors) is FAILING "
	  "NOW, raw 1975|8 pending (unreadable) sectors"},
	 "ddrescue", 0},
	{"smartctl-ata-megaraid-reallocated.json", "sda", NULL, VG_HEALTH_WARN,
	 {"sda (WD4000FYYX, serial XXXXXXXXXXXX): 387 reallocated sectors"}, "replace the disk", 0},
	{"smartctl-nvme.json", "nvme0n1", NULL, VG_HEALTH_OK,
	 {"nvme0n1 (INTEL SSDPEKNW010T8, serial BTNH93710FS91P0B): SMART health PASSED"}, NULL, 0},
	{"smartctl-nvme-media-errors.json", "nvme0n1", NULL, VG_HEALTH_WARN,
	 {"nvme0n1 (Samsung SSD 970 EVO 500GB, serial S466NX0M776250H): 7 media errors"}, NULL, 0},
	{"smartctl-ata-healthy.json", "sdb", NULL, VG_HEALTH_WARN,
	 {"cannot parse smartctl --json output"}, NULL, 5000},
};

TEST(smart_fixtures)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !t_failed(); i++) {
		const struct hcase *c = &cases[i];
		size_t len;
		char *buf = fixture(c->fixture, &len);
		T_CHECK(buf);
		struct vg_health_list l = {0};
		T_OK(vg_smart_parse_json(buf, c->cut ? c->cut : len, c->subject, NULL, &l));
		HCHECK(c, &l);
		vg_health_list_release(&l);
		free(buf);
	}
}

TEST(smart_unreadable_devices)
{
	const char *denied = "{\"smartctl\":{\"exit_status\":2,\"messages\":[{\"string\":\"Smartctl "
			     "open device: /dev/sda failed: Permission denied\",\"severity\":\"error\"}]}}";
	struct vg_health_list l = {0};
	T_OK(vg_smart_parse_json(denied, strlen(denied), "sda", NULL, &l));
	const struct vg_health_finding *f = has(&l, VG_HEALTH_WARN, "smartctl could not read sda (exit status 2: Smartctl open device: /dev/sda failed: Permission denied)");
	T_CHECK(f && strstr(f->action, "root"));
	vg_health_list_release(&l);
	const char *virt = "{\"smartctl\":{\"exit_status\":4},\"smart_support\":{\"available\":false}}";
	T_OK(vg_smart_parse_json(virt, strlen(virt), "vda", NULL, &l));
	T_EQ(vg_health_list_level(&l), VG_HEALTH_INFO);
	T_CHECK(has(&l, -1, "vda has no SMART support"));
	vg_health_list_release(&l);
}

TEST(smart_garbage_is_never_ok)
{
	char buf[1024];
	for (uint64_t seed = 1; seed <= 100; seed++) {
		size_t n = 1 + seed * 31 % sizeof buf;
		garbage(buf, n, seed, "{\"smart_status\":");
		struct vg_health_list l = {0};
		T_OK(vg_smart_parse_json(buf, n, "sda", NULL, &l));
		T_CHECK(vg_health_list_level(&l) >= VG_HEALTH_WARN);
		vg_health_list_release(&l);
	}
}

/* One run of the memory: parse a fixture as disk "sda", compare, save. */
static void run(const char *fx, const char *state, time_t now, struct vg_health_list *l,
		struct vg_health_list *notes)
{
	size_t len;
	char *buf = fixture(fx, &len);
	if (!buf)
		return;
	vg_smart_parse_json(buf, len, "sda", NULL, l);
	struct vg_hmem *m = vg_hmem_open(state, now, notes);
	vg_hmem_apply(m, l);
	vg_hmem_close(m, notes);
	free(buf);
}

TEST(smart_reallocated_rising_between_runs)
{
	const char *state = t_path("counters.json");
	struct vg_health_list a = {0}, b = {0}, c = {0}, notes = {0};
	run("smartctl-ata-megaraid-reallocated.json", state, utc("2024-03-01"), &a, &notes);
	T_CHECK(!has(&a, -1, "new reallocated"));
	run("smartctl-ata-megaraid-reallocated-later.json", state, utc("2024-03-08"), &b, &notes);
	const struct vg_health_finding *f = has(
		&b, VG_HEALTH_WARN,
		"390 reallocated sectors; 3 new reallocated sectors on sda since the last check (2024-03-01)");
	if (!f)
		dump(&b);
	T_CHECK(f);
	bool fig = false;
	for (size_t i = 0; i < f->nfigs; i++)
		fig |= !strcmp(f->figs[i].key, "new_reallocated_sectors") && f->figs[i].num == 3;
	T_CHECK(fig);
	/* the same counts again: nothing new */
	run("smartctl-ata-megaraid-reallocated-later.json", state, utc("2024-03-09"), &c, &notes);
	T_CHECK(!has(&c, -1, "new reallocated"));
	T_EQ(notes.n, 0);
	vg_health_list_release(&a);
	vg_health_list_release(&b);
	vg_health_list_release(&c);
}

TEST(cleared_counter_is_noted_not_alarmed)
{
	const char *state = t_path("counters.json");
	struct vg_health_list a = {0}, b = {0}, notes = {0};
	run("smartctl-ata-megaraid-reallocated.json", state, utc("2024-03-01"), &a, &notes);
	/* The same disk later with its counter lower (a cleared/rebuilt log) */
	size_t len;
	char *buf = fixture("smartctl-ata-megaraid-reallocated.json", &len);
	T_CHECK(buf);
	char *p = strstr(buf, "\"value\": 387");
	T_CHECK(p);
	memcpy(p, "\"value\":   1", 12);
	vg_smart_parse_json(buf, len, "sda", NULL, &b);
	struct vg_hmem *m = vg_hmem_open(state, utc("2024-03-02"), &notes);
	vg_hmem_apply(m, &b);
	vg_hmem_close(m, &notes);
	const struct vg_health_finding *f =
		has(&b, -1, "reallocated sectors on sda went down from 387 to 1 since the last check");
	T_CHECK(f && f->level == VG_HEALTH_INFO);
	vg_health_list_release(&a);
	vg_health_list_release(&b);
	free(buf);
}

TEST(damaged_state_file_is_reported_and_replaced)
{
	const char *state = t_path("counters.json");
	T_EQ(t_write_file(state, "{\"version\":1,\"coun", 18), 0);
	struct vg_health_list a = {0}, notes = {0};
	run("smartctl-ata-megaraid-reallocated.json", state, utc("2024-03-01"), &a, &notes);
	T_CHECK(has(&notes, VG_HEALTH_WARN, "is damaged|counters start afresh"));
	T_EQ(t_sh("test -f '%s.damaged'", state), 0);
	/* the file was rewritten whole and is valid again */
	json_error_t e;
	json_t *j = json_load_file(state, 0, &e);
	T_CHECK(j && json_is_object(json_object_get(j, "counters")));
	json_decref(j);
	vg_health_list_release(&a);
	vg_health_list_release(&notes);
	/* no temporary files are left behind */
	T_EQ(t_sh("ls '%s' | grep -c tmp >/dev/null", t_tmpdir()), 1);
}
