/*
 * id.c - HMAC-SHA256 object ids with a precomputed keyed state (see id.h).
 */
#include "repo/id.h"

#include <string.h>
#include <sys/random.h>
#include <errno.h>

#include <openssl/evp.h>

#include "base/err.h"

#define BLOCK 64 /* SHA-256 block size */

static int absorb_pad(EVP_MD_CTX **ctx, const uint8_t *k, uint8_t pad)
{
	uint8_t blk[BLOCK];
	for (int i = 0; i < BLOCK; i++)
		blk[i] = k[i] ^ pad;
	*ctx = EVP_MD_CTX_new();
	int ok = *ctx && EVP_DigestInit_ex(*ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(*ctx, blk, BLOCK);
	memset(blk, 0, sizeof blk);
	return ok ? 0 : VG_ERR(VG_ENOMEM, "cannot set up SHA-256 (OpenSSL)");
}

int vg_idkey_init(struct vg_idkey *k, const uint8_t *key, size_t keylen)
{
	uint8_t kb[BLOCK] = {0};
	int err = 0;
	k->inner = k->outer = NULL;
	if (keylen > BLOCK) {
		unsigned int n = 0;
		if (!EVP_Digest(key, keylen, kb, &n, EVP_sha256(), NULL))
			return VG_ERR(VG_ENOMEM, "cannot hash the id key (OpenSSL)");
	} else if (keylen) {
		memcpy(kb, key, keylen);
	}
	EVP_MD_CTX *in = NULL, *out = NULL;
	if ((err = absorb_pad(&in, kb, 0x36)) < 0 || (err = absorb_pad(&out, kb, 0x5c)) < 0) {
		EVP_MD_CTX_free(in);
		EVP_MD_CTX_free(out);
	} else {
		k->inner = in;
		k->outer = out;
	}
	memset(kb, 0, sizeof kb);
	return err;
}

void vg_idkey_release(struct vg_idkey *k)
{
	EVP_MD_CTX_free(k->inner);
	EVP_MD_CTX_free(k->outer);
	k->inner = k->outer = NULL;
}

int vg_id_compute(const struct vg_idkey *k, const void *data, size_t len, struct vg_id *out)
{
	uint8_t ih[32];
	unsigned int n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_MD_CTX_copy_ex(c, k->inner) && EVP_DigestUpdate(c, data, len) &&
		 EVP_DigestFinal_ex(c, ih, &n) && EVP_MD_CTX_copy_ex(c, k->outer) &&
		 EVP_DigestUpdate(c, ih, sizeof ih) && EVP_DigestFinal_ex(c, out->b, &n);
	EVP_MD_CTX_free(c);
	return ok ? 0 : VG_ERR(VG_ENOMEM, "cannot compute an object id (OpenSSL)");
}

int vg_id_cmp(const struct vg_id *a, const struct vg_id *b) { return memcmp(a->b, b->b, VG_ID_LEN); }

bool vg_id_is_zero(const struct vg_id *id)
{
	static const struct vg_id zero;
	return vg_id_eq(id, &zero);
}

void vg_id_hex(const struct vg_id *id, char out[2 * VG_ID_LEN + 1])
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 0; i < VG_ID_LEN; i++) {
		out[2 * i] = hx[id->b[i] >> 4];
		out[2 * i + 1] = hx[id->b[i] & 15];
	}
	out[2 * VG_ID_LEN] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vg_id_parse(const char *hex, struct vg_id *out)
{
	if (strlen(hex) != 2 * VG_ID_LEN)
		return VG_ERR(VG_EINVAL, "'%s' is not a 64-digit hex id", hex);
	for (int i = 0; i < VG_ID_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return VG_ERR(VG_EINVAL, "'%s' is not a 64-digit hex id", hex);
		out->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int vg_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return VG_ERRNO(errno, "cannot get random bytes");
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
