/*
 * fs_meta.c - the metadata beyond stat(2): xattrs (and with them POSIX
 * ACLs), sparse files' data extents, owner names, confined hardlinks.
 *
 * xattrs of files and directories are read and written through the
 * entry's own fd, so nothing is followed.  Symlinks and special files
 * cannot be opened for that (opening a device has effects), so theirs go
 * through the l*xattr calls on /proc/self/fd/DIRFD/NAME: relative to the
 * open directory, the last component not followed.  A file system
 * without xattr support (ENOTSUP) simply has none.  Names are sorted so two runs over the same tree encode the same
 * bytes (equal trees dedup).
 */
#include "os/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/err.h"
#include "os/fs_int.h"

#define NAMES_MAX (1u << 20)
#define VALUE_MAX (64u << 10) /* XATTR_SIZE_MAX */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Where xattrs are read or written: an open fd, or (lpath set) a path
 * whose last component is not followed.  path names it in messages. */
struct xtarget {
	int fd;
	const char *lpath, *path;
};

static ssize_t x_list(const struct xtarget *t, char *buf, size_t len)
{
	return t->lpath ? llistxattr(t->lpath, buf, len) : flistxattr(t->fd, buf, len);
}

static ssize_t x_get(const struct xtarget *t, const char *name, void *val, size_t len)
{
	return t->lpath ? lgetxattr(t->lpath, name, val, len) : fgetxattr(t->fd, name, val, len);
}

static int x_set(const struct xtarget *t, const char *name, const void *val, size_t len)
{
	return t->lpath ? lsetxattr(t->lpath, name, val, len, 0) : fsetxattr(t->fd, name, val, len, 0);
}

/* Names into a malloc'd buffer and a sorted array. */
static int list_names(const struct xtarget *t, char **buf, char ***names, size_t *n)
{
	const char *path = t->path;
	*buf = NULL;
	*names = NULL;
	*n = 0;
	ssize_t len = x_list(t, NULL, 0);
	if (len < 0 && (errno == ENOTSUP || errno == ENOSYS))
		return 0;
	if (len < 0)
		return VG_ERRNO(errno, "cannot list the xattrs of '%s'", path);
	if (len == 0)
		return 0;
	if ((size_t)len > NAMES_MAX || !(*buf = malloc((size_t)len + 1)))
		return VG_ERR(VG_ENOMEM, "xattr names of '%s' too large", path);
	if ((len = x_list(t, *buf, (size_t)len)) < 0)
		return VG_ERRNO(errno, "cannot list the xattrs of '%s'", path);
	(*buf)[len] = 0;
	size_t cnt = 0;
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(*buf + i) + 1)
		cnt++;
	if (!(*names = malloc(cnt * sizeof **names)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(*buf + i) + 1)
		if ((*buf)[i])
			(*names)[(*n)++] = *buf + i;
	qsort(*names, *n, sizeof **names, cmp_str);
	return 0;
}

static int get_xattrs(const struct xtarget *t, struct vg_buf *out)
{
	const char *path = t->path;
	char *buf, **names;
	size_t n;
	uint8_t *val = NULL;
	vg_buf_reset(out);
	int err = list_names(t, &buf, &names, &n);
	if (!err && n && !(val = malloc(VALUE_MAX)))
		err = VG_ERR(VG_ENOMEM, "out of memory");
	size_t kept = 0;
	struct vg_buf body;
	vg_buf_init(&body, VG_FS_XATTR_LIST_MAX);
	for (size_t i = 0; i < n && !err; i++) {
		ssize_t v = x_get(t, names[i], val, VALUE_MAX);
		if (v < 0 && errno == ENODATA) /* removed meanwhile */
			continue;
		if (v < 0) {
			err = VG_ERRNO(errno, "cannot read xattr '%s' of '%s'", names[i], path);
			break;
		}
		size_t nl = strlen(names[i]);
		if (!(err = vg_buf_addvar(&body, nl)) && !(err = vg_buf_add(&body, names[i], nl)) &&
		    !(err = vg_buf_addvar(&body, (uint64_t)v)))
			err = vg_buf_add(&body, val, (size_t)v);
		kept++;
	}
	if (!err && kept && !(err = vg_buf_addvar(out, kept)))
		err = vg_buf_add(out, body.p, body.len);
	if (err == VG_EINVAL)
		err = VG_ERR(VG_EINVAL, "the xattrs of '%s' exceed %u bytes", path, VG_FS_XATTR_LIST_MAX);
	vg_buf_release(&body);
	free(val);
	free(names);
	free(buf);
	return err;
}

