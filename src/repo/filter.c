/*
 * filter.c - blocked Bloom filter over object ids, and its blocks (see
 * filter.h and docs/FORMAT.md "The index").
 */
#include "repo/filter.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

#define FILTER_MAGIC "VGIF"
#define FILTER_VERSION 1
#define PROBES 7

uint32_t vg_filter_lines(uint64_t n)
{
	uint64_t lines = (n * VG_FILTER_BITS + VG_FILTER_LINE * 8 - 1) / (VG_FILTER_LINE * 8);
	if (lines < 1)
		lines = 1;
	return lines > VG_FILTER_MAX_LINES ? VG_FILTER_MAX_LINES : (uint32_t)lines;
}

int vg_filter_init(struct vg_filter *f, uint32_t nlines)
{
	f->nlines = 0;
	if (nlines == 0 || nlines > VG_FILTER_MAX_LINES)
		return VG_ERR(VG_EINVAL, "filter of %u lines", nlines);
	if (!(f->bits = calloc(nlines, VG_FILTER_LINE)))
		return VG_ERR(VG_ENOMEM, "out of memory for a %u KiB index filter", nlines / 16);
	f->nlines = nlines;
	return 0;
}

void vg_filter_release(struct vg_filter *f)
{
	free(f->bits);
	f->bits = NULL;
	f->nlines = 0;
}

static uint8_t *line_of(const struct vg_filter *f, const struct vg_id *id)
{
	uint64_t h = vg_get64(id->b) >> 32; /* multiply-shift: no modulo bias worth counting */
	return f->bits + ((h * f->nlines) >> 32) * VG_FILTER_LINE;
}

void vg_filter_add(struct vg_filter *f, const struct vg_id *id)
{
	uint8_t *l = line_of(f, id);
	uint64_t h = vg_get64(id->b + 8);
	for (int i = 0; i < PROBES; i++, h >>= 9)
		l[(h & 511) >> 3] |= (uint8_t)(1u << (h & 7));
}

bool vg_filter_maybe(const struct vg_filter *f, const struct vg_id *id)
{
	const uint8_t *l = line_of(f, id);
	uint64_t h = vg_get64(id->b + 8);
	for (int i = 0; i < PROBES; i++, h >>= 9)
		if (!(l[(h & 511) >> 3] & (1u << (h & 7))))
			return false;
	return true;
}

uint32_t vg_filter_nparts(uint32_t nlines) { return (nlines + VG_FILTER_PART_LINES - 1) / VG_FILTER_PART_LINES; }

static uint32_t part_lines(uint32_t nlines, uint32_t part)
{
	uint32_t first = part * VG_FILTER_PART_LINES, left = nlines - first;
	return left < VG_FILTER_PART_LINES ? left : VG_FILTER_PART_LINES;
}

int vg_filter_part_encode(const struct vg_filter *f, uint32_t part, struct vg_buf *out)
{
	if (part >= vg_filter_nparts(f->nlines))
		return VG_ERR(VG_EINVAL, "filter part %u of %u", part, vg_filter_nparts(f->nlines));
	uint32_t n = part_lines(f->nlines, part);
	uint8_t h[VG_FILTER_HDR];
	memcpy(h, FILTER_MAGIC, 4);
	h[4] = FILTER_VERSION;
	h[5] = VG_FILTER_KIND;
	h[6] = h[7] = 0;
	vg_put32(h + 8, part);
	vg_put32(h + 12, n);
	vg_put32(h + 16, f->nlines);
	vg_buf_reset(out);
	int err = vg_buf_add(out, h, sizeof h);
	return err ? err : vg_buf_add(out, f->bits + (size_t)part * VG_FILTER_PART_LINES * VG_FILTER_LINE,
				      (size_t)n * VG_FILTER_LINE);
}

int vg_filter_part_decode(struct vg_filter *f, uint32_t part, const uint8_t *p, size_t len)
{
	struct vg_rd r;
	vg_rd_init(&r, p, len);
	const uint8_t *magic = vg_rd_take(&r, 4);
	uint8_t ver = vg_rd8(&r), kind = vg_rd8(&r), z0 = vg_rd8(&r), z1 = vg_rd8(&r);
	uint32_t no = vg_rd32(&r), n = vg_rd32(&r), total = vg_rd32(&r);
	if (r.bad || memcmp(magic, FILTER_MAGIC, 4))
		return VG_ERR(VG_ECORRUPT, "block is not an index filter");
	if (ver != FILTER_VERSION || kind != VG_FILTER_KIND || z0 || z1)
		return VG_ERR(VG_EVERSION, "index filter version %u kind %u is not supported (this vigil reads "
					   "version %u kind %u)", ver, kind, FILTER_VERSION, VG_FILTER_KIND);
	if (part >= vg_filter_nparts(f->nlines) || no != part || total != f->nlines ||
	    n != part_lines(f->nlines, part) || vg_rd_left(&r) != (size_t)n * VG_FILTER_LINE)
		return VG_ERR(VG_ECORRUPT, "index filter part %u does not match its run (%u of %u lines)", part, n,
			      total);
	memcpy(f->bits + (size_t)part * VG_FILTER_PART_LINES * VG_FILTER_LINE, r.p + r.off, (size_t)n * VG_FILTER_LINE);
	return 0;
}
