/* Operations that switch keys: relinearisation, rotations, conjugation. */
#include <string.h>

#include "eval/eval.h"

static hnnrt_status
check_in(hnnrt_evaluator *ev, const char *op, const hnnrt_ct *a, unsigned size)
{
    if (!a || !a->data)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "%s: empty ciphertext", op);
    if (a->ctx != ev->ctx)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_PARAMS_MISMATCH, "%s: ciphertext of another context", op);
    if (a->size != size)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_SIZE, "%s: ciphertext has %u parts, expected %u", op, a->size,
                             size);
    return HNNRT_OK;
}

static hnnrt_status
check_out(hnnrt_evaluator *ev, const char *op, hnnrt_ct *out, unsigned level)
{
    if (!out)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "%s: NULL output", op);
    if (out->ctx != ev->ctx)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_PARAMS_MISMATCH, "%s: output of another context", op);
    if (hnnrt_ct_ensure(out, 2, level) != HNNRT_OK)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ALLOC, "%s: out of memory", op);
    return HNNRT_OK;
}

/* ------------------------------------------------------------------ relinearisation */

hnnrt_status
hnnrt_eval_relin(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    hnnrt_status st = check_in(ev, "relin", a, 3);
    if (st != HNNRT_OK)
        return st;
    if (!ev->rk)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_MISSING_KEY, "relin: the evaluator has no relinearisation key");
    st = check_out(ev, "relin", out, a->level);
    if (st != HNNRT_OK)
        return st;
    const hnnrt_context *ctx = ev->ctx;
    const unsigned level = a->level;
    hnnrt_keyswitch(ctx, &ev->ks, &ev->rk->key, level, hnnrt_ct_part(a, 2), ev->t0, ev->t1);
    hnnrt_poly_env env;
    hnnrt_rns_basis q;
    hnnrt_ctx_env(ctx, &env);
    hnnrt_ctx_basis_q(ctx, level, &q);
    hnnrt_poly_add(&env, &q, hnnrt_ct_part(out, 0), hnnrt_ct_part(a, 0), ev->t0);
    hnnrt_poly_add(&env, &q, hnnrt_ct_part(out, 1), hnnrt_ct_part(a, 1), ev->t1);
    out->size = 2;
    out->level = level;
    out->scale = a->scale;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_eval_mul_relin(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, const hnnrt_ct *b)
{
    hnnrt_status st = hnnrt_eval_mul_ct(ev, out, a, b);
    if (st != HNNRT_OK)
        return st;
    return hnnrt_eval_relin(ev, out, out);
}

hnnrt_status
hnnrt_eval_square_relin(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a)
{
    return hnnrt_eval_mul_relin(ev, out, a, a);
}

/* ------------------------------------------------------------------ automorphisms */

static void
permute(const hnnrt_context *ctx, unsigned level, const uint32_t *perm, const uint64_t *in, uint64_t *out)
{
    const size_t n = ctx->n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (ctx->threads > 1)
    for (unsigned i = 0; i <= level; i++) {
        const uint64_t *src = in + (size_t)i * n;
        uint64_t *dst = out + (size_t)i * n;
        for (size_t c = 0; c < n; c++)
            dst[c] = src[perm[c]];
    }
}

static hnnrt_status
find_key(hnnrt_evaluator *ev, const char *op, uint64_t g, int step, const hnnrt_galois_entry **e)
{
    *e = hnnrt_galois_find(ev->gk, g);
    if (!*e) {
        if (op[0] == 'c')
            return hnnrt_msg_set(ev->last_error, HNNRT_ERR_MISSING_KEY, "%s: no Galois key for conjugation", op);
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_MISSING_KEY, "%s: no Galois key for step %d (element %llu)",
                             op, step, (unsigned long long)g);
    }
    return HNNRT_OK;
}

/* out = tau_g(a) switched back to s. */
static hnnrt_status
apply_galois(hnnrt_evaluator *ev, const char *op, hnnrt_ct *out, const hnnrt_ct *a, uint64_t g, int step)
{
    hnnrt_status st = check_in(ev, op, a, 2);
    if (st != HNNRT_OK)
        return st;
    const hnnrt_context *ctx = ev->ctx;
    if (g == 1) {
        if (out == a)
            return HNNRT_OK;
        st = check_out(ev, op, out, a->level);
        return st != HNNRT_OK ? st : hnnrt_ct_copy(out, a);
    }
    const hnnrt_galois_entry *e;
    if ((st = find_key(ev, op, g, step, &e)) != HNNRT_OK)
        return st;
    if ((st = check_out(ev, op, out, a->level)) != HNNRT_OK)
        return st;
    const unsigned level = a->level;
    /* t2 = tau(c1); (t0, t1) = KS(t2); out = (tau(c0) + t0, t1). */
    permute(ctx, level, e->perm, hnnrt_ct_part(a, 1), ev->t2);
    hnnrt_keyswitch(ctx, &ev->ks, &e->key, level, ev->t2, ev->t0, ev->t1);
    permute(ctx, level, e->perm, hnnrt_ct_part(a, 0), ev->t2);
    hnnrt_poly_env env;
    hnnrt_rns_basis q;
    hnnrt_ctx_env(ctx, &env);
    hnnrt_ctx_basis_q(ctx, level, &q);
    hnnrt_poly_add(&env, &q, hnnrt_ct_part(out, 0), ev->t2, ev->t0);
    memcpy(hnnrt_ct_part(out, 1), ev->t1, (size_t)(level + 1) * ctx->n * sizeof(uint64_t));
    out->size = 2;
    out->level = level;
    out->scale = a->scale;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_eval_rotate(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, int step)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    return apply_galois(ev, "rotate", out, a, hnnrt_galois_element_rotation(ev->ctx, step), step);
}

