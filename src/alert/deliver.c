/*
 * deliver.c - from event to channels: dedup decision, routing, one
 * attempt per channel within the budget, spooling what fails.
 *
 * Order per channel is kept by one rule: a channel that has anything in
 * the spool (ch->backlog) or that failed in this run (ch->failed) gets new
 * messages appended to the spool instead of sent, so they go out behind
 * the older ones in the retry rounds of vg_alert_finish()/flush.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_int.h"
#include "base/buf.h"
#include "base/err.h"

bool ch_routes(const struct channel *ch, enum vg_alert_level l, enum vg_alert_kind k)
{
	if (ch->ops == &vg_ch_healthchecks)
		return false; /* it only takes the run's pings */
	return (ch->levels & (1u << l)) && (ch->kinds & (1u << k));
}

int deliver_once(struct vg_alert_ctx *ctx, struct channel *ch, const struct msg *m,
		 const char *what, char *err, size_t errlen)
{
	char hl[1024];
	msg_headline(m, hl, sizeof hl);
	long long left = ctx_left_ms(ctx);
	if (left < 50) {
		snprintf(err, errlen, "the alert time budget of %.0f s is used up",
			 (double)ctx->budget_ms / 1000);
		ch->failed = true;
		return VG_ETIMEDOUT;
	}
	long long t0 = mono_ms();
	int r = ch->ops->send(ctx, ch, m, left, err, errlen);
	long long ms = mono_ms() - t0;
	ctx->spent_ms += ms;
	if (r)
		ch->failed = true;
	if (!strcmp(what, "test"))
		ctx_report(ctx, ch, what, hl, r ? VG_ALERT_FAILED : VG_ALERT_DELIVERED, r ? err : NULL,
			   ms);
	else if (!r)
		ctx_report(ctx, ch, what, hl, VG_ALERT_DELIVERED, NULL, ms);
	return r;
}

/* Sends m to every channel that routes it; failures go to the spool. */
static int route(struct vg_alert_ctx *ctx, const struct msg *m)
{
	const char *what = msg_state_name(m->state);
	char hl[1024];
	msg_headline(m, hl, sizeof hl);
	bool any = false;
	int ret = 0;
	for (size_t i = 0; i < ctx->nch; i++) {
		struct channel *ch = &ctx->ch[i];
		if (!ch_routes(ch, m->level, m->kind))
			continue;
		any = true;
		char err[1024] = "";
		if (ch->backlog)
			snprintf(err, sizeof err, "queued behind older undelivered messages");
		else if (ch->failed)
			snprintf(err, sizeof err, "channel failed earlier in this run");
		else if (deliver_once(ctx, ch, m, what, err, sizeof err) == 0)
			continue;
		int r = spool_add(ctx, ch, m, err);
		if (r) {
			char why[1200];
			snprintf(why, sizeof why, "%s; and it could not be spooled: %s", err,
				 vg_errmsg());
			ctx_report(ctx, ch, what, hl, VG_ALERT_FAILED, why, 0);
			ret = r;
			continue;
		}
		ch->backlog = true;
		ctx->spooled++;
		ctx->spooled_now++;
		ctx_report(ctx, ch, what, hl, VG_ALERT_SPOOLED, err, 0);
	}
	if (!any)
		ctx_report(ctx, NULL, what, hl, VG_ALERT_UNROUTED, NULL, 0);
	return ret;
}

static int remember_seen(struct vg_alert_ctx *ctx, const char *key)
{
	for (size_t i = 0; i < ctx->nseen; i++)
		if (!strcmp(ctx->seen[i], key))
			return 0;
	int err = vg_grow(&ctx->seen, &ctx->seen_cap, ctx->nseen + 1, sizeof *ctx->seen, "tracking alert keys");
	if (err)
		return err;
	if (!(ctx->seen[ctx->nseen] = strdup(key)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	ctx->nseen++;
	return 0;
}

int vg_alert_emit(struct vg_alert_ctx *ctx, const struct vg_alert_event *ev)
{
	struct msg m;
	int err = msg_from_event(ctx, ev, MSG_FIRING, &m);
	if (err)
		return err;
	if (ev->key) {
		enum decision d;
		enum vg_alert_level prev;
		if (!ev->key[0] || strlen(ev->key) > 1024) {
			err = VG_ERR(VG_EINVAL, "alert '%s': condition key empty or too long", ev->title);
			goto out;
		}
		if ((err = remember_seen(ctx, ev->key)) ||
		    (err = state_note(ctx, ev, m.host, &d, &m.first_seen, &prev)))
			goto out;
		if (d == DECIDE_REPEAT) {
			char hl[1024];
			ctx_report(ctx, NULL, "repeat", msg_headline(&m, hl, sizeof hl),
				   VG_ALERT_SUPPRESSED, NULL, 0);
			goto out;
		}
		m.state = d == DECIDE_REMIND ? MSG_REMINDER : d == DECIDE_WORSE ? MSG_ESCALATED
										 : MSG_FIRING;
		m.prev_level = prev;
	}
	err = route(ctx, &m);
out:
	msg_release(&m);
	return err;
}

int vg_alert_resolve(struct vg_alert_ctx *ctx, const char *key)
{
	struct cond c;
	bool found = false;
	int err = state_clear(ctx, key, &found, &c);
	if (err || !found)
		return err;
	struct vg_alert_event ev = {
		.level = c.level,
		.kind = c.kind,
		.key = key,
		.host = c.host,
		.subject = c.subject,
		.title = c.title,
	};
	struct msg m;
	if (!(err = msg_from_event(ctx, &ev, MSG_RESOLVED, &m))) {
		m.first_seen = c.first_seen;
		err = route(ctx, &m);
		msg_release(&m);
	}
	cond_release(&c);
	return err;
}

int vg_alert_sweep(struct vg_alert_ctx *ctx, const char *prefix)
{
	char **keys = NULL;
	size_t n = 0;
	int err = state_keys(ctx, prefix, &keys, &n);
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < ctx->nseen && !seen; j++)
			seen = !strcmp(ctx->seen[j], keys[i]);
		if (!err && !seen)
			err = vg_alert_resolve(ctx, keys[i]);
		free(keys[i]);
	}
	free(keys);
	return err;
}
