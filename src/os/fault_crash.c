/*
 * fault_crash.c - power loss for the fault twin: undo logs and fates.
 *
 * Writes reach the inner file at once; before each unsynced pwrite or
 * truncate the bytes it overwrites (and the old size) are saved in the
 * file's undo log.  A successful sync frees the log: memory holds only what
 * is not durable yet.  Directory operations (create, mkdir, unlink, rename)
 * go to a directory log until a syncdir of their directory; an unlinked (or
 * replaced) file waits under a trash name so it can come back.
 *
 * At power loss each logged write gets a fate from the seed: kept, dropped,
 * or torn (a sector-aligned sub-range reverts).  The log is walked newest
 * first; reverting an entry restores its saved bytes except where a newer
 * entry was kept.  Invariant of that walk: after entries newer than k are
 * done, the file holds (content after k) overlaid with the kept bytes of
 * the newer entries, so restoring k's old bytes outside those gives
 * (content before k) overlaid with the kept bytes of k and newer.  The
 * size is computed forward: the size before the oldest entry, grown by
 * kept/torn writes, set by kept truncates.
 *
 * Per directory, the undurable operations survive as a prefix (journaled
 * metadata: later operations do not survive without earlier ones); the
 * cut is drawn from the seed.  Undoing an operation that a surviving one in
 * another directory depends on is skipped.  docs/OS.md has the model.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "os/fault_int.h"

#define SECTOR 512u
#define MAX_UNDO_BYTES ((size_t)1 << 30)

enum fate { KEEP = 0, DROP = 1, TEAR = 2 };

/* ---- nodes ---- */

static struct node *node_find(struct twin *t, const char *path)
{
	for (struct node *n = t->nodes; n; n = n->next)
		if (!strcmp(n->path, path))
			return n;
	return NULL;
}

int fault_node_get(struct twin *t, const char *path, struct vg_file *in, struct node **out)
{
	struct node *n = node_find(t, path);
	if (!n) {
		int err;
		if (!(n = calloc(1, sizeof *n)) || !(n->path = strdup(path))) {
			free(n);
			return VG_ERR(VG_ENOMEM, "out of memory opening '%s'", path);
		}
		if ((err = vg_os_size(in, &n->size))) {
			free(n->path);
			free(n);
			return err;
		}
		n->next = t->nodes;
		t->nodes = n;
	}
	n->refs++;
	*out = n;
	return 0;
}

static void undo_free(struct twin *t, struct node *n)
{
	while (n->undo) {
		struct undo *u = n->undo;
		n->undo = u->next;
		t->undo_bytes -= u->old_len;
		free(u);
	}
	n->undo_tail = NULL;
}

static void node_free_if_unused(struct twin *t, struct node *n)
{
	if (n->refs > 0 || n->undo)
		return;
	for (struct node **pp = &t->nodes; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	free(n->path);
	free(n);
}

void fault_node_unref(struct twin *t, struct node *n)
{
	n->refs--;
	node_free_if_unused(t, n);
}

int fault_rename_nodes(struct twin *t, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);
	for (struct node *n = t->nodes; n; n = n->next) {
		if (!fault_under(n->path, from, fl))
			continue;
		size_t rest = strlen(n->path + fl);
		char *p = malloc(tl + rest + 1);
		if (!p)
			return VG_ERR(VG_ENOMEM, "out of memory renaming '%s'", from);
		memcpy(p, to, tl);
		memcpy(p + tl, n->path + fl, rest + 1);
		free(n->path);
		n->path = p;
	}
	return 0;
}

/* ---- undo logs ---- */

/* Saves [off, off + len) of the file (clipped to its size) before it is
 * overwritten; the new entry goes last in n's log. */
