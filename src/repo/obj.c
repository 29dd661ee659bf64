/*
 * obj.c - sealing objects: compression and encryption (see obj.h).
 */
#include "repo/obj.h"

#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>
#include <zstd.h>

#include "base/bytes.h"
#include "base/err.h"

#define FRAME_MAGIC "VGOB"
#define FRAME_VERSION 1

/* Objects at least this large are sampled before being compressed. */
#define SAMPLE_FROM (128u << 10)
#define SAMPLE_LEN (16u << 10)

int vg_sealer_init(struct vg_sealer *s, int level, int enc, const uint8_t *key)
{
	memset(s, 0, sizeof *s);
	if (enc != VG_ENC_NONE && enc != VG_ENC_REPOKEY)
		return VG_ERR(VG_EVERSION, "encryption mode %d is not supported by this version of vigil", enc);
	if (enc == VG_ENC_REPOKEY && (!key || sodium_init() < 0))
		return VG_ERR(VG_EINVAL, "encryption needs the vault's key (libsodium not usable?)");
	if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
		return VG_ERR(VG_EINVAL, "compression level %d is out of range (%d..%d)", level,
			      ZSTD_minCLevel(), ZSTD_maxCLevel());
	s->level = level;
	s->enc = enc;
	s->key = key;
	if (enc == VG_ENC_REPOKEY)
		randombytes_buf(s->nonce_prefix, sizeof s->nonce_prefix);
	vg_buf_init(&s->tmp, VG_OBJ_MAX + VG_SEAL_OVERHEAD);
	s->cctx = ZSTD_createCCtx();
	s->dctx = ZSTD_createDCtx();
	s->aead = EVP_CIPHER_CTX_new();
	if (!s->cctx || !s->dctx || !s->aead) {
		vg_sealer_release(s);
		return VG_ERR(VG_ENOMEM, "out of memory creating zstd contexts");
	}
	return 0;
}

void vg_sealer_release(struct vg_sealer *s)
{
	ZSTD_freeCCtx(s->cctx);
	ZSTD_freeDCtx(s->dctx);
	EVP_CIPHER_CTX_free(s->aead);
	vg_buf_release(&s->tmp);
	s->cctx = s->dctx = s->aead = NULL;
}

/* A large object whose first SAMPLE_LEN bytes do not shrink by 2% at
 * zstd's fastest level is taken as incompressible (media, archives,
 * encrypted data): compressing all of it would cost time for nothing. */
static bool worth_compressing(struct vg_sealer *s, const void *plain, size_t len, struct vg_buf *out)
{
	if (len < SAMPLE_FROM)
		return true;
	size_t bound = ZSTD_compressBound(SAMPLE_LEN);
	if (vg_buf_reserve(out, bound) < 0)
		return true;
	size_t c = ZSTD_compressCCtx(s->cctx, out->p + out->len, bound, plain, SAMPLE_LEN, 1);
	return ZSTD_isError(c) || c < SAMPLE_LEN - SAMPLE_LEN / 50;
}

/* Compress plain after out's content; *n is the compressed size when it
 * is smaller than plain (out->len not yet advanced), 0 when it is not. */
static int try_compress(struct vg_sealer *s, const void *plain, size_t len, struct vg_buf *out, size_t *n)
{
	*n = 0;
	if (s->level == 0 || len == 0 || !worth_compressing(s, plain, len, out))
		return 0;
	size_t bound = ZSTD_compressBound(len);
	int err = vg_buf_reserve(out, bound);
	if (err)
		return err;
	size_t c = ZSTD_compressCCtx(s->cctx, out->p + out->len, bound, plain, len, s->level);
	if (ZSTD_isError(c))
		return VG_ERR(VG_EINVAL, "zstd compression failed: %s", ZSTD_getErrorName(c));
	if (c < len)
		*n = c;
	return 0;
}

/*
 * XChaCha20-Poly1305 (IETF) as libsodium defines it, with the bulk work
 * done by OpenSSL's ChaCha20-Poly1305, which has AVX-512 code (about twice
 * libsodium's speed here): the subkey is HChaCha20(key, nonce[0..16)) and
 * the 96-bit nonce is four zero bytes then nonce[16..24).  The stored
 * bytes are exactly libsodium's (tests/unit/test_repo_format.c checks both
 * directions), so either library can read the other's objects.
 */
