/*
 * Lowering a checked model to the tensor IR: every linear layer becomes an
 * AFFINE node (a sparse matrix and a bias over flattened C x H x W tensors,
 * channel-major as flatten defines it), every activation a POLY node in the
 * Chebyshev basis, residual adds ADD nodes, and the soft-argmax the output.
 * Layers the output does not depend on are not lowered.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"
#include "middle/sparse.h"
#include "middle/tir.h"

/* Output precision aimed at when the model gives none, in bits. */
#define HNN_TIR_DEFAULT_PRECISION 12

typedef struct hnn_tir_builder {
    const hnn_model *model;
    hnn_arena *arena;
    hnn_diag *diag;
    hnn_tir *tir;
    hnn_tir_node **node_of; /* per layer index; NULL for layers not lowered */
} hnn_tir_builder;

static hnn_tir_node *
hnn_tir_new_node(hnn_tir_builder *b, hnn_tir_kind kind, const hnn_layer *layer, uint32_t size)
{
    hnn_tir_node *n = hnn_arena_alloc(b->arena, sizeof *n);
    n->kind = kind;
    n->layer = layer;
    n->name = layer->name;
    n->shape = layer->shape;
    n->size = size;
    n->elem_lo = hnn_arena_array(b->arena, size, sizeof(double));
    n->elem_hi = hnn_arena_array(b->arena, size, sizeof(double));
    for (uint32_t k = 0; k < layer->n_in; k++) {
        n->in[k] = b->node_of[layer->in[k]->index];
        if (!n->in[k])
            hnn_bug("tensor IR: an input layer was not lowered");
    }
    n->n_in = kind == HNN_TIR_INPUT ? 0 : layer->n_in;
    return n;
}

static uint32_t
hnn_tir_layer_size(const hnn_layer *l)
{
    return (uint32_t)hnn_shape_count(l->shape);
}

/* ---------------------------------------------------------------- linear layers */

static hnn_tir_node *
hnn_tir_lower_dense(hnn_tir_builder *b, const hnn_layer *l)
{
    uint32_t units = l->u.dense.units, n = hnn_tir_layer_size(l->in[0]);
    hnn_tir_node *node = hnn_tir_new_node(b, HNN_TIR_AFFINE, l, units);
    const double *w = l->u.dense.weight.data;
    hnn_sparse m = hnn_sparse_alloc(b->arena, units, n, (size_t)units * n);
    for (uint32_t r = 0; r < units; r++) {
        for (uint32_t c = 0; c < n; c++) {
            double v = w[(size_t)r * n + c];
            if (v != 0) {
                m.col[m.nnz] = c;
                m.val[m.nnz++] = v;
            }
        }
        m.row_start[r + 1] = m.nnz;
    }
    node->u.affine.w = m;
    node->u.affine.bias = hnn_arena_array(b->arena, units, sizeof(double));
    memcpy(node->u.affine.bias, l->u.dense.bias.data, units * sizeof(double));
    return node;
}

/*
 * Output (co, oy, ox) at row (co * OH + oy) * OW + ox reads input
 * (ci, oy * sh + ky - ph, ox * sw + kx - pw) at column (ci * H + iy) * W + ix;
 * taps that fall in the zero padding are left out. Looping ci, ky, kx in
 * order visits the columns of a row in increasing order.
 */
