/*
 * levels: the depth of every node (rescales between it and the inputs), with
 * the operands of ADD, SUB, MUL_CT and LINEAR brought to the same depth.
 *
 * Aligning a value from depth d to a deeper D: drop it to depth D - 1 when
 * D - d >= 2, multiply by 1 (the scales pass picks the constant's encoding
 * scale so the result lands on the canonical scale), rescale. The aligned
 * copy is remembered, so a value used at several deeper places is aligned
 * once per target depth in a row.
 */
#include "middle/plan.h"

typedef struct aligned {
    uint32_t depth; /* target depth of the cached copy, UINT32_MAX when none */
    uint32_t id;
} aligned;

/* During this pass hnn_hir_node.level holds the depth. */
/* The aligned copy is charged to the consuming layer `tir` in reports. */
static uint32_t
align(hnn_hir *h, aligned *cache, uint32_t x, uint32_t depth, uint32_t tir)
{
    uint32_t d = hnn_hir_at(h, x)->level;
    if (d >= depth)
        return x;
    if (cache[x].depth == depth)
        return cache[x].id;
    uint32_t y = x;
    if (depth - d >= 2) {
        y = hnn_hir_emit(h, HNN_HIR_DROP_LEVEL, y, HNN_HIR_NONE, tir);
        hnn_hir_at(h, y)->level = depth - 1;
    }
    y = hnn_hir_emit(h, HNN_HIR_MUL_CONST, y, HNN_HIR_NONE, tir);
    hnn_hir_at(h, y)->c = 1.0;
    hnn_hir_at(h, y)->level = depth - 1;
    y = hnn_hir_emit(h, HNN_HIR_RESCALE, y, HNN_HIR_NONE, tir);
    hnn_hir_at(h, y)->level = depth;
    cache[x].depth = depth;
    cache[x].id = y;
    return y;
}

uint32_t
hnn_plan_levels(hnn_hir **hir, hnn_arena *arena)
{
    const hnn_hir *old = *hir;
    hnn_hir *h = hnn_hir_derive(old, arena);
    uint32_t *map = hnn_arena_array(arena, old->n_nodes ? old->n_nodes : 1, sizeof *map);
    /* Alignments add at most three nodes per operand: size the cache for that. */
    size_t cache_len = (size_t)old->n_nodes + 16;
    for (uint32_t i = 0; i < old->n_nodes; i++)
        cache_len += 3 * (size_t)hnn_hir_arity(&old->nodes[i]);
    aligned *cache = hnn_arena_array(arena, cache_len, sizeof *cache);
    for (size_t i = 0; i < cache_len; i++)
        cache[i].depth = UINT32_MAX;

    uint32_t max_depth = 0;
    uint32_t *args = hnn_arena_array(arena, hnn_hir_max_arity(old), sizeof *args);
    for (uint32_t i = 0; i < old->n_nodes; i++) {
        const hnn_hir_node *n = &old->nodes[i];
        unsigned nops = hnn_hir_arity(n);
        uint32_t depth = 0;
        for (unsigned k = 0; k < nops; k++) {
            args[k] = map[hnn_hir_arg(n, k)];
            if (hnn_hir_at(h, args[k])->level > depth)
                depth = hnn_hir_at(h, args[k])->level;
        }
        if (nops >= 2) { /* ADD, SUB, MUL_CT, LINEAR: every operand at the deepest one's depth */
            for (unsigned k = 0; k < nops; k++)
                args[k] = align(h, cache, args[k], depth, n->tir);
        } else if (n->op == HNN_HIR_REFRESH) {
            depth = 0; /* a REFRESH comes back at the top */
        } else {
            depth += n->op == HNN_HIR_RESCALE;
        }
        uint32_t id = hnn_hir_copy_node(h, n, args);
        hnn_hir_at(h, id)->level = depth;
        map[i] = id;
        if (depth > max_depth)
            max_depth = depth;
    }
    hnn_hir_map_io(h, old, map);
    /* Depth -> level. */
    for (uint32_t i = 0; i < h->n_nodes; i++)
        h->nodes[i].level = max_depth - h->nodes[i].level;
    h->top_level = max_depth;
    *hir = h;
    return max_depth;
}
