/*
 * btrfs.c - one btrfs filesystem from four tool outputs (btrfs-progs cmds/):
 *   btrfs device stats MNT      "[/dev/sda].corruption_errs 1014"
 *   btrfs filesystem show MNT   devid lines, "*** Some devices missing",
 *                               "... path <missing disk> MISSING"
 *   btrfs scrub status MNT      "Scrub started:", "Status:", "Duration:",
 *                               "Error summary:", "Uncorrectable:"; and the
 *                               pre-5.x "scrub started at ... and finished
 *                               after HH:MM:SS" form
 *   btrfs filesystem usage -T MNT  the profile table (type row over profile
 *                               row) and "Device missing:"
 * Redundancy comes from the chunk profiles: single, RAID0 keep one copy;
 * DUP two on one device (repairs bad sectors, not a lost device); RAID1,
 * RAID10, RAID5 survive one lost device, RAID1C3 and RAID6 two, RAID1C4
 * three.  The weakest profile in use decides (a raid1 filesystem with
 * "single" chunks left by a degraded mount keeps that data once).
 * Rules: corruption/generation errors where the data had a second copy are
 * WARN (btrfs repaired them), CRIT where it had none; I/O errors WARN;
 * missing devices CRIT unless the profiles tolerate more losses; weak
 * chunks next to redundant ones WARN; uncorrectable scrub errors CRIT;
 * scrub age as for ZFS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "source/probe.h"

#define P VG_PROBE_BTRFS
#define MAX_DEVS 256
#define MAX_COLS 32

static const char *const stat_names[5] = {"write_io_errs", "read_io_errs", "flush_io_errs",
					  "corruption_errs", "generation_errs"};
static const char *const stat_human[5] = {"write errors", "read errors", "flush errors",
					  "corruption errors", "generation errors"};

struct bdev {
	char path[200];
	uint64_t c[5];
};

struct bfs {
	const char *mnt;
	/* device stats */
	struct bdev dev[MAX_DEVS];
	int ndev;
	bool have_stats;
	/* show */
	bool have_show;
	int total_devs, listed_devs, missing_devs;
	/* usage */
	bool have_usage, usage_nonroot;
	int usage_devs;
	char types[MAX_COLS][16], profiles[MAX_COLS][16];
	int ncols;
	bool missing_bytes; /* "Device missing:" not zero */
	/* scrub */
	bool have_scrub;
	enum { SC_NEVER, SC_RUNNING, SC_FINISHED, SC_ABORTED, SC_UNKNOWN } scrub;
	time_t scrub_start, scrub_end;
	uint64_t uncorrectable, corrected;
	bool scrub_errors;
	char scrub_summary[120];
};

static void unparsable(struct vg_health_list *out, const struct bfs *b, const char *what,
		       const char *why, const char *line, size_t n)
{
	vg_hl_unparsable(out, P, b->mnt, what, why, line, n);
}

/* "[/dev/sda3].write_io_errs   0" */
static void parse_stats(struct bfs *b, const char *buf, size_t len, struct vg_health_list *out)
{
	size_t pos = 0, n;
	const char *line;
	while (vg_hl_line(buf, len, &pos, &line, &n)) {
		const char *s = line, *t;
		size_t sn = n, tn;
		if (!vg_hl_token(&s, &sn, &t, &tn))
			continue;
		const char *close = tn > 2 && t[0] == '[' ? memchr(t, ']', tn) : NULL;
		uint64_t v;
		const char *vt;
		size_t vn;
		if (!close || close + 1 >= t + tn || close[1] != '.' ||
		    !vg_hl_token(&s, &sn, &vt, &vn) || !vg_hl_u64(vt, vn, &v)) {
			unparsable(out, b, "btrfs device stats output", "unexpected line", line, n);
			b->have_stats = false;
			return;
		}
		char path[200], name[40];
		vg_hl_copy(path, sizeof path, t + 1, (size_t)(close - t - 1));
		vg_hl_copy(name, sizeof name, close + 2, (size_t)(t + tn - close - 2));
		int d = 0;
		while (d < b->ndev && strcmp(b->dev[d].path, path))
			d++;
		if (d == b->ndev) {
			if (b->ndev == MAX_DEVS)
				continue;
			memset(&b->dev[b->ndev], 0, sizeof b->dev[0]);
			snprintf(b->dev[b->ndev++].path, sizeof b->dev[0].path, "%s", path);
		}
		for (int k = 0; k < 5; k++)
			if (!strcmp(name, stat_names[k]))
				b->dev[d].c[k] = v;
		b->have_stats = true;
	}
	if (!b->have_stats)
		unparsable(out, b, "btrfs device stats output", "no device counters", NULL, 0);
}

