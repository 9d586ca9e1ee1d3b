/*
 * Encryption and decryption.
 *
 * Public key: over Q_l ∪ P, (c0, c1) = u (b, a) + (e0, e1) with u ternary and
 * e Gaussian, then both parts are divided by P (ModDown) and m is added: the
 * fresh noise (u e + e0 + e1 s) / P + rounding stays near the rounding term,
 * about sqrt(N) smaller than encrypting over Q_l directly.
 * Secret key: (c0, c1) = (-a s + e + m, a) over Q_l.
 */
#include <string.h>

#include "keys/keys.h"

static hnnrt_status
encryptor_make(const hnnrt_context *ctx, const hnnrt_public_key *pk, const hnnrt_secret_key *sk,
               const uint8_t *seed, hnnrt_encryptor **out)
{
    if (!ctx || !out || (!pk == !sk))
        return HNNRT_ERR_ARG;
    *out = NULL;
    if ((pk && pk->ctx != ctx) || (sk && sk->ctx != ctx))
        return HNNRT_ERR_PARAMS_MISMATCH;
    hnnrt_encryptor *enc = hnnrt_mem_alloc(ctx->counter, sizeof *enc);
    if (!enc)
        return HNNRT_ERR_ALLOC;
    enc->ctx = ctx;
    enc->pk = pk;
    enc->sk = sk;
    size_t words = (size_t)ctx->n_primes * ctx->n;
    enc->small = hnnrt_mem_alloc(ctx->counter, ctx->n * sizeof *enc->small);
    enc->u = hnnrt_mem_alloc(ctx->counter, words * sizeof *enc->u);
    enc->e = hnnrt_mem_alloc(ctx->counter, words * sizeof *enc->e);
    hnnrt_status st = (!enc->small || !enc->u || !enc->e) ? HNNRT_ERR_ALLOC : hnnrt_ks_scratch_init(&enc->ks, ctx);
    if (st == HNNRT_OK) {
        if (seed)
            hnnrt_prng_init_seeded(&enc->prng, seed, 2);
        else
            st = hnnrt_prng_init_random(&enc->prng);
    }
    if (st != HNNRT_OK) {
        hnnrt_encryptor_free(enc);
        return st;
    }
    *out = enc;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_encryptor_new(const hnnrt_context *ctx, const hnnrt_public_key *pk, const hnnrt_secret_key *sk,
                    hnnrt_encryptor **out)
{
    return encryptor_make(ctx, pk, sk, NULL, out);
}

hnnrt_status
hnnrt_encryptor_new_seeded_insecure(const hnnrt_context *ctx, const hnnrt_public_key *pk,
                                    const hnnrt_secret_key *sk, const uint8_t seed[32], hnnrt_encryptor **out)
{
    if (!seed)
        return HNNRT_ERR_ARG;
    return encryptor_make(ctx, pk, sk, seed, out);
}

void
hnnrt_encryptor_free(hnnrt_encryptor *enc)
{
    if (!enc)
        return;
    const hnnrt_context *ctx = enc->ctx;
    size_t words = (size_t)ctx->n_primes * ctx->n;
    hnnrt_ks_scratch_release(&enc->ks, ctx);
    hnnrt_mem_free_secret(ctx->counter, enc->small, ctx->n * sizeof *enc->small);
    hnnrt_mem_free_secret(ctx->counter, enc->u, words * sizeof *enc->u);
    hnnrt_mem_free_secret(ctx->counter, enc->e, words * sizeof *enc->e);
    hnnrt_prng_wipe(&enc->prng);
    hnnrt_mem_free_secret(ctx->counter, enc, sizeof *enc);
}

const char *
hnnrt_encryptor_last_error(const hnnrt_encryptor *enc)
{
    return enc ? enc->last_error : "";
}

/* x (coefficient form) = small sample, then NTT, over basis b. */
static void
small_ntt(hnnrt_encryptor *enc, const hnnrt_rns_basis *b, uint64_t *x)
{
    hnnrt_poly_env env;
    hnnrt_ctx_env(enc->ctx, &env);
    hnnrt_poly_from_small(&env, b, x, enc->small);
    hnnrt_poly_ntt_fwd(&env, b, x);
}

static void
encrypt_pk(hnnrt_encryptor *enc, hnnrt_ct *ct, unsigned level)
{
    const hnnrt_context *ctx = enc->ctx;
    const size_t n = ctx->n;
    hnnrt_rns_basis qp;
    hnnrt_ctx_basis_qp(ctx, level, &qp);
    const unsigned E = qp.count;
    uint64_t *ext0 = enc->ks.ext0, *ext1 = enc->ks.ext1;

    hnnrt_sample_ternary(&enc->prng, n, enc->small);
    small_ntt(enc, &qp, enc->u);
    for (unsigned part = 0; part < 2; part++) {
        uint64_t *ext = part ? ext1 : ext0;
        const uint64_t *key = part ? enc->pk->a : enc->pk->b;
        hnnrt_sample_gaussian(&enc->prng, ctx, n, enc->small);
        small_ntt(enc, &qp, enc->e);
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (ctx->threads > 1)
        for (unsigned J = 0; J < E; J++) {
            unsigned p = J <= level ? J : ctx->max_level + 1 + (J - level - 1);
            const hnnrt_modulus *m = &ctx->ntt[p].mod;
            const uint64_t *kl = key + (size_t)p * n, *ul = enc->u + (size_t)J * n, *el = enc->e + (size_t)J * n;
            uint64_t *o = ext + (size_t)J * n;
            for (size_t c = 0; c < n; c++)
                o[c] = hnnrt_mod_reduce128((hnnrt_u128)ul[c] * kl[c] + el[c], m);
        }
    }
    hnnrt_ks_moddown(ctx, &enc->ks, level, ext0, hnnrt_ct_part(ct, 0));
    hnnrt_ks_moddown(ctx, &enc->ks, level, ext1, hnnrt_ct_part(ct, 1));
}

static void
encrypt_sk(hnnrt_encryptor *enc, hnnrt_ct *ct, unsigned level)
{
    const hnnrt_context *ctx = enc->ctx;
    const size_t n = ctx->n;
    hnnrt_rns_basis q;
    hnnrt_ctx_basis_q(ctx, level, &q);
    uint8_t seed[HNNRT_SEED_BYTES];
    unsigned idx[HNNRT_MAX_PRIMES];
    for (unsigned i = 0; i <= level; i++)
        idx[i] = i;
    hnnrt_prng_bytes(&enc->prng, seed, sizeof seed);
    uint64_t *c0 = hnnrt_ct_part(ct, 0), *c1 = hnnrt_ct_part(ct, 1);
    hnnrt_sample_uniform_seeded(seed, &q, idx, n, ctx->threads, c1);
    hnnrt_sample_gaussian(&enc->prng, ctx, n, enc->small);
    small_ntt(enc, &q, c0);
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (ctx->threads > 1)
    for (unsigned i = 0; i <= level; i++) {
        const hnnrt_modulus *m = &ctx->ntt[i].mod;
        const uint64_t *s = enc->sk->ntt + (size_t)i * n;
        uint64_t *a = c1 + (size_t)i * n, *b = c0 + (size_t)i * n;
        for (size_t c = 0; c < n; c++)
            b[c] = hnnrt_mod_sub(b[c], hnnrt_mod_mul(a[c], s[c], m), m->value);
    }
}

hnnrt_status
hnnrt_encrypt(hnnrt_encryptor *enc, hnnrt_ct *ct, const hnnrt_pt *pt)
{
    if (!enc || !ct || !pt)
        return HNNRT_ERR_ARG;
    const hnnrt_context *ctx = enc->ctx;
    if (ct->ctx != ctx || pt->ctx != ctx)
        return hnnrt_msg_set(enc->last_error, HNNRT_ERR_PARAMS_MISMATCH, "encrypt: objects of another context");
    if (!pt->data)
        return hnnrt_msg_set(enc->last_error, HNNRT_ERR_ARG, "encrypt: empty plaintext");
    unsigned level = pt->level;
    if (hnnrt_ct_ensure(ct, 2, level) != HNNRT_OK)
        return hnnrt_msg_set(enc->last_error, HNNRT_ERR_ALLOC, "encrypt: out of memory");
    if (enc->pk)
        encrypt_pk(enc, ct, level);
    else
        encrypt_sk(enc, ct, level);
    hnnrt_rns_basis q;
    hnnrt_poly_env env;
    hnnrt_ctx_basis_q(ctx, level, &q);
    hnnrt_ctx_env(ctx, &env);
    hnnrt_poly_add(&env, &q, hnnrt_ct_part(ct, 0), hnnrt_ct_part(ct, 0), pt->data);
    ct->size = 2;
    ct->level = level;
    ct->scale = pt->scale;
    return HNNRT_OK;
}

/* ------------------------------------------------------------------ decryption */

hnnrt_status
hnnrt_decryptor_new(const hnnrt_context *ctx, const hnnrt_secret_key *sk, hnnrt_decryptor **out)
{
    if (!ctx || !sk || !out)
        return HNNRT_ERR_ARG;
    *out = NULL;
    if (sk->ctx != ctx)
        return HNNRT_ERR_PARAMS_MISMATCH;
    hnnrt_decryptor *dec = hnnrt_mem_alloc(ctx->counter, sizeof *dec);
    if (!dec)
        return HNNRT_ERR_ALLOC;
    dec->ctx = ctx;
    dec->sk = sk;
    size_t words = (size_t)(ctx->max_level + 1) * ctx->n;
    dec->s2 = hnnrt_mem_alloc(ctx->counter, words * sizeof *dec->s2);
    if (!dec->s2) {
        hnnrt_decryptor_free(dec);
        return HNNRT_ERR_ALLOC;
    }
    hnnrt_rns_basis q;
    hnnrt_poly_env env;
    hnnrt_ctx_basis_q(ctx, ctx->max_level, &q);
    hnnrt_ctx_env(ctx, &env);
    hnnrt_poly_mul(&env, &q, dec->s2, sk->ntt, sk->ntt);
    *out = dec;
    return HNNRT_OK;
}

void
hnnrt_decryptor_free(hnnrt_decryptor *dec)
{
    if (!dec)
        return;
    const hnnrt_context *ctx = dec->ctx;
    hnnrt_mem_free_secret(ctx->counter, dec->s2, (size_t)(ctx->max_level + 1) * ctx->n * sizeof *dec->s2);
    hnnrt_mem_free_secret(ctx->counter, dec, sizeof *dec);
}

const char *
hnnrt_decryptor_last_error(const hnnrt_decryptor *dec)
{
    return dec ? dec->last_error : "";
}

hnnrt_status
hnnrt_decrypt(hnnrt_decryptor *dec, hnnrt_pt *pt, const hnnrt_ct *ct)
{
    if (!dec || !pt || !ct)
        return HNNRT_ERR_ARG;
    const hnnrt_context *ctx = dec->ctx;
    if (ct->ctx != ctx || pt->ctx != ctx)
        return hnnrt_msg_set(dec->last_error, HNNRT_ERR_PARAMS_MISMATCH, "decrypt: objects of another context");
    if (!ct->data || ct->size < 2 || ct->size > 3)
        return hnnrt_msg_set(dec->last_error, HNNRT_ERR_SIZE, "decrypt: ciphertext has %u parts", ct->size);
    unsigned level = ct->level;
    if (hnnrt_pt_ensure(pt, level) != HNNRT_OK)
        return hnnrt_msg_set(dec->last_error, HNNRT_ERR_ALLOC, "decrypt: out of memory");
    const size_t n = ctx->n;
    const uint64_t *c0 = hnnrt_ct_part(ct, 0), *c1 = hnnrt_ct_part(ct, 1);
    const uint64_t *c2 = ct->size == 3 ? hnnrt_ct_part(ct, 2) : NULL;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (ctx->threads > 1)
    for (unsigned i = 0; i <= level; i++) {
        const hnnrt_modulus *m = &ctx->ntt[i].mod;
        const size_t off = (size_t)i * n;
        const uint64_t *s = dec->sk->ntt + off, *s2 = dec->s2 + off;
        uint64_t *o = pt->data + off;
        for (size_t c = 0; c < n; c++) {
            hnnrt_u128 acc = (hnnrt_u128)c1[off + c] * s[c] + c0[off + c];
            if (c2)
                acc += (hnnrt_u128)c2[off + c] * s2[c];
            o[c] = hnnrt_mod_reduce128(acc, m);
        }
    }
    pt->level = level;
    pt->scale = ct->scale;
    return HNNRT_OK;
}
