/*
 * test_pg_page.c - pg_control decoding, the page checksum against pages
 * written by a real PostgreSQL 15, the streaming verifier's rules (new
 * pages, splits, segments, re-read, LSN rule, partial pages, checksums
 * off) and the choice of files pg_checksums checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "source/pg_control.h"
#include "source/pg_page.h"
#include "source/pg_scan.h"
#include "t.h"

#define BLCKSZ 8192

static uint8_t *fixture(const char *name, size_t *len)
{
	const char *root = getenv("VG_ROOT");
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/fixtures/pg/%s", root ? root : ".", name);
	return t_read_file(path, len);
}

/* A cluster as pg_control-15 describes it. */
static int cluster(struct vg_pg_cluster *cl)
{
	size_t len;
	uint8_t *buf = fixture("pg_control-15", &len);
	if (!buf)
		return VG_ENOENT;
	memset(cl, 0, sizeof *cl);
	int rc = vg_pg_control_parse(buf, len, "pg_control-15", &cl->ctl);
	free(buf);
	cl->major = 15;
	strcpy(cl->tblspc_dir, "PG_15_202209061");
	return rc;
}

TEST(pg_control_of_a_real_cluster)
{
	struct vg_pg_cluster cl;
	T_OK(cluster(&cl));
	T_EQ(cl.ctl.control_version, 1300);
	T_EQ(cl.ctl.catalog_version, 202209061);
	T_CHECK(cl.ctl.system_id == 7711867677070121870ull);
	T_EQ(cl.ctl.state, VG_PG_DB_SHUTDOWNED);
	T_CHECK(vg_pg_control_is_shutdown(&cl.ctl));
	T_CHECK(cl.ctl.checkpoint_lsn == 0x316CD70);
	T_CHECK(cl.ctl.redo_lsn == 0x316CD70);
	T_EQ(cl.ctl.timeline, 1);
	T_EQ(cl.ctl.blcksz, 8192);
	T_EQ(cl.ctl.relseg_size, 131072);
	T_EQ(cl.ctl.xlog_seg_size, 16777216);
	T_EQ(cl.ctl.data_checksum_version, 1);
}

TEST(pg_control_damage_and_unknown_versions_are_refused)
{
	size_t len;
	uint8_t *buf = fixture("pg_control-15", &len);
	T_CHECK(buf);
	struct vg_pg_control c;
	/* One flipped bit anywhere under the CRC. */
	buf[220] ^= 0x01;
	T_EQ(vg_pg_control_parse(buf, len, "x", &c), VG_ECORRUPT);
	T_CHECK(strstr(vg_errmsg(), "CRC") != NULL);
	buf[220] ^= 0x01;
	/* Truncated. */
	T_EQ(vg_pg_control_parse(buf, 100, "x", &c), VG_ECORRUPT);
	T_EQ(vg_pg_control_parse(buf, 3, "x", &c), VG_ECORRUPT);
	/* A layout we do not know (PostgreSQL 12's 1201, 17's 1700). */
	vg_put32(buf + 8, 1201);
	T_EQ(vg_pg_control_parse(buf, len, "x", &c), VG_EVERSION);
	T_CHECK(strstr(vg_errmsg(), "1201") != NULL);
	vg_put32(buf + 8, 1700);
	T_EQ(vg_pg_control_parse(buf, len, "x", &c), VG_EVERSION);
	/* Valid CRC but an impossible block size is still refused. */
	vg_put32(buf + 8, 1300);
	vg_put32(buf + 216, 8000);
	vg_put32(buf + 288, vg_pg_crc32c(buf, 288));
	T_EQ(vg_pg_control_parse(buf, len, "x", &c), VG_ECORRUPT);
	free(buf);
}

