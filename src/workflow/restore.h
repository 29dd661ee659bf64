/*
 * restore.h - write a snapshot (or a part of it) back into a directory.
 *
 * Regular files, directories, symlinks and fifos are recreated with their
 * mode and times (nanoseconds), xattrs and POSIX ACLs (files and
 * directories); owners too when running as root (by name when the name
 * exists here, else by number, as tar does); device nodes only as root.
 * A hardlink set becomes hardlinks again (within what is restored);
 * sparse files get their holes back.  Everything is created through os/fs.h relative to
 * the target, so nothing can be written outside it.
 *
 * A file whose content cannot be read back intact (every copy and parity
 * failed its checksum) is not left behind half-written: it is removed,
 * named in res->errors, and the restore goes on with the others.  A
 * directory whose tree cannot be read is named the same way.
 *
 * SNAPSHOT:PATH selects a part: PATH is relative to the snapshot's top
 * (as `vigil ls` would show it) or an absolute source path.  A directory's
 * contents are restored into TARGET; a file or symlink as TARGET/NAME.
 */
#ifndef VG_WORKFLOW_RESTORE_H
#define VG_WORKFLOW_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repo/repo.h"

#define VG_RESTORE_MAX_ERRORS 1000

struct vg_restore_progress {
	uint64_t files, dirs, bytes;
	const char *current;
};

struct vg_restore_opts {
	const char *target;
	const char *subpath; /* NULL or "": the whole snapshot */
	bool verify;         /* read every restored file back and check it against the chunk ids */
	int threads;         /* reading chunks ahead (decrypt, decompress, check); 0: none */
	void (*progress)(void *ctx, const struct vg_restore_progress *p);
	void *ctx;
};

struct vg_restore_result {
	uint64_t files, dirs, links, others, skipped, bytes;
	uint64_t hardlinks; /* files restored as a link to an earlier name */
	uint64_t verified;  /* files read back and found identical (verify) */
	char **errors; /* "path: what went wrong", at most VG_RESTORE_MAX_ERRORS */
	size_t nerrors;
	uint64_t errors_dropped;
};

/* 0 when the walk completed (check res->nerrors: files that could not be
 * restored); negative when it could not start or the target failed. */
int vg_restore_run(struct vg_repo *r, const struct vg_id *snap, const struct vg_restore_opts *o,
		   struct vg_restore_result *res);
void vg_restore_result_release(struct vg_restore_result *res);

#endif
