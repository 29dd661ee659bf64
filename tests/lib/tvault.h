/*
 * tvault.h - vault helpers shared by the maintenance tests (prune, check,
 * damage report, corruption campaign): create a vault under the test's
 * temp dir, back up and restore-compare a directory, measure disk use.
 */
#ifndef VG_TESTS_TVAULT_H
#define VG_TESTS_TVAULT_H

#include <stdint.h>

#include "pool/pool.h"
#include "repo/repo.h"

/* Devices t_path("<dir>/d0") ...; returns the path of device 0 (static). */
const char *tv_create(const char *dir, const char *layout, int ndevs);
/* Open pool (read-write) and repository of the vault at dev0. */
int tv_open(const char *dev0, struct vg_pool **p, struct vg_repo **r);
void tv_close(struct vg_pool *p, struct vg_repo *r);
/* Back up one directory into a new snapshot. */
int tv_backup(struct vg_repo *r, const char *src, const char *host, struct vg_id *id);
/* Restore snapshot id and compare its top directory with src: 0 if identical. */
int tv_restore_same(struct vg_repo *r, const struct vg_id *id, const char *src);
/* Bytes of disk the files under dir use (st_blocks). */
uint64_t tv_disk_use(const char *dir);
/* Scrub the vault; returns errors + unrecoverable (0: clean), or < 0. */
int64_t tv_scrub(struct vg_pool *p);

/* Single-device vault at dir: overwrite 64 bytes at the start of copy
 * `dva` of block bp with garbage (its checksum no longer matches). */
int tv_smash(const char *dev, const struct vg_bp *bp, int dva);
/* Every block of the committed state (malloc'd list; walk order). */
int tv_blocks(struct vg_pool *p, struct vg_bp **list, size_t *n);

#endif
