/*
 * test_damage.c - the permanent-error list: on a single-device vault, a
 * data pack damaged beyond repair is found by scrub, recorded in the
 * error log, and mapped to exactly the files that no longer restore, in
 * every snapshot that has them; every other file restores identically.
 * Also the vault health record's levels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/obj.h"
#include "t.h"
#include "tvault.h"
#include "workflow/damage.h"
#include "workflow/restore.h"
#include "workflow/vault_health.h"

#define NFILES 30

/* Files of snapshot id (top directory "src") that do not restore
 * identically, as a bit mask over f0..f29. */
static uint64_t broken_files(struct vg_repo *r, const struct vg_id *id, int nfiles)
{
	const char *target = t_path("rest");
	struct vg_restore_opts ro = {.target = target};
	struct vg_restore_result rr;
	uint64_t mask = 0;
	t_sh("rm -rf '%s'", target);
	if (vg_restore_run(r, id, &ro, &rr)) {
		fprintf(stderr, "  restore: %s\n", vg_errmsg());
		return ~0ull;
	}
	vg_restore_result_release(&rr);
	for (int i = 0; i < nfiles; i++)
		if (t_sh("cmp -s '%s/src/f%d' '%s/src/f%d'", t_tmpdir(), i, target, i))
			mask |= 1ull << i;
	return mask;
}

static uint64_t listed(const struct vg_damage_report *rep, const struct vg_id *snap)
{
	uint64_t mask = 0;
	for (size_t i = 0; i < rep->n; i++) {
		int f;
		if (vg_id_eq(&rep->v[i].snap, snap) && rep->v[i].kind == VG_DAMAGE_FILE &&
		    sscanf(rep->v[i].path, "/src/f%d", &f) == 1)
			mask |= 1ull << f;
	}
	return mask;
}

TEST(status_lists_exactly_the_damaged_files)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_id id[2];
	struct vg_vault_health h;
	const char *dev0 = tv_create("v", "single", 1);
	/* small files share 4 MiB packs; the second snapshot adds files */
	t_sh("mkdir -p '%s/src' && for i in $(seq 0 19); do head -c 300000 /dev/urandom > \"%s/src/f$i\"; done",
	     t_tmpdir(), t_tmpdir());
	T_OK(tv_open(dev0, &p, &r));
	T_OK(tv_backup(r, t_path("src"), "h", &id[0]));
	t_sh("for i in $(seq 20 29); do head -c 300000 /dev/urandom > \"%s/src/f$i\"; done", t_tmpdir());
	T_OK(tv_backup(r, t_path("src"), "h", &id[1]));
	vg_repo_close(r);
	T_EQ(tv_scrub(p), 0);
	vg_vault_health(p, 0, &h);
	T_EQ(h.level, VG_HEALTH_OK);
	T_CHECK(h.redundancy_complete);

	/* damage the first data pack written (the first snapshot's; one
	 * copy: beyond repair) */
	struct vg_bp *b;
	size_t n;
	T_OK(tv_blocks(p, &b, &n));
	size_t k = n;
	for (size_t i = 0; i < n; i++)
		if (b[i].type == VG_BT_DATA_PACK &&
		    (k == n || b[i].dva[0].seg < b[k].dva[0].seg ||
		     (b[i].dva[0].seg == b[k].dva[0].seg && b[i].dva[0].off < b[k].dva[0].off)))
			k = i;
	T_CHECK(k < n);
	T_OK(tv_smash(dev0, &b[k], 0));
	free(b);
	T_CHECK(tv_scrub(p) > 0);
	vg_vault_health(p, 0, &h);
	T_EQ(h.level, VG_HEALTH_CRIT);
	T_EQ(h.permanent_errors, 1);
	T_CHECK(strstr(h.summary, "damaged beyond repair") != NULL);

	const struct vg_bp *log;
	vg_pool_errlog(p, &log, &n);
	T_EQ(n, 1);
	struct vg_damage_report rep;
	T_OK(vg_damage_map(p, NULL, log, n, &rep));
	T_OK(vg_repo_open(p, NULL, &r));
	uint64_t bad0 = broken_files(r, &id[0], 20), bad1 = broken_files(r, &id[1], NFILES);
	T_CHECK(bad0 != 0);
	T_EQ(listed(&rep, &id[0]), bad0);
	T_EQ(listed(&rep, &id[1]), bad1);
	T_EQ(rep.n, (size_t)__builtin_popcountll(bad0) + (size_t)__builtin_popcountll(bad1));
	vg_damage_report_release(&rep);
	tv_close(p, r);
}

