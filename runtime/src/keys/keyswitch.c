#include <omp.h>
#include <string.h>

#include "keys/keys.h"

/* Digits summed into a 128-bit accumulator between reductions: each product
 * is below 2^122 (inputs reduced mod a prime < 2^61), 16 of them below 2^126. */
#define KS_ACC_DIGITS 16

hnnrt_status
hnnrt_ks_scratch_init(hnnrt_ks_scratch *w, const hnnrt_context *ctx)
{
    memset(w, 0, sizeof *w);
    const size_t n = ctx->n;
    const size_t L1 = ctx->max_level + 1, K = ctx->n_special;
    const size_t coeff_limbs = L1 > K ? L1 : K;
    /* Room for every core, so a later hnnrt_context_set_threads is honoured. */
    int procs = omp_get_num_procs();
    w->threads = ctx->threads > procs ? ctx->threads : procs;
    w->coeff = hnnrt_mem_alloc(ctx->counter, coeff_limbs * n * sizeof(uint64_t));
    w->ext0 = hnnrt_mem_alloc(ctx->counter, (L1 + K) * n * sizeof(uint64_t));
    w->ext1 = hnnrt_mem_alloc(ctx->counter, (L1 + K) * n * sizeof(uint64_t));
    w->pbuf = hnnrt_mem_alloc(ctx->counter, K * n * sizeof(uint64_t));
    w->conv = hnnrt_mem_alloc(ctx->counter, L1 * n * sizeof(uint64_t));
    w->thread = hnnrt_mem_alloc(ctx->counter, (size_t)w->threads * 5 * n * sizeof(uint64_t));
    if (!w->coeff || !w->ext0 || !w->ext1 || !w->pbuf || !w->conv || !w->thread) {
        hnnrt_ks_scratch_release(w, ctx);
        return HNNRT_ERR_ALLOC;
    }
    return HNNRT_OK;
}

void
hnnrt_ks_scratch_release(hnnrt_ks_scratch *w, const hnnrt_context *ctx)
{
    hnnrt_alloc_counter *c = ctx->counter;
    const size_t n = ctx->n;
    const size_t L1 = ctx->max_level + 1, K = ctx->n_special;
    /* The scratch sees decryption-adjacent data in the encryptor: wipe it all. */
    if (w->coeff)
        hnnrt_mem_free_secret(c, w->coeff, (L1 > K ? L1 : K) * n * sizeof(uint64_t));
    if (w->ext0)
        hnnrt_mem_free_secret(c, w->ext0, (L1 + K) * n * sizeof(uint64_t));
    if (w->ext1)
        hnnrt_mem_free_secret(c, w->ext1, (L1 + K) * n * sizeof(uint64_t));
    if (w->pbuf)
        hnnrt_mem_free_secret(c, w->pbuf, K * n * sizeof(uint64_t));
    if (w->conv)
        hnnrt_mem_free_secret(c, w->conv, L1 * n * sizeof(uint64_t));
    if (w->thread)
        hnnrt_mem_free_secret(c, w->thread, (size_t)w->threads * 5 * n * sizeof(uint64_t));
    memset(w, 0, sizeof *w);
}

static int
ks_threads(const hnnrt_context *ctx, const hnnrt_ks_scratch *w)
{
    return ctx->threads < w->threads ? ctx->threads : w->threads;
}

/* Prime index of position J of an extended (Q_l ∪ P) polynomial. */
static unsigned
ext_prime(const hnnrt_context *ctx, unsigned level, unsigned J)
{
    return J <= level ? J : ctx->max_level + 1 + (J - level - 1);
}

/* Row of target position J in the ModUp conversion of digit [first, first+count). */
static unsigned
modup_row(unsigned level, unsigned first, unsigned count, unsigned J)
{
    if (J < first)
        return J;
    if (J <= level)
        return J - count;
    return (level + 1 - count) + (J - level - 1);
}

