/*
 * zfs_eval.c - decide what a parsed `zpool status` means for a backup, and
 * the public parse-to-findings entry points for ZFS.
 *
 * The rules, as an administrator would apply them before a backup:
 *  1. The pool state: SUSPENDED, FAULTED, UNAVAIL (or OFFLINE) pools are
 *     CRIT: their data cannot be read reliably.
 *  2. Redundancy decides a degraded pool: for each top-level vdev, parity
 *     (mirror: children - 1, raidzN / draidN: N, a plain disk: 0) minus the
 *     children that are not ONLINE.  Redundancy left: WARN with the replace
 *     procedure.  None left: CRIT (one more failure loses data).
 *  3. READ/WRITE/CKSUM on a leaf: WARN where redundancy repaired it; CRIT
 *     with "go cold" guidance where there was nothing to repair from.
 *  4. Permanent errors (listed files or a data-error count): CRIT.
 *  5. The scan: a running scrub or resilver is INFO; a canceled or paused
 *     one, a scrub that found unrepairable errors, and a scrub older than
 *     the threshold are WARN (2x the threshold: CRIT); never scrubbed: WARN.
 *  6. A pool with nothing to report gets one OK finding saying what was
 *     checked, so the report shows that the probe ran.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "source/zfs.h"

#define P VG_PROBE_ZFS

static const char replace_how[] =
	"replace the failed device: find it by the name or GUID above (zpool status -P %s shows "
	"paths; the SMART findings name serial numbers), then zpool replace %s %s "
	"/dev/disk/by-id/NEW (or zpool online %s %s if it was only disconnected); watch "
	"zpool status %s until the resilver completes and keep the old disk until then";

static int parity_of(const struct zfs_pool *p, int idx)
{
	const struct zfs_vdev *v = &p->v[idx];
	const char *n = v->name;
	if (!strncmp(n, "mirror", 6) || !strncmp(n, "spare-", 6) || !strncmp(n, "replacing-", 10))
		return v->nchild > 0 ? v->nchild - 1 : 0;
	if (!strncmp(n, "raidz", 5) || !strncmp(n, "draid", 5)) {
		char d = n[5];
		return (d >= '1' && d <= '3') ? d - '0' : 1;
	}
	return 0;
}

static bool online(const struct zfs_vdev *v) { return !strcmp(v->state, "ONLINE"); }

/* Children of a top-level vdev that are out ("lost"), or the vdev itself
 * when it is a plain disk. */
static int lost_of(const struct zfs_pool *p, int idx, char *names, size_t cap)
{
	int lost = 0;
	size_t at = 0;
	if (names && cap)
		names[0] = 0;
	for (size_t i = 0; i < p->nv; i++) {
		const struct zfs_vdev *c = &p->v[i];
		bool mine = c->parent == idx || (p->v[idx].nchild == 0 && (int)i == idx);
		if (!mine || online(c))
			continue;
		lost++;
		if (names && at < cap) {
			int n = snprintf(names + at, cap - at, "%s%s (%s%s%s)", at ? ", " : "",
					 c->name, c->state, c->aux[0] ? ", " : "", c->aux);
			at = n > 0 ? at + (size_t)n : at;
		}
	}
	return lost;
}

static int top_of(const struct zfs_pool *p, int idx)
{
	int guard = 0;
	while (idx >= 0 && p->v[idx].depth > 1 && guard++ < 64)
		idx = p->v[idx].parent;
	return idx;
}

