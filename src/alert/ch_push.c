/*
 * ch_push.c - phone push services: ntfy, Gotify and Pushover, each as its
 * documentation describes (links in docs/ALERTS.md).
 *
 * ntfy      POST <topic URL>, body = the text; X-Title, X-Priority (1..5),
 *           X-Tags headers; token -> "Authorization: Bearer <token>".
 * Gotify    POST <server>/message, JSON {title, message, priority, extras};
 *           the app token in the X-Gotify-Key header (not ?token=, which
 *           proxies write to their logs).
 * Pushover  POST https://api.pushover.net/1/messages.json, form fields
 *           token, user, title, message, priority, timestamp; critical
 *           alerts use emergency priority 2 with retry and expire, and a
 *           tag naming the condition; when it resolves, POST
 *           .../1/receipts/cancel_by_tag/<tag>.json (form: token) stops
 *           the phone from ringing again before the "resolved" message.
 *
 * Priorities by level (resolved and test messages use the middle one so
 * they are seen but do not wake anyone):
 *              info   warning   critical   resolved/test
 *   ntfy        3       4          5            3
 *   Gotify      2       5          8            5
 *   Pushover   -1       0          2 (1)        0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_int.h"
#include "base/err.h"
#include "config/config.h"

static int prio(const struct msg *m, const int by_level[3], int quiet)
{
	if (m->state == MSG_RESOLVED || m->state == MSG_TEST)
		return quiet;
	return by_level[m->level];
}

static int text_of(const struct msg *m, struct vg_buf *b, char *err, size_t errlen)
{
	vg_buf_init(b, 1u << 20);
	if (msg_text(m, b)) {
		snprintf(err, errlen, "out of memory rendering the alert");
		return VG_ENOMEM;
	}
	return 0;
}

/* ---- ntfy ---- */

static const char *const ntfy_keys[] = {"tags", NULL};

static int ntfy_setup(struct vg_alert_ctx *ctx, struct channel *ch)
{
	const char *url;
	return ch_need(ctx, ch, "url", &url);
}

static const char *ntfy_tag(const struct msg *m)
{
	static const char *const by_level[] = {"information_source", "warning", "rotating_light"};
	if (m->state == MSG_RESOLVED)
		return "white_check_mark";
	if (m->state == MSG_TEST)
		return "test_tube";
	return by_level[m->level];
}

static int ntfy_send(struct vg_alert_ctx *ctx, struct channel *ch, const struct msg *m,
		     long long timeout_ms, char *err, size_t errlen)
{
	(void)ctx;
	static const int levels[3] = {3, 4, 5};
	struct vg_buf b;
	if (text_of(m, &b, err, errlen))
		return VG_ENOMEM;
	char hl[1024], title[1400], h_title[1500], h_prio[32], h_tags[512], h_auth[1100];
	char body[4100];
	const char *extra = NULL;
	ch_opt(ch, "tags", &extra);
	/* ntfy turns messages over 4096 bytes into attachments. */
	utf8_cut((const char *)b.p, 4000, body, sizeof body);
	vg_buf_release(&b);
	rfc2047(msg_headline(m, hl, sizeof hl), title, sizeof title);
	snprintf(h_title, sizeof h_title, "X-Title: %s", title);
	snprintf(h_prio, sizeof h_prio, "X-Priority: %d", prio(m, levels, 3));
	char tags[400];
	http_header_value(extra ? extra : "", tags, sizeof tags);
	snprintf(h_tags, sizeof h_tags, "X-Tags: %s,vigil,%s%s%s", ntfy_tag(m),
		 vg_alert_kind_name(m->kind), tags[0] ? "," : "", tags);
	const char *headers[5] = {h_title, h_prio, h_tags, NULL, NULL};
	if (ch->token) {
		snprintf(h_auth, sizeof h_auth, "Authorization: Bearer %s", ch->token);
		headers[3] = h_auth;
	}
	struct http_req req = {
		.url = ch->url,
		.headers = headers,
		.content_type = "text/plain; charset=utf-8",
		.body = body,
		.body_len = strlen(body),
	};
	struct http_resp resp;
	return http_send(ch, &req, timeout_ms, &resp, err, errlen);
}

