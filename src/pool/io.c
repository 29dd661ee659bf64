/*
 * io.c - writing blocks, and reading them back verified and healed.
 *
 * Theory of the self-healing read (invariants):
 *  1. Bytes are returned only after their checksum (held in the bp) matches.
 *  2. Fast path: read the data columns of the first copy; if they verify,
 *     done - parity is not read (scrub verifies it).
 *  3. Otherwise read every column of that copy.  Columns on missing devices
 *     or that failed with an I/O error are known-bad (erasures).  Rebuild
 *     them from parity; if the checksum still fails, no device admitted
 *     the fault, so try each combination of up to (parity - erasures) more
 *     columns as erased until the checksum matches.  The columns whose
 *     rebuilt bytes differ from what was read are the silent corruption:
 *     that names the device.  Mirrors try each copy in turn instead.
 *  4. If a copy cannot be recovered, the next ditto copy is tried, and the
 *     earlier copies are repaired from the good data.
 *  5. Repair rewrites only columns proven bad (different from the verified
 *     data, or unreadable), in place, with the correct bytes; a column that
 *     read correctly is never rewritten.  CKSUM counts a proven-bad column,
 *     READ an I/O error, WRITE a failed write or repair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "pool/impl.h"

/* A column is stale when its device was unavailable as the block was
 * written (its dirty time log covers the block's birth): the column may
 * never have been written, or have been rebuilt by an earlier read.  It is
 * read and used if it verifies; if it is wrong or unreadable (COL_STALE)
 * it is rebuilt and written without blaming the device. */
enum { COL_UNREAD, COL_OK, COL_MISSING, COL_IOERR, COL_STALE };

struct stripe {
	struct vg_geom g;
	uint64_t birth;
	uint32_t psize;
	bool stale[VG_RS_MAX_COLS];
	bool from_old[VG_RS_MAX_COLS]; /* read from the device being replaced */
	struct vg_dva dva;
	uint8_t *mem;                 /* ncols * colsize */
	uint8_t *col[VG_RS_MAX_COLS]; /* into mem */
	int st[VG_RS_MAX_COLS];
};

/*
 * Scratch buffers are recycled through the pool: freshly allocated large
 * buffers are mmap'd and page-faulted on every use, which cost more than
 * the parity math itself.  At most VG_BUF_CACHE idle buffers are kept.
 */
static void *buf_get(struct vg_pool *p, size_t size)
{
	void *b = NULL;
	int best = -1;
	pthread_mutex_lock(&p->lock);
	/* the smallest that fits: a small request taking a large buffer
	 * would make the next large one allocate (and fault in) another */
	for (int i = 0; i < p->nbufs; i++)
		if (p->bufs[i].size >= size && (best < 0 || p->bufs[i].size < p->bufs[best].size))
			best = i;
	if (best >= 0) {
		b = p->bufs[best].p;
		p->bufs[best] = p->bufs[--p->nbufs];
	}
	pthread_mutex_unlock(&p->lock);
	if (!b) {
		size_t sz = size < ((size_t)1 << 20) ? ((size_t)1 << 20) : size;
		b = malloc(sz + sizeof(size_t));
		if (!b)
			return NULL;
		memcpy(b, &sz, sizeof sz);
		return (char *)b + sizeof(size_t);
	}
	return (char *)b + sizeof(size_t);
}

