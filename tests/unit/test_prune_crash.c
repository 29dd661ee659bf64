/*
 * test_prune_crash.c - power loss at every write, and at every other
 * call (syncs, unlinks of segment files), of a prune that forgets two of
 * four snapshots and reclaims their space.
 *
 * After the "restart" the vault must open; hold the two kept snapshots
 * and, if the forget had not committed, the two others; every snapshot it
 * holds must restore identical to its source; a scrub must find nothing;
 * and a prune run again must finish and leave the kept snapshots intact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "os/fault.h"
#include "t.h"
#include "tvault.h"
#include "workflow/prune.h"

static struct vg_id id[4];
static const char *dev0;
static int outcome[5]; /* by snapshot count after the crash */

static int workload(struct vg_os *os)
{
	struct vg_pool *p = NULL;
	struct vg_prune_result res;
	struct vg_prune_opts o = {.policy = {.last = 2}, .gc = true};
	int err = vg_pool_open(os, dev0, VG_POOL_RDWR, &p);
	if (!err) {
		err = vg_prune_run(p, &o, &res);
		vg_prune_result_release(&res);
	}
	int e2 = vg_pool_close(p);
	return err ? err : e2;
}

static void check(const char *what, uint64_t n)
{
	struct vg_pool *p;
	struct vg_repo *r;
	int err = tv_open(dev0, &p, &r);
	T_CHECKF(!err, "%s %llu: reopen failed: %s", what, (unsigned long long)n, vg_errmsg());
	if (err)
		return;
	size_t count = vg_repo_snapshot_count(r);
	T_CHECKF(count == 2 || count == 4, "%s %llu: %zu snapshots", what, (unsigned long long)n, count);
	outcome[count <= 4 ? count : 0]++;
	for (int i = 4 - (int)count; i < 4; i++)
		T_CHECKF(tv_restore_same(r, &id[i], t_path("src%d", i)) == 0, "%s %llu: snapshot %d differs", what,
			 (unsigned long long)n, i);
	vg_repo_close(r);
	T_CHECKF(tv_scrub(p) == 0, "%s %llu: scrub found damage", what, (unsigned long long)n);
	vg_pool_close(p);
	T_OK(workload(vg_os_posix()));
	T_OK(tv_open(dev0, &p, &r));
	T_EQ(vg_repo_snapshot_count(r), 2);
	T_EQ(tv_restore_same(r, &id[3], t_path("src3")), 0);
	tv_close(p, r);
}

static void setup(void)
{
	struct vg_pool *p;
	struct vg_repo *r;
	dev0 = tv_create("v", "raidz1", 3);
	T_OK(tv_open(dev0, &p, &r));
	for (int i = 0; i < 4; i++) {
		t_sh("mkdir -p '%s/src%d/d' && head -c 400000 /dev/urandom > '%s/src%d/big' && echo %d > '%s/src%d/d/s'",
		     t_tmpdir(), i, t_tmpdir(), i, i, t_tmpdir(), i);
		T_OK(tv_backup(r, t_path("src%d", i), "h", &id[i]));
	}
	tv_close(p, r);
	T_EQ(t_sh("cp -a '%s/v' '%s/template'", t_tmpdir(), t_tmpdir()), 0);
}

/* Crash at call n (of the kinds in ops; 0: pwrites), n = 1, 1 + step...
 * until a run finishes without reaching n, several seeds per point. */
static void sweep(unsigned ops, uint64_t step, int seeds, const char *what)
{
	int crashed = 0;
	bool done = false;
	uint64_t n;
	for (n = 1; !done && !t_failed(); n += step) {
		for (int k = 0; k < seeds && !done; k++) {
			t_vault_from_template();
			struct vg_os *os = t_crash_os(ops, n, n * 7919 + (uint64_t)k * 104729 + 1);
			workload(os);
			done = !vg_fault_crashed(os);
			crashed += !done;
			T_OK(vg_fault_powerloss(os, NULL));
			vg_os_destroy(os);
			check(what, n);
		}
	}
	fprintf(stderr, "  %s: up to call %llu, %d crashed, %d before the forget, %d after\n", what,
		(unsigned long long)n, crashed, outcome[4], outcome[2]);
	T_CHECK(crashed > 0 && outcome[4] > 0 && outcome[2] > 0);
	memset(outcome, 0, sizeof outcome);
}

TEST(power_loss_at_every_write_of_prune)
{
	setup();
	sweep(0, 1, 3, "crash at write");
}

TEST(power_loss_at_every_call_of_prune)
{
	setup();
	sweep(VG_FAULT_ANY, 3, 1, "crash at call");
}
