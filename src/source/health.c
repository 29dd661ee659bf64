/*
 * health.c - vg_health_check(): map paths to storage, run the probes
 * concurrently, remember counters, merge findings per path (health.h).
 *
 * Theory of operation:
 *  1. Map.  Each path is looked up in mountinfo (longest mount point).
 *     zfs -> its pool; btrfs -> its mount point and member devices
 *     (/sys/fs/btrfs); a block filesystem -> its device, walked through
 *     sysfs to md arrays and whole disks.  Anything else (nfs, tmpfs,
 *     overlay, fuse ...) is "not inspectable".  Explicit hints (config)
 *     replace detection.
 *  2. Targets.  The storage of all paths is collected into unique targets
 *     (a pool, a btrfs filesystem, an md array, a disk), so a pool shared
 *     by three paths is asked once.
 *  3. Phase 1 runs every zpool/btrfs tool call at once (one thread per
 *     call, each with the timeout); md is read from /proc and /sys.  The
 *     ZFS and btrfs outputs name more disks (pool leaves, btrfs members).
 *  4. Phase 2 runs smartctl for every disk at once.  A healthy machine thus
 *     pays about two tool latencies, not their sum.
 *  5. Memory: counters are compared with the last run's and saved.
 *  6. Each path gets a copy of the findings of the targets under it.
 * Tool problems (missing, failing, hanging, unparsable output) become WARN
 * findings naming the tool and what was therefore not checked.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "os/proc.h"
#include "source/probe.h"
#include "source/storage.h"
#include "source/zfs.h"

#define MAX_JOBS_PER_TARGET 4
#define MAX_WORKERS 16
#define TOOL_OUT_MAX (4u << 20)

enum tkind { T_ZFS, T_BTRFS, T_MD, T_DISK };

struct job {
	const char *argv[12];
	char arg[2][512];
	const char *tool;    /* for messages: "zpool", "smartctl" */
	const char *package; /* Debian package that provides it */
	bool zpool_json;     /* fall back to text when -j is not supported */
	bool used_text;
	struct vg_proc_result res;
	int rc;
	char errmsg[300];
};

struct target {
	enum tkind kind;
	char name[256]; /* pool, btrfs mount point, md kernel name, disk kernel name */
	struct job jobs[MAX_JOBS_PER_TARGET];
	int njobs;
	struct vg_health_list list;
	struct vg_names disks, mds; /* found by the probe (pool leaves, btrfs members) */
};

struct plan {
	size_t *t; /* target indices */
	size_t n, cap;
};

