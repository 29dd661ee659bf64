/*
 * test_pg_wal.c - WAL archive names, LSNs, timeline history files, and the
 * continuity walk on synthetic archives: WAL-G's three classes, timeline
 * switches (including WAL-G's guard and two switches in one segment), the
 * layouts and compressed names of common archivers, the segment size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "source/pg_wal.h"
#include "t.h"

TEST(wal_names)
{
	static const struct {
		const char *name;
		int kind;
		unsigned tli, log, seg;
		const char *comp;
	} cases[] = {
		{"000000010000000000000003", VG_PG_WAL_SEGMENT, 1, 0, 3, ""},
		{"0000000A000000FF000000FE", VG_PG_WAL_SEGMENT, 10, 255, 254, ""},
		{"000000010000000000000003.gz", VG_PG_WAL_SEGMENT, 1, 0, 3, "gz"},
		{"000000010000000000000003.zst", VG_PG_WAL_SEGMENT, 1, 0, 3, "zst"},
		{"000000010000000000000003.lz4", VG_PG_WAL_SEGMENT, 1, 0, 3, "lz4"},
		{"000000010000000000000003.br", VG_PG_WAL_SEGMENT, 1, 0, 3, "br"},
		{"000000010000000000000003.partial", VG_PG_WAL_PARTIAL, 1, 0, 3, ""},
		{"000000010000000000000003.partial.gz", VG_PG_WAL_PARTIAL, 1, 0, 3, "gz"},
		{"000000010000000000000003-0123456789abcdef0123456789abcdef01234567.gz", VG_PG_WAL_SEGMENT, 1, 0, 3, "gz"},
		{"000000010000000000000003.partial-0123456789abcdef0123456789abcdef01234567", VG_PG_WAL_PARTIAL, 1, 0, 3, ""},
		{"00000002.history", VG_PG_WAL_HISTORY, 2, 0, 0, ""},
		{"00000002.history.br", VG_PG_WAL_HISTORY, 2, 0, 0, "br"},
		{"000000010000000000000002.00000028.backup", VG_PG_WAL_BACKUP, 1, 0, 2, ""},
		{"00000000.history", VG_PG_WAL_OTHER, 0, 0, 0, ""},
		{"000000000000000000000003", VG_PG_WAL_OTHER, 0, 0, 0, ""},
		{"00000001000000000000000a", VG_PG_WAL_OTHER, 0, 0, 0, ""},
		{"00000001000000000000003", VG_PG_WAL_OTHER, 0, 0, 0, ""},
		{"0000000100000000000000030", VG_PG_WAL_OTHER, 0, 0, 0, ""},
		{"000000010000000000000003.tmp", VG_PG_WAL_OTHER, 0, 0, 0, ""},
		{"000000010000000000000003.gz.gz", VG_PG_WAL_OTHER, 0, 0, 0, ""},
		{"archive_status", VG_PG_WAL_OTHER, 0, 0, 0, ""},
		{".gz", VG_PG_WAL_OTHER, 0, 0, 0, ""},
		{"", VG_PG_WAL_OTHER, 0, 0, 0, ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct vg_pg_walname n;
		vg_pg_walname_parse(cases[i].name, &n);
		T_CHECKF((int)n.kind == cases[i].kind, "%s: kind %d", cases[i].name, n.kind);
		T_CHECKF(n.tli == cases[i].tli && n.log == cases[i].log && n.seg == cases[i].seg, "%s: %u %u %u",
			 cases[i].name, n.tli, n.log, n.seg);
		T_CHECKF(!strcmp(n.compression, cases[i].comp), "%s: compression '%s'", cases[i].name, n.compression);
	}
}

TEST(segment_numbers_depend_on_the_segment_size)
{
	struct vg_pg_walname n;
	vg_pg_walname_parse("0000000100000002000000FF", &n);
	uint64_t segno;
	T_CHECK(vg_pg_walname_segno(&n, 16u << 20, &segno));
	T_EQ(segno, 2 * 256 + 255);
	T_CHECK(vg_pg_walname_segno(&n, 1u << 20, &segno));
	T_EQ(segno, 2 * 4096 + 255);
	T_CHECK(!vg_pg_walname_segno(&n, 64u << 20, &segno)); /* only 64 per log */
	char buf[25];
	vg_pg_walname_format(3, 2 * 256 + 255, 16u << 20, buf);
	T_CHECK(!strcmp(buf, "0000000300000002000000FF"));
	vg_pg_walname_format(1, 4096, 1u << 20, buf);
	T_CHECK(!strcmp(buf, "000000010000000100000000"));
}

