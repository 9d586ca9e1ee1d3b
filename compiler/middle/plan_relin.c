/*
 * Lazy relinearisation: a combination of ciphertext products needs one
 * relinearisation, not one per product. Two rewrites on the lowered HE IR:
 *
 * Sums. ADD(RESCALE(RELIN(MUL_CT a b)), RESCALE(RELIN(MUL_CT c d))) becomes
 * RESCALE(RELIN(ADD(MUL_CT a b, MUL_CT c d))), the sum taken on the 3-part
 * products, when each intermediate has no other reader and both products
 * sit at the same depth (so the levels pass aligns nothing between them).
 * One key switch and one rescale fewer per match; the key-switching noise is
 * added once instead of twice.
 *
 * Linear combinations. When every reader of the products
 * p = RESCALE(RELIN(MUL_CT x y)) is a LINEAR node whose operands are all
 * such products at one depth, and whose sole reader is its RESCALE, the
 * LINEAR nodes take the 3-part products themselves, neither relinearised
 * nor rescaled, and relinearise between two rescales:
 *   RESCALE(RELIN(RESCALE(LINEAR(MUL_CT x y, ...))))
 * Same depth (the products' rescale moves after the sum), and one key
 * switch and two rescales per output instead of a key switch and a rescale
 * per product — a dense layer after a square activation (CryptoNets: 845
 * key switches and rescales become 100). The first rescale divides a
 * value at scale D^3 (the constants at D, see plan_scales.c), so the third
 * part's rounding, s^2 times larger than the others', and the key switch
 * after it are negligible; the products' own rounding at D^2 is gone. The
 * price: the LINEAR terms on three parts and one more limb, so each group
 * of products and combinations that share operands is rewritten only when
 * the cost model says it saves time (at the ring the pass is given; the
 * limbs follow the depths).
 */
#include <string.h>

#include "middle/plan.h"

static bool
is_product_chain(const hnn_hir *h, const uint32_t *uses, uint32_t x, uint32_t *mul)
{
    const hnn_hir_node *r = &h->nodes[x];
    if (r->op != HNN_HIR_RESCALE)
        return false;
    const hnn_hir_node *l = &h->nodes[r->a];
    if (l->op != HNN_HIR_RELIN || uses[r->a] != 1)
        return false;
    if (h->nodes[l->a].op != HNN_HIR_MUL_CT || uses[l->a] != 1)
        return false;
    *mul = l->a;
    return true;
}

static uint32_t
find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

typedef struct relin_state {
    const hnn_hir *h;
    uint32_t *uses, *depth, *reader; /* reader: the last node reading each value */
    uint32_t max_depth;
    unsigned log_n;
    bool *prod;     /* LINEAR rewrite: products whose RELIN and RESCALE go */
    bool *comb;     /* LINEAR rewrite: combinations taking their MUL_CT */
} relin_state;

static unsigned
limbs_at(const relin_state *s, uint32_t depth)
{
    return s->max_depth - depth + 1;
}

/*
 * Which products and combinations the LINEAR rewrite takes: candidates
 * first, then pruned until every kept product is read only by kept
 * combinations and every kept combination reads only kept products, then
 * kept by connected group when the cost model finds a saving. Returns the
 * combinations kept.
 */
