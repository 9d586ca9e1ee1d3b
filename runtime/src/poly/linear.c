/* Linear combinations by constants: the task split and the scalar kernel. */
#include <string.h>

#include "poly/linear.h"

/*
 * Values below q^2 (products, or a sum already reduced) that a 128-bit sum
 * holds: k (q - 1)^2 < 2^128 for k = 2^(128 - 2 bits), at least 64 for
 * q < 2^61.
 */
static size_t
scalar_fold(unsigned bits)
{
    unsigned s = 128 - 2 * bits;
    return s >= 8 * sizeof(size_t) - 1 ? (size_t)-1 : (size_t)1 << s;
}

void
hnnrt_linear_block_scalar(const hnnrt_modulus *m, const hnnrt_poly_linear *lin, const uint64_t *w, unsigned part,
                          size_t off, size_t len)
{
    hnnrt_u128 acc[HNNRT_LINEAR_BLOCK];
    const size_t fold = scalar_fold(m->bits);
    const uint64_t *const *x = lin->x + (size_t)part * lin->n_in;
    uint64_t *const *out = lin->out + (size_t)part * lin->n_out;
    for (size_t c0 = 0; c0 < len; c0 += HNNRT_LINEAR_BLOCK) {
        for (size_t j = 0; j < lin->n_out; j++) {
            memset(acc, 0, sizeof acc);
            size_t terms = 0;
            for (size_t t = lin->row_start[j]; t < lin->row_start[j + 1]; t++) {
                if (terms == fold) {
                    for (size_t c = 0; c < HNNRT_LINEAR_BLOCK; c++)
                        acc[c] = hnnrt_mod_reduce128(acc[c], m);
                    terms = 1;
                }
                const uint64_t *xi = x[lin->col[t]] + off + c0;
                const uint64_t wt = w[t];
                for (size_t c = 0; c < HNNRT_LINEAR_BLOCK; c++)
                    acc[c] += (hnnrt_u128)wt * xi[c];
                terms++;
            }
            uint64_t *o = out[j] + off + c0;
            for (size_t c = 0; c < HNNRT_LINEAR_BLOCK; c++)
                o[c] = hnnrt_mod_reduce128(acc[c], m);
        }
    }
}

/* The kernel for one limb: IFMA where the context runs the IFMA NTT (so
 * HNNRT_NTT=scalar makes the scalar code the reference everywhere) and the
 * prime or the constants fit its 52-bit lanes. */
static hnnrt_linear_block_fn *
kernel_for(const hnnrt_poly_env *e, const hnnrt_modulus *m, const hnnrt_poly_linear *lin)
{
#if HNNRT_NTT_HAVE_IFMA
    if (e->kern == &hnnrt_ntt_kernels_ifma) {
        if (m->value < ((uint64_t)1 << 50))
            return hnnrt_linear_block_ifma;
        if (lin->mag)
            return hnnrt_linear_block_ifma_wide;
    }
#else
    (void)e;
    (void)lin;
#endif
    (void)m;
    return hnnrt_linear_block_scalar;
}

void
hnnrt_poly_linear_apply(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, const hnnrt_poly_linear *lin)
{
    const size_t n = e->n, blocks = n / HNNRT_LINEAR_BLOCK, nnz = lin->row_start[lin->n_out];
    const size_t per_limb = (size_t)lin->parts * blocks, tasks = b->count * per_limb;
    /* Round-robin tasks: the limbs' kernels differ in speed (the IFMA one
     * for 40-bit primes, the wide one for q0), and neighbouring blocks on
     * different threads share the inputs' pages in L3. */
#pragma omp parallel for num_threads(e->threads) schedule(static, 1) if (e->threads > 1 && tasks > 1)
    for (size_t task = 0; task < tasks; task++) {
        const unsigned k = (unsigned)(task / per_limb), part = (unsigned)(task % per_limb / blocks);
        const size_t block = task % blocks;
        const hnnrt_modulus *m = &b->tab[k]->mod;
        kernel_for(e, m, lin)(m, lin, lin->w + k * nnz, part, k * n + block * HNNRT_LINEAR_BLOCK,
                              HNNRT_LINEAR_BLOCK);
    }
}
