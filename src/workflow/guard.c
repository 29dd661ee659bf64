/*
 * guard.c - the health gate, PostgreSQL verification and alerts around a
 * backup (see guard.h).
 *
 * Alert condition keys: "gate:<probe>:<subject>" for each gate finding at
 * WARN or above (a gate run that sees all sources resolves the ones no
 * longer found), "backup:<paths>" for the run's failure, and
 * "pg:<datadir>" for corrupt pages.
 */
#include "workflow/guard.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert.h"
#include "base/buf.h"
#include "base/err.h"
#include "config/config.h"
#include "os/fs.h"
#include "source/health.h"
#include "source/health_config.h"
#include "source/pg_backup.h"
#include "source/pg_control.h"
#include "source/pg_page.h"

#define MAX_PG 16
#define ARCHIVE_WAIT_MS 60000

struct pgdir {
	char *dir;                /* absolute, no trailing slash */
	struct vg_pg_cluster cl;
	uint64_t start_lsn;
	struct vg_pg_report rep;
	/* a running cluster in backup mode (pg_backup.h) */
	bool online, stopped;
	struct vg_pg_backup bk;
	uint32_t uid, gid;        /* the data directory's owner */
	uint64_t changed;         /* files changed or vanished while read */
	struct vg_backup_extra extra[2];
	struct vg_pg_tablespace *ts; /* its tablespaces (pg_backup.h) */
	size_t nts;
};

struct pgfile {
	struct pgdir *pd;
	struct vg_pg_filecheck fc;
	char *path;
};

struct vg_guard {
	struct vg_guard_opts o;
	struct vg_config *cfg;
	struct vg_alert_ctx *alerts;
	struct vg_health_report rep;
	bool have_rep;
	char summary[4096];
	char **reasons;
	size_t nreasons;
	int verdict;
	struct pgdir pg[MAX_PG];
	size_t npg;
	struct vg_backup_watch watch;
	char paths_key[512];
	struct vg_pool_status vault_st;
	bool have_vault;
};

static void say(struct vg_guard *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct vg_guard *g, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	if (!g->o.report)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	g->o.report(g->o.ctx, line);
}

/* The snapshot's starting verdict only ever gets worse. */
static void raise_verdict(struct vg_guard *g, int v)
{
	if (g->verdict < v)
		g->verdict = v;
}

static void add_reason(struct vg_guard *g, const char *s)
{
	char **n = realloc(g->reasons, (g->nreasons + 1) * sizeof *n);
	if (!n)
		return;
	g->reasons = n;
	if ((g->reasons[g->nreasons] = strdup(s)))
		g->nreasons++;
}

static enum vg_alert_level alert_level(enum vg_health_level l)
{
	return l >= VG_HEALTH_CRIT ? VG_ALERT_CRITICAL : l >= VG_HEALTH_WARN ? VG_ALERT_WARNING : VG_ALERT_INFO;
}

/* One alert per finding at WARN or above, keyed so it is sent once and
 * resolved when it clears. */
static void gate_alerts(struct vg_guard *g)
{
	if (!g->alerts)
		return;
	for (size_t s = 0; s < g->rep.nsources; s++) {
		const struct vg_health_source *src = &g->rep.sources[s];
		for (size_t i = 0; i < src->findings.n; i++) {
			const struct vg_health_finding *f = &src->findings.v[i];
			if (f->level < VG_HEALTH_WARN)
				continue;
			char key[512], title[512], body[4096];
			snprintf(key, sizeof key, "gate:%s:%s", vg_health_probe_name(f->probe),
				 f->subject ? f->subject : src->path);
			snprintf(title, sizeof title, "%s: %s", src->path, f->message);
			snprintf(body, sizeof body, "%s\nsource: %s (%s)\n%s%s", f->message, src->path,
				 src->storage ? src->storage : "storage unknown", f->action ? "action: " : "",
				 f->action ? f->action : "");
			struct vg_alert_figure figs[16];
			char vals[16][32];
			size_t nf = 0;
			for (size_t k = 0; k < f->nfigs && nf < 16; k++, nf++) {
				figs[nf].name = f->figs[k].key;
				if (f->figs[k].is_num) {
					snprintf(vals[nf], sizeof vals[nf], "%lld", (long long)f->figs[k].num);
					figs[nf].value = vals[nf];
				} else {
					figs[nf].value = f->figs[k].str ? f->figs[k].str : "";
				}
			}
			struct vg_alert_event ev = {.level = alert_level(f->level), .kind = VG_KIND_GATE_FINDING,
						    .key = key, .subject = f->subject ? f->subject : src->path,
						    .title = title, .body = body, .figures = figs, .nfigures = nf};
			vg_alert_emit(g->alerts, &ev);
		}
	}
	vg_alert_sweep(g->alerts, "gate:");
}