static void parse_show(struct bfs *b, const char *buf, size_t len, struct vg_health_list *out)
{
	size_t pos = 0, n;
	const char *line;
	bool label = false;
	while (vg_hl_line(buf, len, &pos, &line, &n)) {
		const char *s = line, *t;
		size_t sn = n, tn;
		vg_hl_ltrim(&s, &sn);
		uint64_t v;
		if (vg_hl_starts(s, sn, "Label:")) {
			label = true;
		} else if (vg_hl_starts(s, sn, "Total devices ")) {
			s += 14;
			sn -= 14;
			if (vg_hl_token(&s, &sn, &t, &tn) && vg_hl_u64(t, tn, &v) && v < 100000)
				b->total_devs = (int)v;
		} else if (vg_hl_starts(s, sn, "devid ")) {
			b->listed_devs++;
			vg_hl_rtrim(s, &sn);
			if (memmem(s, sn, "MISSING", 7) || memmem(s, sn, "<missing disk>", 14))
				b->missing_devs++;
		} else if (vg_hl_starts(s, sn, "*** Some devices missing")) {
			if (!b->missing_devs)
				b->missing_devs = -1; /* count below */
		}
	}
	if (b->missing_devs < 0)
		b->missing_devs = b->total_devs > b->listed_devs ? b->total_devs - b->listed_devs : 1;
	b->have_show = label && b->total_devs > 0;
	if (!b->have_show)
		unparsable(out, b, "btrfs filesystem show output",
			   label ? "no 'Total devices' line" : "no 'Label:' line", NULL, 0);
}

void vg_btrfs_devices(const char *buf, size_t len, struct vg_names *out)
{
	size_t pos = 0, n;
	const char *line;
	while (buf && vg_hl_line(buf, len, &pos, &line, &n)) {
		const char *p = memmem(line, n, " path /dev/", 11);
		if (!p)
			continue;
		p += 6;
		size_t pn = (size_t)(line + n - p);
		pn = pn < 200 ? pn : 199;
		char dev[200];
		vg_hl_copy(dev, pn + 1, p, pn);
		dev[strcspn(dev, " \t")] = 0;
		vg_names_add(out, dev);
	}
}

/* "0:02:37": hours may exceed 24. */
static bool duration(const char *s, size_t n, long long *secs)
{
	char tmp[32];
	vg_hl_copy(tmp, n + 1 < sizeof tmp ? n + 1 : sizeof tmp, s, n);
	unsigned long h, m, sec;
	char extra;
	if (sscanf(tmp, "%lu:%lu:%lu%c", &h, &m, &sec, &extra) != 3 || m > 59 || sec > 59 ||
	    h > 1000000)
		return false;
	*secs = (long long)h * 3600 + (long long)m * 60 + (long long)sec;
	return true;
}

static void scrub_kv(struct bfs *b, const char *k, size_t kn, const char *v, size_t vn,
		     long long *dur)
{
	uint64_t x;
	if (kn == 13 && !memcmp(k, "Scrub started", 13)) {
		b->scrub_start = vg_hl_ctime(v, vn);
	} else if (kn == 6 && !memcmp(k, "Status", 6)) {
		b->scrub = vg_hl_starts(v, vn, "running")    ? SC_RUNNING
			   : vg_hl_starts(v, vn, "finished") ? SC_FINISHED
			   : (vg_hl_starts(v, vn, "aborted") || vg_hl_starts(v, vn, "interrupted"))
				   ? SC_ABORTED
				   : SC_UNKNOWN;
	} else if (kn == 8 && !memcmp(k, "Duration", 8)) {
		duration(v, vn, dur);
	} else if (kn == 13 && !memcmp(k, "Error summary", 13)) {
		b->scrub_errors = !vg_hl_starts(v, vn, "no errors found");
		vg_hl_copy(b->scrub_summary, sizeof b->scrub_summary, v, vn);
	} else if (kn == 13 && !memcmp(k, "Uncorrectable", 13) && vg_hl_u64(v, vn, &x)) {
		b->uncorrectable = x;
	} else if (kn == 9 && !memcmp(k, "Corrected", 9) && vg_hl_u64(v, vn, &x)) {
		b->corrected = x;
	}
}

