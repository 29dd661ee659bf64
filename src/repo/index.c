/*
 * index.c - the in-memory id table and the encoding of index runs and
 * index blocks (docs/FORMAT.md "The index").
 *
 * Invariants checked by the decoders (a violation is VG_ECORRUPT): ids in
 * a block strictly ascend; every pack number is below the block's pack
 * count; a run's blocks are in ascending, non-overlapping id ranges, their
 * counts add up to the run's total, and its filter blocks are as many as
 * its filter size needs.  Versions other than 2 are VG_EVERSION.
 */
#include "repo/index.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "repo/filter.h"
#include "repo/obj.h"

#define INDEX_VERSION 2
#define INDEX_BLOCK_MAGIC "VGIX"
#define INDEX_RUN_MAGIC "VGIR"

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

static void put_entry(uint8_t *q, const struct vg_index_entry *e)
{
	memcpy(q, e->id.b, VG_ID_LEN);
	vg_put32(q + 32, e->pack);
	vg_put32(q + 36, e->off);
	vg_put32(q + 40, e->slen);
	vg_put32(q + 44, e->rlen);
	q[48] = e->otype;
	q[49] = e->comp;
	q[50] = e->enc;
	q[51] = e->flags;
}

int vg_index_block_encode(struct vg_sealer *s, const struct vg_bp *packs, uint32_t npacks,
			  const struct vg_index_entry *e, size_t n, struct vg_buf *out)
{
	struct vg_buf plain;
	uint8_t comp;
	int err = 0;
	if (n == 0 || n > VG_INDEX_BLOCK_MAX || npacks > n)
		return VG_ERR(VG_EINVAL, "index block of %zu entries and %u packs", n, npacks);
	vg_buf_init(&plain, VG_OBJ_MAX);
	if ((err = vg_buf_reserve(&plain, n * VG_INDEX_ENTRY)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (e[i].pack >= npacks || (i && vg_id_cmp(&e[i - 1].id, &e[i].id) >= 0)) {
			err = VG_ERR(VG_EINVAL, "index block entries are unsorted or name an unknown pack");
			goto out;
		}
		put_entry(plain.p + i * VG_INDEX_ENTRY, &e[i]);
	}
	plain.len = n * VG_INDEX_ENTRY;
	uint8_t h[VG_INDEX_BLOCK_HDR];
	memcpy(h, INDEX_BLOCK_MAGIC, 4);
	h[4] = INDEX_VERSION;
	h[5] = (uint8_t)s->enc;
	h[6] = 0; /* comp: never compressed */
	h[7] = 0;
	vg_put32(h + 8, npacks);
	vg_put32(h + 12, (uint32_t)n);
	vg_put32(h + 16, (uint32_t)plain.len);
	vg_buf_reset(out);
	if ((err = vg_buf_add(out, h, sizeof h)) < 0)
		goto out;
	for (uint32_t i = 0; i < npacks && !err; i++)
		err = vg_buf_add_bp(out, &packs[i]);
	if (!err && !(err = vg_seal(s, plain.p, plain.len, false, out, &comp)) && comp != VG_COMP_NONE)
		err = VG_ERR(VG_EINVAL, "an index block was compressed");
out:
	vg_buf_release(&plain);
	return err;
}

/* The plaintext header and pack table; *rd is left at the sealed entries. */
static int block_head(struct vg_rd *r, const uint8_t *p, size_t len, uint32_t *np, uint32_t *ne,
		      uint8_t *enc, uint32_t *rlen)
{
	vg_rd_init(r, p, len);
	const uint8_t *magic = vg_rd_take(r, 4);
	uint8_t ver = vg_rd8(r);
	*enc = vg_rd8(r);
	uint8_t comp = vg_rd8(r);
	uint8_t zero = vg_rd8(r);
	*np = vg_rd32(r);
	*ne = vg_rd32(r);
	*rlen = vg_rd32(r);
	if (r->bad || memcmp(magic, INDEX_BLOCK_MAGIC, 4))
		return VG_ERR(VG_ECORRUPT, "block is not an index block");
	if (ver != INDEX_VERSION || zero || comp != VG_COMP_NONE)
		return VG_ERR(VG_EVERSION, "index block version %u (comp %u) is not supported (this vigil reads %u)",
			      ver, comp, INDEX_VERSION);
	if (*ne == 0 || *ne > VG_INDEX_BLOCK_MAX || *np > *ne || *rlen != *ne * VG_INDEX_ENTRY ||
	    (uint64_t)*np * VG_BP_SIZE > vg_rd_left(r))
		return VG_ERR(VG_ECORRUPT, "index block sizes are inconsistent (%u packs, %u entries)", *np, *ne);
	return 0;
}

static int read_packs(struct vg_rd *r, uint32_t np, struct vg_bp **packs)
{
	int err = 0;
	*packs = calloc(np ? np : 1, sizeof **packs);
	if (!*packs)
		return VG_ERR(VG_ENOMEM, "out of memory reading the index");
	for (uint32_t i = 0; i < np && !err; i++)
		err = vg_rd_bp(r, &(*packs)[i]);
	if (err) {
		free(*packs);
		*packs = NULL;
	}
	return err;
}

int vg_index_block_packs(const uint8_t *p, size_t len, struct vg_bp **packs, uint32_t *npacks)
{
	struct vg_rd r;
	uint32_t ne, rlen;
	uint8_t enc;
	*packs = NULL;
	int err = block_head(&r, p, len, npacks, &ne, &enc, &rlen);
	return err ? err : read_packs(&r, *npacks, packs);
}

static int read_entries(const uint8_t *p, uint32_t np, uint32_t ne, struct vg_index_entry *es)
{
	struct vg_rd r;
	vg_rd_init(&r, p, (size_t)ne * VG_INDEX_ENTRY);
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
		    e->rlen > VG_OBJ_MAX || e->slen > VG_OBJ_MAX || (i && vg_id_cmp(&es[i - 1].id, &e->id) >= 0))
			return VG_ERR(VG_ECORRUPT, "index block entry %u is invalid", i);
	}
	return 0;
}

