/*
 * test_maint_crash.c - power loss during maintenance.  A vault with real
 * backups and silent damage on one device is scrubbed (or has a device
 * replaced) through the fault twin, with the power cut at write N for
 * every N of the run.  After each "restart" the vault must open, a second
 * scrub must finish and leave nothing to repair, and the backup must
 * restore identical.
 *
 * Where a block's columns land (and so which crash exposes which mistake)
 * depends on the block sizes: each action runs over several campaigns with
 * different file sizes, and the replace campaigns replace different
 * devices (the damaged one included).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "os/fault.h"
#include "pool/impl.h"
#include "repo/repo.h"
#include "t.h"
#include "workflow/backup.h"
#include "workflow/restore.h"
#include "workflow/scrub.h"

#define NDEV 4
static const char *devs[NDEV];
static char devbuf[NDEV][512];
static struct vg_id snap;

#define ROOT_DEV (-1)
struct campaign {
	int size_step; /* file i (1..5) holds 300000 + i * size_step bytes */
	/* The device replace_action replaces; ROOT_DEV: the one holding the
	 * root block's first data column, which opening the vault reads
	 * before it knows whether the replacement was committed. */
	int victim;
};
static struct campaign cur;
static int victim, entry; /* entry: the device the vault is opened through */

static int setup(void)
{
	struct vg_layout l;
	struct vg_pool *p;
	struct vg_repo *r;
	for (int d = 0; d < NDEV; d++) {
		snprintf(devbuf[d], sizeof devbuf[d], "%s", t_path("v/dev%d", d));
		devs[d] = devbuf[d];
	}
	if (t_sh("cd '%s' && rm -rf v src out template && mkdir -p v src/a && "
		 "for i in 1 2 3 4 5; do head -c $((300000 + i * %d)) /dev/urandom > src/f$i; done && "
		 "for i in $(seq 1 20); do echo $i > src/a/s$i; done", t_tmpdir(), cur.size_step))
		return -1;
	int err = vg_layout_parse("raidz1", NDEV, &l);
	if (!err)
		err = vg_pool_create(vg_os_posix(), &l, devs, &p);
	if (err)
		return err;
	if (!(err = vg_repo_create(p, NULL, &r))) {
		const char *paths[] = {t_path("src")};
		struct vg_backup_opts o = {.paths = paths, .npaths = 1, .host = "t"};
		struct vg_backup_result res;
		memset(&res, 0, sizeof res);
		err = vg_backup_run(r, &o, &res);
		snap = res.id;
		vg_backup_result_release(&res);
		vg_repo_close(r);
	}
	struct vg_bp root;
	bool has_root;
	struct vg_geom g;
	vg_pool_root(p, &root, &has_root);
	if (!err && !has_root)
		err = VG_EINVAL;
	if (!err)
		vg_geom_of(&l, root.psize, &root.dva[0], &g);
	victim = cur.victim != ROOT_DEV ? cur.victim : err ? 1 : g.dev[0];
	entry = victim == 0 ? 1 : 0;
	int e2 = vg_pool_close(p);
	if (err || e2)
		return err ? err : e2;
	/* silent damage on device 1: 16 bytes in every 32 KiB */
	return t_sh("cd '%s' && python3 -c \"\nimport os,random,glob\nrandom.seed(5)\nfor f in glob.glob('v/dev1/seg-*'):\n"
		    "    n=os.path.getsize(f); h=open(f,'r+b')\n    for b in range(0,n,32768):\n"
		    "        h.seek(b+random.randrange(0,min(32768,n-b))); h.write(os.urandom(16))\n\" && cp -a v template",
		    t_tmpdir());
}

/* The maintenance action under test. */
static int scrub_action(struct vg_os *os)
{
	struct vg_pool *p;
	int err = vg_pool_open(os, devs[entry], VG_POOL_RDWR, &p);
	if (err)
		return err;
	struct vg_scrub_opts o = {.checkpoint_secs = 1e-9}; /* checkpoint after every block */
	struct vg_scrub_result res;
	err = vg_scrub_run(p, &o, &res);
	vg_scrub_result_release(&res);
	int e2 = vg_pool_close(p);
	return err ? err : e2;
}

static int replace_action(struct vg_os *os)
{
	struct vg_pool *p;
	int err = vg_pool_open(os, devs[entry], VG_POOL_RDWR, &p);
	if (err)
		return err;
	struct vg_scrub_record none = {0};
	if (!(err = vg_pool_replace(p, victim, t_path("v/new%d", victim))) && !(err = vg_pool_scrub_put(p, &none))) {
		struct vg_scrub_opts o = {.checkpoint_secs = 1e-9};
		struct vg_scrub_result res;
		err = vg_scrub_run(p, &o, &res);
		vg_scrub_result_release(&res);
	}
	int e2 = vg_pool_close(p);
	return err ? err : e2;
}