static int log_entry(struct twin *t, struct node *n, struct vg_file *in, bool is_trunc, uint64_t off,
		     uint64_t len, uint64_t save)
{
	size_t old_len = 0;
	if (off < n->size)
		old_len = (size_t)(save < n->size - off ? save : n->size - off);
	if (t->undo_bytes + old_len > MAX_UNDO_BYTES)
		return VG_ERR(VG_ENOMEM, "fault twin: more than %zu MiB of unsynced overwritten data in '%s'",
			      MAX_UNDO_BYTES >> 20, in->path);
	struct undo *u = malloc(sizeof *u + old_len);
	if (!u)
		return VG_ERR(VG_ENOMEM, "out of memory writing '%s'", in->path);
	if (old_len) {
		size_t got = 0;
		int err = vg_os_pread(in, u->old, old_len, off, &got);
		if (err) {
			free(u);
			return err;
		}
		old_len = got;
	}
	u->next = NULL;
	u->seq = ++t->seq;
	u->is_trunc = is_trunc;
	u->off = off;
	u->len = len;
	u->old_size = n->size;
	u->old_len = old_len;
	if (n->undo_tail)
		n->undo_tail->next = u;
	else
		n->undo = u;
	n->undo_tail = u;
	t->undo_bytes += old_len;
	return 0;
}

int fault_log_write(struct twin *t, struct node *n, struct vg_file *in, uint64_t off, size_t len)
{
	return log_entry(t, n, in, false, off, len, len);
}

int fault_log_trunc(struct twin *t, struct node *n, struct vg_file *in, uint64_t size)
{
	return log_entry(t, n, in, true, size, 0, n->size > size ? n->size - size : 0);
}

void fault_log_pop(struct twin *t, struct node *n)
{
	struct undo **pp = &n->undo, *prev = NULL;
	if (!*pp)
		return;
	while ((*pp)->next) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	t->undo_bytes -= (*pp)->old_len;
	free(*pp);
	*pp = NULL;
	n->undo_tail = prev;
}

void fault_synced(struct twin *t, struct node *n) { undo_free(t, n); }

/* ---- directory log ---- */

static void meta_free(struct twin *t, struct meta *m)
{
	if (m->node)
		fault_node_unref(t, m->node);
	free(m->dir);
	free(m->path);
	free(m->from);
	free(m->trash);
	free(m);
}

int fault_meta_add(struct twin *t, enum meta_kind kind, const char *path, const char *from,
		   const char *trash, struct node *node)
{
	struct meta *m = calloc(1, sizeof *m);
	if (!m)
		goto nomem;
	m->kind = kind;
	m->seq = ++t->seq;
	m->dir = fault_dirname(path);
	m->path = strdup(path);
	m->from = from ? strdup(from) : NULL;
	m->trash = trash ? strdup(trash) : NULL;
	if (!m->dir || !m->path || (from && !m->from) || (trash && !m->trash)) {
		meta_free(t, m);
		goto nomem;
	}
	if (node) {
		m->node = node;
		node->refs++;
	}
	if (t->meta_tail)
		t->meta_tail->next = m;
	else
		t->meta = m;
	t->meta_tail = m;
	return 0;
nomem:
	return VG_ERR(VG_ENOMEM, "out of memory recording a change of '%s'", path);
}

/* The file at trash is removed for good; its unsynced writes no longer
 * matter. */
static void trash_delete(struct twin *t, const char *trash)
{
	vg_os_unlink(t->in, trash);
	struct node *n = node_find(t, trash);
	if (n) {
		n->deleted = true;
		undo_free(t, n);
		node_free_if_unused(t, n);
	}
}

/* Drops from the log the entries keep() selects, as durable: files waiting
 * under trash names are removed for good. */
