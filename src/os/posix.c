/*
 * posix.c - the real vg_os: POSIX file I/O on vault device directories.
 *
 * Retries EINTR and short writes; reports every other failure with the
 * path.  sync is fdatasync (the segment and label files never change size
 * in ways metadata must capture beyond what fdatasync covers: it also
 * flushes the size on Linux when the file grew).
 */
#include "os/os.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"

struct pfile {
	struct vg_file base;
	int fd;
};

char *vg_path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);
	if (!p)
		return NULL;
	memcpy(p, dir, a);
	size_t n = a;
	if (n && p[n - 1] != '/')
		p[n++] = '/';
	memcpy(p + n, name, b + 1);
	return p;
}

int vg_os_pread_full(struct vg_file *f, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	int err = vg_os_pread(f, buf, len, off, &got);
	if (err)
		return err;
	if (got != len)
		return VG_ERR(VG_ECORRUPT, "%s: file too short (wanted %zu bytes at offset %llu, got %zu)",
			      f->path, len, (unsigned long long)off, got);
	return 0;
}

static int p_open(struct vg_os *os, const char *path, int flags, struct vg_file **out)
{
	int oflags = O_CLOEXEC | ((flags & VG_O_RDWR) ? O_RDWR : O_RDONLY);
	if (flags & VG_O_CREAT)
		oflags |= O_CREAT;
	if (flags & VG_O_EXCL)
		oflags |= O_EXCL;
	struct pfile *f = calloc(1, sizeof *f);
	if (!f)
		return VG_ERR(VG_ENOMEM, "out of memory opening '%s'", path);
	f->base.os = os;
	f->base.path = strdup(path);
	if (!f->base.path) {
		free(f);
		return VG_ERR(VG_ENOMEM, "out of memory opening '%s'", path);
	}
	int fd;
	do
		fd = open(path, oflags, 0644);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		int e = errno;
		free(f->base.path);
		free(f);
		return VG_ERRNO(e, "cannot open '%s'", path);
	}
	f->fd = fd;
	*out = &f->base;
	return 0;
}

static int p_close(struct vg_file *vf)
{
	struct pfile *f = (struct pfile *)vf;
	int err = 0;
	if (close(f->fd) < 0 && errno != EINTR)
		err = VG_ERRNO(errno, "cannot close '%s'", vf->path);
	free(vf->path);
	free(f);
	return err;
}

