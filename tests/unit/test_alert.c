/*
 * test_alert.c - the alert library as the workflows call it: the
 * dead-man's switch pings (start, success, /<status>, /fail, rid, log tail
 * redacted), sweep resolving what a complete check no longer sees, the
 * delivery budget against a hanging command, event validation.
 * HTTP goes to tests/lib/http_sink.py on loopback.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert.h"
#include "base/err.h"
#include "config/config.h"
#include "t.h"

static int start_sink(const char *dir)
{
	const char *root = getenv("VG_ROOT") ? getenv("VG_ROOT") : ".";
	if (t_sh("mkdir -p %s && { python3 %s/tests/lib/http_sink.py --dir %s --lifetime 30 "
		 ">/dev/null 2>&1 & echo $! > %s/pid; }",
		 dir, root, dir, dir))
		return -1;
	char p[600];
	snprintf(p, sizeof p, "%s/port", dir);
	for (int i = 0; i < 200; i++) {
		size_t len = 0;
		char *s = t_read_file(p, &len);
		if (s && len > 0 && len < 16) {
			char num[16] = "";
			memcpy(num, s, len);
			free(s);
			return atoi(num);
		}
		free(s);
		struct timespec ts = {0, 20000000};
		nanosleep(&ts, NULL);
	}
	return -1;
}

static void stop_sink(const char *dir)
{
	t_sh("kill $(cat %s/pid) 2>/dev/null", dir);
}

/* The requests the sink recorded (a JSON array, new reference). */
static json_t *requests(const char *dir)
{
	char p[600];
	snprintf(p, sizeof p, "%s/requests.jsonl", dir);
	json_t *arr = json_array();
	FILE *f = fopen(p, "r");
	char line[65536];
	while (f && fgets(line, sizeof line, f))
		json_array_append_new(arr, json_loads(line, 0, NULL));
	if (f)
		fclose(f);
	return arr;
}

static const char *field(json_t *reqs, size_t i, const char *name)
{
	return json_string_value(json_object_get(json_array_get(reqs, i), name));
}

static bool canonical_uuid(const char *s)
{
	if (strlen(s) != 36 || s[14] != '4')
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
			return false;
	}
	return true;
}

static struct vg_config *config(const char *text)
{
	struct vg_config *c = NULL;
	setenv("VIGIL_STATE_DIR", t_path("state"), 1);
	return vg_config_parse(text, "test.conf", &c) ? NULL : c;
}

TEST(deadman_pings_start_success_status_fail)
{
	const char *dir = t_path("hc");
	int port = start_sink(dir);
	T_CHECK(port > 0);
	char text[512];
	snprintf(text, sizeof text,
		 "[alert \"deadman\"]\ntype = healthchecks\n"
		 "url = http://127.0.0.1:%d/ping/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278?create=1\n"
		 "[alert \"hook\"]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n"
		 "header = X-Key: hdr-secret-99\n",
		 port, port);
	struct vg_config *cfg = config(text);
	T_CHECK(cfg);
	struct vg_alert_ctx *ctx;
	struct vg_alert_opts o = {.no_flush = true};
	T_OK(vg_alert_open(cfg, &o, &ctx));
	T_OK(vg_alert_run_begin(ctx));
	T_OK(vg_alert_run_end(ctx, 0, "backup done; X-Key was hdr-secret-99"));
	T_OK(vg_alert_run_end(ctx, 3, "gate failed"));
	T_OK(vg_alert_run_end(ctx, -1, "killed"));
	T_OK(vg_alert_test(ctx, "deadman"));
	T_EQ(vg_alert_report_count(ctx), 5);
	for (size_t i = 0; i < 5; i++)
		T_EQ(vg_alert_report_at(ctx, i)->outcome, VG_ALERT_DELIVERED);
	vg_alert_free(ctx);
	json_t *r = requests(dir);
	T_EQ(json_array_size(r), 5); /* pings never reach the webhook */
	const char *start = field(r, 0, "path");
	const char *base = "/ping/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278";
	char want[200], rid[40];
	T_CHECK(!strncmp(start, base, strlen(base)));
	T_CHECK(sscanf(start + strlen(base), "/start?rid=%36[^&]&create=1", rid) == 1);
	T_CHECK(canonical_uuid(rid));
	snprintf(want, sizeof want, "%s?rid=%s&create=1", base, rid);
	T_CHECK(!strcmp(field(r, 1, "path"), want));
	T_CHECK(!strcmp(field(r, 1, "body"), "backup done; X-Key was ********"));
	snprintf(want, sizeof want, "%s/3?rid=%s&create=1", base, rid);
	T_CHECK(!strcmp(field(r, 2, "path"), want));
	T_CHECK(!strcmp(field(r, 2, "body"), "gate failed"));
	snprintf(want, sizeof want, "%s/fail?rid=%s&create=1", base, rid);
	T_CHECK(!strcmp(field(r, 3, "path"), want));
	snprintf(want, sizeof want, "%s/log?rid=%s&create=1", base, rid);
	T_CHECK(!strcmp(field(r, 4, "path"), want));
	for (size_t i = 0; i < 5; i++)
		T_CHECK(!strcmp(field(r, i, "method"), "POST"));
	json_decref(r);
	vg_config_free(cfg);
	stop_sink(dir);
}

