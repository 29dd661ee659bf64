/*
 * pg_scan.c - the in-place verification driver (pg_scan.h): walks global/,
 * base/ and pg_tblspc/ as pg_checksums does and feeds every checked file
 * to the streaming verifier, 1 MiB at a time.
 */
#include "source/pg_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

#define READ_CHUNK ((size_t)1 << 20)
#define MAX_PATH 4096
#define MAX_DEPTH 16

struct walk {
	const char *pgdata;
	struct vg_pg_scan_result *res;
	const struct vg_pg_scan_opts *opts;
	bool sizing;          /* first pass: only sum sizes */
	uint64_t total, done;
	uint8_t *buf;
};

static int reread_fd(void *ctx, uint64_t off, void *buf, size_t len, size_t *got)
{
	int fd = *(int *)ctx;
	*got = 0;
	while (*got < len) {
		ssize_t r = pread(fd, (char *)buf + *got, len - *got, (off_t)(off + *got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return VG_ERRNO(errno, "cannot re-read at offset %llu", (unsigned long long)off);
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

/* Feed the open file to fc; a read error becomes a finding. */
static int feed_file(struct walk *w, struct vg_pg_filecheck *fc, int fd)
{
	for (;;) {
		ssize_t r = read(fd, w->buf, READ_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			char msg[256];
			snprintf(msg, sizeof msg, "cannot read: %s", strerror(errno));
			return vg_pg_file_error(fc, msg);
		}
		if (r == 0)
			return vg_pg_file_end(fc);
		int rc = vg_pg_file_feed(fc, w->buf, (size_t)r);
		if (rc < 0)
			return rc;
	}
}

static int check_file(struct walk *w, const char *path, const char *rel)
{
	struct vg_pg_scan_result *res = w->res;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int open_errno = errno;
	if (fd < 0 && open_errno == ENOENT && res->online) {
		res->vanished++;
		return 0;
	}
	struct vg_pg_filecheck fc;
	int rc = vg_pg_file_begin(&fc, &res->cl, rel, res->start_lsn, reread_fd, &fd);
	if (rc < 0)
		goto out;
	if (fd < 0) {
		char msg[256];
		snprintf(msg, sizeof msg, "cannot open: %s", strerror(open_errno));
		rc = vg_pg_file_error(&fc, msg);
	} else {
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		rc = feed_file(w, &fc, fd);
	}
	w->done += fc.st.bytes;
	if (rc == 0)
		rc = vg_pg_report_add(&res->rep, &fc);
out:
	vg_pg_file_release(&fc);
	if (fd >= 0)
		close(fd);
	if (rc == 0 && w->opts && w->opts->progress)
		w->opts->progress(w->opts->progress_ctx, w->done, w->total);
	return rc;
}

static int walk_dir(struct walk *w, const char *rel, int depth);

static int visit(struct walk *w, const char *rel, int depth)
{
	char path[MAX_PATH];
	struct stat st;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", w->pgdata, rel) >= sizeof path)
		return VG_ERR(VG_EINVAL, "path too long: '%s/%s'", w->pgdata, rel);
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT && w->res->online)
			return 0;
		return VG_ERRNO(errno, "cannot stat '%s'", path);
	}
	if (S_ISREG(st.st_mode)) {
		struct vg_pg_relpath rp;
		vg_pg_classify(&w->res->cl, rel, &rp);
		if (!rp.checked)
			return 0;
		if (w->sizing) {
			w->total += (uint64_t)st.st_size;
			return 0;
		}
		return check_file(w, path, rel);
	}
	/* Tablespaces are symlinks in pg_tblspc/: follow them. */
	if (S_ISLNK(st.st_mode) && stat(path, &st) < 0)
		return VG_ERRNO(errno, "cannot follow '%s'", path);
	if (S_ISDIR(st.st_mode) && vg_pg_dir_scanned(&w->res->cl, rel))
		return walk_dir(w, rel, depth + 1);
	return 0;
}

static int walk_dir(struct walk *w, const char *rel, int depth)
{
	char path[MAX_PATH];
	if (depth > MAX_DEPTH)
		return VG_ERR(VG_EINVAL, "'%s/%s': directories nested too deep", w->pgdata, rel);
	if ((size_t)snprintf(path, sizeof path, "%s/%s", w->pgdata, rel) >= sizeof path)
		return VG_ERR(VG_EINVAL, "path too long: '%s/%s'", w->pgdata, rel);
	DIR *d = opendir(path);
	if (!d) {
		if (errno == ENOENT && (w->res->online || !strcmp(rel, "pg_tblspc")))
			return 0;
		return VG_ERRNO(errno, "cannot list '%s'", path);
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char child[MAX_PATH];
		if ((size_t)snprintf(child, sizeof child, "%s/%s", rel, de->d_name) >= sizeof child)
			rc = VG_ERR(VG_EINVAL, "path too long: '%s/%s'", path, de->d_name);
		else
			rc = visit(w, child, depth);
	}
	if (rc == 0 && errno != 0)
		rc = VG_ERRNO(errno, "cannot list '%s'", path);
	closedir(d);
	return rc;
}

static int walk_all(struct walk *w)
{
	static const char *const trees[] = {"global", "base", "pg_tblspc"};
	for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++) {
		int rc = walk_dir(w, trees[i], 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int vg_pg_scan(const char *pgdata, const struct vg_pg_scan_opts *opts, struct vg_pg_scan_result *out)
{
	memset(out, 0, sizeof *out);
	int rc = vg_pg_datadir_read(pgdata, &out->cl);
	if (rc < 0)
		return rc;
	out->online = !vg_pg_control_is_shutdown(&out->cl.ctl);
	out->start_lsn = vg_pg_inflight_lsn(&out->cl);
	struct walk w = {.pgdata = pgdata, .res = out, .opts = opts};
	if (opts && opts->progress) {
		w.sizing = true;
		if ((rc = walk_all(&w)) < 0)
			return rc;
		w.sizing = false;
	}
	w.buf = malloc(READ_CHUNK);
	if (!w.buf)
		return VG_ERR(VG_ENOMEM, "out of memory");
	double t0 = now_s();
	rc = walk_all(&w);
	out->seconds = now_s() - t0;
	free(w.buf);
	return rc;
}

void vg_pg_scan_release(struct vg_pg_scan_result *r)
{
	if (r)
		vg_pg_report_release(&r->rep);
}
