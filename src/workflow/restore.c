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

#include "base/err.h"
#include "os/fs.h"
#include "workflow/backup.h"

#define MAX_DEPTH 4096

struct rctx {
	struct vg_repo *r;
	const struct vg_restore_opts *o;
	struct vg_restore_result *res;
	bool owner;
	struct vg_buf chunk;
	struct vg_restore_progress prog;
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

/* Write one file's content; a failure removes the partial file. */
static void restore_file(struct rctx *c, struct vg_fs_dir *d, const struct vg_tree_entry *e)
{
	struct vg_fs_file *f = NULL;
	char path[4096];
	uint64_t total = 0;
	int err = vg_fs_createat(d, e->name, &f);
	sub_path(path, sizeof path, vg_fs_dir_path(d), e->name);
	if (err) {
		rerr(c, "%s", vg_errmsg());
		return;
	}
	for (size_t i = 0; i < e->nchunks && !err; i++) {
		if ((err = vg_repo_get(c->r, VG_OT_CHUNK, &e->chunks[i], &c->chunk)) < 0)
			break;
		err = vg_fs_file_write(f, c->chunk.p, c->chunk.len);
		total += c->chunk.len;
	}
	if (!err && total != e->st.size)
		err = VG_ERR(VG_ECORRUPT, "content is %llu bytes, the snapshot says %llu",
			     (unsigned long long)total, (unsigned long long)e->st.size);
	if (!err)
		err = vg_fs_file_set_meta(f, &e->st, c->owner);
	int cerr = vg_fs_file_close(f);
	if (!err)
		err = cerr;
	if (err) {
		rerr(c, "%s: not restored: %s", path, vg_errmsg());
		vg_fs_unlinkat(d, e->name);
		return;
	}
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
		if (vg_fs_dir_set_meta(sub, &e->st, c->owner) < 0)
			rerr(c, "%s", vg_errmsg());
		vg_fs_dir_close(sub);
		c->res->dirs++;
		c->prog.dirs++;
		return;
	case VG_FT_SYMLINK:
		if (vg_fs_symlinkat(d, e->name, e->target) < 0 || vg_fs_set_meta_at(d, e->name, &e->st, c->owner) < 0)
			rerr(c, "%s", vg_errmsg());
		else
			c->res->links++;
		return;
	case VG_FT_FIFO:
	case VG_FT_CHR:
	case VG_FT_BLK:
		if (e->st.type != VG_FT_FIFO && geteuid() != 0)
			break;
		if (vg_fs_mknodat(d, e->name, &e->st) < 0 || vg_fs_set_meta_at(d, e->name, &e->st, c->owner) < 0)
			rerr(c, "%s", vg_errmsg());
		else
			c->res->others++;
		return;
	case VG_FT_HARDLINK:
		rerr(c, "%s: hardlinks are not supported by this version; not restored", path);
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

/* Turn an absolute source path into a path below the snapshot's top. */
static int relative_path(const struct vg_snapshot *s, const char *sub, char **out)
{
	char **names = calloc(s->npaths ? s->npaths : 1, sizeof *names);
	int err = names ? vg_backup_top_names(s->paths, s->npaths, names) : VG_ERR(VG_ENOMEM, "out of memory");
	*out = NULL;
	for (size_t i = 0; !err && i < s->npaths && !*out; i++) {
		size_t n = strlen(s->paths[i]);
		if (!names[i][0]) /* the snapshot is of "/" */
			*out = strdup(sub);
		else if (!strncmp(sub, s->paths[i], n) && (sub[n] == '/' || !sub[n]) &&
			 (*out = malloc(strlen(names[i]) + strlen(sub + n) + 1)))
			sprintf(*out, "%s%s", names[i], sub + n);
	}
	if (!err && !*out)
		err = VG_ERR(VG_ENOENT, "'%s' is not inside any path of this snapshot", sub);
	for (size_t i = 0; names && i < s->npaths; i++)
		free(names[i]);
	free(names);
	return err;
}

/* Walk PATH from the root tree.  On success either *dir is the tree to
 * restore the contents of, or *entry (inside *holder) is the one entry. */
static int resolve(struct rctx *c, const struct vg_snapshot *s, const char *sub, struct vg_id *dir,
		   struct vg_tree *holder, const struct vg_tree_entry **entry)
{
	char *rel = NULL, *save = NULL;
	int err = 0;
	*dir = s->root;
	*entry = NULL;
	memset(holder, 0, sizeof *holder);
	if (sub[0] == '/' && (err = relative_path(s, sub, &rel)) < 0)
		return err;
	char *p = rel ? rel : strdup(sub);
	if (!p)
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (char *comp = strtok_r(p, "/", &save); comp && !err; comp = strtok_r(NULL, "/", &save)) {
		if (!strcmp(comp, "."))
			continue;
		if (*entry) { /* a previous component was not a directory */
			err = VG_ERR(VG_ENOENT, "'%s' is not a directory in the snapshot", sub);
			break;
		}
		vg_tree_release(holder);
		if ((err = vg_repo_get_tree(c->r, dir, holder)) < 0)
			break;
		const struct vg_tree_entry *e = vg_tree_find(holder, comp, strlen(comp));
		if (!e)
			err = VG_ERR(VG_ENOENT, "'%s' is not in the snapshot (no '%s')", sub, comp);
		else if (e->st.type == VG_FT_DIR)
			*dir = e->subtree;
		else
			*entry = e;
	}
	free(p);
	return err;
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
	if (!(err = resolve(&c, &s, o->subpath ? o->subpath : "", &dir, &holder, &entry)) &&
	    !(err = vg_fs_target_open(o->target, &d))) {
		if (entry)
			restore_entry(&c, d, entry, 0);
		else
			restore_tree(&c, d, &dir, 0);
	}
	vg_fs_dir_close(d);
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
