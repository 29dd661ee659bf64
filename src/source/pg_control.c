/*
 * pg_control.c - data directory recognition and the pg_control decoder
 * (pg_control.h).
 *
 * Offsets of ControlFileData for pg_control_version 1300 on an LP64 host
 * (8-byte aligned int64/double), checked against pg_controldata of a
 * PostgreSQL 15 cluster.  CheckPoint is 88 bytes at offset 40; the crc
 * follows the 32-byte mock authentication nonce at 256.
 */
#include "source/pg_control.h"

#include <errno.h>
#include <fcntl.h>
#include <isa-l/crc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/err.h"

enum {
	OFF_SYSID = 0,
	OFF_VERSION = 8,
	OFF_CATVER = 12,
	OFF_STATE = 16,
	OFF_TIME = 24,
	OFF_CHECKPOINT = 32,
	OFF_REDO = 40,          /* checkPointCopy.redo */
	OFF_TLI = 48,           /* checkPointCopy.ThisTimeLineID */
	OFF_MAXALIGN = 204,
	OFF_FLOATFORMAT = 208,
	OFF_BLCKSZ = 216,
	OFF_RELSEG = 220,
	OFF_XLOG_BLCKSZ = 224,
	OFF_XLOG_SEGSZ = 228,
	OFF_CHECKSUM_VERSION = 252,
	OFF_CRC = 288,
	USED_SIZE = 292,
};

uint32_t vg_pg_crc32c(const void *buf, size_t len)
{
	uint32_t crc = 0xFFFFFFFFu;
	const unsigned char *p = buf;
	/* crc32_iscsi takes an int length: feed large buffers in pieces. */
	while (len > 0) {
		int n = len > (1u << 30) ? (1 << 30) : (int)len;
		crc = crc32_iscsi((unsigned char *)p, n, crc);
		p += n;
		len -= (size_t)n;
	}
	return crc ^ 0xFFFFFFFFu;
}

