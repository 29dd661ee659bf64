/*
 * ch_email.c - e-mail, through a sendmail-compatible program (the default:
 * /usr/sbin/sendmail, as msmtp, nullmailer, Postfix and Exim provide) or
 * straight to an SMTP server through libcurl:
 *
 *   [alert "mail"]                    [alert "mail"]
 *   type = email                      type = email
 *   to = ops@example.org              to = ops@example.org, me@example.org
 *   sendmail = /usr/sbin/sendmail     url = smtp://mail.example.org:587
 *                                     user = vigil
 *                                     password = ...
 *                                     tls = required
 *
 * sendmail gets "-i -- <recipients>" (no -t: recipients come from the
 * config, never from message headers) and the message on stdin.  For SMTP,
 * tls = off | try | required maps to libcurl's STARTTLS modes; the default
 * is required when a password is set (never send one in the clear), else
 * try.  smtps:// URLs use TLS from the first byte.  Header values are made
 * single-line and non-ASCII subjects RFC 2047 encoded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/alert_int.h"
#include "alert/curl_lib.h"
#include "base/err.h"
#include "config/config.h"

static const char *const keys[] = {"to", "from", "sendmail", "password", "tls", NULL};
static const char *const tls_names[] = {"off", "try", "required", NULL};

#define MAX_RCPT 16

struct email {
	char *rcpt[MAX_RCPT];
	size_t nrcpt;
	char from[320];
	int tls;
};

static void release(struct channel *ch)
{
	struct email *e = ch->priv;
	for (size_t i = 0; e && i < e->nrcpt; i++)
		free(e->rcpt[i]);
	free(e);
	ch->priv = NULL;
}

static bool plausible_address(const char *a, size_t n)
{
	const char *at = memchr(a, '@', n);
	if (!at || at == a || at == a + n - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (a[i] <= ' ' || a[i] == '<' || a[i] == '>' || a[i] == ',' || a[i] == 0x7f)
			return false;
	return true;
}

static int setup(struct vg_alert_ctx *ctx, struct channel *ch)
{
	char w[600];
	const char *to, *from = NULL, *pw = NULL;
	int err = ch_need(ctx, ch, "to", &to);
	if (err)
		return err;
	struct email *e = calloc(1, sizeof *e);
	if (!e)
		return VG_ERR(VG_ENOMEM, "out of memory");
	ch->priv = e;
	for (const char *p = to; *p;) {
		p += strspn(p, " ,\t");
		size_t n = strcspn(p, " ,\t");
		if (!n)
			break;
		if (e->nrcpt == MAX_RCPT || !plausible_address(p, n))
			return VG_ERR(VG_EINVAL, "%s: '%.*s' is not an address like ops@example.org "
						 "(at most %d, separated by commas)",
				      vg_config_where(ch->sec, "to", w, sizeof w), (int)n, p, MAX_RCPT);
		if (!(e->rcpt[e->nrcpt++] = strndup(p, n)))
			return VG_ERR(VG_ENOMEM, "out of memory");
		p += n;
	}
	if ((err = ch_opt(ch, "from", &from)) && err != VG_ENOENT)
		return err;
	if (from && !plausible_address(from, strlen(from)))
		return VG_ERR(VG_EINVAL, "%s: '%s' is not an address like vigil@example.org",
			      vg_config_where(ch->sec, "from", w, sizeof w), from);
	snprintf(e->from, sizeof e->from, "%s%s%s", from ? from : "vigil@", from ? "" : ctx->host,
		 "");
	ch_opt(ch, "password", &pw);
	e->tls = pw ? 2 : 1;
	if ((err = vg_config_get_enum(ch->sec, "tls", tls_names, &e->tls)) && err != VG_ENOENT)
		return err;
	if (ch->url && strncmp(ch->url, "smtp://", 7) && strncmp(ch->url, "smtps://", 8))
		return VG_ERR(VG_EINVAL, "%s: use smtp://host:port or smtps://host:port",
			      vg_config_where(ch->sec, "url", w, sizeof w));
	return 0;
}

static void rfc5322_date(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	static const char *const day[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	gmtime_r(&tt, &tm);
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", day[tm.tm_wday], tm.tm_mday,
		 mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The whole message; eol is "\r\n" for SMTP, "\n" for sendmail. */
static int build(const struct channel *ch, const struct msg *m, const char *eol,
		 struct vg_buf *out)
{
	const struct email *e = ch->priv;
	struct vg_buf text;
	char hl[1024], subj[1600], date[64], key[1100];
	vg_buf_init(&text, 1u << 20);
	int err = msg_text(m, &text);
	rfc2047(msg_headline(m, hl, sizeof hl), subj, sizeof subj);
	rfc5322_date(m->time, date, sizeof date);
	http_header_value(m->key ? m->key : "", key, sizeof key);
	if (!err)
		err = vg_buf_addf(out, "From: vigil <%s>%sTo: ", e->from, eol);
	for (size_t i = 0; i < e->nrcpt && !err; i++)
		err = vg_buf_addf(out, "%s%s", i ? ", " : "", e->rcpt[i]);
	if (!err)
		err = vg_buf_addf(out,
				  "%sSubject: %s%sDate: %s%sMessage-ID: <%s@%s>%s"
				  "MIME-Version: 1.0%sContent-Type: text/plain; charset=utf-8%s"
				  "Content-Transfer-Encoding: 8bit%sX-Vigil-Level: %s%s"
				  "X-Vigil-Kind: %s%sX-Vigil-State: %s%s",
				  eol, subj, eol, date, eol, m->id, m->host, eol, eol, eol, eol,
				  vg_alert_level_name(m->level), eol, vg_alert_kind_name(m->kind), eol,
				  msg_state_name(m->state), eol);
	if (!err && key[0])
		err = vg_buf_addf(out, "X-Vigil-Condition: %s%s", key, eol);
	if (!err)
		err = vg_buf_addf(out, "%s", eol);
	for (const char *p = (const char *)text.p; !err && p && *p;) {
		size_t n = strcspn(p, "\n");
		err = vg_buf_addf(out, "%.*s%s", (int)n, p, eol);
		p += n + (p[n] == '\n');
	}
	vg_buf_release(&text);
	return err ? err : vg_buf_cstr(out);
}