TEST(failed_ping_is_reported_not_spooled)
{
	struct vg_config *cfg = config("[alert \"deadman\"]\ntype = healthchecks\n"
				       "url = http://127.0.0.1:1/ping/0123456789abcdef\n");
	T_CHECK(cfg);
	struct vg_alert_ctx *ctx;
	struct vg_alert_opts o = {.no_flush = true, .timeout_ms = 2000};
	T_OK(vg_alert_open(cfg, &o, &ctx));
	T_OK(vg_alert_run_begin(ctx));
	const struct vg_alert_delivery *d = vg_alert_report_at(ctx, 0);
	T_CHECK(d && d->outcome == VG_ALERT_FAILED);
	T_CHECK(strstr(d->error, "cannot reach http://127.0.0.1:1"));
	T_CHECK(!strstr(d->error, "0123456789abcdef")); /* the ping URL is a secret */
	T_OK(vg_alert_finish(ctx));
	T_EQ(vg_alert_spooled(ctx), 0);
	vg_alert_free(ctx);
	vg_config_free(cfg);
}

static int count_lines(const char *path, const char *needle)
{
	size_t len = 0;
	char *raw = t_read_file(path, &len);
	char *s = calloc(1, len + 1); /* t_read_file does not terminate */
	if (raw && s)
		memcpy(s, raw, len);
	free(raw);
	int n = 0;
	for (char *p = s; p && (p = strstr(p, needle)); p++)
		n++;
	free(s);
	return n;
}

TEST(sweep_resolves_what_a_check_no_longer_sees)
{
	char text[512];
	const char *log = t_path("log");
	snprintf(text, sizeof text,
		 "[alert \"x\"]\ntype = exec\ncommand = echo \"$VIGIL_ALERT_STATE "
		 "$VIGIL_ALERT_KEY\" >> %s\n",
		 log);
	struct vg_config *cfg = config(text);
	T_CHECK(cfg);
	struct vg_alert_ctx *ctx;
	struct vg_alert_opts o = {.no_flush = true, .now = 1000};
	struct vg_alert_event ev = {.level = VG_ALERT_WARNING, .kind = VG_KIND_GATE_FINDING,
				    .title = "t", .key = "gate:zfs:tank:sdb"};
	T_OK(vg_alert_open(cfg, &o, &ctx));
	T_OK(vg_alert_emit(ctx, &ev));
	ev.key = "gate:zfs:tank:sdc";
	T_OK(vg_alert_emit(ctx, &ev));
	ev.key = "vault:v1";
	T_OK(vg_alert_emit(ctx, &ev));
	vg_alert_free(ctx);
	/* The next run sees only sdb: sdc clears, the vault key is not ours. */
	o.now = 2000;
	T_OK(vg_alert_open(cfg, &o, &ctx));
	ev.key = "gate:zfs:tank:sdb";
	T_OK(vg_alert_emit(ctx, &ev));
	T_OK(vg_alert_sweep(ctx, "gate:zfs:"));
	vg_alert_free(ctx);
	T_EQ(count_lines(log, "firing"), 3);
	T_EQ(count_lines(log, "resolved gate:zfs:tank:sdc"), 1);
	T_EQ(count_lines(log, "resolved"), 1);
	vg_config_free(cfg);
}

