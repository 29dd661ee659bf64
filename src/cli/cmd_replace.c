/*
 * cmd_replace.c - `vigil replace`: rebuild a device onto a new directory.
 *
 *   vigil replace [--json] --vault DEV OLD NEW
 *
 * OLD is a device of the vault (its path as shown by `vigil status`, or
 * its id); it may be missing, faulted, or present but suspect.  NEW is an
 * empty or new directory.  Every block is then rebuilt onto NEW from the
 * other devices - OLD is read only for blocks with no other good copy -
 * and when that completes the vault is whole again.  If interrupted,
 * `vigil scrub` finishes the rebuild.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/vault.h"
#include "workflow/backup.h"
#include "workflow/scrub.h"

static void show(void *ctx, const struct vg_scrub_progress *s)
{
	struct cli_progress *p = ctx;
	cli_progress_show(p, 0, s->bytes_done, "rebuilding");
	(void)s;
}

int cmd_replace(int argc, char **argv)
{
	struct cli_vault_args a;
	int rc = cli_vault_args(argc, argv, "replace", "vigil replace [--json] --vault DEV OLD NEW", 2, &a);
	if (!a.ok)
		return rc;
	const char *vault = a.vault;
	bool json = a.json;
	char *old = NULL, *newp = NULL;
	int err = vg_backup_abspath(a.args[0], &old);
	if (!err)
		err = vg_backup_abspath(a.args[1], &newp);
	if (err) {
		free(old);
		return cli_fail(err);
	}
	struct vg_pool *p;
	if ((err = vg_pool_open(vg_os_posix(), vault, VG_POOL_RDWR, &p))) {
		free(old);
		free(newp);
		return cli_fail(err);
	}
	int d = vg_pool_find_dev(p, old);
	if (d < 0 && (d = vg_pool_find_dev(p, a.args[0])) < 0) { /* a device id */
		vg_pool_close(p);
		free(old);
		free(newp);
		return cli_fail(d);
	}
	/* a fresh scrub: the rebuild must cover every block */
	struct vg_scrub_record none = {0};
	if ((err = vg_pool_replace(p, d, newp)) || (err = vg_pool_scrub_put(p, &none))) {
		vg_pool_close(p);
		free(old);
		free(newp);
		return cli_fail(err);
	}
	struct cli_progress prog;
	cli_progress_init(&prog);
	struct vg_scrub_opts o = {.progress = show, .ctx = &prog};
	struct vg_scrub_result res;
	err = vg_scrub_run(p, &o, &res);
	cli_progress_done(&prog);
	struct vg_pool_status st;
	vg_pool_status(p, &st);
	int cerr = vg_pool_close(p);
	if (err || cerr) {
		vg_scrub_result_release(&res);
		free(old);
		free(newp);
		return cli_fail(err ? err : cerr);
	}
	if (json) {
		json_t *o2 = json_pack("{s:o, s:o, s:s, s:I, s:I}", "replaced", cli_json_safe(old), "with",
				       cli_json_safe(newp), "state", vg_pool_state_name(st.state), "rebuilt_bytes",
				       (json_int_t)res.rebuilt_bytes, "unrecoverable",
				       (json_int_t)res.rec.unrecoverable);
		cli_print_json(o2);
	} else
		printf("replaced '%s' with '%s': %s rebuilt, vault %s%s\n", cli_safe(old), cli_safe(newp),
		       cli_bytes(res.rebuilt_bytes), vg_pool_state_name(st.state),
		       res.rec.unrecoverable ? " (some blocks could not be rebuilt: see 'vigil scrub')" : "");
	free(old);
	free(newp);
	uint64_t bad = res.rec.unrecoverable;
	vg_scrub_result_release(&res);
	return bad ? CLI_FAIL : st.state == VG_POOL_ONLINE ? CLI_OK : CLI_WARN;
}
