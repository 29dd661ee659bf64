/*
 * cmd_import.c - `vigil import`: take back a vault whose devices moved.
 *
 *   vigil import [--json] DEV...
 *
 * Device paths are recorded absolute; when the directories move (a disk
 * mounted elsewhere, the vault's directory renamed) the vault no longer
 * finds them.  Like `zpool import -d`, the user names where they are now:
 * the vault is opened through the first DEV, a member missing at its
 * recorded path is looked for among all the DEVs (taken only if its label
 * says it is that device of this vault), and the new places are written
 * into every device's label.  Nothing is searched for beyond what is named:
 * a copy of a device elsewhere must never become a member by itself.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/vault.h"
#include "pool/pool.h"

#define USAGE "vigil import [--json] DEV..."

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': printf("usage: %s\n", USAGE); return CLI_OK;
		default: return cli_usage("import", "unknown option (usage: %s)", USAGE);
		}
	}
	int n = argc - optind;
	if (n < 1 || n > VG_POOL_MAX_DEVS)
		return cli_usage("import", "name from 1 to %d device directories (usage: %s)", VG_POOL_MAX_DEVS, USAGE);
	static char abs[VG_POOL_MAX_DEVS][PATH_MAX];
	const char *devs[VG_POOL_MAX_DEVS];
	for (int i = 0; i < n; i++) {
		if (!realpath(argv[optind + i], abs[i]))
			return cli_fail(VG_ERRNO(errno, "cannot use device directory '%s'", argv[optind + i]));
		devs[i] = abs[i];
	}
	struct vg_pool *p;
	int err = vg_pool_open_with(vg_os_posix(), devs[0], VG_POOL_RDWR, devs + 1, n - 1, &p);
	if (err)
		return cli_fail(vg_err_prefix(err, "cannot import the vault of '%s'", devs[0]));
	int moved = 0;
	err = vg_pool_save_paths(p, &moved);
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	int cerr = vg_pool_close(p);
	if (err || cerr)
		return cli_fail(err ? err : cerr);
	json_t *list = json_array();
	int missing = 0;
	for (int d = 0; d < st.ndevs; d++) {
		bool ok = st.dev[d].state == VG_DEV_ONLINE;
		missing += !ok;
		if (json)
			json_array_append_new(list, json_pack("{s:i, s:s, s:s}", "device", d, "path", st.dev[d].path, "state",
							      vg_dev_state_name(st.dev[d].state)));
		else
			printf("  %-8s %s%s%s\n", vg_dev_state_name(st.dev[d].state), st.dev[d].path, ok ? "" : ": ",
			       ok ? "" : st.dev[d].reason);
	}
	if (json)
		cli_print_json(json_pack("{s:s, s:i, s:i, s:o}", "state", vg_pool_state_name(st.state), "moved", moved,
					 "missing", missing, "devices", list));
	else {
		json_decref(list);
		printf("vault %s: %d device path%s updated%s\n", vg_pool_state_name(st.state), moved,
		       moved == 1 ? "" : "s", missing ? "; name the missing devices too, or replace them" : "");
	}
	return missing ? CLI_WARN : CLI_OK;
}
