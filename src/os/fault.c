/*
 * fault.c - the fault-injecting twin of the os layer: the ops, the rules
 * and the counters (fault_crash.c keeps the undo logs for power loss).
 *
 * Every op takes the twin's lock, refuses with VG_ECRASH after a crash,
 * asks the rules (check()) whether to fail, then forwards to the inner os.
 * Rules are matched against a file's current name, so a file keeps its
 * device's faults after a rename or unlink.  Close never fails by
 * injection: a test must always be able to release what it holds.
 */
#include "os/fault_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

struct fh {
	struct vg_file base;
	struct vg_file *in;
	struct node *node;
	struct counter *cnt;
};

static const struct vg_os_ops fault_ops;

static struct twin *twin_of(struct vg_os *os)
{
	return os && os->ops == &fault_ops ? (struct twin *)os : NULL;
}

static void lock(struct twin *t) { pthread_mutex_lock(&t->mu); }
static void unlock(struct twin *t) { pthread_mutex_unlock(&t->mu); }

/* splitmix64's finaliser: cheap, well mixed, the same on every machine. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t fault_rand(uint64_t seed, uint64_t a, uint64_t b)
{
	return mix(seed ^ mix(a ^ mix(b)));
}

char *fault_dirname(const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0)
		return strdup(".");
	return strndup(path, n);
}

bool fault_under(const char *path, const char *prefix, size_t plen)
{
	if (strncmp(path, prefix, plen) != 0)
		return false;
	return path[plen] == '\0' || path[plen] == '/' || (plen && prefix[plen - 1] == '/');
}

static char *norm_prefix(const char *p, size_t *len)
{
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	*len = n;
	return strndup(p, n);
}

static bool rule_covers(const struct rule *r, const char *path)
{
	return path && (!r->prefix || fault_under(path, r->prefix, r->plen));
}

static int crashed_err(const char *what, const char *path)
{
	return VG_ERR(VG_ECRASH, "cannot %s '%s': simulated power loss (the device is off)", what, path);
}

/* This call is the one the power fails at. */
static bool crash_point(struct twin *t, unsigned op)
{
	return t->crash_nth && (t->crash_ops & op) && ++t->calls == t->crash_nth;
}

/* The call the power fails at does not happen (but for a write: see
 * f_pwrite), nor does anything after it. */
static int crash_check(struct twin *t, unsigned op, const char *what, const char *path)
{
	if (!t->crashed && crash_point(t, op)) {
		t->crashed = true;
		return VG_ERR(VG_ECRASH, "simulated power loss at call %llu (%s '%s')", (unsigned long long)t->calls,
			      what, path);
	}
	return t->crashed ? crashed_err(what, path) : 0;
}

static int gone_err(bool on_file, const char *what, const char *path)
{
	if (on_file)
		return VG_ERR(VG_EIO, "%s error on '%s': device gone (injected fault)", what, path);
	return VG_ERR(VG_ENOENT, "cannot %s '%s': no such file or directory (injected fault: device gone)",
		      what, path);
}

static void stop_firing(struct twin *t)
{
	for (struct rule *r = t->rules; r; r = r->next)
		r->firing = false;
}

/*
 * Counts the call against every rule it matches and returns the error to
 * fail it with (0: go on).  FLIP rules that fire are marked `firing` for
 * flip() to apply once the data is at hand.  [off, off + len) is the byte
 * range of a read or write (len 0 for other ops).
 */