TEST(lsns)
{
	uint64_t l;
	T_OK(vg_pg_lsn_parse("16/B374D848", &l));
	T_CHECK(l == 0x16B374D848ull);
	T_OK(vg_pg_lsn_parse("0/0", &l));
	T_EQ(l, 0);
	T_OK(vg_pg_lsn_parse("ffffffff/ffffffff", &l));
	T_CHECK(l == UINT64_MAX);
	T_EQ(vg_pg_lsn_parse("16B374D848", &l), VG_EINVAL);
	T_EQ(vg_pg_lsn_parse("1/", &l), VG_EINVAL);
	T_EQ(vg_pg_lsn_parse("/1", &l), VG_EINVAL);
	T_EQ(vg_pg_lsn_parse("100000000/0", &l), VG_EINVAL);
	T_EQ(vg_pg_lsn_parse("1/2 ", &l), VG_EINVAL);
}

TEST(history_files)
{
	const char *h = "1\t0/3000158\tno recovery target specified\n\n"
			"# comment\n"
			"2\t0/5000000\tat restore point \"x\"\n"
			"4\t1/A0\tbefore transaction 1234\n";
	struct vg_pg_tlhist *e;
	size_t n;
	T_OK(vg_pg_history_parse(h, strlen(h), "00000005.history", &e, &n));
	T_EQ(n, 3);
	T_EQ(e[0].tli, 1);
	T_CHECK(e[0].switch_lsn == 0x3000158);
	T_EQ(e[2].tli, 4);
	T_CHECK(e[2].switch_lsn == 0x1000000A0ull);
	free(e);
	static const char *const bad[] = {
		"1\n", "x\t0/1\n", "1\t0/1\n1\t0/2\n", "2\t0/5\n1\t0/6\n", "1\t0/6\n2\t0/5\n", "1\tzz\n", "0\t0/1\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		T_CHECKF(vg_pg_history_parse(bad[i], strlen(bad[i]), "h", &e, &n) == VG_ECORRUPT, "%s", bad[i]);
		T_CHECK(e == NULL && n == 0);
	}
	/* The line number is in the message. */
	vg_pg_history_parse("1\t0/1\nbad\n", 10, "00000003.history", &e, &n);
	T_CHECK(strstr(vg_errmsg(), "00000003.history' line 2") != NULL);
}

/* Create archive files ("TTTTTTTT" + segment numbers, 16 MiB sparse). */
static void touch(const char *dir, const char *name, long size)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f)
		fclose(f);
	if (size > 0 && truncate(path, size) != 0)
		t_fail(__FILE__, __LINE__, "truncate %s", path);
}

static void segs(const char *dir, unsigned tli, unsigned from, unsigned to, const char *suffix)
{
	for (unsigned i = from; i <= to; i++) {
		char name[128];
		snprintf(name, sizeof name, "%08X%08X%08X%s", tli, i / 256, i % 256, suffix);
		touch(dir, name, suffix[0] ? 100 : 16 << 20);
	}
}

static void del(const char *dir, unsigned tli, unsigned i, const char *suffix)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%08X%08X%08X%s", dir, tli, i / 256, i % 256, suffix);
	unlink(path);
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	t_write_file(path, text, strlen(text));
}

/* The ranges as "tli:first-last:STATUS ..." (numbers in decimal). */
static const char *ranges(const struct vg_pg_walreport *r)
{
	static char buf[2048];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < r->nranges && n < sizeof buf - 100; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%u:%llu-%llu:%s", i ? " " : "", r->ranges[i].tli,
				      (unsigned long long)r->ranges[i].first, (unsigned long long)r->ranges[i].last,
				      vg_pg_segstatus_name(r->ranges[i].status));
	return buf;
}

static struct vg_pg_walverify_opts opts(const char *dir)
{
	return (struct vg_pg_walverify_opts){.archive = dir, .upload_concurrency = 16};
}

