/*
 * backup_paths.c - naming the source paths of a backup (see backup.h):
 * absolute paths without resolving the last component, and the
 * top-level names the snapshot gives them.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "workflow/backup.h"

int vg_backup_abspath(const char *path, char **out)
{
	char cwd[PATH_MAX], real[PATH_MAX];
	char *p = NULL;
	size_t len = strlen(path);
	*out = NULL;
	if (len == 0)
		return VG_ERR(VG_EINVAL, "empty path");
	while (len > 1 && path[len - 1] == '/')
		len--;
	if (path[0] == '/') {
		p = strndup(path, len);
	} else {
		if (!getcwd(cwd, sizeof cwd))
			return VG_ERRNO(errno, "cannot find the current directory");
		if ((p = malloc(strlen(cwd) + len + 2)))
			sprintf(p, "%s/%.*s", cwd, (int)len, path);
	}
	if (!p)
		return VG_ERR(VG_ENOMEM, "out of memory");
	char *slash = strrchr(p, '/');
	const char *base = slash + 1;
	int err = 0;
	if (!strcmp(p, "/")) {
		*out = p;
		return 0;
	}
	if (!strcmp(base, ".") || !strcmp(base, "..")) {
		/* "." names a directory, never a symlink: resolving it all is safe */
		if (!realpath(p, real))
			err = VG_ERRNO(errno, "cannot back up '%s'", path);
		else
			*out = strdup(real);
	} else {
		*slash = 0;
		if (!realpath(p[0] ? p : "/", real)) {
			err = VG_ERRNO(errno, "cannot back up '%s'", path);
		} else if ((*out = malloc(strlen(real) + strlen(base) + 2))) {
			sprintf(*out, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base);
		}
	}
	free(p);
	if (!err && !*out)
		err = VG_ERR(VG_ENOMEM, "out of memory");
	return err;
}

static bool inside(const char *a, const char *b) /* a strictly inside b */
{
	size_t n = strlen(b);
	if (!strcmp(b, "/"))
		return strcmp(a, "/") != 0;
	return !strncmp(a, b, n) && a[n] == '/';
}

int vg_backup_top_names(char *const *paths, size_t n, char **names)
{
	for (size_t i = 0; i < n; i++)
		names[i] = NULL;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			if (i != j && inside(paths[i], paths[j]))
				return VG_ERR(VG_EINVAL, "'%s' is inside '%s'; give only one of them", paths[i],
					      paths[j]);
			if (i < j && !strcmp(paths[i], paths[j]))
				return VG_ERR(VG_EINVAL, "'%s' is given twice", paths[i]);
		}
	int err = 0;
	for (size_t i = 0; i < n && !err; i++) {
		const char *base = strrchr(paths[i], '/') + 1;
		size_t blen = strlen(base);
		if (!(names[i] = malloc(blen + 24))) {
			err = VG_ERR(VG_ENOMEM, "out of memory");
			break;
		}
		strcpy(names[i], base);
		for (int k = 2;; k++) {
			bool clash = false;
			for (size_t j = 0; j < i && !clash; j++)
				clash = !strcmp(names[j], names[i]);
			if (!clash)
				break;
			snprintf(names[i], blen + 24, "%s-%d", base, k);
		}
	}
	if (err)
		for (size_t i = 0; i < n; i++) {
			free(names[i]);
			names[i] = NULL;
		}
	return err;
}

