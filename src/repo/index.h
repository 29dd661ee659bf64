/*
 * index.h - where each object lives: id -> (pack, offset, sizes, type).
 *
 * Two parts (index_disk.h ties them together for the repository):
 *  - in memory, the handle's new objects: an open-addressing hash table
 *    keyed by the (uniformly random) id bytes, plus the list of the pack
 *    block pointers its entries refer to (struct vg_index);
 *  - in the vault, sorted immutable *runs*: a run header listing its index
 *    blocks (first id, last id, count, bp: the fence keys) and the blocks
 *    of its membership filter (filter.h); each index block holds up to a
 *    few thousand entries sorted by id with its own table of pack bps, so
 *    one block answers a lookup alone.
 * This file has the table and the encodings of runs and blocks.
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
#define VG_INDEX_BLOCK_MAX 8192u    /* entries a reader accepts in one block */
#define VG_INDEX_BLOCK_DEFAULT 256u /* entries a writer puts in one block (docs/INDEX.md) */
#define VG_INDEX_ENTRY 52
#define VG_INDEX_RUN_MAX_BLOCKS (1u << 20)
#define VG_INDEX_BLOCK_HDR 20
#define VG_INDEX_RUN_HDR 32
#define VG_INDEX_FENCE 148

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
 * the sealed entries (never compressed: ids do not compress, and so a
 * block decodes without any per-thread state).  Entries must be sorted by
 * id; their pack numbers index packs[]. */
int vg_index_block_encode(struct vg_sealer *s, const struct vg_bp *packs, uint32_t npacks,
			  const struct vg_index_entry *e, size_t n, struct vg_buf *out);
/* Decode and validate a block; entries come back with pack numbers into
 * *packs (both malloc'd).  key: the data key (NULL for a vault without
 * encryption).  Safe to call from several threads at once. */
int vg_index_block_decode(const uint8_t *key, const uint8_t *p, size_t len, struct vg_bp **packs,
			  uint32_t *npacks, struct vg_index_entry **entries, uint32_t *n);
/* Only the pack table (needs no key). */
int vg_index_block_packs(const uint8_t *p, size_t len, struct vg_bp **packs, uint32_t *npacks);

/* A run header is never sealed: it holds only keyed ids, counts and bps. */
struct vg_index_fence {
	struct vg_id first, last;
	uint32_t count;
	struct vg_bp bp;
};
struct vg_index_run {
	uint64_t total;              /* entries, the sum of the blocks' counts */
	struct vg_index_fence *f;    /* nblocks, ascending, disjoint */
	uint32_t nblocks;
	uint32_t flines;             /* filter size in 64-byte lines */
	struct vg_bp *fparts;        /* vg_filter_nparts(flines) filter blocks */
	uint32_t nfparts;
};
int vg_index_run_encode(const struct vg_index_run *run, struct vg_buf *out);
/* *out is filled (release it) only on success. */
int vg_index_run_decode(const uint8_t *p, size_t len, struct vg_index_run *out);
void vg_index_run_release(struct vg_index_run *run);

#endif
