/*
 * cmd_forget.c - `vigil forget` and (through cli_forget_main) `vigil
 * prune`: remove snapshots by retention policy or by id; prune, or
 * forget --prune, then reclaims the space only they used.
 *
 *   vigil forget [--keep-last N] [--keep-hourly N] [--keep-daily N]
 *                [--keep-weekly N] [--keep-monthly N] [--keep-yearly N]
 *                [--keep-within DURATION] [--group-by host,tags,paths]
 *                [--dry-run] [--prune] [--max-unused PCT] [--json]
 *                [--vault DEV] [SNAPSHOT...]
 *
 * Exit status: 0 done, 2 failed (nothing was removed unless said), 64
 * usage.  The plan is printed group by group; --dry-run prints it and
 * what reclaiming would do, and changes nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/forget.h"
#include "cli/vault.h"
#include "workflow/prune.h"

enum { O_LAST = 256, O_HOURLY, O_DAILY, O_WEEKLY, O_MONTHLY, O_YEARLY, O_WITHIN, O_GROUP, O_PRUNE, O_UNUSED };

static int parse_count(const char *cmd, const char *opt, const char *s, int *out)
{
	char *end;
	if (!strcmp(s, "unlimited")) {
		*out = -1;
		return 0;
	}
	long v = strtol(s, &end, 10);
	if (*end || end == s || v < 0 || v > 1000000)
		return cli_usage(cmd, "--%s wants a count or 'unlimited', not '%s'", opt, s);
	*out = (int)v;
	return 0;
}

static int parse_group(const char *cmd, const char *s, struct vg_policy *p)
{
	p->by_host = p->by_tags = p->by_paths = false;
	char buf[128];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "host"))
			p->by_host = true;
		else if (!strcmp(t, "tags") || !strcmp(t, "tag"))
			p->by_tags = true;
		else if (!strcmp(t, "paths") || !strcmp(t, "path"))
			p->by_paths = true;
		else
			return cli_usage(cmd, "--group-by takes host, tags and paths, not '%s'", t);
	}
	return 0;
}

struct args {
	struct vg_prune_opts o;
	const char *vault;
	bool json;
	char **specs;
	int nspecs;
};

static int parse(int argc, char **argv, bool prune, struct args *a)
{
	static const struct option opts[] = {
		{"keep-last", required_argument, NULL, O_LAST},
		{"keep-hourly", required_argument, NULL, O_HOURLY},
		{"keep-daily", required_argument, NULL, O_DAILY},
		{"keep-weekly", required_argument, NULL, O_WEEKLY},
		{"keep-monthly", required_argument, NULL, O_MONTHLY},
		{"keep-yearly", required_argument, NULL, O_YEARLY},
		{"keep-within", required_argument, NULL, O_WITHIN},
		{"group-by", required_argument, NULL, O_GROUP},
		{"prune", no_argument, NULL, O_PRUNE},
		{"max-unused", required_argument, NULL, O_UNUSED},
		{"dry-run", no_argument, NULL, 'n'},
		{"vault", required_argument, NULL, 'V'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *cmd = argv[0];
	struct vg_policy *p = &a->o.policy;
	const char *vopt = NULL;
	int c, rc = 0;
	p->by_host = p->by_paths = true; /* restic's default grouping */
	a->o.gc = prune;
	optind = 1;
	while (!rc && (c = getopt_long(argc, argv, "nV:jh", opts, NULL)) != -1) {
		switch (c) {
		case O_LAST: rc = parse_count(cmd, "keep-last", optarg, &p->last); break;
		case O_HOURLY: rc = parse_count(cmd, "keep-hourly", optarg, &p->hourly); break;
		case O_DAILY: rc = parse_count(cmd, "keep-daily", optarg, &p->daily); break;
		case O_WEEKLY: rc = parse_count(cmd, "keep-weekly", optarg, &p->weekly); break;
		case O_MONTHLY: rc = parse_count(cmd, "keep-monthly", optarg, &p->monthly); break;
		case O_YEARLY: rc = parse_count(cmd, "keep-yearly", optarg, &p->yearly); break;
		case O_WITHIN:
			if (vg_policy_duration(optarg, &p->within_ns))
				rc = cli_usage(cmd, "%s", vg_errmsg());
			break;
		case O_GROUP: rc = parse_group(cmd, optarg, p); break;
		case O_PRUNE: a->o.gc = true; break;
		case O_UNUSED: {
			char *end;
			double v = strtod(optarg, &end);
			if (*end == '%')
				end++;
			if (*end || end == optarg || v < 0 || v >= 100)
				rc = cli_usage(cmd, "--max-unused wants a percentage below 100, not '%s'", optarg);
			a->o.gc_opts.max_unused = v > 0 ? v / 100 : 1e-9;
			break;
		}
		case 'n': a->o.dry_run = true; break;
		case 'V': vopt = optarg; break;
		case 'j': a->json = true; break;
		case 'h':
			printf("usage: vigil %s [--keep-last N] [--keep-hourly N] [--keep-daily N] [--keep-weekly N]\n"
			       "       [--keep-monthly N] [--keep-yearly N] [--keep-within DURATION]\n"
			       "       [--group-by host,tags,paths] [--dry-run]%s [--max-unused PCT] [--json]\n"
			       "       [--vault DEV] [SNAPSHOT...]\n",
			       cmd, prune ? "" : " [--prune]");
			return -1;
		default: return cli_usage(cmd, "unknown option");
		}
	}
	if (rc)
		return rc;
	a->specs = argv + optind;
	a->nspecs = argc - optind;
	if (!prune && !a->nspecs && !vg_policy_any(p))
		return cli_usage(cmd, "no policy and no snapshot given: nothing would be removed "
				      "(use --keep-* options or name snapshots)");
	if (!(a->vault = cli_vault_path(vopt)))
		return cli_usage(cmd, "no vault given: use --vault DEV or set VIGIL_VAULT");
	return 0;
}