int vg_index_block_decode(const uint8_t *key, const uint8_t *p, size_t len, struct vg_bp **packs,
			  uint32_t *npacks, struct vg_index_entry **entries, uint32_t *n)
{
	struct vg_rd r;
	struct vg_buf plain;
	uint32_t np, ne, rlen;
	uint8_t enc;
	*packs = NULL;
	*entries = NULL;
	*npacks = *n = 0;
	int err = block_head(&r, p, len, &np, &ne, &enc, &rlen);
	if (err || (err = read_packs(&r, np, packs)) < 0)
		return err;
	vg_buf_init(&plain, VG_OBJ_MAX);
	if (!(*entries = calloc(ne, sizeof **entries)))
		err = VG_ERR(VG_ENOMEM, "out of memory reading the index");
	else if (!(err = vg_unseal_raw(key, enc, r.p + r.off, vg_rd_left(&r), rlen, &plain, "index block")))
		err = read_entries(plain.p, np, ne, *entries);
	vg_buf_release(&plain);
	if (err) {
		free(*packs);
		free(*entries);
		*packs = NULL;
		*entries = NULL;
		return err;
	}
	*npacks = np;
	*n = ne;
	return 0;
}

/* ---- run headers ---- */

int vg_index_run_encode(const struct vg_index_run *run, struct vg_buf *out)
{
	uint64_t total = 0;
	uint32_t nb = run->nblocks;
	if (nb == 0 || nb > VG_INDEX_RUN_MAX_BLOCKS || run->nfparts != vg_filter_nparts(run->flines) ||
	    run->flines == 0 || run->flines > VG_FILTER_MAX_LINES)
		return VG_ERR(VG_EINVAL, "index run of %u blocks and %u filter lines", nb, run->flines);
	for (uint32_t i = 0; i < nb; i++)
		total += run->f[i].count;
	vg_buf_reset(out);
	size_t need = VG_INDEX_RUN_HDR + (size_t)run->nfparts * VG_BP_SIZE + (size_t)nb * VG_INDEX_FENCE;
	int err = vg_buf_reserve(out, need);
	if (err)
		return err;
	uint8_t *p = out->p;
	memcpy(p, INDEX_RUN_MAGIC, 4);
	p[4] = INDEX_VERSION;
	p[5] = VG_FILTER_KIND;
	p[6] = p[7] = 0;
	vg_put32(p + 8, nb);
	vg_put64(p + 12, total);
	vg_put32(p + 20, run->flines);
	vg_put32(p + 24, run->nfparts);
	vg_put32(p + 28, 0);
	p += VG_INDEX_RUN_HDR;
	for (uint32_t i = 0; i < run->nfparts; i++, p += VG_BP_SIZE)
		vg_bp_encode(&run->fparts[i], p);
	for (uint32_t i = 0; i < nb; i++, p += VG_INDEX_FENCE) {
		memcpy(p, run->f[i].first.b, VG_ID_LEN);
		memcpy(p + 32, run->f[i].last.b, VG_ID_LEN);
		vg_put32(p + 64, run->f[i].count);
		vg_bp_encode(&run->f[i].bp, p + 68);
	}
	out->len = need;
	return 0;
}

