/*
 * guard.h - what runs around a backup so it never preserves garbage:
 *
 *   before: the source health gate on every path (source/health.h); a CRIT
 *           finding refuses the backup unless forced, in which case the
 *           snapshot is marked suspect with the findings as reasons;
 *   during: PostgreSQL page checksums of every data directory among the
 *           paths, verified as the backup reads each file (one read);
 *   after:  alerts (alert/alert.h) for the gate's findings (resolved when
 *           they clear), a suspect snapshot, corrupt pages, and the
 *           backup's failure or success, plus the dead-man's-switch pings
 *           at start and end.  Delivery is bounded by the alert budget.
 *
 * The guard knows no vault format; it only fills the hooks of struct
 * vg_backup_opts.  Every piece is optional: without a config file there
 * are no alert channels, and the gate still runs.  Alerting that cannot
 * work (an unwritable state directory) is reported, never a reason to
 * skip the backup.
 */
#ifndef VG_WORKFLOW_GUARD_H
#define VG_WORKFLOW_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "pool/pool.h"
#include "workflow/backup.h"

struct vg_guard;

struct vg_guard_opts {
	const char *config;  /* config file; NULL: the default (absent is fine) */
	bool force;          /* back up despite a CRIT finding (snapshot suspect) */
	bool no_gate;        /* skip the health gate (the snapshot says so) */
	const char *vault;   /* for alert subjects */
	/* A running PostgreSQL cluster among the paths is copied in backup
	 * mode through this connection (NULL: its socket from postmaster.pid,
	 * as the data directory's owner). */
	const char *pg_connstr;
	int pg_archive_wait_ms; /* wait for the stop WAL segment's archiving; 0: 60 s */
	void (*report)(void *ctx, const char *line); /* lines for the user, or NULL */
	void *ctx;
};

/* Load the config, ping the start of the run, run the gate and send its
 * alerts.  Returns 0 to go on, VG_EUNSAFE when a CRIT finding refuses the
 * backup (message: the gate's summary and how to force), other codes for
 * setup errors (bad config).  *out is set whenever the call returns 0 or
 * VG_EUNSAFE, and must be ended with vg_guard_end(). */
int vg_guard_begin(const struct vg_guard_opts *o, const char *const *paths, size_t npaths,
		   struct vg_guard **out);
/* Lines for the user (alerting that cannot work, corrupt pages, delivery
 * problems) go to report; set it before vg_guard_begin() via the opts. */
/* The gate's summary (one paragraph), "" when the gate found nothing. */
const char *vg_guard_summary(const struct vg_guard *g);
/* Set the backup's pre-existing verdict/reasons and content watch. */
void vg_guard_apply(struct vg_guard *g, struct vg_backup_opts *bo);
/* The vault's state after the run, for its alerts (degraded, devices with
 * error counters, missed writes); call before vg_guard_end(). */
void vg_guard_vault(struct vg_guard *g, const struct vg_pool_status *st);

/* Alerts for a vault's state, on their own (vigil scrub, status): keys
 * "vault:<id>:state" and "vault:<id>:<device>:errors"; a scrub record that
 * just finished gives a "scrub-result" alert.  Loads the config itself;
 * problems go to report. */
void vg_vault_alerts(const char *config, const struct vg_pool_status *st, bool scrub_finished,
		     void (*report)(void *ctx, const char *line), void *ctx);

/* After the run (res NULL when it failed, with error): send the alerts
 * for its outcome and the end ping, wait for delivery within the budget,
 * free everything (NULL is a no-op). */
void vg_guard_end(struct vg_guard *g, int exit_status, const struct vg_backup_result *res,
		  const char *error);

#endif
