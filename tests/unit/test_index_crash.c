/*
 * test_index_crash.c - power loss at every write of a backup whose commit
 * merges the index runs.
 *
 * The vault holds two backups whose runs were already merged into one; a
 * third backup adds enough objects that its commit merges again (index
 * blocks of 4 entries, so the merge writes dozens of blocks).  The power
 * is cut at write N for every N (several seeds where writes are few).
 * After the restart the vault must open with exactly the old run list or
 * exactly the new one, the index scan must list every entry once, and
 * every snapshot must restore identical to its source.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "os/fault.h"
#include "repo/reach.h"
#include "repo/repo.h"
#include "t.h"
#include "tvault.h"
#include "workflow/backup.h"
#include "workflow/restore.h"

#define MAX_POINTS 150

static const struct vg_repo_opts opts = {.index_block = 4};
static char dev0[512];

struct runs {
	struct vg_runref r[8];
	size_t n;
};

static int get_runs(struct vg_pool *p, struct runs *out)
{
	struct vg_root root;
	int err = vg_reach_root(p, &root);
	if (err)
		return err;
	out->n = root.nruns < 8 ? root.nruns : 8;
	memcpy(out->r, root.runs, out->n * sizeof *out->r);
	vg_root_release(&root);
	return 0;
}

/* Exactly these runs (same blocks)? */
static bool same_runs(const struct runs *a, const struct runs *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->r[i].count != b->r[i].count || !vg_bp_same(&a->r[i].bp, &b->r[i].bp))
			return false;
	return true;
}

/* Runs of the same sizes (a merge written again after a restart lands
 * at other places)? */
static bool like_runs(const struct runs *a, const struct runs *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->r[i].count != b->r[i].count)
			return false;
	return true;
}

static int backup(struct vg_os *os, const char *src, struct vg_id *id)
{
	struct vg_pool *p = NULL;
	struct vg_repo *r = NULL;
	const char *paths[] = {src};
	struct vg_backup_opts o = {.paths = paths, .npaths = 1, .host = "crash"};
	struct vg_backup_result res;
	memset(&res, 0, sizeof res);
	int err = vg_pool_open(os, dev0, VG_POOL_RDWR, &p);
	if (!err && !(err = vg_repo_open(p, &opts, &r)) && !(err = vg_backup_run(r, &o, &res)))
		*id = res.id;
	vg_backup_result_release(&res);
	vg_repo_close(r);
	int e2 = vg_pool_close(p);
	return err ? err : e2;
}

static int count_entry(void *ctx, const struct vg_index_entry *e, const struct vg_bp *pack)
{
	(void)e;
	(void)pack;
	(*(uint64_t *)ctx)++;
	return 0;
}

/* After the restart: old or new runs, a sound index, every snapshot whole. */
static void check(const struct runs *old, const struct runs *new, const struct vg_id *ids, uint64_t n)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct runs got;
	T_OK(vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDWR, &p));
	T_OK(get_runs(p, &got));
	bool is_old = same_runs(&got, old);
	T_CHECKF(is_old || like_runs(&got, new), "crash at write %llu: the vault lists %zu runs, neither the old "
						 "nor the new ones", (unsigned long long)n, got.n);
	T_OK(vg_repo_open(p, NULL, &r));
	struct vg_root root;
	uint64_t entries = 0, want = 0;
	T_OK(vg_reach_root(p, &root));
	T_OK(vg_index_scan(p, &root, NULL, count_entry, &entries));
	for (size_t i = 0; i < root.nruns; i++)
		want += root.runs[i].count;
	vg_root_release(&root);
	T_EQ(entries, want);
	size_t nsnaps = vg_repo_snapshot_count(r);
	T_EQ(nsnaps, is_old ? 2 : 3);
	for (size_t i = 0; i < nsnaps; i++) {
		int which = -1;
		for (int k = 0; k < 3; k++)
			if (vg_id_eq(&vg_repo_snapshot_ref(r, i)->id, &ids[k]))
				which = k;
		T_CHECKF(which >= 0 || !is_old, "crash at write %llu: an unknown snapshot", (unsigned long long)n);
		if (which < 0)
			which = 2; /* the one in flight: its id was never returned */
		T_CHECKF(tv_restore_same(r, &vg_repo_snapshot_ref(r, i)->id, t_path("src%d", which)) == 0,
			 "crash at write %llu: snapshot %zu does not restore as src%d", (unsigned long long)n, i, which);
	}
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
}

TEST(power_loss_at_every_write_of_a_merging_commit)
{
	struct vg_id ids[3];
	struct runs old, new;
	struct vg_pool *p;
	snprintf(dev0, sizeof dev0, "%s", tv_create("v", "raidz1", 3));
	T_EQ(t_sh("cd '%s' && for s in 0 1 2; do mkdir -p src$s/d; for i in $(seq 1 $((30 + s * 10))); do "
		  "echo \"$s file $i\" > src$s/d/f$i; done; done",
		  t_tmpdir()), 0);
	T_OK(backup(vg_os_posix(), t_path("src0"), &ids[0]));
	T_OK(backup(vg_os_posix(), t_path("src1"), &ids[1]));
	T_OK(vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDWR, &p));
	T_OK(get_runs(p, &old));
	T_OK(vg_pool_close(p));
	T_EQ(old.n, 1); /* the second backup's commit merged */
	T_EQ(t_sh("cp -a '%s/v' '%s/template'", t_tmpdir(), t_tmpdir()), 0);

	struct vg_os *os = vg_os_fault_new(vg_os_posix());
	T_OK(backup(os, t_path("src2"), &ids[2]));
	struct vg_fault_counts c;
	vg_fault_counts(os, NULL, &c);
	vg_os_destroy(os);
	T_OK(vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDWR, &p));
	T_OK(get_runs(p, &new));
	T_OK(vg_pool_close(p));
	T_CHECK(new.n == 1 && new.r[0].count > old.r[0].count); /* merged again */
	check(&old, &new, ids, 0);

	uint64_t total = c.writes, step = total > MAX_POINTS ? total / MAX_POINTS : 1;
	int seeds = (int)(MAX_POINTS / (total / step + 1));
	seeds = seeds < 1 ? 1 : seeds > 4 ? 4 : seeds;
	int outcomes[2] = {0};
	for (uint64_t k = 0; k < (total / step + 1) * (uint64_t)seeds; k++) {
		uint64_t n = 1 + (k / (uint64_t)seeds) * step, seed = k * 0x9e3779b97f4a7c15ull + 11;
		struct vg_id id;
		if (n > total)
			break;
		t_vault_from_template();
		os = t_crash_os(0, n, seed);
		backup(os, t_path("src2"), &id);
		T_CHECKF(vg_fault_crashed(os), "write %llu was never reached", (unsigned long long)n);
		T_OK(vg_fault_powerloss(os, NULL));
		vg_os_destroy(os);
		check(&old, &new, ids, n);
		if (t_failed())
			return;
		T_OK(vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDWR, &p));
		struct runs got;
		T_OK(get_runs(p, &got));
		T_OK(vg_pool_close(p));
		outcomes[!same_runs(&got, &old)]++;
	}
	fprintf(stderr, "  %llu writes, %d crashes kept the old runs, %d the new\n", (unsigned long long)total,
		outcomes[0], outcomes[1]);
	T_CHECK(outcomes[0] > 0 && outcomes[1] > 0);
}
