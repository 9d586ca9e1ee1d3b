/*
 * AVX-512 IFMA building blocks shared by the vector kernels (the NTT here,
 * the linear combinations of runtime/src/poly): eight 64-bit lanes,
 * multiplying with the 52-bit instructions vpmadd52luq / vpmadd52huq.
 * Everything here carries the AVX-512 target and is inlined into callers
 * that carry it too; callers run it only where hnnrt_ntt_kernels_available
 * lists the IFMA kernels.
 *
 * The 52-bit Shoup product. Let q < 2^50 (so 4q < 2^52), w < q a constant
 * (a twiddle) and w' = floor(w * 2^52 / q) < 2^52. Then w' = quot >> 12 for
 * the 64-bit Shoup quotient quot = floor(w * 2^64 / q), since
 * floor(floor(w * 2^64 / q) / 2^12) = floor(w * 2^52 / q). For y < 2^52:
 *   h = floor(w' * y / 2^52)                     (vpmadd52huq: exact, as
 *                                                 w', y < 2^52; h < 2^52)
 *   r = (w * y - h * q) mod 2^52                  (vpmadd52luq twice: the low
 *        52 bits of w * y, plus the low 52 bits of h * (2^52 - q), masked)
 * Bound: write w' = w * 2^52 / q - e and h = w' * y / 2^52 - d, e, d in
 * [0, 1). Then w * y - h * q = q * (e * y / 2^52 + d), which lies in
 * [0, q * (y / 2^52 + 1)) within [0, 2q) because y < 2^52. As 2q < 2^52, the
 * value mod 2^52 is the value itself: r = w * y - h * q in [0, 2q), and
 * r = w * y (mod q).
 *
 * Conditional subtraction: for x in [0, 2m) with 2m < 2^63, min(x, x - m)
 * (unsigned, x - m wrapping when x < m) is x mod m, in [0, m).
 */
#ifndef HNNRT_NTT_IFMA_H
#define HNNRT_NTT_IFMA_H

#include "ntt/ntt.h"

#if HNNRT_NTT_HAVE_IFMA

#include <immintrin.h>

#define IFMA_TARGET __attribute__((target("avx512f,avx512ifma,avx512vl")))
/* Helpers are forced inline: a call would pass the vectors through memory. */
#define IFMA_INLINE IFMA_TARGET static inline __attribute__((always_inline))

typedef struct ifma_consts {
    __m512i q, two_q, neg_q, mask52;
} ifma_consts;

IFMA_INLINE ifma_consts
ifma_consts_make(uint64_t q)
{
    ifma_consts c;
    c.q = _mm512_set1_epi64((long long)q);
    c.two_q = _mm512_set1_epi64((long long)(2 * q));
    c.neg_q = _mm512_set1_epi64((long long)(0 - q)); /* low 52 bits: 2^52 - q */
    c.mask52 = _mm512_set1_epi64((long long)(((uint64_t)1 << 52) - 1));
    return c;
}

/* y < 2^52, w < q, wq = floor(w * 2^52 / q) -> w * y mod q in [0, 2q). */
IFMA_INLINE __m512i
ifma_mul_lazy(__m512i y, __m512i w, __m512i wq, const ifma_consts *c)
{
    const __m512i zero = _mm512_setzero_si512();
    __m512i h = _mm512_madd52hi_epu64(zero, wq, y);
    __m512i r = _mm512_madd52lo_epu64(zero, w, y);
    r = _mm512_madd52lo_epu64(r, h, c->neg_q);
    return _mm512_and_si512(r, c->mask52);
}

/* x in [0, 2m) -> x mod m. */
IFMA_INLINE __m512i
ifma_sub_if_ge(__m512i x, __m512i m)
{
    return _mm512_min_epu64(x, _mm512_sub_epi64(x, m));
}

#endif
#endif
