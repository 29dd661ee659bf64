/*
 * pg_page.c - page checksums and the streaming per-file verifier
 * (pg_page.h; the rules are numbered there).
 *
 * The checksum is written from PostgreSQL's documented algorithm
 * (checksum_impl.h) and checked against pages of real clusters by the
 * tests.  It reads the page through memcpy'd rows, so any alignment works
 * and the caller's buffer is never modified.
 */
#include "source/pg_page.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "source/pg_grow.h"

#define N_SUMS 32
#define FNV_PRIME 16777619u

/* The 32 lanes' initial values; fixed by the algorithm (checksum_impl.h). */
static const uint32_t base_offsets[N_SUMS] = {
	0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2,
	0x83E13D2C, 0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C,
	0xF718902A, 0x0B1C9CDB, 0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979,
	0xCCA6C0B2, 0x304A0979, 0x85AA43D4, 0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E,
	0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756,
};

/* Page header offsets (PageHeaderData, bufpage.h). */
enum { PD_LSN = 0, PD_CHECKSUM = 8, PD_FLAGS = 10, PD_LOWER = 12, PD_UPPER = 14, PD_SPECIAL = 16 };
#define PD_VALID_FLAG_BITS 0x0007u
#define PAGE_HEADER_SIZE 24u

static inline void mix_row(uint32_t *restrict sums, const uint32_t *restrict row)
{
	for (int j = 0; j < N_SUMS; j++) {
		uint32_t tmp = sums[j] ^ row[j];
		sums[j] = tmp * FNV_PRIME ^ (tmp >> 17);
	}
}

uint16_t vg_pg_checksum_page(const uint8_t *page, size_t blcksz, uint32_t blkno)
{
	uint32_t sums[N_SUMS];
	uint32_t row[N_SUMS];
	memcpy(sums, base_offsets, sizeof sums);
	/* Row 0 holds pd_checksum, which counts as zero. */
	memcpy(row, page, sizeof row);
	memset((uint8_t *)row + PD_CHECKSUM, 0, 2);
	mix_row(sums, row);
	for (size_t off = sizeof row; off + sizeof row <= blcksz; off += sizeof row) {
		memcpy(row, page + off, sizeof row);
		mix_row(sums, row);
	}
	memset(row, 0, sizeof row);
	mix_row(sums, row);
	mix_row(sums, row);
	uint32_t result = 0;
	for (int j = 0; j < N_SUMS; j++)
		result ^= sums[j];
	result ^= blkno;
	return (uint16_t)(result % 65535u + 1u);
}

uint64_t vg_pg_page_lsn(const uint8_t *page)
{
	/* PageXLogRecPtr: xlogid (high half) then xrecoff. */
	return (uint64_t)vg_get32(page + PD_LSN) << 32 | vg_get32(page + PD_LSN + 4);
}

uint16_t vg_pg_page_checksum_field(const uint8_t *page) { return vg_get16(page + PD_CHECKSUM); }

const char *vg_pg_fork_name(enum vg_pg_fork f)
{
	switch (f) {
	case VG_PG_FORK_MAIN: return "main";
	case VG_PG_FORK_FSM: return "fsm";
	case VG_PG_FORK_VM: return "vm";
	case VG_PG_FORK_INIT: return "init";
	}
	return "?";
}

const char *vg_pg_problem_name(enum vg_pg_problem p)
{
	switch (p) {
	case VG_PG_BAD_CHECKSUM: return "checksum mismatch";
	case VG_PG_BAD_NEWPAGE: return "new page not zeroed";
	case VG_PG_BAD_HEADER: return "invalid page header";
	case VG_PG_PARTIAL_PAGE: return "partial page";
	case VG_PG_READ_ERROR: return "read error";
	case VG_PG_BAD_NAME: return "invalid segment number";
	case VG_PG_BAD_COPY: return "bad read of a good page";
	}
	return "?";
}

bool vg_pg_problem_is_corrupt(enum vg_pg_problem p) { return p != VG_PG_BAD_NAME; }

static bool all_zero(const uint8_t *p, size_t n)
{
	static const uint8_t zero[256];
	for (; n >= sizeof zero; p += sizeof zero, n -= sizeof zero)
		if (memcmp(p, zero, sizeof zero))
			return false;
	return n == 0 || !memcmp(p, zero, n);
}

