/*
 * http.c - one HTTP request through libcurl (loaded on first use, see
 * curl_lib.c), with the channel's timeouts.
 *
 * Only http and https are allowed, redirects are not followed (a ping or
 * an alert that lands elsewhere is not delivered), the reply is read up to
 * a small cap, and error texts name the server by its origin only: the
 * path of a ping URL or an ntfy topic is as good as a password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_int.h"
#include "alert/curl_lib.h"
#include "base/err.h"
#include "config/config.h"

struct sink {
	char *p;
	size_t len, cap;
};

static size_t on_data(char *data, size_t size, size_t n, void *user)
{
	struct sink *s = user;
	size_t total = size * n;
	size_t room = s->cap - 1 - s->len;
	size_t take = total < room ? total : room;
	memcpy(s->p + s->len, data, take);
	s->len += take;
	s->p[s->len] = 0;
	return total; /* the rest is read and dropped */
}

const char *http_origin(const char *url, char *buf, size_t len)
{
	const char *p = strstr(url, "://");
	const char *host = p ? p + 3 : url;
	size_t n = strcspn(host, "/?#");
	const char *at = memchr(host, '@', n);
	if (at) {
		n -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	snprintf(buf, len, "%.*s%s%.*s", p ? (int)(p + 3 - url) : 0, url, "", (int)n, host);
	return buf;
}

void http_header_value(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (; *in && o + 1 < len; in++)
		out[o++] = (*in == '\r' || *in == '\n' || *in == '\t') ? ' ' : *in;
	out[o] = 0;
}

int http_form(const char *const *pairs, struct vg_buf *out, char *err, size_t errlen)
{
	int r = lcurl_load(err, errlen);
	if (r)
		return r;
	for (size_t i = 0; pairs[i] && pairs[i + 1] && !r; i += 2) {
		char *v = lcurl.easy_escape(NULL, pairs[i + 1], 0);
		r = v ? vg_buf_addf(out, "%s%s=%s", i ? "&" : "", pairs[i], v)
		      : VG_ERR(VG_ENOMEM, "out of memory");
		lcurl.free(v);
	}
	if (r || (r = vg_buf_cstr(out)))
		snprintf(err, errlen, "cannot encode the form: %s", vg_errmsg());
	return r;
}

static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

void curl_common(void *curl, struct channel *ch, long long total_ms, char *ebuf)
{
	CURL *c = curl;
	long long connect = ch->connect_ms < total_ms ? ch->connect_ms : total_ms;
	const char *ca = NULL;
	bool verify = true;
	LCURL_SETOPT(c, CURLOPT_NOSIGNAL, 1L);
	LCURL_SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect > 0 ? connect : 1));
	LCURL_SETOPT(c, CURLOPT_TIMEOUT_MS, (long)(total_ms > 0 ? total_ms : 1));
	LCURL_SETOPT(c, CURLOPT_ERRORBUFFER, ebuf);
	if (ch_opt(ch, "ca-file", &ca) == 0)
		LCURL_SETOPT(c, CURLOPT_CAINFO, ca);
	if (vg_config_get_bool(ch->sec, "tls-verify", &verify) == 0 && !verify) {
		LCURL_SETOPT(c, CURLOPT_SSL_VERIFYPEER, 0L);
		LCURL_SETOPT(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

int curl_outcome(int rc, const char *origin, long long total_ms, const char *ebuf, char *err,
		 size_t errlen)
{
	if (rc == CURLE_OK)
		return 0;
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, errlen, "%s did not answer within %.1f s", origin,
			 (double)total_ms / 1000);
		return VG_ETIMEDOUT;
	}
	snprintf(err, errlen, "cannot reach %s: %s", origin,
		 ebuf[0] ? ebuf : lcurl.easy_strerror((CURLcode)rc));
	return VG_EEXTERNAL;
}

