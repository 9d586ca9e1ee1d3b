/*
 * lower (vector packing): one sample per ciphertext. A tensor of m values
 * lives in one ciphertext with slot i of every block of `period` slots
 * holding value i (i < m) — the vector replicated across the slots — so a
 * rotation by k reads value (i + k) mod period, whatever the slot count.
 * All tensors share one period, the power of two covering the widest
 * layer, so consecutive layers never re-layout (docs/design/packing.md).
 *
 * AFFINE y = W x + b is Halevi–Shoup's diagonal method with baby-step
 * giant-step: with diag_k[i] = W[i][(i + k) mod n] (zero for rows i beyond
 * W and columns beyond it), and k = g b1 + b,
 *     y = sum_g rot( sum_b rot(diag_k, -g b1) (.) rot(x, b), g b1 )
 * so the baby rotations rot(x, b) share x (the executor hoists them) and
 * only the giant rotations rotate separate values. Only non-zero diagonals
 * are used; b1 is the power of two the cost model finds cheapest. One
 * RESCALE after the sum, then the bias as a plaintext.
 *
 * Under a key-memory cap the planner asks for composed rotations instead:
 * baby b as rot(baby[b - h], h), h the highest power of two in b, and the
 * giant sums Horner-style by b1, so the whole circuit needs at most
 * log2(period) keys, all powers of two, for about the same rotation count.
 *
 * Padding: slots m..n-1 of each block (the padding) take part in every
 * slot-wise op, and must stay bounded — a value out of range there
 * overflows the modulus and corrupts every slot. Their content is known
 * exactly: zero in the input, set by the bias plaintext after an AFFINE
 * (whose zero-padded diagonals ignore whatever the padding held), p(pad)
 * after a POLY, the sum after an ADD. It is tracked per value, and where a
 * polynomial would meet it outside its safe interval (or the output would
 * exceed its bound) one ADD_PT — no level — moves it back.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"
#include "middle/lower_internal.h"
#include "middle/plan.h"

typedef struct vec_state {
    const hnn_tir *tir;
    hnn_hir *hir;
    hnn_arena *arena;
    uint32_t n;            /* the period */
    uint32_t *val;         /* per TIR node: the HE IR id of its ciphertext */
    double *pad;           /* per TIR node: the value every padding slot holds */
    bool *folded;          /* per TIR node: an AFFINE already mapped onto its POLY's [-1, 1] */
    bool compose;          /* rotations composed from power-of-two keys */
    bool *step_used;       /* n entries: rotation steps emitted so far */
    double *scratch;       /* n doubles */
} vec_state;

static uint32_t
emit1(vec_state *s, hnn_hir_op op, uint32_t a, uint32_t tir)
{
    return hnn_hir_emit(s->hir, op, a, HNN_HIR_NONE, tir);
}

static uint32_t
emit_c(vec_state *s, hnn_hir_op op, uint32_t a, double c, uint32_t tir)
{
    uint32_t id = emit1(s, op, a, tir);
    hnn_hir_at(s->hir, id)->c = c;
    return id;
}

static uint32_t
emit_pt(vec_state *s, hnn_hir_op op, uint32_t a, const double *values, uint32_t tir)
{
    uint32_t id = emit1(s, op, a, tir);
    hnn_hir_at(s->hir, id)->pt = hnn_hir_add_pt(s->hir, values, s->n);
    return id;
}

static uint32_t
rotate(vec_state *s, uint32_t a, uint32_t step, uint32_t tir)
{
    uint32_t id = emit1(s, HNN_HIR_ROTATE, a, tir);
    hnn_hir_at(s->hir, id)->step = (int32_t)step;
    s->step_used[step] = true;
    return id;
}

/* Moves the padding of value v (of `size` values, padding `pad`) to `want`. */
static uint32_t
set_padding(vec_state *s, uint32_t v, uint32_t size, double pad, double want, uint32_t tir)
{
    for (uint32_t i = 0; i < s->n; i++)
        s->scratch[i] = i < size ? 0.0 : want - pad;
    return emit_pt(s, HNN_HIR_ADD_PT, v, s->scratch, tir);
}

