/*
 * cmd_ls.c - `vigil ls`: list what a snapshot holds.
 *
 *   vigil ls [--vault DEV] [--json] SNAPSHOT[:PATH]
 *
 * Every entry below PATH (the whole snapshot without it), one per line:
 * type and mode, owner, size, mtime, path (escaped when it holds control
 * characters or invalid UTF-8).  --json prints one array of objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/browse.h"
#include "cli/cli.h"
#include "cli/vault.h"
#include "workflow/browse.h"

struct lsctx {
	bool json;
	size_t n;
};

static int print_one(void *ctx, const char *path, const struct vg_tree_entry *e)
{
	struct lsctx *c = ctx;
	if (c->json) {
		json_t *o = cli_entry_json(path, e);
		char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
		printf("%s%s", c->n ? ",\n  " : "[\n  ", txt ? txt : "null");
		free(txt);
		json_decref(o);
	} else {
		cli_entry_print(path, e);
	}
	c->n++;
	return 0;
}

int cmd_ls(int argc, char **argv)
{
	struct lsctx c = {0};
	struct cli_vault_args va;
	int rc0 = cli_vault_args(argc, argv, "ls", "vigil ls [--vault DEV] [--json] SNAPSHOT[:PATH]", 1, &va);
	if (!va.ok)
		return rc0;
	const char *vault = va.vault;
	c.json = va.json;
	char *spec = strdup(va.args[0]);
	if (!spec)
		return cli_fail(VG_ERR(VG_ENOMEM, "out of memory"));
	char *colon = strchr(spec, ':');
	if (colon)
		*colon = 0;
	struct vg_pool *p;
	struct vg_repo *r;
	struct vg_id id;
	int err = cli_repo_open(vault, CLI_OPEN_READ, NULL, &p, &r);
	if (!err && !(err = vg_repo_snapshot_find(r, spec, &id)))
		err = vg_browse_ls(r, &id, colon ? colon + 1 : NULL, print_one, &c);
	if (c.json)
		printf(c.n ? "\n]\n" : "[]\n");
	int rc = err ? cli_fail(err) : CLI_OK;
	if (p)
		cli_repo_close(p, r);
	free(spec);
	return rc;
}
