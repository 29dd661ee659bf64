/*
 * spool.c - messages not delivered yet, one file each, in
 * <state>/alert/spool/<queued-ns>-<id>.json (version 1):
 *
 *   {"version": 1, "channel": "pager", "queued": 1714557600,
 *    "attempts": 2, "last_error": "...", "msg": {...msg_to_json...}}
 *
 * One file per message makes adding lock-free (temp + rename) and keeps
 * the order: names sort by the time they were queued.  Only one process
 * delivers from the spool at a time (flock on flush.lock, non-blocking:
 * a process that finds it taken leaves the work to the holder), so no
 * message goes out twice from two flushers.  The spool holds at most
 * SPOOL_MAX messages; past that the oldest is dropped with a warning.
 * The files hold no secrets: the channel is named, not its token.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert_int.h"
#include "base/buf.h"
#include "base/err.h"
#include "os/fs.h"
#include "config/config.h"

#define SPOOL_MAX 1000
#define SPOOL_FILE_MAX (1u << 20)

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Spool file names, sorted oldest first. */
static int list(struct vg_alert_ctx *ctx, char ***out, size_t *n)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/spool", ctx->dir);
	*out = NULL;
	*n = 0;
	DIR *d = opendir(p);
	if (!d)
		return VG_ERRNO(errno, "cannot read alert spool '%s'", p);
	char **names = NULL;
	size_t cap = 0;
	int err = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") || strstr(de->d_name, ".tmp."))
			continue;
		if ((err = vg_grow(&names, &cap, *n + 1, sizeof *names, "listing the alert spool")) < 0)
			break;
		if (!(names[*n] = strdup(de->d_name))) {
			err = VG_ERR(VG_ENOMEM, "out of memory");
			break;
		}
		(*n)++;
	}
	closedir(d);
	if (err) {
		free_names(names, *n);
		*n = 0;
		return err;
	}
	if (*n)
		qsort(names, *n, sizeof *names, cmp_names);
	*out = names;
	return 0;
}

static void path_of(struct vg_alert_ctx *ctx, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/spool/%s", ctx->dir, name);
}

static int write_entry(const char *path, json_t *entry)
{
	char *text = json_dumps(entry, JSON_INDENT(1));
	if (!text)
		return VG_ERR(VG_ENOMEM, "out of memory writing the alert spool");
	int err = alert_write_atomic(path, text, strlen(text));
	free(text);
	return err;
}

int spool_add(struct vg_alert_ctx *ctx, const struct channel *ch, const struct msg *m,
	      const char *why)
{
	char **names = NULL;
	size_t n = 0;
	int err = list(ctx, &names, &n);
	if (err)
		return err;
	char p[4400];
	for (size_t i = 0; n - i >= SPOOL_MAX && i < n; i++) {
		path_of(ctx, names[i], p, sizeof p);
		unlink(p);
		ctx_warn(ctx, "alert spool full (%d messages): dropped the oldest, '%s'", SPOOL_MAX,
			 names[i]);
	}
	free_names(names, n);
	char red[1024];
	vg_config_redact(ctx->cfg, why ? why : "", red, sizeof red);
	json_t *mj = msg_to_json(m);
	json_t *e = mj ? json_pack("{s:i, s:s, s:I, s:i, s:s, s:o}", "version", 1, "channel",
				   ch->name, "queued", (json_int_t)ctx->now, "attempts", 1,
				   "last_error", red, "msg", mj)
		       : NULL;
	if (!e)
		return VG_ERR(VG_ENOMEM, "out of memory spooling an alert");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char name[128];
	snprintf(name, sizeof name, "%010lld%09ld-%s.json", (long long)ts.tv_sec, ts.tv_nsec, m->id);
	path_of(ctx, name, p, sizeof p);
	err = write_entry(p, e);
	json_decref(e);
	return err;
}

static struct channel *find_channel(struct vg_alert_ctx *ctx, const char *name)
{
	for (size_t i = 0; name && i < ctx->nch; i++)
		if (!strcmp(ctx->ch[i].name, name))
			return &ctx->ch[i];
	return NULL;
}

