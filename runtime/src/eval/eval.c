#include <math.h>
#include <string.h>

#include "eval/eval.h"

hnnrt_status
hnnrt_evaluator_new(const hnnrt_context *ctx, const hnnrt_relin_key *rk, const hnnrt_galois_keys *gk,
                    hnnrt_evaluator **out)
{
    if (!ctx || !out)
        return HNNRT_ERR_ARG;
    *out = NULL;
    if ((rk && rk->ctx != ctx) || (gk && gk->ctx != ctx))
        return HNNRT_ERR_PARAMS_MISMATCH;
    hnnrt_evaluator *ev = hnnrt_mem_alloc(ctx->counter, sizeof *ev);
    if (!ev)
        return HNNRT_ERR_ALLOC;
    ev->ctx = ctx;
    ev->rk = rk;
    ev->gk = gk;
    size_t words = (size_t)(ctx->max_level + 1) * ctx->n;
    ev->t0 = hnnrt_mem_alloc(ctx->counter, words * sizeof(uint64_t));
    ev->t1 = hnnrt_mem_alloc(ctx->counter, words * sizeof(uint64_t));
    ev->t2 = hnnrt_mem_alloc(ctx->counter, words * sizeof(uint64_t));
    hnnrt_status st = (!ev->t0 || !ev->t1 || !ev->t2) ? HNNRT_ERR_ALLOC : hnnrt_ks_scratch_init(&ev->ks, ctx);
    if (st != HNNRT_OK) {
        hnnrt_evaluator_free(ev);
        return st;
    }
    *out = ev;
    return HNNRT_OK;
}

void
hnnrt_evaluator_free(hnnrt_evaluator *ev)
{
    if (!ev)
        return;
    const hnnrt_context *ctx = ev->ctx;
    hnnrt_ks_scratch_release(&ev->ks, ctx);
    hnnrt_mem_free(ctx->counter, ev->t0);
    hnnrt_mem_free(ctx->counter, ev->t1);
    hnnrt_mem_free(ctx->counter, ev->t2);
    hnnrt_mem_free(ctx->counter, ev->lin_ws);
    hnnrt_mem_free(ctx->counter, ev);
}

const char *
hnnrt_evaluator_last_error(const hnnrt_evaluator *ev)
{
    return ev ? ev->last_error : "";
}

/* ------------------------------------------------------------------ checks */

hnnrt_status
hnnrt_ev_check_ct(hnnrt_evaluator *ev, const char *op, const hnnrt_ct *a)
{
    if (!a || !a->data)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "%s: empty ciphertext", op);
    if (a->ctx != ev->ctx)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_PARAMS_MISMATCH, "%s: ciphertext of another context", op);
    return HNNRT_OK;
}

static hnnrt_status
check_size2(hnnrt_evaluator *ev, const char *op, const hnnrt_ct *a)
{
    if (a->size != 2)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_SIZE, "%s: ciphertext has %u parts, relinearise first", op,
                             a->size);
    return HNNRT_OK;
}

int
hnnrt_ev_scales_equal(double a, double b)
{
    return fabs(a - b) <= HNNRT_SCALE_TOLERANCE * fmax(fabs(a), fabs(b));
}

static hnnrt_status
check_pair(hnnrt_evaluator *ev, const char *op, const hnnrt_ct *a, const hnnrt_ct *b, int same_scale)
{
    hnnrt_status st = hnnrt_ev_check_ct(ev, op, a);
    if (st == HNNRT_OK)
        st = hnnrt_ev_check_ct(ev, op, b);
    if (st != HNNRT_OK)
        return st;
    if (a->level != b->level)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_LEVEL_MISMATCH, "%s: operands at levels %u and %u", op,
                             a->level, b->level);
    if (same_scale && !hnnrt_ev_scales_equal(a->scale, b->scale))
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_SCALE_MISMATCH, "%s: scales 2^%.6f and 2^%.6f differ", op,
                             log2(a->scale), log2(b->scale));
    return HNNRT_OK;
}

