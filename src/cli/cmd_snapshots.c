/*
 * cmd_snapshots.c - `vigil snapshots`: list the vault's snapshots.
 *
 *   vigil snapshots [--vault DEV] [--json]
 *
 * Oldest first.  A snapshot that cannot be read is listed with the error
 * and makes the exit status 2.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/vault.h"

static int cmp_time(const void *a, const void *b)
{
	const struct vg_snapref *x = *(const struct vg_snapref *const *)a, *y = *(const struct vg_snapref *const *)b;
	return (x->time_ns > y->time_ns) - (x->time_ns < y->time_ns);
}

static json_t *list_json(char **l, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, cli_json_safe(l[i]));
	return a;
}

static json_t *snap_json(const char *hex, const struct vg_snapshot *s)
{
	char root[2 * VG_ID_LEN + 1];
	vg_id_hex(&s->root, root);
	const struct vg_snap_stats *st = &s->stats;
	return json_pack("{s:s, s:I, s:s, s:o, s:o, s:s, s:s, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "id",
			 hex, "time_ns", (json_int_t)s->time_ns, "time", cli_time(s->time_ns), "host",
			 cli_json_safe(s->host), "tags", list_json(s->tags, s->ntags), "root", root, "verdict",
			 vg_verdict_name(s->verdict), "paths", list_json(s->paths, s->npaths), "stats", "files",
			 (json_int_t)st->files, "dirs", (json_int_t)st->dirs, "others", (json_int_t)st->others,
			 "bytes", (json_int_t)st->bytes, "new_bytes", (json_int_t)st->new_bytes, "stored_bytes",
			 (json_int_t)st->stored_bytes);
}

static void print_row(const char *hex, const struct vg_snapshot *s)
{
	char tags[256] = "", paths[1024] = "";
	for (size_t i = 0; i < s->ntags; i++)
		snprintf(tags + strlen(tags), sizeof tags - strlen(tags), "%s%s", i ? "," : "", cli_safe(s->tags[i]));
	for (size_t i = 0; i < s->npaths; i++)
		snprintf(paths + strlen(paths), sizeof paths - strlen(paths), "%s%s", i ? " " : "",
			 cli_safe(s->paths[i]));
	printf("%-8.8s  %-19s  %-12s  %-10s  %-10s  %8llu  %10s  %s\n", hex, cli_time(s->time_ns),
	       cli_safe(s->host), tags[0] ? tags : "-", vg_verdict_name(s->verdict),
	       (unsigned long long)s->stats.files, cli_bytes(s->stats.bytes), paths);
}

static int list(struct vg_repo *r, bool json)
{
	size_t n = vg_repo_snapshot_count(r);
	const struct vg_snapref **refs = calloc(n ? n : 1, sizeof *refs);
	json_t *arr = json ? json_array() : NULL;
	int rc = CLI_OK;
	if (!refs)
		return cli_fail(VG_ERR(VG_ENOMEM, "out of memory"));
	for (size_t i = 0; i < n; i++)
		refs[i] = vg_repo_snapshot_ref(r, i);
	qsort(refs, n, sizeof *refs, cmp_time);
	if (!json && n)
		printf("%-8s  %-19s  %-12s  %-10s  %-10s  %8s  %10s  %s\n", "ID", "TIME", "HOST", "TAGS", "VERDICT",
		       "FILES", "SIZE", "PATHS");
	for (size_t i = 0; i < n; i++) {
		char hex[2 * VG_ID_LEN + 1];
		struct vg_snapshot s;
		vg_id_hex(&refs[i]->id, hex);
		if (vg_repo_snapshot_load(r, &refs[i]->id, &s) < 0) {
			fprintf(stderr, "vigil: %s\n", vg_errmsg());
			if (json)
				json_array_append_new(arr, json_pack("{s:s, s:s}", "id", hex, "error", vg_errmsg()));
			else
				printf("%-8.8s  %-19s  (unreadable)\n", hex, cli_time(refs[i]->time_ns));
			rc = CLI_FAIL;
			continue;
		}
		if (json)
			json_array_append_new(arr, snap_json(hex, &s));
		else
			print_row(hex, &s);
		vg_snapshot_release(&s);
	}
	if (json) {
		cli_print_json(arr);
	} else if (!n) {
		printf("no snapshots yet\n");
	}
	free(refs);
	return rc;
}

int cmd_snapshots(int argc, char **argv)
{
	static const struct option opts[] = {{"vault", required_argument, NULL, 'V'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *vopt = NULL;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "V:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'V': vopt = optarg; break;
		case 'j': json = true; break;
		case 'h': printf("usage: vigil snapshots [--vault DEV] [--json]\n"); return 0;
		default: return cli_usage("snapshots", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("snapshots", "unexpected argument '%s'", argv[optind]);
	const char *vault = cli_vault_path(vopt);
	if (!vault)
		return cli_usage("snapshots", "no vault given: use --vault DEV or set VIGIL_VAULT");
	struct vg_repo_opts ro = {.no_index = true};
	struct vg_pool *p;
	struct vg_repo *r;
	int err = cli_repo_open(vault, CLI_OPEN_READ, &ro, &p, &r);
	if (err)
		return cli_fail(err);
	int rc = list(r, json);
	cli_repo_close(p, r);
	return rc;
}
