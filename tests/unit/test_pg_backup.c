/*
 * test_pg_backup.c - the base-backup session's parsers (postmaster.pid,
 * psql answers) with good, truncated and garbled input, and the line-by-line
 * coprocess it runs psql in: round trip, timeout, dead child, caps.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "os/coproc.h"
#include "source/pg_backup.h"
#include "t.h"

/* postmaster.pid of a running PostgreSQL 15 (Debian 12), verbatim. */
static const char PIDFILE[] = "26726\n/srv/pg/data\n1795579143\n5432\n/var/run/postgresql\n\n"
			      " 20443002   1081383\nready   \n";

TEST(pidfile_parses)
{
	struct vg_pg_pidfile p;
	T_OK(vg_pg_pidfile_parse(PIDFILE, sizeof PIDFILE - 1, &p));
	T_EQ(p.pid, 26726);
	T_EQ(p.port, 5432);
	T_CHECK(!strcmp(p.sockdir, "/var/run/postgresql"));
}

TEST(pidfile_without_socket_dir)
{
	static const char t[] = "99\n/d\n1\n5433\n\n*\n";
	struct vg_pg_pidfile p;
	T_OK(vg_pg_pidfile_parse(t, sizeof t - 1, &p));
	T_EQ(p.port, 5433);
	T_EQ(p.sockdir[0], 0);
}

TEST(pidfile_truncated_or_garbled_is_refused)
{
	struct vg_pg_pidfile p;
	/* every truncation before the end of line 5 */
	size_t end5 = (size_t)(strstr(PIDFILE, "postgresql\n") + 11 - PIDFILE);
	for (size_t n = 0; n < end5; n++)
		T_EQ(vg_pg_pidfile_parse(PIDFILE, n, &p), VG_ECORRUPT);
	static const char badport[] = "1\n/d\n1\n99999\n/s\n", badpid[] = "x1\n/d\n1\n5432\n/s\n",
			  nul[] = "1\n/d\0\n1\n5432\n/s\n";
	T_EQ(vg_pg_pidfile_parse(badport, sizeof badport - 1, &p), VG_ECORRUPT);
	T_CHECK(strstr(vg_errmsg(), "port") != NULL);
	T_EQ(vg_pg_pidfile_parse(badpid, sizeof badpid - 1, &p), VG_ECORRUPT);
	T_EQ(vg_pg_pidfile_parse(nul, sizeof nul - 1, &p), VG_ECORRUPT);
	char *longl = malloc(5000);
	memset(longl, 'a', 5000);
	T_EQ(vg_pg_pidfile_parse(longl, 5000, &p), VG_ECORRUPT);
	free(longl);
}

TEST(fields_split_exactly)
{
	char a[] = "150004|on|f", b[] = "1|2", c[] = "1|2|3|4";
	char *f[3];
	T_OK(vg_pg_fields(a, f, 3));
	T_CHECK(!strcmp(f[0], "150004") && !strcmp(f[1], "on") && !strcmp(f[2], "f"));
	T_EQ(vg_pg_fields(b, f, 3), VG_EEXTERNAL);
	T_EQ(vg_pg_fields(c, f, 3), VG_EEXTERNAL);
}

TEST(hex_decodes_and_refuses_garbage)
{
	uint8_t *p;
	size_t n;
	T_OK(vg_pg_hex_decode("41420a", 16, &p, &n));
	T_EQ(n, 3);
	T_CHECK(!memcmp(p, "AB\n", 3));
	free(p);
	T_OK(vg_pg_hex_decode("", 16, &p, &n));
	T_CHECK(p == NULL && n == 0);
	T_EQ(vg_pg_hex_decode("414", 16, &p, &n), VG_EEXTERNAL);
	T_EQ(vg_pg_hex_decode("4g", 16, &p, &n), VG_EEXTERNAL);
	T_EQ(vg_pg_hex_decode("41424344", 3, &p, &n), VG_EEXTERNAL);
}

/* hex of "START WAL LOCATION: 0/5000028 (file 000000010000000000000005)\n" */
#define LABEL_HEX                                                                                          \
	"53544152542057414c204c4f434154494f4e3a20302f35303030303238202866696c65203030303030303031303030303030" \
	"3030303030303030303035290a"