static int run_gate(struct vg_guard *g, const char *const *paths, size_t npaths)
{
	struct vg_health_config hc = {0};
	struct vg_health_opts ho = {0};
	struct vg_health_hint *hints = calloc(npaths ? npaths : 1, sizeof *hints);
	int err;
	if (!hints)
		return VG_ERR(VG_ENOMEM, "out of memory");
	if ((err = vg_health_config_load(g->o.config, &hc))) {
		free(hints);
		return err;
	}
	vg_health_config_apply(&hc, &ho);
	/* One clock for the whole run: $VIGIL_NOW (seconds) pins it, as for
	 * alerts, so scrub ages are reproducible in tests. */
	const char *now = getenv("VIGIL_NOW");
	if (now && *now)
		ho.now = (time_t)strtoll(now, NULL, 10);
	for (size_t i = 0; i < npaths; i++)
		hints[i] = vg_health_config_hint(&hc, paths[i]);
	ho.hints = hints;
	err = vg_health_check(paths, &ho, &g->rep);
	if (!err) {
		g->have_rep = true;
		if (vg_health_summary(&g->rep, g->summary, sizeof g->summary) < VG_HEALTH_WARN)
			g->summary[0] = 0;
	}
	vg_health_config_release(&hc);
	free(hints);
	return err;
}

/* ---- PostgreSQL: verify pages while the backup reads them ---- */

static int pg_reread(void *ctx, uint64_t off, void *buf, size_t len, size_t *got)
{
	struct pgfile *pf = ctx;
	return vg_fs_pread_path(pf->path, off, buf, len, got);
}

static void *pg_begin(void *ctx, const char *path, uint64_t size)
{
	struct vg_guard *g = ctx;
	(void)size;
	char tsrel[PATH_MAX + 200];
	for (size_t i = 0; i < g->npg; i++) {
		struct pgdir *pd = &g->pg[i];
		size_t n = strlen(pd->dir);
		const char *rel = NULL;
		if (!strncmp(path, pd->dir, n) && path[n] == '/')
			rel = path + n + 1;
		/* a tablespace backed up as a path of its own: its files are
		 * pg_tblspc/OID/... to the cluster (matched by resolved path) */
		for (size_t t = 0; !rel && t < pd->nts; t++) {
			size_t m = strlen(pd->ts[t].target);
			if (m && !strncmp(path, pd->ts[t].target, m) && path[m] == '/' &&
			    (size_t)snprintf(tsrel, sizeof tsrel, "pg_tblspc/%s/%s", pd->ts[t].oid, path + m + 1) <
				    sizeof tsrel)
				rel = tsrel;
		}
		if (!rel)
			continue;
		struct vg_pg_relpath rp;
		vg_pg_classify(&pd->cl, rel, &rp);
		if (!rp.checked)
			return NULL;
		struct pgfile *pf = calloc(1, sizeof *pf);
		if (!pf || !(pf->path = strdup(path))) {
			free(pf);
			return NULL;
		}
		pf->pd = pd;
		if (vg_pg_file_begin(&pf->fc, &pd->cl, rel, pd->start_lsn, pg_reread, pf)) {
			free(pf->path);
			free(pf);
			return NULL;
		}
		return pf;
	}
	return NULL;
}

static void pg_data(void *ctx, void *file, uint8_t *buf, size_t len)
{
	(void)ctx;
	struct pgfile *pf = file;
	vg_pg_file_feed(&pf->fc, buf, len);
}

static int pg_end(void *ctx, void *file, bool read_failed, char *reason, size_t len)
{
	(void)ctx;
	struct pgfile *pf = file;
	if (read_failed)
		vg_pg_file_error(&pf->fc, "the backup could not read it");
	else
		vg_pg_file_end(&pf->fc);
	int v = VG_VERDICT_OK;
	uint64_t bad = 0;
	for (size_t i = 0; i < pf->fc.nfindings; i++)
		if (vg_pg_problem_is_corrupt(pf->fc.findings[i].kind))
			bad++;
	if (bad) {
		char first[512];
		vg_pg_finding_str(&pf->fc.findings[0], &pf->pd->cl, first, sizeof first);
		snprintf(reason, len, "PostgreSQL: %llu corrupt page(s) in %s/%s, first: %s", (unsigned long long)bad,
			 pf->pd->dir, pf->fc.relpath, first);
		v = VG_VERDICT_SUSPECT;
	}
	vg_pg_report_add(&pf->pd->rep, &pf->fc);
	vg_pg_file_release(&pf->fc);
	free(pf->path);
	free(pf);
	return v;
}

