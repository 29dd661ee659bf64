/*
 * tree.c - encoding and validating tree objects (see tree.h, and
 * docs/FORMAT.md "Trees" for the byte layout).
 */
#include "repo/tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "repo/obj.h"

#define TREE_VERSION 1
#define MIN_ENTRY 35 /* smallest possible encoded entry, bounds the count */

int vg_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int add_i64(struct vg_buf *b, int64_t v) { return vg_buf_add64(b, (uint64_t)v); }

static int add_bytes(struct vg_buf *b, const void *p, size_t n)
{
	int err = vg_buf_addvar(b, n);
	return err ? err : vg_buf_add(b, p, n);
}

static int encode_payload(const struct vg_tree_entry *e, struct vg_buf *b)
{
	int err = 0;
	switch (e->st.type) {
	case VG_FT_FILE:
		if ((err = vg_buf_addvar(b, e->nchunks)) < 0)
			return err;
		for (size_t c = 0; c < e->nchunks && !err; c++)
			err = vg_buf_add(b, e->chunks[c].b, VG_ID_LEN);
		return err;
	case VG_FT_DIR:
		return vg_buf_add(b, e->subtree.b, VG_ID_LEN);
	case VG_FT_SYMLINK:
	case VG_FT_HARDLINK: {
		size_t n = e->target ? strlen(e->target) : 0;
		if (n == 0 || n > VG_FS_LINK_MAX)
			return VG_ERR(VG_EINVAL, "entry '%s' has a link target of %zu bytes", e->name, n);
		return add_bytes(b, e->target, n);
	}
	case VG_FT_CHR:
	case VG_FT_BLK:
		return vg_buf_addvar(b, e->st.rdev);
	case VG_FT_FIFO:
	case VG_FT_SOCK:
		return 0;
	}
	return VG_ERR(VG_EINVAL, "entry '%s' has unknown type %d", e->name, e->st.type);
}

static int encode_entry(const struct vg_tree_entry *e, struct vg_buf *b)
{
	const struct vg_fs_stat *s = &e->st;
	int err;
	if ((err = add_bytes(b, e->name, e->name_len)) < 0 || (err = vg_buf_add8(b, (uint8_t)s->type)) < 0 ||
	    (err = vg_buf_addvar(b, s->mode & 07777)) < 0 || (err = vg_buf_addvar(b, s->uid)) < 0 ||
	    (err = vg_buf_addvar(b, s->gid)) < 0 || (err = add_i64(b, s->atime_ns)) < 0 ||
	    (err = add_i64(b, s->mtime_ns)) < 0 || (err = add_i64(b, s->ctime_ns)) < 0 ||
	    (err = vg_buf_addvar(b, s->size)) < 0 || (err = vg_buf_addvar(b, s->ino)) < 0 ||
	    (err = vg_buf_addvar(b, s->dev)) < 0 || (err = vg_buf_addvar(b, s->nlink)) < 0 ||
	    (err = encode_payload(e, b)) < 0)
		return err;
	return vg_buf_addvar(b, 0); /* no extensions */
}

int vg_tree_encode(const struct vg_tree_entry *e, size_t n, struct vg_buf *out)
{
	int err;
	vg_buf_reset(out);
	if ((err = vg_buf_add8(out, TREE_VERSION)) < 0 || (err = vg_buf_add8(out, VG_TREE_KIND_ENTRIES)) < 0 ||
	    (err = vg_buf_addvar(out, n)) < 0)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (!vg_fs_name_ok(e[i].name, e[i].name_len))
			return VG_ERR(VG_EINVAL, "refusing to store unsafe name '%s'", e[i].name);
		if (i && vg_name_cmp(e[i - 1].name, e[i - 1].name_len, e[i].name, e[i].name_len) >= 0)
			return VG_ERR(VG_EINVAL, "tree entries not sorted at '%s'", e[i].name);
		if ((err = encode_entry(&e[i], out)) < 0)
			return err;
	}
	return 0;
}

/* Decoding: a bump allocator over one arena sized from the input. */
struct arena {
	uint8_t *p;
	size_t len, used;
};