static hnn_tir_node *
hnn_tir_lower_conv2d(hnn_tir_builder *b, const hnn_layer *l)
{
    hnn_shape is = l->in[0]->shape, os = l->shape;
    uint32_t ci_n = is.dim[0], h = is.dim[1], w = is.dim[2];
    uint32_t co_n = os.dim[0], oh = os.dim[1], ow = os.dim[2];
    uint32_t kh = l->u.conv2d.kernel[0], kw = l->u.conv2d.kernel[1];
    uint32_t sh = l->u.conv2d.stride[0], sw = l->u.conv2d.stride[1];
    uint32_t ph = l->u.conv2d.padding[0], pw = l->u.conv2d.padding[1];
    uint32_t rows = co_n * oh * ow;
    const double *wt = l->u.conv2d.weight.data;
    hnn_tir_node *node = hnn_tir_new_node(b, HNN_TIR_AFFINE, l, rows);
    hnn_sparse m = hnn_sparse_alloc(b->arena, rows, ci_n * h * w, (size_t)rows * ci_n * kh * kw);
    double *bias = hnn_arena_array(b->arena, rows, sizeof(double));
    uint32_t r = 0;
    for (uint32_t co = 0; co < co_n; co++) {
        for (uint32_t oy = 0; oy < oh; oy++) {
            for (uint32_t ox = 0; ox < ow; ox++, r++) {
                for (uint32_t ci = 0; ci < ci_n; ci++) {
                    for (uint32_t ky = 0; ky < kh; ky++) {
                        int64_t iy = (int64_t)oy * sh + ky - ph;
                        if (iy < 0 || iy >= h)
                            continue;
                        for (uint32_t kx = 0; kx < kw; kx++) {
                            int64_t ix = (int64_t)ox * sw + kx - pw;
                            double v = wt[(((size_t)co * ci_n + ci) * kh + ky) * kw + kx];
                            if (ix < 0 || ix >= w || v == 0)
                                continue;
                            m.col[m.nnz] = (uint32_t)(((size_t)ci * h + (size_t)iy) * w + (size_t)ix);
                            m.val[m.nnz++] = v;
                        }
                    }
                }
                m.row_start[r + 1] = m.nnz;
                bias[r] = l->u.conv2d.bias.data[co];
            }
        }
    }
    node->u.affine.w = m;
    node->u.affine.bias = bias;
    return node;
}

/*
 * avgpool and sumpool, channel by channel. Padding is zeros that count in
 * the window: an average pool divides by the full kh * kw even where the
 * window overlaps the padding (SPEC 5.3; the front end's bound assumes it).
 */
static hnn_tir_node *
hnn_tir_lower_pool(hnn_tir_builder *b, const hnn_layer *l)
{
    hnn_shape is = l->in[0]->shape, os = l->shape;
    uint32_t c_n = is.dim[0], h = is.dim[1], w = is.dim[2], oh = os.dim[1], ow = os.dim[2];
    uint32_t kh = l->u.pool.kernel[0], kw = l->u.pool.kernel[1];
    uint32_t sh = l->u.pool.stride[0], sw = l->u.pool.stride[1];
    uint32_t ph = l->u.pool.padding[0], pw = l->u.pool.padding[1];
    double v = l->op == HNN_OP_AVGPOOL ? 1.0 / ((double)kh * kw) : 1.0;
    uint32_t rows = c_n * oh * ow;
    hnn_tir_node *node = hnn_tir_new_node(b, HNN_TIR_AFFINE, l, rows);
    hnn_sparse m = hnn_sparse_alloc(b->arena, rows, c_n * h * w, (size_t)rows * kh * kw);
    uint32_t r = 0;
    for (uint32_t c = 0; c < c_n; c++) {
        for (uint32_t oy = 0; oy < oh; oy++) {
            for (uint32_t ox = 0; ox < ow; ox++, r++) {
                for (uint32_t ky = 0; ky < kh; ky++) {
                    int64_t iy = (int64_t)oy * sh + ky - ph;
                    if (iy < 0 || iy >= h)
                        continue;
                    for (uint32_t kx = 0; kx < kw; kx++) {
                        int64_t ix = (int64_t)ox * sw + kx - pw;
                        if (ix < 0 || ix >= w)
                            continue;
                        m.col[m.nnz] = (uint32_t)(((size_t)c * h + (size_t)iy) * w + (size_t)ix);
                        m.val[m.nnz++] = v;
                    }
                }
                m.row_start[r + 1] = m.nnz;
            }
        }
    }
    node->u.affine.w = m;
    node->u.affine.bias = hnn_arena_array(b->arena, rows, sizeof(double));
    return node;
}