static int check(struct twin *t, unsigned op, const char *what, const char *path, const char *path2,
		 bool on_file, uint64_t off, uint64_t len)
{
	for (struct rule *r = t->rules; r; r = r->next)
		if (r->gone && (rule_covers(r, path) || rule_covers(r, path2)))
			return gone_err(on_file, what, path);
	int err = 0;
	for (struct rule *r = t->rules; r; r = r->next) {
		if (!(r->r.ops & op) || !(rule_covers(r, path) || rule_covers(r, path2)))
			continue;
		if (r->r.effect == VG_FAULT_FLIP && r->r.at_offset &&
		    !(r->r.offset >= off && r->r.offset - off < len))
			continue;
		if (r->r.effect == VG_FAULT_ENOSPC && r->r.space) {
			if (r->written + len <= r->r.space) {
				r->written += len;
				continue;
			}
		}
		r->calls++;
		if (r->r.persist ? r->calls < r->r.nth : r->calls != r->r.nth)
			continue;
		r->fired++;
		switch (r->r.effect) {
		case VG_FAULT_GONE:
			r->gone = true;
			if (!err)
				err = gone_err(on_file, what, path);
			break;
		case VG_FAULT_EIO:
			if (!err)
				err = VG_ERR(VG_EIO, "%s error on '%s' (injected fault, rule %d)", what, path, r->id);
			break;
		case VG_FAULT_ENOSPC:
			if (!err)
				err = VG_ERR(VG_ENOSPC, "%s error on '%s': no space left on device (injected fault, rule %d)",
					     what, path, r->id);
			break;
		case VG_FAULT_FLIP:
			r->firing = true;
			break;
		}
	}
	if (err)
		stop_firing(t);
	return err;
}

static bool any_firing(const struct twin *t)
{
	for (const struct rule *r = t->rules; r; r = r->next)
		if (r->firing)
			return true;
	return false;
}

static void flip_bits(const struct rule *r, unsigned char *buf, size_t n)
{
	uint64_t bits = (uint64_t)n * 8, want = r->r.nbits ? r->r.nbits : 1;
	if (want > bits)
		want = bits;
	/* Distinct bits: a bit already flipped is skipped (seen via orig). */
	unsigned char *orig = malloc(n);
	if (orig)
		memcpy(orig, buf, n);
	for (uint64_t i = 0, done = 0; done < want && i < want * 64; i++) {
		uint64_t b = fault_rand(r->r.seed, r->fired, i) % bits;
		unsigned char m = (unsigned char)(1u << (b & 7));
		if (orig && (buf[b >> 3] & m) != (orig[b >> 3] & m))
			continue;
		buf[b >> 3] ^= m;
		done++;
	}
	free(orig);
}

/* Applies the FLIP rules marked by check() to n bytes at file offset off. */
static void flip(struct twin *t, unsigned char *buf, size_t n, uint64_t off)
{
	for (struct rule *r = t->rules; r; r = r->next) {
		if (!r->firing || n == 0)
			continue;
		if (!r->r.at_offset) {
			flip_bits(r, buf, n);
		} else if (r->r.offset >= off && r->r.offset - off < n) {
			unsigned m = r->r.mask ? r->r.mask : 1u << (fault_rand(r->r.seed, r->fired, 0) & 7);
			buf[r->r.offset - off] ^= (unsigned char)m;
		}
	}
	stop_firing(t);
}

static struct counter *counter_get(struct twin *t, const char *path)
{
	for (struct counter *c = t->counters; c; c = c->next)
		if (!strcmp(c->path, path))
			return c;
	size_t n = strlen(path);
	struct counter *c = calloc(1, sizeof *c + n + 1);
	if (!c)
		return NULL;
	memcpy(c->path, path, n + 1);
	c->next = t->counters;
	t->counters = c;
	return c;
}

/* ---- ops on files ---- */