struct run {
	struct vg_health_eff e;
	struct target *t;
	size_t nt, capt;
	struct plan *plans;
	bool oom;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- targets ---- */

static size_t target_get(struct run *r, enum tkind kind, const char *name)
{
	for (size_t i = 0; i < r->nt; i++)
		if (r->t[i].kind == kind && !strcmp(r->t[i].name, name))
			return i;
	if (!vg_hl_grow((void **)&r->t, &r->capt, r->nt, sizeof *r->t, 65536)) {
		r->oom = true;
		return SIZE_MAX;
	}
	struct target *t = &r->t[r->nt];
	memset(t, 0, sizeof *t);
	t->kind = kind;
	snprintf(t->name, sizeof t->name, "%s", name);
	return r->nt++;
}

static void plan_add(struct run *r, size_t src, enum tkind kind, const char *name)
{
	size_t ti = target_get(r, kind, name);
	struct plan *p = &r->plans[src];
	if (ti == SIZE_MAX)
		return;
	for (size_t i = 0; i < p->n; i++)
		if (p->t[i] == ti)
			return;
	if (!vg_hl_grow((void **)&p->t, &p->cap, p->n, sizeof *p->t, 65536)) {
		r->oom = true;
		return;
	}
	p->t[p->n++] = ti;
}

static void uninspectable(struct run *r, struct vg_health_source *s, const char *why, bool allow);

/* Disks and md arrays under a block device, added to a source's plan.
 * Storage made only of virtual disks is not inspectable from here. */
static void plan_blockdev(struct run *r, size_t src, const char *kname, struct vg_health_source *s,
			  bool allow)
{
	struct vg_names disks = {0}, mds = {0}, virt = {0};
	vg_blk_walk(r->e.sysroot, kname, &disks, &mds, &virt);
	for (size_t i = 0; i < mds.n; i++)
		plan_add(r, src, T_MD, mds.v[i]);
	for (size_t i = 0; i < disks.n; i++)
		plan_add(r, src, T_DISK, disks.v[i]);
	for (size_t i = 0; i < virt.n; i++) {
		char why[200];
		snprintf(why, sizeof why, "%s is a virtual disk: its health is the host's to check",
			 virt.v[i]);
		if (!disks.n && !mds.n)
			uninspectable(r, s, why, allow);
		else
			vg_hl_add(&s->findings, VG_HEALTH_INFO, VG_PROBE_MOUNT, s->path, NULL,
				  "%s of %s: SMART not checked", why, s->path);
	}
	r->oom |= disks.oom || mds.oom || virt.oom;
	vg_names_release(&disks);
	vg_names_release(&mds);
	vg_names_release(&virt);
}

/* ---- jobs ---- */

static void job_set(struct job *j, const char *tool, const char *package, const char *const *argv)
{
	memset(j, 0, sizeof *j);
	j->tool = tool;
	j->package = package;
	int k = 0, a = 0;
	for (; argv[k] && k < 11; k++) {
		if (argv[k][0] == '@' && a < 2) { /* "@value": copied into the job */
			snprintf(j->arg[a], sizeof j->arg[a], "%s", argv[k] + 1);
			j->argv[k] = j->arg[a++];
		} else {
			j->argv[k] = argv[k];
		}
	}
	j->argv[k] = NULL;
}

static bool starts_json(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r'))
		i++;
	return i < n && s[i] == '{';
}

static void job_exec(struct job *j, int timeout_ms)
{
	static const char *const env[] = {"LC_ALL=C", NULL};
	struct vg_proc_opts o = {.argv = j->argv, .env = env, .timeout_ms = timeout_ms,
				 .max_out = TOOL_OUT_MAX};
	j->rc = vg_proc_run(&o, &j->res);
	if (j->rc)
		snprintf(j->errmsg, sizeof j->errmsg, "%s", vg_errmsg());
	if (!j->zpool_json || j->rc || j->res.timed_out ||
	    starts_json(j->res.out, j->res.out_len))
		return;
	/* OpenZFS before 2.3 has no -j: ask again for the text form. */
	const char *text[] = {"zpool", "status", "-p", "-v", j->arg[0], NULL};
	vg_proc_result_release(&j->res);
	j->used_text = true;
	o.argv = text;
	j->rc = vg_proc_run(&o, &j->res);
	if (j->rc)
		snprintf(j->errmsg, sizeof j->errmsg, "%s", vg_errmsg());
}

struct pool_run {
	struct job **jobs;
	size_t n;
	atomic_size_t next;
	int timeout_ms;
};

static void *worker(void *arg)
{
	struct pool_run *p = arg;
	size_t i;
	while ((i = atomic_fetch_add(&p->next, 1)) < p->n)
		job_exec(p->jobs[i], p->timeout_ms);
	return NULL;
}

/* Run every job of the targets of these kinds concurrently. */
static int run_jobs(struct run *r, unsigned kinds)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nt; i++)
		if (kinds & (1u << r->t[i].kind))
			n += (size_t)r->t[i].njobs;
	if (!n)
		return 0;
	struct pool_run p = {.jobs = calloc(n, sizeof(struct job *)), .timeout_ms = r->e.timeout_ms};
	if (!p.jobs)
		return VG_ERR(VG_ENOMEM, "out of memory starting the health probes");
	for (size_t i = 0; i < r->nt; i++)
		if (kinds & (1u << r->t[i].kind))
			for (int k = 0; k < r->t[i].njobs; k++)
				p.jobs[p.n++] = &r->t[i].jobs[k];
	atomic_init(&p.next, 0);
	pthread_t th[MAX_WORKERS];
	size_t nth = 0;
	for (; nth < n && nth < MAX_WORKERS; nth++)
		if (pthread_create(&th[nth], NULL, worker, &p))
			break;
	if (!nth)
		worker(&p); /* no threads: still check, one call after the other */
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	free(p.jobs);
	return 0;
}

