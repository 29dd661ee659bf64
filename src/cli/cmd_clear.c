/*
 * cmd_clear.c - `vigil clear`: reset the devices' error counters.
 *
 *   vigil clear --vault DEV
 *
 * After the cause of the errors has been dealt with (cable reseated,
 * device replaced), like `zpool clear`.
 */
#include <stdio.h>

#include "base/err.h"
#include "cli/cli.h"
#include "pool/pool.h"

int cmd_clear(int argc, char **argv)
{
	struct cli_vault_args a;
	int rc = cli_vault_args(argc, argv, "clear", "vigil clear [--json] --vault DEV", 0, &a);
	if (!a.ok)
		return rc;
	const char *vault = a.vault;
	bool json = a.json;
	struct vg_pool *p;
	int err = vg_pool_open(vg_os_posix(), vault, VG_POOL_RDWR, &p);
	if (err)
		return cli_fail(err);
	err = vg_pool_clear(p);
	int cerr = vg_pool_close(p);
	if (err || cerr)
		return cli_fail(err ? err : cerr);
	printf(json ? "{\"cleared\": true}\n" : "error counters cleared\n");
	return 0;
}
