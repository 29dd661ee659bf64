/* fuzz_mdstat.c - /proc/mdstat parser, one array and all arrays. */
#include <stddef.h>
#include <stdint.h>

#include "source/health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_health_list l = {0};
	vg_mdstat_parse((const char *)data, size, NULL, NULL, &l);
	vg_mdstat_parse((const char *)data, size, "md0", NULL, &l);
	vg_health_list_release(&l);
	return 0;
}
