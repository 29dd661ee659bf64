/*
 * cmd_wal_verify.c - `vigil wal-verify ARCHIVE_DIR [--start SEGMENT]
 * [--end SEGMENT | --connstr CONNSTR] [--wal-segsize BYTES]
 * [--max-delayed N] [--upload-concurrency N] [--json]`.
 *
 * Prints WAL-G's two checks (integrity: ranges of found and missing
 * segments per timeline; timeline: the cluster's vs the archive's highest)
 * as a table, or WAL-G's JSON shape with a few more fields.  Exit status:
 * 0 OK, 1 WARNING, 2 FAILURE.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "source/pg_wal.h"

static const char *const CMD = "wal-verify";

static bool parse_count(const char *s, unsigned max, unsigned *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return false;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

/* "16777216", "16MB", "16M", "64MiB" */
static bool parse_segsize(const char *s, uint32_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (!strcmp(end, "MB") || !strcmp(end, "M") || !strcmp(end, "MiB"))
		v <<= 20;
	else if (*end)
		return false;
	if (v < (1u << 20) || v > (1u << 30) || (v & (v - 1)))
		return false;
	*out = (uint32_t)v;
	return true;
}

static json_t *ranges_json(const struct vg_pg_walreport *r)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < r->nranges; i++) {
		const struct vg_pg_walrange *g = &r->ranges[i];
		char s[25], e[25];
		vg_pg_walname_format(g->tli, g->first, r->segsize, s);
		vg_pg_walname_format(g->tli, g->last, r->segsize, e);
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:I, s:s}", "timeline_id",
						     (json_int_t)g->tli, "start_segment", s, "end_segment", e,
						     "segments_count", (json_int_t)(g->last - g->first + 1),
						     "status", vg_pg_segstatus_name(g->status)));
	}
	return arr;
}

static int print_json(const char *archive, const struct vg_pg_walreport *r)
{
	char s[25], e[25];
	vg_pg_walname_format(r->start_tli, r->start_segno, r->segsize, s);
	vg_pg_walname_format(r->end_tli, r->end_segno, r->segsize, e);
	json_t *notes = json_array();
	for (size_t i = 0; notes && i < r->nnotes; i++)
		json_array_append_new(notes, json_string(r->notes[i]));
	json_t *o = json_pack(
		"{s:s, s:s, s:I, s:b, s:s, s:s, s:{s:s, s:o}, s:{s:s, s:{s:I, s:I}}, s:{s:I, s:I, s:I, s:I}, s:o}",
		"status", vg_pg_verdict_name(r->verdict), "archive", archive, "wal_segment_size",
		(json_int_t)r->segsize, "wal_segment_size_assumed", r->segsize_assumed, "start_segment", s,
		"end_segment", e, "integrity", "status", vg_pg_verdict_name(r->integrity), "details",
		ranges_json(r), "timeline", "status", vg_pg_verdict_name(r->timeline), "details",
		"current_timeline_id", (json_int_t)r->current_tli, "highest_storage_timeline_id",
		(json_int_t)r->highest_tli, "archive_files", "segments", (json_int_t)r->segments,
		"partial_segments", (json_int_t)r->partials, "history_files", (json_int_t)r->histories,
		"other_files", (json_int_t)r->others, "notes", notes);
	char *txt = o ? json_dumps(o, JSON_INDENT(3)) : NULL;
	json_decref(o);
	if (!txt)
		return cli_fail(VG_ERR(VG_ENOMEM, "out of memory"));
	puts(txt);
	free(txt);
	return 0;
}

static void print_rule(void)
{
	printf("+-----+--------------------------+--------------------------+----------------+-------------------+\n");
}

