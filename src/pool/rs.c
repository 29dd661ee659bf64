/*
 * rs.c - Reed-Solomon encode and reconstruct with ISA-L (see rs.h for the
 * theory).  Tables are built per call: they cost k*m*32 bytes and a few
 * hundred nanoseconds, far below the column I/O they accompany.
 */
#include "pool/rs.h"

#include <isa-l/erasure_code.h>
#include <string.h>

#include "base/err.h"

static void matrix(int k, int m, unsigned char *a) { gf_gen_cauchy1_matrix(a, k + m, k); }

void vg_rs_encode(int k, int m, size_t len, unsigned char **cols)
{
	unsigned char a[VG_RS_MAX_COLS * VG_RS_MAX_COLS];
	unsigned char tbl[VG_RS_MAX_COLS * VG_RS_MAX_COLS * 32];
	if (m == 0)
		return;
	matrix(k, m, a);
	ec_init_tables(k, m, &a[k * k], tbl);
	ec_encode_data((int)len, k, m, tbl, cols, cols + k);
}

int vg_rs_reconstruct(int k, int m, size_t len, unsigned char **cols, const bool *erased)
{
	unsigned char a[VG_RS_MAX_COLS * VG_RS_MAX_COLS];
	unsigned char b[VG_RS_MAX_COLS * VG_RS_MAX_COLS], inv[VG_RS_MAX_COLS * VG_RS_MAX_COLS];
	unsigned char rows[VG_RS_MAX_COLS * VG_RS_MAX_COLS];
	unsigned char tbl[VG_RS_MAX_COLS * VG_RS_MAX_COLS * 32];
	unsigned char *src[VG_RS_MAX_COLS], *dst[VG_RS_MAX_COLS];
	int nerased = 0, ndata_erased = 0, nparity_erased = 0;

	for (int c = 0; c < k + m; c++)
		if (erased[c])
			nerased++;
	if (nerased > m)
		return VG_ERR(VG_EINVAL, "%d columns erased, parity covers %d", nerased, m);
	if (nerased == 0)
		return 0;
	matrix(k, m, a);

	/* Data: pick the first k surviving columns and invert their rows. */
	int s = 0;
	for (int c = 0; c < k + m && s < k; c++) {
		if (erased[c])
			continue;
		memcpy(&b[s * k], &a[c * k], (size_t)k);
		src[s++] = cols[c];
	}
	for (int c = 0; c < k; c++)
		if (erased[c])
			ndata_erased++;
	if (ndata_erased) {
		if (gf_invert_matrix(b, inv, k) < 0)
			return VG_ERR(VG_EINVAL, "singular reconstruction matrix");
		int r = 0;
		for (int c = 0; c < k; c++) {
			if (!erased[c])
				continue;
			memcpy(&rows[r * k], &inv[c * k], (size_t)k);
			dst[r++] = cols[c];
		}
		ec_init_tables(k, r, rows, tbl);
		ec_encode_data((int)len, k, r, tbl, src, dst);
	}
	/* Parity: re-encode from the (now complete) data. */
	for (int c = k; c < k + m; c++)
		if (erased[c])
			nparity_erased++;
	if (nparity_erased) {
		int r = 0;
		for (int c = k; c < k + m; c++) {
			if (!erased[c])
				continue;
			memcpy(&rows[r * k], &a[c * k], (size_t)k);
			dst[r++] = cols[c];
		}
		ec_init_tables(k, r, rows, tbl);
		ec_encode_data((int)len, k, r, tbl, cols, dst);
	}
	return 0;
}
