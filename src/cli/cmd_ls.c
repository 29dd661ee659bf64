/*
 * cmd_ls.c - `vigil ls`: list what a snapshot holds.
 *
 *   vigil ls [--vault DEV] [--json] SNAPSHOT[:PATH]
 *
 * Every entry below PATH (the whole snapshot without it), one per line:
 * type and mode, owner, size, mtime, path (escaped when it holds control
 * characters or invalid UTF-8).  --json prints one array of objects.
 */
#include <getopt.h>
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
	static const struct option opts[] = {{"vault", required_argument, NULL, 'V'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *vopt = NULL;
	struct lsctx c = {0};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "V:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'V': vopt = optarg; break;
		case 'j': c.json = true; break;
		case 'h': printf("usage: vigil ls [--vault DEV] [--json] SNAPSHOT[:PATH]\n"); return 0;
		default: return cli_usage("ls", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage("ls", "give SNAPSHOT[:PATH]");
	const char *vault = cli_vault_path(vopt);
	if (!vault)
		return cli_usage("ls", "no vault given: use --vault DEV or set VIGIL_VAULT");
	char *spec = strdup(argv[optind]);
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