/* ---- PostgreSQL: a running cluster is copied in backup mode ---- */

/* What PostgreSQL's docs leave out of a base backup: these directories'
 * contents (the directories are kept, empty). */
static const char *const PG_EMPTIED[] = {"pg_wal",    "pg_replslot",  "pg_dynshmem", "pg_notify",
					 "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans"};

/* The data directory in backup mode holding path; *rel: path relative to
 * it ("" for the directory itself). */
static struct pgdir *pg_online_of(struct vg_guard *g, const char *path, const char **rel)
{
	for (size_t i = 0; i < g->npg; i++) {
		struct pgdir *pd = &g->pg[i];
		size_t n = strlen(pd->dir);
		if (pd->online && !strncmp(path, pd->dir, n) && (!path[n] || path[n] == '/')) {
			*rel = path[n] ? path + n + 1 : "";
			return pd;
		}
	}
	return NULL;
}

static bool pg_skip(void *ctx, const char *dir, const char *name)
{
	const char *rel;
	if (!pg_online_of(ctx, dir, &rel))
		return false;
	if (!strncmp(name, "pgsql_tmp", 9) || !strcmp(name, "pg_internal.init"))
		return true;
	if (!*rel) /* backup_label and tablespace_map: the server's answer replaces them */
		return !strcmp(name, "postmaster.pid") || !strcmp(name, "postmaster.opts") ||
		       !strcmp(name, "backup_label") || !strcmp(name, "tablespace_map");
	for (size_t i = 0; i < sizeof PG_EMPTIED / sizeof *PG_EMPTIED; i++)
		if (!strcmp(rel, PG_EMPTIED[i]))
			return true;
	return false;
}

/* In backup mode every page changed during the copy is rewritten by WAL
 * replay (full-page writes are forced on), so a file changing or
 * vanishing while read is expected. */
static bool pg_expected(void *ctx, const char *path)
{
	const char *rel;
	struct pgdir *pd = pg_online_of(ctx, path, &rel);
	if (!pd || pd->stopped)
		return false;
	pd->changed++;
	return true;
}

/* Every file of the data directory was read: end backup mode and give the
 * backup's label (and tablespace map) as files of its root. */
static int pg_stop(struct vg_guard *g, struct pgdir *pd, const struct vg_backup_extra **files, size_t *n,
		   char *reason, size_t len)
{
	char a[20], b[20];
	int wait = g->o.pg_archive_wait_ms > 0 ? g->o.pg_archive_wait_ms : ARCHIVE_WAIT_MS;
	struct vg_pg_backup *bk = &pd->bk;
	if (pd->changed)
		say(g, "PostgreSQL '%s': %llu files changed while read, as expected in backup mode (WAL replay makes "
		       "them consistent)", pd->dir, (unsigned long long)pd->changed);
	if (vg_pg_backup_stop(bk, wait) < 0) {
		snprintf(reason, len, "PostgreSQL '%s': ending backup mode failed (%s): without its backup_label this "
				      "copy cannot be restored consistently", pd->dir, vg_errmsg());
		return VG_VERDICT_SUSPECT;
	}
	vg_pg_lsn_str(bk->start_lsn, a);
	vg_pg_lsn_str(bk->stop_lsn, b);
	say(g, "PostgreSQL '%s': backup mode ended: start LSN %s, stop LSN %s, timeline %u", pd->dir, a, b, bk->timeline);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	pd->extra[0] = (struct vg_backup_extra){"backup_label", bk->label, bk->label_len, 0600, pd->uid, pd->gid, now};
	pd->extra[1] = (struct vg_backup_extra){"tablespace_map", bk->spcmap, bk->spcmap_len, 0600, pd->uid, pd->gid, now};
	*files = pd->extra;
	*n = bk->spcmap_len ? 2 : 1;
	if (!bk->archive_on) {
		snprintf(reason, len, "PostgreSQL '%s': archive_mode is off: restoring this snapshot needs WAL from %s to "
				      "%s that nothing archived; enable archiving or back up a stopped cluster "
				      "(timeline %u)", pd->dir, a, b, bk->timeline);
		return VG_VERDICT_SUSPECT;
	}
	if (!bk->archived) {
		snprintf(reason, len, "PostgreSQL '%s': WAL segment %s, which holds the end of the backup, was not "
				      "archived within %d s (%s): check archive_command; restoring this snapshot needs "
				      "the WAL from %s to %s (timeline %u)", pd->dir, bk->stop_wal, wait / 1000,
			 bk->archive_state, a, b, bk->timeline);
		return VG_VERDICT_SUSPECT;
	}
	snprintf(reason, len, "PostgreSQL base backup of '%s': start LSN %s, stop LSN %s, timeline %u; restoring it "
			      "needs the archived WAL up to segment %s", pd->dir, a, b, bk->timeline, bk->stop_wal);
	return VG_VERDICT_OK;
}