const struct channel_ops vg_ch_ntfy = {
	.type = "ntfy",
	.keys = ntfy_keys,
	.setup = ntfy_setup,
	.send = ntfy_send,
};

/* ---- Gotify ---- */

static int gotify_setup(struct vg_alert_ctx *ctx, struct channel *ch)
{
	const char *v;
	int err = ch_need(ctx, ch, "url", &v);
	return err ? err : ch_need(ctx, ch, "token", &v);
}

static int gotify_send(struct vg_alert_ctx *ctx, struct channel *ch, const struct msg *m,
		       long long timeout_ms, char *err, size_t errlen)
{
	(void)ctx;
	static const int levels[3] = {2, 5, 8};
	struct vg_buf b;
	if (text_of(m, &b, err, errlen))
		return VG_ENOMEM;
	char hl[1024], url[2100], auth[1100];
	size_t n = strlen(ch->url);
	snprintf(url, sizeof url, "%s%smessage", ch->url, n && ch->url[n - 1] == '/' ? "" : "/");
	json_t *j = json_pack("{s:s, s:s, s:i, s:{s:{s:s}}}", "title", msg_headline(m, hl, sizeof hl),
			      "message", (const char *)b.p, "priority", prio(m, levels, 5), "extras",
			      "client::display", "contentType", "text/plain");
	vg_buf_release(&b);
	snprintf(auth, sizeof auth, "X-Gotify-Key: %s", ch->token);
	const char *headers[] = {auth, NULL};
	return http_post_json(ch, "POST", url, headers, j, timeout_ms, err, errlen);
}

const struct channel_ops vg_ch_gotify = {
	.type = "gotify",
	.setup = gotify_setup,
	.send = gotify_send,
};

/* ---- Pushover ---- */

static const char *const pushover_keys[] = {"retry", "expire", "emergency", "device", "sound",
					    NULL};

struct pushover {
	long long retry_s, expire_s;
	bool emergency;
};

static int pushover_setup(struct vg_alert_ctx *ctx, struct channel *ch)
{
	const char *v;
	int err;
	if ((err = ch_need(ctx, ch, "token", &v)) || (err = ch_need(ctx, ch, "user", &v)))
		return err;
	struct pushover *p = calloc(1, sizeof *p);
	if (!p)
		return VG_ERR(VG_ENOMEM, "out of memory");
	ch->priv = p;
	long long retry = 60000, expire = 3600000;
	p->emergency = true;
	/* Pushover's limits: retry at least 30 s, expire at most 10800 s. */
	if (((err = vg_config_get_duration(ch->sec, "retry", 30000, 10800000, &retry)) &&
	     err != VG_ENOENT) ||
	    ((err = vg_config_get_duration(ch->sec, "expire", 30000, 10800000, &expire)) &&
	     err != VG_ENOENT) ||
	    ((err = vg_config_get_bool(ch->sec, "emergency", &p->emergency)) && err != VG_ENOENT))
		return err;
	p->retry_s = retry / 1000;
	p->expire_s = expire / 1000;
	if (!ch->url)
		ch->url = "https://api.pushover.net/1/messages.json";
	return 0;
}

/* The tag of a condition's emergency notifications: Pushover tags are
 * plain words, keys are not, so a hash of host and key. */
