/* hnnrt_eval_linear: the checks, the constants' residues, then the kernel
 * of runtime/src/poly/linear.c. */
#include <math.h>
#include <string.h>

#include "eval/eval.h"

_Static_assert(sizeof(void *) <= sizeof(uint64_t), "the pointer tables use the workspace's 8-byte slots");

static hnnrt_status
check_map(hnnrt_evaluator *ev, const hnnrt_linear_map *map)
{
    if (!map || !map->row_start || !map->col || !map->coeff)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "linear: NULL map or map array");
    if (!map->n_out || !map->n_in)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "linear: %zu outputs and %zu inputs", map->n_out,
                             map->n_in);
    if (map->row_start[0] != 0)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "linear: row 0 starts at term %zu, not 0",
                             map->row_start[0]);
    for (size_t j = 0; j < map->n_out; j++)
        if (map->row_start[j + 1] < map->row_start[j])
            return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "linear: row %zu ends before it starts", j);
    const size_t nnz = map->row_start[map->n_out];
    if (!nnz)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "linear: no term");
    for (size_t t = 0; t < nnz; t++)
        if (map->col[t] >= map->n_in)
            return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "linear: term %zu reads input %u of %zu", t,
                                 map->col[t], map->n_in);
    return HNNRT_OK;
}

static hnnrt_status
check_inputs(hnnrt_evaluator *ev, const hnnrt_ct *const *in, size_t n_in, unsigned level)
{
    if (!in)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "linear: NULL inputs");
    if (level > ev->ctx->max_level)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_LEVEL_MISMATCH, "linear: level %u above the chain's %u",
                             level, ev->ctx->max_level);
    for (size_t k = 0; k < n_in; k++) {
        hnnrt_status st = hnnrt_ev_check_ct(ev, "linear", in[k]);
        if (st != HNNRT_OK)
            return st;
        if (in[k]->size != in[0]->size)
            return hnnrt_msg_set(ev->last_error, HNNRT_ERR_SIZE, "linear: input %zu has %u parts, input 0 has %u",
                                 k, in[k]->size, in[0]->size);
        if (in[k]->level < level)
            return hnnrt_msg_set(ev->last_error, HNNRT_ERR_LEVEL_MISMATCH,
                                 "linear: input %zu at level %u, below the output's %u", k, in[k]->level, level);
        if (!hnnrt_ev_scales_equal(in[k]->scale, in[0]->scale))
            return hnnrt_msg_set(ev->last_error, HNNRT_ERR_SCALE_MISMATCH,
                                 "linear: input %zu at scale 2^%.6f, input 0 at 2^%.6f", k, log2(in[k]->scale),
                                 log2(in[0]->scale));
    }
    return HNNRT_OK;
}

/* Outputs written block by block while inputs are still read: no aliasing. */
static hnnrt_status
check_outputs(hnnrt_evaluator *ev, hnnrt_ct *const *out, const hnnrt_ct *const *in, const hnnrt_linear_map *map)
{
    if (!out)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "linear: NULL outputs");
    for (size_t j = 0; j < map->n_out; j++) {
        if (!out[j])
            return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "linear: output %zu is NULL", j);
        if (out[j]->ctx != ev->ctx)
            return hnnrt_msg_set(ev->last_error, HNNRT_ERR_PARAMS_MISMATCH, "linear: output %zu of another context",
                                 j);
        for (size_t i = 0; i < j; i++)
            if (out[i] == out[j])
                return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "linear: outputs %zu and %zu are one ciphertext",
                                     i, j);
        for (size_t k = 0; k < map->n_in; k++)
            if (in[k] == out[j])
                return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "linear: output %zu is input %zu", j, k);
    }
    return HNNRT_OK;
}

/* The constants' residues per limb and their magnitudes, as mul_const
 * rounds them; mag is left NULL when one does not fit 52 bits. */