static int pg_extra(void *ctx, const char *dir, const struct vg_backup_extra **files, size_t *n, char *reason,
		    size_t len)
{
	const char *rel;
	struct pgdir *pd = pg_online_of(ctx, dir, &rel);
	*files = NULL;
	*n = 0;
	if (!pd || *rel || pd->stopped)
		return VG_VERDICT_OK;
	pd->stopped = true;
	return pg_stop(ctx, pd, files, n, reason, len);
}

/* A cluster whose server runs (postmaster.pid, pg_control in production)
 * is put in backup mode; when that fails it is copied as it is, suspect. */
static void pg_go_online(struct vg_guard *g, struct pgdir *pd)
{
	char pid[PATH_MAX + 32], r[PATH_MAX + 1600], lsn[20];
	struct stat st;
	snprintf(pid, sizeof pid, "%s/postmaster.pid", pd->dir);
	if (pd->cl.ctl.state != VG_PG_DB_IN_PRODUCTION || access(pid, F_OK) || stat(pd->dir, &st))
		return;
	struct vg_pg_connect cn = {.pgdata = pd->dir, .connstr = g->o.pg_connstr, .uid = st.st_uid, .gid = st.st_gid};
	if (vg_pg_backup_start(&cn, &pd->bk) < 0) {
		snprintf(r, sizeof r, "PostgreSQL '%s' is running but could not be put in backup mode (%s): this copy is "
				      "not consistent; give the connection with --pg-connstr CONNSTR (e.g. 'host=/run/postgresql "
				      "user=postgres'), or back up a stopped cluster", pd->dir, vg_errmsg());
		add_reason(g, r);
		raise_verdict(g, VG_VERDICT_SUSPECT);
		return;
	}
	pd->online = true;
	pd->uid = (uint32_t)st.st_uid;
	pd->gid = (uint32_t)st.st_gid;
	pd->start_lsn = pd->bk.start_lsn;
	say(g, "PostgreSQL '%s': backup mode started at LSN %s (timeline %u)", pd->dir,
	    vg_pg_lsn_str(pd->bk.start_lsn, lsn), pd->bk.timeline);
}

/* Is `real` (a resolved path) at or below one of the backup's paths? */
static bool covered(const char *real, const char *const *paths, size_t npaths)
{
	for (size_t i = 0; i < npaths; i++) {
		char rp[PATH_MAX];
		if (!realpath(paths[i], rp))
			continue;
		size_t n = strlen(rp);
		if (!strcmp(rp, "/") || (!strncmp(real, rp, n) && (real[n] == '/' || real[n] == 0)))
			return true;
	}
	return false;
}

/* Tablespaces live where pg_tblspc/OID points, usually outside the data
 * directory; the backup does not follow symlinks, so a tablespace whose
 * directory is not among the paths would be missing from the snapshot -
 * its tables lost on restore.  Said, and the snapshot is incomplete. */
static void check_tablespaces(struct vg_guard *g, struct pgdir *pd, const char *dir, const char *const *paths,
			      size_t npaths)
{
	struct vg_pg_tablespace *t;
	size_t n;
	char r[2 * PATH_MAX + 600];
	if (vg_pg_tablespaces(dir, &t, &n) < 0) {
		snprintf(r, sizeof r, "PostgreSQL '%s': its tablespaces cannot be listed (%s): tables in them may be "
				      "missing from this snapshot", dir, vg_errmsg());
		add_reason(g, r);
		raise_verdict(g, VG_VERDICT_INCOMPLETE);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (t[i].target[0] && covered(t[i].target, paths, npaths))
			continue;
		if (!t[i].target[0])
			snprintf(r, sizeof r, "PostgreSQL '%s': tablespace %s points to a directory that cannot be "
					      "resolved (%s): its tables are not in this snapshot", dir, t[i].oid, t[i].why);
		else
			snprintf(r, sizeof r, "PostgreSQL '%s': tablespace %s lives in '%s', outside the paths backed up: "
					      "its tables are not in this snapshot; add '%s' to the backup's paths", dir,
				 t[i].oid, t[i].target, t[i].target);
		add_reason(g, r);
		raise_verdict(g, VG_VERDICT_INCOMPLETE);
	}
	pd->ts = t; /* the page checks of tablespaces given as paths use them */
	pd->nts = n;
}