/* The header check PageIsVerifiedExtended() applies to every page read. */
static bool header_sane(const uint8_t *page, size_t blcksz)
{
	uint16_t flags = vg_get16(page + PD_FLAGS), lower = vg_get16(page + PD_LOWER);
	uint16_t upper = vg_get16(page + PD_UPPER), special = vg_get16(page + PD_SPECIAL);
	return (flags & ~PD_VALID_FLAG_BITS) == 0 && lower <= upper && upper <= special &&
	       special <= blcksz && (special & 7) == 0;
}

/* Verdict on one page: 0 good (new or valid), else the problem. */
static enum vg_pg_problem judge(const struct vg_pg_filecheck *fc, const uint8_t *page,
				uint32_t rel_block, uint16_t *expected, bool *is_new)
{
	size_t blcksz = fc->cl->ctl.blcksz;
	*is_new = false;
	*expected = 0;
	if (vg_get16(page + PD_UPPER) == 0) {
		if (all_zero(page, blcksz)) {
			*is_new = true;
			return 0;
		}
		if (fc->cl->ctl.data_checksum_version)
			*expected = vg_pg_checksum_page(page, blcksz, rel_block);
		return VG_PG_BAD_NEWPAGE;
	}
	if (fc->cl->ctl.data_checksum_version) {
		*expected = vg_pg_checksum_page(page, blcksz, rel_block);
		if (*expected != vg_pg_page_checksum_field(page))
			return VG_PG_BAD_CHECKSUM;
	}
	return header_sane(page, blcksz) ? 0 : VG_PG_BAD_HEADER;
}

static int add_finding(struct vg_pg_filecheck *fc, const struct vg_pg_finding *f, const char *detail)
{
	fc->st.problems++;
	if (fc->nfindings >= VG_PG_MAX_FINDINGS)
		return 0;
	void *grown = vg_pg_grow(fc->findings, &fc->capfindings, fc->nfindings + 1, sizeof *fc->findings,
				 VG_PG_MAX_FINDINGS);
	if (!grown)
		return VG_ERR(VG_ENOMEM, "out of memory recording a bad page of '%s'", fc->relpath);
	fc->findings = grown;
	struct vg_pg_finding *d = &fc->findings[fc->nfindings];
	*d = *f;
	d->relpath = strdup(fc->relpath);
	d->detail = detail ? strdup(detail) : NULL;
	if (!d->relpath || (detail && !d->detail)) {
		free(d->relpath);
		free(d->detail);
		return VG_ERR(VG_ENOMEM, "out of memory recording a bad page of '%s'", fc->relpath);
	}
	fc->nfindings++;
	return 0;
}

static void base_finding(const struct vg_pg_filecheck *fc, struct vg_pg_finding *f, uint64_t off)
{
	memset(f, 0, sizeof *f);
	f->fork = fc->rp.fork;
	f->segno = fc->rp.segno;
	f->block = (uint32_t)(off / fc->cl->ctl.blcksz);
	f->rel_block = fc->rp.segno * fc->cl->ctl.relseg_size + f->block;
}

/* Re-read the page at off; true when a whole page came back. */
static bool reread_page(struct vg_pg_filecheck *fc, uint64_t off)
{
	size_t got = 0;
	size_t blcksz = fc->cl->ctl.blcksz;
	if (!fc->reread || fc->reread(fc->reread_ctx, off, fc->scratch, blcksz, &got) < 0)
		return false;
	return got == blcksz;
}

/* Check one whole page at file offset off (rules 2 and 4).  page points
 * into the caller's buffer when patchable: a good re-read then replaces
 * the bad bytes there, so a backup stores the good copy. */
static int check_page(struct vg_pg_filecheck *fc, uint8_t *page, bool patchable, uint64_t off)
{
	struct vg_pg_finding f;
	base_finding(fc, &f, off);
	bool is_new;
	fc->st.blocks++;
	enum vg_pg_problem p = judge(fc, page, f.rel_block, &f.expected, &is_new);
	if (!p) {
		fc->st.new_pages += is_new;
		return 0;
	}
	uint8_t *first = page;
	if (reread_page(fc, off)) {
		page = fc->scratch;
		p = judge(fc, page, f.rel_block, &f.expected, &is_new);
		if (!p) {
			fc->st.reread_ok++;
			fc->st.new_pages += is_new;
			if (patchable) {
				memcpy(first, fc->scratch, fc->cl->ctl.blcksz);
				fc->st.patched++;
				return 0;
			}
			/* The caller's copy is bad and cannot be mended here; WAL
			 * replay mends it only if the page changed after the start. */
			uint64_t lsn = vg_pg_page_lsn(fc->scratch);
			if (fc->start_lsn && lsn >= fc->start_lsn)
				return 0;
			f.kind = VG_PG_BAD_COPY;
			f.found = vg_pg_page_checksum_field(first);
			f.lsn = lsn;
			fc->st.bad++;
			return add_finding(fc, &f, NULL);
		}
	}
	f.kind = p;
	f.found = vg_pg_page_checksum_field(page);
	f.lsn = vg_pg_page_lsn(page);
	if (fc->start_lsn && f.lsn >= fc->start_lsn) {
		fc->st.inflight++;
		return 0;
	}
	fc->st.bad++;
	return add_finding(fc, &f, NULL);
}