TEST(checksum_matches_pages_written_by_postgresql)
{
	size_t len;
	uint8_t *heap = fixture("heap-page-blk7", &len);
	T_CHECK(heap && len == BLCKSZ);
	T_EQ(vg_pg_checksum_page(heap, BLCKSZ, 7), 0x35B6);
	T_EQ(vg_pg_page_checksum_field(heap), 0x35B6);
	/* The block number is part of the checksum. */
	T_CHECK(vg_pg_checksum_page(heap, BLCKSZ, 8) != 0x35B6);
	uint8_t *idx = fixture("btree-page-blk3", &len);
	T_CHECK(idx && len == BLCKSZ);
	T_EQ(vg_pg_checksum_page(idx, BLCKSZ, 3), 0x74FC);
	/* The stored checksum itself does not count; any alignment works. */
	uint8_t *odd = malloc(BLCKSZ + 1);
	memcpy(odd + 1, idx, BLCKSZ);
	vg_put16(odd + 1 + 8, 0);
	T_EQ(vg_pg_checksum_page(odd + 1, BLCKSZ, 3), 0x74FC);
	free(odd);
	free(heap);
	free(idx);
}

struct fake_file {
	const uint8_t *data; /* what a re-read returns */
	size_t len;
	int calls;
};

static int fake_reread(void *ctx, uint64_t off, void *buf, size_t len, size_t *got)
{
	struct fake_file *f = ctx;
	f->calls++;
	*got = 0;
	if (off < f->len) {
		*got = f->len - off < len ? f->len - off : len;
		memcpy(buf, f->data + off, *got);
	}
	return 0;
}

/* Feed data to a check of relpath in pieces of step bytes; returns the
 * stats and leaves the findings in *fc (caller releases). */
static int run_check(struct vg_pg_filecheck *fc, const struct vg_pg_cluster *cl, const char *relpath,
		     uint8_t *data, size_t len, size_t step, uint64_t start_lsn, struct fake_file *ff)
{
	int rc = vg_pg_file_begin(fc, cl, relpath, start_lsn, ff ? fake_reread : NULL, ff);
	for (size_t off = 0; rc == 0 && off < len; off += step)
		rc = vg_pg_file_feed(fc, data + off, len - off < step ? len - off : step);
	return rc ? rc : vg_pg_file_end(fc);
}

/* A file of n copies of the heap page, each with the checksum of its block
 * number in segment segno (as PostgreSQL would have written it). */
static uint8_t *make_file(const struct vg_pg_cluster *cl, unsigned n, uint32_t segno)
{
	size_t len;
	uint8_t *heap = fixture("heap-page-blk7", &len);
	uint8_t *f = heap ? malloc((size_t)n * BLCKSZ) : NULL;
	for (unsigned i = 0; f && i < n; i++) {
		uint8_t *p = f + (size_t)i * BLCKSZ;
		memcpy(p, heap, BLCKSZ);
		vg_put16(p + 8, vg_pg_checksum_page(p, BLCKSZ, segno * cl->ctl.relseg_size + i));
	}
	free(heap);
	return f;
}

TEST(any_split_of_the_stream_gives_the_same_verdict)
{
	struct vg_pg_cluster cl;
	T_OK(cluster(&cl));
	uint8_t *f = make_file(&cl, 4, 0);
	T_CHECK(f);
	f[2 * BLCKSZ + 5000] ^= 0x40; /* block 2 */
	static const size_t steps[] = {1, 7, 4096, 8191, 8192, 8193, 4 * BLCKSZ};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		struct vg_pg_filecheck fc;
		T_OK(run_check(&fc, &cl, "base/5/16396", f, 4 * BLCKSZ, steps[i], 0, NULL));
		T_EQ(fc.st.blocks, 4);
		T_EQ(fc.st.bad, 1);
		T_EQ(fc.nfindings, 1);
		T_EQ(fc.findings[0].kind, VG_PG_BAD_CHECKSUM);
		T_EQ(fc.findings[0].block, 2);
		T_EQ(fc.findings[0].found, vg_pg_page_checksum_field(f + 2 * BLCKSZ));
		T_EQ(fc.findings[0].expected, vg_pg_checksum_page(f + 2 * BLCKSZ, BLCKSZ, 2));
		T_CHECK(fc.findings[0].expected != fc.findings[0].found);
		T_CHECK(!strcmp(fc.findings[0].relpath, "base/5/16396"));
		vg_pg_file_release(&fc);
	}
	free(f);
}

