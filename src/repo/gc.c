/*
 * gc.c - garbage collection: drop what no snapshot reaches, compact
 * mostly-dead segments, give their space back (see gc.h).
 *
 * Theory (each step is what makes a crash at that point harmless):
 *  1. Mark: walk every snapshot's trees from the committed root; every
 *     tree, tree part and chunk met is live.  A snapshot or tree that
 *     cannot be read stops the collection: nothing is deleted that is not
 *     proven unused.
 *  2. Account: every index entry is live or dead; each pack is dead (no
 *     live object), partly live or whole.  Each segment's rows are summed
 *     over the blocks the current state references, and over those that
 *     stay referenced in place; a segment whose dead share exceeds
 *     max_unused is to be cleaned.
 *  3. Move: the live objects of packs in segments to clean are copied,
 *     as stored bytes, into new packs; snapshot blocks there are copied
 *     whole.  All of it goes to new space (beyond the committed cursor;
 *     the cursor is first moved to a fresh segment when the current one is
 *     to be cleaned), so until step 4 nothing committed has changed.
 *  4. Commit: one new index run listing only live objects (at their new
 *     places), and a new root with it, committed at once.  Before the
 *     commit the old state is whole; after it the new one is.
 *  5. Reclaim: the committed state is walked again and every segment file
 *     below the cursor it does not use is deleted (pool/space.c).  This
 *     runs on every collection, so files left by a crash between 4 and 5
 *     go the next time.
 */
#include "repo/gc.h"

#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "repo/index.h"
#include "repo/index_disk.h"
#include "repo/obj.h"
#include "repo/pack.h"
#include "repo/reach.h"
#include "repo/repo.h"
#include "repo/walk.h"

#define DATA_TARGET (4u << 20) /* as the repository cuts its packs */
#define META_TARGET (2u << 20)

struct ent {
	struct vg_index_entry e; /* e.pack: number in g->x.packs */
	bool live;
};
/* vg_idfence looks the id up at the start of each entry */
_Static_assert(offsetof(struct ent, e.id) == 0, "struct ent must start with its id");

struct pkstat {
	uint32_t first, n; /* its entries in g->e (sorted by pack, offset) */
	uint32_t nlive;
};

/* Pack bp -> number, keyed by the first copy's place. */
struct pkmap {
	uint64_t *k;
	uint32_t *v;
	size_t cap, n;
};

struct builder {
	struct vg_pack_builder b;
	uint16_t type;
	int copies;
	size_t target;
	size_t *src; /* g->e index of each object */
	size_t srccap;
};

struct gc {
	struct vg_pool *pool;
	struct vg_repo *r;
	uint8_t master[VG_MASTER_LEN]; /* kept after r is closed: the new index is sealed */
	const uint8_t *key;            /* master, or NULL for an unencrypted vault */
	struct vg_root root;
	struct ent *e; /* every index entry: sorted by id while marking */
	size_t n, cap;
	bool unsorted; /* the scan did not give them in id order */
	struct vg_idfence fence; /* over e while it is sorted by id */
	struct vg_index x; /* only its pack list is used */
	struct pkstat *ps;
	struct pkmap map;
	uint32_t nsegs;
	uint64_t *used, *stay; /* rows per segment: referenced now, staying in place */
	uint8_t *clean;
	struct vg_gc_result *res;
	struct builder data, meta;
	struct vg_buf out;
	struct vg_sealer seal; /* pack tables (enc none until the key is known) */
};

static uint64_t bp_key(const struct vg_bp *bp) { return ((uint64_t)bp->dva[0].seg << 32 | bp->dva[0].off) + 1; }

static int map_find(struct pkmap *m, const struct vg_bp *bp, uint32_t *v)
{
	uint64_t k = bp_key(bp);
	if (!m->cap)
		return VG_ENOENT;
	for (size_t j = (k * 0x9e3779b97f4a7c15ull) & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
		if (!m->k[j])
			return VG_ENOENT;
		if (m->k[j] == k) {
			*v = m->v[j];
			return 0;
		}
	}
}