static json_t *snap_json(const struct vg_prune_snap *p)
{
	char hex[2 * VG_ID_LEN + 1];
	vg_id_hex(&p->id, hex);
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:b}", "id", hex, "time_ns", (json_int_t)p->time_ns, "time",
			      cli_time(p->time_ns), "action", p->forget ? "remove" : "keep", "readable", p->readable);
	if (p->readable) {
		json_t *paths = json_array();
		for (size_t i = 0; i < p->s.npaths; i++)
			json_array_append_new(paths, cli_json_safe(p->s.paths[i]));
		json_object_set_new(o, "host", cli_json_safe(p->s.host));
		json_object_set_new(o, "paths", paths);
		json_object_set_new(o, "verdict", json_string(vg_verdict_name(p->s.verdict)));
		json_object_set_new(o, "group", json_integer((json_int_t)p->group));
	}
	if (!p->forget)
		json_object_set_new(o, "reasons", json_string(vg_keep_str(p->keep)));
	return o;
}

static json_t *gc_json(const struct vg_gc_result *g)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:b}", "objects",
			 (json_int_t)g->objects, "dead_objects", (json_int_t)g->dead_objects, "dead_bytes",
			 (json_int_t)g->dead_bytes, "packs", (json_int_t)g->packs, "dead_packs",
			 (json_int_t)g->dead_packs, "repacked_packs", (json_int_t)g->repacked_packs, "moved_bytes",
			 (json_int_t)g->moved_bytes, "segments", (json_int_t)g->segments, "cleaned_segments",
			 (json_int_t)g->cleaned_segments, "kept_segments", (json_int_t)g->kept_segments, "committed",
			 g->committed, "freed_files", (json_int_t)g->freed.files, "freed_bytes",
			 (json_int_t)g->freed.bytes, "free_deferred", g->freed.deferred);
}

static void print_group(const struct vg_prune_result *res, size_t g, bool forget, bool dry)
{
	size_t n = 0;
	for (size_t i = 0; i < res->n; i++)
		n += res->snaps[i].group == g && res->snaps[i].forget == forget;
	if (!n)
		return;
	printf("%s %zu snapshot%s:\n", forget ? (dry ? "would remove" : "remove") : "keep", n, n == 1 ? "" : "s");
	for (size_t i = res->n; i-- > 0;) {
		const struct vg_prune_snap *p = &res->snaps[i];
		char hex[2 * VG_ID_LEN + 1];
		if (p->group != g || p->forget != forget)
			continue;
		vg_id_hex(&p->id, hex);
		printf("  %-8.8s  %-19s  %-10s  %s\n", hex, cli_time(p->time_ns),
		       p->readable ? vg_verdict_name(p->s.verdict) : "unreadable", forget ? "" : vg_keep_str(p->keep));
	}
}

