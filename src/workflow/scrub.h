/*
 * scrub.h - verify every block of a vault, repair what redundancy allows.
 *
 * The walk (repo/walk.h) lists every live block without any key; the
 * blocks are sorted into physical order (segment, row) so the devices are
 * read sequentially, and each is scrubbed: every column of every copy,
 * parity included, is read and checked.  Progress is checkpointed in the
 * vault's scrub record every few seconds, so a scrub that is killed,
 * paused or stopped by a crash resumes where it was; the final result is
 * recorded for `vigil status`.  A finished scrub that met no unrecoverable
 * block also completes any resilver (devices back from an absence, or
 * replaced) whose missed writes it covered.
 *
 * A running scrub holds the vault lock; another process asks it to pause
 * or stop by leaving a request file in a device directory
 * (vg_scrub_request), which the scrub checks at every checkpoint.
 */
#ifndef VG_WORKFLOW_SCRUB_H
#define VG_WORKFLOW_SCRUB_H

#include <stdbool.h>
#include <stdint.h>

#include "pool/pool.h"

struct vg_scrub_progress {
	uint64_t bytes_done, bytes_total; /* stored bytes of the blocks, one copy */
	uint64_t repaired_bytes, errors, unrecoverable;
	double rate;                      /* bytes per second in this run */
};

struct vg_scrub_opts {
	double rate_limit;                /* bytes per second; 0: unlimited */
	double checkpoint_secs;           /* 0: 2 seconds */
	void (*progress)(void *ctx, const struct vg_scrub_progress *p);
	void *ctx;
};

/* Damaged blocks met by the scrub (unrecoverable), for reporting. */
struct vg_scrub_result {
	struct vg_scrub_record rec;
	bool resumed;         /* continued an interrupted scrub */
	bool paused, stopped; /* ended early on request */
	uint64_t rebuilt_bytes; /* columns written to devices that lacked them */
	struct vg_bp *bad;    /* unrecoverable blocks (malloc'd, up to 10000) */
	size_t nbad;
};

/* Scrub (or resume) the vault open read-write in pool. */
int vg_scrub_run(struct vg_pool *pool, const struct vg_scrub_opts *o, struct vg_scrub_result *res);
void vg_scrub_result_release(struct vg_scrub_result *res);

/* Ask a scrub running on the vault (opened through any device path) to
 * "pause" or "stop".  When none is running (the lock is free), the caller
 * updates the record itself with vg_scrub_mark(). */
int vg_scrub_request(struct vg_pool *pool, const char *what);
/* Mark an interrupted scrub paused or canceled without running it. */
int vg_scrub_mark(struct vg_pool *pool, enum vg_scrub_state state);

#endif
