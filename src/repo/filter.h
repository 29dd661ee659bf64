/*
 * filter.h - the per-run membership filter of the chunk index: a blocked
 * Bloom filter over the object ids.
 *
 * Why this kind: the filter must be built while a run is streamed out
 * (merges never hold a run's entries in memory), which rules out xor and
 * ribbon filters (their construction needs every key at once).  A plain
 * Bloom filter would cost k cache misses per run per lookup; the blocked
 * variant confines an id to one 64-byte line, so a lookup costs one cache
 * miss per run.
 *
 * Ids are keyed hashes (uniformly random bytes), so they are used as the
 * hash directly: bytes 0-7 choose the line, bytes 8-15 give the seven
 * 9-bit positions inside it.  At 10 bits per entry the false-positive
 * rate is about 0.96% (Poisson over the line loads; bench_index measures
 * it).  Invariants: a filter never answers "absent" for an id that was
 * added; a filter that could not be read is never consulted (its run is
 * searched instead, see index_disk.c).
 */
#ifndef VG_REPO_FILTER_H
#define VG_REPO_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "repo/id.h"

#define VG_FILTER_KIND 1          /* blocked Bloom, 512-bit lines, 7 probes */
#define VG_FILTER_LINE 64         /* bytes per line */
#define VG_FILTER_BITS 10         /* bits per entry */
#define VG_FILTER_PART_LINES 65536u /* lines per filter block (4 MiB) */
#define VG_FILTER_MAX_LINES (1u << 26) /* 4 GiB of filter: ~430 million entries */
#define VG_FILTER_HDR 20

struct vg_filter {
	uint8_t *bits;
	uint32_t nlines;
};

/* Lines for n entries (at least 1). */
uint32_t vg_filter_lines(uint64_t n);
/* A zeroed filter of nlines lines. */
int vg_filter_init(struct vg_filter *f, uint32_t nlines);
void vg_filter_release(struct vg_filter *f);
void vg_filter_add(struct vg_filter *f, const struct vg_id *id);
/* false: id was certainly never added. */
bool vg_filter_maybe(const struct vg_filter *f, const struct vg_id *id);

/* Filter blocks: part i holds lines [i * VG_FILTER_PART_LINES, ...). */
uint32_t vg_filter_nparts(uint32_t nlines);
int vg_filter_part_encode(const struct vg_filter *f, uint32_t part, struct vg_buf *out);
/* Check one block against the filter's size (from the run header) and
 * copy its lines in.  VG_ECORRUPT / VG_EVERSION on anything unexpected. */
int vg_filter_part_decode(struct vg_filter *f, uint32_t part, const uint8_t *p, size_t len);

#endif