static hnnrt_status
check_pt(hnnrt_evaluator *ev, const char *op, const hnnrt_ct *a, const hnnrt_pt *p, int same_scale)
{
    hnnrt_status st = hnnrt_ev_check_ct(ev, op, a);
    if (st != HNNRT_OK)
        return st;
    if (!p || !p->data)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "%s: empty plaintext", op);
    if (p->ctx != ev->ctx)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_PARAMS_MISMATCH, "%s: plaintext of another context", op);
    if (a->level != p->level)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_LEVEL_MISMATCH,
                             "%s: ciphertext at level %u, plaintext at level %u", op, a->level, p->level);
    if (same_scale && !hnnrt_ev_scales_equal(a->scale, p->scale))
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_SCALE_MISMATCH, "%s: scales 2^%.6f and 2^%.6f differ", op,
                             log2(a->scale), log2(p->scale));
    return HNNRT_OK;
}

hnnrt_status
hnnrt_ev_prepare_out(hnnrt_evaluator *ev, const char *op, hnnrt_ct *out, unsigned size, unsigned level)
{
    if (!out)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "%s: NULL output", op);
    if (out->ctx != ev->ctx)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_PARAMS_MISMATCH, "%s: output of another context", op);
    if (hnnrt_ct_ensure(out, size, level) != HNNRT_OK)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ALLOC, "%s: out of memory", op);
    return HNNRT_OK;
}

static void
env_basis(const hnnrt_evaluator *ev, unsigned level, hnnrt_poly_env *env, hnnrt_rns_basis *b)
{
    hnnrt_ctx_env(ev->ctx, env);
    hnnrt_ctx_basis_q(ev->ctx, level, b);
}

/* ------------------------------------------------------------------ additive */

static hnnrt_status
add_sub(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, const hnnrt_ct *b, int sub)
{
    const char *op = sub ? "sub" : "add";
    hnnrt_status st = check_pair(ev, op, a, b, 1);
    unsigned size = a->size > b->size ? a->size : b->size;
    if (st == HNNRT_OK)
        st = hnnrt_ev_prepare_out(ev, op, out, size, a->level);
    if (st != HNNRT_OK)
        return st;
    hnnrt_poly_env env;
    hnnrt_rns_basis q;
    env_basis(ev, a->level, &env, &q);
    for (unsigned p = 0; p < size; p++) {
        uint64_t *o = hnnrt_ct_part(out, p);
        if (p < a->size && p < b->size) {
            if (sub)
                hnnrt_poly_sub(&env, &q, o, hnnrt_ct_part(a, p), hnnrt_ct_part(b, p));
            else
                hnnrt_poly_add(&env, &q, o, hnnrt_ct_part(a, p), hnnrt_ct_part(b, p));
        } else if (p < a->size) {
            if (o != hnnrt_ct_part(a, p))
                memcpy(o, hnnrt_ct_part(a, p), (size_t)(a->level + 1) * env.n * sizeof(uint64_t));
        } else if (sub) {
            hnnrt_poly_neg(&env, &q, o, hnnrt_ct_part(b, p));
        } else if (o != hnnrt_ct_part(b, p)) {
            memcpy(o, hnnrt_ct_part(b, p), (size_t)(a->level + 1) * env.n * sizeof(uint64_t));
        }
    }
    out->size = size;
    out->level = a->level;
    out->scale = a->scale;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_eval_add(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, const hnnrt_ct *b)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    return add_sub(ev, out, a, b, 0);
}

hnnrt_status
hnnrt_eval_sub(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, const hnnrt_ct *b)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    return add_sub(ev, out, a, b, 1);
}

/* out = a with parts copied when out is not a; used before in-place edits. */
static hnnrt_status
copy_into(hnnrt_evaluator *ev, const char *op, hnnrt_ct *out, const hnnrt_ct *a)
{
    if (out == a)
        return HNNRT_OK;
    hnnrt_status st = hnnrt_ev_prepare_out(ev, op, out, a->size, a->level);
    if (st != HNNRT_OK)
        return st;
    return hnnrt_ct_copy(out, a);
}

