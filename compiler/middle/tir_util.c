/* Small queries on the tensor IR shared by the passes. */
#include "middle/tir.h"

hnn_tir_node *
hnn_tir_sole_reader(const hnn_tir *tir, const hnn_tir_node *n)
{
    if (n->uses != 1 || n == tir->output)
        return NULL;
    for (uint32_t i = n->id + 1; i < tir->n_nodes; i++)
        for (uint32_t k = 0; k < tir->nodes[i]->n_in; k++)
            if (tir->nodes[i]->in[k] == n)
                return tir->nodes[i];
    return NULL;
}

const hnn_tir_node *
hnn_tir_folding_poly(const hnn_tir *tir, const hnn_tir_node *n)
{
    if (n->kind != HNN_TIR_AFFINE)
        return NULL;
    const hnn_tir_node *next = hnn_tir_sole_reader(tir, n);
    return next && next->kind == HNN_TIR_POLY && !next->u.poly.power ? next : NULL;
}
