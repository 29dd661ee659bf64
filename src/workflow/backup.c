/*
 * backup.c - the backup workflow (see backup.h).
 *
 * Shape of a run: one reader (this thread) walks, reads, chunks and hashes;
 * vg_repo_put() hands new chunks to the repository's workers, which
 * compress and pack them.  The tree of a directory is stored once all its
 * entries are known, so trees are built bottom-up as the walk returns.
 * Memory is bounded by the read buffer, the worker queue and one listing
 * per directory level.
 */
#include "workflow/backup.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "os/fs.h"

#define READ_SIZE (8u << 20)
#define MAX_DEPTH 2000

struct bctx {
	struct vg_repo *r;
	const struct vg_backup_opts *o;
	struct vg_snapshot *snap;
	struct vg_backup_progress prog;
	size_t nproblems;
	uint8_t *buf;
	size_t bufsize;
	struct vg_buf link;
	struct vg_repo_counts base;
};

static void problem(struct bctx *c, int verdict, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(struct bctx *c, int verdict, const char *fmt, ...)
{
	char msg[VG_SNAP_MAX_REASON];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->nproblems++;
	if (verdict > c->snap->verdict)
		c->snap->verdict = verdict;
	if (c->snap->nreasons >= VG_SNAP_MAX_REASONS ||
	    vg_snapshot_add_str(&c->snap->reasons, &c->snap->nreasons, msg) < 0)
		c->snap->reasons_dropped++;
}

static void progress(struct bctx *c, const char *path)
{
	if (!c->o->progress)
		return;
	struct vg_repo_counts now;
	vg_repo_counts(c->r, &now);
	c->prog.new_bytes = now.new_bytes - c->base.new_bytes;
	c->prog.current = path;
	c->o->progress(c->o->ctx, &c->prog);
}

/* Chunks of one open file, appended to *ids.  *fatal: the failure is the
 * vault's (or memory's), not the source file's. */
static int read_chunks(struct bctx *c, struct vg_fs_file *f, void *watched, struct vg_id **ids, size_t *n,
		       uint64_t *total, bool *fatal)
{
	const struct vg_chunker *ch = vg_repo_chunker(c->r);
	size_t have = 0, pos = 0, cap = 0;
	bool eof = false;
	int err = 0;
	*total = 0;
	for (;;) {
		if (!eof && have - pos < ch->p.max) {
			memmove(c->buf, c->buf + pos, have - pos);
			have -= pos;
			pos = 0;
			size_t got;
			if ((err = vg_fs_file_read(f, c->buf + have, c->bufsize - have, &got)) < 0)
				return err;
			if (watched && got)
				c->o->watch->data(c->o->watch->ctx, watched, c->buf + have, got);
			eof = got < c->bufsize - have;
			have += got;
		}
		size_t cut = vg_chunker_cut(ch, c->buf + pos, have - pos, eof);
		if (cut == 0)
			return 0;
		*fatal = true;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			struct vg_id *ni = realloc(*ids, cap * sizeof *ni);
			if (!ni)
				return VG_ERR(VG_ENOMEM, "out of memory");
			*ids = ni;
		}
		bool added;
		if ((err = vg_repo_put(c->r, VG_OT_CHUNK, c->buf + pos, cut, &(*ids)[*n], &added)) < 0)
			return err;
		*fatal = false;
		(*n)++;
		c->snap->stats.chunks++;
		c->snap->stats.new_chunks += added;
		pos += cut;
		*total += cut;
	}
}

static bool changed(const struct vg_fs_stat *a, const struct vg_fs_stat *b)
{
	return a->size != b->size || a->mtime_ns != b->mtime_ns || a->ctime_ns != b->ctime_ns;
}

/* Fill e for a regular file.  Negative: fatal for the run; 1: the file
 * is left out (problem recorded). */
static int do_file(struct bctx *c, struct vg_fs_dir *d, const char *name, struct vg_tree_entry *e)
{
	struct vg_fs_file *f = NULL;
	struct vg_id *ids = NULL;
	size_t n = 0;
	uint64_t total = 0;
	struct vg_fs_stat after;
	bool fatal = false;
	void *watched = NULL;
	int err = vg_fs_file_openat(d, name, &f);
	if (!err)
		err = vg_fs_file_stat(f, &e->st);
	if (!err && c->o->watch)
		watched = c->o->watch->begin(c->o->watch->ctx, vg_fs_file_path(f), e->st.size);
	if (!err)
		err = read_chunks(c, f, watched, &ids, &n, &total, &fatal);
	if (watched) {
		char why[VG_SNAP_MAX_REASON];
		why[0] = 0;
		int v = c->o->watch->end(c->o->watch->ctx, watched, err != 0, why, sizeof why);
		if (v > VG_VERDICT_OK)
			problem(c, v, "%s", why);
	}
	if (err) {
		if (!fatal) {
			problem(c, VG_VERDICT_INCOMPLETE, "%s", vg_errmsg());
			err = 1;
		}
		free(ids);
		vg_fs_file_close(f);
		return err;
	}
	if (vg_fs_file_stat(f, &after) == 0 && (changed(&e->st, &after) || total != e->st.size))
		problem(c, VG_VERDICT_SUSPECT, "%s: changed while it was being read", vg_fs_file_path(f));
	e->st.size = total;
	e->chunks = ids;
	e->nchunks = n;
	c->prog.files++;
	c->prog.bytes += total;
	c->snap->stats.files++;
	c->snap->stats.bytes += total;
	progress(c, vg_fs_file_path(f));
	vg_fs_file_close(f);
	return 0;
}

