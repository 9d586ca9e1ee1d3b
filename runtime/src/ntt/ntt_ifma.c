/*
 * The AVX-512 IFMA kernels: Harvey's lazy butterflies on eight 64-bit lanes,
 * multiplying with the 52-bit instructions vpmadd52luq / vpmadd52huq, for
 * primes q < 2^50. Larger primes, and n < 32, go to the scalar kernels, so
 * the table serves every prime. Only these functions carry the AVX-512
 * target; hnnrt_ntt_kernels_best hands them out only when the CPU has
 * AVX512F, AVX512VL and AVX512IFMA.
 *
 * The 52-bit Shoup product and the conditional subtraction they rest on are
 * in ntt/ntt_ifma.h.
 *
 * Forward butterfly (Cooley–Tukey), X, Y in [0, 4q):
 *   X <- min(X, X - 2q)            in [0, 2q)
 *   T <- w * Y lazily              in [0, 2q)   (Y < 4q < 2^52)
 *   X' = X + T                     in [0, 4q)
 *   Y' = X + 2q - T                in (0, 4q)
 * so every stage keeps [0, 4q) and all lanes stay below 2^52, as the
 * multiplier needs. fwd reduces the last stage's outputs by 2q then q.
 *
 * Inverse butterfly (Gentleman–Sande), X, Y in [0, 2q):
 *   T = X + 2q - Y                 in (0, 4q)
 *   X' = min(X + Y, X + Y - 2q)    in [0, 2q)   (X + Y < 4q)
 *   Y' = w * T lazily              in [0, 2q)
 * The last stage multiplies X + Y (< 4q) by n^-1 and X + 2q - Y (< 4q) by
 * n^-1 * w lazily, to [0, 2q), and one subtraction of q brings both to
 * [0, q).
 *
 * fwd and inv return values in [0, q), the unique residues, so their output
 * is bit-identical to the scalar kernels' for every allowed input. fwd_lazy
 * returns a representative in [0, 4q) of the same residue, which need not be
 * the one the scalar kernel returns.
 *
 * Layout (forward; the inverse runs the same plan backwards). The log_n - 3
 * stages with half-width t >= 8 go in pairs (t, t/2), one pass over the data
 * per pair: four vectors x0..x3 at offsets 0, t/2, t, 3t/2 of a block, the
 * butterflies (x0, x2), (x1, x3) with one broadcast twiddle, then (x0, x1),
 * (x2, x3) with the two twiddles of the next stage. The last three stages
 * (t = 4, 2, 1) run on 16 coefficients in two registers: permutations put the
 * lanes to pair into X and Y (for t = 4: coefficients 0-3, 8-11 and 4-7,
 * 12-15), the lanes' twiddles come from the roots table by a broadcast or a
 * lane permutation, and the coefficients go back in order once, after the
 * third stage (with the final reduction, for fwd). When log_n - 3 is odd, the
 * t = 8 stage joins that register pass (32 coefficients at a time). The
 * inverse's last pair (m = 2, 1) folds in n^-1 and the final reduction.
 * All loads and stores are unaligned ones: callers' limbs need no alignment.
 */
#include "ntt/ntt_ifma.h"

#if HNNRT_NTT_HAVE_IFMA

/* The kernels apply to q < 2^50 and n >= 32 (the inverse ends with a pair of
 * stages over four registers' worth of coefficients). */
static int
ifma_applies(const hnnrt_ntt_table *t)
{
    return t->mod.value < ((uint64_t)1 << 50) && t->n >= 32;
}

/* X, Y in [0, 4q) -> X + wY, X - wY in [0, 4q). */
IFMA_INLINE void
ifma_fwd_butterfly(__m512i *x, __m512i *y, __m512i w, __m512i wq, const ifma_consts *c)
{
    __m512i u = ifma_sub_if_ge(*x, c->two_q);
    __m512i v = ifma_mul_lazy(*y, w, wq, c);
    *x = _mm512_add_epi64(u, v);
    *y = _mm512_sub_epi64(_mm512_add_epi64(u, c->two_q), v);
}

/* X, Y in [0, 2q) -> X + Y, w(X - Y) in [0, 2q). */
IFMA_INLINE void
ifma_inv_butterfly(__m512i *x, __m512i *y, __m512i w, __m512i wq, const ifma_consts *c)
{
    __m512i t = _mm512_sub_epi64(_mm512_add_epi64(*x, c->two_q), *y);
    *x = ifma_sub_if_ge(_mm512_add_epi64(*x, *y), c->two_q);
    *y = ifma_mul_lazy(t, w, wq, c);
}