/* ------------------------------------------------------------------ BSGS split */

/* Estimated cost of the rotations of one matrix-vector product with baby
 * bound b1 over the non-zero diagonals ks[0..nd): baby rotations of x share
 * one decomposition, giant ones each pay a full key switch. Ring and level
 * are not known yet; the ratios are what matter, taken at 2^14 and 5 limbs. */
static double
split_cost(const uint32_t *ks, uint32_t nd, uint32_t b1, uint32_t n, bool *seen, uint32_t *n_baby,
           uint32_t *n_giant)
{
    memset(seen, 0, 2 * (size_t)n * sizeof *seen);
    uint32_t baby = 0, giant = 0;
    for (uint32_t i = 0; i < nd; i++) {
        uint32_t b = ks[i] % b1, g = ks[i] / b1;
        if (b && !seen[b])
            seen[b] = true, baby++;
        if (g && !seen[n + g])
            seen[n + g] = true, giant++;
    }
    *n_baby = baby;
    *n_giant = giant;
    const hnn_cost_table *t = hnn_cost_default();
    double rot = hnn_cost_ns(t, HNN_COST_ROTATE, 14, 5);
    double cost = giant * rot;
    if (baby == 1)
        cost += rot;
    else if (baby > 1)
        cost += hnn_cost_ns(t, HNN_COST_HOIST, 14, 5) + baby * hnn_cost_ns(t, HNN_COST_ROTATE_HOISTED, 14, 5);
    return cost;
}

/* Rotation steps the split needs that no earlier layer emitted. */
static uint32_t
new_keys(const vec_state *s, const uint32_t *ks, uint32_t nd, uint32_t b1, bool *seen)
{
    memset(seen, 0, s->n * sizeof *seen);
    uint32_t count = 0;
    for (uint32_t i = 0; i < nd; i++) {
        uint32_t steps[2] = {ks[i] % b1, ks[i] - ks[i] % b1};
        for (int j = 0; j < 2; j++)
            if (steps[j] && !s->step_used[steps[j]] && !seen[steps[j]])
                seen[steps[j]] = true, count++;
    }
    return count;
}

static uint32_t
high_power(uint32_t b)
{
    uint32_t p = 1;
    while (p * 2 <= b)
        p *= 2;
    return p;
}

/* Composed rotations (a key-memory cap): baby b is rot(baby[b - h], h) with h
 * the highest power of two in b, so every baby costs one rotation and only
 * power-of-two keys; the giant sums are combined Horner-style, each giant
 * step one rotation by b1. Marks in need[] the babies to compute (those
 * used and their ancestors); returns the rotation count, *keys the keys. */
static uint32_t
composed_plan(const uint32_t *ks, uint32_t nd, uint32_t b1, bool *need, uint32_t *keys)
{
    memset(need, 0, b1 * sizeof *need);
    for (uint32_t i = 0; i < nd; i++)
        for (uint32_t b = ks[i] % b1; b && !need[b]; b -= high_power(b))
            need[b] = true;
    uint32_t rotations = 0, key_mask = 0;
    for (uint32_t b = 1; b < b1; b++)
        if (need[b]) {
            rotations++;
            key_mask |= high_power(b); /* keys are powers of two: one bit each */
        }
    uint32_t gmax = ks[nd - 1] / b1;
    rotations += gmax;
    *keys = (uint32_t)__builtin_popcount(key_mask) + (gmax > 0);
    return rotations;
}

/* The baby bound b1, a power of two: by the cost model the cheapest split,
 * ties to the fewer new keys, then the smaller bound; composed, the fewest
 * rotations, then the fewest keys. */
