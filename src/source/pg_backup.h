/*
 * pg_backup.h - PostgreSQL's low-level base backup API, driven through a
 * psql session kept open for the duration of a copy.
 *
 * Non-exclusive backup mode belongs to the session that started it: the
 * psql coprocess (os/coproc.h) stays connected from vg_pg_backup_start()
 * to vg_pg_backup_stop(), and ending it for any reason (vigil failing,
 * being killed: the pipe closes, psql exits) makes the server leave backup
 * mode.  No cluster is left in backup mode by vigil.
 *
 * The server's answers are read one line per query (psql -A -t, '|'
 * between fields), capped, and parsed strictly: anything unexpected is an
 * error, never a guess.  The backup_label and tablespace_map contents are
 * asked for hex-encoded so that each is one line.
 *
 * PostgreSQL 13 and 14 use pg_start_backup()/pg_stop_backup(); 15 and later
 * pg_backup_start()/pg_backup_stop().  The stop call is made without
 * waiting for archiving; the wait for the stop segment is done here
 * instead, against pg_stat_archiver, with a bound: the server's own wait
 * has none, and when it is cancelled the backup_label is lost.
 */
#ifndef VG_SOURCE_PG_BACKUP_H
#define VG_SOURCE_PG_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VG_PG_PIDFILE_MAX 8192     /* postmaster.pid bytes read */
#define VG_PG_LABEL_MAX (1u << 20) /* backup_label or tablespace_map, decoded */

/* postmaster.pid, as PostgreSQL writes it (pidfile.h): line 1 the PID,
 * 2 the data directory, 3 the start time, 4 the port, 5 the first Unix
 * socket directory (empty when none), 6 the first listen address, 7 the
 * shared memory key, 8 the status. */
struct vg_pg_pidfile {
	long pid;
	int port;
	char sockdir[1024]; /* "" when the server has no Unix socket */
};

/* Parse a postmaster.pid image.  VG_ECORRUPT (one line, naming what is
 * wrong) for fewer than 5 lines, a bad PID or port, an over-long line. */
int vg_pg_pidfile_parse(const char *text, size_t len, struct vg_pg_pidfile *out);
/* Read PGDATA/postmaster.pid.  VG_ENOENT when there is none (the server
 * is not running). */
int vg_pg_pidfile_read(const char *pgdata, struct vg_pg_pidfile *out);

struct vg_coproc;

struct vg_pg_backup {
	struct vg_coproc *cp;  /* the session; NULL once ended */
	int version_num;       /* server_version_num, e.g. 150004 */
	bool archive_on;       /* archive_mode is not 'off' */
	uint64_t start_lsn, stop_lsn;
	uint32_t timeline;
	char stop_wal[25];     /* the WAL segment holding the backup's end */
	uint8_t *label;        /* backup_label content (malloc'd) */
	size_t label_len;
	uint8_t *spcmap;       /* tablespace_map content; NULL/0 when empty */
	size_t spcmap_len;
	bool archived;         /* the stop segment was archived in time */
	char archive_state[256]; /* when not: what pg_stat_archiver said */
};

/* How to connect: connstr as given (--pg-connstr), else the socket
 * directory and port of postmaster.pid; as root, psql runs as uid/gid
 * (the data directory's owner: peer authentication maps it to its role)
 * unless a connstr is given. */
struct vg_pg_connect {
	const char *pgdata;
	const char *connstr;
	uid_t uid;
	gid_t gid;
	int timeout_ms; /* per answer; 0: 60 s (pg_backup_start waits for a checkpoint) */
};

/* Connect, check the version (13 and later) and archive_mode, and start a
 * non-exclusive backup with a fast checkpoint.  On error b holds nothing
 * and the session is ended; the message names what failed. */
int vg_pg_backup_start(const struct vg_pg_connect *cn, struct vg_pg_backup *b);
/* Stop the backup: stop LSN, backup_label and tablespace_map into b; then,
 * with archiving on, wait up to archive_timeout_ms for the stop segment
 * (b->archived).  The session is ended either way. */
int vg_pg_backup_stop(struct vg_pg_backup *b, int archive_timeout_ms);
/* End the session if still open (the server aborts backup mode) and free
 * what b holds. */
void vg_pg_backup_release(struct vg_pg_backup *b);

/* Parsers of the session's answers (exposed for tests).  A line is split
 * at '|' into exactly n fields (pointers into line, which is modified). */
int vg_pg_fields(char *line, char **f, size_t n);
/* Hex ("6162") to bytes, at most max; malloc'd (NULL for ""). */
int vg_pg_hex_decode(const char *hex, size_t max, uint8_t **out, size_t *len);
/* "lsn|labelhex|spcmaphex|walname" of the stop query into b. */
int vg_pg_stop_parse(char *line, struct vg_pg_backup *b);

/* "0/3000028" (buf of at least 20 bytes). */
const char *vg_pg_lsn_str(uint64_t lsn, char *buf);

/* One tablespace: pg_tblspc/OID, a symlink to where its files live
 * (in-place tablespaces, directories inside pg_tblspc, are not listed:
 * the data directory holds them).  target: resolved, or "" with why. */
struct vg_pg_tablespace {
	char oid[64];
	char target[4096];
	char why[256];
};
#define VG_PG_TABLESPACES_MAX 4096

/* The tablespaces of a data directory into a malloc'd array (*n of
 * them, at most VG_PG_TABLESPACES_MAX); none when pg_tblspc is missing. */
int vg_pg_tablespaces(const char *pgdata, struct vg_pg_tablespace **out, size_t *n);

#endif
