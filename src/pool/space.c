/*
 * space.c - giving space back: sealing the current segment, deleting
 * segment files no committed state uses, and checking that a block lies
 * in allocated space.
 *
 * Theory of reclaim (the pool's side; the caller decides what is live):
 *  1. The allocator only appends, so the pool cannot free space block by
 *     block.  It frees whole segments: a segment file whose blocks are all
 *     dead is deleted on every device.  Segment numbers are never reused:
 *     the cursor only moves forward.
 *  2. A segment is deleted only when it lies wholly below the committed
 *     cursor (nothing will ever be written there again) and after the
 *     commit that stopped referencing it is durable.  The caller computes
 *     liveness from that committed state; the pool adds what only it
 *     knows: the segments of the committed root and error log stay.
 *  3. Older uberblocks in the ring may reference deleted segments.  Falling
 *     back to one of them is then impossible (its blocks fail to read and
 *     open moves on to an older one, and finally fails).  That fallback is
 *     only needed when every copy of the newest root is unreadable - three
 *     ditto copies over the layout's redundancy - so the trade is accepted
 *     rather than deferring frees across restarts.
 *  4. A crash between the commit and the deletions leaves dead segment
 *     files behind; the next reclaim deletes them (it deletes every dead
 *     segment file it finds, not a remembered list).  A deletion undone by
 *     power loss (directory not yet synced) brings back a dead file: the
 *     same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "pool/impl.h"

int vg_pool_seal(struct vg_pool *p)
{
	if (!p->writable)
		return VG_ERR(VG_EINVAL, "vault opened read-only");
	pthread_mutex_lock(&p->lock);
	if (p->cursor_off > 0) {
		p->cursor_seg++;
		p->cursor_off = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

uint32_t vg_pool_block_rows(const struct vg_pool *p, uint32_t psize)
{
	return vg_geom_rows(&p->layout, psize);
}

uint32_t vg_pool_cursor_seg(const struct vg_pool *p) { return p->ub.cursor_seg; }

static bool bp_in_seg(const struct vg_bp *bp, uint32_t seg)
{
	for (int i = 0; i < bp->ndva; i++)
		if (bp->dva[i].seg == seg)
			return true;
	return false;
}

/* Close the cached handles of segment seg on device d (dead data: unsynced
 * writes to it, if any, do not matter). */
static int drop_handles(struct vg_pool *p, int d, uint32_t seg)
{
	struct vg_dev *dev = &p->dev[d];
	int err = 0;
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < VG_SEG_CACHE; i++) {
		struct vg_seg_handle *h = &dev->seg[i];
		if (!h->f || h->seg != seg)
			continue;
		if (h->refs) {
			err = VG_ERR(VG_EBUSY, "segment %u of '%s' is in use", seg, dev->path);
			continue;
		}
		vg_os_close(h->f);
		memset(h, 0, sizeof *h);
	}
	pthread_mutex_unlock(&p->lock);
	return err;
}

struct sweep {
	const uint8_t *live;
	uint32_t nsegs;
	uint32_t *found;
	size_t n, cap;
	int err;
};

/* "seg-" and exactly 8 lowercase hex digits, as vg_seg_path() names them. */
static bool seg_name(const char *name, uint32_t *seg)
{
	if (strncmp(name, "seg-", 4) || strlen(name) != 12)
		return false;
	uint32_t v = 0;
	for (int i = 4; i < 12; i++) {
		char c = name[i];
		int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (x < 0)
			return false;
		v = v << 4 | (uint32_t)x;
	}
	*seg = v;
	return true;
}

static int sweep_entry(void *ctx, const char *name)
{
	struct sweep *s = ctx;
	uint32_t seg;
	if (!seg_name(name, &seg) || seg >= s->nsegs || s->live[seg])
		return 0;
	int err = vg_grow(&s->found, &s->cap, s->n + 1, sizeof *s->found, "listing dead segments");
	if (err)
		return s->err = err;
	s->found[s->n++] = seg;
	return 0;
}

/* Delete the dead segment files of one device; sum their sizes. */
static int sweep_dev(struct vg_pool *p, int d, struct sweep *s, struct vg_pool_reclaim *out)
{
	struct vg_dev *dev = &p->dev[d];
	s->n = 0;
	int err = vg_os_listdir(p->os, dev->path, sweep_entry, s);
	if (err)
		return s->err ? s->err : err;
	for (size_t i = 0; i < s->n && !err; i++) {
		char *path = vg_seg_path(dev->path, s->found[i]);
		struct vg_os_stat st = {0};
		if (!path)
			return VG_ERR(VG_ENOMEM, "out of memory");
		if ((err = drop_handles(p, d, s->found[i])) == 0 && (err = vg_os_stat(p->os, path, &st)) == 0 &&
		    (err = vg_os_unlink(p->os, path)) == 0) {
			out->files++;
			out->bytes += st.size;
		} else if (err == VG_ENOENT) {
			err = 0;
		}
		free(path);
	}
	if (!err && s->n)
		err = vg_os_syncdir(p->os, dev->path);
	return err;
}

