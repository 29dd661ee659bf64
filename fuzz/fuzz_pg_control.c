/*
 * fuzz_pg_control.c - the pg_control decoder, and the streaming page
 * verifier fed the same bytes as a relation file in uneven pieces.  Both
 * must reject or report garbage cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source/pg_control.h"
#include "source/pg_page.h"

static void pages(const uint8_t *in, size_t size, uint32_t checksums)
{
	uint8_t *data = malloc(size ? size : 1);
	if (!data)
		return;
	memcpy(data, in, size);
	struct vg_pg_cluster cl = {.major = 15, .tblspc_dir = "PG_15_202209061"};
	cl.ctl.blcksz = 1024; /* small pages: more of them per input */
	cl.ctl.relseg_size = 131072;
	cl.ctl.data_checksum_version = checksums;
	struct vg_pg_filecheck fc;
	if (vg_pg_file_begin(&fc, &cl, "base/5/16384_vm.3", size ? data[0] : 0, NULL, NULL) < 0) {
		free(data);
		return;
	}
	size_t off = 0, step = size ? (size_t)data[size - 1] * 7 + 1 : 1;
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		if (vg_pg_file_feed(&fc, data + off, n) < 0)
			break;
		off += n;
	}
	vg_pg_file_end(&fc);
	struct vg_pg_report rep = {0};
	vg_pg_report_add(&rep, &fc);
	vg_pg_file_release(&fc);
	vg_pg_report_release(&rep);
	free(data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_pg_control c;
	uint8_t buf[VG_PG_CONTROL_FILE_SIZE];
	vg_pg_control_parse(data, size, "fuzz", &c);
	/* Past the version and CRC checks more often: stamp both. */
	if (size >= 292) {
		size_t n = size < sizeof buf ? size : sizeof buf;
		memcpy(buf, data, n);
		buf[8] = 0x14;
		buf[9] = 0x05;
		buf[10] = buf[11] = 0;
		uint32_t crc = vg_pg_crc32c(buf, 288);
		memcpy(buf + 288, &crc, 4);
		vg_pg_control_parse(buf, n, "fuzz", &c);
	}
	pages(data, size, 1);
	pages(data, size, 0);
	return 0;
}
