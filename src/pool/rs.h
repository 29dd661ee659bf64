/*
 * rs.h - Reed-Solomon parity over equal-length columns (ISA-L).
 *
 * A stripe has k data columns and m parity columns (k + m <= 15 here,
 * since a vault has at most 12 devices), numbered 0..k-1 (data) and
 * k..k+m-1 (parity).  Parity row i is row k+i of ISA-L's Cauchy matrix
 * (gf_gen_cauchy1_matrix): its top k x k part is the identity, and every
 * k x k submatrix of the whole (k+m) x k matrix is invertible, so any k
 * surviving columns determine the data.
 *
 * Theory of reconstruction: write the stripe as C = A * D, where D are the
 * k data columns and A the (k+m) x k encoding matrix.  Pick k columns that
 * are known good, S; then D = inv(A_S) * C_S.  An erased data column e is
 * row e of inv(A_S) applied to C_S; an erased parity column is recomputed
 * by encoding the recovered data.  vg_rs_reconstruct() does exactly that for
 * any set of up to m erased columns.
 */
#ifndef VG_POOL_RS_H
#define VG_POOL_RS_H

#include <stdbool.h>
#include <stddef.h>

#define VG_RS_MAX_COLS 16

/* cols[0..k+m-1] each len bytes; computes cols[k..k+m-1] from cols[0..k-1]. */
void vg_rs_encode(int k, int m, size_t len, unsigned char **cols);

/* Rebuild every column with erased[c] set, from the others (at most m
 * erased).  Returns 0, or VG_EINVAL if too many are erased. */
int vg_rs_reconstruct(int k, int m, size_t len, unsigned char **cols, const bool *erased);

#endif
