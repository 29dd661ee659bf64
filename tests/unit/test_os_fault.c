/*
 * test_os_fault.c - the fault twin: failing calls, bit flips, vanished
 * devices, counters, no-space, and power loss (fates of unsynced writes
 * and of undurable directory operations), all on real files.
 *
 * Loops over seeds print the seed on failure.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "os/fault.h"
#include "t.h"

static struct vg_os *twin_new(void) { return vg_os_fault_new(vg_os_posix()); }

/* Writes buf at off in path (created if missing) through os; syncs if asked. */
static int put(struct vg_os *os, const char *path, const void *buf, size_t len, uint64_t off, bool sync)
{
	struct vg_file *f = NULL;
	int err = vg_os_open(os, path, VG_O_RDWR | VG_O_CREAT, &f);
	if (!err)
		err = vg_os_pwrite(f, buf, len, off);
	if (!err && sync)
		err = vg_os_sync(f);
	int e = vg_os_close(f);
	return err ? err : e;
}

/* put() made durable: file synced, then its directory. */
static int put_durable(struct vg_os *os, const char *path, const void *buf, size_t len)
{
	int err = put(os, path, buf, len, 0, true);
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = '\0';
	return err ? err : vg_os_syncdir(os, dir);
}

/* The file holds exactly len bytes equal to data. */
static bool file_is(const char *path, const void *data, size_t len)
{
	size_t n = 0;
	unsigned char *got = t_read_file(path, &n);
	bool same = got && n == len && !memcmp(got, data, n);
	free(got);
	return same;
}

static int exists(const char *path)
{
	struct vg_os_stat st;
	if (vg_os_stat(vg_os_posix(), path, &st))
		return -1;
	return st.exists;
}

static int bits_differ(const unsigned char *a, const unsigned char *b, size_t n)
{
	int d = 0;
	for (size_t i = 0; i < n; i++)
		d += __builtin_popcount((unsigned)(a[i] ^ b[i]));
	return d;
}

/* ---- failing calls ---- */

TEST(nth_read_fails_once_then_succeeds)
{
	struct vg_os *os = twin_new();
	unsigned char data[4096], buf[4096];
	t_fill(data, sizeof data, 1);
	T_CHECK(t_write_file(t_path("f"), data, sizeof data) == 0);
	int id = 0;
	struct vg_fault_rule r = {.ops = VG_FAULT_READ, .nth = 3, .effect = VG_FAULT_EIO};
	T_OK(vg_fault_add_rule(os, &r, &id));
	struct vg_file *f = NULL;
	T_OK(vg_os_open(os, t_path("f"), VG_O_RDONLY, &f));
	T_OK(vg_os_pread_full(f, buf, 100, 0));
	T_OK(vg_os_pread_full(f, buf, 100, 100));
	T_EQ(vg_fault_fired(os, id), 0);
	T_EQ(vg_os_pread_full(f, buf, 100, 200), VG_EIO);
	T_CHECK(strstr(vg_errmsg(), t_path("f")) != NULL);
	T_CHECK(strstr(vg_errmsg(), "injected") != NULL);
	T_EQ(vg_fault_fired(os, id), 1);
	T_OK(vg_os_pread_full(f, buf, sizeof buf, 0));
	T_CHECK(!memcmp(buf, data, sizeof buf));
	T_EQ(vg_fault_fired(os, id), 1);
	T_OK(vg_os_close(f));
	vg_os_destroy(os);
}

TEST(persistent_write_failure_until_rule_removed)
{
	struct vg_os *os = twin_new();
	unsigned char a[512], b[512];
	t_fill(a, sizeof a, 1);
	t_fill(b, sizeof b, 2);
	int id = 0;
	struct vg_fault_rule r = {.ops = VG_FAULT_WRITE, .nth = 2, .persist = true, .effect = VG_FAULT_EIO};
	T_OK(vg_fault_add_rule(os, &r, &id));
	struct vg_file *f = NULL;
	T_OK(vg_os_open(os, t_path("f"), VG_O_RDWR | VG_O_CREAT, &f));
	T_OK(vg_os_pwrite(f, a, sizeof a, 0));
	for (int i = 0; i < 3; i++)
		T_EQ(vg_os_pwrite(f, b, sizeof b, 0), VG_EIO);
	T_EQ(vg_fault_fired(os, id), 3);
	T_CHECK(file_is(t_path("f"), a, sizeof a)); /* failed writes did nothing */
	vg_fault_remove_rule(os, id);
	T_OK(vg_os_pwrite(f, b, sizeof b, 0));
	T_OK(vg_os_close(f));
	T_CHECK(file_is(t_path("f"), b, sizeof b));
	vg_os_destroy(os);
}

TEST(rules_are_scoped_by_prefix)
{
	struct vg_os *os = twin_new();
	T_OK(vg_os_mkdir(os, t_path("dev0")));
	T_OK(vg_os_mkdir(os, t_path("dev01")));
	struct vg_fault_rule r = {.ops = VG_FAULT_WRITE | VG_FAULT_SYNC, .prefix = t_path("dev0/"),
				  .persist = true, .effect = VG_FAULT_EIO};
	T_OK(vg_fault_add_rule(os, &r, NULL));
	T_EQ(put(os, t_path("dev0/seg"), "x", 1, 0, false), VG_EIO);
	T_OK(put(os, t_path("dev01/seg"), "x", 1, 0, true)); /* a sibling with a longer name */
	T_EQ(vg_os_syncdir(os, t_path("dev0")), VG_EIO);
	T_OK(vg_os_syncdir(os, t_path("dev01")));
	vg_os_destroy(os);
}