hnnrt_status
hnnrt_eval_negate(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    hnnrt_status st = hnnrt_ev_check_ct(ev, "negate", a);
    if (st == HNNRT_OK)
        st = hnnrt_ev_prepare_out(ev, "negate", out, a->size, a->level);
    if (st != HNNRT_OK)
        return st;
    hnnrt_poly_env env;
    hnnrt_rns_basis q;
    env_basis(ev, a->level, &env, &q);
    for (unsigned p = 0; p < a->size; p++)
        hnnrt_poly_neg(&env, &q, hnnrt_ct_part(out, p), hnnrt_ct_part(a, p));
    out->size = a->size;
    out->level = a->level;
    out->scale = a->scale;
    return HNNRT_OK;
}

static hnnrt_status
add_sub_pt(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, const hnnrt_pt *b, int sub)
{
    const char *op = sub ? "sub_pt" : "add_pt";
    hnnrt_status st = check_pt(ev, op, a, b, 1);
    if (st == HNNRT_OK)
        st = copy_into(ev, op, out, a);
    if (st != HNNRT_OK)
        return st;
    hnnrt_poly_env env;
    hnnrt_rns_basis q;
    env_basis(ev, a->level, &env, &q);
    uint64_t *c0 = hnnrt_ct_part(out, 0);
    if (sub)
        hnnrt_poly_sub(&env, &q, c0, c0, b->data);
    else
        hnnrt_poly_add(&env, &q, c0, c0, b->data);
    return HNNRT_OK;
}

hnnrt_status
hnnrt_eval_add_pt(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, const hnnrt_pt *b)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    return add_sub_pt(ev, out, a, b, 0);
}

hnnrt_status
hnnrt_eval_sub_pt(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, const hnnrt_pt *b)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    return add_sub_pt(ev, out, a, b, 1);
}

/* round(x) mod each prime of the level, into c[]. */
static void
const_residues(const hnnrt_context *ctx, unsigned level, double x, uint64_t *c)
{
    for (unsigned i = 0; i <= level; i++)
        c[i] = hnnrt_encode_reduce_double(x, &ctx->ntt[i].mod);
}

hnnrt_status
hnnrt_ev_check_const(hnnrt_evaluator *ev, const char *op, unsigned level, double c, double scale)
{
    if (!isfinite(c) || !isfinite(scale) || scale < 0)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "%s: constant or scale not finite", op);
    double log_q = 0;
    for (unsigned i = 0; i <= level; i++)
        log_q += log2((double)ev->ctx->ntt[i].mod.value);
    double v = fabs(c) * (scale > 0 ? scale : 1.0);
    if (v >= 1 && log2(v) >= log_q - 1)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_SCALE_OVERFLOW, "%s: constant * scale = 2^%.1f exceeds Q/2",
                             op, log2(v));
    return HNNRT_OK;
}

static hnnrt_status
check_const(hnnrt_evaluator *ev, const char *op, const hnnrt_ct *a, double c, double scale)
{
    hnnrt_status st = hnnrt_ev_check_ct(ev, op, a);
    return st != HNNRT_OK ? st : hnnrt_ev_check_const(ev, op, a->level, c, scale);
}

hnnrt_status
hnnrt_eval_add_const(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, double c)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    hnnrt_status st = check_const(ev, "add_const", a, c, a ? a->scale : 1.0);
    if (st == HNNRT_OK)
        st = copy_into(ev, "add_const", out, a);
    if (st != HNNRT_OK)
        return st;
    /* The constant polynomial c * scale is c * scale in every NTT slot. */
    uint64_t r[HNNRT_MAX_PRIMES];
    const_residues(ev->ctx, a->level, c * a->scale, r);
    hnnrt_poly_env env;
    hnnrt_rns_basis q;
    env_basis(ev, a->level, &env, &q);
    hnnrt_poly_add_scalar(&env, &q, hnnrt_ct_part(out, 0), hnnrt_ct_part(out, 0), r);
    return HNNRT_OK;
}

