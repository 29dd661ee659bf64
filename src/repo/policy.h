/*
 * policy.h - which snapshots a retention policy keeps (pure logic).
 *
 * restic's `forget` semantics are the model (docs/MANUAL.md, "forget and
 * prune"): snapshots are split into groups (by host, tags and/or paths),
 * and in each group, walking from the newest to the oldest:
 *
 *   keep-last N        the N newest;
 *   keep-hourly N ...  for each of the last N hours (days, ISO weeks,
 *   keep-yearly N      months, years; local time) that hold a snapshot,
 *                      the newest one in it; when fewer than N such
 *                      periods exist, the oldest snapshot is kept too;
 *   keep-within D      every snapshot less than D older than the group's
 *                      newest snapshot.
 *
 * N < 0 means unlimited.  A snapshot kept by any rule stays.
 *
 * Health (the law "never preserve garbage"): only snapshots whose
 * verdict is ok count toward keep-last and the periodic rules; a suspect
 * or incomplete snapshot never takes a healthy one's place.  It is kept
 * while it is newer than the newest healthy snapshot of its group (it may
 * be the only record of recent changes, and the health gate must be
 * answered first), or within keep-within; otherwise it is forgotten.
 */
#ifndef VG_REPO_POLICY_H
#define VG_REPO_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vg_policy {
	int last, hourly, daily, weekly, monthly, yearly; /* 0: rule off; < 0: unlimited */
	int64_t within_ns;                                 /* 0: rule off */
	bool by_host, by_tags, by_paths;                   /* grouping */
};

/* Why a snapshot is kept (a mask); 0 means it is forgotten. */
enum vg_keep {
	VG_KEEP_LAST = 1 << 0,
	VG_KEEP_HOURLY = 1 << 1,
	VG_KEEP_DAILY = 1 << 2,
	VG_KEEP_WEEKLY = 1 << 3,
	VG_KEEP_MONTHLY = 1 << 4,
	VG_KEEP_YEARLY = 1 << 5,
	VG_KEEP_WITHIN = 1 << 6,
	VG_KEEP_OLDEST = 1 << 7,    /* a periodic rule ran short of periods */
	VG_KEEP_UNHEALTHY = 1 << 8, /* not healthy, newer than the newest healthy one */
};

struct vg_policy_snap {
	int64_t time_ns;
	const char *host;
	char *const *tags;
	size_t ntags;
	char *const *paths;
	size_t npaths;
	bool healthy; /* verdict ok */
};

/* True if the policy has at least one rule. */
bool vg_policy_any(const struct vg_policy *p);
/* keep[i] receives the reasons snapshot i is kept (0: forget it).
 * group[i] (optional) receives its group number (0-based, groups numbered
 * in order of their first snapshot in s).  Snapshots may come in any
 * order. */
int vg_policy_apply(const struct vg_policy *p, const struct vg_policy_snap *s, size_t n, unsigned *keep,
		    size_t *group);
/* "last,daily" etc. for a keep mask (static buffer). */
const char *vg_keep_str(unsigned keep);
/* Parse a duration like "1y5m7d2h30min", "90d", "12h" (y = 365 days,
 * m = 30 days, w, d, h, min, s) into ns; VG_EINVAL naming it. */
int vg_policy_duration(const char *s, int64_t *out);

#endif
