/*
 * fs.h - the source tree being backed up and the restore target.
 *
 * Everything vigil does to user files goes through here (vault devices go
 * through os.h).  Two halves:
 *
 * Source side: directories are walked through file descriptors, one entry
 * at a time with fstatat(AT_SYMLINK_NOFOLLOW) and openat(O_NOFOLLOW), so a
 * symlink is recorded as a symlink and never followed; a directory's
 * entries come back sorted by name bytes, so two runs over the same tree
 * produce the same objects.
 *
 * Restore side: every file, directory and symlink is created relative to
 * an open directory fd with a single validated name component (no '/', not
 * "." or "..", not empty, no NUL; vg_fs_name_ok()).  Directories are opened
 * with O_NOFOLLOW|O_DIRECTORY and files created with O_CREAT|O_EXCL|
 * O_NOFOLLOW, so nothing - not even a symlink the same restore created a
 * moment ago - can redirect a write outside the target.  An existing
 * non-directory in the way is unlinked (never written through), an existing
 * real directory is reused.  Modes and times are applied last (a directory
 * after its children), so a read-only directory can still be filled.
 *
 * Handles own their fd and a path string used only for messages.  Every
 * function returns 0 or a negative VG_E* code with a message naming the
 * path.  There is no fault twin: the crash tests concern the vault.
 */
#ifndef VG_OS_FS_H
#define VG_OS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Entry types; the numbers are stored in trees (docs/FORMAT.md). */
enum vg_ftype {
	VG_FT_NONE = 0,
	VG_FT_FILE = 1,
	VG_FT_DIR = 2,
	VG_FT_SYMLINK = 3,
	VG_FT_HARDLINK = 4, /* reserved: a second name of a file in the same snapshot */
	VG_FT_FIFO = 5,
	VG_FT_CHR = 6,
	VG_FT_BLK = 7,
	VG_FT_SOCK = 8,
};

#define VG_FS_NAME_MAX 4096 /* longest name component accepted anywhere */
#define VG_FS_LINK_MAX 4096 /* longest symlink target */

struct vg_fs_stat {
	int type;      /* enum vg_ftype */
	uint32_t mode; /* permission bits only (07777) */
	uint32_t uid, gid;
	uint64_t size, ino, dev, rdev, nlink;
	uint64_t blocks; /* 512-byte blocks allocated (not stored: spots sparse files) */
	int64_t atime_ns, mtime_ns, ctime_ns; /* since the epoch */
};

struct vg_fs_dir;
struct vg_fs_file;

struct vg_fs_dirent {
	char *name; /* NUL-terminated, points into the list's storage */
	size_t len;
	struct vg_fs_stat st;
	int err; /* 0, or the error fstatat gave (st is then zero) */
};

struct vg_fs_list {
	struct vg_fs_dirent *e;
	size_t n;
};

#define VG_FS_DIR_MAX_ENTRIES (1u << 24) /* a larger directory is refused */

/* True for a name that is a single, harmless path component. */
bool vg_fs_name_ok(const char *name, size_t len);

/* --- source side --- */

/* lstat a path given by the user (not followed if it is a symlink). */
int vg_fs_lstat(const char *path, struct vg_fs_stat *st);
/* Open a directory named by the user (symlinks in it are followed). */
int vg_fs_dir_open(const char *path, struct vg_fs_dir **out);
/* Open child directory `name`; a symlink there is refused (ELOOP). */
int vg_fs_dir_openat(struct vg_fs_dir *d, const char *name, struct vg_fs_dir **out);
void vg_fs_dir_close(struct vg_fs_dir *d);
const char *vg_fs_dir_path(const struct vg_fs_dir *d);
/* All entries of d with their lstat data, sorted by name bytes.  Release
 * with vg_fs_list_release() (also after an error). */
int vg_fs_dir_list(struct vg_fs_dir *d, struct vg_fs_list *out);
void vg_fs_list_release(struct vg_fs_list *l);
int vg_fs_statat(struct vg_fs_dir *d, const char *name, struct vg_fs_stat *st);
/* Symlink target (at most VG_FS_LINK_MAX bytes) into out, NUL-terminated. */
int vg_fs_readlinkat(struct vg_fs_dir *d, const char *name, struct vg_buf *out);
/* Open a regular file for reading (O_NOFOLLOW, O_NOATIME where allowed). */
int vg_fs_file_openat(struct vg_fs_dir *d, const char *name, struct vg_fs_file **out);
/* Read up to len bytes; *got < len only at end of file. */
int vg_fs_file_read(struct vg_fs_file *f, void *buf, size_t len, size_t *got);
/* The same, but a short read that ends exactly `left` bytes in (what the
 * file's size said was left) is taken as the end of the file without a
 * read(2) returning 0 to confirm it.  For callers that stat the file
 * after reading it: a file that grew meanwhile is caught there. */