static int backup_dir(struct bctx *c, struct vg_fs_dir *d, int depth, struct vg_id *id);

/* One directory entry.  Negative: fatal; 1: left out. */
static int do_entry(struct bctx *c, struct vg_fs_dir *d, const char *name, const struct vg_fs_stat *st,
		    int depth, struct vg_tree_entry *e)
{
	struct vg_fs_dir *sub = NULL;
	char path[4096];
	int err = 0;
	e->st = *st;
	switch (st->type) {
	case VG_FT_FILE:
		return do_file(c, d, name, e);
	case VG_FT_DIR:
		snprintf(path, sizeof path, "%s/%s", vg_fs_dir_path(d), name);
		if (depth >= MAX_DEPTH) {
			problem(c, VG_VERDICT_INCOMPLETE, "%s: directories nested deeper than %d levels are left out",
				path, MAX_DEPTH);
			return 1;
		}
		if ((err = vg_fs_dir_openat(d, name, &sub)) < 0) {
			problem(c, VG_VERDICT_INCOMPLETE, "%s", vg_errmsg());
			return 1;
		}
		err = backup_dir(c, sub, depth + 1, &e->subtree);
		vg_fs_dir_close(sub);
		if (err == 0) {
			c->prog.dirs++;
			c->snap->stats.dirs++;
		}
		return err;
	case VG_FT_SYMLINK:
		if ((err = vg_fs_readlinkat(d, name, &c->link)) < 0 || c->link.len == 0) {
			problem(c, VG_VERDICT_INCOMPLETE, "%s", err ? vg_errmsg() : "empty symlink target");
			return 1;
		}
		if (!(e->target = strdup((const char *)c->link.p)))
			return VG_ERR(VG_ENOMEM, "out of memory");
		break;
	case VG_FT_NONE:
		snprintf(path, sizeof path, "%s/%s", vg_fs_dir_path(d), name);
		problem(c, VG_VERDICT_INCOMPLETE, "%s: unknown file type, left out", path);
		return 1;
	}
	c->snap->stats.others++;
	return 0;
}

static void free_entries(struct vg_tree_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((void *)e[i].chunks);
		free((void *)e[i].target);
	}
	free(e);
}