static int check_fence(const struct vg_index_fence *f, uint32_t i)
{
	if (f[i].count == 0 || f[i].count > VG_INDEX_BLOCK_MAX || vg_id_cmp(&f[i].first, &f[i].last) > 0 ||
	    (f[i].count == 1) != vg_id_eq(&f[i].first, &f[i].last) ||
	    (i && vg_id_cmp(&f[i - 1].last, &f[i].first) >= 0))
		return VG_ERR(VG_ECORRUPT, "index run block %u is invalid", i);
	return 0;
}

void vg_index_run_release(struct vg_index_run *run)
{
	free(run->f);
	free(run->fparts);
	memset(run, 0, sizeof *run);
}

static int run_tables(struct vg_rd *r, struct vg_index_run *out)
{
	int err = 0;
	uint64_t sum = 0;
	out->f = calloc(out->nblocks, sizeof *out->f);
	out->fparts = calloc(out->nfparts, sizeof *out->fparts);
	if (!out->f || !out->fparts)
		return VG_ERR(VG_ENOMEM, "out of memory reading the index");
	for (uint32_t i = 0; i < out->nfparts && !err; i++)
		err = vg_rd_bp(r, &out->fparts[i]);
	for (uint32_t i = 0; i < out->nblocks && !err; i++) {
		struct vg_index_fence *f = &out->f[i];
		vg_rd_copy(r, f->first.b, VG_ID_LEN);
		vg_rd_copy(r, f->last.b, VG_ID_LEN);
		f->count = vg_rd32(r);
		if (!(err = vg_rd_bp(r, &f->bp)))
			err = check_fence(out->f, i);
		sum += f->count;
	}
	if (!err && sum != out->total)
		err = VG_ERR(VG_ECORRUPT, "index run counts add up to %llu, header says %llu",
			     (unsigned long long)sum, (unsigned long long)out->total);
	return err;
}

int vg_index_run_decode(const uint8_t *p, size_t len, struct vg_index_run *out)
{
	struct vg_rd r;
	memset(out, 0, sizeof *out);
	vg_rd_init(&r, p, len);
	const uint8_t *magic = vg_rd_take(&r, 4);
	uint8_t ver = vg_rd8(&r), kind = vg_rd8(&r);
	const uint8_t *z = vg_rd_take(&r, 2);
	uint32_t nb = vg_rd32(&r);
	uint64_t tot = vg_rd64(&r);
	uint32_t flines = vg_rd32(&r), nfp = vg_rd32(&r), z2 = vg_rd32(&r);
	if (r.bad || memcmp(magic, INDEX_RUN_MAGIC, 4))
		return VG_ERR(VG_ECORRUPT, "block is not an index run");
	if (ver != INDEX_VERSION || kind != VG_FILTER_KIND || z[0] || z[1] || z2)
		return VG_ERR(VG_EVERSION, "index run version %u (filter kind %u) is not supported (this vigil "
					   "reads version %u)", ver, kind, INDEX_VERSION);
	if (nb == 0 || nb > VG_INDEX_RUN_MAX_BLOCKS || flines == 0 || flines > VG_FILTER_MAX_LINES ||
	    nfp != vg_filter_nparts(flines) ||
	    (uint64_t)nb * VG_INDEX_FENCE + (uint64_t)nfp * VG_BP_SIZE != vg_rd_left(&r))
		return VG_ERR(VG_ECORRUPT, "index run header is inconsistent (%u blocks, %u filter lines)", nb, flines);
	out->total = tot;
	out->nblocks = nb;
	out->flines = flines;
	out->nfparts = nfp;
	int err = run_tables(&r, out);
	if (err)
		vg_index_run_release(out);
	return err;
}