static int xchacha_init(struct vg_sealer *s, const uint8_t *nonce, int encrypt)
{
	uint8_t sub[32], iv[12] = {0};
	crypto_core_hchacha20(sub, nonce, s->key, NULL);
	memcpy(iv + 4, nonce + 16, 8);
	int ok = EVP_CipherInit_ex(s->aead, EVP_chacha20_poly1305(), NULL, sub, iv, encrypt);
	sodium_memzero(sub, sizeof sub);
	return ok ? 0 : VG_ERR(VG_ENOMEM, "cannot set up ChaCha20-Poly1305 (OpenSSL)");
}

/* c = encryption of the n bytes at m (m == c allowed), tag after c. */
static int xchacha_seal(struct vg_sealer *s, const uint8_t *nonce, const uint8_t *m, size_t n, uint8_t *c)
{
	int len = 0, err = xchacha_init(s, nonce, 1);
	if (err)
		return err;
	if ((n && !EVP_EncryptUpdate(s->aead, c, &len, m, (int)n)) || !EVP_EncryptFinal_ex(s->aead, c + len, &len) ||
	    !EVP_CIPHER_CTX_ctrl(s->aead, EVP_CTRL_AEAD_GET_TAG, VG_SEAL_TAG, c + n))
		return VG_ERR(VG_EINVAL, "ChaCha20-Poly1305 encryption failed (OpenSSL)");
	return 0;
}

/* m = decryption of the n bytes at c, whose tag follows them; false when
 * the tag does not verify (m then holds nothing usable). */
static bool xchacha_open(struct vg_sealer *s, const uint8_t *nonce, const uint8_t *c, size_t n, uint8_t *m)
{
	uint8_t tag[VG_SEAL_TAG];
	int len = 0;
	memcpy(tag, c + n, sizeof tag);
	return xchacha_init(s, nonce, 0) == 0 && (!n || EVP_DecryptUpdate(s->aead, m, &len, c, (int)n)) &&
	       EVP_CIPHER_CTX_ctrl(s->aead, EVP_CTRL_AEAD_SET_TAG, VG_SEAL_TAG, tag) &&
	       EVP_DecryptFinal_ex(s->aead, m + len, &len) > 0;
}

int vg_seal(struct vg_sealer *s, const void *plain, size_t len, bool compress, struct vg_buf *out,
	    uint8_t *comp)
{
	size_t at = out->len, n = 0;
	bool enc = s->enc == VG_ENC_REPOKEY;
	int err = enc ? vg_buf_reserve(out, VG_SEAL_NONCE) : 0;
	if (err)
		return err;
	if (enc)
		out->len += VG_SEAL_NONCE;
	if (compress && (err = try_compress(s, plain, len, out, &n)) < 0) {
		out->len = at;
		return err;
	}
	*comp = n ? VG_COMP_ZSTD : VG_COMP_NONE;
	if (!enc) {
		if (n)
			out->len += n;
		else if ((err = vg_buf_add(out, plain, len)) < 0)
			out->len = at;
		return err;
	}
	/* compressed bytes are encrypted in place; raw ones straight from
	 * plain into out, never copied first */
	size_t m = n ? n : len;
	if ((err = vg_buf_reserve(out, m + VG_SEAL_TAG)) < 0) {
		out->len = at;
		return err;
	}
	uint8_t *nonce = out->p + at, *c = nonce + VG_SEAL_NONCE;
	/* A nonce must never repeat under the key.  XChaCha20 derives the
	 * subkey from the first 16 bytes (random, drawn at init: two sealers
	 * share them with probability 2^-128 per pair) and uses the last 8 as
	 * ChaCha20's nonce under that subkey (a counter: unique within one
	 * sealer). */
	memcpy(nonce, s->nonce_prefix, sizeof s->nonce_prefix);
	vg_put64(nonce + sizeof s->nonce_prefix, s->nonce_count++);
	if ((err = xchacha_seal(s, nonce, n ? c : plain, m, c)) < 0) {
		out->len = at;
		return err;
	}
	out->len = at + VG_SEAL_NONCE + m + VG_SEAL_TAG;
	return 0;
}

