/*
 * cli.h - what every command file in cli/ shares.
 *
 * One file per command (cmd_<name>.c), each exporting
 *   int cmd_<name>(int argc, char **argv)   (argv[0] is the command name)
 * and listed in the table in main.c.  Commands parse their arguments, call
 * the library, print (human text, or JSON with --json) and return an exit
 * status.  They never hold format knowledge.
 *
 * Exit status (docs/MANUAL.md): 0 fine, 1 warnings, 2 failure or critical
 * finding, 64 usage error, 65 bad input data/config, 66 vault or path
 * not found, 69 a needed tool is missing, 70 internal error, 73 cannot
 * create, 75 busy (locked by another process).
 */
#ifndef VG_CLI_CLI_H
#define VG_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

enum cli_exit {
	CLI_OK = 0,
	CLI_WARN = 1,
	CLI_FAIL = 2,
	CLI_USAGE = 64,
	CLI_DATAERR = 65,
	CLI_NOINPUT = 66,
	CLI_UNAVAILABLE = 69,
	CLI_SOFTWARE = 70,
	CLI_CANTCREAT = 73,
	CLI_TEMPFAIL = 75,
};

/* Map a library error code to an exit status. */
int cli_exit_for(int vg_err);
/* Print "vigil: <msg>" (the thread's last library message) to stderr and
 * return cli_exit_for(err). */
int cli_fail(int vg_err);
/* Print "vigil <cmd>: <formatted>" to stderr and return CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* stdout is a terminal (progress output allowed). */
bool cli_tty(void);

/* Offline verification of a PostgreSQL data directory (cmd_pg_verify.c),
 * shared with `vigil health`: prints the human report, or with json sets
 * *jout to the report object (the caller prints or embeds it).  Returns
 * the exit status (0 OK, 1 warning, 2 corrupt). */
struct json_t;
int cli_pg_check(const char *pgdata, bool json, struct json_t **jout);

/* Parsed options of a command that takes --vault, --json, -v and nargs
 * positional arguments.  cli_vault_args() returns the exit status to
 * leave with unless out->ok (--help printed, or a usage error). */
struct cli_vault_args {
	bool ok;
	const char *vault;
	bool json, verbose;
	char **args;
};
int cli_vault_args(int argc, char **argv, const char *name, const char *usage, int nargs,
		   struct cli_vault_args *out);

/* The vault path from --vault, else $VIGIL_VAULT, else NULL. */
const char *cli_vault_path(const char *opt);

#define CLI_COMMANDS(X)                                                             \
	X(init, "create a vault over device directories")                          \
	X(backup, "back up paths into a new snapshot")                             \
	X(snapshots, "list the vault's snapshots")                                 \
	X(restore, "restore a snapshot (or a part of it) into a directory")        \
	X(key, "change the passphrase of an encrypted vault")                      \
	X(ls, "list what a snapshot holds (SNAPSHOT[:PATH])")                     \
	X(diff, "show what changed between two snapshots")                        \
	X(status, "show the vault's state and device error counters")             \
	X(scrub, "verify every block of the vault and repair what it can")         \
	X(replace, "rebuild a device of the vault onto a new directory")            \
	X(import, "take back a vault whose devices moved (names where they are now)") \
	X(clear, "reset the devices' error counters")                              \
	X(offline, "take a device out of use")                                     \
	X(online, "bring a device taken offline back into use")                    \
	X(health, "check the storage under paths: the gate every backup passes first") \
	X(forget, "remove snapshots by retention policy or by id")                 \
	X(prune, "remove snapshots by policy and reclaim the space they used")     \
	X(check, "check the vault's metadata for consistency (fast, no data read)") \
	X(version, "print the version")                                             \
	X(pg_verify, "verify every page checksum of a PostgreSQL data directory")   \
	X(wal_verify, "check a PostgreSQL WAL archive for missing segments")        \
	X(alert, "send, test, retry and list alerts (test, send, flush, status)")

#define X(name, help) int cmd_##name(int argc, char **argv);
CLI_COMMANDS(X)
#undef X

#endif