TEST(open_and_sync_failures)
{
	struct vg_os *os = twin_new();
	struct vg_fault_rule ro = {.ops = VG_FAULT_OPEN, .nth = 2, .effect = VG_FAULT_EIO};
	struct vg_fault_rule rs = {.ops = VG_FAULT_SYNC, .effect = VG_FAULT_EIO};
	T_OK(vg_fault_add_rule(os, &ro, NULL));
	T_OK(vg_fault_add_rule(os, &rs, NULL));
	struct vg_file *f = NULL, *g = NULL;
	T_OK(vg_os_open(os, t_path("f"), VG_O_RDWR | VG_O_CREAT, &f));
	T_EQ(vg_os_open(os, t_path("f"), VG_O_RDWR, &g), VG_EIO);
	T_CHECK(g == NULL);
	T_OK(vg_os_pwrite(f, "abc", 3, 0));
	T_EQ(vg_os_sync(f), VG_EIO);
	T_OK(vg_os_sync(f));
	T_OK(vg_os_close(f));
	vg_os_destroy(os);
}

/* flock locks belong to an open file description: two opens through the
 * twin conflict as two processes would. */
TEST(lock_conflict_through_the_twin)
{
	struct vg_os *os = twin_new();
	struct vg_file *a = NULL, *b = NULL;
	T_OK(vg_os_open(os, t_path("lock"), VG_O_RDWR | VG_O_CREAT, &a));
	T_OK(vg_os_open(os, t_path("lock"), VG_O_RDWR, &b));
	T_OK(vg_os_lock(a));
	T_EQ(vg_os_lock(b), VG_EBUSY);
	T_CHECK(strstr(vg_errmsg(), "locked") != NULL);
	T_OK(vg_os_close(a));
	T_OK(vg_os_lock(b));
	T_OK(vg_os_close(b));
	vg_os_destroy(os);
}

TEST(enospc_rule_and_space_limit)
{
	struct vg_os *os = twin_new();
	unsigned char buf[4096] = {0};
	struct vg_fault_rule r = {.ops = VG_FAULT_WRITE, .persist = true, .effect = VG_FAULT_ENOSPC, .space = 10000};
	T_OK(vg_fault_add_rule(os, &r, NULL));
	struct vg_file *f = NULL;
	T_OK(vg_os_open(os, t_path("f"), VG_O_RDWR | VG_O_CREAT, &f));
	T_OK(vg_os_pwrite(f, buf, 4096, 0));
	T_OK(vg_os_pwrite(f, buf, 4096, 4096));
	T_EQ(vg_os_pwrite(f, buf, 4096, 8192), VG_ENOSPC);
	T_CHECK(strstr(vg_errmsg(), "no space") != NULL);
	T_OK(vg_os_pwrite(f, buf, 1000, 8192)); /* what still fits */
	T_EQ(vg_os_pwrite(f, buf, 1000, 9192), VG_ENOSPC);
	uint64_t size = 0;
	T_OK(vg_os_size(f, &size));
	T_EQ(size, 9192);
	T_OK(vg_os_close(f));
	vg_os_destroy(os);
}

/* ---- bit flips ---- */

TEST(flip_in_read_leaves_file_intact)
{
	static unsigned char data[8192], clean[8192], flipped[2][8192];
	t_fill(data, sizeof data, 5);
	T_CHECK(t_write_file(t_path("f"), data, sizeof data) == 0);
	for (int round = 0; round < 2; round++) {
		struct vg_os *os = twin_new();
		struct vg_fault_rule r = {.ops = VG_FAULT_READ, .nth = 2, .effect = VG_FAULT_FLIP, .seed = 42, .nbits = 3};
		T_OK(vg_fault_add_rule(os, &r, NULL));
		struct vg_file *f = NULL;
		T_OK(vg_os_open(os, t_path("f"), VG_O_RDONLY, &f));
		T_OK(vg_os_pread_full(f, clean, sizeof clean, 0));
		T_CHECK(!memcmp(clean, data, sizeof clean));
		T_OK(vg_os_pread_full(f, flipped[round], sizeof data, 0));
		T_EQ(bits_differ(flipped[round], data, sizeof data), 3);
		T_OK(vg_os_pread_full(f, clean, sizeof clean, 0)); /* once: the next read is clean */
		T_CHECK(!memcmp(clean, data, sizeof clean));
		T_OK(vg_os_close(f));
		vg_os_destroy(os);
	}
	T_CHECK(!memcmp(flipped[0], flipped[1], sizeof data)); /* same seed, same bits */
	T_CHECK(file_is(t_path("f"), data, sizeof data));
}

TEST(flip_in_write_alters_stored_bytes_only)
{
	struct vg_os *os = twin_new();
	unsigned char data[4096], copy[4096];
	t_fill(data, sizeof data, 6);
	memcpy(copy, data, sizeof data);
	struct vg_fault_rule r = {.ops = VG_FAULT_WRITE, .effect = VG_FAULT_FLIP, .seed = 7, .nbits = 1};
	T_OK(vg_fault_add_rule(os, &r, NULL));
	T_OK(put(os, t_path("f"), data, sizeof data, 0, true));
	T_CHECK(!memcmp(data, copy, sizeof data)); /* the caller's buffer is untouched */
	size_t n = 0;
	unsigned char *disk = t_read_file(t_path("f"), &n);
	T_CHECK(disk && n == sizeof data);
	T_EQ(bits_differ(disk, data, n), 1);
	free(disk);
	vg_os_destroy(os);
}

