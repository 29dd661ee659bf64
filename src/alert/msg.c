/*
 * msg.c - alert messages: names of levels and kinds, rendering (headline,
 * text), and the JSON form that webhook/exec receive and the spool keeps.
 *
 * The JSON form is versioned ("version": 1) and parsed back with caps on
 * every string, so a damaged spool file gives an error, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/alert_int.h"
#include "base/err.h"

const char *const vg_alert_level_names[] = {"info", "warning", "critical", NULL};
const char *const vg_alert_kind_names[] = {
	"gate-finding", "vault-degraded", "scrub-result", "checksum-errors",
	"io-errors",    "device-state",   "bit-rot",      "backup-failed",
	"backup-succeeded", "snapshot-suspect", "pruned", "test", NULL};
static const char *const state_names[] = {"firing", "reminder", "escalated", "resolved", "test"};

#define MAX_FIELD (64u << 10) /* cap on any one string of a message */

const char *vg_alert_level_name(enum vg_alert_level l)
{
	return (unsigned)l <= VG_ALERT_CRITICAL ? vg_alert_level_names[l] : "?";
}

const char *vg_alert_kind_name(enum vg_alert_kind k)
{
	return (unsigned)k < VG_KIND_COUNT_ ? vg_alert_kind_names[k] : "?";
}

