/*
 * cmd_alert.c - vigil alert test|send|flush|status (docs/ALERTS.md).
 *
 *   vigil alert test [CHANNEL]    a test message through each channel,
 *                                 success or the exact error
 *   vigil alert send --level L --kind K --title T [--body B] [--key K]
 *                    [--subject S] [--host H] [--figure NAME=VALUE]...
 *   vigil alert send --resolve --key K
 *                                 one event (the zedlet's way in)
 *   vigil alert flush             retry the spool now
 *   vigil alert status            the open conditions and the spool,
 *                                 nothing sent (exit 1 if any)
 *
 * Common options: --config FILE, --timeout SECONDS (delivery budget),
 * --json.  Exit status: 0 delivered (or a suppressed repeat), 1 something
 * stays spooled for a later run, 2 a delivery failed for good (tests), 64
 * usage, 65 bad config.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/alert.h"
#include "base/err.h"
#include "cli/cli.h"
#include "cli/vault.h"
#include "config/config.h"

struct opts {
	const char *config;
	bool json;
	long long timeout_ms;
	struct vg_alert_event ev;
	struct vg_alert_figure fig[VG_ALERT_MAX_FIGURES];
	char *figbuf[VG_ALERT_MAX_FIGURES];
	bool resolve, have_level, have_kind;
};

static void print_report(const struct vg_alert_ctx *ctx, bool json, int *worst)
{
	json_t *arr = json ? json_array() : NULL;
	for (size_t i = 0; i < vg_alert_report_count(ctx); i++) {
		const struct vg_alert_delivery *d = vg_alert_report_at(ctx, i);
		int sev = d->outcome == VG_ALERT_SPOOLED ? 1 : d->outcome == VG_ALERT_FAILED ? 2 : 0;
		if (sev > *worst)
			*worst = sev;
		if (json) {
			json_array_append_new(
				arr, json_pack("{s:s?, s:s?, s:s, s:s, s:s, s:s?, s:I}", "channel",
					       d->channel, "type", d->type, "what", d->what, "headline",
					       d->headline, "outcome", vg_alert_outcome_name(d->outcome),
					       "error", d->error, "ms", (json_int_t)d->ms));
			continue;
		}
		char who[200];
		if (d->channel)
			snprintf(who, sizeof who, "'%s' (%s)", d->channel, d->type);
		else
			snprintf(who, sizeof who, "%s",
				 d->outcome == VG_ALERT_SUPPRESSED ? "(repeat of an ongoing condition)"
								   : "(no channel takes it)");
		bool extra = !strncmp(d->what, "ping", 4) || !strcmp(d->what, "retry");
		printf("%-10s %s: %s%s%s%s", vg_alert_outcome_name(d->outcome), who,
		       extra ? "(" : "", extra ? d->what : "", extra ? ") " : "", d->headline);
		if (d->error)
			printf(": %s", d->error);
		if (d->outcome == VG_ALERT_DELIVERED)
			printf(" (%lld ms)", d->ms);
		printf("\n");
	}
	if (json) {
		json_t *warn = json_array();
		for (size_t i = 0; vg_alert_warning(ctx, i); i++)
			json_array_append_new(warn, json_string(vg_alert_warning(ctx, i)));
		json_t *root = json_pack("{s:o, s:I, s:o}", "deliveries", arr, "spooled",
					 (json_int_t)vg_alert_spooled(ctx), "warnings", warn);
		cli_print_json(root);
	} else {
		for (size_t i = 0; vg_alert_warning(ctx, i); i++)
			fprintf(stderr, "vigil: warning: %s\n", vg_alert_warning(ctx, i));
		if (vg_alert_spooled(ctx))
			printf("%zu message(s) wait in the spool for the next run or 'vigil alert "
			       "flush'\n",
			       vg_alert_spooled(ctx));
	}
}

static int add_figure(struct opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return cli_usage("alert", "--figure wants NAME=VALUE, not '%s'", arg);
	if (o->ev.nfigures == VG_ALERT_MAX_FIGURES)
		return cli_usage("alert", "at most %d --figure options", VG_ALERT_MAX_FIGURES);
	char *name = strndup(arg, (size_t)(eq - arg));
	if (!name)
		return cli_fail(VG_ERR(VG_ENOMEM, "out of memory"));
	o->figbuf[o->ev.nfigures] = name;
	o->fig[o->ev.nfigures] = (struct vg_alert_figure){name, eq + 1};
	o->ev.nfigures++;
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	enum { O_CONFIG = 256, O_JSON, O_TIMEOUT, O_LEVEL, O_KIND, O_TITLE, O_BODY, O_KEY,
	       O_SUBJECT, O_HOST, O_FIGURE, O_RESOLVE };
	static const struct option lo[] = {
		{"config", required_argument, NULL, O_CONFIG},
		{"json", no_argument, NULL, O_JSON},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"level", required_argument, NULL, O_LEVEL},
		{"kind", required_argument, NULL, O_KIND},
		{"title", required_argument, NULL, O_TITLE},
		{"body", required_argument, NULL, O_BODY},
		{"key", required_argument, NULL, O_KEY},
		{"subject", required_argument, NULL, O_SUBJECT},
		{"host", required_argument, NULL, O_HOST},
		{"figure", required_argument, NULL, O_FIGURE},
		{"resolve", no_argument, NULL, O_RESOLVE},
		{NULL, 0, NULL, 0},
	};
	int c, r;
	char *end;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_CONFIG: o->config = optarg; break;
		case O_JSON: o->json = true; break;
		case O_TIMEOUT:
			o->timeout_ms = (long long)(strtod(optarg, &end) * 1000);
			if (*end || o->timeout_ms < 100 || o->timeout_ms > 3600000)
				return cli_usage("alert", "--timeout wants seconds (0.1 to 3600)");
			break;
		case O_LEVEL:
			if ((r = vg_alert_level_parse(optarg)) < 0)
				return cli_usage("alert", "--level is info, warning or critical");
			o->ev.level = (enum vg_alert_level)r;
			o->have_level = true;
			break;
		case O_KIND:
			if ((r = vg_alert_kind_parse(optarg)) < 0)
				return cli_usage("alert", "unknown --kind '%s' (see docs/ALERTS.md)",
						 optarg);
			o->ev.kind = (enum vg_alert_kind)r;
			o->have_kind = true;
			break;
		case O_TITLE: o->ev.title = optarg; break;
		case O_BODY: o->ev.body = optarg; break;
		case O_KEY: o->ev.key = optarg; break;
		case O_SUBJECT: o->ev.subject = optarg; break;
		case O_HOST: o->ev.host = optarg; break;
		case O_FIGURE:
			if ((r = add_figure(o, optarg)))
				return r;
			break;
		case O_RESOLVE: o->resolve = true; break;
		default:
			return cli_usage("alert", "unknown option '%s'", argv[optind - 1]);
		}
	}
	o->ev.figures = o->fig;
	return 0;
}

/* `vigil alert status`: what is being alerted on; exit 1 while anything
 * is, or messages wait in the spool. */