TEST(flip_at_offset_counts_only_calls_covering_it)
{
	struct vg_os *os = twin_new();
	unsigned char data[8192];
	t_fill(data, sizeof data, 8);
	int id = 0;
	struct vg_fault_rule r = {.ops = VG_FAULT_WRITE, .effect = VG_FAULT_FLIP, .at_offset = true,
				  .offset = 5000, .mask = 0x80};
	T_OK(vg_fault_add_rule(os, &r, &id));
	T_OK(put(os, t_path("f"), data, 4096, 0, false)); /* does not cover 5000 */
	T_EQ(vg_fault_fired(os, id), 0);
	T_OK(put(os, t_path("f"), data + 4096, 4096, 4096, false));
	T_EQ(vg_fault_fired(os, id), 1);
	data[5000] ^= 0x80;
	T_CHECK(file_is(t_path("f"), data, sizeof data));
	vg_os_destroy(os);
}

TEST(flip_rule_refuses_other_ops)
{
	struct vg_os *os = twin_new();
	struct vg_fault_rule r = {.ops = VG_FAULT_SYNC, .effect = VG_FAULT_FLIP};
	T_EQ(vg_fault_add_rule(os, &r, NULL), VG_EINVAL);
	T_EQ(vg_fault_add_rule(vg_os_posix(), &r, NULL), VG_EINVAL);
	vg_os_destroy(os);
}

/* ---- devices that disappear ---- */

static int count_entry(void *ctx, const char *name)
{
	(void)name;
	(*(int *)ctx)++;
	return 0;
}

TEST(unplugged_device_is_gone_until_plugged_back)
{
	struct vg_os *os = twin_new();
	unsigned char data[1024], buf[1024];
	t_fill(data, sizeof data, 9);
	T_OK(vg_os_mkdir(os, t_path("dev0")));
	T_OK(vg_os_mkdir(os, t_path("dev1")));
	T_OK(put(os, t_path("dev0/seg"), data, sizeof data, 0, true));
	T_OK(put(os, t_path("dev1/seg"), data, sizeof data, 0, true));
	struct vg_file *f = NULL, *g = NULL;
	T_OK(vg_os_open(os, t_path("dev0/seg"), VG_O_RDWR, &f));
	int id = 0;
	T_OK(vg_fault_unplug(os, t_path("dev0"), &id));

	T_EQ(vg_os_pread_full(f, buf, sizeof buf, 0), VG_EIO);
	T_CHECK(strstr(vg_errmsg(), "gone") != NULL);
	T_EQ(vg_os_pwrite(f, buf, 1, 0), VG_EIO);
	T_EQ(vg_os_sync(f), VG_EIO);
	T_EQ(vg_os_open(os, t_path("dev0/seg"), VG_O_RDONLY, &g), VG_ENOENT);
	struct vg_os_stat st;
	T_OK(vg_os_stat(os, t_path("dev0/seg"), &st));
	T_CHECK(!st.exists);
	T_OK(vg_os_stat(os, t_path("dev0"), &st));
	T_CHECK(!st.exists);
	int n = 0;
	T_EQ(vg_os_listdir(os, t_path("dev0"), count_entry, &n), VG_ENOENT);
	T_EQ(vg_os_syncdir(os, t_path("dev0")), VG_ENOENT);
	T_EQ(vg_os_writable(os, t_path("dev0")), VG_ENOENT);
	T_OK(vg_os_stat(os, t_path("dev1/seg"), &st)); /* the other device is fine */
	T_CHECK(st.exists);
	T_OK(vg_os_close(f)); /* close works on a gone device */

	vg_fault_remove_rule(os, id);
	T_OK(vg_os_open(os, t_path("dev0/seg"), VG_O_RDONLY, &g));
	T_OK(vg_os_pread_full(g, buf, sizeof buf, 0));
	T_CHECK(!memcmp(buf, data, sizeof buf));
	T_OK(vg_os_close(g));
	vg_os_destroy(os);
}

TEST(device_vanishes_at_nth_write)
{
	struct vg_os *os = twin_new();
	T_OK(vg_os_mkdir(os, t_path("dev0")));
	struct vg_fault_rule r = {.ops = VG_FAULT_WRITE, .prefix = t_path("dev0"), .nth = 2, .effect = VG_FAULT_GONE};
	T_OK(vg_fault_add_rule(os, &r, NULL));
	struct vg_file *f = NULL;
	T_OK(vg_os_open(os, t_path("dev0/seg"), VG_O_RDWR | VG_O_CREAT, &f));
	T_OK(vg_os_pwrite(f, "a", 1, 0));
	T_EQ(vg_os_pwrite(f, "b", 1, 1), VG_EIO);
	char c;
	T_EQ(vg_os_pread_full(f, &c, 1, 0), VG_EIO);
	struct vg_os_stat st;
	T_OK(vg_os_stat(os, t_path("dev0"), &st));
	T_CHECK(!st.exists);
	T_OK(vg_os_close(f));
	vg_os_destroy(os);
}

/* ---- counters ---- */