static void eval_state(const struct zfs_pool *p, const struct vg_health_eff *e,
		       struct vg_health_list *out)
{
	(void)e;
	const char *s = p->state;
	if (!p->have_state || !strcmp(s, "ONLINE") || !strcmp(s, "DEGRADED"))
		return;
	char act[1024];
	if (!strcmp(s, "SUSPENDED"))
		snprintf(act, sizeof act,
			 "reconnect or power-cycle the failed device(s), then zpool clear %s; if a "
			 "device is dying and there is no redundancy: %s",
			 p->name, vg_health_go_cold);
	else
		snprintf(act, sizeof act,
			 "the pool cannot be read reliably: reconnect the missing devices (zpool status "
			 "-v %s), then zpool clear %s; otherwise restore from the last healthy backup",
			 p->name, p->name);
	struct vg_health_finding *f =
		vg_hl_add(out, VG_HEALTH_CRIT, P, p->name, act, "pool %s is %s%s%s%s", p->name, s,
			  !strcmp(s, "SUSPENDED") ? ": ZFS stopped all I/O after device failures" : "",
			  p->msgid[0] ? " (" : "", p->msgid[0] ? p->msgid : "");
	if (p->msgid[0])
		vg_hl_append(out, f, ")");
	vg_hl_figs(out, f, "state", s);
}

/* The first lost child of a top-level vdev (for the replace command). */
static const char *first_lost(const struct zfs_pool *p, int idx)
{
	for (size_t i = 0; i < p->nv; i++)
		if ((p->v[i].parent == idx || (p->v[idx].nchild == 0 && (int)i == idx)) &&
		    !online(&p->v[i]))
			return p->v[i].name;
	return "OLD";
}

static void eval_tops(const struct zfs_pool *p, struct vg_health_list *out)
{
	char names[600], act[1400];
	for (size_t i = 0; i < p->nv; i++) {
		const struct zfs_vdev *t = &p->v[i];
		if (t->depth != 1 || t->header)
			continue;
		int lost = lost_of(p, (int)i, names, sizeof names);
		if (!lost)
			continue;
		const char *old = first_lost(p, (int)i);
		snprintf(act, sizeof act, replace_how, p->name, p->name, old, p->name, old, p->name);
		if (t->cls == ZC_CACHE || t->cls == ZC_LOGS || t->cls == ZC_SPARES) {
			bool spare_use = !strcmp(t->state, "INUSE") || !strcmp(t->state, "AVAIL");
			if (spare_use && t->cls == ZC_SPARES) {
				if (!strcmp(t->state, "INUSE"))
					vg_hl_add(out, VG_HEALTH_INFO, P, p->name, NULL,
						  "hot spare %s of pool %s is in use", t->name, p->name);
				continue;
			}
			enum vg_health_level l = t->cls == ZC_CACHE ? VG_HEALTH_INFO : VG_HEALTH_WARN;
			vg_hl_add(out, l, P, p->name, act, "%s device %s of pool %s is out: %s",
				  t->cls == ZC_LOGS ? "log" : t->cls == ZC_CACHE ? "cache" : "spare",
				  t->name, p->name, names);
			continue;
		}
		int parity = parity_of(p, (int)i);
		int left = parity - lost;
		struct vg_health_finding *f;
		if (left > 0) {
			f = vg_hl_add(out, VG_HEALTH_WARN, P, p->name, act,
				      "pool %s is DEGRADED: %s lost %s; %d of %d redundant devices left",
				      p->name, t->name, names, left, parity);
		} else {
			char crit[1600];
			snprintf(crit, sizeof crit,
				 "act now, before anything else fails: %s; until the resilver completes "
				 "a backup is only possible with --force and is marked suspect",
				 act);
			if (!t->nchild)
				f = vg_hl_add(out, VG_HEALTH_CRIT, P, p->name, crit,
					      "pool %s lost %s, a top-level device without redundancy: "
					      "the data on it is not available",
					      p->name, names);
			else
				f = vg_hl_add(out, VG_HEALTH_CRIT, P, p->name, crit,
					      "pool %s has %s: %s lost %s; one more failure loses data",
					      p->name,
					      left < 0 ? "lost more devices than its redundancy"
						       : "no redundancy left",
					      t->name, names);
		}
		vg_hl_fig(out, f, "lost_devices", lost);
		vg_hl_fig(out, f, "redundancy_left", left < 0 ? 0 : left);
		vg_hl_figs(out, f, "vdev", t->name);
	}
}

