/*
 * test_backup.c - the backup and restore workflows end to end over a
 * real vault: a tree with awkward names round-trips exactly (content,
 * mode, ns mtime, link targets), a second backup stores next to nothing,
 * unreadable files make the snapshot incomplete, unrecoverable content is
 * named and never restored half-written, sub-paths restore, and hostile
 * snapshots cannot write outside the target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "repo/repo.h"
#include "t.h"
#include "workflow/backup.h"
#include "workflow/restore.h"

struct vault {
	struct vg_pool *p;
	struct vg_repo *r;
};

static int vault_new(struct vault *v, const char *layout, int n)
{
	const char *paths[VG_POOL_MAX_DEVS];
	static char store[VG_POOL_MAX_DEVS][512];
	struct vg_layout l;
	struct vg_repo_opts o = {.workers = 2};
	for (int i = 0; i < n; i++) {
		snprintf(store[i], sizeof store[i], "%s", t_path("dev%d", i));
		paths[i] = store[i];
	}
	int err = vg_layout_parse(layout, n, &l);
	if (!err)
		err = vg_pool_create(vg_os_posix(), &l, paths, &v->p);
	return err ? err : vg_repo_create(v->p, &o, &v->r);
}

static int vault_open(struct vault *v)
{
	struct vg_repo_opts o = {.workers = 2};
	v->r = NULL;
	int err = vg_pool_open(vg_os_posix(), t_path("dev0"), VG_POOL_RDWR, &v->p);
	return err ? err : vg_repo_open(v->p, &o, &v->r);
}

static void vault_close(struct vault *v)
{
	vg_repo_close(v->r);
	vg_pool_close(v->p);
	v->r = NULL;
	v->p = NULL;
}

static int vault_reopen(struct vault *v)
{
	vault_close(v);
	return vault_open(v);
}

static int backup1(struct vault *v, const char *path, struct vg_backup_result *res)
{
	const char *paths[] = {path};
	struct vg_backup_opts o = {.paths = paths, .npaths = 1, .host = "test"};
	return vg_backup_run(v->r, &o, res);
}

static int restore1(struct vault *v, const struct vg_id *id, const char *sub, const char *target,
		    struct vg_restore_result *res)
{
	struct vg_restore_opts o = {.target = target, .subpath = sub, .threads = 2}; /* chunks read ahead */
	return vg_restore_run(v->r, id, &o, res);
}

/* Same names, types, modes, sizes, ns mtimes, link targets and content. */
static int same_tree(const char *a, const char *b)
{
	const char *d = t_tmpdir();
	return t_sh("cd '%s' && find . -printf '%%P|%%y|%%m|%%s|%%T@|%%l\\n' | sort > %s/walk.a && "
		    "find . -type f -print0 | sort -z | xargs -0 -r sha256sum > %s/sums.a && "
		    "cd '%s' && find . -printf '%%P|%%y|%%m|%%s|%%T@|%%l\\n' | sort > %s/walk.b && "
		    "find . -type f -print0 | sort -z | xargs -0 -r sha256sum > %s/sums.b && "
		    "cmp -s %s/walk.a %s/walk.b && cmp -s %s/sums.a %s/sums.b",
		    a, d, d, b, d, d, d, d, d, d);
}

static int make_sample(const char *dir)
{
	return t_sh("mkdir -p '%s' && cd '%s' && mkdir -p sub/deeper 'empty dir' && "
		    "head -c 3000000 /dev/urandom > big && : > empty && echo hi > 'with space' && "
		    "printf 'x' > \"$(printf 'new\\nline')\" && printf 'y' > \"$(printf '\\377\\376')\" && "
		    "seq 1 20000 > sub/deeper/text && ln -s big link && ln -s /nonexistent/target dangling && "
		    "ln -s sub dirlink && mkfifo fifo && chmod 0751 sub && chmod 0600 big && chmod 4755 empty && "
		    "touch -d '2001-02-03 04:05:06.123456789' big sub && touch -h -d '1999-01-01 00:00:00.5' link",
		    dir, dir);
}

