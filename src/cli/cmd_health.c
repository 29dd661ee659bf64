/*
 * cmd_health.c - `vigil health [OPTIONS] PATH...`: the source health gate
 * on its own (docs/HEALTH.md).
 *
 * Exit status: 0 healthy (INFO notes included), 1 warnings, 2 critical;
 * 64 usage, 65 bad config, 70 internal.  --json prints the report as the
 * library builds it (vg_health_report_json); the human form lists each
 * path's findings, worst first, each with its action.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "cli/cli.h"
#include "source/health.h"
#include "source/health_config.h"
#include "source/pg_control.h"

#define MAX_DISKS 64

static void usage_text(FILE *f)
{
	fprintf(f,
		"usage: vigil health [OPTIONS] [PATH...]\n"
		"  Checks the storage under each PATH (or under every source of the config file)\n"
		"  the way 'vigil backup' does before copying anything.\n"
		"  --json                   print the report as JSON\n"
		"  --config FILE            config file (sources, thresholds, policy)\n"
		"  --timeout SECONDS        per tool call (default 15)\n"
		"  --scrub-warn-days N      scrub age that warns (default 35; critical at 2x)\n"
		"  --scrub-crit-days N      scrub age that is critical\n"
		"  --allow-uninspectable    storage vigil cannot inspect is a note, not a warning\n"
		"  --no-smart               do not run smartctl\n"
		"  --zfs-pool P, --btrfs-mount M, --md-device MD, --disk DEV (repeatable)\n"
		"                           name the storage explicitly (containers, tests)\n"
		"  --state FILE | --no-state   where counters are remembered between runs\n"
		"  --sysroot DIR            read /proc, /sys and /dev under DIR (recorded systems)\n"
		"  --now TIME               judge ages as of TIME (epoch seconds or YYYY-MM-DD)\n");
}

static bool parse_now(const char *s, time_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*s && !*end && v > 0) {
		*out = (time_t)v;
		return true;
	}
	struct tm tm = {0};
	const char *r = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!r || *r) {
		memset(&tm, 0, sizeof tm);
		r = strptime(s, "%Y-%m-%d", &tm);
	}
	if (!r || *r)
		return false;
	tm.tm_isdst = -1;
	*out = mktime(&tm);
	return *out != (time_t)-1;
}

static int exit_for(enum vg_health_level v)
{
	return v >= VG_HEALTH_CRIT ? CLI_FAIL : v == VG_HEALTH_WARN ? CLI_WARN : CLI_OK;
}

static void print_human(const struct vg_health_report *r)
{
	int counts[4] = {0};
	for (size_t i = 0; i < r->nsources; i++) {
		const struct vg_health_source *s = &r->sources[i];
		printf("%s%s%s  [%s]\n", s->path, s->storage ? ": " : "", s->storage ? s->storage : "",
		       vg_health_level_name(s->verdict));
		for (int lvl = VG_HEALTH_CRIT; lvl >= VG_HEALTH_OK; lvl--) {
			for (size_t k = 0; k < s->findings.n; k++) {
				const struct vg_health_finding *f = &s->findings.v[k];
				if ((int)f->level != lvl)
					continue;
				counts[lvl]++;
				printf("  %-4s %-9s %s\n", vg_health_level_name(f->level),
				       vg_health_probe_name(f->probe), f->message);
				if (f->action && f->level >= VG_HEALTH_WARN)
					printf("       action: %s\n", f->action);
			}
		}
	}
	printf("verdict: %s (%d critical, %d warning%s, %d note%s; checked in %ld ms)\n",
	       vg_health_level_name(r->verdict), counts[VG_HEALTH_CRIT], counts[VG_HEALTH_WARN],
	       counts[VG_HEALTH_WARN] == 1 ? "" : "s", counts[VG_HEALTH_INFO],
	       counts[VG_HEALTH_INFO] == 1 ? "" : "s", r->elapsed_ms);
}

int cmd_health(int argc, char **argv)
{
	enum { O_JSON = 256, O_CONFIG, O_TIMEOUT, O_WARN, O_CRIT, O_ALLOW, O_NOSMART, O_POOL,
	       O_BTRFS, O_MD, O_DISK, O_STATE, O_NOSTATE, O_SYSROOT, O_NOW, O_HELP };
	static const struct option longopts[] = {
		{"json", no_argument, NULL, O_JSON},
		{"config", required_argument, NULL, O_CONFIG},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"scrub-warn-days", required_argument, NULL, O_WARN},
		{"scrub-crit-days", required_argument, NULL, O_CRIT},
		{"allow-uninspectable", no_argument, NULL, O_ALLOW},
		{"no-smart", no_argument, NULL, O_NOSMART},
		{"zfs-pool", required_argument, NULL, O_POOL},
		{"btrfs-mount", required_argument, NULL, O_BTRFS},
		{"md-device", required_argument, NULL, O_MD},
		{"disk", required_argument, NULL, O_DISK},
		{"state", required_argument, NULL, O_STATE},
		{"no-state", no_argument, NULL, O_NOSTATE},
		{"sysroot", required_argument, NULL, O_SYSROOT},
		{"now", required_argument, NULL, O_NOW},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	struct vg_health_opts o = {0};
	struct vg_health_hint cli_hint = {0};
	const char *disks[MAX_DISKS + 1] = {0};
	size_t ndisks = 0;
	const char *config = NULL;
	bool json = false, cli_hinted = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end = NULL;
		long v = optarg ? strtol(optarg, &end, 10) : 0;
		bool num_ok = optarg && end && !*end && v > 0 && v < 100000;
		switch (c) {
		case O_JSON: json = true; break;
		case O_CONFIG: config = optarg; break;
		case O_TIMEOUT:
			if (!num_ok)
				return cli_usage("health", "--timeout wants seconds, not '%s'", optarg);
			o.timeout_ms = (int)v * 1000;
			break;
		case O_WARN:
		case O_CRIT:
			if (!num_ok)
				return cli_usage("health", "scrub days want a number, not '%s'", optarg);
			*(c == O_WARN ? &o.scrub_warn_days : &o.scrub_crit_days) = (int)v;
			break;
		case O_ALLOW: o.allow_uninspectable = true; break;
		case O_NOSMART: o.no_smart = true; break;
		case O_POOL: cli_hint.zfs_pool = optarg; cli_hinted = true; break;
		case O_BTRFS: cli_hint.btrfs_mount = optarg; cli_hinted = true; break;
		case O_MD: cli_hint.md_device = optarg; cli_hinted = true; break;
		case O_DISK:
			if (ndisks == MAX_DISKS)
				return cli_usage("health", "at most %d --disk options", MAX_DISKS);
			disks[ndisks++] = optarg;
			cli_hint.disks = disks;
			cli_hinted = true;
			break;
		case O_STATE: o.state_file = optarg; break;
		case O_NOSTATE: o.state_file = ""; break;
		case O_SYSROOT: o.sysroot = optarg; break;
		case O_NOW:
			if (!parse_now(optarg, &o.now))
				return cli_usage("health", "--now wants epoch seconds or YYYY-MM-DD, not '%s'",
						 optarg);
			break;
		case O_HELP: usage_text(stdout); return CLI_OK;
		default: usage_text(stderr); return CLI_USAGE;
		}
	}
	struct vg_health_config cfg = {0};
	int err = vg_health_config_load(config, &cfg);
	if (err)
		return cli_fail(err);
	vg_health_config_apply(&cfg, &o);
	size_t nargs = (size_t)(argc - optind);
	size_t npaths = nargs ? nargs : cfg.nsources;
	const char **paths = NULL;
	struct vg_health_hint *hints = NULL;
	int rc = CLI_OK;
	if (!npaths) {
		usage_text(stderr);
		rc = cli_usage("health", "name at least one PATH (or sources in the config file)");
		goto out;
	}
	paths = calloc(npaths + 1, sizeof *paths);
	hints = calloc(npaths, sizeof *hints);
	if (!paths || !hints) {
		rc = cli_fail(VG_ERR(VG_ENOMEM, "out of memory"));
		goto out;
	}
	for (size_t i = 0; i < npaths; i++) {
		paths[i] = nargs ? argv[optind + (int)i] : cfg.sources[i].path;
		hints[i] = cli_hinted ? cli_hint
				      : nargs ? vg_health_config_hint(&cfg, paths[i])
					      : cfg.sources[i].hint;
	}
	o.hints = hints;
	struct vg_health_report r;
	err = vg_health_check(paths, &o, &r);
	if (err) {
		rc = cli_fail(err);
		goto out;
	}
	/* PostgreSQL data directories among the paths: verify every page
	 * checksum offline, as pg_checksums --check does. */
	int pg_rc = CLI_OK;
	json_t *pg = json ? json_array() : NULL;
	for (size_t i = 0; json && i < npaths; i++) {
		if (!vg_pg_is_datadir(paths[i]))
			continue;
		json_t *one = NULL;
		int prc = cli_pg_check(paths[i], json, &one);
		if (one)
			json_array_append_new(pg, one);
		if (prc > pg_rc)
			pg_rc = prc;
	}
	if (json) {
		char *j = vg_health_report_json(&r);
		json_t *doc = j ? json_loads(j, 0, NULL) : NULL;
		free(j);
		if (doc && pg && json_array_size(pg))
			json_object_set(doc, "postgres", pg);
		char *out = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
		json_decref(doc);
		json_decref(pg);
		if (!out) {
			vg_health_report_release(&r);
			rc = cli_fail(VG_ERR(VG_ENOMEM, "out of memory printing the report"));
			goto out;
		}
		printf("%s\n", out);
		free(out);
	} else {
		print_human(&r);
		if (r.verdict >= VG_HEALTH_WARN) {
			char sum[4096];
			vg_health_summary(&r, sum, sizeof sum);
			printf("summary: %s\n", sum);
		}
	}
	for (size_t i = 0; !json && i < npaths; i++) {
		if (!vg_pg_is_datadir(paths[i]))
			continue;
		printf("\nPostgreSQL data directory %s:\n", paths[i]);
		int prc = cli_pg_check(paths[i], false, NULL);
		if (prc > pg_rc)
			pg_rc = prc;
	}
	rc = exit_for(r.verdict);
	if (pg_rc > rc)
		rc = pg_rc;
	vg_health_report_release(&r);
out:
	free(paths);
	free(hints);
	vg_health_config_release(&cfg);
	return rc;
}
