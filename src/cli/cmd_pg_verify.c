/*
 * cmd_pg_verify.c - `vigil pg-verify [--json] PGDATA`: verify every page
 * checksum of a PostgreSQL data directory in place, as `pg_checksums
 * --check` does, but also on a running cluster (online rules) and with a
 * loud warning instead of a pass when data checksums are disabled.
 *
 * Exit status: 0 every page verified, 1 warnings (checksums disabled,
 * unexpected file names), 2 corrupt pages or unreadable files.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "source/pg_scan.h"

static const char *const CMD = "pg-verify";

static void lsn_str(uint64_t lsn, char *buf, size_t len)
{
	snprintf(buf, len, "%X/%X", (unsigned)(lsn >> 32), (unsigned)lsn);
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	if (total)
		fprintf(stderr, "\rverifying pages: %" PRIu64 " / %" PRIu64 " MiB (%d%%)", done >> 20,
			total >> 20, (int)(done * 100 / total));
}

static const char *verdict(const struct vg_pg_scan_result *r, int *exit_status)
{
	switch (vg_pg_report_level(&r->rep, &r->cl)) {
	case VG_PG_LEVEL_CRIT: *exit_status = CLI_FAIL; return "CORRUPT";
	case VG_PG_LEVEL_WARN: *exit_status = CLI_WARN; return "WARNING";
	case VG_PG_LEVEL_OK: break;
	}
	*exit_status = CLI_OK;
	return "OK";
}

static json_t *finding_json(const struct vg_pg_finding *f, bool checksums)
{
	char lsn[32];
	lsn_str(f->lsn, lsn, sizeof lsn);
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "file", f->relpath, "problem",
			      vg_pg_problem_name(f->kind), "fork", vg_pg_fork_name(f->fork), "segment",
			      (json_int_t)f->segno, "block", (json_int_t)f->block, "relation_block",
			      (json_int_t)f->rel_block);
	if (!o)
		return NULL;
	if (f->kind == VG_PG_BAD_CHECKSUM || f->kind == VG_PG_BAD_NEWPAGE || f->kind == VG_PG_BAD_HEADER ||
	    f->kind == VG_PG_BAD_COPY) {
		if (checksums) {
			json_object_set_new(o, "expected_checksum", json_integer(f->expected));
			json_object_set_new(o, "found_checksum", json_integer(f->found));
		}
		json_object_set_new(o, "lsn", json_string(lsn));
	}
	if (f->kind == VG_PG_PARTIAL_PAGE)
		json_object_set_new(o, "size", json_integer((json_int_t)f->size));
	if (f->detail)
		json_object_set_new(o, "detail", json_string(f->detail));
	return o;
}

/* The result as a JSON object (NULL when out of memory); *status gets the
 * exit status. */
static json_t *result_json(const char *pgdata, const struct vg_pg_scan_result *r, int *status_out)
{
	int status;
	const char *v = verdict(r, &status);
	*status_out = status;
	const struct vg_pg_stats *st = &r->rep.st;
	char sysid[32], lsn[32];
	snprintf(sysid, sizeof sysid, "%" PRIu64, r->cl.ctl.system_id);
	lsn_str(r->start_lsn, lsn, sizeof lsn);
	json_t *o = json_pack(
		"{s:s, s:s, s:i, s:I, s:s, s:s, s:b, s:I, s:I, s:I, s:s, s:s}", "status", v, "pgdata",
		pgdata, "postgresql_version", r->cl.major, "pg_control_version",
		(json_int_t)r->cl.ctl.control_version, "system_identifier", sysid, "cluster_state",
		vg_pg_state_name(r->cl.ctl.state), "data_checksums", r->cl.ctl.data_checksum_version != 0,
		"data_checksum_version", (json_int_t)r->cl.ctl.data_checksum_version, "block_size",
		(json_int_t)r->cl.ctl.blcksz, "segment_blocks", (json_int_t)r->cl.ctl.relseg_size, "mode",
		r->online ? "online" : "offline", "start_lsn", lsn);
	json_t *counts = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "files_scanned",
				   (json_int_t)st->files, "blocks_scanned", (json_int_t)st->blocks,
				   "bytes", (json_int_t)st->bytes, "new_pages", (json_int_t)st->new_pages,
				   "bad_blocks", (json_int_t)st->bad, "inflight_pages",
				   (json_int_t)st->inflight, "reread_ok", (json_int_t)st->reread_ok,
				   "partial_files", (json_int_t)st->partial_files, "vanished_files",
				   (json_int_t)r->vanished, "seconds", r->seconds);
	json_t *arr = json_array();
	if (!o || !counts || !arr) {
		json_decref(o);
		json_decref(counts);
		json_decref(arr);
		return NULL;
	}
	json_object_update(o, counts);
	json_decref(counts);
	for (size_t i = 0; i < r->rep.nfindings; i++)
		json_array_append_new(arr, finding_json(&r->rep.findings[i], r->cl.ctl.data_checksum_version));
	json_object_set_new(o, "problems", arr);
	json_object_set_new(o, "problems_total", json_integer((json_int_t)st->problems));
	if (!r->cl.ctl.data_checksum_version) {
		char msg[8192];
		vg_pg_disabled_advice(pgdata, msg, sizeof msg);
		json_object_set_new(o, "warning", json_string(msg));
	}
	return o;
}

