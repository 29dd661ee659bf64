/*
 * proc.h - run an external tool with a timeout and bounded output.
 *
 * Used by the health probes (zpool, btrfs, smartctl, mdadm), alert channels
 * (exec, sendmail) and PostgreSQL helpers.  No shell is involved: argv is
 * executed directly (execvp, so PATH applies - tests put fake tools first
 * on PATH).  stdout and stderr are captured separately, each up to its cap
 * (the rest is read and dropped, and *_truncated is set), so a chatty or
 * hostile tool cannot exhaust memory.  A tool still running at the timeout
 * gets SIGTERM, then SIGKILL one second later, and the result says so.
 */
#ifndef VG_OS_PROC_H
#define VG_OS_PROC_H

#include <stdbool.h>
#include <stddef.h>

struct vg_proc_opts {
	const char *const *argv;  /* argv[0] is the program, NULL-terminated */
	const char *const *env;   /* extra "K=V" entries added to the environment, or NULL */
	const void *stdin_data;   /* written to the child's stdin, or NULL (stdin is /dev/null) */
	size_t stdin_len;
	int timeout_ms;           /* <= 0: 30000 */
	size_t max_out;           /* cap per stream; 0: 4 MiB */
};

struct vg_proc_result {
	int status;        /* exit status 0..255, or 128+signal, -1 if it could not run */
	bool timed_out;
	bool not_found;    /* the program does not exist (exec failed with ENOENT) */
	char *out;         /* NUL-terminated captured stdout (malloc'd, never NULL after success) */
	size_t out_len;
	char *err;         /* NUL-terminated captured stderr */
	size_t err_len;
	bool out_truncated, err_truncated;
};

/* Runs the command.  Returns 0 when the tool ran (whatever its exit status;
 * check res->status / timed_out), VG_ENOENT if it does not exist (message
 * names it), VG_ENOMEM/VG_EIO on local failure.  res is always safe to pass
 * to vg_proc_result_release() afterwards. */
int vg_proc_run(const struct vg_proc_opts *opts, struct vg_proc_result *res);
void vg_proc_result_release(struct vg_proc_result *res);

#endif
