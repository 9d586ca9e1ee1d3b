#include <stdlib.h>
#include <string.h>

#include "keys/keys.h"

uint64_t
hnnrt_galois_element_rotation(const hnnrt_context *ctx, int step)
{
    const uint64_t two_n = 2 * (uint64_t)ctx->n, slots = ctx->n / 2;
    int64_t k = step % (int64_t)slots;
    if (k < 0)
        k += (int64_t)slots;
    uint64_t g = 1, b = 5;
    for (uint64_t e = (uint64_t)k; e; e >>= 1) {
        if (e & 1)
            g = g * b % two_n;
        b = b * b % two_n;
    }
    return g;
}

uint64_t
hnnrt_galois_element_conjugate(const hnnrt_context *ctx)
{
    return 2 * (uint64_t)ctx->n - 1;
}

/* NTT slot i holds a(psi^(2 brev(i) + 1)); a(X^g) there is a(psi^(g (2 brev(i) + 1))),
 * the value at slot brev((g (2 brev(i) + 1) mod 2n - 1) / 2). */
void
hnnrt_galois_perm(const hnnrt_context *ctx, uint64_t g, uint32_t *perm)
{
    const unsigned log_n = ctx->log_n;
    const uint64_t mask = 2 * (uint64_t)ctx->n - 1;
    for (uint32_t i = 0; i < ctx->n; i++) {
        uint64_t e = 2 * (uint64_t)hnnrt_ntt_bitrev(i, log_n) + 1;
        uint64_t img = (g * e) & mask;
        perm[i] = hnnrt_ntt_bitrev((uint32_t)(img >> 1), log_n);
    }
}

const hnnrt_galois_entry *
hnnrt_galois_find(const hnnrt_galois_keys *gk, uint64_t g)
{
    if (!gk)
        return NULL;
    for (size_t i = 0; i < gk->count; i++)
        if (gk->entries[i].element == g)
            return &gk->entries[i];
    return NULL;
}

