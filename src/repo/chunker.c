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

/* The hash after byte j, from the bytes before it: h forgets a byte after
 * 64 steps and starts at zero at `min`, so this is exact. */
static uint64_t hash_before(const struct vg_chunker *c, const uint8_t *p, size_t min, size_t j)
{
	uint64_t h = 0;
	for (size_t k = j >= min + 64 ? j - 64 : min; k < j; k++)
		h = (h << 1) + c->gear[p[k]];
	return h;
}

/* First i in [start, end) whose hash has no bit of mask set: i + 1, or 0.
 * One hash chain costs two dependent operations per byte, so a single
 * loop runs at the chain's latency (2.3 GB/s here).  Since a position's hash depends only
 * on the 64 bytes before it, LANES blocks of BLOCK bytes are hashed side
 * by side, each after rebuilding its hash from the 64 bytes before its
 * start; a window's hits are resolved in position order, so the result is
 * exactly the single loop's (4.7 GB/s with four lanes; eight spill
 * registers and are slower).  The last window's unused part (less than
 * LANES * BLOCK bytes) is the price of an early hit. */
#define LANES 4
#define BLOCK 4096u
static size_t find_cut(const struct vg_chunker *c, const uint8_t *p, size_t min, size_t start, size_t end,
		       uint64_t mask)
{
	const uint64_t *g = c->gear;
	/* the mask is a run of top bits: a hash with none of them is below lim */
	const uint64_t lim = ~mask + 1;
	size_t i = start;
	for (; end - i >= LANES * BLOCK; i += LANES * BLOCK) {
		const uint8_t *q0 = p + i, *q1 = q0 + BLOCK, *q2 = q1 + BLOCK, *q3 = q2 + BLOCK;
		uint64_t h0 = hash_before(c, p, min, i), h1 = hash_before(c, p, min, i + BLOCK);
		uint64_t h2 = hash_before(c, p, min, i + 2 * BLOCK), h3 = hash_before(c, p, min, i + 3 * BLOCK);
		size_t hit = SIZE_MAX;
		for (size_t k = 0; k < BLOCK; k++) {
			h0 = (h0 << 1) + g[q0[k]];
			h1 = (h1 << 1) + g[q1[k]];
			h2 = (h2 << 1) + g[q2[k]];
			h3 = (h3 << 1) + g[q3[k]];
			if (__builtin_expect((h0 < lim) | (h1 < lim) | (h2 < lim) | (h3 < lim), 0)) {
				/* lanes are in position order: the lowest hitting
				 * lane's first hit wins; lane 0 ends the window */
				size_t at = h0 < lim   ? k
					    : h1 < lim ? BLOCK + k
					    : h2 < lim ? 2 * BLOCK + k
						       : 3 * BLOCK + k;
				if (at < hit)
					hit = at;
				if (at < BLOCK)
					break;
			}
		}
		if (hit != SIZE_MAX)
			return i + hit + 1;
	}
	uint64_t h = hash_before(c, p, min, i);
	for (; i < end; i++) {
		h = (h << 1) + g[p[i]];
		if (h < lim)
			return i + 1;
	}
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
	size_t i = *from > min ? *from : min, cut;
	if (i < normal && (cut = find_cut(c, p, min, i, normal, c->mask_s)))
		return cut;
	if ((cut = find_cut(c, p, min, i > normal ? i : normal, n, c->mask_l)))
		return cut;
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
