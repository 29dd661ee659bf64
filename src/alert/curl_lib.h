/*
 * curl_lib.h - libcurl through a table of function pointers filled on
 * first use (curl_lib.c), for the files of src/alert/ that talk HTTP or
 * SMTP.  vigil is not linked against libcurl: nothing may call a curl_*
 * function directly (the link would fail, which is the point).
 *
 * Order: lcurl_load() must have returned 0 before any lcurl.* call; it is
 * cheap after the first time.
 */
#ifndef VG_ALERT_CURL_LIB_H
#define VG_ALERT_CURL_LIB_H

#include <curl/curl.h>
#include <stddef.h>

/* The libcurl functions vigil uses; each member is curl_<member>. */
struct lcurl_api {
	CURLcode (*global_init)(long flags);
	curl_version_info_data *(*version_info)(CURLversion stamp);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode rc);
	char *(*easy_escape)(CURL *c, const char *s, int len);
	void (*free)(void *p);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* Filled by the first successful lcurl_load(); never changes afterwards. */
extern struct lcurl_api lcurl;

#define LCURL_SONAME "libcurl.so.4"

/* Loads libcurl and runs curl_global_init(), once per process whichever
 * thread comes first.  0 when lcurl is usable; else VG_EEXTERNAL with err
 * naming the library and the Debian package to install (the same answer
 * for every later call: a failed load is not retried in this process). */
int lcurl_load(char *err, size_t errlen);

/* lcurl_load()'s first half, without the once-guard and without global
 * init: dlopen(soname), look up every function into *t, check the version.
 * Returns the handle, or NULL with err filled in.  For tests: a bogus
 * soname shows what a user without libcurl4 sees. */
void *lcurl_open(const char *soname, struct lcurl_api *t, char *err, size_t errlen);

/*
 * Under GCC, curl.h makes curl_easy_setopt() and curl_easy_getinfo()
 * type-checking macros (typecheck-gcc.h) that end in a call of the
 * identifier curl_easy_setopt / curl_easy_getinfo.  A block-scope pointer
 * of that name, set from the table, makes that call go to the loaded
 * library while the checks stay as they were.  -Wshadow is quieted for that
 * one declaration: the shadowing is the mechanism.
 */
#define LCURL_CHECKED_(m, what_t, c, what, arg)                                    \
	__extension__({                                                            \
		_Pragma("GCC diagnostic push");                                    \
		_Pragma("GCC diagnostic ignored \"-Wshadow\"");                    \
		CURLcode (*const curl_##m)(CURL *, what_t, ...) = lcurl.m;         \
		_Pragma("GCC diagnostic pop");                                     \
		curl_##m(c, what, arg);                                            \
	})
#define LCURL_SETOPT(c, opt, val) LCURL_CHECKED_(easy_setopt, CURLoption, c, opt, val)
#define LCURL_GETINFO(c, info, arg) LCURL_CHECKED_(easy_getinfo, CURLINFO, c, info, arg)

#endif