/* The inverse's last stage, X, Y in [0, 2q) -> (X + Y) / n, w(X - Y) / n in [0, q). */
IFMA_INLINE void
ifma_inv_last_butterfly(__m512i *x, __m512i *y, __m512i ni, __m512i niq, __m512i li, __m512i liq,
                        const ifma_consts *c)
{
    __m512i s = _mm512_add_epi64(*x, *y);
    __m512i d = _mm512_sub_epi64(_mm512_add_epi64(*x, c->two_q), *y);
    *x = ifma_sub_if_ge(ifma_mul_lazy(s, ni, niq, c), c->q);
    *y = ifma_sub_if_ge(ifma_mul_lazy(d, li, liq, c), c->q);
}

/* Twiddle and its 52-bit quotient, the same in every lane. */
IFMA_INLINE void
ifma_twiddle_bcast(const uint64_t *op, const uint64_t *quot, size_t k, __m512i *w, __m512i *wq)
{
    *w = _mm512_set1_epi64((long long)op[k]);
    *wq = _mm512_set1_epi64((long long)(quot[k] >> 12));
}

/* Lanes 0-3 get twiddle k, lanes 4-7 twiddle k + 1 (the t = 4 stage). */
IFMA_INLINE void
ifma_twiddle_x4(const uint64_t *op, const uint64_t *quot, size_t k, __m512i *w, __m512i *wq)
{
    *w = _mm512_mask_set1_epi64(_mm512_set1_epi64((long long)op[k]), 0xF0, (long long)op[k + 1]);
    *wq = _mm512_mask_set1_epi64(_mm512_set1_epi64((long long)(quot[k] >> 12)), 0xF0,
                                 (long long)(quot[k + 1] >> 12));
}

/* Lanes 2i, 2i + 1 get twiddle k + i, i < 4 (the t = 2 stage). */
IFMA_INLINE void
ifma_twiddle_x2(const uint64_t *op, const uint64_t *quot, size_t k, __m512i *w, __m512i *wq)
{
    const __m512i dup = _mm512_setr_epi64(0, 0, 1, 1, 2, 2, 3, 3);
    __m512i o = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(op + k)));
    __m512i p = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(quot + k)));
    *w = _mm512_permutexvar_epi64(dup, o);
    *wq = _mm512_srli_epi64(_mm512_permutexvar_epi64(dup, p), 12);
}

/* Lane i gets twiddle k + i (the t = 1 stage). */
IFMA_INLINE void
ifma_twiddle_x1(const uint64_t *op, const uint64_t *quot, size_t k, __m512i *w, __m512i *wq)
{
    *w = _mm512_loadu_si512(op + k);
    *wq = _mm512_srli_epi64(_mm512_loadu_si512(quot + k), 12);
}

/* Forward stages t = 4, 2, 1 on coefficients e0..e15 of 16-block b, held
 * in v0 (e0..e7) and v1 (e8..e15); inputs and outputs in [0, 4q), or
 * [0, q) on output when reduce. */
IFMA_INLINE void
ifma_fwd_last3(__m512i *v0, __m512i *v1, const uint64_t *roots, const uint64_t *quot, size_t n, size_t b,
               int reduce, const ifma_consts *c)
{
    const __m512i lo4 = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
    const __m512i hi4 = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
    const __m512i lo2 = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
    const __m512i hi2 = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    const __m512i zip_lo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    const __m512i zip_hi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    __m512i w, wq;
    /* X = e0-3, e8-11; Y = e4-7, e12-15: blocks 2b, 2b + 1 of t = 4. */
    __m512i x = _mm512_permutex2var_epi64(*v0, lo4, *v1);
    __m512i y = _mm512_permutex2var_epi64(*v0, hi4, *v1);
    ifma_twiddle_x4(roots, quot, n / 8 + 2 * b, &w, &wq);
    ifma_fwd_butterfly(&x, &y, w, wq, c);
    /* X = e0,1,4,5,8,9,12,13; Y = e2,3,6,7,...: blocks 4b..4b + 3 of t = 2. */
    __m512i x2 = _mm512_permutex2var_epi64(x, lo2, y);
    __m512i y2 = _mm512_permutex2var_epi64(x, hi2, y);
    ifma_twiddle_x2(roots, quot, n / 4 + 4 * b, &w, &wq);
    ifma_fwd_butterfly(&x2, &y2, w, wq, c);
    /* X = even, Y = odd coefficients: blocks 8b..8b + 7 of t = 1. */
    x = _mm512_unpacklo_epi64(x2, y2);
    y = _mm512_unpackhi_epi64(x2, y2);
    ifma_twiddle_x1(roots, quot, n / 2 + 8 * b, &w, &wq);
    ifma_fwd_butterfly(&x, &y, w, wq, c);
    if (reduce) {
        x = ifma_sub_if_ge(ifma_sub_if_ge(x, c->two_q), c->q);
        y = ifma_sub_if_ge(ifma_sub_if_ge(y, c->two_q), c->q);
    }
    *v0 = _mm512_permutex2var_epi64(x, zip_lo, y);
    *v1 = _mm512_permutex2var_epi64(x, zip_hi, y);
}

