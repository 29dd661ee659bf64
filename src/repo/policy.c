/*
 * policy.c - retention rules over a list of snapshots (see policy.h).
 *
 * Per group, snapshots are visited newest first.  Each periodic rule
 * remembers the period of the last snapshot it kept; a healthy snapshot in
 * a new period is kept and uses up one of the rule's N.  Unhealthy
 * snapshots are invisible to the counting rules, so they can never push a
 * healthy snapshot out.
 */
#include "repo/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"

#define NRULES 6 /* last, hourly, daily, weekly, monthly, yearly */

bool vg_policy_any(const struct vg_policy *p)
{
	return p->last || p->hourly || p->daily || p->weekly || p->monthly || p->yearly || p->within_ns > 0;
}

/* The period a time falls in, for rule r (1 hourly .. 5 yearly); local time. */
static int64_t period(int r, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	if (ns < 0 && ns % 1000000000)
		t--;
	struct tm tm;
	localtime_r(&t, &tm);
	int64_t y = tm.tm_year + 1900;
	switch (r) {
	case 1: return ((y * 12 + tm.tm_mon) * 31 + tm.tm_mday) * 24 + tm.tm_hour;
	case 2: return (y * 12 + tm.tm_mon) * 31 + tm.tm_mday;
	case 3: {
		char buf[16];
		strftime(buf, sizeof buf, "%G %V", &tm); /* ISO 8601 year and week */
		int gy = 0, gw = 0;
		sscanf(buf, "%d %d", &gy, &gw);
		return (int64_t)gy * 100 + gw;
	}
	case 4: return y * 12 + tm.tm_mon;
	default: return y;
	}
}

static bool same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

static bool same_group(const struct vg_policy *p, const struct vg_policy_snap *a, const struct vg_policy_snap *b)
{
	return (!p->by_host || !strcmp(a->host ? a->host : "", b->host ? b->host : "")) &&
	       (!p->by_tags || same_list(a->tags, a->ntags, b->tags, b->ntags)) &&
	       (!p->by_paths || same_list(a->paths, a->npaths, b->paths, b->npaths));
}

static int newest_first(const void *x, const void *y, void *ctx)
{
	const struct vg_policy_snap *s = ctx;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	if (s[a].time_ns != s[b].time_ns)
		return s[a].time_ns < s[b].time_ns ? 1 : -1;
	return (a > b) - (a < b);
}

/* A small insertion sort with a context: snapshot counts are modest and
 * qsort_r is not C17. */
static void sort_idx(size_t *v, size_t n, const struct vg_policy_snap *s)
{
	for (size_t i = 1; i < n; i++) {
		size_t t = v[i], j = i;
		while (j > 0 && newest_first(&v[j - 1], &t, (void *)s) > 0) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = t;
	}
}

/* One group, its members in v[0..n) newest first. */
static void apply_group(const struct vg_policy *p, const struct vg_policy_snap *s, const size_t *v, size_t n,
			unsigned *keep)
{
	int count[NRULES] = {p->last, p->hourly, p->daily, p->weekly, p->monthly, p->yearly};
	int64_t last[NRULES];
	bool have[NRULES] = {false};
	int64_t newest = n ? s[v[0]].time_ns : 0, newest_ok = INT64_MIN;
	size_t oldest_ok = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		const struct vg_policy_snap *x = &s[v[i]];
		unsigned k = 0;
		if (p->within_ns > 0 && newest - x->time_ns < p->within_ns)
			k |= VG_KEEP_WITHIN;
		if (!x->healthy) {
			if (newest_ok == INT64_MIN)
				k |= VG_KEEP_UNHEALTHY;
			keep[v[i]] = k;
			continue;
		}
		if (newest_ok == INT64_MIN)
			newest_ok = x->time_ns;
		oldest_ok = v[i];
		for (int r = 0; r < NRULES; r++) {
			if (count[r] == 0)
				continue;
			int64_t per = r == 0 ? (int64_t)i : period(r, x->time_ns);
			if (have[r] && per == last[r])
				continue;
			have[r] = true;
			last[r] = per;
			k |= 1u << r;
			if (count[r] > 0)
				count[r]--;
		}
		keep[v[i]] = k;
	}
	/* restic: a periodic rule that ran out of periods before its N also
	 * keeps the oldest snapshot (here: the oldest healthy one). */
	for (int r = 1; r < NRULES && oldest_ok != SIZE_MAX; r++)
		if (count[r] > 0)
			keep[oldest_ok] |= VG_KEEP_OLDEST;
}

int vg_policy_apply(const struct vg_policy *p, const struct vg_policy_snap *s, size_t n, unsigned *keep,
		    size_t *group)
{
	size_t *gid = calloc(n ? n : 1, sizeof *gid), *v = malloc((n ? n : 1) * sizeof *v);
	size_t *rep = malloc((n ? n : 1) * sizeof *rep), ngroups = 0;
	int err = 0;
	if (!gid || !v || !rep) {
		err = VG_ERR(VG_ENOMEM, "out of memory applying the policy");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t g = 0;
		while (g < ngroups && !same_group(p, &s[rep[g]], &s[i]))
			g++;
		if (g == ngroups)
			rep[ngroups++] = i;
		gid[i] = g;
		if (group)
			group[i] = g;
	}
	for (size_t g = 0; g < ngroups; g++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (gid[i] == g)
				v[m++] = i;
		sort_idx(v, m, s);
		apply_group(p, s, v, m, keep);
	}
out:
	free(gid);
	free(v);
	free(rep);
	return err;
}

const char *vg_keep_str(unsigned keep)
{
	static const char *names[] = {"last", "hourly", "daily", "weekly", "monthly", "yearly",
				      "within", "oldest", "unhealthy"};
	static char buf[128];
	buf[0] = 0;
	for (int i = 0; i < 9; i++)
		if (keep & (1u << i))
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", buf[0] ? "," : "", names[i]);
	return buf;
}

int vg_policy_duration(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t secs;
	} units[] = {{"min", 60}, {"y", 365 * 86400}, {"m", 30 * 86400}, {"w", 7 * 86400},
		     {"d", 86400},  {"h", 3600},         {"s", 1}};
	const char *p = s;
	int64_t total = 0;
	if (!*p)
		return VG_ERR(VG_EINVAL, "empty duration");
	while (*p) {
		if (*p < '0' || *p > '9')
			return VG_ERR(VG_EINVAL, "bad duration '%s': expected a number at '%s'", s, p);
		int64_t v = 0;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (*p++ - '0');
			if (v > 1000000000)
				return VG_ERR(VG_EINVAL, "duration '%s' is too long", s);
		}
		size_t i = 0;
		while (i < sizeof units / sizeof units[0] && strncmp(p, units[i].unit, strlen(units[i].unit)))
			i++;
		if (i == sizeof units / sizeof units[0])
			return VG_ERR(VG_EINVAL, "bad duration '%s': unknown unit at '%s' (use y, m, w, d, h, min, s)", s,
				      p);
		p += strlen(units[i].unit);
		total += v * units[i].secs;
		if (total > INT64_MAX / 1000000000 / 2)
			return VG_ERR(VG_EINVAL, "duration '%s' is too long", s);
	}
	*out = total * 1000000000;
	return 0;
}