TEST(round_trip_and_dedup)
{
	struct vault v;
	struct vg_backup_result b1, b2;
	struct vg_restore_result rr;
	T_OK(vault_new(&v, "raidz1", 3));
	T_EQ(make_sample(t_path("src")), 0);
	T_OK(backup1(&v, t_path("src"), &b1));
	T_EQ(b1.snap.verdict, VG_VERDICT_OK);
	T_EQ(b1.nproblems, 0);
	T_EQ(b1.snap.stats.files, 6);
	T_OK(backup1(&v, t_path("src"), &b2));
	T_CHECKF(b2.snap.stats.new_bytes < 4096, "second backup added %llu bytes",
		 (unsigned long long)b2.snap.stats.new_bytes);
	T_OK(vault_reopen(&v));
	T_OK(restore1(&v, &b1.id, NULL, t_path("out"), &rr));
	T_EQ(rr.nerrors, 0);
	T_EQ(same_tree(t_path("src"), t_path("out/src")), 0);
	vg_restore_result_release(&rr);
	vg_backup_result_release(&b1);
	vg_backup_result_release(&b2);
	vault_close(&v);
}

TEST(sub_paths_restore)
{
	struct vault v;
	struct vg_backup_result b;
	struct vg_restore_result rr;
	T_OK(vault_new(&v, "single", 1));
	T_EQ(make_sample(t_path("src")), 0);
	T_OK(backup1(&v, t_path("src"), &b));
	T_OK(restore1(&v, &b.id, "src/sub", t_path("o1"), &rr)); /* a directory: its contents */
	T_EQ(t_sh("cmp -s %s %s", t_path("src/sub/deeper/text"), t_path("o1/deeper/text")), 0);
	vg_restore_result_release(&rr);
	char abs[1024];
	snprintf(abs, sizeof abs, "%s", t_path("src/sub/deeper/text"));
	T_OK(restore1(&v, &b.id, abs, t_path("o2"), &rr)); /* an absolute source path, a file */
	T_EQ(t_sh("cmp -s %s %s", t_path("src/sub/deeper/text"), t_path("o2/text")), 0);
	vg_restore_result_release(&rr);
	T_EQ(restore1(&v, &b.id, "src/nope", t_path("o3"), &rr), VG_ENOENT);
	T_EQ(restore1(&v, &b.id, "src/big/x", t_path("o3"), &rr), VG_ENOENT);
	T_EQ(t_sh("test ! -e %s", t_path("o3")), 0);
	vg_backup_result_release(&b);
	vault_close(&v);
}

TEST(paths_are_named_by_their_last_component)
{
	struct vault v;
	struct vg_backup_result b;
	struct vg_restore_result rr;
	T_OK(vault_new(&v, "single", 1));
	T_EQ(t_sh("cd %s && mkdir -p a/data b/data && echo 1 > a/data/f && echo 2 > b/data/f && "
		  "echo 3 > top",
		  t_tmpdir()),
	     0);
	char p1[512], p2[512], p3[512];
	snprintf(p1, sizeof p1, "%s", t_path("a/data"));
	snprintf(p2, sizeof p2, "%s", t_path("b/data/"));
	snprintf(p3, sizeof p3, "%s", t_path("top"));
	const char *paths[] = {p1, p2, p3};
	struct vg_backup_opts o = {.paths = paths, .npaths = 3};
	T_OK(vg_backup_run(v.r, &o, &b));
	T_OK(restore1(&v, &b.id, NULL, t_path("out"), &rr));
	T_EQ(t_sh("cd %s && grep -qx 1 data/f && grep -qx 2 data-2/f && grep -qx 3 top", t_path("out")), 0);
	vg_restore_result_release(&rr);
	vg_backup_result_release(&b);
	const char *overlap[] = {p1, t_path("a")};
	o = (struct vg_backup_opts){.paths = overlap, .npaths = 2};
	T_EQ(vg_backup_run(v.r, &o, &b), VG_EINVAL);
	vg_backup_result_release(&b);
	vault_close(&v);
}

TEST(missing_path_commits_nothing)
{
	struct vault v;
	struct vg_backup_result b;
	T_OK(vault_new(&v, "single", 1));
	T_EQ(backup1(&v, t_path("no-such-dir"), &b), VG_ENOENT);
	T_CHECK(strstr(vg_errmsg(), "no-such-dir") != NULL);
	vg_backup_result_release(&b);
	T_OK(vault_reopen(&v));
	T_EQ(vg_repo_snapshot_count(v.r), 0);
	vault_close(&v);
}