TEST(counters_per_prefix)
{
	struct vg_os *os = twin_new();
	unsigned char buf[3000] = {0};
	T_OK(vg_os_mkdir(os, t_path("dev0")));
	T_OK(vg_os_mkdir(os, t_path("dev1")));
	T_OK(put(os, t_path("dev0/a"), buf, 3000, 0, true));
	T_OK(put(os, t_path("dev0/b"), buf, 1000, 0, false));
	T_OK(put(os, t_path("dev1/a"), buf, 500, 0, true));
	T_OK(vg_os_syncdir(os, t_path("dev0")));
	struct vg_file *f = NULL;
	T_OK(vg_os_open(os, t_path("dev1/a"), VG_O_RDONLY, &f));
	size_t got;
	T_OK(vg_os_pread(f, buf, 3000, 0, &got)); /* 500 bytes there */
	T_OK(vg_os_close(f));

	struct vg_fault_counts c;
	vg_fault_counts(os, t_path("dev0"), &c);
	T_EQ(c.opens, 2);
	T_EQ(c.writes, 2);
	T_EQ(c.written_bytes, 4000);
	T_EQ(c.syncs, 2); /* one file sync, one syncdir */
	T_EQ(c.reads, 0);
	vg_fault_counts(os, t_path("dev1/"), &c);
	T_EQ(c.reads, 1);
	T_EQ(c.read_bytes, 500);
	T_EQ(c.written_bytes, 500);
	vg_fault_counts(os, NULL, &c);
	T_EQ(c.written_bytes, 4500);
	T_EQ(c.opens, 4);
	vg_fault_counts_reset(os);
	vg_fault_counts(os, NULL, &c);
	T_EQ(c.opens + c.reads + c.writes + c.syncs + c.read_bytes + c.written_bytes, 0);
	vg_os_destroy(os);
}

struct worker {
	struct vg_file *f;
	int id, err;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned char buf[4096], back[4096];
	for (int i = 0; i < 100 && !w->err; i++) {
		uint64_t off = (uint64_t)(i * 4 + w->id) * sizeof buf;
		memset(buf, w->id + 1, sizeof buf);
		w->err = vg_os_pwrite(w->f, buf, sizeof buf, off);
		if (!w->err)
			w->err = vg_os_pread_full(w->f, back, sizeof back, off);
		if (!w->err && memcmp(buf, back, sizeof buf))
			w->err = VG_ECORRUPT;
	}
	return NULL;
}

/* The pool reads and writes from several threads at once. */
TEST(concurrent_calls_are_safe)
{
	struct vg_os *os = twin_new();
	struct vg_file *f = NULL;
	T_OK(vg_os_open(os, t_path("f"), VG_O_RDWR | VG_O_CREAT, &f));
	pthread_t th[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.f = f, .id = i};
		T_CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		T_OK(w[i].err);
	}
	T_OK(vg_os_sync(f));
	T_OK(vg_os_close(f));
	struct vg_fault_counts c;
	vg_fault_counts(os, NULL, &c);
	T_EQ(c.writes, 400);
	T_EQ(c.reads, 400);
	T_EQ(c.written_bytes, 400 * 4096);
	vg_os_destroy(os);
}

/* ---- power loss ---- */

static int expect_crash_everywhere(struct vg_os *os, struct vg_file *f)
{
	unsigned char b[16];
	size_t got;
	uint64_t size;
	struct vg_os_stat st;
	struct vg_file *g = NULL;
	int n = 0;
	int errs[] = {
		vg_os_pread(f, b, sizeof b, 0, &got),
		vg_os_pwrite(f, b, sizeof b, 0),
		vg_os_sync(f),
		vg_os_size(f, &size),
		vg_os_truncate(f, 0),
		vg_os_lock(f),
		vg_os_open(os, t_path("other"), VG_O_RDWR | VG_O_CREAT, &g),
		vg_os_stat(os, t_path("f"), &st),
		vg_os_mkdir(os, t_path("d")),
		vg_os_unlink(os, t_path("f")),
		vg_os_rmdir(os, t_path("d")),
		vg_os_rename(os, t_path("f"), t_path("g")),
		vg_os_syncdir(os, t_tmpdir()),
		vg_os_listdir(os, t_tmpdir(), count_entry, &n),
		vg_os_writable(os, t_tmpdir()),
	};
	for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
		if (errs[i] != VG_ECRASH)
			return (int)i + 1;
	return 0;
}

TEST(after_crash_every_op_fails_and_close_frees)
{
	struct vg_os *os = twin_new();
	unsigned char buf[1024] = {1};
	struct vg_file *f = NULL;
	T_OK(vg_os_open(os, t_path("f"), VG_O_RDWR | VG_O_CREAT, &f));
	vg_fault_crash_at(os, 3, 1);
	T_OK(vg_os_pwrite(f, buf, sizeof buf, 0));
	T_OK(vg_os_pwrite(f, buf, sizeof buf, 1024));
	T_CHECK(!vg_fault_crashed(os));
	T_EQ(vg_os_pwrite(f, buf, sizeof buf, 2048), VG_ECRASH);
	T_CHECK(strstr(vg_errmsg(), "power loss") != NULL);
	T_CHECK(vg_fault_crashed(os));
	T_EQ(expect_crash_everywhere(os, f), 0);
	T_OK(vg_fault_powerloss(os, NULL));
	T_EQ(expect_crash_everywhere(os, f), 0);
	T_OK(vg_os_close(f));
	vg_os_destroy(os);
	T_EQ(exists(t_path("other")), 0);
}

/* Fate of one unsynced write [off, off + len) that wrote nw over old
 * content a (alen bytes, zeros past it), seen in the file got (n bytes):
 * 0 kept, 1 dropped, 2 torn (a contiguous run of sector pieces reverted),
 * -1 anything else.  Judged per piece of a 512-byte sector. */
