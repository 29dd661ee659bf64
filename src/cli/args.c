/*
 * args.c - the options every vault command shares (--vault, --json,
 * --help), parsed in one place.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

int cli_vault_args(int argc, char **argv, const char *name, const char *usage, int nargs,
		   struct cli_vault_args *out)
{
	static const struct option opts[] = {{"vault", required_argument, NULL, 'V'},
					     {"json", no_argument, NULL, 'j'},
					     {"verbose", no_argument, NULL, 'v'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *vopt = NULL;
	int c;
	*out = (struct cli_vault_args){0};
	optind = 1;
	while ((c = getopt_long(argc, argv, "V:jvh", opts, NULL)) != -1) {
		switch (c) {
		case 'V': vopt = optarg; break;
		case 'j': out->json = true; break;
		case 'v': out->verbose = true; break;
		case 'h': printf("usage: %s\n", usage); return CLI_OK;
		default: return cli_usage(name, "unknown option (usage: %s)", usage);
		}
	}
	if (argc - optind != nargs)
		return nargs ? cli_usage(name, "expected %d argument%s (usage: %s)", nargs, nargs > 1 ? "s" : "", usage)
			     : cli_usage(name, "unexpected argument '%s'", argv[optind]);
	out->vault = cli_vault_path(vopt);
	if (!out->vault)
		return cli_usage(name, "no vault given: use --vault DEV or set VIGIL_VAULT");
	out->args = argv + optind;
	out->ok = true;
	return CLI_OK;
}
