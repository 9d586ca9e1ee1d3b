/*
 * Keys. The uniform a parts of the public, relinearisation and Galois keys
 * travel as their 32-byte seed and are expanded again on reading, so those
 * objects carry only b: about half the size of the keys in memory, less
 * again with bit packing. The secret key travels as 2-bit coefficients.
 *
 * Readers check that the body has exactly the size the fixed fields imply
 * before allocating anything, then unpack into the new object and free it
 * (wiped, for the secret key) on the first bad field.
 */
#include <stdio.h>
#include <string.h>

#include "serial/serial.h"

/* ------------------------------------------------------------------ secret key */

/*
 * Coefficient j is a 2-bit two's-complement integer at bits 2 (j mod 4) of
 * byte j / 4: 00 = 0, 01 = 1, 11 = -1; 10 (-2) is invalid. Both directions
 * are arithmetic on the value, without branches on the secret.
 */
hnnrt_status
hnnrt_secret_key_serialize(const hnnrt_secret_key *sk, uint8_t *buf, size_t cap, size_t *len)
{
    if (!sk || !len || !sk->coeffs)
        return HNNRT_ERR_ARG;
    const hnnrt_context *ctx = sk->ctx;
    const size_t body = 4 + ctx->n / 4;
    hnnrt_status st = hnnrt_ser_check_out(buf, cap, len, HNNRT_SER_HEADER_BYTES + body);
    if (st != HNNRT_OK || !buf)
        return st;
    hnnrt_ser_writer w = {buf, cap, 0, 0};
    hnnrt_ser_put_header(&w, HNNRT_KIND_SECRET_KEY, ctx->fingerprint, body);
    hnnrt_ser_put_u32(&w, sk->hamming_weight);
    for (size_t j = 0; j < ctx->n; j += 4) {
        uint32_t byte = 0;
        for (unsigned k = 0; k < 4; k++)
            byte |= ((uint32_t)sk->coeffs[j + k] & 3u) << (2 * k);
        hnnrt_ser_put_u8(&w, (uint8_t)byte);
    }
    return w.overflow ? HNNRT_ERR_ARG : HNNRT_OK;
}

static uint32_t
sk_code(const uint8_t *src, size_t j)
{
    return (uint32_t)(src[j / 4] >> (2 * (j % 4))) & 3u;
}

hnnrt_status
hnnrt_secret_key_deserialize(const hnnrt_context *ctx, hnnrt_secret_key **out, const uint8_t *buf, size_t len,
                             hnnrt_error *err)
{
    if (!ctx || !out)
        return hnnrt_err_set(err, HNNRT_ERR_ARG, "secret key: NULL argument");
    hnnrt_ser_reader r;
    hnnrt_status st = hnnrt_ser_open(&r, buf, len, HNNRT_KIND_SECRET_KEY, ctx, NULL, err);
    uint32_t hw = 0;
    if (st == HNNRT_OK && (st = hnnrt_ser_get_u32(&r, &hw, "the Hamming weight")) == HNNRT_OK && hw > ctx->n)
        st = hnnrt_ser_fail(&r, HNNRT_ERR_SERIAL_CORRUPT, "Hamming weight %u exceeds N = %zu", hw, ctx->n);
    if (st == HNNRT_OK)
        st = hnnrt_ser_expect_rest(&r, ctx->n / 4, "the coefficients");
    if (st != HNNRT_OK)
        return st;

    hnnrt_secret_key *sk = hnnrt_mem_alloc(ctx->counter, sizeof *sk);
    if (!sk)
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "secret key: out of memory");
    sk->ctx = ctx;
    sk->hamming_weight = hw;
    sk->coeffs = hnnrt_mem_alloc(ctx->counter, ctx->n * sizeof *sk->coeffs);
    sk->ntt = hnnrt_mem_alloc(ctx->counter, (size_t)ctx->n_primes * ctx->n * sizeof *sk->ntt);
    if (!sk->coeffs || !sk->ntt) {
        hnnrt_secret_key_free(sk);
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "secret key: out of memory");
    }
    const uint8_t *src = r.buf + r.pos;
    uint32_t invalid = 0, nonzero = 0;
    for (size_t j = 0; j < ctx->n; j++) {
        uint32_t code = sk_code(src, j);
        invalid |= (uint32_t)(code == 2);
        nonzero += (uint32_t)(code != 0);
        sk->coeffs[j] = (int32_t)code - (int32_t)((code & 2u) << 1);
    }
    r.pos += ctx->n / 4;
    if (invalid) {
        /* The key is rejected: locating the bad code may branch freely. */
        size_t j = 0;
        while (j < ctx->n && sk_code(src, j) != 2)
            j++;
        st = hnnrt_ser_fail(&r, HNNRT_ERR_SERIAL_CORRUPT, "coefficient %zu has the invalid code 2 (not -1, 0 or 1)",
                            j);
    } else if (hw && nonzero != hw) {
        st = hnnrt_ser_fail(&r, HNNRT_ERR_SERIAL_CORRUPT,
                            "%u coefficients are non-zero but the Hamming weight says %u", nonzero, hw);
    }
    if (st == HNNRT_OK)
        st = hnnrt_ser_close(&r);
    if (st == HNNRT_OK && (st = hnnrt_secret_key_refresh_ntt(sk)) != HNNRT_OK)
        hnnrt_err_set(err, st, "secret key: cannot rebuild the NTT form");
    if (st != HNNRT_OK) {
        hnnrt_secret_key_free(sk);
        return st;
    }
    *out = sk;
    return HNNRT_OK;
}

