/*
 * index.c - the in-memory id table and the encoding of index runs.
 *
 * Invariants checked by the decoders (a violation is VG_ECORRUPT): ids in
 * a block strictly ascend; every pack number is below the block's pack
 * count; a run's blocks are in ascending, non-overlapping id ranges and
 * their counts add up to the run's total.
 */
#include "repo/index.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "repo/obj.h"

#define INDEX_VERSION 1

void vg_index_init(struct vg_index *x) { memset(x, 0, sizeof *x); }

void vg_index_release(struct vg_index *x)
{
	free(x->slot);
	free(x->packs);
	memset(x, 0, sizeof *x);
}

static size_t slot_of(const struct vg_id *id, size_t cap) { return vg_get64(id->b) & (cap - 1); }

struct vg_index_entry *vg_index_find(const struct vg_index *x, const struct vg_id *id)
{
	if (!x->cap)
		return NULL;
	for (size_t i = slot_of(id, x->cap);; i = (i + 1) & (x->cap - 1)) {
		struct vg_index_entry *e = &x->slot[i];
		if (!e->otype)
			return NULL;
		if (vg_id_eq(&e->id, id))
			return e;
	}
}

static int grow(struct vg_index *x)
{
	size_t ncap = x->cap ? x->cap * 2 : 1024;
	struct vg_index_entry *ns = calloc(ncap, sizeof *ns);
	if (!ns)
		return VG_ERR(VG_ENOMEM, "out of memory growing the chunk index to %zu entries", ncap);
	for (size_t j = 0; j < x->cap; j++) {
		if (!x->slot[j].otype)
			continue;
		size_t i = slot_of(&x->slot[j].id, ncap);
		while (ns[i].otype)
			i = (i + 1) & (ncap - 1);
		ns[i] = x->slot[j];
	}
	free(x->slot);
	x->slot = ns;
	x->cap = ncap;
	return 0;
}

int vg_index_insert(struct vg_index *x, const struct vg_index_entry *e, struct vg_index_entry **out)
{
	int err;
	if (2 * (x->n + 1) > x->cap && (err = grow(x)) < 0)
		return err;
	size_t i = slot_of(&e->id, x->cap);
	for (; x->slot[i].otype; i = (i + 1) & (x->cap - 1))
		if (vg_id_eq(&x->slot[i].id, &e->id))
			return VG_ERR(VG_EEXIST, "object already indexed");
	x->slot[i] = *e;
	x->n++;
	if (out)
		*out = &x->slot[i];
	return 0;
}

int vg_index_add_pack(struct vg_index *x, const struct vg_bp *bp, uint32_t *no)
{
	if (x->npacks == x->packcap) {
		if (x->packcap >= VG_INDEX_PENDING / 2)
			return VG_ERR(VG_EINVAL, "too many packs in the index");
		uint32_t nc = x->packcap ? x->packcap * 2 : 256;
		struct vg_bp *np = realloc(x->packs, nc * sizeof *np);
		if (!np)
			return VG_ERR(VG_ENOMEM, "out of memory growing the pack list");
		x->packs = np;
		x->packcap = nc;
	}
	x->packs[x->npacks] = *bp;
	*no = x->npacks++;
	return 0;
}

static void put_entry(uint8_t *q, const struct vg_index_entry *e, uint32_t pack)
{
	memcpy(q, e->id.b, VG_ID_LEN);
	vg_put32(q + 32, pack);
	vg_put32(q + 36, e->off);
	vg_put32(q + 40, e->slen);
	vg_put32(q + 44, e->rlen);
	q[48] = e->otype;
	q[49] = e->comp;
	q[50] = e->enc;
	q[51] = e->flags;
}

