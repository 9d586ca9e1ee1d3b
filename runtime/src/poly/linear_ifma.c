/*
 * Linear combinations on AVX-512 IFMA lanes. A product C x of a constant and
 * an input coefficient is accumulated as its low and high 52-bit halves
 * (vpmadd52luq / vpmadd52huq add them to 64-bit lanes), so a row costs two
 * multiply-adds per term and eight coefficients, and one reduction per
 * output coefficient at the end.
 *
 * Primes q < 2^50 (hnnrt_linear_block_ifma): C = the residue of the
 * constant, x < q, so C x < 2^100. With lo the sum of the low halves and hi
 * that of the high halves, the combination is lo + 2^52 hi; each low half
 * is below 2^52 and each high half below 2^48, so 4096 terms keep lo below
 * 2^64 and hi below 2^60. Reduction: move lo's carry into hi (lo < 2^52,
 * hi < 2^61), split hi = h0 + 2^52 h1 (h1 < 2^9), then
 *   lo + 2^52 hi = lo + h0 R1 + h1 R2 (mod q), R1 = 2^52 mod q, R2 = R1^2,
 * three lazy Shoup products (each in [0, 2q), see ntt/ntt_ifma.h) whose sum,
 * below 6q < 2^53, three conditional subtractions (4q, 2q, q) bring to
 * [0, q).
 *
 * Any q < 2^61 when every |C| < 2^52 (hnnrt_linear_block_ifma_wide, used for
 * q0 and the special primes' sizes): C x = |C| x' with x' = x, or q - x when
 * C < 0 (a masked subtraction; x' <= q). Split x' = x0 + 2^52 x1, x1 < 2^9:
 *   |C| x' = lo(|C| x0) + 2^52 (hi(|C| x0) + lo(|C| x1)) + 2^104 hi(|C| x1)
 * into three sums a0, a1, a2. Per term a0 grows by < 2^52, a1 by < 2^53, a2
 * by < 2^9, so 1024 terms keep every lane below 2^63. The three sums are
 * reduced per coefficient with 128-bit arithmetic.
 *
 * A row longer than a chunk (4096 or 1024 terms) is reduced after each
 * chunk and goes on from the reduced value (below q, a term's worth).
 */
#include "ntt/ntt_ifma.h"
#include "poly/linear.h"

#if HNNRT_NTT_HAVE_IFMA

#define SMALL_CHUNK 4096 /* terms per reduction, q < 2^50 */
#define WIDE_CHUNK 1024  /* terms per reduction, the wide kernel */
#define SMALL_VECS 8     /* eight lanes each: 64 coefficients, 16 accumulators */
#define WIDE_VECS 4      /* 32 coefficients, 12 accumulators */

typedef struct small_consts {
    ifma_consts c;
    __m512i four_q;
    __m512i one, one_q;   /* Shoup pair of 1: reduces a value below 2^52 */
    __m512i r1, r1_q;     /* 2^52 mod q */
    __m512i r2, r2_q;     /* 2^104 mod q */
} small_consts;

/* The 52-bit Shoup quotient of w < q: floor(w 2^52 / q). */
static uint64_t
quot52(uint64_t w, uint64_t q)
{
    return (uint64_t)(((hnnrt_u128)w << 52) / q);
}

IFMA_INLINE small_consts
small_consts_make(const hnnrt_modulus *m)
{
    const uint64_t q = m->value, r1 = hnnrt_mod_reduce64((uint64_t)1 << 52, m), r2 = hnnrt_mod_mul(r1, r1, m);
    small_consts k;
    k.c = ifma_consts_make(q);
    k.four_q = _mm512_set1_epi64((long long)(4 * q));
    k.one = _mm512_set1_epi64(1);
    k.one_q = _mm512_set1_epi64((long long)quot52(1, q));
    k.r1 = _mm512_set1_epi64((long long)r1);
    k.r1_q = _mm512_set1_epi64((long long)quot52(r1, q));
    k.r2 = _mm512_set1_epi64((long long)r2);
    k.r2_q = _mm512_set1_epi64((long long)quot52(r2, q));
    return k;
}