TEST(hanging_command_is_bounded_and_spooled)
{
	struct vg_config *cfg = config("[alert \"slow\"]\ntype = exec\ncommand = sleep 20\n");
	T_CHECK(cfg);
	struct vg_alert_ctx *ctx;
	struct vg_alert_opts o = {.no_flush = true, .timeout_ms = 1000};
	struct vg_alert_event ev = {.level = VG_ALERT_CRITICAL, .kind = VG_KIND_BACKUP_FAILED,
				    .title = "backup failed"};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	T_OK(vg_alert_open(cfg, &o, &ctx));
	T_OK(vg_alert_emit(ctx, &ev));
	T_OK(vg_alert_emit(ctx, &ev)); /* the channel failed: straight to the spool */
	T_OK(vg_alert_finish(ctx));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	T_CHECKF(ms < 3000, "took %lld ms with a 1 s budget", ms);
	T_EQ(vg_alert_spooled(ctx), 2);
	const struct vg_alert_delivery *d = vg_alert_report_at(ctx, 0);
	T_CHECK(d->outcome == VG_ALERT_SPOOLED && strstr(d->error, "did not finish"));
	vg_alert_free(ctx);
	vg_config_free(cfg);
}

TEST(events_are_validated_and_channels_checked)
{
	struct vg_config *cfg = config("[alert \"x\"]\ntype = exec\ncommand = true\n");
	T_CHECK(cfg);
	struct vg_alert_ctx *ctx;
	struct vg_alert_opts o = {.no_flush = true};
	T_OK(vg_alert_open(cfg, &o, &ctx));
	struct vg_alert_event ev = {.level = VG_ALERT_WARNING, .kind = VG_KIND_PRUNED};
	T_EQ(vg_alert_emit(ctx, &ev), VG_EINVAL);
	ev.title = "t";
	ev.kind = (enum vg_alert_kind)99;
	T_EQ(vg_alert_emit(ctx, &ev), VG_EINVAL);
	T_EQ(vg_alert_test(ctx, "nope"), VG_ENOENT);
	vg_alert_free(ctx);
	vg_config_free(cfg);
	static const char *const bad[] = {
		"[alert \"a\"]\nurl = http://x\n",                                 /* no type */
		"[alert \"a\"]\ntype = carrier-pigeon\n",                          /* unknown type */
		"[alert \"a\"]\ntype = ntfy\n",                                    /* no url */
		"[alert \"a\"]\ntype = pushover\ntoken = abcd\n",                  /* no user */
		"[alert \"a\"]\ntype = pushover\ntoken = abcd\nuser = efgh\nretry = 10s\n",
		"[alert \"a\"]\ntype = pagerduty\nrouting_key = abcd\n",           /* typo */
		"[alert \"a\"]\ntype = email\nto = not-an-address\n",
		"[alert \"a\"]\ntype = email\nto = a@b.c\nurl = http://mail\n",
		"[alert \"a\"]\ntype = webhook\nurl = http://x\nheader = no colon\n",
		"[alert \"a\"]\ntype = exec\ncommand = true\nlevels = loud\n",
		"[alert]\ntimeout = forever\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cfg = config(bad[i]);
		T_CHECK(cfg);
		int err = vg_alert_open(cfg, &o, &ctx);
		T_CHECKF(err == VG_EINVAL, "config %zu: %d", i, err);
		T_CHECKF(strstr(vg_errmsg(), "test.conf:"), "config %zu: %s", i, vg_errmsg());
		vg_config_free(cfg);
	}
}
