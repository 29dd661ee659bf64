/*
 * fs.c - source walking and confined restore creation (see fs.h).
 *
 * Confinement rests on three facts: every restore-side call takes one
 * validated name component relative to a directory fd; directories are
 * only ever opened with O_NOFOLLOW|O_DIRECTORY; files are only ever
 * created with O_CREAT|O_EXCL|O_NOFOLLOW (never opened for writing when
 * they already exist).  Replacing something in the way uses unlinkat(),
 * which removes a symlink itself, never what it points to.
 */
#include "os/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/err.h"
#include "os/fs_int.h"
#include "os/os.h"


bool vg_fs_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > VG_FS_NAME_MAX)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	return !memchr(name, '/', len) && !memchr(name, '\0', len);
}

/* "<dir>/<name>" for a message; falls back to the name alone on ENOMEM. */
#define SUBPATH_MAX 4096
static const char *subpath(const struct vg_fs_dir *d, const char *name, char buf[SUBPATH_MAX])
{
	snprintf(buf, SUBPATH_MAX, "%s%s%s", d->path,
		 d->path[0] && d->path[strlen(d->path) - 1] == '/' ? "" : "/", name);
	return buf;
}

static int check_name(const struct vg_fs_dir *d, const char *name)
{
	if (!vg_fs_name_ok(name, strlen(name)))
		return VG_ERR(VG_EUNSAFE, "refusing unsafe name '%s' in '%s'", name, d->path);
	return 0;
}

static int64_t ts_ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static struct timespec ns_ts(int64_t ns)
{
	struct timespec t;
	t.tv_sec = ns / 1000000000;
	t.tv_nsec = ns % 1000000000;
	if (t.tv_nsec < 0) {
		t.tv_nsec += 1000000000;
		t.tv_sec--;
	}
	return t;
}

static int ftype_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return VG_FT_FILE;
	case S_IFDIR: return VG_FT_DIR;
	case S_IFLNK: return VG_FT_SYMLINK;
	case S_IFIFO: return VG_FT_FIFO;
	case S_IFCHR: return VG_FT_CHR;
	case S_IFBLK: return VG_FT_BLK;
	case S_IFSOCK: return VG_FT_SOCK;
	}
	return VG_FT_NONE;
}

static void from_stat(const struct stat *s, struct vg_fs_stat *st)
{
	st->type = ftype_of(s->st_mode);
	st->mode = s->st_mode & 07777;
	st->uid = s->st_uid;
	st->gid = s->st_gid;
	st->size = (uint64_t)s->st_size;
	st->ino = s->st_ino;
	st->dev = s->st_dev;
	st->rdev = s->st_rdev;
	st->nlink = s->st_nlink;
	st->blocks = (uint64_t)s->st_blocks;
	st->atime_ns = ts_ns(s->st_atim);
	st->mtime_ns = ts_ns(s->st_mtim);
	st->ctime_ns = ts_ns(s->st_ctim);
}

static int new_dir(int fd, char *path, struct vg_fs_dir **out)
{
	struct vg_fs_dir *d = malloc(sizeof *d);
	if (!d || !path) {
		free(d);
		free(path);
		close(fd);
		return VG_ERR(VG_ENOMEM, "out of memory opening a directory");
	}
	d->fd = fd;
	d->path = path;
	*out = d;
	return 0;
}

static int new_file(int fd, char *path, struct vg_fs_file **out)
{
	struct vg_fs_file *f = calloc(1, sizeof *f);
	if (!f || !path) {
		free(f);
		free(path);
		close(fd);
		return VG_ERR(VG_ENOMEM, "out of memory opening a file");
	}
	f->fd = fd;
	f->path = path;
	*out = f;
	return 0;
}

/* --- source side --- */

int vg_fs_lstat(const char *path, struct vg_fs_stat *st)
{
	struct stat s;
	if (lstat(path, &s) < 0)
		return VG_ERRNO(errno, "cannot stat '%s'", path);
	from_stat(&s, st);
	return 0;
}

