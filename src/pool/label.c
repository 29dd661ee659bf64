/*
 * label.c - device labels and uberblocks (docs/FORMAT.md, Part 1).
 *
 * Both are self-checking: a SHA-256 over their bytes closes each record, so
 * a torn or rotten label or uberblock is recognised and skipped, never
 * half-believed.  Decoders take untrusted bytes and check every length
 * against the record before using it.
 */
#include <string.h>

#include "base/buf.h"
#include "base/bytes.h"
#include "base/err.h"
#include "pool/impl.h"

#define LABEL_MAGIC "VIGILDEV"
#define UB_MAGIC "VIGILUB1"
#define FORMAT_VERSION 1u
#define UB_DEV 56 /* bytes per device entry in an uberblock */
#define UB_SCRUB 80 /* the scrub record after the device entries */
#define UB_ERRLOG VG_BP_SIZE /* then the error log's block pointer */

int vg_label_encode(const struct vg_label *l, uint8_t out[VG_LABEL_SIZE])
{
	struct vg_buf b;
	vg_buf_init(&b, VG_LABEL_SIZE);
	int err = 0;
	err = err ? err : vg_buf_add(&b, LABEL_MAGIC, 8);
	err = err ? err : vg_buf_add32(&b, FORMAT_VERSION);
	err = err ? err : vg_buf_add32(&b, 0); /* used size, patched below */
	err = err ? err : vg_buf_add64(&b, l->gen);
	err = err ? err : vg_buf_add64(&b, l->vault_guid);
	err = err ? err : vg_buf_add64(&b, l->dev_guid);
	err = err ? err : vg_buf_add32(&b, l->dev_index);
	err = err ? err : vg_buf_add8(&b, (uint8_t)l->layout.kind);
	err = err ? err : vg_buf_add8(&b, (uint8_t)l->layout.nparity);
	err = err ? err : vg_buf_add8(&b, (uint8_t)l->layout.ndevs);
	err = err ? err : vg_buf_add8(&b, 12); /* log2 of the sector size */
	err = err ? err : vg_buf_add32(&b, VG_SEG_ROWS);
	err = err ? err : vg_buf_add32(&b, 0);
	err = err ? err : vg_buf_add64(&b, l->created);
	for (int i = 0; i < l->layout.ndevs && !err; i++) {
		size_t n = strlen(l->member[i].path), pn = strlen(l->member[i].prev_path);
		err = err ? err : vg_buf_add64(&b, l->member[i].guid);
		err = err ? err : vg_buf_add16(&b, (uint16_t)n);
		err = err ? err : vg_buf_add(&b, l->member[i].path, n);
		err = err ? err : vg_buf_add64(&b, l->member[i].prev_guid);
		err = err ? err : vg_buf_add16(&b, (uint16_t)pn);
		err = err ? err : vg_buf_add(&b, l->member[i].prev_path, pn);
	}
	if (!err && b.len + VG_CKSUM_LEN > VG_LABEL_SIZE)
		err = VG_EINVAL;
	if (err) {
		vg_buf_release(&b);
		return err == VG_ENOMEM ? VG_ERR(VG_ENOMEM, "out of memory encoding a label")
					: VG_ERR(VG_EINVAL, "device paths too long to fit in a label");
	}
	vg_put32(b.p + 12, (uint32_t)(b.len + VG_CKSUM_LEN));
	memset(out, 0, VG_LABEL_SIZE);
	memcpy(out, b.p, b.len);
	vg_cksum(VG_CKSUM_SHA256, out, b.len, out + b.len);
	vg_buf_release(&b);
	return 0;
}

static void read_path(struct vg_rd *r, char out[VG_MAX_PATH + 1])
{
	uint16_t n = vg_rd16(r);
	out[0] = 0;
	if (n > VG_MAX_PATH) {
		r->bad = true;
		return;
	}
	vg_rd_copy(r, out, n);
	out[n] = 0;
	if (memchr(out, 0, n))
		r->bad = true;
}

