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

/* Rows sharing their columns with row j (lin->same_next), at most `most`. */
static int
rows_sharing(const hnnrt_poly_linear *lin, size_t j, int most)
{
    int r = 1;
    while (r < most && lin->same_next && j + (size_t)r < lin->n_out && lin->same_next[j + (size_t)r - 1])
        r++;
    return r;
}

/*
 * Rows j .. j + R - 1 (sharing their columns) over V vectors of 8
 * coefficients from off: each input vector is loaded once for the R rows,
 * which cuts the loads from L2 per multiply-add by R. R and V are
 * constants at every call, so the loops unroll and the 2 R V accumulators
 * stay in registers.
 */
IFMA_INLINE void
small_rows(const small_consts *k, const hnnrt_poly_linear *lin, const uint64_t *w, const uint64_t *const *x,
           uint64_t *const *out, size_t j, const int R, const int V, size_t off)
{
    const __m512i zero = _mm512_setzero_si512();
    __m512i lo[4][8], hi[4][8];
    const uint64_t *wr[4];
    const size_t first = lin->row_start[j], end = lin->row_start[j + 1];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        wr[r] = w + (lin->row_start[j + (size_t)r] - first);
#pragma GCC unroll 8
        for (int v = 0; v < V; v++)
            lo[r][v] = hi[r][v] = zero;
    }
    size_t t = first, room = SMALL_CHUNK;
    for (;;) {
        const size_t stop = end - t < room ? end : t + room;
        for (; t < stop; t++) {
            const uint64_t *xi = x[lin->col[t]] + off;
            __m512i xv[8];
#pragma GCC unroll 8
            for (int v = 0; v < V; v++)
                xv[v] = _mm512_loadu_si512(xi + 8 * v);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                const __m512i wv = _mm512_set1_epi64((long long)wr[r][t]);
#pragma GCC unroll 8
                for (int v = 0; v < V; v++) {
                    lo[r][v] = _mm512_madd52lo_epu64(lo[r][v], wv, xv[v]);
                    hi[r][v] = _mm512_madd52hi_epu64(hi[r][v], wv, xv[v]);
                }
            }
        }
        if (t == end)
            break;
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
#pragma GCC unroll 8
            for (int v = 0; v < V; v++) {
                lo[r][v] = small_reduce(lo[r][v], hi[r][v], k);
                hi[r][v] = zero;
            }
        room = SMALL_CHUNK - 1;
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int v = 0; v < V; v++)
            _mm512_storeu_si512(out[j + (size_t)r] + off + 8 * v, small_reduce(lo[r][v], hi[r][v], k));
}

