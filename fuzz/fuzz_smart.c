/* fuzz_smart.c - smartctl --json parser. */
#include <stddef.h>
#include <stdint.h>

#include "source/health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_health_list l = {0};
	vg_smart_parse_json((const char *)data, size, "sda", NULL, &l);
	vg_health_list_release(&l);
	return 0;
}
