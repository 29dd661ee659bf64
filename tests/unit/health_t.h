/*
 * health_t.h - functions shared by the health-gate unit tests: fixture
 * loading, "now" as a UTC date, and table checks of findings.
 *
 * Every health test runs with TZ=UTC so the ctime() dates inside fixtures
 * mean the same instant on every machine.
 */
#ifndef VG_TESTS_HEALTH_T_H
#define VG_TESTS_HEALTH_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "source/health.h"
#include "t.h"

__attribute__((constructor)) static void health_t_utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

static inline const char *fixture_path(const char *name)
{
	static char p[1024];
	const char *root = getenv("VG_ROOT");
	snprintf(p, sizeof p, "%s/tests/fixtures/health/%s", root ? root : ".", name);
	return p;
}

static inline char *fixture(const char *name, size_t *len)
{
	char *b = t_read_file(fixture_path(name), len);
	if (!b)
		t_fail(__FILE__, __LINE__, "cannot read fixture %s", name);
	return b;
}

/* "2023-11-20" or "2023-11-20 12:00:00" as UTC epoch seconds. */
static inline time_t utc(const char *s)
{
	struct tm tm = {0};
	if (!strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) {
		memset(&tm, 0, sizeof tm);
		strptime(s, "%Y-%m-%d", &tm);
	}
	return timegm(&tm);
}

static inline void dump(const struct vg_health_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(stderr, "    [%s %s %s] %s%s%s\n", vg_health_level_name(l->v[i].level),
			vg_health_probe_name(l->v[i].probe), l->v[i].subject, l->v[i].message,
			l->v[i].action ? " || action: " : "", l->v[i].action ? l->v[i].action : "");
}

/* Some finding (of at least min level, when min >= 0) whose message holds
 * every needle ('|'-separated). */
static inline const struct vg_health_finding *has(const struct vg_health_list *l, int min,
						  const char *needles)
{
	for (size_t i = 0; i < l->n; i++) {
		if (min >= 0 && (int)l->v[i].level < min)
			continue;
		char buf[512];
		snprintf(buf, sizeof buf, "%s", needles);
		bool all = true;
		for (char *save = NULL, *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save))
			all &= strstr(l->v[i].message, t) != NULL;
		if (all)
			return &l->v[i];
	}
	return NULL;
}

/* Garbage of n bytes for seed: raw bytes, or printable ones (odd seeds),
 * optionally starting with a plausible prefix. */
static inline void garbage(char *buf, size_t n, uint64_t seed, const char *prefix)
{
	t_fill(buf, n, seed);
	for (size_t i = 0; (seed & 1) && i < n; i++)
		buf[i] = (char)(' ' + (unsigned char)buf[i] % 95);
	if (prefix && seed % 5 == 0)
		memcpy(buf, prefix, n < strlen(prefix) ? n : strlen(prefix));
}

/* One row of a table-driven parser test. */
struct hcase {
	const char *fixture;
	const char *subject; /* pool / device filter, or NULL */
	const char *now;     /* UTC date */
	enum vg_health_level want;
	const char *msg[4];  /* each must match some finding ('|' = and) */
	const char *action;  /* some action must contain it, or NULL */
	size_t cut;          /* > 0: feed only the first cut bytes (truncated output) */
};

/* Check a list against a row; on failure dump it and fail the test. */
#define HCHECK(c, l)                                                                              \
	do {                                                                                      \
		enum vg_health_level got_ = vg_health_list_level(l);                              \
		bool ok_ = got_ == (c)->want;                                                     \
		const char *miss_ = NULL;                                                         \
		for (int k_ = 0; k_ < 4 && (c)->msg[k_]; k_++)                                    \
			if (!has(l, -1, (c)->msg[k_]))                                            \
				miss_ = (c)->msg[k_], ok_ = false;                                \
		bool act_ = !(c)->action;                                                         \
		for (size_t i_ = 0; !act_ && i_ < (l)->n; i_++)                                   \
			act_ = (l)->v[i_].action && strstr((l)->v[i_].action, (c)->action);      \
		if (!ok_ || !act_) {                                                              \
			dump(l);                                                                  \
			t_fail(__FILE__, __LINE__, "%s: level %s (want %s)%s%s%s", (c)->fixture, \
			       vg_health_level_name(got_), vg_health_level_name((c)->want),       \
			       miss_ ? ", no finding with '" : "", miss_ ? miss_ : "",              \
			       miss_ ? "'" : (!act_ ? ", action missing" : ""));                    \
		}                                                                                 \
	} while (0)

#endif
