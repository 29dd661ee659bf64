/*
 * browse.c - resolving paths in snapshots, listing and comparing them
 * (see browse.h).
 */
#include "workflow/browse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "workflow/backup.h"

#define MAX_DEPTH 4096
#define PATH_CAP 16384

/* Turn an absolute source path into a path below the snapshot's top. */
static int relative_path(const struct vg_snapshot *s, const char *sub, char **out)
{
	char **names = calloc(s->npaths ? s->npaths : 1, sizeof *names);
	int err = names ? vg_backup_top_names(s->paths, s->npaths, names) : VG_ERR(VG_ENOMEM, "out of memory");
	*out = NULL;
	for (size_t i = 0; !err && i < s->npaths && !*out; i++) {
		size_t n = strlen(s->paths[i]);
		if (!names[i][0]) /* the snapshot is of "/" */
			*out = strdup(sub);
		else if (!strncmp(sub, s->paths[i], n) && (sub[n] == '/' || !sub[n]) &&
			 (*out = malloc(strlen(names[i]) + strlen(sub + n) + 1)))
			sprintf(*out, "%s%s", names[i], sub + n);
	}
	if (!err && !*out)
		err = VG_ERR(VG_ENOENT, "'%s' is not inside any path of this snapshot", sub);
	for (size_t i = 0; names && i < s->npaths; i++)
		free(names[i]);
	free(names);
	return err;
}

int vg_browse_resolve(struct vg_repo *r, const struct vg_snapshot *s, const char *sub, struct vg_id *dir,
		   struct vg_tree *holder, const struct vg_tree_entry **entry)
{
	char *rel = NULL, *save = NULL;
	int err = 0;
	*dir = s->root;
	*entry = NULL;
	memset(holder, 0, sizeof *holder);
	if (sub[0] == '/' && (err = relative_path(s, sub, &rel)) < 0)
		return err;
	char *p = rel ? rel : strdup(sub);
	if (!p)
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (char *comp = strtok_r(p, "/", &save); comp && !err; comp = strtok_r(NULL, "/", &save)) {
		if (!strcmp(comp, "."))
			continue;
		if (*entry) { /* a previous component was not a directory */
			err = VG_ERR(VG_ENOENT, "'%s' is not a directory in the snapshot", sub);
			break;
		}
		vg_tree_release(holder);
		if ((err = vg_repo_get_tree(r, dir, holder)) < 0)
			break;
		const struct vg_tree_entry *e = vg_tree_find(holder, comp, strlen(comp));
		if (!e)
			err = VG_ERR(VG_ENOENT, "'%s' is not in the snapshot (no '%s')", sub, comp);
		else if (e->st.type == VG_FT_DIR)
			*dir = e->subtree;
		else
			*entry = e;
	}
	free(p);
	return err;
}

/* path + "/" + name into out (or name alone at the top). */
static void join(char *out, const char *path, const char *name)
{
	snprintf(out, PATH_CAP, "%s%s%s", path, path[0] ? "/" : "", name);
}

static int walk(struct vg_repo *r, const struct vg_id *id, const char *path, int depth, vg_browse_fn fn, void *ctx)
{
	struct vg_tree t;
	char *sub = malloc(PATH_CAP);
	int err = sub ? vg_repo_get_tree(r, id, &t) : VG_ERR(VG_ENOMEM, "out of memory");
	if (err) {
		free(sub);
		return err;
	}
	for (size_t i = 0; i < t.n && !err; i++) {
		join(sub, path, t.e[i].name);
		if (!(err = fn(ctx, sub, &t.e[i])) && t.e[i].st.type == VG_FT_DIR) {
			err = depth < MAX_DEPTH ? walk(r, &t.e[i].subtree, sub, depth + 1, fn, ctx)
						: VG_ERR(VG_ECORRUPT, "'%s' is nested too deep", sub);
		}
	}
	vg_tree_release(&t);
	free(sub);
	return err;
}

int vg_browse_ls(struct vg_repo *r, const struct vg_id *snap, const char *sub, vg_browse_fn fn, void *ctx)
{
	struct vg_snapshot s;
	struct vg_tree holder = {0};
	const struct vg_tree_entry *entry = NULL;
	struct vg_id dir;
	int err = vg_repo_snapshot_load(r, snap, &s);
	if (err)
		return err;
	const char *p = sub && strcmp(sub, "/") ? sub : "";
	if (!(err = vg_browse_resolve(r, &s, p, &dir, &holder, &entry)))
		err = entry ? fn(ctx, p, entry) : walk(r, &dir, p, 0, fn, ctx);
	vg_tree_release(&holder);
	vg_snapshot_release(&s);
	return err;
}

