#include "poly/poly.h"

hnnrt_status
hnnrt_baseconv_init(hnnrt_baseconv *bc, const hnnrt_rns_basis *from, const hnnrt_rns_basis *to,
                    hnnrt_alloc_counter *counter)
{
    bc->from = *from;
    bc->to = *to;
    size_t nf = from->count, nt = to->count;
    bc->hat_inv = hnnrt_mem_alloc(counter, nf * sizeof *bc->hat_inv);
    bc->hat_mod = hnnrt_mem_alloc(counter, (nt ? nt : 1) * nf * sizeof(uint64_t));
    bc->half_from = hnnrt_mem_alloc(counter, nf * sizeof(uint64_t));
    bc->half_to = hnnrt_mem_alloc(counter, (nt ? nt : 1) * sizeof(uint64_t));
    if (!bc->hat_inv || !bc->hat_mod || !bc->half_from || !bc->half_to) {
        hnnrt_baseconv_release(bc, counter);
        return HNNRT_ERR_ALLOC;
    }
    for (size_t i = 0; i < nf; i++) {
        const hnnrt_modulus *mi = &from->tab[i]->mod;
        uint64_t hat = 1;
        for (size_t k = 0; k < nf; k++)
            if (k != i)
                hat = hnnrt_mod_mul(hat, hnnrt_mod_reduce64(from->tab[k]->mod.value, mi), mi);
        bc->hat_inv[i] = hnnrt_mod_shoup_make(hnnrt_mod_inv(hat, mi), mi->value);
    }
    for (size_t j = 0; j < nt; j++) {
        const hnnrt_modulus *mt = &to->tab[j]->mod;
        for (size_t i = 0; i < nf; i++) {
            uint64_t hat = 1;
            for (size_t k = 0; k < nf; k++)
                if (k != i)
                    hat = hnnrt_mod_mul(hat, hnnrt_mod_reduce64(from->tab[k]->mod.value, mt), mt);
            bc->hat_mod[j * nf + i] = hat;
        }
    }
    /* floor(B/2) = (B - 1)/2 mod m, B odd. */
    for (size_t k = 0; k < nf + nt; k++) {
        const hnnrt_modulus *m = k < nf ? &from->tab[k]->mod : &to->tab[k - nf]->mod;
        uint64_t b = 1;
        for (size_t i = 0; i < nf; i++)
            b = hnnrt_mod_mul(b, hnnrt_mod_reduce64(from->tab[i]->mod.value, m), m);
        uint64_t half = hnnrt_mod_mul(hnnrt_mod_sub(b, 1, m->value), (m->value + 1) / 2, m);
        if (k < nf)
            bc->half_from[k] = half;
        else
            bc->half_to[k - nf] = half;
    }
    return HNNRT_OK;
}

void
hnnrt_baseconv_release(hnnrt_baseconv *bc, hnnrt_alloc_counter *counter)
{
    hnnrt_mem_free(counter, bc->hat_inv);
    hnnrt_mem_free(counter, bc->hat_mod);
    hnnrt_mem_free(counter, bc->half_from);
    hnnrt_mem_free(counter, bc->half_to);
    bc->hat_inv = NULL;
    bc->hat_mod = NULL;
    bc->half_from = bc->half_to = NULL;
}

/* Each product y_i * hat < 2^122; 32 of them stay below 2^127, so the
 * 128-bit accumulator is reduced every 32 terms. */
#define ACC_TERMS 32

void
hnnrt_baseconv_scale(const hnnrt_poly_env *e, const hnnrt_baseconv *bc, const uint64_t *in, uint64_t *tmp)
{
    const size_t n = e->n;
    const unsigned nf = bc->from.count;
#pragma omp parallel for num_threads(e->threads) schedule(static) if (e->threads > 1 && nf > 1)
    for (unsigned i = 0; i < nf; i++) {
        const uint64_t q = bc->from.tab[i]->mod.value;
        const hnnrt_mod_shoup s = bc->hat_inv[i];
        for (size_t j = 0; j < n; j++)
            tmp[i * n + j] = hnnrt_mod_mul_shoup(in[i * n + j], s.op, s.quot, q);
    }
}

void
hnnrt_baseconv_row(size_t n, const hnnrt_baseconv *bc, unsigned t, const uint64_t *tmp, uint64_t *out)
{
    const unsigned nf = bc->from.count;
    const hnnrt_modulus *mt = &bc->to.tab[t]->mod;
    const uint64_t *hat = bc->hat_mod + (size_t)t * nf;
    if (nf == 1) {
        /* One source prime: out = tmp * hat, the common case of one prime per digit. */
        const hnnrt_mod_shoup s = hnnrt_mod_shoup_make(hat[0], mt->value);
        for (size_t j = 0; j < n; j++)
            out[j] = hnnrt_mod_mul_shoup(tmp[j], s.op, s.quot, mt->value);
        return;
    }
    for (size_t j = 0; j < n; j++) {
        hnnrt_u128 acc = 0;
        for (unsigned i = 0; i < nf; i++) {
            acc += (hnnrt_u128)tmp[i * n + j] * hat[i];
            if ((i + 1) % ACC_TERMS == 0)
                acc = hnnrt_mod_reduce128(acc, mt);
        }
        out[j] = hnnrt_mod_reduce128(acc, mt);
    }
}

void
hnnrt_baseconv_apply(const hnnrt_poly_env *e, const hnnrt_baseconv *bc, unsigned n_to, const uint64_t *in,
                     uint64_t *out, uint64_t *tmp)
{
    const size_t n = e->n;
    hnnrt_baseconv_scale(e, bc, in, tmp);
#pragma omp parallel for num_threads(e->threads) schedule(static) if (e->threads > 1 && n_to > 1)
    for (unsigned t = 0; t < n_to; t++)
        hnnrt_baseconv_row(n, bc, t, tmp, out + (size_t)t * n);
}
