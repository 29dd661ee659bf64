/*
 * config.c - loading the config file with inih and the secrets registry
 * (config.h).  Typed accessors are in config_get.c.
 *
 * inih is fed line by line through ini_parse_stream() with our own reader,
 * which counts lines (inih's handler is not told the line number) and
 * which only ever sees lines already checked to fit inih's 200-byte line
 * buffer.  Continuation lines (inih's multi-line values) would arrive as a
 * second value of the same key and are reported as a duplicate key.
 */
#include "config/config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"

#define READING "reading the config file"
#include "os/fs.h"
#include "base/paths.h"

struct reader {
	const char *p, *end;
	int line;
	int header_line; /* line of the last [section] header read */
	bool new_header; /* a header was read since the handler last ran */
};

struct parse {
	struct vg_config *cfg;
	struct reader rd;
	int err;
};

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static char *read_line(char *str, int num, void *stream)
{
	struct reader *rd = stream;
	if (rd->p >= rd->end)
		return NULL;
	const char *nl = memchr(rd->p, '\n', (size_t)(rd->end - rd->p));
	size_t n = nl ? (size_t)(nl - rd->p) + 1 : (size_t)(rd->end - rd->p);
	if (n >= (size_t)num) /* cannot happen: check_lines() ran first */
		n = (size_t)num - 1;
	memcpy(str, rd->p, n);
	str[n] = 0;
	rd->p += n;
	rd->line++;
	const char *t = str + strspn(str, " \t");
	if (*t == '[') {
		rd->header_line = rd->line;
		rd->new_header = true;
	}
	return str;
}

static bool valid_kind(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return false;
	return true;
}

/* "kind" or 'kind "name"' -> new section; VG_EINVAL on anything else. */
static int add_section(struct parse *ps, const char *header)
{
	struct vg_config *cfg = ps->cfg;
	const char *sp = strpbrk(header, " \t\"");
	size_t klen = sp ? (size_t)(sp - header) : strlen(header);
	char name[256] = "";
	bool named = false;
	if (!valid_kind(header, klen))
		goto bad;
	if (sp) {
		while (*sp == ' ' || *sp == '\t')
			sp++;
		size_t len = strlen(sp);
		if (len < 2 || sp[0] != '"' || sp[len - 1] != '"' || len - 2 >= sizeof name ||
		    memchr(sp + 1, '"', len - 2))
			goto bad;
		memcpy(name, sp + 1, len - 2);
		name[len - 2] = 0;
		named = true;
		if (!name[0])
			goto bad;
	}
	char kind[64];
	if (klen >= sizeof kind)
		goto bad;
	memcpy(kind, header, klen);
	kind[klen] = 0;
	if (vg_config_find(cfg, kind, named ? name : NULL))
		return VG_ERR(VG_EINVAL, "%s:%d: section [%s] appears twice; merge the two",
			      cfg->origin, ps->rd.header_line, header);
	int err = vg_grow(&cfg->secs, &cfg->secs_cap, cfg->nsecs + 1, sizeof *cfg->secs, READING);
	if (err)
		return err;
	struct vg_config_section *s = calloc(1, sizeof *s);
	if (!s)
		return VG_ERR(VG_ENOMEM, "out of memory reading the config file");
	s->cfg = cfg;
	s->line = ps->rd.header_line;
	s->kind = xstrdup(kind);
	s->name = named ? xstrdup(name) : NULL;
	cfg->secs[cfg->nsecs++] = s;
	if (!s->kind || (named && !s->name))
		return VG_ERR(VG_ENOMEM, "out of memory reading the config file");
	return 0;
bad:
	return VG_ERR(VG_EINVAL,
		      "%s:%d: bad section header [%s]: write [kind] or [kind \"name\"] "
		      "(kind in lowercase letters, digits, '-')",
		      cfg->origin, ps->rd.header_line, header);
}