static int classify(const unsigned char *got, size_t n, const unsigned char *a, size_t alen, uint64_t off,
		    size_t len, const unsigned char *nw)
{
	if (off >= alen && n <= off)
		return 1; /* an append whose size did not survive */
	if (n < off + len)
		return -1;
	int nold = 0, nnew = 0, runs = 0, prev = -1;
	for (uint64_t p = off; p < off + len;) {
		uint64_t e = (p / 512 + 1) * 512;
		if (e > off + len)
			e = off + len;
		int isnew = 0, isold = 0;
		for (uint64_t i = p; i < e; i++) {
			unsigned char o = i < alen ? a[i] : 0, w = nw[i - off];
			if (o == w)
				continue;
			if (got[i] == w)
				isnew = 1;
			else if (got[i] == o)
				isold = 1;
			else
				return -1;
		}
		if (isnew && isold)
			return -1;
		if (isold && prev != 1)
			runs++;
		prev = isold ? 1 : isnew ? 0 : prev;
		nold += isold;
		nnew += isnew;
		p = e;
	}
	if (!nold)
		return 0;
	if (!nnew)
		return 1;
	return runs == 1 ? 2 : -1;
}

TEST(crash_fates_of_unsynced_writes)
{
	enum { A = 65536 };
	static const struct {
		uint64_t off;
		size_t len;
	} ws[5] = {{4096, 8192}, {20480, 8192}, {41060, 8192}, {A, 8192}, {30000, 4096}};
	static unsigned char a[A], nw[5][8192];
	int seen[3] = {0};
	for (uint64_t seed = 0; seed < 50; seed++) {
		const char *path = t_path("seg%llu", (unsigned long long)seed);
		struct vg_os *os = twin_new();
		t_fill(a, A, seed);
		T_OK(put_durable(os, path, a, A));
		vg_fault_crash_at(os, 5, seed);
		struct vg_file *f = NULL;
		T_OK(vg_os_open(os, path, VG_O_RDWR, &f));
		for (int i = 0; i < 5; i++) {
			t_fill(nw[i], ws[i].len, 1000 + seed * 10 + (uint64_t)i);
			int err = vg_os_pwrite(f, nw[i], ws[i].len, ws[i].off);
			T_EQ(err, i < 4 ? 0 : VG_ECRASH);
		}
		T_OK(vg_os_close(f));
		struct vg_fault_report rep;
		T_OK(vg_fault_powerloss(os, &rep));
		vg_os_destroy(os);

		size_t n = 0;
		unsigned char *got = t_read_file(path, &n);
		T_CHECKF(got && (n == A || n == A + 8192), "seed %llu: size %zu", (unsigned long long)seed, n);
		int here[3] = {0};
		unsigned char *mask = calloc(1, A);
		for (int i = 0; i < 5; i++) {
			int fate = classify(got, n, a, A, ws[i].off, ws[i].len, nw[i]);
			T_CHECKF(fate >= 0, "seed %llu: write %d neither kept, dropped nor torn", (unsigned long long)seed, i);
			here[fate]++;
			for (uint64_t p = ws[i].off; p < ws[i].off + ws[i].len && p < A; p++)
				mask[p] = 1;
		}
		for (size_t p = 0; p < A; p++) /* synced bytes: always intact */
			T_CHECKF(mask[p] || got[p] == a[p], "seed %llu: synced byte %zu changed", (unsigned long long)seed, p);
		free(mask);
		free(got);
		T_CHECKF(rep.kept == (uint64_t)here[0] && rep.dropped == (uint64_t)here[1] && rep.torn == (uint64_t)here[2],
			 "seed %llu: report %llu/%llu/%llu, file shows %d/%d/%d", (unsigned long long)seed,
			 (unsigned long long)rep.kept, (unsigned long long)rep.dropped, (unsigned long long)rep.torn,
			 here[0], here[1], here[2]);
		for (int i = 0; i < 3; i++)
			seen[i] += here[i];
	}
	T_CHECKF(seen[0] && seen[1] && seen[2], "fates over 50 seeds: kept %d dropped %d torn %d", seen[0], seen[1],
		 seen[2]);
}

/* Two overlapping unsynced writes: a dropped older one must not undo the
 * kept newer one where they overlap. */
TEST(crash_overlapping_writes_keep_order)
{
	static unsigned char a[8192], x[8192], y[8192], want[12288];
	int combos = 0;
	for (uint64_t seed = 0; seed < 60; seed++) {
		const char *path = t_path("f%llu", (unsigned long long)seed);
		t_fill(a, sizeof a, seed);
		t_fill(x, sizeof x, seed + 100);
		t_fill(y, sizeof y, seed + 200);
		struct vg_os *os = twin_new();
		T_OK(put_durable(os, path, a, sizeof a));
		T_OK(put(os, path, x, sizeof x, 0, false));
		T_OK(put(os, path, y, sizeof y, 4096, false));
		struct vg_fault_report rep;
		vg_fault_crash_at(os, 0, seed);
		T_OK(vg_fault_powerloss(os, &rep));
		vg_os_destroy(os);
		if (rep.torn)
			continue;
		size_t n = 0, wn;
		unsigned char *got = t_read_file(path, &n);
		T_CHECK(got != NULL);
		bool ok = false;
		for (int k1 = 0; k1 < 2 && !ok; k1++) {
			for (int k2 = 0; k2 < 2 && !ok; k2++) {
				if ((uint64_t)(k1 + k2) != rep.kept)
					continue;
				memset(want, 0, sizeof want);
				memcpy(want, a, sizeof a);
				wn = sizeof a;
				if (k1)
					memcpy(want, x, sizeof x);
				if (k2) {
					memcpy(want + 4096, y, sizeof y);
					wn = sizeof want;
				}
				ok = n == wn && !memcmp(got, want, n);
			}
		}
		free(got);
		T_CHECKF(ok, "seed %llu: file is no ordered combination of the writes (kept %llu)",
			 (unsigned long long)seed, (unsigned long long)rep.kept);
		combos++;
	}
	T_CHECK(combos > 10);
}