static void print_human(const struct vg_prune_result *res, bool dry)
{
	size_t ng = res->ngroups ? res->ngroups : 1;
	for (size_t g = 0; g < ng; g++) {
		const struct vg_prune_snap *first = NULL;
		for (size_t i = 0; i < res->n && !first; i++)
			if (res->snaps[i].group == g && res->snaps[i].readable)
				first = &res->snaps[i];
		if (first && res->ngroups > 1) {
			printf("snapshots of host %s, paths", cli_safe(first->s.host));
			for (size_t k = 0; k < first->s.npaths; k++)
				printf(" %s", cli_safe(first->s.paths[k]));
			printf(":\n");
		}
		print_group(res, g, false, dry);
		print_group(res, g, true, dry);
	}
	if (!res->gc_ran)
		return;
	const struct vg_gc_result *x = &res->gc;
	printf("%s %llu of %llu objects (%s) no snapshot uses, %llu of %llu packs wholly unused\n",
	       dry ? "would drop" : "dropped", (unsigned long long)x->dead_objects, (unsigned long long)x->objects,
	       cli_bytes(x->dead_bytes), (unsigned long long)x->dead_packs, (unsigned long long)x->packs);
	printf("%s %u of %u segments (%s of live data moved)\n", dry ? "would clean" : "cleaned",
	       x->cleaned_segments - x->kept_segments, x->segments, cli_bytes(x->moved_bytes));
	if (x->kept_segments)
		printf("kept %u segments holding blocks that could not be read (run 'vigil scrub')\n", x->kept_segments);
	if (!dry && x->freed.deferred)
		printf("no segment file deleted: the vault is being read (a restore, ls, scrub...); "
		       "the next prune deletes them\n");
	else if (!dry)
		printf("freed %llu segment files (%s)\n", (unsigned long long)x->freed.files, cli_bytes(x->freed.bytes));
}

int cli_forget_main(int argc, char **argv, bool prune)
{
	struct args a;
	struct vg_pool *p = NULL;
	struct vg_repo *r = NULL;
	struct vg_id *ids = NULL;
	struct vg_prune_result res;
	memset(&a, 0, sizeof a);
	memset(&res, 0, sizeof res);
	int rc = parse(argc, argv, prune, &a);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct vg_repo_opts ro = {.no_index = true};
	int err = cli_repo_open(a.vault, a.o.dry_run ? CLI_OPEN_READ : CLI_OPEN_WRITE, &ro, &p, &r);
	if (err)
		return cli_fail(err);
	if (a.nspecs && !(ids = calloc((size_t)a.nspecs, sizeof *ids)))
		err = VG_ERR(VG_ENOMEM, "out of memory");
	for (int i = 0; i < a.nspecs && !err; i++)
		err = vg_repo_snapshot_find(r, a.specs[i], &ids[i]);
	vg_repo_close(r);
	a.o.ids = ids;
	a.o.nids = (size_t)a.nspecs;
	struct vg_repo_opts pro = {.pass = cli_passphrase};
	a.o.repo = &pro;
	if (!err)
		err = vg_prune_run(p, &a.o, &res);
	if (err) {
		rc = cli_fail(err);
		if (res.forgot)
			fprintf(stderr, "vigil: the snapshots were removed; rerun 'vigil prune' to reclaim the space\n");
	} else if (a.json) {
		json_t *arr = json_array(), *o = json_pack("{s:b, s:o}", "dry_run", a.o.dry_run, "snapshots", arr);
		for (size_t i = res.n; i-- > 0;)
			json_array_append_new(arr, snap_json(&res.snaps[i]));
		if (res.gc_ran)
			json_object_set_new(o, "gc", gc_json(&res.gc));
		cli_print_json(o);
	} else {
		print_human(&res, a.o.dry_run);
	}
	vg_prune_result_release(&res);
	free(ids);
	int cerr = vg_pool_close(p);
	if (!rc && cerr)
		rc = cli_fail(cerr);
	return rc;
}

int cmd_forget(int argc, char **argv) { return cli_forget_main(argc, argv, false); }