/* After the restart: finish with a real scrub, then everything is clean. */
static void verify(uint64_t n)
{
	struct vg_pool *p;
	struct vg_repo *r;
	T_OK(scrub_action(vg_os_posix()));
	T_OK(vg_pool_open(vg_os_posix(), devs[entry], VG_POOL_RDWR, &p));
	struct vg_scrub_opts o = {0};
	struct vg_scrub_result res;
	T_OK(vg_scrub_run(p, &o, &res));
	T_CHECKF(res.rec.errors == 0 && res.rec.unrecoverable == 0 && res.rebuilt_bytes == 0,
		 "sizes +%d, device %d, crash at write %llu: the scrub after the finishing scrub still found "
		 "%llu errors, %llu rebuilt", cur.size_step, victim, (unsigned long long)n,
		 (unsigned long long)res.rec.errors, (unsigned long long)res.rebuilt_bytes);
	vg_scrub_result_release(&res);
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	T_EQ(st.state, VG_POOL_ONLINE);
	/* A replacement the crash cut before its commit is no member: nothing
	 * meant for the device it would have replaced may land there. */
	const char *newdev = t_path("v/new%d", victim);
	T_CHECKF(!strcmp(st.dev[victim].path, newdev) || t_sh("ls '%s' 2>/dev/null | grep -q seg-", newdev) != 0,
		 "sizes +%d, device %d, crash at write %llu: segment files written to '%s', not a member",
		 cur.size_step, victim, (unsigned long long)n, newdev);
	T_OK(vg_repo_open(p, NULL, &r));
	t_sh("rm -rf '%s'", t_path("out"));
	struct vg_restore_opts ro = {.target = t_path("out")};
	struct vg_restore_result rr;
	T_OK(vg_restore_run(r, &snap, &ro, &rr));
	T_EQ(rr.nerrors, 0);
	vg_restore_result_release(&rr);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
	T_CHECKF(t_sh("diff -r '%s' '%s/src' >/dev/null", t_path("src"), t_path("out")) == 0,
		 "sizes +%d, device %d, crash at write %llu: restore differs", cur.size_step, victim,
		 (unsigned long long)n);
}

/* ops 0: every one of the first writes (the labels and the first commit
 * of a replace are there), then about 60 crash points spread over the
 * rest.  Else every call of those kinds, until a run ends uncut. */
static void power_loss(int (*action)(struct vg_os *), unsigned ops)
{
	T_OK(setup());
	struct vg_os *os = vg_os_fault_new(vg_os_posix());
	T_OK(action(os));
	struct vg_fault_counts c;
	vg_fault_counts(os, NULL, &c);
	vg_os_destroy(os);
	uint64_t total = ops ? UINT64_MAX : c.writes;
	T_CHECK(c.writes > 5);
	uint64_t step = !ops && total > 60 ? total / 60 : 1, cut = 0;
	for (uint64_t n = 1; n <= total; n += n < 16 ? 1 : step, cut++) {
		t_vault_from_template();
		os = t_crash_os(ops, n, n * 7919 + 3);
		action(os);
		if (ops && !vg_fault_crashed(os)) { /* past the last call of those kinds */
			T_OK(vg_fault_powerloss(os, NULL));
			vg_os_destroy(os);
			T_CHECKF(cut > 10, "only %llu crash points", (unsigned long long)cut);
			return;
		}
		T_OK(vg_fault_powerloss(os, NULL));
		vg_os_destroy(os);
		verify(n);
		if (t_failed())
			return;
	}
}

static void campaigns(int (*action)(struct vg_os *), const struct campaign *list, size_t n, unsigned ops)
{
	for (size_t i = 0; i < n && !t_failed(); i++) {
		cur = list[i];
		power_loss(action, ops);
	}
}

TEST(power_loss_during_scrub)
{
	/* (a scrub replaces nothing: victim 0 only opens through device 1) */
	static const struct campaign list[] = {{5000, 2}, {7000, 2}, {61000, 0}};
	campaigns(scrub_action, list, sizeof list / sizeof list[0], 0);
}

TEST(power_loss_during_replace)
{
	static const struct campaign list[] = {{5000, 2}, {7000, 2}, {7000, 1}, {5000, ROOT_DEV}, {61000, ROOT_DEV}};
	campaigns(replace_action, list, sizeof list / sizeof list[0], 0);
}

/* the power fails as a sync, directory sync, rename, mkdir or other
 * metadata call of the replace is made */
TEST(power_loss_at_syncs_and_renames_during_replace)
{
	static const struct campaign list[] = {{5000, 2}, {5000, ROOT_DEV}};
	campaigns(replace_action, list, sizeof list / sizeof list[0], VG_FAULT_SYNC | VG_FAULT_META);
}