TEST(block_numbers_continue_across_segments)
{
	struct vg_pg_cluster cl;
	T_OK(cluster(&cl));
	uint8_t *f = make_file(&cl, 3, 2); /* written for segment 2 */
	T_CHECK(f);
	struct vg_pg_filecheck fc;
	T_OK(run_check(&fc, &cl, "base/5/16396.2", f, 3 * BLCKSZ, BLCKSZ, 0, NULL));
	T_EQ(fc.st.bad, 0);
	vg_pg_file_release(&fc);
	/* The same pages read as segment 0 or 1 all fail, numbered as in the fork. */
	T_OK(run_check(&fc, &cl, "base/5/16396_fsm.1", f, 3 * BLCKSZ, BLCKSZ, 0, NULL));
	T_EQ(fc.st.bad, 3);
	T_EQ(fc.findings[2].block, 2);
	T_EQ(fc.findings[2].segno, 1);
	T_EQ(fc.findings[2].rel_block, 131072 + 2);
	T_EQ(fc.findings[2].fork, VG_PG_FORK_FSM);
	vg_pg_file_release(&fc);
	free(f);
}

TEST(new_pages_are_valid_only_when_all_zero)
{
	struct vg_pg_cluster cl;
	T_OK(cluster(&cl));
	uint8_t *f = calloc(2, BLCKSZ);
	f[BLCKSZ + 100] = 1; /* page 1: pd_upper 0, not all zeros */
	struct vg_pg_filecheck fc;
	T_OK(run_check(&fc, &cl, "base/1/1259", f, 2 * BLCKSZ, 3000, 0, NULL));
	T_EQ(fc.st.blocks, 2);
	T_EQ(fc.st.new_pages, 1);
	T_EQ(fc.st.bad, 1);
	T_EQ(fc.findings[0].kind, VG_PG_BAD_NEWPAGE);
	T_EQ(fc.findings[0].block, 1);
	vg_pg_file_release(&fc);
	free(f);
}

TEST(partial_trailing_page_is_reported_after_checking_whole_pages)
{
	struct vg_pg_cluster cl;
	T_OK(cluster(&cl));
	uint8_t *f = make_file(&cl, 3, 0);
	struct vg_pg_filecheck fc;
	size_t len = 2 * BLCKSZ + 100;
	struct fake_file ff = {f, len, 0};
	T_OK(run_check(&fc, &cl, "global/1262", f, len, 5000, 0, &ff));
	T_EQ(fc.st.blocks, 2);
	T_EQ(fc.st.bad, 0);
	T_EQ(fc.st.partial_files, 1);
	T_EQ(fc.nfindings, 1);
	T_EQ(fc.findings[0].kind, VG_PG_PARTIAL_PAGE);
	T_EQ(fc.findings[0].block, 2);
	T_EQ(fc.findings[0].size, len);
	vg_pg_file_release(&fc);
	/* Online, the file may have grown to a whole page by the re-read. */
	ff.len = 3 * BLCKSZ;
	T_OK(run_check(&fc, &cl, "global/1262", f, len, 5000, 0, &ff));
	T_EQ(fc.st.blocks, 3);
	T_EQ(fc.st.partial_files, 0);
	T_EQ(fc.nfindings, 0);
	vg_pg_file_release(&fc);
	free(f);
}

