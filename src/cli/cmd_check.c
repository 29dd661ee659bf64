/*
 * cmd_check.c - `vigil check`: the fast metadata consistency check.
 *
 *   vigil check [--json] [--vault DEV]
 *
 * Reads metadata only (use `vigil scrub` to read and verify every block).
 * Exit status: 0 consistent, 2 problems found (listed) or the vault could
 * not be opened.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/vault.h"
#include "repo/check.h"

int cmd_check(int argc, char **argv)
{
	struct cli_vault_args a;
	int rc = cli_vault_args(argc, argv, "check", "vigil check [--json] --vault DEV", 0, &a);
	if (!a.ok)
		return rc;
	const char *vault = a.vault;
	bool json = a.json;
	struct vg_pool *p;
	int err = vg_pool_open(vg_os_posix(), vault, VG_POOL_RDONLY, &p);
	if (err)
		return cli_fail(err) == CLI_NOINPUT ? CLI_NOINPUT : CLI_FAIL;
	struct vg_check_result res;
	struct vg_repo_opts ro = {.pass = cli_passphrase};
	err = vg_repo_check(p, &ro, &res);
	vg_pool_close(p);
	if (err)
		return cli_fail(err);
	if (json) {
		json_t *list = json_array();
		for (size_t i = 0; i < res.nproblems; i++)
			json_array_append_new(list, cli_json_safe(res.problems[i]));
		cli_print_json(json_pack("{s:b, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "ok", res.nproblems == 0,
					 "problems", list, "problems_dropped", (json_int_t)res.dropped, "snapshots",
					 (json_int_t)res.snapshots, "trees", (json_int_t)res.trees, "files",
					 (json_int_t)res.files, "chunk_refs", (json_int_t)res.chunk_refs, "index_entries",
					 (json_int_t)res.index_entries, "blocks", (json_int_t)res.blocks));
	} else {
		printf("checked %llu snapshots, %llu trees, %llu files (%llu chunk references), %llu index entries, "
		       "%llu blocks\n",
		       (unsigned long long)res.snapshots, (unsigned long long)res.trees, (unsigned long long)res.files,
		       (unsigned long long)res.chunk_refs, (unsigned long long)res.index_entries,
		       (unsigned long long)res.blocks);
		if (res.nproblems) {
			printf("%zu problem%s found:\n", res.nproblems + (size_t)res.dropped,
			       res.nproblems + res.dropped == 1 ? "" : "s");
			for (size_t i = 0; i < res.nproblems; i++)
				printf("  %s\n", cli_safe(res.problems[i]));
			if (res.dropped)
				printf("  ... and %llu more\n", (unsigned long long)res.dropped);
			printf("action: run 'vigil scrub' to repair what redundancy allows; snapshots still damaged "
			       "can be removed with 'vigil forget'.\n");
		} else {
			printf("no problems found\n");
		}
	}
	rc = res.nproblems ? CLI_FAIL : CLI_OK;
	vg_check_result_release(&res);
	return rc;
}
