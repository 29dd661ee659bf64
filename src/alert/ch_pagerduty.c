/*
 * ch_pagerduty.c - PagerDuty Events API v2 (docs/ALERTS.md has the links).
 *
 *   POST https://events.pagerduty.com/v2/enqueue   (202 Accepted)
 *   {"routing_key": "...", "event_action": "trigger", "dedup_key": "...",
 *    "payload": {"summary", "source", "severity", "timestamp", "component",
 *                "group", "class", "custom_details"}, "client": "vigil"}
 *   {"routing_key": "...", "event_action": "resolve", "dedup_key": "..."}
 *
 * The dedup_key is derived from host and condition key, so a reminder or an
 * escalation updates the open incident and the resolve closes it.  It is
 * at most 255 characters: longer ones keep a prefix and a hash of the rest.
 * A test triggers an info event and resolves it at once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_int.h"
#include "base/err.h"

static const char *const keys[] = {"routing-key", NULL};

static int setup(struct vg_alert_ctx *ctx, struct channel *ch)
{
	const char *v;
	int err = ch_need(ctx, ch, "routing-key", &v);
	if (err)
		return err;
	ch->token = v;
	if (!ch->url)
		ch->url = "https://events.pagerduty.com/v2/enqueue";
	return 0;
}

static void dedup_key(const struct msg *m, const char *channel, char *buf, size_t len)
{
	char raw[2300];
	if (m->state == MSG_TEST)
		snprintf(raw, sizeof raw, "vigil/%s/test/%s", m->host, channel);
	else
		snprintf(raw, sizeof raw, "vigil/%s/%s", m->host, m->key ? m->key : m->id);
	size_t n = strlen(raw);
	if (n <= 255 && n < len) {
		memcpy(buf, raw, n + 1);
		return;
	}
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	snprintf(buf, len, "%.230s#%016llx", raw, (unsigned long long)h);
}

static json_t *event(const struct channel *ch, const struct msg *m, const char *action)
{
	char key[300], hl[1024], summary[1100], t[40];
	dedup_key(m, ch->name, key, sizeof key);
	if (!strcmp(action, "resolve"))
		return json_pack("{s:s, s:s, s:s}", "routing_key", ch->token, "event_action",
				 "resolve", "dedup_key", key);
	utf8_cut(msg_headline(m, hl, sizeof hl), 1024, summary, sizeof summary);
	json_t *details = json_pack("{s:s, s:s, s:s?}", "body", m->body, "state",
				    msg_state_name(m->state), "condition", m->key);
	for (size_t i = 0; details && i < m->nfig; i++)
		json_object_set_new(details, m->fig[i].name, json_string(m->fig[i].value));
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}, s:s}",
			 "routing_key", ch->token, "event_action", "trigger", "dedup_key", key,
			 "payload", "summary", summary, "source", m->host, "severity",
			 vg_alert_level_name(m->level), "timestamp", msg_iso_time(m->time, t, sizeof t),
			 "component", m->subject[0] ? m->subject : m->host, "group", m->host,
			 "class", vg_alert_kind_name(m->kind), "custom_details", details, "client",
			 "vigil");
}

static int post(struct channel *ch, const struct msg *m, const char *action,
		long long timeout_ms, char *err, size_t errlen)
{
	return http_post_json(ch, "POST", ch->url, NULL, event(ch, m, action), timeout_ms, err,
			      errlen);
}

static int send_pd(struct vg_alert_ctx *ctx, struct channel *ch, const struct msg *m,
		   long long timeout_ms, char *err, size_t errlen)
{
	(void)ctx;
	if (m->state == MSG_RESOLVED)
		return post(ch, m, "resolve", timeout_ms, err, errlen);
	long long t0 = mono_ms();
	int r = post(ch, m, "trigger", timeout_ms, err, errlen);
	if (r == 0 && m->state == MSG_TEST)
		r = post(ch, m, "resolve", timeout_ms - (mono_ms() - t0), err, errlen);
	return r;
}

const struct channel_ops vg_ch_pagerduty = {
	.type = "pagerduty",
	.keys = keys,
	.setup = setup,
	.send = send_pd,
};