int vg_fs_file_xattrs(struct vg_fs_file *f, struct vg_buf *out)
{
	struct xtarget t = {f->fd, NULL, f->path};
	return get_xattrs(&t, out);
}

int vg_fs_dir_xattrs(struct vg_fs_dir *d, struct vg_buf *out)
{
	struct xtarget t = {d->fd, NULL, d->path};
	return get_xattrs(&t, out);
}

/* The target of NAME in d, not followed: through /proc/self/fd when it
 * is there (no race with a renamed parent), else through d's path. */
static int at_target(struct vg_fs_dir *d, const char *name, char lpath[4200], char path[4200],
		     struct xtarget *t)
{
	static int have_proc = -1;
	if (have_proc < 0)
		have_proc = access("/proc/self/fd", X_OK) == 0;
	int n = snprintf(path, 4200, "%s/%s", d->path, name);
	int m = have_proc ? snprintf(lpath, 4200, "/proc/self/fd/%d/%s", d->fd, name) : n;
	if (n < 0 || n >= 4200 || m < 0 || m >= 4200)
		return VG_ERR(VG_EINVAL, "path too long: '%s/%s'", d->path, name);
	*t = (struct xtarget){-1, have_proc ? lpath : path, path};
	return 0;
}

int vg_fs_xattrs_at(struct vg_fs_dir *d, const char *name, struct vg_buf *out)
{
	char lpath[4200], path[4200];
	struct xtarget t;
	int err = at_target(d, name, lpath, path, &t);
	return err ? err : get_xattrs(&t, out);
}

/* Walk a list: fn(name (NUL-terminated copy), value, len) per item. */
static int each_xattr(const uint8_t *list, size_t len, int (*fn)(void *, const char *, const uint8_t *, size_t),
		      void *ctx)
{
	struct vg_rd r;
	char name[256];
	int err = 0, first = 0;
	if (len == 0)
		return 0;
	vg_rd_init(&r, list, len);
	uint64_t n = vg_rdvar(&r);
	if (r.bad || n == 0 || n > len)
		return VG_ERR(VG_ECORRUPT, "xattr list has a bad count");
	for (uint64_t i = 0; i < n; i++) {
		uint64_t nl = vg_rdvar(&r);
		const uint8_t *nm = nl && nl < sizeof name ? vg_rd_take(&r, nl) : NULL;
		uint64_t vl = vg_rdvar(&r);
		const uint8_t *v = vl <= VALUE_MAX ? vg_rd_take(&r, vl) : NULL;
		if (!nm || (!v && vl) || r.bad || memchr(nm, 0, nl))
			return VG_ERR(VG_ECORRUPT, "xattr list item %llu is invalid", (unsigned long long)i);
		memcpy(name, nm, nl);
		name[nl] = 0;
		if (fn && (err = fn(ctx, name, v, vl)) < 0 && !first)
			first = err;
	}
	if (vg_rd_left(&r))
		return VG_ERR(VG_ECORRUPT, "xattr list has trailing bytes");
	return first;
}

int vg_fs_xattrs_check(const uint8_t *list, size_t len) { return each_xattr(list, len, NULL, NULL); }