hnnrt_status
hnnrt_eval_mul_const(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, double c, double scale)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    hnnrt_status st = check_const(ev, "mul_const", a, c, scale);
    if (st == HNNRT_OK)
        st = hnnrt_ev_prepare_out(ev, "mul_const", out, a->size, a->level);
    if (st != HNNRT_OK)
        return st;
    uint64_t r[HNNRT_MAX_PRIMES];
    const_residues(ev->ctx, a->level, scale > 0 ? c * scale : c, r);
    hnnrt_poly_env env;
    hnnrt_rns_basis q;
    env_basis(ev, a->level, &env, &q);
    for (unsigned p = 0; p < a->size; p++)
        hnnrt_poly_mul_scalar(&env, &q, hnnrt_ct_part(out, p), hnnrt_ct_part(a, p), r);
    out->size = a->size;
    out->level = a->level;
    out->scale = scale > 0 ? a->scale * scale : a->scale;
    return HNNRT_OK;
}

/* ------------------------------------------------------------------ multiplicative */

hnnrt_status
hnnrt_eval_mul_pt(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, const hnnrt_pt *b)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    hnnrt_status st = check_pt(ev, "mul_pt", a, b, 0);
    if (st == HNNRT_OK)
        st = hnnrt_ev_prepare_out(ev, "mul_pt", out, a->size, a->level);
    if (st != HNNRT_OK)
        return st;
    hnnrt_poly_env env;
    hnnrt_rns_basis q;
    env_basis(ev, a->level, &env, &q);
    for (unsigned p = 0; p < a->size; p++)
        hnnrt_poly_mul(&env, &q, hnnrt_ct_part(out, p), hnnrt_ct_part(a, p), b->data);
    out->size = a->size;
    out->level = a->level;
    out->scale = a->scale * b->scale;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_eval_mul_ct(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, const hnnrt_ct *b)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    hnnrt_status st = check_pair(ev, "mul_ct", a, b, 0);
    if (st == HNNRT_OK)
        st = check_size2(ev, "mul_ct", a);
    if (st == HNNRT_OK)
        st = check_size2(ev, "mul_ct", b);
    if (st != HNNRT_OK)
        return st;
    const unsigned level = a->level;
    const double scale = a->scale * b->scale;
    const hnnrt_context *ctx = ev->ctx;
    const size_t n = ctx->n;
    /* Products straight into out, or into scratch first when out is a or b
     * (growing out would move the operand it is). */
    const int alias = out == a || out == b;
    if (!alias && (st = hnnrt_ev_prepare_out(ev, "mul_ct", out, 3, level)) != HNNRT_OK)
        return st;
    const uint64_t *a0 = hnnrt_ct_part(a, 0), *a1 = hnnrt_ct_part(a, 1);
    const uint64_t *b0 = hnnrt_ct_part(b, 0), *b1 = hnnrt_ct_part(b, 1);
    uint64_t *r0 = alias ? ev->t0 : hnnrt_ct_part(out, 0), *r1 = alias ? ev->t1 : hnnrt_ct_part(out, 1),
             *r2 = alias ? ev->t2 : hnnrt_ct_part(out, 2);
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (ctx->threads > 1)
    for (unsigned i = 0; i <= level; i++) {
        const hnnrt_modulus *m = &ctx->ntt[i].mod;
        const size_t off = (size_t)i * n;
        for (size_t c = off; c < off + n; c++) {
            uint64_t x0 = a0[c], x1 = a1[c], y0 = b0[c], y1 = b1[c];
            r0[c] = hnnrt_mod_mul(x0, y0, m);
            r1[c] = hnnrt_mod_reduce128((hnnrt_u128)x0 * y1 + (hnnrt_u128)x1 * y0, m);
            r2[c] = hnnrt_mod_mul(x1, y1, m);
        }
    }
    if (alias) {
        st = hnnrt_ev_prepare_out(ev, "mul_ct", out, 3, level);
        if (st != HNNRT_OK)
            return st;
        const size_t bytes = (size_t)(level + 1) * n * sizeof(uint64_t);
        memcpy(hnnrt_ct_part(out, 0), ev->t0, bytes);
        memcpy(hnnrt_ct_part(out, 1), ev->t1, bytes);
        memcpy(hnnrt_ct_part(out, 2), ev->t2, bytes);
    }
    out->size = 3;
    out->level = level;
    out->scale = scale;
    return HNNRT_OK;
}

