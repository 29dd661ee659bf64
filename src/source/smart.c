/*
 * smart.c - `smartctl --json -i -H -A /dev/X` -> findings (smartctl(8)).
 *
 * Keys on attribute ids, not names (drive databases rename them):
 *   5 reallocated sectors, 187 reported uncorrectable, 197 pending sectors,
 *   198 offline uncorrectable: WARN when non-zero (the disk is losing
 *   sectors; 197/198 are sectors it cannot read now);
 *   188 command timeouts, 199 UDMA CRC errors: INFO when non-zero (raw
 *   values are vendor-packed or historical; cables), WARN when they rise.
 * NVMe: critical_warning bits (spare, temperature, volatile backup: WARN;
 * reliability degraded, read-only, PMR read-only: CRIT), media_errors
 * (WARN), percentage_used >= 100 (WARN).  smart_status.passed == false
 * (the drive predicts its own failure) is CRIT with "go cold" guidance.
 * Rising counters are found by the memory between runs (memory.c): every
 * counter is recorded under the disk's serial number, so a renamed device
 * (sdb today, sdc tomorrow) keeps its history.
 * smartctl's exit status is a bit mask: bits 0-1 mean it could not read the
 * device at all; the JSON's own copy (smartctl.exit_status) is used.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "source/probe.h"

#define P VG_PROBE_SMART
#define SMART_JSON_MAX (8u << 20)

struct attr {
	int id;
	const char *name;
	enum vg_health_level when_nonzero;
};

static const struct attr attrs[] = {
	{5, "reallocated sectors", VG_HEALTH_WARN},
	{187, "reported uncorrectable errors", VG_HEALTH_WARN},
	{188, "command timeouts", VG_HEALTH_INFO},
	{197, "pending (unreadable) sectors", VG_HEALTH_WARN},
	{198, "offline uncorrectable sectors", VG_HEALTH_WARN},
	{199, "UDMA CRC errors", VG_HEALTH_INFO},
};

struct acc { /* one finding per disk, built up */
	enum vg_health_level level;
	char text[900];
	size_t at;
	const char *action;
};