/* Open a device's readers lock file, creating it when the directory
 * allows; NULL when it cannot be had (a reader then goes unprotected,
 * as on a read-only medium where nothing is pruned anyway). */
static struct vg_file *readers_file(struct vg_pool *p, const char *dev)
{
	struct vg_file *f = NULL;
	char *path = vg_path_join(dev, VG_READERS_NAME);
	if (path && vg_os_open(p->os, path, VG_O_RDWR | VG_O_CREAT, &f) < 0 &&
	    vg_os_open(p->os, path, VG_O_RDONLY, &f) < 0)
		f = NULL;
	free(path);
	return f;
}

void vg_pool_reader_lock(struct vg_pool *p, const char *dev)
{
	struct vg_file *f = readers_file(p, dev);
	if (f && vg_os_lock_shared(f) < 0) {
		vg_os_close(f);
		f = NULL;
	}
	p->readers = f;
}

/* Exclusive locks on every usable device's readers file, or false (all
 * released) when a reader holds one: its state may name dead segments. */
static bool no_readers(struct vg_pool *p, struct vg_file **held)
{
	bool ok = true;
	for (int d = 0; d < p->ndevs; d++) {
		held[d] = NULL;
		if (ok && vg_dev_usable(p, d) && (held[d] = readers_file(p, p->dev[d].path)) &&
		    vg_os_lock(held[d]) == VG_EBUSY)
			ok = false;
	}
	if (!ok)
		for (int d = 0; d < p->ndevs; d++) {
			vg_os_close(held[d]);
			held[d] = NULL;
		}
	vg_err_clear();
	return ok;
}

int vg_pool_reclaim(struct vg_pool *p, const uint8_t *live, uint32_t nsegs, struct vg_pool_reclaim *out)
{
	memset(out, 0, sizeof *out);
	if (!p->writable)
		return VG_ERR(VG_EINVAL, "vault opened read-only");
	if (p->sticky)
		return VG_ERR(VG_EREADONLY, "an earlier write to this vault failed; reopen it to continue");
	/* Only complete segments, and never one the committed state names. */
	if (nsegs > p->ub.cursor_seg)
		nsegs = p->ub.cursor_seg;
	uint8_t *keep = malloc(nsegs ? nsegs : 1);
	if (!keep)
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (uint32_t s = 0; s < nsegs; s++)
		keep[s] = live[s] || (p->ub.has_root && bp_in_seg(&p->ub.root, s)) ||
			  (p->ub.has_errlog && bp_in_seg(&p->ub.errlog, s));
	struct sweep sw = {.live = keep, .nsegs = nsegs};
	struct vg_file *held[VG_POOL_MAX_DEVS];
	int err = 0;
	if (!no_readers(p, held)) {
		out->deferred = true; /* the next reclaim deletes them */
		free(keep);
		return 0;
	}
	for (int d = 0; d < p->ndevs; d++) {
		if (!vg_dev_usable(p, d))
			continue; /* its dead files go at a later reclaim */
		int e = sweep_dev(p, d, &sw, out);
		if (e && !err)
			err = vg_err_prefix(e, "freeing segments on '%s'", p->dev[d].path);
	}
	for (int d = 0; d < p->ndevs; d++)
		vg_os_close(held[d]);
	free(sw.found);
	free(keep);
	return err;
}

int vg_pool_block_allocated(struct vg_pool *p, const struct vg_bp *bp)
{
	char b[96];
	uint32_t rows = vg_geom_rows(&p->layout, bp->psize);
	for (int i = 0; i < bp->ndva; i++) {
		const struct vg_dva *v = &bp->dva[i];
		bool below = v->seg < p->ub.cursor_seg || (v->seg == p->ub.cursor_seg && v->off + rows <= p->ub.cursor_off);
		if (!below || v->off + rows > VG_SEG_ROWS)
			return VG_ERR(VG_ECORRUPT, "%s lies beyond the allocated space", vg_bp_str(bp, b));
		struct vg_geom g;
		vg_geom_of(&p->layout, bp->psize, v, &g);
		for (int c = 0; c < g.ncols; c++) {
			int d = g.dev[c];
			if (!vg_dev_usable(p, d))
				continue;
			char *path = vg_seg_path(p->dev[d].path, v->seg);
			struct vg_os_stat st = {0};
			if (!path)
				return VG_ERR(VG_ENOMEM, "out of memory");
			int err = vg_os_stat(p->os, path, &st);
			free(path);
			if (err && err != VG_ENOENT)
				return err;
			if (!st.exists)
				return VG_ERR(VG_ENOENT, "%s: segment file %u is missing on '%s'", vg_bp_str(bp, b),
					      v->seg, p->dev[d].path);
		}
	}
	return 0;
}