static int lookup(const char *const *names, const char *s)
{
	for (int i = 0; s && names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

int vg_alert_level_parse(const char *s) { return lookup(vg_alert_level_names, s); }
int vg_alert_kind_parse(const char *s) { return lookup(vg_alert_kind_names, s); }
const char *msg_state_name(enum msg_state s) { return state_names[s]; }

static char *dup_capped(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strnlen(s, MAX_FIELD);
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

void msg_release(struct msg *m)
{
	free(m->key);
	free(m->host);
	free(m->subject);
	free(m->title);
	free(m->body);
	for (size_t i = 0; i < m->nfig; i++) {
		free(m->fig[i].name);
		free(m->fig[i].value);
	}
	memset(m, 0, sizeof *m);
}

int msg_from_event(struct vg_alert_ctx *ctx, const struct vg_alert_event *ev, enum msg_state st,
		   struct msg *m)
{
	memset(m, 0, sizeof *m);
	if (!ev->title || !ev->title[0])
		return VG_ERR(VG_EINVAL, "alert event without a title");
	if ((unsigned)ev->level > VG_ALERT_CRITICAL || (unsigned)ev->kind >= VG_KIND_COUNT_)
		return VG_ERR(VG_EINVAL, "alert event '%s' has an unknown level or kind", ev->title);
	if (ev->nfigures > VG_ALERT_MAX_FIGURES)
		return VG_ERR(VG_EINVAL, "alert event '%s' has more than %d figures", ev->title,
			      VG_ALERT_MAX_FIGURES);
	random_hex(m->id, 16);
	m->state = st;
	m->level = m->prev_level = ev->level;
	m->kind = ev->kind;
	m->time = ctx->now;
	m->key = dup_capped(ev->key);
	m->host = dup_capped(ev->host && ev->host[0] ? ev->host : ctx->host);
	m->subject = dup_capped(ev->subject ? ev->subject : "");
	m->title = dup_capped(ev->title);
	m->body = dup_capped(ev->body ? ev->body : "");
	bool oom = (ev->key && !m->key) || !m->host || !m->subject || !m->title || !m->body;
	for (size_t i = 0; i < ev->nfigures && !oom; i++) {
		m->fig[i].name = dup_capped(ev->figures[i].name ? ev->figures[i].name : "");
		m->fig[i].value = dup_capped(ev->figures[i].value ? ev->figures[i].value : "");
		m->nfig++;
		oom = !m->fig[i].name || !m->fig[i].value;
	}
	if (oom) {
		msg_release(m);
		return VG_ERR(VG_ENOMEM, "out of memory building an alert");
	}
	return 0;
}

static void upper(const char *in, char *out, size_t len)
{
	size_t i = 0;
	for (; in[i] && i + 1 < len; i++)
		out[i] = (in[i] >= 'a' && in[i] <= 'z') ? (char)(in[i] - 32) : in[i];
	out[i] = 0;
}

const char *msg_headline(const struct msg *m, char *buf, size_t len)
{
	char lv[16], prev[16];
	upper(vg_alert_level_name(m->level), lv, sizeof lv);
	switch (m->state) {
	case MSG_FIRING:
		snprintf(buf, len, "%s: %s: %s", lv, m->host, m->title);
		break;
	case MSG_REMINDER:
		snprintf(buf, len, "%s (still): %s: %s", lv, m->host, m->title);
		break;
	case MSG_ESCALATED:
		upper(vg_alert_level_name(m->prev_level), prev, sizeof prev);
		snprintf(buf, len, "%s (was %s): %s: %s", lv, prev, m->host, m->title);
		break;
	case MSG_RESOLVED:
		snprintf(buf, len, "resolved: %s: %s", m->host, m->title);
		break;
	case MSG_TEST:
		snprintf(buf, len, "test: %s: %s", m->host, m->title);
		break;
	}
	/* One line, whatever the title held. */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return buf;
}

const char *msg_iso_time(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "@%lld", t);
	return buf;
}

static int duration_text(long long s, char *buf, size_t len)
{
	if (s < 120)
		return snprintf(buf, len, "%lld s", s);
	if (s < 7200)
		return snprintf(buf, len, "%lld min", s / 60);
	if (s < 172800)
		return snprintf(buf, len, "%lld h", s / 3600);
	return snprintf(buf, len, "%lld days", s / 86400);
}

int msg_text(const struct msg *m, struct vg_buf *out)
{
	char t1[40], t2[40], d[40];
	int err = 0;
	if (m->state == MSG_RESOLVED) {
		err = vg_buf_addf(out, "Cleared: %s\n", m->title);
		if (!err && m->first_seen) {
			duration_text(m->time - m->first_seen, d, sizeof d);
			err = vg_buf_addf(out, "It was first seen %s and lasted %s.\n",
					  msg_iso_time(m->first_seen, t1, sizeof t1), d);
		}
	} else if (m->body[0]) {
		size_t n = strlen(m->body);
		err = vg_buf_addf(out, "%s%s", m->body, m->body[n - 1] == '\n' ? "" : "\n");
	}
	if (!err)
		err = vg_buf_addf(out, "\nhost: %s\n", m->host);
	if (!err && m->subject[0])
		err = vg_buf_addf(out, "subject: %s\n", m->subject);
	if (!err)
		err = vg_buf_addf(out, "level: %s\nkind: %s\n", vg_alert_level_name(m->level),
				  vg_alert_kind_name(m->kind));
	if (!err && m->key)
		err = vg_buf_addf(out, "condition: %s\n", m->key);
	if (!err && m->first_seen && m->state != MSG_RESOLVED)
		err = vg_buf_addf(out, "first seen: %s\n", msg_iso_time(m->first_seen, t1, sizeof t1));
	for (size_t i = 0; i < m->nfig && !err; i++)
		err = vg_buf_addf(out, "%s: %s\n", m->fig[i].name, m->fig[i].value);
	if (!err)
		err = vg_buf_addf(out, "time: %s\n", msg_iso_time(m->time, t2, sizeof t2));
	return err ? err : vg_buf_cstr(out);
}

json_t *msg_to_json(const struct msg *m)
{
	char t[40], hl[1024];
	json_t *figs = json_object();
	for (size_t i = 0; figs && i < m->nfig; i++)
		json_object_set_new(figs, m->fig[i].name, json_string(m->fig[i].value));
	json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:I}",
			      "version", 1, "id", m->id, "state", msg_state_name(m->state),
			      "level", vg_alert_level_name(m->level), "kind",
			      vg_alert_kind_name(m->kind), "key", m->key, "host", m->host,
			      "subject", m->subject, "title", m->title, "headline",
			      msg_headline(m, hl, sizeof hl), "body", m->body, "figures", figs,
			      "time", msg_iso_time(m->time, t, sizeof t), "epoch", (json_int_t)m->time,
			      "first_seen", (json_int_t)m->first_seen);
	struct vg_buf text;
	vg_buf_init(&text, 1u << 20);
	if (j && !msg_text(m, &text))
		json_object_set_new(j, "text", json_string((const char *)text.p));
	vg_buf_release(&text);
	if (j && m->state == MSG_ESCALATED)
		json_object_set_new(j, "previous_level",
				    json_string(vg_alert_level_name(m->prev_level)));
	return j;
}

