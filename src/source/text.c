/*
 * text.c - bounded text routines for the tool-output parsers (probe.h).
 *
 * Every routine takes (pointer, length): tool output is outside input and
 * is never assumed to be NUL-terminated, short, printable or well formed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/probe.h"

bool vg_hl_line(const char *buf, size_t len, size_t *pos, const char **s, size_t *n)
{
	if (!buf || *pos >= len)
		return false;
	const char *p = buf + *pos;
	const char *nl = memchr(p, '\n', len - *pos);
	size_t l = nl ? (size_t)(nl - p) : len - *pos;
	*pos += l + (nl ? 1 : 0);
	if (l && p[l - 1] == '\r')
		l--;
	*s = p;
	*n = l;
	return true;
}

void vg_hl_ltrim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
}

void vg_hl_rtrim(const char *s, size_t *n)
{
	while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r'))
		(*n)--;
}

bool vg_hl_starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && !memcmp(s, prefix, k);
}

bool vg_hl_token(const char **s, size_t *n, const char **tok, size_t *tn)
{
	vg_hl_ltrim(s, n);
	if (!*n)
		return false;
	size_t i = 0;
	while (i < *n && (*s)[i] != ' ' && (*s)[i] != '\t')
		i++;
	*tok = *s;
	*tn = i;
	*s += i;
	*n -= i;
	return true;
}

void vg_hl_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (!cap)
		return;
	if (n > cap - 1)
		n = cap - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	dst[n] = 0;
}

bool vg_hl_u64(const char *s, size_t n, uint64_t *v)
{
	if (!n || n > 20)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

bool vg_hl_nicenum(const char *s, size_t n, uint64_t *v)
{
	if (vg_hl_u64(s, n, v))
		return true;
	if (n < 2 || n > 16)
		return false;
	static const char units[] = "KMGTPE";
	const char *u = strchr(units, s[n - 1]);
	if (!u || !s[n - 1])
		return false;
	char tmp[24];
	memcpy(tmp, s, n - 1);
	tmp[n - 1] = 0;
	for (size_t i = 0; i < n - 1; i++)
		if (!isdigit((unsigned char)tmp[i]) && tmp[i] != '.')
			return false;
	char *end;
	double d = strtod(tmp, &end);
	if (*end || d < 0)
		return false;
	for (long k = 0; k <= u - units; k++)
		d *= 1024;
	if (d > 1.8e19)
		return false;
	*v = (uint64_t)d;
	return true;
}

static int month(const char *s)
{
	static const char m[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (int i = 0; i < 12; i++)
		if (!memcmp(m + 3 * i, s, 3))
			return i;
	return -1;
}

time_t vg_hl_ctime(const char *s, size_t n)
{
	/* "Sun Nov 12 07:22:03 2023": weekday, month, day, time, year.  The
	 * weekday is not checked; the C locale is assumed (zpool's ctime() is
	 * never localized; btrfs is run with LC_ALL=C). */
	const char *t;
	size_t tn;
	char tok[5][16];
	for (int i = 0; i < 5; i++) {
		if (!vg_hl_token(&s, &n, &t, &tn) || tn >= sizeof tok[i])
			return (time_t)-1;
		memcpy(tok[i], t, tn);
		tok[i][tn] = 0;
	}
	struct tm tm = {0};
	uint64_t day, year;
	unsigned hh, mm, ss;
	char extra;
	tm.tm_mon = strlen(tok[1]) == 3 ? month(tok[1]) : -1;
	if (tm.tm_mon < 0 || !vg_hl_u64(tok[2], strlen(tok[2]), &day) || day < 1 || day > 31 ||
	    !vg_hl_u64(tok[4], strlen(tok[4]), &year) || year < 1970 || year > 9999 ||
	    sscanf(tok[3], "%2u:%2u:%2u%c", &hh, &mm, &ss, &extra) != 3 || hh > 23 || mm > 59 ||
	    ss > 60)
		return (time_t)-1;
	tm.tm_mday = (int)day;
	tm.tm_year = (int)year - 1900;
	tm.tm_hour = (int)hh;
	tm.tm_min = (int)mm;
	tm.tm_sec = (int)ss;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

void vg_hl_date(time_t t, char *buf, size_t len)
{
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d", &tm))
		snprintf(buf, len, "?");
}

void vg_health_eff(const struct vg_health_opts *o, struct vg_health_eff *e)
{
	static const struct vg_health_opts none;
	if (!o)
		o = &none;
	const char *env = getenv("VIGIL_SYSROOT");
	e->sysroot = o->sysroot ? o->sysroot : (env ? env : "");
	if (!strcmp(e->sysroot, "/"))
		e->sysroot = "";
	e->now = o->now ? o->now : time(NULL);
	e->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 15000;
	e->scrub_warn_days = o->scrub_warn_days > 0 ? o->scrub_warn_days : 35;
	e->scrub_crit_days = o->scrub_crit_days > 0 ? o->scrub_crit_days : 2 * e->scrub_warn_days;
	e->allow_uninspectable = o->allow_uninspectable;
	e->no_smart = o->no_smart;
}