static hnn_tir_node *
hnn_tir_lower_flatten(hnn_tir_builder *b, const hnn_layer *l)
{
    uint32_t n = hnn_tir_layer_size(l);
    hnn_tir_node *node = hnn_tir_new_node(b, HNN_TIR_AFFINE, l, n);
    node->u.affine.w = hnn_sparse_identity(b->arena, n);
    node->u.affine.bias = hnn_arena_array(b->arena, n, sizeof(double));
    return node;
}

/* y = a x + c per channel (image) or feature (vector), with
 * a = gamma / sqrt(var + eps) and c = beta - a mean. */
static hnn_tir_node *
hnn_tir_lower_batchnorm(hnn_tir_builder *b, const hnn_layer *l)
{
    uint32_t n = hnn_tir_layer_size(l);
    uint32_t channels = l->shape.dim[0], per = n / channels;
    hnn_tir_node *node = hnn_tir_new_node(b, HNN_TIR_AFFINE, l, n);
    double *diag = malloc(n * sizeof *diag);
    if (!diag)
        hnn_fatal_oom();
    double *bias = hnn_arena_array(b->arena, n, sizeof(double));
    const double *gamma = l->u.batchnorm.gamma.data, *beta = l->u.batchnorm.beta.data;
    const double *mean = l->u.batchnorm.mean.data, *var = l->u.batchnorm.var.data;
    for (uint32_t c = 0; c < channels; c++) {
        double a = gamma[c] / sqrt(var[c] + l->u.batchnorm.eps);
        double off = beta[c] - a * mean[c];
        for (uint32_t k = 0; k < per; k++) {
            diag[c * per + k] = a;
            bias[c * per + k] = off;
        }
    }
    node->u.affine.w = hnn_sparse_diagonal(b->arena, n, diag);
    node->u.affine.bias = bias;
    free(diag);
    return node;
}

/* ---------------------------------------------------------------- activations */

/* The interval an exact polynomial is converted on: the input's bound, made
 * a proper interval when the bound is a single point. */
static void
hnn_tir_poly_interval(const hnn_tir_node *in, double *lo, double *hi)
{
    *lo = in->range.lo;
    *hi = in->range.hi;
    if (!(*hi > *lo)) {
        double pad = fmax(1.0, fabs(*lo)) * 0x1p-20;
        *lo -= pad;
        *hi += pad;
    }
}

static hnn_tir_node *
hnn_tir_lower_exact_poly(hnn_tir_builder *b, const hnn_layer *l)
{
    hnn_tir_node *node = hnn_tir_new_node(b, HNN_TIR_POLY, l, hnn_tir_layer_size(l));
    static const double square[3] = {0, 0, 1};
    const double *coeffs = l->op == HNN_OP_SQUARE ? square : l->u.poly.coeffs;
    uint32_t degree = l->op == HNN_OP_SQUARE ? 2 : l->u.poly.degree;
    double lo, hi;
    hnn_tir_poly_interval(node->in[0], &lo, &hi);
    node->u.poly.source = l->op;
    node->u.poly.cheb = hnn_approx_from_power(b->arena, coeffs, degree, lo, hi);
    node->u.poly.power = coeffs;
    node->u.poly.power_degree = degree;
    return node;
}

