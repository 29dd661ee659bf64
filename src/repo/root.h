/*
 * root.h - the repository root: the block every commit publishes.
 *
 * The root is the pool's root block (vg_pool_commit).  It holds the
 * repository config (vault id, id key, chunker parameters, compression,
 * encryption mode), the list of snapshots and the list of index runs, each
 * referenced by a full block pointer: from the uberblock down, every byte
 * of the vault is covered by a checksum held in its parent.
 *
 * Layout (docs/FORMAT.md "The root"): "VGRT", version, flags, a
 * length-prefixed config (so later versions can grow it), the snapshot
 * and run tables, an extension area.
 */
#ifndef VG_REPO_ROOT_H
#define VG_REPO_ROOT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "pool/pool.h"
#include "repo/chunker.h"
#include "repo/id.h"

#define VG_REPO_ID_LEN 16
#define VG_KEYBLOB_MAX 1024
#define VG_ROOT_MAX_SNAPS (1u << 20)
#define VG_ROOT_MAX_RUNS (1u << 20)

struct vg_repo_config {
	uint8_t repo_id[VG_REPO_ID_LEN];
	int64_t created_ns;
	uint8_t enc;   /* enum vg_enc */
	uint8_t comp;  /* enum vg_comp: how new objects are compressed */
	int8_t level;  /* zstd level */
	struct vg_chunker_params chunker;
	uint16_t keylen; /* enc none: the 32-byte id key; repokey: the wrapped master key (key.h) */
	uint8_t key[VG_KEYBLOB_MAX];
};

struct vg_snapref {
	struct vg_id id;
	int64_t time_ns;
	struct vg_bp bp;
};

struct vg_runref {
	uint64_t count; /* entries in the run */
	struct vg_bp bp;
};

struct vg_root {
	struct vg_repo_config cfg;
	struct vg_snapref *snaps;
	size_t nsnaps;
	struct vg_runref *runs;
	size_t nruns;
};

int vg_root_encode(const struct vg_root *r, struct vg_buf *out);
int vg_root_decode(const uint8_t *p, size_t len, struct vg_root *out);
void vg_root_release(struct vg_root *r);

#endif