static void eval_leaves(const struct zfs_pool *p, struct vg_health_list *out)
{
	static const char *const what[3] = {"read errors", "write errors", "checksum errors"};
	for (size_t i = 1; i < p->nv; i++) {
		const struct zfs_vdev *v = &p->v[i];
		if (v->nchild || v->header || v->cls == ZC_CACHE || v->cls == ZC_SPARES)
			continue;
		char subj[340], key[360];
		snprintf(subj, sizeof subj, "%s/%s", p->name, v->name);
		snprintf(key, sizeof key, "zfs:%s:%s", p->name, v->name);
		for (int k = 0; k < 3; k++)
			vg_hl_counter(out, P, key, subj, what[k], v->err[k], VG_HEALTH_WARN);
		if (!v->err[0] && !v->err[1] && !v->err[2])
			continue;
		int top = top_of(p, (int)i);
		int lost = top >= 0 ? lost_of(p, top, NULL, 0) : 0;
		/* Redundancy that could have repaired this device's errors: the
		 * others in its top-level vdev, not counting itself. */
		int left = top >= 0 ? parity_of(p, top) - lost + (online(v) ? 0 : 1) : 0;
		if (top >= 0 && p->v[top].nchild == 0)
			left = 0;
		char counts[160];
		size_t at = 0;
		counts[0] = 0;
		for (int k = 0; k < 3; k++)
			if (v->err[k])
				at += (size_t)snprintf(counts + at, sizeof counts - at, "%s%llu %s",
						       at ? ", " : "", (unsigned long long)v->err[k],
						       what[k]);
		struct vg_health_finding *f;
		if (left > 0) {
			char act[1200];
			snprintf(act, sizeof act,
				 "check the disk (its SMART finding, cable and controller, dmesg); if "
				 "the counters keep rising replace it (zpool replace %s %s NEW); once the "
				 "cause is fixed, zpool clear %s %s so new errors stand out",
				 p->name, v->name, p->name, v->name);
			f = vg_hl_add(out, VG_HEALTH_WARN, P, subj, act,
				      "%s in pool %s has %s (%s%s%s): ZFS repaired them from redundancy",
				      v->name, p->name, counts, v->state, v->aux[0] ? ", " : "", v->aux);
		} else {
			char act[1200];
			snprintf(act, sizeof act, "%s; zpool status -v %s lists the damaged files",
				 vg_health_go_cold, p->name);
			f = vg_hl_add(out, VG_HEALTH_CRIT, P, subj, act,
				      "%s in pool %s has %s (%s%s%s) and no redundancy to repair from: "
				      "data on it may be damaged",
				      v->name, p->name, counts, v->state, v->aux[0] ? ", " : "", v->aux);
		}
		vg_hl_fig(out, f, "read_errors", (int64_t)v->err[0]);
		vg_hl_fig(out, f, "write_errors", (int64_t)v->err[1]);
		vg_hl_fig(out, f, "checksum_errors", (int64_t)v->err[2]);
		vg_hl_figs(out, f, "state", v->state);
	}
}

static void eval_errors(const struct zfs_pool *p, const char *fmt, struct vg_health_list *out)
{
	char act[600];
	snprintf(act, sizeof act,
		 "ZFS could not repair these: restore the files from a backup taken before the "
		 "damage (vigil restore), delete or overwrite the damaged copies, then zpool scrub %s "
		 "and zpool clear %s; fix the cause first (see the device findings)",
		 p->name, p->name);
	struct vg_health_finding *f = NULL;
	switch (p->errors) {
	case ZE_NONE:
	case ZE_MISSING: /* reported as a parse error */
		return;
	case ZE_LIST: {
		f = vg_hl_add(out, VG_HEALTH_CRIT, P, p->name, act,
			      "pool %s has permanent errors in %llu files:", p->name,
			      (unsigned long long)p->nerrfiles_total);
		for (size_t i = 0; i < p->nerrfiles && i < VG_HL_MAX_ERRFILES; i++)
			vg_hl_append(out, f, "%s %s", i ? "," : "", p->errfiles[i]);
		if (p->nerrfiles_total > VG_HL_MAX_ERRFILES)
			vg_hl_append(out, f, " and %llu more",
				     (unsigned long long)(p->nerrfiles_total - VG_HL_MAX_ERRFILES));
		vg_hl_fig(out, f, "damaged_files", (int64_t)p->nerrfiles_total);
		break;
	}
	case ZE_COUNT:
		f = vg_hl_add(out, VG_HEALTH_CRIT, P, p->name, act,
			      "pool %s has %llu data errors (zpool status -v %s lists the files)",
			      p->name, (unsigned long long)p->error_count, p->name);
		vg_hl_fig(out, f, "data_errors", (int64_t)p->error_count);
		break;
	case ZE_UNAVAILABLE:
		vg_hl_add(out, VG_HEALTH_CRIT, P, p->name, act,
			  "pool %s has data errors that cannot be listed: %s", p->name, p->errors_line);
		break;
	case ZE_UNPARSED:
		vg_hl_unparsable(out, P, p->name, fmt, "unknown 'errors:' line", p->errors_line,
				 strlen(p->errors_line));
		break;
	}
}