/* Pre-5.x: "\tscrub started at Wed Apr 10 12:34:56 2019 and finished after
 * 00:01:02" and "\ttotal bytes scrubbed: 1.2GiB with 0 errors". */
static void scrub_old(struct bfs *b, const char *s, size_t n, long long *dur)
{
	const char *at = memmem(s, n, "scrub started at ", 17);
	if (at) {
		at += 17;
		const char *and = memmem(at, (size_t)(s + n - at), " and ", 5);
		const char *run = memmem(at, (size_t)(s + n - at), ", running for ", 14);
		const char *end = and ? and : run ? run : s + n;
		b->scrub_start = vg_hl_ctime(at, (size_t)(end - at));
		if (run)
			b->scrub = SC_RUNNING;
		else if (and && memmem(and, (size_t)(s + n - and), "finished after ", 15)) {
			const char *d = (const char *)memmem(and, (size_t)(s + n - and), "after ", 6) + 6;
			b->scrub = duration(d, (size_t)(s + n - d), dur) ? SC_FINISHED : SC_UNKNOWN;
		} else if (and)
			b->scrub = SC_ABORTED;
	}
	const char *w = memmem(s, n, " with ", 6);
	if (w && memmem(s, n, "total bytes scrubbed", 20)) {
		const char *e = w + 6, *t;
		size_t en = (size_t)(s + n - e), tn;
		uint64_t x;
		if (vg_hl_token(&e, &en, &t, &tn) && vg_hl_u64(t, tn, &x)) {
			b->scrub_errors = x > 0;
			b->uncorrectable = x; /* old progs do not split corrected/uncorrectable */
			snprintf(b->scrub_summary, sizeof b->scrub_summary, "%llu errors",
				 (unsigned long long)x);
		}
	}
}

static void parse_scrub(struct bfs *b, const char *buf, size_t len, struct vg_health_list *out)
{
	size_t pos = 0, n;
	const char *line;
	long long dur = -1;
	bool never = false;
	b->scrub = SC_UNKNOWN;
	while (vg_hl_line(buf, len, &pos, &line, &n)) {
		const char *s = line;
		size_t sn = n;
		vg_hl_ltrim(&s, &sn);
		vg_hl_rtrim(s, &sn);
		if (memmem(s, sn, "no stats available", 18))
			never = true;
		const char *colon = memchr(s, ':', sn);
		if (colon && !vg_hl_starts(s, sn, "scrub started at ")) {
			const char *v = colon + 1;
			size_t vn = (size_t)(s + sn - v);
			vg_hl_ltrim(&v, &vn);
			scrub_kv(b, s, (size_t)(colon - s), v, vn, &dur);
		}
		scrub_old(b, s, sn, &dur);
	}
	if (never) {
		b->scrub = SC_NEVER;
	} else if (b->scrub == SC_FINISHED && (b->scrub_start == (time_t)-1 || !b->scrub_start)) {
		b->scrub = SC_UNKNOWN;
	}
	if (b->scrub == SC_FINISHED)
		b->scrub_end = b->scrub_start + (time_t)(dur > 0 ? dur : 0);
	b->have_scrub = b->scrub != SC_UNKNOWN;
	if (!b->have_scrub)
		unparsable(out, b, "btrfs scrub status output", "no 'Status:' or 'scrub started' line",
			   NULL, 0);
}

