/*
 * Simplification of the tensor IR: fewer linear maps, hence fewer levels and
 * rotations once packed. One pass in topological order:
 *
 *   - an AFFINE node whose input is an AFFINE read by nothing else absorbs
 *     it: W = W2 W1, b = W2 b1 + b2. A diagonal on either side (batchnorm,
 *     scalar chains, flatten's identity) always merges, since the product is
 *     no denser than the other factor; otherwise the pair merges when the
 *     product has at most nnz(W1) + nnz(W2) entries, which keeps conv ->
 *     pool sparse and merges dense -> dense whenever the sizes make the
 *     product no larger. A merged node keeps absorbing while it can.
 *   - an identity AFFINE with zero bias that is left (its input is not
 *     AFFINE, or is read elsewhere) is removed and its readers read its input.
 *
 * Nothing merges across POLY or ADD, nor through a node with uses > 1, whose
 * other readers need its value. Merging is exact in real arithmetic; in
 * doubles it reassociates sums (relative differences around 1e-15).
 */
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"
#include "middle/sparse.h"
#include "middle/tir.h"

/* Longer merged names are shortened to "first+...+last". */
#define HNN_TIR_NAME_MAX 48

static const char *
hnn_tir_merged_name(hnn_arena *arena, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + 1 + lb <= HNN_TIR_NAME_MAX)
        return hnn_arena_printf(arena, "%s+%s", a, b);
    const char *first_end = strchr(a, '+');
    const char *last = strrchr(b, '+');
    int first_len = (int)(first_end ? (size_t)(first_end - a) : la);
    return hnn_arena_printf(arena, "%.*s+...+%s", first_len, a, last ? last + 1 : b);
}

static bool
hnn_tir_should_merge(const hnn_tir_node *first, const hnn_tir_node *second)
{
    const hnn_sparse *w1 = &first->u.affine.w, *w2 = &second->u.affine.w;
    if (hnn_sparse_is_diagonal(w1) || hnn_sparse_is_diagonal(w2))
        return true;
    size_t budget = w1->nnz + w2->nnz;
    if ((uint64_t)w2->rows * w1->cols <= budget)
        return true;
    return hnn_sparse_product_nnz(w2, w1, budget) <= budget;
}

/* second := second o first; first is left unreferenced. */
static void
hnn_tir_merge(hnn_arena *arena, hnn_tir_node *first, hnn_tir_node *second)
{
    const hnn_sparse *w2 = &second->u.affine.w;
    double *bias = hnn_arena_array(arena, second->size, sizeof *bias);
    hnn_sparse_apply(w2, second->u.affine.bias, first->u.affine.bias, bias);
    second->u.affine.w = hnn_sparse_product(arena, w2, &first->u.affine.w);
    second->u.affine.bias = bias;
    second->in[0] = first->in[0];
    second->name = hnn_tir_merged_name(arena, first->name, second->name);
}

static bool
hnn_tir_is_identity(const hnn_tir_node *n)
{
    if (n->kind != HNN_TIR_AFFINE || !hnn_sparse_is_identity(&n->u.affine.w))
        return false;
    for (uint32_t i = 0; i < n->size; i++)
        if (n->u.affine.bias[i] != 0)
            return false;
    return true;
}

static void
hnn_tir_recount_uses(hnn_tir *tir)
{
    for (uint32_t i = 0; i < tir->n_nodes; i++)
        tir->nodes[i]->uses = 0;
    for (uint32_t i = 0; i < tir->n_nodes; i++)
        for (uint32_t k = 0; k < tir->nodes[i]->n_in; k++)
            tir->nodes[i]->in[k]->uses++;
    tir->output->uses++;
}

uint32_t
hnn_tir_simplify(hnn_tir *tir, hnn_arena *arena)
{
    uint32_t n = tir->n_nodes;
    /* replaced[id]: the node that stands for a removed identity, else NULL. */
    hnn_tir_node **replaced = calloc(n ? n : 1, sizeof *replaced);
    bool *dead = calloc(n ? n : 1, sizeof *dead);
    if (!replaced || !dead)
        hnn_fatal_oom();
    uint32_t removed = 0;
    for (uint32_t i = 0; i < n; i++) {
        hnn_tir_node *node = tir->nodes[i];
        for (uint32_t k = 0; k < node->n_in; k++)
            while (replaced[node->in[k]->id])
                node->in[k] = replaced[node->in[k]->id];
        if (node->kind != HNN_TIR_AFFINE)
            continue;
        for (;;) {
            hnn_tir_node *first = node->in[0];
            if (first->kind != HNN_TIR_AFFINE || first->uses != 1 || !hnn_tir_should_merge(first, node))
                break;
            hnn_tir_merge(arena, first, node);
            dead[first->id] = true;
            removed++;
        }
        if (hnn_tir_is_identity(node)) {
            hnn_tir_node *in = node->in[0];
            in->uses += node->uses - 1;
            replaced[node->id] = in;
            if (tir->output == node)
                tir->output = in;
            dead[node->id] = true;
            removed++;
        }
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (dead[i])
            continue;
        tir->nodes[kept] = tir->nodes[i];
        tir->nodes[kept]->id = kept;
        kept++;
    }
    tir->n_nodes = kept;
    free(replaced);
    free(dead);
    hnn_tir_recount_uses(tir);
    hnn_tir_compute_ranges(tir);
    return removed;
}
