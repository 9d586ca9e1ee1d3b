/*
 * The plaintext reference of the tensor IR: what the encrypted circuit
 * computes, on doubles. Polynomials are evaluated as the Chebyshev series
 * they are (approximations, not the activations they approximate); the
 * soft-argmax, computed by the key holder in the clear, is exact.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"
#include "middle/sparse.h"
#include "middle/tir.h"

size_t
hnn_tir_eval_scratch(const hnn_tir *tir)
{
    size_t total = 0;
    for (uint32_t i = 0; i < tir->n_nodes; i++)
        total += tir->nodes[i]->size;
    return total;
}

void
hnn_tir_softargmax(const double *x, uint32_t n, double temperature, double *y)
{
    double top = -INFINITY, sum = 0;
    for (uint32_t i = 0; i < n; i++)
        top = fmax(top, x[i]);
    for (uint32_t i = 0; i < n; i++) {
        y[i] = exp((x[i] - top) / temperature);
        sum += y[i];
    }
    for (uint32_t i = 0; i < n; i++)
        y[i] /= sum;
}

void
hnn_tir_eval(const hnn_tir *tir, const double *x, double *y, double *scratch)
{
    /* Node k's values start at offset[k], the sum of the sizes before it. */
    size_t *offset = malloc(((size_t)tir->n_nodes + 1) * sizeof *offset);
    if (!offset)
        hnn_fatal_oom();
    offset[0] = 0;
    for (uint32_t i = 0; i < tir->n_nodes; i++)
        offset[i + 1] = offset[i] + tir->nodes[i]->size;
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        double *v = scratch + offset[i];
        const double *a = n->n_in > 0 ? scratch + offset[n->in[0]->id] : NULL;
        const double *b = n->n_in > 1 ? scratch + offset[n->in[1]->id] : NULL;
        switch (n->kind) {
        case HNN_TIR_INPUT:
            memcpy(v, x, n->size * sizeof *v);
            break;
        case HNN_TIR_AFFINE:
            hnn_sparse_apply(&n->u.affine.w, n->u.affine.bias, a, v);
            break;
        case HNN_TIR_POLY:
            for (uint32_t e = 0; e < n->size; e++)
                v[e] = hnn_cheb_eval(&n->u.poly.cheb, a[e]);
            break;
        case HNN_TIR_ADD:
            for (uint32_t e = 0; e < n->size; e++)
                v[e] = a[e] + b[e];
            break;
        case HNN_TIR_SOFTARGMAX:
            hnn_tir_softargmax(a, n->size, n->u.softargmax.temperature, v);
            break;
        }
    }
    memcpy(y, scratch + offset[tir->output->id], tir->output->size * sizeof *y);
    free(offset);
}
