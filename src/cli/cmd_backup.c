/*
 * cmd_backup.c - `vigil backup`: back up paths into a new snapshot.
 *
 *   vigil backup [--vault DEV] [--host H] [--tag T]... [--force] [--no-gate]
 *                [--config FILE] [--json] PATH...
 *
 * Human output ends with the new snapshot's full id on a line of its own
 * (scripts take `| tail -1`).  Problems (unreadable files, files changed
 * while read) go to stderr and make the exit status 1.  The source health
 * gate, PostgreSQL page verification and alerts run around the backup
 * (workflow/guard.h): a CRIT finding refuses it with exit status 2 before
 * the vault is touched, unless --force (the snapshot is then suspect).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/vault.h"
#include "workflow/backup.h"
#include "workflow/guard.h"

#define MAX_TAGS 256

static void on_progress(void *ctx, const struct vg_backup_progress *p)
{
	cli_progress_show(ctx, p->files, p->bytes, p->current);
}

static void report_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "vigil: %s\n", line);
}

static json_t *stats_json(const struct vg_snap_stats *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "files", (json_int_t)s->files, "dirs",
			 (json_int_t)s->dirs, "others", (json_int_t)s->others, "bytes", (json_int_t)s->bytes,
			 "new_bytes", (json_int_t)s->new_bytes, "stored_bytes", (json_int_t)s->stored_bytes,
			 "chunks", (json_int_t)s->chunks, "new_chunks", (json_int_t)s->new_chunks);
}

static void report(bool json, const struct vg_backup_result *res, double secs)
{
	const struct vg_snapshot *s = &res->snap;
	char hex[2 * VG_ID_LEN + 1];
	vg_id_hex(&res->id, hex);
	if (json) {
		json_t *reasons = json_array();
		for (size_t i = 0; i < s->nreasons; i++)
			json_array_append_new(reasons, cli_json_safe(s->reasons[i]));
		json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:o, s:f}", "snapshot", hex, "verdict",
				      vg_verdict_name(s->verdict), "problems", reasons, "problem_count",
				      (json_int_t)res->nproblems, "stats", stats_json(&s->stats), "seconds", secs);
		cli_print_json(o);
		return;
	}
	for (size_t i = 0; i < s->nreasons; i++)
		fprintf(stderr, "vigil: warning: %s\n", cli_safe(s->reasons[i]));
	if (s->reasons_dropped)
		fprintf(stderr, "vigil: warning: ... and %llu more problems\n",
			(unsigned long long)s->reasons_dropped);
	const struct vg_snap_stats *st = &s->stats;
	printf("backed up %llu files, %llu directories, %llu other entries: %s in %.1f s (%s/s)\n",
	       (unsigned long long)st->files, (unsigned long long)st->dirs, (unsigned long long)st->others,
	       cli_bytes(st->bytes), secs, cli_bytes(secs > 0 ? (uint64_t)((double)st->bytes / secs) : 0));
	printf("added to the vault: %s new, %s stored\n", cli_bytes(st->new_bytes), cli_bytes(st->stored_bytes));
	if (s->verdict != VG_VERDICT_OK)
		printf("snapshot is %s: %zu problem%s (listed above)\n", vg_verdict_name(s->verdict),
		       res->nproblems, res->nproblems == 1 ? "" : "s");
	printf("snapshot %.8s saved\n%s\n", hex, hex);
}

int cmd_backup(int argc, char **argv)
{
	static const struct option opts[] = {
		{"vault", required_argument, NULL, 'V'}, {"host", required_argument, NULL, 'H'},
		{"tag", required_argument, NULL, 't'},   {"json", no_argument, NULL, 'j'},
		{"force", no_argument, NULL, 'F'},       {"no-gate", no_argument, NULL, 'G'},
		{"config", required_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *vopt = NULL, *tags[MAX_TAGS];
	struct vg_backup_opts bo = {.tags = tags};
	struct vg_guard_opts go = {0};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "V:H:t:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'F': go.force = true; break;
		case 'G': go.no_gate = true; break;
		case 'C': go.config = optarg; break;
		case 'V': vopt = optarg; break;
		case 'H': bo.host = optarg; break;
		case 't':
			if (bo.ntags == MAX_TAGS)
				return cli_usage("backup", "at most %d tags", MAX_TAGS);
			tags[bo.ntags++] = optarg;
			break;
		case 'j': json = true; break;
		case 'h':
			printf("usage: vigil backup [--vault DEV] [--host H] [--tag T]... [--force] [--no-gate]\n"
			       "                    [--config FILE] [--json] PATH...\n");
			return 0;
		default: return cli_usage("backup", "unknown option");
		}
	}
	const char *vault = cli_vault_path(vopt);
	if (!vault)
		return cli_usage("backup", "no vault given: use --vault DEV or set VIGIL_VAULT");
	if (optind == argc)
		return cli_usage("backup", "give the paths to back up");
	bo.paths = (const char *const *)argv + optind;
	bo.npaths = (size_t)(argc - optind);
	cli_raise_nofile();

	/* The gate runs before the vault is opened: a refusal writes nothing. */
	struct vg_guard *g = NULL;
	go.vault = vault;
	go.report = report_line;
	int err = vg_guard_begin(&go, bo.paths, bo.npaths, &g);
	if (err) {
		int rc = err == VG_EUNSAFE ? (fprintf(stderr, "vigil: %s\n", vg_errmsg()), CLI_FAIL) : cli_fail(err);
		vg_guard_end(g, rc, NULL, vg_errmsg());
		return rc;
	}
	vg_guard_apply(g, &bo);
	if (vg_guard_summary(g)[0])
		fprintf(stderr, "vigil: source health: %s\n", vg_guard_summary(g));

	struct vg_repo_opts ro = {.workers = cli_workers()};
	struct vg_pool *p;
	struct vg_repo *r;
	if ((err = cli_repo_open(vault, CLI_OPEN_WRITE, &ro, &p, &r))) {
		int rc = cli_fail(err);
		vg_guard_end(g, rc, NULL, vg_errmsg());
		return rc;
	}
	struct cli_progress prog;
	cli_progress_init(&prog);
	bo.progress = on_progress;
	bo.ctx = &prog;
	struct vg_backup_result res;
	double t0 = cli_now();
	err = vg_backup_run(r, &bo, &res);
	cli_progress_done(&prog);
	double secs = cli_now() - t0;
	if (err) {
		vg_err_prefix(err, "backup failed, nothing was committed");
		int rc = cli_fail(err);
		vg_guard_end(g, rc, NULL, vg_errmsg());
		vg_backup_result_release(&res);
		cli_repo_close(p, r);
		return rc;
	}
	struct vg_pool_status vst;
	vg_pool_status(p, &vst);
	vg_guard_vault(g, &vst);
	int cerr = cli_repo_close(p, r);
	report(json, &res, secs);
	int rc = res.snap.verdict != VG_VERDICT_OK ? CLI_WARN : CLI_OK;
	vg_guard_end(g, rc, &res, NULL);
	vg_backup_result_release(&res);
	if (cerr)
		fprintf(stderr, "vigil: warning: %s\n", vg_errmsg());
	return rc;
}
