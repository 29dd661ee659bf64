/*
 * repo.h - the repository: backup objects stored in a vault's pool.
 *
 * A repository turns the pool's anonymous blocks into named objects:
 * chunks of file content, trees (directories) and snapshots, each named by
 * the keyed hash of its plaintext (id.h), deduplicated by that id,
 * compressed, and packed many to a pool block.  Nothing written becomes
 * visible to a later open before vg_repo_commit(), which writes the new
 * index run and the root and commits the pool once: a crash before it
 * leaves the previous state, whole.
 *
 * Threads: vg_repo_put*() and snapshot calls are made from one thread (the
 * caller's); with opts.workers > 0 the hashing of large chunks and the
 * compression, encryption and packing of new objects run on that many
 * worker threads behind a bounded queue, so the caller can keep reading.  A worker's failure is reported by
 * the next put or by commit.  vg_repo_get*() may be called from any thread.
 * After a failed commit the handle refuses writes (VG_EREADONLY).
 */
#ifndef VG_REPO_REPO_H
#define VG_REPO_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "pool/pool.h"
#include "repo/chunker.h"
#include "repo/id.h"
#include "repo/key.h"
#include "repo/obj.h"
#include "repo/root.h"
#include "repo/snapshot.h"
#include "repo/tree.h"

struct vg_repo;
struct vg_dindex_stats;

/* Asked for the passphrase of an encrypted vault (or a new one at create):
 * write at most cap-1 bytes and a NUL into buf.  A negative return stops
 * the open with that error. */
typedef int (*vg_pass_fn)(void *ctx, bool is_new, char *buf, size_t cap);

struct vg_repo_opts {
	int comp_level; /* zstd level for a new repository; 0 = store raw; default VG_COMP_LEVEL_DEFAULT */
	bool comp_set;  /* comp_level was given (else the default) */
	int enc;        /* enum vg_enc for a new repository */
	vg_pass_fn pass; /* needed for VG_ENC_REPOKEY (create and open) */
	void *pass_ctx;
	struct vg_kdf_params kdf; /* create, key change: Argon2id cost (0: defaults) */
	const struct vg_chunker_params *chunker; /* NULL: defaults, random seed */
	int workers;    /* compression threads; 0: do it in the caller's thread */
	bool no_index;  /* open: skip loading the index (listing snapshots only) */
	uint32_t index_block; /* entries per index block this handle writes; 0: VG_INDEX_BLOCK_DEFAULT */
	size_t index_cache;   /* bytes of decoded index blocks kept; 0: VG_INDEX_CACHE_BYTES */
};

/* Counters since open, for progress and snapshot statistics. */
struct vg_repo_counts {
	uint64_t new_objects, new_bytes, stored_bytes, packs;
	uint64_t new_chunks; /* chunks first seen by this handle */
};

/* Write a new repository into an empty, writable pool and commit it. */
int vg_repo_create(struct vg_pool *pool, const struct vg_repo_opts *o, struct vg_repo **out);
/* Read the root and load the index.  o may be NULL (no workers). */
int vg_repo_open(struct vg_pool *pool, const struct vg_repo_opts *o, struct vg_repo **out);
/* Discards anything not committed; the pool stays open (the caller's). */
void vg_repo_close(struct vg_repo *r);

const struct vg_repo_config *vg_repo_config(const struct vg_repo *r);
const struct vg_chunker *vg_repo_chunker(const struct vg_repo *r);
const struct vg_idkey *vg_repo_idkey(const struct vg_repo *r);
/* The master key of an encrypted repository (for code that unseals
 * objects outside the handle: gc, check); NULL when unencrypted. */
const uint8_t *vg_repo_master(const struct vg_repo *r);
void vg_repo_counts(struct vg_repo *r, struct vg_repo_counts *c);

/* Store an object (chunk, tree part) unless its id is known; *added says
 * whether it was new.  len <= VG_OBJ_MAX. */