/* Forward transform; a in [0, 4q) -> [0, 4q), or [0, q) when reduce.
 * The log_n - 3 stages with t >= 8 run in pairs (t, t/2), one pass over the
 * data each; when their count is odd, the t = 8 stage joins the register
 * pass (32 coefficients, two 16-blocks, at a time). */
IFMA_INLINE void
ifma_fwd(const hnnrt_ntt_table *tab, uint64_t *a, int reduce)
{
    const size_t n = tab->n;
    const ifma_consts c = ifma_consts_make(tab->mod.value);
    const uint64_t *roots = tab->roots, *quot = tab->roots_quot;
    const int t8_in_registers = (tab->log_n - 3) & 1;
    const size_t t_low = t8_in_registers ? 16 : 8; /* the last stage paired */

    size_t m = 1, t = n >> 1;
    for (; t >= 2 * t_low; m <<= 2, t >>= 2) {
        const size_t h = t >> 1;
        for (size_t i = 0; i < m; i++) {
            __m512i w, wq, wa, waq, wb, wbq;
            ifma_twiddle_bcast(roots, quot, m + i, &w, &wq);
            ifma_twiddle_bcast(roots, quot, 2 * m + 2 * i, &wa, &waq);
            ifma_twiddle_bcast(roots, quot, 2 * m + 2 * i + 1, &wb, &wbq);
            uint64_t *x0 = a + 2 * i * t, *x1 = x0 + h, *x2 = x0 + t, *x3 = x2 + h;
            for (size_t j = 0; j < h; j += 8) {
                __m512i v0 = _mm512_loadu_si512(x0 + j), v1 = _mm512_loadu_si512(x1 + j);
                __m512i v2 = _mm512_loadu_si512(x2 + j), v3 = _mm512_loadu_si512(x3 + j);
                ifma_fwd_butterfly(&v0, &v2, w, wq, &c);
                ifma_fwd_butterfly(&v1, &v3, w, wq, &c);
                ifma_fwd_butterfly(&v0, &v1, wa, waq, &c);
                ifma_fwd_butterfly(&v2, &v3, wb, wbq, &c);
                _mm512_storeu_si512(x0 + j, v0);
                _mm512_storeu_si512(x1 + j, v1);
                _mm512_storeu_si512(x2 + j, v2);
                _mm512_storeu_si512(x3 + j, v3);
            }
        }
    }

    if (t8_in_registers) {
        /* t = 8 (m = n/16): 16-blocks 2b and 2b + 1 are one block each. */
        for (size_t b = 0; b < n / 32; b++) {
            uint64_t *p = a + 32 * b;
            __m512i v0 = _mm512_loadu_si512(p), v1 = _mm512_loadu_si512(p + 8);
            __m512i v2 = _mm512_loadu_si512(p + 16), v3 = _mm512_loadu_si512(p + 24), w, wq;
            ifma_twiddle_bcast(roots, quot, n / 16 + 2 * b, &w, &wq);
            ifma_fwd_butterfly(&v0, &v1, w, wq, &c);
            ifma_twiddle_bcast(roots, quot, n / 16 + 2 * b + 1, &w, &wq);
            ifma_fwd_butterfly(&v2, &v3, w, wq, &c);
            ifma_fwd_last3(&v0, &v1, roots, quot, n, 2 * b, reduce, &c);
            ifma_fwd_last3(&v2, &v3, roots, quot, n, 2 * b + 1, reduce, &c);
            _mm512_storeu_si512(p, v0);
            _mm512_storeu_si512(p + 8, v1);
            _mm512_storeu_si512(p + 16, v2);
            _mm512_storeu_si512(p + 24, v3);
        }
    } else {
        for (size_t b = 0; b < n / 16; b++) {
            uint64_t *p = a + 16 * b;
            __m512i v0 = _mm512_loadu_si512(p), v1 = _mm512_loadu_si512(p + 8);
            ifma_fwd_last3(&v0, &v1, roots, quot, n, b, reduce, &c);
            _mm512_storeu_si512(p, v0);
            _mm512_storeu_si512(p + 8, v1);
        }
    }
}