static uint32_t
choose_b1(const vec_state *s, const uint32_t *ks, uint32_t nd)
{
    bool *seen = calloc(2 * (size_t)s->n, sizeof *seen);
    if (!seen)
        hnn_bug("out of memory");
    uint32_t best = 1, best_keys = UINT32_MAX;
    double best_cost = INFINITY;
    for (uint32_t b1 = 1; b1 <= s->n; b1 *= 2) {
        uint32_t nb, ng, keys;
        double cost;
        if (s->compose) {
            cost = composed_plan(ks, nd, b1, seen, &keys);
        } else {
            cost = split_cost(ks, nd, b1, s->n, seen, &nb, &ng);
            keys = new_keys(s, ks, nd, b1, seen);
        }
        if (cost < best_cost || (cost == best_cost && keys < best_keys)) {
            best = b1;
            best_cost = cost;
            best_keys = keys;
        }
    }
    free(seen);
    return best;
}

/* ------------------------------------------------------------------ layers */

static void
lower_affine(vec_state *s, const hnn_tir_node *n)
{
    const hnn_sparse *w = &n->u.affine.w;
    const uint32_t size = s->n;
    uint32_t x = s->val[n->in[0]->id];
    double alpha = 1, beta = 0;
    const hnn_tir_node *next = hnn_tir_sole_reader(s->tir, n);
    if (next && next->kind == HNN_TIR_POLY && !next->u.poly.power) {
        hnn_cheb_affine(&next->u.poly.cheb, &alpha, &beta);
        s->folded[n->id] = true;
    }
    /* The generalized diagonals, allocated as they turn out non-zero. */
    double **diag = calloc(size, sizeof *diag);
    uint32_t *ks = malloc(size * sizeof *ks);
    if (!diag || !ks)
        hnn_bug("out of memory");
    for (uint32_t i = 0; i < w->rows; i++)
        for (size_t e = w->row_start[i]; e < w->row_start[i + 1]; e++) {
            double c = alpha * w->val[e];
            if (c == 0)
                continue;
            uint32_t k = (w->col[e] + size - i) % size;
            if (!diag[k] && !(diag[k] = calloc(size, sizeof **diag)))
                hnn_bug("out of memory");
            diag[k][i] = c;
        }
    uint32_t nd = 0;
    for (uint32_t k = 0; k < size; k++)
        if (diag[k])
            ks[nd++] = k;

    uint32_t acc;
    if (nd == 0) {
        /* an all-zero map: a ciphertext of zeros for the bias */
        acc = emit1(s, HNN_HIR_RESCALE, emit_c(s, HNN_HIR_MUL_CONST, x, 0.0, n->id), n->id);
    } else {
        uint32_t b1 = choose_b1(s, ks, nd);
        /* Baby rotations of x, emitted together so the executor hoists them. */
        uint32_t *baby = malloc(b1 * sizeof *baby);
        bool *need = calloc(b1, sizeof *need);
        if (!baby || !need)
            hnn_bug("out of memory");
        for (uint32_t b = 0; b < b1; b++)
            baby[b] = b == 0 ? x : HNN_HIR_NONE;
        if (s->compose) {
            uint32_t keys;
            composed_plan(ks, nd, b1, need, &keys);
            for (uint32_t b = 1; b < b1; b++) /* parents come first */
                if (need[b])
                    baby[b] = rotate(s, baby[b - high_power(b)], high_power(b), n->id);
        } else {
            for (uint32_t i = 0; i < nd; i++) {
                uint32_t b = ks[i] % b1;
                if (baby[b] == HNN_HIR_NONE)
                    baby[b] = rotate(s, x, b, n->id);
            }
        }
        /* The inner sum of each giant step g, over its pre-rotated diagonals. */
        uint32_t gmax = ks[nd - 1] / b1;
        uint32_t *inner = malloc((gmax + 1) * sizeof *inner);
        if (!inner)
            hnn_bug("out of memory");
        for (uint32_t g = 0; g <= gmax; g++)
            inner[g] = HNN_HIR_NONE;
        for (uint32_t i = 0; i < nd; i++) {
            uint32_t g = ks[i] / b1, shift = g * b1;
            const double *d = diag[ks[i]];
            for (uint32_t j = 0; j < size; j++) /* rot(diag, -shift) */
                s->scratch[j] = d[(j + size - shift) % size];
            uint32_t t = emit_pt(s, HNN_HIR_MUL_PT, baby[ks[i] % b1], s->scratch, n->id);
            inner[g] = inner[g] == HNN_HIR_NONE ? t : hnn_hir_emit(s->hir, HNN_HIR_ADD, inner[g], t, n->id);
        }
        acc = HNN_HIR_NONE;
        if (s->compose) {
            /* Horner: y = inner_0 + rot(inner_1 + rot(inner_2 + ..., b1), b1) */
            acc = inner[gmax];
            for (uint32_t g = gmax; g-- > 0;) {
                acc = rotate(s, acc, b1, n->id);
                if (inner[g] != HNN_HIR_NONE)
                    acc = hnn_hir_emit(s->hir, HNN_HIR_ADD, acc, inner[g], n->id);
            }
        } else {
            for (uint32_t g = 0; g <= gmax; g++) {
                if (inner[g] == HNN_HIR_NONE)
                    continue;
                uint32_t v = g ? rotate(s, inner[g], g * b1, n->id) : inner[g];
                acc = acc == HNN_HIR_NONE ? v : hnn_hir_emit(s->hir, HNN_HIR_ADD, acc, v, n->id);
            }
        }
        free(inner);
        free(need);
        free(baby);
        acc = emit1(s, HNN_HIR_RESCALE, acc, n->id);
    }
    for (uint32_t k = 0; k < size; k++)
        free(diag[k]);
    free(diag);
    free(ks);

    /* The bias, zero in the padding (which the diagonals left at zero): a
     * folded map's padding then sits at t = 0, inside [-1, 1]. */
    bool any = false;
    for (uint32_t i = 0; i < size; i++) {
        s->scratch[i] = i < w->rows ? alpha * n->u.affine.bias[i] + beta : 0.0;
        any |= s->scratch[i] != 0;
    }
    if (any)
        acc = emit_pt(s, HNN_HIR_ADD_PT, acc, s->scratch, n->id);
    s->val[n->id] = acc;
    s->pad[n->id] = 0;
}

