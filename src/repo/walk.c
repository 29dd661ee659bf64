/*
 * walk.c - enumerate a repository's pool blocks from plaintext parts only.
 */
#include "repo/walk.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/index.h"
#include "repo/obj.h"
#include "repo/root.h"

/* Packs appear in many index blocks: remember the ones seen. */
struct seen {
	uint64_t *k;
	size_t cap, n;
};

static uint64_t key_of(const struct vg_bp *bp)
{
	return ((uint64_t)bp->dva[0].seg << 32 | bp->dva[0].off) + 1; /* 0 marks a free slot */
}

static int seen_add(struct seen *s, uint64_t k, bool *fresh)
{
	if (2 * (s->n + 1) > s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 1024;
		uint64_t *nk = calloc(nc, sizeof *nk);
		if (!nk)
			return VG_ERR(VG_ENOMEM, "out of memory walking the vault");
		for (size_t i = 0; i < s->cap; i++)
			if (s->k[i])
				for (size_t j = (s->k[i] * 0x9e3779b97f4a7c15ull) & (nc - 1);; j = (j + 1) & (nc - 1))
					if (!nk[j]) {
						nk[j] = s->k[i];
						break;
					}
		free(s->k);
		s->k = nk;
		s->cap = nc;
	}
	for (size_t j = (k * 0x9e3779b97f4a7c15ull) & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
		if (s->k[j] == k) {
			*fresh = false;
			return 0;
		}
		if (!s->k[j]) {
			s->k[j] = k;
			s->n++;
			*fresh = true;
			return 0;
		}
	}
}

static int read_block(struct vg_pool *pool, const struct vg_bp *bp, uint8_t **buf)
{
	free(*buf);
	if (!(*buf = malloc(bp->psize)))
		return VG_ERR(VG_ENOMEM, "out of memory walking the vault");
	return vg_pool_read(pool, bp, *buf);
}

static int walk_run(struct vg_pool *pool, const struct vg_bp *run, struct seen *s, vg_repo_block_fn fn,
		    void *ctx, uint8_t **buf)
{
	struct vg_index_run h;
	int err = fn(ctx, run, "index run");
	if (err || (err = read_block(pool, run, buf)) < 0 || (err = vg_index_run_decode(*buf, run->psize, &h)) < 0)
		return err;
	for (uint32_t i = 0; i < h.nfparts && !err; i++)
		err = fn(ctx, &h.fparts[i], "index filter");
	for (uint32_t b = 0; b < h.nblocks && !err; b++) {
		struct vg_bp *packs = NULL;
		uint32_t np = 0;
		if ((err = fn(ctx, &h.f[b].bp, "index block")) != 0 || (err = read_block(pool, &h.f[b].bp, buf)) < 0 ||
		    (err = vg_index_block_packs(*buf, h.f[b].bp.psize, &packs, &np)) < 0)
			break;
		for (uint32_t i = 0; i < np && !err; i++) {
			bool fresh;
			if (!(err = seen_add(s, key_of(&packs[i]), &fresh)) && fresh)
				err = fn(ctx, &packs[i], "pack");
		}
		free(packs);
	}
	vg_index_run_release(&h);
	return err;
}

int vg_repo_walk_blocks(struct vg_pool *pool, vg_repo_block_fn fn, void *ctx)
{
	struct vg_bp rbp;
	struct vg_root root;
	struct seen s = {0};
	uint8_t *buf = NULL;
	bool has;
	vg_pool_root(pool, &rbp, &has);
	if (!has)
		return 0;
	memset(&root, 0, sizeof root);
	int err = fn(ctx, &rbp, "root");
	if (!err && !(err = read_block(pool, &rbp, &buf)))
		err = vg_root_decode(buf, rbp.psize, &root);
	for (size_t i = 0; i < root.nsnaps && !err; i++)
		err = fn(ctx, &root.snaps[i].bp, "snapshot");
	for (size_t i = 0; i < root.nruns && !err; i++)
		err = walk_run(pool, &root.runs[i].bp, &s, fn, ctx, &buf);
	vg_root_release(&root);
	free(buf);
	free(s.k);
	return err;
}
