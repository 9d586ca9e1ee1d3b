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
    uint32_t in_slots;     /* slots a client layout of the input may span (0: none) */
    uint32_t *val;         /* per TIR node: the HE IR id of its ciphertext */
    double *pad;           /* per TIR node: the value every padding slot holds */
    uint32_t *block;       /* per TIR node: rows repeat every `block` slots (n: no copies) */
    bool *folded;          /* per TIR node: an AFFINE already mapped onto its POLY's [-1, 1] */
    bool compose;          /* rotations composed from power-of-two keys */
    bool *step_used;       /* max(n, in_slots) entries: rotation steps emitted so far */
    double *scratch;       /* max(n, in_slots) doubles */
    /* The client layout, when the input's reader takes it: the AFFINE it
     * serves, its row block and the INPUT node of each ciphertext. */
    uint32_t client_for;   /* TIR id, or HNN_HIR_NONE */
    uint32_t client_block, client_p, client_k;
    uint32_t *client_in;
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
emit_pt_len(vec_state *s, hnn_hir_op op, uint32_t a, const double *values, uint32_t len, uint32_t tir)
{
    uint32_t id = emit1(s, op, a, tir);
    hnn_hir_at(s->hir, id)->pt = hnn_hir_add_pt(s->hir, values, len);
    return id;
}

static uint32_t
emit_pt(vec_state *s, hnn_hir_op op, uint32_t a, const double *values, uint32_t tir)
{
    return emit_pt_len(s, op, a, values, s->n, tir);
}

static uint32_t
add(vec_state *s, uint32_t acc, uint32_t v, uint32_t tir)
{
    return acc == HNN_HIR_NONE ? v : hnn_hir_emit(s->hir, HNN_HIR_ADD, acc, v, tir);
}

static uint32_t
rotate(vec_state *s, uint32_t a, uint32_t step, uint32_t tir)
{
    uint32_t id = emit1(s, HNN_HIR_ROTATE, a, tir);
    hnn_hir_at(s->hir, id)->step = (int32_t)step;
    s->step_used[step] = true;
    return id;
}

/* Records what the lowering knows of every slot of value id: the hull of
 * [lo, hi] (its elements) and the padding. */
static void
set_bound(vec_state *s, uint32_t id, double lo, double hi, double pad)
{
    hnn_hir_node *x = hnn_hir_at(s->hir, id);
    x->has_bound = true;
    x->bound_lo = fmin(fmin(lo, hi), pad);
    x->bound_hi = fmax(fmax(lo, hi), pad);
}

/* Moves the padding of value v (of `size` values repeating every `block`
 * slots, padding `pad`) to `want`; the copies of the values stay. */
static uint32_t
set_padding(vec_state *s, uint32_t v, uint32_t size, uint32_t block, double pad, double want, uint32_t tir)
{
    for (uint32_t i = 0; i < s->n; i++)
        s->scratch[i] = i % block < size ? 0.0 : want - pad;
    return emit_pt(s, HNN_HIR_ADD_PT, v, s->scratch, tir);
}

/* Sums value v over the rotations by multiples of `block` within a period of
 * `period` slots (both powers of two): log2(period / block) rotations. */
static uint32_t
fold(vec_state *s, uint32_t v, uint32_t period, uint32_t block, uint32_t tir)
{
    for (uint32_t step = period / 2; step >= block; step /= 2)
        v = hnn_hir_emit(s->hir, HNN_HIR_ADD, v, rotate(s, v, step, tir), tir);
    return v;
}

/* ------------------------------------------------------------------ costs */

/* Ring and level are not known when lowering; the ratios are what matter,
 * taken at 2^14 and 5 limbs. */
static double
op_ns(hnn_cost_op op)
{
    return hnn_cost_ns(hnn_cost_default(), op, 14, 5);
}

/* One more input ciphertext: the client encrypts it and sends it over the
 * link (at 2^14 and 5 limbs, as op_ns), the server multiplies and adds it. */
static double
input_ciphertext_ns(void)
{
    double bytes = 2.0 * 5 * 16384 * sizeof(uint64_t);
    return op_ns(HNN_COST_ENCRYPT) + bytes * HNN_PLAN_NS_PER_BYTE;
}

static uint32_t
log2u(uint32_t v)
{
    uint32_t l = 0;
    while ((1u << l) < v)
        l++;
    return l;
}

static uint32_t
pow2_at_least(uint32_t v)
{
    return 1u << log2u(v ? v : 1);
}

