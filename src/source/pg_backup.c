/*
 * pg_backup.c - the low-level base backup API through psql (pg_backup.h).
 *
 * The connection string goes to psql in argv and never into a message.
 * psql runs with -w (never prompts for a password: a backup has no one to
 * type it) and PGCONNECT_TIMEOUT, so a dead server is an error within
 * seconds.  With ON_ERROR_STOP a failed statement makes psql exit, which
 * reads here as end of output; its stderr then says why.
 */
#include "source/pg_backup.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "os/coproc.h"
#include "source/pg_wal.h"

#define ANSWER_MS 60000
#define POLL_MS 100

const char *vg_pg_lsn_str(uint64_t lsn, char *buf)
{
	snprintf(buf, 20, "%X/%X", (unsigned)(lsn >> 32), (unsigned)lsn);
	return buf;
}

/* ---- postmaster.pid ---- */

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int vg_pg_pidfile_parse(const char *text, size_t len, struct vg_pg_pidfile *out)
{
	char lines[5][sizeof out->sockdir];
	size_t n = 0, k = 0;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < len && n < 5; i++) {
		if (text[i] == '\n') {
			lines[n++][k] = 0;
			k = 0;
		} else if (text[i] == 0 || k == sizeof lines[0] - 1) {
			return VG_ERR(VG_ECORRUPT, "postmaster.pid: line %zu is too long or not text", n + 1);
		} else {
			lines[n][k++] = text[i];
		}
	}
	long port;
	if (n < 5)
		return VG_ERR(VG_ECORRUPT, "postmaster.pid has %zu complete lines, expected at least 5 (is the server "
					   "still starting?)", n);
	if (!parse_long(lines[0], 1, 0x7fffffffL, &out->pid))
		return VG_ERR(VG_ECORRUPT, "postmaster.pid: '%.20s' is not a process id", lines[0]);
	if (!parse_long(lines[3], 1, 65535, &port))
		return VG_ERR(VG_ECORRUPT, "postmaster.pid: '%.20s' is not a port", lines[3]);
	out->port = (int)port;
	memcpy(out->sockdir, lines[4], strlen(lines[4]) + 1);
	return 0;
}

int vg_pg_pidfile_read(const char *pgdata, struct vg_pg_pidfile *out)
{
	char path[4200], buf[VG_PG_PIDFILE_MAX];
	snprintf(path, sizeof path, "%s/postmaster.pid", pgdata);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? VG_ERR(VG_ENOENT, "'%s' does not exist: the server is not running", path)
				       : VG_ERRNO(errno, "cannot read '%s'", path);
	ssize_t n = read(fd, buf, sizeof buf);
	int e = errno;
	close(fd);
	if (n < 0)
		return VG_ERRNO(e, "cannot read '%s'", path);
	return vg_pg_pidfile_parse(buf, (size_t)n, out);
}

/* ---- answers ---- */

int vg_pg_fields(char *line, char **f, size_t n)
{
	size_t i = 0;
	for (char *p = line;; i++) {
		if (i == n)
			return VG_ERR(VG_EEXTERNAL, "unexpected answer from psql: more than %zu fields", n);
		f[i] = p;
		char *bar = strchr(p, '|');
		if (!bar)
			break;
		*bar = 0;
		p = bar + 1;
	}
	if (i + 1 != n)
		return VG_ERR(VG_EEXTERNAL, "unexpected answer from psql: %zu fields, expected %zu", i + 1, n);
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int vg_pg_hex_decode(const char *hex, size_t max, uint8_t **out, size_t *len)
{
	size_t n = strlen(hex);
	*out = NULL;
	*len = 0;
	if (n % 2)
		return VG_ERR(VG_EEXTERNAL, "unexpected answer from psql: odd-length hex");
	if (n / 2 > max)
		return VG_ERR(VG_EEXTERNAL, "unexpected answer from psql: %zu bytes, at most %zu expected", n / 2, max);
	if (!n)
		return 0;
	uint8_t *p = malloc(n / 2);
	if (!p)
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(p);
			return VG_ERR(VG_EEXTERNAL, "unexpected answer from psql: not hex");
		}
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = p;
	*len = n / 2;
	return 0;
}

static bool is_walname(const char *s)
{
	if (strlen(s) < 24)
		return false;
	for (int i = 0; i < 24; i++)
		if (hexval(s[i]) < 0)
			return false;
	return true;
}

