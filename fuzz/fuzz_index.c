/*
 * fuzz_index.c - index run headers, index blocks (full and keyless views)
 * and index filter blocks: accepted entries must name a pack the block
 * lists; an accepted run lists as many filter blocks as its filter needs.
 */
#include <stdint.h>
#include <stdlib.h>

#include "repo/filter.h"
#include "repo/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_index_run run;
	struct vg_bp *packs;
	struct vg_index_entry *e;
	struct vg_filter f;
	uint32_t np, n;
	if (vg_index_run_decode(data, size, &run) == 0) {
		if (run.nfparts != vg_filter_nparts(run.flines))
			abort();
		vg_index_run_release(&run);
	}
	if (vg_index_block_decode(NULL, data, size, &packs, &np, &e, &n) == 0) {
		for (uint32_t i = 0; i < n; i++)
			if (e[i].pack >= np)
				abort();
		free(packs);
		free(e);
	}
	if (vg_index_block_packs(data, size, &packs, &np) == 0)
		free(packs);
	/* a filter block, as part 0 of a filter of the size it claims (1..16 lines) */
	uint32_t lines = size >= VG_FILTER_HDR ? (uint32_t)data[16] % 16 + 1 : 1;
	if (vg_filter_init(&f, lines) == 0) {
		vg_filter_part_decode(&f, 0, data, size);
		vg_filter_release(&f);
	}
	return 0;
}