hnnrt_status
hnnrt_eval_conjugate(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    return apply_galois(ev, "conjugate", out, a, hnnrt_galois_element_conjugate(ev->ctx), 0);
}

/* ------------------------------------------------------------------ hoisting */

hnnrt_status
hnnrt_hoisted_new(hnnrt_evaluator *ev, hnnrt_hoisted **out)
{
    if (!ev || !out)
        return HNNRT_ERR_ARG;
    *out = NULL;
    const hnnrt_context *ctx = ev->ctx;
    hnnrt_hoisted *h = hnnrt_mem_alloc(ctx->counter, sizeof *h);
    if (!h)
        return HNNRT_ERR_ALLOC;
    h->ev = ev;
    const size_t n = ctx->n;
    h->c0 = hnnrt_mem_alloc(ctx->counter, (size_t)(ctx->max_level + 1) * n * sizeof(uint64_t));
    h->digits = hnnrt_mem_alloc(ctx->counter, (size_t)ctx->dnum * ctx->n_primes * n * sizeof(uint64_t));
    if (!h->c0 || !h->digits) {
        hnnrt_hoisted_free(h);
        return HNNRT_ERR_ALLOC;
    }
    *out = h;
    return HNNRT_OK;
}

void
hnnrt_hoisted_free(hnnrt_hoisted *h)
{
    if (!h)
        return;
    const hnnrt_context *ctx = h->ev->ctx;
    hnnrt_mem_free(ctx->counter, h->c0);
    hnnrt_mem_free(ctx->counter, h->digits);
    hnnrt_mem_free(ctx->counter, h);
}

hnnrt_status
hnnrt_eval_hoist(hnnrt_evaluator *ev, hnnrt_hoisted *h, const hnnrt_ct *a)
{
    if (!ev || !h || h->ev != ev)
        return HNNRT_ERR_ARG;
    hnnrt_status st = check_in(ev, "hoist", a, 2);
    if (st != HNNRT_OK)
        return st;
    const hnnrt_context *ctx = ev->ctx;
    memcpy(h->c0, hnnrt_ct_part(a, 0), (size_t)(a->level + 1) * ctx->n * sizeof(uint64_t));
    hnnrt_ks_decompose(ctx, &ev->ks, a->level, hnnrt_ct_part(a, 1), h->digits);
    h->level = a->level;
    h->scale = a->scale;
    h->ready = 1;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_eval_rotate_hoisted(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_hoisted *h, int step)
{
    if (!ev || !h || h->ev != ev)
        return HNNRT_ERR_ARG;
    if (!h->ready)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "rotate_hoisted: nothing hoisted yet");
    const hnnrt_context *ctx = ev->ctx;
    const unsigned level = h->level;
    uint64_t g = hnnrt_galois_element_rotation(ctx, step);
    hnnrt_status st = check_out(ev, "rotate_hoisted", out, level);
    if (st != HNNRT_OK)
        return st;
    const size_t bytes = (size_t)(level + 1) * ctx->n * sizeof(uint64_t);
    if (g == 1) {
        /* Rebuild the ciphertext: part 1 is digit-sum-free, so keep c0 and recover
         * c1 from the digits' own limbs (each prime sits in exactly one digit). */
        memcpy(hnnrt_ct_part(out, 0), h->c0, bytes);
        const unsigned E = level + 1 + ctx->n_special, beta = hnnrt_ctx_digits(ctx, level);
        for (unsigned j = 0; j < beta; j++) {
            unsigned first, count;
            hnnrt_ctx_digit_range(ctx, level, j, &first, &count);
            memcpy(hnnrt_ct_part(out, 1) + (size_t)first * ctx->n, h->digits + ((size_t)j * E + first) * ctx->n,
                   (size_t)count * ctx->n * sizeof(uint64_t));
        }
    } else {
        const hnnrt_galois_entry *e;
        if ((st = find_key(ev, "rotate_hoisted", g, step, &e)) != HNNRT_OK)
            return st;
        hnnrt_ks_inner(ctx, &ev->ks, &e->key, level, h->digits, e->perm);
        hnnrt_ks_moddown(ctx, &ev->ks, level, ev->ks.ext0, ev->t0);
        hnnrt_ks_moddown(ctx, &ev->ks, level, ev->ks.ext1, hnnrt_ct_part(out, 1));
        permute(ctx, level, e->perm, h->c0, ev->t2);
        hnnrt_poly_env env;
        hnnrt_rns_basis q;
        hnnrt_ctx_env(ctx, &env);
        hnnrt_ctx_basis_q(ctx, level, &q);
        hnnrt_poly_add(&env, &q, hnnrt_ct_part(out, 0), ev->t2, ev->t0);
    }
    out->size = 2;
    out->level = level;
    out->scale = h->scale;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_eval_rotate_many(hnnrt_evaluator *ev, hnnrt_ct **outs, const hnnrt_ct *a, const int *steps, size_t n)
{
    if (!ev || (n && (!outs || !steps)))
        return HNNRT_ERR_ARG;
    hnnrt_hoisted *h;
    hnnrt_status st = hnnrt_hoisted_new(ev, &h);
    if (st != HNNRT_OK)
        return hnnrt_msg_set(ev->last_error, st, "rotate_many: out of memory");
    st = hnnrt_eval_hoist(ev, h, a);
    for (size_t i = 0; i < n && st == HNNRT_OK; i++)
        st = hnnrt_eval_rotate_hoisted(ev, outs[i], h, steps[i]);
    hnnrt_hoisted_free(h);
    return st;
}
