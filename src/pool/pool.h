/*
 * pool.h - the storage engine: a vault's devices, blocks and commits.
 *
 * The pool stores opaque blocks and knows nothing of files or snapshots.
 * Law by law (docs/FORMAT.md, "Theory of the pool", has the details):
 *
 *  1. Every block is addressed by a block pointer (struct vg_bp) that holds
 *     the checksum of the stored bytes.  The caller keeps bps inside other
 *     blocks, so the whole vault is a Merkle tree whose root bp sits in the
 *     uberblock.  vg_pool_read() never returns bytes that fail the check.
 *  2. vg_pool_write() only ever writes to space no committed state uses
 *     (an append cursor in log-structured segment files); parity is
 *     computed once for a new stripe.  Nothing is durable or visible to a
 *     later open until vg_pool_commit(): it flushes every written segment,
 *     then writes a new numbered, checksummed uberblock to the ring on every
 *     device, then flushes that.  A crash at any instant leaves the last
 *     committed state intact.
 *  3. A read that fails its checksum is rebuilt from the other mirror
 *     copies / parity / ditto copies; with no I/O error to say which column
 *     is bad, combinations of columns (up to the parity count) are tried
 *     until the checksum matches, which names the bad device(s).  Only the
 *     columns found bad are rewritten (in place, with the correct bytes),
 *     and only when the pool is writable.  Each device has READ, WRITE and
 *     CKSUM counters, persisted in the uberblock (vg_pool_close() commits
 *     changed counters, vg_pool_clear() resets them).
 *
 * Thread safety: vg_pool_write() and vg_pool_read() may be called from
 * several threads at once; open/commit/close/status from one thread while no
 * read or write is running.
 *
 * After a failed commit the pool is read-only (VG_EREADONLY) until reopened:
 * memory and disk may disagree, so no further state is built on it.
 */
#ifndef VG_POOL_POOL_H
#define VG_POOL_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/os.h"

#define VG_POOL_MAX_DEVS 12
#define VG_BP_MAX_DVA 3
#define VG_BP_SIZE 80                      /* encoded size of a block pointer */
#define VG_POOL_MAX_BLOCK (16u << 20)      /* largest block vg_pool_write() takes */
#define VG_CKSUM_LEN 32

enum vg_layout_kind {
	VG_LAYOUT_SINGLE = 1, /* striped, no redundancy (metadata still ditto) */
	VG_LAYOUT_MIRROR = 2, /* every device holds every block */
	VG_LAYOUT_RAIDZ = 3,  /* k data + p parity columns (Reed-Solomon) */
};

struct vg_layout {
	enum vg_layout_kind kind;
	int nparity; /* raidz: 1..3; mirror: ndevs-1; single: 0 */
	int ndevs;
};

/* Parse "single", "mirror", "raidz1", "raidz2", "raidz3" for ndevs devices,
 * checking the device count (mirror 2..4, raidzP 3..12 and > P+1,
 * single 1..12). */
int vg_layout_parse(const char *name, int ndevs, struct vg_layout *out);
/* "raidz2" etc.; static string. */
const char *vg_layout_name(const struct vg_layout *l, char buf[16]);

enum vg_cksum_alg {
	VG_CKSUM_XXH3_128 = 1, /* default: corruption detection at memory speed */
	VG_CKSUM_SHA256 = 2,
};

/* Block types are the caller's (repo/) business; the pool records them for
 * scrub reports and uses the METADATA flag to choose ditto copies. */
struct vg_dva {
	uint32_t seg; /* segment number (file seg-XXXXXXXX on each device) */
	uint32_t off; /* first row, in sectors of 4 KiB, within the segment */
};

struct vg_bp {
	uint8_t ndva;     /* 1..3 copies */
	uint8_t cksum_alg;
	uint16_t type;    /* caller-defined */
	uint32_t psize;   /* stored size in bytes, 1..VG_POOL_MAX_BLOCK */
	uint64_t birth;   /* txg in which it was written */
	struct vg_dva dva[VG_BP_MAX_DVA];
	uint8_t cksum[VG_CKSUM_LEN];
};

void vg_bp_encode(const struct vg_bp *bp, uint8_t out[VG_BP_SIZE]);
/* Validates every field it can without the pool (VG_ECORRUPT). */
int vg_bp_decode(const uint8_t in[VG_BP_SIZE], struct vg_bp *bp);
/* Short printable form for messages: "seg 3 off 1200 size 4096". */
const char *vg_bp_str(const struct vg_bp *bp, char buf[96]);

enum vg_dev_state {
	VG_DEV_ONLINE = 0,
	VG_DEV_DEGRADED = 1, /* reachable but has had errors */
	VG_DEV_FAULTED = 2,  /* too many errors, no longer used */
	VG_DEV_UNAVAIL = 3,  /* missing, unreadable label, or another vault's */
	VG_DEV_OFFLINE = 4,  /* taken out of use by the administrator */
};
enum vg_pool_state { VG_POOL_ONLINE = 0, VG_POOL_DEGRADED = 1, VG_POOL_FAULTED = 2 };

