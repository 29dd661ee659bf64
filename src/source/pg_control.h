/*
 * pg_control.h - recognise a PostgreSQL data directory and read pg_control.
 *
 * A data directory is a directory holding PG_VERSION and global/pg_control.
 * pg_control (ControlFileData in PostgreSQL's src/include/catalog/
 * pg_control.h) tells whether data checksums are on, the page size (BLCKSZ),
 * the relation segment size (RELSEG_SIZE, in blocks) and the WAL segment
 * size.  It is protected by a CRC-32C over everything before the crc field.
 *
 * Only layouts we know are decoded: pg_control_version 1300 (PostgreSQL 13
 * to 16) on a little-endian host with 8-byte alignment of 64-bit fields
 * (x86-64, arm64).  Anything else is refused with VG_EVERSION and a message
 * naming the version, never guessed: a wrong offset would read the checksum
 * flag or the block size from the wrong place and make every later verdict
 * meaningless.  The CRC and the constant floatFormat (1234567.0) confirm
 * that the layout assumed is the layout on disk.
 */
#ifndef VG_SOURCE_PG_CONTROL_H
#define VG_SOURCE_PG_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* pg_control_version values decoded by this file. */
#define VG_PG_CONTROL_V13 1300u
/* Physical size of global/pg_control (PG_CONTROL_FILE_SIZE). */
#define VG_PG_CONTROL_FILE_SIZE 8192u

/* DBState values (pg_control.h, stable since PostgreSQL 9.x). */
enum vg_pg_dbstate {
	VG_PG_DB_STARTUP = 0,
	VG_PG_DB_SHUTDOWNED = 1,
	VG_PG_DB_SHUTDOWNED_IN_RECOVERY = 2,
	VG_PG_DB_SHUTDOWNING = 3,
	VG_PG_DB_IN_CRASH_RECOVERY = 4,
	VG_PG_DB_IN_ARCHIVE_RECOVERY = 5,
	VG_PG_DB_IN_PRODUCTION = 6,
};

struct vg_pg_control {
	uint64_t system_id;
	uint32_t control_version;   /* pg_control_version */
	uint32_t catalog_version;   /* catalog_version_no, e.g. 202209061 */
	uint32_t state;             /* enum vg_pg_dbstate */
	int64_t time;               /* last update, seconds since the epoch */
	uint64_t checkpoint_lsn;    /* latest checkpoint record */
	uint64_t redo_lsn;          /* its REDO location */
	uint32_t timeline;          /* checkpoint's ThisTimeLineID */
	uint32_t blcksz;            /* page size, bytes */
	uint32_t relseg_size;       /* blocks per relation segment file */
	uint32_t xlog_blcksz;
	uint32_t xlog_seg_size;     /* WAL segment size, bytes */
	uint32_t data_checksum_version; /* 0: data checksums disabled */
};

/* Decode a pg_control image (at least the used part; normally 8 KiB).
 * VG_ECORRUPT for a short image, a CRC mismatch or impossible values
 * (block size not a power of two, ...); VG_EVERSION for a
 * pg_control_version this file does not know.  name is used in messages. */
int vg_pg_control_parse(const void *buf, size_t len, const char *name, struct vg_pg_control *out);

/* Does dir look like a data directory (PG_VERSION and global/pg_control
 * present)?  Never fails; false when unsure. */
bool vg_pg_is_datadir(const char *dir);

/* What page verification needs to know about a cluster. */
struct vg_pg_cluster {
	int major;                /* from PG_VERSION, e.g. 15 */
	char tblspc_dir[48];      /* TABLESPACE_VERSION_DIRECTORY, "PG_15_202209061" */
	struct vg_pg_control ctl;
};

/* Read PG_VERSION and global/pg_control of the data directory.  pg_control
 * of a running cluster is rewritten in place, so a CRC mismatch is retried
 * once.  VG_ENOENT when dir is not a data directory. */
int vg_pg_datadir_read(const char *dir, struct vg_pg_cluster *out);

/* The start LSN for the online rule (pg_page.h, rule 4) when no
 * pg_backup_start() LSN is at hand: 0 for a cleanly shut down cluster
 * (nothing can be in flight), else the REDO location of its latest
 * checkpoint, read before the first page: every page changed after it has
 * a full-page image in the WAL from there on, so crash recovery or a
 * restore's WAL replay rewrites it.  A backup that called
 * pg_backup_start() should use the LSN that returned instead. */
uint64_t vg_pg_inflight_lsn(const struct vg_pg_cluster *cl);

/* True for a cleanly shut down cluster (offline verification is exact). */
bool vg_pg_control_is_shutdown(const struct vg_pg_control *c);
/* "shut down", "in production", ... as pg_controldata prints it. */
const char *vg_pg_state_name(uint32_t state);

/* CRC-32C as PostgreSQL computes it (INIT/FIN with 0xFFFFFFFF). */
uint32_t vg_pg_crc32c(const void *buf, size_t len);

#endif