TEST(synced_writes_always_survive)
{
	unsigned char data[20000];
	for (uint64_t seed = 0; seed < 20; seed++) {
		const char *path = t_path("f%llu", (unsigned long long)seed);
		t_fill(data, sizeof data, seed);
		struct vg_os *os = twin_new();
		T_OK(put(os, path, data, 10000, 0, false));
		/* closed unsynced, reopened and synced: the sync covers it */
		T_OK(put(os, path, data + 10000, 10000, 10000, true));
		T_OK(vg_os_syncdir(os, t_tmpdir()));
		vg_fault_crash_at(os, 0, seed);
		vg_fault_crash_now(os);
		T_OK(vg_fault_powerloss(os, NULL));
		vg_os_destroy(os);
		T_CHECKF(file_is(path, data, sizeof data), "seed %llu", (unsigned long long)seed);
	}
}

TEST(unsynced_truncate_can_be_undone)
{
	unsigned char data[4096];
	t_fill(data, sizeof data, 3);
	int undone = 0, kept = 0;
	for (uint64_t seed = 0; seed < 20; seed++) {
		const char *path = t_path("f%llu", (unsigned long long)seed);
		struct vg_os *os = twin_new();
		T_OK(put_durable(os, path, data, sizeof data));
		struct vg_file *f = NULL;
		T_OK(vg_os_open(os, path, VG_O_RDWR, &f));
		T_OK(vg_os_truncate(f, 1000));
		T_OK(vg_os_close(f));
		struct vg_fault_report rep;
		vg_fault_crash_at(os, 0, seed);
		T_OK(vg_fault_powerloss(os, &rep));
		vg_os_destroy(os);
		size_t n = 0;
		unsigned char *got = t_read_file(path, &n);
		T_CHECKF(got && (n == 1000 || n == sizeof data) && !memcmp(got, data, n), "seed %llu",
			 (unsigned long long)seed);
		T_EQ(rep.truncs_undone, n == sizeof data);
		undone += n == sizeof data;
		kept += n == 1000;
		free(got);
	}
	T_CHECK(undone && kept);
}

/* One run of the determinism test: data, then two creations in dir,
 * power lost at write 9.  *img (malloc'd) and ex[] get the outcome. */
static int crash_run(const char *dir, uint64_t seed, unsigned char **img, size_t *len, int ex[3])
{
	unsigned char data[40000];
	char p[3][600];
	t_fill(data, sizeof data, 77);
	for (int i = 0; i < 3; i++)
		snprintf(p[i], sizeof p[i], "%s/f%d", dir, i);
	struct vg_os *os = twin_new();
	struct vg_file *f = NULL;
	int err = vg_os_mkdir(os, dir);
	if (!err)
		err = vg_os_syncdir(os, t_tmpdir());
	if (!err)
		err = put_durable(os, p[0], data, 4096);
	vg_fault_crash_at(os, 9, seed);
	if (!err)
		err = vg_os_open(os, p[0], VG_O_RDWR, &f);
	for (int i = 0; i < 6 && !err; i++)
		err = vg_os_pwrite(f, data + i * 5000, 5000, (uint64_t)i * 3000);
	vg_os_close(f);
	for (int i = 1; i < 3 && !err; i++)
		err = put(os, p[i], data, 100, 0, true);
	if (!err && put(os, p[0], data, 100, 0, true) != VG_ECRASH)
		err = VG_EINVAL;
	if (!err)
		err = vg_fault_powerloss(os, NULL);
	vg_os_destroy(os);
	*img = t_read_file(p[0], len);
	for (int i = 0; i < 3; i++)
		ex[i] = exists(p[i]);
	return err ? err : *img ? 0 : VG_ENOENT;
}

/* The same calls with the same seed give the same files, wherever the test
 * runs: here in two directories of different names. */
TEST(crash_is_deterministic_for_a_seed)
{
	for (uint64_t seed = 0; seed < 10; seed++) {
		unsigned char *img[2] = {NULL, NULL};
		size_t len[2] = {0, 0};
		int ex[2][3];
		T_OK(crash_run(t_path("a%llu", (unsigned long long)seed), seed, &img[0], &len[0], ex[0]));
		T_OK(crash_run(t_path("second-run-%llu", (unsigned long long)seed), seed, &img[1], &len[1], ex[1]));
		bool same = len[0] == len[1] && !memcmp(img[0], img[1], len[0]) && !memcmp(ex[0], ex[1], sizeof ex[0]);
		free(img[0]);
		free(img[1]);
		T_CHECKF(same, "seed %llu: two runs differ", (unsigned long long)seed);
	}
}

/* Calls the inner os refuses (here: writing through a read-only handle)
 * did nothing, so the power loss has nothing of them to keep. */
TEST(refused_calls_have_no_fate)
{
	unsigned char data[3000];
	t_fill(data, sizeof data, 9);
	for (uint64_t seed = 0; seed < 10; seed++) {
		const char *path = t_path("f%llu", (unsigned long long)seed);
		struct vg_os *os = twin_new();
		T_OK(put_durable(os, path, data, sizeof data));
		struct vg_file *f = NULL;
		T_OK(vg_os_open(os, path, VG_O_RDONLY, &f));
		T_CHECK(vg_os_pwrite(f, data, 100, 5000) != 0);
		T_CHECK(vg_os_truncate(f, 10) != 0);
		T_OK(vg_os_close(f));
		T_OK(vg_os_rename(os, path, path));
		vg_fault_crash_at(os, 0, seed);
		T_OK(vg_fault_powerloss(os, NULL));
		vg_os_destroy(os);
		T_CHECKF(file_is(path, data, sizeof data), "seed %llu", (unsigned long long)seed);
	}
}

