/*
 * memory.c - the health gate's memory between runs: last seen counters.
 *
 * The state file (JSON, in the state dir: health/counters.json) maps
 * "<counter key>|<counter name>" to {"v": value, "t": time seen}.  A
 * counter above its remembered value is reported as new errors ("3 new
 * checksum errors on tank/sdb since the last check on 2024-01-09"): the
 * finding for that subject is annotated and raised to the counter's
 * rise_level, or a finding is added.  A counter below it was cleared
 * (zpool clear, btrfs device stats -z, a replaced disk): an INFO note, not
 * an alarm.
 *
 * Invariants: the file is replaced atomically (write a temporary file in
 * the same directory, fsync, rename, fsync the directory), so a crash
 * leaves the old or the new state, never a torn one.  A damaged file is
 * kept aside as "<file>.damaged", reported once (WARN) and treated as
 * empty.  Entries not seen for 400 days are dropped; at most MEM_MAX
 * entries are kept, and the file is read with a size cap.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/paths.h"
#include "source/probe.h"

#define MEM_MAX 20000
#define MEM_FILE_MAX (8u << 20)
#define MEM_FORGET (400 * 86400)

struct vg_hmem {
	char path[4096];
	time_t now;
	json_t *counters; /* object: key -> {"v","t"} */
	bool dirty;
};

static void note(struct vg_health_list *notes, const char *path, const char *fmt, const char *why)
{
	char msg[600];
	snprintf(msg, sizeof msg, fmt, path, why);
	vg_hl_add(notes, VG_HEALTH_WARN, VG_PROBE_STATE, path,
		  "nothing to do if it happens once; if it repeats, check the state directory "
		  "(VIGIL_STATE_DIR) is writable and on healthy storage",
		  "%s", msg);
}

static json_t *load(const char *path, struct vg_health_list *notes)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			note(notes, path, "cannot read the health state file %s (%s): counters start afresh",
			     strerror(errno));
		return json_object();
	}
	json_error_t jerr;
	json_t *root = st.st_size <= (off_t)MEM_FILE_MAX ? json_load_file(path, 0, &jerr) : NULL;
	json_t *c = json_object_get(root, "counters");
	if (!root || !json_is_object(c) || json_integer_value(json_object_get(root, "version")) != 1) {
		char why[300], aside[4200];
		snprintf(why, sizeof why, "%s",
			 !root ? (st.st_size > (off_t)MEM_FILE_MAX ? "too large" : jerr.text)
			       : "not a vigil health state");
		note(notes, path, "the health state file %s is damaged (%s): counters start afresh",
		     why);
		snprintf(aside, sizeof aside, "%s.damaged", path);
		if (rename(path, aside) < 0)
			unlink(path);
		json_decref(root);
		return json_object();
	}
	json_incref(c);
	json_decref(root);
	return c;
}

struct vg_hmem *vg_hmem_open(const char *file, time_t now, struct vg_health_list *notes)
{
	if (file && !file[0])
		return NULL;
	struct vg_hmem *m = calloc(1, sizeof *m);
	if (!m) {
		notes->oom = true;
		return NULL;
	}
	m->now = now;
	int err = 0;
	if (file)
		snprintf(m->path, sizeof m->path, "%s", file);
	else
		err = vg_state_path("health/counters.json", m->path, sizeof m->path);
	if (err) {
		note(notes, "state dir", "cannot keep counters between runs (%s: %s)", vg_errmsg());
		free(m);
		return NULL;
	}
	m->counters = load(m->path, notes);
	if (!m->counters) {
		notes->oom = true;
		free(m);
		return NULL;
	}
	return m;
}

static struct vg_health_finding *by_subject(struct vg_health_list *l, const char *subject)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].subject, subject))
			return &l->v[i];
	return NULL;
}

static void fig_key(char *buf, size_t cap, const char *prefix, const char *name)
{
	snprintf(buf, cap, "%s%s", prefix, name);
	for (char *p = buf; *p; p++)
		if (*p == ' ' || *p == '-')
			*p = '_';
}