/* Moves a damaged spool file aside (so it is not retried forever) and says so. */
static void quarantine(struct vg_alert_ctx *ctx, const char *path, const char *why)
{
	char aside[4500];
	snprintf(aside, sizeof aside, "%s.damaged", path);
	rename(path, aside);
	ctx_warn(ctx, "spooled alert '%s' is damaged (%s); moved it to '%s'", path, why, aside);
}

/* Reads one spool entry; a damaged one is moved aside with a warning. */
static json_t *read_entry(struct vg_alert_ctx *ctx, const char *name)
{
	char p[4400], *text = NULL;
	size_t len;
	path_of(ctx, name, p, sizeof p);
	int err = vg_fs_read_small(p, SPOOL_FILE_MAX, &text, &len, NULL);
	if (err == VG_ENOENT)
		return NULL; /* delivered by someone else meanwhile */
	json_t *e = err ? NULL : json_loadb(text, len, 0, NULL);
	free(text);
	if (!e || json_integer_value(json_object_get(e, "version")) != 1 ||
	    !json_is_string(json_object_get(e, "channel")) ||
	    !json_is_object(json_object_get(e, "msg"))) {
		quarantine(ctx, p, "not a version 1 spool entry");
		json_decref(e);
		return NULL;
	}
	return e;
}

/* Tries one entry; 1 if delivered (file removed), 0 if still pending. */
static int retry_entry(struct vg_alert_ctx *ctx, const char *name, json_t *e, struct channel *ch)
{
	struct msg m;
	char p[4400], err[1024] = "", hl[1024];
	path_of(ctx, name, p, sizeof p);
	if (msg_from_json(json_object_get(e, "msg"), &m)) {
		quarantine(ctx, p, vg_errmsg());
		return 0;
	}
	int r = deliver_once(ctx, ch, &m, "retry", err, sizeof err);
	msg_headline(&m, hl, sizeof hl);
	msg_release(&m);
	if (r == 0) {
		unlink(p);
		return 1;
	}
	char red[1024];
	vg_config_redact(ctx->cfg, err, red, sizeof red);
	json_object_set_new(e, "attempts",
			    json_integer(json_integer_value(json_object_get(e, "attempts")) + 1));
	json_object_set_new(e, "last_error", json_string(red));
	write_entry(p, e); /* only bookkeeping: the message is safe either way */
	ctx_report(ctx, ch, "retry", hl, VG_ALERT_SPOOLED, err, 0);
	return 0;
}

/* Walks the spool in order.  Without deliver it only marks the channels
 * that have a backlog; with deliver it tries each entry whose channel has
 * not failed yet in this pass.  *left counts what remains. */
static int walk(struct vg_alert_ctx *ctx, bool deliver, size_t *left)
{
	char **names = NULL;
	size_t n = 0;
	*left = 0;
	int err = list(ctx, &names, &n);
	for (size_t i = 0; i < ctx->nch; i++)
		ctx->ch[i].backlog = false;
	for (size_t i = 0; !err && i < n; i++) {
		json_t *e = read_entry(ctx, names[i]);
		if (!e)
			continue;
		const char *cn = json_string_value(json_object_get(e, "channel"));
		struct channel *ch = find_channel(ctx, cn);
		if (!ch) {
			if (deliver)
				ctx_warn(ctx, "spooled alert '%s' is for channel '%s', which is no "
					      "longer configured; it stays in the spool",
					 names[i], cn);
			(*left)++;
		} else if (!deliver || ch->failed || !retry_entry(ctx, names[i], e, ch)) {
			ch->backlog = true;
			(*left)++;
		}
		json_decref(e);
	}
	free_names(names, n);
	return err;
}

int spool_scan(struct vg_alert_ctx *ctx, size_t *count)
{
	return walk(ctx, false, count);
}

int spool_pass(struct vg_alert_ctx *ctx, size_t *left)
{
	char lp[4200];
	snprintf(lp, sizeof lp, "%s/flush.lock", ctx->dir);
	int lock = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0)
		return VG_ERRNO(errno, "cannot open lock file '%s'", lp);
	/* Another process holding it is delivering the spool: leave it be. */
	bool mine = flock(lock, LOCK_EX | LOCK_NB) == 0;
	int err = walk(ctx, mine, left);
	close(lock);
	return err;
}