static int f_open(struct vg_os *os, const char *path, int flags, struct vg_file **out)
{
	struct twin *t = (struct twin *)os;
	struct fh *f = NULL;
	struct vg_file *in = NULL;
	struct node *n = NULL;
	bool created = false;
	int err;
	lock(t);
	struct counter *cnt = counter_get(t, path);
	if (!cnt) {
		err = VG_ERR(VG_ENOMEM, "out of memory opening '%s'", path);
		goto out;
	}
	cnt->c.opens++;
	if ((err = crash_check(t, VG_FAULT_OPEN, "open", path)))
		goto out;
	if ((err = check(t, VG_FAULT_OPEN, "open", path, NULL, false, 0, 0)))
		goto out;
	if (flags & VG_O_CREAT) {
		struct vg_os_stat st;
		if ((err = vg_os_stat(t->in, path, &st)))
			goto out;
		created = !st.exists;
	}
	f = calloc(1, sizeof *f);
	if (!f || !(f->base.path = strdup(path))) {
		err = VG_ERR(VG_ENOMEM, "out of memory opening '%s'", path);
		goto out;
	}
	if ((err = vg_os_open(t->in, path, flags, &in)))
		goto out;
	if ((err = fault_node_get(t, path, in, &n)))
		goto out;
	if (created && (err = fault_meta_add(t, META_CREATE, path, NULL, NULL, n)))
		goto out;
	f->base.os = os;
	f->in = in;
	f->node = n;
	f->cnt = cnt;
	*out = &f->base;
	f = NULL;
	in = NULL;
	n = NULL;
out:
	if (n)
		fault_node_unref(t, n);
	if (in) {
		vg_os_close(in);
		if (created)
			vg_os_unlink(t->in, path);
	}
	if (f)
		free(f->base.path);
	free(f);
	unlock(t);
	return err;
}

static int f_close(struct vg_file *vf)
{
	struct fh *f = (struct fh *)vf;
	struct twin *t = (struct twin *)vf->os;
	lock(t);
	int err = vg_os_close(f->in);
	fault_node_unref(t, f->node);
	unlock(t);
	free(vf->path);
	free(f);
	return err;
}

/* The common start of an op on an open file: 0 to go on. */
static int file_begin(struct fh *f, unsigned op, const char *what, uint64_t off, uint64_t len)
{
	struct twin *t = (struct twin *)f->base.os;
	int err = crash_check(t, op, what, f->base.path);
	return err ? err : check(t, op, what, f->node->path, NULL, true, off, len);
}

static int f_pread(struct vg_file *vf, void *buf, size_t len, uint64_t off, size_t *got)
{
	struct fh *f = (struct fh *)vf;
	struct twin *t = (struct twin *)vf->os;
	lock(t);
	f->cnt->c.reads++;
	int err = file_begin(f, VG_FAULT_READ, "read", off, len);
	if (!err)
		err = vg_os_pread(f->in, buf, len, off, got);
	if (!err) {
		f->cnt->c.read_bytes += *got;
		flip(t, buf, *got, off);
	}
	stop_firing(t);
	unlock(t);
	return err;
}

static int f_pwrite(struct vg_file *vf, const void *buf, size_t len, uint64_t off)
{
	struct fh *f = (struct fh *)vf;
	struct twin *t = (struct twin *)vf->os;
	unsigned char *copy = NULL;
	bool crash_now = false;
	int err = 0;
	lock(t);
	f->cnt->c.writes++;
	if (t->crashed) {
		err = crashed_err("write", vf->path);
		goto out;
	}
	/* The write the power fails in still reaches the file: its fate is
	 * decided at vg_fault_powerloss() with the other unsynced writes. */
	crash_now = crash_point(t, VG_FAULT_WRITE);
	if (!crash_now && (err = check(t, VG_FAULT_WRITE, "write", f->node->path, NULL, true, off, len)))
		goto out;
	if (any_firing(t)) {
		if (!(copy = malloc(len ? len : 1))) {
			err = VG_ERR(VG_ENOMEM, "out of memory writing '%s'", vf->path);
			goto out;
		}
		memcpy(copy, buf, len);
		flip(t, copy, len, off);
		buf = copy;
	}
	if ((err = fault_log_write(t, f->node, f->in, off, len)))
		goto out;
	err = vg_os_pwrite(f->in, buf, len, off);
	if (!err) {
		f->cnt->c.written_bytes += len;
		if (off + len > f->node->size)
			f->node->size = off + len;
	} else { /* a real failure: outside the model, forget the write */
		fault_log_pop(t, f->node);
		vg_os_size(f->in, &f->node->size);
	}
out:
	if (crash_now) {
		t->crashed = true;
		err = VG_ERR(VG_ECRASH, "simulated power loss during call %llu (write to '%s' at offset %llu)",
			     (unsigned long long)t->calls, vf->path, (unsigned long long)off);
	}
	stop_firing(t);
	unlock(t);
	free(copy);
	return err;
}

