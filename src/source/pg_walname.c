/*
 * pg_walname.c - WAL archive file names, LSNs and timeline history files
 * (pg_wal.h).  Pure parsers over untrusted text: bounded, no allocation
 * except the history entries (capped).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "source/pg_grow.h"
#include "source/pg_wal.h"

#define MAX_HISTORY_ENTRIES 100000

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n upper-case hex digits at s (PostgreSQL writes upper case only). */
static bool hex_run(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		int h = hexval(s[i]);
		if (h < 0)
			return false;
		v = v << 4 | (uint32_t)h;
	}
	if (out)
		*out = v;
	return true;
}

static bool lower_hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Strip a known compression extension; returns the stem length. */
static size_t strip_compression(const char *name, size_t len, char *ext, size_t extlen)
{
	static const char *const exts[] = {"gz", "zst", "zstd", "lz4", "br", "bz2", "xz", "lzma", "lzo"};
	ext[0] = '\0';
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		size_t n = strlen(exts[i]);
		if (len > n + 1 && name[len - n - 1] == '.' && !memcmp(name + len - n, exts[i], n)) {
			snprintf(ext, extlen, "%s", exts[i]);
			return len - n - 1;
		}
	}
	return len;
}

static bool has(const char *s, size_t len, const char *what)
{
	return len == strlen(what) && !memcmp(s, what, len);
}

void vg_pg_walname_parse(const char *name, struct vg_pg_walname *out)
{
	memset(out, 0, sizeof *out);
	size_t len = strnlen(name, 256);
	len = strip_compression(name, len, out->compression, sizeof out->compression);
	/* Timeline history: TTTTTTTT.history */
	if (len == 16 && hex_run(name, 8, &out->tli) && has(name + 8, 8, ".history")) {
		out->kind = out->tli ? VG_PG_WAL_HISTORY : VG_PG_WAL_OTHER;
		return;
	}
	if (len < 24 || !hex_run(name, 8, &out->tli) || !hex_run(name + 8, 8, &out->log) ||
	    !hex_run(name + 16, 8, &out->seg) || out->tli == 0)
		goto other;
	const char *rest = name + 24;
	size_t rlen = len - 24;
	/* Backup history: <segment>.<8 hex offset>.backup */
	if (rlen == 16 && rest[0] == '.' && hex_run(rest + 1, 8, NULL) && has(rest + 9, 7, ".backup")) {
		out->kind = VG_PG_WAL_BACKUP;
		return;
	}
	out->kind = VG_PG_WAL_SEGMENT;
	if (rlen >= 8 && !memcmp(rest, ".partial", 8)) {
		out->kind = VG_PG_WAL_PARTIAL;
		rest += 8;
		rlen -= 8;
	}
	/* pgBackRest appends "-<sha1 of the file>". */
	if (rlen == 41 && rest[0] == '-' && lower_hex_run(rest + 1, 40))
		rlen = 0;
	if (rlen == 0)
		return;
other:
	memset(out, 0, sizeof *out);
}

bool vg_pg_walname_segno(const struct vg_pg_walname *n, uint32_t segsize, uint64_t *segno)
{
	uint64_t per_log = ((uint64_t)1 << 32) / segsize;
	if (n->seg >= per_log)
		return false;
	*segno = (uint64_t)n->log * per_log + n->seg;
	return true;
}

void vg_pg_walname_format(uint32_t tli, uint64_t segno, uint32_t segsize, char *buf)
{
	uint64_t per_log = ((uint64_t)1 << 32) / segsize;
	snprintf(buf, 25, "%08X%08X%08X", tli, (uint32_t)(segno / per_log), (uint32_t)(segno % per_log));
}

/* Parse up to 8 hex digits (either case) ending at a non-hex character. */
static const char *lsn_half(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	int n = 0;
	for (; n < 9; n++, s++) {
		char c = *s;
		int h = (c >= 'a' && c <= 'f') ? c - 'a' + 10 : hexval(c);
		if (h < 0)
			break;
		v = v << 4 | (uint32_t)h;
	}
	if (n == 0 || n > 8)
		return NULL;
	*out = v;
	return s;
}