static int map_put(struct pkmap *m, uint64_t k, uint32_t v)
{
	if (2 * (m->n + 1) > m->cap) {
		size_t nc = m->cap ? 2 * m->cap : 1024;
		uint64_t *nk = calloc(nc, sizeof *nk);
		uint32_t *nv = calloc(nc, sizeof *nv);
		if (!nk || !nv) {
			free(nk);
			free(nv);
			return VG_ERR(VG_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->k[i])
				for (size_t j = (m->k[i] * 0x9e3779b97f4a7c15ull) & (nc - 1);; j = (j + 1) & (nc - 1))
					if (!nk[j]) {
						nk[j] = m->k[i];
						nv[j] = m->v[i];
						break;
					}
		free(m->k);
		free(m->v);
		m->k = nk;
		m->v = nv;
		m->cap = nc;
	}
	for (size_t j = (k * 0x9e3779b97f4a7c15ull) & (m->cap - 1);; j = (j + 1) & (m->cap - 1))
		if (!m->k[j]) {
			m->k[j] = k;
			m->v[j] = v;
			m->n++;
			return 0;
		}
}

/* ---- 1. mark ----
 *
 * The index entries are listed first (in id order, as the scan gives
 * them); marking sets their live flags through a binary search, so no
 * second set of ids is held: about half the memory a collection needs
 * per object.  A tree's own flag says it was walked already.  An id that
 * no entry has is not marked: a tree of that kind cannot be read, which
 * stops the walk (and the collection) as before. */

static struct ent *find_ent(struct gc *g, const struct vg_id *id) { return vg_idfence_find(&g->fence, id); }

static int mark_tree(void *ctx, const struct vg_id *id)
{
	struct ent *x = find_ent(ctx, id);
	if (x && x->live)
		return 1; /* walked already */
	if (x)
		x->live = true;
	return 0;
}

static int mark_part(void *ctx, const struct vg_id *id)
{
	struct ent *x = find_ent(ctx, id);
	if (x)
		x->live = true;
	return 0;
}

static int mark_entry(void *ctx, const char *path, const struct vg_tree_entry *e)
{
	(void)path;
	if (e->st.type == VG_FT_FILE)
		for (size_t i = 0; i < e->nchunks; i++)
			mark_part(ctx, &e->chunks[i]);
	return 0;
}

/* Dry run: drop the snapshots a forget would drop, as it would. */
static void exclude(struct gc *g, const struct vg_gc_opts *o)
{
	for (size_t k = 0; o && k < o->nexclude; k++)
		for (size_t j = 0; j < g->root.nsnaps; j++)
			if (vg_id_eq(&g->root.snaps[j].id, &o->exclude[k])) {
				memmove(&g->root.snaps[j], &g->root.snaps[j + 1],
					(g->root.nsnaps - j - 1) * sizeof g->root.snaps[0]);
				g->root.nsnaps--;
				break;
			}
}

static int mark(struct gc *g)
{
	struct vg_reach_ops o = {.tree = mark_tree, .part = mark_part, .entry = mark_entry, .ctx = g};
	for (size_t i = 0; i < g->root.nsnaps; i++) {
		struct vg_snapshot s;
		char hex[2 * VG_ID_LEN + 1];
		vg_id_hex(&g->root.snaps[i].id, hex);
		int err = vg_repo_snapshot_load(g->r, &g->root.snaps[i].id, &s);
		if (!err) {
			err = vg_reach_tree(g->r, &s.root, &o);
			vg_snapshot_release(&s);
		}
		if (err)
			return vg_err_prefix(err, "snapshot %.8s cannot be read completely, so nothing is deleted "
					     "(run 'vigil check', or forget that snapshot first)", hex);
	}
	return 0;
}

/* ---- 2. account ---- */

static int collect(void *ctx, const struct vg_index_entry *e, const struct vg_bp *pack)
{
	struct gc *g = ctx;
	uint32_t no;
	int err = 0;
	if (map_find(&g->map, pack, &no) &&
	    ((err = vg_index_add_pack(&g->x, pack, &no)) || (err = map_put(&g->map, bp_key(pack), no))))
		return err;
	if ((err = vg_grow(&g->e, &g->cap, g->n + 1, sizeof *g->e, "listing the index entries")) < 0)
		return err;
	if (g->n && vg_id_cmp(&g->e[g->n - 1].e.id, &e->id) >= 0)
		g->unsorted = true;
	struct ent *x = &g->e[g->n++];
	x->e = *e;
	x->e.pack = no;
	x->live = false;
	return 0;
}

static int by_id(const void *a, const void *b);

/* Every index entry, sorted by id, none live yet.  The array is sized
 * from the runs' counts up front (an upper bound: an id in two runs is
 * listed once), so it is not copied while it grows. */
static int list_entries(struct gc *g)
{
	uint64_t total = 0;
	for (size_t i = 0; i < g->root.nruns; i++)
		total += g->root.runs[i].count;
	if (total && total < (1ull << 31) && (g->e = malloc((size_t)total * sizeof *g->e)))
		g->cap = (size_t)total;
	int err = vg_index_scan(g->pool, &g->root, vg_repo_master(g->r), collect, g);
	if (!err && g->unsorted)
		qsort(g->e, g->n, sizeof *g->e, by_id);
	for (size_t i = 1; !err && i < g->n; i++)
		if (vg_id_eq(&g->e[i - 1].e.id, &g->e[i].e.id))
			err = VG_ERR(VG_ECORRUPT, "the index lists an object twice; nothing is deleted "
						  "(run 'vigil check')");
	return err ? err : vg_idfence_build(&g->fence, g->e, g->n, sizeof *g->e);
}

static int by_place(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->e.pack != y->e.pack)
		return x->e.pack < y->e.pack ? -1 : 1;
	return (x->e.off > y->e.off) - (x->e.off < y->e.off);
}