static int add_entry(struct parse *ps, const char *key, const char *value)
{
	struct vg_config *cfg = ps->cfg;
	if (!cfg->nsecs)
		return VG_ERR(VG_EINVAL, "%s:%d: key '%s' outside any section; put it under a "
					 "[section] header",
			      cfg->origin, ps->rd.line, key);
	struct vg_config_section *s = cfg->secs[cfg->nsecs - 1];
	int err = vg_grow(&s->ents, &s->ents_cap, s->nents + 1, sizeof *s->ents, READING);
	if (err)
		return err;
	struct vg_config_entry *e = &s->ents[s->nents];
	e->key = xstrdup(key);
	e->value = xstrdup(value);
	e->line = ps->rd.line;
	if (!e->key || !e->value) {
		free(e->key);
		free(e->value);
		return VG_ERR(VG_ENOMEM, "out of memory reading the config file");
	}
	s->nents++;
	if (vg_config_key_is_secret(key) && value[0]) {
		cfg->has_secrets = true;
		return vg_config_secret_add(cfg, value);
	}
	return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *ps = user;
	if (ps->err)
		return 0;
	struct vg_config *cfg = ps->cfg;
	/* A new section starts when a header line was read (the same header
	 * twice must be noticed too) or the section string changed. */
	if (ps->rd.new_header || !cfg->cur_header || strcmp(cfg->cur_header, section)) {
		ps->rd.new_header = false;
		free(cfg->cur_header);
		cfg->cur_header = xstrdup(section);
		if (!cfg->cur_header) {
			ps->err = VG_ERR(VG_ENOMEM, "out of memory reading the config file");
			return 0;
		}
		if (section[0] && (ps->err = add_section(ps, section)))
			return 0;
	}
	ps->err = add_entry(ps, name, value);
	return ps->err ? 0 : 1;
}

/* Every line must fit inih's buffer and be valid text. */
static int check_lines(const char *origin, const char *text, size_t len)
{
	int line = 1;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] == 0)
			return VG_ERR(VG_EINVAL, "%s:%d: NUL byte in the config file; is it a text file?",
				      origin, line);
		if (i == len || text[i] == '\n') {
			const char *close = memchr(text + start, ']', i - start);
			if (text[start] == '[' && close && close - (text + start) > VG_CONFIG_MAX_SECTION)
				return VG_ERR(VG_EINVAL,
					      "%s:%d: section header longer than %d characters; use a "
					      "shorter name",
					      origin, line, VG_CONFIG_MAX_SECTION);
			if (i - start > VG_CONFIG_MAX_LINE)
				return VG_ERR(VG_EINVAL,
					      "%s:%d: line longer than %d characters; shorten it",
					      origin, line, VG_CONFIG_MAX_LINE);
			start = i + 1;
			line++;
		}
	}
	return 0;
}

static int parse_text(struct vg_config *cfg, const char *text, size_t len)
{
	int err = check_lines(cfg->origin, text, len);
	if (err)
		return err;
	struct parse ps = {.cfg = cfg, .rd = {text, text + len, 0}};
	/* A section without keys never reaches the handler and so does not
	 * exist: an empty [alert "x"] is the same as none. */
	int r = ini_parse_stream(read_line, &ps.rd, handler, &ps);
	if (ps.err)
		return ps.err;
	if (r > 0)
		return VG_ERR(VG_EINVAL,
			      "%s:%d: cannot parse this line; write 'key = value' under a "
			      "[section] header",
			      cfg->origin, r);
	if (r < 0)
		return VG_ERR(VG_ENOMEM, "out of memory reading '%s'", cfg->origin);
	return 0;
}

