/*
 * ch_webhook.c - the webhook channel: the alert's JSON document (the same
 * one exec gets on stdin, see docs/ALERTS.md) POSTed to a URL, with any
 * extra headers the receiver wants:
 *
 *   [alert "hook"]
 *   type = webhook
 *   url = https://hooks.example.net/vigil
 *   header = Authorization: Bearer abc123
 *   header = X-Team: storage
 *
 * Header values are registered as secrets: they usually are credentials.
 * Any 2xx answer means delivered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_int.h"
#include "base/err.h"
#include "config/config.h"

static const char *const keys[] = {"header", "method", NULL};

#define MAX_HEADERS 16

static int setup(struct vg_alert_ctx *ctx, struct channel *ch)
{
	const char *url, *h, *method = "POST";
	int err = ch_need(ctx, ch, "url", &url), line;
	if (err)
		return err;
	if ((err = ch_opt(ch, "method", &method)) && err != VG_ENOENT)
		return err;
	if (strcmp(method, "POST") && strcmp(method, "PUT")) {
		char w[600];
		return VG_ERR(VG_EINVAL, "%s: '%s' is not POST or PUT",
			      vg_config_where(ch->sec, "method", w, sizeof w), method);
	}
	size_t it = 0, n = 0;
	while (vg_config_next(ch->sec, "header", &it, &h, &line)) {
		const char *colon = strchr(h, ':');
		if (!colon || colon == h || ++n > MAX_HEADERS || strpbrk(h, "\r\n"))
			return VG_ERR(VG_EINVAL,
				      "%s:%d: [alert \"%s\"] header: write 'header = Name: value' "
				      "(at most %d headers)",
				      vg_config_origin(ctx->cfg), line, ch->name, MAX_HEADERS);
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		if ((err = vg_config_secret_add(ctx->cfg, v)))
			return err;
	}
	return 0;
}

static int send_webhook(struct vg_alert_ctx *ctx, struct channel *ch, const struct msg *m,
			long long timeout_ms, char *err, size_t errlen)
{
	(void)ctx;
	const char *headers[MAX_HEADERS + 1] = {NULL}, *h, *method = "POST";
	size_t it = 0, n = 0;
	while (n < MAX_HEADERS && vg_config_next(ch->sec, "header", &it, &h, NULL))
		headers[n++] = h;
	ch_opt(ch, "method", &method);
	json_t *j = msg_to_json(m);
	if (j) {
		json_object_set_new(j, "source", json_string("vigil"));
		json_object_set_new(j, "channel", json_string(ch->name));
	}
	return http_post_json(ch, method, ch->url, headers, j, timeout_ms, err, errlen);
}

const struct channel_ops vg_ch_webhook = {
	.type = "webhook",
	.keys = keys,
	.setup = setup,
	.send = send_webhook,
};
