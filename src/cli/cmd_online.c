/*
 * cmd_online.c - `vigil offline` and `vigil online` (one file: they are
 * one command's two directions, as in zpool).
 *
 *   vigil offline --vault DEV DEVICE   take DEVICE out of use (it stays a member)
 *   vigil online --vault DEV DEVICE    bring it back; `vigil scrub` then
 *                                      rebuilds what it missed
 */
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
	char usage[64];
	snprintf(usage, sizeof usage, "vigil %s [--json] --vault DEV DEVICE", name);
	struct cli_vault_args a;
	int rc = cli_vault_args(argc, argv, name, usage, 1, &a);
	if (!a.ok)
		return rc;
	const char *vault = a.vault;
	bool json = a.json;
	const char *devname = a.args[0];
	char *abs = NULL;
	int err = vg_backup_abspath(devname, &abs);
	if (err)
		return cli_fail(err);
	struct vg_pool *p;
	if ((err = vg_pool_open(vg_os_posix(), vault, VG_POOL_RDWR, &p))) {
		free(abs);
		return cli_fail(err);
	}
	int d = vg_pool_find_dev(p, abs);
	if (d < 0)
		d = vg_pool_find_dev(p, devname);
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
