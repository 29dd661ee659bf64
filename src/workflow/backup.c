/*
 * backup.c - the backup workflow (see backup.h).
 *
 * Shape of a run: one reader (this thread) walks, reads and chunks; each
 * chunk is read into a buffer of the repository's pool, and
 * vg_repo_put_chunk() hands it to the repository's workers as it is,
 * which hash it, look it up, and compress, encrypt and pack it when it is
 * new; their ids land in the file's entry.  The tree of a directory is stored once
 * all its entries are known, so trees are built bottom-up as the walk
 * returns; the parent snapshot's tree of the same directory is walked
 * alongside (one per level) for incremental reuse.  Memory is bounded by
 * the pool of chunk buffers and one listing (plus one parent tree) per
 * directory level.
 */
#include "workflow/backup.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "os/fs.h"
#include "workflow/backup_int.h"

#define READ_STEP (256u << 10) /* reads after the first of a chunk */
#define MAX_DEPTH 2000
#define PARENT_SEARCH_MAX 200 /* snapshots loaded looking for the parent */

/* A line kept with the snapshot, or counted as dropped past the cap. */
static void keep_reason(struct bctx *c, const char *line)
{
	if (c->snap->nreasons >= VG_SNAP_MAX_REASONS ||
	    vg_snapshot_add_str(&c->snap->reasons, &c->snap->nreasons, line) < 0)
		c->snap->reasons_dropped++;
}

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
	keep_reason(c, msg);
}

/* A fact worth keeping with the snapshot that is not a problem. */
static void note(struct bctx *c, const char *msg)
{
	char line[VG_SNAP_MAX_REASON];
	snprintf(line, sizeof line, VG_BACKUP_NOTE "%.8000s", msg);
	keep_reason(c, line);
}

