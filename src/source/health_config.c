/*
 * health_config.c - the [health] and [source "NAME"] sections of the config
 * file (health_config.h), parsed with inih.
 */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/paths.h"
#include "source/health_config.h"

#define VALUE_MAX 4096

struct pstate {
	struct vg_health_config *cfg;
	const char *file;
	const char *section; /* Debian's inih passes no line numbers: name the section */
	int err;
	char msg[4700];
};

static int fail(struct pstate *p, int unused, const char *fmt, const char *a, const char *b)
{
	(void)unused;
	if (!p->err) {
		char what[400];
		snprintf(what, sizeof what, fmt, a, b);
		snprintf(p->msg, sizeof p->msg, "%s: [%.200s]: %s", p->file, p->section, what);
		p->err = VG_EINVAL;
	}
	return 0; /* stop inih */
}

static bool parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
		*out = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
		 !strcasecmp(v, "off"))
		*out = 0;
	else
		return false;
	return true;
}

static bool parse_int(const char *v, int max, int *out)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end || x <= 0 || x > max)
		return false;
	*out = (int)x;
	return true;
}

/* `source "NAME"` -> NAME (quotes required, as in git's config). */
static bool source_name(const char *section, char *out, size_t cap)
{
	if (strncmp(section, "source", 6))
		return false;
	const char *q = section + 6;
	while (*q == ' ' || *q == '\t')
		q++;
	size_t n = strlen(q);
	if (n < 3 || q[0] != '"' || q[n - 1] != '"' || n - 2 >= cap)
		return false;
	memcpy(out, q + 1, n - 2);
	out[n - 2] = 0;
	return !strchr(out, '"');
}

static struct vg_health_config_source *source_get(struct pstate *p, const char *name, int line)
{
	struct vg_health_config *c = p->cfg;
	for (size_t i = 0; i < c->nsources; i++)
		if (!strcmp(c->sources[i].name, name))
			return &c->sources[i];
	if (c->nsources == VG_HEALTH_MAX_SOURCES) {
		fail(p, line, "more than %s sources%s", "256", "");
		return NULL;
	}
	struct vg_health_config_source *ns =
		realloc(c->sources, (c->nsources + 1) * sizeof *ns);
	if (!ns) {
		p->err = VG_ERR(VG_ENOMEM, "out of memory reading the config");
		return NULL;
	}
	c->sources = ns;
	struct vg_health_config_source *s = &ns[c->nsources];
	memset(s, 0, sizeof *s);
	if (!(s->name = strdup(name))) {
		p->err = VG_ERR(VG_ENOMEM, "out of memory reading the config");
		return NULL;
	}
	c->nsources++;
	return s;
}

static bool set_str(struct pstate *p, char **dst, const char *v)
{
	free(*dst);
	if (!(*dst = strdup(v)))
		p->err = VG_ERR(VG_ENOMEM, "out of memory reading the config");
	return *dst != NULL;
}

static int source_key(struct pstate *p, struct vg_health_config_source *s, const char *key,
		      const char *v, int line)
{
	int b;
	if (!strcmp(key, "path")) {
		if (v[0] != '/')
			return fail(p, line, "path of source '%s' must be absolute, not '%s'", s->name, v);
		return set_str(p, &s->path, v);
	}
	if (!strcmp(key, "zfs-pool"))
		return set_str(p, &s->zfs_pool, v);
	if (!strcmp(key, "btrfs-mount"))
		return set_str(p, &s->btrfs_mount, v);
	if (!strcmp(key, "md-device"))
		return set_str(p, &s->md_device, v);
	if (!strcmp(key, "allow-uninspectable")) {
		if (!parse_bool(v, &b))
			return fail(p, line, "allow-uninspectable wants yes or no, not '%s'%s", v, "");
		s->hint.allow_uninspectable = b;
		return 1;
	}
	if (!strcmp(key, "on-critical")) {
		if (!strcmp(v, "refuse"))
			s->on_critical = VG_ON_CRITICAL_REFUSE;
		else if (!strcmp(v, "suspect"))
			s->on_critical = VG_ON_CRITICAL_SUSPECT;
		else
			return fail(p, line, "on-critical wants refuse or suspect, not '%s'%s", v, "");
		return 1;
	}
	if (!strcmp(key, "disks")) {
		size_t n = 0;
		for (size_t i = 0; s->disks[i]; i++)
			free(s->disks[i]);
		memset(s->disks, 0, sizeof s->disks);
		char *copy = strdup(v), *save = NULL;
		if (!copy) {
			p->err = VG_ERR(VG_ENOMEM, "out of memory reading the config");
			return 0;
		}
		for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
			if (n == VG_HEALTH_MAX_DISKS) {
				free(copy);
				return fail(p, line, "more than %s disks in source '%s'", "32", s->name);
			}
			if (!(s->disks[n++] = strdup(t)))
				p->err = VG_ERR(VG_ENOMEM, "out of memory reading the config");
		}
		free(copy);
		return !p->err;
	}
	return 1; /* keys of other modules (backup excludes, ...) */
}

