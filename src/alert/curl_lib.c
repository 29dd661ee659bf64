/*
 * curl_lib.c - libcurl, loaded when the first alert goes out over HTTP or
 * SMTP instead of at every start.
 *
 * Why: libcurl4 brings some 27 more shared libraries (TLS stacks, Kerberos,
 * LDAP, SSH, RTMP, HTTP/2); mapping and relocating them costs every run
 * several MiB of resident memory, and almost no run sends an alert.
 *
 * The first lcurl_load() dlopen()s libcurl.so.4 (RTLD_LOCAL: its symbols
 * stay out of the global namespace), looks up every function of struct
 * lcurl_api, checks the version and runs curl_global_init().  pthread_once
 * makes that happen once whichever thread comes first; its outcome, success
 * or the message saying why not, is what every later call gets.  The
 * library is never unloaded (curl_global_cleanup would not be thread-safe
 * against a late sender, and the process ends soon anyway).
 *
 * Without a usable libcurl a send fails like a refused connection: the
 * message names the library and the Debian package, the alert is spooled.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "alert/curl_lib.h"
#include "base/err.h"

/* CURLOPT_PROTOCOLS_STR, which keeps alerts to http(s) and smtp(s). */
#define MIN_VERSION 0x075500
#define MIN_VERSION_TEXT "7.85.0"
#define PACKAGE "libcurl4"

struct lcurl_api lcurl;

#define SYM(m) {"curl_" #m, offsetof(struct lcurl_api, m)}
static const struct {
	const char *name;
	size_t off;
} syms[] = {
	SYM(global_init),  SYM(version_info),  SYM(easy_init),    SYM(easy_setopt),
	SYM(easy_perform), SYM(easy_getinfo),  SYM(easy_cleanup), SYM(easy_strerror),
	SYM(easy_escape),  SYM(free),          SYM(slist_append), SYM(slist_free_all),
};
#undef SYM

/* dlsym() hands out void *; POSIX guarantees a function pointer has the
 * same representation, which the copy below relies on. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers as wide as void *");
_Static_assert(sizeof syms / sizeof syms[0] * sizeof(void *) == sizeof(struct lcurl_api),
	       "every member of struct lcurl_api is looked up");

static void open_failed(const char *soname, char *err, size_t errlen)
{
	const char *why = dlerror();
	if (!why)
		why = "unknown dlopen error";
	/* "libcurl.so.4: cannot open shared object file: ..." is the library
	 * itself missing; anything else (a missing dependency, a damaged file)
	 * needs the package reinstalled. */
	if (!strncmp(why, soname, strlen(soname)) && strstr(why, "cannot open shared object file"))
		snprintf(err, errlen, "%s is not installed (%s): install the Debian package %s",
			 PACKAGE, why, PACKAGE);
	else
		snprintf(err, errlen, "cannot load %s (%s): reinstall the Debian package %s", soname,
			 why, PACKAGE);
}

void *lcurl_open(const char *soname, struct lcurl_api *t, char *err, size_t errlen)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		open_failed(soname, err, errlen);
		return NULL;
	}
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		void *p = dlsym(h, syms[i].name);
		if (!p) {
			snprintf(err, errlen, "'%s' is not a usable libcurl (it has no %s): "
					      "reinstall the Debian package %s",
				 soname, syms[i].name, PACKAGE);
			goto fail;
		}
		memcpy((char *)t + syms[i].off, &p, sizeof p);
	}
	const curl_version_info_data *v = t->version_info(CURLVERSION_NOW);
	if (!v || v->version_num < MIN_VERSION) {
		snprintf(err, errlen, "libcurl %s is too old (%s or newer is needed): "
				      "upgrade the Debian package %s",
			 v && v->version ? v->version : "(unknown version)", MIN_VERSION_TEXT, PACKAGE);
		goto fail;
	}
	return h;
fail:
	memset(t, 0, sizeof *t);
	dlclose(h);
	return NULL;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static char load_err[512];

static void load_once(void)
{
	struct lcurl_api t = {0};
	if (!lcurl_open(LCURL_SONAME, &t, load_err, sizeof load_err)) {
		load_rc = VG_EEXTERNAL;
		return;
	}
	CURLcode rc = t.global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		snprintf(load_err, sizeof load_err, "cannot initialise libcurl: %s",
			 t.easy_strerror(rc));
		load_rc = VG_EEXTERNAL;
		return;
	}
	lcurl = t;
}

int lcurl_load(char *err, size_t errlen)
{
	pthread_once(&once, load_once);
	if (load_rc)
		snprintf(err, errlen, "%s", load_err);
	return load_rc;
}
