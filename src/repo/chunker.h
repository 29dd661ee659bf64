/*
 * chunker.h - content-defined chunking (FastCDC with a gear hash).
 *
 * A chunk boundary depends only on the bytes since the previous boundary,
 * so an insertion early in a file moves the boundaries near it and leaves
 * the rest of the file's chunks (and their ids) unchanged: that is what
 * makes deduplication work across versions of a file.
 *
 * The cut function is stateless: give it the bytes that start at a chunk
 * boundary; it returns the length of the next chunk, or 0 when it needs
 * more bytes to decide (only possible when fewer than `max` bytes were
 * given and `eof` is false).  A caller grows a buffer of up to `max`
 * bytes until it gets a cut; no hidden state survives between calls,
 * which also lets several threads chunk different files with one
 * vg_chunker.
 *
 * Normalised chunking (FastCDC, level 2): before `avg` bytes a boundary
 * needs 2 more zero hash bits than after, which pulls the sizes towards
 * `avg`.  The gear table is derived from a per-vault seed (stored in the
 * repository config), so chunk sizes do not fingerprint content across
 * vaults.  Parameters are part of the format: changing them changes every
 * boundary (and so dedup against older snapshots), never correctness.
 */
#ifndef VG_REPO_CHUNKER_H
#define VG_REPO_CHUNKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Defaults; docs/FORMAT.md explains the choice. */
#define VG_CHUNK_MIN (512u << 10)
#define VG_CHUNK_AVG (1u << 20)
#define VG_CHUNK_MAX (8u << 20)
/* Bounds any vault's parameters must respect (a chunk plus its pack
 * framing must fit one pool block). */
#define VG_CHUNK_LIMIT_MIN 64u
#define VG_CHUNK_LIMIT_MAX (12u << 20)

enum vg_chunker_alg { VG_CHUNKER_FASTCDC = 1 };

struct vg_chunker_params {
	uint8_t alg; /* enum vg_chunker_alg */
	uint32_t min, avg, max;
	uint64_t seed;
};

struct vg_chunker {
	struct vg_chunker_params p;
	uint64_t mask_s, mask_l; /* before / after avg */
	uint64_t gear[256];
};

/* The defaults with the given seed. */
void vg_chunker_defaults(struct vg_chunker_params *p, uint64_t seed);
/* VG_EINVAL (message says which) unless LIMIT_MIN <= min < avg < max <=
 * LIMIT_MAX, avg a power of two, alg known. */
int vg_chunker_init(struct vg_chunker *c, const struct vg_chunker_params *p);
/* Length of the chunk starting at p (1..max), or 0 if more input is needed
 * (len < max and !eof) or len == 0. */
size_t vg_chunker_cut(const struct vg_chunker *c, const uint8_t *p, size_t len, bool eof);
/* The same, resumable: *from (0 at a chunk's start) is how far earlier
 * calls on the same bytes have looked; a call that needs more bytes sets
 * it, so a reader growing its buffer never hashes a byte twice.  The
 * boundaries are exactly vg_chunker_cut()'s. */
size_t vg_chunker_scan(const struct vg_chunker *c, const uint8_t *p, size_t len, bool eof, size_t *from);

#endif