int vg_pg_lsn_parse(const char *s, uint64_t *lsn)
{
	uint32_t hi, lo;
	const char *p = lsn_half(s, &hi);
	if (!p || *p != '/' || !(p = lsn_half(p + 1, &lo)) || *p != '\0')
		return VG_ERR(VG_EINVAL, "'%.40s' is not an LSN (like 16/B374D848)", s);
	*lsn = (uint64_t)hi << 32 | lo;
	return 0;
}

/* One history line "parentTLI<ws>X/X[<ws>reason]"; false if malformed. */
static bool history_line(const char *s, size_t len, struct vg_pg_tlhist *e)
{
	char buf[64];
	size_t i = 0, n = 0;
	uint64_t tli = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9' && tli <= UINT32_MAX; i++, n++)
		tli = tli * 10 + (uint64_t)(s[i] - '0');
	if (n == 0 || tli == 0 || tli > UINT32_MAX || i == len || (s[i] != '\t' && s[i] != ' '))
		return false;
	while (i < len && (s[i] == '\t' || s[i] == ' '))
		i++;
	n = 0;
	while (i < len && s[i] != '\t' && s[i] != ' ' && n < sizeof buf - 1)
		buf[n++] = s[i++];
	buf[n] = '\0';
	if (vg_pg_lsn_parse(buf, &e->switch_lsn) < 0)
		return false;
	e->tli = (uint32_t)tli;
	return true;
}

int vg_pg_history_parse(const char *text, size_t len, const char *name, struct vg_pg_tlhist **out,
			size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0, lineno = 0;
	int rc = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *line = p;
		p += l + (nl != NULL);
		lineno++;
		while (l > 0 && (line[0] == ' ' || line[0] == '\t')) {
			line++;
			l--;
		}
		if (l == 0 || line[0] == '#' || (l == 1 && line[0] == '\r'))
			continue;
		struct vg_pg_tlhist e;
		if (!history_line(line, l, &e)) {
			rc = VG_ERR(VG_ECORRUPT, "'%s' line %zu: not a timeline history entry", name, lineno);
			goto fail;
		}
		/* Each line is a newer timeline switching later. */
		if (*n > 0 && (e.tli <= (*out)[*n - 1].tli || e.switch_lsn < (*out)[*n - 1].switch_lsn)) {
			rc = VG_ERR(VG_ECORRUPT, "'%s' line %zu: timelines out of order", name, lineno);
			goto fail;
		}
		if (*n >= MAX_HISTORY_ENTRIES) {
			rc = VG_ERR(VG_ECORRUPT, "'%s': more than %d timelines", name, MAX_HISTORY_ENTRIES);
			goto fail;
		}
		void *grown = vg_pg_grow(*out, &cap, *n + 1, sizeof **out, MAX_HISTORY_ENTRIES);
		if (!grown) {
			rc = VG_ERR(VG_ENOMEM, "out of memory reading '%s'", name);
			goto fail;
		}
		*out = grown;
		(*out)[(*n)++] = e;
	}
	return 0;
fail:
	free(*out);
	*out = NULL;
	*n = 0;
	return rc;
}

const char *vg_pg_segstatus_name(enum vg_pg_segstatus s)
{
	switch (s) {
	case VG_PG_SEG_FOUND: return "FOUND";
	case VG_PG_SEG_MISSING_DELAYED: return "MISSING_DELAYED";
	case VG_PG_SEG_MISSING_UPLOADING: return "MISSING_UPLOADING";
	case VG_PG_SEG_MISSING_LOST: return "MISSING_LOST";
	}
	return "?";
}

const char *vg_pg_verdict_name(enum vg_pg_verdict v)
{
	switch (v) {
	case VG_PG_OK: return "OK";
	case VG_PG_WARNING: return "WARNING";
	case VG_PG_FAILURE: return "FAILURE";
	}
	return "?";
}
