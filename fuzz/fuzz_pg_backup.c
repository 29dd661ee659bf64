/*
 * fuzz_pg_backup.c - what a PostgreSQL base backup parses: postmaster.pid
 * images and psql's answers (fields, hex, the stop query's line).
 * Arbitrary bytes must parse or be rejected, never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source/pg_backup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_pg_pidfile pf;
	vg_pg_pidfile_parse((const char *)data, size, &pf);
	char *line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = 0;
	struct vg_pg_backup b;
	memset(&b, 0, sizeof b);
	vg_pg_stop_parse(line, &b);
	vg_pg_backup_release(&b);
	memcpy(line, data, size);
	char *f[4];
	vg_pg_fields(line, f, 4);
	memcpy(line, data, size);
	uint8_t *bytes = NULL;
	size_t n = 0;
	if (!vg_pg_hex_decode(line, 1u << 16, &bytes, &n))
		free(bytes);
	free(line);
	return 0;
}