/* lo + 2^52 hi mod q, for lo < 2^64, hi < 2^60 (see the top of the file). */
IFMA_INLINE __m512i
small_reduce(__m512i lo, __m512i hi, const small_consts *k)
{
    hi = _mm512_add_epi64(hi, _mm512_srli_epi64(lo, 52));
    lo = _mm512_and_si512(lo, k->c.mask52);
    __m512i h1 = _mm512_srli_epi64(hi, 52), h0 = _mm512_and_si512(hi, k->c.mask52);
    __m512i s = ifma_mul_lazy(lo, k->one, k->one_q, &k->c);
    s = _mm512_add_epi64(s, ifma_mul_lazy(h0, k->r1, k->r1_q, &k->c));
    s = _mm512_add_epi64(s, ifma_mul_lazy(h1, k->r2, k->r2_q, &k->c));
    s = ifma_sub_if_ge(s, k->four_q);
    s = ifma_sub_if_ge(s, k->c.two_q);
    return ifma_sub_if_ge(s, k->c.q);
}

IFMA_TARGET void
hnnrt_linear_block_ifma(const hnnrt_modulus *m, const hnnrt_poly_linear *lin, const uint64_t *w, unsigned part,
                        size_t off, size_t len)
{
    const small_consts k = small_consts_make(m);
    const __m512i zero = _mm512_setzero_si512();
    const uint64_t *const *x = lin->x + (size_t)part * lin->n_in;
    uint64_t *const *out = lin->out + (size_t)part * lin->n_out;
    /* Every loop over the vectors is unrolled, so the accumulators stay in
     * registers. */
    for (size_t c0 = 0; c0 < len; c0 += 8 * SMALL_VECS) {
        for (size_t j = 0; j < lin->n_out; j++) {
            __m512i lo[SMALL_VECS], hi[SMALL_VECS];
#pragma GCC unroll 8
            for (int v = 0; v < SMALL_VECS; v++)
                lo[v] = hi[v] = zero;
            const size_t end = lin->row_start[j + 1];
            size_t t = lin->row_start[j], room = SMALL_CHUNK;
            for (;;) {
                const size_t stop = end - t < room ? end : t + room;
                for (; t < stop; t++) {
                    const __m512i wv = _mm512_set1_epi64((long long)w[t]);
                    const uint64_t *xi = x[lin->col[t]] + off + c0;
#pragma GCC unroll 8
                    for (int v = 0; v < SMALL_VECS; v++) {
                        __m512i xv = _mm512_loadu_si512(xi + 8 * v);
                        lo[v] = _mm512_madd52lo_epu64(lo[v], wv, xv);
                        hi[v] = _mm512_madd52hi_epu64(hi[v], wv, xv);
                    }
                }
                if (t == end)
                    break;
#pragma GCC unroll 8
                for (int v = 0; v < SMALL_VECS; v++) {
                    lo[v] = small_reduce(lo[v], hi[v], &k);
                    hi[v] = zero;
                }
                room = SMALL_CHUNK - 1;
            }
            uint64_t *o = out[j] + off + c0;
#pragma GCC unroll 8
            for (int v = 0; v < SMALL_VECS; v++)
                _mm512_storeu_si512(o + 8 * v, small_reduce(lo[v], hi[v], &k));
        }
    }
}

/* a0 + 2^52 a1 + 2^104 a2 mod q for the lanes of one vector triple. */
static void
wide_reduce(const uint64_t *a0, const uint64_t *a1, const uint64_t *a2, uint64_t r2, const hnnrt_modulus *m,
            uint64_t *out)
{
    for (int l = 0; l < 8; l++)
        out[l] = hnnrt_mod_reduce128(((hnnrt_u128)a1[l] << 52) + a0[l] + (hnnrt_u128)a2[l] * r2, m);
}

