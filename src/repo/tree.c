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
#define EXT_NAMES 2   /* user, group names */
#define EXT_XATTRS 3  /* xattr list (critical) */
#define EXT_LINK 4    /* hardlink set number */
#define EXT_EXTENTS 5 /* sparse data extents (critical) */

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

/* One extension item whose body is built in tmp. */
static int add_item(struct vg_buf *b, uint64_t tag, const struct vg_buf *tmp)
{
	int err;
	if ((err = vg_buf_addvar(b, tag)) < 0 || (err = vg_buf_addvar(b, tmp->len)) < 0)
		return err;
	return vg_buf_add(b, tmp->p, tmp->len);
}

static int encode_ext(const struct vg_tree_entry *e, struct vg_buf *b)
{
	struct vg_buf t;
	bool names = e->user || e->group, ext = e->st.type == VG_FT_FILE && e->extents;
	bool xat = e->xattrs_len > 0, link = e->link_group > 0;
	int err = vg_buf_addvar(b, (uint64_t)names + xat + link + ext);
	vg_buf_init(&t, VG_TREE_MAX);
	if (!err && names) {
		if (!(err = add_bytes(&t, e->user ? e->user : "", e->user ? strlen(e->user) : 0)) &&
		    !(err = add_bytes(&t, e->group ? e->group : "", e->group ? strlen(e->group) : 0)))
			err = add_item(b, EXT_NAMES, &t);
	}
	if (!err && xat) {
		vg_buf_reset(&t);
		if (!(err = vg_buf_add(&t, e->xattrs, e->xattrs_len)))
			err = add_item(b, EXT_XATTRS, &t);
	}
	if (!err && link) {
		vg_buf_reset(&t);
		if (!(err = vg_buf_addvar(&t, e->link_group)))
			err = add_item(b, EXT_LINK, &t);
	}
	if (!err && ext) {
		vg_buf_reset(&t);
		err = vg_buf_addvar(&t, e->nextents);
		for (size_t i = 0; i < 2 * e->nextents && !err; i++)
			err = vg_buf_addvar(&t, e->extents[i]);
		if (!err)
			err = add_item(b, EXT_EXTENTS, &t);
	}
	vg_buf_release(&t);
	return err;
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
	return encode_ext(e, b);
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

/* The data extents: ascending, not overlapping, inside the file. */
static int parse_extents(const uint8_t *p, size_t len, uint64_t size, uint64_t *out, size_t *n)
{
	struct vg_rd r;
	vg_rd_init(&r, p, len);
	uint64_t cnt = vg_rdvar(&r), end = 0;
	if (r.bad || cnt > len / 2)
		return -1;
	for (uint64_t k = 0; k < cnt; k++) {
		uint64_t off = vg_rdvar(&r), l = vg_rdvar(&r);
		if (r.bad || l == 0 || off < end || off > size || l > size - off)
			return -1;
		end = off + l;
		if (out) {
			out[2 * k] = off;
			out[2 * k + 1] = l;
		}
	}
	*n = (size_t)cnt;
	return vg_rd_left(&r) ? -1 : 0;
}

int vg_tree_extents(const struct vg_tree_entry *e, uint64_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!e->ext_raw_len)
		return 0;
	size_t cnt;
	if (parse_extents(e->ext_raw, e->ext_raw_len, e->st.size, NULL, &cnt) < 0)
		return VG_ERR(VG_ECORRUPT, "entry '%s' has invalid extents", e->name);
	if (!(*out = malloc((cnt ? 2 * cnt : 2) * sizeof **out)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	parse_extents(e->ext_raw, e->ext_raw_len, e->st.size, *out, n);
	return 0;
}

static int decode_names(struct vg_rd *body, struct arena *a, struct vg_tree_entry *e)
{
	for (int k = 0; k < 2; k++) {
		uint64_t n = vg_rdvar(body);
		const uint8_t *q = n <= 256 ? vg_rd_take(body, n) : NULL;
		if (!q || memchr(q, 0, n))
			return -1;
		const char *s = n ? arena_take(a, q, n, true) : NULL;
		if (n && !s)
			return -1;
		*(k ? &e->group : &e->user) = s;
	}
	return vg_rd_left(body) ? -1 : 0;
}

/* The extension area of an entry: known tags decoded and checked, the
 * rest skipped unless critical. */
static int decode_ext(struct vg_rd *r, struct arena *a, struct vg_tree_entry *e, size_t i)
{
	uint64_t n = vg_rdvar(r);
	if (r->bad || n > vg_rd_left(r))
		return VG_ERR(VG_ECORRUPT, "tree entry %zu: bad extension count", i);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t tag = vg_rdvar(r), len = vg_rdvar(r);
		const uint8_t *q = r->bad ? NULL : vg_rd_take(r, len);
		struct vg_rd body;
		size_t cnt;
		int bad = !q;
		if (!bad)
			vg_rd_init(&body, q, len);
		if (bad) {
		} else if (tag == EXT_NAMES) {
			bad = decode_names(&body, a, e);
		} else if (tag == EXT_XATTRS) {
			bad = len == 0 || vg_fs_xattrs_check(q, len) < 0 || !(e->xattrs = arena_take(a, q, len, false));
			e->xattrs_len = len;
		} else if (tag == EXT_LINK) {
			e->link_group = vg_rdvar(&body);
			bad = body.bad || vg_rd_left(&body) || e->link_group == 0;
		} else if (tag == EXT_EXTENTS) {
			bad = e->st.type != VG_FT_FILE || parse_extents(q, len, e->st.size, NULL, &cnt) < 0 ||
			      !(e->ext_raw = arena_take(a, q, len, false));
			e->ext_raw_len = len;
		} else if (tag & 1) {
			return VG_ERR(VG_EVERSION, "tree entry %zu ('%s') needs extension %llu, unknown to this vigil",
				      i, e->name, (unsigned long long)tag);
		}
		if (bad)
			return VG_ERR(VG_ECORRUPT, "tree entry %zu ('%s') has an invalid extension %llu", i, e->name,
				      (unsigned long long)tag);
	}
	return 0;
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
	return decode_ext(r, a, e, i);
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
	struct arena a = {.len = len + 4 * (size_t)n}; /* NULs: name, target, user, group */
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
