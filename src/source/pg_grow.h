/*
 * pg_grow.h - the growable arrays of the PostgreSQL checks (findings,
 * archive listings, WAL ranges, history entries), each with a hard cap on
 * its length because their contents come from outside.
 */
#ifndef VG_SOURCE_PG_GROW_H
#define VG_SOURCE_PG_GROW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Make room for need elements of elem bytes in arr (*cap allocated),
 * doubling.  Returns the (possibly moved) array, or NULL when need > max or
 * on allocation failure (arr is then still valid and unchanged). */
static inline void *vg_pg_grow(void *arr, size_t *cap, size_t need, size_t elem, size_t max)
{
	if (need <= *cap && arr)
		return arr;
	if (need > max)
		return NULL;
	size_t n = *cap ? *cap : 8;
	while (n < need)
		n = n > max / 2 ? max : n * 2;
	if (n > SIZE_MAX / elem)
		return NULL;
	void *q = realloc(arr, n * elem);
	if (q)
		*cap = n;
	return q;
}

#endif
