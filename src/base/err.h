/*
 * err.h - the one error convention of vigil.
 *
 * Every fallible function returns int: 0 (VG_OK) on success, or one of the
 * negative codes below.  Codes are stable: never renumbered, never reused,
 * because they appear in --json output and in exit-status mapping.
 * Callers react to the *kind* of failure, so the kinds stay distinct:
 * corruption is not an I/O error, and neither is "not found".
 *
 * The human message travels beside the code, in a per-thread buffer set by
 * VG_ERR().  A message names the object (path, device, snapshot) and, where
 * the user can act, what to do.  The library never prints and never exits;
 * only cli/ does.
 *
 * Invariant: a function that returns an error has released everything it
 * acquired (one cleanup label, resources start NULL), and has set the
 * message of the error it returns (a caller that adds context calls
 * vg_err_prefix()).
 */
#ifndef VG_BASE_ERR_H
#define VG_BASE_ERR_H

#include <stdarg.h>

enum vg_err {
	VG_OK = 0,
	VG_ENOMEM = -1,     /* out of memory */
	VG_EIO = -2,        /* a device or file reported an I/O error */
	VG_ECORRUPT = -3,   /* data failed its checksum / malformed on disk */
	VG_ENOSPC = -4,     /* no space left */
	VG_ENOENT = -5,     /* object not found */
	VG_EINVAL = -6,     /* bad argument or bad input (misuse, bad config) */
	VG_EEXIST = -7,     /* object already exists */
	VG_EFAULTED = -8,   /* vault beyond its redundancy */
	VG_EVERSION = -9,   /* on-disk format we do not understand */
	VG_EPERM = -10,     /* permission denied */
	VG_EKEY = -11,      /* wrong key or passphrase / authentication failed */
	VG_EBUSY = -12,     /* locked by another process */
	VG_EREADONLY = -13, /* handle refuses writes after an earlier failure */
	VG_EUNSAFE = -14,   /* refused: would write outside a target, etc. */
	VG_ECRASH = -15,    /* fault injection: simulated power loss happened */
	VG_ETIMEDOUT = -16, /* an external tool or server did not answer */
	VG_EEXTERNAL = -17, /* an external tool failed or gave unparsable output */
	VG_ECANCELED = -18, /* stopped on request (scrub --stop, signal) */
	VG_ERR_MIN_ = -18
};

/* Static name of a code, e.g. "corrupt"; never NULL. */
const char *vg_strerror(int code);

/* Record a message for the calling thread and return code (< 0). */
int vg_err_set(int code, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int vg_err_setv(int code, const char *file, int line, const char *fmt, va_list ap);

/* Map errno to a vg code and set "<what>: <strerror>" as the message. */
int vg_err_errno(int errnum, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prepend context: "<prefix>: <old message>".  Returns code unchanged. */
int vg_err_prefix(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The calling thread's last message ("" if none).  Valid until the next
 * vg_err_* call on this thread. */
const char *vg_errmsg(void);
/* Where the last error was born ("file:line"), for debug output. */
const char *vg_errwhere(void);
void vg_err_clear(void);

#define VG_ERR(code, ...) vg_err_set((code), __FILE__, __LINE__, __VA_ARGS__)
#define VG_ERRNO(errnum, ...) vg_err_errno((errnum), __FILE__, __LINE__, __VA_ARGS__)

/* Map an errno value to a vg code (without setting a message). */
int vg_err_from_errno(int errnum);

#endif
