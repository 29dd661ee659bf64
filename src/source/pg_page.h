/*
 * pg_page.h - PostgreSQL page checksum verification, streaming.
 *
 * Built so that a backup can verify a data directory while it copies it,
 * reading every file once: the caller feeds consecutive buffers of a file
 * to a struct vg_pg_filecheck and gets, at the end, counters and the list
 * of bad pages.  Nothing here opens files except through the caller's
 * re-read callback; pg_scan.h is the driver for the offline check.
 *
 * Theory (PostgreSQL's rules, src/include/storage/checksum_impl.h and
 * src/bin/pg_checksums/pg_checksums.c):
 *  1. A page's checksum is pg_checksum_page(): FNV-1a-like over 32 lanes of
 *     32-bit words with pd_checksum taken as zero, xor the block number,
 *     reduced mod 65535, plus one.  The block number is the block within
 *     the relation fork: segno * RELSEG_SIZE + block within the file, so
 *     "16384.1" continues where "16384" ended.
 *  2. A page with pd_upper == 0 is new and carries no checksum.  It is valid
 *     when it is all zeros.  (pg_checksums skips every page with pd_upper
 *     == 0; the server refuses such a page that is not all zeros, and so do
 *     we: it is reported as "new page not zeroed".)
 *  3. The files checked are every regular file under global/, base/ and
 *     pg_tblspc/<oid>/PG_<major>_<catversion>/, except pg_control,
 *     pg_filenode.map, pg_internal.init*, PG_VERSION and anything named
 *     pgsql_tmp* (pg_checksums' skip list).
 *  4. Online: a page that fails may be a torn read of a page being written.
 *     It is re-read once (callback).  If the re-read passes, it is good (and
 *     replaces the torn bytes in the caller's buffer).  If
 *     it still fails and its LSN is at or after the backup's start LSN,
 *     WAL replay from the backup rewrites it (full-page writes): it is "in
 *     flight", not corruption.  Otherwise it is corrupt.  With start_lsn 0
 *     (a stopped cluster) no page is in flight.
 *  5. A file whose size is not a multiple of the page size has all its whole
 *     pages checked and is reported as a partial page; never skipped.
 *  6. With data checksums disabled only the page header sanity check the
 *     server applies on every read is possible (PageIsVerified).
 *
 * Lifetimes: a vg_pg_filecheck borrows the cluster (must outlive it) and
 * owns copies of strings.  Findings are moved into a vg_pg_report by
 * vg_pg_report_add(); a report is not thread-safe (one per thread, or
 * serialise the add).
 */
#ifndef VG_SOURCE_PG_PAGE_H
#define VG_SOURCE_PG_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source/pg_control.h"

/* Checksum of one page of blcksz bytes (a multiple of 128) at block number
 * blkno of its relation fork.  The page is not modified. */
uint16_t vg_pg_checksum_page(const uint8_t *page, size_t blcksz, uint32_t blkno);

/* Page header fields (little-endian host layout). */
uint64_t vg_pg_page_lsn(const uint8_t *page);
uint16_t vg_pg_page_checksum_field(const uint8_t *page);

enum vg_pg_fork { VG_PG_FORK_MAIN, VG_PG_FORK_FSM, VG_PG_FORK_VM, VG_PG_FORK_INIT };
const char *vg_pg_fork_name(enum vg_pg_fork f);

/* What a path relative to the data directory is, for checksum purposes. */
struct vg_pg_relpath {
	bool checked;          /* a file pg_checksums verifies (rule 3) */
	bool bad_name;         /* checked, but the segment suffix is not a number */
	enum vg_pg_fork fork;
	uint32_t segno;        /* ".N" suffix; 0 for the first segment */
};

/* Classify relpath ('/'-separated, relative to the data directory, e.g.
 * "base/5/16384_fsm.2").  Directory paths may be classified too: *out
 * ->checked is false for a directory that pg_checksums does not enter
 * (pgsql_tmp*, other tablespace version directories), so a walker can prune. */
void vg_pg_classify(const struct vg_pg_cluster *cl, const char *relpath, struct vg_pg_relpath *out);
/* Would pg_checksums descend into the directory relpath ("base", "base/5",
 * "pg_tblspc/16390/PG_15_202209061", ...)? */
bool vg_pg_dir_scanned(const struct vg_pg_cluster *cl, const char *relpath);

enum vg_pg_problem {
	VG_PG_BAD_CHECKSUM = 1,  /* stored checksum differs from the computed one */
	VG_PG_BAD_NEWPAGE,       /* pd_upper == 0 but the page is not all zeros */
	VG_PG_BAD_HEADER,        /* header fails the sanity check (checksums off) */
	VG_PG_PARTIAL_PAGE,      /* file size is not a multiple of the page size */
	VG_PG_READ_ERROR,        /* the file could not be read */
	VG_PG_BAD_NAME,          /* segment suffix of a relation file is not a number */
	VG_PG_BAD_COPY,          /* failed, read back good, but the bytes already fed
				  * could not be mended (page split across feeds) and
				  * WAL replay will not rewrite it: the copy is bad */
};
const char *vg_pg_problem_name(enum vg_pg_problem p);
/* Corruption (critical) rather than a warning. */
bool vg_pg_problem_is_corrupt(enum vg_pg_problem p);

