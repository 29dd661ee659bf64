/*
 * cmd_status.c - `vigil status`: the vault's health, like `zpool status`.
 *
 * Opens the vault read-only (no lock: status may run beside a backup) and
 * prints the state, each device's state and READ/WRITE/CKSUM counters, and
 * what to do.  With -v, the snapshot paths affected by blocks damaged
 * beyond repair (the vault's error log), like zpool's "Permanent errors
 * have been detected in the following files".  --json adds the vault
 * health record (workflow/vault_health.h).  Exit status: 0 ONLINE with no
 * errors, 1 DEGRADED or any error counter set, 2 FAULTED or data damaged
 * beyond repair.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/vault.h"
#include "pool/pool.h"
#include "workflow/damage.h"
#include "workflow/vault_health.h"

/* What -v and --json add to the pool's status. */
struct extra {
	struct vg_vault_health h;
	bool verbose;
	bool mapped;            /* rep is valid */
	struct vg_damage_report rep;
	char map_err[512];      /* why the damage could not be mapped */
};

static void print_time(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S %z", &tm);
}

static void human_bytes(uint64_t b, char *buf, size_t len)
{
	const char *u[] = {"B", "K", "M", "G", "T", "P"};
	double v = (double)b;
	int i = 0;
	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, i ? "%.1f%s" : "%.0f%s", v, u[i]);
}

/* One line like zpool's "scan:". */
static void scan_line(const struct vg_scrub_record *r, char *out, size_t len)
{
	char when[64], done[32], total[32], rep[32];
	human_bytes(r->bytes_done, done, sizeof done);
	human_bytes(r->bytes_total, total, sizeof total);
	human_bytes(r->repaired_bytes, rep, sizeof rep);
	double pct = r->bytes_total ? 100.0 * (double)r->bytes_done / (double)r->bytes_total : 0;
	switch (r->state) {
	case VG_SCRUB_NONE:
		snprintf(out, len, "none requested");
		break;
	case VG_SCRUB_RUNNING:
	case VG_SCRUB_PAUSED:
		print_time(r->start, when, sizeof when);
		snprintf(out, len, "scrub %s since %s: %s scanned of %s (%.1f%%), %s repaired",
			 r->state == VG_SCRUB_PAUSED ? "paused" : "in progress", when, done, total, pct, rep);
		break;
	case VG_SCRUB_FINISHED:
		print_time(r->end, when, sizeof when);
		snprintf(out, len, "scrub repaired %s with %llu errors (%llu unrecoverable) on %s", rep,
			 (unsigned long long)r->errors, (unsigned long long)r->unrecoverable, when);
		break;
	case VG_SCRUB_CANCELED:
		print_time(r->end, when, sizeof when);
		snprintf(out, len, "scrub canceled on %s after %s of %s", when, done, total);
		break;
	}
}

static uint64_t total_errs(const struct vg_pool_status *st)
{
	uint64_t n = 0;
	for (int d = 0; d < st->ndevs; d++)
		n += st->dev[d].read_errs + st->dev[d].write_errs + st->dev[d].cksum_errs;
	return n;
}

static void explain(const struct vg_pool_status *st, const struct extra *x, const char *vault,
		    const char **status, const char **action)
{
	static char act[1024];
	*status = NULL;
	*action = NULL;
	if (x->h.permanent_errors && st->state != VG_POOL_FAULTED) {
		*status = "One or more blocks are damaged beyond what redundancy can repair. Files in "
			  "the snapshots using them cannot be restored.";
		snprintf(act, sizeof act,
			 "Restore the files listed by 'vigil status -v' from the source or another backup if "
			 "possible; take a new backup and forget the damaged snapshots ('vigil forget'). Then "
			 "run 'vigil scrub' and 'vigil clear --vault %s'.", vault);
		*action = act;
	} else if (st->state == VG_POOL_FAULTED) {
		*status = "More devices are unavailable than the vault's redundancy covers. Its data "
			  "cannot be read or written until enough of them are back.";
		*action = "Reconnect the UNAVAIL devices listed below (check mounts and cables), then "
			  "rerun. Do not initialise or reuse their directories.";
	} else if (st->state != VG_POOL_ONLINE) {
		*status = "One or more devices could not be used. The vault continues working in a degraded "
			  "state, with less redundancy than configured.";
		snprintf(act, sizeof act,
			 "Reconnect the device and rerun; or, if it is gone for good, replace it with "
			 "'vigil replace --vault %s OLD NEW'.", vault);
		*action = act;
	} else if (total_errs(st)) {
		*status = "One or more devices has experienced errors. The data was repaired from "
			  "redundancy; nothing was lost.";
		snprintf(act, sizeof act,
			 "Check the device with rising counters (cabling, SMART). If errors keep coming, "
			 "replace it with 'vigil replace'; otherwise reset the counters with "
			 "'vigil clear --vault %s'.", vault);
		*action = act;
	}
}

