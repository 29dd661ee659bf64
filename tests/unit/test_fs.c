/*
 * test_fs.c - the source walk (sorted, symlinks never followed) and the
 * confined restore side: nothing may be created or written outside the
 * target, whatever names or pre-existing symlinks it meets.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "os/fs.h"
#include "t.h"

TEST(name_validation)
{
	T_CHECK(vg_fs_name_ok("a", 1));
	T_CHECK(vg_fs_name_ok("with space", 10));
	T_CHECK(vg_fs_name_ok("new\nline", 8));
	T_CHECK(vg_fs_name_ok("\xff\xfe", 2));
	T_CHECK(vg_fs_name_ok("...", 3));
	T_CHECK(!vg_fs_name_ok("", 0));
	T_CHECK(!vg_fs_name_ok(".", 1));
	T_CHECK(!vg_fs_name_ok("..", 2));
	T_CHECK(!vg_fs_name_ok("a/b", 3));
	T_CHECK(!vg_fs_name_ok("/", 1));
	T_CHECK(!vg_fs_name_ok("a\0b", 3));
}

TEST(list_is_sorted_by_bytes_and_does_not_follow_symlinks)
{
	T_EQ(t_sh("cd %s && mkdir -p src/sub && touch src/b src/B 'src/a b' \"$(printf 'src/\\377')\" && "
		  "ln -s /etc src/link && ln -s sub src/dirlink && mkfifo src/fifo",
		  t_tmpdir()),
	     0);
	struct vg_fs_dir *d;
	struct vg_fs_list l;
	T_OK(vg_fs_dir_open(t_path("src"), &d));
	T_OK(vg_fs_dir_list(d, &l));
	const char *want[] = {"B", "a b", "b", "dirlink", "fifo", "link", "sub", "\xff"};
	T_EQ(l.n, 8);
	for (size_t i = 0; i < l.n; i++)
		T_CHECKF(!strcmp(l.e[i].name, want[i]), "entry %zu is '%s'", i, l.e[i].name);
	T_EQ(l.e[3].st.type, VG_FT_SYMLINK); /* dirlink: not followed */
	T_EQ(l.e[4].st.type, VG_FT_FIFO);
	T_EQ(l.e[6].st.type, VG_FT_DIR);
	struct vg_fs_dir *sub = NULL;
	T_CHECK(vg_fs_dir_openat(d, "dirlink", &sub) < 0); /* O_NOFOLLOW */
	struct vg_fs_file *f = NULL;
	T_CHECK(vg_fs_file_openat(d, "link", &f) < 0);
	T_CHECK(vg_fs_file_openat(d, "fifo", &f) < 0); /* not a regular file, and no hang */
	struct vg_buf b = {0};
	T_OK(vg_fs_readlinkat(d, "link", &b));
	T_CHECK(!strcmp((char *)b.p, "/etc"));
	vg_buf_release(&b);
	vg_fs_list_release(&l);
	vg_fs_dir_close(d);
}

TEST(read_returns_whole_content)
{
	uint8_t data[100000];
	t_fill(data, sizeof data, 3);
	T_OK(t_write_file(t_path("f"), data, sizeof data));
	struct vg_fs_dir *d;
	struct vg_fs_file *f;
	T_OK(vg_fs_dir_open(t_tmpdir(), &d));
	T_OK(vg_fs_file_openat(d, "f", &f));
	uint8_t got[200000];
	size_t n;
	T_OK(vg_fs_file_read(f, got, sizeof got, &n));
	T_EQ(n, sizeof data);
	T_CHECK(!memcmp(got, data, n));
	T_OK(vg_fs_file_read(f, got, sizeof got, &n));
	T_EQ(n, 0);
	T_OK(vg_fs_file_close(f));
	vg_fs_dir_close(d);
}

TEST(restore_refuses_unsafe_names)
{
	struct vg_fs_dir *d, *sub = NULL;
	struct vg_fs_file *f = NULL;
	T_OK(vg_fs_target_open(t_path("target"), &d));
	T_EQ(vg_fs_createat(d, "../escape", &f), VG_EUNSAFE);
	T_EQ(vg_fs_createat(d, "..", &f), VG_EUNSAFE);
	T_EQ(vg_fs_createat(d, t_path("abs"), &f), VG_EUNSAFE);
	T_EQ(vg_fs_mkdirat(d, "..", &sub), VG_EUNSAFE);
	T_EQ(vg_fs_mkdirat(d, "a/b", &sub), VG_EUNSAFE);
	T_EQ(vg_fs_symlinkat(d, "../l", "x"), VG_EUNSAFE);
	T_EQ(vg_fs_unlinkat(d, "../target"), VG_EUNSAFE);
	vg_fs_dir_close(d);
	T_EQ(t_sh("test ! -e %s && test ! -e %s && test -d %s", t_path("escape"), t_path("abs"), t_path("target")),
	     0);
}