/* ---- power loss: directory operations ---- */

TEST(created_file_without_syncdir_may_vanish)
{
	unsigned char data[3000];
	t_fill(data, sizeof data, 4);
	int vanished = 0, survived = 0;
	for (uint64_t seed = 0; seed < 30; seed++) {
		const char *dir = t_path("d%llu", (unsigned long long)seed);
		char a[600], b[600], c[600];
		snprintf(a, sizeof a, "%s/a", dir);
		snprintf(b, sizeof b, "%s/b", dir);
		snprintf(c, sizeof c, "%s/c", dir);
		struct vg_os *os = twin_new();
		T_OK(vg_os_mkdir(os, dir));
		T_OK(vg_os_syncdir(os, t_tmpdir()));
		T_OK(put_durable(os, a, data, sizeof data));
		T_OK(put(os, b, data, sizeof data, 0, true));
		T_OK(put(os, c, data, sizeof data, 0, true));
		struct vg_fault_report rep;
		vg_fault_crash_at(os, 0, seed);
		T_OK(vg_fault_powerloss(os, &rep));
		vg_os_destroy(os);
		T_EQ(exists(a), 1);
		int eb = exists(b), ec = exists(c);
		/* journaled metadata: c never survives without b */
		T_CHECKF(eb || !ec, "seed %llu: c survived, b did not", (unsigned long long)seed);
		T_EQ(rep.creates_undone, (uint64_t)(!eb + !ec));
		T_CHECK(!eb || file_is(b, data, sizeof data));
		vanished += !eb + !ec;
		survived += eb + ec;
	}
	T_CHECK(vanished && survived);
}

TEST(unlink_without_syncdir_may_be_undone)
{
	unsigned char data[2000];
	t_fill(data, sizeof data, 5);
	int back = 0, gone = 0;
	for (uint64_t seed = 0; seed < 30; seed++) {
		const char *path = t_path("f%llu", (unsigned long long)seed);
		struct vg_os *os = twin_new();
		T_OK(put_durable(os, path, data, sizeof data));
		T_OK(vg_os_unlink(os, path));
		T_EQ(exists(path), 0);
		int n = 0;
		T_OK(vg_os_listdir(os, t_tmpdir(), count_entry, &n));
		T_EQ(n, (int)seed); /* the earlier seeds' files only: no trash shows */
		vg_fault_crash_at(os, 0, seed);
		T_OK(vg_fault_powerloss(os, NULL));
		vg_os_destroy(os);
		if (exists(path) == 1) {
			T_CHECK(file_is(path, data, sizeof data));
			back++;
		} else {
			gone++;
		}
		/* keep one file per seed so the listing count above holds */
		if (exists(path) != 1)
			T_CHECK(t_write_file(path, data, 1) == 0);
	}
	T_CHECK(back && gone);
	int n = 0;
	T_OK(vg_os_listdir(vg_os_posix(), t_tmpdir(), count_entry, &n));
	T_EQ(n, 30); /* no trash left behind */
}

/* The atomic-replace pattern: write tmp, sync it, rename over the old
 * file.  Before the syncdir a crash gives the old or the new file, whole
 * (and maybe the temporary file back); after it, always the new one. */
TEST(rename_over_is_atomic_and_durable_after_syncdir)
{
	unsigned char old[3000], nw[5000];
	int olds = 0, news = 0;
	for (uint64_t seed = 0; seed < 40; seed++) {
		bool dirsync = seed >= 30;
		const char *dir = t_path("d%llu", (unsigned long long)seed);
		char fin[600], tmp[600];
		snprintf(fin, sizeof fin, "%s/label", dir);
		snprintf(tmp, sizeof tmp, "%s/label.tmp", dir);
		t_fill(old, sizeof old, seed);
		t_fill(nw, sizeof nw, seed + 1000);
		struct vg_os *os = twin_new();
		T_OK(vg_os_mkdir(os, dir));
		T_OK(put_durable(os, fin, old, sizeof old));
		T_OK(put(os, tmp, nw, sizeof nw, 0, true));
		T_OK(vg_os_rename(os, tmp, fin));
		if (dirsync)
			T_OK(vg_os_syncdir(os, dir));
		vg_fault_crash_at(os, 0, seed);
		T_OK(vg_fault_powerloss(os, NULL));
		vg_os_destroy(os);
		size_t n = 0;
		unsigned char *got = t_read_file(fin, &n);
		T_CHECKF(got != NULL, "seed %llu: label missing", (unsigned long long)seed);
		bool is_old = n == sizeof old && !memcmp(got, old, n);
		bool is_new = n == sizeof nw && !memcmp(got, nw, n);
		free(got);
		T_CHECKF(is_old || is_new, "seed %llu: label is neither old nor new", (unsigned long long)seed);
		T_CHECKF(!dirsync || is_new, "seed %llu: synced rename undone", (unsigned long long)seed);
		int tmp_back = exists(tmp);
		T_CHECKF(tmp_back == 0 || (tmp_back == 1 && is_old), "seed %llu: temporary file back with the new label",
			 (unsigned long long)seed);
		olds += is_old;
		news += is_new && !dirsync;
		int n2 = 0;
		T_OK(vg_os_listdir(vg_os_posix(), dir, count_entry, &n2));
		T_EQ(n2, 1 + tmp_back); /* no trash left behind */
	}
	T_CHECK(olds && news);
}

