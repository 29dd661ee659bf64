/*
 * cmd_scrub.c - `vigil scrub`: verify and repair every block of a vault.
 *
 *   vigil scrub [--rate MB/s] [--json] --vault DEV
 *   vigil scrub --pause | --stop --vault DEV
 *
 * Needs no encryption key.  A later `vigil scrub` resumes a paused or
 * interrupted one.  Exit status: 0 nothing wrong, 1 errors found and all
 * repaired (or paused/stopped, or the vault is DEGRADED), 2 unrecoverable
 * blocks.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/vault.h"
#include "workflow/guard.h"
#include "workflow/scrub.h"

static void report_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "vigil: %s\n", line);
}

struct prog {
	struct cli_progress p;
	double last;
};

static void show(void *ctx, const struct vg_scrub_progress *s)
{
	struct prog *pg = ctx;
	double t = cli_now();
	if (!pg->p.on || t - pg->last < 0.2)
		return;
	pg->last = t;
	double pct = s->bytes_total ? 100.0 * (double)s->bytes_done / (double)s->bytes_total : 100;
	double eta = s->rate > 0 ? (double)(s->bytes_total - s->bytes_done) / s->rate : 0;
	fprintf(stderr, "\r  %s scanned of %s at %s/s, %.1f%% done, %.0fs to go, %s repaired, %llu errors   ",
		cli_bytes(s->bytes_done), cli_bytes(s->bytes_total), cli_bytes((uint64_t)s->rate), pct, eta,
		cli_bytes(s->repaired_bytes), (unsigned long long)s->errors);
}

static int control(const char *vault, const char *what)
{
	struct vg_pool *p;
	int err = vg_pool_open(vg_os_posix(), vault, VG_POOL_RDWR, &p);
	if (err == VG_EBUSY) {
		/* a scrub (or another writer) holds the lock: ask it */
		if ((err = vg_pool_open(vg_os_posix(), vault, VG_POOL_RDONLY, &p)))
			return cli_fail(err);
		err = vg_scrub_request(p, what);
		vg_pool_close(p);
		if (err)
			return cli_fail(err);
		printf("asked the running scrub to %s\n", what);
		return 0;
	}
	if (err)
		return cli_fail(err);
	err = vg_scrub_mark(p, !strcmp(what, "pause") ? VG_SCRUB_PAUSED : VG_SCRUB_CANCELED);
	int cerr = vg_pool_close(p);
	if (err || cerr)
		return cli_fail(err ? err : cerr);
	printf("scrub %s\n", !strcmp(what, "pause") ? "paused" : "stopped");
	return 0;
}

int cmd_scrub(int argc, char **argv)
{
	static const struct option opts[] = {{"vault", required_argument, NULL, 'V'},
					     {"rate", required_argument, NULL, 'r'},
					     {"pause", no_argument, NULL, 'p'},
					     {"stop", no_argument, NULL, 's'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *vopt = NULL, *ctl = NULL;
	double rate = 0;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "V:r:psjh", opts, NULL)) != -1) {
		switch (c) {
		case 'V': vopt = optarg; break;
		case 'r': {
			char *end;
			rate = strtod(optarg, &end);
			if (*end || rate <= 0)
				return cli_usage("scrub", "--rate takes a positive number of MB/s, not '%s'", optarg);
			rate *= 1e6;
			break;
		}
		case 'p': ctl = "pause"; break;
		case 's': ctl = "stop"; break;
		case 'j': json = true; break;
		case 'h': printf("usage: vigil scrub [--rate MB/s] [--pause|--stop] [--json] --vault DEV\n"); return 0;
		default: return cli_usage("scrub", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("scrub", "unexpected argument '%s'", argv[optind]);
	const char *vault = cli_vault_path(vopt);
	if (!vault)
		return cli_usage("scrub", "no vault given: use --vault DEV or set VIGIL_VAULT");
	if (ctl)
		return control(vault, ctl);

	struct vg_pool *p;
	int err = vg_pool_open(vg_os_posix(), vault, VG_POOL_RDWR, &p);
	if (err)
		return cli_fail(err);
	struct prog pg = {.last = 0};
	cli_progress_init(&pg.p);
	struct vg_scrub_opts o = {.rate_limit = rate, .progress = show, .ctx = &pg};
	const char *ck = getenv("VIGIL_SCRUB_CHECKPOINT"); /* seconds between checkpoints */
	if (ck && *ck)
		o.checkpoint_secs = strtod(ck, NULL);
	struct vg_scrub_result res;
	double t0 = cli_now();
	err = vg_scrub_run(p, &o, &res);
	if (pg.p.on)
		fprintf(stderr, "\r%100s\r", "");
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	int cerr = vg_pool_close(p);
	if (err || cerr) {
		vg_scrub_result_release(&res);
		return cli_fail(err ? err : cerr);
	}
	vg_vault_alerts(NULL, &st, !res.paused && !res.stopped, report_line, NULL);
	const struct vg_scrub_record *r = &res.rec;
	double secs = cli_now() - t0;
	const char *how = res.paused ? "paused" : res.stopped ? "stopped" : "finished";
	if (json) {
		json_t *bad = json_array();
		for (size_t i = 0; i < res.nbad; i++) {
			char b[96];
			json_array_append_new(bad, json_string(vg_bp_str(&res.bad[i], b)));
		}
		json_t *o2 = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:o}", "scrub", how, "resumed",
				       res.resumed, "bytes_done", (json_int_t)r->bytes_done, "bytes_total",
				       (json_int_t)r->bytes_total, "repaired_bytes", (json_int_t)r->repaired_bytes,
				       "rebuilt_bytes", (json_int_t)res.rebuilt_bytes,
				       "errors", (json_int_t)r->errors, "unrecoverable", (json_int_t)r->unrecoverable,
				       "seconds", secs, "damaged_blocks", bad);
		cli_print_json(o2);
	} else {
		printf("scrub %s%s: %s scanned in %.1fs (%s/s), %s repaired, %llu blocks with errors, %llu unrecoverable",
		       how, res.resumed ? " (resumed)" : "", cli_bytes(r->bytes_done), secs,
		       cli_bytes(secs > 0 ? (uint64_t)((double)r->bytes_done / secs) : 0), cli_bytes(r->repaired_bytes),
		       (unsigned long long)r->errors, (unsigned long long)r->unrecoverable);
		if (res.rebuilt_bytes)
			printf("; %s rebuilt onto devices that missed it", cli_bytes(res.rebuilt_bytes));
		printf("\n");
		for (size_t i = 0; i < res.nbad; i++) {
			char b[96];
			printf("  damaged beyond repair: %s\n", vg_bp_str(&res.bad[i], b));
		}
		if (r->unrecoverable)
			printf("action: restore the affected files from another backup; 'vigil status -v' lists them\n");
	}
	vg_scrub_result_release(&res);
	if (r->unrecoverable)
		return CLI_FAIL;
	return (r->errors || res.paused || res.stopped || st.state != VG_POOL_ONLINE) ? CLI_WARN : CLI_OK;
}