TEST(unreadable_files_make_an_incomplete_snapshot)
{
	/* Permissions do not stop root: run the backup as nobody. */
	T_EQ(t_sh("cd %s && mkdir -p src/locked && echo ok > src/fine && echo no > src/secret && "
		  "echo no > src/locked/inside && chmod 000 src/secret src/locked && "
		  "chmod 755 . && chown -R 65534:65534 .",
		  t_tmpdir()),
	     0);
	if (geteuid() == 0 && (setgid(65534) || setuid(65534))) {
		t_fail(__FILE__, __LINE__, "cannot drop privileges");
		return;
	}
	struct vault v;
	struct vg_backup_result b;
	struct vg_restore_result rr;
	T_OK(vault_new(&v, "single", 1));
	T_OK(backup1(&v, t_path("src"), &b));
	T_EQ(b.snap.verdict, VG_VERDICT_INCOMPLETE);
	T_EQ(b.nproblems, 2);
	T_CHECK(strstr(b.snap.reasons[0], "locked") || strstr(b.snap.reasons[1], "locked"));
	T_CHECK(strstr(b.snap.reasons[0], "secret") || strstr(b.snap.reasons[1], "secret"));
	T_OK(restore1(&v, &b.id, NULL, t_path("out"), &rr));
	T_EQ(t_sh("cd %s && grep -qx ok src/fine && test ! -e src/secret", t_path("out")), 0);
	vg_restore_result_release(&rr);
	vg_backup_result_release(&b);
	vault_close(&v);
	T_EQ(t_sh("chmod -R u+rwx %s", t_tmpdir()), 0);
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? -1 : (long)st.st_size;
}

TEST(unrecoverable_content_is_named_and_not_restored)
{
	/* On `single` there is no redundancy for data.  The first backup
	 * stores `good`; the second adds `bad`, whose data packs are the
	 * first blocks appended after the first commit: damage them. */
	struct vault v;
	struct vg_backup_result b1, b2;
	struct vg_restore_result rr;
	T_EQ(t_sh("cd %s && mkdir -p one two && head -c 100000 /dev/urandom > one/good && "
		  "cp one/good two/good && head -c 2000000 /dev/urandom > two/bad",
		  t_tmpdir()),
	     0);
	T_OK(vault_new(&v, "single", 1));
	T_OK(backup1(&v, t_path("one"), &b1));
	long end1 = file_size(t_path("dev0/seg-00000000"));
	T_OK(backup1(&v, t_path("two"), &b2));
	vault_close(&v);
	T_EQ(t_sh("printf 'DAMAGEDAMAGEDAMAGE' | dd of=%s bs=1 seek=%ld conv=notrunc status=none",
		  t_path("dev0/seg-00000000"), end1 + 50000),
	     0);
	T_OK(vault_open(&v));
	T_OK(restore1(&v, &b2.id, NULL, t_path("out"), &rr));
	T_EQ(rr.nerrors, 1);
	T_CHECKF(strstr(rr.errors[0], "two/bad") != NULL, "error: %s", rr.errors[0]);
	T_EQ(rr.files, 1);
	T_EQ(t_sh("cmp -s %s %s && test ! -e %s", t_path("one/good"), t_path("out/two/good"), t_path("out/two/bad")),
	     0);
	vg_restore_result_release(&rr);
	vg_backup_result_release(&b1);
	vg_backup_result_release(&b2);
	vault_close(&v);
}

/* A tree object as a hostile vault could hold it: one file entry with
 * whatever name, bypassing the encoder's checks. */
static int hostile_tree(struct vg_repo *r, const char *name, struct vg_id *id)
{
	struct vg_buf b = {0};
	bool added;
	vg_buf_add8(&b, 1);
	vg_buf_add8(&b, 0);
	vg_buf_addvar(&b, 1);
	vg_buf_addvar(&b, strlen(name));
	vg_buf_add(&b, name, strlen(name));
	vg_buf_add8(&b, VG_FT_FILE);
	for (int i = 0; i < 3; i++)
		vg_buf_addvar(&b, i ? 0 : 0644);
	for (int i = 0; i < 3; i++)
		vg_buf_add64(&b, 0);
	for (int i = 0; i < 6; i++)
		vg_buf_addvar(&b, 0);
	int err = vg_repo_put(r, VG_OT_TREE, b.p, b.len, id, &added);
	vg_buf_release(&b);
	return err;
}

static int snap_of(struct vg_repo *r, const struct vg_id *root, struct vg_id *id)
{
	struct vg_snapshot s = {.time_ns = 1, .host = "evil", .root = *root};
	int err = vg_repo_snapshot_add(r, &s, id);
	return err ? err : vg_repo_commit(r);
}

