/*
 * index.h - where each object lives: id -> (pack, offset, sizes, type).
 *
 * In memory: an open-addressing hash table keyed by the (uniformly random)
 * id bytes, plus the list of pack block pointers entries refer to.
 *
 * In the vault: sorted immutable *runs*.  Each commit writes one run with
 * the entries it added.  A run is a header block listing its index blocks
 * (first id, last id, count, bp) - the fence keys an on-disk lookup needs -
 * and each index block holds up to VG_INDEX_BLOCK_MAX entries sorted by id
 * with its own table of pack bps, so one block answers a lookup alone.
 * Loading everything at open is this version's choice, not the format's.
 */
#ifndef VG_REPO_INDEX_H
#define VG_REPO_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "pool/pool.h"
#include "repo/id.h"
#include "repo/obj.h"

#define VG_INDEX_PENDING UINT32_MAX /* pack not written yet */
#define VG_INDEX_BLOCK_MAX 65536u
#define VG_INDEX_ENTRY 52
#define VG_INDEX_RUN_MAX_BLOCKS 65536u
#define VG_INDEX_BLOCK_HDR 20
#define VG_INDEX_RUN_HDR 20

struct vg_index_entry {
	struct vg_id id;
	uint32_t pack; /* index into vg_index.packs, or VG_INDEX_PENDING */
	uint32_t off, slen, rlen;
	uint8_t otype, comp, enc, flags; /* otype 0 marks an empty slot */
};

struct vg_index {
	struct vg_index_entry *slot;
	size_t cap, n; /* cap is a power of two */
	struct vg_bp *packs;
	uint32_t npacks, packcap;
};

void vg_index_init(struct vg_index *x);
void vg_index_release(struct vg_index *x);
/* NULL if absent.  The pointer is valid until the next insert. */
struct vg_index_entry *vg_index_find(const struct vg_index *x, const struct vg_id *id);
/* Insert (VG_EEXIST if the id is present); *out (optional) points at it. */
int vg_index_insert(struct vg_index *x, const struct vg_index_entry *e, struct vg_index_entry **out);
int vg_index_add_pack(struct vg_index *x, const struct vg_bp *bp, uint32_t *no);

/* An index block is a whole pool block: a plaintext header and table of
 * pack bps (so the vault's blocks can be walked without any key), then
 * the sealed entries.  Entries must be sorted by id; their pack numbers
 * refer to x->packs. */
int vg_index_block_encode(struct vg_sealer *s, const struct vg_index *x, const struct vg_index_entry *e,
			  size_t n, struct vg_buf *out);
/* Decode and validate a block; entries come back with pack numbers into
 * *packs (both malloc'd). */
int vg_index_block_decode(struct vg_sealer *s, const uint8_t *p, size_t len, struct vg_bp **packs,
			  uint32_t *npacks, struct vg_index_entry **entries, uint32_t *n);
/* Only the pack table (needs no key). */
int vg_index_block_packs(const uint8_t *p, size_t len, struct vg_bp **packs, uint32_t *npacks);

/* A run header is never sealed: it holds only keyed ids, counts and bps. */
struct vg_index_fence {
	struct vg_id first, last;
	uint32_t count;
	struct vg_bp bp;
};
int vg_index_run_encode(const struct vg_index_fence *f, uint32_t nblocks, struct vg_buf *out);
int vg_index_run_decode(const uint8_t *p, size_t len, struct vg_index_fence **out, uint32_t *nblocks,
			uint64_t *total);

#endif