static double
clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void
lower_poly(vec_state *s, const hnn_tir_node *n)
{
    const hnn_tir_node *in = n->in[0];
    uint32_t t = s->val[in->id];
    double pad = s->pad[in->id];
    bool padded = n->size < s->n;
    hnn_approx_program prog;
    if (n->u.poly.power) { /* exact: square, poly */
        const double *coeffs = n->u.poly.power;
        uint32_t degree = n->u.poly.power_degree;
        prog = hnn_approx_program_power(s->arena, coeffs, degree);
        /* Bounded like the values when within their hull (or at zero). */
        double lo = fmin(in->range.lo, 0), hi = fmax(in->range.hi, 0);
        if (padded && !(pad >= lo && pad <= hi)) {
            t = set_padding(s, t, n->size, pad, 0.0, n->id);
            pad = 0;
        }
    } else {
        prog = hnn_approx_program_build(s->arena, &n->u.poly.cheb);
        if (s->folded[in->id]) {
            if (padded && !(fabs(pad) <= 1)) {
                t = set_padding(s, t, n->size, pad, 0.0, n->id);
                pad = 0;
            }
        } else {
            /* The series is only bounded on its interval. */
            const hnn_cheb *c = &n->u.poly.cheb;
            if (padded && !(pad >= c->lo && pad <= c->hi)) {
                double want = clamp(0.0, c->lo, c->hi);
                t = set_padding(s, t, n->size, pad, want, n->id);
                pad = want;
            }
            double alpha, beta;
            hnn_cheb_affine(c, &alpha, &beta);
            t = emit1(s, HNN_HIR_RESCALE, emit_c(s, HNN_HIR_MUL_CONST, t, alpha, n->id), n->id);
            if (beta != 0)
                t = emit_c(s, HNN_HIR_ADD_CONST, t, beta, n->id);
            pad = alpha * pad + beta;
        }
    }
    uint32_t *tmp = hnn_arena_array(s->arena, prog.n_instr ? prog.n_instr : 1, sizeof *tmp);
    s->val[n->id] = hnn_lower_program(s->hir, &prog, t, n->id, tmp);
    s->pad[n->id] = hnn_approx_program_eval(&prog, pad);
}

