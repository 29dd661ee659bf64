/*
 * proc.c - run an external tool with a timeout and bounded output (proc.h).
 *
 * fork + execvp with pipes for stdin/stdout/stderr, and a poll() loop that
 * feeds stdin and drains both outputs so neither side can deadlock on a
 * full pipe.  A CLOEXEC status pipe tells the parent whether exec worked.
 */
#include "os/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sink {
	char *p;
	size_t len, cap, max;
	bool truncated;
};

static int sink_add(struct sink *s, const char *d, size_t n)
{
	if (s->len + n > s->max) {
		s->truncated = true;
		n = s->max - s->len;
	}
	if (s->len + n + 1 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 4096;
		while (nc < s->len + n + 1)
			nc *= 2;
		char *np = realloc(s->p, nc);
		if (!np)
			return VG_ERR(VG_ENOMEM, "out of memory capturing tool output");
		s->p = np;
		s->cap = nc;
	}
	memcpy(s->p + s->len, d, n);
	s->len += n;
	s->p[s->len] = 0;
	return 0;
}

void vg_proc_result_release(struct vg_proc_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A child that exits without reading its stdin makes our write() raise
 * SIGPIPE, which would kill the whole process: block it in this thread
 * around the exchange (write() then fails with EPIPE, handled below) and
 * discard a pending one before restoring the mask. */
static int run(const struct vg_proc_opts *o, struct vg_proc_result *res);

int vg_proc_run(const struct vg_proc_opts *o, struct vg_proc_result *res)
{
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigset_t pending;
	bool was_pending = false;
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	if (sigpending(&pending) == 0)
		was_pending = sigismember(&pending, SIGPIPE);
	int ret = run(o, res);
	if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
		struct timespec zero = {0, 0};
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static int run(const struct vg_proc_opts *o, struct vg_proc_result *res)
{
	memset(res, 0, sizeof *res);
	res->status = -1;
	const char *prog = o->argv[0];
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, st[2] = {-1, -1};
	struct sink so = {.max = o->max_out ? o->max_out : (4u << 20)};
	struct sink se = {.max = so.max};
	int ret = 0;

	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(st, O_CLOEXEC) ||
	    (o->stdin_data && pipe2(in, O_CLOEXEC))) {
		ret = VG_ERRNO(errno, "cannot run '%s': pipe", prog);
		goto out;
	}
	pid_t pid = fork();
	if (pid < 0) {
		ret = VG_ERRNO(errno, "cannot run '%s': fork", prog);
		goto out;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		dup2(o->stdin_data ? in[0] : devnull, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (o->env)
			for (const char *const *e = o->env; *e; e++)
				putenv((char *)*e);
		signal(SIGPIPE, SIG_DFL);
		execvp(prog, (char *const *)o->argv);
		int e = errno;
		if (write(st[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	close_fd(&out[1]);
	close_fd(&err[1]);
	close_fd(&st[1]);
	close_fd(&in[0]);

	int exec_errno = 0;
	ssize_t n;
	while ((n = read(st[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof exec_errno) {
		waitpid(pid, NULL, 0);
		res->not_found = exec_errno == ENOENT;
		ret = res->not_found ? VG_ERR(VG_ENOENT, "'%s' not found on PATH; install it", prog)
				     : VG_ERR(VG_EEXTERNAL, "cannot run '%s': %s", prog, strerror(exec_errno));
		goto out;
	}

	int timeout = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	long long deadline = now_ms() + timeout;
	size_t fed = 0;
	if (in[1] >= 0)
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	bool killed = false;
	long long kill_at = 0;
	while (out[0] >= 0 || err[0] >= 0) {
		struct pollfd pf[3];
		int np = 0, io = -1, ie = -1, ii = -1;
		if (out[0] >= 0) { pf[np] = (struct pollfd){out[0], POLLIN, 0}; io = np++; }
		if (err[0] >= 0) { pf[np] = (struct pollfd){err[0], POLLIN, 0}; ie = np++; }
		if (in[1] >= 0) { pf[np] = (struct pollfd){in[1], POLLOUT, 0}; ii = np++; }
		long long left = (killed ? kill_at : deadline) - now_ms();
		if (left <= 0) {
			if (!killed) {
				res->timed_out = true;
				kill(pid, SIGTERM);
				killed = true;
				kill_at = now_ms() + 1000;
				close_fd(&in[1]);
				continue;
			}
			kill(pid, SIGKILL);
			break;
		}
		int pr = poll(pf, (nfds_t)np, (int)(left > 1000 ? 1000 : left));
		if (pr < 0 && errno != EINTR) {
			ret = VG_ERRNO(errno, "waiting for '%s'", prog);
			kill(pid, SIGKILL);
			break;
		}
		char buf[65536];
		if (io >= 0 && pf[io].revents) {
			n = read(out[0], buf, sizeof buf);
			if (n > 0) {
				if ((ret = sink_add(&so, buf, (size_t)n)))
					break;
			} else if (n == 0 || errno != EINTR)
				close_fd(&out[0]);
		}
		if (ie >= 0 && pf[ie].revents) {
			n = read(err[0], buf, sizeof buf);
			if (n > 0) {
				if ((ret = sink_add(&se, buf, (size_t)n)))
					break;
			} else if (n == 0 || errno != EINTR)
				close_fd(&err[0]);
		}
		if (ii >= 0 && pf[ii].revents) {
			n = write(in[1], (const char *)o->stdin_data + fed, o->stdin_len - fed);
			if (n > 0)
				fed += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) || fed == o->stdin_len)
				close_fd(&in[1]);
		}
	}
	close_fd(&in[1]);
	int wst = 0;
	if (!killed) {
		/* Outputs closed: the child is exiting; still bound the wait. */
		long long until = deadline;
		for (;;) {
			pid_t w = waitpid(pid, &wst, WNOHANG);
			if (w == pid)
				break;
			if (now_ms() > until) {
				res->timed_out = true;
				kill(pid, SIGKILL);
				waitpid(pid, &wst, 0);
				break;
			}
			struct timespec ts = {0, 2000000};
			nanosleep(&ts, NULL);
		}
	} else {
		waitpid(pid, &wst, 0);
	}
	res->status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + (WIFSIGNALED(wst) ? WTERMSIG(wst) : 0);
	if (res->timed_out && !ret)
		ret = 0; /* caller decides; message set for convenience */
	if (res->timed_out)
		VG_ERR(VG_ETIMEDOUT, "'%s' did not finish within %d ms", prog, timeout);
out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&st[0]);
	close_fd(&st[1]);
	if (!ret && (!so.p || !se.p)) {
		if (!so.p && sink_add(&so, "", 0))
			ret = VG_ENOMEM;
		if (!se.p && sink_add(&se, "", 0))
			ret = VG_ENOMEM;
	}
	res->out = so.p;
	res->out_len = so.len;
	res->out_truncated = so.truncated;
	res->err = se.p;
	res->err_len = se.len;
	res->err_truncated = se.truncated;
	return ret;
}
