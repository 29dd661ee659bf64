/*
 * prune.h - forget snapshots by a retention policy (or by id), then
 * optionally reclaim the space only they used.
 *
 * The plan (which snapshots stay, and why) is computed first and is all a
 * dry run does, so a dry run lists exactly what a real run with the same
 * vault state removes.  A snapshot that cannot be read is never removed
 * by a policy (it cannot be judged) and is reported.
 */
#ifndef VG_WORKFLOW_PRUNE_H
#define VG_WORKFLOW_PRUNE_H

#include <stdbool.h>
#include <stddef.h>

#include "pool/pool.h"
#include "repo/gc.h"
#include "repo/policy.h"
#include "repo/snapshot.h"

struct vg_prune_opts {
	struct vg_policy policy;  /* applied when it has a rule */
	const struct vg_id *ids;  /* and/or these snapshots are forgotten */
	size_t nids;
	bool dry_run;
	bool gc;                  /* reclaim space afterwards */
	struct vg_gc_opts gc_opts;
	const struct vg_repo_opts *repo; /* how to open the repository (passphrase) */
};

struct vg_prune_snap {
	struct vg_id id;
	int64_t time_ns;
	bool readable;
	struct vg_snapshot s;     /* when readable */
	unsigned keep;            /* enum vg_keep mask; 0 with forget set: removed */
	bool forget;
	size_t group;
};

struct vg_prune_result {
	struct vg_prune_snap *snaps; /* every snapshot, oldest first */
	size_t n, nforget, ngroups;
	bool forgot;                 /* the forget was committed */
	bool gc_ran;
	struct vg_gc_result gc;
};

/* The vault must be open read-write (except for a dry run). */
int vg_prune_run(struct vg_pool *pool, const struct vg_prune_opts *o, struct vg_prune_result *res);
void vg_prune_result_release(struct vg_prune_result *res);

#endif
