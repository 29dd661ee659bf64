/*
 * coproc.h - a long-lived child process spoken to line by line.
 *
 * For tools that must stay connected while other work happens (a psql
 * session holding PostgreSQL in backup mode).  No shell: argv is executed
 * directly (execvp).  Reading a line waits at most a given time; a line is
 * capped (longer ones are an error, never a reallocation without bound);
 * the child's stderr is drained as it comes and its last VG_COPROC_ERR_MAX
 * bytes are kept for messages.  A dead child is an EOF, a silent one a
 * timeout: neither can hang the caller.  Closing ends the child: stdin is
 * closed, then SIGTERM, then SIGKILL, each after a short grace.
 *
 * Not thread-safe; one caller at a time.  SIGPIPE is blocked in the calling
 * thread while writing, so a dead child gives VG_EEXTERNAL, not a signal.
 */
#ifndef VG_OS_COPROC_H
#define VG_OS_COPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define VG_COPROC_ERR_MAX 4096

struct vg_coproc_opts {
	const char *const *argv; /* argv[0] is the program, NULL-terminated */
	const char *const *env;  /* extra "K=V" entries, or NULL */
	bool drop;               /* switch to uid/gid in the child before exec */
	uid_t uid;
	gid_t gid;
	size_t max_line;         /* longest line read; 0: 1 MiB */
};

struct vg_coproc;

/* Start the child.  VG_ENOENT when the program does not exist (message
 * names it), VG_EEXTERNAL when it cannot be started or the uid switch
 * fails. */
int vg_coproc_start(const struct vg_coproc_opts *o, struct vg_coproc **out);
/* Write s and a newline to the child's stdin.  VG_EEXTERNAL if it is gone. */
int vg_coproc_writeline(struct vg_coproc *c, const char *s);
/* Read one line (without its newline) into a buffer owned by c, valid
 * until the next call.  VG_ETIMEDOUT after timeout_ms; VG_EEXTERNAL when
 * the child closed its output (it exited: see vg_coproc_stderr) or the
 * line is longer than max_line. */
int vg_coproc_readline(struct vg_coproc *c, int timeout_ms, const char **line);
/* The child's stderr so far (its last bytes), NUL-terminated. */
const char *vg_coproc_stderr(struct vg_coproc *c);
/* End the child (see above) and free c; returns its exit status (0..255,
 * 128+signal), -1 if unknown.  NULL is a no-op returning -1. */
int vg_coproc_close(struct vg_coproc *c);

#endif
