/*
 * pack.c - building and validating packs (see pack.h).
 */
#include "repo/pack.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "repo/obj.h"

#define PACK_MAGIC "VGPK"
#define PACK_VERSION 2

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
	size_t body = b->data.len ? b->data.len : VG_PACK_HDR;
	return body + slen + (size_t)(b->n + 1) * VG_PACK_ENTRY;
}

struct vg_buf *vg_pack_open(struct vg_pack_builder *b)
{
	if (b->data.len == 0 && vg_buf_add(&b->data, (uint8_t[VG_PACK_HDR]){0}, VG_PACK_HDR) < 0)
		return NULL;
	return &b->data;
}

int vg_pack_note(struct vg_pack_builder *b, const struct vg_id *id, uint8_t otype, uint8_t comp, uint8_t enc,
		 size_t at, size_t rlen)
{
	size_t slen = b->data.len - at;
	if (b->n >= VG_PACK_MAX_OBJECTS || at < VG_PACK_HDR ||
	    b->data.len + (size_t)(b->n + 1) * VG_PACK_ENTRY > VG_OBJ_MAX) {
		b->data.len = at; /* what was appended is not part of the pack */
		return VG_ERR(VG_EINVAL, "pack is full");
	}
	if (b->n == b->cap) {
		uint32_t nc = b->cap ? b->cap * 2 : 64;
		struct vg_pack_entry *ne = realloc(b->e, nc * sizeof *ne);
		if (!ne) {
			b->data.len = at;
			return VG_ERR(VG_ENOMEM, "out of memory building a pack");
		}
		b->e = ne;
		b->cap = nc;
	}
	b->e[b->n++] = (struct vg_pack_entry){.id = *id, .otype = otype, .comp = comp, .enc = enc,
					      .off = (uint32_t)at, .slen = (uint32_t)slen, .rlen = (uint32_t)rlen};
	return 0;
}

int vg_pack_add(struct vg_pack_builder *b, const struct vg_id *id, uint8_t otype, uint8_t comp,
		uint8_t enc, const void *stored, size_t slen, size_t rlen)
{
	if (b->n >= VG_PACK_MAX_OBJECTS || vg_pack_size_with(b, slen) > VG_OBJ_MAX)
		return VG_ERR(VG_EINVAL, "pack is full");
	struct vg_buf *d = vg_pack_open(b);
	if (!d)
		return VG_ERR(VG_ENOMEM, "out of memory building a pack");
	size_t at = d->len;
	int err = vg_buf_add(d, stored, slen);
	return err ? err : vg_pack_note(b, id, otype, comp, enc, at, rlen);
}

static void put_entry(uint8_t *q, const struct vg_pack_entry *e)
{
	memcpy(q, e->id.b, VG_ID_LEN);
	q[32] = e->otype;
	q[33] = e->comp;
	q[34] = e->enc;
	q[35] = e->flags;
	vg_put32(q + 36, e->off);
	vg_put32(q + 40, e->slen);
	vg_put32(q + 44, e->rlen);
}

int vg_pack_finish(struct vg_pack_builder *b, struct vg_sealer *s, struct vg_buf *out)
{
	struct vg_buf *d = vg_pack_open(b);
	if (!d)
		return VG_ERR(VG_ENOMEM, "out of memory building a pack");
	size_t tab = d->len, tlen = (size_t)b->n * VG_PACK_ENTRY;
	bool sealed = s && s->enc == VG_ENC_REPOKEY;
	uint8_t *plain = sealed ? malloc(tlen ? tlen : 1) : NULL;
	int err = sealed && !plain ? VG_ERR(VG_ENOMEM, "out of memory building a pack") : 0;
	if (!err && !sealed && !(err = vg_buf_reserve(d, tlen)))
		plain = d->p + tab;
	for (uint32_t i = 0; i < b->n && !err; i++)
		put_entry(plain + (size_t)i * VG_PACK_ENTRY, &b->e[i]);
	uint8_t comp;
	if (!err && sealed)
		err = vg_seal(s, plain, tlen, false, d, &comp); /* appended after the objects */
	if (sealed)
		free(plain);
	if (err) {
		d->len = tab;
		return err;
	}
	if (!sealed)
		d->len = tab + tlen;
	uint8_t *p = d->p;
	memcpy(p, PACK_MAGIC, 4);
	p[4] = PACK_VERSION;
	p[5] = sealed ? VG_ENC_REPOKEY : VG_ENC_NONE;
	vg_put16(p + 6, 0);
	vg_put32(p + 8, b->n);
	vg_put32(p + 12, (uint32_t)tab);
	/* the block changes hands instead of being copied */
	struct vg_buf t = *out;
	*out = *d;
	*d = t;
	vg_buf_reset(d);
	return 0;
}

