/*
 * layout.c - vault layouts and the geometry of a stripe.
 *
 * Every device advances together: a block of R rows at DVA (seg, off)
 * occupies rows [off, off+R) of segment seg on every device, though only
 * ncols of them hold a column (the rest stay holes in the segment files).
 * This keeps a DVA to two numbers and makes scrub in physical order
 * trivial.  The first column sits on device (off mod ndevs), so data and
 * parity rotate over the devices.
 *
 *   raidz P over N:  rows = ceil(sectors / min(N - P, sectors)),
 *                    ndata = ceil(sectors / rows)
 *   mirror over N:   1 data column + N - 1 copies, rows = sectors
 *   single over N:   as raidz with P = 0 (striped, no parity)
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "pool/impl.h"

int vg_layout_parse(const char *name, int n, struct vg_layout *out)
{
	memset(out, 0, sizeof *out);
	out->ndevs = n;
	if (n < 1 || n > VG_POOL_MAX_DEVS)
		return VG_ERR(VG_EINVAL, "a vault has 1 to %d devices, not %d", VG_POOL_MAX_DEVS, n);
	if (!strcmp(name, "single")) {
		out->kind = VG_LAYOUT_SINGLE;
		return 0;
	}
	if (!strcmp(name, "mirror")) {
		if (n < 2 || n > 4)
			return VG_ERR(VG_EINVAL, "layout 'mirror' takes 2 to 4 devices, not %d", n);
		out->kind = VG_LAYOUT_MIRROR;
		out->nparity = n - 1;
		return 0;
	}
	if (!strncmp(name, "raidz", 5) && name[5] >= '1' && name[5] <= '3' && !name[6]) {
		int p = name[5] - '0';
		if (n < 3 || n < p + 2)
			return VG_ERR(VG_EINVAL, "layout '%s' takes %d to %d devices, not %d", name,
				      p + 2 > 3 ? p + 2 : 3, VG_POOL_MAX_DEVS, n);
		out->kind = VG_LAYOUT_RAIDZ;
		out->nparity = p;
		return 0;
	}
	if (!strcmp(name, "raidz")) {
		out->kind = VG_LAYOUT_RAIDZ; /* zpool's alias for raidz1 */
		return vg_layout_parse("raidz1", n, out);
	}
	return VG_ERR(VG_EINVAL, "unknown layout '%s' (use single, mirror, raidz1, raidz2 or raidz3)", name);
}

const char *vg_layout_name(const struct vg_layout *l, char buf[16])
{
	switch (l->kind) {
	case VG_LAYOUT_SINGLE: return "single";
	case VG_LAYOUT_MIRROR: return "mirror";
	case VG_LAYOUT_RAIDZ: snprintf(buf, 16, "raidz%d", l->nparity); return buf;
	}
	return "unknown";
}

int vg_layout_tolerance(const struct vg_layout *l)
{
	return l->kind == VG_LAYOUT_SINGLE ? 0 : l->nparity;
}

static uint32_t sectors(uint32_t psize) { return (psize + VG_SECTOR - 1) / VG_SECTOR; }

static int ndata_of(const struct vg_layout *l, uint32_t s)
{
	int avail = l->kind == VG_LAYOUT_MIRROR ? 1 : l->ndevs - l->nparity;
	return (uint32_t)avail < s ? avail : (int)s;
}

uint32_t vg_geom_rows(const struct vg_layout *l, uint32_t psize)
{
	uint32_t s = sectors(psize);
	int d = ndata_of(l, s);
	return (s + (uint32_t)d - 1) / (uint32_t)d;
}

void vg_geom_of(const struct vg_layout *l, uint32_t psize, const struct vg_dva *dva, struct vg_geom *g)
{
	uint32_t s = sectors(psize);
	g->ndata = ndata_of(l, s);
	g->nparity = l->kind == VG_LAYOUT_SINGLE ? 0 : l->nparity;
	g->rows = (s + (uint32_t)g->ndata - 1) / (uint32_t)g->ndata;
	/* Use only as many columns as the rows need, so no data column is all
	 * padding (10 sectors over 9 data devices: 5 columns of 2 rows). */
	g->ndata = (int)((s + g->rows - 1) / g->rows);
	g->ncols = g->ndata + g->nparity;
	g->colsize = (size_t)g->rows * VG_SECTOR;
	int rot = (int)((dva->off + (uint64_t)dva->seg * 7) % (uint32_t)l->ndevs);
	for (int c = 0; c < g->ncols; c++)
		g->dev[c] = (rot + c) % l->ndevs;
}
