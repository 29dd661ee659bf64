/*
 * state.c - the dedup state: which conditions are active, at what level,
 * and when they were last sent.  <state>/alert/state.json, version 1:
 *
 *   {"version": 1, "conditions": {"<key>": {"level": "critical",
 *     "kind": "checksum-errors", "host": "...", "subject": "...",
 *     "title": "...", "first_seen": 1714557600, "last_sent": ...,
 *     "last_seen": ..., "count": 5}}}
 *
 * Every change is read-modify-write under an exclusive flock on
 * state.lock (zedlets run concurrently with each other and with backups),
 * and written atomically (temp file, fsync, rename, fsync of the
 * directory): a crash leaves the old or the new file, never half of one.
 * A file that does not parse or breaks the caps is moved aside to
 * state.json.damaged and treated as empty, with a warning: the worst case
 * is one repeated alert per ongoing condition, never a lost one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert/alert_int.h"
#include "base/err.h"
#include "os/fs.h"

#define STATE_MAX_BYTES (8u << 20)
#define STATE_MAX_CONDS 10000

int alert_write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot create '%s'", tmp);
	size_t done = 0;
	int err = 0;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = VG_ERRNO(errno, "cannot write '%s'", tmp);
			break;
		}
		done += (size_t)n;
	}
	if (!err && fsync(fd) < 0)
		err = VG_ERRNO(errno, "cannot sync '%s'", tmp);
	close(fd);
	if (!err && rename(tmp, path) < 0)
		err = VG_ERRNO(errno, "cannot rename '%s' to '%s'", tmp, path);
	if (err) {
		unlink(tmp);
		return err;
	}
	char dir[4200];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = 0;
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return 0;
}

static int lock_state(struct vg_alert_ctx *ctx)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/state.lock", ctx->dir);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return VG_ERRNO(errno, "cannot open lock file '%s'", p);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int err = VG_ERRNO(errno, "cannot lock '%s'", p);
			close(fd);
			return err;
		}
	}
	return fd;
}

static void unlock_state(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

static bool valid_cond(const json_t *c)
{
	const char *s[] = {"host", "subject", "title"};
	for (size_t i = 0; i < 3; i++) {
		const json_t *v = json_object_get(c, s[i]);
		if (!json_is_string(v) || json_string_length(v) > 65536)
			return false;
	}
	return json_is_object(c) &&
	       vg_alert_level_parse(json_string_value(json_object_get(c, "level"))) >= 0 &&
	       vg_alert_kind_parse(json_string_value(json_object_get(c, "kind"))) >= 0 &&
	       json_is_integer(json_object_get(c, "first_seen")) &&
	       json_is_integer(json_object_get(c, "last_sent"));
}

/* Loads the conditions object (new reference); damaged files become {}. */
static json_t *load(struct vg_alert_ctx *ctx, int *err)
{
	char p[4200], *text = NULL;
	size_t len = 0;
	snprintf(p, sizeof p, "%s/state.json", ctx->dir);
	*err = vg_fs_read_small(p, STATE_MAX_BYTES, &text, &len, NULL);
	if (*err == VG_ENOENT) {
		*err = 0;
		return json_object();
	}
	const char *why = NULL;
	json_error_t je;
	json_t *root = NULL, *conds = NULL;
	if (*err == VG_ECORRUPT) {
		why = "too large";
	} else if (*err) {
		return NULL;
	} else if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je))) {
		why = je.text;
	} else if (json_integer_value(json_object_get(root, "version")) != 1 ||
		   !json_is_object(conds = json_object_get(root, "conditions")) ||
		   json_object_size(conds) > STATE_MAX_CONDS) {
		why = "not a version 1 state document";
	} else {
		const char *k;
		json_t *v;
		json_object_foreach(conds, k, v) if (!valid_cond(v)) why = "a condition is malformed";
	}
	*err = 0;
	if (why) {
		char aside[4300];
		snprintf(aside, sizeof aside, "%s.damaged", p);
		rename(p, aside);
		ctx_warn(ctx, "alert state file '%s' is damaged (%s); moved it to '%s' and started "
			      "afresh: ongoing conditions will alert once more",
			 p, why, aside);
		json_decref(root);
		free(text);
		return json_object();
	}
	json_incref(conds);
	json_decref(root);
	free(text);
	return conds;
}

static int save(struct vg_alert_ctx *ctx, json_t *conds)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/state.json", ctx->dir);
	json_t *root = json_pack("{s:i, s:O}", "version", 1, "conditions", conds);
	char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	json_decref(root);
	if (!text)
		return VG_ERR(VG_ENOMEM, "out of memory writing the alert state");
	int err = alert_write_atomic(p, text, strlen(text));
	free(text);
	return err;
}

static json_int_t get_int(const json_t *c, const char *k)
{
	return json_integer_value(json_object_get(c, k));
}