static void acc_add(struct acc *a, enum vg_health_level l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void acc_add(struct acc *a, enum vg_health_level l, const char *fmt, ...)
{
	if (l > a->level)
		a->level = l;
	if (a->at >= sizeof a->text - 1)
		return;
	if (a->at)
		a->at += (size_t)snprintf(a->text + a->at, sizeof a->text - a->at, "; ");
	va_list ap;
	va_start(ap, fmt);
	int n = a->at < sizeof a->text ? vsnprintf(a->text + a->at, sizeof a->text - a->at, fmt, ap)
				       : 0;
	va_end(ap);
	a->at += n > 0 ? (size_t)n : 0;
	if (a->at > sizeof a->text - 1)
		a->at = sizeof a->text - 1;
}

static const char *jstr(json_t *o, const char *k, const char *dflt)
{
	json_t *j = json_object_get(o, k);
	return json_is_string(j) ? json_string_value(j) : dflt;
}

static bool jint(json_t *o, const char *k, long long *v)
{
	json_t *j = json_object_get(o, k);
	if (!json_is_integer(j))
		return false;
	*v = json_integer_value(j);
	return true;
}

static const char replace_disk[] =
	"copy the data off while the disk still reads (a backup now), then replace the disk; "
	"on redundant storage (ZFS, btrfs raid, md) replace it through the pool or array";

static void ata(json_t *root, const char *dev, const char *key, struct vg_health_list *out,
		struct acc *a)
{
	json_t *table = json_object_get(json_object_get(root, "ata_smart_attributes"), "table");
	size_t i;
	json_t *row;
	json_array_foreach(table, i, row)
	{
		long long id, raw;
		if (!jint(row, "id", &id) || !jint(json_object_get(row, "raw"), "value", &raw) || raw < 0)
			continue;
		for (size_t k = 0; k < sizeof attrs / sizeof attrs[0]; k++) {
			if (attrs[k].id != id)
				continue;
			vg_hl_counter(out, P, key, dev, attrs[k].name, (uint64_t)raw, VG_HEALTH_WARN);
			const char *wf = jstr(row, "when_failed", "");
			if (!strcmp(wf, "now"))
				acc_add(a, VG_HEALTH_CRIT, "attribute %lld (%s) is FAILING NOW, raw %lld",
					id, attrs[k].name, raw);
			else if (raw > 0)
				acc_add(a, attrs[k].when_nonzero, "%lld %s", raw, attrs[k].name);
			if (raw > 0 && attrs[k].when_nonzero == VG_HEALTH_WARN)
				a->action = replace_disk;
		}
	}
}

static void nvme(json_t *root, const char *dev, const char *key, struct vg_health_list *out,
		 struct acc *a)
{
	json_t *log = json_object_get(root, "nvme_smart_health_information_log");
	if (!json_is_object(log))
		return;
	long long cw = 0, media = 0, used = 0, spare = -1, spare_thr = -1;
	jint(log, "critical_warning", &cw);
	jint(log, "available_spare", &spare);
	jint(log, "available_spare_threshold", &spare_thr);
	if (jint(log, "media_errors", &media) && media >= 0)
		vg_hl_counter(out, P, key, dev, "media errors", (uint64_t)media, VG_HEALTH_WARN);
	if (cw & 0x04)
		acc_add(a, VG_HEALTH_CRIT, "NVMe reliability degraded (critical warning 0x%02llx)", cw);
	if (cw & 0x08)
		acc_add(a, VG_HEALTH_CRIT, "NVMe media is read-only (critical warning 0x%02llx)", cw);
	if (cw & 0x20)
		acc_add(a, VG_HEALTH_CRIT, "NVMe persistent memory region read-only (critical "
					   "warning 0x%02llx)", cw);
	if (cw & 0x01 || (spare >= 0 && spare_thr >= 0 && spare < spare_thr))
		acc_add(a, VG_HEALTH_WARN, "available spare %lld%% below its threshold %lld%%", spare,
			spare_thr);
	if (cw & 0x02)
		acc_add(a, VG_HEALTH_WARN, "temperature outside its limits (critical warning 0x%02llx)",
			cw);
	if (cw & 0x10)
		acc_add(a, VG_HEALTH_WARN, "volatile memory backup failed (critical warning 0x%02llx)",
			cw);
	if (media > 0)
		acc_add(a, VG_HEALTH_WARN, "%lld media errors (unrecovered data integrity errors)",
			media);
	if (jint(log, "percentage_used", &used) && used >= 100)
		acc_add(a, VG_HEALTH_WARN, "%lld%% of its rated endurance used", used);
	if (a->level >= VG_HEALTH_WARN)
		a->action = replace_disk;
}

/* smartctl could not read the device: say why, and what to try. */
static void cannot_read(json_t *root, const char *dev, long long status, struct vg_health_list *out)
{
	const char *msg = "";
	json_t *msgs = json_object_get(json_object_get(root, "smartctl"), "messages");
	if (json_array_size(msgs))
		msg = jstr(json_array_get(msgs, 0), "string", "");
	char m[200];
	vg_hl_copy(m, sizeof m, msg, strlen(msg));
	const char *act = "run smartctl -a on it by hand to see why";
	if (strstr(msg, "ermission"))
		act = "run vigil as root (smartctl needs raw device access)";
	else if (strstr(msg, "device type") || strstr(msg, "USB bridge"))
		act = "a USB bridge may need a -d type (smartctl -d sat /dev/...), or set no-smart";
	json_t *sup = json_object_get(root, "smart_support");
	if (json_is_false(json_object_get(sup, "available"))) {
		vg_hl_add(out, VG_HEALTH_INFO, P, dev, NULL,
			  "%s has no SMART support (a virtual disk or a bridge that hides it)", dev);
		return;
	}
	struct vg_health_finding *f =
		vg_hl_add(out, VG_HEALTH_WARN, P, dev, act,
			  "smartctl could not read %s (exit status %lld%s%s): its SMART health was "
			  "NOT checked",
			  dev, status, m[0] ? ": " : "", m);
	vg_hl_fig(out, f, "exit_status", status);
}

int vg_smart_parse_json(const char *buf, size_t len, const char *dev,
			const struct vg_health_opts *opts, struct vg_health_list *out)
{
	(void)opts;
	if (!dev)
		dev = "disk";
	json_error_t jerr;
	json_t *root = len <= SMART_JSON_MAX ? json_loadb(buf, len, 0, &jerr) : NULL;
	if (!json_is_object(root)) {
		vg_hl_unparsable(out, P, dev, "smartctl --json output (smartctl 7.0 or newer is needed)",
				 root ? "not a JSON object" : len > SMART_JSON_MAX ? "too large" : jerr.text,
				 NULL, 0);
		json_decref(root);
		return vg_hl_status(out);
	}
	long long status = 0;
	jint(json_object_get(root, "smartctl"), "exit_status", &status);
	json_t *ss = json_object_get(root, "smart_status");
	bool has_data = json_is_object(ss) || json_object_get(root, "ata_smart_attributes") ||
			json_object_get(root, "nvme_smart_health_information_log");
	if ((status & 0x3) || !has_data) {
		cannot_read(root, dev, status, out);
		json_decref(root);
		return vg_hl_status(out);
	}
	const char *model = jstr(root, "model_name", "unknown model");
	const char *serial = jstr(root, "serial_number", NULL);
	char key[300], who[400];
	snprintf(key, sizeof key, "smart:%s", serial ? serial : dev);
	snprintf(who, sizeof who, "%s (%s%s%s)", dev, model, serial ? ", serial " : "",
		 serial ? serial : "");
	vg_hl_copy(who, sizeof who, who, strlen(who));
	struct acc a = {0};
	json_t *passed = json_object_get(ss, "passed");
	if (json_is_false(passed))
		acc_add(&a, VG_HEALTH_CRIT, "SMART overall-health self-assessment FAILED: the drive "
					    "predicts its own failure");
	ata(root, dev, key, out, &a);
	nvme(root, dev, key, out, &a);
	if (!json_is_boolean(passed) && !a.level)
		acc_add(&a, VG_HEALTH_WARN, "no overall SMART health status in the output");
	char act[1100];
	if (a.level == VG_HEALTH_CRIT)
		snprintf(act, sizeof act, "%s; if it holds the only copy (no redundancy): %s",
			 replace_disk, vg_health_go_cold);
	struct vg_health_finding *f;
	if (a.level >= VG_HEALTH_WARN || a.at)
		f = vg_hl_add(out, a.level, P, dev,
			      a.level == VG_HEALTH_CRIT ? act : a.level == VG_HEALTH_WARN ? a.action : NULL,
			      "%s: %s", who, a.text);
	else
		f = vg_hl_add(out, VG_HEALTH_OK, P, dev, NULL,
			      "%s: SMART health PASSED, no reallocated, pending or uncorrectable "
			      "sectors, no media errors",
			      who);
	vg_hl_figs(out, f, "model", model);
	if (serial)
		vg_hl_figs(out, f, "serial", serial);
	for (size_t i = 0; i < out->nc; i++)
		if (!strcmp(out->c[i].key, key) && f)
			vg_hl_fig(out, f, out->c[i].name, (int64_t)out->c[i].value);
	vg_hl_fig(out, f, "smartctl_exit_status", status);
	json_decref(root);
	return vg_hl_status(out);
}