static int via_sendmail(struct channel *ch, const struct msg *m, long long timeout_ms,
			char *err, size_t errlen)
{
	const struct email *e = ch->priv;
	const char *prog = "/usr/sbin/sendmail";
	ch_opt(ch, "sendmail", &prog);
	struct vg_buf mail;
	vg_buf_init(&mail, 2u << 20);
	if (build(ch, m, "\n", &mail)) {
		vg_buf_release(&mail);
		snprintf(err, errlen, "out of memory building the e-mail");
		return VG_ENOMEM;
	}
	const char *argv[MAX_RCPT + 4] = {prog, "-i", "--"};
	for (size_t i = 0; i < e->nrcpt; i++)
		argv[3 + i] = e->rcpt[i];
	argv[3 + e->nrcpt] = NULL;
	char what[300];
	snprintf(what, sizeof what, "'%.290s'", prog);
	int ret = run_command(ch, argv, NULL, mail.p, mail.len, timeout_ms, what, err, errlen);
	vg_buf_release(&mail);
	return ret;
}

struct upload {
	const char *p;
	size_t left;
};

static size_t on_read(char *buf, size_t size, size_t n, void *user)
{
	struct upload *u = user;
	size_t take = size * n < u->left ? size * n : u->left;
	memcpy(buf, u->p, take);
	u->p += take;
	u->left -= take;
	return take;
}

static int via_smtp(struct channel *ch, const struct msg *m, long long timeout_ms, char *err,
		    size_t errlen)
{
	const struct email *e = ch->priv;
	static const long modes[] = {CURLUSESSL_NONE, CURLUSESSL_TRY, CURLUSESSL_ALL};
	char origin[512], from[340], ebuf[CURL_ERROR_SIZE] = "";
	http_origin(ch->url, origin, sizeof origin);
	int ret = lcurl_load(err, errlen);
	if (ret)
		return ret;
	struct vg_buf mail;
	vg_buf_init(&mail, 2u << 20);
	struct curl_slist *rcpt = NULL, *tmp;
	CURL *c = lcurl.easy_init();
	bool oom = !c || build(ch, m, "\r\n", &mail);
	for (size_t i = 0; i < e->nrcpt && !oom; i++) {
		char a[340];
		snprintf(a, sizeof a, "<%s>", e->rcpt[i]);
		oom = !(tmp = lcurl.slist_append(rcpt, a)) || !(rcpt = tmp);
	}
	if (oom) {
		snprintf(err, errlen, "out of memory building the e-mail");
		ret = VG_ENOMEM;
		goto out;
	}
	long long total = ch->request_ms < timeout_ms ? ch->request_ms : timeout_ms;
	const char *pw = NULL;
	struct upload up = {(const char *)mail.p, mail.len};
	snprintf(from, sizeof from, "<%s>", e->from);
	curl_common(c, ch, total, ebuf);
	LCURL_SETOPT(c, CURLOPT_URL, ch->url);
	LCURL_SETOPT(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	LCURL_SETOPT(c, CURLOPT_MAIL_FROM, from);
	LCURL_SETOPT(c, CURLOPT_MAIL_RCPT, rcpt);
	LCURL_SETOPT(c, CURLOPT_READFUNCTION, on_read);
	LCURL_SETOPT(c, CURLOPT_READDATA, &up);
	LCURL_SETOPT(c, CURLOPT_UPLOAD, 1L);
	LCURL_SETOPT(c, CURLOPT_USE_SSL, modes[e->tls]);
	if (ch->user)
		LCURL_SETOPT(c, CURLOPT_USERNAME, ch->user);
	if (ch_opt(ch, "password", &pw) == 0)
		LCURL_SETOPT(c, CURLOPT_PASSWORD, pw);
	struct sigpipe_guard g;
	sigpipe_block(&g);
	CURLcode rc = lcurl.easy_perform(c);
	sigpipe_restore(&g);
	ret = curl_outcome(rc, origin, total, ebuf, err, errlen);
out:
	lcurl.slist_free_all(rcpt);
	if (c)
		lcurl.easy_cleanup(c);
	vg_buf_release(&mail);
	return ret;
}

static int send_email(struct vg_alert_ctx *ctx, struct channel *ch, const struct msg *m,
		      long long timeout_ms, char *err, size_t errlen)
{
	(void)ctx;
	return ch->url ? via_smtp(ch, m, timeout_ms, err, errlen)
		       : via_sendmail(ch, m, timeout_ms, err, errlen);
}

const struct channel_ops vg_ch_email = {
	.type = "email",
	.keys = keys,
	.setup = setup,
	.send = send_email,
	.release = release,
};
