#include "poly/poly.h"

/* Element-wise loops over the limbs of basis b in environment e; below 16384
 * words a thread team costs more than it saves. */
#define FOR_LIMBS(e, b)                                                                                      \
    _Pragma("omp parallel for num_threads(e->threads) schedule(static) if(e->threads > 1 && b->count * e->n >= 16384)") \
    for (unsigned k = 0; k < (b)->count; k++)

void
hnnrt_poly_add(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x,
               const uint64_t *y)
{
    const size_t n = e->n;
    FOR_LIMBS(e, b)
    {
        const uint64_t q = b->tab[k]->mod.value;
        for (size_t j = k * n; j < (k + 1) * n; j++)
            out[j] = hnnrt_mod_add(x[j], y[j], q);
    }
}

void
hnnrt_poly_sub(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x,
               const uint64_t *y)
{
    const size_t n = e->n;
    FOR_LIMBS(e, b)
    {
        const uint64_t q = b->tab[k]->mod.value;
        for (size_t j = k * n; j < (k + 1) * n; j++)
            out[j] = hnnrt_mod_sub(x[j], y[j], q);
    }
}

void
hnnrt_poly_neg(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x)
{
    const size_t n = e->n;
    FOR_LIMBS(e, b)
    {
        const uint64_t q = b->tab[k]->mod.value;
        for (size_t j = k * n; j < (k + 1) * n; j++)
            out[j] = hnnrt_mod_neg(x[j], q);
    }
}

void
hnnrt_poly_mul(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x,
               const uint64_t *y)
{
    const size_t n = e->n;
    FOR_LIMBS(e, b)
    {
        const hnnrt_modulus *m = &b->tab[k]->mod;
        for (size_t j = k * n; j < (k + 1) * n; j++)
            out[j] = hnnrt_mod_mul(x[j], y[j], m);
    }
}

void
hnnrt_poly_mul_acc(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x,
                   const uint64_t *y)
{
    const size_t n = e->n;
    FOR_LIMBS(e, b)
    {
        const hnnrt_modulus *m = &b->tab[k]->mod;
        for (size_t j = k * n; j < (k + 1) * n; j++)
            out[j] = hnnrt_mod_reduce128((hnnrt_u128)x[j] * y[j] + out[j], m);
    }
}

void
hnnrt_poly_mul_scalar(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x,
                      const uint64_t *c)
{
    const size_t n = e->n;
    FOR_LIMBS(e, b)
    {
        const uint64_t q = b->tab[k]->mod.value;
        hnnrt_mod_shoup s = hnnrt_mod_shoup_make(c[k], q);
        for (size_t j = k * n; j < (k + 1) * n; j++)
            out[j] = hnnrt_mod_mul_shoup(x[j], s.op, s.quot, q);
    }
}

void
hnnrt_poly_add_scalar(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x,
                      const uint64_t *c)
{
    const size_t n = e->n;
    FOR_LIMBS(e, b)
    {
        const uint64_t q = b->tab[k]->mod.value;
        for (size_t j = k * n; j < (k + 1) * n; j++)
            out[j] = hnnrt_mod_add(x[j], c[k], q);
    }
}

void
hnnrt_poly_ntt_fwd(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *x)
{
    const size_t n = e->n;
#pragma omp parallel for num_threads(e->threads) schedule(static) if (e->threads > 1 && b->count > 1)
    for (unsigned k = 0; k < b->count; k++)
        e->kern->fwd(b->tab[k], x + k * n);
}

void
hnnrt_poly_ntt_inv(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *x)
{
    const size_t n = e->n;
#pragma omp parallel for num_threads(e->threads) schedule(static) if (e->threads > 1 && b->count > 1)
    for (unsigned k = 0; k < b->count; k++)
        e->kern->inv(b->tab[k], x + k * n);
}

void
hnnrt_poly_from_small(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const int32_t *c)
{
    const size_t n = e->n;
    FOR_LIMBS(e, b)
    {
        const uint64_t q = b->tab[k]->mod.value;
        uint64_t *o = out + k * n;
        for (size_t j = 0; j < n; j++) {
            int64_t v = c[j];
            /* v + q when negative, without a branch on the (possibly secret) sign. */
            o[j] = (uint64_t)v + (q & (uint64_t)(v >> 63));
        }
    }
}