/* Does the watcher expect the file at dir/name to change while read? */
static bool expected(const struct bctx *c, const char *dir, const char *name)
{
	char path[4096];
	const struct vg_backup_watch *w = c->o->watch;
	if (!w || !w->expected)
		return false;
	snprintf(path, sizeof path, "%s%s%s", dir, name ? "/" : "", name ? name : "");
	return w->expected(w->ctx, path);
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

static bool excluded(const struct bctx *c, const struct vg_fs_dir *d, const char *name)
{
	char path[4096];
	for (size_t i = 0; i < c->o->nexcludes; i++) {
		const char *pat = c->o->excludes[i];
		if (!strchr(pat, '/')) {
			if (fnmatch(pat, name, 0) == 0)
				return true;
			continue;
		}
		snprintf(path, sizeof path, "%s/%s", vg_fs_dir_path(d), name);
		if (fnmatch(pat, path, 0) == 0)
			return true;
	}
	return false;
}

/* Free what an entry owns (chunks, target, xattrs, extents). */
static void clear_entry(struct vg_tree_entry *e)
{
	free((void *)e->chunks);
	free((void *)e->target);
	free((void *)e->xattrs);
	free((void *)e->extents);
	e->chunks = NULL;
	e->target = NULL;
	e->xattrs = NULL;
	e->extents = NULL;
}

static void free_entries(struct vg_tree_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		clear_entry(&e[i]);
	free(e);
}

/* --- file content --- */

/* Free an id array workers may still be writing into (after waiting for
 * them; their error, if any, is the caller's to report already). */
static void drop_ids(struct bctx *c, struct vg_id *ids)
{
	char msg[1024];
	snprintf(msg, sizeof msg, "%s", vg_errmsg());
	int err = vg_repo_wait_ids(c->r);
	if (err) /* keep the message of the failure being handled */
		VG_ERR(err, "%s", msg);
	free(ids);
}

/* Read more of the file into b (holding *have bytes): a chunk cannot end
 * before `min`, so the first read takes that much at once; later ones
 * take READ_STEP, so the bytes read past a boundary (copied into the next
 * buffer) stay few.  *eof on a short read. */
static int read_more(struct bctx *c, struct src *s, void *watched, uint8_t *b, size_t *have, bool *eof)
{
	const struct vg_chunker *ch = vg_repo_chunker(c->r);
	size_t want = *have < ch->p.min ? ch->p.min + READ_STEP : *have + READ_STEP, got;
	size_t cap = vg_repo_buf_cap(c->r);
	if (want > cap)
		want = cap;
	int err = src_read(s, b + *have, want - *have, &got);
	if (err)
		return err;
	if (watched && got)
		c->o->watch->data(c->o->watch->ctx, watched, b + *have, got);
	*eof = got < want - *have;
	*have += got;
	return 0;
}

/* Chunks of one open file, appended to *ids; stored unless verify_only
 * (then only their ids are computed).  `watched`: the watcher's state for
 * this file (opts.watch), or NULL.  *fatal: the failure is the vault's (or
 * memory's), not the source file's.  Each chunk is read into a buffer of
 * the repository's pool, which goes to a worker as it is. */
static int read_chunks(struct bctx *c, struct src *s, bool verify_only, void *watched, struct vg_id **ids,
		       size_t *n, uint64_t *total, bool *fatal)
{
	const struct vg_chunker *ch = vg_repo_chunker(c->r);
	size_t have = 0, scanned = 0, cap = 0;
	int err;
	/* Workers write the ids into the array later (vg_repo_put_chunk), so
	 * it is sized for the whole file up front: no chunk but the last is
	 * shorter than min.  It moves only if the file grew meanwhile. */
	if ((err = vg_grow(ids, &cap, (size_t)(s->size / ch->p.min) + 2, sizeof **ids, "for chunk ids")) < 0)
		return err;
	bool eof = false;
	uint8_t *b = NULL, *next = NULL;
	*total = 0;
	*fatal = true;
	if ((err = vg_repo_buf_get(c->r, &b)) < 0)
		return err;
	for (;;) {
		size_t cut = vg_chunker_scan(ch, b, have, eof, &scanned);
		if (cut == 0 && !eof) {
			*fatal = false;
			if ((err = read_more(c, s, watched, b, &have, &eof)) < 0)
				break;
			*fatal = true;
			continue;
		}
		if (cut == 0)
			break;
		/* the bytes past the boundary start the next chunk */
		if (have > cut || !eof) {
			if ((err = vg_repo_buf_get(c->r, &next)) < 0)
				break;
			memcpy(next, b + cut, have - cut);
		}
		/* workers may still be writing ids into the array: let them
		 * finish before it moves */
		if (*n == cap && !verify_only && (err = vg_repo_wait_ids(c->r)) < 0)
			break;
		if ((err = vg_grow(ids, &cap, *n + 1, sizeof **ids, "for chunk ids")) < 0)
			break;
		struct vg_id *slot = &(*ids)[(*n)++];
		if (verify_only) {
			err = vg_id_compute(vg_repo_idkey(c->r), b, cut, slot);
			vg_repo_buf_put(c->r, b);
		} else {
			err = vg_repo_put_chunk(c->r, b, cut, slot);
			c->snap->stats.chunks++;
		}
		b = next;
		next = NULL;
		if (err)
			break;
		have -= cut;
		scanned = 0;
		*total += cut;
		if (!b)
			break; /* the file ended with this chunk */
	}
	vg_repo_buf_put(c->r, b);
	vg_repo_buf_put(c->r, next);
	if (!err)
		*fatal = false;
	return err;
}

static bool changed(const struct vg_fs_stat *a, const struct vg_fs_stat *b)
{
	return a->size != b->size || a->mtime_ns != b->mtime_ns || a->ctime_ns != b->ctime_ns;
}

/* Unchanged since the parent: reused without reading. */
static bool same_file(const struct vg_fs_stat *a, const struct vg_tree_entry *pe)
{
	return pe && pe->st.type == VG_FT_FILE && !changed(a, &pe->st) && a->ino == pe->st.ino;
}

/* Same size, mtime and inode: its content should be the parent's.  The
 * ctime may differ (a chmod, or a write whose mtime was put back); a
 * re-read that finds other content with all of these equal is reported. */
static bool same_content_expected(const struct vg_fs_stat *a, const struct vg_tree_entry *pe)
{
	return pe && pe->st.type == VG_FT_FILE && a->size == pe->st.size && a->mtime_ns == pe->st.mtime_ns &&
	       a->ino == pe->st.ino;
}

static uint64_t data_bytes(const uint64_t *ext, size_t n, uint64_t size)
{
	uint64_t t = 0;
	if (!ext)
		return size;
	for (size_t i = 0; i < n; i++)
		t += ext[2 * i + 1];
	return t;
}

static void count_file(struct bctx *c, const char *path, uint64_t bytes)
{
	c->prog.files++;
	c->prog.bytes += bytes;
	c->snap->stats.files++;
	c->snap->stats.bytes += bytes;
	progress(c, path);
}

/* Take the parent's content for e (not read again). */
static int reuse(struct vg_tree_entry *e, const struct vg_tree_entry *pe)
{
	uint64_t *ext = NULL;
	size_t next = 0;
	struct vg_id *ids = malloc((pe->nchunks ? pe->nchunks : 1) * sizeof *ids);
	uint8_t *xa = pe->xattrs_len ? malloc(pe->xattrs_len) : NULL;
	int err = vg_tree_extents(pe, &ext, &next);
	if (!err && (!ids || (pe->xattrs_len && !xa)))
		err = VG_ERR(VG_ENOMEM, "out of memory");
	if (err) {
		free(ids);
		free(xa);
		free(ext);
		return err;
	}
	if (pe->nchunks)
		memcpy(ids, pe->chunks, pe->nchunks * sizeof *ids);
	if (xa)
		memcpy(xa, pe->xattrs, pe->xattrs_len);
	e->chunks = ids;
	e->nchunks = pe->nchunks;
	e->xattrs = xa;
	e->xattrs_len = pe->xattrs_len;
	e->extents = ext;
	e->nextents = next;
	return 0;
}

static bool ids_equal(const struct vg_id *a, size_t na, const struct vg_id *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!vg_id_eq(&a[i], &b[i]))
			return false;
	return true;
}