int vg_fs_dir_open(const char *path, struct vg_fs_dir **out)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot open directory '%s'", path);
	return new_dir(fd, strdup(path), out);
}

int vg_fs_dir_openat(struct vg_fs_dir *d, const char *name, struct vg_fs_dir **out)
{
	char b[SUBPATH_MAX];
	int fd = openat(d->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot open directory '%s'", subpath(d, name, b));
	return new_dir(fd, vg_path_join(d->path, name), out);
}

void vg_fs_dir_close(struct vg_fs_dir *d)
{
	if (!d)
		return;
	close(d->fd);
	free(d->path);
	free(d);
}

const char *vg_fs_dir_path(const struct vg_fs_dir *d) { return d->path; }

static int cmp_dirent(const void *a, const void *b)
{
	/* strcmp compares as unsigned char: byte order, as documented. */
	return strcmp(((const struct vg_fs_dirent *)a)->name, ((const struct vg_fs_dirent *)b)->name);
}

static int list_names(struct vg_fs_dir *d, struct vg_fs_list *l)
{
	int fd = dup(d->fd);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot list directory '%s'", d->path);
	DIR *dir = fdopendir(fd);
	if (!dir) {
		int e = errno;
		close(fd);
		return VG_ERRNO(e, "cannot list directory '%s'", d->path);
	}
	rewinddir(dir);
	size_t cap = 0;
	int err = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(dir);
		if (!de) {
			if (errno)
				err = VG_ERRNO(errno, "cannot list directory '%s'", d->path);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (l->n == cap) {
			if (cap >= VG_FS_DIR_MAX_ENTRIES) {
				err = VG_ERR(VG_EINVAL, "directory '%s' has more than %u entries", d->path,
					     VG_FS_DIR_MAX_ENTRIES);
				break;
			}
			cap = cap ? cap * 2 : 64;
			struct vg_fs_dirent *ne = realloc(l->e, cap * sizeof *ne);
			if (!ne) {
				err = VG_ERR(VG_ENOMEM, "out of memory listing '%s'", d->path);
				break;
			}
			l->e = ne;
		}
		struct vg_fs_dirent *e = &l->e[l->n];
		memset(e, 0, sizeof *e);
		e->len = strlen(de->d_name);
		e->name = strdup(de->d_name);
		if (!e->name) {
			err = VG_ERR(VG_ENOMEM, "out of memory listing '%s'", d->path);
			break;
		}
		l->n++;
	}
	closedir(dir);
	return err;
}

int vg_fs_dir_list(struct vg_fs_dir *d, struct vg_fs_list *out)
{
	memset(out, 0, sizeof *out);
	int err = list_names(d, out);
	if (err)
		return err;
	if (out->n)
		qsort(out->e, out->n, sizeof *out->e, cmp_dirent);
	for (size_t i = 0; i < out->n; i++) {
		struct stat s;
		if (fstatat(d->fd, out->e[i].name, &s, AT_SYMLINK_NOFOLLOW) < 0)
			out->e[i].err = vg_err_from_errno(errno);
		else
			from_stat(&s, &out->e[i].st);
	}
	return 0;
}

void vg_fs_list_release(struct vg_fs_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	l->e = NULL;
	l->n = 0;
}

int vg_fs_statat(struct vg_fs_dir *d, const char *name, struct vg_fs_stat *st)
{
	struct stat s;
	char b[SUBPATH_MAX];
	if (fstatat(d->fd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return VG_ERRNO(errno, "cannot stat '%s'", subpath(d, name, b));
	from_stat(&s, st);
	return 0;
}

int vg_fs_readlinkat(struct vg_fs_dir *d, const char *name, struct vg_buf *out)
{
	char b[SUBPATH_MAX];
	char tgt[VG_FS_LINK_MAX + 1];
	ssize_t n = readlinkat(d->fd, name, tgt, sizeof tgt);
	if (n < 0)
		return VG_ERRNO(errno, "cannot read symlink '%s'", subpath(d, name, b));
	if ((size_t)n > VG_FS_LINK_MAX)
		return VG_ERR(VG_EINVAL, "symlink '%s' has a target longer than %d bytes",
			      subpath(d, name, b), VG_FS_LINK_MAX);
	vg_buf_reset(out);
	int err = vg_buf_add(out, tgt, (size_t)n);
	return err ? err : vg_buf_cstr(out);
}

int vg_fs_file_openat(struct vg_fs_dir *d, const char *name, struct vg_fs_file **out)
{
	char b[SUBPATH_MAX];
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	/* O_NOATIME spares the source an atime write per file; only the
	 * owner (or root) may ask for it. */
	int fd = openat(d->fd, name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(d->fd, name, flags);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot open '%s'", subpath(d, name, b));
	/* O_NONBLOCK only kept a fifo swapped in under us from hanging open;
	 * on a regular file it changes nothing, so it stays (two system calls
	 * fewer per file). */
	struct stat s;
	if (fstat(fd, &s) < 0 || !S_ISREG(s.st_mode)) {
		close(fd);
		return VG_ERR(VG_EINVAL, "'%s' is no longer a regular file", subpath(d, name, b));
	}
	if (s.st_size >= (1 << 20))
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	int err = new_file(fd, vg_path_join(d->path, name), out);
	if (!err)
		from_stat(&s, &(*out)->opened);
	return err;
}

void vg_fs_file_opened_stat(const struct vg_fs_file *f, struct vg_fs_stat *st) { *st = f->opened; }

int vg_fs_file_read_sized(struct vg_fs_file *f, void *buf, size_t len, uint64_t left, size_t *got)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(f->fd, (char *)buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return VG_ERRNO(errno, "read error on '%s'", f->path);
		}
		if (n == 0)
			break;
		done += (size_t)n;
		if (done == left) /* short of len: where the size said the end is */
			break;
	}
	*got = done;
	return 0;
}

int vg_fs_file_read(struct vg_fs_file *f, void *buf, size_t len, size_t *got)
{
	return vg_fs_file_read_sized(f, buf, len, UINT64_MAX, got);
}

int vg_fs_file_stat(struct vg_fs_file *f, struct vg_fs_stat *st)
{
	struct stat s;
	if (fstat(f->fd, &s) < 0)
		return VG_ERRNO(errno, "cannot stat '%s'", f->path);
	from_stat(&s, st);
	return 0;
}

int vg_fs_file_close(struct vg_fs_file *f)
{
	if (!f)
		return 0;
	int err = 0;
	if (close(f->fd) < 0 && errno != EINTR)
		err = VG_ERRNO(errno, "cannot close '%s'", f->path);
	free(f->path);
	free(f);
	return err;
}

const char *vg_fs_file_path(const struct vg_fs_file *f) { return f->path; }

/* --- restore side --- */

int vg_fs_target_open(const char *path, struct vg_fs_dir **out)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return VG_ERRNO(errno, "cannot create restore target '%s' (its parent must exist)", path);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot open restore target '%s'", path);
	return new_dir(fd, strdup(path), out);
}

/* Something that is not a directory stands where we want to create `name`:
 * remove it (unlinkat never follows a symlink).  A directory is refused. */
static int clear_way(struct vg_fs_dir *d, const char *name)
{
	char b[SUBPATH_MAX];
	struct stat s;
	if (fstatat(d->fd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return VG_ERRNO(errno, "cannot stat '%s'", subpath(d, name, b));
	if (S_ISDIR(s.st_mode))
		return VG_ERR(VG_EEXIST, "'%s' already exists as a directory; remove it or restore elsewhere",
			      subpath(d, name, b));
	if (unlinkat(d->fd, name, 0) < 0)
		return VG_ERRNO(errno, "cannot replace '%s'", subpath(d, name, b));
	return 0;
}

int vg_fs_mkdirat(struct vg_fs_dir *d, const char *name, struct vg_fs_dir **out)
{
	char b[SUBPATH_MAX];
	int err = check_name(d, name);
	if (err)
		return err;
	if (mkdirat(d->fd, name, 0700) < 0) {
		if (errno != EEXIST)
			return VG_ERRNO(errno, "cannot create directory '%s'", subpath(d, name, b));
		struct stat s;
		if (fstatat(d->fd, name, &s, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(s.st_mode)) {
			if ((err = clear_way(d, name)) < 0)
				return err;
			if (mkdirat(d->fd, name, 0700) < 0)
				return VG_ERRNO(errno, "cannot create directory '%s'", subpath(d, name, b));
		}
	}
	int fd = openat(d->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return VG_ERR(VG_EUNSAFE, "'%s' is not a directory; refusing to restore through it",
				      subpath(d, name, b));
		return VG_ERRNO(errno, "cannot open directory '%s'", subpath(d, name, b));
	}
	/* A directory we reuse must stay writable for us while we fill it. */
	struct stat s;
	if (fstat(fd, &s) == 0 && (s.st_mode & 0700) != 0700)
		fchmod(fd, (s.st_mode & 07777) | 0700);
	return new_dir(fd, vg_path_join(d->path, name), out);
}

int vg_fs_createat(struct vg_fs_dir *d, const char *name, struct vg_fs_file **out)
{
	char b[SUBPATH_MAX];
	int err = check_name(d, name);
	if (err)
		return err;
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	int fd = openat(d->fd, name, flags, 0600);
	if (fd < 0 && errno == EEXIST) {
		if ((err = clear_way(d, name)) < 0)
			return err;
		fd = openat(d->fd, name, flags, 0600);
	}
	if (fd < 0)
		return VG_ERRNO(errno, "cannot create '%s'", subpath(d, name, b));
	return new_file(fd, vg_path_join(d->path, name), out);
}

int vg_fs_file_write(struct vg_fs_file *f, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(f->fd, (const char *)buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return VG_ERRNO(errno, "write error on '%s'", f->path);
		}
		done += (size_t)n;
	}
	return 0;
}

int vg_fs_symlinkat(struct vg_fs_dir *d, const char *name, const char *target)
{
	char b[SUBPATH_MAX];
	int err = check_name(d, name);
	if (err)
		return err;
	int r = symlinkat(target, d->fd, name);
	if (r < 0 && errno == EEXIST) {
		if ((err = clear_way(d, name)) < 0)
			return err;
		r = symlinkat(target, d->fd, name);
	}
	if (r < 0)
		return VG_ERRNO(errno, "cannot create symlink '%s'", subpath(d, name, b));
	return 0;
}

int vg_fs_mknodat(struct vg_fs_dir *d, const char *name, const struct vg_fs_stat *st)
{
	char b[SUBPATH_MAX];
	int err = check_name(d, name);
	if (err)
		return err;
	mode_t m = st->type == VG_FT_FIFO ? S_IFIFO : st->type == VG_FT_CHR ? S_IFCHR
			: st->type == VG_FT_BLK ? S_IFBLK : 0;
	if (!m)
		return VG_ERR(VG_EINVAL, "cannot create '%s': unsupported file type %d",
			      subpath(d, name, b), st->type);
	dev_t dev = m == S_IFIFO ? 0 : (dev_t)st->rdev;
	int r = mknodat(d->fd, name, m | 0600, dev);
	if (r < 0 && errno == EEXIST) {
		if ((err = clear_way(d, name)) < 0)
			return err;
		r = mknodat(d->fd, name, m | 0600, dev);
	}
	if (r < 0)
		return VG_ERRNO(errno, "cannot create '%s'", subpath(d, name, b));
	return 0;
}

int vg_fs_unlinkat(struct vg_fs_dir *d, const char *name)
{
	char b[SUBPATH_MAX];
	int err = check_name(d, name);
	if (err)
		return err;
	if (unlinkat(d->fd, name, 0) < 0)
		return VG_ERRNO(errno, "cannot remove '%s'", subpath(d, name, b));
	return 0;
}

/* chown before chmod: chown clears set-id bits. */
static int set_meta_fd(int fd, const char *path, const struct vg_fs_stat *st, bool owner)
{
	if (owner && fchown(fd, st->uid, st->gid) < 0)
		return VG_ERRNO(errno, "cannot set owner of '%s'", path);
	if (fchmod(fd, st->mode & 07777) < 0)
		return VG_ERRNO(errno, "cannot set mode of '%s'", path);
	struct timespec t[2] = {ns_ts(st->atime_ns), ns_ts(st->mtime_ns)};
	if (futimens(fd, t) < 0)
		return VG_ERRNO(errno, "cannot set times of '%s'", path);
	return 0;
}

int vg_fs_file_set_meta(struct vg_fs_file *f, const struct vg_fs_stat *st, bool owner)
{
	return set_meta_fd(f->fd, f->path, st, owner);
}

int vg_fs_dir_set_meta(struct vg_fs_dir *d, const struct vg_fs_stat *st, bool owner)
{
	return set_meta_fd(d->fd, d->path, st, owner);
}

int vg_fs_set_meta_at(struct vg_fs_dir *d, const char *name, const struct vg_fs_stat *st, bool owner)
{
	char b[SUBPATH_MAX];
	int err = check_name(d, name);
	if (err)
		return err;
	struct stat s;
	if (fstatat(d->fd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return VG_ERRNO(errno, "cannot stat '%s'", subpath(d, name, b));
	if (owner && fchownat(d->fd, name, st->uid, st->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return VG_ERRNO(errno, "cannot set owner of '%s'", subpath(d, name, b));
	/* Linux symlinks have no mode; anything else here is a node we just
	 * made (checked not to be a symlink), so following is harmless. */
	if (!S_ISLNK(s.st_mode) && fchmodat(d->fd, name, st->mode & 07777, 0) < 0)
		return VG_ERRNO(errno, "cannot set mode of '%s'", subpath(d, name, b));
	struct timespec t[2] = {ns_ts(st->atime_ns), ns_ts(st->mtime_ns)};
	if (utimensat(d->fd, name, t, AT_SYMLINK_NOFOLLOW) < 0)
		return VG_ERRNO(errno, "cannot set times of '%s'", subpath(d, name, b));
	return 0;
}

int vg_fs_pread_path(const char *path, uint64_t off, void *buf, size_t len, size_t *got)
{
	*got = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot re-read '%s'", path);
	int err = 0;
	while (*got < len) {
		ssize_t n = pread(fd, (char *)buf + *got, len - *got, (off_t)(off + *got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = VG_ERRNO(errno, "cannot re-read '%s'", path);
			break;
		}
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	close(fd);
	return err;
}

int vg_fs_read_small(const char *path, size_t max, char **out, size_t *len, unsigned *mode)
{
	*out = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot open '%s'", path);
	struct stat st;
	char *buf = NULL;
	int err = 0;
	if (fstat(fd, &st) < 0) {
		err = VG_ERRNO(errno, "cannot stat '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = VG_ERR(VG_EINVAL, "'%s' is not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		err = VG_ERR(VG_ECORRUPT, "'%s' is larger than %zu bytes", path, max);
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		err = VG_ERR(VG_ENOMEM, "out of memory reading '%s'", path);
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? VG_ERRNO(errno, "cannot read '%s'", path)
				    : VG_ERR(VG_EIO, "'%s' shrank while being read", path);
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = 0;
	if (mode)
		*mode = (unsigned)(st.st_mode & 07777);
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}
