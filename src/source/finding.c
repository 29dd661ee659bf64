/*
 * finding.c - finding lists, levels, the scrub-age rule, the one-paragraph
 * summary and the JSON form of a report (health.h, probe.h).
 *
 * Lists carry a sticky OOM flag (probe.h): a parser adds findings without
 * checking each allocation and the owner asks vg_hl_status() once.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "source/probe.h"

const char vg_health_go_cold[] =
	"go cold: stop writing to it (unmount it or make it read-only); copy out what can still "
	"be read, most precious first (vigil backup --rescue); image the disk with GNU ddrescue "
	"onto a healthy disk (ddrescue -n DISK IMAGE MAP, then retry passes) and work from the "
	"image; do not scrub, resilver or fsck the failing disk: every extra read may be its last";

const char *vg_health_level_name(enum vg_health_level l)
{
	switch (l) {
	case VG_HEALTH_OK: return "OK";
	case VG_HEALTH_INFO: return "INFO";
	case VG_HEALTH_WARN: return "WARN";
	case VG_HEALTH_CRIT: return "CRIT";
	}
	return "?";
}

const char *vg_health_probe_name(enum vg_health_probe p)
{
	switch (p) {
	case VG_PROBE_MOUNT: return "mount";
	case VG_PROBE_ZFS: return "zfs";
	case VG_PROBE_BTRFS: return "btrfs";
	case VG_PROBE_MD: return "md";
	case VG_PROBE_SMART: return "smart";
	case VG_PROBE_SCRUB_AGE: return "scrub-age";
	case VG_PROBE_STATE: return "state";
	}
	return "?";
}

static bool oom(const struct vg_health_list *l) { return l->oom; }
static void set_oom(struct vg_health_list *l) { l->oom = true; }

int vg_hl_status(const struct vg_health_list *l) { return oom(l) ? VG_ENOMEM : 0; }

char *vg_hl_strf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static void finding_free(struct vg_health_finding *f)
{
	free(f->subject);
	free(f->message);
	free(f->action);
	for (size_t i = 0; i < f->nfigs; i++) {
		free(f->figs[i].key);
		free(f->figs[i].str);
	}
	free(f->figs);
	memset(f, 0, sizeof *f);
}

void vg_health_list_release(struct vg_health_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		finding_free(&l->v[i]);
	free(l->v);
	for (size_t i = 0; i < l->nc; i++) {
		free(l->c[i].key);
		free(l->c[i].subject);
		free(l->c[i].name);
	}
	free(l->c);
	memset(l, 0, sizeof *l);
}

enum vg_health_level vg_health_list_level(const struct vg_health_list *l)
{
	enum vg_health_level m = VG_HEALTH_OK;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].level > m)
			m = l->v[i].level;
	return m;
}

bool vg_hl_grow(void **p, size_t *cap, size_t n, size_t elem, size_t max)
{
	if (n < *cap)
		return true;
	if (n >= max)
		return false;
	size_t nc = *cap ? *cap * 2 : 8;
	void *np = realloc(*p, nc * elem);
	if (!np)
		return false;
	memset((char *)np + *cap * elem, 0, (nc - *cap) * elem);
	*p = np;
	*cap = nc;
	return true;
}

static struct vg_health_finding *add_v(struct vg_health_list *l, enum vg_health_level lvl,
				       enum vg_health_probe probe, const char *subject,
				       const char *action, const char *fmt, va_list ap)
{
	if (oom(l))
		return NULL;
	if (l->n >= VG_HL_MAX_FINDINGS)
		return NULL; /* bounded: a hostile tool cannot grow the report forever */
	if (!vg_hl_grow((void **)&l->v, &l->cap, l->n, sizeof *l->v, VG_HL_MAX_FINDINGS)) {
		set_oom(l);
		return NULL;
	}
	struct vg_health_finding *f = &l->v[l->n];
	memset(f, 0, sizeof *f);
	f->level = lvl;
	f->probe = probe;
	f->subject = strdup(subject ? subject : "");
	f->action = action ? strdup(action) : NULL;
	if (vasprintf(&f->message, fmt, ap) < 0)
		f->message = NULL;
	if (!f->subject || !f->message || (action && !f->action)) {
		finding_free(f);
		set_oom(l);
		return NULL;
	}
	l->n++;
	return f;
}