/* A finding when a tool could not give usable output; true if usable. */
static bool job_ok(struct job *j, struct vg_health_list *l, enum vg_health_probe probe,
		   const char *subject, int timeout_ms, bool nonzero_ok)
{
	char cmd[256] = "";
	size_t at = 0;
	for (int k = 0; j->argv[k] && at < sizeof cmd; k++)
		at += (size_t)snprintf(cmd + at, sizeof cmd - at, "%s%s", k ? " " : "", j->argv[k]);
	if (j->rc == VG_ENOENT || j->res.not_found) {
		char act[200];
		snprintf(act, sizeof act, "install %s (apt install %s), or tell vigil what backs this "
			 "path in the config file", j->package, j->package);
		vg_hl_add(l, VG_HEALTH_WARN, probe, subject, act,
			  "%s is not installed (not found on PATH): %s was NOT checked", j->tool,
			  subject);
		return false;
	}
	if (j->rc) {
		vg_hl_add(l, VG_HEALTH_WARN, probe, subject, NULL, "cannot run '%s': %s; %s was NOT checked",
			  cmd, j->errmsg, subject);
		return false;
	}
	if (j->res.timed_out) {
		struct vg_health_finding *f = vg_hl_add(
			l, VG_HEALTH_WARN, probe, subject,
			"find out why the tool hangs (dmesg; a hanging zpool often means suspended "
			"pool I/O, a hanging smartctl a dying disk or a USB bridge)",
			"'%s' did not answer within %d ms and was killed: %s was NOT checked", cmd,
			timeout_ms, subject);
		vg_hl_fig(l, f, "timeout_ms", timeout_ms);
		return false;
	}
	if (j->res.status != 0 && !(nonzero_ok && j->res.out_len)) {
		char e[200];
		const char *src = j->res.err_len ? j->res.err : j->res.out;
		size_t n = strcspn(src, "\n");
		vg_hl_copy(e, sizeof e, src, n);
		struct vg_health_finding *f =
			vg_hl_add(l, VG_HEALTH_WARN, probe, subject, NULL,
				  "'%s' failed (exit %d%s%s): %s was NOT checked", cmd, j->res.status,
				  e[0] ? ": " : "", e, subject);
		vg_hl_fig(l, f, "exit_status", j->res.status);
		return false;
	}
	if (j->res.out_truncated) {
		vg_hl_add(l, VG_HEALTH_WARN, probe, subject, NULL,
			  "'%s' printed more than %u bytes; the output was cut and %s may be only "
			  "partly checked", cmd, TOOL_OUT_MAX, subject);
	}
	return true;
}

/* ---- probes ---- */

static void zfs_jobs(struct target *t)
{
	/* -p: exact numbers as strings (--json-int would print 64-bit GUIDs). */
	const char *argv[] = {"zpool", "status", "-j", "-p", "-v", "@", NULL};
	char at[300];
	snprintf(at, sizeof at, "@%s", t->name);
	argv[5] = at;
	job_set(&t->jobs[0], "zpool", "zfsutils-linux", argv);
	t->jobs[0].zpool_json = true;
	t->njobs = 1;
}

static void zfs_finish(struct run *r, struct target *t)
{
	struct job *j = &t->jobs[0];
	if (!job_ok(j, &t->list, VG_PROBE_ZFS, t->name, r->e.timeout_ms, true))
		return;
	struct zfs_status st = {0};
	if (j->used_text)
		zfs_parse_text(j->res.out, j->res.out_len, &st);
	else
		zfs_parse_json(j->res.out, j->res.out_len, &st);
	zfs_eval(&st, t->name, j->used_text ? "zpool status output" : "zpool status -j output",
		 &r->e, &t->list);
	for (size_t i = 0; i < st.n; i++) {
		const struct zfs_pool *p = &st.pools[i];
		for (size_t k = 0; strcmp(p->name, t->name) == 0 && k < p->nv; k++) {
			char kname[64];
			const struct zfs_vdev *v = &p->v[k];
			if (!v->nchild && !v->header && k > 0 &&
			    vg_blk_from_zfs_name(r->e.sysroot, v->name, kname, sizeof kname))
				vg_blk_walk(r->e.sysroot, kname, &t->disks, &t->mds, NULL);
		}
	}
	t->list.oom |= st.oom || t->disks.oom || t->mds.oom;
	zfs_status_release(&st);
}