int http_send(struct channel *ch, const struct http_req *req, long long timeout_ms,
	      struct http_resp *resp, char *err, size_t errlen)
{
	char origin[512], ebuf[CURL_ERROR_SIZE] = "";
	http_origin(req->url, origin, sizeof origin);
	memset(resp, 0, sizeof *resp);
	long long total = ch->request_ms < timeout_ms ? ch->request_ms : timeout_ms;
	if (total < 1) {
		snprintf(err, errlen, "no time left to reach %s", origin);
		return VG_ETIMEDOUT;
	}
	int ret = lcurl_load(err, errlen);
	if (ret)
		return ret;
	CURL *c = lcurl.easy_init();
	struct curl_slist *hl = NULL, *tmp;
	if (!c) {
		snprintf(err, errlen, "cannot start an HTTP request (libcurl)");
		return VG_ENOMEM;
	}
	char ct[256];
	bool oom = false;
	if (req->content_type) {
		snprintf(ct, sizeof ct, "Content-Type: %s", req->content_type);
		oom |= !(tmp = lcurl.slist_append(hl, ct)) || !(hl = tmp);
	}
	oom |= !(tmp = lcurl.slist_append(hl, "Expect:")) || !(hl = tmp);
	for (const char *const *h = req->headers; h && *h && !oom; h++)
		oom |= !(tmp = lcurl.slist_append(hl, *h)) || !(hl = tmp);
	if (oom) {
		snprintf(err, errlen, "out of memory building an HTTP request");
		ret = VG_ENOMEM;
		goto out;
	}
	struct sink s = {resp->body, 0, sizeof resp->body};
	const char *method = req->method ? req->method : "POST";
	curl_common(c, ch, total, ebuf);
	LCURL_SETOPT(c, CURLOPT_URL, req->url);
	LCURL_SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https");
	LCURL_SETOPT(c, CURLOPT_USERAGENT, "vigil/" VG_VERSION);
	LCURL_SETOPT(c, CURLOPT_HTTPHEADER, hl);
	LCURL_SETOPT(c, CURLOPT_WRITEFUNCTION, on_data);
	LCURL_SETOPT(c, CURLOPT_WRITEDATA, &s);
	if (!strcmp(method, "GET")) {
		LCURL_SETOPT(c, CURLOPT_HTTPGET, 1L);
	} else {
		LCURL_SETOPT(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		LCURL_SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		if (strcmp(method, "POST"))
			LCURL_SETOPT(c, CURLOPT_CUSTOMREQUEST, method);
	}
	struct sigpipe_guard g;
	sigpipe_block(&g);
	CURLcode rc = lcurl.easy_perform(c);
	sigpipe_restore(&g);
	LCURL_GETINFO(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if ((ret = curl_outcome(rc, origin, total, ebuf, err, errlen)) == 0 &&
	    (resp->status < 200 || resp->status > 299)) {
		char reply[200];
		snprintf(reply, sizeof reply, "%.199s", resp->body);
		one_line(reply);
		snprintf(err, errlen, "%s answered HTTP %ld%s%s", origin, resp->status,
			 reply[0] ? ": " : "", reply);
		ret = VG_EEXTERNAL;
	}
out:
	lcurl.slist_free_all(hl);
	lcurl.easy_cleanup(c);
	return ret;
}

int http_post_json(struct channel *ch, const char *method, const char *url,
		   const char *const *headers, json_t *doc, long long timeout_ms, char *err,
		   size_t errlen)
{
	char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!body) {
		snprintf(err, errlen, "out of memory building the request body");
		return VG_ENOMEM;
	}
	struct http_req req = {
		.method = method,
		.url = url,
		.headers = headers,
		.content_type = "application/json",
		.body = body,
		.body_len = strlen(body),
	};
	struct http_resp resp;
	int r = http_send(ch, &req, timeout_ms, &resp, err, errlen);
	free(body);
	return r;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = 0;
	return o;
}

void rfc2047(const char *in, char *out, size_t len)
{
	char line[1024];
	http_header_value(in, line, sizeof line);
	bool ascii = true;
	for (const unsigned char *p = (const unsigned char *)line; *p; p++)
		ascii &= *p >= 0x20 && *p < 0x7f;
	if (ascii) {
		snprintf(out, len, "%s", line);
		return;
	}
	/* Encoded words of at most 45 input bytes (75 characters encoded),
	 * each ending on a UTF-8 character boundary. */
	size_t o = 0, i = 0, n = strlen(line);
	out[0] = 0;
	while (i < n) {
		size_t take = n - i < 45 ? n - i : 45;
		while (take > 1 && i + take < n && ((unsigned char)line[i + take] & 0xc0) == 0x80)
			take--;
		char word[80];
		b64_encode((const unsigned char *)line + i, take, word);
		int w = snprintf(out + o, len - o, "%s=?UTF-8?B?%s?=", o ? " " : "", word);
		if (w < 0 || (size_t)w >= len - o) {
			out[o] = 0;
			return;
		}
		o += (size_t)w;
		i += take;
	}
}

void utf8_cut(const char *in, size_t max, char *out, size_t len)
{
	size_t n = strlen(in);
	if (n <= max && n < len) {
		memcpy(out, in, n + 1);
		return;
	}
	static const char more[] = " [...]";
	size_t keep = max < len ? max : len - 1;
	keep = keep > sizeof more - 1 ? keep - (sizeof more - 1) : 0;
	while (keep > 0 && ((unsigned char)in[keep] & 0xc0) == 0x80)
		keep--;
	memcpy(out, in, keep);
	memcpy(out + keep, more, sizeof more);
}
