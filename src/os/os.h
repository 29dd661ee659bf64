/*
 * os.h - the only door to vault device files.
 *
 * pool/ never calls open/pread/pwrite/fsync itself: it goes through a
 * struct vg_os, an ops table (as SQLite's VFS or ZFS's vdev_ops).  Two
 * implementations exist:
 *   - posix.c: the real thing (pread/pwrite/fdatasync, O_CLOEXEC).
 *   - fault.c: a twin for tests that wraps another vg_os and can fail the
 *     Nth read or write with EIO, flip bits in what is read or written,
 *     make a directory (a device) disappear, count I/O per directory, and
 *     simulate power loss at write N (see fault.h).
 *
 * Contract of every op: returns 0 or a negative VG_E* code with a message
 * naming the path; never retries silently; never leaves a partially
 * initialised handle behind.  pread may return fewer bytes than asked only
 * at end of file (*got says how many).  Durability: data written with
 * pwrite is durable only after vg_os_sync() on that file returns 0; a new
 * directory entry (file created, renamed, removed) only after
 * vg_os_syncdir() on its parent directory returns 0.
 *
 * The source tree being backed up and the restore target are accessed
 * through fs.h (also in os/), which has no fault twin.
 */
#ifndef VG_OS_OS_H
#define VG_OS_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vg_os;

/* An open file.  Implementations embed this as their first member. */
struct vg_file {
	struct vg_os *os;
	char *path; /* owned, for messages */
};

enum vg_open_flags {
	VG_O_RDONLY = 0,
	VG_O_RDWR = 1 << 0,
	VG_O_CREAT = 1 << 1,
	VG_O_EXCL = 1 << 2,
};

struct vg_os_stat {
	bool exists;
	bool is_dir;
	uint64_t size;
};

/* Called once per directory entry (not "." or ".."); return non-zero to stop
 * (that value is returned by listdir). */
typedef int (*vg_os_dirent_fn)(void *ctx, const char *name);

struct vg_os_ops {
	int (*open)(struct vg_os *os, const char *path, int flags, struct vg_file **out);
	int (*close)(struct vg_file *f);
	int (*pread)(struct vg_file *f, void *buf, size_t len, uint64_t off, size_t *got);
	int (*pwrite)(struct vg_file *f, const void *buf, size_t len, uint64_t off);
	int (*sync)(struct vg_file *f);
	int (*size)(struct vg_file *f, uint64_t *out);
	int (*truncate)(struct vg_file *f, uint64_t size);
	/* Exclusive advisory lock held until close; VG_EBUSY if held elsewhere. */
	int (*lock)(struct vg_file *f);
	/* Shared advisory lock held until close; waits while an exclusive one
	 * is held elsewhere. */
	int (*lock_shared)(struct vg_file *f);
	int (*stat)(struct vg_os *os, const char *path, struct vg_os_stat *out);
	int (*mkdir)(struct vg_os *os, const char *path);
	int (*unlink)(struct vg_os *os, const char *path);
	int (*rmdir)(struct vg_os *os, const char *path);
	int (*rename)(struct vg_os *os, const char *from, const char *to);
	int (*syncdir)(struct vg_os *os, const char *dir);
	int (*listdir)(struct vg_os *os, const char *dir, vg_os_dirent_fn fn, void *ctx);
	/* 0 if a file can be created in dir (probes with a temporary file). */
	int (*writable)(struct vg_os *os, const char *dir);
	void (*destroy)(struct vg_os *os);
};

struct vg_os {
	const struct vg_os_ops *ops;
};

/* The real implementation: a process-wide singleton, never destroyed. */
struct vg_os *vg_os_posix(void);

static inline int vg_os_open(struct vg_os *os, const char *path, int flags, struct vg_file **out)
{
	return os->ops->open(os, path, flags, out);
}
/* Closing NULL is a no-op. */
static inline int vg_os_close(struct vg_file *f) { return f ? f->os->ops->close(f) : 0; }
static inline int vg_os_pread(struct vg_file *f, void *buf, size_t len, uint64_t off, size_t *got)
{
	return f->os->ops->pread(f, buf, len, off, got);
}
/* Reads exactly len bytes or fails (a short file is VG_ECORRUPT). */
int vg_os_pread_full(struct vg_file *f, void *buf, size_t len, uint64_t off);
static inline int vg_os_pwrite(struct vg_file *f, const void *buf, size_t len, uint64_t off)
{
	return f->os->ops->pwrite(f, buf, len, off);
}
static inline int vg_os_sync(struct vg_file *f) { return f->os->ops->sync(f); }
static inline int vg_os_size(struct vg_file *f, uint64_t *out) { return f->os->ops->size(f, out); }
static inline int vg_os_truncate(struct vg_file *f, uint64_t size) { return f->os->ops->truncate(f, size); }
static inline int vg_os_lock(struct vg_file *f) { return f->os->ops->lock(f); }
static inline int vg_os_lock_shared(struct vg_file *f) { return f->os->ops->lock_shared(f); }
static inline int vg_os_stat(struct vg_os *os, const char *path, struct vg_os_stat *out)
{
	return os->ops->stat(os, path, out);
}
static inline int vg_os_mkdir(struct vg_os *os, const char *path) { return os->ops->mkdir(os, path); }
static inline int vg_os_unlink(struct vg_os *os, const char *path) { return os->ops->unlink(os, path); }
static inline int vg_os_rmdir(struct vg_os *os, const char *path) { return os->ops->rmdir(os, path); }
static inline int vg_os_rename(struct vg_os *os, const char *from, const char *to)
{
	return os->ops->rename(os, from, to);
}
static inline int vg_os_syncdir(struct vg_os *os, const char *dir) { return os->ops->syncdir(os, dir); }
static inline int vg_os_listdir(struct vg_os *os, const char *dir, vg_os_dirent_fn fn, void *ctx)
{
	return os->ops->listdir(os, dir, fn, ctx);
}
static inline int vg_os_writable(struct vg_os *os, const char *dir) { return os->ops->writable(os, dir); }
static inline void vg_os_destroy(struct vg_os *os)
{
	if (os && os->ops->destroy)
		os->ops->destroy(os);
}

/* Helpers shared by implementations. */
char *vg_path_join(const char *dir, const char *name); /* malloc'd; NULL on ENOMEM */

#endif