TEST(restore_never_writes_through_existing_symlinks)
{
	/* The target already holds symlinks (planted, or made by an earlier
	 * restore) pointing outside; restoring over them must replace the
	 * links, never write where they point. */
	T_EQ(t_sh("cd %s && mkdir outside target && echo secret > outside/file && "
		  "ln -s ../outside target/dir && ln -s ../outside/file target/file",
		  t_tmpdir()),
	     0);
	struct vg_fs_dir *d, *sub;
	struct vg_fs_file *f;
	T_OK(vg_fs_target_open(t_path("target"), &d));
	T_OK(vg_fs_createat(d, "file", &f));
	T_OK(vg_fs_file_write(f, "new", 3));
	T_OK(vg_fs_file_close(f));
	T_OK(vg_fs_mkdirat(d, "dir", &sub));
	T_OK(vg_fs_createat(sub, "inside", &f));
	T_OK(vg_fs_file_close(f));
	vg_fs_dir_close(sub);
	vg_fs_dir_close(d);
	T_EQ(t_sh("cd %s && grep -qx secret outside/file && test ! -e outside/inside && "
		  "test ! -L target/dir && test -f target/dir/inside && test ! -L target/file && "
		  "grep -qx new target/file",
		  t_tmpdir()),
	     0);
}

TEST(restore_refuses_to_replace_a_directory_with_a_file)
{
	struct vg_fs_dir *d;
	struct vg_fs_file *f = NULL;
	T_EQ(t_sh("mkdir -p %s/target/x/keep", t_tmpdir()), 0);
	T_OK(vg_fs_target_open(t_path("target"), &d));
	T_EQ(vg_fs_createat(d, "x", &f), VG_EEXIST);
	vg_fs_dir_close(d);
	T_EQ(t_sh("test -d %s", t_path("target/x/keep")), 0);
}

TEST(metadata_round_trips_with_nanoseconds)
{
	struct vg_fs_dir *d, *sub;
	struct vg_fs_file *f;
	struct vg_fs_stat want = {.type = VG_FT_FILE, .mode = 02751, .mtime_ns = 1234567890123456789,
				  .atime_ns = 1000000000000000001};
	struct vg_fs_stat got;
	T_OK(vg_fs_target_open(t_path("t"), &d));
	T_OK(vg_fs_createat(d, "f", &f));
	T_OK(vg_fs_file_set_meta(f, &want, false));
	T_OK(vg_fs_file_close(f));
	T_OK(vg_fs_symlinkat(d, "l", "f"));
	struct vg_fs_stat lw = {.type = VG_FT_SYMLINK, .mtime_ns = 5000000007, .atime_ns = 6};
	T_OK(vg_fs_set_meta_at(d, "l", &lw, false));
	T_OK(vg_fs_mkdirat(d, "ro", &sub));
	struct vg_fs_stat dw = {.type = VG_FT_DIR, .mode = 0555, .mtime_ns = -1500000000};
	T_OK(vg_fs_dir_set_meta(sub, &dw, false));
	vg_fs_dir_close(sub);
	T_OK(vg_fs_statat(d, "f", &got));
	T_EQ(got.mode, 02751);
	T_EQ(got.mtime_ns, want.mtime_ns);
	T_OK(vg_fs_statat(d, "l", &got));
	T_EQ(got.mtime_ns, lw.mtime_ns);
	T_OK(vg_fs_statat(d, "f", &got)); /* the link's times did not touch its target */
	T_EQ(got.mtime_ns, want.mtime_ns);
	T_OK(vg_fs_statat(d, "ro", &got));
	T_EQ(got.mode, 0555);
	T_EQ(got.mtime_ns, -1500000000);
	vg_fs_dir_close(d);
	T_EQ(t_sh("chmod -R u+w %s", t_tmpdir()), 0);
}

TEST(target_parent_must_exist)
{
	struct vg_fs_dir *d = NULL;
	T_CHECK(vg_fs_target_open(t_path("no/such/target"), &d) < 0);
	T_CHECK(strstr(vg_errmsg(), "parent must exist") != NULL);
}
