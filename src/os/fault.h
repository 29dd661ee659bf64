/*
 * fault.h - the fault-injecting twin of the os layer, for tests.
 *
 * vg_os_fault_new(inner) returns a struct vg_os that forwards every op to
 * inner (normally vg_os_posix()) and can, on request:
 *
 *   - fail the Nth matching call (read, write, sync, open or any op) with
 *     VG_EIO or VG_ENOSPC, once or from then on          (VG_FAULT_EIO/ENOSPC)
 *   - flip bits in what a read returns (the file stays intact) or in what a
 *     write stores                                         (VG_FAULT_FLIP)
 *   - make a device directory disappear                    (VG_FAULT_GONE)
 *   - count calls and bytes per path prefix                (vg_fault_counts)
 *   - simulate power loss at the Nth write, then decide per unsynced write
 *     whether it was kept, dropped or torn, and per undurable directory
 *     operation whether it happened               (vg_fault_crash_at/powerloss)
 *
 * docs/OS.md states the power-loss model precisely.  Every fault is
 * deterministic for a given configuration, seed and sequence of calls (with
 * several threads the sequence, and so which call is "the Nth", depends on
 * scheduling; calls are serialised by one lock).
 *
 * Paths are compared as strings: a rule's prefix "/v/dev0" covers "/v/dev0"
 * and everything below "/v/dev0/", never "/v/dev01".  Use the same spelling
 * for a path in rules as in the calls (vg_path_join() style, no "//", "./").
 *
 * The vg_fault_* functions take the twin (the struct vg_os returned by
 * vg_os_fault_new()); given another os they do nothing and return VG_EINVAL.
 * Close every file before vg_os_destroy() of the twin.
 */
#ifndef VG_OS_FAULT_H
#define VG_OS_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "os/os.h"

/* Wraps inner (not owned, must outlive the twin).  NULL when out of memory. */
struct vg_os *vg_os_fault_new(struct vg_os *inner);

/* Which calls a rule counts: a mask of these. */
enum vg_fault_ops {
	VG_FAULT_READ = 1 << 0,  /* pread */
	VG_FAULT_WRITE = 1 << 1, /* pwrite */
	VG_FAULT_SYNC = 1 << 2,  /* sync, syncdir */
	VG_FAULT_OPEN = 1 << 3,  /* open */
	VG_FAULT_META = 1 << 4,  /* size, truncate, lock, stat, mkdir, unlink,
				    rmdir, rename, listdir, writable */
	VG_FAULT_ANY = 0x1f,
};

enum vg_fault_effect {
	/* The call fails with VG_EIO (VG_ENOSPC) and does nothing. */
	VG_FAULT_EIO = 1,
	VG_FAULT_ENOSPC = 2,
	/* READ and WRITE calls only: flip bits in the bytes the read returns
	 * (the file is untouched) or in the bytes the write stores (the caller's
	 * buffer is untouched).  The call succeeds. */
	VG_FAULT_FLIP = 3,
	/* From the call it fires on, everything under the prefix is gone, as an
	 * unplugged disk: open, stat (exists = false), listdir, mkdir, unlink,
	 * rename, syncdir, writable fail with VG_ENOENT; reads, writes, syncs,
	 * size, truncate, lock on already open files fail with VG_EIO; close
	 * still works.  Lasts until the rule is removed (the disk comes back
	 * with its files as they were). */
	VG_FAULT_GONE = 4,
};

struct vg_fault_rule {
	unsigned ops;        /* mask of enum vg_fault_ops; 0 means VG_FAULT_ANY */
	const char *prefix;  /* NULL: every path; else a directory or file (copied) */
	uint64_t nth;        /* fires at the nth matching call, counted from 1 per
				rule (0 means 1) */
	bool persist;        /* ... and at every matching call after it */
	enum vg_fault_effect effect;