/* In the window of unchanged files re-read this time? */
static bool selected(const struct bctx *c, const char *dir, const char *name)
{
	if (c->o->verify_pct <= 0)
		return false;
	uint64_t h = 1469598103934665603ull;
	for (const char *p = dir; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ '/') * 1099511628211ull;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return (h % 100 + 100 - c->snap->verify_cursor) % 100 < (uint64_t)c->o->verify_pct;
}

/* Re-read an unchanged file: 0 when its content is the parent's (reused),
 * 1 when it changed while its metadata did not (the parent's content is
 * kept and the rot reported), 2 when it changed for real (read it again),
 * negative: fatal. */
static int verify_file(struct bctx *c, struct vg_fs_file *f, const struct vg_tree_entry *pe,
		       const struct vg_fs_stat *st, struct vg_tree_entry *e)
{
	struct src s = {.f = f};
	struct vg_id *ids = NULL;
	size_t n = 0;
	uint64_t total;
	bool fatal = false;
	struct vg_fs_stat after;
	int err = src_open(&s, st);
	if (!err)
		err = read_chunks(c, &s, true, NULL, &ids, &n, &total, &fatal);
	src_close(&s);
	if (err) {
		free(ids);
		return fatal ? err : 2;
	}
	c->verified++;
	bool same = ids_equal(ids, n, pe->chunks, pe->nchunks);
	free(ids);
	if (vg_fs_file_stat(f, &after) < 0 || changed(st, &after))
		return 2;
	if ((err = reuse(e, pe)) < 0)
		return err;
	if (same)
		return 0;
	c->rotten++;
	if (c->res->nrotten_paths < VG_BACKUP_ROT_LIST) { /* for the alert; the reason below says it all */
		struct vg_backup_result *res = c->res;
		if (!res->rotten_paths && !(res->rotten_paths = calloc(VG_BACKUP_ROT_LIST, sizeof *res->rotten_paths)))
			return VG_ERR(VG_ENOMEM, "out of memory");
		if (!(res->rotten_paths[res->nrotten_paths] = strdup(vg_fs_file_path(f))))
			return VG_ERR(VG_ENOMEM, "out of memory");
		res->nrotten_paths++;
	}
	problem(c, VG_VERDICT_SUSPECT,
		"%s: content changed but size and mtime did not%s: probable silent corruption on the source; "
		"this snapshot keeps the last good version (from snapshot %s)",
		vg_fs_file_path(f), st->ctime_ns == pe->st.ctime_ns ? " (nor ctime)" : " (ctime did)", c->parent_hex);
	return 1;
}

/* Read, chunk and store a file's content into e (st: its stat).  1: left
 * out (problem recorded). */