TEST(hostile_names_cannot_escape_the_target)
{
	struct vault v;
	struct vg_id tree, snap;
	struct vg_restore_result rr;
	const char *names[] = {"..", "../escaped", "/tmp/escaped-abs", "a/../../escaped"};
	T_OK(vault_new(&v, "single", 1));
	T_EQ(t_sh("mkdir -p %s", t_path("box/target")), 0);
	for (size_t i = 0; i < 4; i++) {
		T_OK(hostile_tree(v.r, names[i], &tree));
		T_OK(snap_of(v.r, &tree, &snap));
		T_OK(restore1(&v, &snap, NULL, t_path("box/target"), &rr));
		T_EQ(rr.nerrors, 1); /* the tree is refused as corrupt */
		T_CHECK(strstr(rr.errors[0], "invalid name") != NULL);
		vg_restore_result_release(&rr);
	}
	T_EQ(t_sh("test \"$(find %s | wc -l)\" = 2 && test ! -e /tmp/escaped-abs", t_path("box")), 0);
	vault_close(&v);
}

TEST(symlink_then_directory_does_not_write_through)
{
	/* Snapshot 1 has `x` -> ../outside; snapshot 2 has a directory `x`
	 * with a file.  Restoring both into one target must never put that
	 * file into ../outside. */
	struct vault v;
	struct vg_backup_result b1, b2;
	struct vg_restore_result rr;
	T_EQ(t_sh("cd %s && mkdir -p s1 s2/x outside && ln -s ../../outside s1/x && "
		  "echo payload > s2/x/f && ln -s ../../outside/g s1/g && echo safe > outside/g && "
		  "mkdir s2/g t && echo inner > s2/g/h",
		  t_tmpdir()),
	     0);
	T_OK(vault_new(&v, "single", 1));
	T_OK(backup1(&v, t_path("s1"), &b1));
	T_OK(backup1(&v, t_path("s2"), &b2));
	T_OK(restore1(&v, &b1.id, "s1", t_path("t/in"), &rr));
	T_EQ(t_sh("test -L %s", t_path("t/in/x")), 0);
	vg_restore_result_release(&rr);
	T_OK(restore1(&v, &b2.id, "s2", t_path("t/in"), &rr));
	vg_restore_result_release(&rr);
	T_EQ(t_sh("cd %s && test ! -e outside/f && test ! -e outside/h && grep -qx safe outside/g && "
		  "test -d t/in/x && ! test -L t/in/x && grep -qx payload t/in/x/f",
		  t_tmpdir()),
	     0);
	vg_backup_result_release(&b1);
	vg_backup_result_release(&b2);
	vault_close(&v);
}

TEST(source_paths_are_made_absolute_without_following_the_last_link)
{
	char *abs = NULL, cwd[1024];
	T_EQ(t_sh("cd %s && mkdir -p real/dir && ln -s real/dir link", t_tmpdir()), 0);
	T_CHECK(getcwd(cwd, sizeof cwd) != NULL);
	T_CHECK(chdir(t_tmpdir()) == 0);
	T_OK(vg_backup_abspath("link/", &abs));
	T_CHECKF(!strcmp(abs, t_path("link")), "got %s", abs); /* the link itself, not real/dir */
	free(abs);
	T_OK(vg_backup_abspath("real/dir/..", &abs));
	T_CHECKF(!strcmp(abs, t_path("real")), "got %s", abs);
	free(abs);
	T_OK(vg_backup_abspath("/", &abs));
	T_CHECK(!strcmp(abs, "/"));
	free(abs);
	T_CHECK(vg_backup_abspath("no/such/parent/x", &abs) < 0);
	T_CHECK(chdir(cwd) == 0);

	char *names[3];
	char *one[] = {"/"};
	T_OK(vg_backup_top_names(one, 1, names));
	T_CHECK(!strcmp(names[0], ""));
	free(names[0]);
	char *two[] = {"/", "/srv"};
	T_EQ(vg_backup_top_names(two, 2, names), VG_EINVAL);
	char *same[] = {"/a/x", "/b/x", "/c/x-2"};
	T_OK(vg_backup_top_names(same, 3, names));
	T_CHECK(!strcmp(names[0], "x") && !strcmp(names[1], "x-2") && !strcmp(names[2], "x-2-2"));
	for (int i = 0; i < 3; i++)
		free(names[i]);
	char *dup[] = {"/a/x", "/a/x"};
	T_EQ(vg_backup_top_names(dup, 2, names), VG_EINVAL);
}