static bool pow2_between(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

static int check_sizes(const struct vg_pg_control *c, const char *name)
{
	/* BLCKSZ is 1..32 KiB (configure --with-blocksize); the page checksum
	 * needs a multiple of 128 bytes, which every power of two >= 1 KiB is. */
	if (!pow2_between(c->blcksz, 1024, 32768))
		return VG_ERR(VG_ECORRUPT, "'%s': impossible block size %u", name, c->blcksz);
	if (c->relseg_size == 0 || (uint64_t)c->relseg_size * c->blcksz > ((uint64_t)1 << 40))
		return VG_ERR(VG_ECORRUPT, "'%s': impossible relation segment size %u blocks", name,
			      c->relseg_size);
	if (!pow2_between(c->xlog_seg_size, 1u << 20, 1u << 30))
		return VG_ERR(VG_ECORRUPT, "'%s': impossible WAL segment size %u", name, c->xlog_seg_size);
	if (c->state > VG_PG_DB_IN_PRODUCTION)
		return VG_ERR(VG_ECORRUPT, "'%s': unknown cluster state %u", name, c->state);
	return 0;
}

int vg_pg_control_parse(const void *buf, size_t len, const char *name, struct vg_pg_control *out)
{
	const uint8_t *p = buf;
	memset(out, 0, sizeof *out);
	if (len < OFF_VERSION + 4)
		return VG_ERR(VG_ECORRUPT, "'%s': too short for pg_control (%zu bytes)", name, len);
	out->control_version = vg_get32(p + OFF_VERSION);
	if (out->control_version != VG_PG_CONTROL_V13) {
		/* A byte-swapped 1300 means a big-endian cluster. */
		if (out->control_version == 0x14050000u)
			return VG_ERR(VG_EVERSION, "'%s': pg_control of a big-endian host is not supported",
				      name);
		return VG_ERR(VG_EVERSION,
			      "'%s': pg_control version %u is not supported (this vigil reads version "
			      "1300, PostgreSQL 13 to 16); its layout is unknown, so checksums cannot "
			      "be verified",
			      name, out->control_version);
	}
	if (len < USED_SIZE)
		return VG_ERR(VG_ECORRUPT, "'%s': pg_control truncated to %zu bytes", name, len);
	uint32_t crc = vg_get32(p + OFF_CRC);
	uint32_t want = vg_pg_crc32c(p, OFF_CRC);
	if (crc != want)
		return VG_ERR(VG_ECORRUPT,
			      "'%s': pg_control CRC mismatch (stored %08X, computed %08X): the file is "
			      "damaged or was written by a platform whose layout is not supported",
			      name, crc, want);
	uint64_t ff = vg_get64(p + OFF_FLOATFORMAT);
	double fv;
	memcpy(&fv, &ff, sizeof fv);
	if (vg_get32(p + OFF_MAXALIGN) != 8 || fv != 1234567.0)
		return VG_ERR(VG_EVERSION, "'%s': pg_control of an unsupported platform (alignment %u)",
			      name, vg_get32(p + OFF_MAXALIGN));
	out->system_id = vg_get64(p + OFF_SYSID);
	out->catalog_version = vg_get32(p + OFF_CATVER);
	out->state = vg_get32(p + OFF_STATE);
	out->time = (int64_t)vg_get64(p + OFF_TIME);
	out->checkpoint_lsn = vg_get64(p + OFF_CHECKPOINT);
	out->redo_lsn = vg_get64(p + OFF_REDO);
	out->timeline = vg_get32(p + OFF_TLI);
	out->blcksz = vg_get32(p + OFF_BLCKSZ);
	out->relseg_size = vg_get32(p + OFF_RELSEG);
	out->xlog_blcksz = vg_get32(p + OFF_XLOG_BLCKSZ);
	out->xlog_seg_size = vg_get32(p + OFF_XLOG_SEGSZ);
	out->data_checksum_version = vg_get32(p + OFF_CHECKSUM_VERSION);
	return check_sizes(out, name);
}

bool vg_pg_control_is_shutdown(const struct vg_pg_control *c)
{
	return c->state == VG_PG_DB_SHUTDOWNED || c->state == VG_PG_DB_SHUTDOWNED_IN_RECOVERY;
}

uint64_t vg_pg_inflight_lsn(const struct vg_pg_cluster *cl)
{
	return vg_pg_control_is_shutdown(&cl->ctl) ? 0 : cl->ctl.redo_lsn;
}

const char *vg_pg_state_name(uint32_t state)
{
	static const char *const names[] = {
		"starting up",         "shut down",        "shut down in recovery",
		"shutting down",       "in crash recovery", "in archive recovery",
		"in production",
	};
	return state < sizeof names / sizeof names[0] ? names[state] : "unrecognized";
}

/* Read up to cap bytes of dir/rel; *got says how many. */
static int read_small(const char *dir, const char *rel, void *buf, size_t cap, size_t *got)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
		return VG_ERR(VG_EINVAL, "path too long: '%s/%s'", dir, rel);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot open '%s'", path);
	size_t n = 0;
	int rc = 0;
	while (n < cap) {
		ssize_t r = read(fd, (char *)buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = VG_ERRNO(errno, "cannot read '%s'", path);
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*got = n;
	return rc;
}

bool vg_pg_is_datadir(const char *dir)
{
	char path[4096];
	struct stat st;
	if ((size_t)snprintf(path, sizeof path, "%s/PG_VERSION", dir) >= sizeof path)
		return false;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	snprintf(path, sizeof path, "%s/global/pg_control", dir);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int read_version(const char *dir, int *major)
{
	char buf[32];
	size_t n = 0;
	int rc = read_small(dir, "PG_VERSION", buf, sizeof buf - 1, &n);
	if (rc < 0)
		return rc;
	buf[n] = '\0';
	int v = 0;
	size_t i = 0;
	for (; i < n && buf[i] >= '0' && buf[i] <= '9' && v < 1000; i++)
		v = v * 10 + (buf[i] - '0');
	/* "15\n"; 9.6 and older wrote "9.6". */
	if (i == 0 || (i < n && buf[i] != '\n' && buf[i] != '.'))
		return VG_ERR(VG_ECORRUPT, "'%s/PG_VERSION': not a version number", dir);
	*major = v;
	return 0;
}

int vg_pg_datadir_read(const char *dir, struct vg_pg_cluster *out)
{
	memset(out, 0, sizeof *out);
	if (!vg_pg_is_datadir(dir))
		return VG_ERR(VG_ENOENT,
			      "'%s' is not a PostgreSQL data directory (no PG_VERSION or global/pg_control)",
			      dir);
	int rc = read_version(dir, &out->major);
	if (rc < 0)
		return rc;
	uint8_t buf[VG_PG_CONTROL_FILE_SIZE];
	char name[4200];
	snprintf(name, sizeof name, "%s/global/pg_control", dir);
	for (int attempt = 0; attempt < 2; attempt++) {
		size_t n = 0;
		rc = read_small(dir, "global/pg_control", buf, sizeof buf, &n);
		if (rc < 0)
			return rc;
		rc = vg_pg_control_parse(buf, n, name, &out->ctl);
		/* The server rewrites pg_control in place; a read racing with that
		 * write fails its CRC once and succeeds the second time. */
		if (rc != VG_ECORRUPT)
			break;
		usleep(100 * 1000);
	}
	if (rc < 0)
		return rc;
	snprintf(out->tblspc_dir, sizeof out->tblspc_dir, "PG_%d_%u", out->major,
		 out->ctl.catalog_version);
	return 0;
}