static void btrfs_jobs(struct target *t)
{
	static const char *const cmds[4][6] = {
		{"btrfs", "device", "stats", "@", NULL},
		{"btrfs", "filesystem", "show", "@", NULL},
		{"btrfs", "scrub", "status", "@", NULL},
		{"btrfs", "filesystem", "usage", "-T", "@", NULL},
	};
	char at[300];
	snprintf(at, sizeof at, "@%s", t->name);
	for (int i = 0; i < 4; i++) {
		const char *argv[6];
		for (int k = 0; k < 6; k++)
			argv[k] = cmds[i][k] && !strcmp(cmds[i][k], "@") ? at : cmds[i][k];
		job_set(&t->jobs[i], "btrfs", "btrfs-progs", argv);
	}
	t->njobs = 4;
}

static void eff_opts(const struct vg_health_eff *e, struct vg_health_opts *o)
{
	memset(o, 0, sizeof *o);
	o->sysroot = e->sysroot;
	o->now = e->now;
	o->scrub_warn_days = e->scrub_warn_days;
	o->scrub_crit_days = e->scrub_crit_days;
}

static void btrfs_finish(struct run *r, struct target *t)
{
	struct vg_btrfs_outputs in = {0};
	const char **outs[4] = {&in.stats, &in.show, &in.scrub, &in.usage};
	size_t *lens[4] = {&in.stats_len, &in.show_len, &in.scrub_len, &in.usage_len};
	for (int i = 0; i < 4; i++) {
		struct job *j = &t->jobs[i];
		/* One missing-tool finding is enough for the four calls. */
		if (i && (j->rc == VG_ENOENT || j->res.not_found))
			continue;
		if (job_ok(j, &t->list, VG_PROBE_BTRFS, t->name, r->e.timeout_ms, false)) {
			*outs[i] = j->res.out;
			*lens[i] = j->res.out_len;
		}
	}
	if (t->jobs[0].rc == VG_ENOENT || t->jobs[0].res.not_found)
		return;
	struct vg_health_opts o;
	eff_opts(&r->e, &o);
	vg_btrfs_parse(&in, t->name, &o, &t->list);
	struct vg_names devs = {0};
	vg_btrfs_devices(in.show, in.show_len, &devs);
	for (size_t i = 0; i < devs.n; i++) {
		char k[64];
		if (vg_blk_from_path(r->e.sysroot, devs.v[i], k, sizeof k))
			vg_blk_walk(r->e.sysroot, k, &t->disks, &t->mds, NULL);
	}
	t->list.oom |= devs.oom || t->disks.oom || t->mds.oom;
	vg_names_release(&devs);
}

static void md_finish(struct run *r, struct target *t)
{
	vg_md_check(r->e.sysroot, t->name, &r->e, &t->list);
}

static void smart_jobs(struct target *t)
{
	char dev[300];
	snprintf(dev, sizeof dev, "@/dev/%s", t->name);
	const char *argv[] = {"smartctl", "--json=c", "-i", "-H", "-A", dev, NULL};
	job_set(&t->jobs[0], "smartctl", "smartmontools", argv);
	t->njobs = 1;
}

static void smart_finish(struct run *r, struct target *t)
{
	struct job *j = &t->jobs[0];
	/* smartctl's exit status is a bit mask (smartctl(8)); its JSON says
	 * more than the status, so any JSON output is parsed. */
	if (!job_ok(j, &t->list, VG_PROBE_SMART, t->name, r->e.timeout_ms, true))
		return;
	struct vg_health_opts o;
	eff_opts(&r->e, &o);
	vg_smart_parse_json(j->res.out, j->res.out_len, t->name, &o, &t->list);
}

/* ---- mapping a path to its storage ---- */

static const char *const block_fs[] = {
	"ext2", "ext3", "ext4", "xfs", "f2fs", "vfat", "exfat", "ntfs", "ntfs3", "fuseblk",
	"jfs", "reiserfs", "nilfs2", "hfsplus", "udf", "iso9660", "bcachefs", "msdos", NULL};

static bool in_list(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (!strcmp(s, *l))
			return true;
	return false;
}

/* Absolute, normalized path: realpath when it exists; lexical otherwise
 * (recorded systems in tests name paths of another machine). */