static int print_human(const char *pgdata, const struct vg_pg_scan_result *r)
{
	int status;
	const char *v = verdict(r, &status);
	const struct vg_pg_control *c = &r->cl.ctl;
	const struct vg_pg_stats *st = &r->rep.st;
	char lsn[32];
	lsn_str(r->start_lsn, lsn, sizeof lsn);
	printf("PostgreSQL %d data directory '%s' (cluster %s)\n", r->cl.major, pgdata,
	       vg_pg_state_name(c->state));
	if (c->data_checksum_version)
		printf("data checksums: enabled (version %u); page size %u, %u blocks per segment\n",
		       c->data_checksum_version, c->blcksz, c->relseg_size);
	else
		printf("data checksums: DISABLED; page size %u\n", c->blcksz);
	if (r->online)
		printf("the cluster is running (or was not shut down cleanly): verified online; a page "
		       "that fails twice and changed after %s is rewritten by WAL replay and is not "
		       "held against it\n",
		       lsn);
	double mb = (double)st->bytes / 1e6;
	printf("files scanned: %" PRIu64 ", blocks scanned: %" PRIu64 " (%.1f MB in %.2f s, %.0f MB/s)\n",
	       st->files, st->blocks, mb, r->seconds, r->seconds > 0 ? mb / r->seconds : 0.0);
	printf("bad blocks: %" PRIu64 "", st->bad);
	if (r->online)
		printf(", in flight: %" PRIu64 ", vanished files: %" PRIu64, st->inflight, r->vanished);
	if (st->reread_ok)
		printf(", passed when re-read: %" PRIu64, st->reread_ok);
	printf("\n");
	for (size_t i = 0; i < r->rep.nfindings; i++) {
		char line[8192];
		vg_pg_finding_str(&r->rep.findings[i], &r->cl, line, sizeof line);
		printf("  %s\n", line);
	}
	if (st->problems > r->rep.nfindings)
		printf("  ... and %" PRIu64 " more\n", st->problems - r->rep.nfindings);
	if (!c->data_checksum_version) {
		char msg[8192];
		vg_pg_disabled_advice(pgdata, msg, sizeof msg);
		fprintf(stderr, "vigil: WARNING: %s\n", msg);
	}
	printf("status: %s\n", v);
	return status;
}

int cmd_pg_verify(int argc, char **argv)
{
	bool json = false;
	const char *pgdata = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-')
			return cli_usage(CMD, "unknown option '%s'", argv[i]);
		else if (pgdata)
			return cli_usage(CMD, "one data directory, please (got '%s' and '%s')", pgdata, argv[i]);
		else
			pgdata = argv[i];
	}
	if (!pgdata)
		return cli_usage(CMD, "which data directory? usage: vigil pg-verify [--json] PGDATA");
	json_t *o = NULL;
	int status = cli_pg_check(pgdata, json, &o);
	if (o) {
		char *s = json_dumps(o, JSON_INDENT(2));
		json_decref(o);
		if (!s)
			return cli_fail(VG_ERR(VG_ENOMEM, "out of memory"));
		puts(s);
		free(s);
	}
	return status;
}

int cli_pg_check(const char *pgdata, bool json, json_t **jout)
{
	struct vg_pg_scan_opts opts = {.progress = (!json && cli_tty()) ? progress : NULL};
	struct vg_pg_scan_result r;
	int rc = vg_pg_scan(pgdata, &opts, &r);
	if (opts.progress)
		fprintf(stderr, "\r\033[K");
	if (rc < 0) {
		vg_pg_scan_release(&r);
		return cli_fail(rc);
	}
	int status = CLI_OK;
	if (json) {
		*jout = result_json(pgdata, &r, &status);
		if (!*jout)
			status = cli_fail(VG_ERR(VG_ENOMEM, "out of memory"));
	} else {
		status = print_human(pgdata, &r);
	}
	vg_pg_scan_release(&r);
	return status;
}
