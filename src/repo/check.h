/*
 * check.h - a fast, metadata-only consistency check of a repository.
 *
 * Unlike scrub (which reads every block and verifies its checksum), check
 * reads only metadata and asks whether the structure holds together: the
 * root decodes; every index run and block is readable and well-formed,
 * every index entry lies inside a pack of the right kind; every block the
 * vault references lies in allocated space whose segment files exist;
 * every snapshot decodes; every tree reachable from a snapshot reads and
 * is well-formed; every chunk and subtree a tree names is in the index.
 * Data packs are never read.
 */
#ifndef VG_REPO_CHECK_H
#define VG_REPO_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "pool/pool.h"

#define VG_CHECK_MAX_PROBLEMS 1000

struct vg_check_result {
	char **problems; /* one line each, at most VG_CHECK_MAX_PROBLEMS */
	size_t nproblems;
	uint64_t dropped; /* problems beyond the cap */
	uint64_t snapshots, trees, files, chunk_refs, index_entries, blocks;
};

/* 0 when the check ran (problems, if any, are in res); < 0 when it could
 * not (out of memory).  Needs the id key only to read trees. */
/* ro: how to open the repository (its passphrase); NULL: defaults. */
struct vg_repo_opts;
int vg_repo_check(struct vg_pool *pool, const struct vg_repo_opts *ro, struct vg_check_result *res);
void vg_check_result_release(struct vg_check_result *res);

#endif
