/*
 * Compressed-sparse-row matrices (hnn_sparse, declared in tir.h): the weights
 * of the tensor IR's AFFINE nodes. Every matrix these functions return lives
 * in the arena given to them and is in canonical form: columns strictly
 * increasing within each row, no stored zeros. Scratch memory that does not
 * outlive a call is malloc'd and freed inside it.
 */
#ifndef HNN_MIDDLE_SPARSE_H
#define HNN_MIDDLE_SPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "front/arena.h"
#include "middle/tir.h"

/* A rows x cols matrix with room for `cap` entries and nnz = 0; row_start is
 * all zeros. Fill rows in order and set row_start[r + 1] and nnz as you go. */
hnn_sparse hnn_sparse_alloc(hnn_arena *arena, uint32_t rows, uint32_t cols, size_t cap);

/* The matrix of n triplets (row[k], col[k], val[k]) in any order: duplicates
 * are summed, entries that are (or sum to) zero are dropped. Every row[k] MUST
 * be < rows and col[k] < cols. */
hnn_sparse hnn_sparse_from_triplets(hnn_arena *arena, uint32_t rows, uint32_t cols, size_t n,
                                    const uint32_t *row, const uint32_t *col, const double *val);

hnn_sparse hnn_sparse_identity(hnn_arena *arena, uint32_t n);
/* diag(d[0..n-1]); zeros in d are not stored. */
hnn_sparse hnn_sparse_diagonal(hnn_arena *arena, uint32_t n, const double *d);

/* Square, and no entry off the diagonal (zeros on it are allowed). */
bool hnn_sparse_is_diagonal(const hnn_sparse *m);
/* Square with exactly the entries 1 on the diagonal. */
bool hnn_sparse_is_identity(const hnn_sparse *m);
/* Entry (r, c), 0 when not stored; binary search in the row. */
double hnn_sparse_get(const hnn_sparse *m, uint32_t r, uint32_t c);

/* nnz of a * b counted structurally (sums that cancel to zero still count),
 * without computing it: what a merge would cost. Counting stops as soon as
 * it exceeds `limit` (pass SIZE_MAX for the exact count), so asking "is it
 * at most L?" of a dense product costs about L operations, not the product.
 * a.cols MUST equal b.rows. */
size_t hnn_sparse_product_nnz(const hnn_sparse *a, const hnn_sparse *b, size_t limit);
/* a * b (a is m x k, b is k x n), by rows (Gustavson). Products whose sum is
 * exactly zero are dropped, so the result's nnz <= hnn_sparse_product_nnz. */
hnn_sparse hnn_sparse_product(hnn_arena *arena, const hnn_sparse *a, const hnn_sparse *b);

/* y = m x + bias (bias may be NULL). x has m.cols values, y m.rows; y MUST NOT
 * alias x. */
void hnn_sparse_apply(const hnn_sparse *m, const double *bias, const double *x, double *y);

/* The structural invariants of tir.h for a matrix (row_start, sorted columns
 * in range, finite values); on failure writes the first problem to why. */
bool hnn_sparse_check(const hnn_sparse *m, char *why, size_t why_len);

#endif