IFMA_TARGET void
hnnrt_linear_block_ifma(const hnnrt_modulus *m, const hnnrt_poly_linear *lin, const uint64_t *w, unsigned part,
                        size_t off, size_t len)
{
    const small_consts k = small_consts_make(m);
    const uint64_t *const *x = lin->x + (size_t)part * lin->n_in;
    uint64_t *const *out = lin->out + (size_t)part * lin->n_out;
    for (size_t j = 0; j < lin->n_out;) {
        const int rows = rows_sharing(lin, j, 4);
        for (size_t c = 0; c < len; c += 64) {
            switch (rows) {
            case 1:
                small_rows(&k, lin, w, x, out, j, 1, 8, off + c);
                break;
            case 2:
                small_rows(&k, lin, w, x, out, j, 2, 4, off + c);
                small_rows(&k, lin, w, x, out, j, 2, 4, off + c + 32);
                break;
            default:
                for (size_t h = 0; h < 64; h += 16) {
                    if (rows == 3)
                        small_rows(&k, lin, w, x, out, j, 3, 2, off + c + h);
                    else
                        small_rows(&k, lin, w, x, out, j, 4, 2, off + c + h);
                }
                break;
            }
        }
        j += (size_t)rows;
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

/* The wide kernel's rows j .. j + R - 1 over V vectors from off, as
 * small_rows; each row negates the shared input vector by its own signs. */
IFMA_INLINE void
wide_rows(const hnnrt_modulus *m, uint64_t r2, const hnnrt_poly_linear *lin, const uint64_t *const *x,
          uint64_t *const *out, size_t j, const int R, const int V, size_t off)
{
    const __m512i zero = _mm512_setzero_si512(), qv = _mm512_set1_epi64((long long)m->value);
    const __m512i mag_mask = _mm512_set1_epi64((long long)(((uint64_t)1 << 52) - 1));
    __m512i a0[2][4], a1[2][4], a2[2][4];
    const uint64_t *mr[2];
    const size_t first = lin->row_start[j], end = lin->row_start[j + 1];
    uint64_t r[8];
#pragma GCC unroll 2
    for (int q = 0; q < R; q++) {
        mr[q] = lin->mag + lin->row_start[j + (size_t)q] - first;
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
            a0[q][v] = a1[q][v] = a2[q][v] = zero;
    }
    size_t t = first, room = WIDE_CHUNK;
    for (;;) {
        const size_t stop = end - t < room ? end : t + room;
        for (; t < stop; t++) {
            const uint64_t *xi = x[lin->col[t]] + off;
            __m512i xv[4];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++)
                xv[v] = _mm512_loadu_si512(xi + 8 * v);
#pragma GCC unroll 2
            for (int q = 0; q < R; q++) {
                const uint64_t mg = mr[q][t];
                const __m512i wv = _mm512_and_si512(_mm512_set1_epi64((long long)mg), mag_mask);
                const __mmask8 neg = (__mmask8)(0 - (unsigned)(mg >> 63));
#pragma GCC unroll 4
                for (int v = 0; v < V; v++) {
                    __m512i xs = _mm512_mask_sub_epi64(xv[v], neg, qv, xv[v]);
                    __m512i x1 = _mm512_srli_epi64(xs, 52);
                    a0[q][v] = _mm512_madd52lo_epu64(a0[q][v], wv, xs);
                    a1[q][v] = _mm512_madd52hi_epu64(a1[q][v], wv, xs);
                    a1[q][v] = _mm512_madd52lo_epu64(a1[q][v], wv, x1);
                    a2[q][v] = _mm512_madd52hi_epu64(a2[q][v], wv, x1);
                }
            }
        }
        if (t == end)
            break;
#pragma GCC unroll 2
        for (int q = 0; q < R; q++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) {
                wide_flush(a0[q][v], a1[q][v], a2[q][v], r2, m, r);
                a0[q][v] = _mm512_loadu_si512(r);
                a1[q][v] = a2[q][v] = zero;
            }
        room = WIDE_CHUNK - 1;
    }
#pragma GCC unroll 2
    for (int q = 0; q < R; q++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
            wide_flush(a0[q][v], a1[q][v], a2[q][v], r2, m, out[j + (size_t)q] + off + 8 * v);
}

IFMA_TARGET void
hnnrt_linear_block_ifma_wide(const hnnrt_modulus *m, const hnnrt_poly_linear *lin, const uint64_t *w,
                             unsigned part, size_t off, size_t len)
{
    (void)w; /* the magnitudes serve every limb */
    const uint64_t r2 = hnnrt_mod_reduce128((hnnrt_u128)1 << 104, m);
    const uint64_t *const *x = lin->x + (size_t)part * lin->n_in;
    uint64_t *const *out = lin->out + (size_t)part * lin->n_out;
    for (size_t j = 0; j < lin->n_out;) {
        const int rows = rows_sharing(lin, j, 2);
        for (size_t c = 0; c < len; c += 32) {
            if (rows == 2) {
                wide_rows(m, r2, lin, x, out, j, 2, 2, off + c);
                wide_rows(m, r2, lin, x, out, j, 2, 2, off + c + 16);
            } else {
                wide_rows(m, r2, lin, x, out, j, 1, 4, off + c);
            }
        }
        j += (size_t)rows;
    }
}

#else
typedef int hnnrt_linear_ifma_absent; /* ISO C wants a declaration in every file */
#endif