static int health_key(struct pstate *p, const char *key, const char *v, int line)
{
	struct vg_health_config *c = p->cfg;
	if (!strcmp(key, "scrub-warn-days") || !strcmp(key, "scrub-crit-days")) {
		int *dst = key[6] == 'w' ? &c->scrub_warn_days : &c->scrub_crit_days;
		if (!parse_int(v, 36500, dst))
			return fail(p, line, "%s wants a number of days, not '%s'", key, v);
		return 1;
	}
	if (!strcmp(key, "timeout")) {
		if (!parse_int(v, 3600, &c->timeout_s))
			return fail(p, line, "timeout wants seconds (1-3600), not '%s'%s", v, "");
		return 1;
	}
	if (!strcmp(key, "allow-uninspectable") || !strcmp(key, "smart")) {
		int *dst = key[0] == 'a' ? &c->allow_uninspectable : &c->smart;
		if (!parse_bool(v, dst))
			return fail(p, line, "%s wants yes or no, not '%s'", key, v);
		return 1;
	}
	if (!strcmp(key, "state-file"))
		return set_str(p, &c->state_file, v);
	return fail(p, line, "unknown key '%s' in [health]%s", key, "");
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct pstate *p = user;
	const int line = 0;
	p->section = section;
	if (p->err)
		return 0;
	if (strlen(value) > VALUE_MAX)
		return fail(p, line, "value of '%s' is too long%s", key, "");
	char name[256];
	if (!strcmp(section, "health"))
		return health_key(p, key, value, line);
	if (source_name(section, name, sizeof name)) {
		struct vg_health_config_source *s = source_get(p, name, line);
		return s ? source_key(p, s, key, value, line) : 0;
	}
	if (!strncmp(section, "source", 6))
		return fail(p, line, "bad section [%s]: write [source \"NAME\"]%s", section, "");
	return 1; /* other modules' sections */
}

void vg_health_config_release(struct vg_health_config *cfg)
{
	for (size_t i = 0; i < cfg->nsources; i++) {
		struct vg_health_config_source *s = &cfg->sources[i];
		free(s->name);
		free(s->path);
		free(s->zfs_pool);
		free(s->btrfs_mount);
		free(s->md_device);
		for (size_t k = 0; s->disks[k]; k++)
			free(s->disks[k]);
	}
	free(cfg->sources);
	free(cfg->state_file);
	free(cfg->file);
	memset(cfg, 0, sizeof *cfg);
}

int vg_health_config_load(const char *explicit_path, struct vg_health_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->allow_uninspectable = cfg->smart = -1;
	char path[4096];
	int is_default = 0;
	int err = vg_config_path(explicit_path, path, sizeof path, &is_default);
	if (err)
		return err;
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && is_default)
			return 0;
		return VG_ERRNO(errno, "cannot read config file '%s'", path);
	}
	struct pstate p = {.cfg = cfg, .file = path};
	int rc = ini_parse_file(f, handler, &p);
	fclose(f);
	if (!p.err && rc != 0) {
		snprintf(p.msg, sizeof p.msg, "%s:%d: cannot parse this line", path, rc);
		p.err = VG_EINVAL;
	}
	for (size_t i = 0; !p.err && i < cfg->nsources; i++) {
		struct vg_health_config_source *s = &cfg->sources[i];
		if (!s->path) {
			snprintf(p.msg, sizeof p.msg, "%s: source '%s' has no path", path, s->name);
			p.err = VG_EINVAL;
		}
		s->hint.zfs_pool = s->zfs_pool;
		s->hint.btrfs_mount = s->btrfs_mount;
		s->hint.md_device = s->md_device;
		s->hint.disks = s->disks[0] ? (const char *const *)s->disks : NULL;
	}
	if (!p.err && !(cfg->file = strdup(path)))
		p.err = VG_ERR(VG_ENOMEM, "out of memory reading the config");
	if (p.err) {
		if (p.err != VG_ENOMEM)
			VG_ERR(p.err, "%s", p.msg);
		vg_health_config_release(cfg);
		return p.err;
	}
	return 0;
}

void vg_health_config_apply(const struct vg_health_config *cfg, struct vg_health_opts *o)
{
	if (!o->scrub_warn_days)
		o->scrub_warn_days = cfg->scrub_warn_days;
	if (!o->scrub_crit_days)
		o->scrub_crit_days = cfg->scrub_crit_days;
	if (!o->timeout_ms && cfg->timeout_s)
		o->timeout_ms = cfg->timeout_s * 1000;
	if (!o->allow_uninspectable && cfg->allow_uninspectable == 1)
		o->allow_uninspectable = true;
	if (!o->no_smart && cfg->smart == 0)
		o->no_smart = true;
	if (!o->state_file && cfg->state_file)
		o->state_file = cfg->state_file;
}

const struct vg_health_config_source *vg_health_config_source(const struct vg_health_config *cfg,
							      const char *path)
{
	const struct vg_health_config_source *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < cfg->nsources; i++) {
		const char *sp = cfg->sources[i].path;
		size_t l = strlen(sp);
		while (l > 1 && sp[l - 1] == '/')
			l--;
		bool holds = !strncmp(path, sp, l) && (path[l] == 0 || path[l] == '/' || l == 1);
		if (holds && (!best || l > best_len)) {
			best = &cfg->sources[i];
			best_len = l;
		}
	}
	return best;
}

struct vg_health_hint vg_health_config_hint(const struct vg_health_config *cfg, const char *path)
{
	const struct vg_health_config_source *s = vg_health_config_source(cfg, path);
	struct vg_health_hint none = {0};
	return s ? s->hint : none;
}