struct vg_health_finding *vg_hl_add(struct vg_health_list *l, enum vg_health_level lvl,
				    enum vg_health_probe probe, const char *subject,
				    const char *action, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct vg_health_finding *f = add_v(l, lvl, probe, subject, action, fmt, ap);
	va_end(ap);
	return f;
}

static struct vg_health_fig *fig_slot(struct vg_health_list *l, struct vg_health_finding *f,
				      const char *key)
{
	if (!f || oom(l))
		return NULL;
	for (size_t i = 0; i < f->nfigs; i++)
		if (!strcmp(f->figs[i].key, key)) { /* callers reuse normalized keys */
			free(f->figs[i].str);
			f->figs[i].str = NULL;
			return &f->figs[i];
		}
	struct vg_health_fig *nf = realloc(f->figs, (f->nfigs + 1) * sizeof *nf);
	if (!nf) {
		set_oom(l);
		return NULL;
	}
	f->figs = nf;
	struct vg_health_fig *g = &nf[f->nfigs];
	memset(g, 0, sizeof *g);
	if (!(g->key = strdup(key))) {
		set_oom(l);
		return NULL;
	}
	/* Figure keys are snake_case identifiers ("pending (unreadable)
	 * sectors" -> "pending_unreadable_sectors"), usable as JSON keys. */
	char *w = g->key;
	for (const char *r = key; *r; r++) {
		char c = *r;
		bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
			keep = true;
		}
		if (keep)
			*w++ = c;
		else if (w > g->key && w[-1] != '_')
			*w++ = '_';
	}
	while (w > g->key && w[-1] == '_')
		w--;
	*w = 0;
	f->nfigs++;
	return g;
}

void vg_hl_fig(struct vg_health_list *l, struct vg_health_finding *f, const char *key, int64_t v)
{
	struct vg_health_fig *g = fig_slot(l, f, key);
	if (g) {
		g->is_num = true;
		g->num = v;
	}
}

void vg_hl_figs(struct vg_health_list *l, struct vg_health_finding *f, const char *key,
		const char *s)
{
	struct vg_health_fig *g = fig_slot(l, f, key);
	if (!g)
		return;
	g->is_num = false;
	if (!(g->str = strdup(s)))
		set_oom(l);
}

void vg_hl_append(struct vg_health_list *l, struct vg_health_finding *f, const char *fmt, ...)
{
	if (!f || oom(l))
		return;
	va_list ap;
	va_start(ap, fmt);
	char *tail = NULL;
	int r = vasprintf(&tail, fmt, ap);
	va_end(ap);
	char *m = r < 0 ? NULL : vg_hl_strf("%s%s", f->message, tail);
	free(tail);
	if (!m) {
		set_oom(l);
		return;
	}
	free(f->message);
	f->message = m;
}

void vg_hl_counter(struct vg_health_list *l, enum vg_health_probe probe, const char *key,
		   const char *subject, const char *name, uint64_t value,
		   enum vg_health_level rise_level)
{
	if (oom(l) || l->nc >= VG_HL_MAX_COUNTERS)
		return;
	if (!vg_hl_grow((void **)&l->c, &l->capc, l->nc, sizeof *l->c, VG_HL_MAX_COUNTERS)) {
		set_oom(l);
		return;
	}
	struct vg_health_counter *c = &l->c[l->nc];
	c->key = strdup(key);
	c->subject = strdup(subject);
	c->name = strdup(name);
	c->probe = probe;
	c->value = value;
	c->rise_level = rise_level;
	if (!c->key || !c->subject || !c->name) {
		free(c->key);
		free(c->subject);
		free(c->name);
		memset(c, 0, sizeof *c);
		set_oom(l);
		return;
	}
	l->nc++;
}