	/* VG_FAULT_FLIP: which bits.  By default nbits distinct bits (0 means
	 * 1), chosen from seed and the call, anywhere in the bytes transferred.
	 * With at_offset, the byte at file offset `offset` is xored with `mask`
	 * (0: one bit chosen from seed); calls that do not transfer that byte
	 * do not match the rule (and are not counted). */
	uint64_t seed;
	unsigned nbits;
	bool at_offset;
	uint64_t offset;
	uint8_t mask;

	/* VG_FAULT_ENOSPC: when space > 0, the rule matches only writes that
	 * would take the bytes of the writes it let through (since it was
	 * added) beyond space: a full disk.  With nth 1 and persist, every
	 * write that does not fit fails, and smaller ones that fit succeed. */
	uint64_t space;
};

/* Adds a rule (rules are checked in the order added).  *id (optional)
 * receives its id (> 0) for vg_fault_fired() and vg_fault_remove_rule().
 * VG_EINVAL for a bad rule (FLIP on ops other than READ/WRITE, no effect). */
int vg_fault_add_rule(struct vg_os *os, const struct vg_fault_rule *rule, int *id);
/* Removes a rule; a GONE rule removed brings its device back. */
void vg_fault_remove_rule(struct vg_os *os, int id);
/* How many calls the rule fired on so far (0 for an unknown id).  Fault
 * loops stop when a rule at call N never fired. */
uint64_t vg_fault_fired(struct vg_os *os, int id);
/* Shortcut: a GONE rule on prefix firing at once. */
int vg_fault_unplug(struct vg_os *os, const char *prefix, int *id);

/* Calls made and bytes moved under a prefix (NULL: all), summed over the
 * paths used in the calls since creation or the last reset.  Calls count
 * whether they succeed or not; bytes count what was read or written. */
struct vg_fault_counts {
	uint64_t opens, reads, writes, syncs; /* syncs: sync and syncdir */
	uint64_t read_bytes, written_bytes;
};
void vg_fault_counts(struct vg_os *os, const char *prefix, struct vg_fault_counts *out);
void vg_fault_counts_reset(struct vg_os *os);

/*
 * Power loss.  vg_fault_crash_at(os, n, seed): the nth pwrite call from now
 * (counted over all files; n = 0: none) still reaches the file, then it
 * and every later call fail with VG_ECRASH, as does every call after
 * vg_fault_crash_now().  vg_fault_powerloss() then leaves the inner files
 * as a restart would find them: each write not covered by a successful sync
 * of its file is kept, dropped or torn (512-byte sectors), each directory
 * operation not covered by a syncdir of its directory may be undone; both
 * decided from seed (docs/OS.md).  Close handles and destroy the twin
 * after it; reopen with vg_os_posix().  Destroying a crashed twin without
 * calling it does the power loss first.  Destroying a twin that did not
 * crash keeps everything (a clean shutdown).
 */
void vg_fault_crash_at(struct vg_os *os, uint64_t nth_write, uint64_t seed);
/* The same, counting the calls of the kinds in ops (0: any; close is never
 * counted).  A crashing call other than a pwrite does not happen at all:
 * power fails at the instant a sync, rename or syncdir is called. */
void vg_fault_crash_at_op(struct vg_os *os, unsigned ops, uint64_t nth, uint64_t seed);
void vg_fault_crash_now(struct vg_os *os);
bool vg_fault_crashed(struct vg_os *os);

/* What vg_fault_powerloss() did. */
struct vg_fault_report {
	uint64_t kept, dropped, torn;   /* unsynced writes */
	uint64_t truncs_undone;         /* unsynced truncates reverted */
	uint64_t creates_undone;        /* created files that vanished */
	uint64_t mkdirs_undone;         /* created directories that vanished */
	uint64_t unlinks_undone;        /* removed files that came back */
	uint64_t renames_undone;        /* renames that went back */
};
/* Crashes (if not yet) and applies the fates.  rep is optional.  Fails only
 * if the inner os fails (message from it); the twin is then still crashed. */
int vg_fault_powerloss(struct vg_os *os, struct vg_fault_report *rep);

#endif