static void meta_settle(struct twin *t, bool (*keep)(const struct meta *, const char *, size_t),
			const char *dir, size_t dlen)
{
	struct meta **pp = &t->meta, *last = NULL;
	while (*pp) {
		struct meta *m = *pp;
		if (!keep(m, dir, dlen)) {
			last = m;
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		if (m->trash)
			trash_delete(t, m->trash);
		meta_free(t, m);
	}
	t->meta_tail = last;
}

static bool in_dir(const struct meta *m, const char *dir, size_t dlen)
{
	return strlen(m->dir) == dlen && !strncmp(m->dir, dir, dlen);
}

static bool below_dir(const struct meta *m, const char *dir, size_t dlen)
{
	return fault_under(m->dir, dir, dlen);
}

static bool every(const struct meta *m, const char *dir, size_t dlen)
{
	(void)m, (void)dir, (void)dlen;
	return true;
}

void fault_dir_synced(struct twin *t, const char *dir, bool below)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	meta_settle(t, below ? below_dir : in_dir, dir, n);
}

void fault_forget_all(struct twin *t)
{
	meta_settle(t, every, NULL, 0);
	while (t->nodes) {
		struct node *n = t->nodes;
		t->nodes = n->next;
		undo_free(t, n);
		free(n->path);
		free(n);
	}
}

/* ---- power loss: data ---- */

struct ivset { /* disjoint sorted [lo, hi) ranges */
	struct iv {
		uint64_t lo, hi;
	} *v;
	size_t n, cap;
};

static int iv_add(struct ivset *s, uint64_t lo, uint64_t hi)
{
	if (lo >= hi)
		return 0;
	size_t i = 0;
	while (i < s->n && s->v[i].hi < lo)
		i++;
	size_t j = i;
	for (; j < s->n && s->v[j].lo <= hi; j++) {
		if (s->v[j].lo < lo)
			lo = s->v[j].lo;
		if (s->v[j].hi > hi)
			hi = s->v[j].hi;
	}
	if (i == j) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 16;
			struct iv *v = realloc(s->v, cap * sizeof *v);
			if (!v)
				return VG_ERR(VG_ENOMEM, "out of memory simulating power loss");
			s->v = v;
			s->cap = cap;
		}
		memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof *s->v);
		s->n++;
	} else {
		memmove(s->v + i + 1, s->v + j, (s->n - j) * sizeof *s->v);
		s->n -= j - i - 1;
	}
	s->v[i].lo = lo;
	s->v[i].hi = hi;
	return 0;
}

/* Puts back what u overwrote in [lo, hi): its saved bytes, zeros past the
 * old end of file. */
static int restore(struct vg_file *f, const struct undo *u, uint64_t lo, uint64_t hi)
{
	static const unsigned char zeros[65536];
	uint64_t saved_end = u->off + u->old_len;
	int err = 0;
	if (lo < saved_end) {
		uint64_t e = hi < saved_end ? hi : saved_end;
		if ((err = vg_os_pwrite(f, u->old + (lo - u->off), (size_t)(e - lo), lo)))
			return err;
		lo = e;
	}
	while (lo < hi && !err) {
		size_t n = hi - lo < sizeof zeros ? (size_t)(hi - lo) : sizeof zeros;
		err = vg_os_pwrite(f, zeros, n, lo);
		lo += n;
	}
	return err;
}

/* Reverts [lo, hi) of u (clipped to the final size) except the kept set. */
static int revert(struct vg_file *f, const struct undo *u, uint64_t lo, uint64_t hi, const struct ivset *kept,
		  uint64_t final)
{
	if (hi > final)
		hi = final;
	int err = 0;
	for (size_t i = 0; i < kept->n && lo < hi && !err; i++) {
		if (kept->v[i].hi <= lo)
			continue;
		if (kept->v[i].lo >= hi)
			break;
		if (kept->v[i].lo > lo)
			err = restore(f, u, lo, kept->v[i].lo);
		lo = kept->v[i].hi;
	}
	if (!err && lo < hi)
		err = restore(f, u, lo, hi);
	return err;
}