static void eval_scan(const struct zfs_pool *p, const char *fmt, const struct vg_health_eff *e,
		      struct vg_health_list *out)
{
	char act[800], date[32] = "?";
	snprintf(act, sizeof act,
		 "zpool scrub %s, and schedule it monthly (systemctl enable --now "
		 "zfs-scrub-monthly@%s.timer, or Debian's zfsutils cron job)",
		 p->name, p->name);
	const char *what = p->scan_fn == ZS_RESILVER ? "resilver" : "scrub";
	struct vg_health_finding *f = NULL;
	switch (p->scan_state) {
	case ZS_UNPARSED:
		vg_hl_unparsable(out, VG_PROBE_SCRUB_AGE, p->name, fmt, "unknown scan line",
				 p->scan_line, strlen(p->scan_line));
		return;
	case ZS_NEVER:
		vg_health_scrub_age(out, p->name, 0, e->now, e->scrub_warn_days, e->scrub_crit_days,
				    act);
		return;
	case ZS_RUNNING:
	case ZS_PAUSED:
		vg_hl_date(p->scan_start, date, sizeof date);
		f = vg_hl_add(out, p->scan_state == ZS_PAUSED ? VG_HEALTH_WARN : VG_HEALTH_INFO,
			      VG_PROBE_SCRUB_AGE, p->name,
			      p->scan_state == ZS_PAUSED ? act : NULL, "%s of %s %s since %s", what,
			      p->name, p->scan_state == ZS_PAUSED ? "paused" : "in progress", date);
		if (p->pct_done >= 0) {
			vg_hl_append(out, f, ", %.2f%% done", p->pct_done);
			vg_hl_fig(out, f, "percent_done", (int64_t)p->pct_done);
		}
		if (p->scan_fn == ZS_RESILVER)
			vg_hl_append(out, f, ": redundancy is reduced until it completes");
		vg_hl_figs(out, f, "scan", what);
		return;
	case ZS_CANCELED:
		vg_hl_date(p->scan_end, date, sizeof date);
		vg_hl_add(out, VG_HEALTH_WARN, VG_PROBE_SCRUB_AGE, p->name, act,
			  "the last %s of %s was canceled on %s: no completed scrub is on record",
			  what, p->name, date);
		return;
	case ZS_FINISHED:
		break;
	}
	vg_hl_date(p->scan_end, date, sizeof date);
	if (p->scan_errors)
		vg_hl_fig(out,
			  vg_hl_add(out, VG_HEALTH_WARN, P, p->name, act,
				    "the last %s of %s (%s) found %llu errors it could not repair",
				    what, p->name, date, (unsigned long long)p->scan_errors),
			  "scan_errors", (int64_t)p->scan_errors);
	else if (p->repaired_nonzero)
		vg_hl_add(out, VG_HEALTH_INFO, P, p->name, NULL,
			  "the last %s of %s (%s) repaired %s: a device returned bad data; watch its "
			  "counters",
			  what, p->name, date, p->scan_repaired);
	if (p->scan_fn == ZS_OTHER) {
		vg_health_scrub_age(out, p->name, 0, e->now, e->scrub_warn_days, e->scrub_crit_days,
				    act);
		return;
	}
	size_t before = out->n;
	vg_health_scrub_age(out, p->name, p->scan_end, e->now, e->scrub_warn_days,
			    e->scrub_crit_days, act);
	if (p->scan_fn == ZS_RESILVER && out->n > before)
		vg_hl_append(out, &out->v[out->n - 1],
			     " (that was a resilver: zpool status shows no scrub date after it)");
}

