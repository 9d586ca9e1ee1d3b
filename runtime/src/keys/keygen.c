#include <string.h>

#include <sodium.h>

#include "keys/keys.h"

static void
basis_all(const hnnrt_context *ctx, hnnrt_rns_basis *b, unsigned *idx)
{
    b->count = ctx->n_primes;
    for (unsigned i = 0; i < ctx->n_primes; i++) {
        b->tab[i] = &ctx->ntt[i];
        idx[i] = i;
    }
}

/* ------------------------------------------------------------------ generator */

static hnnrt_status
keygen_make(const hnnrt_context *ctx, const uint8_t *seed, hnnrt_keygen **out)
{
    if (!ctx || !out)
        return HNNRT_ERR_ARG;
    *out = NULL;
    hnnrt_keygen *kg = hnnrt_mem_alloc(ctx->counter, sizeof *kg);
    if (!kg)
        return HNNRT_ERR_ALLOC;
    kg->ctx = ctx;
    if (seed) {
        hnnrt_prng_init_seeded(&kg->prng, seed, 1);
    } else if (hnnrt_prng_init_random(&kg->prng) != HNNRT_OK) {
        hnnrt_mem_free(ctx->counter, kg);
        return HNNRT_ERR_RANDOM;
    }
    *out = kg;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_keygen_new(const hnnrt_context *ctx, hnnrt_keygen **out)
{
    return keygen_make(ctx, NULL, out);
}

hnnrt_status
hnnrt_keygen_new_seeded_insecure(const hnnrt_context *ctx, const uint8_t seed[32], hnnrt_keygen **out)
{
    if (!seed)
        return HNNRT_ERR_ARG;
    return keygen_make(ctx, seed, out);
}

void
hnnrt_keygen_free(hnnrt_keygen *kg)
{
    if (!kg)
        return;
    hnnrt_prng_wipe(&kg->prng);
    hnnrt_mem_free_secret(kg->ctx->counter, kg, sizeof *kg);
}

const char *
hnnrt_keygen_last_error(const hnnrt_keygen *kg)
{
    return kg ? kg->last_error : "";
}

/* ------------------------------------------------------------------ secret key */

hnnrt_status
hnnrt_keygen_secret(hnnrt_keygen *kg, unsigned hamming_weight, hnnrt_secret_key **out)
{
    if (!kg || !out)
        return HNNRT_ERR_ARG;
    *out = NULL;
    const hnnrt_context *ctx = kg->ctx;
    if (hamming_weight > ctx->n)
        return hnnrt_msg_set(kg->last_error, HNNRT_ERR_ARG, "secret: Hamming weight %u exceeds N = %zu",
                             hamming_weight, ctx->n);
    hnnrt_secret_key *sk = hnnrt_mem_alloc(ctx->counter, sizeof *sk);
    if (!sk)
        return hnnrt_msg_set(kg->last_error, HNNRT_ERR_ALLOC, "secret: out of memory");
    sk->ctx = ctx;
    sk->hamming_weight = hamming_weight;
    sk->coeffs = hnnrt_mem_alloc(ctx->counter, ctx->n * sizeof *sk->coeffs);
    sk->ntt = hnnrt_mem_alloc(ctx->counter, (size_t)ctx->n_primes * ctx->n * sizeof *sk->ntt);
    if (!sk->coeffs || !sk->ntt) {
        hnnrt_secret_key_free(sk);
        return hnnrt_msg_set(kg->last_error, HNNRT_ERR_ALLOC, "secret: out of memory");
    }
    if (hamming_weight)
        hnnrt_sample_ternary_sparse(&kg->prng, ctx->n, hamming_weight, sk->coeffs);
    else
        hnnrt_sample_ternary(&kg->prng, ctx->n, sk->coeffs);
    hnnrt_status st = hnnrt_secret_key_refresh_ntt(sk);
    if (st != HNNRT_OK) {
        hnnrt_secret_key_free(sk);
        return st;
    }
    *out = sk;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_secret_key_refresh_ntt(hnnrt_secret_key *sk)
{
    const hnnrt_context *ctx = sk->ctx;
    hnnrt_rns_basis b;
    unsigned idx[HNNRT_MAX_PRIMES];
    hnnrt_poly_env env;
    basis_all(ctx, &b, idx);
    hnnrt_ctx_env(ctx, &env);
    hnnrt_poly_from_small(&env, &b, sk->ntt, sk->coeffs);
    hnnrt_poly_ntt_fwd(&env, &b, sk->ntt);
    return HNNRT_OK;
}

void
hnnrt_secret_key_free(hnnrt_secret_key *sk)
{
    if (!sk)
        return;
    hnnrt_alloc_counter *c = sk->ctx->counter;
    hnnrt_mem_free_secret(c, sk->coeffs, sk->ctx->n * sizeof *sk->coeffs);
    hnnrt_mem_free_secret(c, sk->ntt, (size_t)sk->ctx->n_primes * sk->ctx->n * sizeof *sk->ntt);
    hnnrt_mem_free_secret(c, sk, sizeof *sk);
}

/* ------------------------------------------------------------------ public key */

/* b = -a s + e over every prime, a expanded from seed (domain base). */
static hnnrt_status
rlwe_sample(hnnrt_keygen *kg, const hnnrt_secret_key *sk, const uint8_t *seed, uint64_t domain_base, uint64_t *b,
            uint64_t *a)
{
    const hnnrt_context *ctx = kg->ctx;
    hnnrt_rns_basis basis;
    unsigned idx[HNNRT_MAX_PRIMES];
    hnnrt_poly_env env;
    basis_all(ctx, &basis, idx);
    hnnrt_ctx_env(ctx, &env);
    for (unsigned i = 0; i < ctx->n_primes; i++)
        idx[i] = (unsigned)(domain_base + i);
    hnnrt_sample_uniform_seeded(seed, &basis, idx, ctx->n, ctx->threads, a);
    int32_t *e = hnnrt_mem_alloc(ctx->counter, ctx->n * sizeof *e);
    if (!e)
        return HNNRT_ERR_ALLOC;
    hnnrt_sample_gaussian(&kg->prng, ctx, ctx->n, e);
    hnnrt_poly_from_small(&env, &basis, b, e);
    hnnrt_mem_free_secret(ctx->counter, e, ctx->n * sizeof *e);
    hnnrt_poly_ntt_fwd(&env, &basis, b);
    /* b = e - a s */
    const size_t n = ctx->n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (ctx->threads > 1)
    for (unsigned k = 0; k < basis.count; k++) {
        const hnnrt_modulus *m = &basis.tab[k]->mod;
        for (size_t j = k * n; j < (k + 1) * n; j++)
            b[j] = hnnrt_mod_sub(b[j], hnnrt_mod_mul(a[j], sk->ntt[j], m), m->value);
    }
    return HNNRT_OK;
}

hnnrt_status
hnnrt_public_key_alloc(const hnnrt_context *ctx, hnnrt_public_key **out)
{
    hnnrt_public_key *pk = hnnrt_mem_alloc(ctx->counter, sizeof *pk);
    if (!pk)
        return HNNRT_ERR_ALLOC;
    pk->ctx = ctx;
    size_t words = (size_t)ctx->n_primes * ctx->n;
    pk->b = hnnrt_mem_alloc(ctx->counter, words * sizeof(uint64_t));
    pk->a = hnnrt_mem_alloc(ctx->counter, words * sizeof(uint64_t));
    if (!pk->b || !pk->a) {
        hnnrt_public_key_free(pk);
        return HNNRT_ERR_ALLOC;
    }
    *out = pk;
    return HNNRT_OK;
}

void
hnnrt_public_key_expand_a(hnnrt_public_key *pk)
{
    const hnnrt_context *ctx = pk->ctx;
    hnnrt_rns_basis basis;
    unsigned idx[HNNRT_MAX_PRIMES];
    basis_all(ctx, &basis, idx);
    hnnrt_sample_uniform_seeded(pk->seed, &basis, idx, ctx->n, ctx->threads, pk->a);
}

hnnrt_status
hnnrt_keygen_public(hnnrt_keygen *kg, const hnnrt_secret_key *sk, hnnrt_public_key **out)
{
    if (!kg || !sk || !out)
        return HNNRT_ERR_ARG;
    *out = NULL;
    if (sk->ctx != kg->ctx)
        return hnnrt_msg_set(kg->last_error, HNNRT_ERR_PARAMS_MISMATCH, "public key: secret key of another context");
    hnnrt_public_key *pk;
    if (hnnrt_public_key_alloc(kg->ctx, &pk) != HNNRT_OK)
        return hnnrt_msg_set(kg->last_error, HNNRT_ERR_ALLOC, "public key: out of memory");
    hnnrt_prng_bytes(&kg->prng, pk->seed, sizeof pk->seed);
    if (rlwe_sample(kg, sk, pk->seed, 0, pk->b, pk->a) != HNNRT_OK) {
        hnnrt_public_key_free(pk);
        return hnnrt_msg_set(kg->last_error, HNNRT_ERR_ALLOC, "public key: out of memory");
    }
    *out = pk;
    return HNNRT_OK;
}

void
hnnrt_public_key_free(hnnrt_public_key *pk)
{
    if (!pk)
        return;
    hnnrt_alloc_counter *c = pk->ctx->counter;
    hnnrt_mem_free(c, pk->b);
    hnnrt_mem_free(c, pk->a);
    hnnrt_mem_free(c, pk);
}

/* ------------------------------------------------------------------ switching keys */

size_t
hnnrt_swk_words(const hnnrt_context *ctx)
{
    return (size_t)ctx->dnum * ctx->n_primes * ctx->n;
}

hnnrt_status
hnnrt_swk_alloc(hnnrt_swk *k, const hnnrt_context *ctx)
{
    size_t words = hnnrt_swk_words(ctx);
    k->b = hnnrt_mem_alloc(ctx->counter, words * sizeof(uint64_t));
    k->a = hnnrt_mem_alloc(ctx->counter, words * sizeof(uint64_t));
    if (!k->b || !k->a) {
        hnnrt_swk_release(k, ctx);
        return HNNRT_ERR_ALLOC;
    }
    return HNNRT_OK;
}

void
hnnrt_swk_release(hnnrt_swk *k, const hnnrt_context *ctx)
{
    hnnrt_mem_free(ctx->counter, k->b);
    hnnrt_mem_free(ctx->counter, k->a);
    k->b = k->a = NULL;
}

void
hnnrt_swk_expand_a(hnnrt_swk *k, const hnnrt_context *ctx)
{
    hnnrt_rns_basis basis;
    unsigned idx[HNNRT_MAX_PRIMES];
    basis_all(ctx, &basis, idx);
    size_t stride = (size_t)ctx->n_primes * ctx->n;
    for (unsigned j = 0; j < ctx->dnum; j++) {
        for (unsigned i = 0; i < ctx->n_primes; i++)
            idx[i] = (j + 1) * HNNRT_MAX_PRIMES + i;
        hnnrt_sample_uniform_seeded(k->seed, &basis, idx, ctx->n, ctx->threads, k->a + j * stride);
    }
}

hnnrt_status
hnnrt_swk_generate(hnnrt_keygen *kg, const hnnrt_secret_key *sk, const uint64_t *s_from, hnnrt_swk *k)
{
    const hnnrt_context *ctx = kg->ctx;
    const size_t n = ctx->n, stride = (size_t)ctx->n_primes * n;
    hnnrt_prng_bytes(&kg->prng, k->seed, sizeof k->seed);
    for (unsigned j = 0; j < ctx->dnum; j++) {
        hnnrt_status st = rlwe_sample(kg, sk, k->seed, (uint64_t)(j + 1) * HNNRT_MAX_PRIMES, k->b + j * stride,
                                      k->a + j * stride);
        if (st != HNNRT_OK)
            return st;
        /* b_j += P s' on the primes of digit j. */
        unsigned first, count;
        hnnrt_ctx_digit_range(ctx, ctx->max_level, j, &first, &count);
        for (unsigned i = first; i < first + count; i++) {
            const hnnrt_modulus *m = &ctx->ntt[i].mod;
            hnnrt_mod_shoup pm = hnnrt_mod_shoup_make(ctx->p_mod[i], m->value);
            uint64_t *bl = k->b + j * stride + (size_t)i * n;
            const uint64_t *sl = s_from + (size_t)i * n;
            for (size_t c = 0; c < n; c++)
                bl[c] = hnnrt_mod_add(bl[c], hnnrt_mod_mul_shoup(sl[c], pm.op, pm.quot, m->value), m->value);
        }
    }
    return HNNRT_OK;
}

/* ------------------------------------------------------------------ relinearisation key */

hnnrt_status
hnnrt_keygen_relin(hnnrt_keygen *kg, const hnnrt_secret_key *sk, hnnrt_relin_key **out)
{
    if (!kg || !sk || !out)
        return HNNRT_ERR_ARG;
    *out = NULL;
    const hnnrt_context *ctx = kg->ctx;
    if (sk->ctx != ctx)
        return hnnrt_msg_set(kg->last_error, HNNRT_ERR_PARAMS_MISMATCH, "relin key: secret key of another context");
    hnnrt_relin_key *rk = hnnrt_mem_alloc(ctx->counter, sizeof *rk);
    size_t words = (size_t)ctx->n_primes * ctx->n;
    uint64_t *s2 = hnnrt_mem_alloc(ctx->counter, words * sizeof *s2);
    hnnrt_status st = HNNRT_ERR_ALLOC;
    if (rk && s2) {
        rk->ctx = ctx;
        st = hnnrt_swk_alloc(&rk->key, ctx);
    }
    if (st == HNNRT_OK) {
        hnnrt_rns_basis b;
        unsigned idx[HNNRT_MAX_PRIMES];
        hnnrt_poly_env env;
        basis_all(ctx, &b, idx);
        hnnrt_ctx_env(ctx, &env);
        hnnrt_poly_mul(&env, &b, s2, sk->ntt, sk->ntt);
        st = hnnrt_swk_generate(kg, sk, s2, &rk->key);
    }
    hnnrt_mem_free_secret(ctx->counter, s2, words * sizeof *s2);
    if (st != HNNRT_OK) {
        hnnrt_relin_key_free(rk);
        return hnnrt_msg_set(kg->last_error, st, "relin key: out of memory");
    }
    *out = rk;
    return HNNRT_OK;
}

void
hnnrt_relin_key_free(hnnrt_relin_key *rk)
{
    if (!rk)
        return;
    hnnrt_swk_release(&rk->key, rk->ctx);
    hnnrt_mem_free(rk->ctx->counter, rk);
}

size_t
hnnrt_relin_key_bytes(const hnnrt_relin_key *rk)
{
    return rk ? 2 * hnnrt_swk_words(rk->ctx) * sizeof(uint64_t) : 0;
}