int vg_fs_file_read_sized(struct vg_fs_file *f, void *buf, size_t len, uint64_t left, size_t *got);
int vg_fs_file_stat(struct vg_fs_file *f, struct vg_fs_stat *st);
/* The stat taken when the file was opened for reading (no system call). */
void vg_fs_file_opened_stat(const struct vg_fs_file *f, struct vg_fs_stat *st);
/* Close; for a written file, reports a failed close (NULL is a no-op). */
int vg_fs_file_close(struct vg_fs_file *f);
const char *vg_fs_file_path(const struct vg_fs_file *f);
/* Read a whole regular file of at most max bytes (state and config files)
 * into a malloc'd, NUL-terminated *out.  VG_ENOENT if it does not exist,
 * VG_EINVAL if it is not a regular file, VG_ECORRUPT if larger than max,
 * VG_EIO if it shrank while read; every message names the path.  *mode
 * (optional) gets its permission bits. */
int vg_fs_read_small(const char *path, size_t max, char **out, size_t *len, unsigned *mode);
/* Read len bytes at off of the file at path (opened for this call, never
 * following a symlink): a verifier's second look at a page that may have
 * been torn by a concurrent writer.  *got < len at end of file. */
int vg_fs_pread_path(const char *path, uint64_t off, void *buf, size_t len, size_t *got);

/* --- extended metadata: xattrs (POSIX ACLs are the system.posix_acl_*
 * ones), holes, owner names --- */

#define VG_FS_XATTR_LIST_MAX (4u << 20) /* all of one entry's xattrs, encoded */
#define VG_FS_MAX_EXTENTS 65536         /* more data extents: the file is read whole */

/* An entry's xattrs in the list encoding the trees store: varint n, then
 * n x (varint name length, name, varint value length, value), sorted by
 * name bytes.  out is left empty when there are none (or the file system
 * has none). */
int vg_fs_file_xattrs(struct vg_fs_file *f, struct vg_buf *out);
int vg_fs_dir_xattrs(struct vg_fs_dir *d, struct vg_buf *out);
/* Those of entry `name` of d that is not opened: a symlink (not
 * followed) or a special file.  Linux allows no user.* xattrs there, but
 * security.* (SELinux labels) and trusted.* ones live on them. */
int vg_fs_xattrs_at(struct vg_fs_dir *d, const char *name, struct vg_buf *out);
/* Check an xattr list (VG_ECORRUPT naming the problem). */
int vg_fs_xattrs_check(const uint8_t *list, size_t len);
/* Apply a list; the first failure is returned (the others still tried). */
int vg_fs_file_set_xattrs(struct vg_fs_file *f, const uint8_t *list, size_t len);
int vg_fs_dir_set_xattrs(struct vg_fs_dir *d, const uint8_t *list, size_t len);
int vg_fs_set_xattrs_at(struct vg_fs_dir *d, const char *name, const uint8_t *list, size_t len);

/* Data extents (SEEK_DATA/SEEK_HOLE) of a file of `size` bytes, as
 * offset/length pairs in *ext (malloc'd, 2 x *n values; non-NULL with
 * *n = 0 for a file that is all hole).  *ext NULL when the file has no
 * hole or too many extents: read it whole. */
int vg_fs_file_extents(struct vg_fs_file *f, uint64_t size, uint64_t **ext, size_t *n);
/* Position the next read or write at off. */
int vg_fs_file_seek(struct vg_fs_file *f, uint64_t off);
/* Set a written file's size (holes at its end stay holes). */
int vg_fs_file_truncate(struct vg_fs_file *f, uint64_t size);

/* User and group names of ids (cached; NULL when the id has none). */
const char *vg_fs_user_name(uint32_t uid);
const char *vg_fs_group_name(uint32_t gid);
/* The id of a name on this system; false when there is none. */
bool vg_fs_user_id(const char *name, uint32_t *uid);
bool vg_fs_group_id(const char *name, uint32_t *gid);

/* --- restore side --- */

/* Open the restore target, creating it (0700 until its metadata is set)
 * when missing; its parent must exist. */
int vg_fs_target_open(const char *path, struct vg_fs_dir **out);
/* Create child directory `name` (or reuse a real directory of that name)
 * and open it. */
int vg_fs_mkdirat(struct vg_fs_dir *d, const char *name, struct vg_fs_dir **out);
/* Create a new regular file for writing, mode 0600 until its metadata is set. */
int vg_fs_createat(struct vg_fs_dir *d, const char *name, struct vg_fs_file **out);
int vg_fs_file_write(struct vg_fs_file *f, const void *buf, size_t len);
int vg_fs_symlinkat(struct vg_fs_dir *d, const char *name, const char *target);
/* A fifo, or a device node (root only). */
int vg_fs_mknodat(struct vg_fs_dir *d, const char *name, const struct vg_fs_stat *st);
int vg_fs_unlinkat(struct vg_fs_dir *d, const char *name);
/* Make d/name a hardlink to `rel`, a path below root (resolved with
 * openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, so the link can only
 * name a file inside root). */
int vg_fs_link_beneath(struct vg_fs_dir *root, const char *rel, struct vg_fs_dir *d, const char *name);
/* Apply mode, times and (when `owner`) uid/gid.  For a symlink the mode is
 * left alone (Linux has none) and nothing is followed. */
int vg_fs_file_set_meta(struct vg_fs_file *f, const struct vg_fs_stat *st, bool owner);
int vg_fs_dir_set_meta(struct vg_fs_dir *d, const struct vg_fs_stat *st, bool owner);
int vg_fs_set_meta_at(struct vg_fs_dir *d, const char *name, const struct vg_fs_stat *st, bool owner);

#endif
