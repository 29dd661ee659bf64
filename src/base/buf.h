/*
 * buf.h - a growable byte buffer with a hard maximum size.
 *
 * Every buffer that collects outside input (tool output, on-disk records,
 * network replies) has a cap, so hostile input cannot exhaust memory: an
 * append past the cap fails with VG_EINVAL, an allocation failure with
 * VG_ENOMEM.  Lifecycle: zero-initialise or vg_buf_init(), then
 * vg_buf_release() (idempotent).
 */
#ifndef VG_BASE_BUF_H
#define VG_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct vg_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max; /* 0 means the default cap, VG_BUF_DEFAULT_MAX */
};

#define VG_BUF_DEFAULT_MAX ((size_t)1 << 30)

/* Room for `want` elements of `elem` bytes in the array *arr (arr is the
 * address of the array pointer) of capacity *cap, doubling it (from 8);
 * on failure *arr is untouched and the error is VG_ENOMEM, "out of memory
 * <what>". */
int vg_grow(void *arr, size_t *cap, size_t want, size_t elem, const char *what);

void vg_buf_init(struct vg_buf *b, size_t max);
void vg_buf_release(struct vg_buf *b);
void vg_buf_reset(struct vg_buf *b); /* len = 0, keeps memory */
int vg_buf_reserve(struct vg_buf *b, size_t extra);
int vg_buf_add(struct vg_buf *b, const void *p, size_t n);
int vg_buf_add8(struct vg_buf *b, uint8_t v);
int vg_buf_add16(struct vg_buf *b, uint16_t v);
int vg_buf_add32(struct vg_buf *b, uint32_t v);
int vg_buf_add64(struct vg_buf *b, uint64_t v);
int vg_buf_addvar(struct vg_buf *b, uint64_t v);   /* LEB128 */
int vg_buf_addstr(struct vg_buf *b, const char *s); /* varint length + bytes */
int vg_buf_addf(struct vg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* NUL-terminate without counting the NUL in len. */
int vg_buf_cstr(struct vg_buf *b);

#endif