static void find_pg(struct vg_guard *g, const char *const *paths, size_t npaths)
{
	for (size_t i = 0; i < npaths && g->npg < MAX_PG; i++) {
		char *abs = NULL;
		if (vg_backup_abspath(paths[i], &abs) || !vg_pg_is_datadir(abs)) {
			free(abs);
			continue;
		}
		struct pgdir *pd = &g->pg[g->npg];
		memset(pd, 0, sizeof *pd);
		if (vg_pg_datadir_read(abs, &pd->cl)) {
			char r[PATH_MAX + 1100];
			snprintf(r, sizeof r, "PostgreSQL data directory '%s' could not be read: %s", abs, vg_errmsg());
			add_reason(g, r);
			free(abs);
			continue;
		}
		if (!pd->cl.ctl.data_checksum_version) {
			char adv[2048];
			vg_pg_disabled_advice(abs, adv, sizeof adv);
			add_reason(g, adv);
		}
		check_tablespaces(g, pd, abs, paths, npaths);
		pd->start_lsn = vg_pg_inflight_lsn(&pd->cl);
		pd->dir = abs;
		g->npg++;
		pg_go_online(g, pd);
	}
	g->watch = (struct vg_backup_watch){pg_begin, pg_data, pg_end, pg_skip, pg_expected, pg_extra, g};
}

int vg_guard_begin(const struct vg_guard_opts *o, const char *const *paths, size_t npaths,
		   struct vg_guard **out)
{
	struct vg_guard *g = calloc(1, sizeof *g);
	int err;
	*out = NULL;
	if (!g)
		return VG_ERR(VG_ENOMEM, "out of memory");
	g->o = *o;
	for (size_t i = 0; i < npaths; i++) {
		size_t l = strlen(g->paths_key);
		snprintf(g->paths_key + l, sizeof g->paths_key - l, "%s%s", i ? "," : "", paths[i]);
	}
	if ((err = vg_config_load(o->config, &g->cfg))) {
		free(g);
		return err;
	}
	if (vg_alert_open(g->cfg, &(struct vg_alert_opts){0}, &g->alerts)) {
		say(g, "warning: alerts are off for this run: %s", vg_errmsg());
		g->alerts = NULL;
	}
	if (g->alerts)
		vg_alert_run_begin(g->alerts);
	if (o->no_gate) {
		add_reason(g, "the source health gate was skipped (--no-gate)");
	} else if ((err = run_gate(g, paths, npaths))) {
		/* A gate that cannot run is itself a finding, not a pass. */
		char r[1024];
		snprintf(r, sizeof r, "the source health gate could not run: %s", vg_errmsg());
		add_reason(g, r);
		raise_verdict(g, VG_VERDICT_SUSPECT);
	} else {
		gate_alerts(g);
		for (size_t s = 0; s < g->rep.nsources; s++)
			for (size_t i = 0; i < g->rep.sources[s].findings.n; i++) {
				const struct vg_health_finding *f = &g->rep.sources[s].findings.v[i];
				if (f->level < VG_HEALTH_WARN)
					continue;
				char r[1024];
				snprintf(r, sizeof r, "health %s: %s: %s", vg_health_level_name(f->level),
					 g->rep.sources[s].path, f->message);
				add_reason(g, r);
			}
		if (g->rep.verdict >= VG_HEALTH_CRIT) {
			if (!o->force) {
				*out = g;
				return VG_ERR(VG_EUNSAFE,
					      "backup refused (fix the source first, or back up anyway with --force: "
					      "the snapshot is then marked suspect): the source is unhealthy, and a "
					      "backup now could preserve corruption. %s",
					      g->summary);
			}
			raise_verdict(g, VG_VERDICT_SUSPECT);
		}
	}
	find_pg(g, paths, npaths);
	*out = g;
	return 0;
}

const char *vg_guard_summary(const struct vg_guard *g) { return g->summary; }

void vg_guard_vault(struct vg_guard *g, const struct vg_pool_status *st)
{
	g->vault_st = *st;
	g->have_vault = true;
}

/* The vault's own last scrub, judged like a source's (35 days WARN, twice
 * that CRIT): a vault nobody verifies rots unseen. */
