/*
 * ch_exec.c - the exec channel: run a command with the alert in
 * VIGIL_ALERT_* environment variables and its JSON document on stdin.
 *
 *   [alert "script"]
 *   type = exec
 *   command = /usr/local/bin/page-me --loud
 *
 * The command line goes to /bin/sh -c, as in cron and zed.rc; the alert's
 * text never becomes part of it (it travels in the environment and on
 * stdin), so no quoting problem can turn an alert title into a command.
 * Exit status 0 means delivered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_int.h"
#include "base/err.h"
#include "os/proc.h"

static const char *const keys[] = {"command", NULL};

static int setup(struct vg_alert_ctx *ctx, struct channel *ch)
{
	const char *cmd;
	return ch_need(ctx, ch, "command", &cmd);
}

#define MAX_ENV 48

static int env_add(char **env, size_t *n, const char *name, const char *value)
{
	if (*n + 1 >= MAX_ENV)
		return 0;
	size_t len = strlen(name) + strlen(value) + 2;
	char *e = malloc(len);
	if (!e)
		return VG_ERR(VG_ENOMEM, "out of memory");
	snprintf(e, len, "%s=%s", name, value);
	env[(*n)++] = e;
	env[*n] = NULL;
	return 0;
}

/* VIGIL_ALERT_FIGURE_<NAME>: upper case, other characters as '_'. */
static void figure_var(const char *name, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "VIGIL_ALERT_FIGURE_");
	for (; *name && o + 1 < len; name++) {
		char c = *name;
		buf[o++] = (c >= 'a' && c <= 'z') ? (char)(c - 32)
			   : ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c
										 : '_';
	}
	buf[o] = 0;
}

static int build_env(const struct channel *ch, const struct msg *m, char **env, size_t *n,
		     struct vg_buf *text)
{
	char t[40], hl[1024], fs[40];
	int err = msg_text(m, text);
	snprintf(fs, sizeof fs, "%lld", m->first_seen);
	const char *pairs[][2] = {
		{"VIGIL_ALERT_ID", m->id},
		{"VIGIL_ALERT_CHANNEL", ch->name},
		{"VIGIL_ALERT_STATE", msg_state_name(m->state)},
		{"VIGIL_ALERT_LEVEL", vg_alert_level_name(m->level)},
		{"VIGIL_ALERT_KIND", vg_alert_kind_name(m->kind)},
		{"VIGIL_ALERT_KEY", m->key ? m->key : ""},
		{"VIGIL_ALERT_HOST", m->host},
		{"VIGIL_ALERT_SUBJECT", m->subject},
		{"VIGIL_ALERT_TITLE", m->title},
		{"VIGIL_ALERT_HEADLINE", msg_headline(m, hl, sizeof hl)},
		{"VIGIL_ALERT_BODY", m->body},
		{"VIGIL_ALERT_TEXT", err ? "" : (const char *)text->p},
		{"VIGIL_ALERT_TIME", msg_iso_time(m->time, t, sizeof t)},
		{"VIGIL_ALERT_FIRST_SEEN", fs},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0] && !err; i++)
		err = env_add(env, n, pairs[i][0], pairs[i][1]);
	for (size_t i = 0; i < m->nfig && !err; i++) {
		char var[128];
		figure_var(m->fig[i].name, var, sizeof var);
		err = env_add(env, n, var, m->fig[i].value);
	}
	return err;
}

int run_command(struct channel *ch, const char *const *argv, const char *const *env,
		const void *input, size_t len, long long timeout_ms, const char *what, char *err,
		size_t errlen)
{
	long long limit = ch->request_ms < timeout_ms ? ch->request_ms : timeout_ms;
	struct vg_proc_opts o = {
		.argv = argv,
		.env = env,
		.stdin_data = input,
		.stdin_len = len,
		.timeout_ms = (int)(limit > 0 ? limit : 1),
		.max_out = 64 << 10,
	};
	struct vg_proc_result r;
	struct sigpipe_guard g;
	sigpipe_block(&g);
	int ret = vg_proc_run(&o, &r);
	sigpipe_restore(&g);
	if (ret) {
		snprintf(err, errlen, "cannot run %s: %s", what, vg_errmsg());
	} else if (r.timed_out) {
		snprintf(err, errlen, "%s did not finish within %.1f s and was stopped", what,
			 (double)limit / 1000);
		ret = VG_ETIMEDOUT;
	} else if (r.status != 0) {
		char first[300];
		snprintf(first, sizeof first, "%.299s", r.err[0] ? r.err : r.out);
		first[strcspn(first, "\n")] = 0;
		snprintf(err, errlen, "%s exited with status %d%s%s", what, r.status,
			 first[0] ? ": " : "", first);
		ret = VG_EEXTERNAL;
	}
	vg_proc_result_release(&r);
	return ret;
}

static int send_exec(struct vg_alert_ctx *ctx, struct channel *ch, const struct msg *m,
		     long long timeout_ms, char *err, size_t errlen)
{
	(void)ctx;
	const char *cmd = NULL;
	ch_opt(ch, "command", &cmd);
	char *env[MAX_ENV] = {NULL};
	size_t n = 0;
	struct vg_buf text = {0};
	vg_buf_init(&text, 1u << 20);
	json_t *j = msg_to_json(m);
	char *json = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	int ret = build_env(ch, m, env, &n, &text);
	if (ret || !json) {
		snprintf(err, errlen, "out of memory preparing the command's input");
		ret = VG_ENOMEM;
		goto out;
	}
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	ret = run_command(ch, argv, (const char *const *)env, json, strlen(json), timeout_ms,
			  "the command", err, errlen);
out:
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(json);
	vg_buf_release(&text);
	return ret;
}

const struct channel_ops vg_ch_exec = {
	.type = "exec",
	.keys = keys,
	.setup = setup,
	.send = send_exec,
};
