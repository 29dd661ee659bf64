/*
 * bytes.h - little-endian encoding and a bounds-checked reader.
 *
 * All on-disk structures are little-endian and read through struct vg_rd,
 * which never reads past its end: a short or malformed record sets rd->bad
 * and every later get returns zero.  Decoders check rd->bad once at the end
 * and turn it into VG_ECORRUPT naming the object.  This keeps every parser
 * of outside data bounds-checked by construction.
 */
#ifndef VG_BASE_BYTES_H
#define VG_BASE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void vg_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void vg_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void vg_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t vg_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t vg_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t vg_get64(const uint8_t *p)
{
	return (uint64_t)vg_get32(p) | (uint64_t)vg_get32(p + 4) << 32;
}

/* Bounds-checked sequential reader over untrusted bytes. */
struct vg_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

static inline void vg_rd_init(struct vg_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = false;
}
static inline size_t vg_rd_left(const struct vg_rd *r) { return r->bad ? 0 : r->len - r->off; }
/* Pointer to the next n bytes, advancing; NULL (and bad) if short. */
static inline const uint8_t *vg_rd_take(struct vg_rd *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *q = r->p + r->off;
	r->off += n;
	return q;
}
static inline uint8_t vg_rd8(struct vg_rd *r)
{
	const uint8_t *q = vg_rd_take(r, 1);
	return q ? q[0] : 0;
}
static inline uint16_t vg_rd16(struct vg_rd *r)
{
	const uint8_t *q = vg_rd_take(r, 2);
	return q ? vg_get16(q) : 0;
}
static inline uint32_t vg_rd32(struct vg_rd *r)
{
	const uint8_t *q = vg_rd_take(r, 4);
	return q ? vg_get32(q) : 0;
}
static inline uint64_t vg_rd64(struct vg_rd *r)
{
	const uint8_t *q = vg_rd_take(r, 8);
	return q ? vg_get64(q) : 0;
}
static inline void vg_rd_copy(struct vg_rd *r, void *dst, size_t n)
{
	const uint8_t *q = vg_rd_take(r, n);
	if (q)
		memcpy(dst, q, n);
	else
		memset(dst, 0, n);
}
/* Unsigned LEB128 varint, at most 10 bytes. */
static inline uint64_t vg_rdvar(struct vg_rd *r)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b = vg_rd8(r);
		if (r->bad)
			return 0;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

#endif
