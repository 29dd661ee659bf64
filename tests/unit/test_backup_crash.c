/*
 * test_backup_crash.c - power loss at every write, and at every sync,
 * directory sync, rename and other metadata call, of real backups.
 *
 * A vault holds one committed snapshot; two more backups run through the
 * fault twin, which cuts the power at write N (every N, or 400 spread over
 * the run; several seeds per point when there are few) or as call N of
 * the other kinds is made, with a seed deciding which unsynced writes
 * survive, are lost or are torn.  After the "restart" the vault must open, hold exactly the
 * snapshots whose commit returned (plus the one whose commit was in
 * flight, if its uberblock made it), and every snapshot it holds must
 * restore identical to its source.  Then it must take another backup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "os/fault.h"
#include "repo/repo.h"
#include "t.h"
#include "workflow/backup.h"
#include "workflow/restore.h"

#define NDEV 4
#define MAX_POINTS 400

static const char *devs[NDEV];
static char devbuf[NDEV][512];

struct run {
	int committed;  /* backups whose commit returned 0 (beyond the first) */
	int in_flight;  /* backup whose commit had started, or 0 */
	struct vg_id id[3];
};

static int backup(struct vg_repo *r, const char *src, struct vg_id *id)
{
	const char *paths[] = {src};
	struct vg_backup_opts o = {.paths = paths, .npaths = 1, .host = "crash"};
	struct vg_backup_result res;
	memset(&res, 0, sizeof res);
	int err = vg_backup_run(r, &o, &res);
	if (!err)
		*id = res.id;
	vg_backup_result_release(&res);
	return err;
}

/* Backups 2 and 3 through os.  The repository commits inside
 * vg_backup_run(), so "in flight" is the whole run. */
static int workload(struct vg_os *os, struct run *run)
{
	struct vg_pool *p = NULL;
	struct vg_repo *r = NULL;
	int err = vg_pool_open(os, devs[0], VG_POOL_RDWR, &p);
	if (!err)
		err = vg_repo_open(p, NULL, &r);
	for (int b = 1; b <= 2 && !err; b++) {
		run->in_flight = b;
		err = backup(r, t_path("src%d", b), &run->id[b]);
		if (!err) {
			run->committed = b;
			run->in_flight = 0;
		}
	}
	vg_repo_close(r);
	int e2 = vg_pool_close(p);
	return err ? err : e2;
}

static int same_tree(const char *a, const char *b)
{
	return t_sh("diff -r --no-dereference '%s' '%s' >/dev/null 2>&1", a, b);
}

/* Open with the real os; check the snapshot list against the run. */
static void check(const struct run *run, const struct vg_id *first, uint64_t n, uint64_t seed)
{
	struct vg_pool *p = NULL;
	struct vg_repo *r = NULL;
	int err = vg_pool_open(vg_os_posix(), devs[0], VG_POOL_RDWR, &p);
	if (!err)
		err = vg_repo_open(p, NULL, &r);
	T_CHECKF(!err, "crash at write %llu seed %llu: reopen failed: %s", (unsigned long long)n,
		 (unsigned long long)seed, vg_errmsg());
	size_t count = vg_repo_snapshot_count(r);
	size_t want = 1 + (size_t)run->committed;
	T_CHECKF(count == want || (run->in_flight && count == want + 1),
		 "crash at write %llu: %zu snapshots, %zu committed, in flight %d", (unsigned long long)n,
		 count, want, run->in_flight);
	for (size_t i = 0; i < count; i++) {
		const struct vg_snapref *ref = vg_repo_snapshot_ref(r, i);
		struct vg_snapshot s;
		T_OK(vg_repo_snapshot_load(r, &ref->id, &s));
		vg_snapshot_release(&s);
		/* which source: the first is src0, then by order of commit */
		int which = -1;
		if (!memcmp(&ref->id, first, sizeof *first))
			which = 0;
		for (int b = 1; b <= 2; b++)
			if ((b <= run->committed || b == run->in_flight) && !memcmp(&ref->id, &run->id[b], sizeof ref->id))
				which = b;
		if (which < 0 && run->in_flight)
			which = run->in_flight; /* its id was never returned to us */
		T_CHECKF(which >= 0, "crash at write %llu: unknown snapshot in the vault", (unsigned long long)n);
		const char *target = t_path("restore%zu", i);
		t_sh("rm -rf '%s'", target);
		struct vg_restore_opts ro = {.target = target};
		struct vg_restore_result rr;
		T_OK(vg_restore_run(r, &ref->id, &ro, &rr));
		T_EQ(rr.nerrors, 0);
		vg_restore_result_release(&rr);
		char rsrc[600];
		snprintf(rsrc, sizeof rsrc, "%s/src%d", target, which);
		T_CHECKF(same_tree(t_path("src%d", which), rsrc) == 0,
			 "crash at write %llu: snapshot %zu differs from src%d", (unsigned long long)n, i, which);
	}
	/* the vault takes another backup */
	struct vg_id id;
	T_OK(backup(r, t_path("src2"), &id));
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
}

