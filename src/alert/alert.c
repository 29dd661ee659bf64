/*
 * alert.c - the alert context: reading [alert] and [alert "NAME"] sections
 * into channels, the delivery budget, the report, and the public calls
 * that are not about events (tests, pings, flush, finish).  Events, dedup
 * and routing are in deliver.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert_int.h"
#include "base/err.h"
#include "base/paths.h"
#include "config/config.h"

static const struct channel_ops *const types[] = {
	&vg_ch_exec,      &vg_ch_webhook,      &vg_ch_ntfy,  &vg_ch_gotify, &vg_ch_pushover,
	&vg_ch_pagerduty, &vg_ch_healthchecks, &vg_ch_email, NULL};

static const char *const common_keys[] = {"type",        "levels",          "kinds",
					  "url",         "token",           "user",
					  "connect-timeout", "request-timeout", "ca-file",
					  "tls-verify",  NULL};
static const char *const global_keys[] = {"timeout", "remind", "host", "connect-timeout",
					  "request-timeout", NULL};

#define DEFAULT_BUDGET_MS 30000
#define DEFAULT_REMIND_MS (24LL * 3600 * 1000)
#define RETRY_ROUNDS 3

long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t set, pending;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

void sigpipe_restore(struct sigpipe_guard *g)
{
	sigset_t set, pending;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	if (!g->was_pending && sigismember(&pending, SIGPIPE)) {
		struct timespec zero = {0, 0};
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

void random_hex(char *out, size_t nbytes)
{
	unsigned char b[32];
	if (nbytes > sizeof b)
		nbytes = sizeof b;
	if (getrandom(b, nbytes, 0) != (ssize_t)nbytes) {
		/* Ids need only be unique, not secret. */
		long long seed = mono_ms() ^ ((long long)getpid() << 20);
		for (size_t i = 0; i < nbytes; i++)
			b[i] = (unsigned char)(seed >> ((i % 8) * 8)) ^ (unsigned char)(i * 151);
	}
	for (size_t i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* A random (version 4) UUID in canonical lowercase form, as Healthchecks
 * wants for rid. */
static void uuid4(char out[37])
{
	char h[33];
	random_hex(h, 16);
	h[12] = '4';
	h[16] = "89ab"[h[16] % 4];
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

void ctx_warn(struct vg_alert_ctx *ctx, const char *fmt, ...)
{
	if (ctx->nwarnings >= MAX_WARNINGS)
		return;
	char raw[1024], red[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	vg_config_redact(ctx->cfg, raw, red, sizeof red);
	char *d = strdup(red);
	if (d)
		ctx->warnings[ctx->nwarnings++] = d;
}

long long ctx_left_ms(const struct vg_alert_ctx *ctx)
{
	long long left = ctx->budget_ms - ctx->spent_ms;
	return left > 0 ? left : 0;
}

void ctx_report(struct vg_alert_ctx *ctx, const struct channel *ch, const char *what,
		const char *headline, enum vg_alert_outcome o, const char *err, long long ms)
{
	if (ctx->nreport >= MAX_REPORT)
		return;
	struct vg_alert_delivery *d = &ctx->report[ctx->nreport];
	char red[1024];
	memset(d, 0, sizeof *d);
	d->channel = ch ? ch->name : NULL;
	d->type = ch ? ch->ops->type : NULL;
	d->what = what;
	vg_config_redact(ctx->cfg, headline ? headline : "", red, sizeof red);
	d->headline = strdup(red);
	if (err) {
		vg_config_redact(ctx->cfg, err, red, sizeof red);
		d->error = strdup(red);
	}
	d->outcome = o;
	d->ms = ms;
	ctx->nreport++;
}

int ch_opt(struct channel *ch, const char *key, const char **out)
{
	return vg_config_get_str(ch->sec, key, out);
}

int ch_need(struct vg_alert_ctx *ctx, struct channel *ch, const char *key, const char **out)
{
	(void)ctx;
	char w[600];
	int err = vg_config_get_str(ch->sec, key, out);
	if (err == VG_ENOENT || (!err && !(*out)[0]))
		return VG_ERR(VG_EINVAL, "%s: missing; a channel of type %s needs it",
			      vg_config_where(ch->sec, key, w, sizeof w), ch->ops->type);
	return err;
}

static int read_globals(struct vg_alert_ctx *ctx, const struct vg_config_section *g,
			long long *connect_ms, long long *request_ms)
{
	int err;
	const char *host = NULL;
	if ((err = vg_config_check_keys(g, global_keys)))
		return err;
	long long ms = ctx->budget_ms;
	if ((err = vg_config_get_duration(g, "timeout", 1000, 3600000, &ms)) && err != VG_ENOENT)
		return err;
	if (!ctx->budget_ms)
		ctx->budget_ms = ms ? ms : DEFAULT_BUDGET_MS;
	ctx->remind_ms = DEFAULT_REMIND_MS;
	if ((err = vg_config_get_duration(g, "remind", 0, 365LL * 86400000, &ctx->remind_ms)) &&
	    err != VG_ENOENT)
		return err;
	if ((err = vg_config_get_duration(g, "connect-timeout", 100, 600000, connect_ms)) &&
	    err != VG_ENOENT)
		return err;
	if ((err = vg_config_get_duration(g, "request-timeout", 100, 3600000, request_ms)) &&
	    err != VG_ENOENT)
		return err;
	if ((err = vg_config_get_str(g, "host", &host)) == 0)
		snprintf(ctx->host, sizeof ctx->host, "%s", host);
	else if (err != VG_ENOENT)
		return err;
	else if (gethostname(ctx->host, sizeof ctx->host) < 0 || !ctx->host[0])
		snprintf(ctx->host, sizeof ctx->host, "localhost");
	ctx->host[sizeof ctx->host - 1] = 0;
	return 0;
}

static int add_channel(struct vg_alert_ctx *ctx, const struct vg_config_section *sec,
		       long long connect_ms, long long request_ms)
{
	char w[600];
	int err, t = -1;
	const char *type = NULL;
	if (ctx->nch == MAX_CHANNELS)
		return VG_ERR(VG_EINVAL, "%s: more than %d alert channels",
			      vg_config_where(sec, "type", w, sizeof w), MAX_CHANNELS);
	if ((err = vg_config_get_str(sec, "type", &type)) == VG_ENOENT)
		return VG_ERR(VG_EINVAL, "%s: missing; say which service this channel talks to "
					 "(exec, webhook, ntfy, gotify, pushover, pagerduty, "
					 "healthchecks, email)",
			      vg_config_where(sec, "type", w, sizeof w));
	if (err)
		return err;
	for (int i = 0; types[i]; i++)
		if (!strcmp(types[i]->type, type))
			t = i;
	if (t < 0)
		return VG_ERR(VG_EINVAL, "%s: unknown channel type '%s'; use exec, webhook, ntfy, "
					 "gotify, pushover, pagerduty, healthchecks or email",
			      vg_config_where(sec, "type", w, sizeof w), type);
	struct channel *ch = &ctx->ch[ctx->nch];
	memset(ch, 0, sizeof *ch);
	ch->ops = types[t];
	ch->name = vg_config_section_name(sec);
	ch->sec = sec;
	ch->connect_ms = connect_ms;
	ch->request_ms = request_ms;
	const char *allowed[40];
	size_t n = 0;
	for (size_t i = 0; common_keys[i]; i++)
		allowed[n++] = common_keys[i];
	for (size_t i = 0; ch->ops->keys && ch->ops->keys[i] && n < 39; i++)
		allowed[n++] = ch->ops->keys[i];
	allowed[n] = NULL;
	if ((err = vg_config_check_keys(sec, allowed)))
		return err;
	/* Routing: by default warnings and criticals; kinds alone route all
	 * levels of those kinds. */
	ch->levels = (1u << VG_ALERT_WARNING) | (1u << VG_ALERT_CRITICAL);
	ch->kinds = ~0u;
	unsigned set;
	bool has_levels = false;
	if ((err = vg_config_get_set(sec, "levels", vg_alert_level_names, &set)) == 0) {
		ch->levels = set;
		has_levels = true;
	} else if (err != VG_ENOENT) {
		return err;
	}
	if ((err = vg_config_get_set(sec, "kinds", vg_alert_kind_names, &set)) == 0) {
		ch->kinds = set;
		if (!has_levels)
			ch->levels = 7;
	} else if (err != VG_ENOENT) {
		return err;
	}
	if ((err = vg_config_get_duration(sec, "connect-timeout", 100, 600000, &ch->connect_ms)) &&
	    err != VG_ENOENT)
		return err;
	if ((err = vg_config_get_duration(sec, "request-timeout", 100, 3600000, &ch->request_ms)) &&
	    err != VG_ENOENT)
		return err;
	ch_opt(ch, "url", &ch->url);
	ch_opt(ch, "token", &ch->token);
	ch_opt(ch, "user", &ch->user);
	/* Credentials inside a URL are secrets too. */
	const char *at = ch->url ? strchr(ch->url, '@') : NULL;
	const char *scheme = ch->url ? strstr(ch->url, "://") : NULL;
	if (at && scheme && at > scheme) {
		char cred[512];
		snprintf(cred, sizeof cred, "%.*s", (int)(at - scheme - 3), scheme + 3);
		if ((err = vg_config_secret_add(ctx->cfg, cred)))
			return err;
	}
	ctx->nch++;
	if ((err = ch->ops->setup(ctx, ch)))
		return err;
	return 0;
}

static int state_dir(struct vg_alert_ctx *ctx)
{
	char base[4000];
	int err = vg_state_dir(base, sizeof base);
	if (err)
		return err;
	snprintf(ctx->dir, sizeof ctx->dir, "%s/alert", base);
	if (mkdir(ctx->dir, 0700) < 0 && errno != EEXIST)
		return VG_ERRNO(errno, "cannot create alert state directory '%s'", ctx->dir);
	char spool[4200];
	snprintf(spool, sizeof spool, "%s/spool", ctx->dir);
	if (mkdir(spool, 0700) < 0 && errno != EEXIST)
		return VG_ERRNO(errno, "cannot create alert spool '%s'", spool);
	return 0;
}

static long long clock_now(const struct vg_alert_opts *o)
{
	if (o && o->now)
		return o->now;
	const char *e = getenv("VIGIL_NOW");
	char *end;
	long long v = e ? strtoll(e, &end, 10) : 0;
	if (e && *e && !*end && v > 0)
		return v;
	return (long long)time(NULL);
}

int vg_alert_open(struct vg_config *cfg, const struct vg_alert_opts *opts,
		  struct vg_alert_ctx **out)
{
	*out = NULL;
	struct vg_alert_ctx *ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return VG_ERR(VG_ENOMEM, "out of memory");
	ctx->cfg = cfg;
	ctx->now = clock_now(opts);
	ctx->budget_ms = opts ? opts->timeout_ms : 0;
	uuid4(ctx->rid);
	long long connect_ms = 5000, request_ms = 10000;
	int err = read_globals(ctx, vg_config_find(cfg, "alert", NULL), &connect_ms, &request_ms);
	for (size_t i = 0; !err && vg_config_section_at(cfg, i); i++) {
		const struct vg_config_section *s = vg_config_section_at(cfg, i);
		if (!strcmp(vg_config_section_kind(s), "alert") && vg_config_section_name(s))
			err = add_channel(ctx, s, connect_ms, request_ms);
	}
	if (!err)
		err = state_dir(ctx);
	if (err) {
		ctx->finished = true;
		vg_alert_free(ctx);
		return err;
	}
	*out = ctx;
	if (!(opts && opts->no_flush) && (err = vg_alert_flush(ctx)))
		ctx_warn(ctx, "retrying the alert spool: %s", vg_errmsg());
	/* A channel whose backlog still fails is down: this run queues to it
	 * without more tries, so an outage of hours costs each run one
	 * attempt per channel, not its whole budget. */
	for (size_t i = 0; i < ctx->nch; i++)
		ctx->ch[i].down = ctx->ch[i].failed;
	return 0;
}

int vg_alert_test(struct vg_alert_ctx *ctx, const char *name)
{
	bool found = false;
	for (size_t i = 0; i < ctx->nch; i++) {
		struct channel *ch = &ctx->ch[i];
		if (name && strcmp(ch->name, name))
			continue;
		found = true;
		char err[1024] = "", hl[512];
		char title[300];
		snprintf(title, sizeof title, "vigil alert test through '%s' (%s)", ch->name,
			 ch->ops->type);
		if (ch->ops == &vg_ch_healthchecks) {
			long long t0 = mono_ms();
			int r = vg_hc_ping(ctx, ch, HC_LOG, 0, title, ctx_left_ms(ctx), err, sizeof err);
			long long ms = mono_ms() - t0;
			ctx->spent_ms += ms;
			ctx_report(ctx, ch, "test", title, r ? VG_ALERT_FAILED : VG_ALERT_DELIVERED,
				   r ? err : NULL, ms);
			continue;
		}
		struct vg_alert_event ev = {
			.level = VG_ALERT_INFO,
			.kind = VG_KIND_TEST,
			.subject = "alert channels",
			.title = title,
			.body = "This is a test.  If you can read it, vigil's alerts reach you "
				"through this channel; nothing needs doing.",
		};
		struct msg m;
		int r = msg_from_event(ctx, &ev, MSG_TEST, &m);
		if (r)
			return r;
		msg_headline(&m, hl, sizeof hl);
		ch->failed = false; /* a test always tries */
		deliver_once(ctx, ch, &m, "test", err, sizeof err);
		msg_release(&m);
	}
	if (name && !found)
		return VG_ERR(VG_ENOENT, "no alert channel named '%s' in '%s'; see [alert \"NAME\"] "
					 "sections",
			      name, vg_config_origin(ctx->cfg));
	return 0;
}

static int ping_all(struct vg_alert_ctx *ctx, enum hc_signal sig, int status, const char *body,
		    const char *what)
{
	for (size_t i = 0; i < ctx->nch; i++) {
		struct channel *ch = &ctx->ch[i];
		if (ch->ops != &vg_ch_healthchecks)
			continue;
		char err[1024] = "";
		long long t0 = mono_ms();
		/* Pings get their own request timeout even when the alert
		 * budget is spent: they are few, and a missing ping pages. */
		long long limit = ctx_left_ms(ctx) > 1000 ? ctx_left_ms(ctx) : 1000;
		int r = vg_hc_ping(ctx, ch, sig, status, body, limit, err, sizeof err);
		long long ms = mono_ms() - t0;
		ctx->spent_ms += ms;
		ctx_report(ctx, ch, what, what, r ? VG_ALERT_FAILED : VG_ALERT_DELIVERED,
			   r ? err : NULL, ms);
	}
	return 0;
}

int vg_alert_run_begin(struct vg_alert_ctx *ctx)
{
	return ping_all(ctx, HC_START, 0, NULL, "ping-start");
}

int vg_alert_run_end(struct vg_alert_ctx *ctx, int status, const char *log_tail)
{
	enum hc_signal sig = status == 0 ? HC_SUCCESS : (status > 0 && status < 256) ? HC_EXIT
										     : HC_FAIL;
	return ping_all(ctx, sig, status, log_tail, "ping-end");
}

int vg_alert_flush(struct vg_alert_ctx *ctx)
{
	size_t left = 0;
	int err = spool_pass(ctx, &left);
	ctx->spooled = left;
	return err;
}

int vg_alert_finish(struct vg_alert_ctx *ctx)
{
	if (ctx->finished)
		return 0;
	ctx->finished = true;
	size_t left = 0;
	int err = spool_scan(ctx, &left);
	/* Messages that failed in this run get a few more tries with backoff
	 * (1 s, 2 s, 4 s), within the budget, on channels that were not
	 * already down when the run started. */
	long long backoff = 1000;
	for (int round = 0; !err && left > 0 && ctx->spooled_now && round < RETRY_ROUNDS; round++) {
		bool retryable = false;
		for (size_t i = 0; i < ctx->nch; i++)
			retryable |= ctx->ch[i].backlog && !ctx->ch[i].down;
		long long nap = ctx_left_ms(ctx) - 200;
		nap = backoff < nap ? backoff : nap;
		if (!retryable || nap < 200)
			break;
		struct timespec ts = {nap / 1000, (nap % 1000) * 1000000};
		nanosleep(&ts, NULL);
		ctx->spent_ms += nap;
		backoff *= 2;
		for (size_t i = 0; i < ctx->nch; i++)
			ctx->ch[i].failed = ctx->ch[i].down;
		err = spool_pass(ctx, &left);
	}
	ctx->spooled = left;
	return err;
}

void vg_alert_free(struct vg_alert_ctx *ctx)
{
	if (!ctx)
		return;
	if (!ctx->finished)
		vg_alert_finish(ctx);
	for (size_t i = 0; i < ctx->nch; i++)
		if (ctx->ch[i].ops->release)
			ctx->ch[i].ops->release(&ctx->ch[i]);
	for (size_t i = 0; i < ctx->nreport; i++) {
		free((char *)ctx->report[i].headline);
		free((char *)ctx->report[i].error);
	}
	for (size_t i = 0; i < ctx->nwarnings; i++)
		free(ctx->warnings[i]);
	for (size_t i = 0; i < ctx->nseen; i++)
		free(ctx->seen[i]);
	free(ctx->seen);
	free(ctx);
}

size_t vg_alert_report_count(const struct vg_alert_ctx *ctx) { return ctx->nreport; }

const struct vg_alert_delivery *vg_alert_report_at(const struct vg_alert_ctx *ctx, size_t i)
{
	return i < ctx->nreport ? &ctx->report[i] : NULL;
}

const char *vg_alert_outcome_name(enum vg_alert_outcome o)
{
	static const char *const n[] = {"delivered", "spooled", "suppressed", "failed", "unrouted"};
	return (unsigned)o < 5 ? n[o] : "?";
}

const char *vg_alert_warning(const struct vg_alert_ctx *ctx, size_t i)
{
	return i < ctx->nwarnings ? ctx->warnings[i] : NULL;
}

size_t vg_alert_spooled(const struct vg_alert_ctx *ctx) { return ctx->spooled; }

int vg_alert_status(struct vg_alert_ctx *ctx, struct json_t **out)
{
	json_t *conds = NULL;
	size_t spooled = 0;
	*out = NULL;
	int err = state_list(ctx, &conds);
	if (!err)
		err = spool_scan(ctx, &spooled);
	if (!err && !(*out = json_pack("{s:O, s:I}", "conditions", conds, "spooled", (json_int_t)spooled)))
		err = VG_ERR(VG_ENOMEM, "out of memory");
	json_decref(conds);
	return err;
}

const char *vg_alert_channel_name(const struct vg_alert_ctx *ctx, size_t i)
{
	return i < ctx->nch ? ctx->ch[i].name : NULL;
}

const char *vg_alert_channel_type(const struct vg_alert_ctx *ctx, size_t i)
{
	return i < ctx->nch ? ctx->ch[i].ops->type : NULL;
}

void vg_alert_redact(const struct vg_alert_ctx *ctx, const char *in, char *out, size_t len)
{
	vg_config_redact(ctx->cfg, in, out, len);
}