int vg_pg_stop_parse(char *line, struct vg_pg_backup *b)
{
	char *f[4] = {0};
	int err = vg_pg_fields(line, f, 4);
	if (err)
		return err;
	if (vg_pg_lsn_parse(f[0], &b->stop_lsn) < 0)
		return VG_ERR(VG_EEXTERNAL, "unexpected answer from psql: stop LSN '%.40s'", f[0]);
	if (strlen(f[3]) != 24 || !is_walname(f[3]))
		return VG_ERR(VG_EEXTERNAL, "unexpected answer from psql: WAL file name '%.40s'", f[3]);
	memcpy(b->stop_wal, f[3], 25);
	free(b->label);
	free(b->spcmap);
	b->label = b->spcmap = NULL;
	if ((err = vg_pg_hex_decode(f[1], VG_PG_LABEL_MAX, &b->label, &b->label_len)) < 0 ||
	    (err = vg_pg_hex_decode(f[2], VG_PG_LABEL_MAX, &b->spcmap, &b->spcmap_len)) < 0)
		return err;
	if (b->label_len < 20 || memcmp(b->label, "START WAL LOCATION: ", 20))
		return VG_ERR(VG_EEXTERNAL, "unexpected answer from psql: the backup label does not start with "
					    "'START WAL LOCATION'");
	return 0;
}

/* ---- the session ---- */

/* Send one statement and read its one-line answer. */
static int ask(struct vg_pg_backup *b, const char *sql, int timeout_ms, const char **line)
{
	int err = vg_coproc_writeline(b->cp, sql);
	if (!err)
		err = vg_coproc_readline(b->cp, timeout_ms, line);
	if (err == VG_EEXTERNAL || (err && !*vg_errmsg())) {
		char msg[512];
		const char *e = vg_coproc_stderr(b->cp);
		const char *s = strstr(e, "FATAL:") ? strstr(e, "FATAL:") : strstr(e, "ERROR:") ? strstr(e, "ERROR:") : e;
		size_t n = strcspn(s, "\n");
		snprintf(msg, sizeof msg, "%s", vg_errmsg());
		if (n)
			err = VG_ERR(err, "psql: %.*s", (int)(n > 300 ? 300 : n), s);
		else
			err = VG_ERR(err, "%s", msg);
	}
	return err;
}

