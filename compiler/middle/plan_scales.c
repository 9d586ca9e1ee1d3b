/*
 * scales: exact scales from the chain's primes (see plan.h for the
 * discipline). D_L = 2^scale_bits, D_(l-1) = D_l^2 / q_l; a constant that
 * multiplies a value x of level l is encoded at D_(l-1) q_l / scale(x), so
 * that after the rescale the product sits exactly on D_(l-1) — for a
 * canonical x that is D_l, and for an aligned (dropped) x it corrects the
 * scale the drop kept. A LINEAR of products not yet rescaled (scale D_l^2)
 * is followed by two rescales: its constants are encoded at
 * D_(l-2) q_l q_(l-1) / D_l^2 = D_(l-1), and it lands on D_(l-2).
 */
#include <math.h>

#include "middle/plan.h"

/*
 * The recurrence from the top doubles any deviation of D_l from 2^s at each
 * level down (log D_(l-1) - s = 2 (log D_l - s) + s - log q_l), and the
 * runtime's primes all sit just below 2^s: over about 15 levels at
 * N = 2^15 or 2^16 the deviation reaches bits, and the output's scale
 * outgrows q0 (19 levels at 2^15 ended at 2^52 on a 45-bit q0). When it
 * strays by more than 1/16 bit at a level the circuit reaches, the chain is
 * anchored at the lowest such level instead, D_lo = 2^s, and built upwards,
 * D_l = sqrt(D_(l-1) q_l): the same relation read the other way, which
 * averages instead of doubling, so every D_l stays within the primes'
 * spread of 2^s (the top scale is then not exactly 2^s).
 */
static void
hnn_plan_level_scales(const hnn_hir *h, const uint64_t *primes, uint32_t scale_bits, double *level_scale)
{
    const uint32_t L = h->top_level;
    const double s = ldexp(1.0, (int)scale_bits);
    uint32_t lo = L;
    for (uint32_t i = 0; i < h->n_nodes; i++)
        if (h->nodes[i].level < lo)
            lo = h->nodes[i].level;
    level_scale[L] = s;
    bool drift = false;
    for (uint32_t l = L; l >= 1; l--) {
        level_scale[l - 1] = level_scale[l] * level_scale[l] / (double)primes[l];
        drift |= l - 1 >= lo && fabs(log2(level_scale[l - 1] / s)) > 1.0 / 16;
    }
    if (!drift)
        return;
    level_scale[lo] = s;
    for (uint32_t l = lo + 1; l <= L; l++)
        level_scale[l] = sqrt(level_scale[l - 1] * (double)primes[l]);
    for (uint32_t l = lo; l >= 1; l--)
        level_scale[l - 1] = level_scale[l] * level_scale[l] / (double)primes[l];
}

void
hnn_plan_scales(hnn_hir *h, const uint64_t *primes, uint32_t scale_bits, double *level_scale)
{
    const uint32_t L = h->top_level;
    hnn_plan_level_scales(h, primes, scale_bits, level_scale);
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        hnn_hir_node *n = &h->nodes[i];
        const hnn_hir_node *a = hnn_hir_arity(n) >= 1 ? &h->nodes[n->a] : NULL;
        const hnn_hir_node *b = hnn_hir_op_operands(n->op) >= 2 ? &h->nodes[n->b] : NULL;
        switch (n->op) {
        case HNN_HIR_INPUT:
        case HNN_HIR_REFRESH: /* re-encrypted by the key holder at the top */
            n->scale = level_scale[L];
            break;
        case HNN_HIR_MUL_CONST:
        case HNN_HIR_LINEAR: /* its operands share a's level and scale */
        case HNN_HIR_MUL_PT: {
            /* r rescales follow: the product lands on D_(l-r) after them. */
            uint32_t l = a->level, r = n->op == HNN_HIR_LINEAR ? n->rescales : 1;
            if (l >= r) {
                n->c_scale = level_scale[l - r] / a->scale;
                for (uint32_t k = 0; k < r; k++)
                    n->c_scale *= (double)primes[l - k];
            } else {
                n->c_scale = level_scale[0];
            }
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
