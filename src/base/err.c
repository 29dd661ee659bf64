/*
 * err.c - per-thread error messages and code names (see err.h).
 */
#include "base/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MSG_MAX 1024

static _Thread_local char msg_buf[MSG_MAX];
static _Thread_local char where_buf[128];

const char *vg_strerror(int code)
{
	switch (code) {
	case VG_OK: return "ok";
	case VG_ENOMEM: return "out of memory";
	case VG_EIO: return "i/o error";
	case VG_ECORRUPT: return "corrupt";
	case VG_ENOSPC: return "no space";
	case VG_ENOENT: return "not found";
	case VG_EINVAL: return "invalid";
	case VG_EEXIST: return "exists";
	case VG_EFAULTED: return "faulted";
	case VG_EVERSION: return "unsupported version";
	case VG_EPERM: return "permission denied";
	case VG_EKEY: return "wrong key";
	case VG_EBUSY: return "busy";
	case VG_EREADONLY: return "read-only after error";
	case VG_EUNSAFE: return "unsafe";
	case VG_ECRASH: return "simulated crash";
	case VG_ETIMEDOUT: return "timed out";
	case VG_EEXTERNAL: return "external tool failed";
	case VG_ECANCELED: return "canceled";
	}
	return "unknown error";
}

int vg_err_setv(int code, const char *file, int line, const char *fmt, va_list ap)
{
	vsnprintf(msg_buf, sizeof msg_buf, fmt, ap);
	snprintf(where_buf, sizeof where_buf, "%s:%d", file, line);
	return code;
}

int vg_err_set(int code, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vg_err_setv(code, file, line, fmt, ap);
	va_end(ap);
	return code;
}

int vg_err_from_errno(int e)
{
	switch (e) {
	case 0: return VG_OK;
	case ENOMEM: return VG_ENOMEM;
	case ENOSPC: case EDQUOT: return VG_ENOSPC;
	case ENOENT: case ENOTDIR: return VG_ENOENT;
	case EEXIST: case ENOTEMPTY: return VG_EEXIST;
	case EACCES: case EPERM: case EROFS: return VG_EPERM;
	case EINVAL: case ENAMETOOLONG: case ELOOP: case EISDIR: return VG_EINVAL;
	case EBUSY: case EAGAIN: return VG_EBUSY;
	case ETIMEDOUT: return VG_ETIMEDOUT;
	}
	return VG_EIO;
}

int vg_err_errno(int errnum, const char *file, int line, const char *fmt, ...)
{
	char what[MSG_MAX / 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return vg_err_set(vg_err_from_errno(errnum), file, line, "%s: %s", what,
			  strerror(errnum));
}

int vg_err_prefix(int code, const char *fmt, ...)
{
	char pre[MSG_MAX / 2], old[MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, msg_buf, sizeof old);
	/* A message longer than the buffer keeps its head: the context and the
	 * object named first matter most. */
	const char *tail = old[0] ? old : vg_strerror(code);
	size_t n = 0, a = strlen(pre), b = strlen(tail);
	if (a > sizeof msg_buf - 1)
		a = sizeof msg_buf - 1;
	memcpy(msg_buf, pre, a);
	n = a;
	if (n + 2 < sizeof msg_buf) {
		memcpy(msg_buf + n, ": ", 2);
		n += 2;
	}
	if (b > sizeof msg_buf - 1 - n)
		b = sizeof msg_buf - 1 - n;
	memcpy(msg_buf + n, tail, b);
	msg_buf[n + b] = 0;
	return code;
}

const char *vg_errmsg(void) { return msg_buf; }
const char *vg_errwhere(void) { return where_buf; }

void vg_err_clear(void)
{
	msg_buf[0] = 0;
	where_buf[0] = 0;
}