static hnn_tir_node *
hnn_tir_lower_approx(hnn_tir_builder *b, const hnn_layer *l)
{
    hnn_tir_node *node = hnn_tir_new_node(b, HNN_TIR_POLY, l, hnn_tir_layer_size(l));
    double lo = l->u.approx.lo, hi = l->u.approx.hi;
    node->u.poly.source = l->op;
    if (l->u.approx.degree) {
        node->u.poly.cheb = hnn_approx_fit(b->arena, l->op, l->u.approx.degree, lo, hi);
        return node;
    }
    const hnn_hints *h = &b->model->hints;
    uint32_t bits = h->precision_bits ? h->precision_bits : HNN_TIR_DEFAULT_PRECISION;
    /* Two bits of headroom: the approximation is one error among several. */
    double target = ldexp(1.0, -(int)(bits + 2));
    node->u.poly.auto_degree = true;
    node->u.poly.cheb = hnn_approx_fit_auto(b->arena, l->op, target, HNN_TIR_AUTO_MAX_DEGREE, lo, hi);
    if (!(node->u.poly.cheb.max_error <= target)) {
        hnn_loc at = l->u.approx.degree_loc.file ? l->u.approx.degree_loc : l->u.approx.interval_loc;
        hnn_diag_warning(b->diag, at, "no degree up to %d approximates %s on [%g, %g] within 2^-%u "
                         "(the target for %u bits); degree %u is used, with max error %.3g",
                         HNN_TIR_AUTO_MAX_DEGREE, hnn_op_name(l->op), lo, hi, bits + 2, bits,
                         node->u.poly.cheb.degree, node->u.poly.cheb.max_error);
    }
    return node;
}

/* ---------------------------------------------------------------- the graph */

static hnn_tir_node *
hnn_tir_lower_layer(hnn_tir_builder *b, const hnn_layer *l)
{
    hnn_tir_node *n = NULL;
    switch (l->op) { /* ORDER OP */
    case HNN_OP_INPUT:
        n = hnn_tir_new_node(b, HNN_TIR_INPUT, l, hnn_tir_layer_size(l));
        break;
    case HNN_OP_DENSE:
        n = hnn_tir_lower_dense(b, l);
        break;
    case HNN_OP_CONV2D:
        n = hnn_tir_lower_conv2d(b, l);
        break;
    case HNN_OP_AVGPOOL:
    case HNN_OP_SUMPOOL:
        n = hnn_tir_lower_pool(b, l);
        break;
    case HNN_OP_FLATTEN:
        n = hnn_tir_lower_flatten(b, l);
        break;
    case HNN_OP_BATCHNORM:
        n = hnn_tir_lower_batchnorm(b, l);
        break;
    case HNN_OP_ADD:
        n = hnn_tir_new_node(b, HNN_TIR_ADD, l, hnn_tir_layer_size(l));
        break;
    case HNN_OP_SQUARE:
    case HNN_OP_POLY:
        n = hnn_tir_lower_exact_poly(b, l);
        break;
    case HNN_OP_RELU:
    case HNN_OP_SIGMOID:
    case HNN_OP_TANH:
    case HNN_OP_GELU:
    case HNN_OP_EXP:
        n = hnn_tir_lower_approx(b, l);
        break;
    case HNN_OP_SOFTARGMAX:
        if (l != b->model->output) {
            hnn_diag_error(b->diag, l->loc, "softargmax '%s' can only be the output: the key holder "
                           "computes it after decryption", l->name);
            return NULL;
        }
        n = hnn_tir_new_node(b, HNN_TIR_SOFTARGMAX, l, hnn_tir_layer_size(l));
        n->u.softargmax.temperature = l->u.softargmax.temperature;
        break;
    case HNN_OP__COUNT:
        hnn_bug("tensor IR: layer of no kind");
    }
    return n;
}

/* Marks the layers the output depends on. */
static bool *
hnn_tir_live_layers(const hnn_model *m)
{
    bool *live = calloc(m->n_layers, sizeof *live);
    if (!live)
        hnn_fatal_oom();
    live[m->output->index] = true;
    for (uint32_t i = m->n_layers; i-- > 0;)
        if (live[i])
            for (uint32_t k = 0; k < m->layers[i]->n_in; k++)
                live[m->layers[i]->in[k]->index] = true;
    return live;
}