static void buf_put(struct vg_pool *p, void *ub)
{
	if (!ub)
		return;
	void *b = (char *)ub - sizeof(size_t);
	size_t sz;
	memcpy(&sz, b, sizeof sz);
	pthread_mutex_lock(&p->lock);
	if (p->nbufs < VG_BUF_CACHE) {
		p->bufs[p->nbufs].p = b;
		p->bufs[p->nbufs].size = sz;
		p->nbufs++;
		b = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	free(b);
}

void vg_pool_bufs_free(struct vg_pool *p)
{
	for (int i = 0; i < p->nbufs; i++)
		free(p->bufs[i].p);
	p->nbufs = 0;
}

static int stripe_init(struct vg_pool *p, const struct vg_bp *bp, int i, struct stripe *s)
{
	memset(s, 0, sizeof *s);
	s->dva = bp->dva[i];
	s->birth = bp->birth;
	s->psize = bp->psize;
	vg_geom_of(&p->layout, bp->psize, &s->dva, &s->g);
	if ((uint64_t)s->dva.off + s->g.rows > VG_SEG_ROWS)
		return VG_ERR(VG_ECORRUPT, "block pointer runs past the end of segment %u", s->dva.seg);
	s->mem = buf_get(p, (size_t)s->g.ncols * s->g.colsize);
	if (!s->mem)
		return VG_ERR(VG_ENOMEM, "out of memory reading a %u-byte block", bp->psize);
	for (int c = 0; c < s->g.ncols; c++)
		s->col[c] = s->mem + (size_t)c * s->g.colsize;
	return 0;
}

static void stripe_release(struct vg_pool *p, struct stripe *s)
{
	buf_put(p, s->mem);
	s->mem = NULL;
}

/* Write len bytes at byte `at` of a column (errors are counted by the
 * caller, once per block and device). */
static int write_col(struct vg_pool *p, int d, const struct vg_dva *dva, const void *buf, size_t len, size_t at)
{
	struct vg_seg_handle *h;
	int err = vg_dev_get(p, d, dva->seg, true, &h);
	if (!err) {
		err = vg_os_pwrite(h->f, buf, len, (uint64_t)dva->off * VG_SECTOR + at);
		vg_dev_put(p, h, !err);
	}
	return err;
}

static void read_col(struct vg_pool *p, struct stripe *s, int c)
{
	int d = s->g.dev[c];
	if (s->st[c] != COL_UNREAD)
		return;
	if (!vg_dev_usable(p, d)) {
		s->st[c] = COL_MISSING;
		return;
	}
	const struct vg_dev *dev = &p->dev[d];
	s->stale[c] = dev->dtl_start && s->birth >= dev->dtl_start && (!dev->dtl_end || s->birth < dev->dtl_end);
	struct vg_seg_handle *h;
	size_t got = 0;
	int err = vg_dev_get(p, d, s->dva.seg, false, &h);
	if (!err) {
		err = vg_os_pread(h->f, s->col[c], s->g.colsize, (uint64_t)s->dva.off * VG_SECTOR, &got);
		vg_dev_put(p, h, false);
	}
	if (err) {
		if (s->stale[c]) {
			s->st[c] = COL_STALE;
			return;
		}
		vg_dev_count(p, d, 'r');
		s->st[c] = COL_IOERR;
		return;
	}
	/* A short read (truncated segment file) is wrong content, not an I/O
	 * error: the checksum search finds and repairs it. */
	memset(s->col[c] + got, 0, s->g.colsize - got);
	s->st[c] = COL_OK;
}

static bool verify(const struct vg_bp *bp, const uint8_t *data)
{
	uint8_t sum[VG_CKSUM_LEN];
	vg_cksum(bp->cksum_alg, data, bp->psize, sum);
	return !memcmp(sum, bp->cksum, VG_CKSUM_LEN);
}

/* Fill `good` (ncols * colsize) with the correct stripe, given correct
 * data in its first psize bytes.  The padding after the data is zeroed
 * first: it is outside the checksum, so damage there would otherwise pass
 * into the parity computed here and blame (and rewrite) a good column. */
static void expected(const struct vg_pool *p, const struct stripe *s, uint8_t *good)
{
	memset(good + s->psize, 0, (size_t)s->g.ndata * s->g.colsize - s->psize);
	if (p->layout.kind == VG_LAYOUT_MIRROR) {
		for (int c = 1; c < s->g.ncols; c++)
			memcpy(good + (size_t)c * s->g.colsize, good, s->g.colsize);
		return;
	}
	uint8_t *cols[VG_RS_MAX_COLS];
	for (int c = 0; c < s->g.ncols; c++)
		cols[c] = good + (size_t)c * s->g.colsize;
	vg_rs_encode(s->g.ndata, s->g.nparity, s->g.colsize, cols);
}

/* Rewrite the columns of s that differ from `good` or could not be read.
 * Adds to *rebuilt the bytes of columns that were only missing (a device
 * that was away, or is new); returns the bytes of columns in error. */
static uint64_t repair(struct vg_pool *p, struct stripe *s, const uint8_t *good, uint64_t *rebuilt)
{
	uint64_t bad_bytes = 0;
	for (int c = 0; c < s->g.ncols; c++) {
		const uint8_t *want = good + (size_t)c * s->g.colsize;
		int d = s->g.dev[c];
		bool bad = false, error = false;
		if (s->st[c] == COL_OK && memcmp(s->col[c], want, s->g.colsize)) {
			error = !s->stale[c];
			if (error)
				vg_dev_count(p, d, 'c');
			bad = true;
		} else if (s->st[c] == COL_IOERR || s->st[c] == COL_STALE || s->from_old[c]) {
			error = s->st[c] == COL_IOERR;
			bad = true; /* missing on its device: write it there */
		}
		if (!bad)
			continue;
		if (error)
			bad_bytes += s->g.colsize;
		else if (rebuilt)
			*rebuilt += s->g.colsize;
		if (p->writable && !p->sticky && vg_dev_usable(p, d) && write_col(p, d, &s->dva, want, s->g.colsize, 0))
			vg_dev_count(p, d, 'w');
	}
	return bad_bytes;
}

/*
 * A device being replaced may still be readable.  Its successor's columns
 * are rebuilt from the other devices; only when that fails is the old
 * device read (btrfs replace -r: the source is the last resort).  Loads the
 * old copies of such columns into s; returns how many it loaded.
 */
static int load_old(struct vg_pool *p, struct stripe *s)
{
	int loaded = 0;
	for (int c = 0; c < s->g.ncols; c++) {
		const struct vg_dev *dev = &p->dev[s->g.dev[c]];
		if (!dev->old_path[0] || (s->st[c] == COL_OK && !s->stale[c]))
			continue;
		char *path = vg_seg_path(dev->old_path, s->dva.seg);
		struct vg_file *f = NULL;
		size_t got = 0;
		if (path && !vg_os_open(p->os, path, VG_O_RDONLY, &f) &&
		    !vg_os_pread(f, s->col[c], s->g.colsize, (uint64_t)s->dva.off * VG_SECTOR, &got)) {
			memset(s->col[c] + got, 0, s->g.colsize - got);
			s->st[c] = COL_OK;
			s->stale[c] = true; /* wrong bytes from it blame nobody */
			s->from_old[c] = true;
			loaded++;
		}
		vg_os_close(f);
		free(path);
	}
	return loaded;
}

static bool next_comb(int *idx, int r, int n)
{
	int i = r - 1;
	while (i >= 0 && idx[i] == n - r + i)
		i--;
	if (i < 0)
		return false;
	idx[i]++;
	for (int j = i + 1; j < r; j++)
		idx[j] = idx[j - 1] + 1;
	return true;
}

/* Try to recover the data of stripe s.  On success `good` holds the whole
 * correct stripe.  Reads the columns it needs. */
static bool recover(struct vg_pool *p, const struct vg_bp *bp, struct stripe *s, uint8_t *good)
{
	const struct vg_geom *g = &s->g;
	size_t total = (size_t)g->ncols * g->colsize;
	for (int c = 0; c < g->ncols; c++)
		read_col(p, s, c);

	if (p->layout.kind == VG_LAYOUT_MIRROR) {
		for (int c = 0; c < g->ncols; c++) {
			if (s->st[c] != COL_OK || !verify(bp, s->col[c]))
				continue;
			memcpy(good, s->col[c], g->colsize);
			expected(p, s, good);
			return true;
		}
		return false;
	}
	if (g->nparity == 0) {
		for (int c = 0; c < g->ncols; c++)
			if (s->st[c] != COL_OK)
				return false;
		if (!verify(bp, s->mem))
			return false;
		memcpy(good, s->mem, total);
		return true;
	}

	bool erased[VG_RS_MAX_COLS] = {0};
	int known = 0, cand[VG_RS_MAX_COLS], ncand = 0;
	for (int c = 0; c < g->ncols; c++) {
		if (s->st[c] == COL_OK) {
			cand[ncand++] = c;
		} else {
			erased[c] = true;
			known++;
		}
	}
	if (known > g->nparity)
		return false;
	for (int r = 0; r <= g->nparity - known; r++) {
		int idx[VG_RS_MAX_COLS];
		for (int i = 0; i < r; i++)
			idx[i] = i;
		do {
			bool e[VG_RS_MAX_COLS];
			memcpy(e, erased, sizeof e);
			for (int i = 0; i < r; i++)
				e[cand[idx[i]]] = true;
			/* With no data column erased the data is what was read:
			 * verify it once (r = 0; columns may have been loaded from
			 * a device being replaced), never again. */
			bool any_data = r == 0 && known == 0;
			for (int c = 0; c < g->ndata; c++)
				any_data = any_data || e[c];
			if (!any_data)
				continue;
			memcpy(good, s->mem, total);
			uint8_t *cols[VG_RS_MAX_COLS];
			for (int c = 0; c < g->ncols; c++)
				cols[c] = good + (size_t)c * g->colsize;
			if (vg_rs_reconstruct(g->ndata, g->nparity, g->colsize, cols, e))
				continue;
			if (verify(bp, good)) {
				expected(p, s, good);
				return true;
			}
		} while (r > 0 && next_comb(idx, r, ncand));
	}
	return false;
}

int vg_pool_read(struct vg_pool *p, const struct vg_bp *bp, void *buf)
{
	struct stripe s[VG_BP_MAX_DVA];
	uint8_t *good = NULL;
	int err = 0, nread = 0;
	char b[96];

	if (bp->ndva < 1 || bp->ndva > VG_BP_MAX_DVA || bp->psize < 1 || bp->psize > VG_POOL_MAX_BLOCK)
		return VG_ERR(VG_ECORRUPT, "invalid block pointer");
	for (int i = 0; i < bp->ndva; i++) {
		if ((err = stripe_init(p, bp, i, &s[i])))
			goto out;
		nread++;
		/* fast path: the data columns alone */
		bool all = true;
		for (int c = 0; c < s[i].g.ndata; c++) {
			read_col(p, &s[i], c);
			if (s[i].st[c] != COL_OK)
				all = false;
		}
		if (all && verify(bp, s[i].mem)) {
			memcpy(buf, s[i].mem, bp->psize);
			if (i > 0)
				goto heal_earlier;
			goto out;
		}
		if (!good && !(good = buf_get(p, (size_t)s[i].g.ncols * s[i].g.colsize))) {
			err = VG_ERR(VG_ENOMEM, "out of memory");
			goto out;
		}
		if (recover(p, bp, &s[i], good) || (load_old(p, &s[i]) && recover(p, bp, &s[i], good))) {
			repair(p, &s[i], good, NULL);
			memcpy(buf, good, bp->psize);
			if (i > 0)
				goto heal_earlier;
			goto out;
		}
	}
	{
		char devs[1024] = "";
		size_t n = 0;
		bool io = false;
		for (int i = 0; i < nread; i++)
			for (int c = 0; c < s[i].g.ncols; c++) {
				if (s[i].st[c] == COL_OK)
					continue;
				io = io || s[i].st[c] == COL_IOERR;
				int w = snprintf(devs + n, sizeof devs - n, "%s'%s' %s", n ? ", " : "",
						 p->dev[s[i].g.dev[c]].path,
						 s[i].st[c] == COL_MISSING ? "missing"
						 : s[i].st[c] == COL_STALE ? "not yet resilvered" : "unreadable");
				if (w > 0 && (size_t)w < sizeof devs - n)
					n += (size_t)w;
			}
		vg_pool_errlog_add(p, bp);
		err = VG_ERR(io ? VG_EIO : VG_ECORRUPT,
			     "%s is damaged beyond repair: no copy or reconstruction matches its checksum%s%s",
			     vg_bp_str(bp, b), n ? "; " : "", devs);
	}
	goto out;

heal_earlier:
	/* buf holds verified data: rebuild each failed earlier copy from it. */
	for (int i = 0; i < nread - 1; i++) {
		size_t total = (size_t)s[i].g.ncols * s[i].g.colsize;
		if (!good && !(good = buf_get(p, total)))
			break;
		memset(good, 0, total);
		memcpy(good, buf, bp->psize);
		expected(p, &s[i], good);
		for (int c = 0; c < s[i].g.ncols; c++)
			read_col(p, &s[i], c);
		repair(p, &s[i], good, NULL);
	}
out:
	for (int i = 0; i < nread; i++)
		stripe_release(p, &s[i]);
	buf_put(p, good);
	return err;
}

/*
 * One copy of a block.  Full data columns are written straight from the
 * caller's buffer; parity, mirror copies and the last (padded) data column
 * are produced and written in WRITE_SLICE pieces, so a write needs
 * (1 + nparity) slices of scratch whatever the block's size, and the
 * parity math runs on data still in cache.
 */
#define WRITE_SLICE (256u << 10)

static int write_copy(struct vg_pool *p, const struct vg_bp *bp, const struct vg_dva *dva, const void *data,
		      size_t len)
{
	struct vg_geom g;
	vg_geom_of(&p->layout, bp->psize, dva, &g);
	bool mirror = p->layout.kind == VG_LAYOUT_MIRROR;
	bool failed[VG_RS_MAX_COLS] = {false}, away[VG_RS_MAX_COLS];
	size_t sl = g.colsize < WRITE_SLICE ? g.colsize : WRITE_SLICE;
	uint8_t *scratch = buf_get(p, (size_t)(1 + g.nparity) * sl);
	if (!scratch)
		return VG_ERR(VG_ENOMEM, "out of memory writing a %zu-byte block", len);
	for (int c = 0; c < g.ncols; c++)
		failed[c] = away[c] = !vg_dev_usable(p, g.dev[c]);
	/* whole data columns first */
	for (int c = 0; c < g.ndata; c++) {
		size_t start = (size_t)c * g.colsize;
		if (start + g.colsize <= len && !failed[c])
			failed[c] = write_col(p, g.dev[c], dva, (const uint8_t *)data + start, g.colsize, 0) < 0;
	}
	for (size_t at = 0; at < g.colsize; at += sl) {
		size_t n = g.colsize - at < sl ? g.colsize - at : sl;
		uint8_t *cols[VG_RS_MAX_COLS];
		int padded = -1;
		for (int c = 0; c < g.ndata; c++) {
			size_t start = (size_t)c * g.colsize + at;
			if ((size_t)c * g.colsize + g.colsize <= len) {
				cols[c] = (uint8_t *)data + start;
				continue;
			}
			/* the last data column: the block's tail, then zeros */
			size_t have = start < len ? len - start : 0;
			if (have > n)
				have = n;
			memcpy(scratch, (const uint8_t *)data + start, have);
			memset(scratch + have, 0, n - have);
			cols[c] = scratch;
			padded = c;
		}
		for (int c = g.ndata; c < g.ncols; c++)
			cols[c] = mirror ? cols[0] : scratch + (size_t)(1 + c - g.ndata) * sl;
		if (!mirror)
			vg_rs_encode(g.ndata, g.nparity, n, cols);
		for (int c = 0; c < g.ncols; c++)
			if ((c == padded || c >= g.ndata) && !failed[c])
				failed[c] = write_col(p, g.dev[c], dva, cols[c], n, at) < 0;
	}
	buf_put(p, scratch);
	int lost = 0;
	for (int c = 0; c < g.ncols; c++) {
		if (failed[c] && !away[c])
			vg_dev_count(p, g.dev[c], 'w');
		lost += failed[c];
	}
	if (lost > g.nparity) {
		char b[96];
		return VG_ERR(VG_EIO, "cannot write %s: %d of %d columns failed", vg_bp_str(bp, b), lost, g.ncols);
	}
	return 0;
}

int vg_pool_write(struct vg_pool *p, uint16_t type, const void *data, size_t len, int copies,
		  struct vg_bp *bp)
{
	if (!p->writable)
		return VG_ERR(VG_EINVAL, "vault opened read-only");
	if (p->sticky)
		return VG_ERR(VG_EREADONLY, "an earlier write to this vault failed; reopen it to continue");
	if (len < 1 || len > VG_POOL_MAX_BLOCK || copies < 1 || copies > VG_BP_MAX_DVA)
		return VG_ERR(VG_EINVAL, "bad block write (%zu bytes, %d copies)", len, copies);

	memset(bp, 0, sizeof *bp);
	bp->ndva = (uint8_t)copies;
	bp->cksum_alg = VG_CKSUM_XXH3_128;
	bp->type = type;
	bp->psize = (uint32_t)len;
	bp->birth = p->ub.txg + 1;
	vg_cksum(bp->cksum_alg, data, len, bp->cksum);

	uint32_t rows = vg_geom_rows(&p->layout, bp->psize);
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < copies; i++) {
		if (p->cursor_off + rows > VG_SEG_ROWS) {
			p->cursor_seg++;
			p->cursor_off = 0;
		}
		bp->dva[i].seg = p->cursor_seg;
		bp->dva[i].off = p->cursor_off;
		p->cursor_off += rows;
	}
	pthread_mutex_unlock(&p->lock);

	int err = 0;
	for (int i = 0; i < copies && !err; i++)
		err = write_copy(p, bp, &bp->dva[i], data, len);
	return err;
}