/* ------------------------------------------------------------------ levels */

/*
 * Rescale with rounding: for each part, with h = floor(q_l / 2),
 *   out_i = (x_i + h - [x_l + h]_{q_l} lifted to q_i) * q_l^-1  (mod q_i),
 * which is round(x / q_l). The lift of a value below q_l is exact. out is
 * written limb by limb from a (no copy first), so it may alias a.
 */
hnnrt_status
hnnrt_eval_rescale(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    hnnrt_status st = hnnrt_ev_check_ct(ev, "rescale", a);
    if (st != HNNRT_OK)
        return st;
    if (a->level == 0)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_LEVEL_EXHAUSTED, "rescale: ciphertext at level 0");
    if (out != a && (st = hnnrt_ev_prepare_out(ev, "rescale", out, a->size, a->level - 1)) != HNNRT_OK)
        return st;
    const hnnrt_context *ctx = ev->ctx;
    const size_t n = ctx->n;
    const unsigned l = a->level, L1 = ctx->max_level + 1, size = a->size;
    const double scale = a->scale;
    const hnnrt_ntt_table *top = &ctx->ntt[l];
    const uint64_t ql = top->mod.value, h = ql >> 1;
    for (unsigned p = 0; p < size; p++) {
        const uint64_t *x = hnnrt_ct_part(a, p);
        uint64_t *y = hnnrt_ct_part(out, p);
        uint64_t *last = ev->t0;
        memcpy(last, x + (size_t)l * n, n * sizeof(uint64_t));
        ctx->kern->inv(top, last);
        for (size_t c = 0; c < n; c++)
            last[c] = hnnrt_mod_add(last[c], h, ql);
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (ctx->threads > 1)
        for (unsigned i = 0; i < l; i++) {
            const hnnrt_modulus *m = &ctx->ntt[i].mod;
            const uint64_t q = m->value;
            uint64_t *t = ev->t1 + (size_t)i * n;
            const uint64_t hi = hnnrt_mod_reduce64(h, m);
            /* last < q_l: below q_i already, or one subtraction away when
             * q_l < 2 q_i (primes of one size), or a full reduction. */
            if (ql <= q) {
                for (size_t c = 0; c < n; c++)
                    t[c] = hnnrt_mod_sub(last[c], hi, q);
            } else if (ql < 2 * q) {
                for (size_t c = 0; c < n; c++)
                    t[c] = hnnrt_mod_sub(last[c] - (q & (uint64_t)-(int64_t)(last[c] >= q)), hi, q);
            } else {
                for (size_t c = 0; c < n; c++)
                    t[c] = hnnrt_mod_sub(hnnrt_mod_reduce64(last[c], m), hi, q);
            }
            ctx->kern->fwd(&ctx->ntt[i], t);
            const hnnrt_mod_shoup inv = ctx->rescale_inv[l * L1 + i];
            const uint64_t *xi = x + (size_t)i * n;
            uint64_t *yi = y + (size_t)i * n;
            for (size_t c = 0; c < n; c++)
                yi[c] = hnnrt_mod_mul_shoup(xi[c] + q - t[c], inv.op, inv.quot, q);
        }
    }
    out->size = size;
    out->level = l - 1;
    out->scale = scale / (double)ql;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_eval_drop_to(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a, unsigned level)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    hnnrt_status st = hnnrt_ev_check_ct(ev, "drop_to", a);
    if (st != HNNRT_OK)
        return st;
    if (level > a->level)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_LEVEL_MISMATCH,
                             "drop_to: cannot raise a ciphertext from level %u to %u", a->level, level);
    if (out != a) {
        st = hnnrt_ev_prepare_out(ev, "drop_to", out, a->size, level);
        if (st != HNNRT_OK)
            return st;
        for (unsigned p = 0; p < a->size; p++)
            memcpy(hnnrt_ct_part(out, p), hnnrt_ct_part(a, p), (size_t)(level + 1) * ev->ctx->n * sizeof(uint64_t));
        out->size = a->size;
        out->scale = a->scale;
    }
    out->level = level;
    return HNNRT_OK;
}