/* ------------------------------------------------------------------ BSGS split */

/* Estimated cost of the rotations of one matrix-vector product with baby
 * bound b1 over the non-zero diagonals ks[0..nd): baby rotations of x share
 * one decomposition, giant ones each pay a full key switch. */
static double
split_cost(const uint32_t *ks, uint32_t nd, uint32_t b1, uint32_t n, bool *seen)
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
    double cost = giant * op_ns(HNN_COST_ROTATE);
    if (baby == 1)
        cost += op_ns(HNN_COST_ROTATE);
    else if (baby > 1)
        cost += op_ns(HNN_COST_HOIST) + baby * op_ns(HNN_COST_ROTATE_HOISTED);
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

/* The baby bound b1, a power of two up to `limit`: by the cost model the
 * cheapest split, ties to the fewer new keys, then the smaller bound;
 * composed, the fewest rotations, then the fewest keys. *cost: the
 * rotations' estimated ns. */
static uint32_t
choose_b1(const vec_state *s, const uint32_t *ks, uint32_t nd, uint32_t limit, double *cost_out)
{
    bool *seen = calloc(2 * (size_t)s->n, sizeof *seen);
    if (!seen)
        hnn_bug("out of memory");
    uint32_t best = 1, best_keys = UINT32_MAX;
    double best_cost = INFINITY;
    for (uint32_t b1 = 1; b1 <= limit; b1 *= 2) {
        uint32_t keys;
        double cost;
        if (s->compose) {
            cost = composed_plan(ks, nd, b1, seen, &keys) * op_ns(HNN_COST_ROTATE);
        } else {
            cost = split_cost(ks, nd, b1, s->n, seen);
            keys = new_keys(s, ks, nd, b1, seen);
        }
        if (cost < best_cost || (cost == best_cost && keys < best_keys)) {
            best = b1;
            best_cost = cost;
            best_keys = keys;
        }
    }
    free(seen);
    *cost_out = best_cost;
    return best;
}

/* ------------------------------------------------------------------ affine methods */

/*
 * The diagonals of W taken `block` rows at a time (block a power of two
 * from the rows up to the period n): slot i of the product belongs to row
 * i mod block, and diagonal k holds W[i mod block][(i + k) mod n], so entry
 * (r, j) lands in diagonal (j - r) mod block at slot r + block t,
 * t = ((j - r) mod n) / block. After the products, a fold over the
 * multiples of `block` (log2(n / block) rotations) sums each row's n / block
 * partial sums. block = n is Halevi–Shoup's square method; a smaller block
 * needs only `block` diagonals for a wide map (the hybrid method), and
 * leaves copies of the rows in the padding (block-periodic values).
 */
static uint32_t
block_diagonals(const hnn_sparse *w, uint32_t n, uint32_t block, bool *nz, uint32_t *ks)
{
    memset(nz, 0, block * sizeof *nz);
    for (uint32_t r = 0; r < w->rows; r++)
        for (size_t e = w->row_start[r]; e < w->row_start[r + 1]; e++)
            nz[(w->col[e] + n - r) % block] = true;
    uint32_t nd = 0;
    for (uint32_t k = 0; k < block; k++)
        if (nz[k])
            ks[nd++] = k;
    return nd;
}

/* Copies of the rows in the padding are harmless when they meet no ADD
 * before the next AFFINE or the output: a polynomial maps copies to copies
 * and an AFFINE's zero columns ignore them, but a sum of copies and another
 * value's padding is neither. */
static bool
copies_harmless(const hnn_tir *tir, const hnn_tir_node *n)
{
    for (uint32_t i = n->id + 1; i < tir->n_nodes; i++) {
        const hnn_tir_node *r = tir->nodes[i];
        for (uint32_t k = 0; k < r->n_in; k++)
            if (r->in[k] == n &&
                (r->kind == HNN_TIR_ADD || (r->kind == HNN_TIR_POLY && !copies_harmless(tir, r))))
                return false;
    }
    return true;
}

/* The smallest row block an AFFINE may take: its rows, or the whole period
 * when copies would not be harmless. */
static uint32_t
min_block(const vec_state *s, const hnn_tir_node *n)
{
    return copies_harmless(s->tir, n) ? pow2_at_least(n->size) : s->n;
}

typedef struct affine_method {
    uint32_t block, b1;
    double cost; /* estimated ns */
} affine_method;