static int f_sync(struct vg_file *vf)
{
	struct fh *f = (struct fh *)vf;
	struct twin *t = (struct twin *)vf->os;
	lock(t);
	f->cnt->c.syncs++;
	int err = file_begin(f, VG_FAULT_SYNC, "sync", 0, 0);
	if (!err)
		err = vg_os_sync(f->in);
	if (!err)
		fault_synced(t, f->node);
	unlock(t);
	return err;
}

static int f_size(struct vg_file *vf, uint64_t *out)
{
	struct fh *f = (struct fh *)vf;
	struct twin *t = (struct twin *)vf->os;
	lock(t);
	int err = file_begin(f, VG_FAULT_META, "stat", 0, 0);
	if (!err)
		err = vg_os_size(f->in, out);
	unlock(t);
	return err;
}

static int f_truncate(struct vg_file *vf, uint64_t size)
{
	struct fh *f = (struct fh *)vf;
	struct twin *t = (struct twin *)vf->os;
	lock(t);
	int err = file_begin(f, VG_FAULT_META, "truncate", 0, 0);
	if (!err && !(err = fault_log_trunc(t, f->node, f->in, size))) {
		if (!(err = vg_os_truncate(f->in, size)))
			f->node->size = size;
		else
			fault_log_pop(t, f->node);
	}
	unlock(t);
	return err;
}

static int f_lock(struct vg_file *vf)
{
	struct fh *f = (struct fh *)vf;
	struct twin *t = (struct twin *)vf->os;
	lock(t);
	int err = file_begin(f, VG_FAULT_META, "lock", 0, 0);
	if (!err)
		err = vg_os_lock(f->in);
	unlock(t);
	return err;
}

static int f_lock_shared(struct vg_file *vf)
{
	struct fh *f = (struct fh *)vf;
	struct twin *t = (struct twin *)vf->os;
	lock(t);
	int err = file_begin(f, VG_FAULT_META, "lock", 0, 0);
	unlock(t);
	/* waiting happens outside the twin's lock: the holder may need it */
	return err ? err : vg_os_lock_shared(f->in);
}

/* ---- ops on names ---- */

/* The common start of an op on a path: 0 to go on. */
static int path_begin(struct twin *t, unsigned op, const char *what, const char *path, const char *path2)
{
	int err = crash_check(t, op, what, path);
	return err ? err : check(t, op, what, path, path2, false, 0, 0);
}

static int f_stat(struct vg_os *os, const char *path, struct vg_os_stat *out)
{
	struct twin *t = (struct twin *)os;
	memset(out, 0, sizeof *out);
	lock(t);
	int err = path_begin(t, VG_FAULT_META, "stat", path, NULL);
	if (err == VG_ENOENT)
		err = 0; /* gone: stat reports a missing file as such */
	else if (!err)
		err = vg_os_stat(t->in, path, out);
	unlock(t);
	return err;
}

static int f_mkdir(struct vg_os *os, const char *path)
{
	struct twin *t = (struct twin *)os;
	lock(t);
	int err = path_begin(t, VG_FAULT_META, "create directory", path, NULL);
	if (!err)
		err = vg_os_mkdir(t->in, path);
	if (!err && (err = fault_meta_add(t, META_MKDIR, path, NULL, NULL, NULL)))
		vg_os_rmdir(t->in, path);
	unlock(t);
	return err;
}

