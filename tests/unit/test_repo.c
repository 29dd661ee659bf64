/*
 * test_repo.c - the repository over a real pool: objects survive a commit
 * and a reopen, dedup by id, nothing uncommitted is visible after a
 * reopen, snapshot lookup by prefix, large directories split into parts,
 * compression workers, and the keyless block walk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/repo.h"
#include "repo/walk.h"
#include "t.h"

static int new_pool(const char *layout, int n, struct vg_pool **p)
{
	const char *paths[VG_POOL_MAX_DEVS];
	static char store[VG_POOL_MAX_DEVS][512];
	struct vg_layout l;
	for (int i = 0; i < n; i++) {
		snprintf(store[i], sizeof store[i], "%s", t_path("dev%d", i));
		paths[i] = store[i];
	}
	int err = vg_layout_parse(layout, n, &l);
	return err ? err : vg_pool_create(vg_os_posix(), &l, paths, p);
}

static int reopen(struct vg_pool **p, struct vg_repo **r, int workers)
{
	struct vg_repo_opts o = {.workers = workers};
	vg_repo_close(*r);
	vg_pool_close(*p);
	*r = NULL;
	int err = vg_pool_open(vg_os_posix(), t_path("dev0"), VG_POOL_RDWR, p);
	return err ? err : vg_repo_open(*p, &o, r);
}

static void *blob(size_t len, uint64_t seed)
{
	uint8_t *b = malloc(len);
	t_fill(b, len, seed);
	return b;
}

TEST(objects_survive_commit_and_reopen)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_buf got = {0};
	struct vg_id ids[20];
	bool added;
	T_OK(new_pool("raidz1", 3, &p));
	T_OK(vg_repo_create(p, NULL, &r));
	for (int i = 0; i < 20; i++) {
		size_t len = (size_t)(i * 97001) % (2u << 20) + 1;
		uint8_t *b = blob(len, (uint64_t)i);
		T_OK(vg_repo_put(r, VG_OT_CHUNK, b, len, &ids[i], &added));
		T_CHECK(added);
		T_OK(vg_repo_put(r, VG_OT_CHUNK, b, len, &ids[i], &added));
		T_CHECK(!added); /* dedup within one open handle */
		free(b);
	}
	T_OK(vg_repo_commit(r));
	T_OK(reopen(&p, &r, 0));
	for (int i = 0; i < 20; i++) {
		size_t len = (size_t)(i * 97001) % (2u << 20) + 1;
		uint8_t *b = blob(len, (uint64_t)i);
		T_OK(vg_repo_get(r, VG_OT_CHUNK, &ids[i], &got));
		T_CHECK(got.len == len && !memcmp(got.p, b, len));
		T_OK(vg_repo_put(r, VG_OT_CHUNK, b, len, &ids[i], &added));
		T_CHECK(!added); /* dedup across handles */
		free(b);
	}
	T_EQ(vg_repo_get(r, VG_OT_TREE, &ids[0], &got), VG_ECORRUPT); /* wrong type */
	vg_buf_release(&got);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
}

TEST(uncommitted_objects_vanish)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_buf got = {0};
	struct vg_id a, b;
	bool added;
	T_OK(new_pool("single", 1, &p));
	T_OK(vg_repo_create(p, NULL, &r));
	T_OK(vg_repo_put(r, VG_OT_CHUNK, "committed", 9, &a, &added));
	T_OK(vg_repo_commit(r));
	T_OK(vg_repo_put(r, VG_OT_CHUNK, "not committed", 13, &b, &added));
	T_OK(vg_repo_get(r, VG_OT_CHUNK, &b, &got)); /* readable through this handle */
	T_OK(reopen(&p, &r, 0));
	T_OK(vg_repo_get(r, VG_OT_CHUNK, &a, &got));
	T_CHECK(got.len == 9 && !memcmp(got.p, "committed", 9));
	T_EQ(vg_repo_get(r, VG_OT_CHUNK, &b, &got), VG_ENOENT);
	T_CHECK(!vg_repo_has(r, &b));
	vg_buf_release(&got);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
}