size_t vg_seal_bound(const struct vg_sealer *s, size_t len)
{
	size_t c = s->level ? ZSTD_compressBound(len) : len;
	return (c > len ? c : len) + (s->enc == VG_ENC_REPOKEY ? VG_SEAL_OVERHEAD : 0);
}

static int check_sealed(const uint8_t *key, size_t slen, const char *what)
{
	if (!key)
		return VG_ERR(VG_EKEY, "%s is encrypted and the vault was opened without its key", what);
	if (slen < VG_SEAL_OVERHEAD || slen - VG_SEAL_OVERHEAD > VG_OBJ_MAX + 1024)
		return VG_ERR(VG_ECORRUPT, "%s: encrypted object of %zu bytes is truncated or too large", what,
			      slen);
	return 0;
}

static int auth_failed(const char *what)
{
	return VG_ERR(VG_ECORRUPT, "%s fails authentication: it was altered or belongs to another vault", what);
}

/* Authenticate and decrypt into s->tmp; *p, *n: the inner stored bytes. */
static int decrypt(struct vg_sealer *s, const uint8_t *stored, size_t slen, const uint8_t **p, size_t *n,
		   const char *what)
{
	int err = check_sealed(s->key, slen, what);
	if (err)
		return err;
	size_t m = slen - VG_SEAL_OVERHEAD;
	vg_buf_reset(&s->tmp);
	if ((err = vg_buf_reserve(&s->tmp, m ? m : 1)) < 0)
		return err;
	if (!xchacha_open(s, stored, stored + VG_SEAL_NONCE, m, s->tmp.p))
		return auth_failed(what);
	s->tmp.len = m;
	*p = s->tmp.p;
	*n = m;
	return 0;
}

/* The same construction through libsodium, which needs no context: any
 * thread may call it (index blocks, small and read by lookup threads). */
static int decrypt_into(const uint8_t *key, const uint8_t *stored, size_t slen, struct vg_buf *dst,
			const char *what)
{
	int err = check_sealed(key, slen, what);
	if (err)
		return err;
	size_t m = slen - VG_SEAL_OVERHEAD;
	if ((err = vg_buf_reserve(dst, m ? m : 1)) < 0)
		return err;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(dst->p + dst->len, NULL, stored + VG_SEAL_NONCE, m,
								 stored + VG_SEAL_NONCE + m, NULL, 0, stored,
								 key) != 0)
		return auth_failed(what);
	dst->len += m;
	return 0;
}

int vg_unseal_raw(const uint8_t *key, uint8_t enc, const void *stored, size_t slen, size_t rlen,
		  struct vg_buf *out, const char *what)
{
	size_t at = out->len;
	if (enc != VG_ENC_NONE && enc != VG_ENC_REPOKEY)
		return VG_ERR(VG_EVERSION, "%s is encrypted with mode %u, which this vigil cannot read", what,
			      enc);
	if (rlen > VG_OBJ_MAX)
		return VG_ERR(VG_ECORRUPT, "%s claims %zu bytes, more than any object", what, rlen);
	int err = enc == VG_ENC_REPOKEY ? decrypt_into(key, stored, slen, out, what) : vg_buf_add(out, stored, slen);
	if (!err && out->len - at != rlen)
		err = VG_ERR(VG_ECORRUPT, "%s: stored size %zu differs from its size %zu", what, out->len - at, rlen);
	if (err)
		out->len = at;
	return err;
}

