/*
 * obj.h - how a repository object's plaintext becomes stored bytes.
 *
 * Sealing = compress (zstd; kept raw when that does not make it smaller,
 * and not even tried when a sample of a large object does not compress),
 * then encrypt: `repokey` is XChaCha20-Poly1305 (IETF, as libsodium defines
 * it; obj.c does the bulk with OpenSSL) under
 * the vault's 32-byte data key with a fresh random 24-byte nonce per
 * object: stored = nonce | ciphertext | 16-byte tag.  A random 192-bit
 * nonce never repeats in practice, so no counter has to be kept across
 * threads, processes or machines (AES-256-GCM's 96-bit nonces would cap a
 * key at ~2^32 random-nonce objects, and libsodium offers it only with
 * AES-NI, which would make a vault unreadable on other CPUs).  The comp
 * and enc bytes travel with every stored object (pack table, frame
 * header), so a vault written under one mode stays readable after the
 * default changes.
 *
 * A frame is a standalone sealed object that fills one pool block
 * (snapshots): a 12-byte header, then the stored bytes.
 *
 * A struct vg_sealer holds a thread's zstd contexts: one per thread, never
 * shared.  Pool block types and object types are listed here because they
 * are part of the format (docs/FORMAT.md, Part 2).
 */
#ifndef VG_REPO_OBJ_H
#define VG_REPO_OBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/bytes.h"
#include "pool/pool.h"

/* Pool block types (struct vg_bp.type). */
enum vg_btype {
	VG_BT_ROOT = 0x0101,
	VG_BT_DATA_PACK = 0x0102,
	VG_BT_META_PACK = 0x0103,
	VG_BT_SNAPSHOT = 0x0104,
	VG_BT_INDEX_RUN = 0x0105,
	VG_BT_INDEX_BLOCK = 0x0106,
	VG_BT_INDEX_FILTER = 0x0107,
};

/* Object types (pack table, frames, index). */
enum vg_otype {
	VG_OT_CHUNK = 1,     /* file content */
	VG_OT_TREE = 2,      /* a directory */
	VG_OT_TREE_PART = 3, /* a slice of a large directory's tree */
	VG_OT_SNAPSHOT = 4,
	VG_OT_MAX_ = 4
};

enum vg_comp { VG_COMP_NONE = 0, VG_COMP_ZSTD = 1 };
enum vg_enc { VG_ENC_NONE = 0, VG_ENC_REPOKEY = 1 };

#define VG_OBJ_MAX (16u << 20) /* largest plaintext of any object */
#define VG_FRAME_HDR 12
#define VG_COMP_LEVEL_DEFAULT 1 /* by benchmark: docs/FORMAT.md "Sealing" */
#define VG_DATA_KEY_LEN 32
#define VG_SEAL_NONCE 24
#define VG_SEAL_TAG 16
#define VG_SEAL_OVERHEAD (VG_SEAL_NONCE + VG_SEAL_TAG) /* per encrypted object */

struct vg_sealer {
	int level; /* zstd level; 0 = store raw */
	int enc;   /* enum vg_enc */
	const uint8_t *key; /* VG_DATA_KEY_LEN bytes (enc repokey), owned by the caller */
	void *cctx, *dctx;
	void *aead; /* OpenSSL cipher context (XChaCha20-Poly1305's bulk) */
	/* nonces: 16 random bytes drawn once per sealer, then a counter (see
	 * vg_seal) - unique without a system call per object */
	uint8_t nonce_prefix[16];
	uint64_t nonce_count;
	struct vg_buf tmp; /* decrypted, still compressed bytes */
};

/* key: the data key for VG_ENC_REPOKEY (NULL for none); it must outlive s. */
int vg_sealer_init(struct vg_sealer *s, int level, int enc, const uint8_t *key);
void vg_sealer_release(struct vg_sealer *s);

/* Append the stored form of plain to out; *comp says how it was stored. */
int vg_seal(struct vg_sealer *s, const void *plain, size_t len, bool compress, struct vg_buf *out,
	    uint8_t *comp);
/* The most bytes vg_seal() can append for len bytes of plaintext. */
size_t vg_seal_bound(const struct vg_sealer *s, size_t len);
/* Append the plaintext (exactly rlen bytes, else VG_ECORRUPT) to out.
 * `what` names the object in messages.  An encrypted object that fails
 * authentication is VG_ECORRUPT (the key was proven by unlocking). */
int vg_unseal(struct vg_sealer *s, uint8_t comp, uint8_t enc, const void *stored, size_t slen,
	      size_t rlen, struct vg_buf *out, const char *what);

/* The same for an object stored without compression (comp 0), using
 * only the key: no per-thread state, so any thread may call it.  key:
 * the data key, NULL when the vault has no encryption. */
int vg_unseal_raw(const uint8_t *key, uint8_t enc, const void *stored, size_t slen, size_t rlen,
		  struct vg_buf *out, const char *what);

/* A frame: "VGOB", version, otype, comp, enc, rlen u32, stored bytes. */
int vg_frame_encode(struct vg_sealer *s, uint8_t otype, const void *plain, size_t len, bool compress,
		    struct vg_buf *out);
/* Checks the header (otype must match) and unseals into out. */
int vg_frame_decode(struct vg_sealer *s, uint8_t otype, const void *block, size_t len,
		    struct vg_buf *out, const char *what);

/* Block pointers inside repository objects (80 bytes, vg_bp_encode). */
int vg_rd_bp(struct vg_rd *r, struct vg_bp *bp);
int vg_buf_add_bp(struct vg_buf *b, const struct vg_bp *bp);

/* Skip an extension area (count, then tag/len/bytes items): items with an
 * even tag may be ignored, an odd tag is critical and gives VG_EVERSION. */
int vg_rd_skip_ext(struct vg_rd *r, const char *what);

/* Short name of an object type, for messages ("chunk", "tree", ...). */
const char *vg_otype_name(int otype);

#endif