TEST(walg_classes_delayed_uploading_lost)
{
	const char *a = t_tmpdir();
	segs(a, 1, 1, 40, "");
	del(a, 1, 5, "");                                      /* far back: lost */
	del(a, 1, 30, "");                                     /* within the upload window */
	for (unsigned i = 37; i <= 40; i++)                    /* the newest: not archived yet */
		del(a, 1, i, "");
	struct vg_pg_walverify_opts o = opts(a);
	o.end = "000000010000000000000028";                    /* 40 */
	o.max_delayed = 3;
	o.upload_concurrency = 10;
	struct vg_pg_walreport r;
	T_OK(vg_pg_walverify(&o, &r));
	/* 40..38 delayed (limit 3), 37 starts the upload window (37..28),
	 * everything older is judged lost. */
	T_CHECKF(!strcmp(ranges(&r), "1:1-4:FOUND 1:5-5:MISSING_LOST 1:6-29:FOUND 1:30-30:MISSING_UPLOADING "
				     "1:31-36:FOUND 1:37-37:MISSING_UPLOADING 1:38-40:MISSING_DELAYED"),
		 "%s", ranges(&r));
	T_EQ(r.integrity, VG_PG_FAILURE);
	T_EQ(r.verdict, VG_PG_FAILURE);
	T_EQ(r.count[VG_PG_SEG_MISSING_LOST], 1);
	vg_pg_walreport_release(&r);
	/* Delayed stops at the first found segment. */
	o.end = "000000010000000000000025"; /* 37, missing */
	o.max_delayed = 100;
	T_OK(vg_pg_walverify(&o, &r));
	T_CHECKF(!strcmp(ranges(&r), "1:1-4:FOUND 1:5-5:MISSING_LOST 1:6-29:FOUND 1:30-30:MISSING_UPLOADING "
				     "1:31-36:FOUND 1:37-37:MISSING_DELAYED"),
		 "%s", ranges(&r));
	vg_pg_walreport_release(&r);
	/* Nothing missing at all. */
	o.end = "000000010000000000000004";
	T_OK(vg_pg_walverify(&o, &r));
	T_CHECKF(!strcmp(ranges(&r), "1:1-4:FOUND"), "%s", ranges(&r));
	T_EQ(r.verdict, VG_PG_OK);
	vg_pg_walreport_release(&r);
}

TEST(only_recent_gaps_are_a_warning)
{
	const char *a = t_tmpdir();
	segs(a, 1, 1, 10, "");
	struct vg_pg_walverify_opts o = opts(a);
	o.end = "00000001000000000000000C"; /* 11 and 12 not there yet */
	struct vg_pg_walreport r;
	T_OK(vg_pg_walverify(&o, &r));
	T_CHECKF(!strcmp(ranges(&r), "1:1-10:FOUND 1:11-12:MISSING_UPLOADING"), "%s", ranges(&r));
	T_EQ(r.verdict, VG_PG_WARNING);
	vg_pg_walreport_release(&r);
	/* WAL-G's defaults (no delayed window, 16 uploading): from the newest
	 * archived segment 40, the window is 40..25; 24 is lost. */
	segs(a, 1, 11, 40, "");
	del(a, 1, 24, "");
	del(a, 1, 25, "");
	o.end = NULL;
	T_OK(vg_pg_walverify(&o, &r));
	T_CHECKF(!strcmp(ranges(&r), "1:1-23:FOUND 1:24-24:MISSING_LOST 1:25-25:MISSING_UPLOADING 1:26-40:FOUND"),
		 "%s", ranges(&r));
	vg_pg_walreport_release(&r);
}

TEST(a_server_position_excludes_the_segment_being_written)
{
	const char *a = t_tmpdir();
	segs(a, 1, 1, 9, "");
	struct vg_pg_walverify_opts o = opts(a);
	o.have_server = true;
	o.server_tli = 1;
	o.server_lsn = 10ull * (16 << 20) + 0x60; /* inside segment 10 */
	o.segsize = 16 << 20;
	struct vg_pg_walreport r;
	T_OK(vg_pg_walverify(&o, &r));
	T_CHECKF(!strcmp(ranges(&r), "1:1-9:FOUND"), "%s", ranges(&r));
	vg_pg_walreport_release(&r);
	/* Exactly at a boundary (right after pg_switch_wal), LSN - 1 is in
	 * segment 9, the walk starts at 8. */
	o.server_lsn = 10ull * (16 << 20);
	T_OK(vg_pg_walverify(&o, &r));
	T_CHECKF(!strcmp(ranges(&r), "1:1-8:FOUND"), "%s", ranges(&r));
	vg_pg_walreport_release(&r);
}