static bool norm_path(const char *in, char *out, size_t cap, bool lexical_ok)
{
	char *rp = realpath(in, NULL);
	if (rp) {
		bool ok = strlen(rp) < cap;
		if (ok)
			strcpy(out, rp);
		free(rp);
		return ok;
	}
	if (!lexical_ok || in[0] != '/' || strlen(in) >= cap)
		return false;
	size_t n = 0;
	const char *p = in;
	out[0] = 0;
	while (*p) {
		while (*p == '/')
			p++;
		size_t l = strcspn(p, "/");
		if (!l)
			break;
		if (l == 1 && p[0] == '.') {
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			while (n && out[n - 1] != '/')
				n--;
			if (n)
				n--;
		} else {
			out[n++] = '/';
			memcpy(out + n, p, l);
			n += l;
		}
		out[n] = 0;
		p += l;
	}
	if (!n)
		strcpy(out, "/");
	return true;
}

static void uninspectable(struct run *r, struct vg_health_source *s, const char *why, bool allow)
{
	struct vg_health_finding *f = vg_hl_add(
		&s->findings, r->e.allow_uninspectable || allow ? VG_HEALTH_INFO : VG_HEALTH_WARN,
		VG_PROBE_MOUNT, s->path,
		"check that storage where it lives (on the NFS server, the host of the container), "
		"name what backs the path in the config file (zfs-pool, btrfs-mount, md-device, "
		"disks), or allow it (allow-uninspectable = yes)",
		"%s is on storage vigil cannot inspect (%s): its health was NOT checked", s->path, why);
	vg_hl_figs(&s->findings, f, "inspectable", "no");
}

static void map_hint(struct run *r, size_t i, struct vg_health_source *s,
		     const struct vg_health_hint *h)
{
	bool allow = h->allow_uninspectable;
	if (h->zfs_pool)
		plan_add(r, i, T_ZFS, h->zfs_pool);
	if (h->btrfs_mount)
		plan_add(r, i, T_BTRFS, h->btrfs_mount);
	if (h->md_device) {
		const char *md = strncmp(h->md_device, "/dev/", 5) ? h->md_device : h->md_device + 5;
		plan_add(r, i, T_MD, md);
		plan_blockdev(r, i, md, s, allow);
	}
	for (const char *const *d = h->disks; d && *d; d++) {
		char k[64];
		if (vg_blk_from_path(r->e.sysroot, *d, k, sizeof k))
			plan_blockdev(r, i, k, s, allow);
		else
			plan_add(r, i, T_DISK, strncmp(*d, "/dev/", 5) ? *d : *d + 5);
	}
}

static bool hint_set(const struct vg_health_hint *h)
{
	return h && (h->zfs_pool || h->btrfs_mount || h->md_device || (h->disks && h->disks[0]));
}

static void map_source(struct run *r, size_t i, struct vg_health_source *s,
		       const struct vg_mounts *mounts, const struct vg_health_hint *hint)
{
	char path[PATH_MAX];
	if (hint_set(hint)) {
		map_hint(r, i, s, hint);
		s->storage = strdup("named in the config");
		return;
	}
	if (!norm_path(s->path, path, sizeof path, r->e.sysroot[0] != 0)) {
		vg_hl_add(&s->findings, VG_HEALTH_WARN, VG_PROBE_MOUNT, s->path, NULL,
			  "cannot resolve %s (%s): its storage was NOT checked", s->path,
			  strerror(errno));
		return;
	}
	const struct vg_mount *m = mounts ? vg_mounts_find(mounts, path) : NULL;
	bool allow = hint && hint->allow_uninspectable;
	if (!m) {
		uninspectable(r, s, "no mount found for it", allow);
		return;
	}
	s->fstype = strdup(m->fstype);
	s->device = strdup(m->source);
	s->mountpoint = strdup(m->mnt);
	char k[64];
	if (!strcmp(m->fstype, "zfs")) {
		char pool[256];
		snprintf(pool, sizeof pool, "%.*s", (int)strcspn(m->source, "/@"), m->source);
		plan_add(r, i, T_ZFS, pool);
		s->storage = vg_hl_strf("zfs dataset %s on pool %s", m->source, pool);
	} else if (!strcmp(m->fstype, "btrfs")) {
		plan_add(r, i, T_BTRFS, m->mnt);
		struct vg_names members = {0};
		if (vg_blk_from_path(r->e.sysroot, m->source, k, sizeof k) &&
		    vg_btrfs_members(r->e.sysroot, k, &members)) {
			for (size_t d = 0; d < members.n; d++)
				plan_blockdev(r, i, members.v[d], s, allow);
		} else if (vg_blk_from_path(r->e.sysroot, m->source, k, sizeof k)) {
			plan_blockdev(r, i, k, s, allow);
		}
		vg_names_release(&members);
		s->storage = vg_hl_strf("btrfs on %s mounted at %s", m->source, m->mnt);
	} else if (in_list(m->fstype, block_fs)) {
		if ((m->maj && vg_blk_from_majmin(r->e.sysroot, m->maj, m->min, k, sizeof k)) ||
		    vg_blk_from_path(r->e.sysroot, m->source, k, sizeof k)) {
			s->storage = vg_hl_strf("%s on %s", m->fstype, m->source);
			plan_blockdev(r, i, k, s, allow);
		} else {
			char why[300];
			snprintf(why, sizeof why, "%s on %s, a device not visible in /sys", m->fstype,
				 m->source);
			uninspectable(r, s, why, allow);
		}
	} else {
		char why[300];
		snprintf(why, sizeof why, "%s from %s", m->fstype, m->source);
		uninspectable(r, s, why, allow);
	}
}