static enum fate fate_of(const struct twin *t, const struct undo *u)
{
	uint64_t r = fault_rand(t->seed, u->seq, 1) % 3;
	if (!u->is_trunc && u->len == 0)
		return KEEP;
	if (u->is_trunc && r == TEAR)
		return DROP;
	/* A write within one sector is atomic: it cannot tear. */
	if (r == TEAR && u->off / SECTOR == (u->off + u->len - 1) / SECTOR)
		return DROP;
	return (enum fate)r;
}

/* The torn write's reverted part: a random run of its sectors, not all. */
static void tear_range(const struct twin *t, const struct undo *u, uint64_t *lo, uint64_t *hi)
{
	uint64_t end = u->off + u->len, s0 = u->off / SECTOR, k = (end - 1) / SECTOR - s0 + 1;
	uint64_t len = 1 + fault_rand(t->seed, u->seq, 2) % (k - 1);
	uint64_t a = s0 + fault_rand(t->seed, u->seq, 3) % (k - len + 1);
	*lo = a * SECTOR > u->off ? a * SECTOR : u->off;
	*hi = (a + len) * SECTOR < end ? (a + len) * SECTOR : end;
}

static int revert_node(struct twin *t, struct node *n, struct vg_fault_report *rep)
{
	size_t k = 0;
	for (struct undo *u = n->undo; u; u = u->next)
		k++;
	struct undo **es = malloc(k * sizeof *es);
	enum fate *fates = malloc(k * sizeof *fates);
	struct ivset kept = {0};
	struct vg_file *f = NULL;
	int err = 0;
	if (!es || !fates) {
		err = VG_ERR(VG_ENOMEM, "out of memory simulating power loss");
		goto out;
	}
	uint64_t final = n->undo->old_size;
	k = 0;
	for (struct undo *u = n->undo; u; u = u->next, k++) {
		es[k] = u;
		fates[k] = fate_of(t, u);
		if (u->is_trunc) {
			if (fates[k] == KEEP)
				final = u->off;
			else
				rep->truncs_undone++;
			continue;
		}
		if (fates[k] != DROP && u->off + u->len > final)
			final = u->off + u->len;
		rep->kept += fates[k] == KEEP;
		rep->dropped += fates[k] == DROP;
		rep->torn += fates[k] == TEAR;
	}
	err = vg_os_open(t->in, n->path, VG_O_RDWR, &f);
	if (err == VG_ENOENT) { /* removed behind our back: nothing to revert */
		err = 0;
		goto out;
	}
	for (size_t i = k; i-- > 0 && !err;) {
		struct undo *u = es[i];
		uint64_t end = u->off + u->len, lo, hi;
		if (u->is_trunc)
			err = fates[i] == KEEP ? iv_add(&kept, u->off, UINT64_MAX)
					       : revert(f, u, u->off, u->off + u->old_len, &kept, final);
		else if (fates[i] == KEEP)
			err = iv_add(&kept, u->off, end);
		else if (fates[i] == DROP)
			err = revert(f, u, u->off, end, &kept, final);
		else {
			tear_range(t, u, &lo, &hi);
			if (!(err = revert(f, u, lo, hi, &kept, final)) && !(err = iv_add(&kept, u->off, lo)))
				err = iv_add(&kept, hi, end);
		}
	}
	if (!err)
		err = vg_os_truncate(f, final);
out:
	if (f) {
		int e = vg_os_close(f);
		if (!err)
			err = e;
	}
	free(kept.v);
	free(es);
	free(fates);
	return err;
}

/* ---- power loss: directories ---- */

static bool missing(struct twin *t, const char *path)
{
	struct vg_os_stat st;
	return vg_os_stat(t->in, path, &st) == 0 && !st.exists;
}

/* Moves the file at a back to b (both names), if b is free. */
static int move_back(struct twin *t, const char *a, const char *b, bool *done)
{
	*done = false;
	if (!missing(t, b))
		return 0;
	int err = vg_os_rename(t->in, a, b);
	if (!err)
		err = fault_rename_nodes(t, a, b);
	*done = !err;
	return err;
}

