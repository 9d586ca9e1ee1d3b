/* The scalar reference kernels: Harvey butterflies, one limb at a time. */
#include "ntt/ntt.h"

/* Forward, result in [0, 4q). Input in [0, 4q).
 * Butterfly (X, Y) with twiddle W: X' = X mod 2q in [0, 2q); T = W*Y lazily in
 * [0, 2q); outputs X' + T and X' - T + 2q, both in [0, 4q). */
static void
ntt_fwd_lazy(const hnnrt_ntt_table *tab, uint64_t *a)
{
    const uint64_t q = tab->mod.value, two_q = 2 * q;
    const size_t n = tab->n;
    size_t t = n >> 1;
    for (size_t m = 1; m < n; m <<= 1, t >>= 1) {
        for (size_t i = 0; i < m; i++) {
            const uint64_t w = tab->roots[m + i], wq = tab->roots_quot[m + i];
            uint64_t *x = a + 2 * i * t, *y = x + t;
            for (size_t j = 0; j < t; j++) {
                uint64_t u = x[j];
                u -= two_q & (uint64_t)-(int64_t)(u >= two_q);
                uint64_t v = hnnrt_mod_mul_shoup_lazy(y[j], w, wq, q);
                x[j] = u + v;
                y[j] = u - v + two_q;
            }
        }
    }
}

static void
ntt_fwd(const hnnrt_ntt_table *tab, uint64_t *a)
{
    ntt_fwd_lazy(tab, a);
    const uint64_t q = tab->mod.value, two_q = 2 * q;
    for (size_t j = 0; j < tab->n; j++) {
        uint64_t u = a[j];
        u -= two_q & (uint64_t)-(int64_t)(u >= two_q);
        u -= q & (uint64_t)-(int64_t)(u >= q);
        a[j] = u;
    }
}

/* Inverse. Input in [0, 2q) (values in [0, q) are the usual case).
 * Butterfly (X, Y) with twiddle W: X' = X + Y reduced to [0, 2q);
 * Y' = W * (X - Y + 2q) lazily in [0, 2q). The last stage multiplies X' by
 * n^-1 and Y' by n^-1 * W, then both are brought to [0, q). */
static void
ntt_inv(const hnnrt_ntt_table *tab, uint64_t *a)
{
    const uint64_t q = tab->mod.value, two_q = 2 * q;
    const size_t n = tab->n;
    size_t t = 1;
    for (size_t m = n >> 1; m > 1; m >>= 1, t <<= 1) {
        for (size_t i = 0; i < m; i++) {
            const uint64_t w = tab->inv_roots[m + i], wq = tab->inv_roots_quot[m + i];
            uint64_t *x = a + 2 * i * t, *y = x + t;
            for (size_t j = 0; j < t; j++) {
                uint64_t u = x[j], v = y[j];
                uint64_t s = u + v;
                s -= two_q & (uint64_t)-(int64_t)(s >= two_q);
                x[j] = s;
                y[j] = hnnrt_mod_mul_shoup_lazy(u - v + two_q, w, wq, q);
            }
        }
    }
    const uint64_t ni = tab->n_inv.op, niq = tab->n_inv.quot;
    const uint64_t li = tab->last_inv.op, liq = tab->last_inv.quot;
    uint64_t *x = a, *y = a + (n >> 1);
    for (size_t j = 0; j < (n >> 1); j++) {
        uint64_t u = x[j], v = y[j];
        x[j] = hnnrt_mod_mul_shoup(u + v, ni, niq, q);
        y[j] = hnnrt_mod_mul_shoup(u - v + two_q, li, liq, q);
    }
}

const hnnrt_ntt_kernels hnnrt_ntt_kernels_scalar = {
    .name = "scalar",
    .fwd = ntt_fwd,
    .fwd_lazy = ntt_fwd_lazy,
    .inv = ntt_inv,
};