TEST(online_rules_reread_then_lsn)
{
	struct vg_pg_cluster cl;
	T_OK(cluster(&cl));
	uint8_t *good = make_file(&cl, 2, 0);
	uint8_t *torn = malloc(2 * BLCKSZ);
	memcpy(torn, good, 2 * BLCKSZ);
	memset(torn + BLCKSZ + 4096, 0xAB, 4096); /* block 1 torn */
	uint64_t lsn = vg_pg_page_lsn(good + BLCKSZ);
	T_CHECK(lsn > 0);
	struct vg_pg_filecheck fc;
	/* The write finished before the re-read: fine. */
	struct fake_file ff = {good, 2 * BLCKSZ, 0};
	T_OK(run_check(&fc, &cl, "base/5/16396", torn, 2 * BLCKSZ, BLCKSZ, lsn, &ff));
	T_EQ(ff.calls, 1);
	T_EQ(fc.st.reread_ok, 1);
	T_EQ(fc.st.bad, 0);
	vg_pg_file_release(&fc);
	/* (The torn copy was mended from the re-read: tear it again.) */
	T_CHECK(!memcmp(torn, good, 2 * BLCKSZ));
	memset(torn + BLCKSZ + 4096, 0xAB, 4096);
	/* Still torn, but the page is newer than the backup start: in flight. */
	ff = (struct fake_file){torn, 2 * BLCKSZ, 0};
	T_OK(run_check(&fc, &cl, "base/5/16396", torn, 2 * BLCKSZ, BLCKSZ, lsn, &ff));
	T_EQ(fc.st.inflight, 1);
	T_EQ(fc.st.bad, 0);
	vg_pg_file_release(&fc);
	/* Older than the backup start: corrupt, with the LSN reported. */
	T_OK(run_check(&fc, &cl, "base/5/16396", torn, 2 * BLCKSZ, BLCKSZ, lsn + 1, &ff));
	T_EQ(fc.st.inflight, 0);
	T_EQ(fc.st.bad, 1);
	T_CHECK(fc.findings[0].lsn == lsn);
	vg_pg_file_release(&fc);
	/* Offline (start LSN 0) nothing is in flight. */
	T_OK(run_check(&fc, &cl, "base/5/16396", torn, 2 * BLCKSZ, BLCKSZ, 0, &ff));
	T_EQ(fc.st.bad, 1);
	vg_pg_file_release(&fc);
	free(good);
	free(torn);
}

TEST(a_good_reread_mends_the_callers_copy)
{
	struct vg_pg_cluster cl;
	T_OK(cluster(&cl));
	uint8_t *good = make_file(&cl, 3, 0);
	uint8_t *copy = malloc(3 * BLCKSZ);
	memcpy(copy, good, 3 * BLCKSZ);
	copy[BLCKSZ + 6000] ^= 0x04; /* a bad read of block 1 */
	struct fake_file ff = {good, 3 * BLCKSZ, 0};
	struct vg_pg_filecheck fc;
	/* Whole pages fed: the copy is mended. */
	T_OK(run_check(&fc, &cl, "base/5/16396", copy, 3 * BLCKSZ, 2 * BLCKSZ, 0, &ff));
	T_EQ(fc.st.reread_ok, 1);
	T_EQ(fc.st.patched, 1);
	T_EQ(fc.st.bad, 0);
	T_CHECK(!memcmp(copy, good, 3 * BLCKSZ));
	vg_pg_file_release(&fc);
	/* Block 1 split across feeds: it cannot be mended, and a page older
	 * than the start will not be rewritten by WAL replay: the copy is bad. */
	copy[BLCKSZ + 6000] ^= 0x04;
	uint64_t lsn = vg_pg_page_lsn(good + BLCKSZ);
	T_OK(run_check(&fc, &cl, "base/5/16396", copy, 3 * BLCKSZ, BLCKSZ + 100, lsn + 1, &ff));
	T_EQ(fc.st.patched, 0);
	T_EQ(fc.st.bad, 1);
	T_EQ(fc.findings[0].kind, VG_PG_BAD_COPY);
	T_EQ(fc.findings[0].block, 1);
	T_CHECK(vg_pg_problem_is_corrupt(VG_PG_BAD_COPY));
	vg_pg_file_release(&fc);
	/* ... unless the page changed after the start. */
	T_OK(run_check(&fc, &cl, "base/5/16396", copy, 3 * BLCKSZ, BLCKSZ + 100, lsn, &ff));
	T_EQ(fc.st.bad, 0);
	vg_pg_file_release(&fc);
	free(good);
	free(copy);
}

