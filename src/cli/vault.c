/*
 * vault.c - what the repository commands share (see vault.h).
 */
#include "cli/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "cli/cli.h"

int cli_repo_open(const char *vault, enum cli_open_mode mode, const struct vg_repo_opts *o,
		  struct vg_pool **pool, struct vg_repo **repo)
{
	*pool = NULL;
	*repo = NULL;
	int flags = mode == CLI_OPEN_READ ? VG_POOL_RDONLY : VG_POOL_RDWR;
	int err = vg_pool_open(vg_os_posix(), vault, flags, pool);
	if (err == VG_EBUSY && mode == CLI_OPEN_REPAIR)
		err = vg_pool_open(vg_os_posix(), vault, VG_POOL_RDONLY, pool);
	if (err)
		return err;
	struct vg_repo_opts ro = {0};
	if (o)
		ro = *o;
	if (!ro.pass)
		ro.pass = cli_passphrase;
	if ((err = vg_repo_open(*pool, &ro, repo)) < 0) {
		vg_pool_close(*pool);
		*pool = NULL;
	}
	return err;
}

/* One line from fd (the newline dropped) into buf. */
static int read_line(int fd, char *buf, size_t cap, const char *what)
{
	size_t n = 0;
	char ch;
	for (;;) {
		ssize_t k = read(fd, &ch, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return VG_ERRNO(errno, "cannot read the passphrase from %s", what);
		if (k == 0 || ch == '\n')
			break;
		if (n + 1 >= cap)
			return VG_ERR(VG_EINVAL, "the passphrase in %s is too long", what);
		buf[n++] = ch;
	}
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = 0;
	return 0;
}

static int from_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot open passphrase file '%s'", path);
	int err = read_line(fd, buf, cap, path);
	close(fd);
	return err;
}

static int prompt(const char *text, char *buf, size_t cap)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	struct termios old, quiet;
	if (fd < 0)
		return VG_ERR(VG_EKEY, "the vault's passphrase is needed: set VIGIL_PASSWORD or "
				       "VIGIL_PASSWORD_FILE, or run on a terminal");
	bool tio = tcgetattr(fd, &old) == 0;
	if (tio) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	if (write(fd, text, strlen(text)) < 0) { /* best effort: the read still works */
	}
	int err = read_line(fd, buf, cap, "the terminal");
	if (tio)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
	}
	close(fd);
	return err;
}

int cli_passphrase(void *ctx, bool is_new, char *buf, size_t cap)
{
	bool change = ctx && is_new;
	const char *env = getenv(change ? "VIGIL_NEW_PASSWORD" : "VIGIL_PASSWORD");
	const char *file = getenv(change ? "VIGIL_NEW_PASSWORD_FILE" : "VIGIL_PASSWORD_FILE");
	int err;
	if (env) {
		if (strlen(env) >= cap)
			return VG_ERR(VG_EINVAL, "the passphrase is too long");
		strcpy(buf, env);
		return 0;
	}
	if (file)
		return from_file(file, buf, cap);
	if ((err = prompt(is_new ? "new passphrase: " : "passphrase: ", buf, cap)) < 0 || !is_new)
		return err;
	char *again = malloc(cap);
	if (!again)
		return VG_ERR(VG_ENOMEM, "out of memory");
	if (!(err = prompt("the same again: ", again, cap)) && strcmp(buf, again))
		err = VG_ERR(VG_EINVAL, "the two passphrases differ; nothing was changed");
	memset(again, 0, cap);
	free(again);
	return err;
}

int cli_kdf_params(struct vg_kdf_params *kdf)
{
	const char *e = getenv("VIGIL_KDF");
	unsigned int ops, kib;
	char extra;
	if (!e || (kdf->ops && kdf->mem_kib))
		return 0;
	if (sscanf(e, "%u,%u%c", &ops, &kib, &extra) != 2 || !ops || !kib)
		return VG_ERR(VG_EINVAL, "VIGIL_KDF must be OPS,KIB (e.g. 20,32768), not '%s'", e);
	if (!kdf->ops)
		kdf->ops = ops;
	if (!kdf->mem_kib)
		kdf->mem_kib = kib;
	return 0;
}

bool cli_kdf_opt(const char *arg, bool ops, struct vg_kdf_params *kdf)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);
	if (*end || end == arg || v == 0 || v > (1ul << 22))
		return false;
	*(ops ? &kdf->ops : &kdf->mem_kib) = (uint32_t)v;
	return true;
}

int cli_repo_close(struct vg_pool *pool, struct vg_repo *repo)
{
	vg_repo_close(repo);
	return vg_pool_close(pool);
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned int min;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, min = 0x10000;
	else
		return 0;
	unsigned int cp = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

const char *cli_safe(const char *s)
{
	static char bufs[4][16384];
	static int which;
	char *out = bufs[which++ & 3];
	size_t o = 0, max = sizeof bufs[0] - 8;
	const unsigned char *p = (const unsigned char *)s;
	while (*p && o < max) {
		size_t n = utf8_len(p);
		if (n == 1 && *p >= 0x20 && *p != 0x7f && *p != '\\') {
			out[o++] = (char)*p++;
		} else if (n > 1) {
			memcpy(out + o, p, n);
			o += n;
			p += n;
		} else if (*p == '\n' || *p == '\t' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = *p == '\n' ? 'n' : *p == '\t' ? 't' : '\\';
			p++;
		} else {
			o += (size_t)snprintf(out + o, 8, "\\x%02x", *p++);
		}
	}
	out[o] = 0;
	return out;
}

json_t *cli_json_safe(const char *s) { return json_string(cli_safe(s)); }

void cli_print_json(json_t *o)
{
	char *txt = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	if (txt)
		puts(txt);
	else
		fprintf(stderr, "vigil: out of memory printing JSON\n");
	free(txt);
}

const char *cli_bytes(uint64_t n)
{
	static char bufs[4][32];
	static int which;
	char *b = bufs[which++ & 3];
	static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(b, 32, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return b;
}

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *cli_time(int64_t ns)
{
	static char b[64];
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
	return b;
}

void cli_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int cli_workers(void)
{
	/* VIGIL_WORKERS (1..16) caps the threads of a backup or restore, e.g.
	 * to leave cores to a database; a malformed value is ignored */
	const char *e = getenv("VIGIL_WORKERS");
	char *end = NULL;
	long n = e && *e ? strtol(e, &end, 10) : 0;
	if (!e || !*e || *end || n < 1 || n > 16)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 16 ? 16 : (int)n;
}

void cli_progress_init(struct cli_progress *p)
{
	p->on = cli_tty();
	p->start = p->last = cli_now();
	p->width = 0;
}

void cli_progress_show(struct cli_progress *p, uint64_t files, uint64_t bytes, const char *current)
{
	double now = cli_now();
	if (!p->on || now - p->last < 0.2)
		return;
	p->last = now;
	double rate = now > p->start ? (double)bytes / (now - p->start) : 0;
	char line[160];
	int n = snprintf(line, sizeof line, "  %llu files  %s  %s/s  %s", (unsigned long long)files,
			 cli_bytes(bytes), cli_bytes((uint64_t)rate), current ? cli_safe(current) : "");
	if (n > 100)
		n = 100;
	fprintf(stderr, "\r%.*s%*s", n, line, p->width > n ? p->width - n : 0, "");
	p->width = n;
}

void cli_progress_done(struct cli_progress *p)
{
	if (p->on && p->width)
		fprintf(stderr, "\r%*s\r", p->width, "");
	p->width = 0;
}