TEST(create_refuses_an_existing_repository)
{
	struct vg_pool *p;
	struct vg_repo *r, *r2 = NULL;
	T_OK(new_pool("single", 1, &p));
	T_OK(vg_repo_create(p, NULL, &r));
	T_EQ(vg_repo_create(p, NULL, &r2), VG_EEXIST);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
}

static int add_snap(struct vg_repo *r, int64_t t, const char *host, struct vg_id *id)
{
	struct vg_snapshot s = {.time_ns = t, .host = (char *)host};
	return vg_repo_snapshot_add(r, &s, id);
}

TEST(snapshots_by_latest_and_prefix)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_id ids[40], got;
	char hex[65], pre[8];
	T_OK(new_pool("mirror", 2, &p));
	T_OK(vg_repo_create(p, NULL, &r));
	for (int i = 0; i < 40; i++) {
		char host[16];
		snprintf(host, sizeof host, "h%d", i);
		T_OK(add_snap(r, 1000 + (i == 7 ? 99 : i), host, &ids[i]));
	}
	T_OK(vg_repo_commit(r));
	T_OK(reopen(&p, &r, 0));
	T_EQ(vg_repo_snapshot_count(r), 40);
	T_OK(vg_repo_snapshot_find(r, "latest", &got));
	T_CHECK(vg_id_eq(&got, &ids[7]));
	vg_id_hex(&ids[3], hex);
	T_OK(vg_repo_snapshot_find(r, hex, &got));
	T_CHECK(vg_id_eq(&got, &ids[3]));
	hex[12] = 0;
	T_OK(vg_repo_snapshot_find(r, hex, &got));
	T_CHECK(vg_id_eq(&got, &ids[3]));
	for (int i = 0; hex[i]; i++)
		hex[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
	T_OK(vg_repo_snapshot_find(r, hex, &got)); /* upper case works too */
	/* 40 ids over 16 first digits: some digit is shared */
	bool ambiguous = false;
	for (int d = 0; d < 16 && !ambiguous; d++) {
		snprintf(pre, sizeof pre, "%x", d);
		int e = vg_repo_snapshot_find(r, pre, &got);
		if (e == VG_EINVAL) {
			ambiguous = true;
			T_CHECK(strstr(vg_errmsg(), "ambiguous") != NULL);
		}
	}
	T_CHECK(ambiguous);
	T_EQ(vg_repo_snapshot_find(r, "zz", &got), VG_EINVAL);
	struct vg_snapshot s;
	T_OK(vg_repo_snapshot_load(r, &ids[5], &s));
	T_CHECK(!strcmp(s.host, "h5") && s.time_ns == 1005);
	vg_snapshot_release(&s);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
}

TEST(no_snapshot_is_not_found)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_id got;
	T_OK(new_pool("single", 1, &p));
	T_OK(vg_repo_create(p, NULL, &r));
	T_EQ(vg_repo_snapshot_find(r, "latest", &got), VG_ENOENT);
	T_EQ(vg_repo_snapshot_find(r, "abcd", &got), VG_ENOENT);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
}

TEST(large_directory_is_split_into_parts)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_id id;
	struct vg_tree t;
	bool added;
	size_t n = 60000;
	struct vg_tree_entry *e = calloc(n, sizeof *e);
	char *names = malloc(n * 64);
	for (size_t i = 0; i < n; i++) {
		char *nm = names + i * 64;
		snprintf(nm, 64, "file-with-a-rather-long-name-%08zu", i);
		e[i] = (struct vg_tree_entry){.name = nm, .name_len = strlen(nm),
					      .st = {.type = VG_FT_SYMLINK, .mode = 0777, .mtime_ns = (int64_t)i}};
		e[i].target = nm;
	}
	T_OK(new_pool("single", 1, &p));
	T_OK(vg_repo_create(p, NULL, &r));
	T_OK(vg_repo_put_tree(r, e, n, &id, &added));
	T_OK(vg_repo_commit(r));
	T_OK(reopen(&p, &r, 0));
	T_OK(vg_repo_get_tree(r, &id, &t));
	T_EQ(t.n, n);
	T_CHECK(!strcmp(t.e[n - 1].name, e[n - 1].name) && t.e[n - 1].st.mtime_ns == (int64_t)(n - 1));
	vg_tree_release(&t);
	free(e);
	free(names);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
}