/* The period: the power of two covering every tensor and both sides of
 * every map. */
static uint32_t
vector_period(const hnn_tir *tir)
{
    uint32_t need = 1;
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        if (n->size > need)
            need = n->size;
        if (n->kind == HNN_TIR_AFFINE && n->u.affine.w.cols > need)
            need = n->u.affine.w.cols;
    }
    uint32_t p = 1;
    while (p < need)
        p *= 2;
    return p;
}

hnn_hir *
hnn_plan_lower_vector(const hnn_tir *tir, bool fewer_keys, hnn_arena *arena)
{
    vec_state s = {.tir = tir, .arena = arena, .compose = fewer_keys};
    s.n = vector_period(tir);
    s.hir = hnn_hir_new(arena, HNN_HIR_PACK_VECTOR);
    s.hir->period = s.n;
    s.val = hnn_arena_array(arena, tir->n_nodes, sizeof *s.val);
    s.pad = hnn_arena_array(arena, tir->n_nodes, sizeof *s.pad);
    s.folded = hnn_arena_array(arena, tir->n_nodes, sizeof *s.folded);
    s.step_used = hnn_arena_array(arena, s.n, sizeof *s.step_used);
    s.scratch = hnn_arena_array(arena, s.n, sizeof *s.scratch);
    const hnn_tir_node *last = tir->output;
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        switch (n->kind) {
        case HNN_TIR_INPUT: {
            uint32_t id = hnn_hir_emit(s.hir, HNN_HIR_INPUT, HNN_HIR_NONE, HNN_HIR_NONE, n->id);
            hnn_hir_at(s.hir, id)->pt = 0;
            s.val[n->id] = id;
            s.pad[n->id] = 0;
            /* Input k is slot k of the one input ciphertext. */
            s.hir->n_inputs = n->size;
            s.hir->inputs = hnn_arena_array(arena, n->size, sizeof *s.hir->inputs);
            for (uint32_t k = 0; k < n->size; k++)
                s.hir->inputs[k] = id;
            break;
        }
        case HNN_TIR_AFFINE:
            lower_affine(&s, n);
            break;
        case HNN_TIR_POLY:
            lower_poly(&s, n);
            break;
        case HNN_TIR_ADD:
            s.val[n->id] = hnn_hir_emit(s.hir, HNN_HIR_ADD, s.val[n->in[0]->id], s.val[n->in[1]->id], n->id);
            s.pad[n->id] = s.pad[n->in[0]->id] + s.pad[n->in[1]->id];
            break;
        case HNN_TIR_SOFTARGMAX:
            /* Computed by the key holder on the decrypted logits. */
            s.val[n->id] = s.val[n->in[0]->id];
            s.pad[n->id] = s.pad[n->in[0]->id];
            last = n->in[0];
            break;
        }
    }
    /* The output is decoded from every slot at the bottom level: its padding
     * must not exceed the bound the parameters hold. */
    uint32_t out = s.val[last->id];
    double bound = fmax(fabs(last->range.lo), fabs(last->range.hi));
    if (last->size < s.n && !(fabs(s.pad[last->id]) <= bound))
        out = set_padding(&s, out, last->size, s.pad[last->id], 0.0, last->id);
    s.hir->n_outputs = last->size;
    s.hir->outputs = hnn_arena_array(arena, last->size, sizeof *s.hir->outputs);
    for (uint32_t k = 0; k < last->size; k++)
        s.hir->outputs[k] = out;
    return s.hir;
}
