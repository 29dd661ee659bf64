/*
 * check.c - the metadata consistency check (see check.h).
 *
 * Problems are collected, not returned as errors: the point is the whole
 * list.  A failure high up (root, index) ends the parts that depend on
 * it, with one line saying so.
 */
#include "repo/check.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "repo/obj.h"
#include "repo/reach.h"
#include "repo/repo.h"
#include "repo/root.h"
#include "repo/walk.h"

/* An index entry as the check needs it (34 bytes): listed in id order
 * (as the scan gives them), looked up through a vg_idfence. */
enum { CK_CHUNK = 1, CK_TREE = 2 };
struct ckent {
	struct vg_id id;
	uint8_t kind; /* CK_*, 0 for other objects */
	bool seen;    /* a tree: walked already */
};

struct ck {
	struct vg_pool *pool;
	struct vg_check_result *res;
	struct ckent *e; /* every index entry */
	size_t n, cap;
	bool unsorted;
	struct vg_idfence fence;
	const char *snap; /* "snapshot 1a2b3c4d" while walking */
	int oom;
};

static bool indexed(struct ck *c, const struct vg_id *id, int kind, struct ckent **out)
{
	struct ckent *x = vg_idfence_find(&c->fence, id);
	if (out)
		*out = x;
	return x && x->kind == kind;
}

static int by_id(const void *a, const void *b) { return vg_id_cmp(a, b); }
_Static_assert(offsetof(struct ckent, id) == 0, "struct ckent must start with its id");

static void problem(struct ck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct ck *c, const char *fmt, ...)
{
	struct vg_check_result *r = c->res;
	if (r->nproblems >= VG_CHECK_MAX_PROBLEMS) {
		r->dropped++;
		return;
	}
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	char **np = realloc(r->problems, (r->nproblems + 1) * sizeof *np);
	char *dup = strdup(line);
	if (!np || !dup) {
		free(dup);
		if (np)
			r->problems = np;
		c->oom = VG_ERR(VG_ENOMEM, "out of memory");
		return;
	}
	r->problems = np;
	r->problems[r->nproblems++] = dup;
}

static int check_block(void *ctx, const struct vg_bp *bp, const char *what)
{
	struct ck *c = ctx;
	c->res->blocks++;
	if (vg_pool_block_allocated(c->pool, bp))
		problem(c, "%s: %s", what, vg_errmsg());
	return c->oom;
}

static int index_entry(void *ctx, const struct vg_index_entry *e, const struct vg_bp *pack)
{
	struct ck *c = ctx;
	char hex[2 * VG_ID_LEN + 1], b[96];
	c->res->index_entries++;
	vg_id_hex(&e->id, hex);
	bool chunk = e->otype == VG_OT_CHUNK, tree = e->otype == VG_OT_TREE || e->otype == VG_OT_TREE_PART;
	if ((uint64_t)e->off + e->slen > pack->psize)
		problem(c, "index: %s %.16s lies outside its pack %s", vg_otype_name(e->otype), hex, vg_bp_str(pack, b));
	else if ((chunk && pack->type != VG_BT_DATA_PACK) || (tree && pack->type != VG_BT_META_PACK) ||
		 (!chunk && !tree))
		problem(c, "index: %s %.16s is in a block of type %#x", vg_otype_name(e->otype), hex, pack->type);
	int err = vg_grow(&c->e, &c->cap, c->n + 1, sizeof *c->e, "listing the index");
	if (err)
		return err;
	if (c->n && vg_id_cmp(&c->e[c->n - 1].id, &e->id) >= 0)
		c->unsorted = true;
	c->e[c->n++] = (struct ckent){e->id, chunk ? CK_CHUNK : tree ? CK_TREE : 0, false};
	return c->oom;
}

static int on_tree(void *ctx, const struct vg_id *id)
{
	struct ck *c = ctx;
	struct ckent *x;
	char hex[2 * VG_ID_LEN + 1];
	if (!indexed(c, id, CK_TREE, &x)) {
		c->res->trees++;
		vg_id_hex(id, hex);
		problem(c, "%s: tree %.16s is not in the index", c->snap, hex);
		return 1;
	}
	if (x->seen)
		return 1;
	x->seen = true;
	c->res->trees++;
	return 0;
}