void vg_hl_merge(struct vg_health_list *dst, const struct vg_health_list *src)
{
	if (oom(src))
		set_oom(dst);
	for (size_t i = 0; i < src->n; i++) {
		const struct vg_health_finding *s = &src->v[i];
		struct vg_health_finding *f =
			vg_hl_add(dst, s->level, s->probe, s->subject, s->action, "%s", s->message);
		for (size_t k = 0; f && k < s->nfigs; k++) {
			if (s->figs[k].is_num)
				vg_hl_fig(dst, f, s->figs[k].key, s->figs[k].num);
			else
				vg_hl_figs(dst, f, s->figs[k].key, s->figs[k].str);
		}
	}
	for (size_t i = 0; i < src->nc; i++) {
		const struct vg_health_counter *c = &src->c[i];
		vg_hl_counter(dst, c->probe, c->key, c->subject, c->name, c->value, c->rise_level);
	}
}

struct vg_health_finding *vg_hl_find(struct vg_health_list *l, enum vg_health_probe probe,
				     const char *subject)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].probe == probe && !strcmp(l->v[i].subject, subject))
			return &l->v[i];
	return NULL;
}

void vg_hl_unparsable(struct vg_health_list *l, enum vg_health_probe probe, const char *subject,
		      const char *what, const char *why, const char *line, size_t n)
{
	char q[160], w[200];
	vg_hl_copy(q, n > 120 ? 121 : n + 1, line ? line : "", line ? n : 0);
	vg_hl_copy(w, sizeof w, why, strlen(why));
	why = w;
	struct vg_health_finding *f = vg_hl_add(
		l, VG_HEALTH_WARN, probe, subject,
		"the storage was NOT checked; run the command by hand to see its output, and report "
		"the output to the vigil developers if the tool works",
		"cannot parse %s: %s%s%s%s", what, why, line ? " at '" : "", line ? q : "",
		line ? "'" : "");
	vg_hl_figs(l, f, "parse_error", why);
}

int vg_health_scrub_age(struct vg_health_list *out, const char *subject, time_t last, time_t now,
			int warn_days, int crit_days, const char *action)
{
	if (warn_days <= 0)
		warn_days = 35;
	if (crit_days <= 0)
		crit_days = 2 * warn_days;
	struct vg_health_finding *f;
	if (last <= 0) {
		f = vg_hl_add(out, VG_HEALTH_WARN, VG_PROBE_SCRUB_AGE, subject, action,
			      "%s has no completed scrub on record: its data has never been verified",
			      subject);
		vg_hl_fig(out, f, "scrub_age_days", -1);
		return vg_hl_status(out);
	}
	char date[32];
	vg_hl_date(last, date, sizeof date);
	long long days = now > last ? (long long)(now - last) / 86400 : 0;
	enum vg_health_level lvl = days > crit_days   ? VG_HEALTH_CRIT
				   : days > warn_days ? VG_HEALTH_WARN
						      : VG_HEALTH_OK;
	if (lvl == VG_HEALTH_OK)
		f = vg_hl_add(out, lvl, VG_PROBE_SCRUB_AGE, subject, NULL,
			      "last scrub of %s completed %lld days ago (%s)", subject, days, date);
	else
		f = vg_hl_add(out, lvl, VG_PROBE_SCRUB_AGE, subject, action,
			      "last scrub of %s completed %lld days ago (%s), more than %d days: "
			      "silent corruption may have gone unnoticed since",
			      subject, days, date, lvl == VG_HEALTH_CRIT ? crit_days : warn_days);
	vg_hl_fig(out, f, "scrub_age_days", days);
	vg_hl_figs(out, f, "last_scrub", date);
	return vg_hl_status(out);
}

/* ---- report level: summary and JSON ---- */

void vg_health_report_release(struct vg_health_report *r)
{
	for (size_t i = 0; i < r->nsources; i++) {
		struct vg_health_source *s = &r->sources[i];
		free(s->path);
		free(s->fstype);
		free(s->device);
		free(s->mountpoint);
		free(s->storage);
		vg_health_list_release(&s->findings);
	}
	free(r->sources);
	memset(r, 0, sizeof *r);
}