hnnrt_status
hnnrt_galois_keys_alloc(const hnnrt_context *ctx, hnnrt_galois_keys **out)
{
    hnnrt_galois_keys *gk = hnnrt_mem_alloc(ctx->counter, sizeof *gk);
    if (!gk)
        return HNNRT_ERR_ALLOC;
    gk->ctx = ctx;
    *out = gk;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_galois_keys_append(hnnrt_galois_keys *gk, uint64_t g, hnnrt_galois_entry **entry)
{
    const hnnrt_context *ctx = gk->ctx;
    if (gk->count == gk->cap) {
        size_t cap = gk->cap ? 2 * gk->cap : 8;
        hnnrt_galois_entry *e = hnnrt_mem_alloc(ctx->counter, cap * sizeof *e);
        if (!e)
            return HNNRT_ERR_ALLOC;
        if (gk->entries)
            memcpy(e, gk->entries, gk->count * sizeof *e);
        hnnrt_mem_free(ctx->counter, gk->entries);
        gk->entries = e;
        gk->cap = cap;
    }
    hnnrt_galois_entry *e = &gk->entries[gk->count];
    memset(e, 0, sizeof *e);
    e->element = g;
    e->perm = hnnrt_mem_alloc(ctx->counter, ctx->n * sizeof *e->perm);
    if (!e->perm || hnnrt_swk_alloc(&e->key, ctx) != HNNRT_OK) {
        hnnrt_mem_free(ctx->counter, e->perm);
        return HNNRT_ERR_ALLOC;
    }
    hnnrt_galois_perm(ctx, g, e->perm);
    gk->count++;
    *entry = e;
    return HNNRT_OK;
}

static hnnrt_status
add_element(hnnrt_keygen *kg, const hnnrt_secret_key *sk, hnnrt_galois_keys *gk, uint64_t g, uint64_t *s_from)
{
    const hnnrt_context *ctx = kg->ctx;
    if (g == 1 || hnnrt_galois_find(gk, g))
        return HNNRT_OK;
    hnnrt_galois_entry *e;
    hnnrt_status st = hnnrt_galois_keys_append(gk, g, &e);
    if (st != HNNRT_OK)
        return st;
    const size_t n = ctx->n;
    for (unsigned i = 0; i < ctx->n_primes; i++) {
        const uint64_t *src = sk->ntt + (size_t)i * n;
        uint64_t *dst = s_from + (size_t)i * n;
        for (size_t j = 0; j < n; j++)
            dst[j] = src[e->perm[j]];
    }
    st = hnnrt_swk_generate(kg, sk, s_from, &e->key);
    if (st != HNNRT_OK) {
        gk->count--;
        hnnrt_swk_release(&e->key, ctx);
        hnnrt_mem_free(ctx->counter, e->perm);
    }
    return st;
}

hnnrt_status
hnnrt_keygen_galois_add(hnnrt_keygen *kg, const hnnrt_secret_key *sk, const int *steps, size_t n_steps,
                        int with_conjugate, hnnrt_galois_keys *gk)
{
    if (!kg || !sk || !gk || (!steps && n_steps))
        return HNNRT_ERR_ARG;
    const hnnrt_context *ctx = kg->ctx;
    if (sk->ctx != ctx || gk->ctx != ctx)
        return hnnrt_msg_set(kg->last_error, HNNRT_ERR_PARAMS_MISMATCH, "galois keys: objects of another context");
    size_t words = (size_t)ctx->n_primes * ctx->n;
    uint64_t *s_from = hnnrt_mem_alloc(ctx->counter, words * sizeof *s_from);
    if (!s_from)
        return hnnrt_msg_set(kg->last_error, HNNRT_ERR_ALLOC, "galois keys: out of memory");
    hnnrt_status st = HNNRT_OK;
    for (size_t i = 0; i < n_steps && st == HNNRT_OK; i++)
        st = add_element(kg, sk, gk, hnnrt_galois_element_rotation(ctx, steps[i]), s_from);
    if (st == HNNRT_OK && with_conjugate)
        st = add_element(kg, sk, gk, hnnrt_galois_element_conjugate(ctx), s_from);
    hnnrt_mem_free_secret(ctx->counter, s_from, words * sizeof *s_from);
    if (st != HNNRT_OK)
        return hnnrt_msg_set(kg->last_error, st, "galois keys: out of memory");
    return HNNRT_OK;
}

hnnrt_status
hnnrt_keygen_galois(hnnrt_keygen *kg, const hnnrt_secret_key *sk, const int *steps, size_t n_steps,
                    int with_conjugate, hnnrt_galois_keys **out)
{
    if (!kg || !out)
        return HNNRT_ERR_ARG;
    *out = NULL;
    hnnrt_galois_keys *gk;
    if (hnnrt_galois_keys_alloc(kg->ctx, &gk) != HNNRT_OK)
        return hnnrt_msg_set(kg->last_error, HNNRT_ERR_ALLOC, "galois keys: out of memory");
    hnnrt_status st = hnnrt_keygen_galois_add(kg, sk, steps, n_steps, with_conjugate, gk);
    if (st != HNNRT_OK) {
        hnnrt_galois_keys_free(gk);
        return st;
    }
    *out = gk;
    return HNNRT_OK;
}

void
hnnrt_galois_keys_free(hnnrt_galois_keys *gk)
{
    if (!gk)
        return;
    for (size_t i = 0; i < gk->count; i++) {
        hnnrt_swk_release(&gk->entries[i].key, gk->ctx);
        hnnrt_mem_free(gk->ctx->counter, gk->entries[i].perm);
    }
    hnnrt_mem_free(gk->ctx->counter, gk->entries);
    hnnrt_mem_free(gk->ctx->counter, gk);
}

size_t
hnnrt_galois_keys_count(const hnnrt_galois_keys *gk)
{
    return gk ? gk->count : 0;
}

int
hnnrt_galois_keys_has(const hnnrt_galois_keys *gk, uint64_t galois_element)
{
    return hnnrt_galois_find(gk, galois_element) != NULL;
}

size_t
hnnrt_galois_keys_bytes(const hnnrt_galois_keys *gk)
{
    return gk ? gk->count * 2 * hnnrt_swk_words(gk->ctx) * sizeof(uint64_t) : 0;
}