const char *vg_dev_state_name(enum vg_dev_state s);
const char *vg_pool_state_name(enum vg_pool_state s);

/* The state of the last (or current) scrub, kept in the uberblock so that
 * a killed scrub resumes and `status` can show the last result. */
enum vg_scrub_state {
	VG_SCRUB_NONE = 0,
	VG_SCRUB_RUNNING = 1,  /* (or killed while running: resumable) */
	VG_SCRUB_PAUSED = 2,
	VG_SCRUB_FINISHED = 3,
	VG_SCRUB_CANCELED = 4,
};
struct vg_scrub_record {
	enum vg_scrub_state state;
	uint64_t start, end;     /* ns since the epoch; end 0 while running */
	uint64_t txg;            /* the committed state the scrub walks */
	uint64_t bytes_done, bytes_total;
	uint64_t repaired_bytes, errors, unrecoverable;
	struct vg_dva pos;       /* blocks up to here (physical order) are done */
};
struct vg_dev_status {
	char path[4096];
	uint64_t guid;
	enum vg_dev_state state;
	char reason[256]; /* why UNAVAIL/FAULTED, "" otherwise */
	uint64_t read_errs, write_errs, cksum_errs;
	/* Blocks were written while it was unavailable: they lack its
	 * columns until a scrub or resilver rebuilds them. */
	bool resilver_needed;
};

struct vg_pool_status {
	enum vg_pool_state state;
	struct vg_scrub_record scrub;
	struct vg_layout layout;
	uint64_t vault_guid;
	uint64_t txg;          /* last committed transaction */
	uint64_t commit_time;  /* of that txg, ns since the epoch */
	uint64_t created;      /* when the vault was created, ns since the epoch */
	uint64_t alloc_bytes;  /* bytes of segment space allocated, all devices */
	int ndevs;
	struct vg_dev_status dev[VG_POOL_MAX_DEVS];
};

struct vg_pool;

enum vg_pool_flags {
	VG_POOL_RDONLY = 0,
	VG_POOL_RDWR = 1 << 0, /* take the vault lock; allow writes, repairs, commits */
	/* For status: open even a FAULTED vault (read-only, no uberblock is
	 * trusted, only vg_pool_status() may be called) so it can be shown. */
	VG_POOL_PROBE = 1 << 1,
};

/* Create a new vault over empty (or new) directories and commit txg 1 with
 * no root.  Refuses a directory that already holds a vigil device. */
int vg_pool_create(struct vg_os *os, const struct vg_layout *layout,
		   const char *const *paths, struct vg_pool **out);

/* Open the vault that `path` (any member) belongs to; the label names the
 * other members.  VG_EFAULTED (naming the missing devices) when more
 * devices are missing than the layout tolerates; nothing is written then.
 * With VG_POOL_PROBE a FAULTED vault still yields a handle (*out set, the
 * VG_EFAULTED code returned) that only vg_pool_status()/close accept. */
int vg_pool_open(struct vg_os *os, const char *path, int flags, struct vg_pool **out);
/* The same, where a member not found at its recorded path may be one of
 * the directories cands[0..ncands) (devices that moved: mounted elsewhere,
 * their directory renamed).  A candidate is taken only if its label says
 * it is that device of this vault.  Nothing is written: vg_pool_save_paths()
 * makes the new places the recorded ones. */
int vg_pool_open_with(struct vg_os *os, const char *path, int flags, const char *const *cands, int ncands,
		      struct vg_pool **out);
/* Record every usable device's current path in the labels of all of them
 * (vault opened writable).  *moved: how many paths changed. */
int vg_pool_save_paths(struct vg_pool *p, int *moved);

/* Commit changed error counters (if writable), release everything.
 * Returns the error of that last commit, if any; NULL is a no-op. */
int vg_pool_close(struct vg_pool *p);

/* Store len bytes (1..VG_POOL_MAX_BLOCK) with `copies` ditto copies (1..3;
 * metadata uses 2).  *bp is valid at once for vg_pool_read() in this
 * process, and survives a crash once vg_pool_commit() returns. */
int vg_pool_write(struct vg_pool *p, uint16_t type, const void *data, size_t len, int copies,
		  struct vg_bp *bp);

/* Read a block into buf (bp->psize bytes), verified, healed if needed.
 * VG_ECORRUPT / VG_EIO when no copy or reconstruction verifies; the
 * message names the block and the devices that failed. */
int vg_pool_read(struct vg_pool *p, const struct vg_bp *bp, void *buf);

/* What a scrub of one or more blocks found (summed by the caller). */
struct vg_scrub_counts {
	uint64_t bytes;          /* bytes read, all columns of all copies */
	uint64_t repaired_bytes; /* bytes of columns found bad (rewritten if writable) */
	uint64_t rebuilt_bytes;  /* bytes of columns only missing (device away or new) */
	uint64_t errors;         /* blocks with at least one bad column */
	uint64_t unrecoverable;  /* blocks no copy or reconstruction could verify */
};

