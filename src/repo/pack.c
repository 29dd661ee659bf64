/*
 * pack.c - building and validating packs (see pack.h).
 */
#include "repo/pack.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "repo/obj.h"

#define PACK_MAGIC "VGPK"
#define PACK_VERSION 1

void vg_pack_init(struct vg_pack_builder *b)
{
	memset(b, 0, sizeof *b);
	vg_buf_init(&b->data, VG_OBJ_MAX);
}

void vg_pack_release(struct vg_pack_builder *b)
{
	free(b->e);
	vg_buf_release(&b->data);
	memset(b, 0, sizeof *b);
}

void vg_pack_reset(struct vg_pack_builder *b)
{
	b->n = 0;
	vg_buf_reset(&b->data);
}

size_t vg_pack_size_with(const struct vg_pack_builder *b, size_t slen)
{
	return VG_PACK_HDR + (size_t)(b->n + 1) * VG_PACK_ENTRY + b->data.len + slen;
}

int vg_pack_add(struct vg_pack_builder *b, const struct vg_id *id, uint8_t otype, uint8_t comp,
		uint8_t enc, const void *stored, size_t slen, size_t rlen)
{
	if (b->n >= VG_PACK_MAX_OBJECTS || vg_pack_size_with(b, slen) > VG_OBJ_MAX)
		return VG_ERR(VG_EINVAL, "pack is full");
	if (b->n == b->cap) {
		uint32_t nc = b->cap ? b->cap * 2 : 64;
		struct vg_pack_entry *ne = realloc(b->e, nc * sizeof *ne);
		if (!ne)
			return VG_ERR(VG_ENOMEM, "out of memory building a pack");
		b->e = ne;
		b->cap = nc;
	}
	struct vg_pack_entry *e = &b->e[b->n];
	e->id = *id;
	e->otype = otype;
	e->comp = comp;
	e->enc = enc;
	e->flags = 0;
	e->off = (uint32_t)b->data.len;
	e->slen = (uint32_t)slen;
	e->rlen = (uint32_t)rlen;
	int err = vg_buf_add(&b->data, stored, slen);
	if (err)
		return err;
	b->n++;
	return 0;
}

int vg_pack_finish(struct vg_pack_builder *b, struct vg_buf *out)
{
	size_t table = (size_t)b->n * VG_PACK_ENTRY, base = VG_PACK_HDR + table;
	vg_buf_reset(out);
	int err = vg_buf_reserve(out, base + b->data.len);
	if (err)
		return err;
	uint8_t *p = out->p;
	memcpy(p, PACK_MAGIC, 4);
	p[4] = PACK_VERSION;
	p[5] = VG_ENC_NONE; /* the table itself is plaintext in this version */
	vg_put16(p + 6, 0);
	vg_put32(p + 8, b->n);
	vg_put32(p + 12, (uint32_t)table);
	for (uint32_t i = 0; i < b->n; i++) {
		struct vg_pack_entry *e = &b->e[i];
		uint8_t *q = p + VG_PACK_HDR + (size_t)i * VG_PACK_ENTRY;
		e->off += (uint32_t)base;
		memcpy(q, e->id.b, VG_ID_LEN);
		q[32] = e->otype;
		q[33] = e->comp;
		q[34] = e->enc;
		q[35] = e->flags;
		vg_put32(q + 36, e->off);
		vg_put32(q + 40, e->slen);
		vg_put32(q + 44, e->rlen);
	}
	memcpy(p + base, b->data.p, b->data.len);
	out->len = base + b->data.len;
	return 0;
}

int vg_pack_decode(const uint8_t *p, size_t len, struct vg_pack_entry **out, uint32_t *n)
{
	struct vg_rd r;
	*out = NULL;
	*n = 0;
	vg_rd_init(&r, p, len);
	const uint8_t *magic = vg_rd_take(&r, 4);
	uint8_t ver = vg_rd8(&r), tenc = vg_rd8(&r);
	uint16_t zero = vg_rd16(&r);
	uint32_t count = vg_rd32(&r), tlen = vg_rd32(&r);
	if (r.bad || memcmp(magic, PACK_MAGIC, 4))
		return VG_ERR(VG_ECORRUPT, "block is not a pack (bad header)");
	if (ver != PACK_VERSION)
		return VG_ERR(VG_EVERSION, "pack format version %u is not supported (this vigil reads %u)", ver,
			      PACK_VERSION);
	if (tenc != VG_ENC_NONE || zero != 0)
		return VG_ERR(VG_EVERSION, "pack uses table encryption %u / flags %u, unknown here", tenc, zero);
	if (count > VG_PACK_MAX_OBJECTS || (uint64_t)count * VG_PACK_ENTRY != tlen ||
	    tlen > vg_rd_left(&r))
		return VG_ERR(VG_ECORRUPT, "pack table is inconsistent (%u objects, %u bytes)", count, tlen);
	struct vg_pack_entry *e = calloc(count ? count : 1, sizeof *e);
	if (!e)
		return VG_ERR(VG_ENOMEM, "out of memory reading a pack table");
	uint64_t next = VG_PACK_HDR + (uint64_t)tlen;
	for (uint32_t i = 0; i < count; i++) {
		vg_rd_copy(&r, e[i].id.b, VG_ID_LEN);
		e[i].otype = vg_rd8(&r);
		e[i].comp = vg_rd8(&r);
		e[i].enc = vg_rd8(&r);
		e[i].flags = vg_rd8(&r);
		e[i].off = vg_rd32(&r);
		e[i].slen = vg_rd32(&r);
		e[i].rlen = vg_rd32(&r);
		if (r.bad || e[i].otype == 0 || e[i].otype > VG_OT_MAX_ || e[i].flags ||
		    e[i].off < next || (uint64_t)e[i].off + e[i].slen > len || e[i].rlen > VG_OBJ_MAX) {
			free(e);
			return VG_ERR(VG_ECORRUPT, "pack table entry %u is invalid", i);
		}
		next = (uint64_t)e[i].off + e[i].slen;
	}
	*out = e;
	*n = count;
	return 0;
}
