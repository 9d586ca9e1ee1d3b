/*
 * The text form of the tensor IR, one node per line, stable enough for golden
 * files:
 *
 *   tir m: 4 nodes, output %3
 *   %0 = input [4] range [-3, 3]   # x
 *   %1 = affine %0 [8 x 4, nnz 32] range [-4.1, 3.9]   # h1
 *   %2 = poly %1 [8] square degree 2 on [-4.1, 3.9] range [0, 16.81]   # a1
 *   %3 = add %2, %1 [8] range [-4.1, 20.71]   # r
 *
 * Numbers are printed with 6 significant digits; bounds within 1e-9 of the
 * larger end of their range print as 0, so that rounding margins (tir_range.c)
 * do not show up as -2.2e-16.
 */
#include <math.h>

#include "middle/sparse.h"
#include "middle/tir.h"

const char *
hnn_tir_kind_name(hnn_tir_kind kind)
{
    switch (kind) {
    case HNN_TIR_INPUT:
        return "input";
    case HNN_TIR_AFFINE:
        return "affine";
    case HNN_TIR_POLY:
        return "poly";
    case HNN_TIR_ADD:
        return "add";
    case HNN_TIR_SOFTARGMAX:
        return "softargmax";
    }
    return "?";
}

static double
hnn_tir_print_snap(double v, double scale)
{
    return fabs(v) <= 1e-9 * scale ? 0.0 : v;
}

static void
hnn_tir_print_interval(FILE *out, const char *what, double lo, double hi)
{
    double scale = fmax(fabs(lo), fabs(hi));
    fprintf(out, " %s [%.6g, %.6g]", what, hnn_tir_print_snap(lo, scale), hnn_tir_print_snap(hi, scale));
}

static void
hnn_tir_print_node(FILE *out, const hnn_tir_node *n)
{
    fprintf(out, "%%%u = %s", n->id, hnn_tir_kind_name(n->kind));
    for (uint32_t k = 0; k < n->n_in; k++)
        fprintf(out, "%s %%%u", k ? "," : "", n->in[k]->id);
    switch (n->kind) {
    case HNN_TIR_AFFINE: {
        const hnn_sparse *w = &n->u.affine.w;
        fprintf(out, " [%u x %u, nnz %zu%s]", w->rows, w->cols, w->nnz,
                hnn_sparse_is_identity(w) ? ", identity" : hnn_sparse_is_diagonal(w) ? ", diagonal" : "");
        break;
    }
    case HNN_TIR_POLY: {
        const hnn_cheb *p = &n->u.poly.cheb;
        fprintf(out, " [%u] %s degree %u%s", n->size, hnn_op_name(n->u.poly.source), p->degree,
                n->u.poly.auto_degree ? " (auto)" : "");
        hnn_tir_print_interval(out, "on", p->lo, p->hi);
        if (p->max_error > 0)
            fprintf(out, " error %.2g", p->max_error);
        break;
    }
    case HNN_TIR_SOFTARGMAX:
        fprintf(out, " [%u] T %.6g", n->size, n->u.softargmax.temperature);
        break;
    case HNN_TIR_INPUT:
    case HNN_TIR_ADD:
        fprintf(out, " [%u]", n->size);
        break;
    }
    hnn_tir_print_interval(out, "range", n->range.lo, n->range.hi);
    fprintf(out, "   # %s\n", n->name);
}

void
hnn_tir_print(FILE *out, const hnn_tir *tir)
{
    fprintf(out, "tir %s: %u node%s, output %%%u\n", tir->model ? tir->model->name : "?", tir->n_nodes,
            tir->n_nodes == 1 ? "" : "s", tir->output ? tir->output->id : 0);
    for (uint32_t i = 0; i < tir->n_nodes; i++)
        hnn_tir_print_node(out, tir->nodes[i]);
}