struct vg_pg_finding {
	enum vg_pg_problem kind;
	char *relpath;          /* owned */
	enum vg_pg_fork fork;
	uint32_t segno;
	uint32_t block;         /* block within the file (as pg_checksums prints it) */
	uint32_t rel_block;     /* block within the fork: segno * RELSEG_SIZE + block */
	uint16_t expected;      /* computed checksum */
	uint16_t found;         /* checksum stored in the page */
	uint64_t lsn;           /* page LSN (of the re-read copy when re-read) */
	uint64_t size;          /* VG_PG_PARTIAL_PAGE: the file size */
	char *detail;           /* VG_PG_READ_ERROR: the error message; owned */
};

struct vg_pg_stats {
	uint64_t files;         /* files checked */
	uint64_t blocks;        /* whole pages checked (pg_checksums' "Blocks scanned") */
	uint64_t bytes;
	uint64_t new_pages;     /* all-zero new pages */
	uint64_t bad;           /* corrupt pages (checksum, new page, header) */
	uint64_t inflight;      /* failed twice but newer than the start LSN (rule 4) */
	uint64_t reread_ok;     /* failed, then passed when re-read */
	uint64_t patched;       /* of those, mended in the caller's buffer */
	uint64_t partial_files;
	uint64_t problems;      /* all findings, including those not kept */
};

/* Re-read len bytes at offset off of the file being checked into buf;
 * *got is how many were read (fewer at end of file).  Return 0 or a
 * negative VG_E* code (the page is then judged on the first read). */
typedef int (*vg_pg_reread_fn)(void *ctx, uint64_t off, void *buf, size_t len, size_t *got);

/* Findings kept per file and per report; further ones are only counted. */
#define VG_PG_MAX_FINDINGS 10000

struct vg_pg_filecheck {
	const struct vg_pg_cluster *cl;
	char *relpath;
	struct vg_pg_relpath rp;
	uint64_t start_lsn;
	vg_pg_reread_fn reread;
	void *reread_ctx;
	uint8_t *carry;         /* blcksz bytes: a page split across feeds */
	size_t carry_len;
	uint8_t *scratch;       /* blcksz bytes for re-reads */
	uint64_t off;           /* bytes fed so far */
	struct vg_pg_stats st;
	struct vg_pg_finding *findings;
	size_t nfindings, capfindings;
};

/* Start checking relpath (must be vg_pg_classify()'d as checked).
 * start_lsn: the backup's start LSN (rule 4), or 0 for a stopped cluster.
 * reread may be NULL (no second chance).  VG_ENOMEM. */
int vg_pg_file_begin(struct vg_pg_filecheck *fc, const struct vg_pg_cluster *cl, const char *relpath,
		     uint64_t start_lsn, vg_pg_reread_fn reread, void *reread_ctx);
/* Feed the next len bytes of the file.  Any split is fine, but feed whole
 * pages (page-aligned reads) when the bytes are being copied: a page that
 * fails and then reads back good is mended in buf, so the copy holds the
 * good page; a page split across two feeds cannot be, and when WAL replay
 * will not rewrite it either it is reported as VG_PG_BAD_COPY.
 * VG_ENOMEM only. */
int vg_pg_file_feed(struct vg_pg_filecheck *fc, void *buf, size_t len);
/* The file ended: judge a trailing partial page (re-read first: a file being
 * extended may have grown).  VG_ENOMEM only. */
int vg_pg_file_end(struct vg_pg_filecheck *fc);
/* Record that the file could not be read (after what was fed so far). */
int vg_pg_file_error(struct vg_pg_filecheck *fc, const char *msg);
void vg_pg_file_release(struct vg_pg_filecheck *fc);

struct vg_pg_report {
	struct vg_pg_stats st;
	struct vg_pg_finding *findings;
	size_t nfindings, capfindings;
};

void vg_pg_findings_free(struct vg_pg_finding *f, size_t n);

/* Move fc's counters and findings into r (fc may then be released). */
int vg_pg_report_add(struct vg_pg_report *r, struct vg_pg_filecheck *fc);
/* Corrupt findings in the report (kept or not). */
uint64_t vg_pg_report_corrupt(const struct vg_pg_report *r);
void vg_pg_report_release(struct vg_pg_report *r);

/* What a health gate shows: CRIT for corrupt pages or unreadable files,
 * WARN when checksums are disabled or for other findings, else OK. */
enum vg_pg_level { VG_PG_LEVEL_OK, VG_PG_LEVEL_WARN, VG_PG_LEVEL_CRIT };
enum vg_pg_level vg_pg_report_level(const struct vg_pg_report *r, const struct vg_pg_cluster *cl);
/* One line naming file, block, fork, problem, checksums and page LSN. */
void vg_pg_finding_str(const struct vg_pg_finding *f, const struct vg_pg_cluster *cl, char *buf, size_t len);
/* The loud warning for a cluster without data checksums, with how to
 * enable them. */
void vg_pg_disabled_advice(const char *pgdata, char *buf, size_t len);

#endif