static int on_part(void *ctx, const struct vg_id *id)
{
	struct ck *c = ctx;
	char hex[2 * VG_ID_LEN + 1];
	if (!indexed(c, id, CK_TREE, NULL)) {
		vg_id_hex(id, hex);
		problem(c, "%s: tree part %.16s is not in the index", c->snap, hex);
	}
	return c->oom;
}

static int on_entry(void *ctx, const char *path, const struct vg_tree_entry *e)
{
	struct ck *c = ctx;
	if (e->st.type != VG_FT_FILE)
		return 0;
	c->res->files++;
	for (size_t i = 0; i < e->nchunks; i++) {
		c->res->chunk_refs++;
		if (!indexed(c, &e->chunks[i], CK_CHUNK, NULL)) {
			char hex[2 * VG_ID_LEN + 1];
			vg_id_hex(&e->chunks[i], hex);
			problem(c, "%s: /%s: chunk %.16s is not in the index", c->snap, path, hex);
		}
	}
	return c->oom;
}

static int on_bad_tree(void *ctx, const char *path, const struct vg_id *id, int err)
{
	struct ck *c = ctx;
	(void)id;
	(void)err;
	problem(c, "%s: /%s: directory cannot be read: %s", c->snap, path, vg_errmsg());
	return c->oom;
}

static void check_snapshots(struct ck *c, struct vg_repo *r, const struct vg_root *root)
{
	struct vg_reach_ops o = {on_tree, on_part, on_entry, on_bad_tree, c};
	for (size_t i = 0; i < root->nsnaps && !c->oom; i++) {
		struct vg_snapshot s;
		char hex[2 * VG_ID_LEN + 1], name[32];
		vg_id_hex(&root->snaps[i].id, hex);
		snprintf(name, sizeof name, "snapshot %.8s", hex);
		c->snap = name;
		c->res->snapshots++;
		if (vg_repo_snapshot_load(r, &root->snaps[i].id, &s)) {
			problem(c, "%s: cannot be read: %s", name, vg_errmsg());
			continue;
		}
		int err = vg_reach_tree(r, &s.root, &o);
		if (err < 0 && !c->oom)
			problem(c, "%s: %s", name, vg_errmsg());
		vg_snapshot_release(&s);
	}
}

int vg_repo_check(struct vg_pool *pool, const struct vg_repo_opts *ro, struct vg_check_result *res)
{
	struct ck c = {.pool = pool, .res = res};
	struct vg_root root;
	struct vg_repo *r = NULL;
	memset(res, 0, sizeof *res);
	if (vg_reach_root(pool, &root)) {
		problem(&c, "root: %s; nothing else can be checked", vg_errmsg());
		goto out;
	}
	int err = vg_repo_walk_blocks(pool, check_block, &c);
	if (err < 0 && !c.oom)
		problem(&c, "blocks: %s", vg_errmsg());
	/* the repository (and its key, for an encrypted vault) first: the
	 * index entries are sealed */
	if (vg_repo_open(pool, ro, &r)) {
		problem(&c, "repository: %s", vg_errmsg());
		r = NULL;
	}
	if (r && !c.oom && (err = vg_index_scan(pool, &root, vg_repo_master(r), index_entry, &c)) < 0 && !c.oom)
		problem(&c, "index: %s; the snapshots cannot be checked", vg_errmsg());
	if (r && !err && !c.oom) {
		if (c.unsorted)
			qsort(c.e, c.n, sizeof *c.e, by_id);
		if ((err = vg_idfence_build(&c.fence, c.e, c.n, sizeof *c.e)) < 0)
			c.oom = err;
	}
	if (r && !err && !c.oom) {
		check_snapshots(&c, r, &root);
	}
	vg_repo_close(r);
	vg_root_release(&root);
out:
	vg_idfence_release(&c.fence);
	free(c.e);
	return c.oom;
}

void vg_check_result_release(struct vg_check_result *res)
{
	for (size_t i = 0; i < res->nproblems; i++)
		free(res->problems[i]);
	free(res->problems);
	memset(res, 0, sizeof *res);
}
