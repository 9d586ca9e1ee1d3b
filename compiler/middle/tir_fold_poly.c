/*
 * Folding a polynomial's leading factor into the next linear map: with
 * p(x) = a q(x), q monic, and y = W p(x) + b read only by that map,
 * y = (a W) q(x) + b. On CKKS the monic q can save a level: 0.25 x^2 + 0.5 x
 * needs a scalar product on top of x^2 (depth 2), x^2 + 2 x does not
 * (depth 1). The fold is made only when the evaluation program of q is
 * shallower than that of p, so it never costs precision for nothing.
 */
#include <math.h>

#include "middle/tir.h"

uint32_t
hnn_tir_fold_poly_factors(hnn_tir *tir, hnn_arena *arena)
{
    uint32_t folded = 0;
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        hnn_tir_node *p = tir->nodes[i];
        if (p->kind != HNN_TIR_POLY || !p->u.poly.power)
            continue;
        uint32_t d = p->u.poly.power_degree;
        double lead = p->u.poly.power[d];
        hnn_tir_node *next = hnn_tir_sole_reader(tir, p);
        if (!next || next->kind != HNN_TIR_AFFINE || lead == 0 || lead == 1 || !isfinite(1 / lead))
            continue;
        double *monic = hnn_arena_array(arena, d + 1, sizeof *monic);
        for (uint32_t k = 0; k <= d; k++)
            monic[k] = p->u.poly.power[k] / lead;
        monic[d] = 1;
        uint32_t before = hnn_approx_program_power(arena, p->u.poly.power, d).depth;
        uint32_t after = hnn_approx_program_power(arena, monic, d).depth;
        if (after >= before)
            continue;
        p->u.poly.power = monic;
        p->u.poly.cheb = hnn_approx_from_power(arena, monic, d, p->u.poly.cheb.lo, p->u.poly.cheb.hi);
        hnn_sparse *w = &next->u.affine.w;
        for (size_t k = 0; k < w->nnz; k++)
            w->val[k] *= lead;
        folded++;
    }
    if (folded)
        hnn_tir_compute_ranges(tir);
    return folded;
}