static int undo_meta(struct twin *t, struct meta *m, struct vg_fault_report *rep)
{
	bool done = false;
	int err = 0;
	switch (m->kind) {
	case META_CREATE:
		if (m->node && !m->node->deleted && !strcmp(m->node->path, m->path) &&
		    !(err = vg_os_unlink(t->in, m->path))) {
			m->node->deleted = true;
			rep->creates_undone++;
		}
		break;
	case META_MKDIR:
		/* Only if empty: a directory with surviving contents survives. */
		if (!vg_os_rmdir(t->in, m->path))
			rep->mkdirs_undone++;
		break;
	case META_UNLINK:
		if (!(err = move_back(t, m->trash, m->path, &done)) && done) {
			free(m->trash);
			m->trash = NULL;
			rep->unlinks_undone++;
		}
		break;
	case META_RENAME:
		if ((err = move_back(t, m->path, m->from, &done)) || !done)
			break;
		rep->renames_undone++;
		if (m->trash && !(err = move_back(t, m->trash, m->path, &done)) && done) {
			free(m->trash);
			m->trash = NULL;
		}
		break;
	}
	return err;
}

/* Marks the entries to undo: per directory, a suffix of its entries, of a
 * length drawn from the seed and the directory's oldest entry (not from its
 * name: a test replaying a seed in another temporary directory gets the
 * same fates). */
static void pick_undone(struct twin *t, struct meta **es, size_t k, bool *undone)
{
	for (size_t i = 0; i < k; i++) {
		size_t rank = 0, total = 0;
		uint64_t first = 0;
		for (size_t j = 0; j < k; j++) {
			if (strcmp(es[j]->dir, es[i]->dir))
				continue;
			if (!total++)
				first = es[j]->seq;
			rank += j < i;
		}
		uint64_t cut = fault_rand(t->seed, first, 4) % (total + 1);
		undone[i] = rank >= cut;
	}
}

static int revert_meta(struct twin *t, struct vg_fault_report *rep)
{
	size_t k = 0;
	for (struct meta *m = t->meta; m; m = m->next)
		k++;
	if (!k)
		return 0;
	struct meta **es = malloc(k * sizeof *es);
	bool *undone = malloc(k * sizeof *undone);
	int err = 0;
	if (!es || !undone) {
		err = VG_ERR(VG_ENOMEM, "out of memory simulating power loss");
		goto out;
	}
	k = 0;
	for (struct meta *m = t->meta; m; m = m->next)
		es[k++] = m;
	pick_undone(t, es, k, undone);
	/* Removals that happened are final before anything is undone: an
	 * undone mkdir needs its directory empty. */
	for (size_t i = 0; i < k; i++) {
		if (!undone[i] && es[i]->trash) {
			trash_delete(t, es[i]->trash);
			free(es[i]->trash);
			es[i]->trash = NULL;
		}
	}
	for (size_t i = k; i-- > 0;) {
		if (!undone[i])
			continue;
		int e = undo_meta(t, es[i], rep);
		if (!err)
			err = e;
	}
out:
	free(es);
	free(undone);
	/* What was not undone happened: its trash goes for good. */
	meta_settle(t, every, NULL, 0);
	return err;
}

int fault_do_powerloss(struct twin *t, struct vg_fault_report *rep)
{
	struct vg_fault_report r = {0};
	int err = 0;
	for (struct node *n = t->nodes; n; n = n->next) {
		if (n->undo && !n->deleted) {
			int e = revert_node(t, n, &r);
			if (!err)
				err = e;
		}
	}
	int e = revert_meta(t, &r);
	if (!err)
		err = e;
	for (struct node *n = t->nodes, *next; n; n = next) {
		next = n->next;
		undo_free(t, n);
		node_free_if_unused(t, n);
	}
	if (rep)
		*rep = r;
	return err;
}
