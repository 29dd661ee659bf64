/* fuzz_zpool_json.c - `zpool status -j` parser (both JSON shapes). */
#include <stddef.h>
#include <stdint.h>

#include "source/health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_health_list l = {0};
	vg_zpool_parse_json((const char *)data, size, NULL, NULL, &l);
	vg_zpool_parse_json((const char *)data, size, "tank", NULL, &l);
	vg_health_list_release(&l);
	return 0;
}