static int set_one(void *ctx, const char *name, const uint8_t *v, size_t len)
{
	const struct xtarget *t = ctx;
	if (x_set(t, name, v, len) < 0)
		return VG_ERRNO(errno, "cannot set xattr '%s' of '%s'", name, t->path);
	return 0;
}

int vg_fs_file_set_xattrs(struct vg_fs_file *f, const uint8_t *list, size_t len)
{
	struct xtarget t = {f->fd, NULL, f->path};
	return each_xattr(list, len, set_one, &t);
}

int vg_fs_dir_set_xattrs(struct vg_fs_dir *d, const uint8_t *list, size_t len)
{
	struct xtarget t = {d->fd, NULL, d->path};
	return each_xattr(list, len, set_one, &t);
}

int vg_fs_set_xattrs_at(struct vg_fs_dir *d, const char *name, const uint8_t *list, size_t len)
{
	char lpath[4200], path[4200];
	struct xtarget t;
	int err = at_target(d, name, lpath, path, &t);
	return err ? err : each_xattr(list, len, set_one, &t);
}

/* --- holes --- */

int vg_fs_file_extents(struct vg_fs_file *f, uint64_t size, uint64_t **ext, size_t *n)
{
	uint64_t *e = NULL;
	size_t cnt = 0, cap = 0;
	off_t pos = 0;
	*ext = NULL;
	*n = 0;
	while ((uint64_t)pos < size) {
		off_t data = lseek(f->fd, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO) /* only a hole from here on */
			break;
		if (data < 0) { /* no SEEK_DATA here: read it whole */
			free(e);
			return errno == EINVAL || errno == ENOTSUP ? 0 : VG_ERRNO(errno, "cannot seek in '%s'", f->path);
		}
		off_t hole = lseek(f->fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		if (cnt == cap) {
			if (cap >= VG_FS_MAX_EXTENTS) {
				free(e);
				return lseek(f->fd, 0, SEEK_SET) < 0 ? VG_ERRNO(errno, "cannot seek in '%s'", f->path) : 0;
			}
			cap = cap ? 2 * cap : 8;
			uint64_t *ne = realloc(e, 2 * cap * sizeof *ne);
			if (!ne) {
				free(e);
				return VG_ERR(VG_ENOMEM, "out of memory");
			}
			e = ne;
		}
		e[2 * cnt] = (uint64_t)data;
		e[2 * cnt + 1] = (uint64_t)(hole - data);
		cnt++;
		pos = hole;
	}
	if (lseek(f->fd, 0, SEEK_SET) < 0) {
		free(e);
		return VG_ERRNO(errno, "cannot seek in '%s'", f->path);
	}
	if (cnt == 1 && e[0] == 0 && e[1] == size) { /* no hole */
		free(e);
		e = NULL;
		cnt = 0;
	} else if (!e && !(e = malloc(2 * sizeof *e))) { /* all hole: sparse, no extent */
		return VG_ERR(VG_ENOMEM, "out of memory");
	}
	*ext = e;
	*n = cnt;
	return 0;
}

int vg_fs_file_seek(struct vg_fs_file *f, uint64_t off)
{
	if (lseek(f->fd, (off_t)off, SEEK_SET) < 0)
		return VG_ERRNO(errno, "cannot seek in '%s'", f->path);
	return 0;
}

int vg_fs_file_truncate(struct vg_fs_file *f, uint64_t size)
{
	if (ftruncate(f->fd, (off_t)size) < 0)
		return VG_ERRNO(errno, "cannot set the size of '%s'", f->path);
	return 0;
}

/* --- owner names ---
 * An append-only cache: returned names stay valid for the process's life
 * (entries holding them live until their directory is stored).  A tree
 * has few distinct owners; past NAME_CACHE_MAX of them, no more names. */

#define NAME_CACHE_MAX 4096
struct name_cache {
	uint32_t *id;
	char **name; /* "" when the id has no name */
	size_t n;
};
static struct name_cache users, groups;

static const char *cached(struct name_cache *c, uint32_t id, bool user)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->id[i] == id)
			return c->name[i][0] ? c->name[i] : NULL;
	if (c->n >= NAME_CACHE_MAX)
		return NULL;
	char buf[4096], *res = NULL;
	if (user) {
		struct passwd pw, *p = NULL;
		if (getpwuid_r(id, &pw, buf, sizeof buf, &p) == 0 && p)
			res = strdup(p->pw_name);
	} else {
		struct group gr, *g = NULL;
		if (getgrgid_r(id, &gr, buf, sizeof buf, &g) == 0 && g)
			res = strdup(g->gr_name);
	}
	uint32_t *ni = realloc(c->id, (c->n + 1) * sizeof *ni);
	if (ni)
		c->id = ni;
	char **nn = ni ? realloc(c->name, (c->n + 1) * sizeof *nn) : NULL;
	if (nn)
		c->name = nn;
	if (!res)
		res = strdup("");
	if (!ni || !nn || !res) {
		free(res);
		return NULL;
	}
	c->id[c->n] = id;
	c->name[c->n++] = res;
	return res[0] ? res : NULL;
}