TEST(workers_pack_the_same_objects)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_repo_opts o = {.workers = 3};
	struct vg_buf got = {0};
	struct vg_id ids[300];
	bool added;
	T_OK(new_pool("raidz2", 4, &p));
	T_OK(vg_repo_create(p, &o, &r));
	for (int i = 0; i < 300; i++) {
		int k = i % 250; /* the last 50 repeat the first ones */
		size_t len = 1000 + (size_t)k * 3001;
		uint8_t *b = blob(len, (uint64_t)k);
		T_OK(vg_repo_put(r, VG_OT_CHUNK, b, len, &ids[i], &added));
		T_CHECK(added == (i < 250));
		free(b);
	}
	struct vg_repo_counts c;
	T_OK(vg_repo_commit(r));
	vg_repo_counts(r, &c);
	T_EQ(c.new_objects, 250);
	T_OK(reopen(&p, &r, 2));
	for (int i = 0; i < 250; i++) {
		size_t len = 1000 + (size_t)i * 3001;
		uint8_t *b = blob(len, (uint64_t)i);
		T_OK(vg_repo_get(r, VG_OT_CHUNK, &ids[i], &got));
		T_CHECK(got.len == len && !memcmp(got.p, b, len));
		free(b);
	}
	vg_buf_release(&got);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
}

struct walk_counts {
	int root, snap, run, filter, block, pack, bad;
	struct vg_pool *p;
};

static int count_block(void *ctx, const struct vg_bp *bp, const char *what)
{
	struct walk_counts *w = ctx;
	struct vg_scrub_counts sc = {0};
	if (vg_pool_scrub_block(w->p, bp, &sc) < 0 || sc.errors)
		w->bad++;
	if (!strcmp(what, "root"))
		w->root++;
	else if (!strcmp(what, "snapshot"))
		w->snap++;
	else if (!strcmp(what, "index run"))
		w->run++;
	else if (!strcmp(what, "index filter"))
		w->filter++;
	else if (!strcmp(what, "index block"))
		w->block++;
	else if (!strcmp(what, "pack"))
		w->pack++;
	return 0;
}

TEST(walk_finds_every_block_without_a_key)
{
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_id id;
	bool added;
	struct vg_repo_opts o = {.index_block = 4};
	T_OK(new_pool("raidz1", 3, &p));
	T_OK(vg_repo_create(p, &o, &r));
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < (round < 2 ? 12 : 1); i++) {
			uint8_t *b = blob(1u << 20, (uint64_t)(round * 100 + i));
			T_OK(vg_repo_put(r, VG_OT_CHUNK, b, 1u << 20, &id, &added));
			free(b);
		}
		T_OK(vg_repo_put(r, VG_OT_TREE, "\x01\x00\x00", 3, &id, &added));
		T_OK(add_snap(r, round, "h", &id));
		T_OK(vg_repo_commit(r));
	}
	struct walk_counts w = {.p = p};
	T_OK(vg_repo_walk_blocks(p, count_block, &w));
	T_EQ(w.root, 1);
	T_EQ(w.snap, 3);
	/* rounds 1 and 2 merged (13 + 12 entries, blocks of 4), round 3 alone */
	T_EQ(w.run, 2);
	T_EQ(w.filter, 2);
	T_EQ(w.block, 7 + 1);
	T_CHECK(w.pack >= 2 * 3 + 1); /* 12 MiB of data per round in ~4 MiB packs, and a metadata pack */
	T_EQ(w.bad, 0);
	vg_repo_close(r);
	T_OK(vg_pool_close(p));
}
