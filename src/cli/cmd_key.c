/*
 * cmd_key.c - `vigil key change`: a new passphrase for an encrypted vault.
 *
 *   vigil key change [--vault DEV] [--kdf-ops N] [--kdf-memory KIB] [--json]
 *
 * The current passphrase comes as for every command (VIGIL_PASSWORD,
 * VIGIL_PASSWORD_FILE, prompt); the new one from VIGIL_NEW_PASSWORD,
 * VIGIL_NEW_PASSWORD_FILE or a prompt (asked twice).  Only the wrapping of
 * the master key changes, so this takes a moment whatever the vault's size.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/vault.h"

int cmd_key(int argc, char **argv)
{
	static const struct option opts[] = {{"vault", required_argument, NULL, 'V'},
					     {"kdf-ops", required_argument, NULL, 'O'},
					     {"kdf-memory", required_argument, NULL, 'M'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *vopt = NULL;
	struct vg_kdf_params kdf = {0};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "V:O:M:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'V': vopt = optarg; break;
		case 'O':
		case 'M':
			if (!cli_kdf_opt(optarg, c == 'O', &kdf))
				return cli_usage("key", "--kdf-ops and --kdf-memory take a positive number");
			break;
		case 'j': json = true; break;
		case 'h': printf("usage: vigil key change [--vault DEV] [--kdf-ops N] [--kdf-memory KIB] [--json]\n"); return 0;
		default: return cli_usage("key", "unknown option");
		}
	}
	if (argc - optind != 1 || strcmp(argv[optind], "change"))
		return cli_usage("key", "the only subcommand is 'change'");
	const char *vault = cli_vault_path(vopt);
	if (!vault)
		return cli_usage("key", "no vault given: use --vault DEV or set VIGIL_VAULT");
	struct vg_repo_opts ro = {.no_index = true};
	struct vg_pool *p;
	struct vg_repo *r;
	int err = cli_kdf_params(&kdf);
	if (err)
		return cli_fail(err);
	err = cli_repo_open(vault, CLI_OPEN_WRITE, &ro, &p, &r);
	if (err)
		return cli_fail(err);
	static int change = 1;
	if ((err = vg_repo_key_change(r, cli_passphrase, &change, &kdf)) < 0) {
		int rc = cli_fail(err);
		cli_repo_close(p, r);
		return rc;
	}
	err = cli_repo_close(p, r);
	if (json)
		cli_print_json(json_pack("{s:b}", "changed", 1));
	else
		printf("passphrase changed; the old one no longer opens this vault\n");
	if (err)
		fprintf(stderr, "vigil: warning: %s\n", vg_errmsg());
	return CLI_OK;
}
