/*
 * cmd_clear.c - `vigil clear`: reset the devices' error counters.
 *
 *   vigil clear --vault DEV
 *
 * After the cause of the errors has been dealt with (cable reseated,
 * device replaced), like `zpool clear`.
 */
#include <getopt.h>
#include <stdio.h>

#include "base/err.h"
#include "cli/cli.h"
#include "pool/pool.h"

int cmd_clear(int argc, char **argv)
{
	static const struct option opts[] = {{"vault", required_argument, NULL, 'V'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *vopt = NULL;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "V:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'V': vopt = optarg; break;
		case 'j': json = true; break;
		case 'h': printf("usage: vigil clear [--json] --vault DEV\n"); return 0;
		default: return cli_usage("clear", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("clear", "unexpected argument '%s'", argv[optind]);
	const char *vault = cli_vault_path(vopt);
	if (!vault)
		return cli_usage("clear", "no vault given: use --vault DEV or set VIGIL_VAULT");
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