static json_t *health_json(const struct vg_vault_health *h)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:i, s:i, s:I, s:I, s:I, s:I, s:I}", "level",
			 vg_health_level_name(h->level), "summary", h->summary, "state", vg_pool_state_name(h->state),
			 "read_errors", (json_int_t)h->read_errs, "write_errors", (json_int_t)h->write_errs,
			 "checksum_errors", (json_int_t)h->cksum_errs, "permanent_errors",
			 (json_int_t)h->permanent_errors, "redundancy_complete", h->redundancy_complete,
			 "devices_missing_writes", h->devices_missing_writes, "devices_unusable", h->devices_unusable,
			 "last_scrub_end_ns", (json_int_t)h->last_scrub_end_ns, "scrub_repaired_bytes",
			 (json_int_t)h->scrub_repaired_bytes, "scrub_errors", (json_int_t)h->scrub_errors,
			 "scrub_unrecoverable", (json_int_t)h->scrub_unrecoverable, "last_commit_ns",
			 (json_int_t)h->last_commit_ns);
}

static json_t *damage_json(const struct extra *x)
{
	json_t *a = json_array();
	for (size_t i = 0; i < x->rep.n; i++) {
		const struct vg_damage_item *d = &x->rep.v[i];
		char hex[2 * VG_ID_LEN + 1];
		vg_id_hex(&d->snap, hex);
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:s}", "snapshot", hex, "time", cli_time(d->time_ns),
						   "path", cli_json_safe(d->path), "kind", vg_damage_kind_name(d->kind)));
	}
	return a;
}

static int print_json(const struct vg_pool_status *st, const struct extra *x, const char *vault)
{
	char lb[16], hex[32];
	const char *status, *action;
	explain(st, x, vault, &status, &action);
	snprintf(hex, sizeof hex, "%016llx", (unsigned long long)st->vault_guid);
	json_t *devs = json_array();
	for (int d = 0; d < st->ndevs; d++) {
		const struct vg_dev_status *s = &st->dev[d];
		json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "path", s->path, "state",
				      vg_dev_state_name(s->state), "read_errors", (json_int_t)s->read_errs,
				      "write_errors", (json_int_t)s->write_errs, "checksum_errors",
				      (json_int_t)s->cksum_errs);
		if (s->reason[0])
			json_object_set_new(o, "reason", json_string(s->reason));
		json_object_set_new(o, "resilver_needed", json_boolean(s->resilver_needed));
		json_array_append_new(devs, o);
	}
	json_t *root = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o}", "vault", hex, "state",
				 vg_pool_state_name(st->state), "layout", vg_layout_name(&st->layout, lb), "txg",
				 (json_int_t)st->txg, "commit_time_ns", (json_int_t)st->commit_time,
				 "allocated_bytes", (json_int_t)st->alloc_bytes, "devices", devs);
	char scan[256];
	scan_line(&st->scrub, scan, sizeof scan);
	const char *names[] = {"none", "running", "paused", "finished", "canceled"};
	json_object_set_new(root, "scrub",
			    json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "state",
				      names[st->scrub.state], "summary", scan, "start_ns",
				      (json_int_t)st->scrub.start, "end_ns", (json_int_t)st->scrub.end,
				      "bytes_done", (json_int_t)st->scrub.bytes_done, "bytes_total",
				      (json_int_t)st->scrub.bytes_total, "repaired_bytes",
				      (json_int_t)st->scrub.repaired_bytes, "errors",
				      (json_int_t)st->scrub.errors, "unrecoverable",
				      (json_int_t)st->scrub.unrecoverable));
	if (status)
		json_object_set_new(root, "status", json_string(status));
	if (action)
		json_object_set_new(root, "action", json_string(action));
	json_object_set_new(root, "health", health_json(&x->h));
	json_object_set_new(root, "permanent_errors", json_integer((json_int_t)x->h.permanent_errors));
	if (x->mapped)
		json_object_set_new(root, "damaged", damage_json(x));
	if (x->map_err[0])
		json_object_set_new(root, "damaged_error", json_string(x->map_err));
	char *s = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (!s)
		return VG_ERR(VG_ENOMEM, "out of memory");
	puts(s);
	free(s);
	return 0;
}

static void print_errors(const struct vg_pool_status *st, const struct extra *x)
{
	if (st->state == VG_POOL_FAULTED)
		return;
	if (!x->h.permanent_errors) {
		printf("\nerrors: %s\n", total_errs(st) ? "All errors so far were repaired from redundancy"
							: "No known data errors");
		return;
	}
	if (!x->verbose) {
		printf("\nerrors: %zu block%s damaged beyond repair, use '-v' for a list of the affected files\n",
		       x->h.permanent_errors, x->h.permanent_errors == 1 ? "" : "s");
		return;
	}
	printf("\nerrors: Permanent errors have been detected in the following files:\n\n");
	if (x->map_err[0])
		printf("        (the files cannot be named: %s)\n", x->map_err);
	for (size_t i = 0; i < x->rep.n; i++) {
		const struct vg_damage_item *d = &x->rep.v[i];
		char hex[2 * VG_ID_LEN + 1];
		vg_id_hex(&d->snap, hex);
		if (d->kind == VG_DAMAGE_FILE)
			printf("        snapshot %.8s (%s): %s\n", hex, cli_time(d->time_ns), cli_safe(d->path));
		else if (d->kind == VG_DAMAGE_DIR)
			printf("        snapshot %.8s (%s): %s/ (directory listing: everything below)\n", hex,
			       cli_time(d->time_ns), cli_safe(d->path));
		else
			printf("        snapshot %.8s (%s): the whole snapshot (%s unreadable)\n", hex,
			       cli_time(d->time_ns), d->kind == VG_DAMAGE_INDEX ? "index" : "snapshot record");
	}
	if (x->rep.dropped)
		printf("        ... and %llu more\n", (unsigned long long)x->rep.dropped);
	if (x->mapped && !x->rep.n)
		printf("        (none: no remaining snapshot uses the damaged blocks)\n");
}

