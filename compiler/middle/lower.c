/*
 * lower: tensor IR -> HE IR, batch packing (CryptoNets-style): element i of
 * every tensor is one ciphertext whose slot s holds sample s, so linear maps
 * are multiply-accumulates by scalars and nothing rotates.
 *
 * Levels are not assigned here: each product is followed by its RESCALE (a
 * multiply-accumulate rescales once, after the sum — a lazy rescale), and
 * the levels pass aligns operands afterwards.
 */
#include <math.h>
#include <string.h>

#include "front/bug.h"
#include "middle/lower_internal.h"
#include "middle/plan.h"

typedef struct lower_state {
    const hnn_tir *tir;
    hnn_hir *hir;
    hnn_arena *arena;
    uint32_t **val;        /* per TIR node: HE IR id of each element */
    bool *folded;          /* per TIR node: an AFFINE already mapped onto its POLY's [-1, 1] */
} lower_state;

static uint32_t
emit1(lower_state *s, hnn_hir_op op, uint32_t a, uint32_t tir)
{
    return hnn_hir_emit(s->hir, op, a, HNN_HIR_NONE, tir);
}

static uint32_t
mul_const(lower_state *s, uint32_t a, double c, uint32_t tir)
{
    uint32_t id = emit1(s, HNN_HIR_MUL_CONST, a, tir);
    hnn_hir_at(s->hir, id)->c = c;
    return id;
}

static uint32_t
add_const(lower_state *s, uint32_t a, double c, uint32_t tir)
{
    if (c == 0)
        return a;
    uint32_t id = emit1(s, HNN_HIR_ADD_CONST, a, tir);
    hnn_hir_at(s->hir, id)->c = c;
    return id;
}

static void
lower_affine(lower_state *s, const hnn_tir_node *n)
{
    const hnn_sparse *w = &n->u.affine.w;
    const uint32_t *x = s->val[n->in[0]->id];
    double alpha = 1, beta = 0;
    const hnn_tir_node *next = hnn_tir_sole_reader(s->tir, n);
    if (next && next->kind == HNN_TIR_POLY && !next->u.poly.power) {
        /* Fold the POLY's change of variable t = alpha y + beta into this map. */
        hnn_cheb_affine(&next->u.poly.cheb, &alpha, &beta);
        s->folded[n->id] = true;
    }
    uint32_t *out = hnn_arena_array(s->arena, n->size, sizeof *out);
    for (uint32_t j = 0; j < n->size; j++) {
        uint32_t acc = HNN_HIR_NONE;
        for (size_t k = w->row_start[j]; k < w->row_start[j + 1]; k++) {
            double c = alpha * w->val[k];
            if (c == 0)
                continue;
            uint32_t t = mul_const(s, x[w->col[k]], c, n->id);
            acc = acc == HNN_HIR_NONE ? t : hnn_hir_emit(s->hir, HNN_HIR_ADD, acc, t, n->id);
        }
        if (acc == HNN_HIR_NONE) /* an all-zero row: a ciphertext of the bias alone */
            acc = mul_const(s, x[0], 0.0, n->id);
        acc = emit1(s, HNN_HIR_RESCALE, acc, n->id);
        out[j] = add_const(s, acc, alpha * n->u.affine.bias[j] + beta, n->id);
    }
    s->val[n->id] = out;
}

static void
lower_poly(lower_state *s, const hnn_tir_node *n)
{
    const uint32_t *x = s->val[n->in[0]->id];
    hnn_approx_program prog;
    bool mapped = false;
    if (n->u.poly.power) { /* exact: square, poly */
        /* Exact polynomials run on x itself, in the power basis. */
        const double *coeffs = n->u.poly.power;
        uint32_t degree = n->u.poly.power_degree;
        prog = hnn_approx_program_power(s->arena, coeffs, degree);
    } else {
        prog = hnn_approx_program_build(s->arena, &n->u.poly.cheb);
        mapped = !s->folded[n->in[0]->id];
    }
    double alpha, beta;
    hnn_cheb_affine(&n->u.poly.cheb, &alpha, &beta);
    uint32_t *tmp = hnn_arena_array(s->arena, prog.n_instr ? prog.n_instr : 1, sizeof *tmp);
    uint32_t *out = hnn_arena_array(s->arena, n->size, sizeof *out);
    for (uint32_t j = 0; j < n->size; j++) {
        uint32_t t = x[j];
        if (mapped) {
            t = emit1(s, HNN_HIR_RESCALE, mul_const(s, t, alpha, n->id), n->id);
            t = add_const(s, t, beta, n->id);
        }
        out[j] = hnn_lower_program(s->hir, &prog, t, n->id, tmp);
    }
    s->val[n->id] = out;
}

hnn_hir *
hnn_plan_lower(const hnn_tir *tir, hnn_hir_packing packing, hnn_arena *arena)
{
    if (packing != HNN_HIR_PACK_BATCH)
        return NULL;
    lower_state s = {.tir = tir, .arena = arena};
    s.hir = hnn_hir_new(arena, packing);
    s.val = hnn_arena_array(arena, tir->n_nodes, sizeof *s.val);
    s.folded = hnn_arena_array(arena, tir->n_nodes, sizeof *s.folded);
    const hnn_tir_node *last = tir->output;
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        switch (n->kind) {
        case HNN_TIR_INPUT: {
            uint32_t *out = hnn_arena_array(arena, n->size, sizeof *out);
            for (uint32_t j = 0; j < n->size; j++) {
                out[j] = hnn_hir_emit(s.hir, HNN_HIR_INPUT, HNN_HIR_NONE, HNN_HIR_NONE, n->id);
                hnn_hir_at(s.hir, out[j])->pt = j;
            }
            s.val[n->id] = out;
            s.hir->inputs = out;
            s.hir->n_inputs = n->size;
            break;
        }
        case HNN_TIR_AFFINE:
            lower_affine(&s, n);
            break;
        case HNN_TIR_POLY:
            lower_poly(&s, n);
            break;
        case HNN_TIR_ADD: {
            uint32_t *out = hnn_arena_array(arena, n->size, sizeof *out);
            for (uint32_t j = 0; j < n->size; j++)
                out[j] = hnn_hir_emit(s.hir, HNN_HIR_ADD, s.val[n->in[0]->id][j], s.val[n->in[1]->id][j], n->id);
            s.val[n->id] = out;
            break;
        }
        case HNN_TIR_SOFTARGMAX:
            /* Computed by the key holder on the decrypted logits. */
            s.val[n->id] = s.val[n->in[0]->id];
            last = n->in[0];
            break;
        }
    }
    s.hir->outputs = s.val[last->id];
    s.hir->n_outputs = last->size;
    return s.hir;
}