/* INTT of d into w->coeff, then, per digit, floor(Q_digit/2) added and the
 * limbs multiplied by (Q_digit / q_i)^-1: the first step of every digit's
 * ModUp. The half is taken off again after the conversion, so each extended
 * digit is the centred representative (plus u Q_digit), which halves the
 * key-switching noise against [0, Q_digit). */
static void
ks_prepare(const hnnrt_context *ctx, hnnrt_ks_scratch *w, unsigned level, const uint64_t *d)
{
    const size_t n = ctx->n;
    hnnrt_rns_basis b;
    hnnrt_poly_env env;
    hnnrt_ctx_basis_q(ctx, level, &b);
    hnnrt_ctx_env(ctx, &env);
    env.threads = ks_threads(ctx, w);
    memcpy(w->coeff, d, (size_t)(level + 1) * n * sizeof(uint64_t));
    hnnrt_poly_ntt_inv(&env, &b, w->coeff);
    unsigned digits = hnnrt_ctx_digits(ctx, level);
    for (unsigned j = 0; j < digits; j++) {
        unsigned first, count;
        hnnrt_ctx_digit_range(ctx, level, j, &first, &count);
        uint64_t *limbs = w->coeff + (size_t)first * n;
        const hnnrt_baseconv *bc = &ctx->modup[level * ctx->dnum + j];
        for (unsigned i = 0; i < count; i++) {
            const uint64_t q = ctx->ntt[first + i].mod.value, h = bc->half_from[i];
            uint64_t *x = limbs + (size_t)i * n;
            for (size_t c = 0; c < n; c++)
                x[c] = hnnrt_mod_add(x[c], h, q);
        }
        hnnrt_baseconv_scale(&env, bc, limbs, limbs);
    }
}

/* Digit j of d at extended position J, NTT form, into row (or a pointer to d's own limb). */
static const uint64_t *
ks_digit_limb(const hnnrt_context *ctx, const hnnrt_ks_scratch *w, unsigned level, unsigned j, unsigned J,
              const uint64_t *d, uint64_t *row)
{
    const size_t n = ctx->n;
    unsigned first, count;
    hnnrt_ctx_digit_range(ctx, level, j, &first, &count);
    if (J >= first && J < first + count)
        return d + (size_t)J * n;
    const hnnrt_baseconv *bc = &ctx->modup[level * ctx->dnum + j];
    const unsigned r = modup_row(level, first, count, J);
    const hnnrt_ntt_table *tab = &ctx->ntt[ext_prime(ctx, level, J)];
    hnnrt_baseconv_row(n, bc, r, w->coeff + (size_t)first * n, row);
    const uint64_t h = bc->half_to[r], q = tab->mod.value;
    for (size_t c = 0; c < n; c++)
        row[c] = hnnrt_mod_sub(row[c], h, q);
    ctx->kern->fwd(tab, row);
    return row;
}

static void
acc_add(hnnrt_u128 *acc0, hnnrt_u128 *acc1, const uint64_t *src, const uint32_t *perm, const uint64_t *kb,
        const uint64_t *ka, size_t n)
{
    if (perm) {
        for (size_t c = 0; c < n; c++) {
            uint64_t s = src[perm[c]];
            acc0[c] += (hnnrt_u128)s * kb[c];
            acc1[c] += (hnnrt_u128)s * ka[c];
        }
    } else {
        for (size_t c = 0; c < n; c++) {
            acc0[c] += (hnnrt_u128)src[c] * kb[c];
            acc1[c] += (hnnrt_u128)src[c] * ka[c];
        }
    }
}

static void
acc_reduce(hnnrt_u128 *acc, const hnnrt_modulus *m, size_t n)
{
    for (size_t c = 0; c < n; c++)
        acc[c] = hnnrt_mod_reduce128(acc[c], m);
}