TEST(timeline_switches_follow_the_history_file)
{
	const char *a = t_tmpdir();
	/* TL1 1..5, switch to TL2 in segment 5 (TL1's 5 kept as .partial), TL2
	 * 5..8, switch to TL3 at the very start of segment 9, TL3 9..12. */
	segs(a, 1, 1, 4, "");
	segs(a, 1, 5, 5, ".partial");
	segs(a, 2, 5, 8, "");
	segs(a, 3, 9, 12, "");
	write_text(a, "00000002.history", "1\t0/5000123\tno recovery target specified\n");
	write_text(a, "00000003.history", "1\t0/5000123\tno recovery target specified\n\n"
					  "2\t0/9000000\tno recovery target specified\n");
	struct vg_pg_walverify_opts o = opts(a);
	struct vg_pg_walreport r;
	T_OK(vg_pg_walverify(&o, &r));
	T_CHECKF(!strcmp(ranges(&r), "1:1-4:FOUND 2:5-8:FOUND 3:9-12:FOUND"), "%s", ranges(&r));
	T_EQ(r.verdict, VG_PG_OK);
	T_EQ(r.current_tli, 3);
	T_EQ(r.highest_tli, 3);
	T_EQ(r.partials, 1);
	T_EQ(r.histories, 2);
	vg_pg_walreport_release(&r);
	/* Missing TL2 segment 6: lost on timeline 2 (beyond an upload window
	 * of 2). */
	del(a, 2, 6, "");
	o.upload_concurrency = 2;
	T_OK(vg_pg_walverify(&o, &r));
	T_CHECKF(!strcmp(ranges(&r), "1:1-4:FOUND 2:5-5:FOUND 2:6-6:MISSING_LOST 2:7-8:FOUND 3:9-12:FOUND"),
		 "%s", ranges(&r));
	vg_pg_walreport_release(&r);
	/* The cluster is still on timeline 2 (an older end): TL3 exists in the
	 * archive, so the timeline check fails as in WAL-G. */
	segs(a, 2, 6, 6, "");
	o.end = "000000020000000000000008";
	T_OK(vg_pg_walverify(&o, &r));
	T_CHECKF(!strcmp(ranges(&r), "1:1-4:FOUND 2:5-8:FOUND"), "%s", ranges(&r));
	T_EQ(r.integrity, VG_PG_OK);
	T_EQ(r.timeline, VG_PG_FAILURE);
	vg_pg_walreport_release(&r);
}

TEST(two_switches_in_one_segment_and_walgs_guard)
{
	const char *a = t_tmpdir();
	/* TL2 lived only inside segment 5: TL1 1..4, TL3 from 5. */
	segs(a, 1, 1, 4, "");
	segs(a, 3, 5, 7, "");
	write_text(a, "00000003.history", "1\t0/5000100\tx\n2\t0/5000200\ty\n");
	struct vg_pg_walverify_opts o = opts(a);
	struct vg_pg_walreport r;
	T_OK(vg_pg_walverify(&o, &r));
	T_CHECKF(!strcmp(ranges(&r), "1:1-4:FOUND 3:5-7:FOUND"), "%s", ranges(&r));
	vg_pg_walreport_release(&r);
	/* WAL-G ignores a switch when the newer timeline itself has the
	 * segment before it (a history record the cluster never followed), and
	 * stays on that timeline. */
	segs(a, 3, 4, 4, "");
	o.upload_concurrency = 0;
	T_OK(vg_pg_walverify(&o, &r));
	T_CHECKF(!strcmp(ranges(&r), "3:1-3:MISSING_LOST 3:4-7:FOUND"), "%s", ranges(&r));
	vg_pg_walreport_release(&r);
}

TEST(missing_history_is_explained)
{
	const char *a = t_tmpdir();
	segs(a, 1, 1, 4, "");
	segs(a, 2, 5, 6, "");
	struct vg_pg_walverify_opts o = opts(a);
	o.upload_concurrency = 0;
	struct vg_pg_walreport r;
	T_OK(vg_pg_walverify(&o, &r));
	T_EQ(r.nnotes, 1);
	T_CHECK(strstr(r.notes[0], "00000002.history is not in the archive") != NULL);
	T_CHECKF(!strcmp(ranges(&r), "2:1-4:MISSING_LOST 2:5-6:FOUND"), "%s", ranges(&r));
	vg_pg_walreport_release(&r);
	/* A garbled history is an error naming it. */
	write_text(a, "00000002.history", "this is not a history file\n");
	T_EQ(vg_pg_walverify(&o, &r), VG_ECORRUPT);
	T_CHECK(strstr(vg_errmsg(), "00000002.history' line 1") != NULL);
	vg_pg_walreport_release(&r);
}