/* The common case of a scrub: every column read, the data verifies, the
 * padding is zero and every parity (or mirror) column equals what the data
 * gives.  Checked without copying the stripe: parity is computed from the
 * columns as read into `scratch` (nparity columns) and compared.  False
 * sends the stripe down the full path (copy, rebuild, repair). */
static bool scrub_intact(const struct vg_pool *p, const struct vg_bp *bp, const struct stripe *s, uint8_t *scratch)
{
	const struct vg_geom *g = &s->g;
	for (int c = 0; c < g->ncols; c++)
		if (s->st[c] != COL_OK || s->from_old[c])
			return false;
	if (!verify(bp, s->mem))
		return false;
	const uint8_t *pad = s->mem + s->psize, *end = s->mem + (size_t)g->ndata * g->colsize;
	for (; pad < end; pad++)
		if (*pad)
			return false;
	if (p->layout.kind == VG_LAYOUT_MIRROR) {
		for (int c = 1; c < g->ncols; c++)
			if (memcmp(s->col[c], s->col[0], g->colsize))
				return false;
		return true;
	}
	/* Parity is recomputed and compared slice by slice, so the expected
	 * parity stays in cache instead of making a round trip to memory. */
	const size_t slice = 64 * 1024;
	uint8_t *cols[VG_RS_MAX_COLS];
	for (size_t off = 0; off < g->colsize; off += slice) {
		size_t len = g->colsize - off < slice ? g->colsize - off : slice;
		for (int c = 0; c < g->ndata; c++)
			cols[c] = s->col[c] + off;
		for (int c = g->ndata; c < g->ncols; c++)
			cols[c] = scratch + (size_t)(c - g->ndata) * slice;
		vg_rs_encode(g->ndata, g->nparity, len, cols);
		for (int c = g->ndata; c < g->ncols; c++)
			if (memcmp(cols[c], s->col[c] + off, len))
				return false;
	}
	return true;
}