static int show_status(struct vg_alert_ctx *ctx, bool json)
{
	json_t *st = NULL;
	int err = vg_alert_status(ctx, &st);
	if (err)
		return cli_fail(err);
	json_t *conds = json_object_get(st, "conditions");
	json_int_t spooled = json_integer_value(json_object_get(st, "spooled"));
	size_t n = json_array_size(conds);
	if (json) {
		cli_print_json(json_incref(st));
	} else {
		printf(n ? "%zu condition%s alerted on:\n" : "no condition alerted on\n", n, n == 1 ? "" : "s");
		for (size_t i = 0; i < n; i++) {
			json_t *c = json_array_get(conds, i);
			char since[64];
			time_t t = (time_t)json_integer_value(json_object_get(c, "first_seen"));
			struct tm tm;
			strftime(since, sizeof since, "%Y-%m-%d %H:%M UTC", gmtime_r(&t, &tm));
			const char *lvl = json_string_value(json_object_get(c, "level"));
			char up[16];
			size_t k = 0;
			for (; lvl && lvl[k] && k + 1 < sizeof up; k++)
				up[k] = (char)(lvl[k] >= 'a' && lvl[k] <= 'z' ? lvl[k] - 32 : lvl[k]);
			up[k] = 0;
			printf("  %-8s %s: %s\n           since %s, seen %lld time%s; key %s (%s)\n", up,
			       cli_safe(json_string_value(json_object_get(c, "host"))),
			       cli_safe(json_string_value(json_object_get(c, "title"))), since,
			       (long long)json_integer_value(json_object_get(c, "count")),
			       json_integer_value(json_object_get(c, "count")) == 1 ? "" : "s",
			       cli_safe(json_string_value(json_object_get(c, "key"))),
			       cli_safe(json_string_value(json_object_get(c, "kind"))));
		}
		if (spooled)
			printf("%lld message%s waiting in the spool: 'vigil alert flush' delivers them\n",
			       (long long)spooled, spooled == 1 ? "" : "s");
		else
			printf("no message waiting in the spool\n");
	}
	json_decref(st);
	return n || spooled ? 1 : 0;
}