static void parse_usage(struct bfs *b, const char *buf, size_t len, struct vg_health_list *out)
{
	size_t pos = 0, n, prevn = 0;
	const char *line, *prev = NULL;
	bool table = false, in_rows = false, rows_done = false;
	while (vg_hl_line(buf, len, &pos, &line, &n)) {
		const char *s = line, *t;
		size_t sn = n, tn;
		vg_hl_ltrim(&s, &sn);
		if (vg_hl_starts(s, sn, "WARNING: cannot read detailed chunk info"))
			b->usage_nonroot = true;
		if (vg_hl_starts(s, sn, "Device missing:")) {
			const char *v = s + 15;
			size_t vn = sn - 15;
			vg_hl_ltrim(&v, &vn);
			vg_hl_rtrim(v, &vn);
			b->missing_bytes = !(vg_hl_starts(v, vn, "0.00") || (vn == 1 && v[0] == '0') ||
					     vg_hl_starts(v, vn, "0 "));
		}
		if (vg_hl_starts(s, sn, "Id Path") && prev && !table) {
			table = true;
			const char *ps = prev;
			size_t pn = prevn;
			s += 7;
			sn -= 7;
			while (vg_hl_token(&s, &sn, &t, &tn)) {
				if (vg_hl_starts(t, tn, "Unallocated"))
					break;
				const char *u;
				size_t un;
				if (b->ncols == MAX_COLS || !vg_hl_token(&ps, &pn, &u, &un)) {
					unparsable(out, b, "btrfs filesystem usage -T output",
						   "profile columns do not match the type row", line, n);
					b->ncols = 0;
					return;
				}
				vg_hl_copy(b->types[b->ncols], sizeof b->types[0], u, un);
				vg_hl_copy(b->profiles[b->ncols], sizeof b->profiles[0], t, tn);
				b->ncols++;
			}
			continue;
		}
		if (table && !rows_done && vg_hl_starts(s, sn, "--")) {
			if (in_rows)
				rows_done = true;
			in_rows = true;
			continue;
		}
		if (in_rows && !rows_done && vg_hl_token(&s, &sn, &t, &tn))
			b->usage_devs++;
		prev = line;
		prevn = n;
	}
	b->have_usage = table && b->ncols > 0 && b->usage_devs > 0;
	if (!b->have_usage && !b->usage_nonroot)
		unparsable(out, b, "btrfs filesystem usage -T output", "no profile table", NULL, 0);
}

/* Devices a profile survives losing; -1 for unknown. */
static int tolerance(const char *p)
{
	static const struct {
		const char *name;
		int tol;
	} t[] = {{"single", 0}, {"DUP", 0},     {"RAID0", 0},   {"RAID1", 1}, {"RAID10", 1},
		 {"RAID5", 1},  {"RAID1C3", 2}, {"RAID1C4", 3}, {"RAID6", 2}};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcasecmp(p, t[i].name))
			return t[i].tol;
	return -1;
}

/* Has every Data chunk a second copy (to repair a bad checksum from)? */
static bool data_redundant(const struct bfs *b)
{
	bool any = false;
	for (int i = 0; i < b->ncols; i++) {
		if (strcmp(b->types[i], "Data"))
			continue;
		any = true;
		if (tolerance(b->profiles[i]) <= 0 && strcasecmp(b->profiles[i], "DUP"))
			return false;
	}
	return any;
}

static int min_tolerance(const struct bfs *b)
{
	int m = 99;
	for (int i = 0; i < b->ncols; i++) {
		int t = tolerance(b->profiles[i]);
		if (t < m)
			m = t < 0 ? 0 : t;
	}
	return b->ncols ? m : 0;
}

static void eval_missing(const struct bfs *b, struct vg_health_list *out)
{
	int missing = b->missing_devs > 0 ? b->missing_devs : (b->missing_bytes ? 1 : 0);
	if (!missing)
		return;
	int left = (b->have_usage ? min_tolerance(b) : 0) - missing;
	char act[500];
	snprintf(act, sizeof act,
		 "replace the missing device: btrfs replace start DEVID /dev/NEW %s (mount with "
		 "-o degraded only for that), then btrfs balance start -dconvert=PROFILE,soft "
		 "-mconvert=PROFILE,soft %s so chunks written while degraded get their copies back",
		 b->mnt, b->mnt);
	struct vg_health_finding *f = vg_hl_add(
		out, left > 0 ? VG_HEALTH_WARN : VG_HEALTH_CRIT, P, b->mnt, act,
		"btrfs at %s is missing %d of its %d devices%s", b->mnt, missing,
		b->total_devs ? b->total_devs : missing,
		left > 0 ? "" : ": no redundancy left, one more failure loses data");
	vg_hl_fig(out, f, "missing_devices", missing);
}

