/*
 * snapshot.c - snapshot encoding (docs/FORMAT.md "Snapshots").
 */
#include "repo/snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "repo/obj.h"

#define SNAP_VERSION 1
#define NSTATS 8
#define EXT_CURSOR 2 /* u8: the --verify-unchanged window start */

static int add_str(struct vg_buf *b, const char *s)
{
	size_t n = strlen(s);
	int err = vg_buf_addvar(b, n);
	return err ? err : vg_buf_add(b, s, n);
}

static int add_list(struct vg_buf *b, char *const *l, size_t n)
{
	int err = vg_buf_addvar(b, n);
	for (size_t i = 0; i < n && !err; i++)
		err = add_str(b, l[i]);
	return err;
}

static void stats_get(const struct vg_snap_stats *s, uint64_t v[NSTATS])
{
	uint64_t t[NSTATS] = {s->files, s->dirs, s->others, s->bytes, s->new_bytes, s->stored_bytes,
			      s->chunks, s->new_chunks};
	memcpy(v, t, sizeof t);
}

static void stats_set(struct vg_snap_stats *s, const uint64_t v[NSTATS])
{
	s->files = v[0];
	s->dirs = v[1];
	s->others = v[2];
	s->bytes = v[3];
	s->new_bytes = v[4];
	s->stored_bytes = v[5];
	s->chunks = v[6];
	s->new_chunks = v[7];
}

int vg_snapshot_encode(const struct vg_snapshot *s, struct vg_buf *out)
{
	int err;
	uint64_t st[NSTATS];
	size_t nr = s->nreasons < VG_SNAP_MAX_REASONS ? s->nreasons : VG_SNAP_MAX_REASONS;
	vg_buf_reset(out);
	if ((err = vg_buf_add8(out, SNAP_VERSION)) < 0 || (err = vg_buf_add64(out, (uint64_t)s->time_ns)) < 0 ||
	    (err = add_str(out, s->host ? s->host : "")) < 0 || (err = add_list(out, s->tags, s->ntags)) < 0 ||
	    (err = add_list(out, s->paths, s->npaths)) < 0 || (err = vg_buf_add(out, s->root.b, VG_ID_LEN)) < 0 ||
	    (err = vg_buf_add8(out, s->has_parent)) < 0)
		return err;
	if (s->has_parent && (err = vg_buf_add(out, s->parent.b, VG_ID_LEN)) < 0)
		return err;
	if ((err = vg_buf_add8(out, (uint8_t)s->verdict)) < 0 || (err = add_list(out, s->reasons, nr)) < 0 ||
	    (err = vg_buf_addvar(out, s->reasons_dropped + (s->nreasons - nr))) < 0 ||
	    (err = vg_buf_addvar(out, NSTATS)) < 0)
		return err;
	stats_get(&s->stats, st);
	for (int i = 0; i < NSTATS && !err; i++)
		err = vg_buf_addvar(out, st[i]);
	if (err)
		return err;
	if (!s->has_cursor)
		return vg_buf_addvar(out, 0);
	if ((err = vg_buf_addvar(out, 1)) < 0 || (err = vg_buf_addvar(out, EXT_CURSOR)) < 0 ||
	    (err = vg_buf_addvar(out, 1)) < 0)
		return err;
	return vg_buf_add8(out, (uint8_t)s->verify_cursor);
}

/* The extension area: the verify cursor, unknown items per the rules. */
static int decode_ext(struct vg_rd *r, struct vg_snapshot *s)
{
	uint64_t n = vg_rdvar(r);
	if (r->bad || n > vg_rd_left(r))
		return VG_ERR(VG_ECORRUPT, "snapshot: bad extension count");
	for (uint64_t k = 0; k < n; k++) {
		uint64_t tag = vg_rdvar(r), len = vg_rdvar(r);
		const uint8_t *q = r->bad ? NULL : vg_rd_take(r, len);
		if (!q)
			return VG_ERR(VG_ECORRUPT, "snapshot: truncated extension");
		if (tag == EXT_CURSOR) {
			if (len != 1 || q[0] > 99)
				return VG_ERR(VG_ECORRUPT, "snapshot: invalid verify cursor");
			s->verify_cursor = q[0];
			s->has_cursor = true;
		} else if (tag & 1) {
			return VG_ERR(VG_EVERSION, "snapshot needs extension %llu, unknown to this vigil",
				      (unsigned long long)tag);
		}
	}
	return 0;
}

static char *rd_str(struct vg_rd *r, size_t max)
{
	uint64_t n = vg_rdvar(r);
	const uint8_t *q = n <= max ? vg_rd_take(r, n) : NULL;
	if (!q || memchr(q, 0, n)) {
		r->bad = true;
		return NULL;
	}
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, q, n);
		s[n] = 0;
	}
	return s;
}

