/*
 * key.h - the vault's master key, wrapped by a passphrase (enc repokey).
 *
 * A repokey vault has a random 64-byte master key: the data key (32 bytes,
 * XChaCha20-Poly1305 for every stored object, obj.h) and the id key (32
 * bytes, HMAC-SHA256 object ids, id.h).  The root's config stores it
 * wrapped: Argon2id (libsodium crypto_pwhash) turns the passphrase and a
 * random salt into a key-encryption key, which seals the master key with
 * XChaCha20-Poly1305, the vault's repository id as associated data (a
 * blob copied into another vault does not open it).  A wrong passphrase
 * fails the tag: VG_EKEY, never garbage.  Changing the passphrase
 * rewraps the same master key, so no object is rewritten.
 *
 * Blob layout (docs/FORMAT.md "Keys"), 129 bytes:
 *   u8 kdf (1 = Argon2id v1.3) | u32 opslimit | u32 memlimit in KiB |
 *   salt 16 | nonce 24 | sealed master key 64 + tag 16
 */
#ifndef VG_REPO_KEY_H
#define VG_REPO_KEY_H

#include <stddef.h>
#include <stdint.h>

#define VG_MASTER_LEN 64 /* data key | id key */
#define VG_KEYBLOB_LEN 129
#define VG_KDF_ARGON2ID 1
/* Defaults: RFC 9106's "uniformly safe" option for memory-constrained
 * machines, t = 3 passes over 64 MiB (docs/FORMAT.md "Keys"). */
#define VG_KDF_OPS_DEFAULT 3
#define VG_KDF_MEM_KIB_DEFAULT (64u << 10)
#define VG_PASS_MAX 4096

struct vg_kdf_params {
	uint32_t ops, mem_kib; /* 0: the defaults */
};

/* Wrap master under pass into blob (VG_KEYBLOB_LEN bytes). */
int vg_key_wrap(const uint8_t master[VG_MASTER_LEN], const char *pass, size_t passlen,
		const struct vg_kdf_params *kp, const uint8_t *repo_id, size_t idlen, uint8_t *blob);
/* Unwrap; VG_EKEY for a wrong passphrase, VG_ECORRUPT/VG_EVERSION for a
 * blob this version cannot read. */
int vg_key_unwrap(const uint8_t *blob, size_t bloblen, const char *pass, size_t passlen,
		  const uint8_t *repo_id, size_t idlen, uint8_t master[VG_MASTER_LEN]);
/* Check a blob's fixed fields without any passphrase (root decoding). */
int vg_key_blob_check(const uint8_t *blob, size_t bloblen);

#endif
