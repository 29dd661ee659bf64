/*
 * test_check.c - `check` finds deliberate damage: a chunk a tree names
 * that the index lacks, a missing segment file, a directory whose tree
 * no copy of can be read; and finds nothing in a sound vault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/check.h"
#include "repo/obj.h"
#include "t.h"
#include "tvault.h"

static const char *vault(const char *layout, int n, struct vg_id *id)
{
	struct vg_pool *p;
	struct vg_repo *r;
	const char *dev0 = tv_create("v", layout, n);
	t_sh("mkdir -p '%s/src/a/b' && head -c 700000 /dev/urandom > '%s/src/a/big' && echo hi > '%s/src/a/b/s'",
	     t_tmpdir(), t_tmpdir(), t_tmpdir());
	if (tv_open(dev0, &p, &r) || tv_backup(r, t_path("src"), "h", id))
		t_fail(__FILE__, __LINE__, "setup: %s", vg_errmsg());
	tv_close(p, r);
	return dev0;
}

static size_t problems(const char *dev0, const char *needle)
{
	struct vg_pool *p;
	struct vg_check_result res;
	size_t hits = 0;
	if (vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDONLY, &p) || vg_repo_check(p, NULL, &res))
		return 1000000;
	vg_pool_close(p);
	for (size_t i = 0; i < res.nproblems; i++)
		hits += !needle || strstr(res.problems[i], needle) != NULL;
	if (!needle || hits != res.nproblems)
		for (size_t i = 0; i < res.nproblems; i++)
			fprintf(stderr, "  problem: %s\n", res.problems[i]);
	size_t n = needle ? hits : res.nproblems;
	vg_check_result_release(&res);
	return n;
}

TEST(a_sound_vault_has_no_problems)
{
	struct vg_id id;
	const char *dev0 = vault("raidz1", 3, &id);
	T_EQ(problems(dev0, NULL), 0);
}

TEST(a_chunk_missing_from_the_index_is_named)
{
	struct vg_id id, ghost, tree, sid;
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_snapshot s;
	bool added;
	const char *dev0 = vault("single", 1, &id);
	T_OK(tv_open(dev0, &p, &r));
	memset(&ghost, 0x5a, sizeof ghost);
	struct vg_tree_entry e = {.name = "lost", .name_len = 4, .chunks = &ghost, .nchunks = 1};
	e.st.type = VG_FT_FILE;
	e.st.mode = 0644;
	e.st.size = 10;
	T_OK(vg_repo_put_tree(r, &e, 1, &tree, &added));
	T_OK(vg_repo_snapshot_load(r, &id, &s));
	s.root = tree;
	T_OK(vg_repo_snapshot_add(r, &s, &sid));
	vg_snapshot_release(&s);
	T_OK(vg_repo_commit(r));
	tv_close(p, r);
	T_EQ(problems(dev0, "/lost: chunk 5a5a5a5a5a5a5a5a is not in the index"), 1);
	T_EQ(problems(dev0, NULL), 1);
}

TEST(a_missing_segment_file_is_named)
{
	struct vg_id id;
	const char *dev0 = vault("raidz1", 3, &id);
	T_EQ(t_sh("rm '%s/v/d1/seg-00000000'", t_tmpdir()), 0);
	size_t n = problems(dev0, "segment file 0 is missing on");
	T_CHECK(n >= 3); /* the root, the snapshot, the index, the packs */
	T_EQ(problems(dev0, NULL), n);
}

TEST(an_unreadable_directory_is_named)
{
	struct vg_id id;
	struct vg_pool *p;
	struct vg_bp *b;
	size_t n;
	const char *dev0 = vault("single", 1, &id);
	T_OK(vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDONLY, &p));
	T_OK(tv_blocks(p, &b, &n));
	vg_pool_close(p);
	int smashed = 0;
	for (size_t i = 0; i < n; i++)
		if (b[i].type == VG_BT_META_PACK)
			for (int k = 0; k < b[i].ndva; k++)
				smashed += tv_smash(dev0, &b[i], k) == 0;
	free(b);
	T_CHECK(smashed >= 2);
	T_CHECK(problems(dev0, "directory cannot be read") >= 1);
}