static void vault_scrub_age(struct vg_guard *g, struct vg_alert_ctx *a, const struct vg_pool_status *st)
{
	struct vg_health_list l = {0};
	char id[32], subject[64], key[128], action[4200];
	snprintf(id, sizeof id, "%016llx", (unsigned long long)st->vault_guid);
	snprintf(subject, sizeof subject, "vault %s", id);
	snprintf(key, sizeof key, "vault:%s:scrub-age", id);
	snprintf(action, sizeof action, "vigil scrub --vault %s (schedule it monthly)", st->dev[0].path);
	time_t last = st->scrub.state == VG_SCRUB_FINISHED ? (time_t)(st->scrub.end / 1000000000ull) : 0;
	const char *now = getenv("VIGIL_NOW");
	time_t t = now && *now ? (time_t)strtoll(now, NULL, 10) : time(NULL);
	/* a vault younger than the threshold needs no scrub yet */
	bool young = !last && t - (time_t)(st->created / 1000000000ull) < 35 * 86400;
	if (young || vg_health_scrub_age(&l, subject, last, t, 0, 0, action) || !l.n) {
		vg_health_list_release(&l);
		return;
	}
	const struct vg_health_finding *f = &l.v[0];
	if (f->level >= VG_HEALTH_WARN) {
		say(g, "%s: %s", vg_health_level_name(f->level), f->message);
		if (a) {
			struct vg_alert_event ev = {.level = alert_level(f->level), .kind = VG_KIND_SCRUB_RESULT,
						    .key = key, .subject = subject, .title = f->message,
						    .body = f->action ? f->action : f->message};
			vg_alert_emit(a, &ev);
		}
	} else if (a) {
		vg_alert_resolve(a, key);
	}
	vg_health_list_release(&l);
}

/* Alerts for the vault itself: its state, and each device's counters. */
static void vault_alerts(struct vg_alert_ctx *a, const struct vg_pool_status *st, bool scrub_finished)
{
	char key[256], title[1024], body[4096], lb[16];
	char id[32];
	if (!a)
		return;
	snprintf(id, sizeof id, "%016llx", (unsigned long long)st->vault_guid);
	snprintf(key, sizeof key, "vault:%s:state", id);
	if (st->state == VG_POOL_ONLINE) {
		vg_alert_resolve(a, key);
	} else {
		struct vg_buf b;
		vg_buf_init(&b, 16384);
		for (int d = 0; d < st->ndevs; d++)
			if (st->dev[d].state != VG_DEV_ONLINE)
				vg_buf_addf(&b, "%s is %s: %s\n", st->dev[d].path, vg_dev_state_name(st->dev[d].state),
					    st->dev[d].reason);
		vg_buf_addf(&b, "action: reconnect the device, or replace it: vigil replace --vault %s OLD NEW",
			    st->dev[0].path);
		vg_buf_cstr(&b);
		snprintf(title, sizeof title, "vault %s (%s) is %s", id, vg_layout_name(&st->layout, lb),
			 vg_pool_state_name(st->state));
		struct vg_alert_event ev = {.level = VG_ALERT_WARNING, .kind = VG_KIND_VAULT_DEGRADED, .key = key,
					    .subject = id, .title = title, .body = b.p ? (const char *)b.p : title};
		vg_alert_emit(a, &ev);
		vg_buf_release(&b);
	}
	for (int d = 0; d < st->ndevs; d++) {
		const struct vg_dev_status *ds = &st->dev[d];
		snprintf(key, sizeof key, "vault:%s:%016llx:errors", id, (unsigned long long)ds->guid);
		uint64_t total = ds->read_errs + ds->write_errs + ds->cksum_errs;
		if (!total) {
			vg_alert_resolve(a, key);
			continue;
		}
		snprintf(title, sizeof title, "vault device %s: %llu read, %llu write, %llu checksum errors", ds->path,
			 (unsigned long long)ds->read_errs, (unsigned long long)ds->write_errs,
			 (unsigned long long)ds->cksum_errs);
		snprintf(body, sizeof body,
			 "%s\nthe data was repaired from redundancy where possible.\naction: check the device "
			 "(cabling, SMART); if errors keep rising, replace it (vigil replace); once dealt with, "
			 "vigil clear.", title);
		struct vg_alert_event ev = {.level = VG_ALERT_WARNING,
					    .kind = ds->cksum_errs ? VG_KIND_CHECKSUM_ERRORS : VG_KIND_IO_ERRORS,
					    .key = key, .subject = ds->path, .title = title, .body = body};
		vg_alert_emit(a, &ev);
	}
	if (scrub_finished) {
		const struct vg_scrub_record *r = &st->scrub;
		snprintf(title, sizeof title, "scrub of vault %s: %llu blocks with errors, %llu unrecoverable", id,
			 (unsigned long long)r->errors, (unsigned long long)r->unrecoverable);
		snprintf(body, sizeof body, "%s\n%llu of %llu bytes verified, %llu bytes repaired.%s", title,
			 (unsigned long long)r->bytes_done, (unsigned long long)r->bytes_total,
			 (unsigned long long)r->repaired_bytes,
			 r->unrecoverable ? "\naction: vigil status -v lists the damaged files; restore them from "
					    "another backup." : "");
		struct vg_alert_event ev = {.level = r->unrecoverable ? VG_ALERT_CRITICAL
						      : r->errors       ? VG_ALERT_WARNING
									: VG_ALERT_INFO,
					    .kind = VG_KIND_SCRUB_RESULT, .subject = id, .title = title, .body = body};
		vg_alert_emit(a, &ev);
	}
}