/* Moves the file at path aside to a trash name in its directory, so that
 * a power loss can bring it back.  *trash gets the name. */
static int to_trash(struct twin *t, const char *path, char **trash)
{
	char *dir = fault_dirname(path);
	char name[64];
	snprintf(name, sizeof name, FAULT_TRASH "%llu", (unsigned long long)++t->seq);
	char *p = dir ? vg_path_join(dir, name) : NULL;
	free(dir);
	if (!p)
		return VG_ERR(VG_ENOMEM, "out of memory removing '%s'", path);
	int err = vg_os_rename(t->in, path, p);
	if (!err)
		err = fault_rename_nodes(t, path, p);
	if (err) {
		free(p);
		return err;
	}
	*trash = p;
	return 0;
}

static int f_unlink(struct vg_os *os, const char *path)
{
	struct twin *t = (struct twin *)os;
	struct vg_os_stat st;
	char *trash = NULL;
	lock(t);
	int err = path_begin(t, VG_FAULT_META, "remove", path, NULL);
	if (!err)
		err = vg_os_stat(t->in, path, &st);
	if (err)
		goto out;
	if (!st.exists || st.is_dir) { /* let the inner os say what is wrong */
		err = vg_os_unlink(t->in, path);
		goto out;
	}
	if ((err = to_trash(t, path, &trash)))
		goto out;
	if ((err = fault_meta_add(t, META_UNLINK, path, NULL, trash, NULL)))
		vg_os_unlink(t->in, trash);
out:
	unlock(t);
	free(trash);
	return err;
}

static int f_rmdir(struct vg_os *os, const char *path)
{
	struct twin *t = (struct twin *)os;
	lock(t);
	int err = path_begin(t, VG_FAULT_META, "remove directory", path, NULL);
	if (!err) {
		/* Its removed files must really go for rmdir to succeed; what was
		 * done inside it is no longer undoable. */
		fault_dir_synced(t, path, true);
		err = vg_os_rmdir(t->in, path);
	}
	unlock(t);
	return err;
}

static int f_rename(struct vg_os *os, const char *from, const char *to)
{
	struct twin *t = (struct twin *)os;
	struct vg_os_stat sf, st;
	char *trash = NULL;
	lock(t);
	int err = path_begin(t, VG_FAULT_META, "rename", from, to);
	if (!err && !(err = vg_os_stat(t->in, from, &sf)))
		err = vg_os_stat(t->in, to, &st);
	if (err)
		goto out;
	if (!sf.exists || !strcmp(from, to)) { /* nothing to log */
		err = vg_os_rename(t->in, from, to);
		goto out;
	}
	if (st.exists && !st.is_dir && (err = to_trash(t, to, &trash)))
		goto out;
	if ((err = vg_os_rename(t->in, from, to))) {
		if (trash && !vg_os_rename(t->in, trash, to))
			fault_rename_nodes(t, trash, to);
		goto out;
	}
	if ((err = fault_rename_nodes(t, from, to)))
		goto out;
	err = fault_meta_add(t, META_RENAME, to, from, trash, NULL);
out:
	unlock(t);
	free(trash);
	return err;
}

static int f_syncdir(struct vg_os *os, const char *dir)
{
	struct twin *t = (struct twin *)os;
	lock(t);
	struct counter *cnt = counter_get(t, dir);
	if (cnt)
		cnt->c.syncs++;
	int err = path_begin(t, VG_FAULT_SYNC, "sync", dir, NULL);
	if (!err)
		err = vg_os_syncdir(t->in, dir);
	if (!err)
		fault_dir_synced(t, dir, false);
	unlock(t);
	return err;
}

struct list_ctx {
	vg_os_dirent_fn fn;
	void *ctx;
};

static int list_one(void *ctx, const char *name)
{
	struct list_ctx *c = ctx;
	if (!strncmp(name, FAULT_TRASH, strlen(FAULT_TRASH)))
		return 0;
	return c->fn(c->ctx, name);
}

