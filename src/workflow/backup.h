/*
 * backup.h - back up paths into a new snapshot.
 *
 * The run walks each path (never following symlinks), chunks and stores
 * file content, stores one tree per directory, then writes the snapshot
 * and commits the repository ONCE at the end: an interrupted run commits
 * nothing.  A file or directory that cannot be read is left out, named in
 * the snapshot's reasons, and the snapshot is marked incomplete; the run
 * goes on.  A file that changed while being read is kept as read, named,
 * and the snapshot marked suspect.  A file that vanished is a warning.
 *
 * Incremental: the parent is the newest snapshot of the same host and
 * paths.  A file whose size, mtime, ctime and inode equal the parent's
 * entry reuses its chunk list (and xattrs: they change the ctime) without
 * being opened.  verify_pct re-reads a rolling window of those files
 * (the window moves by verify_pct per snapshot, so each is re-read every
 * 100/verify_pct backups): content that differs while size, mtime and
 * ctime do not is probable silent corruption - reported, the parent's
 * (last good) content kept, the snapshot marked suspect.
 *
 * Metadata: mode, owner ids and names, ns times, xattrs and POSIX ACLs
 * (files and directories), symlinks, hardlinks (a link set number per
 * file), sparse files (data extents), fifos, devices, sockets.
 *
 * Each source path appears at the top of the snapshot under its last
 * component ("/home/ann" -> "ann"; a clash gets "-2", "-3" ... in path
 * order; "/" alone makes the snapshot root the root directory itself).
 */
#ifndef VG_WORKFLOW_BACKUP_H
#define VG_WORKFLOW_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repo/repo.h"

struct vg_backup_progress {
	uint64_t files, dirs, bytes, new_bytes;
	const char *current; /* path being read */
};

/* Watches the content of regular files as the backup reads them, so a
 * verifier (PostgreSQL page checksums) needs no second read.  begin
 * returns a per-file state, or NULL when not interested in the file;
 * data sees consecutive bytes from offset 0 before they are stored (it may
 * mend them in place); end returns the verdict it gives the file
 * (VG_VERDICT_OK, or SUSPECT with a one-line reason) and frees the state.
 * Called from the thread that reads files. */
/* A regular file the watcher adds to a directory (its content in memory). */
struct vg_backup_extra {
	const char *name;
	const uint8_t *data;
	size_t len;
	uint32_t mode, uid, gid; /* permission bits, owner */
	int64_t mtime_ns;
};

/* The optional hooks (NULL: none) let a watcher shape a directory as a
 * consistent copy needs it (a PostgreSQL base backup):
 * skip: leave the entry `name` of directory `dir` out, silently;
 * expected: a file of `path` changing or vanishing while the backup reads
 *   it is expected (the watcher counts it), not a problem;
 * extra: called once every entry of directory `dir` is stored and before
 *   its tree is: regular files to add (the array and data stay the
 *   watcher's, valid until the next call); a name already listed is
 *   replaced.  Returns a verdict like end: OK with a reason records it as
 *   a note (not a problem), SUSPECT a problem.  A negative return fails
 *   the run. */
struct vg_backup_watch {
	void *(*begin)(void *ctx, const char *path, uint64_t size);
	void (*data)(void *ctx, void *file, uint8_t *buf, size_t len);
	int (*end)(void *ctx, void *file, bool read_failed, char *reason, size_t len);
	bool (*skip)(void *ctx, const char *dir, const char *name);
	bool (*expected)(void *ctx, const char *path);
	int (*extra)(void *ctx, const char *dir, const struct vg_backup_extra **files, size_t *n, char *reason,
		     size_t len);
	void *ctx;
};

struct vg_backup_opts {
	const char *const *paths;
	size_t npaths;
	const char *host; /* NULL: this machine's name */
	const char *const *tags;
	size_t ntags;
	/* Entries to leave out: fnmatch(3) patterns matched against the
	 * entry's name, or against its full path when the pattern has a '/'. */
	const char *const *excludes;
	size_t nexcludes;
	bool one_fs;     /* do not descend into other file systems (mount points kept, empty) */
	bool no_parent;  /* read every file (no incremental reuse) */
	int verify_pct;  /* 0..100: share of unchanged files re-read to catch bit rot */
	void (*progress)(void *ctx, const struct vg_backup_progress *p);
	void *ctx;
	/* Known before the run (the source health gate): the snapshot starts
	 * with this verdict and these reasons; the run can only make it worse. */
	int verdict;
	const char *const *reasons;
	size_t nreasons;
	const struct vg_backup_watch *watch; /* NULL: none */
};

struct vg_backup_result {
	struct vg_id id;          /* the new snapshot */
	struct vg_snapshot snap;  /* what it recorded (verdict, reasons, stats) */
	size_t nproblems;         /* every problem and warning, also those beyond the kept reasons */
	bool has_parent;          /* the previous snapshot of the same host and paths */
	struct vg_id parent;
	uint64_t reused;          /* files unchanged since the parent, not read */
	uint64_t verified;        /* unchanged files re-read (--verify-unchanged) */
	uint64_t rotten;          /* of those: content differs, metadata does not */
	char **rotten_paths;      /* the first VG_BACKUP_ROT_LIST of them */
	size_t nrotten_paths;
};

#define VG_BACKUP_ROT_LIST 100
/* A snapshot reason starting with this is a fact kept with it (a
 * PostgreSQL base backup's start and stop LSN), not a problem. */
#define VG_BACKUP_NOTE "note: "

/* 0 when a snapshot was committed (check res->snap.verdict); otherwise
 * nothing was committed.  VG_ENOENT if a path does not exist. */
int vg_backup_run(struct vg_repo *r, const struct vg_backup_opts *o, struct vg_backup_result *res);
void vg_backup_result_release(struct vg_backup_result *res);

/* Make a user-given path absolute without following its last component;
 * malloc'd into *out. */
int vg_backup_abspath(const char *path, char **out);
/* The top-level names for absolute source paths (see above); names[i] is
 * malloc'd, "" for "/".  VG_EINVAL for overlapping or repeated paths. */
int vg_backup_top_names(char *const *paths, size_t n, char **names);

#endif