static void eval_pool(const struct zfs_pool *p, const char *fmt, const struct vg_health_eff *e,
		      struct vg_health_list *out)
{
	size_t first = out->n;
	if (p->parse_error[0])
		vg_hl_unparsable(out, P, p->name, fmt, p->parse_error,
				 p->bad_line[0] ? p->bad_line : NULL, strlen(p->bad_line));
	eval_state(p, e, out);
	eval_tops(p, out);
	eval_leaves(p, out);
	eval_errors(p, fmt, out);
	bool bad = false;
	for (size_t i = first; i < out->n; i++)
		bad |= out->v[i].level >= VG_HEALTH_WARN;
	if (!bad && p->have_state && strcmp(p->state, "ONLINE")) {
		/* Not ONLINE, yet no rule above explained it: never say OK. */
		vg_hl_add(out, VG_HEALTH_WARN, P, p->name, NULL, "pool %s is %s%s%s%s", p->name,
			  p->state, p->msgid[0] ? " (" : "", p->msgid, p->msgid[0] ? ")" : "");
	} else if (!bad && !p->parse_error[0]) {
		size_t leaves = 0;
		for (size_t i = 1; i < p->nv; i++)
			leaves += !p->v[i].nchild && !p->v[i].header;
		struct vg_health_finding *f =
			vg_hl_add(out, VG_HEALTH_OK, P, p->name, NULL,
				  "pool %s is %s: %zu devices, no read, write or checksum errors",
				  p->name, p->state, leaves);
		vg_hl_fig(out, f, "devices", (int64_t)leaves);
	}
	eval_scan(p, fmt, e, out);
}

void zfs_eval(const struct zfs_status *st, const char *pool, const char *fmt,
	      const struct vg_health_eff *e, struct vg_health_list *out)
{
	const char *subj = pool ? pool : "zpool";
	if (st->oom) {
		out->oom = true;
		return;
	}
	bool found = false;
	for (size_t i = 0; i < st->n; i++) {
		if (pool && strcmp(st->pools[i].name, pool))
			continue;
		found = true;
		eval_pool(&st->pools[i], fmt, e, out);
	}
	if (st->parse_error[0])
		vg_hl_unparsable(out, P, subj, fmt, st->parse_error,
				 st->bad_line[0] ? st->bad_line : NULL, strlen(st->bad_line));
	else if (!found && pool)
		vg_hl_unparsable(out, P, subj, fmt, "the output does not list the pool", NULL, 0);
}

static int parse_common(bool json, const char *buf, size_t len, const char *pool,
			const struct vg_health_opts *opts, struct vg_health_list *out)
{
	struct vg_health_eff e;
	vg_health_eff(opts, &e);
	struct zfs_status st = {0};
	if (json)
		zfs_parse_json(buf, len, &st);
	else
		zfs_parse_text(buf, len, &st);
	zfs_eval(&st, pool, json ? "zpool status -j output" : "zpool status output", &e, out);
	zfs_status_release(&st);
	return vg_hl_status(out);
}

int vg_zpool_parse_text(const char *buf, size_t len, const char *pool,
			const struct vg_health_opts *opts, struct vg_health_list *out)
{
	return parse_common(false, buf, len, pool, opts, out);
}

int vg_zpool_parse_json(const char *buf, size_t len, const char *pool,
			const struct vg_health_opts *opts, struct vg_health_list *out)
{
	return parse_common(true, buf, len, pool, opts, out);
}
