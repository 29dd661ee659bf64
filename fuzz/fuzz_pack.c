/*
 * fuzz_pack.c - the pack header decoder: every accepted entry must lie
 * inside the block.
 */
#include <stdint.h>
#include <stdlib.h>

#include "repo/pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_pack_entry *e;
	uint32_t n;
	if (vg_pack_decode(data, size, NULL, &e, &n) == 0) {
		for (uint32_t i = 0; i < n; i++)
			if ((uint64_t)e[i].off + e[i].slen > size)
				abort();
		free(e);
	}
	return 0;
}