static int rd_list(struct vg_rd *r, char ***list, size_t *n, size_t maxn, size_t maxlen)
{
	uint64_t cnt = vg_rdvar(r);
	if (r->bad || cnt > maxn || cnt > vg_rd_left(r))
		return VG_ERR(VG_ECORRUPT, "snapshot has an invalid list");
	*list = calloc(cnt ? cnt : 1, sizeof **list);
	if (!*list)
		return VG_ERR(VG_ENOMEM, "out of memory reading a snapshot");
	for (*n = 0; *n < cnt; (*n)++) {
		char *s = rd_str(r, maxlen);
		if (!s)
			return r->bad ? VG_ERR(VG_ECORRUPT, "snapshot has an invalid string")
				      : VG_ERR(VG_ENOMEM, "out of memory reading a snapshot");
		(*list)[*n] = s;
	}
	return 0;
}

static int decode_tail(struct vg_rd *r, struct vg_snapshot *s)
{
	int err;
	uint64_t st[NSTATS] = {0};
	s->verdict = vg_rd8(r);
	if (s->verdict > VG_VERDICT_INCOMPLETE)
		return VG_ERR(VG_ECORRUPT, "snapshot has unknown verdict %d", s->verdict);
	if ((err = rd_list(r, &s->reasons, &s->nreasons, VG_SNAP_MAX_REASONS, VG_SNAP_MAX_REASON)) < 0)
		return err;
	s->reasons_dropped = vg_rdvar(r);
	uint64_t nst = vg_rdvar(r);
	if (nst < NSTATS || nst > 64)
		return VG_ERR(VG_ECORRUPT, "snapshot has %llu statistics", (unsigned long long)nst);
	for (uint64_t i = 0; i < nst; i++) {
		uint64_t v = vg_rdvar(r);
		if (i < NSTATS)
			st[i] = v; /* later versions may append more */
	}
	stats_set(&s->stats, st);
	if ((err = decode_ext(r, s)) < 0)
		return err;
	if (r->bad || vg_rd_left(r))
		return VG_ERR(VG_ECORRUPT, "snapshot is truncated or has trailing bytes");
	return 0;
}

int vg_snapshot_decode(const uint8_t *p, size_t len, struct vg_snapshot *s)
{
	struct vg_rd r;
	int err;
	memset(s, 0, sizeof *s);
	vg_rd_init(&r, p, len);
	uint8_t ver = vg_rd8(&r);
	if (r.bad)
		return VG_ERR(VG_ECORRUPT, "snapshot is empty");
	if (ver != SNAP_VERSION)
		return VG_ERR(VG_EVERSION, "snapshot format version %u is not supported (this vigil reads %u)",
			      ver, SNAP_VERSION);
	s->time_ns = (int64_t)vg_rd64(&r);
	s->host = rd_str(&r, VG_SNAP_MAX_STR);
	if (!s->host) {
		err = VG_ERR(VG_ECORRUPT, "snapshot has an invalid host name");
		goto fail;
	}
	if ((err = rd_list(&r, &s->tags, &s->ntags, VG_SNAP_MAX_LIST, VG_SNAP_MAX_STR)) < 0 ||
	    (err = rd_list(&r, &s->paths, &s->npaths, VG_SNAP_MAX_LIST, VG_SNAP_MAX_STR)) < 0)
		goto fail;
	vg_rd_copy(&r, s->root.b, VG_ID_LEN);
	uint8_t hp = vg_rd8(&r);
	if (hp > 1) {
		err = VG_ERR(VG_ECORRUPT, "snapshot has an invalid parent flag");
		goto fail;
	}
	s->has_parent = hp;
	if (hp)
		vg_rd_copy(&r, s->parent.b, VG_ID_LEN);
	if ((err = decode_tail(&r, s)) < 0)
		goto fail;
	return 0;
fail:
	vg_snapshot_release(s);
	return err;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void vg_snapshot_release(struct vg_snapshot *s)
{
	free(s->host);
	free_list(s->tags, s->ntags);
	free_list(s->paths, s->npaths);
	free_list(s->reasons, s->nreasons);
	memset(s, 0, sizeof *s);
}

int vg_snapshot_add_str(char ***list, size_t *n, const char *str)
{
	char **nl = realloc(*list, (*n + 1) * sizeof *nl);
	if (!nl)
		return VG_ERR(VG_ENOMEM, "out of memory");
	*list = nl;
	if (!(nl[*n] = strdup(str)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	(*n)++;
	return 0;
}

const char *vg_verdict_name(int v)
{
	switch (v) {
	case VG_VERDICT_OK: return "ok";
	case VG_VERDICT_SUSPECT: return "suspect";
	case VG_VERDICT_INCOMPLETE: return "incomplete";
	}
	return "unknown";
}