/* Append to buf at *at without overflowing; truncation ends in "...". */
static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	if (*at + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= len - *at) {
		*at = len - 1;
		if (len > 4)
			memcpy(buf + len - 4, "...", 4);
		return;
	}
	*at += (size_t)n;
}

enum vg_health_level vg_health_summary(const struct vg_health_report *r, char *buf, size_t len)
{
	size_t at = 0;
	if (len)
		buf[0] = 0;
	enum vg_health_level v = r->verdict;
	put(buf, len, &at, "%s:", vg_health_level_name(v));
	if (v <= VG_HEALTH_INFO) {
		put(buf, len, &at, " the storage under");
		for (size_t i = 0; i < r->nsources; i++)
			put(buf, len, &at, "%s %s", i ? "," : "", r->sources[i].path);
		put(buf, len, &at, " is healthy.");
		return v;
	}
	/* Name every finding at the verdict's level (the ones that decided it),
	 * then the first action, so one paragraph says what and what to do. */
	const char *action = NULL;
	int named = 0;
	for (size_t i = 0; i < r->nsources; i++) {
		const struct vg_health_source *s = &r->sources[i];
		for (size_t k = 0; k < s->findings.n; k++) {
			const struct vg_health_finding *f = &s->findings.v[k];
			if (f->level != v)
				continue;
			put(buf, len, &at, "%s %s%s%s: %s", named ? ";" : "", s->path,
			    s->storage ? " on " : "", s->storage ? s->storage : "", f->message);
			if (!action && f->action)
				action = f->action;
			named++;
		}
	}
	put(buf, len, &at, ".");
	if (action)
		put(buf, len, &at, " Action: %s.", action);
	return v;
}

/* Outside text (paths, tool output) may not be UTF-8: never let that make
 * the whole document fail. */
static json_t *jstr(const char *s)
{
	if (!s)
		return NULL;
	json_t *j = json_string(s);
	if (j)
		return j;
	char *c = strdup(s);
	if (!c)
		return NULL;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	return j;
}

static json_t *finding_json(const struct vg_health_finding *f)
{
	json_t *figs = json_object();
	for (size_t i = 0; figs && i < f->nfigs; i++)
		json_object_set_new(figs, f->figs[i].key,
				    f->figs[i].is_num ? json_integer(f->figs[i].num)
						      : json_string(f->figs[i].str));
	return json_pack("{s:s, s:s, s:o, s:o, s:o*, s:o*}", "level",
			 vg_health_level_name(f->level), "probe", vg_health_probe_name(f->probe),
			 "subject", jstr(f->subject), "message", jstr(f->message), "action",
			 jstr(f->action), "figures", figs);
}

char *vg_health_report_json(const struct vg_health_report *r)
{
	json_t *srcs = json_array();
	for (size_t i = 0; srcs && i < r->nsources; i++) {
		const struct vg_health_source *s = &r->sources[i];
		json_t *fs = json_array();
		for (size_t k = 0; fs && k < s->findings.n; k++)
			json_array_append_new(fs, finding_json(&s->findings.v[k]));
		json_array_append_new(
			srcs, json_pack("{s:o, s:o*, s:o*, s:o*, s:o*, s:s, s:o*}", "path",
					jstr(s->path), "fstype", jstr(s->fstype), "device",
					jstr(s->device), "mountpoint", jstr(s->mountpoint), "storage",
					jstr(s->storage), "verdict", vg_health_level_name(s->verdict),
					"findings", fs));
	}
	char summary[2048];
	vg_health_summary(r, summary, sizeof summary);
	json_t *root = json_pack("{s:s, s:o, s:I, s:o*}", "verdict", vg_health_level_name(r->verdict),
				 "summary", jstr(summary), "elapsed_ms", (json_int_t)r->elapsed_ms,
				 "sources", srcs);
	char *out = root ? json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
	json_decref(root);
	return out;
}
