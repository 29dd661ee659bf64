/*
 * config_get.c - typed accessors over parsed config sections (config.h).
 *
 * Every error names where the value came from: "file:line: [kind \"name\"]
 * key: what is wrong; what to write instead".
 */
#include "config/config_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"

const struct vg_config_section *vg_config_section_at(const struct vg_config *cfg, size_t i)
{
	return i < cfg->nsecs ? cfg->secs[i] : NULL;
}

const struct vg_config_section *vg_config_find(const struct vg_config *cfg, const char *kind,
					      const char *name)
{
	for (size_t i = 0; cfg && i < cfg->nsecs; i++) {
		const struct vg_config_section *s = cfg->secs[i];
		if (strcmp(s->kind, kind))
			continue;
		if (!name ? !s->name : (s->name && !strcmp(s->name, name)))
			return s;
	}
	return NULL;
}

const char *vg_config_section_kind(const struct vg_config_section *sec) { return sec->kind; }
const char *vg_config_section_name(const struct vg_config_section *sec) { return sec->name; }
int vg_config_section_line(const struct vg_config_section *sec) { return sec->line; }

static const char *where_at(const struct vg_config_section *sec, const char *key, int line,
			    char *buf, size_t len)
{
	if (sec->name)
		snprintf(buf, len, "%s:%d: [%s \"%s\"] %s", sec->cfg->origin, line, sec->kind,
			 sec->name, key);
	else
		snprintf(buf, len, "%s:%d: [%s] %s", sec->cfg->origin, line, sec->kind, key);
	return buf;
}

/* The single entry for key: NULL if absent; VG_EINVAL via *err if repeated. */
static const struct vg_config_entry *single(const struct vg_config_section *sec, const char *key,
					    int *err)
{
	const struct vg_config_entry *found = NULL;
	*err = 0;
	for (size_t i = 0; sec && i < sec->nents; i++) {
		const struct vg_config_entry *e = &sec->ents[i];
		if (strcmp(e->key, key))
			continue;
		if (found) {
			char w[512];
			*err = VG_ERR(VG_EINVAL, "%s: given twice (lines %d and %d); keep one",
				      where_at(sec, key, e->line, w, sizeof w), found->line, e->line);
			return NULL;
		}
		found = e;
	}
	return found;
}

const char *vg_config_where(const struct vg_config_section *sec, const char *key, char *buf,
			    size_t len)
{
	int err;
	const struct vg_config_entry *e = single(sec, key, &err);
	return where_at(sec, key, e ? e->line : sec->line, buf, len);
}

/* Errors must not quote secret values: they would reach the terminal. */
static const char *shown(const struct vg_config_entry *e)
{
	return vg_config_key_is_secret(e->key) ? "(secret value)" : e->value;
}

#define BAD(sec, e, ...)                                                                   \
	do {                                                                               \
		char w_[512], m_[1200];                                                     \
		snprintf(m_, sizeof m_, __VA_ARGS__);                                      \
		return VG_ERR(VG_EINVAL, "%s: %s", where_at(sec, (e)->key, (e)->line, w_,  \
							    sizeof w_),                    \
			      m_);                                                         \
	} while (0)

int vg_config_get_str(const struct vg_config_section *sec, const char *key, const char **out)
{
	int err;
	const struct vg_config_entry *e = single(sec, key, &err);
	if (!e)
		return err ? err : VG_ENOENT;
	*out = e->value;
	return 0;
}

int vg_config_get_bool(const struct vg_config_section *sec, const char *key, bool *out)
{
	int err;
	const struct vg_config_entry *e = single(sec, key, &err);
	if (!e)
		return err ? err : VG_ENOENT;
	static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(e->value, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(e->value, no[i])) {
			*out = false;
			return 0;
		}
	}
	BAD(sec, e, "'%s' is not a yes/no value; write yes or no", shown(e));
}

static bool parse_ll(const char *s, long long *v, char **end)
{
	errno = 0;
	*v = strtoll(s, end, 10);
	return errno == 0 && *end != s && (isdigit((unsigned char)s[0]) || s[0] == '-');
}