static int f_listdir(struct vg_os *os, const char *dir, vg_os_dirent_fn fn, void *ctx)
{
	struct twin *t = (struct twin *)os;
	struct list_ctx c = {fn, ctx};
	lock(t);
	int err = path_begin(t, VG_FAULT_META, "list directory", dir, NULL);
	if (!err)
		err = vg_os_listdir(t->in, dir, list_one, &c);
	unlock(t);
	return err;
}

static int f_writable(struct vg_os *os, const char *dir)
{
	struct twin *t = (struct twin *)os;
	lock(t);
	int err = path_begin(t, VG_FAULT_META, "write in", dir, NULL);
	if (!err)
		err = vg_os_writable(t->in, dir);
	unlock(t);
	return err;
}

static void f_destroy(struct vg_os *os)
{
	struct twin *t = (struct twin *)os;
	lock(t);
	if (t->crashed && !t->powered_off)
		fault_do_powerloss(t, NULL);
	fault_forget_all(t);
	while (t->rules) {
		struct rule *r = t->rules;
		t->rules = r->next;
		free(r->prefix);
		free(r);
	}
	while (t->counters) {
		struct counter *c = t->counters;
		t->counters = c->next;
		free(c);
	}
	unlock(t);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static const struct vg_os_ops fault_ops = {
	.open = f_open,
	.close = f_close,
	.pread = f_pread,
	.pwrite = f_pwrite,
	.sync = f_sync,
	.size = f_size,
	.truncate = f_truncate,
	.lock = f_lock,
	.lock_shared = f_lock_shared,
	.stat = f_stat,
	.mkdir = f_mkdir,
	.unlink = f_unlink,
	.rmdir = f_rmdir,
	.rename = f_rename,
	.syncdir = f_syncdir,
	.listdir = f_listdir,
	.writable = f_writable,
	.destroy = f_destroy,
};

struct vg_os *vg_os_fault_new(struct vg_os *inner)
{
	struct twin *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	int rc = pthread_mutex_init(&t->mu, &a);
	pthread_mutexattr_destroy(&a);
	if (rc) {
		free(t);
		return NULL;
	}
	t->base.ops = &fault_ops;
	t->in = inner;
	t->next_id = 1;
	return &t->base;
}

/* ---- the test-facing API ---- */

int vg_fault_add_rule(struct vg_os *os, const struct vg_fault_rule *rule, int *id)
{
	struct twin *t = twin_of(os);
	if (!t)
		return VG_ERR(VG_EINVAL, "fault rule given to an os that is not a fault twin");
	unsigned ops = rule->ops ? rule->ops : VG_FAULT_ANY;
	if (rule->effect < VG_FAULT_EIO || rule->effect > VG_FAULT_GONE || (ops & ~(unsigned)VG_FAULT_ANY))
		return VG_ERR(VG_EINVAL, "fault rule: unknown effect or op");
	if (rule->effect == VG_FAULT_FLIP && (ops & ~(unsigned)(VG_FAULT_READ | VG_FAULT_WRITE)))
		return VG_ERR(VG_EINVAL, "fault rule: bit flips apply to reads and writes only");
	struct rule *r = calloc(1, sizeof *r);
	if (!r)
		return VG_ERR(VG_ENOMEM, "out of memory adding a fault rule");
	r->r = *rule;
	r->r.ops = ops;
	if (!r->r.nth)
		r->r.nth = 1;
	if (rule->prefix && !(r->prefix = norm_prefix(rule->prefix, &r->plen))) {
		free(r);
		return VG_ERR(VG_ENOMEM, "out of memory adding a fault rule");
	}
	r->r.prefix = r->prefix;
	lock(t);
	r->id = t->next_id++;
	struct rule **pp = &t->rules;
	while (*pp)
		pp = &(*pp)->next;
	*pp = r;
	unlock(t);
	if (id)
		*id = r->id;
	return 0;
}

void vg_fault_remove_rule(struct vg_os *os, int id)
{
	struct twin *t = twin_of(os);
	if (!t)
		return;
	lock(t);
	for (struct rule **pp = &t->rules; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct rule *r = *pp;
			*pp = r->next;
			free(r->prefix);
			free(r);
			break;
		}
	}
	unlock(t);
}

