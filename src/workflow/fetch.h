/*
 * fetch.h - reading the chunks of a file ahead, on worker threads, for
 * restore: decryption, decompression and the id check of the next chunks
 * run while the caller writes the current one.
 *
 * Use: vg_fetcher_begin(ids, n), then vg_fetcher_next(i) for i = 0..n-1
 * in order (the bytes stay valid until the next call), then
 * vg_fetcher_end() - also after an error, before ids goes away.
 */
#ifndef VG_WORKFLOW_FETCH_H
#define VG_WORKFLOW_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "repo/repo.h"

struct vg_fetcher;

/* threads < 1: *out = NULL (the caller reads chunks itself). */
int vg_fetcher_start(struct vg_repo *r, int threads, struct vg_fetcher **out);
void vg_fetcher_stop(struct vg_fetcher *f);
void vg_fetcher_begin(struct vg_fetcher *f, const struct vg_id *ids, size_t n);
int vg_fetcher_next(struct vg_fetcher *f, size_t i, const uint8_t **p, size_t *len);
void vg_fetcher_end(struct vg_fetcher *f);

#endif