int vg_config_get_int(const struct vg_config_section *sec, const char *key, long long min,
		      long long max, long long *out)
{
	int err;
	const struct vg_config_entry *e = single(sec, key, &err);
	if (!e)
		return err ? err : VG_ENOENT;
	long long v;
	char *end;
	if (!parse_ll(e->value, &v, &end) || *end)
		BAD(sec, e, "'%s' is not a whole number", shown(e));
	if (v < min || v > max)
		BAD(sec, e, "%lld is out of range; use %lld to %lld", v, min, max);
	*out = v;
	return 0;
}

int vg_config_get_duration(const struct vg_config_section *sec, const char *key, long long min_ms,
			   long long max_ms, long long *out_ms)
{
	int err;
	const struct vg_config_entry *e = single(sec, key, &err);
	if (!e)
		return err ? err : VG_ENOENT;
	static const struct {
		const char *unit;
		long long ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"", 1000}};
	long long v;
	char *end;
	if (parse_ll(e->value, &v, &end) && v >= 0) {
		while (*end == ' ')
			end++;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
			if (strcmp(end, units[i].unit))
				continue;
			if (v > LLONG_MAX / units[i].ms)
				break;
			v *= units[i].ms;
			if (v < min_ms || v > max_ms)
				BAD(sec, e, "'%s' is out of range; use %llds to %llds", e->value,
				    min_ms / 1000, max_ms / 1000);
			*out_ms = v;
			return 0;
		}
	}
	BAD(sec, e, "'%s' is not a duration such as 30s, 5m, 24h or 7d", shown(e));
}

int vg_config_get_enum(const struct vg_config_section *sec, const char *key,
		       const char *const *names, int *out)
{
	int err;
	const struct vg_config_entry *e = single(sec, key, &err);
	if (!e)
		return err ? err : VG_ENOENT;
	char list[256] = "";
	for (int i = 0; names[i]; i++) {
		if (!strcmp(e->value, names[i])) {
			*out = i;
			return 0;
		}
		if (strlen(list) + strlen(names[i]) + 3 < sizeof list) {
			if (i)
				strcat(list, ", ");
			strcat(list, names[i]);
		}
	}
	BAD(sec, e, "'%s' is not one of: %s", shown(e), list);
}

int vg_config_get_set(const struct vg_config_section *sec, const char *key,
		      const char *const *names, unsigned *out)
{
	int err;
	const struct vg_config_entry *e = single(sec, key, &err);
	if (!e)
		return err ? err : VG_ENOENT;
	unsigned set = 0;
	const char *p = e->value;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t n = strcspn(p, ", \t");
		if (!n)
			break;
		int found = -1;
		for (int i = 0; names[i] && i < 32; i++)
			if (strlen(names[i]) == n && !strncmp(p, names[i], n))
				found = i;
		if (found < 0) {
			char list[400] = "";
			for (int i = 0; names[i]; i++)
				if (strlen(list) + strlen(names[i]) + 3 < sizeof list) {
					if (i)
						strcat(list, ", ");
					strcat(list, names[i]);
				}
			BAD(sec, e, "'%.*s' is not one of: %s", (int)n, p, list);
		}
		set |= 1u << found;
		p += n;
	}
	if (!set)
		BAD(sec, e, "empty list; name at least one value or remove the key");
	*out = set;
	return 0;
}

int vg_config_next(const struct vg_config_section *sec, const char *key, size_t *iter,
		   const char **value, int *line)
{
	for (; sec && *iter < sec->nents; (*iter)++) {
		const struct vg_config_entry *e = &sec->ents[*iter];
		if (strcmp(e->key, key))
			continue;
		*value = e->value;
		if (line)
			*line = e->line;
		(*iter)++;
		return 1;
	}
	return 0;
}

int vg_config_check_keys(const struct vg_config_section *sec, const char *const *allowed)
{
	for (size_t i = 0; sec && i < sec->nents; i++) {
		const struct vg_config_entry *e = &sec->ents[i];
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(*a, e->key);
		if (!ok) {
			char list[400] = "";
			for (const char *const *a = allowed; *a; a++)
				if (strlen(list) + strlen(*a) + 3 < sizeof list) {
					if (a != allowed)
						strcat(list, ", ");
					strcat(list, *a);
				}
			BAD(sec, e, "unknown key; known keys here: %s", list);
		}
	}
	return 0;
}
