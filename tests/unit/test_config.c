/*
 * test_config.c - the config file: sections, typed accessors and the
 * errors they give (file:line, section, key), inih's limits turned into
 * clear errors, secrets and their redaction, the permissions warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "config/config.h"
#include "t.h"

static const char *const levels[] = {"info", "warning", "critical", NULL};

TEST(sections_and_values)
{
	struct vg_config *c;
	T_OK(vg_config_parse("# comment\n[alert]\ntimeout = 45s\nremind=2d\n\n"
			     "[alert \"pager duty\"]\ntype = pagerduty ; inline comment\n"
			     "levels = critical, warning\n[vault]\npath = /mnt/a\n",
			     "t.conf", &c));
	const struct vg_config_section *g = vg_config_find(c, "alert", NULL);
	const struct vg_config_section *p = vg_config_find(c, "alert", "pager duty");
	T_CHECK(g && p && vg_config_find(c, "vault", NULL));
	T_CHECK(!vg_config_find(c, "alert", "other"));
	T_CHECK(!strcmp(vg_config_section_name(p), "pager duty"));
	T_EQ(vg_config_section_line(p), 6);
	long long ms = 0;
	T_OK(vg_config_get_duration(g, "timeout", 0, 3600000, &ms));
	T_EQ(ms, 45000);
	T_OK(vg_config_get_duration(g, "remind", 0, 864000000, &ms));
	T_EQ(ms, 2 * 86400000LL);
	const char *s;
	T_OK(vg_config_get_str(p, "type", &s));
	T_CHECK(!strcmp(s, "pagerduty"));
	unsigned set = 0;
	T_OK(vg_config_get_set(p, "levels", levels, &set));
	T_EQ(set, 6);
	T_EQ(vg_config_get_str(p, "url", &s), VG_ENOENT);
	T_EQ(vg_config_get_str(NULL, "url", &s), VG_ENOENT);
	vg_config_free(c);
}

TEST(errors_name_file_line_section_key)
{
	struct vg_config *c;
	T_OK(vg_config_parse("[alert \"x\"]\nremind = 5 parsecs\nn = 12a\nb = maybe\n"
			     "levels = critical, urgent\nkind = ntfy\nkind = gotify\n",
			     "v.conf", &c));
	const struct vg_config_section *s = vg_config_find(c, "alert", "x");
	long long v;
	bool b;
	unsigned set;
	const char *str;
	T_EQ(vg_config_get_duration(s, "remind", 0, 1000000, &v), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "v.conf:2: [alert \"x\"] remind: '5 parsecs' is not a duration"));
	T_EQ(vg_config_get_int(s, "n", 0, 100, &v), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "v.conf:3:"));
	T_EQ(vg_config_get_bool(s, "b", &b), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "write yes or no"));
	T_EQ(vg_config_get_set(s, "levels", levels, &set), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "'urgent' is not one of: info, warning, critical"));
	T_EQ(vg_config_get_str(s, "kind", &str), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "given twice (lines 6 and 7)"));
	static const char *const allowed[] = {"remind", "n", "b", "levels", NULL};
	T_EQ(vg_config_check_keys(s, allowed), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "v.conf:6: [alert \"x\"] kind: unknown key"));
	vg_config_free(c);
}

TEST(ranges_are_checked)
{
	struct vg_config *c;
	T_OK(vg_config_parse("[a]\nt = 2h\nn = 99999999999999999999\nm = -1\n", "r.conf", &c));
	const struct vg_config_section *s = vg_config_find(c, "a", NULL);
	long long v;
	T_EQ(vg_config_get_duration(s, "t", 0, 3600000, &v), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "out of range"));
	T_EQ(vg_config_get_int(s, "n", 0, 100, &v), VG_EINVAL);
	T_EQ(vg_config_get_int(s, "m", 0, 100, &v), VG_EINVAL);
	T_EQ(vg_config_get_duration(s, "m", 0, 100, &v), VG_EINVAL);
	vg_config_free(c);
}

TEST(syntax_errors_are_clear)
{
	struct vg_config *c = NULL;
	T_EQ(vg_config_parse("[alert]\njust words\n", "s.conf", &c), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "s.conf:2: cannot parse this line"));
	T_CHECK(c == NULL);
	T_EQ(vg_config_parse("key = v\n", "s.conf", &c), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "outside any section"));
	T_EQ(vg_config_parse("[Alert X]\nk = v\n", "s.conf", &c), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "bad section header [Alert X]"));
	T_EQ(vg_config_parse("[a \"x\"]\nk = v\n[a \"x\"]\nj = w\n", "s.conf", &c), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "appears twice"));
	/* A continuation line would silently extend a value in inih: here it is
	 * a second value, which the accessors refuse. */
	T_OK(vg_config_parse("[a]\nk = one\n  two\n", "s.conf", &c));
	const char *s;
	T_EQ(vg_config_get_str(vg_config_find(c, "a", NULL), "k", &s), VG_EINVAL);
	vg_config_free(c);
}

