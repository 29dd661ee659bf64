/*
 * coproc.c - a long-lived child spoken to line by line (coproc.h).
 *
 * stdin is one end of a socketpair, so writes use send(MSG_NOSIGNAL) and a
 * dead child is an error code, never SIGPIPE.  stdout and stderr are
 * pipes read with poll(); stderr is drained whenever we wait, so a chatty
 * child cannot block on it while we wait for its stdout.  A CLOEXEC status
 * pipe tells the parent whether the uid switch and exec worked.
 */
#include "os/coproc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

#define WRITE_TIMEOUT_MS 10000

struct vg_coproc {
	pid_t pid;
	int in, out, err;
	char *buf; /* stdout bytes not yet returned; buf[0..len) */
	size_t len, cap, max, consumed;
	char errbuf[VG_COPROC_ERR_MAX];
	size_t errlen;
	const char *prog;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* In the child: only async-signal-safe calls.  Reports {stage, errno}. */
static void child(const struct vg_coproc_opts *o, int in, int out, int err, int st)
{
	int why[2] = {0, 0};
	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	signal(SIGPIPE, SIG_DFL);
	if (o->drop && (setgroups(1, &o->gid) || setgid(o->gid) || setuid(o->uid) || chdir("/"))) {
		why[0] = 1;
	} else {
		if (o->env)
			for (const char *const *e = o->env; *e; e++)
				putenv((char *)*e);
		execvp(o->argv[0], (char *const *)o->argv);
		why[0] = 2;
	}
	why[1] = errno;
	if (write(st, why, sizeof why) < 0)
		_exit(127);
	_exit(127);
}

int vg_coproc_start(const struct vg_coproc_opts *o, struct vg_coproc **out)
{
	int in[2] = {-1, -1}, op[2] = {-1, -1}, ep[2] = {-1, -1}, st[2] = {-1, -1};
	struct vg_coproc *c = calloc(1, sizeof *c);
	int ret = 0;
	*out = NULL;
	if (!c)
		return VG_ERR(VG_ENOMEM, "out of memory");
	c->in = c->out = c->err = -1;
	c->prog = o->argv[0];
	c->max = o->max_line ? o->max_line : (1u << 20);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) || pipe2(op, O_CLOEXEC) ||
	    pipe2(ep, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) {
		ret = VG_ERRNO(errno, "cannot run '%s': pipe", c->prog);
		goto out;
	}
	c->pid = fork();
	if (c->pid < 0) {
		ret = VG_ERRNO(errno, "cannot run '%s': fork", c->prog);
		goto out;
	}
	if (c->pid == 0)
		child(o, in[1], op[1], ep[1], st[1]);
	close_fd(&in[1]);
	close_fd(&op[1]);
	close_fd(&ep[1]);
	close_fd(&st[1]);
	int why[2];
	ssize_t n;
	while ((n = read(st[0], why, sizeof why)) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof why) {
		waitpid(c->pid, NULL, 0);
		c->pid = 0;
		if (why[0] == 2 && why[1] == ENOENT)
			ret = VG_ERR(VG_ENOENT, "'%s' not found on PATH; install it", c->prog);
		else
			ret = VG_ERR(VG_EEXTERNAL, "cannot run '%s'%s: %s", c->prog,
				     why[0] == 1 ? " as the data directory's owner" : "", strerror(why[1]));
		goto out;
	}
	c->in = in[0], in[0] = -1;
	c->out = op[0], op[0] = -1;
	c->err = ep[0], ep[0] = -1;
	*out = c;
	c = NULL;
out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&op[0]);
	close_fd(&op[1]);
	close_fd(&ep[0]);
	close_fd(&ep[1]);
	close_fd(&st[0]);
	close_fd(&st[1]);
	free(c);
	return ret;
}

/* Keep the last VG_COPROC_ERR_MAX - 1 bytes of stderr. */
static void drain_err(struct vg_coproc *c)
{
	char b[4096];
	ssize_t n = read(c->err, b, sizeof b);
	if (n <= 0) {
		if (n == 0 || errno != EINTR)
			close_fd(&c->err);
		return;
	}
	size_t k = (size_t)n, room = sizeof c->errbuf - 1;
	if (k > room) {
		memmove(b, b + (k - room), room);
		k = room;
	}
	if (c->errlen + k > room) {
		size_t drop = c->errlen + k - room;
		memmove(c->errbuf, c->errbuf + drop, c->errlen - drop);
		c->errlen -= drop;
	}
	memcpy(c->errbuf + c->errlen, b, k);
	c->errlen += k;
	c->errbuf[c->errlen] = 0;
}