/* After phase 1: the disks and md arrays a pool or btrfs filesystem
 * revealed join the plans of the paths on it. */
static void plan_found(struct run *r, size_t nsrc)
{
	size_t nt = r->nt;
	for (size_t ti = 0; ti < nt; ti++) {
		for (size_t i = 0; i < nsrc; i++) {
			struct plan *p = &r->plans[i];
			bool uses = false;
			for (size_t k = 0; k < p->n; k++)
				uses |= p->t[k] == ti;
			if (!uses)
				continue;
			/* r->t may move in plan_add: index, do not hold pointers. */
			for (size_t d = 0; d < r->t[ti].mds.n; d++)
				plan_add(r, i, T_MD, r->t[ti].mds.v[d]);
			for (size_t d = 0; d < r->t[ti].disks.n; d++)
				plan_add(r, i, T_DISK, r->t[ti].disks.v[d]);
		}
	}
}

static void finish_kind(struct run *r, enum tkind kind)
{
	for (size_t i = 0; i < r->nt; i++) {
		struct target *t = &r->t[i];
		if (t->kind != kind)
			continue;
		switch (kind) {
		case T_ZFS: zfs_finish(r, t); break;
		case T_BTRFS: btrfs_finish(r, t); break;
		case T_MD: md_finish(r, t); break;
		case T_DISK: smart_finish(r, t); break;
		}
	}
}

static void add_jobs(struct run *r, enum tkind kind)
{
	for (size_t i = 0; i < r->nt; i++) {
		struct target *t = &r->t[i];
		if (t->kind != kind || t->njobs)
			continue;
		if (kind == T_ZFS)
			zfs_jobs(t);
		else if (kind == T_BTRFS)
			btrfs_jobs(t);
		else if (kind == T_DISK && !r->e.no_smart)
			smart_jobs(t);
	}
}

static int read_mounts(struct run *r, struct vg_mounts *m, char *why, size_t cap)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/proc/self/mountinfo", r->e.sysroot);
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(why, cap, "cannot read %.300s: %s", path, strerror(errno));
		return -1;
	}
	struct vg_buf b = {0};
	vg_buf_init(&b, 16u << 20);
	char chunk[65536];
	size_t n;
	int err = 0;
	while (!err && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		err = vg_buf_add(&b, chunk, n);
	fclose(f);
	if (!err)
		err = vg_mountinfo_parse((const char *)b.p, b.len, m);
	if (err)
		snprintf(why, cap, "cannot read %.300s: %.250s", path, vg_errmsg());
	vg_buf_release(&b);
	return err;
}

