/*
 * test_curl_lib.c - libcurl loaded on first use (src/alert/curl_lib.c):
 * the real library loads once from any number of threads and works through
 * the table; a missing, damaged, foreign or too old library gives the
 * one-line message naming the Debian package, and leaves the table empty.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_int.h"
#include "alert/curl_lib.h"
#include "base/buf.h"
#include "t.h"

static bool table_empty(const struct lcurl_api *t)
{
	static const struct lcurl_api zero;
	return !memcmp(t, &zero, sizeof zero);
}

#define T_HAS(s, sub) T_CHECKF(strstr((s), (sub)), "'%s' not in '%s'", (sub), (s))

TEST(missing_library_says_install_libcurl4)
{
	struct lcurl_api t = {0};
	char err[512] = "";
	T_CHECK(!lcurl_open("libvigil-absent.so.4", &t, err, sizeof err));
	T_HAS(err, "libcurl4 is not installed (libvigil-absent.so.4: cannot open shared object file");
	T_HAS(err, "): install the Debian package libcurl4");
	T_CHECK(!strchr(err, '\n'));
	T_CHECK(table_empty(&t));
}

TEST(damaged_library_says_reinstall)
{
	const char *path = t_path("libcurl.so.4");
	T_CHECK(t_write_file(path, "not an ELF file\n", 16) == 0);
	struct lcurl_api t = {0};
	char err[512] = "";
	T_CHECK(!lcurl_open(path, &t, err, sizeof err));
	T_HAS(err, "cannot load ");
	T_HAS(err, "libcurl.so.4: ");
	T_HAS(err, "reinstall the Debian package libcurl4");
	T_CHECK(table_empty(&t));
}

TEST(library_without_curl_functions_is_refused)
{
	struct lcurl_api t = {0};
	char err[512] = "";
	T_CHECK(!lcurl_open("libc.so.6", &t, err, sizeof err));
	T_HAS(err, "'libc.so.6' is not a usable libcurl (it has no curl_global_init)");
	T_CHECK(table_empty(&t));
}

/* Every function exists, but curl_version_info() says 7.74.0 (Debian 11),
 * which lacks CURLOPT_PROTOCOLS_STR.  The struct is the start of curl's
 * curl_version_info_data (age, version, version_num), stable since 7.10. */
TEST(too_old_library_says_upgrade)
{
	static const char src[] =
		"static struct { int age; const char *version; unsigned num; } v = {10, \"7.74.0\", 0x074a00};\n"
		"void *curl_version_info(int stamp) { (void)stamp; return &v; }\n"
		"#define F(n) void curl_##n(void); void curl_##n(void) {}\n"
		"F(global_init) F(easy_init) F(easy_setopt) F(easy_perform) F(easy_getinfo)\n"
		"F(easy_cleanup) F(easy_strerror) F(easy_escape) F(free) F(slist_append)\n"
		"F(slist_free_all)\n";
	const char *c = t_path("old.c"), *so = t_path("libcurl-old.so.4");
	T_CHECK(t_write_file(c, src, sizeof src - 1) == 0);
	T_EQ(t_sh("cc -shared -fPIC -o %s %s", so, c), 0);
	struct lcurl_api t = {0};
	char err[512] = "";
	T_CHECK(!lcurl_open(so, &t, err, sizeof err));
	T_HAS(err, "libcurl 7.74.0 is too old (7.85.0 or newer is needed): upgrade the Debian "
		   "package libcurl4");
	T_CHECK(table_empty(&t));
}

static void *load_in_thread(void *arg)
{
	char *err = arg;
	return (void *)(intptr_t)lcurl_load(err, 256);
}

TEST(real_library_loads_once_from_many_threads)
{
	enum { N = 8 };
	pthread_t th[N];
	char err[N][256];
	for (int i = 0; i < N; i++) {
		err[i][0] = 0;
		T_EQ(pthread_create(&th[i], NULL, load_in_thread, err[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		void *rc = NULL;
		T_EQ(pthread_join(th[i], &rc), 0);
		T_CHECKF(!rc, "thread %d: %s", i, err[i]);
	}
	T_CHECK(!table_empty(&lcurl));
	CURL *h = lcurl.easy_init();
	T_CHECK(h);
	T_EQ(LCURL_SETOPT(h, CURLOPT_URL, "http://127.0.0.1:1/"), CURLE_OK);
	long status = -1;
	T_EQ(LCURL_GETINFO(h, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
	T_EQ(status, 0);
	lcurl.easy_cleanup(h);
	char again[256];
	T_OK(lcurl_load(again, sizeof again));
}

TEST(form_encoding_goes_through_the_loaded_library)
{
	const char *pairs[] = {"title", "disk sdb: 8 reallocated", "who", "é&=", NULL};
	struct vg_buf out;
	char err[256] = "";
	vg_buf_init(&out, 1024);
	int r = http_form(pairs, &out, err, sizeof err);
	T_CHECKF(r == 0, "%s", err);
	T_CHECK(!strcmp((const char *)out.p, "title=disk%20sdb%3A%208%20reallocated&who=%C3%A9%26%3D"));
	vg_buf_release(&out);
}

TEST(form_over_its_cap_says_so)
{
	const char *pairs[] = {"message", "a long alert text that does not fit", NULL};
	struct vg_buf out;
	char err[256] = "";
	vg_buf_init(&out, 16);
	T_CHECK(http_form(pairs, &out, err, sizeof err) < 0);
	T_HAS(err, "cannot encode the form: ");
	T_HAS(err, "limit of 16 bytes");
	vg_buf_release(&out);
}
