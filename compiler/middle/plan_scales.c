/*
 * scales: exact scales from the chain's primes (see plan.h for the
 * discipline). D_L = 2^scale_bits, D_(l-1) = D_l^2 / q_l; a constant that
 * multiplies a value x of level l is encoded at D_(l-1) q_l / scale(x), so
 * that after the rescale the product sits exactly on D_(l-1) — for a
 * canonical x that is D_l, and for an aligned (dropped) x it corrects the
 * scale the drop kept.
 */
#include <math.h>

#include "middle/plan.h"

void
hnn_plan_scales(hnn_hir *h, const uint64_t *primes, uint32_t scale_bits, double *level_scale)
{
    const uint32_t L = h->top_level;
    level_scale[L] = ldexp(1.0, (int)scale_bits);
    for (uint32_t l = L; l >= 1; l--)
        level_scale[l - 1] = level_scale[l] * level_scale[l] / (double)primes[l];
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        hnn_hir_node *n = &h->nodes[i];
        const hnn_hir_node *a = hnn_hir_op_operands(n->op) >= 1 ? &h->nodes[n->a] : NULL;
        const hnn_hir_node *b = hnn_hir_op_operands(n->op) >= 2 ? &h->nodes[n->b] : NULL;
        switch (n->op) {
        case HNN_HIR_INPUT:
        case HNN_HIR_REFRESH: /* re-encrypted by the key holder at the top */
            n->scale = level_scale[L];
            break;
        case HNN_HIR_MUL_CONST:
        case HNN_HIR_MUL_PT: {
            uint32_t l = a->level;
            n->c_scale = l >= 1 ? level_scale[l - 1] * (double)primes[l] / a->scale : level_scale[0];
            n->scale = a->scale * n->c_scale;
            break;
        }
        case HNN_HIR_MUL_CT:
            n->scale = a->scale * b->scale;
            break;
        case HNN_HIR_RESCALE:
            n->scale = a->scale / (double)primes[a->level];
            break;
        default:
            n->scale = a ? a->scale : level_scale[L];
            break;
        }
    }
}
