/*
 * fuzz_index.c - index run headers and index blocks (full and keyless
 * views): accepted entries must name a pack the block lists.
 */
#include <stdint.h>
#include <stdlib.h>

#include "repo/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_sealer s;
	static int ready;
	struct vg_index_fence *f;
	struct vg_bp *packs;
	struct vg_index_entry *e;
	uint32_t nb, np, n;
	uint64_t total;
	if (!ready++)
		vg_sealer_init(&s, 3, VG_ENC_NONE, NULL);
	if (vg_index_run_decode(data, size, &f, &nb, &total) == 0)
		free(f);
	if (vg_index_block_decode(&s, data, size, &packs, &np, &e, &n) == 0) {
		for (uint32_t i = 0; i < n; i++)
			if (e[i].pack >= np)
				abort();
		free(packs);
		free(e);
	}
	if (vg_index_block_packs(data, size, &packs, &np) == 0)
		free(packs);
	return 0;
}