static struct vg_config *new_config(const char *origin)
{
	struct vg_config *cfg = calloc(1, sizeof *cfg);
	if (!cfg)
		return NULL;
	cfg->origin = xstrdup(origin);
	if (!cfg->origin) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

int vg_config_parse(const char *text, const char *origin, struct vg_config **out)
{
	*out = NULL;
	struct vg_config *cfg = new_config(origin ? origin : "config");
	if (!cfg)
		return VG_ERR(VG_ENOMEM, "out of memory reading the config file");
	size_t len = strlen(text);
	int err = len > VG_CONFIG_MAX_BYTES
			  ? VG_ERR(VG_EINVAL, "%s: config larger than %u bytes", cfg->origin,
				   VG_CONFIG_MAX_BYTES)
			  : parse_text(cfg, text, len);
	if (err) {
		vg_config_free(cfg);
		return err;
	}
	*out = cfg;
	return 0;
}

static int add_warning(struct vg_config *cfg, const char *msg)
{
	int err = vg_grow(&cfg->warnings, &cfg->warnings_cap, cfg->nwarnings + 2, sizeof *cfg->warnings, READING);
	if (err)
		return err;
	if (!(cfg->warnings[cfg->nwarnings] = xstrdup(msg)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	cfg->warnings[++cfg->nwarnings] = NULL;
	return 0;
}

int vg_config_load(const char *path, struct vg_config **out)
{
	*out = NULL;
	char p[4096];
	int is_default = 0;
	int err = vg_config_path(path, p, sizeof p, &is_default);
	if (err)
		return err;
	if (is_default && access(p, F_OK) != 0 && errno == ENOENT) {
		*out = new_config("");
		return *out ? 0 : VG_ERR(VG_ENOMEM, "out of memory");
	}
	char *text = NULL;
	size_t len = 0;
	unsigned mode = 0;
	struct vg_config *cfg = NULL;
	if ((err = vg_fs_read_small(p, VG_CONFIG_MAX_BYTES, &text, &len, &mode))) {
		if (err == VG_EINVAL || err == VG_ECORRUPT)
			err = VG_ERR(VG_EINVAL, "config file '%s' is not a regular file of at most %u bytes", p,
				     VG_CONFIG_MAX_BYTES);
		else
			vg_err_prefix(err, "config file");
		goto out;
	}
	if (!(cfg = new_config(p))) {
		err = VG_ERR(VG_ENOMEM, "out of memory");
		goto out;
	}
	if ((err = parse_text(cfg, text, len)))
		goto out;
	if (cfg->has_secrets && (mode & S_IROTH)) {
		char msg[8400];
		snprintf(msg, sizeof msg,
			 "config file '%s' holds secrets but anyone on this host can read it "
			 "(mode %04o); run 'chmod 600 %s'",
			 p, mode, p);
		if ((err = add_warning(cfg, msg)))
			goto out;
	}
	*out = cfg;
	cfg = NULL;
out:
	free(text);
	vg_config_free(cfg);
	return err;
}

void vg_config_free(struct vg_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nsecs; i++) {
		struct vg_config_section *s = cfg->secs[i];
		for (size_t j = 0; j < s->nents; j++) {
			free(s->ents[j].key);
			free(s->ents[j].value);
		}
		free(s->ents);
		free(s->kind);
		free(s->name);
		free(s);
	}
	free(cfg->secs);
	for (size_t i = 0; i < cfg->nsecrets; i++)
		free(cfg->secrets[i]);
	free(cfg->secrets);
	for (size_t i = 0; i < cfg->nwarnings; i++)
		free(cfg->warnings[i]);
	free(cfg->warnings);
	free(cfg->cur_header);
	free(cfg->origin);
	free(cfg);
}

const char *vg_config_origin(const struct vg_config *cfg) { return cfg->origin; }

const char *vg_config_warning(const struct vg_config *cfg, size_t i)
{
	return i < cfg->nwarnings ? cfg->warnings[i] : NULL;
}

/* ---- secrets ---- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

bool vg_config_key_is_secret(const char *key)
{
	return !strcmp(key, "token") || !strcmp(key, "password") || !strcmp(key, "user") ||
	       !strcmp(key, "secret") || !strcmp(key, "routing-key") || ends_with(key, "-token") ||
	       ends_with(key, "-password") || ends_with(key, "-key") || ends_with(key, "-secret");
}

int vg_config_secret_add(struct vg_config *cfg, const char *secret)
{
	if (!secret || strlen(secret) < 4)
		return 0;
	for (size_t i = 0; i < cfg->nsecrets; i++)
		if (!strcmp(cfg->secrets[i], secret))
			return 0;
	int err = vg_grow(&cfg->secrets, &cfg->secrets_cap, cfg->nsecrets + 1, sizeof(char *), READING);
	if (err)
		return err;
	if (!(cfg->secrets[cfg->nsecrets] = xstrdup(secret)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	cfg->nsecrets++;
	return 0;
}

/* The longest registered secret starting at s, or 0. */
static size_t secret_at(const struct vg_config *cfg, const char *s)
{
	size_t best = 0;
	for (size_t i = 0; i < cfg->nsecrets; i++) {
		size_t n = strlen(cfg->secrets[i]);
		if (n > best && !strncmp(s, cfg->secrets[i], n))
			best = n;
	}
	return best;
}

void vg_config_redact(const struct vg_config *cfg, const char *in, char *out, size_t len)
{
	static const char mask[] = "********";
	size_t o = 0;
	if (!len)
		return;
	while (*in && o + 1 < len) {
		size_t n = cfg ? secret_at(cfg, in) : 0;
		if (n) {
			for (const char *m = mask; *m && o + 1 < len; m++)
				out[o++] = *m;
			in += n;
		} else {
			out[o++] = *in++;
		}
	}
	out[o] = 0;
}

bool vg_config_has_secret(const struct vg_config *cfg, const char *text)
{
	for (; cfg && *text; text++)
		if (secret_at(cfg, text))
			return true;
	return false;
}