int vg_label_decode(const uint8_t *in, size_t len, struct vg_label *l, const char *where)
{
	struct vg_rd r;
	uint8_t sum[VG_CKSUM_LEN];
	memset(l, 0, sizeof *l);
	if (len < 64 || memcmp(in, LABEL_MAGIC, 8))
		return VG_ERR(VG_ENOENT, "'%s' is not a vigil vault device (no label)", where);
	uint32_t ver = vg_get32(in + 8), used = vg_get32(in + 12);
	if (used < 64 + VG_CKSUM_LEN || used > len || used > VG_LABEL_SIZE)
		return VG_ERR(VG_ECORRUPT, "label of '%s' is damaged (bad size %u)", where, used);
	vg_cksum(VG_CKSUM_SHA256, in, used - VG_CKSUM_LEN, sum);
	if (memcmp(sum, in + used - VG_CKSUM_LEN, VG_CKSUM_LEN))
		return VG_ERR(VG_ECORRUPT, "label of '%s' is damaged (checksum mismatch)", where);
	if (ver != FORMAT_VERSION)
		return VG_ERR(VG_EVERSION, "label of '%s' has format version %u; this vigil reads version %u",
			      where, ver, FORMAT_VERSION);
	vg_rd_init(&r, in + 16, used - 16 - VG_CKSUM_LEN);
	l->gen = vg_rd64(&r);
	l->vault_guid = vg_rd64(&r);
	l->dev_guid = vg_rd64(&r);
	l->dev_index = vg_rd32(&r);
	l->layout.kind = vg_rd8(&r);
	l->layout.nparity = vg_rd8(&r);
	l->layout.ndevs = vg_rd8(&r);
	uint8_t shift = vg_rd8(&r);
	uint32_t segrows = vg_rd32(&r);
	(void)vg_rd32(&r);
	l->created = vg_rd64(&r);
	if (r.bad || shift != 12 || segrows != VG_SEG_ROWS)
		return VG_ERR(VG_EVERSION, "label of '%s' uses a geometry this vigil does not know", where);
	struct vg_layout chk;
	const char *kind = l->layout.kind == VG_LAYOUT_SINGLE ? "single"
			 : l->layout.kind == VG_LAYOUT_MIRROR ? "mirror"
			 : l->layout.kind == VG_LAYOUT_RAIDZ ? (l->layout.nparity == 1 ? "raidz1"
								: l->layout.nparity == 2 ? "raidz2"
								: l->layout.nparity == 3 ? "raidz3" : "?")
			 : "?";
	int err = vg_layout_parse(kind, l->layout.ndevs, &chk);
	if (err || chk.nparity != l->layout.nparity)
		return VG_ERR(VG_ECORRUPT, "label of '%s' describes an impossible layout", where);
	if (l->dev_index >= (uint32_t)l->layout.ndevs)
		return VG_ERR(VG_ECORRUPT, "label of '%s' has device index %u of %d", where, l->dev_index,
			      l->layout.ndevs);
	for (int i = 0; i < l->layout.ndevs && !r.bad; i++) {
		struct vg_member *m = &l->member[i];
		m->guid = vg_rd64(&r);
		read_path(&r, m->path);
		m->prev_guid = vg_rd64(&r);
		read_path(&r, m->prev_path);
		if (!m->guid || (!m->prev_guid != !m->prev_path[0]) || !m->path[0])
			r.bad = true;
	}
	if (r.bad || vg_rd_left(&r) != 0)
		return VG_ERR(VG_ECORRUPT, "label of '%s' is malformed", where);
	if (l->member[l->dev_index].guid != l->dev_guid)
		return VG_ERR(VG_ECORRUPT, "label of '%s' disagrees with itself about its device id", where);
	return 0;
}

void vg_uber_encode(const struct vg_uber *u, uint8_t o[VG_UB_SLOT])
{
	memset(o, 0, VG_UB_SLOT);
	memcpy(o, UB_MAGIC, 8);
	vg_put32(o + 8, FORMAT_VERSION);
	size_t used = 136 + UB_DEV * (size_t)u->ndevs + UB_SCRUB + UB_ERRLOG + VG_CKSUM_LEN;
	vg_put32(o + 12, (uint32_t)used);
	vg_put64(o + 16, u->txg);
	vg_put64(o + 24, u->time);
	vg_put64(o + 32, u->vault_guid);
	vg_put32(o + 40, u->cursor_seg);
	vg_put32(o + 44, u->cursor_off);
	o[48] = u->has_root;
	o[49] = (uint8_t)u->ndevs;
	o[50] = u->has_errlog;
	if (u->has_root)
		vg_bp_encode(&u->root, o + 56);
	for (int i = 0; i < u->ndevs; i++) {
		uint8_t *d = o + 136 + UB_DEV * i;
		vg_put64(d, u->dev[i].guid);
		vg_put64(d + 8, u->dev[i].read_errs);
		vg_put64(d + 16, u->dev[i].write_errs);
		vg_put64(d + 24, u->dev[i].cksum_errs);
		vg_put32(d + 32, u->dev[i].flags);
		vg_put64(d + 40, u->dev[i].dtl_start);
		vg_put64(d + 48, u->dev[i].dtl_end);
	}
	uint8_t *sr = o + 136 + UB_DEV * u->ndevs;
	const struct vg_scrub_record *r = &u->scrub;
	sr[0] = (uint8_t)r->state;
	vg_put64(sr + 8, r->start);
	vg_put64(sr + 16, r->end);
	vg_put64(sr + 24, r->txg);
	vg_put64(sr + 32, r->bytes_done);
	vg_put64(sr + 40, r->bytes_total);
	vg_put64(sr + 48, r->repaired_bytes);
	vg_put64(sr + 56, r->errors);
	vg_put64(sr + 64, r->unrecoverable);
	vg_put32(sr + 72, r->pos.seg);
	vg_put32(sr + 76, r->pos.off);
	if (u->has_errlog)
		vg_bp_encode(&u->errlog, sr + UB_SCRUB);
	vg_cksum(VG_CKSUM_SHA256, o, used - VG_CKSUM_LEN, o + used - VG_CKSUM_LEN);
}

