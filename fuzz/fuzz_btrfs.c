/* fuzz_btrfs.c - the four btrfs outputs of one filesystem.  The input is
 * split at NUL bytes into device stats, filesystem show, scrub status and
 * filesystem usage -T (missing parts are absent outputs). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "source/health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *part[4] = {NULL, NULL, NULL, NULL};
	size_t len[4] = {0, 0, 0, 0};
	const char *p = (const char *)data, *end = p + size;
	for (int i = 0; i < 4 && p <= end; i++) {
		const char *z = memchr(p, 0, (size_t)(end - p));
		part[i] = p;
		len[i] = z ? (size_t)(z - p) : (size_t)(end - p);
		if (!z)
			break;
		p = z + 1;
	}
	struct vg_btrfs_outputs in = {part[0], part[1], part[2], part[3],
				      len[0],  len[1],  len[2],  len[3]};
	struct vg_health_list l = {0};
	vg_btrfs_parse(&in, "/mnt", NULL, &l);
	vg_health_list_release(&l);
	return 0;
}