int vg_index_block_encode(const struct vg_index *x, const struct vg_index_entry *e, size_t n,
			  struct vg_buf *out)
{
	int err = 0;
	if (n == 0 || n > VG_INDEX_BLOCK_MAX)
		return VG_ERR(VG_EINVAL, "index block of %zu entries", n);
	uint32_t *local = malloc((x->npacks ? x->npacks : 1) * sizeof *local);
	uint32_t *order = malloc(n * sizeof *order);
	if (!local || !order) {
		err = VG_ERR(VG_ENOMEM, "out of memory writing the index");
		goto out;
	}
	memset(local, 0xff, (x->npacks ? x->npacks : 1) * sizeof *local);
	uint32_t nl = 0;
	for (size_t i = 0; i < n; i++) {
		if (e[i].pack >= x->npacks) {
			err = VG_ERR(VG_EINVAL, "index entry refers to an unwritten pack");
			goto out;
		}
		if (local[e[i].pack] == UINT32_MAX) {
			order[nl] = e[i].pack;
			local[e[i].pack] = nl++;
		}
	}
	vg_buf_reset(out);
	size_t total = 12 + (size_t)nl * VG_BP_SIZE + n * VG_INDEX_ENTRY;
	if ((err = vg_buf_reserve(out, total)) < 0)
		goto out;
	uint8_t *p = out->p;
	p[0] = INDEX_VERSION;
	p[1] = p[2] = p[3] = 0;
	vg_put32(p + 4, nl);
	vg_put32(p + 8, (uint32_t)n);
	p += 12;
	for (uint32_t i = 0; i < nl; i++, p += VG_BP_SIZE)
		vg_bp_encode(&x->packs[order[i]], p);
	for (size_t i = 0; i < n; i++, p += VG_INDEX_ENTRY)
		put_entry(p, &e[i], local[e[i].pack]);
	out->len = total;
out:
	free(local);
	free(order);
	return err;
}

static int read_header(struct vg_rd *r, const char *what, uint32_t *a, uint32_t *b)
{
	uint8_t ver = vg_rd8(r);
	const uint8_t *z = vg_rd_take(r, 3);
	*a = vg_rd32(r);
	*b = vg_rd32(r);
	if (r->bad)
		return VG_ERR(VG_ECORRUPT, "%s is truncated", what);
	if (ver != INDEX_VERSION)
		return VG_ERR(VG_EVERSION, "%s has version %u; this vigil reads %u", what, ver, INDEX_VERSION);
	if (z[0] || z[1] || z[2])
		return VG_ERR(VG_EVERSION, "%s has unknown flags", what);
	return 0;
}

int vg_index_block_decode(const uint8_t *p, size_t len, struct vg_bp **packs, uint32_t *npacks,
			  struct vg_index_entry **entries, uint32_t *n)
{
	struct vg_rd r;
	uint32_t np, ne;
	struct vg_bp *bps = NULL;
	struct vg_index_entry *es = NULL;
	int err;
	*packs = NULL;
	*entries = NULL;
	*npacks = *n = 0;
	vg_rd_init(&r, p, len);
	if ((err = read_header(&r, "index block", &np, &ne)) < 0)
		return err;
	if (ne == 0 || ne > VG_INDEX_BLOCK_MAX || np > ne ||
	    (uint64_t)np * VG_BP_SIZE + (uint64_t)ne * VG_INDEX_ENTRY != vg_rd_left(&r))
		return VG_ERR(VG_ECORRUPT, "index block sizes are inconsistent (%u packs, %u entries)", np, ne);
	bps = calloc(np ? np : 1, sizeof *bps);
	es = calloc(ne, sizeof *es);
	if (!bps || !es) {
		err = VG_ERR(VG_ENOMEM, "out of memory reading the index");
		goto fail;
	}
	for (uint32_t i = 0; i < np; i++)
		if ((err = vg_rd_bp(&r, &bps[i])) < 0)
			goto fail;
	for (uint32_t i = 0; i < ne; i++) {
		struct vg_index_entry *e = &es[i];
		vg_rd_copy(&r, e->id.b, VG_ID_LEN);
		e->pack = vg_rd32(&r);
		e->off = vg_rd32(&r);
		e->slen = vg_rd32(&r);
		e->rlen = vg_rd32(&r);
		e->otype = vg_rd8(&r);
		e->comp = vg_rd8(&r);
		e->enc = vg_rd8(&r);
		e->flags = vg_rd8(&r);
		if (r.bad || e->pack >= np || e->otype == 0 || e->otype > VG_OT_MAX_ || e->flags ||
		    e->rlen > VG_OBJ_MAX || e->slen > VG_OBJ_MAX ||
		    (i && vg_id_cmp(&es[i - 1].id, &e->id) >= 0)) {
			err = VG_ERR(VG_ECORRUPT, "index block entry %u is invalid", i);
			goto fail;
		}
	}
	*packs = bps;
	*npacks = np;
	*entries = es;
	*n = ne;
	return 0;
fail:
	free(bps);
	free(es);
	return err;
}

