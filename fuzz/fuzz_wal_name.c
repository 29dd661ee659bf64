/*
 * fuzz_wal_name.c - WAL archive file names, LSNs and timeline history
 * files: arbitrary text must parse or be rejected, never crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source/pg_wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[300];
	size_t n = size < sizeof name - 1 ? size : sizeof name - 1;
	memcpy(name, data, n);
	name[n] = '\0';
	struct vg_pg_walname wn;
	vg_pg_walname_parse(name, &wn);
	uint64_t segno, lsn;
	for (uint32_t sz = 1u << 20; sz <= (1u << 30); sz <<= 1)
		if (vg_pg_walname_segno(&wn, sz, &segno)) {
			char back[25];
			vg_pg_walname_format(wn.tli ? wn.tli : 1, segno, sz, back);
		}
	vg_pg_lsn_parse(name, &lsn);
	struct vg_pg_tlhist *h = NULL;
	size_t nh = 0;
	vg_pg_history_parse((const char *)data, size, "fuzz", &h, &nh);
	free(h);
	return 0;
}
