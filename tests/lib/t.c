/*
 * t.c - the unit-test harness main() and helpers (see t.h).
 */
#include "t.h"

#include "os/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"

#define MAX_TESTS 512

static struct {
	const char *name;
	t_fn fn;
} tests[MAX_TESTS];
static int ntests;
static bool failed;
static char tmpdir[512];
static const char *progname = "test";

void t_register(const char *name, t_fn fn)
{
	if (ntests < MAX_TESTS) {
		tests[ntests].name = name;
		tests[ntests].fn = fn;
		ntests++;
	}
}

void t_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	fprintf(stderr, "  %s:%d: %s\n", file, line, msg);
	failed = true;
}

bool t_failed(void) { return failed; }
const char *t_errmsg(void) { return vg_errmsg(); }

const char *t_tmpdir(void)
{
	if (!tmpdir[0]) {
		struct stat st;
		const char *base = getenv("VG_TEST_TMP");
		if (!base)
			base = (stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0) ? "/dev/shm" : "/tmp";
		snprintf(tmpdir, sizeof tmpdir, "%s/vgt-XXXXXX", base);
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(3);
		}
	}
	return tmpdir;
}

const char *t_path(const char *fmt, ...)
{
	static char bufs[8][1024];
	static int which;
	char rel[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	char *b = bufs[which++ & 7];
	snprintf(b, 1024, "%s/%s", t_tmpdir(), rel);
	return b;
}

int t_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	int st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

uint64_t t_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

void t_fill(void *buf, size_t len, uint64_t seed)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
	uint8_t *p = buf;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t v = t_rand(&s);
		memcpy(p + i, &v, 8);
	}
	uint64_t v = t_rand(&s);
	for (; i < len; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

int t_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = len ? fwrite(data, 1, len, f) : 0;
	int r = fclose(f);
	return (n == len && r == 0) ? 0 : -1;
}

void *t_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *p = malloc(cap);
	for (;;) {
		if (n + 1 >= cap) { /* room for the terminating NUL */
			cap *= 2;
			p = realloc(p, cap);
		}
		size_t r = fread(p + n, 1, cap - n - 1, f);
		if (!r)
			break;
		n += r;
	}
	fclose(f);
	p[n] = 0;
	*len = n;
	return p;
}

static void cleanup_tmp(void)
{
	if (tmpdir[0] && !getenv("VG_TEST_KEEP")) {
		char cmd[600];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	tmpdir[0] = 0;
}

static int run_one(int i)
{
	failed = false;
	vg_err_clear();
	tests[i].fn();
	cleanup_tmp();
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	bool nofork = false;
	const char *filter = NULL;
	const char *slash = strrchr(argv[0], '/');
	progname = slash ? slash + 1 : argv[0];
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-n"))
			nofork = true;
		else
			filter = argv[a];
	}
	int pass = 0, fail = 0;
	for (int i = 0; i < ntests; i++) {
		if (filter && !strstr(tests[i].name, filter))
			continue;
		int rc;
		fflush(stdout);
		fflush(stderr);
		if (nofork) {
			rc = run_one(i);
		} else {
			pid_t pid = fork();
			if (pid < 0) {
				perror("fork");
				return 3;
			}
			if (pid == 0)
				_exit(run_one(i));
			int st;
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			rc = (WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : 1;
			if (WIFSIGNALED(st))
				fprintf(stderr, "  killed by signal %d\n", WTERMSIG(st));
		}
		printf("%s - %s/%s\n", rc ? "not ok" : "ok", progname, tests[i].name);
		fflush(stdout);
		rc ? fail++ : pass++;
	}
	printf("# %s: %d passed, %d failed\n", progname, pass, fail);
	return fail ? 1 : 0;
}

void t_vault_from_template(void)
{
	T_EQ(t_sh("rm -rf '%s/v' && cp -a '%s/template' '%s/v'", t_tmpdir(), t_tmpdir(), t_tmpdir()), 0);
}

struct vg_os *t_crash_os(unsigned ops, uint64_t n, uint64_t seed)
{
	struct vg_os *os = vg_os_fault_new(vg_os_posix());
	if (ops)
		vg_fault_crash_at_op(os, ops, n, seed);
	else
		vg_fault_crash_at(os, n, seed);
	return os;
}