/* Read and verify every column (parity too) of every copy of a block and
 * repair what redundancy allows.  VG_ECORRUPT when unrecoverable.  Needs no
 * key: checksums cover the stored bytes. */
int vg_pool_scrub_block(struct vg_pool *p, const struct vg_bp *bp, struct vg_scrub_counts *cnt);

void vg_pool_scrub_get(const struct vg_pool *p, struct vg_scrub_record *r);
/* Record progress or the result and commit (same root). */
int vg_pool_scrub_put(struct vg_pool *p, const struct vg_scrub_record *r);

/* Make everything written durable and publish root as the new state. */
int vg_pool_commit(struct vg_pool *p, const struct vg_bp *root);

/* The committed root; *has_root false for a vault with none yet. */
void vg_pool_root(const struct vg_pool *p, struct vg_bp *root, bool *has_root);

void vg_pool_status(const struct vg_pool *p, struct vg_pool_status *st);

/* The error log: blocks found damaged beyond repair by reads and scrubs,
 * kept in the vault (like ZFS's permanent-error list) until a scrub finds
 * them good again or `clear`.  The list stays valid until the next call
 * that changes it. */
void vg_pool_errlog(const struct vg_pool *p, const struct vg_bp **list, size_t *n);
/* Replace the error log (a finished scrub: exactly what it found). */
int vg_pool_errlog_set(struct vg_pool *p, const struct vg_bp *list, size_t n);

/* Reset every device's error counters and the error log, and commit. */
int vg_pool_clear(struct vg_pool *p);

/* Index of the device named by path (as opened or as recorded) or by its
 * guid in hex; VG_ENOENT naming it otherwise. */
int vg_pool_find_dev(const struct vg_pool *p, const char *name);

/* Put a new, empty directory in place of device d (missing, faulted or
 * just suspect) and commit.  The new device's columns are rebuilt by reads
 * and by scrubbing every block (vg_pool_scrub_block); the old device, if
 * still readable, is read only where no other good copy exists.  Then call
 * vg_pool_resilver_done() with the txg the scrub started from. */
int vg_pool_replace(struct vg_pool *p, int d, const char *new_path);

/* Take device d out of use (refused if the vault would be FAULTED), or
 * bring it back; writes it missed are rebuilt by reads and the next
 * scrub.  Both commit; the state persists across opens. */
int vg_pool_offline(struct vg_pool *p, int d);
int vg_pool_online(struct vg_pool *p, int d);

/* A scrub of every block committed up to txg `scanned_txg` finished: the
 * devices whose missed writes it covered are whole again.  Commits. */
int vg_pool_resilver_done(struct vg_pool *p, uint64_t scanned_txg);

/* The last committed transaction number. */
uint64_t vg_pool_txg(const struct vg_pool *p);

/* The os the pool was opened with (for callers that need the same twin). */
struct vg_os *vg_pool_os(const struct vg_pool *p);

/* ---- Space reclaim (space.c) ----
 * The pool frees whole segments only; the caller (the repository) knows
 * which blocks are live.  See the theory block in src/pool/space.c. */

/* Move the cursor to the start of the next segment (unless the current
 * one is still empty), so that what is written next lands in a segment
 * newer than every block written so far.  Unwritten rows cost no disk
 * space (segment files are sparse). */
int vg_pool_seal(struct vg_pool *p);
/* Rows (4 KiB sectors on each device) one copy of a psize-byte block uses. */
uint32_t vg_pool_block_rows(const struct vg_pool *p, uint32_t psize);
/* The committed cursor's segment: every segment below it is complete. */
uint32_t vg_pool_cursor_seg(const struct vg_pool *p);

struct vg_pool_reclaim {
	uint64_t files; /* segment files deleted, all devices */
	uint64_t bytes; /* their apparent sizes */
	bool deferred;  /* nothing deleted: a reader had the vault open */
};
/* Delete, on every usable device, the segment files numbered below
 * min(nsegs, the committed cursor's segment) whose live[seg] is 0.  Call
 * it after the commit that stopped using them returned.  The segments of
 * the committed root and error log are kept whatever live[] says.  A
 * read-only open holds a shared lock on its device's `readers.lock` from
 * before it picks a state until it closes; while any is held nothing is
 * deleted (out->deferred): that reader may still need the old segments. */
int vg_pool_reclaim(struct vg_pool *p, const uint8_t *live, uint32_t nsegs, struct vg_pool_reclaim *out);
/* 0 if every copy of bp lies below the committed cursor and its segment
 * file exists on every usable device holding a column of it; otherwise
 * VG_ECORRUPT / VG_ENOENT saying which. */
int vg_pool_block_allocated(struct vg_pool *p, const struct vg_bp *bp);

#endif