/* ------------------------------------------------------------------ public key */

hnnrt_status
hnnrt_public_key_serialize(const hnnrt_public_key *pk, uint8_t *buf, size_t cap, size_t *len)
{
    if (!pk || !len || !pk->b)
        return HNNRT_ERR_ARG;
    const hnnrt_context *ctx = pk->ctx;
    const size_t body = HNNRT_SEED_BYTES + hnnrt_ser_poly_bytes(ctx, ctx->n_primes);
    hnnrt_status st = hnnrt_ser_check_out(buf, cap, len, HNNRT_SER_HEADER_BYTES + body);
    if (st != HNNRT_OK || !buf)
        return st;
    hnnrt_ser_writer w = {buf, cap, 0, 0};
    hnnrt_ser_put_header(&w, HNNRT_KIND_PUBLIC_KEY, ctx->fingerprint, body);
    hnnrt_ser_put_bytes(&w, pk->seed, HNNRT_SEED_BYTES);
    hnnrt_ser_put_poly(&w, ctx, ctx->n_primes, pk->b);
    return w.overflow ? HNNRT_ERR_ARG : HNNRT_OK;
}

hnnrt_status
hnnrt_public_key_deserialize(const hnnrt_context *ctx, hnnrt_public_key **out, const uint8_t *buf, size_t len,
                             hnnrt_error *err)
{
    if (!ctx || !out)
        return hnnrt_err_set(err, HNNRT_ERR_ARG, "public key: NULL argument");
    hnnrt_ser_reader r;
    hnnrt_status st = hnnrt_ser_open(&r, buf, len, HNNRT_KIND_PUBLIC_KEY, ctx, NULL, err);
    if (st == HNNRT_OK)
        st = hnnrt_ser_expect_rest(&r, HNNRT_SEED_BYTES + hnnrt_ser_poly_bytes(ctx, ctx->n_primes),
                                   "the seed and b");
    if (st != HNNRT_OK)
        return st;
    hnnrt_public_key *pk;
    if (hnnrt_public_key_alloc(ctx, &pk) != HNNRT_OK)
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "public key: out of memory");
    st = hnnrt_ser_get_bytes(&r, pk->seed, HNNRT_SEED_BYTES, "the seed");
    if (st == HNNRT_OK)
        st = hnnrt_ser_get_poly(&r, ctx, ctx->n_primes, pk->b, "b");
    if (st == HNNRT_OK)
        st = hnnrt_ser_close(&r);
    if (st != HNNRT_OK) {
        hnnrt_public_key_free(pk);
        return st;
    }
    hnnrt_public_key_expand_a(pk);
    *out = pk;
    return HNNRT_OK;
}

/* ------------------------------------------------------------------ switching keys */

/* Seed, then b of every digit over every prime. */
static size_t
swk_bytes(const hnnrt_context *ctx)
{
    return HNNRT_SEED_BYTES + ctx->dnum * hnnrt_ser_poly_bytes(ctx, ctx->n_primes);
}

static void
put_swk(hnnrt_ser_writer *w, const hnnrt_context *ctx, const hnnrt_swk *k)
{
    const size_t stride = (size_t)ctx->n_primes * ctx->n;
    hnnrt_ser_put_bytes(w, k->seed, HNNRT_SEED_BYTES);
    for (unsigned j = 0; j < ctx->dnum; j++)
        hnnrt_ser_put_poly(w, ctx, ctx->n_primes, k->b + j * stride);
}

