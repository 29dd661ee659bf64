/*
 * vault_health.h - one record of how healthy a vault is, for the backup
 * health gate, alerts and `vigil status --json`.
 *
 * Levels: CRIT when the vault is FAULTED or holds data lost beyond repair
 * (the error log is not empty); WARN when it is DEGRADED, any device
 * error counter is set, redundancy is incomplete (a device missed writes
 * while it was away or is still being rebuilt: data written while the
 * vault was DEGRADED has less redundancy than configured until a scrub or
 * resilver completes - btrfs's "mixed profiles after replace" trap), or
 * the last scrub is older than VG_SCRUB_STALE_DAYS (or there was none);
 * OK otherwise.
 */
#ifndef VG_WORKFLOW_VAULT_HEALTH_H
#define VG_WORKFLOW_VAULT_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "pool/pool.h"
#include "source/health.h" /* the levels, shared with the source gate */

#define VG_SCRUB_STALE_DAYS 35

struct vg_vault_health {
	enum vg_health_level level;
	enum vg_pool_state state;
	uint64_t read_errs, write_errs, cksum_errs; /* summed over devices */
	size_t permanent_errors;                    /* blocks in the error log */
	bool redundancy_complete;
	int devices_missing_writes;                 /* with a dirty time log */
	int devices_unusable;                       /* UNAVAIL, FAULTED, OFFLINE */
	enum vg_scrub_state scrub_state;
	uint64_t last_scrub_end_ns;                 /* 0: never finished */
	uint64_t scrub_repaired_bytes, scrub_errors, scrub_unrecoverable;
	uint64_t last_commit_ns;
	char summary[512];                          /* one line: the worst problem first */
};

/* now_ns: the time to judge scrub age against (0: the clock). */
void vg_vault_health(const struct vg_pool *p, uint64_t now_ns, struct vg_vault_health *h);

#endif