static void rose(struct vg_hmem *m, struct vg_health_list *l, const struct vg_health_counter *c,
		 uint64_t prev, time_t when)
{
	(void)m;
	char date[32], key[128];
	vg_hl_date(when, date, sizeof date);
	uint64_t delta = c->value - prev;
	struct vg_health_finding *f = by_subject(l, c->subject);
	if (f && f->level >= VG_HEALTH_WARN) {
		vg_hl_append(l, f, "; %llu new %s on %s since the last check (%s)",
			     (unsigned long long)delta, c->name, c->subject, date);
		if (f->level < c->rise_level)
			f->level = c->rise_level;
	} else {
		f = vg_hl_add(l, c->rise_level, c->probe, c->subject, NULL,
			      "%llu new %s on %s since the last check (%s): %llu now, %llu then",
			      (unsigned long long)delta, c->name, c->subject, date,
			      (unsigned long long)c->value, (unsigned long long)prev);
	}
	fig_key(key, sizeof key, "new_", c->name);
	vg_hl_fig(l, f, key, (int64_t)delta);
}

void vg_hmem_apply(struct vg_hmem *m, struct vg_health_list *l)
{
	if (!m)
		return;
	size_t nc = l->nc; /* findings added below do not add counters */
	for (size_t i = 0; i < nc; i++) {
		const struct vg_health_counter *c = &l->c[i];
		char key[700];
		snprintf(key, sizeof key, "%s|%s", c->key, c->name);
		json_t *e = json_object_get(m->counters, key);
		json_t *v = json_object_get(e, "v");
		if (json_is_integer(v) && json_integer_value(v) >= 0) {
			uint64_t prev = (uint64_t)json_integer_value(v);
			time_t when = (time_t)json_integer_value(json_object_get(e, "t"));
			char date[32];
			vg_hl_date(when, date, sizeof date);
			if (c->value > prev) {
				rose(m, l, c, prev, when);
			} else if (c->value < prev) {
				struct vg_health_finding *f = vg_hl_add(
					l, VG_HEALTH_INFO, c->probe, c->subject, NULL,
					"%s on %s went down from %llu to %llu since the last check (%s): "
					"the counter was cleared or the device replaced",
					c->name, c->subject, (unsigned long long)prev,
					(unsigned long long)c->value, date);
				vg_hl_fig(l, f, "previous", (int64_t)prev);
			}
		}
		if (json_object_size(m->counters) >= MEM_MAX && !e)
			continue;
		json_object_set_new(m->counters, key,
				    json_pack("{s:I, s:I}", "v", (json_int_t)(c->value > INT64_MAX
										? INT64_MAX
										: c->value),
					      "t", (json_int_t)m->now));
		m->dirty = true;
	}
}

static int save(struct vg_hmem *m)
{
	/* Forget what has not been seen for a long time (replaced disks). */
	const char *k;
	json_t *v;
	void *it;
	json_object_foreach_safe(m->counters, it, k, v)
	{
		json_int_t t = json_integer_value(json_object_get(v, "t"));
		if (t && m->now - (time_t)t > MEM_FORGET)
			json_object_del(m->counters, k);
	}
	json_t *root = json_pack("{s:i, s:O}", "version", 1, "counters", m->counters);
	char *text = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(root);
	if (!text)
		return VG_ERR(VG_ENOMEM, "out of memory writing the health state");
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", m->path, (int)getpid());
	int err = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = VG_ERRNO(errno, "cannot write '%s'", tmp);
		goto out;
	}
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = VG_ERRNO(errno ? errno : EIO, "cannot write '%s'", tmp);
			break;
		}
		done += (size_t)n;
	}
	if (!err && fsync(fd) < 0)
		err = VG_ERRNO(errno, "cannot sync '%s'", tmp);
	if (close(fd) < 0 && !err)
		err = VG_ERRNO(errno, "cannot write '%s'", tmp);
	if (!err && rename(tmp, m->path) < 0)
		err = VG_ERRNO(errno, "cannot replace '%s'", m->path);
	if (err) {
		unlink(tmp);
		goto out;
	}
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", m->path);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* the rename is durable; the data already is */
		close(dfd);
	}
out:
	free(text);
	return err;
}

void vg_hmem_close(struct vg_hmem *m, struct vg_health_list *notes)
{
	if (!m)
		return;
	if (m->dirty && save(m))
		note(notes, m->path, "cannot save the health state file %s (%s): the next run will "
				     "not know today's counters", vg_errmsg());
	json_decref(m->counters);
	free(m);
}
