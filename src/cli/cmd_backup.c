/*
 * cmd_backup.c - `vigil backup`: back up paths into a new snapshot.
 *
 *   vigil backup [--vault DEV] [--host H] [--tag T]... [--exclude PATTERN]...
 *                [--exclude-file F] [--one-file-system] [--verify-unchanged PCT]
 *                [--no-parent] [--force] [--no-gate] [--config FILE] [--pg-connstr CONNSTR]
 *                [--pg-archive-wait SECS] [--json] PATH...
 *
 * Human output ends with the new snapshot's full id on a line of its own
 * (scripts take `| tail -1`).  Problems (unreadable files, files changed
 * while read, vanished files, probable bit rot) go to stderr and make the
 * exit status 1.  The source health gate, PostgreSQL page verification and
 * alerts run around the backup (workflow/guard.h): a CRIT finding refuses
 * it with exit status 2 before the vault is touched, unless --force (the
 * snapshot is then suspect).
 */
#include <errno.h>
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
#define MAX_EXCLUDES 4096

struct excl {
	const char *v[MAX_EXCLUDES];
	size_t n;
	char *owned[MAX_EXCLUDES]; /* lines read from exclude files */
	size_t nowned;
};

/* Patterns from a file: one per line; blank lines and '#' comments skipped. */
static int read_excludes(const char *path, struct excl *x)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	if (!f)
		return VG_ERRNO(errno, "cannot read exclude file '%s'", path);
	while (fgets(line, sizeof line, f)) {
		size_t n = strlen(line);
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (!n || line[0] == '#')
			continue;
		if (x->n == MAX_EXCLUDES) {
			fclose(f);
			return VG_ERR(VG_EINVAL, "more than %d exclude patterns", MAX_EXCLUDES);
		}
		char *p = strdup(line);
		if (!p) {
			fclose(f);
			return VG_ERR(VG_ENOMEM, "out of memory");
		}
		x->owned[x->nowned++] = p;
		x->v[x->n++] = p;
	}
	fclose(f);
	return 0;
}

static void excl_release(struct excl *x)
{
	for (size_t i = 0; i < x->nowned; i++)
		free(x->owned[i]);
}

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
		json_t *reasons = json_array(), *notes = json_array();
		size_t nl = strlen(VG_BACKUP_NOTE);
		for (size_t i = 0; i < s->nreasons; i++)
			if (strncmp(s->reasons[i], VG_BACKUP_NOTE, nl))
				json_array_append_new(reasons, cli_json_safe(s->reasons[i]));
			else
				json_array_append_new(notes, cli_json_safe(s->reasons[i] + nl));
		char phex[2 * VG_ID_LEN + 1] = "";
		if (res->has_parent)
			vg_id_hex(&res->parent, phex);
		json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:I, s:o, s:f, s:s?, s:I, s:I, s:I}", "snapshot", hex,
				      "verdict", vg_verdict_name(s->verdict), "problems", reasons, "notes", notes,
				      "problem_count",
				      (json_int_t)res->nproblems, "stats", stats_json(&s->stats), "seconds", secs,
				      "parent", res->has_parent ? phex : NULL, "unchanged_files", (json_int_t)res->reused,
				      "verified_files", (json_int_t)res->verified, "corrupt_files", (json_int_t)res->rotten);
		cli_print_json(o);
		return;
	}
	for (size_t i = 0; i < s->nreasons; i++) /* notes are facts, not problems */
		fprintf(stderr, "vigil: %s%s\n", strncmp(s->reasons[i], VG_BACKUP_NOTE, strlen(VG_BACKUP_NOTE)) ? "warning: " : "",
			cli_safe(s->reasons[i]));
	if (s->reasons_dropped)
		fprintf(stderr, "vigil: warning: ... and %llu more problems\n",
			(unsigned long long)s->reasons_dropped);
	const struct vg_snap_stats *st = &s->stats;
	printf("backed up %llu files, %llu directories, %llu other entries: %s in %.1f s (%s/s)\n",
	       (unsigned long long)st->files, (unsigned long long)st->dirs, (unsigned long long)st->others,
	       cli_bytes(st->bytes), secs, cli_bytes(secs > 0 ? (uint64_t)((double)st->bytes / secs) : 0));
	printf("added to the vault: %s new, %s stored\n", cli_bytes(st->new_bytes), cli_bytes(st->stored_bytes));
	if (res->has_parent)
		printf("%llu files unchanged since the previous snapshot (not read), %llu re-read to check them\n",
		       (unsigned long long)res->reused, (unsigned long long)res->verified);
	if (res->rotten)
		printf("%llu files probably corrupt on the source (listed above): their last good versions are kept\n",
		       (unsigned long long)res->rotten);
	if (s->verdict != VG_VERDICT_OK || res->nproblems)
		printf("snapshot is %s: %zu problem%s (listed above)\n", vg_verdict_name(s->verdict),
		       res->nproblems, res->nproblems == 1 ? "" : "s");
	printf("snapshot %.8s saved\n%s\n", hex, hex);
}