int vg_coproc_writeline(struct vg_coproc *c, const char *s)
{
	size_t len = strlen(s), done = 0;
	long long deadline = now_ms() + WRITE_TIMEOUT_MS;
	while (done <= len) {
		const char *p = done < len ? s + done : "\n";
		size_t want = done < len ? len - done : 1;
		ssize_t n = c->in >= 0 ? send(c->in, p, want, MSG_NOSIGNAL | MSG_DONTWAIT) : -1;
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (c->in < 0 || (errno != EAGAIN && errno != EINTR))
			return VG_ERR(VG_EEXTERNAL, "'%s' exited (it no longer reads its input)", c->prog);
		long long left = deadline - now_ms();
		struct pollfd pf = {c->in, POLLOUT, 0};
		if (left <= 0)
			return VG_ERR(VG_ETIMEDOUT, "'%s' did not read its input within %d s", c->prog,
				      WRITE_TIMEOUT_MS / 1000);
		poll(&pf, 1, (int)left);
	}
	return 0;
}

int vg_coproc_readline(struct vg_coproc *c, int timeout_ms, const char **line)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	if (c->consumed) {
		memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
		c->len -= c->consumed;
		c->consumed = 0;
	}
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			*nl = 0;
			c->consumed = (size_t)(nl - c->buf) + 1;
			*line = c->buf;
			return 0;
		}
		if (c->len >= c->max)
			return VG_ERR(VG_EEXTERNAL, "'%s' wrote a line longer than %zu bytes", c->prog, c->max);
		if (c->out < 0)
			return VG_ERR(VG_EEXTERNAL, "'%s' exited", c->prog);
		if (c->cap < c->max + 1) {
			size_t nc = c->cap ? 2 * c->cap : 4096;
			nc = nc > c->max + 1 ? c->max + 1 : nc;
			char *nb = realloc(c->buf, nc);
			if (!nb)
				return VG_ERR(VG_ENOMEM, "out of memory");
			c->buf = nb;
			c->cap = nc;
		}
		long long left = deadline - now_ms();
		if (left <= 0)
			return VG_ERR(VG_ETIMEDOUT, "'%s' did not answer within %d s", c->prog, (timeout_ms + 999) / 1000);
		struct pollfd pf[2] = {{c->out, POLLIN, 0}, {c->err, POLLIN, 0}};
		if (poll(pf, c->err >= 0 ? 2 : 1, (int)left) < 0 && errno != EINTR)
			return VG_ERRNO(errno, "waiting for '%s'", c->prog);
		if (c->err >= 0 && pf[1].revents)
			drain_err(c);
		if (pf[0].revents) {
			size_t room = c->cap - 1 - c->len;
			ssize_t n = read(c->out, c->buf + c->len, room);
			if (n > 0)
				c->len += (size_t)n;
			else if (n == 0 || errno != EINTR)
				close_fd(&c->out);
		}
	}
}

const char *vg_coproc_stderr(struct vg_coproc *c)
{
	while (c->err >= 0) { /* whatever is there now, without waiting */
		struct pollfd pf = {c->err, POLLIN, 0};
		if (poll(&pf, 1, 0) <= 0)
			break;
		drain_err(c);
	}
	c->errbuf[c->errlen] = 0;
	return c->errbuf;
}

/* Wait up to ms for the child to exit; true when it did. */
static bool reap(struct vg_coproc *c, int ms, int *wst)
{
	long long until = now_ms() + ms;
	for (;;) {
		pid_t w = waitpid(c->pid, wst, WNOHANG);
		if (w == c->pid || (w < 0 && errno != EINTR))
			return true;
		if (now_ms() >= until)
			return false;
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL);
	}
}

int vg_coproc_close(struct vg_coproc *c)
{
	int wst = -1, status = -1;
	if (!c)
		return -1;
	close_fd(&c->in);
	if (c->pid > 0) {
		if (!reap(c, 2000, &wst)) {
			kill(c->pid, SIGTERM);
			if (!reap(c, 1000, &wst)) {
				kill(c->pid, SIGKILL);
				waitpid(c->pid, &wst, 0);
			}
		}
		if (wst != -1)
			status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + (WIFSIGNALED(wst) ? WTERMSIG(wst) : 0);
	}
	close_fd(&c->out);
	close_fd(&c->err);
	free(c->buf);
	free(c);
	return status;
}
