/*
 * walk.h - every pool block a repository references, without any key.
 *
 * Scrub, resilver and space accounting need the list of live blocks but
 * must not need the encryption key (maintenance needs no secrets).  The
 * blocks that hold block pointers keep them in plaintext: the root, index
 * run headers and the pack tables of index blocks.  The walk visits the
 * root, every snapshot block, every run header, every index filter block,
 * every index block and every pack (each once), reading only those
 * plaintext parts (filter blocks are leaves: visited, not read).
 */
#ifndef VG_REPO_WALK_H
#define VG_REPO_WALK_H

#include "pool/pool.h"

/* Return non-zero to stop the walk (that value is returned). */
typedef int (*vg_repo_block_fn)(void *ctx, const struct vg_bp *bp, const char *what);

/* Walk the committed root's blocks.  A block that cannot be read stops
 * the walk with its error (the blocks below it cannot be found). */
int vg_repo_walk_blocks(struct vg_pool *pool, vg_repo_block_fn fn, void *ctx);

#endif
