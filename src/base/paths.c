/*
 * paths.c - the host-side state directory and config path (paths.h).
 */
#include "base/paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		int r = mkdir(path, 0700);
		int e = errno;
		*p = '/';
		if (r < 0 && e != EEXIST)
			return VG_ERRNO(e, "cannot create state directory '%s'", path);
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return VG_ERRNO(errno, "cannot create state directory '%s'", path);
	return 0;
}

static int fmt(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s%s", a, b);
	if (n < 0 || (size_t)n >= len)
		return VG_ERR(VG_EINVAL, "path too long: '%s%s'", a, b);
	return 0;
}

static int base_dir(char *buf, size_t len, const char *env, const char *root_dir,
		    const char *xdg, const char *home_rel, const char *leaf)
{
	const char *e = getenv(env);
	if (e && *e)
		return fmt(buf, len, e, "");
	if (geteuid() == 0)
		return fmt(buf, len, root_dir, "");
	const char *x = getenv(xdg);
	if (x && *x)
		return fmt(buf, len, x, leaf);
	const char *h = getenv("HOME");
	if (!h || !*h)
		return VG_ERR(VG_EINVAL, "neither %s nor HOME is set; set %s", env, env);
	char tmp[4096];
	int err = fmt(tmp, sizeof tmp, h, home_rel);
	return err ? err : fmt(buf, len, tmp, leaf);
}

int vg_state_dir(char *buf, size_t len)
{
	int err = base_dir(buf, len, "VIGIL_STATE_DIR", "/var/lib/vigil", "XDG_STATE_HOME",
			   "/.local/state", "/vigil");
	return err ? err : mkdirs(buf);
}

int vg_state_path(const char *rel, char *buf, size_t len)
{
	char dir[4096];
	int err = vg_state_dir(dir, sizeof dir);
	if (err)
		return err;
	if (snprintf(buf, len, "%s/%s", dir, rel) >= (int)len)
		return VG_ERR(VG_EINVAL, "state path too long: '%s/%s'", dir, rel);
	char *slash = strrchr(buf, '/');
	if (slash && slash > buf + strlen(dir)) {
		*slash = 0;
		err = mkdirs(buf);
		*slash = '/';
	}
	return err;
}

int vg_config_path(const char *explicit_path, char *buf, size_t len, int *is_default)
{
	*is_default = 0;
	if (explicit_path && *explicit_path)
		return fmt(buf, len, explicit_path, "");
	const char *e = getenv("VIGIL_CONFIG");
	if (e && *e)
		return fmt(buf, len, e, "");
	*is_default = 1;
	return base_dir(buf, len, "VIGIL_CONFIG_DIR_UNUSED", "/etc/vigil/vigil.conf",
			"XDG_CONFIG_HOME", "/.config", "/vigil/vigil.conf");
}