TEST(archiver_layouts_and_compressed_names)
{
	const char *a = t_tmpdir();
	/* pgBackRest: 16-hex-digit subdirectories, "-<sha1>.gz" names. */
	char sub[1024];
	snprintf(sub, sizeof sub, "%s/0000000100000000", a);
	T_EQ(mkdir(sub, 0700), 0);
	segs(sub, 1, 1, 3, "-0123456789abcdef0123456789abcdef01234567.gz");
	segs(a, 1, 4, 4, ".zst");
	segs(a, 1, 5, 5, ".lz4");
	segs(a, 1, 6, 6, ".br");
	segs(a, 1, 7, 7, ".partial"); /* not a complete segment */
	touch(a, "000000010000000000000002.00000028.backup", 300);
	touch(a, "README", 10);
	struct vg_pg_walverify_opts o = opts(a);
	o.end = "000000010000000000000007";
	o.upload_concurrency = 0;
	struct vg_pg_walreport r;
	T_OK(vg_pg_walverify(&o, &r));
	T_CHECKF(!strcmp(ranges(&r), "1:1-6:FOUND 1:7-7:MISSING_LOST"), "%s", ranges(&r));
	T_EQ(r.segments, 6);
	T_EQ(r.partials, 1);
	T_EQ(r.others, 1);
	/* Only compressed files: the size cannot be measured. */
	T_CHECK(r.segsize_assumed);
	T_EQ(r.segsize, 16 << 20);
	T_CHECK(r.nnotes == 1 && strstr(r.notes[0], "--wal-segsize"));
	vg_pg_walreport_release(&r);
}

TEST(segment_size_from_the_files)
{
	const char *a = t_tmpdir();
	/* 1 MiB segments: 4096 per log, so "...00000001000000FF" follows
	 * "...0000000000000FFE" only 2 segments later. */
	touch(a, "000000010000000000000FFE", 1 << 20);
	touch(a, "000000010000000000000FFF", 1 << 20);
	touch(a, "000000010000000100000000", 1 << 20);
	struct vg_pg_walverify_opts o = opts(a);
	struct vg_pg_walreport r;
	T_OK(vg_pg_walverify(&o, &r));
	T_EQ(r.segsize, 1 << 20);
	T_CHECKF(!strcmp(ranges(&r), "1:4094-4096:FOUND"), "%s", ranges(&r));
	vg_pg_walreport_release(&r);
	/* Told 16 MiB, the names are impossible: a clear error. */
	o.segsize = 16 << 20;
	T_EQ(vg_pg_walverify(&o, &r), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "--wal-segsize") != NULL);
	vg_pg_walreport_release(&r);
}

TEST(bad_options_and_empty_archives)
{
	const char *a = t_tmpdir();
	struct vg_pg_walverify_opts o = opts(a);
	struct vg_pg_walreport r;
	T_EQ(vg_pg_walverify(&o, &r), VG_ENOENT);
	T_CHECK(strstr(vg_errmsg(), "no WAL segments") != NULL);
	vg_pg_walreport_release(&r);
	segs(a, 1, 1, 3, "");
	o.start = "000000010000000000000009";
	o.end = "000000010000000000000003";
	T_EQ(vg_pg_walverify(&o, &r), VG_EINVAL);
	vg_pg_walreport_release(&r);
	o.start = "000000010000000000000003.gz";
	T_EQ(vg_pg_walverify(&o, &r), VG_EINVAL);
	vg_pg_walreport_release(&r);
	o.start = "000000010000000000000000";
	o.end = "0000000100FFFFFF000000FF";
	T_EQ(vg_pg_walverify(&o, &r), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "later --start") != NULL);
	vg_pg_walreport_release(&r);
	o = opts(t_path("nowhere"));
	T_EQ(vg_pg_walverify(&o, &r), VG_ENOENT);
	vg_pg_walreport_release(&r);
}
