/*
 * fuzz_tree.c - the tree decoders (entries and part lists) on arbitrary
 * bytes: they must reject garbage cleanly, and whatever they accept must
 * hold only safe names.
 */
#include <stdint.h>
#include <stdlib.h>

#include "repo/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_tree t;
	struct vg_id *parts;
	size_t n;
	uint64_t total;
	vg_tree_kind(data, size);
	if (vg_tree_decode(data, size, &t) == 0) {
		for (size_t i = 0; i < t.n; i++)
			if (!vg_fs_name_ok(t.e[i].name, t.e[i].name_len))
				abort();
		vg_tree_release(&t);
	}
	if (vg_tree_parts_decode(data, size, &parts, &n, &total) == 0)
		free(parts);
	return 0;
}