/* ops 0: crash points are the pwrites; else the calls of those kinds. */
static void power_loss(unsigned ops)
{
	struct vg_layout l;
	struct vg_pool *p;
	struct vg_repo *r;
	for (int d = 0; d < NDEV; d++) {
		snprintf(devbuf[d], sizeof devbuf[d], "%s", t_path("v/dev%d", d));
		devs[d] = devbuf[d];
	}
	/* three versions of a source: the later ones change, add and remove */
	T_EQ(t_sh("cd '%s' && mkdir -p v src0/a/b && head -c 300000 /dev/urandom > src0/big && "
		  "for i in 1 2 3 4 5 6 7 8; do echo file $i > src0/a/f$i; done && ln -s big src0/link && "
		  "cp -a src0 src1 && head -c 200000 /dev/urandom > src1/a/b/new && rm src1/a/f3 && "
		  "echo changed >> src1/a/f1 && cp -a src1 src2 && head -c 150000 /dev/urandom > src2/big && "
		  "mkdir src2/c && echo x > src2/c/y",
		  t_tmpdir()), 0);
	T_OK(vg_layout_parse("raidz1", NDEV, &l));
	T_OK(vg_pool_create(vg_os_posix(), &l, devs, &p));
	T_OK(vg_repo_create(p, NULL, &r));
	struct vg_id first;
	T_OK(backup(r, t_path("src0"), &first));
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
	T_EQ(t_sh("cp -a '%s/v' '%s/template'", t_tmpdir(), t_tmpdir()), 0);

	struct vg_os *os = vg_os_fault_new(vg_os_posix());
	struct run run;
	memset(&run, 0, sizeof run);
	T_OK(workload(os, &run));
	struct vg_fault_counts c;
	vg_fault_counts(os, NULL, &c);
	vg_os_destroy(os);
	T_EQ(run.committed, 2);
	uint64_t total = ops ? c.syncs * 4 : c.writes; /* ops: until a run ends uncut */
	uint64_t step = !ops && total > MAX_POINTS ? total / MAX_POINTS : 1;
	int outcomes[4] = {0};
	/* every write is a crash point; few writes get several seeds each */
	int seeds = (int)(MAX_POINTS / (total / step + 1));
	if (seeds < 1)
		seeds = 1;
	if (seeds > 8)
		seeds = 8;
	for (uint64_t k = 0; k < (total / step + 1) * (uint64_t)seeds; k++) {
		uint64_t n = 1 + (k / (uint64_t)seeds) * step;
		uint64_t seed = k * 0x9e3779b97f4a7c15ull + 7;
		if (n > total)
			break;
		t_vault_from_template();
		os = t_crash_os(ops, n, seed);
		memset(&run, 0, sizeof run);
		workload(os, &run);
		if (ops && !vg_fault_crashed(os)) { /* past the last call of those kinds */
			T_OK(vg_fault_powerloss(os, NULL));
			vg_os_destroy(os);
			break;
		}
		T_CHECKF(vg_fault_crashed(os), "write %llu was never reached", (unsigned long long)n);
		T_OK(vg_fault_powerloss(os, NULL));
		vg_os_destroy(os);
		check(&run, &first, n, seed);
		if (t_failed())
			return;
		outcomes[run.committed]++;
	}
	fprintf(stderr, "  %llu %s, outcomes %d/%d/%d\n", (unsigned long long)(ops ? c.syncs : total),
		ops ? "syncs" : "writes", outcomes[0], outcomes[1], outcomes[2]);
	/* the sweep crossed both commits */
	T_CHECK(outcomes[0] > 0 && outcomes[1] > 0);
}

TEST(power_loss_during_backups) { power_loss(0); }
/* the power fails as a sync, directory sync, rename or other metadata
 * call is made: what it would have made durable is not */
TEST(power_loss_at_syncs_and_renames_during_backups) { power_loss(VG_FAULT_SYNC | VG_FAULT_META); }
