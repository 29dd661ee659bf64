/*
 * cmd_diff.c - `vigil diff`: what changed between two snapshots.
 *
 *   vigil diff [--vault DEV] [--json] SNAP1 SNAP2
 *
 * One line per difference: "+ path" added, "- path" removed, "M path"
 * content or metadata changed, "T path" type changed (shown as - and +).
 * Directories whose trees are equal are not read at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/browse.h"
#include "cli/cli.h"
#include "cli/vault.h"
#include "workflow/browse.h"

struct dctx {
	bool json;
	uint64_t n[3]; /* added, removed, modified */
	json_t *arr;
};

static int one(void *ctx, int kind, const char *path, const struct vg_tree_entry *a, const struct vg_tree_entry *b)
{
	struct dctx *c = ctx;
	c->n[kind == VG_DIFF_ADDED ? 0 : kind == VG_DIFF_REMOVED ? 1 : 2]++;
	if (c->json) {
		char k[2] = {(char)kind, 0};
		json_t *o = json_pack("{s:s, s:o}", "change", k, "path", cli_json_safe(path));
		if (o && a)
			json_object_set_new(o, "old", cli_entry_json(path, a));
		if (o && b)
			json_object_set_new(o, "new", cli_entry_json(path, b));
		json_array_append_new(c->arr, o);
	} else {
		printf("%c %s%s\n", kind, cli_safe(path), (b ? b : a)->st.type == VG_FT_DIR ? "/" : "");
	}
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	struct dctx c = {0};
	struct cli_vault_args va;
	int rc0 = cli_vault_args(argc, argv, "diff", "vigil diff [--vault DEV] [--json] SNAP1 SNAP2", 2, &va);
	if (!va.ok)
		return rc0;
	const char *vault = va.vault;
	c.json = va.json;
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_id a, b;
	int err = cli_repo_open(vault, CLI_OPEN_READ, NULL, &p, &r);
	if (err)
		return cli_fail(err);
	c.arr = c.json ? json_array() : NULL;
	if (!(err = vg_repo_snapshot_find(r, va.args[0], &a)) && !(err = vg_repo_snapshot_find(r, va.args[1], &b)))
		err = vg_browse_diff(r, &a, &b, one, &c);
	int rc = err ? cli_fail(err) : CLI_OK;
	if (!err && c.json)
		cli_print_json(json_pack("{s:o, s:I, s:I, s:I}", "changes", c.arr, "added", (json_int_t)c.n[0], "removed",
					 (json_int_t)c.n[1], "modified", (json_int_t)c.n[2]));
	else
		json_decref(c.arr);
	if (!err && !c.json)
		printf("%llu added, %llu removed, %llu modified\n", (unsigned long long)c.n[0], (unsigned long long)c.n[1],
		       (unsigned long long)c.n[2]);
	cli_repo_close(p, r);
	return rc;
}