static void eval_profiles(const struct bfs *b, struct vg_health_list *out)
{
	static const char *const kinds[] = {"Data", "Metadata", "System"};
	for (int k = 0; k < 3; k++) {
		const char *weak = NULL, *strong = NULL, *first = NULL;
		bool mixed = false;
		for (int i = 0; i < b->ncols; i++) {
			if (strcmp(b->types[i], kinds[k]))
				continue;
			if (first && strcasecmp(first, b->profiles[i]))
				mixed = true;
			first = first ? first : b->profiles[i];
			if (tolerance(b->profiles[i]) > 0)
				strong = b->profiles[i];
			else
				weak = b->profiles[i];
		}
		if (!first)
			continue;
		char act[400];
		snprintf(act, sizeof act, "btrfs balance start -%cconvert=%s,soft %s", k == 0 ? 'd' : 'm',
			 strong ? strong : "raid1", b->mnt);
		for (char *p = strchr(act, '='); p && *p && *p != ','; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		if (weak && strong && b->usage_devs > 1) {
			struct vg_health_finding *f = vg_hl_add(
				out, VG_HEALTH_WARN, P, b->mnt, act,
				"btrfs at %s has %s chunks in profile %s next to %s: what they hold has no "
				"copy on another device (left by a degraded mount, a replace or an "
				"interrupted convert)",
				b->mnt, kinds[k], weak, strong);
			vg_hl_figs(out, f, "weak_profile", weak);
		} else if (mixed) {
			vg_hl_add(out, VG_HEALTH_INFO, P, b->mnt, act,
				  "btrfs at %s has %s chunks in more than one profile (an interrupted "
				  "convert?)",
				  b->mnt, kinds[k]);
		} else if (k == 0 && !strong && b->usage_devs > 1) {
			vg_hl_add(out, VG_HEALTH_INFO, P, b->mnt, NULL,
				  "btrfs at %s keeps Data as %s on %d devices: corruption is detected but "
				  "cannot be repaired, and a lost device loses data",
				  b->mnt, first, b->usage_devs);
		}
	}
	if (b->usage_nonroot)
		vg_hl_add(out, VG_HEALTH_INFO, P, b->mnt, "run vigil as root",
			  "chunk profiles of btrfs at %s were not checked (needs root)", b->mnt);
}

static void eval_stats(const struct bfs *b, struct vg_health_list *out)
{
	bool redundant = b->have_usage && data_redundant(b);
	for (int d = 0; d < b->ndev; d++) {
		const struct bdev *v = &b->dev[d];
		char key[300];
		snprintf(key, sizeof key, "btrfs:%s", v->path);
		for (int k = 0; k < 5; k++)
			vg_hl_counter(out, P, key, v->path, stat_human[k], v->c[k], VG_HEALTH_WARN);
		char counts[300];
		size_t at = 0;
		counts[0] = 0;
		for (int k = 0; k < 5; k++)
			if (v->c[k] && at < sizeof counts)
				at += (size_t)snprintf(counts + at, sizeof counts - at, "%s%llu %s",
						       at ? ", " : "", (unsigned long long)v->c[k],
						       stat_human[k]);
		if (!at)
			continue;
		bool corrupt = v->c[3] || v->c[4];
		struct vg_health_finding *f;
		if (corrupt && !redundant) {
			char act[1200];
			snprintf(act, sizeof act,
				 "%s; dmesg (BTRFS ... csum failed ... path) and a scrub name the damaged "
				 "files",
				 vg_health_go_cold);
			f = vg_hl_add(out, VG_HEALTH_CRIT, P, v->path, act,
				      "%s in btrfs at %s has %s and %s: the damaged data has no copy to "
				      "repair from",
				      v->path, b->mnt, counts,
				      b->have_usage ? "its data profile keeps one copy"
						    : "the data profile is unknown");
		} else {
			char act[400];
			snprintf(act, sizeof act,
				 "check the disk (SMART, cable, dmesg) and run btrfs scrub start %s; if "
				 "the counters keep rising replace it; btrfs device stats -z %s resets "
				 "them once the cause is fixed",
				 b->mnt, b->mnt);
			f = vg_hl_add(out, VG_HEALTH_WARN, P, v->path, act, "%s in btrfs at %s has %s%s",
				      v->path, b->mnt, counts,
				      corrupt ? ": btrfs repaired them from the other copy" : "");
		}
		for (int k = 0; k < 5; k++)
			vg_hl_fig(out, f, stat_names[k], (int64_t)v->c[k]);
	}
}

static void eval_scrub(const struct bfs *b, const struct vg_health_eff *e,
		       struct vg_health_list *out)
{
	char act[300], date[32] = "?";
	snprintf(act, sizeof act,
		 "btrfs scrub start %s, and schedule it monthly (btrfsmaintenance's btrfs-scrub.timer "
		 "or a systemd timer)",
		 b->mnt);
	if (b->scrub_start > 0)
		vg_hl_date(b->scrub_start, date, sizeof date);
	if (b->uncorrectable) {
		char a2[600];
		snprintf(a2, sizeof a2,
			 "dmesg names the damaged files (BTRFS warning ... path: ...): restore them from a "
			 "backup taken before the damage, then scrub %s again",
			 b->mnt);
		struct vg_health_finding *f =
			vg_hl_add(out, VG_HEALTH_CRIT, P, b->mnt, a2,
				  "the last scrub of btrfs at %s (%s) found %llu uncorrectable errors (%s)",
				  b->mnt, date, (unsigned long long)b->uncorrectable, b->scrub_summary);
		vg_hl_fig(out, f, "uncorrectable_errors", (int64_t)b->uncorrectable);
	} else if (b->corrected) {
		vg_hl_add(out, VG_HEALTH_INFO, P, b->mnt, NULL,
			  "the last scrub of btrfs at %s (%s) corrected %llu errors (%s)", b->mnt, date,
			  (unsigned long long)b->corrected, b->scrub_summary);
	}
	switch (b->scrub) {
	case SC_NEVER:
		vg_health_scrub_age(out, b->mnt, 0, e->now, e->scrub_warn_days, e->scrub_crit_days, act);
		break;
	case SC_RUNNING:
		vg_hl_add(out, VG_HEALTH_INFO, VG_PROBE_SCRUB_AGE, b->mnt, NULL,
			  "scrub of btrfs at %s in progress since %s", b->mnt, date);
		break;
	case SC_ABORTED:
		vg_hl_add(out, VG_HEALTH_WARN, VG_PROBE_SCRUB_AGE, b->mnt, act,
			  "the last scrub of btrfs at %s (started %s) did not finish: no completed "
			  "scrub is on record",
			  b->mnt, date);
		break;
	case SC_FINISHED:
		vg_health_scrub_age(out, b->mnt, b->scrub_end, e->now, e->scrub_warn_days,
				    e->scrub_crit_days, act);
		break;
	case SC_UNKNOWN:
		break;
	}
}

int vg_btrfs_parse(const struct vg_btrfs_outputs *in, const char *mount,
		   const struct vg_health_opts *opts, struct vg_health_list *out)
{
	struct vg_health_eff e;
	vg_health_eff(opts, &e);
	struct bfs *b = calloc(1, sizeof *b);
	if (!b)
		return VG_ERR(VG_ENOMEM, "out of memory checking btrfs");
	b->mnt = mount ? mount : "btrfs";
	size_t first = out->n;
	if (in->stats)
		parse_stats(b, in->stats, in->stats_len, out);
	if (in->show)
		parse_show(b, in->show, in->show_len, out);
	if (in->usage)
		parse_usage(b, in->usage, in->usage_len, out);
	if (in->scrub)
		parse_scrub(b, in->scrub, in->scrub_len, out);
	eval_missing(b, out);
	if (b->have_usage || b->usage_nonroot)
		eval_profiles(b, out);
	if (b->have_stats)
		eval_stats(b, out);
	size_t before_scrub = out->n;
	if (in->scrub) /* even unparsable: uncorrectable errors it did name count */
		eval_scrub(b, &e, out);
	bool bad = false;
	for (size_t i = first; i < before_scrub; i++)
		bad |= out->v[i].level >= VG_HEALTH_WARN;
	if (!bad && b->have_stats && b->have_show && b->have_usage) {
		struct vg_health_finding *f = vg_hl_add(
			out, VG_HEALTH_OK, P, b->mnt, NULL,
			"btrfs at %s: %d device%s present, no I/O or corruption errors, %s chunks %s",
			b->mnt, b->listed_devs, b->listed_devs == 1 ? "" : "s",
			b->ncols ? b->types[0] : "", b->ncols ? b->profiles[0] : "");
		vg_hl_fig(out, f, "devices", b->listed_devs);
	}
	free(b);
	return vg_hl_status(out);
}
