/*
 * chunker.c - FastCDC boundaries (see chunker.h).
 *
 * The gear hash h = (h << 1) + gear[byte] forgets a byte after 64 steps,
 * so its top bits depend on the last 64 bytes only; masks test the top
 * bits.  Hashing starts at `min`: nothing below it can be a boundary.
 */
#include "repo/chunker.h"

#include "base/err.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void vg_chunker_defaults(struct vg_chunker_params *p, uint64_t seed)
{
	p->alg = VG_CHUNKER_FASTCDC;
	p->min = VG_CHUNK_MIN;
	p->avg = VG_CHUNK_AVG;
	p->max = VG_CHUNK_MAX;
	p->seed = seed;
}

static uint64_t top_bits(int n) { return ~0ull << (64 - n); }

int vg_chunker_init(struct vg_chunker *c, const struct vg_chunker_params *p)
{
	if (p->alg != VG_CHUNKER_FASTCDC)
		return VG_ERR(VG_EVERSION, "unknown chunker algorithm %u", p->alg);
	if (p->min < VG_CHUNK_LIMIT_MIN || p->min >= p->avg || p->avg >= p->max ||
	    p->max > VG_CHUNK_LIMIT_MAX || (p->avg & (p->avg - 1)))
		return VG_ERR(VG_EINVAL,
			      "bad chunk sizes min %u avg %u max %u (need %u <= min < avg < max <= %u, "
			      "avg a power of two)",
			      p->min, p->avg, p->max, VG_CHUNK_LIMIT_MIN, VG_CHUNK_LIMIT_MAX);
	c->p = *p;
	int bits = 0;
	while ((1u << bits) < p->avg)
		bits++;
	c->mask_s = top_bits(bits + 2);
	c->mask_l = top_bits(bits - 2 > 0 ? bits - 2 : 1);
	uint64_t x = p->seed;
	for (int i = 0; i < 256; i++)
		c->gear[i] = splitmix64(&x);
	return 0;
}

size_t vg_chunker_scan(const struct vg_chunker *c, const uint8_t *p, size_t len, bool eof, size_t *from)
{
	size_t min = c->p.min, max = c->p.max;
	if (len == 0)
		return 0;
	if (len <= min)
		return eof ? len : 0;
	size_t n = len < max ? len : max;
	size_t normal = c->p.avg < n ? c->p.avg : n;
	size_t i = *from > min ? *from : min;
	uint64_t h = 0;
	/* the hash before byte i depends on the 64 bytes before it (and on
	 * nothing below min): rebuilding it from them resumes exactly */
	for (size_t j = i >= min + 64 ? i - 64 : min; j < i; j++)
		h = (h << 1) + c->gear[p[j]];
	for (; i < normal; i++) {
		h = (h << 1) + c->gear[p[i]];
		if (!(h & c->mask_s))
			return i + 1;
	}
	for (; i < n; i++) {
		h = (h << 1) + c->gear[p[i]];
		if (!(h & c->mask_l))
			return i + 1;
	}
	if (n == max)
		return max;
	if (eof)
		return n;
	*from = n;
	return 0;
}

size_t vg_chunker_cut(const struct vg_chunker *c, const uint8_t *p, size_t len, bool eof)
{
	size_t from = 0;
	return vg_chunker_scan(c, p, len, eof, &from);
}
