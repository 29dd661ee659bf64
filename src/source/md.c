/*
 * md.c - Linux md RAID: /proc/mdstat and /sys/block/<md>/md/ (md(4)).
 *
 * /proc/mdstat, per array:
 *   md6 : active raid1 sdb2[2](F) sdc[1](S) sda2[0]
 *         195310144 blocks [2/1] [U_]
 *         [=>....]  recovery =  8.5% (16775552/195310144) finish=17.0min ...
 * [n/m] is raid disks / working ones; "_" marks a missing slot; (F) a
 * faulty member, (S) a spare.  Redundancy left = what the level tolerates
 * (raid1: n-1, raid4/5: 1, raid6: 2, raid10: 1 as a floor) minus missing
 * slots; none left is CRIT, as for ZFS.  sysfs adds mismatch_cnt (sectors a
 * check found inconsistent), array_state ("broken", "inactive") and
 * sync_action.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "source/probe.h"

#define P VG_PROBE_MD
#define MDSTAT_MAX (1u << 20)

struct md {
	char name[64], level[32], failed[256], progress[96];
	bool active, have_status;
	unsigned raid, working;
	char pattern[64];
};

static int tolerance(const struct md *m)
{
	if (!strcmp(m->level, "raid1"))
		return m->raid > 0 ? (int)m->raid - 1 : 0;
	if (!strcmp(m->level, "raid4") || !strcmp(m->level, "raid5") || !strcmp(m->level, "raid10"))
		return 1;
	if (!strcmp(m->level, "raid6"))
		return 2;
	return 0;
}

static void eval(const struct md *m, struct vg_health_list *out)
{
	char act[600];
	snprintf(act, sizeof act,
		 "replace the failed disk: mdadm /dev/%s --fail DEV --remove DEV, swap the disk "
		 "(match its serial number in the SMART findings), partition it like the others, "
		 "then mdadm /dev/%s --add NEWDEV and watch /proc/mdstat until the recovery ends",
		 m->name, m->name);
	struct vg_health_finding *f;
	if (!m->active) {
		vg_hl_add(out, VG_HEALTH_CRIT, P, m->name,
			  "find out why it did not assemble: mdadm --detail /dev/md* and "
			  "mdadm --examine on its members; do not --create over it",
			  "md array %s is inactive: its data is not available", m->name);
		return;
	}
	if (!m->have_status) { /* raid0 / linear: no redundancy to degrade */
		f = vg_hl_add(out, VG_HEALTH_OK, P, m->name, NULL,
			      "md array %s (%s) is active; it has no redundancy of its own",
			      m->name, m->level);
		return;
	}
	int missing = m->raid > m->working ? (int)(m->raid - m->working) : 0;
	int left = tolerance(m) - missing;
	if (missing) {
		f = vg_hl_add(out, left > 0 ? VG_HEALTH_WARN : VG_HEALTH_CRIT, P, m->name, act,
			      "md array %s (%s) is degraded: [%u/%u] [%s], %d device%s missing%s%s%s",
			      m->name, m->level, m->raid, m->working, m->pattern, missing,
			      missing > 1 ? "s" : "", m->failed[0] ? ", failed: " : "", m->failed,
			      left > 0 ? "" : "; no redundancy left: one more failure loses data");
		vg_hl_fig(out, f, "missing_devices", missing);
		vg_hl_fig(out, f, "redundancy_left", left > 0 ? left : 0);
	} else if (m->failed[0]) {
		f = vg_hl_add(out, VG_HEALTH_WARN, P, m->name, act,
			      "md array %s (%s) has failed members (%s) although all slots work: "
			      "a failed spare or a member not yet removed",
			      m->name, m->level, m->failed);
	} else {
		f = vg_hl_add(out, VG_HEALTH_OK, P, m->name, NULL, "md array %s (%s) is clean: [%u/%u] [%s]",
			      m->name, m->level, m->raid, m->working, m->pattern);
	}
	if (m->progress[0])
		vg_hl_add(out, VG_HEALTH_INFO, P, m->name, NULL, "md array %s: %s", m->name,
			  m->progress);
}

/* "sdb2[2](F)" members: collect the faulty ones. */
static void members(struct md *m, const char *s, size_t n)
{
	const char *t;
	size_t tn;
	while (vg_hl_token(&s, &n, &t, &tn)) {
		if (tn > 3 && !memcmp(t + tn - 3, "(F)", 3)) {
			size_t at = strlen(m->failed);
			const char *br = memchr(t, '[', tn);
			size_t nl = br ? (size_t)(br - t) : tn;
			if (at + nl + 3 < sizeof m->failed) {
				if (at)
					strcat(m->failed, ", ");
				vg_hl_copy(m->failed + strlen(m->failed), nl + 1, t, nl);
			}
		}
	}
}

