/*
 * fuzz_root.c - the repository root decoder (config, snapshot and index
 * tables).
 */
#include <stdint.h>

#include "repo/root.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_root r;
	if (vg_root_decode(data, size, &r) == 0)
		vg_root_release(&r);
	return 0;
}
