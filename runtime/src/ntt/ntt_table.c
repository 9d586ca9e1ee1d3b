#include "ntt/ntt.h"

uint32_t
hnnrt_ntt_bitrev(uint32_t x, unsigned bits)
{
    uint32_t r = 0;
    for (unsigned i = 0; i < bits; i++) {
        r = (r << 1) | (x & 1);
        x >>= 1;
    }
    return r;
}

hnnrt_status
hnnrt_ntt_table_init(hnnrt_ntt_table *t, uint64_t q, unsigned log_n, hnnrt_alloc_counter *counter)
{
    size_t n = (size_t)1 << log_n;
    hnnrt_mod_init(&t->mod, q);
    t->n = n;
    t->log_n = log_n;
    t->psi = hnnrt_mod_primitive_root(2 * n, &t->mod);
    if (!t->psi)
        return HNNRT_ERR_PARAMS_NO_NTT_PRIME;
    t->roots = hnnrt_mem_alloc(counter, 4 * n * sizeof(uint64_t));
    if (!t->roots)
        return HNNRT_ERR_ALLOC;
    t->roots_quot = t->roots + n;
    t->inv_roots = t->roots + 2 * n;
    t->inv_roots_quot = t->roots + 3 * n;

    uint64_t psi_inv = hnnrt_mod_inv(t->psi, &t->mod);
    uint64_t pw = 1, pw_inv = 1;
    /* Walk psi^k in natural order and store it at brev(k). */
    for (size_t k = 0; k < n; k++) {
        size_t r = hnnrt_ntt_bitrev((uint32_t)k, log_n);
        hnnrt_mod_shoup s = hnnrt_mod_shoup_make(pw, q), si = hnnrt_mod_shoup_make(pw_inv, q);
        t->roots[r] = s.op;
        t->roots_quot[r] = s.quot;
        t->inv_roots[r] = si.op;
        t->inv_roots_quot[r] = si.quot;
        pw = hnnrt_mod_mul(pw, t->psi, &t->mod);
        pw_inv = hnnrt_mod_mul(pw_inv, psi_inv, &t->mod);
    }
    uint64_t ninv = hnnrt_mod_inv(n % q, &t->mod);
    t->n_inv = hnnrt_mod_shoup_make(ninv, q);
    t->last_inv = hnnrt_mod_shoup_make(hnnrt_mod_mul(ninv, t->inv_roots[1], &t->mod), q);
    return HNNRT_OK;
}

void
hnnrt_ntt_table_release(hnnrt_ntt_table *t, hnnrt_alloc_counter *counter)
{
    hnnrt_mem_free(counter, t->roots);
    t->roots = t->roots_quot = t->inv_roots = t->inv_roots_quot = NULL;
}