TEST(without_checksums_headers_are_still_checked)
{
	struct vg_pg_cluster cl;
	T_OK(cluster(&cl));
	cl.ctl.data_checksum_version = 0;
	uint8_t *f = make_file(&cl, 3, 0);
	vg_put16(f + 8, 0x1234);              /* wrong checksum: not looked at */
	vg_put16(f + BLCKSZ + 14, 9000);      /* block 1: pd_upper past the page */
	vg_put16(f + 2 * BLCKSZ + 10, 0x0100); /* block 2: unknown flag bit */
	struct vg_pg_filecheck fc;
	T_OK(run_check(&fc, &cl, "base/5/16396", f, 3 * BLCKSZ, BLCKSZ, 0, NULL));
	T_EQ(fc.st.bad, 2);
	T_EQ(fc.findings[0].kind, VG_PG_BAD_HEADER);
	T_EQ(fc.findings[0].block, 1);
	T_EQ(fc.findings[1].block, 2);
	vg_pg_file_release(&fc);
	free(f);
}

TEST(report_collects_findings_and_counts)
{
	struct vg_pg_cluster cl;
	T_OK(cluster(&cl));
	uint8_t *f = make_file(&cl, 2, 0);
	f[100] ^= 1;
	struct vg_pg_report rep = {0};
	for (int i = 0; i < 3; i++) {
		struct vg_pg_filecheck fc;
		T_OK(run_check(&fc, &cl, "base/5/16396", f, 2 * BLCKSZ, BLCKSZ, 0, NULL));
		T_OK(vg_pg_report_add(&rep, &fc));
		vg_pg_file_release(&fc);
	}
	T_EQ(rep.st.files, 3);
	T_EQ(rep.st.blocks, 6);
	T_EQ(rep.st.bad, 3);
	T_EQ(rep.nfindings, 3);
	T_EQ(vg_pg_report_corrupt(&rep), 3);
	vg_pg_report_release(&rep);
	free(f);
}

