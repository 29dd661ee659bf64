/*
 * vault.h - what the repository commands (init, backup, snapshots,
 * restore) share: opening a vault's repository, printing arbitrary file
 * names safely, sizes, and progress lines on a terminal.
 */
#ifndef VG_CLI_VAULT_H
#define VG_CLI_VAULT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "pool/pool.h"
#include "repo/repo.h"

enum cli_open_mode {
	CLI_OPEN_READ,    /* read-only, no lock */
	CLI_OPEN_WRITE,   /* writable: lock, repairs, commits */
	CLI_OPEN_REPAIR,  /* writable if the lock is free (repairs), else read-only */
};

/* Open the pool named by vault and its repository.  On error everything
 * is closed again and the library's message is set. */
int cli_repo_open(const char *vault, enum cli_open_mode mode, const struct vg_repo_opts *o,
		  struct vg_pool **pool, struct vg_repo **repo);
/* The passphrase callback (repo.h vg_pass_fn): VIGIL_PASSWORD, else the
 * first line of the file named by VIGIL_PASSWORD_FILE, else a prompt on
 * the terminal without echo (asked twice for a new one).  ctx NULL; a
 * non-NULL ctx (key change) takes a *new* passphrase from
 * VIGIL_NEW_PASSWORD / VIGIL_NEW_PASSWORD_FILE instead. */
int cli_passphrase(void *ctx, bool is_new, char *buf, size_t cap);

/* Argon2id cost for a new wrapping: --kdf-ops/--kdf-memory when given
 * (non-zero in *kdf), else VIGIL_KDF="OPS,KIB" from the environment (for
 * tests and very slow machines), else the library's defaults (0).
 * VG_EINVAL for a malformed VIGIL_KDF. */
int cli_kdf_params(struct vg_kdf_params *kdf);
/* Parse the value of --kdf-ops (ops true) or --kdf-memory; false if bad. */
bool cli_kdf_opt(const char *arg, bool ops, struct vg_kdf_params *kdf);

/* Close both; returns the pool's close error (counters commit). */
int cli_repo_close(struct vg_pool *pool, struct vg_repo *repo);

/* s with control characters, backslashes and invalid UTF-8 escaped
 * (\n, \x9f, ...), so a file name can neither break a line of output nor
 * a JSON string.  Returns a static buffer rotated among 4. */
const char *cli_safe(const char *s);
json_t *cli_json_safe(const char *s);
/* Print o indented on stdout and drop the reference. */
void cli_print_json(json_t *o);
/* "55.2 MiB"; static buffer rotated among 4. */
const char *cli_bytes(uint64_t n);
/* Seconds since the epoch of a monotonic clock. */
double cli_now(void);
/* Local time "2024-05-01 13:45:07". */
const char *cli_time(int64_t ns);
/* Raise the open-file limit to its hard maximum (deep trees use one
 * descriptor per level). */
void cli_raise_nofile(void);
int cli_workers(void);

/* A progress line on stderr, redrawn at most 5 times a second, only when
 * stderr is a terminal (cli_tty()). */
struct cli_progress {
	bool on;
	double start, last;
	int width;
};
void cli_progress_init(struct cli_progress *p);
void cli_progress_show(struct cli_progress *p, uint64_t files, uint64_t bytes, const char *current);
void cli_progress_done(struct cli_progress *p);

#endif