/* VG_ENOENT for an empty slot, VG_ECORRUPT for a damaged one. */
int vg_uber_decode(const uint8_t *in, size_t len, struct vg_uber *u)
{
	uint8_t sum[VG_CKSUM_LEN];
	memset(u, 0, sizeof *u);
	if (len < VG_UB_SLOT)
		return VG_ERR(VG_ECORRUPT, "short uberblock");
	if (memcmp(in, UB_MAGIC, 8))
		return VG_ERR(VG_ENOENT, "empty uberblock slot");
	uint32_t used = vg_get32(in + 12);
	if (used < 136 + VG_CKSUM_LEN || used > VG_UB_SLOT)
		return VG_ERR(VG_ECORRUPT, "uberblock with bad size %u", used);
	vg_cksum(VG_CKSUM_SHA256, in, used - VG_CKSUM_LEN, sum);
	if (memcmp(sum, in + used - VG_CKSUM_LEN, VG_CKSUM_LEN))
		return VG_ERR(VG_ECORRUPT, "uberblock checksum mismatch");
	if (vg_get32(in + 8) != FORMAT_VERSION)
		return VG_ERR(VG_EVERSION, "uberblock format version %u unknown", vg_get32(in + 8));
	u->txg = vg_get64(in + 16);
	u->time = vg_get64(in + 24);
	u->vault_guid = vg_get64(in + 32);
	u->cursor_seg = vg_get32(in + 40);
	u->cursor_off = vg_get32(in + 44);
	u->has_root = in[48] == 1;
	u->ndevs = in[49];
	u->has_errlog = in[50] == 1;
	if (in[48] > 1 || in[50] > 1 || in[51] || in[52] || in[53] || in[54] || in[55] || u->ndevs < 1 || u->ndevs > VG_POOL_MAX_DEVS ||
	    used != 136 + UB_DEV * (uint32_t)u->ndevs + UB_SCRUB + UB_ERRLOG + VG_CKSUM_LEN || u->cursor_off > VG_SEG_ROWS)
		return VG_ERR(VG_ECORRUPT, "uberblock fields out of range");
	if (u->has_root) {
		int err = vg_bp_decode(in + 56, &u->root);
		if (err)
			return err;
	}
	for (int i = 0; i < u->ndevs; i++) {
		const uint8_t *d = in + 136 + UB_DEV * i;
		u->dev[i].guid = vg_get64(d);
		u->dev[i].read_errs = vg_get64(d + 8);
		u->dev[i].write_errs = vg_get64(d + 16);
		u->dev[i].cksum_errs = vg_get64(d + 24);
		u->dev[i].flags = vg_get32(d + 32);
		u->dev[i].dtl_start = vg_get64(d + 40);
		u->dev[i].dtl_end = vg_get64(d + 48);
		if ((u->dev[i].flags & ~(uint32_t)VG_UBDEV_OFFLINE) || vg_get32(d + 36) ||
		    (u->dev[i].dtl_end && u->dev[i].dtl_end < u->dev[i].dtl_start))
			return VG_ERR(VG_ECORRUPT, "uberblock device entry out of range");
	}
	const uint8_t *sr = in + 136 + UB_DEV * u->ndevs;
	struct vg_scrub_record *r = &u->scrub;
	r->state = sr[0];
	r->start = vg_get64(sr + 8);
	r->end = vg_get64(sr + 16);
	r->txg = vg_get64(sr + 24);
	r->bytes_done = vg_get64(sr + 32);
	r->bytes_total = vg_get64(sr + 40);
	r->repaired_bytes = vg_get64(sr + 48);
	r->errors = vg_get64(sr + 56);
	r->unrecoverable = vg_get64(sr + 64);
	r->pos.seg = vg_get32(sr + 72);
	r->pos.off = vg_get32(sr + 76);
	if (r->state > VG_SCRUB_CANCELED)
		return VG_ERR(VG_EVERSION, "uberblock with unknown scrub state %u", (unsigned)r->state);
	for (int k = 1; k < 8; k++)
		if (sr[k])
			return VG_ERR(VG_EVERSION, "uberblock with unknown scrub flags");
	if (u->has_errlog) {
		int err = vg_bp_decode(sr + UB_SCRUB, &u->errlog);
		if (err)
			return err;
	}
	return 0;
}
