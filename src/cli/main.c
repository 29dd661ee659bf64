/*
 * main.c - vigil's entry point: dispatch to one command per file.
 *
 * The table is CLI_COMMANDS in cli.h.  main() also checks that stdout was
 * really written (a full disk or closed pipe is an error, as in git).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "cli/cli.h"

struct cmd {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
};

static const struct cmd commands[] = {
#define X(n, h) {#n, cmd_##n, h},
	CLI_COMMANDS(X)
#undef X
};

int cli_exit_for(int e)
{
	switch (e) {
	case VG_OK: return CLI_OK;
	case VG_EINVAL: return CLI_DATAERR;
	case VG_ENOENT: return CLI_NOINPUT;
	case VG_EBUSY: return CLI_TEMPFAIL;
	case VG_EPERM: return CLI_CANTCREAT;
	case VG_EEXIST: return CLI_CANTCREAT;
	case VG_ENOMEM: return CLI_SOFTWARE;
	case VG_EVERSION: return CLI_DATAERR;
	}
	return CLI_FAIL;
}

int cli_fail(int e)
{
	const char *m = vg_errmsg();
	fprintf(stderr, "vigil: %s\n", m[0] ? m : vg_strerror(e));
	if (getenv("VIGIL_DEBUG"))
		fprintf(stderr, "vigil: (error born at %s)\n", vg_errwhere());
	return cli_exit_for(e);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vigil %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'vigil help')\n");
	return CLI_USAGE;
}

bool cli_tty(void) { return isatty(STDERR_FILENO) && !getenv("VIGIL_NO_PROGRESS"); }

const char *cli_vault_path(const char *opt)
{
	if (opt && *opt)
		return opt;
	const char *e = getenv("VIGIL_VAULT");
	return (e && *e) ? e : NULL;
}

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("vigil " VG_VERSION "\n");
	return 0;
}

/* Table names are C identifiers: "wal_verify" is typed "wal-verify". */
static bool same_name(const char *typed, const char *table)
{
	for (; *typed && *table; typed++, table++)
		if (*typed != *table && !(*typed == '-' && *table == '_'))
			return false;
	return *typed == *table;
}

static void print_name(FILE *f, const char *name)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%s", name);
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = '-';
	fprintf(f, "  %-12s ", buf);
}

static void help(FILE *f)
{
	fprintf(f, "usage: vigil COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		print_name(f, commands[i].name);
		fprintf(f, "%s\n", commands[i].help);
	}
	fprintf(f, "\nEvery command takes --json.  Exit status: 0 fine, 1 warnings, 2 failure or\n"
		   "critical finding, 64+ usage and setup errors (see docs/MANUAL.md).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		help(stderr);
		return CLI_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
		help(stdout);
		return 0;
	}
	if (!strcmp(name, "--version"))
		name = "version";
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (!same_name(name, commands[i].name))
			continue;
		int rc = commands[i].fn(argc - 1, argv + 1);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "vigil: could not write output: %s\n", strerror(errno));
			return rc ? rc : CLI_FAIL;
		}
		return rc;
	}
	fprintf(stderr, "vigil: '%s' is not a command (see 'vigil help')\n", name);
	return CLI_USAGE;
}
