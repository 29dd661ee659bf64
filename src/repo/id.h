/*
 * id.h - object ids: a keyed hash (HMAC-SHA256) of an object's plaintext.
 *
 * Every repository object (chunk, tree, snapshot) is named by the HMAC of
 * its plaintext under the vault's random 32-byte id key, kept in the
 * repository config.  Equal content gives equal ids (deduplication), and
 * without the key an id reveals nothing about the content, which matters
 * once objects are encrypted.
 *
 * The keyed state is computed once (the inner and outer SHA-256 states
 * after absorbing key^ipad and key^opad) and copied for each object, so a
 * struct vg_idkey is read-only after init and can be shared by threads.
 */
#ifndef VG_REPO_ID_H
#define VG_REPO_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VG_ID_LEN 32
#define VG_ID_KEY_LEN 32

struct vg_id {
	uint8_t b[VG_ID_LEN];
};

struct vg_idkey {
	void *inner, *outer; /* EVP_MD_CTX, keyed */
};

/* Any key length (RFC 2104); vaults use VG_ID_KEY_LEN random bytes. */
int vg_idkey_init(struct vg_idkey *k, const uint8_t *key, size_t keylen);
void vg_idkey_release(struct vg_idkey *k);
/* Thread-safe for a shared k.  VG_ENOMEM/VG_EINVAL only on library failure. */
int vg_id_compute(const struct vg_idkey *k, const void *data, size_t len, struct vg_id *out);

static inline bool vg_id_eq(const struct vg_id *a, const struct vg_id *b)
{
	for (int i = 0; i < VG_ID_LEN; i++)
		if (a->b[i] != b->b[i])
			return false;
	return true;
}
int vg_id_cmp(const struct vg_id *a, const struct vg_id *b);
bool vg_id_is_zero(const struct vg_id *id);
/* 64 lowercase hex digits + NUL. */
void vg_id_hex(const struct vg_id *id, char out[2 * VG_ID_LEN + 1]);
/* Parse exactly 64 hex digits; VG_EINVAL otherwise. */
int vg_id_parse(const char *hex, struct vg_id *out);

/* Fill buf with cryptographically random bytes (VG_EIO on failure). */
int vg_random(void *buf, size_t len);

#endif
