/*
 * Lazy relinearisation: a sum (or difference) of two ciphertext products
 * needs one relinearisation, not two. On the lowered HE IR,
 *   ADD(RESCALE(RELIN(MUL_CT a b)), RESCALE(RELIN(MUL_CT c d)))
 * becomes RESCALE(RELIN(ADD(MUL_CT a b, MUL_CT c d))), the sum taken on the
 * 3-part products, when each intermediate has no other reader and both
 * products sit at the same depth (so the levels pass aligns nothing between
 * them). One key switch and one rescale fewer per match; the key-switching
 * noise is added once instead of twice.
 */
#include <string.h>

#include "middle/plan.h"

static bool
is_product_chain(const hnn_hir *h, const uint32_t *uses, uint32_t x, uint32_t *mul)
{
    const hnn_hir_node *r = &h->nodes[x];
    if (r->op != HNN_HIR_RESCALE || uses[x] != 1)
        return false;
    const hnn_hir_node *l = &h->nodes[r->a];
    if (l->op != HNN_HIR_RELIN || uses[r->a] != 1)
        return false;
    if (h->nodes[l->a].op != HNN_HIR_MUL_CT || uses[l->a] != 1)
        return false;
    *mul = l->a;
    return true;
}

uint32_t
hnn_plan_lazy_relin(hnn_hir **hir, hnn_arena *arena)
{
    const hnn_hir *old = *hir;
    const uint32_t n = old->n_nodes;
    uint32_t *uses = hnn_arena_array(arena, n ? n : 1, sizeof *uses);
    uint32_t *depth = hnn_arena_array(arena, n ? n : 1, sizeof *depth);
    for (uint32_t i = 0; i < n; i++) {
        const hnn_hir_node *u = &old->nodes[i];
        unsigned nops = hnn_hir_op_operands(u->op);
        uint32_t d = 0;
        for (unsigned k = 0; k < nops; k++) {
            uint32_t x = k == 0 ? u->a : u->b;
            uses[x]++;
            if (depth[x] > d)
                d = depth[x];
        }
        depth[i] = u->op == HNN_HIR_REFRESH ? 0 : d + (u->op == HNN_HIR_RESCALE);
    }
    for (uint32_t k = 0; k < old->n_outputs; k++)
        uses[old->outputs[k]]++;

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
        if (!is_product_chain(old, uses, u->a, &m1) || !is_product_chain(old, uses, u->b, &m2) ||
            depth[m1] != depth[m2])
            continue;
        mul_a[i] = m1;
        mul_b[i] = m2;
        skip[u->a] = skip[old->nodes[u->a].a] = true;
        skip[u->b] = skip[old->nodes[u->b].a] = true;
        matches++;
    }
    if (!matches)
        return 0;

    hnn_hir *h = hnn_hir_derive(old, arena);
    uint32_t *map = hnn_arena_array(arena, n ? n : 1, sizeof *map);
    for (uint32_t i = 0; i < n; i++) {
        const hnn_hir_node *u = &old->nodes[i];
        if (skip[i])
            continue;
        if (mul_a[i] != HNN_HIR_NONE) {
            uint32_t sum = hnn_hir_emit(h, u->op, map[mul_a[i]], map[mul_b[i]], u->tir);
            hnn_hir_at(h, sum)->size = 3;
            uint32_t r = hnn_hir_emit(h, HNN_HIR_RELIN, sum, HNN_HIR_NONE, u->tir);
            map[i] = hnn_hir_emit(h, HNN_HIR_RESCALE, r, HNN_HIR_NONE, u->tir);
            continue;
        }
        unsigned nops = hnn_hir_op_operands(u->op);
        map[i] = hnn_hir_copy_node(h, u, nops >= 1 ? map[u->a] : HNN_HIR_NONE, nops >= 2 ? map[u->b] : HNN_HIR_NONE);
    }
    hnn_hir_map_io(h, old, map);
    *hir = h;
    return matches;
}