const char *vg_fs_user_name(uint32_t uid) { return cached(&users, uid, true); }
const char *vg_fs_group_name(uint32_t gid) { return cached(&groups, gid, false); }

/* Name -> id lookups, cached the same way (a restore asks for the same few
 * names again and again; each uncached lookup reads /etc/passwd). */
struct id_cache {
	char **name;
	uint32_t *id;
	bool *found;
	size_t n;
};
static struct id_cache uids, gids;

static bool lookup_id(struct id_cache *c, const char *name, bool user, uint32_t *out)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->name[i], name)) {
			*out = c->id[i];
			return c->found[i];
		}
	char buf[4096];
	bool found = false;
	uint32_t id = 0;
	if (user) {
		struct passwd pw, *p = NULL;
		if (!getpwnam_r(name, &pw, buf, sizeof buf, &p) && p)
			found = true, id = p->pw_uid;
	} else {
		struct group gr, *g = NULL;
		if (!getgrnam_r(name, &gr, buf, sizeof buf, &g) && g)
			found = true, id = g->gr_gid;
	}
	char *copy = c->n < NAME_CACHE_MAX ? strdup(name) : NULL;
	char **nn = copy ? realloc(c->name, (c->n + 1) * sizeof *nn) : NULL;
	if (nn)
		c->name = nn;
	uint32_t *ni = nn ? realloc(c->id, (c->n + 1) * sizeof *ni) : NULL;
	if (ni)
		c->id = ni;
	bool *nf = ni ? realloc(c->found, (c->n + 1) * sizeof *nf) : NULL;
	if (nf) {
		c->found = nf;
		c->name[c->n] = copy;
		c->id[c->n] = id;
		c->found[c->n++] = found;
	} else {
		free(copy);
	}
	*out = id;
	return found;
}

bool vg_fs_user_id(const char *name, uint32_t *uid) { return lookup_id(&uids, name, true, uid); }
bool vg_fs_group_id(const char *name, uint32_t *gid) { return lookup_id(&gids, name, false, gid); }

/* --- hardlinks --- */

int vg_fs_link_beneath(struct vg_fs_dir *root, const char *rel, struct vg_fs_dir *d, const char *name)
{
	struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	char proc[64];
	int fd = (int)syscall(SYS_openat2, root->fd, rel, &how, sizeof how);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot find '%s' below '%s' to link to", rel, root->path);
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int r = linkat(AT_FDCWD, proc, d->fd, name, AT_SYMLINK_FOLLOW);
	if (r < 0 && errno == EEXIST && unlinkat(d->fd, name, 0) == 0)
		r = linkat(AT_FDCWD, proc, d->fd, name, AT_SYMLINK_FOLLOW);
	int e = errno;
	close(fd);
	if (r < 0)
		return VG_ERRNO(e, "cannot link '%s/%s' to '%s'", d->path, name, rel);
	return 0;
}