static bool same_meta(const struct vg_tree_entry *a, const struct vg_tree_entry *b)
{
	const struct vg_fs_stat *x = &a->st, *y = &b->st;
	if (x->mode != y->mode || x->uid != y->uid || x->gid != y->gid || x->mtime_ns != y->mtime_ns ||
	    x->size != y->size || x->rdev != y->rdev || a->xattrs_len != b->xattrs_len || a->nchunks != b->nchunks)
		return false;
	if (a->xattrs_len && memcmp(a->xattrs, b->xattrs, a->xattrs_len))
		return false;
	if (a->nchunks && memcmp(a->chunks, b->chunks, a->nchunks * sizeof *a->chunks))
		return false;
	if ((a->target || b->target) && (!a->target || !b->target || strcmp(a->target, b->target)))
		return false;
	return true;
}

static int diff_trees(struct vg_repo *r, const struct vg_id *ia, const struct vg_id *ib, const char *path, int depth,
		      vg_diff_fn fn, void *ctx);

/* Report a whole subtree as added or removed. */
struct all {
	vg_diff_fn fn;
	void *ctx;
	int kind;
};

static int all_one(void *ctx, const char *path, const struct vg_tree_entry *e)
{
	struct all *a = ctx;
	return a->fn(a->ctx, a->kind, path, a->kind == VG_DIFF_REMOVED ? e : NULL, a->kind == VG_DIFF_ADDED ? e : NULL);
}

static int one_side(struct vg_repo *r, int kind, const char *path, const struct vg_tree_entry *e, vg_diff_fn fn,
		    void *ctx)
{
	struct all a = {fn, ctx, kind};
	int err = all_one(&a, path, e);
	if (!err && e->st.type == VG_FT_DIR)
		err = walk(r, &e->subtree, path, 0, all_one, &a);
	return err;
}

static int diff_entry(struct vg_repo *r, const struct vg_tree_entry *a, const struct vg_tree_entry *b,
		      const char *path, int depth, vg_diff_fn fn, void *ctx)
{
	if (a->st.type != b->st.type) {
		int err = one_side(r, VG_DIFF_REMOVED, path, a, fn, ctx);
		return err ? err : one_side(r, VG_DIFF_ADDED, path, b, fn, ctx);
	}
	if (a->st.type != VG_FT_DIR)
		return same_meta(a, b) ? 0 : fn(ctx, VG_DIFF_MODIFIED, path, a, b);
	int err = 0;
	if (a->st.mode != b->st.mode || a->st.uid != b->st.uid || a->st.gid != b->st.gid ||
	    a->xattrs_len != b->xattrs_len || (a->xattrs_len && memcmp(a->xattrs, b->xattrs, a->xattrs_len)))
		err = fn(ctx, VG_DIFF_MODIFIED, path, a, b);
	if (!err && !vg_id_eq(&a->subtree, &b->subtree))
		err = depth < MAX_DEPTH ? diff_trees(r, &a->subtree, &b->subtree, path, depth + 1, fn, ctx)
					: VG_ERR(VG_ECORRUPT, "'%s' is nested too deep", path);
	return err;
}

static int diff_trees(struct vg_repo *r, const struct vg_id *ia, const struct vg_id *ib, const char *path, int depth,
		      vg_diff_fn fn, void *ctx)
{
	struct vg_tree ta = {0}, tb = {0};
	char *sub = malloc(PATH_CAP);
	int err = sub ? vg_repo_get_tree(r, ia, &ta) : VG_ERR(VG_ENOMEM, "out of memory");
	if (!err)
		err = vg_repo_get_tree(r, ib, &tb);
	size_t i = 0, j = 0;
	while (!err && (i < ta.n || j < tb.n)) {
		const struct vg_tree_entry *a = i < ta.n ? &ta.e[i] : NULL, *b = j < tb.n ? &tb.e[j] : NULL;
		int c = !a ? 1 : !b ? -1 : vg_name_cmp(a->name, a->name_len, b->name, b->name_len);
		join(sub, path, c <= 0 ? a->name : b->name);
		if (c < 0)
			err = one_side(r, VG_DIFF_REMOVED, sub, a, fn, ctx), i++;
		else if (c > 0)
			err = one_side(r, VG_DIFF_ADDED, sub, b, fn, ctx), j++;
		else
			err = diff_entry(r, a, b, sub, depth, fn, ctx), i++, j++;
	}
	vg_tree_release(&ta);
	vg_tree_release(&tb);
	free(sub);
	return err;
}

int vg_browse_diff(struct vg_repo *r, const struct vg_id *a, const struct vg_id *b, vg_diff_fn fn, void *ctx)
{
	struct vg_snapshot sa, sb;
	int err = vg_repo_snapshot_load(r, a, &sa);
	if (err)
		return err;
	if (!(err = vg_repo_snapshot_load(r, b, &sb))) {
		if (!vg_id_eq(&sa.root, &sb.root))
			err = diff_trees(r, &sa.root, &sb.root, "", 0, fn, ctx);
		vg_snapshot_release(&sb);
	}
	vg_snapshot_release(&sa);
	return err;
}