uint64_t vg_fault_fired(struct vg_os *os, int id)
{
	struct twin *t = twin_of(os);
	uint64_t n = 0;
	if (!t)
		return 0;
	lock(t);
	for (struct rule *r = t->rules; r; r = r->next)
		if (r->id == id)
			n = r->fired;
	unlock(t);
	return n;
}

int vg_fault_unplug(struct vg_os *os, const char *prefix, int *id)
{
	struct vg_fault_rule r = {.ops = VG_FAULT_ANY, .prefix = prefix, .effect = VG_FAULT_GONE};
	int rid = 0;
	int err = vg_fault_add_rule(os, &r, &rid);
	if (err)
		return err;
	struct twin *t = twin_of(os);
	lock(t);
	for (struct rule *q = t->rules; q; q = q->next)
		if (q->id == rid) {
			q->gone = true;
			q->fired = 1;
		}
	unlock(t);
	if (id)
		*id = rid;
	return 0;
}

void vg_fault_counts(struct vg_os *os, const char *prefix, struct vg_fault_counts *out)
{
	struct twin *t = twin_of(os);
	memset(out, 0, sizeof *out);
	if (!t)
		return;
	size_t plen = 0;
	char *p = prefix ? norm_prefix(prefix, &plen) : NULL;
	lock(t);
	for (struct counter *c = t->counters; c; c = c->next) {
		if (prefix && (!p || !fault_under(c->path, p, plen)))
			continue;
		out->opens += c->c.opens;
		out->reads += c->c.reads;
		out->writes += c->c.writes;
		out->syncs += c->c.syncs;
		out->read_bytes += c->c.read_bytes;
		out->written_bytes += c->c.written_bytes;
	}
	unlock(t);
	free(p);
}

void vg_fault_counts_reset(struct vg_os *os)
{
	struct twin *t = twin_of(os);
	if (!t)
		return;
	lock(t);
	for (struct counter *c = t->counters; c; c = c->next)
		memset(&c->c, 0, sizeof c->c);
	unlock(t);
}

void vg_fault_crash_at(struct vg_os *os, uint64_t nth_write, uint64_t seed)
{
	vg_fault_crash_at_op(os, VG_FAULT_WRITE, nth_write, seed);
}

void vg_fault_crash_at_op(struct vg_os *os, unsigned ops, uint64_t nth, uint64_t seed)
{
	struct twin *t = twin_of(os);
	if (!t)
		return;
	lock(t);
	t->crash_ops = ops ? ops : VG_FAULT_ANY;
	t->crash_nth = nth;
	t->calls = 0;
	t->seed = seed;
	unlock(t);
}

void vg_fault_crash_now(struct vg_os *os)
{
	struct twin *t = twin_of(os);
	if (!t)
		return;
	lock(t);
	t->crashed = true;
	unlock(t);
}

bool vg_fault_crashed(struct vg_os *os)
{
	struct twin *t = twin_of(os);
	if (!t)
		return false;
	lock(t);
	bool c = t->crashed;
	unlock(t);
	return c;
}

int vg_fault_powerloss(struct vg_os *os, struct vg_fault_report *rep)
{
	struct twin *t = twin_of(os);
	if (rep)
		memset(rep, 0, sizeof *rep);
	if (!t)
		return VG_ERR(VG_EINVAL, "power loss asked of an os that is not a fault twin");
	lock(t);
	t->crashed = true;
	int err = 0;
	if (!t->powered_off) {
		t->powered_off = true;
		err = fault_do_powerloss(t, rep);
	}
	unlock(t);
	return err;
}