int state_note(struct vg_alert_ctx *ctx, const struct vg_alert_event *ev, const char *host,
	       enum decision *d, long long *first_seen, enum vg_alert_level *prev)
{
	int lock = lock_state(ctx);
	if (lock < 0)
		return lock;
	int err;
	json_t *conds = load(ctx, &err);
	if (!conds) {
		if (!err)
			err = VG_ERR(VG_ENOMEM, "out of memory");
		goto out;
	}
	json_t *c = json_object_get(conds, ev->key);
	long long now = ctx->now;
	*prev = ev->level;
	if (!c) {
		*d = DECIDE_NEW;
		*first_seen = now;
		if (json_object_size(conds) >= STATE_MAX_CONDS) {
			ctx_warn(ctx, "more than %d active alert conditions; '%s' is sent but not "
				      "tracked",
				 STATE_MAX_CONDS, ev->key);
			goto out;
		}
		c = json_pack("{s:I, s:I, s:I}", "first_seen", (json_int_t)now, "last_sent",
			      (json_int_t)now, "count", (json_int_t)0);
		if (!c || json_object_set_new(conds, ev->key, c)) {
			err = VG_ERR(VG_ENOMEM, "out of memory");
			goto out;
		}
	} else {
		enum vg_alert_level was =
			(enum vg_alert_level)vg_alert_level_parse(json_string_value(json_object_get(c, "level")));
		long long last = get_int(c, "last_sent");
		*first_seen = get_int(c, "first_seen");
		*prev = was;
		if (ev->level > was)
			*d = DECIDE_WORSE;
		else if (ctx->remind_ms > 0 && (now - last) * 1000 >= ctx->remind_ms)
			*d = DECIDE_REMIND;
		else
			*d = DECIDE_REPEAT;
		if (*d != DECIDE_REPEAT)
			json_object_set_new(c, "last_sent", json_integer(now));
	}
	json_object_set_new(c, "level", json_string(vg_alert_level_name(ev->level)));
	json_object_set_new(c, "kind", json_string(vg_alert_kind_name(ev->kind)));
	json_object_set_new(c, "host", json_string(host));
	if (ev->subject || !json_object_get(c, "subject"))
		json_object_set_new(c, "subject", json_string(ev->subject ? ev->subject : ""));
	json_object_set_new(c, "title", json_string(ev->title));
	json_object_set_new(c, "last_seen", json_integer(now));
	json_object_set_new(c, "count", json_integer(get_int(c, "count") + 1));
	err = save(ctx, conds);
out:
	json_decref(conds);
	unlock_state(lock);
	return err;
}

void cond_release(struct cond *c)
{
	free(c->host);
	free(c->subject);
	free(c->title);
	memset(c, 0, sizeof *c);
}

int state_clear(struct vg_alert_ctx *ctx, const char *key, bool *found, struct cond *out)
{
	*found = false;
	memset(out, 0, sizeof *out);
	int lock = lock_state(ctx);
	if (lock < 0)
		return lock;
	int err;
	json_t *conds = load(ctx, &err);
	json_t *c = conds ? json_object_get(conds, key) : NULL;
	if (c) {
		out->level = (enum vg_alert_level)vg_alert_level_parse(
			json_string_value(json_object_get(c, "level")));
		out->kind = (enum vg_alert_kind)vg_alert_kind_parse(
			json_string_value(json_object_get(c, "kind")));
		out->host = strdup(json_string_value(json_object_get(c, "host")));
		out->subject = strdup(json_string_value(json_object_get(c, "subject")));
		out->title = strdup(json_string_value(json_object_get(c, "title")));
		out->first_seen = get_int(c, "first_seen");
		out->last_sent = get_int(c, "last_sent");
		out->last_seen = get_int(c, "last_seen");
		out->count = get_int(c, "count");
		if (!out->host || !out->subject || !out->title) {
			cond_release(out);
			err = VG_ERR(VG_ENOMEM, "out of memory");
		} else {
			json_object_del(conds, key);
			if (!(err = save(ctx, conds)))
				*found = true;
			else
				cond_release(out);
		}
	}
	json_decref(conds);
	unlock_state(lock);
	return err;
}

/* A snapshot of the conditions, read under the state lock. */
static json_t *load_locked(struct vg_alert_ctx *ctx, int *err)
{
	int lock = lock_state(ctx);
	if (lock < 0) {
		*err = lock;
		return NULL;
	}
	json_t *conds = load(ctx, err);
	unlock_state(lock);
	return conds;
}

int state_keys(struct vg_alert_ctx *ctx, const char *prefix, char ***keys, size_t *n)
{
	*keys = NULL;
	*n = 0;
	int err;
	json_t *conds = load_locked(ctx, &err);
	if (!conds)
		return err;
	size_t cap = json_object_size(conds), plen = strlen(prefix);
	char **k = calloc(cap ? cap : 1, sizeof *k);
	const char *name;
	json_t *v;
	if (!k)
		err = VG_ERR(VG_ENOMEM, "out of memory");
	json_object_foreach(conds, name, v)
	{
		if (err || strncmp(name, prefix, plen))
			continue;
		if (!(k[*n] = strdup(name)))
			err = VG_ERR(VG_ENOMEM, "out of memory");
		else
			(*n)++;
	}
	json_decref(conds);
	*keys = k;
	return err;
}

int state_list(struct vg_alert_ctx *ctx, json_t **out)
{
	*out = NULL;
	int err;
	json_t *conds = load_locked(ctx, &err);
	if (!conds)
		return err;
	json_t *list = json_array();
	const char *name;
	json_t *v;
	json_object_foreach(conds, name, v)
	{
		json_t *c = json_deep_copy(v);
		if (!c || json_object_set_new(c, "key", json_string(name)) || json_array_append_new(list, c))
			err = VG_ERR(VG_ENOMEM, "out of memory");
	}
	json_decref(conds);
	if (err) {
		json_decref(list);
		return err;
	}
	*out = list;
	return 0;
}
