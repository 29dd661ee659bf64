/*
 * damage.c - map damaged blocks to snapshot paths (see damage.h).
 *
 * Order of work: classify the bad blocks by type; collect the ids of the
 * objects held by bad packs (index scan); then walk every snapshot's
 * trees and name each file using a damaged chunk and each directory whose
 * listing cannot be read.  Every snapshot is walked in full (shared
 * subtrees are named once per snapshot that has them: that is what the
 * user restores).
 */
#include "workflow/damage.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/obj.h"
#include "repo/reach.h"
#include "repo/repo.h"
#include "repo/root.h"

struct dmg {
	const struct vg_bp *bad;
	size_t nbad;
	struct vg_idset ids; /* objects in bad packs */
	struct vg_damage_report *out;
	const struct vg_snapref *snap;
	int err;
};

static int by_place(const void *a, const void *b)
{
	const struct vg_bp *x = a, *y = b;
	uint64_t k = (uint64_t)x->dva[0].seg << 32 | x->dva[0].off, l = (uint64_t)y->dva[0].seg << 32 | y->dva[0].off;
	return (k > l) - (k < l);
}

/* d->bad is sorted by place: binary search, then compare the neighbours
 * at the same place. */
static bool is_bad(const struct dmg *d, const struct vg_bp *bp)
{
	size_t lo = 0, hi = d->nbad;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (by_place(&d->bad[mid], bp) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < d->nbad && !by_place(&d->bad[lo], bp); lo++)
		if (vg_bp_same(&d->bad[lo], bp))
			return true;
	return false;
}

static int add(struct dmg *d, const char *path, int kind)
{
	struct vg_damage_report *o = d->out;
	if (o->n >= VG_DAMAGE_MAX) {
		o->dropped++;
		return 0;
	}
	struct vg_damage_item *nv = realloc(o->v, (o->n + 1) * sizeof *nv);
	char *p = malloc(strlen(path) + 2);
	if (!nv || !p) {
		free(p);
		if (nv)
			o->v = nv;
		return d->err = VG_ERR(VG_ENOMEM, "out of memory");
	}
	o->v = nv;
	p[0] = 0;
	if (*path)
		p[0] = '/', strcpy(p + 1, path);
	o->v[o->n++] = (struct vg_damage_item){d->snap->id, d->snap->time_ns, p, kind};
	return 0;
}

static int scan(void *ctx, const struct vg_index_entry *e, const struct vg_bp *pack)
{
	struct dmg *d = ctx;
	return is_bad(d, pack) ? vg_idset_add(&d->ids, &e->id, NULL) : 0;
}

static int on_entry(void *ctx, const char *path, const struct vg_tree_entry *e)
{
	struct dmg *d = ctx;
	if (e->st.type != VG_FT_FILE)
		return 0;
	for (size_t i = 0; i < e->nchunks; i++)
		if (vg_idset_has(&d->ids, &e->chunks[i]))
			return add(d, path, VG_DAMAGE_FILE);
	return 0;
}

static int on_bad_tree(void *ctx, const char *path, const struct vg_id *id, int err)
{
	(void)id;
	(void)err;
	return add(ctx, path, VG_DAMAGE_DIR);
}

static int walk_all(struct dmg *d, struct vg_repo *r, const struct vg_root *root)
{
	struct vg_reach_ops o = {.entry = on_entry, .bad_tree = on_bad_tree, .ctx = d};
	for (size_t s = 0; s < root->nsnaps && !d->err; s++) {
		struct vg_snapshot snap;
		d->snap = &root->snaps[s];
		if (!r) {
			add(d, "", VG_DAMAGE_INDEX);
			continue;
		}
		if (vg_repo_snapshot_load(r, &root->snaps[s].id, &snap)) {
			add(d, "", VG_DAMAGE_SNAPSHOT);
			continue;
		}
		int err = vg_reach_tree(r, &snap.root, &o);
		vg_snapshot_release(&snap);
		if (err < 0 && !d->err)
			d->err = err;
	}
	return d->err;
}

static int oldest_first(const void *a, const void *b)
{
	const struct vg_snapref *x = a, *y = b;
	return (x->time_ns > y->time_ns) - (x->time_ns < y->time_ns);
}

int vg_damage_map(struct vg_pool *pool, const struct vg_repo_opts *ro, const struct vg_bp *bad, size_t nbad,
		  struct vg_damage_report *out)
{
	struct dmg d = {.nbad = nbad, .out = out};
	struct vg_root root;
	struct vg_repo *r = NULL;
	struct vg_bp *sorted = NULL;
	memset(out, 0, sizeof *out);
	if (!nbad)
		return 0;
	if (!(sorted = malloc(nbad * sizeof *sorted)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	memcpy(sorted, bad, nbad * sizeof *sorted);
	qsort(sorted, nbad, sizeof *sorted, by_place);
	d.bad = sorted;
	vg_idset_init(&d.ids);
	int err = vg_reach_root(pool, &root);
	if (err) {
		free(sorted);
		return err;
	}
	qsort(root.snaps, root.nsnaps, sizeof *root.snaps, oldest_first);
	/* an index that cannot be read hides every snapshot's files */
	if (vg_repo_open(pool, ro, &r))
		r = NULL;
	else if (vg_index_scan(pool, &root, vg_repo_master(r), scan, &d)) {
		vg_repo_close(r);
		r = NULL;
	}
	err = walk_all(&d, r, &root);
	vg_repo_close(r);
	vg_root_release(&root);
	vg_idset_release(&d.ids);
	free(sorted);
	return err;
}

void vg_damage_report_release(struct vg_damage_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].path);
	free(r->v);
	memset(r, 0, sizeof *r);
}

const char *vg_damage_kind_name(int kind)
{
	switch (kind) {
	case VG_DAMAGE_FILE: return "file";
	case VG_DAMAGE_DIR: return "directory";
	case VG_DAMAGE_SNAPSHOT: return "snapshot";
	case VG_DAMAGE_INDEX: return "index";
	default: return "?";
	}
}