/*
 * Scrub one block: unlike a read, every column of every copy is read and
 * checked - parity included - so damage that a normal read would never
 * touch is found and repaired while redundancy still allows.
 */
int vg_pool_scrub_block(struct vg_pool *p, const struct vg_bp *bp, struct vg_scrub_counts *cnt)
{
	struct stripe s[VG_BP_MAX_DVA];
	bool ok[VG_BP_MAX_DVA] = {0};
	uint8_t *good = NULL, *data = NULL;
	const uint8_t *intact = NULL; /* a copy found whole: no repair needed */
	bool borrowed = false;         /* data points into a stripe, not malloc'd */
	int err = 0, n = 0;

	if (bp->ndva < 1 || bp->ndva > VG_BP_MAX_DVA || bp->psize < 1 || bp->psize > VG_POOL_MAX_BLOCK)
		return VG_ERR(VG_ECORRUPT, "invalid block pointer");
	for (int i = 0; i < bp->ndva; i++) {
		if ((err = stripe_init(p, bp, i, &s[i])))
			goto out;
		n++;
		size_t total = (size_t)s[i].g.ncols * s[i].g.colsize;
		if (!good && !(good = buf_get(p, total))) {
			err = VG_ERR(VG_ENOMEM, "out of memory");
			goto out;
		}
		for (int c = 0; c < s[i].g.ncols; c++)
			read_col(p, &s[i], c);
		cnt->bytes += total;
		if (scrub_intact(p, bp, &s[i], good)) {
			ok[i] = true;
			if (!intact)
				intact = s[i].mem; /* valid until the stripe is released */
			continue;
		}
		bool data_ok = true;
		for (int c = 0; c < s[i].g.ndata; c++)
			data_ok = data_ok && s[i].st[c] == COL_OK;
		if (data_ok && verify(bp, s[i].mem)) {
			memcpy(good, s[i].mem, total);
			expected(p, &s[i], good);
			ok[i] = true;
		} else {
			ok[i] = recover(p, bp, &s[i], good) || (load_old(p, &s[i]) && recover(p, bp, &s[i], good));
		}
		if (ok[i]) {
			uint64_t b = repair(p, &s[i], good, &cnt->rebuilt_bytes);
			cnt->repaired_bytes += b;
			cnt->errors += b ? 1 : 0;
			if (!data && !(data = malloc(bp->psize))) {
				err = VG_ERR(VG_ENOMEM, "out of memory");
				goto out;
			}
			memcpy(data, good, bp->psize);
		}
	}
	if (!data && intact)
		data = (uint8_t *)intact, intact = NULL, borrowed = true;
	if (!data) {
		char b[96];
		cnt->errors++;
		cnt->unrecoverable++;
		vg_pool_errlog_add(p, bp);
		err = VG_ERR(VG_ECORRUPT, "%s is damaged beyond repair", vg_bp_str(bp, b));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (ok[i])
			continue;
		size_t total = (size_t)s[i].g.ncols * s[i].g.colsize;
		memset(good, 0, total);
		memcpy(good, data, bp->psize);
		expected(p, &s[i], good);
		uint64_t b = repair(p, &s[i], good, &cnt->rebuilt_bytes);
		cnt->repaired_bytes += b;
		cnt->errors++;
	}
out:
	if (!borrowed)
		free(data);
	for (int i = 0; i < n; i++)
		stripe_release(p, &s[i]);
	buf_put(p, good);
	return err;
}
