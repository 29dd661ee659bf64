/*
 * root.c - encoding of the repository root (see root.h).
 */
#include "repo/root.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "repo/key.h"
#include "repo/obj.h"

#define ROOT_MAGIC "VGRT"
#define ROOT_VERSION 1

static int encode_config(const struct vg_repo_config *c, struct vg_buf *b)
{
	uint8_t h[16 + 8 + 4 + 12 + 8 + 2];
	uint8_t *p = h;
	memcpy(p, c->repo_id, 16);
	vg_put64(p + 16, (uint64_t)c->created_ns);
	p[24] = c->enc;
	p[25] = c->comp;
	p[26] = (uint8_t)c->level;
	p[27] = c->chunker.alg;
	vg_put32(p + 28, c->chunker.min);
	vg_put32(p + 32, c->chunker.avg);
	vg_put32(p + 36, c->chunker.max);
	vg_put64(p + 40, c->chunker.seed);
	vg_put16(p + 48, c->keylen);
	int err = vg_buf_add32(b, (uint32_t)(sizeof h + c->keylen));
	if (!err)
		err = vg_buf_add(b, h, sizeof h);
	return err ? err : vg_buf_add(b, c->key, c->keylen);
}

int vg_root_encode(const struct vg_root *r, struct vg_buf *out)
{
	int err;
	vg_buf_reset(out);
	if ((err = vg_buf_add(out, ROOT_MAGIC, 4)) < 0 || (err = vg_buf_add16(out, ROOT_VERSION)) < 0 ||
	    (err = vg_buf_add16(out, 0)) < 0 || (err = encode_config(&r->cfg, out)) < 0 ||
	    (err = vg_buf_add32(out, (uint32_t)r->nsnaps)) < 0)
		return err;
	for (size_t i = 0; i < r->nsnaps && !err; i++) {
		const struct vg_snapref *s = &r->snaps[i];
		if ((err = vg_buf_add(out, s->id.b, VG_ID_LEN)) < 0 ||
		    (err = vg_buf_add64(out, (uint64_t)s->time_ns)) < 0)
			return err;
		err = vg_buf_add_bp(out, &s->bp);
	}
	if (err || (err = vg_buf_add32(out, (uint32_t)r->nruns)) < 0)
		return err;
	for (size_t i = 0; i < r->nruns && !err; i++) {
		if ((err = vg_buf_add64(out, r->runs[i].count)) < 0)
			return err;
		err = vg_buf_add_bp(out, &r->runs[i].bp);
	}
	return err ? err : vg_buf_addvar(out, 0); /* no extensions */
}

static int decode_config(struct vg_rd *r, struct vg_repo_config *c)
{
	uint32_t clen = vg_rd32(r);
	const uint8_t *p = clen >= 50 && clen <= 50 + VG_KEYBLOB_MAX ? vg_rd_take(r, clen) : NULL;
	if (!p)
		return VG_ERR(VG_ECORRUPT, "repository config is truncated or has a bad size");
	memcpy(c->repo_id, p, 16);
	c->created_ns = (int64_t)vg_get64(p + 16);
	c->enc = p[24];
	c->comp = p[25];
	c->level = (int8_t)p[26];
	c->chunker.alg = p[27];
	c->chunker.min = vg_get32(p + 28);
	c->chunker.avg = vg_get32(p + 32);
	c->chunker.max = vg_get32(p + 36);
	c->chunker.seed = vg_get64(p + 40);
	c->keylen = vg_get16(p + 48);
	if (50u + c->keylen != clen)
		return VG_ERR(VG_ECORRUPT, "repository config key length is inconsistent");
	memcpy(c->key, p + 50, c->keylen);
	if (c->enc != VG_ENC_NONE && c->enc != VG_ENC_REPOKEY)
		return VG_ERR(VG_EVERSION, "vault uses encryption mode %u, unknown to this vigil", c->enc);
	if (c->enc == VG_ENC_REPOKEY) {
		int err = vg_key_blob_check(c->key, c->keylen);
		if (err)
			return err;
	} else if (c->keylen != VG_ID_KEY_LEN) {
		return VG_ERR(VG_ECORRUPT, "repository config holds a %u-byte id key, expected %u", c->keylen,
			      VG_ID_KEY_LEN);
	}
	if (c->comp > VG_COMP_ZSTD)
		return VG_ERR(VG_EVERSION, "vault uses compression %u, unknown to this vigil", c->comp);
	struct vg_chunker ck;
	if (vg_chunker_init(&ck, &c->chunker) < 0)
		return vg_err_prefix(VG_ECORRUPT, "repository config");
	return 0;
}