TEST(stop_answer_parses)
{
	struct vg_pg_backup b = {0};
	char line[] = "0/5000100|" LABEL_HEX "||000000010000000000000005";
	T_OK(vg_pg_stop_parse(line, &b));
	T_EQ(b.stop_lsn, 0x5000100ull);
	T_CHECK(!strcmp(b.stop_wal, "000000010000000000000005"));
	T_CHECK(b.label_len > 20 && !memcmp(b.label, "START WAL LOCATION: 0/5000028", 29));
	T_CHECK(b.spcmap == NULL && b.spcmap_len == 0);
	vg_pg_backup_release(&b);
}

TEST(stop_answer_garbled_is_refused)
{
	static const char *bad[] = {
		"0/5000100|" LABEL_HEX "|",                          /* truncated: 3 fields */
		"0/50001G0|" LABEL_HEX "||000000010000000000000005", /* bad LSN */
		"0/5000100|" LABEL_HEX "||00000001000000000000000",  /* short WAL name */
		"0/5000100|4142||000000010000000000000005",          /* not a backup label */
		"0/5000100|" LABEL_HEX "|zz|000000010000000000000005",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct vg_pg_backup b = {0};
		char *line = strdup(bad[i]);
		T_CHECKF(vg_pg_stop_parse(line, &b) < 0, "accepted '%s'", bad[i]);
		free(line);
		vg_pg_backup_release(&b);
	}
	char lsn[20];
	T_CHECK(!strcmp(vg_pg_lsn_str(0x16B374D848ull, lsn), "16/B374D848"));
}

TEST(coproc_round_trip)
{
	const char *argv[] = {"cat", NULL};
	struct vg_coproc *c;
	const char *l;
	T_OK(vg_coproc_start(&(struct vg_coproc_opts){.argv = argv}, &c));
	T_OK(vg_coproc_writeline(c, "one"));
	T_OK(vg_coproc_writeline(c, "two|2"));
	T_OK(vg_coproc_readline(c, 5000, &l));
	T_CHECK(!strcmp(l, "one"));
	T_OK(vg_coproc_readline(c, 5000, &l));
	T_CHECK(!strcmp(l, "two|2"));
	T_EQ(vg_coproc_close(c), 0);
}

TEST(coproc_silent_child_times_out_and_is_ended)
{
	const char *argv[] = {"sleep", "30", NULL};
	struct vg_coproc *c;
	const char *l;
	T_OK(vg_coproc_start(&(struct vg_coproc_opts){.argv = argv}, &c));
	time_t t0 = time(NULL);
	T_EQ(vg_coproc_readline(c, 200, &l), VG_ETIMEDOUT);
	int st = vg_coproc_close(c); /* sleep ignores its stdin: SIGTERM ends it */
	T_EQ(st, 128 + 15);
	T_CHECK(time(NULL) - t0 < 10);
}

TEST(coproc_dead_child_is_an_error_with_its_stderr)
{
	const char *argv[] = {"sh", "-c", "echo 'FATAL:  no such role' >&2; exit 2", NULL};
	struct vg_coproc *c;
	const char *l;
	T_OK(vg_coproc_start(&(struct vg_coproc_opts){.argv = argv}, &c));
	T_EQ(vg_coproc_readline(c, 5000, &l), VG_EEXTERNAL);
	T_CHECK(strstr(vg_coproc_stderr(c), "no such role") != NULL);
	int w = vg_coproc_writeline(c, "SELECT 1;");
	T_CHECK(w == 0 || w == VG_EEXTERNAL); /* never SIGPIPE */
	T_EQ(vg_coproc_close(c), 2);
}

TEST(coproc_caps_lines_and_names_missing_programs)
{
	const char *argv[] = {"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' a; echo", NULL};
	struct vg_coproc *c;
	const char *l;
	T_OK(vg_coproc_start(&(struct vg_coproc_opts){.argv = argv, .max_line = 1000}, &c));
	T_EQ(vg_coproc_readline(c, 5000, &l), VG_EEXTERNAL);
	T_CHECK(strstr(vg_errmsg(), "longer than 1000") != NULL);
	vg_coproc_close(c);
	const char *none[] = {"vigil-no-such-tool", NULL};
	T_EQ(vg_coproc_start(&(struct vg_coproc_opts){.argv = none}, &c), VG_ENOENT);
	T_CHECK(strstr(vg_errmsg(), "vigil-no-such-tool") != NULL);
}