static void *arena_take(struct arena *a, const void *src, size_t n, bool nul)
{
	if (a->used + n + nul > a->len)
		return NULL;
	uint8_t *q = a->p + a->used;
	memcpy(q, src, n);
	if (nul)
		q[n] = 0;
	a->used += n + nul;
	return q;
}

static int64_t rd_i64(struct vg_rd *r) { return (int64_t)vg_rd64(r); }

static int decode_payload(struct vg_rd *r, struct arena *a, struct vg_tree_entry *e)
{
	uint64_t n;
	const uint8_t *q;
	switch (e->st.type) {
	case VG_FT_FILE:
		n = vg_rdvar(r);
		if (n > vg_rd_left(r) / VG_ID_LEN)
			return -1;
		e->nchunks = (size_t)n;
		q = vg_rd_take(r, n * VG_ID_LEN);
		e->chunks = n ? arena_take(a, q, n * VG_ID_LEN, false) : NULL;
		return (n && !e->chunks) ? -1 : 0;
	case VG_FT_DIR:
		vg_rd_copy(r, e->subtree.b, VG_ID_LEN);
		return 0;
	case VG_FT_SYMLINK:
	case VG_FT_HARDLINK:
		n = vg_rdvar(r);
		if (n == 0 || n > VG_FS_LINK_MAX || !(q = vg_rd_take(r, n)) || memchr(q, 0, n))
			return -1;
		e->target = arena_take(a, q, n, true);
		return e->target ? 0 : -1;
	case VG_FT_CHR:
	case VG_FT_BLK:
		e->st.rdev = vg_rdvar(r);
		return 0;
	case VG_FT_FIFO:
	case VG_FT_SOCK:
		return 0;
	}
	return -1;
}

static int decode_entry(struct vg_rd *r, struct arena *a, struct vg_tree_entry *e, size_t i)
{
	uint64_t nlen = vg_rdvar(r);
	const uint8_t *name = nlen <= VG_FS_NAME_MAX ? vg_rd_take(r, nlen) : NULL;
	if (!name || !vg_fs_name_ok((const char *)name, nlen))
		return VG_ERR(VG_ECORRUPT, "tree entry %zu has an invalid name", i);
	e->name = arena_take(a, name, nlen, true);
	e->name_len = nlen;
	struct vg_fs_stat *s = &e->st;
	s->type = vg_rd8(r);
	uint64_t mode = vg_rdvar(r), uid = vg_rdvar(r), gid = vg_rdvar(r);
	s->atime_ns = rd_i64(r);
	s->mtime_ns = rd_i64(r);
	s->ctime_ns = rd_i64(r);
	s->size = vg_rdvar(r);
	s->ino = vg_rdvar(r);
	s->dev = vg_rdvar(r);
	s->nlink = vg_rdvar(r);
	if (r->bad || !e->name || mode > 07777 || uid > UINT32_MAX || gid > UINT32_MAX)
		return VG_ERR(VG_ECORRUPT, "tree entry %zu ('%s') has invalid metadata", i, e->name ? e->name : "");
	s->mode = (uint32_t)mode;
	s->uid = (uint32_t)uid;
	s->gid = (uint32_t)gid;
	if (s->type < VG_FT_FILE || s->type > VG_FT_SOCK || decode_payload(r, a, e) < 0 || r->bad)
		return VG_ERR(VG_ECORRUPT, "tree entry %zu ('%s') has an invalid type or content", i, e->name);
	char what[64];
	snprintf(what, sizeof what, "tree entry %zu", i);
	return vg_rd_skip_ext(r, what);
}