static int start_session(const struct vg_pg_connect *cn, struct vg_pg_backup *b)
{
	struct vg_pg_pidfile pf;
	char port[16], home[1100] = "HOME=/";
	int err;
	const char *argv[16] = {"psql", "-X", "-q", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1"};
	size_t n = 8;
	const char *env[] = {"PGCONNECT_TIMEOUT=10", "PGAPPNAME=vigil", home, NULL};
	struct vg_coproc_opts o = {.argv = argv, .env = env, .max_line = 4 * VG_PG_LABEL_MAX + 256};
	if (cn->connstr) {
		argv[n++] = "-d";
		argv[n++] = cn->connstr;
		env[2] = NULL;
	} else {
		if ((err = vg_pg_pidfile_read(cn->pgdata, &pf)) < 0)
			return err;
		if (!pf.sockdir[0])
			return VG_ERR(VG_EINVAL, "the server of '%s' listens on no Unix socket", cn->pgdata);
		snprintf(port, sizeof port, "%d", pf.port);
		argv[n++] = "-h";
		argv[n++] = pf.sockdir;
		argv[n++] = "-p";
		argv[n++] = port;
		argv[n++] = "-d";
		argv[n++] = "postgres";
		if (geteuid() == 0 && cn->uid != 0) {
			struct passwd *pw = getpwuid(cn->uid);
			o.drop = true;
			o.uid = cn->uid;
			o.gid = cn->gid;
			if (pw && pw->pw_dir)
				snprintf(home, sizeof home, "HOME=%s", pw->pw_dir);
		} else {
			env[2] = NULL;
		}
	}
	err = vg_coproc_start(&o, &b->cp);
	if (err == VG_ENOENT)
		err = VG_ERR(VG_ENOENT, "psql not found: install the PostgreSQL client (postgresql-client)");
	return err;
}

int vg_pg_backup_start(const struct vg_pg_connect *cn, struct vg_pg_backup *b)
{
	int t = cn->timeout_ms > 0 ? cn->timeout_ms : ANSWER_MS;
	const char *line;
	char *f[3] = {0};
	long v;
	memset(b, 0, sizeof *b);
	int err = start_session(cn, b);
	if (!err)
		err = ask(b, "SELECT current_setting('server_version_num'), current_setting('archive_mode'), "
			     "pg_is_in_recovery();", t, &line);
	if (!err && !(err = vg_pg_fields((char *)line, f, 3))) {
		if (!parse_long(f[0], 1, 9999999, &v) || (strcmp(f[2], "t") && strcmp(f[2], "f")))
			err = VG_ERR(VG_EEXTERNAL, "unexpected answer from psql: server version '%.20s'", f[0]);
		else if (v < 130000)
			err = VG_ERR(VG_EVERSION, "PostgreSQL %ld is too old for an online backup (13 and later)", v);
		else if (f[2][0] == 't')
			err = VG_ERR(VG_EINVAL, "the server is a standby; back up its primary");
		b->version_num = (int)v;
		b->archive_on = strcmp(f[1], "off") != 0;
	}
	if (!err)
		err = ask(b, b->version_num >= 150000 ? "SELECT pg_backup_start('vigil', true);"
						       : "SELECT pg_start_backup('vigil', true, false);",
			  t, &line);
	if (!err && vg_pg_lsn_parse(line, &b->start_lsn) < 0)
		err = VG_ERR(VG_EEXTERNAL, "unexpected answer from psql: start LSN '%.40s'", line);
	if (!err)
		err = ask(b, "SELECT timeline_id FROM pg_control_checkpoint();", t, &line);
	if (!err && (!parse_long(line, 1, 0xffffffffL, &v)))
		err = VG_ERR(VG_EEXTERNAL, "unexpected answer from psql: timeline '%.20s'", line);
	if (err) {
		vg_pg_backup_release(b);
		return err;
	}
	b->timeline = (uint32_t)v;
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll pg_stat_archiver until the stop segment (or a later one of the
 * same name order) was archived, or the time is up. */
static int wait_archived(struct vg_pg_backup *b, int timeout_ms)
{
	long long until = now_ms() + timeout_ms;
	const char *line;
	char *f[2] = {0};
	for (;;) {
		int err = ask(b, "SELECT coalesce(last_archived_wal, ''), coalesce(last_failed_wal, '') "
				 "FROM pg_stat_archiver;", ANSWER_MS, &line);
		if (!err)
			err = vg_pg_fields((char *)line, f, 2);
		if (err)
			return err;
		if (is_walname(f[0]) && strncmp(f[0], b->stop_wal, 24) >= 0) {
			b->archived = true;
			return 0;
		}
		snprintf(b->archive_state, sizeof b->archive_state, "last archived: %.40s, last failed: %.40s",
			 *f[0] ? f[0] : "none", *f[1] ? f[1] : "none");
		if (now_ms() >= until)
			return 0;
		struct timespec ts = {0, POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
}

int vg_pg_backup_stop(struct vg_pg_backup *b, int archive_timeout_ms)
{
	const char *line;
	int err = b->cp ? 0 : VG_ERR(VG_EINVAL, "no backup session to stop");
	if (!err)
		err = ask(b,
			  b->version_num >= 150000
				  ? "SELECT lsn, encode(convert_to(labelfile, 'UTF8'), 'hex'), encode(convert_to("
				    "coalesce(spcmapfile, ''), 'UTF8'), 'hex'), pg_walfile_name(lsn) FROM pg_backup_stop(false);"
				  : "SELECT lsn, encode(convert_to(labelfile, 'UTF8'), 'hex'), encode(convert_to("
				    "coalesce(spcmapfile, ''), 'UTF8'), 'hex'), pg_walfile_name(lsn) FROM pg_stop_backup(false, false);",
			  ANSWER_MS, &line);
	if (!err)
		err = vg_pg_stop_parse((char *)line, b);
	if (!err && b->archive_on)
		err = wait_archived(b, archive_timeout_ms);
	vg_coproc_close(b->cp);
	b->cp = NULL;
	return err;
}

void vg_pg_backup_release(struct vg_pg_backup *b)
{
	vg_coproc_close(b->cp);
	b->cp = NULL;
	free(b->label);
	free(b->spcmap);
	b->label = b->spcmap = NULL;
	b->label_len = b->spcmap_len = 0;
}

int vg_pg_tablespaces(const char *pgdata, struct vg_pg_tablespace **out, size_t *n)
{
	char dir[PATH_MAX], link[PATH_MAX + 300];
	struct vg_pg_tablespace *t = NULL;
	size_t cnt = 0, cap = 0;
	*out = NULL;
	*n = 0;
	if ((size_t)snprintf(dir, sizeof dir, "%s/pg_tblspc", pgdata) >= sizeof dir)
		return VG_ERR(VG_EINVAL, "path too long: '%s'", pgdata);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : VG_ERRNO(errno, "cannot list '%s'", dir);
	struct dirent *de;
	int err = 0;
	while (!err && (de = readdir(d))) {
		struct stat st;
		snprintf(link, sizeof link, "%s/%s", dir, de->d_name);
		if (de->d_name[0] == '.' || lstat(link, &st) || !S_ISLNK(st.st_mode))
			continue;
		if (cnt == VG_PG_TABLESPACES_MAX) {
			err = VG_ERR(VG_EINVAL, "'%s' lists more than %d tablespaces", dir, VG_PG_TABLESPACES_MAX);
			break;
		}
		if ((err = vg_grow(&t, &cap, cnt + 1, sizeof *t, "listing tablespaces")) < 0)
			break;
		struct vg_pg_tablespace *x = &t[cnt++];
		memset(x, 0, sizeof *x);
		snprintf(x->oid, sizeof x->oid, "%.63s", de->d_name);
		char real[PATH_MAX];
		if (realpath(link, real))
			snprintf(x->target, sizeof x->target, "%s", real);
		else
			snprintf(x->why, sizeof x->why, "%s", strerror(errno));
	}
	closedir(d);
	if (err) {
		free(t);
		return err;
	}
	*out = t;
	*n = cnt;
	return 0;
}