static void print_human(const struct vg_pool_status *st, const struct extra *x, const char *vault)
{
	char lb[16], when[64];
	const char *status, *action;
	explain(st, x, vault, &status, &action);
	printf("  vault: %016llx\n", (unsigned long long)st->vault_guid);
	printf("  state: %s\n", vg_pool_state_name(st->state));
	if (status)
		printf(" status: %s\n", status);
	if (action)
		printf(" action: %s\n", action);
	char scan[256];
	scan_line(&st->scrub, scan, sizeof scan);
	if (st->txg)
		printf("   scan: %s\n", scan);
	if (st->txg) {
		print_time(st->commit_time, when, sizeof when);
		printf(" commit: txg %llu at %s\n", (unsigned long long)st->txg, when);
	}
	printf(" config:\n\n");
	size_t w = 20;
	for (int d = 0; d < st->ndevs; d++)
		if (strlen(st->dev[d].path) + 2 > w)
			w = strlen(st->dev[d].path) + 2;
	printf("\t%-*s %-9s %5s %5s %5s\n", (int)w, "NAME", "STATE", "READ", "WRITE", "CKSUM");
	uint64_t r = 0, wr = 0, c = 0;
	for (int d = 0; d < st->ndevs; d++) {
		r += st->dev[d].read_errs;
		wr += st->dev[d].write_errs;
		c += st->dev[d].cksum_errs;
	}
	printf("\t%-*s %-9s %5llu %5llu %5llu\n", (int)w, vg_layout_name(&st->layout, lb),
	       vg_pool_state_name(st->state), (unsigned long long)r, (unsigned long long)wr,
	       (unsigned long long)c);
	for (int d = 0; d < st->ndevs; d++) {
		const struct vg_dev_status *s = &st->dev[d];
		printf("\t  %-*s %-9s %5llu %5llu %5llu", (int)w - 2, s->path, vg_dev_state_name(s->state),
		       (unsigned long long)s->read_errs, (unsigned long long)s->write_errs,
		       (unsigned long long)s->cksum_errs);
		if (s->reason[0])
			printf("  %s", s->reason);
		else if (s->resilver_needed)
			printf("  (missed writes while unavailable: run 'vigil scrub')");
		printf("\n");
	}
	print_errors(st, x);
}

/* The error log is copied first: reads made while mapping may add to it. */
static void map_damage(struct vg_pool *p, struct extra *x)
{
	const struct vg_bp *list;
	size_t n;
	vg_pool_errlog(p, &list, &n);
	struct vg_bp *copy = malloc(n * sizeof *copy);
	int err = copy ? 0 : VG_ERR(VG_ENOMEM, "out of memory");
	if (copy) {
		memcpy(copy, list, n * sizeof *copy);
		struct vg_repo_opts ro = {.pass = cli_passphrase};
		err = vg_damage_map(p, &ro, copy, n, &x->rep);
	}
	free(copy);
	if (err)
		snprintf(x->map_err, sizeof x->map_err, "%s", vg_errmsg());
	else
		x->mapped = true;
}

int cmd_status(int argc, char **argv)
{
	struct cli_vault_args a;
	int rc = cli_vault_args(argc, argv, "status", "vigil status [-v] [--json] --vault DEV", 0, &a);
	if (!a.ok)
		return rc;
	const char *vault = a.vault;
	bool json = a.json;
	struct extra x;
	memset(&x, 0, sizeof x);
	x.verbose = a.verbose;
	struct vg_pool *p;
	int err = vg_pool_open(vg_os_posix(), vault, VG_POOL_PROBE, &p);
	if (err && err != VG_EFAULTED)
		return cli_fail(err);
	if (err) /* shown below, device by device; the reason goes to stderr */
		fprintf(stderr, "vigil: %s\n", vg_errmsg());
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	vg_vault_health(p, 0, &x.h);
	if ((x.verbose || json) && x.h.permanent_errors && st.state != VG_POOL_FAULTED)
		map_damage(p, &x);
	vg_pool_close(p);
	int perr = json ? print_json(&st, &x, vault) : (print_human(&st, &x, vault), 0);
	vg_damage_report_release(&x.rep);
	if (perr)
		return cli_fail(perr);
	if (err || st.state == VG_POOL_FAULTED || x.h.permanent_errors)
		return CLI_FAIL;
	return (st.state != VG_POOL_ONLINE || total_errs(&st)) ? CLI_WARN : CLI_OK;
}