static int backup_dir(struct bctx *c, struct vg_fs_dir *d, int depth, struct vg_id *id)
{
	struct vg_fs_list l;
	struct vg_tree_entry *e = NULL;
	size_t n = 0;
	bool added;
	int err = vg_fs_dir_list(d, &l);
	if (err) {
		vg_fs_list_release(&l);
		problem(c, VG_VERDICT_INCOMPLETE, "%s", vg_errmsg());
		return 1;
	}
	if (!(e = calloc(l.n ? l.n : 1, sizeof *e))) {
		err = VG_ERR(VG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.n && err >= 0; i++) {
		const struct vg_fs_dirent *de = &l.e[i];
		if (de->err) {
			problem(c, VG_VERDICT_INCOMPLETE, "%s/%s: cannot stat: %s", vg_fs_dir_path(d), de->name,
				vg_strerror(de->err));
			continue;
		}
		memset(&e[n], 0, sizeof e[n]);
		e[n].name = de->name;
		e[n].name_len = de->len;
		err = do_entry(c, d, de->name, &de->st, depth, &e[n]);
		if (err == 0)
			n++;
	}
	if (err >= 0)
		err = vg_repo_put_tree(c->r, e, n, id, &added);
out:
	if (e)
		free_entries(e, n);
	vg_fs_list_release(&l);
	return err < 0 ? err : 0;
}

/* --- source paths --- */

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

/* --- the run --- */

struct top {
	const char *path, *name;
};

static int cmp_top(const void *a, const void *b)
{
	return strcmp(((const struct top *)a)->name, ((const struct top *)b)->name);
}

/* Back up one top-level path as entry e (named by the caller). */
static int do_top(struct bctx *c, const char *path, struct vg_tree_entry *e)
{
	char *parent = strdup(path);
	struct vg_fs_dir *d = NULL;
	struct vg_fs_stat st;
	if (!parent)
		return VG_ERR(VG_ENOMEM, "out of memory");
	char *slash = strrchr(parent, '/');
	const char *base = path + (slash - parent) + 1;
	*slash = 0;
	int err = vg_fs_dir_open(parent[0] ? parent : "/", &d);
	if (!err)
		err = vg_fs_statat(d, base, &st);
	if (!err)
		err = do_entry(c, d, base, &st, 0, e);
	else {
		problem(c, VG_VERDICT_INCOMPLETE, "%s", vg_errmsg());
		err = 1;
	}
	vg_fs_dir_close(d);
	free(parent);
	return err;
}

static int backup_roots(struct bctx *c, char **names, struct vg_id *root)
{
	struct vg_snapshot *s = c->snap;
	struct vg_tree_entry *e = calloc(s->npaths, sizeof *e);
	struct top *t = calloc(s->npaths, sizeof *t);
	size_t n = 0;
	bool added;
	int err = 0;
	if (!e || !t) {
		err = VG_ERR(VG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < s->npaths; i++)
		t[i] = (struct top){s->paths[i], names[i]};
	qsort(t, s->npaths, sizeof *t, cmp_top);
	for (size_t i = 0; i < s->npaths && err >= 0; i++) {
		e[n].name = t[i].name;
		e[n].name_len = strlen(t[i].name);
		if ((err = do_top(c, t[i].path, &e[n])) == 0)
			n++;
	}
	if (err >= 0)
		err = vg_repo_put_tree(c->r, e, n, root, &added);
out:
	if (e)
		free_entries(e, n);
	free(t);
	return err;
}

static int start(struct bctx *c, struct vg_backup_result *res, char ***names)
{
	const struct vg_backup_opts *o = c->o;
	struct vg_snapshot *s = &res->snap;
	struct timespec ts;
	char host[256];
	int err = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (!o->host && gethostname(host, sizeof host) < 0)
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = 0;
	if (!(s->host = strdup(o->host ? o->host : host)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (size_t i = 0; i < o->ntags && !err; i++)
		err = vg_snapshot_add_str(&s->tags, &s->ntags, o->tags[i]);
	for (size_t i = 0; i < o->npaths && !err; i++) {
		char *abs;
		struct vg_fs_stat st;
		if (!(err = vg_backup_abspath(o->paths[i], &abs)) && !(err = vg_fs_lstat(abs, &st)))
			err = vg_snapshot_add_str(&s->paths, &s->npaths, abs);
		free(abs);
	}
	if (err)
		return err;
	if (!s->npaths)
		return VG_ERR(VG_EINVAL, "nothing to back up: give at least one path");
	for (size_t i = 0; i < o->nreasons; i++)
		problem(c, o->verdict, "%s", o->reasons[i]);
	if (o->verdict > s->verdict)
		s->verdict = o->verdict;
	if (!(*names = calloc(s->npaths, sizeof **names)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	if ((err = vg_backup_top_names(s->paths, s->npaths, *names)) < 0)
		return err;
	if (s->npaths > 1 && !(*names)[0][0])
		return VG_ERR(VG_EINVAL, "'/' cannot be combined with other paths");
	c->bufsize = vg_repo_chunker(c->r)->p.max + READ_SIZE;
	if (!(c->buf = malloc(c->bufsize)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	return 0;
}

int vg_backup_run(struct vg_repo *r, const struct vg_backup_opts *o, struct vg_backup_result *res)
{
	struct bctx c = {.r = r, .o = o, .snap = &res->snap};
	char **names = NULL;
	struct vg_fs_dir *d = NULL;
	struct vg_repo_counts now;
	memset(res, 0, sizeof *res);
	vg_buf_init(&c.link, VG_FS_LINK_MAX + 1);
	vg_repo_counts(r, &c.base);
	int err = start(&c, res, &names);
	if (err)
		goto out;
	if (!names[0][0]) { /* the whole file system: "/" is the root tree */
		if (!(err = vg_fs_dir_open("/", &d)) && (err = backup_dir(&c, d, 0, &res->snap.root)) == 1)
			err = VG_ERR(VG_EIO, "cannot read '/'");
	} else {
		err = backup_roots(&c, names, &res->snap.root);
	}
	if (err)
		goto out;
	if ((err = vg_repo_flush(r)) < 0)
		goto out;
	vg_repo_counts(r, &now);
	res->snap.stats.new_bytes = now.new_bytes - c.base.new_bytes;
	res->snap.stats.stored_bytes = now.stored_bytes - c.base.stored_bytes;
	if (!(err = vg_repo_snapshot_add(r, &res->snap, &res->id)))
		err = vg_repo_commit(r);
	res->nproblems = c.nproblems;
out:
	vg_fs_dir_close(d);
	for (size_t i = 0; names && i < res->snap.npaths; i++)
		free(names[i]);
	free(names);
	free(c.buf);
	vg_buf_release(&c.link);
	return err;
}

void vg_backup_result_release(struct vg_backup_result *res) { vg_snapshot_release(&res->snap); }