static int run(const char *sub, int nargs, char **args, struct opts *o)
{
	struct vg_config *cfg = NULL;
	struct vg_alert_ctx *ctx = NULL;
	int err = vg_config_load(o->config, &cfg);
	if (err)
		return cli_fail(err);
	for (size_t i = 0; vg_config_warning(cfg, i); i++)
		fprintf(stderr, "vigil: warning: %s\n", vg_config_warning(cfg, i));
	bool status = !strcmp(sub, "status");
	struct vg_alert_opts ao = {.timeout_ms = o->timeout_ms, .no_flush = !strcmp(sub, "test") || status};
	if ((err = vg_alert_open(cfg, &ao, &ctx))) {
		vg_config_free(cfg);
		return cli_fail(err);
	}
	if (status) {
		int rc = show_status(ctx, o->json);
		vg_alert_free(ctx);
		vg_config_free(cfg);
		return rc;
	}
	if (!vg_alert_channel_name(ctx, 0) && !o->json)
		fprintf(stderr, "vigil: warning: no [alert \"NAME\"] channels in '%s'; see "
				"docs/ALERTS.md\n",
			vg_config_origin(cfg)[0] ? vg_config_origin(cfg) : "(no config file)");
	if (!strcmp(sub, "test"))
		err = vg_alert_test(ctx, nargs ? args[0] : NULL);
	else if (!strcmp(sub, "send") && o->resolve)
		err = vg_alert_resolve(ctx, o->ev.key);
	else if (!strcmp(sub, "send"))
		err = vg_alert_emit(ctx, &o->ev);
	if (!err)
		err = vg_alert_finish(ctx);
	int worst = 0, rc = 0;
	if (err) {
		char msg[1024];
		vg_alert_redact(ctx, vg_errmsg(), msg, sizeof msg);
		fprintf(stderr, "vigil: %s\n", msg);
		rc = cli_exit_for(err);
	}
	print_report(ctx, o->json, &worst);
	if (!rc && !strcmp(sub, "flush") && vg_alert_spooled(ctx))
		worst = worst > 1 ? worst : 1;
	vg_alert_free(ctx);
	vg_config_free(cfg);
	return rc ? rc : worst;
}

int cmd_alert(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("alert", "say test, send, flush or status");
	const char *sub = argv[1];
	if (strcmp(sub, "test") && strcmp(sub, "send") && strcmp(sub, "flush") && strcmp(sub, "status"))
		return cli_usage("alert", "'%s' is not test, send, flush or status", sub);
	struct opts o = {0};
	int rc = parse(argc - 1, argv + 1, &o);
	int nargs = argc - 1 - optind;
	char **args = argv + 1 + optind;
	if (!rc && !strcmp(sub, "send") && o.resolve && !o.ev.key)
		rc = cli_usage("alert", "send --resolve needs --key");
	else if (!rc && !strcmp(sub, "send") && !o.resolve &&
		 (!o.have_level || !o.have_kind || !o.ev.title))
		rc = cli_usage("alert", "send needs --level, --kind and --title");
	else if (!rc && (nargs > (strcmp(sub, "test") ? 0 : 1)))
		rc = cli_usage("alert", "unexpected argument '%s'", args[nargs - 1]);
	if (!rc)
		rc = run(sub, nargs, args, &o);
	for (size_t i = 0; i < o.ev.nfigures; i++)
		free(o.figbuf[i]);
	return rc;
}