int vg_pg_file_begin(struct vg_pg_filecheck *fc, const struct vg_pg_cluster *cl, const char *relpath,
		     uint64_t start_lsn, vg_pg_reread_fn reread, void *reread_ctx)
{
	memset(fc, 0, sizeof *fc);
	fc->cl = cl;
	fc->start_lsn = start_lsn;
	fc->reread = reread;
	fc->reread_ctx = reread_ctx;
	vg_pg_classify(cl, relpath, &fc->rp);
	fc->relpath = strdup(relpath);
	fc->carry = malloc(cl->ctl.blcksz);
	fc->scratch = malloc(cl->ctl.blcksz);
	if (!fc->relpath || !fc->carry || !fc->scratch) {
		vg_pg_file_release(fc);
		return VG_ERR(VG_ENOMEM, "out of memory checking '%s'", relpath);
	}
	fc->st.files = 1;
	if (fc->rp.bad_name) {
		struct vg_pg_finding f;
		base_finding(fc, &f, 0);
		f.kind = VG_PG_BAD_NAME;
		return add_finding(fc, &f, NULL);
	}
	return 0;
}

int vg_pg_file_feed(struct vg_pg_filecheck *fc, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t blcksz = fc->cl->ctl.blcksz;
	int rc = 0;
	fc->st.bytes += len;
	/* A bad segment name means the block numbers are unknown: count only. */
	if (fc->rp.bad_name) {
		fc->off += len;
		return 0;
	}
	if (fc->carry_len) {
		size_t n = blcksz - fc->carry_len < len ? blcksz - fc->carry_len : len;
		memcpy(fc->carry + fc->carry_len, p, n);
		fc->carry_len += n;
		p += n;
		len -= n;
		if (fc->carry_len < blcksz)
			return 0;
		rc = check_page(fc, fc->carry, false, fc->off);
		fc->off += blcksz;
		fc->carry_len = 0;
	}
	for (; rc == 0 && len >= blcksz; p += blcksz, len -= blcksz, fc->off += blcksz)
		rc = check_page(fc, p, true, fc->off);
	if (rc == 0 && len) {
		memcpy(fc->carry, p, len);
		fc->carry_len = len;
	}
	return rc;
}

int vg_pg_file_end(struct vg_pg_filecheck *fc)
{
	if (!fc->carry_len)
		return 0;
	uint64_t off = fc->off;
	size_t partial = fc->carry_len;
	fc->carry_len = 0;
	fc->off += partial;
	/* A file being extended may have a whole page by now. */
	if (reread_page(fc, off)) {
		memcpy(fc->carry, fc->scratch, fc->cl->ctl.blcksz);
		return check_page(fc, fc->carry, false, off);
	}
	struct vg_pg_finding f;
	base_finding(fc, &f, off);
	f.kind = VG_PG_PARTIAL_PAGE;
	f.size = off + partial;
	fc->st.partial_files++;
	return add_finding(fc, &f, NULL);
}

int vg_pg_file_error(struct vg_pg_filecheck *fc, const char *msg)
{
	struct vg_pg_finding f;
	base_finding(fc, &f, fc->off);
	f.kind = VG_PG_READ_ERROR;
	return add_finding(fc, &f, msg);
}

void vg_pg_findings_free(struct vg_pg_finding *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].relpath);
		free(f[i].detail);
	}
	free(f);
}

void vg_pg_file_release(struct vg_pg_filecheck *fc)
{
	if (!fc)
		return;
	vg_pg_findings_free(fc->findings, fc->nfindings);
	free(fc->relpath);
	free(fc->carry);
	free(fc->scratch);
	fc->findings = NULL;
	fc->nfindings = fc->capfindings = 0;
	fc->relpath = NULL;
	fc->carry = fc->scratch = NULL;
}