int vg_tree_decode(const uint8_t *p, size_t len, struct vg_tree *out)
{
	struct vg_rd r;
	int err;
	memset(out, 0, sizeof *out);
	vg_rd_init(&r, p, len);
	uint8_t ver = vg_rd8(&r), kind = vg_rd8(&r);
	uint64_t n = vg_rdvar(&r);
	if (r.bad)
		return VG_ERR(VG_ECORRUPT, "tree is truncated");
	if (ver != TREE_VERSION)
		return VG_ERR(VG_EVERSION, "tree format version %u is not supported (this vigil reads %u)", ver,
			      TREE_VERSION);
	if (kind != VG_TREE_KIND_ENTRIES || n > vg_rd_left(&r) / MIN_ENTRY)
		return VG_ERR(VG_ECORRUPT, "tree header is invalid (kind %u, %llu entries)", kind,
			      (unsigned long long)n);
	struct arena a = {.len = len + 2 * (size_t)n};
	out->e = calloc(n ? n : 1, sizeof *out->e);
	a.p = out->arena = malloc(a.len);
	if (!out->e || !a.p) {
		vg_tree_release(out);
		return VG_ERR(VG_ENOMEM, "out of memory reading a tree of %llu entries", (unsigned long long)n);
	}
	for (size_t i = 0; i < n; i++) {
		struct vg_tree_entry *e = &out->e[i];
		if ((err = decode_entry(&r, &a, e, i)) < 0)
			goto fail;
		if (i && vg_name_cmp(e[-1].name, e[-1].name_len, e->name, e->name_len) >= 0) {
			err = VG_ERR(VG_ECORRUPT, "tree entries are not in strict name order at '%s'", e->name);
			goto fail;
		}
		out->n++;
	}
	if (vg_rd_left(&r)) {
		err = VG_ERR(VG_ECORRUPT, "tree has %zu trailing bytes", vg_rd_left(&r));
		goto fail;
	}
	return 0;
fail:
	vg_tree_release(out);
	return err;
}

void vg_tree_release(struct vg_tree *t)
{
	free(t->e);
	free(t->arena);
	memset(t, 0, sizeof *t);
}

int vg_tree_kind(const uint8_t *p, size_t len)
{
	if (len < 2)
		return VG_ERR(VG_ECORRUPT, "tree is truncated");
	if (p[0] != TREE_VERSION)
		return VG_ERR(VG_EVERSION, "tree format version %u is not supported (this vigil reads %u)", p[0],
			      TREE_VERSION);
	if (p[1] != VG_TREE_KIND_ENTRIES && p[1] != VG_TREE_KIND_PARTS)
		return VG_ERR(VG_ECORRUPT, "tree has unknown kind %u", p[1]);
	return p[1];
}

int vg_tree_parts_encode(const struct vg_id *parts, size_t n, uint64_t total, struct vg_buf *out)
{
	int err;
	vg_buf_reset(out);
	if ((err = vg_buf_add8(out, TREE_VERSION)) < 0 || (err = vg_buf_add8(out, VG_TREE_KIND_PARTS)) < 0 ||
	    (err = vg_buf_addvar(out, total)) < 0 || (err = vg_buf_addvar(out, n)) < 0)
		return err;
	return vg_buf_add(out, parts, n * sizeof *parts);
}

int vg_tree_parts_decode(const uint8_t *p, size_t len, struct vg_id **parts, size_t *n, uint64_t *total)
{
	struct vg_rd r;
	*parts = NULL;
	*n = 0;
	vg_rd_init(&r, p, len);
	uint8_t ver = vg_rd8(&r), kind = vg_rd8(&r);
	uint64_t tot = vg_rdvar(&r), cnt = vg_rdvar(&r);
	if (r.bad || ver != TREE_VERSION || kind != VG_TREE_KIND_PARTS || cnt == 0 ||
	    cnt * VG_ID_LEN != vg_rd_left(&r) || tot > VG_TREE_MAX || tot > cnt * (uint64_t)VG_TREE_PART_MAX ||
	    tot <= (cnt - 1) * (uint64_t)VG_TREE_PART_MAX)
		return VG_ERR(VG_ECORRUPT, "tree part list is invalid");
	struct vg_id *ids = malloc(cnt * sizeof *ids);
	if (!ids)
		return VG_ERR(VG_ENOMEM, "out of memory reading a tree part list");
	vg_rd_copy(&r, ids, cnt * VG_ID_LEN);
	*parts = ids;
	*n = cnt;
	*total = tot;
	return 0;
}

const struct vg_tree_entry *vg_tree_find(const struct vg_tree *t, const char *name, size_t len)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = vg_name_cmp(t->e[mid].name, t->e[mid].name_len, name, len);
		if (c == 0)
			return &t->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