TEST(clean_destroy_keeps_everything)
{
	unsigned char data[5000];
	t_fill(data, sizeof data, 6);
	struct vg_os *os = twin_new();
	T_OK(put(os, t_path("a"), data, sizeof data, 0, false));
	T_OK(put(os, t_path("b"), data, sizeof data, 0, false));
	T_OK(vg_os_unlink(os, t_path("b")));
	vg_os_destroy(os);
	T_CHECK(file_is(t_path("a"), data, sizeof data));
	int cnt = 0;
	T_OK(vg_os_listdir(vg_os_posix(), t_tmpdir(), count_entry, &cnt));
	T_EQ(cnt, 1); /* b really removed, no trash */
}

TEST(destroy_of_crashed_twin_applies_power_loss)
{
	unsigned char data[4096];
	t_fill(data, sizeof data, 7);
	int vanished = 0;
	for (uint64_t seed = 0; seed < 10; seed++) {
		const char *path = t_path("f%llu", (unsigned long long)seed);
		struct vg_os *os = twin_new();
		T_OK(put(os, path, data, sizeof data, 0, false));
		vg_fault_crash_at(os, 0, seed);
		vg_fault_crash_now(os);
		vg_os_destroy(os);
		vanished += exists(path) == 0;
	}
	T_CHECK(vanished > 0);
}

/* ---- the loops pool tests are built from ---- */

/* A small durable update, as the pool makes them: write a temporary file,
 * sync it, rename it over the label, sync the directory. */
static int replace_label(struct vg_os *os, const char *dir, const void *buf, size_t len)
{
	char tmp[600], fin[600];
	snprintf(tmp, sizeof tmp, "%s/label.tmp", dir);
	snprintf(fin, sizeof fin, "%s/label", dir);
	struct vg_file *f = NULL;
	int err = vg_os_open(os, tmp, VG_O_RDWR | VG_O_CREAT, &f);
	if (!err)
		err = vg_os_pwrite(f, buf, len / 2, 0);
	if (!err)
		err = vg_os_pwrite(f, (const char *)buf + len / 2, len - len / 2, len / 2);
	if (!err)
		err = vg_os_sync(f);
	int e = vg_os_close(f);
	if (!err)
		err = e;
	if (!err)
		err = vg_os_rename(os, tmp, fin);
	if (!err)
		err = vg_os_syncdir(os, dir);
	return err;
}

/* Each call in turn fails; the update reports it, and once no call is
 * left to fail it succeeds. */
TEST(fault_loop_over_every_call)
{
	unsigned char old[1500], nw[2500];
	t_fill(old, sizeof old, 1);
	t_fill(nw, sizeof nw, 2);
	uint64_t n;
	for (n = 1; n < 100; n++) {
		const char *dir = t_path("d%llu", (unsigned long long)n);
		char fin[600];
		snprintf(fin, sizeof fin, "%s/label", dir);
		struct vg_os *os = twin_new();
		T_OK(vg_os_mkdir(os, dir));
		T_OK(put_durable(os, fin, old, sizeof old));
		int id = 0;
		struct vg_fault_rule r = {.nth = n, .effect = VG_FAULT_EIO};
		T_OK(vg_fault_add_rule(os, &r, &id));
		int err = replace_label(os, dir, nw, sizeof nw);
		bool fired = vg_fault_fired(os, id) > 0;
		vg_os_destroy(os);
		T_CHECKF(fired ? err == VG_EIO : err == 0, "call %llu: %d (%s)", (unsigned long long)n, err, vg_errmsg());
		T_CHECKF(file_is(fin, nw, sizeof nw) || (fired && file_is(fin, old, sizeof old)), "call %llu",
			 (unsigned long long)n);
		if (!fired)
			break;
	}
	T_EQ(n, 7); /* open, write, write, sync, rename, syncdir fail in turn; the 7th run is clean */
}

/* Power fails at each call in turn, with several seeds: after the restart
 * the label is the old one or the new one, whole, never anything else. */
TEST(crash_loop_over_every_call)
{
	unsigned char old[1500], nw[2500];
	t_fill(old, sizeof old, 3);
	t_fill(nw, sizeof nw, 4);
	int runs = 0, olds = 0, news = 0;
	for (uint64_t seed = 0; seed < 8; seed++) {
		for (uint64_t n = 1;; n++) {
			const char *dir = t_path("s%llu-%llu", (unsigned long long)seed, (unsigned long long)n);
			char fin[600];
			snprintf(fin, sizeof fin, "%s/label", dir);
			struct vg_os *os = twin_new();
			T_OK(vg_os_mkdir(os, dir));
			T_OK(vg_os_syncdir(os, t_tmpdir()));
			T_OK(put_durable(os, fin, old, sizeof old));
			vg_fault_crash_at_op(os, VG_FAULT_ANY, n, seed);
			int err = replace_label(os, dir, nw, sizeof nw);
			bool crashed = vg_fault_crashed(os);
			T_CHECKF(crashed ? err == VG_ECRASH : err == 0, "seed %llu write %llu: %d", (unsigned long long)seed,
				 (unsigned long long)n, err);
			T_OK(vg_fault_powerloss(os, NULL));
			vg_os_destroy(os);
			bool is_old = file_is(fin, old, sizeof old);
			T_CHECKF(is_old || file_is(fin, nw, sizeof nw), "seed %llu write %llu: label damaged",
				 (unsigned long long)seed, (unsigned long long)n);
			T_CHECKF(crashed || !is_old, "seed %llu: completed update lost", (unsigned long long)seed);
			runs++;
			olds += is_old;
			news += crashed && !is_old;
			if (!crashed)
				break;
		}
	}
	T_EQ(runs, 8 * 7); /* open, write, write, sync, rename, syncdir; then a clean run */
	T_CHECK(olds > 0 && news > 0); /* a crash before the syncdir may or may not keep the rename */
}