void vg_vault_alerts(const char *config, const struct vg_pool_status *st, bool scrub_finished,
		     void (*report)(void *ctx, const char *line), void *ctx)
{
	struct vg_config *cfg = NULL;
	struct vg_alert_ctx *a = NULL;
	char line[1200];
	if (vg_config_load(config, &cfg) || vg_alert_open(cfg, &(struct vg_alert_opts){0}, &a)) {
		snprintf(line, sizeof line, "warning: alerts are off for this run: %s", vg_errmsg());
		if (report)
			report(ctx, line);
		vg_config_free(cfg);
		return;
	}
	vault_alerts(a, st, scrub_finished);
	vg_alert_finish(a);
	for (size_t i = 0; report && i < vg_alert_report_count(a); i++) {
		const struct vg_alert_delivery *d = vg_alert_report_at(a, i);
		if (d->error) {
			snprintf(line, sizeof line, "alert via %s: %s (%s)", d->channel ? d->channel : "-",
				 vg_alert_outcome_name(d->outcome), d->error);
			report(ctx, line);
		}
	}
	vg_alert_free(a);
	vg_config_free(cfg);
}

void vg_guard_apply(struct vg_guard *g, struct vg_backup_opts *bo)
{
	bo->verdict = g->verdict;
	bo->reasons = (const char *const *)g->reasons;
	bo->nreasons = g->nreasons;
	bo->watch = g->npg ? &g->watch : NULL;
}

static void emit(struct vg_guard *g, enum vg_alert_level l, enum vg_alert_kind k, const char *key,
		 const char *subject, const char *title, const char *body)
{
	if (!g->alerts)
		return;
	struct vg_alert_event ev = {.level = l, .kind = k, .key = key, .subject = subject, .title = title, .body = body};
	vg_alert_emit(g->alerts, &ev);
}

/* Silent corruption on the source: its own alert kind, naming the files,
 * a condition per source (repeats are deduplicated).  Only a run that
 * re-read every unchanged file and found nothing (--verify-unchanged 100)
 * resolves it: a rolling share may simply not have looked again. */
static void bit_rot_alert(struct vg_guard *g, const struct vg_backup_result *res)
{
	char key[600], title[1024], body[8192];
	snprintf(key, sizeof key, "bitrot:%s", g->paths_key);
	if (!res->rotten) {
		if (g->alerts && res->has_parent && res->verified && !res->reused)
			vg_alert_resolve(g->alerts, key);
		return;
	}
	char parent[2 * VG_ID_LEN + 1];
	vg_id_hex(&res->parent, parent);
	size_t off = 0;
	body[0] = 0;
	for (size_t i = 0; i < res->nrotten_paths && off < sizeof body - 1024; i++)
		off += (size_t)snprintf(body + off, sizeof body - off, "%s\n", res->rotten_paths[i]);
	if (res->rotten > res->nrotten_paths && off < sizeof body - 1024)
		off += (size_t)snprintf(body + off, sizeof body - off, "... and %llu more\n",
					(unsigned long long)(res->rotten - res->nrotten_paths));
	snprintf(body + off, sizeof body - off,
		 "their content changed while size and mtime did not: the source's storage is corrupting data. "
		 "The new snapshot keeps the last good versions (from snapshot %.16s). action: check the source's "
		 "disks ('vigil health', SMART, a scrub of its file system), restore these files from the last good "
		 "snapshot, and keep that snapshot until they are repaired.",
		 parent);
	snprintf(title, sizeof title, "bit rot on the source: %llu file(s) of %s changed without a write",
		 (unsigned long long)res->rotten, g->paths_key);
	emit(g, VG_ALERT_CRITICAL, VG_KIND_BIT_ROT, key, g->paths_key, title, body);
}