/* The cheapest row block and baby bound for AFFINE n on a replicated input:
 * the products, their sums, the BSGS rotations and the fold. */
static affine_method
choose_method(const vec_state *s, const hnn_tir_node *n)
{
    affine_method best = {s->n, 1, INFINITY};
    bool *nz = malloc(s->n * sizeof *nz);
    uint32_t *ks = malloc(s->n * sizeof *ks);
    if (!nz || !ks)
        hnn_bug("out of memory");
    for (uint32_t block = s->n; block >= min_block(s, n); block /= 2) {
        uint32_t nd = block_diagonals(&n->u.affine.w, s->n, block, nz, ks);
        double cost;
        uint32_t b1 = nd ? choose_b1(s, ks, nd, block, &cost) : 1;
        if (!nd)
            cost = 0;
        cost += nd * (op_ns(HNN_COST_MUL_PT) + op_ns(HNN_COST_ADD)) +
                log2u(s->n / block) * (op_ns(HNN_COST_ROTATE) + op_ns(HNN_COST_ADD));
        if (cost < best.cost)
            best = (affine_method){block, b1, cost};
        if (block == 1)
            break;
    }
    free(nz);
    free(ks);
    return best;
}

/* The longest row of w. */
static size_t
max_row_entries(const hnn_sparse *w)
{
    size_t m = 0;
    for (uint32_t r = 0; r < w->rows; r++)
        if (w->row_start[r + 1] - w->row_start[r] > m)
            m = w->row_start[r + 1] - w->row_start[r];
    return m;
}

/*
 * A client layout for the AFFINE reading the input: the key holder lays its
 * input out so that the map needs no rotation of it. With `block` rows
 * (from the rows up to the period) and P slots (from block up to in_slots),
 * each ciphertext gives row r the P / block slots r + block t; the row's
 * entries go one per slot, entry q to ciphertext q / (P / block), so
 * K = ceil(longest row / (P / block)) ciphertexts hold every product, and
 * the server computes fold(sum_c pt_c (.) in_c) over the multiples of block
 * in P slots. Cost: K input ciphertexts (encrypted and sent by the client,
 * multiplied and summed by the server), log2(P / block) rotations. Returns the cheapest block (0 when none is cheaper than
 * `than`), its P and its K.
 */
static uint32_t
choose_client_block(const vec_state *s, const hnn_tir_node *n, double than, uint32_t *p_out, uint32_t *k_out)
{
    size_t longest = max_row_entries(&n->u.affine.w);
    uint32_t best = 0;
    if (!s->in_slots || longest == 0)
        return 0;
    for (uint32_t block = s->n; block >= min_block(s, n); block /= 2) {
        for (uint32_t P = s->in_slots; P >= block; P /= 2) {
            size_t per = P / block, k = (longest + per - 1) / per;
            double cost = (double)k * (input_ciphertext_ns() + op_ns(HNN_COST_MUL_PT) + op_ns(HNN_COST_ADD)) +
                          log2u(P / block) * (op_ns(HNN_COST_ROTATE) + op_ns(HNN_COST_ADD));
            if (cost < than) {
                than = cost;
                best = block;
                *p_out = P;
                *k_out = (uint32_t)k;
            }
        }
        if (block == 1)
            break;
    }
    return best;
}

/* The period: the power of two covering every tensor and both sides of
 * every map — but not the input's side of a map when the client lays the
 * input out for it (in_slots), which the map then needs no period for. */
static uint32_t
vector_period(const hnn_tir *tir, bool client_layout)
{
    const hnn_tir_node *reader = client_layout ? hnn_tir_sole_reader(tir, tir->input) : NULL;
    bool skip_input = reader && reader->kind == HNN_TIR_AFFINE;
    uint32_t need = 1;
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        if (n->size > need && !(skip_input && n == tir->input))
            need = n->size;
        if (n->kind == HNN_TIR_AFFINE && n->u.affine.w.cols > need && !(skip_input && n == reader))
            need = n->u.affine.w.cols;
    }
    return pow2_at_least(need);
}

/*
 * Whether the input's reader takes a client layout: when it is an AFFINE and
 * the layout (with the client's extra ciphertexts) is cheaper than its best
 * method on the replicated input. The period then need not hold the input,
 * only the other tensors and the layout's row block (a larger block folds
 * less). Sets s->n, s->in_slots and the client fields.
 */