/* Into an allocated k; expands a on success. label names the key in messages. */
static hnnrt_status
get_swk(hnnrt_ser_reader *r, const hnnrt_context *ctx, hnnrt_swk *k, const char *label)
{
    const size_t stride = (size_t)ctx->n_primes * ctx->n;
    hnnrt_status st = hnnrt_ser_get_bytes(r, k->seed, HNNRT_SEED_BYTES, "the seed");
    char where[96];
    for (unsigned j = 0; j < ctx->dnum && st == HNNRT_OK; j++) {
        snprintf(where, sizeof where, "%s%sdigit %u", label, *label ? " " : "", j);
        st = hnnrt_ser_get_poly(r, ctx, ctx->n_primes, k->b + j * stride, where);
    }
    if (st == HNNRT_OK)
        hnnrt_swk_expand_a(k, ctx);
    return st;
}

hnnrt_status
hnnrt_relin_key_serialize(const hnnrt_relin_key *rk, uint8_t *buf, size_t cap, size_t *len)
{
    if (!rk || !len || !rk->key.b)
        return HNNRT_ERR_ARG;
    const hnnrt_context *ctx = rk->ctx;
    const size_t body = swk_bytes(ctx);
    hnnrt_status st = hnnrt_ser_check_out(buf, cap, len, HNNRT_SER_HEADER_BYTES + body);
    if (st != HNNRT_OK || !buf)
        return st;
    hnnrt_ser_writer w = {buf, cap, 0, 0};
    hnnrt_ser_put_header(&w, HNNRT_KIND_RELIN_KEY, ctx->fingerprint, body);
    put_swk(&w, ctx, &rk->key);
    return w.overflow ? HNNRT_ERR_ARG : HNNRT_OK;
}

hnnrt_status
hnnrt_relin_key_deserialize(const hnnrt_context *ctx, hnnrt_relin_key **out, const uint8_t *buf, size_t len,
                            hnnrt_error *err)
{
    if (!ctx || !out)
        return hnnrt_err_set(err, HNNRT_ERR_ARG, "relinearisation key: NULL argument");
    hnnrt_ser_reader r;
    hnnrt_status st = hnnrt_ser_open(&r, buf, len, HNNRT_KIND_RELIN_KEY, ctx, NULL, err);
    if (st == HNNRT_OK)
        st = hnnrt_ser_expect_rest(&r, swk_bytes(ctx), "the seed and the digits");
    if (st != HNNRT_OK)
        return st;
    hnnrt_relin_key *rk = hnnrt_mem_alloc(ctx->counter, sizeof *rk);
    if (!rk)
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "relinearisation key: out of memory");
    rk->ctx = ctx;
    if (hnnrt_swk_alloc(&rk->key, ctx) != HNNRT_OK) {
        hnnrt_relin_key_free(rk);
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "relinearisation key: out of memory");
    }
    st = get_swk(&r, ctx, &rk->key, "");
    if (st == HNNRT_OK)
        st = hnnrt_ser_close(&r);
    if (st != HNNRT_OK) {
        hnnrt_relin_key_free(rk);
        return st;
    }
    *out = rk;
    return HNNRT_OK;
}

/* ------------------------------------------------------------------ Galois keys */

static size_t
galois_entry_bytes(const hnnrt_context *ctx)
{
    return 8 + swk_bytes(ctx);
}

hnnrt_status
hnnrt_galois_keys_serialize(const hnnrt_galois_keys *gk, uint8_t *buf, size_t cap, size_t *len)
{
    if (!gk || !len || gk->count > UINT32_MAX)
        return HNNRT_ERR_ARG;
    const hnnrt_context *ctx = gk->ctx;
    size_t keys = hnnrt_ser_mul_size(gk->count, galois_entry_bytes(ctx));
    if (gk->count && (!keys || keys > SIZE_MAX - 4 - HNNRT_SER_HEADER_BYTES))
        return HNNRT_ERR_ARG;
    const size_t body = 4 + keys;
    hnnrt_status st = hnnrt_ser_check_out(buf, cap, len, HNNRT_SER_HEADER_BYTES + body);
    if (st != HNNRT_OK || !buf)
        return st;
    hnnrt_ser_writer w = {buf, cap, 0, 0};
    hnnrt_ser_put_header(&w, HNNRT_KIND_GALOIS_KEYS, ctx->fingerprint, body);
    hnnrt_ser_put_u32(&w, (uint32_t)gk->count);
    for (size_t i = 0; i < gk->count; i++) {
        hnnrt_ser_put_u64(&w, gk->entries[i].element);
        put_swk(&w, ctx, &gk->entries[i].key);
    }
    return w.overflow ? HNNRT_ERR_ARG : HNNRT_OK;
}