TEST(an_unreadable_directory_is_listed_as_one)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_id id;
	const char *dev0 = tv_create("v", "single", 1);
	t_sh("mkdir -p '%s/src/sub' && echo a > '%s/src/sub/a' && echo b > '%s/src/b'", t_tmpdir(), t_tmpdir(),
	     t_tmpdir());
	T_OK(tv_open(dev0, &p, &r));
	T_OK(tv_backup(r, t_path("src"), "h", &id));
	vg_repo_close(r);
	struct vg_bp *b;
	size_t n;
	T_OK(tv_blocks(p, &b, &n));
	for (size_t i = 0; i < n; i++)
		if (b[i].type == VG_BT_META_PACK)
			for (int k = 0; k < b[i].ndva; k++)
				T_OK(tv_smash(dev0, &b[i], k));
	free(b);
	T_CHECK(tv_scrub(p) > 0);
	const struct vg_bp *log;
	vg_pool_errlog(p, &log, &n);
	struct vg_damage_report rep;
	T_OK(vg_damage_map(p, NULL, log, n, &rep));
	T_EQ(rep.n, 1);
	T_EQ(rep.v[0].kind, VG_DAMAGE_DIR);
	T_EQ(strcmp(rep.v[0].path, ""), 0); /* the snapshot's top directory */
	vg_damage_report_release(&rep);
	vg_pool_close(p);
}

TEST(health_flags_missing_redundancy)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_vault_health h;
	const char *dev0 = tv_create("v", "raidz1", 3);
	t_sh("mkdir -p '%s/src' && echo a > '%s/src/a'", t_tmpdir(), t_tmpdir());
	T_OK(tv_open(dev0, &p, &r));
	T_OK(tv_backup(r, t_path("src"), "h", NULL));
	tv_close(p, r);
	/* a device away while a backup is written */
	T_EQ(t_sh("mv '%s/v/d2' '%s/v/away'", t_tmpdir(), t_tmpdir()), 0);
	T_OK(tv_open(dev0, &p, &r));
	T_OK(tv_backup(r, t_path("src"), "h", NULL));
	vg_vault_health(p, 0, &h);
	T_EQ(h.state, VG_POOL_DEGRADED);
	T_EQ(h.level, VG_HEALTH_WARN);
	tv_close(p, r);
	T_EQ(t_sh("mv '%s/v/away' '%s/v/d2'", t_tmpdir(), t_tmpdir()), 0);
	T_OK(vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDWR, &p));
	vg_vault_health(p, 0, &h);
	T_EQ(h.state, VG_POOL_ONLINE);
	T_CHECK(!h.redundancy_complete);
	T_EQ(h.devices_missing_writes, 1);
	T_EQ(h.level, VG_HEALTH_WARN);
	T_CHECK(strstr(h.summary, "missed writes") != NULL);
	T_EQ(tv_scrub(p), 0);
	vg_vault_health(p, 0, &h);
	T_CHECK(h.redundancy_complete);
	T_EQ(h.level, VG_HEALTH_OK);
	/* a scrub long ago is stale */
	vg_vault_health(p, h.last_scrub_end_ns + 40ull * 86400 * 1000000000ull, &h);
	T_EQ(h.level, VG_HEALTH_WARN);
	vg_pool_close(p);
}