static int decode_tables(struct vg_rd *r, struct vg_root *out)
{
	int err;
	uint32_t ns = vg_rd32(r);
	if (r->bad || ns > VG_ROOT_MAX_SNAPS || ns > vg_rd_left(r) / (VG_ID_LEN + 8 + VG_BP_SIZE))
		return VG_ERR(VG_ECORRUPT, "root snapshot table is invalid");
	out->snaps = calloc(ns ? ns : 1, sizeof *out->snaps);
	if (!out->snaps)
		return VG_ERR(VG_ENOMEM, "out of memory reading the root");
	for (; out->nsnaps < ns; out->nsnaps++) {
		struct vg_snapref *s = &out->snaps[out->nsnaps];
		vg_rd_copy(r, s->id.b, VG_ID_LEN);
		s->time_ns = (int64_t)vg_rd64(r);
		if ((err = vg_rd_bp(r, &s->bp)) < 0)
			return err;
	}
	uint32_t nr = vg_rd32(r);
	if (r->bad || nr > VG_ROOT_MAX_RUNS || nr > vg_rd_left(r) / (8 + VG_BP_SIZE))
		return VG_ERR(VG_ECORRUPT, "root index table is invalid");
	out->runs = calloc(nr ? nr : 1, sizeof *out->runs);
	if (!out->runs)
		return VG_ERR(VG_ENOMEM, "out of memory reading the root");
	for (; out->nruns < nr; out->nruns++) {
		out->runs[out->nruns].count = vg_rd64(r);
		if ((err = vg_rd_bp(r, &out->runs[out->nruns].bp)) < 0)
			return err;
	}
	return 0;
}

int vg_root_decode(const uint8_t *p, size_t len, struct vg_root *out)
{
	struct vg_rd r;
	int err;
	memset(out, 0, sizeof *out);
	vg_rd_init(&r, p, len);
	const uint8_t *magic = vg_rd_take(&r, 4);
	uint16_t ver = vg_rd16(&r), flags = vg_rd16(&r);
	if (r.bad || memcmp(magic, ROOT_MAGIC, 4))
		return VG_ERR(VG_ECORRUPT, "the vault's root block is not a vigil repository root");
	if (ver != ROOT_VERSION || flags)
		return VG_ERR(VG_EVERSION, "repository format version %u (flags %u) is not supported; "
					   "this vigil reads version %u", ver, flags, ROOT_VERSION);
	if ((err = decode_config(&r, &out->cfg)) < 0 || (err = decode_tables(&r, out)) < 0 ||
	    (err = vg_rd_skip_ext(&r, "repository root")) < 0)
		goto fail;
	if (r.bad || vg_rd_left(&r)) {
		err = VG_ERR(VG_ECORRUPT, "repository root is truncated or has trailing bytes");
		goto fail;
	}
	return 0;
fail:
	vg_root_release(out);
	return err;
}

void vg_root_release(struct vg_root *r)
{
	free(r->snaps);
	free(r->runs);
	r->snaps = NULL;
	r->runs = NULL;
	r->nsnaps = r->nruns = 0;
	memset(r->cfg.key, 0, sizeof r->cfg.key);
}