/* Stores the sums of vector v, reduces them lane by lane into r. */
IFMA_INLINE void
wide_flush(__m512i a0, __m512i a1, __m512i a2, uint64_t r2, const hnnrt_modulus *m, uint64_t *r)
{
    uint64_t s0[8], s1[8], s2[8];
    _mm512_storeu_si512(s0, a0);
    _mm512_storeu_si512(s1, a1);
    _mm512_storeu_si512(s2, a2);
    wide_reduce(s0, s1, s2, r2, m, r);
}

IFMA_TARGET void
hnnrt_linear_block_ifma_wide(const hnnrt_modulus *m, const hnnrt_poly_linear *lin, const uint64_t *w,
                             unsigned part, size_t off, size_t len)
{
    (void)w; /* the magnitudes serve every limb */
    const uint64_t r2 = hnnrt_mod_reduce128((hnnrt_u128)1 << 104, m);
    const __m512i zero = _mm512_setzero_si512(), qv = _mm512_set1_epi64((long long)m->value);
    const __m512i mag_mask = _mm512_set1_epi64((long long)(((uint64_t)1 << 52) - 1));
    const uint64_t *const *x = lin->x + (size_t)part * lin->n_in;
    uint64_t *const *out = lin->out + (size_t)part * lin->n_out;
    uint64_t r[8];
    for (size_t c0 = 0; c0 < len; c0 += 8 * WIDE_VECS) {
        for (size_t j = 0; j < lin->n_out; j++) {
            __m512i a0[WIDE_VECS], a1[WIDE_VECS], a2[WIDE_VECS];
#pragma GCC unroll 4
            for (int v = 0; v < WIDE_VECS; v++)
                a0[v] = a1[v] = a2[v] = zero;
            const size_t end = lin->row_start[j + 1];
            size_t t = lin->row_start[j], room = WIDE_CHUNK;
            for (;;) {
                const size_t stop = end - t < room ? end : t + room;
                for (; t < stop; t++) {
                    const uint64_t mg = lin->mag[t];
                    const __m512i wv = _mm512_and_si512(_mm512_set1_epi64((long long)mg), mag_mask);
                    const __mmask8 neg = (__mmask8)(0 - (unsigned)(mg >> 63));
                    const uint64_t *xi = x[lin->col[t]] + off + c0;
#pragma GCC unroll 4
                    for (int v = 0; v < WIDE_VECS; v++) {
                        __m512i xv = _mm512_loadu_si512(xi + 8 * v);
                        xv = _mm512_mask_sub_epi64(xv, neg, qv, xv);
                        __m512i x1 = _mm512_srli_epi64(xv, 52);
                        a0[v] = _mm512_madd52lo_epu64(a0[v], wv, xv);
                        a1[v] = _mm512_madd52hi_epu64(a1[v], wv, xv);
                        a1[v] = _mm512_madd52lo_epu64(a1[v], wv, x1);
                        a2[v] = _mm512_madd52hi_epu64(a2[v], wv, x1);
                    }
                }
                if (t == end)
                    break;
#pragma GCC unroll 4
                for (int v = 0; v < WIDE_VECS; v++) {
                    wide_flush(a0[v], a1[v], a2[v], r2, m, r);
                    a0[v] = _mm512_loadu_si512(r);
                    a1[v] = a2[v] = zero;
                }
                room = WIDE_CHUNK - 1;
            }
            uint64_t *o = out[j] + off + c0;
#pragma GCC unroll 4
            for (int v = 0; v < WIDE_VECS; v++)
                wide_flush(a0[v], a1[v], a2[v], r2, m, o + 8 * v);
        }
    }
}

#else
typedef int hnnrt_linear_ifma_absent; /* ISO C wants a declaration in every file */
#endif