#define FENCE_SIZE (2 * VG_ID_LEN + 4 + VG_BP_SIZE)

int vg_index_run_encode(const struct vg_index_fence *f, uint32_t nblocks, struct vg_buf *out)
{
	uint64_t total = 0;
	if (nblocks == 0 || nblocks > VG_INDEX_RUN_MAX_BLOCKS)
		return VG_ERR(VG_EINVAL, "index run of %u blocks", nblocks);
	for (uint32_t i = 0; i < nblocks; i++)
		total += f[i].count;
	vg_buf_reset(out);
	size_t need = 16 + (size_t)nblocks * FENCE_SIZE;
	int err = vg_buf_reserve(out, need);
	if (err)
		return err;
	uint8_t *p = out->p;
	p[0] = INDEX_VERSION;
	p[1] = p[2] = p[3] = 0;
	vg_put32(p + 4, nblocks);
	vg_put64(p + 8, total);
	p += 16;
	for (uint32_t i = 0; i < nblocks; i++, p += FENCE_SIZE) {
		memcpy(p, f[i].first.b, VG_ID_LEN);
		memcpy(p + 32, f[i].last.b, VG_ID_LEN);
		vg_put32(p + 64, f[i].count);
		vg_bp_encode(&f[i].bp, p + 68);
	}
	out->len = need;
	return 0;
}

int vg_index_run_decode(const uint8_t *p, size_t len, struct vg_index_fence **out, uint32_t *nblocks,
			uint64_t *total)
{
	struct vg_rd r;
	uint32_t nb, lo;
	int err;
	*out = NULL;
	*nblocks = 0;
	vg_rd_init(&r, p, len);
	if ((err = read_header(&r, "index run", &nb, &lo)) < 0)
		return err;
	uint64_t tot = lo | (uint64_t)vg_rd32(&r) << 32;
	if (r.bad || nb == 0 || nb > VG_INDEX_RUN_MAX_BLOCKS || (uint64_t)nb * FENCE_SIZE != vg_rd_left(&r))
		return VG_ERR(VG_ECORRUPT, "index run header is inconsistent (%u blocks)", nb);
	struct vg_index_fence *f = calloc(nb, sizeof *f);
	if (!f)
		return VG_ERR(VG_ENOMEM, "out of memory reading the index");
	uint64_t sum = 0;
	for (uint32_t i = 0; i < nb; i++) {
		vg_rd_copy(&r, f[i].first.b, VG_ID_LEN);
		vg_rd_copy(&r, f[i].last.b, VG_ID_LEN);
		f[i].count = vg_rd32(&r);
		if ((err = vg_rd_bp(&r, &f[i].bp)) < 0)
			goto fail;
		sum += f[i].count;
		if (r.bad || f[i].count == 0 || f[i].count > VG_INDEX_BLOCK_MAX ||
		    vg_id_cmp(&f[i].first, &f[i].last) > 0 ||
		    (f[i].count == 1) != vg_id_eq(&f[i].first, &f[i].last) ||
		    (i && vg_id_cmp(&f[i - 1].last, &f[i].first) >= 0)) {
			err = VG_ERR(VG_ECORRUPT, "index run block %u is invalid", i);
			goto fail;
		}
	}
	if (sum != tot) {
		err = VG_ERR(VG_ECORRUPT, "index run counts add up to %llu, header says %llu",
			     (unsigned long long)sum, (unsigned long long)tot);
		goto fail;
	}
	*out = f;
	*nblocks = nb;
	*total = tot;
	return 0;
fail:
	free(f);
	return err;
}