static int store_file(struct bctx *c, struct vg_fs_file *f, struct vg_tree_entry *e)
{
	struct src s = {.f = f};
	struct vg_id *ids = NULL;
	size_t n = 0;
	uint64_t total = 0;
	struct vg_fs_stat after;
	bool fatal = false;
	void *watched = NULL;
	int err = src_open(&s, &e->st);
	if (!err && c->o->watch && !s.ext) /* watchers see whole files from offset 0 */
		watched = c->o->watch->begin(c->o->watch->ctx, vg_fs_file_path(f), e->st.size);
	if (!err)
		err = read_chunks(c, &s, false, watched, &ids, &n, &total, &fatal);
	if (watched) {
		char why[VG_SNAP_MAX_REASON];
		why[0] = 0;
		int v = c->o->watch->end(c->o->watch->ctx, watched, err != 0, why, sizeof why);
		if (v > VG_VERDICT_OK)
			problem(c, v, "%s", why);
	}
	if (err) {
		src_close(&s);
		drop_ids(c, ids);
		if (fatal)
			return err;
		problem(c, VG_VERDICT_INCOMPLETE, "%s", vg_errmsg());
		return 1;
	}
	if (vg_fs_file_stat(f, &after) == 0 &&
	    (changed(&e->st, &after) || total != data_bytes(s.ext, s.n, e->st.size)) &&
	    !expected(c, vg_fs_file_path(f), NULL))
		problem(c, VG_VERDICT_SUSPECT, "%s: changed while it was being read", vg_fs_file_path(f));
	if (!s.ext)
		e->st.size = total;
	e->extents = s.ext;
	e->nextents = s.n;
	s.ext = NULL;
	src_close(&s);
	e->chunks = ids;
	e->nchunks = n;
	return 0;
}

