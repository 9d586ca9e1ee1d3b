#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "back/exec.h"

static double
now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int
failed(hnnrt_status st, char *err, size_t len, const char *what, const char *detail)
{
    snprintf(err, len, "%s: %s%s%s", what, hnnrt_status_message(st), detail && *detail ? ": " : "",
             detail ? detail : "");
    return (int)st;
}

int
hnn_exec_keys_new(const hnn_plan *plan, hnn_exec_keys *keys, char *err, size_t err_len)
{
    memset(keys, 0, sizeof *keys);
    hnnrt_error e;
    hnnrt_status st = hnnrt_context_new(&keys->ctx, &plan->params.spec, 0, &e);
    if (st != HNNRT_OK)
        return failed(st, err, err_len, "parameters", e.message);
    hnnrt_keygen *kg;
    if ((st = hnnrt_keygen_new(keys->ctx, &kg)) != HNNRT_OK)
        return failed(st, err, err_len, "key generator", "");
    st = hnnrt_keygen_secret(kg, 0, &keys->sk);
    if (st == HNNRT_OK)
        st = hnnrt_keygen_public(kg, keys->sk, &keys->pk);
    if (st == HNNRT_OK)
        st = hnnrt_keygen_relin(kg, keys->sk, &keys->rk);
    if (st != HNNRT_OK) {
        failed(st, err, err_len, "keys", hnnrt_keygen_last_error(kg));
        hnnrt_keygen_free(kg);
        hnn_exec_keys_free(keys);
        return (int)st;
    }
    hnnrt_keygen_free(kg);
    return 0;
}

void
hnn_exec_keys_free(hnn_exec_keys *keys)
{
    hnnrt_galois_keys_free(keys->gk);
    hnnrt_relin_key_free(keys->rk);
    hnnrt_public_key_free(keys->pk);
    hnnrt_secret_key_free(keys->sk);
    hnnrt_context_free(keys->ctx);
    memset(keys, 0, sizeof *keys);
}

/* A stack of spare ciphertexts: values die as the walk passes their last
 * use, and their buffers serve the next results. */
typedef struct ct_pool {
    hnnrt_ct **free;
    size_t n, cap;
} ct_pool;

static hnnrt_ct *
pool_get(ct_pool *p, const hnnrt_context *ctx)
{
    if (p->n)
        return p->free[--p->n];
    hnnrt_ct *ct;
    return hnnrt_ct_new(ctx, &ct) == HNNRT_OK ? ct : NULL;
}

static void
pool_put(ct_pool *p, hnnrt_ct *ct)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        hnnrt_ct **f = realloc(p->free, cap * sizeof *f);
        if (!f) {
            hnnrt_ct_free(ct);
            return;
        }
        p->free = f;
        p->cap = cap;
    }
    p->free[p->n++] = ct;
}

static void
pool_free(ct_pool *p)
{
    for (size_t i = 0; i < p->n; i++)
        hnnrt_ct_free(p->free[i]);
    free(p->free);
}

static hnnrt_status
eval_node(hnnrt_evaluator *ev, const hnn_hir_node *n, hnnrt_ct *out, hnnrt_ct *const *val)
{
    const hnnrt_ct *a = hnn_hir_op_operands(n->op) >= 1 ? val[n->a] : NULL;
    const hnnrt_ct *b = hnn_hir_op_operands(n->op) >= 2 ? val[n->b] : NULL;
    switch (n->op) { /* grep ORDER HIR */
    case HNN_HIR_ADD:
        return hnnrt_eval_add(ev, out, a, b);
    case HNN_HIR_SUB:
        return hnnrt_eval_sub(ev, out, a, b);
    case HNN_HIR_NEGATE:
        return hnnrt_eval_negate(ev, out, a);
    case HNN_HIR_ADD_CONST:
        return hnnrt_eval_add_const(ev, out, a, n->c);
    case HNN_HIR_MUL_CONST:
        return hnnrt_eval_mul_const(ev, out, a, n->c, n->c_scale);
    case HNN_HIR_MUL_CT:
        return hnnrt_eval_mul_ct(ev, out, a, b);
    case HNN_HIR_RELIN:
        return hnnrt_eval_relin(ev, out, a);
    case HNN_HIR_RESCALE:
        return hnnrt_eval_rescale(ev, out, a);
    case HNN_HIR_DROP_LEVEL:
        return hnnrt_eval_drop_to(ev, out, a, n->level);
    case HNN_HIR_ROTATE:
        return hnnrt_eval_rotate(ev, out, a, n->step);
    case HNN_HIR_CONJUGATE:
        return hnnrt_eval_conjugate(ev, out, a);
    default:
        return HNNRT_ERR_ARG; /* INPUT is bound by the caller; the rest need a key holder */
    }
}