static void
choose_client_layout(vec_state *s, uint32_t in_slots)
{
    const hnn_tir *tir = s->tir;
    s->n = vector_period(tir, false);
    s->in_slots = in_slots >= s->n ? in_slots : 0;
    const hnn_tir_node *reader = hnn_tir_sole_reader(tir, tir->input);
    if (!s->in_slots || !reader || reader->kind != HNN_TIR_AFFINE)
        return;
    double replicated = choose_method(s, reader).cost + input_ciphertext_ns();
    uint32_t block = choose_client_block(s, reader, replicated, &s->client_p, &s->client_k);
    if (!block)
        return;
    uint32_t narrow = vector_period(tir, true);
    s->n = narrow > block ? narrow : block;
    s->client_for = reader->id;
    s->client_block = block;
}

/* The input: one replicated ciphertext, or the client layout its reader
 * takes (choose_client_layout). */
static void
lower_input(vec_state *s, const hnn_tir_node *n)
{
    hnn_hir *h = s->hir;
    h->n_inputs = n->size;
    h->inputs = hnn_arena_array(s->arena, n->size, sizeof *h->inputs);
    s->pad[n->id] = 0;
    s->block[n->id] = s->n;
    if (s->client_for == HNN_HIR_NONE) {
        uint32_t id = hnn_hir_emit(h, HNN_HIR_INPUT, HNN_HIR_NONE, HNN_HIR_NONE, n->id);
        hnn_hir_at(h, id)->pt = 0;
        set_bound(s, id, n->range.lo, n->range.hi, 0);
        s->val[n->id] = id;
        for (uint32_t v = 0; v < n->size; v++) /* value v is slot v of the one ciphertext */
            h->inputs[v] = id;
        return;
    }
    const uint32_t P = s->client_p, block = s->client_block, per = P / block, k = s->client_k;
    const hnn_sparse *w = &s->tir->nodes[s->client_for]->u.affine.w;
    h->in_period = P;
    h->in_cts = k;
    h->in_layout = hnn_arena_array(s->arena, (size_t)k * P, sizeof *h->in_layout);
    for (size_t i = 0; i < (size_t)k * P; i++)
        h->in_layout[i] = HNN_HIR_NONE;
    for (uint32_t r = 0; r < w->rows; r++)
        for (size_t e = w->row_start[r]; e < w->row_start[r + 1]; e++) {
            size_t q = e - w->row_start[r];
            h->in_layout[(q / per) * P + r + block * (q % per)] = w->col[e];
        }
    s->client_in = hnn_arena_array(s->arena, k, sizeof *s->client_in);
    for (uint32_t c = 0; c < k; c++) {
        uint32_t id = hnn_hir_emit(h, HNN_HIR_INPUT, HNN_HIR_NONE, HNN_HIR_NONE, n->id);
        hnn_hir_at(h, id)->pt = c;
        set_bound(s, id, n->range.lo, n->range.hi, 0);
        s->client_in[c] = id;
    }
    for (uint32_t v = 0; v < n->size; v++)
        h->inputs[v] = s->client_in[0];
    for (size_t i = (size_t)k * P; i-- > 0;) /* each value at a ciphertext holding it */
        if (h->in_layout[i] != HNN_HIR_NONE)
            h->inputs[h->in_layout[i]] = s->client_in[i / P];
    s->val[n->id] = s->client_in[0];
}

/* The products of the client layout, summed and folded (before the rescale). */
static uint32_t
client_products(vec_state *s, const hnn_tir_node *n, double alpha)
{
    const hnn_hir *h = s->hir;
    const uint32_t P = h->in_period, block = s->client_block, per = P / block;
    const hnn_sparse *w = &n->u.affine.w;
    uint32_t acc = HNN_HIR_NONE;
    for (uint32_t c = 0; c < h->in_cts; c++) {
        memset(s->scratch, 0, P * sizeof *s->scratch);
        for (uint32_t r = 0; r < w->rows; r++)
            for (size_t e = w->row_start[r]; e < w->row_start[r + 1]; e++) {
                size_t q = e - w->row_start[r];
                if (q / per == c)
                    s->scratch[r + block * (q % per)] = alpha * w->val[e];
            }
        acc = add(s, acc, emit_pt_len(s, HNN_HIR_MUL_PT, s->client_in[c], s->scratch, P, n->id), n->id);
    }
    return fold(s, acc, P, block, n->id);
}

/* The diagonal products with baby-step giant-step, summed and folded
 * (before the rescale). */
