/* The tensor IR's invariants (tir.h), checked one by one. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

#include "middle/sparse.h"
#include "middle/tir.h"

static bool
hnn_tir_fail(char *why, size_t why_len, const hnn_tir_node *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool
hnn_tir_fail(char *why, size_t why_len, const hnn_tir_node *n, const char *fmt, ...)
{
    if (!why || !why_len)
        return false;
    int k = n ? snprintf(why, why_len, "%%%u (%s): ", n->id, n->name ? n->name : "?") : 0;
    if (k < 0 || (size_t)k >= why_len)
        return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + k, why_len - (size_t)k, fmt, ap);
    va_end(ap);
    return false;
}

static uint32_t
hnn_tir_arity(hnn_tir_kind kind)
{
    switch (kind) {
    case HNN_TIR_INPUT:
        return 0;
    case HNN_TIR_ADD:
        return 2;
    case HNN_TIR_AFFINE:
    case HNN_TIR_POLY:
    case HNN_TIR_SOFTARGMAX:
        break;
    }
    return 1;
}

static bool
hnn_tir_all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return false;
    return true;
}

static bool
hnn_tir_verify_kind(const hnn_tir *tir, const hnn_tir_node *n, char *why, size_t why_len)
{
    switch (n->kind) {
    case HNN_TIR_INPUT:
        if (n != tir->nodes[0])
            return hnn_tir_fail(why, why_len, n, "an input that is not the first node");
        break;
    case HNN_TIR_AFFINE: {
        const hnn_sparse *w = &n->u.affine.w;
        if (w->rows != n->size || w->cols != n->in[0]->size)
            return hnn_tir_fail(why, why_len, n, "matrix is %u x %u, the node needs %u x %u", w->rows,
                                w->cols, n->size, n->in[0]->size);
        char inner[160];
        if (!hnn_sparse_check(w, inner, sizeof inner))
            return hnn_tir_fail(why, why_len, n, "%s", inner);
        if (!n->u.affine.bias || !hnn_tir_all_finite(n->u.affine.bias, n->size))
            return hnn_tir_fail(why, why_len, n, "bias missing or not finite");
        break;
    }
    case HNN_TIR_POLY: {
        const hnn_cheb *p = &n->u.poly.cheb;
        if (n->size != n->in[0]->size)
            return hnn_tir_fail(why, why_len, n, "size %u, its input's %u", n->size, n->in[0]->size);
        if (p->degree < 1 || p->degree > HNN_APPROX_MAX_DEGREE || !p->coeffs)
            return hnn_tir_fail(why, why_len, n, "polynomial of degree %u", p->degree);
        if (!hnn_tir_all_finite(p->coeffs, (size_t)p->degree + 1))
            return hnn_tir_fail(why, why_len, n, "polynomial coefficient not finite");
        if (!(p->lo < p->hi) || !isfinite(p->lo) || !isfinite(p->hi))
            return hnn_tir_fail(why, why_len, n, "polynomial interval [%g, %g]", p->lo, p->hi);
        break;
    }
    case HNN_TIR_ADD:
        if (n->size != n->in[0]->size || n->size != n->in[1]->size)
            return hnn_tir_fail(why, why_len, n, "adds sizes %u and %u into %u", n->in[0]->size,
                                n->in[1]->size, n->size);
        break;
    case HNN_TIR_SOFTARGMAX:
        if (n != tir->output)
            return hnn_tir_fail(why, why_len, n, "softargmax that is not the output");
        if (n->size != n->in[0]->size)
            return hnn_tir_fail(why, why_len, n, "size %u, its input's %u", n->size, n->in[0]->size);
        if (!(n->u.softargmax.temperature > 0) || !isfinite(n->u.softargmax.temperature))
            return hnn_tir_fail(why, why_len, n, "temperature %g", n->u.softargmax.temperature);
        break;
    }
    return true;
}

static bool
hnn_tir_verify_range(const hnn_tir_node *n, char *why, size_t why_len)
{
    hnn_value_range r = n->range;
    if (!r.known || !isfinite(r.lo) || !isfinite(r.hi) || !(r.lo <= r.hi))
        return hnn_tir_fail(why, why_len, n, "range [%g, %g]%s", r.lo, r.hi, r.known ? "" : " unknown");
    if (!n->elem_lo || !n->elem_hi)
        return true;
    for (uint32_t i = 0; i < n->size; i++)
        if (!(r.lo <= n->elem_lo[i] && n->elem_lo[i] <= n->elem_hi[i] && n->elem_hi[i] <= r.hi))
            return hnn_tir_fail(why, why_len, n, "element %u bound [%g, %g] outside [%g, %g]", i,
                                n->elem_lo[i], n->elem_hi[i], r.lo, r.hi);
    return true;
}

bool
hnn_tir_verify(const hnn_tir *tir, char *why, size_t why_len)
{
    if (!tir->n_nodes || !tir->nodes[0] || tir->nodes[0]->kind != HNN_TIR_INPUT ||
        tir->input != tir->nodes[0])
        return hnn_tir_fail(why, why_len, NULL, "the first node is not the input");
    if (tir->output != tir->nodes[tir->n_nodes - 1])
        return hnn_tir_fail(why, why_len, NULL, "the output is not the last node");
    uint32_t *uses = calloc(tir->n_nodes, sizeof *uses);
    if (!uses)
        return hnn_tir_fail(why, why_len, NULL, "out of memory");
    bool ok = true;
    for (uint32_t i = 0; i < tir->n_nodes && ok; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        if (!n || n->id != i) {
            ok = hnn_tir_fail(why, why_len, NULL, "node %u has id %u", i, n ? n->id : 0);
            break;
        }
        if (n->n_in != hnn_tir_arity(n->kind) || n->size == 0) {
            ok = hnn_tir_fail(why, why_len, n, "%s with %u inputs and size %u", hnn_tir_kind_name(n->kind),
                              n->n_in, n->size);
            break;
        }
        for (uint32_t k = 0; k < n->n_in; k++) {
            const hnn_tir_node *in = n->in[k];
            if (!in || in->id >= i || tir->nodes[in->id] != in) {
                ok = hnn_tir_fail(why, why_len, n, "input %u is not an earlier node", k);
                break;
            }
            if (in == tir->output) {
                ok = hnn_tir_fail(why, why_len, n, "reads the output");
                break;
            }
            uses[in->id]++;
        }
        ok = ok && hnn_tir_verify_kind(tir, n, why, why_len) && hnn_tir_verify_range(n, why, why_len);
    }
    if (ok)
        uses[tir->output->id]++;
    for (uint32_t i = 0; i < tir->n_nodes && ok; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        if (n->uses != uses[i])
            ok = hnn_tir_fail(why, why_len, n, "uses is %u, but %u read it", n->uses, uses[i]);
        else if (!uses[i])
            ok = hnn_tir_fail(why, why_len, n, "unused");
    }
    free(uses);
    return ok;
}