static int get_str(const json_t *j, const char *name, bool optional, char **out)
{
	const json_t *v = json_object_get(j, name);
	if ((!v || json_is_null(v)) && optional)
		return 0;
	if (!json_is_string(v) || json_string_length(v) > MAX_FIELD)
		return VG_ERR(VG_ECORRUPT, "spooled alert: field '%s' missing or not a short string",
			      name);
	*out = dup_capped(json_string_value(v));
	return *out ? 0 : VG_ERR(VG_ENOMEM, "out of memory");
}

static int get_enum(const json_t *j, const char *name, const char *const *names, int *out)
{
	*out = lookup(names, json_string_value(json_object_get(j, name)));
	return *out < 0 ? VG_ERR(VG_ECORRUPT, "spooled alert: bad '%s'", name) : 0;
}

int msg_from_json(const json_t *j, struct msg *m)
{
	memset(m, 0, sizeof *m);
	int st, lv, kd, pl = -1, err;
	const char *id = json_string_value(json_object_get(j, "id"));
	if (!json_is_object(j) || json_integer_value(json_object_get(j, "version")) != 1 || !id ||
	    strlen(id) != 32)
		return VG_ERR(VG_ECORRUPT, "spooled alert: not a version 1 alert document");
	memcpy(m->id, id, 33);
	if ((err = lookup(state_names, json_string_value(json_object_get(j, "state")))) < 0)
		return VG_ERR(VG_ECORRUPT, "spooled alert: bad 'state'");
	st = err;
	if ((err = get_enum(j, "level", vg_alert_level_names, &lv)) ||
	    (err = get_enum(j, "kind", vg_alert_kind_names, &kd)))
		return err;
	if (json_object_get(j, "previous_level") &&
	    (err = get_enum(j, "previous_level", vg_alert_level_names, &pl)))
		return err;
	m->state = (enum msg_state)st;
	m->level = (enum vg_alert_level)lv;
	m->prev_level = pl < 0 ? m->level : (enum vg_alert_level)pl;
	m->kind = (enum vg_alert_kind)kd;
	m->time = json_integer_value(json_object_get(j, "epoch"));
	m->first_seen = json_integer_value(json_object_get(j, "first_seen"));
	if ((err = get_str(j, "key", true, &m->key)) || (err = get_str(j, "host", false, &m->host)) ||
	    (err = get_str(j, "subject", false, &m->subject)) ||
	    (err = get_str(j, "title", false, &m->title)) ||
	    (err = get_str(j, "body", false, &m->body)))
		goto fail;
	const json_t *figs = json_object_get(j, "figures");
	const char *name;
	json_t *v;
	json_object_foreach((json_t *)figs, name, v)
	{
		if (m->nfig == VG_ALERT_MAX_FIGURES || !json_is_string(v)) {
			err = VG_ERR(VG_ECORRUPT, "spooled alert: bad 'figures'");
			goto fail;
		}
		m->fig[m->nfig].name = dup_capped(name);
		m->fig[m->nfig].value = dup_capped(json_string_value(v));
		m->nfig++;
		if (!m->fig[m->nfig - 1].name || !m->fig[m->nfig - 1].value) {
			err = VG_ERR(VG_ENOMEM, "out of memory");
			goto fail;
		}
	}
	return 0;
fail:
	msg_release(m);
	return err;
}