static uint32_t
diagonal_products(vec_state *s, const hnn_tir_node *n, uint32_t x, affine_method m, double alpha)
{
    const hnn_sparse *w = &n->u.affine.w;
    const uint32_t size = s->n, block = m.block, b1 = m.b1;
    bool *nz = malloc(block * sizeof *nz);
    uint32_t *ks = malloc(block * sizeof *ks);
    uint32_t *slot_of = malloc(block * sizeof *slot_of); /* diagonal k's row in diag[], by k */
    if (!nz || !ks || !slot_of)
        hnn_bug("out of memory");
    uint32_t nd = block_diagonals(w, size, block, nz, ks);
    if (nd == 0) {
        /* an all-zero map: a ciphertext of zeros for the bias */
        free(nz);
        free(ks);
        free(slot_of);
        return emit_c(s, HNN_HIR_MUL_CONST, x, 0.0, n->id);
    }
    double *diag = calloc((size_t)nd * size, sizeof *diag);
    if (!diag)
        hnn_bug("out of memory");
    for (uint32_t i = 0; i < nd; i++)
        slot_of[ks[i]] = i;
    for (uint32_t r = 0; r < w->rows; r++)
        for (size_t e = w->row_start[r]; e < w->row_start[r + 1]; e++) {
            uint32_t off = (w->col[e] + size - r) % size;
            diag[(size_t)slot_of[off % block] * size + r + block * (off / block)] = alpha * w->val[e];
        }

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
        const double *d = diag + (size_t)i * size;
        for (uint32_t j = 0; j < size; j++) /* rot(diag, -shift) */
            s->scratch[j] = d[(j + size - shift) % size];
        inner[g] = add(s, inner[g], emit_pt(s, HNN_HIR_MUL_PT, baby[ks[i] % b1], s->scratch, n->id), n->id);
    }
    uint32_t acc = HNN_HIR_NONE;
    if (s->compose) {
        /* Horner: y = inner_0 + rot(inner_1 + rot(inner_2 + ..., b1), b1) */
        acc = inner[gmax];
        for (uint32_t g = gmax; g-- > 0;) {
            acc = rotate(s, acc, b1, n->id);
            if (inner[g] != HNN_HIR_NONE)
                acc = add(s, acc, inner[g], n->id);
        }
    } else {
        for (uint32_t g = 0; g <= gmax; g++)
            if (inner[g] != HNN_HIR_NONE)
                acc = add(s, acc, g ? rotate(s, inner[g], g * b1, n->id) : inner[g], n->id);
    }
    free(inner);
    free(need);
    free(baby);
    free(diag);
    free(nz);
    free(ks);
    free(slot_of);
    return fold(s, acc, size, block, n->id);
}

/* ------------------------------------------------------------------ layers */

