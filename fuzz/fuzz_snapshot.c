/*
 * fuzz_snapshot.c - the snapshot decoder and the object frame around it.
 */
#include <stdint.h>

#include "repo/obj.h"
#include "repo/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_sealer s;
	static int ready;
	struct vg_snapshot snap;
	struct vg_buf plain = {0};
	if (!ready++)
		vg_sealer_init(&s, 3, VG_ENC_NONE, NULL);
	if (vg_snapshot_decode(data, size, &snap) == 0)
		vg_snapshot_release(&snap);
	vg_buf_init(&plain, VG_OBJ_MAX);
	if (vg_frame_decode(&s, VG_OT_SNAPSHOT, data, size, &plain, "fuzz") == 0 &&
	    vg_snapshot_decode(plain.p, plain.len, &snap) == 0)
		vg_snapshot_release(&snap);
	vg_buf_release(&plain);
	return 0;
}
