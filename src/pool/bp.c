/*
 * bp.c - block pointers: encoding, validation, checksums.
 *
 * A bp is 80 bytes on disk (docs/FORMAT.md, "Block pointer").  Decoding
 * validates every field that can be checked without the pool, so a damaged
 * parent that still passed its own checksum (a bug, or a foreign writer)
 * cannot send a reader out of bounds.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "base/bytes.h"
#include "base/err.h"
#include "pool/impl.h"

void vg_cksum(int alg, const void *data, size_t len, uint8_t out[VG_CKSUM_LEN])
{
	memset(out, 0, VG_CKSUM_LEN);
	if (alg == VG_CKSUM_SHA256) {
		unsigned int n = 0;
		EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
		return;
	}
	XXH128_hash_t h = XXH3_128bits(data, len);
	vg_put64(out, h.low64);
	vg_put64(out + 8, h.high64);
}

void vg_bp_encode(const struct vg_bp *bp, uint8_t o[VG_BP_SIZE])
{
	memset(o, 0, VG_BP_SIZE);
	o[0] = bp->ndva;
	o[1] = bp->cksum_alg;
	vg_put16(o + 2, bp->type);
	vg_put32(o + 4, bp->psize);
	vg_put64(o + 8, bp->birth);
	for (int i = 0; i < VG_BP_MAX_DVA; i++) {
		if (i >= bp->ndva)
			break;
		vg_put32(o + 16 + 8 * i, bp->dva[i].seg);
		vg_put32(o + 20 + 8 * i, bp->dva[i].off);
	}
	memcpy(o + 40, bp->cksum, VG_CKSUM_LEN);
}

int vg_bp_decode(const uint8_t in[VG_BP_SIZE], struct vg_bp *bp)
{
	memset(bp, 0, sizeof *bp);
	bp->ndva = in[0];
	bp->cksum_alg = in[1];
	bp->type = vg_get16(in + 2);
	bp->psize = vg_get32(in + 4);
	bp->birth = vg_get64(in + 8);
	if (bp->ndva < 1 || bp->ndva > VG_BP_MAX_DVA)
		return VG_ERR(VG_ECORRUPT, "block pointer with %u copies", bp->ndva);
	if (bp->cksum_alg != VG_CKSUM_XXH3_128 && bp->cksum_alg != VG_CKSUM_SHA256)
		return VG_ERR(VG_EVERSION, "block pointer with unknown checksum type %u", bp->cksum_alg);
	if (bp->psize < 1 || bp->psize > VG_POOL_MAX_BLOCK)
		return VG_ERR(VG_ECORRUPT, "block pointer with size %u", bp->psize);
	for (int i = 0; i < VG_BP_MAX_DVA; i++) {
		uint32_t seg = vg_get32(in + 16 + 8 * i), off = vg_get32(in + 20 + 8 * i);
		if (i < bp->ndva) {
			if (off >= VG_SEG_ROWS)
				return VG_ERR(VG_ECORRUPT, "block pointer offset %u beyond a segment", off);
			bp->dva[i].seg = seg;
			bp->dva[i].off = off;
		} else if (seg || off) {
			return VG_ERR(VG_ECORRUPT, "block pointer with data in an unused copy slot");
		}
	}
	memcpy(bp->cksum, in + 40, VG_CKSUM_LEN);
	for (int i = 72; i < VG_BP_SIZE; i++)
		if (in[i])
			return VG_ERR(VG_EVERSION, "block pointer with unknown flags set");
	return 0;
}

const char *vg_bp_str(const struct vg_bp *bp, char buf[96])
{
	snprintf(buf, 96, "block seg %u row %u size %u (txg %llu)", bp->dva[0].seg, bp->dva[0].off,
		 bp->psize, (unsigned long long)bp->birth);
	return buf;
}