static bool status_line(struct md *m, const char *s, size_t n)
{
	/* "... [2/1] [U_]": the last two bracketed tokens. */
	const char *t, *prev = NULL;
	size_t tn, prevn = 0;
	while (vg_hl_token(&s, &n, &t, &tn)) {
		if (tn > 2 && t[0] == '[' && t[tn - 1] == ']' && prev) {
			unsigned a, b;
			char tmp[32], c;
			if (prevn < sizeof tmp) {
				memcpy(tmp, prev, prevn);
				tmp[prevn] = 0;
				if (sscanf(tmp, "[%u/%u%c", &a, &b, &c) == 3 && c == ']' && a <= 4096 &&
				    tn - 2 < sizeof m->pattern) {
					m->raid = a;
					m->working = b;
					vg_hl_copy(m->pattern, tn - 1, t + 1, tn - 2);
					return true;
				}
			}
		}
		prev = t;
		prevn = tn;
	}
	return false;
}

static void progress(struct md *m, const char *s, size_t n)
{
	static const char *const kinds[] = {"recovery", "resync", "check", "repair", "reshape"};
	for (size_t i = 0; i < 5; i++) {
		const char *k = memmem(s, n, kinds[i], strlen(kinds[i]));
		if (!k)
			continue;
		const char *pc = memchr(k, '%', (size_t)(s + n - k));
		const char *eq = memchr(k, '=', (size_t)(s + n - k));
		if (eq && pc && pc > eq) {
			const char *v = eq + 1;
			size_t vn = (size_t)(pc - v);
			vg_hl_ltrim(&v, &vn);
			char num[16];
			vg_hl_copy(num, vn + 1 < sizeof num ? vn + 1 : sizeof num, v, vn);
			snprintf(m->progress, sizeof m->progress, "%s in progress, %s%% done",
				 kinds[i], num);
		} else if (eq) { /* resync=DELAYED / PENDING */
			char w[16];
			const char *v = eq + 1;
			size_t wn = 0, left = (size_t)(s + n - v);
			while (wn < left && v[wn] != ' ' && v[wn] != '\t')
				wn++;
			vg_hl_copy(w, wn + 1 < sizeof w ? wn + 1 : sizeof w, v, wn);
			snprintf(m->progress, sizeof m->progress, "%s %s", kinds[i], w);
		}
		return;
	}
}

int vg_mdstat_parse(const char *buf, size_t len, const char *md, const struct vg_health_opts *opts,
		    struct vg_health_list *out)
{
	(void)opts;
	size_t pos = 0, n;
	const char *line;
	struct md cur;
	bool in = false, found = false, personalities = false;
	while (vg_hl_line(buf, len, &pos, &line, &n)) {
		const char *s = line, *t;
		size_t sn = n, tn;
		if (vg_hl_starts(line, n, "Personalities")) {
			personalities = true;
			continue;
		}
		if (vg_hl_starts(line, n, "md") && memchr(line, ':', n)) {
			if (in && (!md || !strcmp(cur.name, md))) {
				eval(&cur, out);
				found = true;
			}
			memset(&cur, 0, sizeof cur);
			in = vg_hl_token(&s, &sn, &t, &tn) && tn < sizeof cur.name;
			if (!in)
				continue;
			vg_hl_copy(cur.name, sizeof cur.name, t, tn);
			if (!vg_hl_token(&s, &sn, &t, &tn) || tn != 1 || t[0] != ':' ||
			    !vg_hl_token(&s, &sn, &t, &tn)) {
				vg_hl_unparsable(out, P, md ? md : "mdstat", "/proc/mdstat",
						 "unexpected array line", line, n);
				in = false;
				continue;
			}
			cur.active = tn == 6 && !memcmp(t, "active", 6);
			bool more;
			while ((more = vg_hl_token(&s, &sn, &t, &tn)) && t[0] == '(') /* (read-only) */
				;
			if (more && !memchr(t, '[', tn)) { /* the level; inactive arrays have none */
				vg_hl_copy(cur.level, sizeof cur.level, t, tn);
				members(&cur, s, sn);
			} else if (more) {
				members(&cur, t, (size_t)(s + sn - t));
			}
		} else if (in && n && (line[0] == ' ' || line[0] == '\t')) {
			if (!cur.have_status && memmem(line, n, "blocks", 6))
				cur.have_status = status_line(&cur, line, n);
			else
				progress(&cur, line, n);
		}
	}
	if (in && (!md || !strcmp(cur.name, md))) {
		eval(&cur, out);
		found = true;
	}
	if (!personalities)
		vg_hl_unparsable(out, P, md ? md : "mdstat", "/proc/mdstat",
				 "no 'Personalities' line", NULL, 0);
	else if (md && !found)
		vg_hl_add(out, VG_HEALTH_WARN, P, md, NULL,
			  "md array %s is not in /proc/mdstat: it was NOT checked", md);
	return vg_hl_status(out);
}