int vg_unseal(struct vg_sealer *s, uint8_t comp, uint8_t enc, const void *stored, size_t slen,
	      size_t rlen, struct vg_buf *out, const char *what)
{
	int err;
	if (enc != VG_ENC_NONE && enc != VG_ENC_REPOKEY)
		return VG_ERR(VG_EVERSION, "%s is encrypted with mode %u, which this vigil cannot read", what,
			      enc);
	if (rlen > VG_OBJ_MAX)
		return VG_ERR(VG_ECORRUPT, "%s claims %zu bytes, more than any object", what, rlen);
	if (comp != VG_COMP_NONE && comp != VG_COMP_ZSTD)
		return VG_ERR(VG_EVERSION, "%s uses unknown compression %u", what, comp);
	if (enc == VG_ENC_REPOKEY && (err = decrypt(s, stored, slen, (const uint8_t **)&stored, &slen, what)) < 0)
		return err;
	if (comp == VG_COMP_NONE) {
		if (slen != rlen)
			return VG_ERR(VG_ECORRUPT, "%s: stored size %zu differs from its size %zu", what, slen,
				      rlen);
		return vg_buf_add(out, stored, slen);
	}
	/* at least one byte, so out->p is never NULL below */
	if ((err = vg_buf_reserve(out, rlen ? rlen : 1)) < 0)
		return err;
	size_t n = ZSTD_decompressDCtx(s->dctx, out->p + out->len, rlen, stored, slen);
	if (ZSTD_isError(n) || n != rlen)
		return VG_ERR(VG_ECORRUPT, "%s does not decompress to its recorded size (%s)", what,
			      ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong size");
	out->len += n;
	return 0;
}

int vg_frame_encode(struct vg_sealer *s, uint8_t otype, const void *plain, size_t len, bool compress,
		    struct vg_buf *out)
{
	if (len > VG_OBJ_MAX)
		return VG_ERR(VG_EINVAL, "%s of %zu bytes is too large", vg_otype_name(otype), len);
	uint8_t h[VG_FRAME_HDR];
	memcpy(h, FRAME_MAGIC, 4);
	h[4] = FRAME_VERSION;
	h[5] = otype;
	h[6] = 0;
	h[7] = (uint8_t)s->enc;
	vg_put32(h + 8, (uint32_t)len);
	size_t at = out->len;
	int err = vg_buf_add(out, h, sizeof h);
	if (err)
		return err;
	uint8_t comp;
	if ((err = vg_seal(s, plain, len, compress, out, &comp)) < 0)
		return err;
	out->p[at + 6] = comp;
	return 0;
}

int vg_frame_decode(struct vg_sealer *s, uint8_t otype, const void *block, size_t len,
		    struct vg_buf *out, const char *what)
{
	struct vg_rd r;
	vg_rd_init(&r, block, len);
	const uint8_t *magic = vg_rd_take(&r, 4);
	uint8_t ver = vg_rd8(&r), ot = vg_rd8(&r), comp = vg_rd8(&r), enc = vg_rd8(&r);
	uint32_t rlen = vg_rd32(&r);
	if (r.bad || memcmp(magic, FRAME_MAGIC, 4))
		return VG_ERR(VG_ECORRUPT, "%s is not a vigil object (bad header)", what);
	if (ver != FRAME_VERSION)
		return VG_ERR(VG_EVERSION, "%s has object format version %u; this vigil reads %u", what, ver,
			      FRAME_VERSION);
	if (ot != otype)
		return VG_ERR(VG_ECORRUPT, "%s holds a %s, not a %s", what, vg_otype_name(ot),
			      vg_otype_name(otype));
	return vg_unseal(s, comp, enc, r.p + r.off, vg_rd_left(&r), rlen, out, what);
}

const char *vg_otype_name(int otype)
{
	switch (otype) {
	case VG_OT_CHUNK: return "chunk";
	case VG_OT_TREE: return "tree";
	case VG_OT_TREE_PART: return "tree part";
	case VG_OT_SNAPSHOT: return "snapshot";
	}
	return "unknown object";
}

int vg_rd_bp(struct vg_rd *r, struct vg_bp *bp)
{
	const uint8_t *q = vg_rd_take(r, VG_BP_SIZE);
	if (!q)
		return VG_ERR(VG_ECORRUPT, "block pointer is truncated");
	return vg_bp_decode(q, bp);
}

int vg_buf_add_bp(struct vg_buf *b, const struct vg_bp *bp)
{
	uint8_t t[VG_BP_SIZE];
	vg_bp_encode(bp, t);
	return vg_buf_add(b, t, sizeof t);
}

int vg_rd_skip_ext(struct vg_rd *r, const char *what)
{
	uint64_t n = vg_rdvar(r);
	if (r->bad || n > vg_rd_left(r))
		return VG_ERR(VG_ECORRUPT, "%s: bad extension count", what);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t tag = vg_rdvar(r), len = vg_rdvar(r);
		if (r->bad || !vg_rd_take(r, len))
			return VG_ERR(VG_ECORRUPT, "%s: truncated extension", what);
		if (tag & 1)
			return VG_ERR(VG_EVERSION, "%s needs extension %llu, unknown to this vigil", what,
				      (unsigned long long)tag);
	}
	return 0;
}