IFMA_TARGET static void
ifma_fwd_full(const hnnrt_ntt_table *tab, uint64_t *a)
{
    ifma_fwd(tab, a, 1);
}

IFMA_TARGET static void
ifma_fwd_lazy(const hnnrt_ntt_table *tab, uint64_t *a)
{
    ifma_fwd(tab, a, 0);
}

/* Inverse stages t = 1, 2, 4 on 16-block b in v0, v1; [0, 2q) in and out. */
IFMA_INLINE void
ifma_inv_first3(__m512i *v0, __m512i *v1, const uint64_t *roots, const uint64_t *quot, size_t n, size_t b,
                const ifma_consts *c)
{
    const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    const __m512i lo2 = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
    const __m512i hi2 = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    const __m512i lo4 = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
    const __m512i hi4 = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
    __m512i w, wq;
    __m512i x = _mm512_permutex2var_epi64(*v0, even, *v1);
    __m512i y = _mm512_permutex2var_epi64(*v0, odd, *v1);
    ifma_twiddle_x1(roots, quot, n / 2 + 8 * b, &w, &wq);
    ifma_inv_butterfly(&x, &y, w, wq, c);
    __m512i x2 = _mm512_unpacklo_epi64(x, y);
    __m512i y2 = _mm512_unpackhi_epi64(x, y);
    ifma_twiddle_x2(roots, quot, n / 4 + 4 * b, &w, &wq);
    ifma_inv_butterfly(&x2, &y2, w, wq, c);
    x = _mm512_permutex2var_epi64(x2, lo2, y2);
    y = _mm512_permutex2var_epi64(x2, hi2, y2);
    ifma_twiddle_x4(roots, quot, n / 8 + 2 * b, &w, &wq);
    ifma_inv_butterfly(&x, &y, w, wq, c);
    *v0 = _mm512_permutex2var_epi64(x, lo4, y);
    *v1 = _mm512_permutex2var_epi64(x, hi4, y);
}

/* Inverse transform; a in [0, 2q) -> [0, q). The forward's plan backwards:
 * the register pass (with t = 8 when the log_n - 3 stages m = n/16 .. 1
 * are odd in number), then pairs (m, m/2); the last pair, (2, 1), folds in
 * n^-1 and reduces to [0, q). */