static uint32_t
choose_linear(relin_state *s, hnn_arena *arena)
{
    const hnn_hir *h = s->h;
    const uint32_t n = h->n_nodes;
    uint32_t *lin_uses = hnn_arena_array(arena, n ? n : 1, sizeof *lin_uses);
    for (uint32_t i = 0; i < n; i++)
        if (h->nodes[i].op == HNN_HIR_LINEAR)
            for (uint32_t k = 0; k < h->nodes[i].n_args; k++)
                lin_uses[h->nodes[i].args[k]]++;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t m;
        s->prod[i] = s->uses[i] > 0 && s->uses[i] == lin_uses[i] && is_product_chain(h, s->uses, i, &m);
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t i = 0; i < n; i++) {
            const hnn_hir_node *u = &h->nodes[i];
            if (u->op != HNN_HIR_LINEAR)
                continue;
            bool ok = s->uses[i] == 1 && h->nodes[s->reader[i]].op == HNN_HIR_RESCALE;
            for (uint32_t k = 0; ok && k < u->n_args; k++)
                ok = s->prod[u->args[k]] && s->depth[u->args[k]] == s->depth[u->args[0]];
            s->comb[i] = ok;
            for (uint32_t k = 0; !ok && k < u->n_args; k++) {
                changed |= s->prod[u->args[k]];
                s->prod[u->args[k]] = false;
            }
        }
    }
    /* Groups: products and the combinations reading them. */
    uint32_t *parent = hnn_arena_array(arena, n ? n : 1, sizeof *parent);
    double *gain = hnn_arena_array(arena, n ? n : 1, sizeof *gain);
    for (uint32_t i = 0; i < n; i++)
        parent[i] = i;
    for (uint32_t i = 0; i < n; i++)
        if (s->comb[i])
            for (uint32_t k = 0; k < h->nodes[i].n_args; k++)
                parent[find(parent, h->nodes[i].args[k])] = find(parent, i);
    const hnn_cost_table *t = hnn_cost_default();
    for (uint32_t i = 0; i < n; i++) {
        if (s->prod[i]) {
            /* its product's key switch and rescale saved */
            unsigned l = limbs_at(s, s->depth[i] - 1);
            gain[find(parent, i)] += hnn_cost_ns(t, HNN_COST_RELIN, s->log_n, l) +
                                     hnn_cost_ns(t, HNN_COST_RESCALE, s->log_n, l);
        } else if (s->comb[i]) {
            /* one limb more and a third part through the terms and the first
             * rescale; a key switch and a rescale below it */
            const hnn_hir_node *u = &h->nodes[i];
            unsigned l = limbs_at(s, s->depth[i]);
            double before = u->n_args * hnn_cost_ns(t, HNN_COST_LINEAR_TERM, s->log_n, l) +
                            hnn_cost_ns(t, HNN_COST_LINEAR, s->log_n, l) +
                            hnn_cost_ns(t, HNN_COST_RESCALE, s->log_n, l);
            double after = 1.5 * (u->n_args * hnn_cost_ns(t, HNN_COST_LINEAR_TERM, s->log_n, l + 1) +
                                  hnn_cost_ns(t, HNN_COST_LINEAR, s->log_n, l + 1) +
                                  hnn_cost_ns(t, HNN_COST_RESCALE, s->log_n, l + 1)) +
                           hnn_cost_ns(t, HNN_COST_RELIN, s->log_n, l) + hnn_cost_ns(t, HNN_COST_RESCALE, s->log_n, l);
            gain[find(parent, i)] -= after - before;
        }
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        bool worth = gain[find(parent, i)] > 0;
        s->prod[i] &= worth;
        s->comb[i] &= worth;
        kept += s->comb[i];
    }
    return kept;
}

/* Emits the relinearisations, then the second rescales, of the pending
 * combinations (their first rescales, in map); returns 0, the new count. */
static uint32_t
flush_pending(hnn_hir *h, const hnn_hir *old, uint32_t *map, const uint32_t *pending, uint32_t n_pending)
{
    for (uint32_t k = 0; k < n_pending; k++)
        map[pending[k]] = hnn_hir_emit(h, HNN_HIR_RELIN, map[pending[k]], HNN_HIR_NONE, old->nodes[pending[k]].tir);
    for (uint32_t k = 0; k < n_pending; k++)
        map[pending[k]] = hnn_hir_emit(h, HNN_HIR_RESCALE, map[pending[k]], HNN_HIR_NONE, old->nodes[pending[k]].tir);
    return 0;
}