/*
 * Every element odd (a unit mod 2N), below 2N, not the identity 1, and
 * distinct: checked on the raw bytes, before any key is allocated. seen is a
 * bitmap of 2N bits.
 */
static hnnrt_status
check_elements(const hnnrt_ser_reader *r, const hnnrt_context *ctx, uint32_t count, size_t entry, uint8_t *seen)
{
    const uint64_t two_n = 2 * (uint64_t)ctx->n;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *p = r->buf + r->pos + (size_t)i * entry;
        uint64_t g = 0;
        for (int b = 0; b < 8; b++)
            g |= (uint64_t)p[b] << (8 * b);
        const char *why = NULL;
        if (g >= two_n)
            why = "is not below 2N";
        else if (!(g & 1))
            why = "is even (not a unit mod 2N)";
        else if (g == 1)
            why = "is the identity";
        else if (seen[g / 8] & (1u << (g % 8)))
            why = "appears twice";
        if (why)
            return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_CORRUPT, "key %u: Galois element %llu %s (N = %zu)", i,
                                  (unsigned long long)g, why, ctx->n);
        seen[g / 8] |= (uint8_t)(1u << (g % 8));
    }
    return HNNRT_OK;
}

hnnrt_status
hnnrt_galois_keys_deserialize(const hnnrt_context *ctx, hnnrt_galois_keys **out, const uint8_t *buf, size_t len,
                              hnnrt_error *err)
{
    if (!ctx || !out)
        return hnnrt_err_set(err, HNNRT_ERR_ARG, "Galois key set: NULL argument");
    hnnrt_ser_reader r;
    hnnrt_status st = hnnrt_ser_open(&r, buf, len, HNNRT_KIND_GALOIS_KEYS, ctx, NULL, err);
    uint32_t count = 0;
    if (st == HNNRT_OK && (st = hnnrt_ser_get_u32(&r, &count, "the key count")) == HNNRT_OK &&
        count > ctx->n - 1)
        st = hnnrt_ser_fail(&r, HNNRT_ERR_SERIAL_CORRUPT,
                            "%u keys, more than the N - 1 = %zu Galois elements other than the identity", count,
                            ctx->n - 1);
    const size_t entry = galois_entry_bytes(ctx);
    if (st == HNNRT_OK) {
        size_t total = hnnrt_ser_mul_size(count, entry);
        if (count && !total)
            st = hnnrt_ser_fail(&r, HNNRT_ERR_SERIAL_CORRUPT, "%u keys do not fit in memory", count);
        else
            st = hnnrt_ser_expect_rest(&r, total, "the keys");
    }
    if (st != HNNRT_OK)
        return st;
    const size_t seen_bytes = ctx->n / 4; /* 2N bits */
    uint8_t *seen = hnnrt_mem_alloc(ctx->counter, seen_bytes);
    if (!seen)
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "Galois key set: out of memory");
    st = check_elements(&r, ctx, count, entry, seen);
    hnnrt_mem_free(ctx->counter, seen);
    if (st != HNNRT_OK)
        return st;

    hnnrt_galois_keys *gk;
    if (hnnrt_galois_keys_alloc(ctx, &gk) != HNNRT_OK)
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "Galois key set: out of memory");
    char label[64];
    for (uint32_t i = 0; i < count && st == HNNRT_OK; i++) {
        uint64_t g = 0;
        hnnrt_galois_entry *e;
        st = hnnrt_ser_get_u64(&r, &g, "a Galois element");
        if (st == HNNRT_OK && hnnrt_galois_keys_append(gk, g, &e) != HNNRT_OK)
            st = hnnrt_err_set(err, HNNRT_ERR_ALLOC, "Galois key set: out of memory");
        if (st != HNNRT_OK)
            break;
        snprintf(label, sizeof label, "key %u (element %llu)", i, (unsigned long long)g);
        st = get_swk(&r, ctx, &e->key, label);
    }
    if (st == HNNRT_OK)
        st = hnnrt_ser_close(&r);
    if (st != HNNRT_OK) {
        hnnrt_galois_keys_free(gk);
        return st;
    }
    *out = gk;
    return HNNRT_OK;
}
