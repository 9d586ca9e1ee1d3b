/*
 * The kernels behind hnnrt_poly_linear_apply (poly.h). Each computes every
 * row of the combination over one block of coefficients of one limb and
 * one part: coefficients [off, off + len) of each limb pointer, off
 * including the limb's offset k n; w holds the constants of that limb.
 * len is a multiple of 64.
 */
#ifndef HNNRT_POLY_LINEAR_H
#define HNNRT_POLY_LINEAR_H

#include "poly/poly.h"

/* Coefficients per task: the block of 845 inputs (fc1 of CryptoNets) is
 * 845 * 64 * 8 bytes = 423 KiB, which an L2 of 1 MiB holds with the
 * constants streaming past. */
#define HNNRT_LINEAR_BLOCK 64
/* The IFMA kernels step 64 coefficients at a time: a smaller block would
 * write past its task's coefficients. */
_Static_assert(HNNRT_LINEAR_BLOCK % 64 == 0, "the IFMA kernels cover 64 coefficients per step");

typedef void hnnrt_linear_block_fn(const hnnrt_modulus *m, const hnnrt_poly_linear *lin, const uint64_t *w,
                                   unsigned part, size_t off, size_t len);

/* Any prime: 128-bit sums. */
hnnrt_linear_block_fn hnnrt_linear_block_scalar;

#if HNNRT_NTT_HAVE_IFMA
/* q < 2^50: the constants' residues in 52-bit halves. */
hnnrt_linear_block_fn hnnrt_linear_block_ifma;
/* Any q < 2^61 when lin->mag is set: the constants' magnitudes, the inputs
 * split at bit 52. */
hnnrt_linear_block_fn hnnrt_linear_block_ifma_wide;
#endif

#endif
