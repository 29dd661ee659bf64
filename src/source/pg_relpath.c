/*
 * pg_relpath.c - which files of a data directory carry page checksums
 * (pg_page.h, rule 3), following PostgreSQL 15's pg_checksums exactly:
 *
 *  - scanned trees: global/, base/, and for each entry of pg_tblspc/ only
 *    its TABLESPACE_VERSION_DIRECTORY (PG_<major>_<catalog version>);
 *  - every entry named pgsql_tmp* (file or directory) is skipped;
 *  - skip list by file name: pg_control, pg_filenode.map, PG_VERSION
 *    (exact) and pg_internal.init* (prefix);
 *  - "<name>.<n>" is segment n (n must be a positive number), "_fsm",
 *    "_vm", "_init" name the fork.
 *
 * Like pg_checksums, every other regular file in those trees is treated as
 * a relation file, whatever its name.
 */
#include <string.h>

#include "source/pg_page.h"

#define TEMP_PREFIX "pgsql_tmp"

static bool skipped_name(const char *n, size_t len)
{
	static const char *const exact[] = {"pg_control", "pg_filenode.map", "PG_VERSION"};
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (strlen(exact[i]) == len && !memcmp(exact[i], n, len))
			return true;
	static const char prefix[] = "pg_internal.init";
	if (len >= sizeof prefix - 1 && !memcmp(n, prefix, sizeof prefix - 1))
		return true;
	return len >= sizeof TEMP_PREFIX - 1 && !memcmp(n, TEMP_PREFIX, sizeof TEMP_PREFIX - 1);
}

struct comp {
	const char *p;
	size_t len;
};

/* Split relpath on '/' into at most max components; returns the count, or
 * max + 1 when there are more (never scanned that deep in practice). */
static size_t split(const char *path, struct comp *c, size_t max)
{
	size_t n = 0;
	while (*path) {
		const char *s = strchr(path, '/');
		size_t len = s ? (size_t)(s - path) : strlen(path);
		if (len > 0) {
			if (n == max)
				return max + 1;
			c[n].p = path;
			c[n].len = len;
			n++;
		}
		path += len + (s != NULL);
	}
	return n;
}

static bool is(const struct comp *c, const char *s) { return c->len == strlen(s) && !memcmp(c->p, s, c->len); }

static bool temp_name(const struct comp *c)
{
	return c->len >= sizeof TEMP_PREFIX - 1 && !memcmp(c->p, TEMP_PREFIX, sizeof TEMP_PREFIX - 1);
}

#define MAX_DEPTH 16

/* Components c[0..n-1] are directories pg_checksums enters (the last one
 * may be the file, judged by the caller). */
static bool tree_scanned(const struct vg_pg_cluster *cl, const struct comp *c, size_t ndirs)
{
	if (ndirs == 0)
		return false;
	size_t first = 1;
	if (is(&c[0], "pg_tblspc")) {
		/* pg_tblspc/<oid>/<version dir>/...; <oid> itself is entered only
		 * to reach the version directory. */
		if (ndirs >= 3 && !is(&c[2], cl->tblspc_dir))
			return false;
		first = 3;
	} else if (!is(&c[0], "global") && !is(&c[0], "base")) {
		return false;
	}
	for (size_t i = first; i < ndirs; i++)
		if (temp_name(&c[i]))
			return false;
	return true;
}

bool vg_pg_dir_scanned(const struct vg_pg_cluster *cl, const char *relpath)
{
	struct comp c[MAX_DEPTH];
	size_t n = split(relpath, c, MAX_DEPTH);
	return n <= MAX_DEPTH && tree_scanned(cl, c, n);
}

/* Parse "<node>[_<fork>][.<segno>]" (temporary relations: "t<n>_<node>..."). */
static void parse_name(const struct comp *f, struct vg_pg_relpath *out)
{
	const char *p = f->p, *end = f->p + f->len;
	const char *dot = memchr(p, '.', f->len);
	const char *stem_end = dot ? dot : end;
	if (dot) {
		uint64_t v = 0;
		const char *q = dot + 1;
		for (; q < end && *q >= '0' && *q <= '9' && v <= UINT32_MAX; q++)
			v = v * 10 + (uint64_t)(*q - '0');
		if (q == dot + 1 || q != end || v == 0 || v > UINT32_MAX)
			out->bad_name = true;
		else
			out->segno = (uint32_t)v;
	}
	const char *us = memchr(p, '_', (size_t)(stem_end - p));
	if (us && p[0] == 't' && us > p + 1)
		us = memchr(us + 1, '_', (size_t)(stem_end - us - 1));
	if (!us)
		return;
	size_t flen = (size_t)(stem_end - us - 1);
	if (flen == 3 && !memcmp(us + 1, "fsm", 3))
		out->fork = VG_PG_FORK_FSM;
	else if (flen == 2 && !memcmp(us + 1, "vm", 2))
		out->fork = VG_PG_FORK_VM;
	else if (flen == 4 && !memcmp(us + 1, "init", 4))
		out->fork = VG_PG_FORK_INIT;
}

void vg_pg_classify(const struct vg_pg_cluster *cl, const char *relpath, struct vg_pg_relpath *out)
{
	memset(out, 0, sizeof *out);
	struct comp c[MAX_DEPTH];
	size_t n = split(relpath, c, MAX_DEPTH);
	if (n < 2 || n > MAX_DEPTH)
		return;
	const struct comp *file = &c[n - 1];
	/* pg_tblspc/<oid>/<file>: pg_checksums only looks inside the version
	 * directory; pg_tblspc/<file> it treats as any other file. */
	if (is(&c[0], "pg_tblspc") && n == 3)
		return;
	if (!tree_scanned(cl, c, n - 1) || skipped_name(file->p, file->len))
		return;
	out->checked = true;
	parse_name(file, out);
}