static int parse(int argc, char **argv, struct vg_backup_opts *bo, const char **tags, struct excl *x,
		 struct vg_guard_opts *go, const char **vopt, bool *json)
{
	static const struct option opts[] = {
		{"vault", required_argument, NULL, 'V'},   {"host", required_argument, NULL, 'H'},
		{"tag", required_argument, NULL, 't'},     {"exclude", required_argument, NULL, 'e'},
		{"exclude-file", required_argument, NULL, 'E'}, {"one-file-system", no_argument, NULL, 'x'},
		{"verify-unchanged", required_argument, NULL, 'v'}, {"no-parent", no_argument, NULL, 'P'},
		{"force", no_argument, NULL, 'F'},         {"no-gate", no_argument, NULL, 'G'},
		{"config", required_argument, NULL, 'C'},  {"json", no_argument, NULL, 'j'},
		{"pg-connstr", required_argument, NULL, 'Q'}, {"pg-archive-wait", required_argument, NULL, 'W'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int c, err;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "V:H:t:e:E:xv:Pjh", opts, NULL)) != -1) {
		switch (c) {
		case 'F': go->force = true; break;
		case 'G': go->no_gate = true; break;
		case 'C': go->config = optarg; break;
		case 'Q': go->pg_connstr = optarg; break;
		case 'W':
			go->pg_archive_wait_ms = (int)strtol(optarg, &end, 10) * 1000;
			if (*end || end == optarg || go->pg_archive_wait_ms < 1000 || go->pg_archive_wait_ms > 86400000)
				return cli_usage("backup", "--pg-archive-wait takes seconds from 1 to 86400");
			break;
		case 'V': *vopt = optarg; break;
		case 'H': bo->host = optarg; break;
		case 't':
			if (bo->ntags == MAX_TAGS)
				return cli_usage("backup", "at most %d tags", MAX_TAGS);
			tags[bo->ntags++] = optarg;
			break;
		case 'e':
			if (x->n == MAX_EXCLUDES)
				return cli_usage("backup", "at most %d exclude patterns", MAX_EXCLUDES);
			x->v[x->n++] = optarg;
			break;
		case 'E':
			if ((err = read_excludes(optarg, x)) < 0)
				return cli_fail(err);
			break;
		case 'x': bo->one_fs = true; break;
		case 'P': bo->no_parent = true; break;
		case 'v':
			bo->verify_pct = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || bo->verify_pct < 0 || bo->verify_pct > 100)
				return cli_usage("backup", "--verify-unchanged takes a percentage from 0 to 100");
			break;
		case 'j': *json = true; break;
		case 'h':
			printf("usage: vigil backup [--vault DEV] [--host H] [--tag T]... [--exclude PATTERN]...\n"
			       "                    [--exclude-file F] [--one-file-system] [--verify-unchanged PCT]\n"
			       "                    [--no-parent] [--force] [--no-gate] [--config FILE] [--pg-connstr CONNSTR]\n"
			       "                    [--pg-archive-wait SECS] [--json] PATH...\n");
			return -1;
		default: return cli_usage("backup", "unknown option");
		}
	}
	bo->excludes = x->v;
	bo->nexcludes = x->n;
	return 0;
}

int cmd_backup(int argc, char **argv)
{
	const char *vopt = NULL, *tags[MAX_TAGS];
	static struct excl x;
	struct vg_backup_opts bo = {.tags = tags};
	struct vg_guard_opts go = {0};
	bool json = false;
	int rc = parse(argc, argv, &bo, tags, &x, &go, &vopt, &json);
	if (rc) {
		excl_release(&x);
		return rc < 0 ? CLI_OK : rc;
	}
	const char *vault = cli_vault_path(vopt);
	if (!vault || optind == argc) {
		excl_release(&x);
		return vault ? cli_usage("backup", "give the paths to back up")
			     : cli_usage("backup", "no vault given: use --vault DEV or set VIGIL_VAULT");
	}
	bo.paths = (const char *const *)argv + optind;
	bo.npaths = (size_t)(argc - optind);
	cli_raise_nofile();

	/* The gate runs before the vault is opened: a refusal writes nothing. */
	struct vg_guard *g = NULL;
	go.vault = vault;
	go.report = report_line;
	int err = vg_guard_begin(&go, bo.paths, bo.npaths, &g);
	if (err) {
		rc = err == VG_EUNSAFE ? (fprintf(stderr, "vigil: %s\n", vg_errmsg()), CLI_FAIL) : cli_fail(err);
		vg_guard_end(g, rc, NULL, vg_errmsg());
		excl_release(&x);
		return rc;
	}
	vg_guard_apply(g, &bo);
	if (vg_guard_summary(g)[0])
		fprintf(stderr, "vigil: source health: %s\n", vg_guard_summary(g));

	struct vg_repo_opts ro = {.workers = cli_workers()};
	struct vg_pool *p;
	struct vg_repo *r;
	if ((err = cli_repo_open(vault, CLI_OPEN_WRITE, &ro, &p, &r))) {
		rc = cli_fail(err);
		vg_guard_end(g, rc, NULL, vg_errmsg());
		excl_release(&x);
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
	excl_release(&x);
	if (err) {
		vg_err_prefix(err, "backup failed, nothing was committed");
		rc = cli_fail(err);
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
	rc = res.snap.verdict != VG_VERDICT_OK || res.nproblems ? CLI_WARN : CLI_OK;
	vg_guard_end(g, rc, &res, NULL);
	vg_backup_result_release(&res);
	if (cerr)
		fprintf(stderr, "vigil: warning: %s\n", vg_errmsg());
	return rc;
}
