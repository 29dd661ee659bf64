/*
 * buf.c - growable byte buffer with a cap (see buf.h).
 */
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

int vg_grow(void *arr, size_t *cap, size_t want, size_t elem, const char *what)
{
	if (want <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 8;
	while (nc < want) {
		if (nc > SIZE_MAX / 2 / elem)
			return VG_ERR(VG_ENOMEM, "out of memory %s", what);
		nc *= 2;
	}
	void *old, *p;
	memcpy(&old, arr, sizeof old); /* arr is a T **, whatever T is */
	if (!(p = realloc(old, nc * elem)))
		return VG_ERR(VG_ENOMEM, "out of memory %s", what);
	memcpy(arr, &p, sizeof p);
	*cap = nc;
	return 0;
}

void vg_buf_init(struct vg_buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void vg_buf_release(struct vg_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void vg_buf_reset(struct vg_buf *b) { b->len = 0; }

int vg_buf_reserve(struct vg_buf *b, size_t extra)
{
	size_t max = b->max ? b->max : VG_BUF_DEFAULT_MAX;
	if (extra > max || b->len > max - extra)
		return VG_ERR(VG_EINVAL, "buffer would exceed its limit of %zu bytes", max);
	size_t need = b->len + extra;
	if (need <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > max / 2 ? max : ncap * 2;
	uint8_t *np = realloc(b->p, ncap);
	if (!np)
		return VG_ERR(VG_ENOMEM, "out of memory growing a buffer to %zu bytes", ncap);
	b->p = np;
	b->cap = ncap;
	return 0;
}

int vg_buf_add(struct vg_buf *b, const void *p, size_t n)
{
	int err = vg_buf_reserve(b, n);
	if (err)
		return err;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

int vg_buf_add8(struct vg_buf *b, uint8_t v) { return vg_buf_add(b, &v, 1); }
int vg_buf_add16(struct vg_buf *b, uint16_t v)
{
	uint8_t t[2];
	vg_put16(t, v);
	return vg_buf_add(b, t, 2);
}
int vg_buf_add32(struct vg_buf *b, uint32_t v)
{
	uint8_t t[4];
	vg_put32(t, v);
	return vg_buf_add(b, t, 4);
}
int vg_buf_add64(struct vg_buf *b, uint64_t v)
{
	uint8_t t[8];
	vg_put64(t, v);
	return vg_buf_add(b, t, 8);
}

int vg_buf_addvar(struct vg_buf *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;
	do {
		uint8_t c = v & 0x7f;
		v >>= 7;
		t[n++] = c | (v ? 0x80 : 0);
	} while (v);
	return vg_buf_add(b, t, n);
}

int vg_buf_addstr(struct vg_buf *b, const char *s)
{
	size_t n = strlen(s);
	int err = vg_buf_addvar(b, n);
	return err ? err : vg_buf_add(b, s, n);
}

int vg_buf_addf(struct vg_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return VG_ERR(VG_EINVAL, "bad format string");
	int err = vg_buf_reserve(b, (size_t)n + 1);
	if (err)
		return err;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int vg_buf_cstr(struct vg_buf *b)
{
	int err = vg_buf_reserve(b, 1);
	if (err)
		return err;
	b->p[b->len] = 0;
	return 0;
}
