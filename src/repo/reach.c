/*
 * reach.c - id sets, the tree walker and the index scan (see reach.h).
 */
#include "repo/reach.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/index_disk.h"
#include "repo/obj.h"
#include "repo/root.h"
#include "repo/tree.h"

#define MAX_DEPTH 4096

/* ---- id sets ---- */

static uint32_t id_top(const struct vg_id *id, int bits)
{
	return ((uint32_t)id->b[0] << 24 | (uint32_t)id->b[1] << 16 | (uint32_t)id->b[2] << 8 | id->b[3]) >>
	       (32 - bits);
}

int vg_idfence_build(struct vg_idfence *f, const void *base, size_t n, size_t stride)
{
	int bits = 8;
	while (bits < 20 && ((size_t)1 << bits) < n / 8)
		bits++;
	size_t nb = (size_t)1 << bits, i = 0;
	*f = (struct vg_idfence){.bits = bits, .base = base, .n = n, .stride = stride};
	if (!(f->start = malloc((nb + 1) * sizeof *f->start)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (size_t b = 0; b < nb; b++) {
		while (i < n && id_top((const struct vg_id *)(f->base + i * stride), bits) < b)
			i++;
		f->start[b] = i;
	}
	f->start[nb] = n;
	return 0;
}

void *vg_idfence_find(const struct vg_idfence *f, const struct vg_id *id)
{
	uint32_t b = id_top(id, f->bits);
	size_t lo = f->start[b], hi = f->start[b + 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const uint8_t *e = f->base + mid * f->stride;
		int c = vg_id_cmp((const struct vg_id *)e, id);
		if (c == 0)
			return (void *)e;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void vg_idfence_release(struct vg_idfence *f)
{
	free(f->start);
	f->start = NULL;
}

void vg_idset_init(struct vg_idset *s) { memset(s, 0, sizeof *s); }

void vg_idset_release(struct vg_idset *s)
{
	free(s->k);
	memset(s, 0, sizeof *s);
}

static size_t slot_of(const struct vg_id *id, size_t cap)
{
	uint64_t h;
	memcpy(&h, id->b, sizeof h);
	return (size_t)h & (cap - 1);
}

/* An all-zero id marks a free slot; the zero id itself is kept aside. */
static bool is_free(const struct vg_id *id) { return vg_id_is_zero(id); }

static void put(struct vg_id *k, size_t cap, const struct vg_id *id)
{
	for (size_t j = slot_of(id, cap);; j = (j + 1) & (cap - 1))
		if (is_free(&k[j])) {
			k[j] = *id;
			return;
		}
}

int vg_idset_add(struct vg_idset *s, const struct vg_id *id, bool *fresh)
{
	if (fresh)
		*fresh = false;
	if (is_free(id))
		return VG_ERR(VG_ECORRUPT, "an object id of all zeros");
	if (vg_idset_has(s, id))
		return 0;
	if (2 * (s->n + 1) > s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 1024;
		struct vg_id *nk = calloc(nc, sizeof *nk);
		if (!nk)
			return VG_ERR(VG_ENOMEM, "out of memory (%zu object ids)", s->n);
		for (size_t i = 0; i < s->cap; i++)
			if (!is_free(&s->k[i]))
				put(nk, nc, &s->k[i]);
		free(s->k);
		s->k = nk;
		s->cap = nc;
	}
	put(s->k, s->cap, id);
	s->n++;
	if (fresh)
		*fresh = true;
	return 0;
}

bool vg_idset_has(const struct vg_idset *s, const struct vg_id *id)
{
	if (!s->cap)
		return false;
	for (size_t j = slot_of(id, s->cap);; j = (j + 1) & (s->cap - 1)) {
		if (is_free(&s->k[j]))
			return false;
		if (vg_id_eq(&s->k[j], id))
			return true;
	}
}

bool vg_bp_same(const struct vg_bp *a, const struct vg_bp *b)
{
	return a->psize == b->psize && a->dva[0].seg == b->dva[0].seg && a->dva[0].off == b->dva[0].off &&
	       !memcmp(a->cksum, b->cksum, VG_CKSUM_LEN);
}

/* ---- the tree walker ---- */

static char *join(const char *dir, const char *name, size_t len)
{
	size_t dl = strlen(dir);
	char *p = malloc(dl + 1 + len + 1);
	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	if (dl)
		p[dl++] = '/';
	memcpy(p + dl, name, len);
	p[dl + len] = 0;
	return p;
}

/* Read tree id, reporting its parts when it is split. */
static int load_tree(struct vg_repo *r, const struct vg_id *id, const struct vg_reach_ops *o, struct vg_tree *t)
{
	struct vg_buf b;
	struct vg_id *parts = NULL;
	size_t np = 0;
	uint64_t total;
	vg_buf_init(&b, VG_OBJ_MAX);
	memset(t, 0, sizeof *t);
	int err = vg_repo_get(r, VG_OT_TREE, id, &b);
	int kind = err ? err : vg_tree_kind(b.p, b.len);
	if (kind < 0)
		err = kind;
	else if (kind == VG_TREE_KIND_ENTRIES)
		err = vg_tree_decode(b.p, b.len, t);
	else if (!(err = vg_tree_parts_decode(b.p, b.len, &parts, &np, &total))) {
		for (size_t i = 0; i < np && !err && o->part; i++)
			err = o->part(o->ctx, &parts[i]);
		if (!err)
			err = vg_repo_get_tree(r, id, t);
	}
	free(parts);
	vg_buf_release(&b);
	return err;
}

static int walk(struct vg_repo *r, const struct vg_id *id, const char *path, int depth, const struct vg_reach_ops *o)
{
	struct vg_tree t;
	int err;
	if (depth > MAX_DEPTH)
		return VG_ERR(VG_ECORRUPT, "directories nested deeper than %d levels at '%s'", MAX_DEPTH, path);
	if (o->tree && (err = o->tree(o->ctx, id)) != 0)
		return err == 1 ? 0 : err;
	if ((err = load_tree(r, id, o, &t)) < 0) {
		vg_tree_release(&t);
		return o->bad_tree ? o->bad_tree(o->ctx, path, id, err) : err;
	}
	for (size_t i = 0; i < t.n && !err; i++) {
		const struct vg_tree_entry *e = &t.e[i];
		char *sub = join(path, e->name, e->name_len);
		if (!sub) {
			err = VG_ERR(VG_ENOMEM, "out of memory");
			break;
		}
		if (o->entry)
			err = o->entry(o->ctx, sub, e);
		if (!err && e->st.type == VG_FT_DIR)
			err = walk(r, &e->subtree, sub, depth + 1, o);
		free(sub);
	}
	vg_tree_release(&t);
	return err;
}

int vg_reach_tree(struct vg_repo *r, const struct vg_id *tree, const struct vg_reach_ops *o)
{
	return walk(r, tree, "", 0, o);
}

/* ---- the committed root and the index scan ---- */

int vg_reach_root(struct vg_pool *pool, struct vg_root *out)
{
	struct vg_bp bp;
	bool has;
	memset(out, 0, sizeof *out);
	vg_pool_root(pool, &bp, &has);
	if (!has)
		return VG_ERR(VG_ENOENT, "the vault holds no repository yet");
	if (bp.type != VG_BT_ROOT)
		return VG_ERR(VG_ECORRUPT, "the vault's root block has type %u, not a repository root", bp.type);
	uint8_t *buf = malloc(bp.psize);
	if (!buf)
		return VG_ERR(VG_ENOMEM, "out of memory");
	int err = vg_pool_read(pool, &bp, buf);
	if (err)
		vg_err_prefix(err, "reading the repository root");
	else
		err = vg_root_decode(buf, bp.psize, out);
	free(buf);
	return err;
}

/* Every entry in id order, merged over the runs: bounded memory (the run
 * headers and one decoded block per run), whatever the vault's size. */
int vg_index_scan(struct vg_pool *pool, const struct vg_root *root, const uint8_t *key, vg_index_scan_fn fn,
		  void *ctx)
{
	struct vg_index_run *h = calloc(root->nruns ? root->nruns : 1, sizeof *h);
	struct vg_buf raw;
	struct vg_imerge m;
	struct vg_index_entry e;
	struct vg_bp pack;
	int err = h ? 0 : VG_ERR(VG_ENOMEM, "out of memory");
	vg_buf_init(&raw, VG_POOL_MAX_BLOCK);
	vg_imerge_init(&m, pool, key);
	for (size_t i = 0; i < root->nruns && !err; i++) {
		const struct vg_runref *ref = &root->runs[i];
		if ((err = vg_buf_reserve(&raw, ref->bp.psize)) < 0)
			break;
		if ((err = vg_pool_read(pool, &ref->bp, raw.p)) < 0) {
			vg_err_prefix(err, "reading the index");
			break;
		}
		if ((err = vg_index_run_decode(raw.p, ref->bp.psize, &h[i])) < 0)
			break;
		if (h[i].total != ref->count)
			err = VG_ERR(VG_ECORRUPT, "index run %zu holds %llu entries, the root says %llu", i,
				     (unsigned long long)h[i].total, (unsigned long long)ref->count);
		else
			err = vg_imerge_add_run(&m, &h[i]);
	}
	vg_buf_release(&raw);
	int got = 0;
	while (!err && (got = vg_imerge_next(&m, &e, &pack)) > 0)
		err = fn(ctx, &e, &pack);
	if (!err && got < 0)
		err = got;
	vg_imerge_release(&m);
	for (size_t i = 0; h && i < root->nruns; i++)
		vg_index_run_release(&h[i]);
	free(h);
	return err;
}