static int by_id(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	return vg_id_cmp(&x->e.id, &y->e.id);
}

static void add_rows(struct gc *g, const struct vg_bp *bp, uint64_t *to)
{
	uint32_t rows = vg_pool_block_rows(g->pool, bp->psize);
	for (int i = 0; i < bp->ndva; i++)
		if (bp->dva[i].seg < g->nsegs)
			to[bp->dva[i].seg] += rows;
}

/* Does the block stay referenced, in place, if nothing is moved? */
static int account_block(void *ctx, const struct vg_bp *bp, const char *what)
{
	struct gc *g = ctx;
	uint32_t no;
	add_rows(g, bp, g->used);
	bool snap = false;
	for (size_t i = 0; i < g->root.nsnaps && !strcmp(what, "snapshot") && !snap; i++)
		snap = vg_bp_same(&g->root.snaps[i].bp, bp);
	if (snap || (!strcmp(what, "pack") && !map_find(&g->map, bp, &no) && g->ps[no].nlive))
		add_rows(g, bp, g->stay);
	return 0;
}

static int account(struct gc *g, double max_unused)
{
	struct vg_gc_result *res = g->res;
	qsort(g->e, g->n, sizeof *g->e, by_place);
	if (!(g->ps = calloc(g->x.npacks ? g->x.npacks : 1, sizeof *g->ps)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (size_t i = 0; i < g->n; i++) {
		struct pkstat *p = &g->ps[g->e[i].e.pack];
		if (!p->n)
			p->first = (uint32_t)i;
		p->n++;
		p->nlive += g->e[i].live;
		if (!g->e[i].live) {
			res->dead_objects++;
			res->dead_bytes += g->e[i].e.slen;
		}
	}
	res->objects = g->n;
	res->packs = g->x.npacks;
	for (uint32_t i = 0; i < g->x.npacks; i++)
		res->dead_packs += g->ps[i].nlive == 0;
	g->nsegs = vg_pool_cursor_seg(g->pool) + 1;
	g->used = calloc(g->nsegs, sizeof *g->used);
	g->stay = calloc(g->nsegs, sizeof *g->stay);
	g->clean = calloc(g->nsegs, 1);
	if (!g->used || !g->stay || !g->clean)
		return VG_ERR(VG_ENOMEM, "out of memory");
	int err = vg_repo_walk_blocks(g->pool, account_block, g);
	if (err)
		return err;
	for (uint32_t s = 0; s < g->nsegs; s++) {
		if (!g->used[s])
			continue;
		res->segments++;
		if ((double)(g->used[s] - g->stay[s]) > max_unused * (double)g->used[s]) {
			g->clean[s] = 1;
			res->cleaned_segments++;
		}
	}
	return 0;
}

/* ---- 3. move ---- */

static bool in_clean(const struct gc *g, const struct vg_bp *bp)
{
	for (int i = 0; i < bp->ndva; i++)
		if (bp->dva[i].seg < g->nsegs && g->clean[bp->dva[i].seg])
			return true;
	return false;
}

/* A block that cannot be moved keeps its segments. */
static void keep_segs(struct gc *g, const struct vg_bp *bp)
{
	for (int i = 0; i < bp->ndva; i++)
		if (bp->dva[i].seg < g->nsegs && g->clean[bp->dva[i].seg]) {
			g->clean[bp->dva[i].seg] = 0;
			g->res->kept_segments++;
		}
}

static int flush_builder(struct gc *g, struct builder *b)
{
	struct vg_bp bp;
	uint32_t no;
	int err;
	if (!b->b.n)
		return 0;
	if ((err = vg_pack_finish(&b->b, &g->seal, &g->out)) || (err = vg_pool_write(g->pool, b->type, g->out.p, g->out.len,
									b->copies, &bp)) ||
	    (err = vg_index_add_pack(&g->x, &bp, &no)))
		return err;
	for (uint32_t i = 0; i < b->b.n; i++) {
		struct vg_index_entry *e = &g->e[b->src[i]].e;
		e->pack = no;
		e->off = b->b.e[i].off;
	}
	vg_pack_reset(&b->b);
	return 0;
}

static int builder_add(struct gc *g, struct builder *b, size_t ei, const uint8_t *stored, int copies)
{
	const struct vg_index_entry *e = &g->e[ei].e;
	int err;
	if (b->b.n && (vg_pack_size_with(&b->b, e->slen) > b->target || b->b.n == VG_PACK_MAX_OBJECTS) &&
	    (err = flush_builder(g, b)))
		return err;
	if ((err = vg_grow(&b->src, &b->srccap, (size_t)b->b.n + 1, sizeof *b->src, "repacking")) < 0)
		return err;
	if (copies > b->copies)
		b->copies = copies;
	b->src[b->b.n] = ei;
	return vg_pack_add(&b->b, &e->id, e->otype, e->comp, e->enc, stored, e->slen, e->rlen);
}

/* Copy the live objects of pack no into the builders. */
static int move_pack(struct gc *g, uint32_t no, uint8_t **buf)
{
	const struct vg_bp *bp = &g->x.packs[no];
	const struct pkstat *p = &g->ps[no];
	struct builder *b = bp->type == VG_BT_DATA_PACK ? &g->data : &g->meta;
	uint8_t *nb = realloc(*buf, bp->psize);
	if (!nb)
		return VG_ERR(VG_ENOMEM, "out of memory");
	*buf = nb;
	if (vg_pool_read(g->pool, bp, nb)) {
		keep_segs(g, bp);
		return 0;
	}
	struct vg_pack_entry *tab = NULL;
	uint32_t nt = 0, t = 0;
	int err = vg_pack_decode(nb, bp->psize, &g->seal, &tab, &nt);
	size_t moved = 0;
	/* Entries and the pack's table are both in offset order: every live
	 * entry must match the pack's own record of that object. */
	for (uint32_t i = p->first; i < p->first + p->n && !err; i++) {
		const struct vg_index_entry *e = &g->e[i].e;
		if (!g->e[i].live)
			continue;
		while (t < nt && tab[t].off < e->off)
			t++;
		if (t == nt || tab[t].off != e->off || tab[t].slen != e->slen || !vg_id_eq(&tab[t].id, &e->id)) {
			char b96[96];
			err = VG_ERR(VG_ECORRUPT, "the index and pack %s disagree about an object; nothing is deleted",
				     vg_bp_str(bp, b96));
			break;
		}
		err = builder_add(g, b, i, nb + e->off, bp->ndva);
		moved++;
		g->res->moved_bytes += e->slen;
	}
	free(tab);
	g->res->moved_objects += moved;
	g->res->repacked_packs += moved < p->n;
	return err;
}

static int move_snapshots(struct gc *g, uint8_t **buf)
{
	for (size_t i = 0; i < g->root.nsnaps; i++) {
		struct vg_bp *bp = &g->root.snaps[i].bp;
		if (!in_clean(g, bp))
			continue;
		uint8_t *nb = realloc(*buf, bp->psize);
		if (!nb)
			return VG_ERR(VG_ENOMEM, "out of memory");
		*buf = nb;
		if (vg_pool_read(g->pool, bp, nb)) {
			keep_segs(g, bp);
			continue;
		}
		int err = vg_pool_write(g->pool, bp->type, nb, bp->psize, bp->ndva, bp);
		if (err)
			return err;
		g->res->moved_objects++;
		g->res->moved_bytes += bp->psize;
	}
	return 0;
}

static int move(struct gc *g)
{
	uint8_t *buf = NULL;
	int err = 0;
	if (g->clean[g->nsegs - 1] && (err = vg_pool_seal(g->pool)))
		return err;
	for (uint32_t no = 0, np = g->x.npacks; no < np && !err; no++)
		if (g->ps[no].nlive && in_clean(g, &g->x.packs[no]))
			err = move_pack(g, no, &buf);
	if (!err && !(err = flush_builder(g, &g->data)) && !(err = flush_builder(g, &g->meta)))
		err = move_snapshots(g, &buf);
	free(buf);
	return err;
}

/* ---- 4. commit ---- */

/* One new run of the live entries, streamed through the run writer. */
static int write_index(struct gc *g, struct vg_runref *run, bool *any)
{
	struct vg_sealer s;
	struct vg_run_writer w;
	struct vg_drun out;
	size_t live = 0;
	memset(&w, 0, sizeof w);
	memset(&out, 0, sizeof out);
	int err = vg_sealer_init(&s, 0, g->root.cfg.enc, g->key);
	if (err)
		return err;
	qsort(g->e, g->n, sizeof *g->e, by_id);
	for (size_t i = 0; i < g->n; i++)
		live += g->e[i].live;
	if (!(err = vg_run_writer_init(&w, g->pool, &s, live, 0)))
		for (size_t i = 0; i < g->n && !err; i++)
			if (g->e[i].live)
				err = vg_run_writer_add(&w, &g->e[i].e, &g->x.packs[g->e[i].e.pack]);
	if (!err)
		err = vg_run_writer_finish(&w, &out);
	*run = out.ref;
	*any = out.ref.count > 0;
	vg_drun_release(&out);
	vg_run_writer_release(&w);
	vg_sealer_release(&s);
	return err;
}

static int commit(struct gc *g)
{
	struct vg_runref run;
	bool any;
	int err = write_index(g, &run, &any);
	if (err)
		return err;
	free(g->root.runs);
	g->root.runs = NULL;
	g->root.nruns = 0;
	if (any) {
		if (!(g->root.runs = malloc(sizeof run)))
			return VG_ERR(VG_ENOMEM, "out of memory");
		g->root.runs[0] = run;
		g->root.nruns = 1;
	}
	if ((err = vg_repo_publish_root(g->pool, &g->root)))
		return err;
	g->res->committed = true;
	return 0;
}

/* ---- 5. reclaim ---- */

struct livemap {
	uint8_t *seg;
	uint32_t nsegs;
	struct pkmap blocks;
};

static int live_block(void *ctx, const struct vg_bp *bp, const char *what)
{
	struct livemap *m = ctx;
	(void)what;
	for (int i = 0; i < bp->ndva; i++)
		if (bp->dva[i].seg < m->nsegs)
			m->seg[bp->dva[i].seg] = 1;
	return map_put(&m->blocks, bp_key(bp), 0);
}

/* The error log keeps only blocks still in use; rewriting it also moves
 * it out of segments about to go. */
static int trim_errlog(struct gc *g, struct livemap *m)
{
	const struct vg_bp *list;
	size_t n, k = 0;
	vg_pool_errlog(g->pool, &list, &n);
	if (!n)
		return 0;
	struct vg_bp *keep = malloc(n * sizeof *keep);
	if (!keep)
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		uint32_t v;
		if (!map_find(&m->blocks, &list[i], &v))
			keep[k++] = list[i];
	}
	int err = vg_pool_errlog_set(g->pool, keep, k);
	free(keep);
	return err;
}

static int reclaim(struct gc *g)
{
	struct livemap m = {.nsegs = vg_pool_cursor_seg(g->pool)};
	int err = 0;
	if (!(m.seg = calloc(m.nsegs ? m.nsegs : 1, 1)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	if (!(err = vg_repo_walk_blocks(g->pool, live_block, &m)) && (!g->res->committed || !(err = trim_errlog(g, &m))))
		err = vg_pool_reclaim(g->pool, m.seg, m.nsegs, &g->res->freed);
	free(m.seg);
	free(m.blocks.k);
	free(m.blocks.v);
	return err;
}

static void builder_init(struct builder *b, uint16_t type, size_t target)
{
	memset(b, 0, sizeof *b);
	vg_pack_init(&b->b);
	b->type = type;
	b->target = target;
	b->copies = 1;
}

static void builder_release(struct builder *b)
{
	vg_pack_release(&b->b);
	free(b->src);
}

int vg_repo_gc(struct vg_pool *pool, const struct vg_gc_opts *o, struct vg_gc_result *res)
{
	struct gc g;
	memset(&g, 0, sizeof g);
	memset(res, 0, sizeof *res);
	g.pool = pool;
	g.res = res;
	vg_index_init(&g.x);
	builder_init(&g.data, VG_BT_DATA_PACK, DATA_TARGET);
	builder_init(&g.meta, VG_BT_META_PACK, META_TARGET);
	vg_buf_init(&g.out, VG_POOL_MAX_BLOCK);
	double max_unused = o && o->max_unused > 0 ? o->max_unused : 0.2;
	int err;
	if (!(err = vg_reach_root(pool, &g.root)) && o && o->dry_run)
		exclude(&g, o);
	if (err || (err = vg_repo_open(pool, o ? o->repo : NULL, &g.r)) || (err = list_entries(&g)) ||
	    (err = mark(&g)) || (err = account(&g, max_unused)))
		goto out;
	if (vg_repo_master(g.r)) {
		memcpy(g.master, vg_repo_master(g.r), sizeof g.master);
		g.key = g.master;
	}
	if ((err = vg_sealer_init(&g.seal, 0, g.root.cfg.enc, g.key)) < 0)
		goto out;
	vg_repo_close(g.r);
	g.r = NULL;
	if (o && o->dry_run)
		goto out;
	bool moves = false;
	for (uint32_t i = 0; i < g.x.npacks && !moves; i++)
		moves = g.ps[i].nlive && in_clean(&g, &g.x.packs[i]);
	for (size_t i = 0; i < g.root.nsnaps && !moves; i++)
		moves = in_clean(&g, &g.root.snaps[i].bp);
	if ((res->dead_objects || moves) && ((err = move(&g)) || (err = commit(&g))))
		goto out;
	err = reclaim(&g);
out:
	vg_sealer_release(&g.seal);
	sodium_memzero(g.master, sizeof g.master);
	vg_repo_close(g.r);
	vg_root_release(&g.root);
	vg_index_release(&g.x);
	builder_release(&g.data);
	builder_release(&g.meta);
	vg_buf_release(&g.out);
	free(g.e);
	vg_idfence_release(&g.fence);
	free(g.ps);
	free(g.map.k);
	free(g.map.v);
	free(g.used);
	free(g.stay);
	free(g.clean);
	return err;
}
