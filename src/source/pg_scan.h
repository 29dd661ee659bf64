/*
 * pg_scan.h - verify every page of a PostgreSQL data directory in place
 * (what `pg_checksums --check` does, and what `vigil health PGDATA` runs).
 *
 * Reads pg_control first.  A cleanly shut down cluster is verified exactly
 * (no page can be in flight).  A running cluster is verified online: the
 * REDO location of its latest checkpoint, read before the first page, plays
 * the role of the backup start LSN (a page newer than it is covered by a
 * full-page image in the WAL, so crash recovery rewrites it), and failing
 * pages are re-read once (pg_page.h, rule 4).  Files that vanish while a
 * running cluster is scanned (DROP TABLE, VACUUM truncation) are counted,
 * not reported.
 *
 * This driver reads the files itself with POSIX calls; a backup verifies
 * the same way by feeding the bytes it copies to vg_pg_file_feed().
 */
#ifndef VG_SOURCE_PG_SCAN_H
#define VG_SOURCE_PG_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "source/pg_page.h"

struct vg_pg_scan_opts {
	/* Called after each file with bytes done and the total (0 when not
	 * known); the total is computed by a first pass only when set. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
};

struct vg_pg_scan_result {
	struct vg_pg_cluster cl;
	bool online;            /* the cluster was not shut down: rule 4 applied */
	uint64_t start_lsn;     /* LSN used by rule 4 (0 offline) */
	uint64_t vanished;      /* files removed during an online scan */
	double seconds;         /* wall time of the page scan */
	struct vg_pg_report rep;
};

/* Verify pgdata.  Returns 0 when the scan ran (look at out->rep for the
 * verdict, and at out->cl.ctl.data_checksum_version), VG_ENOENT if pgdata
 * is not a data directory, VG_EVERSION for an unknown pg_control, VG_EIO
 * when a scanned directory cannot be listed, VG_ENOMEM.  out is always
 * safe to release. */
int vg_pg_scan(const char *pgdata, const struct vg_pg_scan_opts *opts, struct vg_pg_scan_result *out);
void vg_pg_scan_release(struct vg_pg_scan_result *r);

#endif
