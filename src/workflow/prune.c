/*
 * prune.c - the forget/prune workflow (see prune.h): load the snapshots,
 * plan with the policy, forget in one commit, then collect garbage.
 */
#include "workflow/prune.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/repo.h"

static int oldest_first(const void *a, const void *b)
{
	const struct vg_prune_snap *x = a, *y = b;
	return (x->time_ns > y->time_ns) - (x->time_ns < y->time_ns);
}

static int load(struct vg_pool *pool, const struct vg_repo_opts *base, struct vg_prune_result *res)
{
	struct vg_repo_opts ro = {0};
	if (base)
		ro = *base;
	ro.no_index = true;
	struct vg_repo *r = NULL;
	int err = vg_repo_open(pool, &ro, &r);
	if (err)
		return err;
	res->n = vg_repo_snapshot_count(r);
	if (!(res->snaps = calloc(res->n ? res->n : 1, sizeof *res->snaps))) {
		vg_repo_close(r);
		return VG_ERR(VG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < res->n; i++) {
		const struct vg_snapref *ref = vg_repo_snapshot_ref(r, i);
		struct vg_prune_snap *p = &res->snaps[i];
		p->id = ref->id;
		p->time_ns = ref->time_ns;
		p->readable = vg_repo_snapshot_load(r, &ref->id, &p->s) == 0;
		if (p->readable)
			p->time_ns = p->s.time_ns;
	}
	vg_repo_close(r);
	qsort(res->snaps, res->n, sizeof *res->snaps, oldest_first);
	return 0;
}

/* Apply the policy to the readable snapshots; unreadable ones stay. */
static int plan(const struct vg_prune_opts *o, struct vg_prune_result *res)
{
	size_t n = res->n, m = 0;
	struct vg_policy_snap *ps = calloc(n ? n : 1, sizeof *ps);
	size_t *map = calloc(n ? n : 1, sizeof *map), *grp = calloc(n ? n : 1, sizeof *grp);
	unsigned *keep = calloc(n ? n : 1, sizeof *keep);
	int err = 0;
	if (!ps || !map || !grp || !keep) {
		err = VG_ERR(VG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct vg_prune_snap *p = &res->snaps[i];
		p->keep = 0; /* kept unless forgotten; reasons come from the policy */
		for (size_t k = 0; k < o->nids; k++)
			if (vg_id_eq(&o->ids[k], &p->id))
				p->forget = true;
		if (!p->readable)
			continue;
		ps[m] = (struct vg_policy_snap){p->s.time_ns, p->s.host, p->s.tags, p->s.ntags,
						p->s.paths, p->s.npaths, p->s.verdict == VG_VERDICT_OK};
		map[m++] = i;
	}
	if (vg_policy_any(&o->policy)) {
		if ((err = vg_policy_apply(&o->policy, ps, m, keep, grp)))
			goto out;
		for (size_t j = 0; j < m; j++) {
			struct vg_prune_snap *p = &res->snaps[map[j]];
			p->keep = keep[j];
			p->group = grp[j];
			p->forget = p->forget || !keep[j];
			if (grp[j] + 1 > res->ngroups)
				res->ngroups = grp[j] + 1;
		}
	}
	for (size_t i = 0; i < n; i++)
		res->nforget += res->snaps[i].forget;
out:
	free(ps);
	free(map);
	free(grp);
	free(keep);
	return err;
}

int vg_prune_run(struct vg_pool *pool, const struct vg_prune_opts *o, struct vg_prune_result *res)
{
	memset(res, 0, sizeof *res);
	int err = load(pool, o->repo, res);
	if (err || (err = plan(o, res)))
		return err;
	for (size_t k = 0; k < o->nids; k++) {
		size_t i = 0;
		while (i < res->n && !vg_id_eq(&res->snaps[i].id, &o->ids[k]))
			i++;
		if (i == res->n) {
			char hex[2 * VG_ID_LEN + 1];
			vg_id_hex(&o->ids[k], hex);
			return VG_ERR(VG_ENOENT, "snapshot %s is not in the vault", hex);
		}
	}
	struct vg_id *ids = malloc((res->nforget ? res->nforget : 1) * sizeof *ids);
	size_t k = 0;
	if (!ids)
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (size_t i = 0; i < res->n; i++)
		if (res->snaps[i].forget)
			ids[k++] = res->snaps[i].id;
	struct vg_gc_opts g = o->gc_opts;
	g.repo = o->repo;
	if (o->dry_run) {
		g.dry_run = true;
		g.exclude = ids;
		g.nexclude = k;
	} else if (k && !(err = vg_repo_forget(pool, ids, k))) {
		res->forgot = true;
	}
	if (!err && o->gc)
		res->gc_ran = !(err = vg_repo_gc(pool, &g, &res->gc));
	free(ids);
	return err;
}

void vg_prune_result_release(struct vg_prune_result *res)
{
	for (size_t i = 0; i < res->n; i++)
		if (res->snaps[i].readable)
			vg_snapshot_release(&res->snaps[i].s);
	free(res->snaps);
	memset(res, 0, sizeof *res);
}