static void release_run(struct run *r, size_t nsrc)
{
	for (size_t i = 0; i < r->nt; i++) {
		for (int k = 0; k < r->t[i].njobs; k++)
			vg_proc_result_release(&r->t[i].jobs[k].res);
		vg_health_list_release(&r->t[i].list);
		vg_names_release(&r->t[i].disks);
		vg_names_release(&r->t[i].mds);
	}
	free(r->t);
	for (size_t i = 0; r->plans && i < nsrc; i++)
		free(r->plans[i].t);
	free(r->plans);
}

static void finish_sources(struct run *r, struct vg_health_report *out)
{
	out->verdict = VG_HEALTH_OK;
	for (size_t i = 0; i < out->nsources; i++) {
		struct vg_health_source *s = &out->sources[i];
		struct plan *p = &r->plans[i];
		for (size_t k = 0; k < p->n; k++)
			vg_hl_merge(&s->findings, &r->t[p->t[k]].list);
		if (!s->findings.n && !s->findings.oom)
			vg_hl_add(&s->findings, VG_HEALTH_WARN, VG_PROBE_MOUNT, s->path, NULL,
				  "no probe applies to %s%s%s: nothing was checked", s->path,
				  s->storage ? " on " : "", s->storage ? s->storage : "");
		s->verdict = vg_health_list_level(&s->findings);
		if (s->verdict > out->verdict)
			out->verdict = s->verdict;
	}
}

int vg_health_check(const char *const *paths, const struct vg_health_opts *opts,
		    struct vg_health_report *out)
{
	memset(out, 0, sizeof *out);
	long long t0 = now_ms();
	struct run r = {0};
	vg_health_eff(opts, &r.e);
	size_t n = 0;
	while (paths && paths[n])
		n++;
	if (!n)
		return VG_ERR(VG_EINVAL, "no path to check");
	out->sources = calloc(n, sizeof *out->sources);
	r.plans = calloc(n, sizeof *r.plans);
	if (!out->sources || !r.plans) {
		free(r.plans);
		free(out->sources);
		out->sources = NULL;
		return VG_ERR(VG_ENOMEM, "out of memory checking source health");
	}
	out->nsources = n;
	struct vg_mounts mounts = {0};
	char why[600] = "";
	bool have_mounts = read_mounts(&r, &mounts, why, sizeof why) == 0;
	for (size_t i = 0; i < n; i++) {
		struct vg_health_source *s = &out->sources[i];
		s->path = strdup(paths[i]);
		if (!s->path) {
			r.oom = true;
			continue;
		}
		const struct vg_health_hint *h = opts && opts->hints ? &opts->hints[i] : NULL;
		if (!have_mounts && !hint_set(h))
			uninspectable(&r, s, why, h && h->allow_uninspectable);
		else
			map_source(&r, i, s, have_mounts ? &mounts : NULL, h);
	}
	vg_mounts_release(&mounts);

	add_jobs(&r, T_ZFS);
	add_jobs(&r, T_BTRFS);
	int err = run_jobs(&r, 1u << T_ZFS | 1u << T_BTRFS);
	finish_kind(&r, T_ZFS);
	finish_kind(&r, T_BTRFS);
	plan_found(&r, n);
	add_jobs(&r, T_DISK);
	if (!err)
		err = run_jobs(&r, 1u << T_DISK);
	finish_kind(&r, T_MD);
	if (!r.e.no_smart)
		finish_kind(&r, T_DISK);

	struct vg_health_list notes = {0};
	struct vg_hmem *mem = vg_hmem_open(opts ? opts->state_file : NULL, r.e.now, &notes);
	for (size_t i = 0; mem && i < r.nt; i++)
		vg_hmem_apply(mem, &r.t[i].list);
	vg_hmem_close(mem, &notes);
	finish_sources(&r, out);
	if (notes.n)
		vg_hl_merge(&out->sources[0].findings, &notes);
	for (size_t i = 0; i < n; i++) {
		err = err ? err : vg_hl_status(&out->sources[i].findings);
		out->sources[i].verdict = vg_health_list_level(&out->sources[i].findings);
		if (out->sources[i].verdict > out->verdict)
			out->verdict = out->sources[i].verdict;
	}
	vg_health_list_release(&notes);
	if (r.oom && !err)
		err = VG_ERR(VG_ENOMEM, "out of memory checking source health");
	release_run(&r, n);
	out->elapsed_ms = (long)(now_ms() - t0);
	if (err)
		vg_health_report_release(out);
	return err;
}