static void
lower_affine(vec_state *s, const hnn_tir_node *n)
{
    const hnn_sparse *w = &n->u.affine.w;
    double alpha = 1, beta = 0;
    const hnn_tir_node *next = hnn_tir_folding_poly(s->tir, n);
    if (next) {
        hnn_cheb_affine(&next->u.poly.cheb, &alpha, &beta);
        s->folded[n->id] = true;
    }
    uint32_t block, acc;
    if (s->client_for == n->id) {
        block = s->client_block;
        acc = client_products(s, n, alpha);
    } else {
        affine_method m = choose_method(s, n);
        block = m.block;
        acc = diagonal_products(s, n, s->val[n->in[0]->id], m, alpha);
    }
    acc = emit1(s, HNN_HIR_RESCALE, acc, n->id);

    /* The bias in every copy of the rows, zero in the padding (which the
     * diagonals left at zero): a folded map's padding then sits at t = 0,
     * inside [-1, 1]. */
    bool any = false;
    for (uint32_t i = 0; i < s->n; i++) {
        s->scratch[i] = i % block < w->rows ? alpha * n->u.affine.bias[i % block] + beta : 0.0;
        any |= s->scratch[i] != 0;
    }
    if (any)
        acc = emit_pt(s, HNN_HIR_ADD_PT, acc, s->scratch, n->id);
    s->val[n->id] = acc;
    s->pad[n->id] = 0;
    s->block[n->id] = block;
    set_bound(s, acc, alpha * n->range.lo + beta, alpha * n->range.hi + beta, 0);
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
    uint32_t block = s->block[in->id];
    bool padded = n->size < s->n;
    hnn_approx_program prog;
    if (n->u.poly.power) { /* exact: square, poly */
        const double *coeffs = n->u.poly.power;
        uint32_t degree = n->u.poly.power_degree;
        prog = hnn_approx_program_power(s->arena, coeffs, degree);
        /* Bounded like the values when within their hull (or at zero). */
        double lo = fmin(in->range.lo, 0), hi = fmax(in->range.hi, 0);
        if (padded && !(pad >= lo && pad <= hi)) {
            t = set_padding(s, t, n->size, block, pad, 0.0, n->id);
            pad = 0;
        }
    } else {
        prog = hnn_approx_program_build(s->arena, &n->u.poly.cheb);
        if (s->folded[in->id]) {
            if (padded && !(fabs(pad) <= 1)) {
                t = set_padding(s, t, n->size, block, pad, 0.0, n->id);
                pad = 0;
            }
        } else {
            /* The series is only bounded on its interval. */
            const hnn_cheb *c = &n->u.poly.cheb;
            if (padded && !(pad >= c->lo && pad <= c->hi)) {
                double want = clamp(0.0, c->lo, c->hi);
                t = set_padding(s, t, n->size, block, pad, want, n->id);
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
    s->block[n->id] = block; /* copies of the inputs give copies of the outputs */
    set_bound(s, s->val[n->id], n->range.lo, n->range.hi, padded ? s->pad[n->id] : n->range.lo);
}

hnn_hir *
hnn_plan_lower_vector(const hnn_tir *tir, bool fewer_keys, uint32_t in_slots, hnn_arena *arena)
{
    vec_state s = {.tir = tir, .arena = arena, .compose = fewer_keys, .client_for = HNN_HIR_NONE};
    uint32_t full = vector_period(tir, false), wide = in_slots > full ? in_slots : full;
    s.n = full;
    s.step_used = hnn_arena_array(arena, wide, sizeof *s.step_used);
    s.scratch = hnn_arena_array(arena, wide, sizeof *s.scratch);
    choose_client_layout(&s, in_slots);
    s.hir = hnn_hir_new(arena, HNN_HIR_PACK_VECTOR);
    s.hir->period = s.n;
    s.val = hnn_arena_array(arena, tir->n_nodes, sizeof *s.val);
    s.pad = hnn_arena_array(arena, tir->n_nodes, sizeof *s.pad);
    s.block = hnn_arena_array(arena, tir->n_nodes, sizeof *s.block);
    s.folded = hnn_arena_array(arena, tir->n_nodes, sizeof *s.folded);
    const hnn_tir_node *last = tir->output;
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        switch (n->kind) {
        case HNN_TIR_INPUT:
            lower_input(&s, n);
            break;
        case HNN_TIR_AFFINE:
            lower_affine(&s, n);
            break;
        case HNN_TIR_POLY:
            lower_poly(&s, n);
            break;
        case HNN_TIR_ADD:
            s.val[n->id] = hnn_hir_emit(s.hir, HNN_HIR_ADD, s.val[n->in[0]->id], s.val[n->in[1]->id], n->id);
            s.pad[n->id] = s.pad[n->in[0]->id] + s.pad[n->in[1]->id];
            s.block[n->id] = s.n; /* copies never reach a sum (copies_harmless) */
            set_bound(&s, s.val[n->id], n->range.lo, n->range.hi, s.pad[n->id]);
            break;
        case HNN_TIR_SOFTARGMAX:
            /* Computed by the key holder on the decrypted logits. */
            s.val[n->id] = s.val[n->in[0]->id];
            s.pad[n->id] = s.pad[n->in[0]->id];
            s.block[n->id] = s.block[n->in[0]->id];
            last = n->in[0];
            break;
        }
    }
    /* The output is decoded from every slot at the bottom level: its padding
     * must not exceed the bound the parameters hold. */
    uint32_t out = s.val[last->id];
    double bound = fmax(fabs(last->range.lo), fabs(last->range.hi));
    if (last->size < s.n && !(fabs(s.pad[last->id]) <= bound)) {
        out = set_padding(&s, out, last->size, s.block[last->id], s.pad[last->id], 0.0, last->id);
        set_bound(&s, out, last->range.lo, last->range.hi, 0);
    }
    s.hir->n_outputs = last->size;
    s.hir->outputs = hnn_arena_array(arena, last->size, sizeof *s.hir->outputs);
    for (uint32_t k = 0; k < last->size; k++)
        s.hir->outputs[k] = out;
    return s.hir;
}