static int print_human(const char *archive, const struct vg_pg_walreport *r)
{
	char s[25], e[25];
	vg_pg_walname_format(r->start_tli, r->start_segno, r->segsize, s);
	vg_pg_walname_format(r->end_tli, r->end_segno, r->segsize, e);
	printf("WAL archive '%s': %" PRIu64 " segments, %" PRIu64 " partial, %" PRIu64
	       " history files; segment size %u MiB%s\n",
	       archive, r->segments, r->partials, r->histories, r->segsize >> 20,
	       r->segsize_assumed ? " (assumed)" : "");
	printf("checked %s to %s\n", s, e);
	printf("integrity check status: %s\n", vg_pg_verdict_name(r->integrity));
	print_rule();
	printf("| TLI | START                    | END                      | SEGMENTS COUNT | STATUS            |\n");
	print_rule();
	for (size_t i = 0; i < r->nranges; i++) {
		const struct vg_pg_walrange *g = &r->ranges[i];
		vg_pg_walname_format(g->tli, g->first, r->segsize, s);
		vg_pg_walname_format(g->tli, g->last, r->segsize, e);
		printf("| %3u | %s | %s | %14" PRIu64 " | %17s |\n", g->tli, s, e, g->last - g->first + 1,
		       vg_pg_segstatus_name(g->status));
	}
	print_rule();
	printf("timeline check status: %s\n", vg_pg_verdict_name(r->timeline));
	printf("highest timeline found in storage: %u\ncurrent cluster timeline: %u\n", r->highest_tli,
	       r->current_tli);
	for (size_t i = 0; i < r->nnotes; i++)
		printf("note: %s\n", r->notes[i]);
	uint64_t lost = r->count[VG_PG_SEG_MISSING_LOST];
	if (lost)
		printf("%" PRIu64 " segment%s lost: point-in-time recovery cannot cross %s; take a new "
		       "base backup after the gap\n",
		       lost, lost == 1 ? " is" : "s are", lost == 1 ? "it" : "them");
	printf("status: %s\n", vg_pg_verdict_name(r->verdict));
	return 0;
}

struct args {
	const char *archive, *connstr;
	bool json;
	struct vg_pg_walverify_opts o;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	a->o.upload_concurrency = 16;
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;
		if (!strcmp(opt, "--json")) {
			a->json = true;
			takes = false;
		} else if (!strcmp(opt, "--start")) {
			a->o.start = val;
		} else if (!strcmp(opt, "--end")) {
			a->o.end = val;
		} else if (!strcmp(opt, "--connstr")) {
			a->connstr = val;
		} else if (!strcmp(opt, "--wal-segsize")) {
			if (!parse_segsize(val, &a->o.segsize))
				return cli_usage(CMD, "--wal-segsize wants a power of two from 1MB to 1024MB");
		} else if (!strcmp(opt, "--max-delayed")) {
			if (!parse_count(val, 1000000, &a->o.max_delayed))
				return cli_usage(CMD, "--max-delayed wants a count of segments");
		} else if (!strcmp(opt, "--upload-concurrency")) {
			if (!parse_count(val, 1000000, &a->o.upload_concurrency))
				return cli_usage(CMD, "--upload-concurrency wants a count of segments");
		} else if (opt[0] == '-') {
			return cli_usage(CMD, "unknown option '%s'", opt);
		} else if (a->archive) {
			return cli_usage(CMD, "one archive directory, please");
		} else {
			a->archive = opt;
			takes = false;
		}
		if (takes && !val)
			return cli_usage(CMD, "%s needs a value", opt);
		i += takes;
	}
	if (!a->archive)
		return cli_usage(CMD, "usage: vigil wal-verify ARCHIVE_DIR [--start SEGMENT] "
				      "[--end SEGMENT | --connstr CONNSTR] [--json]");
	if (a->o.end && a->connstr)
		return cli_usage(CMD, "give --end or --connstr, not both");
	a->o.archive = a->archive;
	return 0;
}

int cmd_wal_verify(int argc, char **argv)
{
	struct args a = {0};
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	if (a.connstr) {
		struct vg_pg_serverpos pos;
		if ((rc = vg_pg_server_position(a.connstr, &pos)) < 0)
			return rc == VG_ENOENT ? (cli_fail(rc), CLI_UNAVAILABLE) : cli_fail(rc);
		a.o.have_server = true;
		a.o.server_lsn = pos.lsn;
		a.o.server_tli = pos.tli;
		if (a.o.segsize && a.o.segsize != pos.segsize)
			return cli_usage(CMD, "--wal-segsize %u differs from the server's %u", a.o.segsize,
					 pos.segsize);
		a.o.segsize = pos.segsize;
	}
	struct vg_pg_walreport r;
	rc = vg_pg_walverify(&a.o, &r);
	if (rc < 0) {
		vg_pg_walreport_release(&r);
		return cli_fail(rc);
	}
	rc = a.json ? print_json(a.archive, &r) : print_human(a.archive, &r);
	if (rc == 0)
		rc = r.verdict == VG_PG_OK ? CLI_OK : r.verdict == VG_PG_WARNING ? CLI_WARN : CLI_FAIL;
	vg_pg_walreport_release(&r);
	return rc;
}