IFMA_TARGET static void
ifma_inv(const hnnrt_ntt_table *tab, uint64_t *a)
{
    const size_t n = tab->n;
    const ifma_consts c = ifma_consts_make(tab->mod.value);
    const uint64_t *roots = tab->inv_roots, *quot = tab->inv_roots_quot;
    size_t m, t;

    if ((tab->log_n - 3) & 1) {
        for (size_t b = 0; b < n / 32; b++) {
            uint64_t *p = a + 32 * b;
            __m512i v0 = _mm512_loadu_si512(p), v1 = _mm512_loadu_si512(p + 8);
            __m512i v2 = _mm512_loadu_si512(p + 16), v3 = _mm512_loadu_si512(p + 24), w, wq;
            ifma_inv_first3(&v0, &v1, roots, quot, n, 2 * b, &c);
            ifma_inv_first3(&v2, &v3, roots, quot, n, 2 * b + 1, &c);
            ifma_twiddle_bcast(roots, quot, n / 16 + 2 * b, &w, &wq);
            ifma_inv_butterfly(&v0, &v1, w, wq, &c);
            ifma_twiddle_bcast(roots, quot, n / 16 + 2 * b + 1, &w, &wq);
            ifma_inv_butterfly(&v2, &v3, w, wq, &c);
            _mm512_storeu_si512(p, v0);
            _mm512_storeu_si512(p + 8, v1);
            _mm512_storeu_si512(p + 16, v2);
            _mm512_storeu_si512(p + 24, v3);
        }
        m = n >> 5;
        t = 16;
    } else {
        for (size_t b = 0; b < n / 16; b++) {
            uint64_t *p = a + 16 * b;
            __m512i v0 = _mm512_loadu_si512(p), v1 = _mm512_loadu_si512(p + 8);
            ifma_inv_first3(&v0, &v1, roots, quot, n, b, &c);
            _mm512_storeu_si512(p, v0);
            _mm512_storeu_si512(p + 8, v1);
        }
        m = n >> 4;
        t = 8;
    }

    for (; m > 2; m >>= 2, t <<= 2) {
        for (size_t i = 0; i < m / 2; i++) {
            __m512i w, wq, wa, waq, wb, wbq;
            ifma_twiddle_bcast(roots, quot, m + 2 * i, &wa, &waq);
            ifma_twiddle_bcast(roots, quot, m + 2 * i + 1, &wb, &wbq);
            ifma_twiddle_bcast(roots, quot, m / 2 + i, &w, &wq);
            uint64_t *x0 = a + 4 * i * t, *x1 = x0 + t, *x2 = x1 + t, *x3 = x2 + t;
            for (size_t j = 0; j < t; j += 8) {
                __m512i v0 = _mm512_loadu_si512(x0 + j), v1 = _mm512_loadu_si512(x1 + j);
                __m512i v2 = _mm512_loadu_si512(x2 + j), v3 = _mm512_loadu_si512(x3 + j);
                ifma_inv_butterfly(&v0, &v1, wa, waq, &c);
                ifma_inv_butterfly(&v2, &v3, wb, wbq, &c);
                ifma_inv_butterfly(&v0, &v2, w, wq, &c);
                ifma_inv_butterfly(&v1, &v3, w, wq, &c);
                _mm512_storeu_si512(x0 + j, v0);
                _mm512_storeu_si512(x1 + j, v1);
                _mm512_storeu_si512(x2 + j, v2);
                _mm512_storeu_si512(x3 + j, v3);
            }
        }
    }

    /* m = 2, then m = 1 with n^-1 (t = n/4 here). */
    __m512i wa, waq, wb, wbq;
    ifma_twiddle_bcast(roots, quot, 2, &wa, &waq);
    ifma_twiddle_bcast(roots, quot, 3, &wb, &wbq);
    const __m512i ni = _mm512_set1_epi64((long long)tab->n_inv.op);
    const __m512i niq = _mm512_set1_epi64((long long)(tab->n_inv.quot >> 12));
    const __m512i li = _mm512_set1_epi64((long long)tab->last_inv.op);
    const __m512i liq = _mm512_set1_epi64((long long)(tab->last_inv.quot >> 12));
    uint64_t *x0 = a, *x1 = x0 + t, *x2 = x1 + t, *x3 = x2 + t;
    for (size_t j = 0; j < t; j += 8) {
        __m512i v0 = _mm512_loadu_si512(x0 + j), v1 = _mm512_loadu_si512(x1 + j);
        __m512i v2 = _mm512_loadu_si512(x2 + j), v3 = _mm512_loadu_si512(x3 + j);
        ifma_inv_butterfly(&v0, &v1, wa, waq, &c);
        ifma_inv_butterfly(&v2, &v3, wb, wbq, &c);
        ifma_inv_last_butterfly(&v0, &v2, ni, niq, li, liq, &c);
        ifma_inv_last_butterfly(&v1, &v3, ni, niq, li, liq, &c);
        _mm512_storeu_si512(x0 + j, v0);
        _mm512_storeu_si512(x1 + j, v1);
        _mm512_storeu_si512(x2 + j, v2);
        _mm512_storeu_si512(x3 + j, v3);
    }
}

static void
ntt_fwd(const hnnrt_ntt_table *t, uint64_t *a)
{
    if (ifma_applies(t))
        ifma_fwd_full(t, a);
    else
        hnnrt_ntt_kernels_scalar.fwd(t, a);
}

static void
ntt_fwd_lazy(const hnnrt_ntt_table *t, uint64_t *a)
{
    if (ifma_applies(t))
        ifma_fwd_lazy(t, a);
    else
        hnnrt_ntt_kernels_scalar.fwd_lazy(t, a);
}

static void
ntt_inv(const hnnrt_ntt_table *t, uint64_t *a)
{
    if (ifma_applies(t))
        ifma_inv(t, a);
    else
        hnnrt_ntt_kernels_scalar.inv(t, a);
}

const hnnrt_ntt_kernels hnnrt_ntt_kernels_ifma = {
    .name = "ifma",
    .fwd = ntt_fwd,
    .fwd_lazy = ntt_fwd_lazy,
    .inv = ntt_inv,
};

#else
typedef int hnnrt_ntt_ifma_absent; /* ISO C wants a declaration in every file */
#endif