/* Marks the fitted activations built so far as hnn_tir_assume_intervals
 * does; false when there is none (nothing would change). */
static bool
hnn_tir_assume_built(hnn_tir *tir)
{
    bool any = false;
    for (uint32_t k = 0; k < tir->n_nodes; k++) {
        hnn_tir_node *p = tir->nodes[k];
        if (p->kind == HNN_TIR_POLY && !p->u.poly.power && !p->u.poly.assume_interval)
            any = p->u.poly.assume_interval = true;
    }
    return any;
}

static bool
hnn_tir_build_nodes(hnn_tir_builder *b, const bool *live)
{
    const hnn_model *m = b->model;
    hnn_tir *tir = b->tir;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        if (!live[i])
            continue;
        const hnn_layer *l = m->layers[i];
        hnn_tir_node *n = hnn_tir_lower_layer(b, l);
        if (!n)
            return false;
        n->id = tir->n_nodes;
        tir->nodes[tir->n_nodes++] = n;
        b->node_of[i] = n;
        for (uint32_t k = 0; k < n->n_in; k++)
            n->in[k]->uses++;
        /* Exact polynomials are converted on their input's bound, so bounds
         * are needed while lowering. */
        hnn_tir_compute_node_range(n);
        if ((!isfinite(n->range.lo) || !isfinite(n->range.hi)) && m->hints.bounds == HNN_BOUNDS_INTERVALS &&
            hnn_tir_assume_built(tir)) {
            /* Sound bounds through a deep network can overflow a double:
             * under `bounds intervals`, take the planner's assumption (the
             * activations' inputs in their intervals, tir.h) from here, for
             * the nodes built so far. */
            for (uint32_t k = 0; k < tir->n_nodes; k++)
                hnn_tir_compute_node_range(tir->nodes[k]);
        }
        if (!isfinite(n->range.lo) || !isfinite(n->range.hi)) {
            hnn_diag_error(b->diag, l->loc, "the values of %s '%s' can exceed the range of a double "
                           "(their bound overflows); narrow the input range or scale the weights",
                           hnn_op_name(l->op), l->name);
            bool fitted = false;
            for (uint32_t k = 0; k < tir->n_nodes; k++)
                fitted |= tir->nodes[k]->kind == HNN_TIR_POLY && !tir->nodes[k]->u.poly.power;
            if (m->hints.bounds == HNN_BOUNDS_SOUND && fitted)
                hnn_diag_note(b->diag, m->loc, "the value bounds hold for every input in the input ranges, "
                              "through every layer; when each activation's input stays in its interval, `hints "
                              "{ bounds intervals; }` plans from the intervals instead");
            return false;
        }
    }
    tir->input = b->node_of[m->input->index];
    tir->output = b->node_of[m->output->index];
    tir->output->uses++;
    return true;
}

hnn_tir *
hnn_tir_build(const hnn_model *model, hnn_arena *arena, hnn_diag *diag)
{
    if (!model->has_values) {
        hnn_diag_error(diag, model->weights_loc.file ? model->weights_loc : model->loc,
                       "model '%s' has no weight values ('weights none'): it can be trained but "
                       "not compiled", model->name);
        return NULL;
    }
    bool *live = hnn_tir_live_layers(model);
    uint32_t n_live = 0;
    for (uint32_t i = 0; i < model->n_layers; i++)
        n_live += live[i];
    hnn_tir *tir = hnn_arena_alloc(arena, sizeof *tir);
    tir->model = model;
    tir->nodes = hnn_arena_array(arena, n_live, sizeof *tir->nodes);
    hnn_tir_builder b = {model, arena, diag, tir, calloc(model->n_layers, sizeof(hnn_tir_node *))};
    if (!b.node_of)
        hnn_fatal_oom();
    bool ok = hnn_tir_build_nodes(&b, live);
    free(b.node_of);
    free(live);
    return ok ? tir : NULL;
}
