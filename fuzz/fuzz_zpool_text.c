/* fuzz_zpool_text.c - `zpool status` text parser: no crash, leak or UB on any
 * input, filtered to one pool and unfiltered. */
#include <stddef.h>
#include <stdint.h>

#include "source/health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_health_list l = {0};
	vg_zpool_parse_text((const char *)data, size, NULL, NULL, &l);
	vg_zpool_parse_text((const char *)data, size, "tank", NULL, &l);
	vg_health_list_release(&l);
	return 0;
}