static int p_pread(struct vg_file *vf, void *buf, size_t len, uint64_t off, size_t *got)
{
	struct pfile *f = (struct pfile *)vf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(f->fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return VG_ERRNO(errno, "read error on '%s' at offset %llu", vf->path,
					(unsigned long long)(off + done));
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return 0;
}

static int p_pwrite(struct vg_file *vf, const void *buf, size_t len, uint64_t off)
{
	struct pfile *f = (struct pfile *)vf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = pwrite(f->fd, (const char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return VG_ERRNO(errno, "write error on '%s' at offset %llu", vf->path,
					(unsigned long long)(off + done));
		}
		if (n == 0) /* never happens for regular files; do not spin on it */
			return VG_ERR(VG_EIO, "write error on '%s' at offset %llu: no progress", vf->path,
				      (unsigned long long)(off + done));
		done += (size_t)n;
	}
	return 0;
}

static int p_sync(struct vg_file *vf)
{
	struct pfile *f = (struct pfile *)vf;
	if (fdatasync(f->fd) < 0)
		return VG_ERRNO(errno, "cannot flush '%s' to stable storage", vf->path);
	return 0;
}

static int p_size(struct vg_file *vf, uint64_t *out)
{
	struct pfile *f = (struct pfile *)vf;
	struct stat st;
	if (fstat(f->fd, &st) < 0)
		return VG_ERRNO(errno, "cannot stat '%s'", vf->path);
	*out = (uint64_t)st.st_size;
	return 0;
}

static int p_truncate(struct vg_file *vf, uint64_t size)
{
	struct pfile *f = (struct pfile *)vf;
	if (ftruncate(f->fd, (off_t)size) < 0)
		return VG_ERRNO(errno, "cannot truncate '%s'", vf->path);
	return 0;
}

static int p_lock(struct vg_file *vf)
{
	struct pfile *f = (struct pfile *)vf;
	if (flock(f->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return VG_ERR(VG_EBUSY, "'%s' is locked by another vigil process; wait for it to finish",
				      vf->path);
		return VG_ERRNO(errno, "cannot lock '%s'", vf->path);
	}
	return 0;
}

static int p_lock_shared(struct vg_file *vf)
{
	struct pfile *f = (struct pfile *)vf;
	while (flock(f->fd, LOCK_SH) < 0)
		if (errno != EINTR)
			return VG_ERRNO(errno, "cannot lock '%s'", vf->path);
	return 0;
}

static int p_stat(struct vg_os *os, const char *path, struct vg_os_stat *out)
{
	(void)os;
	struct stat st;
	memset(out, 0, sizeof *out);
	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return VG_ERRNO(errno, "cannot stat '%s'", path);
	}
	out->exists = true;
	out->is_dir = S_ISDIR(st.st_mode);
	out->size = (uint64_t)st.st_size;
	return 0;
}

static int p_mkdir(struct vg_os *os, const char *path)
{
	(void)os;
	if (mkdir(path, 0755) < 0)
		return VG_ERRNO(errno, "cannot create directory '%s'", path);
	return 0;
}

static int p_unlink(struct vg_os *os, const char *path)
{
	(void)os;
	if (unlink(path) < 0)
		return VG_ERRNO(errno, "cannot remove '%s'", path);
	return 0;
}

static int p_rmdir(struct vg_os *os, const char *path)
{
	(void)os;
	if (rmdir(path) < 0)
		return VG_ERRNO(errno, "cannot remove directory '%s'", path);
	return 0;
}

static int p_rename(struct vg_os *os, const char *from, const char *to)
{
	(void)os;
	if (rename(from, to) < 0)
		return VG_ERRNO(errno, "cannot rename '%s' to '%s'", from, to);
	return 0;
}

static int p_syncdir(struct vg_os *os, const char *dir)
{
	(void)os;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot open directory '%s'", dir);
	int err = 0;
	if (fsync(fd) < 0)
		err = VG_ERRNO(errno, "cannot flush directory '%s'", dir);
	close(fd);
	return err;
}

static int p_listdir(struct vg_os *os, const char *dir, vg_os_dirent_fn fn, void *ctx)
{
	(void)os;
	DIR *d = opendir(dir);
	if (!d)
		return VG_ERRNO(errno, "cannot list directory '%s'", dir);
	int ret = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				ret = VG_ERRNO(errno, "cannot list directory '%s'", dir);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ret = fn(ctx, de->d_name);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}

static int p_writable(struct vg_os *os, const char *dir)
{
	(void)os;
	char *p = vg_path_join(dir, ".vigil-probe-XXXXXX");
	if (!p)
		return VG_ERR(VG_ENOMEM, "out of memory");
	int fd = mkstemp(p);
	if (fd < 0) {
		int e = errno;
		free(p);
		return VG_ERRNO(e, "cannot write in '%s'", dir);
	}
	close(fd);
	unlink(p);
	free(p);
	return 0;
}

static const struct vg_os_ops posix_ops = {
	.open = p_open,
	.close = p_close,
	.pread = p_pread,
	.pwrite = p_pwrite,
	.sync = p_sync,
	.size = p_size,
	.truncate = p_truncate,
	.lock = p_lock,
	.lock_shared = p_lock_shared,
	.stat = p_stat,
	.mkdir = p_mkdir,
	.unlink = p_unlink,
	.rmdir = p_rmdir,
	.rename = p_rename,
	.syncdir = p_syncdir,
	.listdir = p_listdir,
	.writable = p_writable,
	.destroy = NULL,
};

static struct vg_os posix_os = {.ops = &posix_ops};

struct vg_os *vg_os_posix(void) { return &posix_os; }