/* Keep the xattrs just read into c->xat with e. */
static int keep_xattrs(struct bctx *c, struct vg_tree_entry *e)
{
	if (!c->xat.len)
		return 0;
	if (!(e->xattrs = malloc(c->xat.len)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	memcpy((void *)e->xattrs, c->xat.p, c->xat.len);
	e->xattrs_len = c->xat.len;
	return 0;
}

/* A regular file.  Negative: fatal for the run; 1: left out. */
static int do_file(struct bctx *c, struct vg_fs_dir *d, const char *name, struct vg_tree_entry *e,
		   const struct vg_tree_entry *pe)
{
	struct vg_fs_file *f = NULL;
	bool unchanged = !c->o->no_parent && same_file(&e->st, pe);
	bool check = !c->o->no_parent && same_content_expected(&e->st, pe) && selected(c, vg_fs_dir_path(d), name);
	if (unchanged && !check) {
		int err = reuse(e, pe);
		if (!err) {
			c->reused++;
			count_file(c, NULL, e->st.size);
		}
		return err;
	}
	int err = vg_fs_file_openat(d, name, &f);
	if (err == VG_ENOENT && expected(c, vg_fs_dir_path(d), name))
		return 1;
	if (err == VG_ENOENT) {
		problem(c, VG_VERDICT_OK, "%s/%s: vanished before it could be read (warning)", vg_fs_dir_path(d), name);
		return 1;
	}
	if (!err)
		vg_fs_file_opened_stat(f, &e->st);
	if (!err && (err = vg_fs_file_xattrs(f, &c->xat)) == 0)
		err = keep_xattrs(c, e);
	if (err) {
		vg_fs_file_close(f);
		if (err == VG_ENOMEM)
			return err;
		problem(c, VG_VERDICT_INCOMPLETE, "%s", vg_errmsg());
		return 1;
	}
	/* verify_file: 0 reused, 1 rot (last good version kept), 2 read it */
	bool verify = check && same_content_expected(&e->st, pe);
	int v = verify ? verify_file(c, f, pe, &e->st, e) : 2;
	if (v == 2) {
		if (verify) { /* it changed after all: read it again, with its own xattrs */
			clear_entry(e);
			if (!vg_fs_file_xattrs(f, &c->xat) && keep_xattrs(c, e) == VG_ENOMEM) {
				vg_fs_file_close(f);
				return VG_ENOMEM;
			}
		}
		v = store_file(c, f, e); /* 1 now: left out */
	} else if (v == 1) {
		v = 0;
	}
	if (v == 0)
		count_file(c, vg_fs_file_path(f), e->st.size);
	vg_fs_file_close(f);
	return v;
}

/* --- directories --- */

static int backup_dir(struct bctx *c, struct vg_fs_dir *d, int depth, struct vg_id *id, const struct vg_id *prev);

static int do_dir(struct bctx *c, struct vg_fs_dir *d, const char *name, int depth, struct vg_tree_entry *e,
		  const struct vg_tree_entry *pe)
{
	struct vg_fs_dir *sub = NULL;
	char path[4096];
	bool added;
	snprintf(path, sizeof path, "%s/%s", vg_fs_dir_path(d), name);
	if (depth >= MAX_DEPTH) {
		problem(c, VG_VERDICT_INCOMPLETE, "%s: directories nested deeper than %d levels are left out", path,
			MAX_DEPTH);
		return 1;
	}
	if (vg_fs_dir_openat(d, name, &sub) < 0) {
		problem(c, VG_VERDICT_INCOMPLETE, "%s", vg_errmsg());
		return 1;
	}
	int err = vg_fs_dir_xattrs(sub, &c->xat);
	if (err < 0)
		problem(c, VG_VERDICT_INCOMPLETE, "%s", vg_errmsg());
	else if ((err = keep_xattrs(c, e)) < 0) {
		vg_fs_dir_close(sub);
		return err;
	}
	if (c->o->one_fs && e->st.dev != c->top_dev) /* a mount point: kept, empty */
		err = vg_repo_put_tree(c->r, NULL, 0, &e->subtree, &added);
	else
		err = backup_dir(c, sub, depth + 1, &e->subtree,
				 pe && pe->st.type == VG_FT_DIR && !c->o->no_parent ? &pe->subtree : NULL);
	vg_fs_dir_close(sub);
	if (err == 0) {
		c->prog.dirs++;
		c->snap->stats.dirs++;
	}
	return err;
}

/* One directory entry.  Negative: fatal; 1: left out. */
static int do_entry(struct bctx *c, struct vg_fs_dir *d, const char *name, const struct vg_fs_stat *st,
		    int depth, struct vg_tree_entry *e, const struct vg_tree_entry *pe)
{
	char path[4096];
	int err = 0;
	e->st = *st;
	e->user = vg_fs_user_name(st->uid);
	e->group = vg_fs_group_name(st->gid);
	if (st->type != VG_FT_DIR && st->nlink > 1 && (err = link_group(c, st, &e->link_group)) < 0)
		return err;
	switch (st->type) {
	case VG_FT_FILE:
		return do_file(c, d, name, e, pe);
	case VG_FT_DIR:
		return do_dir(c, d, name, depth, e, pe);
	case VG_FT_SYMLINK:
		if ((err = vg_fs_readlinkat(d, name, &c->link)) < 0 || c->link.len == 0) {
			problem(c, err == VG_ENOENT ? VG_VERDICT_OK : VG_VERDICT_INCOMPLETE, "%s",
				err ? vg_errmsg() : "empty symlink target");
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
	/* a symlink or special file: its xattrs (security labels) by name */
	if ((err = vg_fs_xattrs_at(d, name, &c->xat)) < 0)
		problem(c, err == VG_ENOENT ? VG_VERDICT_OK : VG_VERDICT_INCOMPLETE, "%s", vg_errmsg());
	else if ((err = keep_xattrs(c, e)) < 0)
		return err;
	c->snap->stats.others++;
	return 0;
}

/* Chunk and store content held in memory into e (as read_chunks does for
 * a file). */
static int store_mem(struct bctx *c, const uint8_t *data, size_t len, struct vg_tree_entry *e)
{
	const struct vg_chunker *ch = vg_repo_chunker(c->r);
	size_t cap = vg_repo_buf_cap(c->r), off = 0, n = 0, ncap = 0;
	struct vg_id *ids = NULL;
	/* sized up front: workers write into it later */
	int err = vg_grow(&ids, &ncap, len / ch->p.min + 2, sizeof *ids, "for chunk ids");
	while (err >= 0 && off < len) {
		/* cut where it is, then copy only that chunk into a pool buffer */
		uint8_t *b;
		size_t scanned = 0, cut = vg_chunker_scan(ch, data + off, len - off, true, &scanned);
		if (!cut || cut > cap || n == ncap) {
			err = VG_ERR(VG_EINVAL, "chunking %zu bytes in memory went wrong", len);
			break;
		}
		if ((err = vg_repo_buf_get(c->r, &b)) < 0)
			break;
		memcpy(b, data + off, cut);
		err = vg_repo_put_chunk(c->r, b, cut, &ids[n++]);
		c->snap->stats.chunks++;
		off += cut;
	}
	if (err < 0) {
		drop_ids(c, ids);
		return err;
	}
	e->chunks = ids;
	e->nchunks = n;
	e->st.size = len;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct vg_tree_entry *x = a, *y = b;
	return vg_name_cmp(x->name, x->name_len, y->name, y->name_len);
}

/* The watcher's files for directory d, added to (or replacing in) e[0..*n),
 * which is grown as needed and left sorted. */
static int add_extras(struct bctx *c, struct vg_fs_dir *d, struct vg_tree_entry **e, size_t *n)
{
	const struct vg_backup_watch *w = c->o->watch;
	const struct vg_backup_extra *x = NULL;
	size_t nx = 0;
	char why[VG_SNAP_MAX_REASON] = "";
	if (!w || !w->extra)
		return 0;
	int v = w->extra(w->ctx, vg_fs_dir_path(d), &x, &nx, why, sizeof why);
	if (v < 0)
		return v;
	if (why[0]) {
		if (v > VG_VERDICT_OK)
			problem(c, v, "%s", why);
		else
			note(c, why);
	}
	if (!nx)
		return 0;
	struct vg_tree_entry *ne = realloc(*e, (*n + nx) * sizeof *ne);
	if (!ne)
		return VG_ERR(VG_ENOMEM, "out of memory");
	*e = ne;
	for (size_t i = 0; i < nx; i++) {
		size_t len = strlen(x[i].name), k = 0;
		while (k < *n && vg_name_cmp(ne[k].name, ne[k].name_len, x[i].name, len))
			k++;
		if (k < *n)
			clear_entry(&ne[k]);
		else
			(*n)++;
		ne[k] = (struct vg_tree_entry){.name = x[i].name, .name_len = len};
		ne[k].st = (struct vg_fs_stat){.type = VG_FT_FILE, .mode = x[i].mode, .uid = x[i].uid, .gid = x[i].gid,
					       .nlink = 1, .atime_ns = x[i].mtime_ns, .mtime_ns = x[i].mtime_ns,
					       .ctime_ns = x[i].mtime_ns};
		ne[k].user = vg_fs_user_name(x[i].uid);
		ne[k].group = vg_fs_group_name(x[i].gid);
		int err = store_mem(c, x[i].data, x[i].len, &ne[k]);
		if (err < 0)
			return err;
		count_file(c, NULL, x[i].len);
	}
	qsort(ne, *n, sizeof *ne, cmp_entry);
	return 0;
}

static int backup_dir(struct bctx *c, struct vg_fs_dir *d, int depth, struct vg_id *id, const struct vg_id *prev)
{
	struct vg_fs_list l;
	struct vg_tree pt = {0};
	struct vg_tree_entry *e = NULL;
	size_t n = 0;
	bool added;
	int err = vg_fs_dir_list(d, &l);
	if (err) {
		vg_fs_list_release(&l);
		problem(c, VG_VERDICT_INCOMPLETE, "%s", vg_errmsg());
		return 1;
	}
	if (prev && vg_repo_get_tree(c->r, prev, &pt) < 0) /* a parent we cannot read: read everything */
		memset(&pt, 0, sizeof pt);
	if (!(e = calloc(l.n ? l.n : 1, sizeof *e))) {
		err = VG_ERR(VG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.n && err >= 0; i++) {
		const struct vg_fs_dirent *de = &l.e[i];
		if (excluded(c, d, de->name) ||
		    (c->o->watch && c->o->watch->skip && c->o->watch->skip(c->o->watch->ctx, vg_fs_dir_path(d), de->name)))
			continue;
		if (de->err) {
			problem(c, de->err == VG_ENOENT ? VG_VERDICT_OK : VG_VERDICT_INCOMPLETE, "%s/%s: cannot stat: %s",
				vg_fs_dir_path(d), de->name, vg_strerror(de->err));
			continue;
		}
		memset(&e[n], 0, sizeof e[n]);
		e[n].name = de->name;
		e[n].name_len = de->len;
		err = do_entry(c, d, de->name, &de->st, depth, &e[n], vg_tree_find(&pt, de->name, de->len));
		if (err == 0)
			n++;
		else /* left out: it may hold what it took before giving up */
			clear_entry(&e[n]);
	}
	if (err >= 0)
		err = add_extras(c, d, &e, &n);
	if (err >= 0)
		err = vg_repo_put_tree(c->r, e, n, id, &added);
out:
	if (e && err < 0)
		drop_ids(c, NULL); /* no worker may write into them once freed */
	if (e)
		free_entries(e, n);
	vg_tree_release(&pt);
	vg_fs_list_release(&l);
	return err < 0 ? err : 0;
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
static int do_top(struct bctx *c, const char *path, struct vg_tree_entry *e, const struct vg_tree_entry *pe)
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
	if (!err) {
		c->top_dev = st.dev;
		err = do_entry(c, d, base, &st, 0, e, pe);
	} else {
		problem(c, VG_VERDICT_INCOMPLETE, "%s", vg_errmsg());
		err = 1;
	}
	vg_fs_dir_close(d);
	free(parent);
	return err;
}

static int backup_roots(struct bctx *c, char **names, struct vg_id *root, const struct vg_id *prev)
{
	struct vg_snapshot *s = c->snap;
	struct vg_tree_entry *e = calloc(s->npaths, sizeof *e);
	struct top *t = calloc(s->npaths, sizeof *t);
	struct vg_tree pt = {0};
	size_t n = 0;
	bool added;
	int err = 0;
	if (!e || !t) {
		err = VG_ERR(VG_ENOMEM, "out of memory");
		goto out;
	}
	if (prev && vg_repo_get_tree(c->r, prev, &pt) < 0)
		memset(&pt, 0, sizeof pt);
	for (size_t i = 0; i < s->npaths; i++)
		t[i] = (struct top){s->paths[i], names[i]};
	qsort(t, s->npaths, sizeof *t, cmp_top);
	for (size_t i = 0; i < s->npaths && err >= 0; i++) {
		e[n].name = t[i].name;
		e[n].name_len = strlen(t[i].name);
		if ((err = do_top(c, t[i].path, &e[n], vg_tree_find(&pt, e[n].name, e[n].name_len))) == 0)
			n++;
	}
	if (err >= 0)
		err = vg_repo_put_tree(c->r, e, n, root, &added);
out:
	if (e)
		free_entries(e, n);
	free(t);
	vg_tree_release(&pt);
	return err;
}

static bool same_sources(const struct vg_snapshot *a, const struct vg_snapshot *b)
{
	if (strcmp(a->host, b->host) || a->npaths != b->npaths)
		return false;
	for (size_t i = 0; i < a->npaths; i++) {
		size_t j = 0;
		while (j < b->npaths && strcmp(a->paths[i], b->paths[j]))
			j++;
		if (j == b->npaths)
			return false;
	}
	return true;
}

static int cmp_ref_newest(const void *a, const void *b)
{
	const struct vg_snapref *x = *(const struct vg_snapref *const *)a, *y = *(const struct vg_snapref *const *)b;
	return (x->time_ns < y->time_ns) - (x->time_ns > y->time_ns);
}

/* The newest snapshot of the same host and paths: its root tree in *root
 * and its verify cursor.  0 without one. */
static int find_parent(struct bctx *c, struct vg_backup_result *res, struct vg_id *root, bool *found)
{
	size_t n = vg_repo_snapshot_count(c->r);
	const struct vg_snapref **refs = calloc(n ? n : 1, sizeof *refs);
	*found = false;
	if (!refs)
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		refs[i] = vg_repo_snapshot_ref(c->r, i);
	qsort(refs, n, sizeof *refs, cmp_ref_newest);
	for (size_t i = 0; i < n && i < PARENT_SEARCH_MAX && !*found; i++) {
		struct vg_snapshot p;
		if (vg_repo_snapshot_load(c->r, &refs[i]->id, &p) < 0)
			continue; /* unreadable: not a parent */
		if (same_sources(c->snap, &p)) {
			*found = true;
			*root = p.root;
			res->has_parent = c->snap->has_parent = true;
			res->parent = c->snap->parent = refs[i]->id;
			c->snap->verify_cursor = p.has_cursor ? (uint8_t)((p.verify_cursor + c->o->verify_pct) % 100) : 0;
		}
		vg_snapshot_release(&p);
	}
	free(refs);
	if (*found) {
		char hex[2 * VG_ID_LEN + 1];
		vg_id_hex(&res->parent, hex);
		snprintf(c->parent_hex, sizeof c->parent_hex, "%.16s", hex);
	}
	return 0;
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
	if (o->verify_pct < 0 || o->verify_pct > 100 || o->verdict < 0 || o->verdict > VG_VERDICT_INCOMPLETE)
		return VG_ERR(VG_EINVAL, "verify share %d%% or verdict %d out of range", o->verify_pct, o->verdict);
	if (!(s->host = strdup(o->host ? o->host : host)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (size_t i = 0; i < o->ntags && !err; i++)
		err = vg_snapshot_add_str(&s->tags, &s->ntags, o->tags[i]);
	for (size_t i = 0; i < o->nreasons && !err; i++)
		problem(c, o->verdict, "%s", o->reasons[i]);
	if (o->verdict > s->verdict)
		s->verdict = o->verdict;
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
	if (!(*names = calloc(s->npaths, sizeof **names)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	if ((err = vg_backup_top_names(s->paths, s->npaths, *names)) < 0)
		return err;
	if (s->npaths > 1 && !(*names)[0][0])
		return VG_ERR(VG_EINVAL, "'/' cannot be combined with other paths");
	s->has_cursor = o->verify_pct > 0;
	return 0;
}

static int walk(struct bctx *c, struct vg_backup_result *res, char **names)
{
	struct vg_fs_dir *d = NULL;
	struct vg_id prev;
	bool found = false;
	int err = c->o->no_parent ? 0 : find_parent(c, res, &prev, &found);
	if (err)
		return err;
	if (!names[0][0]) { /* the whole file system: "/" is the root tree */
		struct vg_fs_stat st;
		if (!(err = vg_fs_lstat("/", &st)))
			c->top_dev = st.dev;
		if (!err && !(err = vg_fs_dir_open("/", &d)) &&
		    (err = backup_dir(c, d, 0, &res->snap.root, found ? &prev : NULL)) == 1)
			err = VG_ERR(VG_EIO, "cannot read '/'");
		vg_fs_dir_close(d);
		return err;
	}
	return backup_roots(c, names, &res->snap.root, found ? &prev : NULL);
}

int vg_backup_run(struct vg_repo *r, const struct vg_backup_opts *o, struct vg_backup_result *res)
{
	struct bctx c = {.r = r, .o = o, .snap = &res->snap, .res = res};
	char **names = NULL;
	struct vg_repo_counts now;
	memset(res, 0, sizeof *res);
	vg_buf_init(&c.link, VG_FS_LINK_MAX + 1);
	vg_buf_init(&c.xat, VG_FS_XATTR_LIST_MAX);
	vg_repo_counts(r, &c.base);
	int err = start(&c, res, &names);
	if (!err)
		err = walk(&c, res, names);
	if (err || (err = vg_repo_flush(r)) < 0)
		goto out;
	vg_repo_counts(r, &now);
	res->snap.stats.new_chunks = now.new_chunks - c.base.new_chunks;
	res->snap.stats.new_bytes = now.new_bytes - c.base.new_bytes;
	res->snap.stats.stored_bytes = now.stored_bytes - c.base.stored_bytes;
	if (!(err = vg_repo_snapshot_add(r, &res->snap, &res->id)))
		err = vg_repo_commit(r);
	res->nproblems = c.nproblems;
	res->reused = c.reused;
	res->verified = c.verified;
	res->rotten = c.rotten;
out:
	for (size_t i = 0; names && i < res->snap.npaths; i++)
		free(names[i]);
	free(names);
	links_release(&c);
	vg_buf_release(&c.link);
	vg_buf_release(&c.xat);
	return err;
}

void vg_backup_result_release(struct vg_backup_result *res)
{
	vg_snapshot_release(&res->snap);
	for (size_t i = 0; i < res->nrotten_paths; i++)
		free(res->rotten_paths[i]);
	free(res->rotten_paths);
	res->rotten_paths = NULL;
	res->nrotten_paths = 0;
}