/* Both key parts of digit j at prime p. */
static void
key_limbs(const hnnrt_context *ctx, const hnnrt_swk *key, unsigned j, unsigned p, const uint64_t **kb,
          const uint64_t **ka)
{
    size_t off = ((size_t)j * ctx->n_primes + p) * ctx->n;
    *kb = key->b + off;
    *ka = key->a + off;
}

/* The shared loop: for every extended position J, sum over digits of
 * digit_j[J] * key_j[J] into w->ext0 / w->ext1. digits == NULL computes each
 * digit limb on the fly from w->coeff (no hoisting). */
static void
ks_accumulate(const hnnrt_context *ctx, hnnrt_ks_scratch *w, const hnnrt_swk *key, unsigned level,
              const uint64_t *d, const uint64_t *digits, const uint32_t *perm)
{
    const size_t n = ctx->n;
    const unsigned E = level + 1 + ctx->n_special, beta = hnnrt_ctx_digits(ctx, level);
    const int nt = ks_threads(ctx, w);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        uint64_t *mine = w->thread + (size_t)omp_get_thread_num() * 5 * n;
        uint64_t *row = mine;
        hnnrt_u128 *acc0 = (hnnrt_u128 *)(mine + n), *acc1 = acc0 + n;
#pragma omp for schedule(static)
        for (unsigned J = 0; J < E; J++) {
            const unsigned p = ext_prime(ctx, level, J);
            const hnnrt_modulus *m = &ctx->ntt[p].mod;
            memset(acc0, 0, 2 * n * sizeof *acc0);
            for (unsigned j = 0; j < beta; j++) {
                const uint64_t *src = digits ? digits + ((size_t)j * E + J) * n
                                             : ks_digit_limb(ctx, w, level, j, J, d, row);
                const uint64_t *kb, *ka;
                key_limbs(ctx, key, j, p, &kb, &ka);
                acc_add(acc0, acc1, src, perm, kb, ka, n);
                if ((j + 1) % KS_ACC_DIGITS == 0) {
                    acc_reduce(acc0, m, n);
                    acc_reduce(acc1, m, n);
                }
            }
            uint64_t *o0 = w->ext0 + (size_t)J * n, *o1 = w->ext1 + (size_t)J * n;
            for (size_t c = 0; c < n; c++) {
                o0[c] = hnnrt_mod_reduce128(acc0[c], m);
                o1[c] = hnnrt_mod_reduce128(acc1[c], m);
            }
        }
    }
}

/*
 * ModDown with rounding: out = round(x / P) over Q_l. With H the polynomial
 * whose every coefficient is floor(P/2), out = (x + H - [x + H]_P) / P, where
 * [x + H]_P is lifted exactly: the fast conversion sum_t y_t (P/p_t) exceeds
 * it by v P with v = floor(sum_t y_t / p_t), computed in double precision
 * (exact unless the sum lies within 2^-50 of an integer). A floor instead of
 * the rounding would leave a bias of 1/2 per coefficient, which the slots
 * near zeta = 1 amplify by about N / pi.
 */