TEST(files_checked_are_those_pg_checksums_checks)
{
	struct vg_pg_cluster cl;
	T_OK(cluster(&cl));
	static const struct {
		const char *path;
		int checked, fork, segno, bad_name;
	} cases[] = {
		{"base/5/16396", 1, VG_PG_FORK_MAIN, 0, 0},
		{"base/5/16396.1", 1, VG_PG_FORK_MAIN, 1, 0},
		{"base/5/16396_fsm", 1, VG_PG_FORK_FSM, 0, 0},
		{"base/5/16396_vm.3", 1, VG_PG_FORK_VM, 3, 0},
		{"base/5/16396_init", 1, VG_PG_FORK_INIT, 0, 0},
		{"base/5/t3_16400_fsm", 1, VG_PG_FORK_FSM, 0, 0},
		{"global/1262", 1, 0, 0, 0},
		{"global/pg_control", 0, 0, 0, 0},
		{"global/pg_filenode.map", 0, 0, 0, 0},
		{"base/5/pg_filenode.map", 0, 0, 0, 0},
		{"base/5/PG_VERSION", 0, 0, 0, 0},
		{"base/5/pg_internal.init", 0, 0, 0, 0},
		{"global/pg_internal.init.1234", 0, 0, 0, 0},
		{"base/pgsql_tmp/pgsql_tmp123.0", 0, 0, 0, 0},
		{"base/5/pgsql_tmp55", 0, 0, 0, 0},
		{"base/5/16396.0", 1, 0, 0, 1},
		{"base/5/16396.x", 1, 0, 0, 1},
		{"pg_tblspc/16390/PG_15_202209061/5/16391", 1, 0, 0, 0},
		{"pg_tblspc/16390/PG_14_202107181/5/16391", 0, 0, 0, 0},
		{"pg_tblspc/16390/somefile", 0, 0, 0, 0},
		{"pg_wal/000000010000000000000001", 0, 0, 0, 0},
		{"pg_xact/0000", 0, 0, 0, 0},
		{"PG_VERSION", 0, 0, 0, 0},
		{"postgresql.conf", 0, 0, 0, 0},
		{"base", 0, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct vg_pg_relpath rp;
		vg_pg_classify(&cl, cases[i].path, &rp);
		T_CHECKF(rp.checked == cases[i].checked, "%s: checked %d", cases[i].path, rp.checked);
		if (!rp.checked)
			continue;
		T_CHECKF((int)rp.fork == cases[i].fork, "%s: fork %d", cases[i].path, rp.fork);
		T_CHECKF((int)rp.segno == cases[i].segno, "%s: segno %u", cases[i].path, rp.segno);
		T_CHECKF(rp.bad_name == cases[i].bad_name, "%s: bad_name", cases[i].path);
	}
	T_CHECK(vg_pg_dir_scanned(&cl, "base/5"));
	T_CHECK(vg_pg_dir_scanned(&cl, "pg_tblspc/16390"));
	T_CHECK(vg_pg_dir_scanned(&cl, "pg_tblspc/16390/PG_15_202209061"));
	T_CHECK(!vg_pg_dir_scanned(&cl, "pg_tblspc/16390/PG_14_202107181"));
	T_CHECK(!vg_pg_dir_scanned(&cl, "base/pgsql_tmp"));
	T_CHECK(!vg_pg_dir_scanned(&cl, "pg_wal"));
}

static void put(const char *path, const void *data, size_t len)
{
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
	if (t_sh("%s", cmd) != 0 || t_write_file(path, data, len) != 0)
		t_fail(__FILE__, __LINE__, "cannot write %s", path);
}

TEST(scan_walks_what_pg_checksums_walks)
{
	struct vg_pg_cluster cl;
	T_OK(cluster(&cl));
	size_t len;
	uint8_t *ctl = fixture("pg_control-15", &len);
	uint8_t *good = make_file(&cl, 3, 0);
	T_CHECK(ctl && good);
	char d[1024], ts[1024];
	snprintf(d, sizeof d, "%s", t_path("data"));
	snprintf(ts, sizeof ts, "%s", t_path("ts"));
	put(t_path("data/PG_VERSION"), "15\n", 3);
	put(t_path("data/global/pg_control"), ctl, len);
	put(t_path("data/global/1262"), good, 2 * BLCKSZ);
	put(t_path("data/global/pg_filenode.map"), "junk", 4);
	put(t_path("data/base/5/pg_internal.init"), "junk", 4);
	put(t_path("data/base/5/PG_VERSION"), "15\n", 3);
	put(t_path("data/base/pgsql_tmp/pgsql_tmp1.0"), "junk", 4);
	put(t_path("data/base/5/pgsql_tmp/x"), "junk", 4);
	put(t_path("data/pg_wal/000000010000000000000001"), "junk", 4);
	good[BLCKSZ + 3000] ^= 1;
	put(t_path("data/base/5/16396"), good, 3 * BLCKSZ);
	good[BLCKSZ + 3000] ^= 1;
	/* A tablespace: only its version directory is scanned. */
	put(t_path("ts/PG_15_202209061/5/16391"), good, BLCKSZ);
	put(t_path("ts/PG_14_202107181/5/16391"), "junk", 4);
	put(t_path("ts/stray"), "junk", 4);
	T_EQ(t_sh("mkdir -p %s/pg_tblspc && ln -s %s %s/pg_tblspc/16390", d, ts, d), 0);
	struct vg_pg_scan_result r;
	T_OK(vg_pg_scan(d, NULL, &r));
	T_CHECK(!r.online);
	T_EQ(r.rep.st.files, 3);
	T_EQ(r.rep.st.blocks, 6);
	T_EQ(r.rep.st.bad, 1);
	T_EQ(r.rep.nfindings, 1);
	T_CHECK(!strcmp(r.rep.findings[0].relpath, "base/5/16396"));
	T_EQ(r.rep.findings[0].block, 1);
	T_EQ(vg_pg_report_level(&r.rep, &r.cl), VG_PG_LEVEL_CRIT);
	vg_pg_scan_release(&r);
	/* Not a data directory. */
	T_EQ(vg_pg_scan(ts, NULL, &r), VG_ENOENT);
	vg_pg_scan_release(&r);
	free(ctl);
	free(good);
}
