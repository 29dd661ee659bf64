/*
 * ch_healthchecks.c - the dead-man's switch: Healthchecks-style pings
 * (https://healthchecks.io/docs/http_api/ and its run-ID and exit-status
 * signals), also spoken by self-hosted Healthchecks and compatible
 * services (Uptime Kuma push monitors accept the plain ping).
 *
 *   [alert "deadman"]
 *   type = healthchecks
 *   url = https://hc-ping.com/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278
 *
 *   start      POST <url>/start?rid=<uuid>
 *   success    POST <url>?rid=<uuid>            body: the run's log tail
 *   failure    POST <url>/<exit status>?rid=..  (1..255), else <url>/fail
 *   test       POST <url>/log?rid=<uuid>        (logged, changes no state)
 *
 * The ping URL is a credential (anyone who has it can ping), so it is
 * registered as a secret; messages name only the server.  A query string
 * in the URL (slug URLs with ?create=1) is kept after the rid.
 */
#include <stdio.h>
#include <string.h>

#include "alert/alert_int.h"
#include "base/err.h"
#include "config/config.h"

#define BODY_MAX 10000 /* Healthchecks stores the first 10 KB of a ping body by default */

static int setup(struct vg_alert_ctx *ctx, struct channel *ch)
{
	int err = ch_need(ctx, ch, "url", &ch->url);
	if (err)
		return err;
	const char *p = strstr(ch->url, "://");
	const char *path = p ? strchr(p + 3, '/') : NULL;
	if ((err = vg_config_secret_add(ctx->cfg, ch->url)))
		return err;
	return path && strlen(path) > 4 ? vg_config_secret_add(ctx->cfg, path + 1) : 0;
}

static int send_never(struct vg_alert_ctx *ctx, struct channel *ch, const struct msg *m,
		      long long timeout_ms, char *err, size_t errlen)
{
	(void)ctx, (void)ch, (void)m, (void)timeout_ms;
	snprintf(err, errlen, "healthchecks channels only take the run's pings");
	return VG_EINVAL;
}

int vg_hc_ping(struct vg_alert_ctx *ctx, struct channel *ch, enum hc_signal sig, int status,
	       const char *body, long long timeout_ms, char *err, size_t errlen)
{
	char base[2100], suffix[16] = "", url[2300], red[BODY_MAX + 64];
	snprintf(base, sizeof base, "%s", ch->url);
	char *q = strchr(base, '?');
	const char *query = "";
	if (q) {
		*q = 0;
		query = ch->url + (q - base) + 1;
	}
	size_t n = strlen(base);
	if (n && base[n - 1] == '/')
		base[n - 1] = 0;
	switch (sig) {
	case HC_START: snprintf(suffix, sizeof suffix, "/start"); break;
	case HC_SUCCESS: break;
	case HC_FAIL: snprintf(suffix, sizeof suffix, "/fail"); break;
	case HC_EXIT: snprintf(suffix, sizeof suffix, "/%d", status); break;
	case HC_LOG: snprintf(suffix, sizeof suffix, "/log"); break;
	}
	snprintf(url, sizeof url, "%s%s?rid=%s%s%s", base, suffix, ctx->rid, query[0] ? "&" : "",
		 query);
	/* The tail of a log says the most: keep the end if it is long. */
	const char *b = body ? body : "";
	size_t bl = strlen(b);
	if (bl > BODY_MAX) {
		b += bl - BODY_MAX;
		while ((*b & 0xc0) == 0x80) /* start on a whole UTF-8 character */
			b++;
	}
	vg_config_redact(ctx->cfg, b, red, sizeof red);
	struct http_req req = {
		.url = url,
		.content_type = "text/plain; charset=utf-8",
		.body = red,
		.body_len = strlen(red),
	};
	struct http_resp resp;
	return http_send(ch, &req, timeout_ms, &resp, err, errlen);
}

const struct channel_ops vg_ch_healthchecks = {
	.type = "healthchecks",
	.setup = setup,
	.send = send_never,
};
