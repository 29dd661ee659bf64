/*
 * fuzz_label.c - the pool's on-disk decoders: device label, uberblock and
 * block pointer, fed arbitrary bytes.  They must reject garbage cleanly.
 */
#include <stdint.h>
#include <string.h>

#include "pool/impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_label l;
	struct vg_uber u;
	struct vg_bp bp;
	uint8_t slot[VG_UB_SLOT];
	vg_label_decode(data, size, &l, "fuzz");
	memset(slot, 0, sizeof slot);
	memcpy(slot, data, size < sizeof slot ? size : sizeof slot);
	if (size >= 8)
		memcpy(slot, "VIGILUB1", 8); /* get past the magic more often */
	vg_uber_decode(slot, sizeof slot, &u);
	if (size >= VG_BP_SIZE)
		vg_bp_decode(data, &bp);
	return 0;
}
