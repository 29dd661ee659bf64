/*
 * pg_wal.h - WAL archive continuity (`vigil wal-verify`).
 *
 * Names.  A WAL segment is named TTTTTTTTXXXXXXXXYYYYYYYY (24 upper-case
 * hex digits: timeline, then the segment number split in "log" and "seg"
 * with 2^32 / segment size segments per log).  In archives we also meet
 * "<segment>.partial" (the last, incomplete segment of a timeline, or the
 * one pg_receivewal is writing), "<tli>.history" (timeline history),
 * "<segment>.<offset>.backup" (backup history), pgBackRest's
 * "<segment>-<sha1>" suffix, and compressed copies "<name>.gz", ".zst",
 * ".lz4", ".br", ".bz2", ".xz", ".lzma", ".lzo" as archive_command scripts,
 * WAL-G, pgBackRest, Barman and pg_receivewal write them.
 *
 * Timelines.  "<T>.history" lists, per ancestor, "parentTLI  switchLSN
 * reason": the parent timeline ended at switchLSN and its child began
 * there.  The segment holding switchLSN therefore belongs to the child;
 * the segments before it to the parent.
 *
 * The check (as WAL-G's `wal-verify integrity`, internal/databases/
 * postgres/integrity_check_runner.go and wal_segment_scanner.go): walk the
 * segments backwards from the newest that should exist to the start
 * segment, following the timeline history, and classify each one FOUND or
 * missing.  Missing ones are MISSING_DELAYED while no segment has been
 * found yet, for at most max_delayed segments (not archived yet);
 * MISSING_UPLOADING for the next upload_concurrency segments (an archiver
 * working in parallel may still be uploading them); MISSING_LOST after
 * that.  The integrity verdict is OK (nothing missing), WARNING (only
 * delayed/uploading) or FAILURE (anything lost).  The timeline check
 * compares the cluster's timeline with the highest one in the archive.
 *
 * When a running server gives the position (its current LSN), the segment
 * holding it is still being written: like WAL-G, the walk starts below the
 * segment of (LSN - 1).  A segment given as the end is itself expected.
 */
#ifndef VG_SOURCE_PG_WAL_H
#define VG_SOURCE_PG_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vg_pg_walkind {
	VG_PG_WAL_OTHER = 0,  /* not a WAL archive file */
	VG_PG_WAL_SEGMENT,
	VG_PG_WAL_PARTIAL,
	VG_PG_WAL_HISTORY,
	VG_PG_WAL_BACKUP,     /* backup history file */
};

struct vg_pg_walname {
	enum vg_pg_walkind kind;
	uint32_t tli;
	uint32_t log, seg;    /* segments, partial segments and backup files */
	char compression[8];  /* "" or the extension, e.g. "zst" */
};

/* Parse a file name (no directory).  Never fails: unrelated names give
 * kind VG_PG_WAL_OTHER. */
void vg_pg_walname_parse(const char *name, struct vg_pg_walname *out);
/* Segment number of a parsed name for a segment size; false when seg is
 * out of range for that size (then the size is wrong). */
bool vg_pg_walname_segno(const struct vg_pg_walname *n, uint32_t segsize, uint64_t *segno);
/* The 24-character name (buf of at least 25 bytes). */
void vg_pg_walname_format(uint32_t tli, uint64_t segno, uint32_t segsize, char *buf);
/* Parse "X/X" (hex); VG_EINVAL if malformed. */
int vg_pg_lsn_parse(const char *s, uint64_t *lsn);

struct vg_pg_tlhist {
	uint32_t tli;         /* the parent timeline */
	uint64_t switch_lsn;  /* where it ended and its child began */
};
/* Parse a timeline history file.  Entries are returned oldest first in a
 * malloc'd array (free it).  VG_ECORRUPT for malformed lines or entries
 * out of order (the name is used in messages), VG_ENOMEM. */
int vg_pg_history_parse(const char *text, size_t len, const char *name, struct vg_pg_tlhist **out,
			size_t *n);

enum vg_pg_segstatus {
	VG_PG_SEG_FOUND,
	VG_PG_SEG_MISSING_DELAYED,
	VG_PG_SEG_MISSING_UPLOADING,
	VG_PG_SEG_MISSING_LOST,
};
const char *vg_pg_segstatus_name(enum vg_pg_segstatus s); /* "FOUND", "MISSING_LOST", ... */

enum vg_pg_verdict { VG_PG_OK, VG_PG_WARNING, VG_PG_FAILURE };
const char *vg_pg_verdict_name(enum vg_pg_verdict v);

struct vg_pg_walrange {
	uint32_t tli;
	uint64_t first, last; /* segment numbers, first <= last */
	enum vg_pg_segstatus status;
};

struct vg_pg_walverify_opts {
	const char *archive;       /* directory (its 16-hex-digit subdirectories are read too) */
	const char *start;         /* oldest segment needed, or NULL: the oldest archived */
	const char *end;           /* newest segment needed, or NULL */
	bool have_server;          /* server_* below come from a running server */
	uint64_t server_lsn;       /* its current (or replayed) LSN */
	uint32_t server_tli;
	uint32_t segsize;          /* 0: from the server, else from the files, else 16 MiB */
	unsigned max_delayed;      /* WAL-G's WALG_INTEGRITY_MAX_DELAYED_WALS (default 0) */
	unsigned upload_concurrency; /* WAL-G's WALG_UPLOAD_CONCURRENCY (default 16) */
};

#define VG_PG_WAL_MAX_NOTES 16

struct vg_pg_walreport {
	uint32_t segsize;
	bool segsize_assumed;      /* no evidence: 16 MiB assumed */
	uint64_t start_segno, end_segno;
	uint32_t start_tli, end_tli;
	uint32_t current_tli, highest_tli;
	struct vg_pg_walrange *ranges; /* oldest first */
	size_t nranges;
	uint64_t count[4];         /* segments per vg_pg_segstatus */
	uint64_t segments, partials, histories, others; /* archive files seen */
	enum vg_pg_verdict integrity, timeline, verdict;
	char *notes[VG_PG_WAL_MAX_NOTES]; /* things the user should know */
	size_t nnotes;
};

/* Run the check.  VG_ENOENT if the archive cannot be listed, VG_EINVAL for
 * bad options (a malformed --start/--end, end before start),
 * VG_ECORRUPT for a malformed history file, VG_ENOMEM.  out is always
 * safe to release. */
int vg_pg_walverify(const struct vg_pg_walverify_opts *o, struct vg_pg_walreport *out);
void vg_pg_walreport_release(struct vg_pg_walreport *r);

/* A running server's WAL position, read with psql (no libpq needed). */
struct vg_pg_serverpos {
	bool in_recovery;          /* a standby: the LSN is the replay position */
	uint64_t lsn;
	uint32_t tli;
	uint32_t segsize;
};
/* Runs `psql -d CONNSTR`.  VG_ENOENT if psql is missing, VG_EEXTERNAL if it
 * fails (the message carries psql's error, never the connection string),
 * VG_ETIMEDOUT. */
int vg_pg_server_position(const char *connstr, struct vg_pg_serverpos *out);

#endif
