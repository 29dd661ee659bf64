/*
 * pack.h - many sealed objects in one pool block, with a table of contents.
 *
 * A pack is self-describing: its header table lists every object's id,
 * type, compression, encryption, offset and sizes, so the index can be
 * rebuilt from the packs alone.  Layout (docs/FORMAT.md, "Packs"):
 *
 *   "VGPK" | version u8 | table enc u8 | 0 u16 | count u32 | table_off u32
 *   object bytes
 *   table: count x 48-byte entries (sorted by offset, non-overlapping),
 *          sealed like an object when the vault is encrypted (table enc
 *          1: nonce | ciphertext | tag), ending the block
 *
 * The table comes last so that a pack is built in place: objects are
 * sealed straight into the builder's buffer (vg_pack_open/vg_pack_note),
 * vg_pack_finish() appends the table and hands the buffer over, and no
 * object is copied on its way to the pool.  The decoder validates every
 * entry against the block size.
 */
#ifndef VG_REPO_PACK_H
#define VG_REPO_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "repo/id.h"
#include "repo/obj.h"

#define VG_PACK_HDR 16
#define VG_PACK_ENTRY 48
#define VG_PACK_MAX_OBJECTS 65536u

struct vg_pack_entry {
	struct vg_id id;
	uint8_t otype, comp, enc, flags;
	uint32_t off;  /* from the start of the pack block */
	uint32_t slen; /* stored bytes */
	uint32_t rlen; /* plaintext bytes */
};

struct vg_pack_builder {
	struct vg_pack_entry *e; /* off is the offset in the finished block */
	uint32_t n, cap;
	struct vg_buf data;
};

void vg_pack_init(struct vg_pack_builder *b);
void vg_pack_release(struct vg_pack_builder *b);
void vg_pack_reset(struct vg_pack_builder *b);
/* Size of the finished block if one more object of slen bytes were added. */
size_t vg_pack_size_with(const struct vg_pack_builder *b, size_t slen);
/* The block being built, header space included: append one object's
 * stored bytes at its end (remember its length before), then record it
 * with vg_pack_note(at = that length).  NULL: out of memory. */
struct vg_buf *vg_pack_open(struct vg_pack_builder *b);
/* A failure drops the appended bytes again. */
int vg_pack_note(struct vg_pack_builder *b, const struct vg_id *id, uint8_t otype, uint8_t comp, uint8_t enc,
		 size_t at, size_t rlen);
/* Append the stored bytes of one object (copied). */
int vg_pack_add(struct vg_pack_builder *b, const struct vg_id *id, uint8_t otype, uint8_t comp,
		uint8_t enc, const void *stored, size_t slen, size_t rlen);
/* Finish the block and move it into out (out's old buffer becomes the
 * builder's); b->e still lists the objects until vg_pack_reset().  The
 * table is sealed with s when s encrypts (s may be NULL: in clear). */
int vg_pack_finish(struct vg_pack_builder *b, struct vg_sealer *s, struct vg_buf *out);

/* Validate a pack block and return its table (malloc'd, caller frees).
 * An encrypted table needs s (with the key): VG_EKEY without one,
 * VG_ECORRUPT when it fails authentication. */
int vg_pack_decode(const uint8_t *p, size_t len, struct vg_sealer *s, struct vg_pack_entry **out, uint32_t *n);

#endif