void vg_guard_end(struct vg_guard *g, int exit_status, const struct vg_backup_result *res, const char *error)
{
	if (!g)
		return;
	char key[600], title[1024], body[8192];
	const char *vault = g->o.vault ? g->o.vault : "the vault";
	/* PostgreSQL pages: every corrupt one is named for the user. */
	for (size_t i = 0; i < g->npg; i++) {
		struct pgdir *pd = &g->pg[i];
		uint64_t bad = vg_pg_report_corrupt(&pd->rep);
		snprintf(key, sizeof key, "pg:%s", pd->dir);
		if (!bad) {
			if (g->alerts)
				vg_alert_resolve(g->alerts, key);
			continue;
		}
		size_t off = 0;
		body[0] = 0;
		for (size_t k = 0; k < pd->rep.nfindings && off < sizeof body - 600; k++) {
			char line[512];
			vg_pg_finding_str(&pd->rep.findings[k], &pd->cl, line, sizeof line);
			say(g, "%s", line);
			off += (size_t)snprintf(body + off, sizeof body - off, "%s\n", line);
		}
		snprintf(body + off, sizeof body - off,
			 "action: restore the damaged relations from the last good backup or a replica; "
			 "run 'vigil health %s' after the repair.", pd->dir);
		snprintf(title, sizeof title, "%llu corrupt PostgreSQL page(s) in %s", (unsigned long long)bad, pd->dir);
		emit(g, VG_ALERT_CRITICAL, VG_KIND_SNAPSHOT_SUSPECT, key, pd->dir, title, body);
	}
	if (res)
		bit_rot_alert(g, res);
	snprintf(key, sizeof key, "backup:%s", g->paths_key);
	if (!res) {
		snprintf(title, sizeof title, "backup of %s into %s failed", g->paths_key, vault);
		snprintf(body, sizeof body, "%s\nnothing was committed; the previous snapshots are intact.",
			 error ? error : "unknown error");
		emit(g, VG_ALERT_CRITICAL, VG_KIND_BACKUP_FAILED, key, g->paths_key, title, body);
	} else {
		char hex[2 * VG_ID_LEN + 1];
		vg_id_hex(&res->id, hex);
		if (g->alerts)
			vg_alert_resolve(g->alerts, key);
		if (res->snap.verdict != VG_VERDICT_OK) {
			snprintf(title, sizeof title, "snapshot %.8s of %s is %s", hex, g->paths_key,
				 vg_verdict_name(res->snap.verdict));
			size_t off = 0;
			for (size_t i = 0; i < res->snap.nreasons && off < sizeof body - 512; i++)
				off += (size_t)snprintf(body + off, sizeof body - off, "%s\n", res->snap.reasons[i]);
			snprintf(body + off, sizeof body - off,
				 "retention keeps the newest healthy snapshots; fix the source and back up again.");
			emit(g, VG_ALERT_WARNING, VG_KIND_SNAPSHOT_SUSPECT, NULL, g->paths_key, title, body);
		} else {
			snprintf(title, sizeof title, "backup of %s saved as snapshot %.8s", g->paths_key, hex);
			emit(g, VG_ALERT_INFO, VG_KIND_BACKUP_SUCCEEDED, NULL, g->paths_key, title, title);
		}
	}
	if (g->have_vault) {
		vault_alerts(g->alerts, &g->vault_st, false);
		vault_scrub_age(g, g->alerts, &g->vault_st);
	}
	if (g->alerts) {
		vg_alert_run_end(g->alerts, exit_status, error ? error : "");
		vg_alert_finish(g->alerts);
		for (size_t i = 0; i < vg_alert_report_count(g->alerts); i++) {
			const struct vg_alert_delivery *d = vg_alert_report_at(g->alerts, i);
			if (d->error)
				say(g, "alert '%s' via %s: %s (%s)", d->headline ? d->headline : "",
				    d->channel ? d->channel : "-", vg_alert_outcome_name(d->outcome), d->error);
		}
		vg_alert_free(g->alerts);
	}
	vg_config_free(g->cfg);
	if (g->have_rep)
		vg_health_report_release(&g->rep);
	for (size_t i = 0; i < g->npg; i++) {
		vg_pg_report_release(&g->pg[i].rep);
		vg_pg_backup_release(&g->pg[i].bk); /* a failed run: the server leaves backup mode */
		free(g->pg[i].dir);
		free(g->pg[i].ts);
	}
	for (size_t i = 0; i < g->nreasons; i++)
		free(g->reasons[i]);
	free(g->reasons);
	free(g);
}
