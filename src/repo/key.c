/*
 * key.c - wrapping the master key with Argon2id + XChaCha20-Poly1305
 * (see key.h).
 */
#include "repo/key.h"

#include <string.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/err.h"

#define SALT 16
#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KDF_OPS_MAX 1000u
#define KDF_MEM_KIB_MAX (4u << 20) /* 4 GiB */

int vg_key_blob_check(const uint8_t *blob, size_t bloblen)
{
	if (bloblen != VG_KEYBLOB_LEN)
		return VG_ERR(VG_ECORRUPT, "the vault's wrapped key has %zu bytes, expected %d", bloblen,
			      VG_KEYBLOB_LEN);
	if (blob[0] != VG_KDF_ARGON2ID)
		return VG_ERR(VG_EVERSION, "the vault's key uses key derivation %u, unknown to this vigil", blob[0]);
	uint32_t ops = vg_get32(blob + 1), mem = vg_get32(blob + 5);
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > KDF_OPS_MAX || mem < 8 || mem > KDF_MEM_KIB_MAX)
		return VG_ERR(VG_ECORRUPT, "the vault's key has unusable Argon2id parameters (ops %u, %u KiB)", ops,
			      mem);
	return 0;
}

static int derive(const char *pass, size_t passlen, const uint8_t *blob, uint8_t kek[32])
{
	if (sodium_init() < 0)
		return VG_ERR(VG_EINVAL, "libsodium cannot be initialised");
	if (passlen > VG_PASS_MAX)
		return VG_ERR(VG_EINVAL, "the passphrase is longer than %d bytes", VG_PASS_MAX);
	uint32_t ops = vg_get32(blob + 1), mem = vg_get32(blob + 5);
	if (crypto_pwhash(kek, 32, pass, passlen, blob + 9, ops, (size_t)mem << 10, crypto_pwhash_ALG_ARGON2ID13))
		return VG_ERR(VG_ENOMEM, "not enough memory for the key derivation (%u KiB)", mem);
	return 0;
}

int vg_key_wrap(const uint8_t master[VG_MASTER_LEN], const char *pass, size_t passlen,
		const struct vg_kdf_params *kp, const uint8_t *repo_id, size_t idlen, uint8_t *blob)
{
	uint8_t kek[32];
	uint32_t ops = kp && kp->ops ? kp->ops : VG_KDF_OPS_DEFAULT;
	uint32_t mem = kp && kp->mem_kib ? kp->mem_kib : VG_KDF_MEM_KIB_DEFAULT;
	if (passlen == 0)
		return VG_ERR(VG_EINVAL, "the passphrase is empty");
	blob[0] = VG_KDF_ARGON2ID;
	vg_put32(blob + 1, ops);
	vg_put32(blob + 5, mem);
	int err = vg_key_blob_check(blob, VG_KEYBLOB_LEN);
	if (err)
		return VG_ERR(VG_EINVAL, "Argon2id parameters out of range (ops %u..%u, memory 8 KiB..4 GiB)",
			      (unsigned)crypto_pwhash_OPSLIMIT_MIN, KDF_OPS_MAX);
	if (sodium_init() < 0)
		return VG_ERR(VG_EINVAL, "libsodium cannot be initialised");
	randombytes_buf(blob + 9, SALT + NONCE);
	if ((err = derive(pass, passlen, blob, kek)) < 0)
		return err;
	uint8_t *nonce = blob + 9 + SALT, *c = nonce + NONCE;
	crypto_aead_xchacha20poly1305_ietf_encrypt(c, NULL, master, VG_MASTER_LEN, repo_id, idlen, NULL, nonce,
						   kek);
	sodium_memzero(kek, sizeof kek);
	return 0;
}

int vg_key_unwrap(const uint8_t *blob, size_t bloblen, const char *pass, size_t passlen,
		  const uint8_t *repo_id, size_t idlen, uint8_t master[VG_MASTER_LEN])
{
	uint8_t kek[32];
	int err = vg_key_blob_check(blob, bloblen);
	if (err || (err = derive(pass, passlen, blob, kek)) < 0)
		return err;
	const uint8_t *nonce = blob + 9 + SALT, *c = nonce + NONCE;
	int bad = crypto_aead_xchacha20poly1305_ietf_decrypt(master, NULL, NULL, c, VG_MASTER_LEN + TAG, repo_id,
							     idlen, nonce, kek);
	sodium_memzero(kek, sizeof kek);
	if (bad)
		return VG_ERR(VG_EKEY, "wrong passphrase: the vault's key cannot be unlocked with it");
	return 0;
}
