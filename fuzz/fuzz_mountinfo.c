/* fuzz_mountinfo.c - /proc/self/mountinfo parser and the path lookup. */
#include <stddef.h>
#include <stdint.h>

#include "source/storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_mounts m = {0};
	if (vg_mountinfo_parse((const char *)data, size, &m) == 0) {
		vg_mounts_find(&m, "/");
		vg_mounts_find(&m, "/srv/data/x");
	}
	vg_mounts_release(&m);
	return 0;
}