void
hnnrt_ks_moddown(const hnnrt_context *ctx, hnnrt_ks_scratch *w, unsigned level, const uint64_t *x, uint64_t *out)
{
    const size_t n = ctx->n;
    const unsigned K = ctx->n_special, L1 = ctx->max_level + 1;
    hnnrt_rns_basis pb, qb;
    hnnrt_poly_env env;
    hnnrt_ctx_basis_p(ctx, &pb);
    hnnrt_ctx_basis_q(ctx, level, &qb);
    hnnrt_ctx_env(ctx, &env);
    env.threads = ks_threads(ctx, w);
    memcpy(w->pbuf, x + (size_t)(level + 1) * n, (size_t)K * n * sizeof(uint64_t));
    hnnrt_poly_ntt_inv(&env, &pb, w->pbuf);
    for (unsigned t = 0; t < K; t++) {
        const uint64_t p = pb.tab[t]->mod.value, h = ctx->p_half_mod[L1 + t];
        uint64_t *limb = w->pbuf + (size_t)t * n;
        for (size_t c = 0; c < n; c++)
            limb[c] = hnnrt_mod_add(limb[c], h, p);
    }
    uint64_t *y = w->coeff;
    hnnrt_baseconv_scale(&env, &ctx->moddown, w->pbuf, y);
    /* v = floor(sum_t y_t / p_t), kept in pbuf (no longer needed). */
    uint64_t *v = w->pbuf;
    for (size_t c = 0; c < n; c++) {
        double f = 0;
        for (unsigned t = 0; t < K; t++)
            f += (double)y[(size_t)t * n + c] * ctx->p_inv_double[t];
        v[c] = (uint64_t)f;
    }
#pragma omp parallel for num_threads(env.threads) schedule(static) if (env.threads > 1)
    for (unsigned i = 0; i <= level; i++) {
        const hnnrt_modulus *m = &ctx->ntt[i].mod;
        uint64_t *ci = w->conv + (size_t)i * n;
        hnnrt_baseconv_row(n, &ctx->moddown, i, y, ci);
        /* conv - v P - H, coefficient form. */
        const hnnrt_mod_shoup pm = hnnrt_mod_shoup_make(ctx->p_mod[i], m->value);
        const uint64_t h = ctx->p_half_mod[i];
        for (size_t c = 0; c < n; c++) {
            uint64_t vp = hnnrt_mod_mul_shoup(v[c], pm.op, pm.quot, m->value);
            ci[c] = hnnrt_mod_sub(hnnrt_mod_sub(ci[c], vp, m->value), h, m->value);
        }
        ctx->kern->fwd(&ctx->ntt[i], ci);
        const hnnrt_mod_shoup pinv = ctx->p_inv[i];
        const uint64_t *xi = x + (size_t)i * n;
        uint64_t *oi = out + (size_t)i * n;
        for (size_t c = 0; c < n; c++)
            oi[c] = hnnrt_mod_mul_shoup(xi[c] + m->value - ci[c], pinv.op, pinv.quot, m->value);
    }
}

void
hnnrt_keyswitch(const hnnrt_context *ctx, hnnrt_ks_scratch *w, const hnnrt_swk *key, unsigned level,
                const uint64_t *d, uint64_t *out0, uint64_t *out1)
{
    ks_prepare(ctx, w, level, d);
    ks_accumulate(ctx, w, key, level, d, NULL, NULL);
    hnnrt_ks_moddown(ctx, w, level, w->ext0, out0);
    hnnrt_ks_moddown(ctx, w, level, w->ext1, out1);
}

void
hnnrt_ks_decompose(const hnnrt_context *ctx, hnnrt_ks_scratch *w, unsigned level, const uint64_t *d,
                   uint64_t *digits)
{
    const size_t n = ctx->n;
    const unsigned E = level + 1 + ctx->n_special, beta = hnnrt_ctx_digits(ctx, level);
    const int nt = ks_threads(ctx, w);
    ks_prepare(ctx, w, level, d);
#pragma omp parallel for collapse(2) num_threads(nt) schedule(static) if (nt > 1)
    for (unsigned j = 0; j < beta; j++)
        for (unsigned J = 0; J < E; J++) {
            uint64_t *row = digits + ((size_t)j * E + J) * n;
            const uint64_t *src = ks_digit_limb(ctx, w, level, j, J, d, row);
            if (src != row)
                memcpy(row, src, n * sizeof(uint64_t));
        }
}

void
hnnrt_ks_inner(const hnnrt_context *ctx, hnnrt_ks_scratch *w, const hnnrt_swk *key, unsigned level,
               const uint64_t *digits, const uint32_t *perm)
{
    ks_accumulate(ctx, w, key, level, NULL, digits, perm);
}
