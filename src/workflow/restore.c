/*
 * restore.c - the restore workflow (see restore.h).
 *
 * Order matters for metadata: a file gets its mode and times after its
 * content is written; a directory after all its children (writing a child
 * would bump the directory's mtime, and a read-only directory would refuse
 * the children).
 */
#include "workflow/restore.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "os/fs.h"
#include "workflow/browse.h"
#include "workflow/fetch.h"

#define MAX_DEPTH 4096

struct hardlink {
	uint64_t group;
	char *rel; /* below the target */
};

struct rctx {
	struct vg_repo *r;
	const struct vg_restore_opts *o;
	struct vg_restore_result *res;
	bool owner;
	struct vg_buf chunk;
	struct vg_fetcher *fetch; /* NULL: chunks are read on this thread */
	struct vg_restore_progress prog;
	struct vg_fs_dir *root; /* the target */
	struct hardlink *hl;    /* first restored name of each link set, by group */
	size_t nhl, hlcap;
};

static void rerr(struct rctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rerr(struct rctx *c, const char *fmt, ...)
{
	struct vg_restore_result *res = c->res;
	char msg[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char **ne = res->nerrors < VG_RESTORE_MAX_ERRORS ? realloc(res->errors, (res->nerrors + 1) * sizeof *ne) : NULL;
	if (!ne || !(ne[res->nerrors] = strdup(msg))) {
		if (ne)
			res->errors = ne;
		res->errors_dropped++;
		return;
	}
	res->errors = ne;
	res->nerrors++;
}

static void sub_path(char *out, size_t len, const char *dir, const char *name)
{
	snprintf(out, len, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] != '/' ? "/" : "", name);
}

static int cmp_group(const void *a, const void *b)
{
	uint64_t x = ((const struct hardlink *)a)->group, y = ((const struct hardlink *)b)->group;
	return (x > y) - (x < y);
}

/* Link sets are numbered in walk order, so groups arrive nearly sorted:
 * keep the list sorted and search it. */
static const struct hardlink *link_find(const struct rctx *c, uint64_t group)
{
	struct hardlink key = {.group = group};
	return c->nhl ? bsearch(&key, c->hl, c->nhl, sizeof *c->hl, cmp_group) : NULL;
}

static void link_remember(struct rctx *c, uint64_t group, const char *path)
{
	const char *t = vg_fs_dir_path(c->root);
	size_t tl = strlen(t);
	if (link_find(c, group) || strncmp(path, t, tl) || path[tl] != '/')
		return;
	if (vg_grow(&c->hl, &c->hlcap, c->nhl + 1, sizeof *c->hl, "tracking hardlinks") < 0)
		return; /* later names get their own copy */
	char *rel = strdup(path + tl + 1);
	if (!rel)
		return;
	size_t i = c->nhl;
	while (i > 0 && c->hl[i - 1].group > group) {
		c->hl[i] = c->hl[i - 1];
		i--;
	}
	c->hl[i] = (struct hardlink){group, rel};
	c->nhl++;
}

/* Restore e as a link to its set's first name; 0 when done. */
static int link_existing(struct rctx *c, struct vg_fs_dir *d, const struct vg_tree_entry *e, const char *path)
{
	const struct hardlink *h = link_find(c, e->link_group);
	if (!h || vg_fs_link_beneath(c->root, h->rel, d, e->name) < 0)
		return -1;
	c->res->files++;
	c->res->hardlinks++;
	c->prog.files++;
	(void)path;
	return 0;
}

/* The owner to give an entry: the recorded name's id here when it has
 * one, else the recorded number. */
static struct vg_fs_stat owner_of(const struct rctx *c, const struct vg_tree_entry *e)
{
	struct vg_fs_stat st = e->st;
	uint32_t id;
	if (!c->owner) /* owners are only set as root */
		return st;
	if (e->user && vg_fs_user_id(e->user, &id))
		st.uid = id;
	if (e->group && vg_fs_group_id(e->group, &id))
		st.gid = id;
	return st;
}

/* Writes the chunk stream into the file's data extents (or straight). */
struct sink {
	struct vg_fs_file *f;
	uint64_t *ext;
	size_t n, next;
	uint64_t left;
};

static int sink_write(struct sink *k, const uint8_t *p, size_t len)
{
	if (!k->ext)
		return vg_fs_file_write(k->f, p, len);
	while (len) {
		if (!k->left) {
			if (k->next == k->n)
				return VG_ERR(VG_ECORRUPT, "content is longer than the file's data extents");
			int err = vg_fs_file_seek(k->f, k->ext[2 * k->next]);
			if (err)
				return err;
			k->left = k->ext[2 * k->next + 1];
			k->next++;
		}
		size_t w = len < k->left ? len : (size_t)k->left;
		int err = vg_fs_file_write(k->f, p, w);
		if (err)
			return err;
		p += w;
		len -= w;
		k->left -= w;
	}
	return 0;
}

/* Read the restored file back and compare each chunk with its id. */
static int verify_back(struct rctx *c, struct vg_fs_dir *d, const struct vg_tree_entry *e,
		       const uint32_t *lens, const uint64_t *ext, size_t next)
{
	struct vg_fs_file *f = NULL;
	struct sink k = {.ext = (uint64_t *)ext, .n = next};
	int err = vg_fs_file_openat(d, e->name, &f);
	for (size_t i = 0; i < e->nchunks && !err; i++) {
		struct vg_id id;
		size_t got = 0;
		if ((err = vg_buf_reserve(&c->chunk, lens[i])) < 0)
			break;
		uint8_t *p = c->chunk.p;
		for (size_t at = 0; at < lens[i] && !err;) { /* follow the extents as the writer did */
			if (k.ext && !k.left) {
				if (k.next == k.n || (err = vg_fs_file_seek(f, ext[2 * k.next])) < 0)
					break;
				k.left = ext[2 * k.next + 1];
				k.next++;
			}
			size_t want = lens[i] - at;
			if (k.ext && want > k.left)
				want = (size_t)k.left;
			if ((err = vg_fs_file_read(f, p + at, want, &got)) < 0)
				break;
			if (got < want)
				err = VG_ERR(VG_ECORRUPT, "the restored file is shorter than the snapshot's");
			at += got;
			k.left -= k.ext ? got : 0;
		}
		if (!err && !(err = vg_id_compute(vg_repo_idkey(c->r), p, lens[i], &id)) && !vg_id_eq(&id, &e->chunks[i]))
			err = VG_ERR(VG_ECORRUPT, "the restored bytes differ from the vault's at chunk %zu", i);
	}
	vg_fs_file_close(f);
	return err;
}

/* Write one file's content; a failure removes the partial file. */
static void restore_file(struct rctx *c, struct vg_fs_dir *d, const struct vg_tree_entry *e)
{
	struct vg_fs_file *f = NULL;
	struct sink k = {0};
	uint32_t *lens = NULL;
	char path[4096];
	uint64_t total = 0;
	sub_path(path, sizeof path, vg_fs_dir_path(d), e->name);
	if (e->link_group && link_existing(c, d, e, path) == 0)
		return;
	int err = vg_fs_createat(d, e->name, &f);
	if (err) {
		rerr(c, "%s", vg_errmsg());
		return;
	}
	k.f = f;
	if (!(err = vg_tree_extents(e, &k.ext, &k.n)) && c->o->verify &&
	    !(lens = malloc((e->nchunks ? e->nchunks : 1) * sizeof *lens)))
		err = VG_ERR(VG_ENOMEM, "out of memory");
	/* a file of several chunks is read ahead by the fetcher's threads */
	bool ahead = c->fetch && e->nchunks > 1 && !err;
	if (ahead)
		vg_fetcher_begin(c->fetch, e->chunks, e->nchunks);
	for (size_t i = 0; i < e->nchunks && !err; i++) {
		const uint8_t *p = NULL;
		size_t len = 0;
		if (ahead)
			err = vg_fetcher_next(c->fetch, i, &p, &len);
		else if (!(err = vg_repo_get(c->r, VG_OT_CHUNK, &e->chunks[i], &c->chunk)))
			p = c->chunk.p, len = c->chunk.len;
		if (err)
			break;
		err = sink_write(&k, p, len);
		total += len;
		if (lens)
			lens[i] = (uint32_t)len;
	}
	if (ahead)
		vg_fetcher_end(c->fetch);
	uint64_t want = e->st.size;
	if (k.ext) {
		want = 0;
		for (size_t i = 0; i < k.n; i++)
			want += k.ext[2 * i + 1];
	}
	if (!err && total != want)
		err = VG_ERR(VG_ECORRUPT, "content is %llu bytes, the snapshot says %llu", (unsigned long long)total,
			     (unsigned long long)want);
	if (!err && k.ext)
		err = vg_fs_file_truncate(f, e->st.size);
	if (!err && e->xattrs_len)
		err = vg_fs_file_set_xattrs(f, e->xattrs, e->xattrs_len);
	struct vg_fs_stat st = owner_of(c, e);
	if (!err)
		err = vg_fs_file_set_meta(f, &st, c->owner);
	int cerr = vg_fs_file_close(f);
	if (!err)
		err = cerr;
	if (!err && lens && !(err = verify_back(c, d, e, lens, k.ext, k.n)))
		c->res->verified++;
	free(lens);
	free(k.ext);
	if (err) {
		rerr(c, "%s: not restored: %s", path, vg_errmsg());
		vg_fs_unlinkat(d, e->name);
		return;
	}
	if (e->link_group)
		link_remember(c, e->link_group, path);
	c->res->files++;
	c->res->bytes += total;
	c->prog.files++;
	c->prog.bytes += total;
	if (c->o->progress) {
		c->prog.current = path;
		c->o->progress(c->o->ctx, &c->prog);
	}
}

static void restore_tree(struct rctx *c, struct vg_fs_dir *d, const struct vg_id *id, int depth);

static void restore_entry(struct rctx *c, struct vg_fs_dir *d, const struct vg_tree_entry *e, int depth)
{
	struct vg_fs_dir *sub = NULL;
	struct vg_fs_stat st;
	char path[4096];
	sub_path(path, sizeof path, vg_fs_dir_path(d), e->name);
	switch (e->st.type) {
	case VG_FT_FILE:
		restore_file(c, d, e);
		return;
	case VG_FT_DIR:
		if (depth >= MAX_DEPTH) {
			rerr(c, "%s: nested deeper than %d directories; not restored", path, MAX_DEPTH);
			return;
		}
		if (vg_fs_mkdirat(d, e->name, &sub) < 0) {
			rerr(c, "%s", vg_errmsg());
			return;
		}
		restore_tree(c, sub, &e->subtree, depth + 1);
		/* xattrs after the children: a default ACL must not leak into them */
		st = owner_of(c, e);
		if ((e->xattrs_len && vg_fs_dir_set_xattrs(sub, e->xattrs, e->xattrs_len) < 0) ||
		    vg_fs_dir_set_meta(sub, &st, c->owner) < 0)
			rerr(c, "%s", vg_errmsg());
		vg_fs_dir_close(sub);
		c->res->dirs++;
		c->prog.dirs++;
		return;
	case VG_FT_SYMLINK:
		st = owner_of(c, e);
		if (vg_fs_symlinkat(d, e->name, e->target) < 0 ||
		    (e->xattrs_len && vg_fs_set_xattrs_at(d, e->name, e->xattrs, e->xattrs_len) < 0) ||
		    vg_fs_set_meta_at(d, e->name, &st, c->owner) < 0)
			rerr(c, "%s", vg_errmsg());
		else
			c->res->links++;
		return;
	case VG_FT_FIFO:
	case VG_FT_CHR:
	case VG_FT_BLK:
		if (e->st.type != VG_FT_FIFO && geteuid() != 0)
			break;
		st = owner_of(c, e);
		if (vg_fs_mknodat(d, e->name, &e->st) < 0 ||
		    (e->xattrs_len && vg_fs_set_xattrs_at(d, e->name, e->xattrs, e->xattrs_len) < 0) ||
		    vg_fs_set_meta_at(d, e->name, &st, c->owner) < 0)
			rerr(c, "%s", vg_errmsg());
		else
			c->res->others++;
		return;
	case VG_FT_HARDLINK:
		rerr(c, "%s: a hardlink entry of an unknown kind; not restored", path);
		return;
	}
	c->res->skipped++; /* sockets; device nodes without root */
}

static void restore_tree(struct rctx *c, struct vg_fs_dir *d, const struct vg_id *id, int depth)
{
	struct vg_tree t;
	if (vg_repo_get_tree(c->r, id, &t) < 0) {
		rerr(c, "%s: directory contents not restored: %s", vg_fs_dir_path(d), vg_errmsg());
		return;
	}
	for (size_t i = 0; i < t.n; i++)
		restore_entry(c, d, &t.e[i], depth);
	vg_tree_release(&t);
}

int vg_restore_run(struct vg_repo *r, const struct vg_id *snap, const struct vg_restore_opts *o,
		   struct vg_restore_result *res)
{
	struct rctx c = {.r = r, .o = o, .res = res, .owner = geteuid() == 0};
	struct vg_snapshot s;
	struct vg_tree holder = {0};
	const struct vg_tree_entry *entry = NULL;
	struct vg_fs_dir *d = NULL;
	struct vg_id dir;
	memset(res, 0, sizeof *res);
	vg_buf_init(&c.chunk, VG_OBJ_MAX);
	int err = vg_repo_snapshot_load(r, snap, &s);
	if (err)
		return err;
	if ((err = vg_fetcher_start(r, o->threads, &c.fetch)) < 0) {
		vg_snapshot_release(&s);
		return err;
	}
	if (!(err = vg_browse_resolve(r, &s, o->subpath ? o->subpath : "", &dir, &holder, &entry)) &&
	    !(err = vg_fs_target_open(o->target, &d))) {
		c.root = d;
		if (entry)
			restore_entry(&c, d, entry, 0);
		else
			restore_tree(&c, d, &dir, 0);
	}
	vg_fs_dir_close(d);
	vg_fetcher_stop(c.fetch);
	for (size_t i = 0; i < c.nhl; i++)
		free(c.hl[i].rel);
	free(c.hl);
	vg_tree_release(&holder);
	vg_snapshot_release(&s);
	vg_buf_release(&c.chunk);
	return err;
}

void vg_restore_result_release(struct vg_restore_result *res)
{
	for (size_t i = 0; i < res->nerrors; i++)
		free(res->errors[i]);
	free(res->errors);
	memset(res, 0, sizeof *res);
}