static void pushover_tag(const struct msg *m, char out[24])
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (const char *s = m->host ? m->host : ""; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	h = (h ^ '/') * 0x100000001b3ull;
	for (const char *s = m->key; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	snprintf(out, 24, "vigil%016llx", (unsigned long long)h);
}

static int pushover_post(struct channel *ch, const char *url, const char *const *pairs, long long timeout_ms,
			 char *err, size_t errlen)
{
	struct vg_buf form;
	vg_buf_init(&form, 64 << 10);
	int r = http_form(pairs, &form, err, errlen);
	if (r) {
		vg_buf_release(&form);
		return r;
	}
	struct http_req req = {
		.url = url,
		.content_type = "application/x-www-form-urlencoded",
		.body = (const char *)form.p,
		.body_len = form.len,
	};
	struct http_resp resp;
	r = http_send(ch, &req, timeout_ms, &resp, err, errlen);
	vg_buf_release(&form);
	return r;
}

/* Stop the retries of the condition's emergency notification (a no-op for
 * Pushover when there is none).  The URL is the messages URL with
 * "messages.json" replaced; another URL shape gets no cancel. */
static int pushover_cancel(struct channel *ch, const struct msg *m, long long timeout_ms, char *err,
			   size_t errlen)
{
	static const char tail[] = "messages.json";
	size_t n = strlen(ch->url), t = sizeof tail - 1;
	if (!m->key || n < t || strcmp(ch->url + n - t, tail))
		return 0;
	char tag[24], url[2048];
	pushover_tag(m, tag);
	if ((size_t)snprintf(url, sizeof url, "%.*sreceipts/cancel_by_tag/%s.json", (int)(n - t), ch->url, tag) >=
	    sizeof url)
		return 0;
	const char *pairs[] = {"token", ch->token, NULL};
	return pushover_post(ch, url, pairs, timeout_ms, err, errlen);
}

static int pushover_send(struct vg_alert_ctx *ctx, struct channel *ch, const struct msg *m,
			 long long timeout_ms, char *err, size_t errlen)
{
	(void)ctx;
	const struct pushover *p = ch->priv;
	const int levels[3] = {-1, 0, p->emergency ? 2 : 1};
	struct vg_buf b;
	int r;
	if (m->state == MSG_RESOLVED && p->emergency && (r = pushover_cancel(ch, m, timeout_ms, err, errlen)) < 0)
		return r; /* retried with the message: the phone may still be ringing */
	if (text_of(m, &b, err, errlen))
		return VG_ENOMEM;
	char hl[1024], title[260], message[1100], pr[8], ts[24], retry[24], expire[24], tag[24];
	/* Pushover caps titles at 250 and messages at 1024 characters. */
	utf8_cut(msg_headline(m, hl, sizeof hl), 250, title, sizeof title);
	utf8_cut((const char *)b.p, 1024, message, sizeof message);
	vg_buf_release(&b);
	int priority = prio(m, levels, 0);
	snprintf(pr, sizeof pr, "%d", priority);
	snprintf(ts, sizeof ts, "%lld", m->time);
	snprintf(retry, sizeof retry, "%lld", p->retry_s);
	snprintf(expire, sizeof expire, "%lld", p->expire_s);
	const char *device = NULL, *sound = NULL;
	ch_opt(ch, "device", &device);
	ch_opt(ch, "sound", &sound);
	const char *pairs[24] = {"token", ch->token, "user", ch->user, "title", title, "message",
				 message, "priority", pr, "timestamp", ts};
	size_t n = 12;
	if (priority == 2) {
		pairs[n++] = "retry";
		pairs[n++] = retry;
		pairs[n++] = "expire";
		pairs[n++] = expire;
		if (m->key) {
			pushover_tag(m, tag);
			pairs[n++] = "tags";
			pairs[n++] = tag;
		}
	}
	if (device) {
		pairs[n++] = "device";
		pairs[n++] = device;
	}
	if (sound) {
		pairs[n++] = "sound";
		pairs[n++] = sound;
	}
	pairs[n] = NULL;
	return pushover_post(ch, ch->url, pairs, timeout_ms, err, errlen);
}

static void pushover_release(struct channel *ch)
{
	free(ch->priv);
	ch->priv = NULL;
}

const struct channel_ops vg_ch_pushover = {
	.type = "pushover",
	.keys = pushover_keys,
	.setup = pushover_setup,
	.send = pushover_send,
	.release = pushover_release,
};