int vg_repo_put(struct vg_repo *r, int otype, const void *data, size_t len, struct vg_id *id, bool *added);
/* 1 when the id is stored (or being stored), 0 when not, < 0 when the
 * index could not be read. */
int vg_repo_has(struct vg_repo *r, const struct vg_id *id);
/* Counters of the vault index's lookups since open (index_disk.h). */
void vg_repo_index_stats(struct vg_repo *r, struct vg_dindex_stats *out);
/* Plaintext of an object into out (replacing its content), verified
 * against its id.  VG_ENOENT if unknown; VG_ECORRUPT if the type differs
 * or the content does not match. */
int vg_repo_get(struct vg_repo *r, int otype, const struct vg_id *id, struct vg_buf *out);
/* The same for threads reading in parallel: s is the calling thread's own
 * (vg_repo_reader_init; release with vg_sealer_release), tmp its scratch
 * for the stored bytes; decryption and decompression then run without
 * the repository's read lock. */
int vg_repo_reader_init(struct vg_repo *r, struct vg_sealer *s);
int vg_repo_get_with(struct vg_repo *r, struct vg_sealer *s, struct vg_buf *tmp, int otype, const struct vg_id *id,
		     struct vg_buf *out);

/* Trees: split into parts when large, joined again on load. */
int vg_repo_put_tree(struct vg_repo *r, const struct vg_tree_entry *e, size_t n, struct vg_id *id,
		     bool *added);
int vg_repo_get_tree(struct vg_repo *r, const struct vg_id *id, struct vg_tree *out);

/* Snapshots.  add writes it now and lists it at the next commit. */
int vg_repo_snapshot_add(struct vg_repo *r, const struct vg_snapshot *s, struct vg_id *id);
size_t vg_repo_snapshot_count(const struct vg_repo *r);
const struct vg_snapref *vg_repo_snapshot_ref(const struct vg_repo *r, size_t i);
int vg_repo_snapshot_load(struct vg_repo *r, const struct vg_id *id, struct vg_snapshot *out);
/* "latest", a full id or a unique prefix of one.  VG_ENOENT when nothing
 * matches; VG_EINVAL naming the candidates when the prefix is ambiguous. */
int vg_repo_snapshot_find(const struct vg_repo *r, const char *spec, struct vg_id *out);

/* Chunk buffers of vg_repo_buf_cap() bytes (the largest chunk plus
 * slack) from a bounded pool: _get waits while all are in use (by the
 * queue and the workers), which bounds a backup's memory. */
size_t vg_repo_buf_cap(const struct vg_repo *r);
int vg_repo_buf_get(struct vg_repo *r, uint8_t **buf);
void vg_repo_buf_put(struct vg_repo *r, uint8_t *buf);
/* Store a chunk read into a pool buffer unless its id is known; buf
 * changes hands (back to the pool once sealed, also on failure).  The id
 * of a large chunk is computed by a worker (hashing is the costliest step
 * after compression): *slot receives it, at the latest when
 * vg_repo_wait_ids() returns, and must stay valid until then.  Without
 * workers, or for small chunks, it is written before returning. */
int vg_repo_put_chunk(struct vg_repo *r, uint8_t *buf, size_t len, struct vg_id *slot);
/* Wait until every id asked for by vg_repo_put_chunk() is written; the
 * first worker error. */
int vg_repo_wait_ids(struct vg_repo *r);

/* Finish every pending object (workers drained, packs written). */
int vg_repo_flush(struct vg_repo *r);
/* Flush, write the index run and the root, commit the pool. */
int vg_repo_commit(struct vg_repo *r);

/* Wrap the master key under a new passphrase (asked with is_new) and
 * commit: the old passphrase no longer opens the vault.  VG_EINVAL for a
 * vault without encryption. */
int vg_repo_key_change(struct vg_repo *r, vg_pass_fn pass, void *ctx, const struct vg_kdf_params *kdf);

#endif