uint32_t
hnn_plan_lazy_relin(hnn_hir **hir, unsigned log_n, hnn_arena *arena)
{
    const hnn_hir *old = *hir;
    const uint32_t n = old->n_nodes;
    relin_state s = {.h = old, .log_n = log_n};
    s.uses = hnn_arena_array(arena, n ? n : 1, sizeof *s.uses);
    s.depth = hnn_arena_array(arena, n ? n : 1, sizeof *s.depth);
    s.reader = hnn_arena_array(arena, n ? n : 1, sizeof *s.reader);
    s.prod = hnn_arena_array(arena, n ? n : 1, sizeof *s.prod);
    s.comb = hnn_arena_array(arena, n ? n : 1, sizeof *s.comb);
    for (uint32_t i = 0; i < n; i++) {
        const hnn_hir_node *u = &old->nodes[i];
        unsigned nops = hnn_hir_arity(u);
        uint32_t d = 0;
        for (unsigned k = 0; k < nops; k++) {
            uint32_t x = hnn_hir_arg(u, k);
            s.uses[x]++;
            s.reader[x] = i;
            if (s.depth[x] > d)
                d = s.depth[x];
        }
        s.depth[i] = u->op == HNN_HIR_REFRESH ? 0 : d + (u->op == HNN_HIR_RESCALE);
        if (s.depth[i] > s.max_depth)
            s.max_depth = s.depth[i];
    }
    for (uint32_t k = 0; k < old->n_outputs; k++)
        s.uses[old->outputs[k]]++;

    /* Which sums to rewrite, and which nodes they make dead. */
    bool *skip = hnn_arena_array(arena, n ? n : 1, sizeof *skip);
    uint32_t *mul_a = hnn_arena_array(arena, n ? n : 1, sizeof *mul_a);
    uint32_t *mul_b = hnn_arena_array(arena, n ? n : 1, sizeof *mul_b);
    uint32_t matches = 0;
    for (uint32_t i = 0; i < n; i++) {
        const hnn_hir_node *u = &old->nodes[i];
        mul_a[i] = HNN_HIR_NONE;
        if ((u->op != HNN_HIR_ADD && u->op != HNN_HIR_SUB) || u->a == u->b)
            continue;
        uint32_t m1, m2;
        if (!is_product_chain(old, s.uses, u->a, &m1) || s.uses[u->a] != 1 ||
            !is_product_chain(old, s.uses, u->b, &m2) || s.uses[u->b] != 1 || s.depth[m1] != s.depth[m2])
            continue;
        mul_a[i] = m1;
        mul_b[i] = m2;
        skip[u->a] = skip[old->nodes[u->a].a] = true;
        skip[u->b] = skip[old->nodes[u->b].a] = true;
        matches++;
    }
    matches += choose_linear(&s, arena);
    if (!matches)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        if (s.prod[i])
            skip[i] = skip[old->nodes[i].a] = true; /* the combinations take the MUL_CT */

    hnn_hir *h = hnn_hir_derive(old, arena);
    uint32_t *map = hnn_arena_array(arena, n ? n : 1, sizeof *map);
    /* A run of the combinations' rescales gets its relinearisations and
     * second rescales after the whole run, each kind together: independent
     * nodes side by side, which the executor runs in parallel. */
    uint32_t *pending = hnn_arena_array(arena, n ? n : 1, sizeof *pending);
    uint32_t n_pending = 0;
    uint32_t *args = hnn_arena_array(arena, hnn_hir_max_arity(old), sizeof *args);
    for (uint32_t i = 0; i < n; i++) {
        const hnn_hir_node *u = &old->nodes[i];
        const bool comb_rescale = !skip[i] && u->op == HNN_HIR_RESCALE && s.comb[u->a];
        if (!comb_rescale)
            n_pending = flush_pending(h, old, map, pending, n_pending);
        if (skip[i])
            continue;
        if (mul_a[i] != HNN_HIR_NONE) {
            uint32_t sum = hnn_hir_emit(h, u->op, map[mul_a[i]], map[mul_b[i]], u->tir);
            hnn_hir_at(h, sum)->size = 3;
            uint32_t r = hnn_hir_emit(h, HNN_HIR_RELIN, sum, HNN_HIR_NONE, u->tir);
            map[i] = hnn_hir_emit(h, HNN_HIR_RESCALE, r, HNN_HIR_NONE, u->tir);
            continue;
        }
        if (s.comb[i]) {
            for (uint32_t k = 0; k < u->n_args; k++)
                args[k] = map[old->nodes[old->nodes[u->args[k]].a].a]; /* RESCALE -> RELIN -> MUL_CT */
            map[i] = hnn_hir_copy_node(h, u, args);
            hnn_hir_at(h, map[i])->size = 3;
            hnn_hir_at(h, map[i])->rescales = 2;
            continue;
        }
        map[i] = hnn_hir_copy_mapped(h, u, map);
        if (comb_rescale) { /* the combination's first rescale; the relin and second one follow */
            hnn_hir_at(h, map[i])->size = 3;
            pending[n_pending++] = i;
        }
    }
    flush_pending(h, old, map, pending, n_pending); /* a run that ends the circuit */
    hnn_hir_map_io(h, old, map);
    *hir = h;
    return matches;
}