int
hnn_exec_eval(const hnn_plan *plan, const hnnrt_context *ctx, const hnnrt_relin_key *rk,
              const hnnrt_galois_keys *gk, hnnrt_ct *const *in, hnnrt_ct **out, size_t *peak_live, char *err,
              size_t err_len)
{
    const hnn_hir *h = plan->hir;
    hnnrt_evaluator *ev;
    hnnrt_status st = hnnrt_evaluator_new(ctx, rk, gk, &ev);
    if (st != HNNRT_OK)
        return failed(st, err, err_len, "evaluator", "");
    /* Last use of every node; outputs live to the end. */
    uint32_t *last = calloc(h->n_nodes, sizeof *last);
    hnnrt_ct **val = calloc(h->n_nodes, sizeof *val);
    bool *is_output = calloc(h->n_nodes, sizeof *is_output);
    ct_pool pool = {0};
    if (!last || !val || !is_output) {
        st = HNNRT_ERR_ALLOC;
        failed(st, err, err_len, "evaluate", "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        const hnn_hir_node *n = &h->nodes[i];
        if (hnn_hir_op_operands(n->op) >= 1)
            last[n->a] = i;
        if (hnn_hir_op_operands(n->op) >= 2)
            last[n->b] = i;
    }
    for (uint32_t k = 0; k < h->n_outputs; k++)
        is_output[h->outputs[k]] = true;
    size_t live = 0, peak = 0;
    for (uint32_t i = 0; i < h->n_nodes && st == HNNRT_OK; i++) {
        const hnn_hir_node *n = &h->nodes[i];
        if (n->op == HNN_HIR_INPUT) {
            val[i] = in[n->pt];
        } else {
            hnnrt_ct *o = pool_get(&pool, ctx);
            if (!o) {
                st = HNNRT_ERR_ALLOC;
                break;
            }
            st = eval_node(ev, n, o, val);
            val[i] = o;
            live++;
            if (st != HNNRT_OK) {
                char where[64];
                snprintf(where, sizeof where, "%%%u %s", i, hnn_hir_op_name(n->op));
                failed(st, err, err_len, where, hnnrt_evaluator_last_error(ev));
                break;
            }
        }
        if (live > peak)
            peak = live;
        /* Release operands whose last use this was (inputs belong to the caller). */
        for (unsigned k = 0; k < hnn_hir_op_operands(n->op); k++) {
            uint32_t x = k == 0 ? n->a : n->b;
            if (last[x] == i && !is_output[x] && h->nodes[x].op != HNN_HIR_INPUT && val[x] &&
                (k == 0 || n->b != n->a)) {
                pool_put(&pool, val[x]);
                val[x] = NULL;
                live--;
            }
        }
    }
    if (st == HNNRT_OK) {
        for (uint32_t k = 0; k < h->n_outputs; k++) {
            uint32_t id = h->outputs[k];
            hnnrt_ct *o;
            if ((st = hnnrt_ct_new(ctx, &o)) != HNNRT_OK || (st = hnnrt_ct_copy(o, val[id])) != HNNRT_OK) {
                failed(st, err, err_len, "outputs", "");
                break;
            }
            out[k] = o;
        }
    }
    if (peak_live)
        *peak_live = peak;
    for (uint32_t i = 0; i < h->n_nodes; i++)
        if (val[i] && h->nodes[i].op != HNN_HIR_INPUT) {
            /* outputs may appear twice in the list; free each node once */
            hnnrt_ct_free(val[i]);
            val[i] = NULL;
        }
done:
    pool_free(&pool);
    free(last);
    free(val);
    free(is_output);
    hnnrt_evaluator_free(ev);
    return (int)st;
}

int
hnn_exec_run(const hnn_plan *plan, hnn_exec_keys *keys, const double *x, size_t n_samples, double *y,
             hnn_exec_stats *stats, char *err, size_t err_len)
{
    const hnn_hir *h = plan->hir;
    const hnnrt_context *ctx = keys->ctx;
    size_t slots = hnnrt_context_slots(ctx);
    if (n_samples == 0 || n_samples > slots) {
        snprintf(err, err_len, "run: %zu samples, the batch holds 1..%zu", n_samples, slots);
        return HNNRT_ERR_ARG;
    }
    hnn_exec_stats local = {0};
    hnnrt_encoder *enc = NULL;
    hnnrt_encryptor *encr = NULL;
    hnnrt_decryptor *dec = NULL;
    hnnrt_pt *pt = NULL;
    hnnrt_ct **in = calloc(h->n_inputs, sizeof *in), **out = calloc(h->n_outputs, sizeof *out);
    double *col = malloc(n_samples * sizeof *col);
    hnnrt_status st = (!in || !out || !col) ? HNNRT_ERR_ALLOC : HNNRT_OK;
    if (st == HNNRT_OK)
        st = hnnrt_encoder_new(ctx, &enc);
    if (st == HNNRT_OK)
        st = hnnrt_encryptor_new(ctx, keys->pk, NULL, &encr);
    if (st == HNNRT_OK)
        st = hnnrt_decryptor_new(ctx, keys->sk, &dec);
    if (st == HNNRT_OK)
        st = hnnrt_pt_new(ctx, &pt);
    if (st != HNNRT_OK) {
        failed(st, err, err_len, "run", "setting up");
        goto done;
    }
    double t0 = now_ms();
    for (uint32_t k = 0; k < h->n_inputs && st == HNNRT_OK; k++) {
        for (size_t s = 0; s < n_samples; s++)
            col[s] = x[s * h->n_inputs + k];
        st = hnnrt_ct_new(ctx, &in[k]);
        if (st == HNNRT_OK)
            st = hnnrt_encode(enc, pt, col, n_samples, plan->level_scale[h->top_level], h->top_level);
        if (st == HNNRT_OK)
            st = hnnrt_encrypt(encr, in[k], pt);
        if (st != HNNRT_OK)
            failed(st, err, err_len, "encrypt", hnnrt_encoder_last_error(enc));
    }
    local.encrypt_ms = now_ms() - t0;
    if (st == HNNRT_OK) {
        t0 = now_ms();
        st = (hnnrt_status)hnn_exec_eval(plan, ctx, keys->rk, keys->gk, in, out, &local.peak_live_ciphertexts, err,
                                         err_len);
        local.eval_ms = now_ms() - t0;
    }
    t0 = now_ms();
    for (uint32_t k = 0; k < h->n_outputs && st == HNNRT_OK; k++) {
        st = hnnrt_decrypt(dec, pt, out[k]);
        if (st == HNNRT_OK)
            st = hnnrt_decode(enc, pt, col, n_samples);
        if (st != HNNRT_OK) {
            failed(st, err, err_len, "decrypt", hnnrt_encoder_last_error(enc));
            break;
        }
        for (size_t s = 0; s < n_samples; s++)
            y[s * h->n_outputs + k] = col[s];
    }
    local.decrypt_ms = now_ms() - t0;
    if (stats)
        *stats = local;
done:
    for (uint32_t k = 0; in && k < h->n_inputs; k++)
        hnnrt_ct_free(in[k]);
    for (uint32_t k = 0; out && k < h->n_outputs; k++)
        hnnrt_ct_free(out[k]);
    free(in);
    free(out);
    free(col);
    hnnrt_pt_free(pt);
    hnnrt_decryptor_free(dec);
    hnnrt_encryptor_free(encr);
    hnnrt_encoder_free(enc);
    return (int)st;
}