int vg_pack_decode(const uint8_t *p, size_t len, struct vg_sealer *s, struct vg_pack_entry **out, uint32_t *n)
{
	struct vg_rd r;
	*out = NULL;
	*n = 0;
	vg_rd_init(&r, p, len);
	const uint8_t *magic = vg_rd_take(&r, 4);
	uint8_t ver = vg_rd8(&r), tenc = vg_rd8(&r);
	uint16_t zero = vg_rd16(&r);
	uint32_t count = vg_rd32(&r), tab = vg_rd32(&r);
	if (r.bad || memcmp(magic, PACK_MAGIC, 4))
		return VG_ERR(VG_ECORRUPT, "block is not a pack (bad header)");
	if (ver != PACK_VERSION)
		return VG_ERR(VG_EVERSION, "pack format version %u is not supported (this vigil reads %u)", ver,
			      PACK_VERSION);
	if ((tenc != VG_ENC_NONE && tenc != VG_ENC_REPOKEY) || zero != 0)
		return VG_ERR(VG_EVERSION, "pack uses table encryption %u / flags %u, unknown here", tenc, zero);
	uint64_t tlen = (uint64_t)count * VG_PACK_ENTRY, stored = tlen + (tenc ? VG_SEAL_OVERHEAD : 0);
	if (count > VG_PACK_MAX_OBJECTS || tab < VG_PACK_HDR || tab > len || stored != len - tab)
		return VG_ERR(VG_ECORRUPT, "pack table is inconsistent (%u objects at offset %u of %zu bytes)",
			      count, tab, len);
	struct vg_buf plain;
	vg_buf_init(&plain, VG_PACK_MAX_OBJECTS * VG_PACK_ENTRY);
	const uint8_t *t = p + tab;
	if (tenc) {
		int err = s ? vg_unseal(s, VG_COMP_NONE, tenc, p + tab, stored, tlen, &plain, "pack table")
			    : VG_ERR(VG_EKEY, "the pack table is encrypted and no key was given");
		if (err) {
			vg_buf_release(&plain);
			return err;
		}
		t = plain.p;
	}
	struct vg_pack_entry *e = calloc(count ? count : 1, sizeof *e);
	if (!e) {
		vg_buf_release(&plain);
		return VG_ERR(VG_ENOMEM, "out of memory reading a pack table");
	}
	vg_rd_init(&r, t, tlen);
	uint64_t next = VG_PACK_HDR;
	int err = 0;
	for (uint32_t i = 0; i < count && !err; i++) {
		vg_rd_copy(&r, e[i].id.b, VG_ID_LEN);
		e[i].otype = vg_rd8(&r);
		e[i].comp = vg_rd8(&r);
		e[i].enc = vg_rd8(&r);
		e[i].flags = vg_rd8(&r);
		e[i].off = vg_rd32(&r);
		e[i].slen = vg_rd32(&r);
		e[i].rlen = vg_rd32(&r);
		if (r.bad || e[i].otype == 0 || e[i].otype > VG_OT_MAX_ || e[i].flags ||
		    e[i].off < next || (uint64_t)e[i].off + e[i].slen > tab || e[i].rlen > VG_OBJ_MAX)
			err = VG_ERR(VG_ECORRUPT, "pack table entry %u is invalid", i);
		next = (uint64_t)e[i].off + e[i].slen;
	}
	vg_buf_release(&plain);
	if (err) {
		free(e);
		return err;
	}
	*out = e;
	*n = count;
	return 0;
}