TEST(long_lines_are_refused_not_truncated)
{
	char text[600];
	char val[300];
	memset(val, 'x', sizeof val - 1);
	val[sizeof val - 1] = 0;
	snprintf(text, sizeof text, "[a]\nurl = %s\n", val);
	struct vg_config *c = NULL;
	T_EQ(vg_config_parse(text, "l.conf", &c), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "l.conf:2: line longer than 199 characters"));
	char hdr[120];
	snprintf(hdr, sizeof hdr, "[alert \"%.60s\"]\nk = v\n", val);
	T_EQ(vg_config_parse(hdr, "l.conf", &c), VG_EINVAL);
	T_CHECK(strstr(vg_errmsg(), "section header longer"));
	T_EQ(vg_config_parse("[a]\nk = v\0w\n", "l.conf", &c), 0); /* C string ends at NUL */
	vg_config_free(c);
}

TEST(repeatable_keys)
{
	struct vg_config *c;
	T_OK(vg_config_parse("[w]\nheader = A: 1\nx = y\nheader = B: 2\n", "h.conf", &c));
	const struct vg_config_section *s = vg_config_find(c, "w", NULL);
	size_t it = 0;
	const char *v;
	int line;
	T_EQ(vg_config_next(s, "header", &it, &v, &line), 1);
	T_CHECK(!strcmp(v, "A: 1"));
	T_EQ(line, 2);
	T_EQ(vg_config_next(s, "header", &it, &v, &line), 1);
	T_CHECK(!strcmp(v, "B: 2"));
	T_EQ(vg_config_next(s, "header", &it, &v, &line), 0);
	vg_config_free(c);
}

TEST(secrets_are_masked)
{
	struct vg_config *c;
	T_OK(vg_config_parse("[alert \"p\"]\nrouting-key = R0UTINGKEY0123\ntoken = tok-abc\n"
			     "user = uQ7\napi-key = zzzz-9\nurl = https://example.org/x\n",
			     "k.conf", &c));
	char out[256];
	vg_config_redact(c, "key R0UTINGKEY0123 and tok-abc at https://example.org/x", out,
			 sizeof out);
	T_CHECK(!strcmp(out, "key ******** and ******** at https://example.org/x"));
	/* Too short to mask safely: "uQ7" stays. */
	vg_config_redact(c, "uQ7 zzzz-9", out, sizeof out);
	T_CHECK(!strcmp(out, "uQ7 ********"));
	T_OK(vg_config_secret_add(c, "example.org/x"));
	T_CHECK(vg_config_has_secret(c, "see https://example.org/x"));
	vg_config_redact(c, "see https://example.org/x", out, 12);
	T_EQ(strlen(out), 11);
	/* Errors about a secret value never quote it. */
	vg_config_free(c);
	T_OK(vg_config_parse("[a]\ntoken = not-a-number-secret\n", "k.conf", &c));
	long long v;
	T_EQ(vg_config_get_int(vg_config_find(c, "a", NULL), "token", 0, 9, &v), VG_EINVAL);
	T_CHECK(!strstr(vg_errmsg(), "not-a-number-secret"));
	vg_config_free(c);
}

TEST(load_file_missing_and_permissions)
{
	struct vg_config *c = NULL;
	const char *p = t_path("vigil.conf");
	T_EQ(vg_config_load(p, &c), VG_ENOENT);
	T_CHECK(strstr(vg_errmsg(), "vigil.conf"));
	/* A missing default file is an empty config. */
	setenv("XDG_CONFIG_HOME", t_path("xdg"), 1);
	unsetenv("VIGIL_CONFIG");
	if (geteuid() != 0) {
		T_OK(vg_config_load(NULL, &c));
		T_CHECK(vg_config_section_at(c, 0) == NULL);
		vg_config_free(c);
	}
	const char *text = "[alert \"n\"]\ntype = ntfy\ntoken = secret-1234\n";
	T_OK(t_write_file(p, text, strlen(text)));
	chmod(p, 0600);
	T_OK(vg_config_load(p, &c));
	T_CHECK(vg_config_warning(c, 0) == NULL);
	vg_config_free(c);
	chmod(p, 0644);
	T_OK(vg_config_load(p, &c));
	T_CHECK(vg_config_warning(c, 0) && strstr(vg_config_warning(c, 0), "chmod 600"));
	T_CHECK(!strstr(vg_config_warning(c, 0), "secret-1234"));
	vg_config_free(c);
	T_OK(t_write_file(p, "[a]\nk = v\n", 10));
	chmod(p, 0644);
	T_OK(vg_config_load(p, &c));
	T_CHECK(vg_config_warning(c, 0) == NULL); /* nothing secret in it */
	vg_config_free(c);
}
