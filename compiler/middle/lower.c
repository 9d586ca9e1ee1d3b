/*
 * lower: tensor IR -> HE IR, batch packing (CryptoNets-style): element i of
 * every tensor is one ciphertext whose slot s holds sample s, so linear maps
 * are multiply-accumulates by scalars and nothing rotates.
 *
 * An affine map is one LINEAR node per output element (the sum of its
 * terms, each input times its weight), then a RESCALE and the bias: the
 * back ends run a layer's LINEAR nodes as one fused runtime call
 * (hnnrt_eval_linear), so they are emitted together, before the layer's
 * rescales.
 *
 * Levels are not assigned here: each product is followed by its RESCALE (a
 * multiply-accumulate rescales once, after the sum — a lazy rescale), and
 * the levels pass aligns operands afterwards.
 */
#include <math.h>
#include <stdlib.h>
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

typedef struct row_key {
    uint64_t hash;
    uint32_t first, row; /* first: the first row of its hash */
} row_key;

static int
by_hash(const void *a, const void *b)
{
    const row_key *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static int
by_first(const void *a, const void *b)
{
    const row_key *x = a, *y = b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/*
 * The rows of w in the order their LINEAR nodes are emitted: rows with the
 * same columns next to each other (a convolution's output channels at one
 * position), each group where its first row was. hnnrt_eval_linear loads
 * an input once for consecutive rows that share their columns.
 */
static uint32_t *
row_order(const hnn_sparse *w, hnn_arena *arena)
{
    row_key *keys = hnn_arena_array(arena, w->rows ? w->rows : 1, sizeof *keys);
    for (uint32_t j = 0; j < w->rows; j++) {
        uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the columns */
        for (size_t k = w->row_start[j]; k < w->row_start[j + 1]; k++)
            h = (h ^ w->col[k]) * 0x100000001b3ull;
        keys[j] = (row_key){h, j, j};
    }
    qsort(keys, w->rows, sizeof *keys, by_hash);
    for (uint32_t i = 1; i < w->rows; i++)
        if (keys[i].hash == keys[i - 1].hash)
            keys[i].first = keys[i - 1].first;
    qsort(keys, w->rows, sizeof *keys, by_first);
    uint32_t *order = hnn_arena_array(arena, w->rows ? w->rows : 1, sizeof *order);
    for (uint32_t i = 0; i < w->rows; i++)
        order[i] = keys[i].row;
    return order;
}

static void
lower_affine(lower_state *s, const hnn_tir_node *n)
{
    const hnn_sparse *w = &n->u.affine.w;
    const uint32_t *x = s->val[n->in[0]->id];
    double alpha = 1, beta = 0;
    const hnn_tir_node *next = hnn_tir_folding_poly(s->tir, n);
    if (next) {
        /* Fold the POLY's change of variable t = alpha y + beta into this map. */
        hnn_cheb_affine(&next->u.poly.cheb, &alpha, &beta);
        s->folded[n->id] = true;
    }
    uint32_t *out = hnn_arena_array(s->arena, n->size, sizeof *out);
    size_t widest = 1;
    for (uint32_t j = 0; j < n->size; j++)
        if (w->row_start[j + 1] - w->row_start[j] > widest)
            widest = w->row_start[j + 1] - w->row_start[j];
    uint32_t *args = hnn_arena_array(s->arena, widest, sizeof *args);
    double *coeffs = hnn_arena_array(s->arena, widest, sizeof *coeffs);
    const uint32_t *order = row_order(w, s->arena);
    for (uint32_t i = 0; i < n->size; i++) {
        const uint32_t j = order[i];
        uint32_t terms = 0;
        for (size_t k = w->row_start[j]; k < w->row_start[j + 1]; k++) {
            double c = alpha * w->val[k];
            if (c == 0)
                continue;
            args[terms] = x[w->col[k]];
            coeffs[terms++] = c;
        }
        if (terms == 0) { /* an all-zero row: a ciphertext of the bias alone */
            args[0] = x[0];
            coeffs[0] = 0.0;
            terms = 1;
        }
        out[j] = hnn_hir_emit_linear(s->hir, args, coeffs, terms, n->id);
    }
    for (uint32_t j = 0; j < n->size; j++)
        out[j] = emit1(s, HNN_HIR_RESCALE, out[j], n->id);
    for (uint32_t j = 0; j < n->size; j++)
        out[j] = add_const(s, out[j], alpha * n->u.affine.bias[j] + beta, n->id);
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