/* Did /proc/mdstat already report this about the array? */
static bool said(const struct vg_health_list *l, const char *md, const char *what)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].subject, md) && strstr(l->v[i].message, what))
			return true;
	return false;
}

static void sysfs_attrs(const char *sysroot, const char *md, struct vg_health_list *out)
{
	char rel[256], v[64], level[32] = "";
	snprintf(rel, sizeof rel, "/sys/block/%s/md/level", md);
	vg_sys_read(sysroot, rel, level, sizeof level);
	snprintf(rel, sizeof rel, "/sys/block/%s/md/array_state", md);
	if (vg_sys_read(sysroot, rel, v, sizeof v) > 0 && !strcmp(v, "broken"))
		vg_hl_add(out, VG_HEALTH_CRIT, P, md, "reconnect the missing member; mdadm --detail",
			  "md array %s is broken: a member of a raid0/linear array is missing", md);
	/* /proc/mdstat said it first; sysfs catches what it could not. */
	uint64_t deg = 0;
	snprintf(rel, sizeof rel, "/sys/block/%s/md/degraded", md);
	if (vg_sys_read(sysroot, rel, v, sizeof v) > 0 && vg_hl_u64(v, strlen(v), &deg) && deg &&
	    !said(out, md, " is degraded") && !said(out, md, " is inactive"))
		vg_hl_fig(out,
			  vg_hl_add(out, VG_HEALTH_WARN, P, md, "mdadm --detail /dev/md*",
				    "md array %s has %llu degraded device%s (sysfs)", md,
				    (unsigned long long)deg, deg == 1 ? "" : "s"),
			  "degraded", (int64_t)deg);
	snprintf(rel, sizeof rel, "/sys/block/%s/md/sync_action", md);
	if (vg_sys_read(sysroot, rel, v, sizeof v) > 0 && strcmp(v, "idle") &&
	    !said(out, md, " in progress") && !said(out, md, "resync "))
		vg_hl_add(out, VG_HEALTH_INFO, P, md, NULL, "md array %s: %s in progress (sysfs)", md, v);
	snprintf(rel, sizeof rel, "/sys/block/%s/md/mismatch_cnt", md);
	uint64_t mm = 0;
	if (vg_sys_read(sysroot, rel, v, sizeof v) <= 0 || !vg_hl_u64(v, strlen(v), &mm))
		return;
	char key[128];
	snprintf(key, sizeof key, "md:%s", md);
	vg_hl_counter(out, P, key, md, "mismatched sectors", mm, VG_HEALTH_WARN);
	if (!mm)
		return;
	bool mirror = !strcmp(level, "raid1") || !strcmp(level, "raid10");
	char act[500];
	snprintf(act, sizeof act,
		 "md cannot tell which copy is right: verify the files on %s against a backup "
		 "(vigil restore to a scratch place and compare), then echo repair > "
		 "/sys/block/%s/md/sync_action and check again",
		 md, md);
	struct vg_health_finding *f = vg_hl_add(
		out, VG_HEALTH_WARN, P, md, act,
		"md array %s: the last check found %llu mismatched sectors%s", md,
		(unsigned long long)mm,
		mirror ? " (on raid1/raid10 swap or aborted writes can cause this harmlessly)"
		       : ": parity and data disagree");
	vg_hl_fig(out, f, "mismatch_cnt", (int64_t)mm);
}

void vg_md_check(const char *sysroot, const char *md, const struct vg_health_eff *e,
		 struct vg_health_list *out)
{
	(void)e;
	char path[4096];
	snprintf(path, sizeof path, "%s/proc/mdstat", sysroot);
	FILE *fp = fopen(path, "re");
	char *buf = fp ? malloc(MDSTAT_MAX) : NULL;
	size_t n = buf ? fread(buf, 1, MDSTAT_MAX, fp) : 0;
	if (fp)
		fclose(fp);
	if (!buf)
		vg_hl_add(out, VG_HEALTH_WARN, P, md, NULL,
			  "cannot read %s: md array %s was NOT checked", path, md);
	else
		vg_mdstat_parse(buf, n, md, NULL, out);
	free(buf);
	sysfs_attrs(sysroot, md, out);
}
