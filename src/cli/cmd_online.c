/*
 * cmd_online.c - `vigil offline` and `vigil online` (one file: they are
 * one command's two directions, as in zpool).
 *
 *   vigil offline --vault DEV DEVICE   take DEVICE out of use (it stays a member)
 *   vigil online --vault DEV DEVICE    bring it back; `vigil scrub` then
 *                                      rebuilds what it missed
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "pool/pool.h"
#include "workflow/backup.h"

static int run(int argc, char **argv, bool offline)
{
	const char *name = offline ? "offline" : "online";
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
		case 'h': printf("usage: vigil %s [--json] --vault DEV DEVICE\n", name); return 0;
		default: return cli_usage(name, "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage(name, "expected one DEVICE");
	const char *vault = cli_vault_path(vopt);
	if (!vault)
		return cli_usage(name, "no vault given: use --vault DEV or set VIGIL_VAULT");
	char *abs = NULL;
	int err = vg_backup_abspath(argv[optind], &abs);
	if (err)
		return cli_fail(err);
	struct vg_pool *p;
	if ((err = vg_pool_open(vg_os_posix(), vault, VG_POOL_RDWR, &p))) {
		free(abs);
		return cli_fail(err);
	}
	int d = vg_pool_find_dev(p, abs);
	if (d < 0)
		d = vg_pool_find_dev(p, argv[optind]);
	err = d < 0 ? d : offline ? vg_pool_offline(p, d) : vg_pool_online(p, d);
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	int cerr = vg_pool_close(p);
	free(abs);
	if (err || cerr)
		return cli_fail(err ? err : cerr);
	if (json)
		printf("{\"device\": %d, \"state\": \"%s\", \"vault\": \"%s\"}\n", d,
		       vg_dev_state_name(st.dev[d].state), vg_pool_state_name(st.state));
	else
		printf("device %d is %s; vault %s%s\n", d, vg_dev_state_name(st.dev[d].state),
		       vg_pool_state_name(st.state),
		       !offline && st.dev[d].resilver_needed ? " (run 'vigil scrub' to rebuild what it missed)" : "");
	return st.state == VG_POOL_ONLINE ? CLI_OK : CLI_WARN;
}

int cmd_offline(int argc, char **argv) { return run(argc, argv, true); }
int cmd_online(int argc, char **argv) { return run(argc, argv, false); }