static hnnrt_status
constants(hnnrt_evaluator *ev, const hnnrt_linear_map *map, double scale, unsigned level, uint64_t *w,
          uint64_t **mag)
{
    const size_t nnz = map->row_start[map->n_out];
    double largest = 0;
    for (size_t t = 0; t < nnz; t++) {
        if (!isfinite(map->coeff[t]))
            return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ARG, "linear: constant %zu is not finite", t);
        largest = fmax(largest, fabs(map->coeff[t]));
    }
    hnnrt_status st = hnnrt_ev_check_const(ev, "linear", level, largest, scale);
    if (st != HNNRT_OK)
        return st;
    uint64_t *m = *mag;
    for (size_t t = 0; t < nnz; t++) {
        const double x = scale > 0 ? map->coeff[t] * scale : map->coeff[t];
        for (unsigned k = 0; k <= level; k++)
            w[k * nnz + t] = hnnrt_encode_reduce_double(x, &ev->ctx->ntt[k].mod);
        const double r = nearbyint(x);
        if (m && fabs(r) < 0x1p52)
            m[t] = (uint64_t)fabs(r) | (uint64_t)(r < 0) << 63;
        else
            m = NULL;
    }
    *mag = m;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_eval_linear(hnnrt_evaluator *ev, hnnrt_ct *const *out, const hnnrt_ct *const *in, const hnnrt_linear_map *map,
                  double scale, unsigned level)
{
    if (!ev)
        return HNNRT_ERR_ARG;
    hnnrt_status st = check_map(ev, map);
    if (st == HNNRT_OK)
        st = check_inputs(ev, in, map->n_in, level);
    if (st == HNNRT_OK)
        st = check_outputs(ev, out, in, map);
    if (st != HNNRT_OK)
        return st;
    const hnnrt_context *ctx = ev->ctx;
    const size_t nnz = map->row_start[map->n_out];
    const unsigned parts = in[0]->size;
    const size_t words = hnnrt_mem_words((size_t)level + 2, nnz, 1);
    const size_t ptrs = hnnrt_mem_words(parts, map->n_in + map->n_out, 1);
    const size_t flags = map->n_out;
    if (!words || !ptrs || words + ptrs < words || words + ptrs + flags < flags)
        return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ALLOC, "linear: workspace size overflows");
    if (ev->lin_ws_bytes < words + ptrs + flags) {
        hnnrt_mem_free(ctx->counter, ev->lin_ws);
        ev->lin_ws_bytes = 0;
        if (!(ev->lin_ws = hnnrt_mem_alloc(ctx->counter, words + ptrs + flags)))
            return hnnrt_msg_set(ev->last_error, HNNRT_ERR_ALLOC, "linear: out of memory");
        ev->lin_ws_bytes = words + ptrs + flags;
    }
    uint64_t *w = ev->lin_ws, *mag = w + (size_t)(level + 1) * nnz;
    const uint64_t **x = (const uint64_t **)((char *)ev->lin_ws + words);
    uint64_t **o = (uint64_t **)(x + (size_t)parts * map->n_in);
    uint8_t *same_next = (uint8_t *)ev->lin_ws + words + ptrs;
    for (size_t j = 0; j + 1 < map->n_out; j++) {
        const size_t len = map->row_start[j + 1] - map->row_start[j];
        same_next[j] = len && map->row_start[j + 2] - map->row_start[j + 1] == len &&
                       !memcmp(map->col + map->row_start[j], map->col + map->row_start[j + 1], len * sizeof *map->col);
    }
    same_next[map->n_out - 1] = 0;
    if ((st = constants(ev, map, scale, level, w, &mag)) != HNNRT_OK)
        return st;
    for (size_t j = 0; j < map->n_out; j++)
        if ((st = hnnrt_ev_prepare_out(ev, "linear", out[j], parts, level)) != HNNRT_OK)
            return st;
    for (unsigned p = 0; p < parts; p++) {
        for (size_t k = 0; k < map->n_in; k++)
            x[p * map->n_in + k] = hnnrt_ct_part(in[k], p);
        for (size_t j = 0; j < map->n_out; j++)
            o[p * map->n_out + j] = hnnrt_ct_part(out[j], p);
    }
    const hnnrt_poly_linear lin = {
        .parts = parts,
        .n_in = map->n_in,
        .n_out = map->n_out,
        .row_start = map->row_start,
        .col = map->col,
        .w = w,
        .mag = mag,
        .same_next = same_next,
        .x = x,
        .out = o,
    };
    hnnrt_poly_env env;
    hnnrt_rns_basis q;
    hnnrt_ctx_env(ctx, &env);
    hnnrt_ctx_basis_q(ctx, level, &q);
    hnnrt_poly_linear_apply(&env, &q, &lin);
    const double factor = scale > 0 ? scale : 1.0;
    for (size_t j = 0; j < map->n_out; j++) {
        const size_t first = map->row_start[j] < map->row_start[j + 1] ? map->col[map->row_start[j]] : 0;
        out[j]->size = parts;
        out[j]->level = level;
        out[j]->scale = in[first]->scale * factor;
    }
    return HNNRT_OK;
}
