/*
 * test_os_posix.c - the real os layer: short reads, exact reads, errors
 * that name the path, directory operations.  (Lock conflicts are tested
 * through the fault twin, in test_os_fault.c.)
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "os/os.h"
#include "t.h"

static int count_entry(void *ctx, const char *name)
{
	(void)name;
	(*(int *)ctx)++;
	return 0;
}

TEST(short_read_only_at_end_of_file)
{
	struct vg_os *os = vg_os_posix();
	unsigned char data[100], buf[200];
	t_fill(data, sizeof data, 1);
	T_CHECK(t_write_file(t_path("f"), data, sizeof data) == 0);
	struct vg_file *f = NULL;
	T_OK(vg_os_open(os, t_path("f"), VG_O_RDONLY, &f));
	size_t got = 0;
	T_OK(vg_os_pread(f, buf, sizeof buf, 50, &got));
	T_EQ(got, 50);
	T_CHECK(!memcmp(buf, data + 50, 50));
	T_OK(vg_os_pread(f, buf, 10, 1000, &got));
	T_EQ(got, 0);
	uint64_t size = 0;
	T_OK(vg_os_size(f, &size));
	T_EQ(size, 100);
	T_OK(vg_os_close(f));
}

TEST(pread_full_on_short_file_is_corrupt)
{
	struct vg_os *os = vg_os_posix();
	unsigned char data[100], buf[64];
	t_fill(data, sizeof data, 2);
	T_CHECK(t_write_file(t_path("short"), data, sizeof data) == 0);
	struct vg_file *f = NULL;
	T_OK(vg_os_open(os, t_path("short"), VG_O_RDONLY, &f));
	T_OK(vg_os_pread_full(f, buf, 64, 36));
	T_CHECK(!memcmp(buf, data + 36, 64));
	T_EQ(vg_os_pread_full(f, buf, 64, 37), VG_ECORRUPT);
	T_CHECK(strstr(vg_errmsg(), t_path("short")) != NULL);
	T_CHECK(strstr(vg_errmsg(), "too short") != NULL);
	T_OK(vg_os_close(f));
}

TEST(open_errors_name_the_path_and_keep_their_kind)
{
	struct vg_os *os = vg_os_posix();
	struct vg_file *f = NULL;
	T_EQ(vg_os_open(os, t_path("missing"), VG_O_RDONLY, &f), VG_ENOENT);
	T_CHECK(strstr(vg_errmsg(), t_path("missing")) != NULL);
	T_OK(vg_os_open(os, t_path("x"), VG_O_RDWR | VG_O_CREAT | VG_O_EXCL, &f));
	T_OK(vg_os_close(f));
	f = NULL;
	T_EQ(vg_os_open(os, t_path("x"), VG_O_RDWR | VG_O_CREAT | VG_O_EXCL, &f), VG_EEXIST);
	T_CHECK(f == NULL);
	T_OK(vg_os_close(NULL));
}

TEST(directory_ops)
{
	struct vg_os *os = vg_os_posix();
	struct vg_os_stat st;
	T_OK(vg_os_mkdir(os, t_path("d")));
	T_EQ(vg_os_mkdir(os, t_path("d")), VG_EEXIST);
	T_OK(vg_os_stat(os, t_path("d"), &st));
	T_CHECK(st.exists && st.is_dir);
	T_CHECK(t_write_file(t_path("d/a"), "abc", 3) == 0);
	T_OK(vg_os_rename(os, t_path("d/a"), t_path("d/b")));
	T_OK(vg_os_stat(os, t_path("d/b"), &st));
	T_CHECK(st.exists && !st.is_dir && st.size == 3);
	T_OK(vg_os_stat(os, t_path("d/a"), &st));
	T_CHECK(!st.exists);
	int n = 0;
	T_OK(vg_os_listdir(os, t_path("d"), count_entry, &n));
	T_EQ(n, 1);
	T_OK(vg_os_syncdir(os, t_path("d")));
	T_OK(vg_os_writable(os, t_path("d")));
	T_EQ(vg_os_rmdir(os, t_path("d")), VG_EEXIST); /* not empty */
	T_OK(vg_os_unlink(os, t_path("d/b")));
	T_EQ(vg_os_unlink(os, t_path("d/b")), VG_ENOENT);
	T_OK(vg_os_rmdir(os, t_path("d")));
	T_EQ(vg_os_listdir(os, t_path("d"), count_entry, &n), VG_ENOENT);
}

TEST(write_sync_truncate_roundtrip)
{
	struct vg_os *os = vg_os_posix();
	unsigned char data[5000];
	t_fill(data, sizeof data, 3);
	struct vg_file *f = NULL;
	T_OK(vg_os_open(os, t_path("w"), VG_O_RDWR | VG_O_CREAT, &f));
	T_OK(vg_os_pwrite(f, data, sizeof data, 100));
	T_OK(vg_os_sync(f));
	T_OK(vg_os_truncate(f, 1000));
	T_OK(vg_os_close(f));
	size_t n = 0;
	unsigned char *got = t_read_file(t_path("w"), &n);
	T_CHECK(got != NULL);
	T_EQ(n, 1000);
	for (size_t i = 0; i < 100; i++)
		T_EQ(got[i], 0);
	T_CHECK(!memcmp(got + 100, data, 900));
	free(got);
}
