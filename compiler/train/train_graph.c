/*
 * The training graph: the model lowered to tensor-IR nodes as tir_build
 * lowers it (same node kinds, same CSR layout, same polynomial fits), with a
 * map from every number of every node to the parameters it comes from. The
 * structure of each AFFINE matrix is kept whole (zero weights included), so
 * the values can change at every step without rebuilding it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"
#include "middle/sparse.h"
#include "train/train.h"

/* Output precision aimed at by `degree auto` when the model gives none, in
 * bits: the same rule as tir_build, so the fit is the one the circuit runs. */
#define HNN_TRAIN_DEFAULT_PRECISION 12

typedef struct hnn_train_builder {
    hnn_train_graph *g;
    hnn_arena *arena;
    hnn_diag *diag;
    hnn_tir_node **node_of; /* per layer index */
    hnn_train_tensor **first_tensor; /* per layer index: its first tensor, or NULL */
} hnn_train_builder;

/* ---------------------------------------------------------------- tensors */

/* Inline values carry the location of the values in the model file; a tensor
 * the model left out (a zero bias) carries the layer's name location; one
 * from a weights file points into that file. */
static bool
hnn_train_is_inline(const hnn_model *m, const hnn_layer *l, const hnn_tensor *t)
{
    if (!t->data || t->loc.file != m->loc.file)
        return false;
    return !(t->loc.begin == l->name_loc.begin && t->loc.end == l->name_loc.end);
}

static void
hnn_train_add_tensor(hnn_train_graph *g, const hnn_layer *l, const char *key, const hnn_tensor *t)
{
    hnn_train_tensor *tt = &g->tensors[g->n_tensors++];
    tt->layer = l;
    tt->key = key;
    tt->rank = t->rank;
    memcpy(tt->dim, t->dim, sizeof tt->dim);
    tt->offset = g->n_theta;
    tt->count = t->count;
    tt->given = t->data != NULL;
    tt->inline_values = hnn_train_is_inline(g->model, l, t);
    tt->trainable = !tt->inline_values && strcmp(key, "mean") != 0 && strcmp(key, "var") != 0;
    g->n_theta += t->count;
}

/* Tensors of one layer, in the order the weights file lists them. */
static uint32_t
hnn_train_layer_tensors(hnn_train_graph *g, const hnn_layer *l)
{
    uint32_t before = g->n_tensors;
    switch (l->op) {
    case HNN_OP_DENSE:
        hnn_train_add_tensor(g, l, "weight", &l->u.dense.weight);
        hnn_train_add_tensor(g, l, "bias", &l->u.dense.bias);
        break;
    case HNN_OP_CONV2D:
        hnn_train_add_tensor(g, l, "weight", &l->u.conv2d.weight);
        hnn_train_add_tensor(g, l, "bias", &l->u.conv2d.bias);
        break;
    case HNN_OP_BATCHNORM:
        hnn_train_add_tensor(g, l, "gamma", &l->u.batchnorm.gamma);
        hnn_train_add_tensor(g, l, "beta", &l->u.batchnorm.beta);
        hnn_train_add_tensor(g, l, "mean", &l->u.batchnorm.mean);
        hnn_train_add_tensor(g, l, "var", &l->u.batchnorm.var);
        break;
    case HNN_OP_SOFTARGMAX: {
        hnn_tensor t = {.rank = 0, .count = 1, .data = &l->u.softargmax.temperature};
        hnn_train_add_tensor(g, l, "T", &t);
        g->tensors[g->n_tensors - 1].trainable = g->model->train.learn_temperature;
        g->tensors[g->n_tensors - 1].inline_values = false;
        break;
    }
    default:
        break;
    }
    return g->n_tensors - before;
}

static void
hnn_train_fill_theta(hnn_train_graph *g)
{
    for (uint32_t i = 0; i < g->n_tensors; i++) {
        const hnn_train_tensor *t = &g->tensors[i];
        const hnn_layer *l = t->layer;
        const double *src = NULL;
        if (l->op == HNN_OP_SOFTARGMAX)
            src = &l->u.softargmax.temperature;
        else if (l->op == HNN_OP_DENSE)
            src = strcmp(t->key, "weight") == 0 ? l->u.dense.weight.data : l->u.dense.bias.data;
        else if (l->op == HNN_OP_CONV2D)
            src = strcmp(t->key, "weight") == 0 ? l->u.conv2d.weight.data : l->u.conv2d.bias.data;
        else if (l->op == HNN_OP_BATCHNORM)
            src = strcmp(t->key, "gamma") == 0  ? l->u.batchnorm.gamma.data
                  : strcmp(t->key, "beta") == 0 ? l->u.batchnorm.beta.data
                  : strcmp(t->key, "mean") == 0 ? l->u.batchnorm.mean.data
                                                 : l->u.batchnorm.var.data;
        if (src)
            memcpy(g->theta + t->offset, src, t->count * sizeof *src);
    }
}

hnn_train_tensor *
hnn_train_graph_tensor(const hnn_train_graph *g, const char *layer, const char *key)
{
    for (uint32_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].layer->name, layer) == 0 && strcmp(g->tensors[i].key, key) == 0)
            return &g->tensors[i];
    return NULL;
}

/* ---------------------------------------------------------------- nodes */

static hnn_tir_node *
hnn_train_new_node(hnn_train_builder *b, hnn_tir_kind kind, const hnn_layer *l)
{
    hnn_tir_node *n = hnn_arena_alloc(b->arena, sizeof *n);
    n->kind = kind;
    n->layer = l;
    n->name = l->name;
    n->shape = l->shape;
    n->size = (uint32_t)hnn_shape_count(l->shape);
    n->n_in = kind == HNN_TIR_INPUT ? 0 : l->n_in;
    for (uint32_t k = 0; k < n->n_in; k++) {
        n->in[k] = b->node_of[l->in[k]->index];
        if (!n->in[k])
            hnn_bug("training graph: an input layer was not lowered");
    }
    return n;
}

/* The parameter map of an AFFINE node with `nnz` entries and `terms` bias
 * terms in all; bias entries start with no term. */
static void
hnn_train_affine_alloc(hnn_train_builder *b, hnn_tir_node *n, hnn_train_node *a, uint32_t cols, size_t nnz,
                       size_t terms)
{
    n->u.affine.w = hnn_sparse_alloc(b->arena, n->size, cols, nnz);
    n->u.affine.bias = hnn_arena_array(b->arena, n->size, sizeof(double));
    a->w_param = hnn_arena_array(b->arena, nnz ? nnz : 1, sizeof *a->w_param);
    a->w_scale = hnn_arena_array(b->arena, nnz ? nnz : 1, sizeof *a->w_scale);
    a->b_start = hnn_arena_array(b->arena, (size_t)n->size + 1, sizeof *a->b_start);
    a->b_param = hnn_arena_array(b->arena, terms ? terms : 1, sizeof *a->b_param);
    a->b_scale = hnn_arena_array(b->arena, terms ? terms : 1, sizeof *a->b_scale);
    a->b_const = hnn_arena_array(b->arena, n->size, sizeof *a->b_const);
}

static void
hnn_train_entry(hnn_tir_node *n, hnn_train_node *a, uint32_t col, uint32_t param, double scale)
{
    hnn_sparse *m = &n->u.affine.w;
    m->col[m->nnz] = col;
    a->w_param[m->nnz] = param;
    a->w_scale[m->nnz++] = scale;
}

static void
hnn_train_lower_dense(hnn_train_builder *b, const hnn_layer *l, hnn_tir_node *n, hnn_train_node *a,
                      const hnn_train_tensor *t)
{
    uint32_t units = n->size, in = n->in[0]->size;
    hnn_train_affine_alloc(b, n, a, in, (size_t)units * in, units);
    (void)l;
    for (uint32_t r = 0; r < units; r++) {
        for (uint32_t c = 0; c < in; c++)
            hnn_train_entry(n, a, c, (uint32_t)(t[0].offset + (size_t)r * in + c), 1);
        n->u.affine.w.row_start[r + 1] = n->u.affine.w.nnz;
        a->b_param[r] = (uint32_t)(t[1].offset + r);
        a->b_scale[r] = 1;
        a->b_start[r + 1] = r + 1;
    }
}

/* Row (co, oy, ox) reads (ci, oy sh + ky - ph, ox sw + kx - pw), taps in the
 * padding left out, as tir_build does; each entry maps to w[co][ci][ky][kx]. */
static void
hnn_train_lower_conv2d(hnn_train_builder *b, const hnn_layer *l, hnn_tir_node *n, hnn_train_node *a,
                       const hnn_train_tensor *t)
{
    hnn_shape is = l->in[0]->shape, os = l->shape;
    uint32_t ci_n = is.dim[0], h = is.dim[1], w = is.dim[2];
    uint32_t co_n = os.dim[0], oh = os.dim[1], ow = os.dim[2];
    uint32_t kh = l->u.conv2d.kernel[0], kw = l->u.conv2d.kernel[1];
    uint32_t sh = l->u.conv2d.stride[0], sw = l->u.conv2d.stride[1];
    uint32_t ph = l->u.conv2d.padding[0], pw = l->u.conv2d.padding[1];
    hnn_train_affine_alloc(b, n, a, ci_n * h * w, (size_t)n->size * ci_n * kh * kw, n->size);
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
                            if (ix < 0 || ix >= w)
                                continue;
                            size_t widx = (((size_t)co * ci_n + ci) * kh + ky) * kw + kx;
                            hnn_train_entry(n, a, (uint32_t)(((size_t)ci * h + (size_t)iy) * w + (size_t)ix),
                                            (uint32_t)(t[0].offset + widx), 1);
                        }
                    }
                }
                n->u.affine.w.row_start[r + 1] = n->u.affine.w.nnz;
                a->b_param[r] = (uint32_t)(t[1].offset + co);
                a->b_scale[r] = 1;
                a->b_start[r + 1] = r + 1;
            }
        }
    }
}

/* Fixed maps: no parameter. Padding counts in an average's window (SPEC 5.3). */
static void
hnn_train_lower_pool(hnn_train_builder *b, const hnn_layer *l, hnn_tir_node *n, hnn_train_node *a)
{
    hnn_shape is = l->in[0]->shape, os = l->shape;
    uint32_t c_n = is.dim[0], h = is.dim[1], w = is.dim[2], oh = os.dim[1], ow = os.dim[2];
    uint32_t kh = l->u.pool.kernel[0], kw = l->u.pool.kernel[1];
    uint32_t sh = l->u.pool.stride[0], sw = l->u.pool.stride[1];
    uint32_t ph = l->u.pool.padding[0], pw = l->u.pool.padding[1];
    double v = l->op == HNN_OP_AVGPOOL ? 1.0 / ((double)kh * kw) : 1.0;
    hnn_train_affine_alloc(b, n, a, c_n * h * w, (size_t)n->size * kh * kw, 0);
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
                        if (ix >= 0 && ix < w)
                            hnn_train_entry(n, a, (uint32_t)(((size_t)c * h + (size_t)iy) * w + (size_t)ix),
                                            HNN_TRAIN_FIXED, v);
                    }
                }
                n->u.affine.w.row_start[r + 1] = n->u.affine.w.nnz;
            }
        }
    }
}

static void
hnn_train_lower_flatten(hnn_train_builder *b, hnn_tir_node *n, hnn_train_node *a)
{
    hnn_train_affine_alloc(b, n, a, n->size, n->size, 0);
    for (uint32_t r = 0; r < n->size; r++) {
        hnn_train_entry(n, a, r, HNN_TRAIN_FIXED, 1);
        n->u.affine.w.row_start[r + 1] = r + 1;
    }
}

/* Entry (e, e) = gamma_c s_c, bias beta_c - mean_c s_c gamma_c with
 * s_c = 1 / sqrt(var_c + eps); the scales are set by bind (mean and var may
 * be set from the data after building). */
static void
hnn_train_lower_batchnorm(hnn_train_builder *b, hnn_tir_node *n, hnn_train_node *a, const hnn_train_tensor *t)
{
    uint32_t channels = n->shape.dim[0], per = n->size / channels;
    hnn_train_affine_alloc(b, n, a, n->size, n->size, 2 * (size_t)n->size);
    for (uint32_t c = 0; c < channels; c++) {
        for (uint32_t k = 0; k < per; k++) {
            uint32_t e = c * per + k;
            hnn_train_entry(n, a, e, (uint32_t)(t[0].offset + c), 0);
            n->u.affine.w.row_start[e + 1] = e + 1;
            a->b_param[2 * e] = (uint32_t)(t[1].offset + c);
            a->b_scale[2 * e] = 1;
            a->b_param[2 * e + 1] = (uint32_t)(t[0].offset + c);
            a->b_start[e + 1] = 2 * (size_t)e + 2;
        }
    }
    for (int i = 0; i < 4; i++)
        a->bn[i] = &t[i];
}

/* d/dx sum c_k T_k(t), t = (2x - lo - hi) / (hi - lo), as a series of degree
 * d - 1 on the same interval: d_{k-1} = d_{k+1} + 2k c_k, d_0 halved, all
 * times dt/dx. */
static hnn_cheb
hnn_train_cheb_derivative(hnn_arena *arena, const hnn_cheb *p)
{
    uint32_t n = p->degree;
    hnn_cheb d = {.degree = n ? n - 1 : 0, .lo = p->lo, .hi = p->hi};
    double *c = hnn_arena_array(arena, (size_t)n + 2, sizeof *c);
    for (uint32_t k = n; k >= 1; k--)
        c[k - 1] = c[k + 1] + 2.0 * k * p->coeffs[k];
    c[0] /= 2;
    double scale = 2 / (p->hi - p->lo);
    for (uint32_t k = 0; k <= d.degree; k++)
        c[k] *= scale;
    d.coeffs = c;
    return d;
}

static void
hnn_train_lower_exact_poly(hnn_train_builder *b, const hnn_layer *l, hnn_tir_node *n, hnn_train_node *a)
{
    static const double square[3] = {0, 0, 1};
    const double *coeffs = l->op == HNN_OP_SQUARE ? square : l->u.poly.coeffs;
    uint32_t degree = l->op == HNN_OP_SQUARE ? 2 : l->u.poly.degree;
    n->u.poly.source = l->op;
    n->u.poly.power = coeffs;
    n->u.poly.power_degree = degree;
    /* The series on [-1, 1], for printing: the circuit and training use the
     * power form, whose value does not depend on an interval. */
    n->u.poly.cheb = hnn_approx_from_power(b->arena, coeffs, degree, -1, 1);
    a->dpower = hnn_arena_array(b->arena, degree, sizeof *a->dpower);
    for (uint32_t k = 1; k <= degree; k++)
        a->dpower[k - 1] = k * coeffs[k];
}

static void
hnn_train_lower_approx(hnn_train_builder *b, const hnn_layer *l, hnn_tir_node *n, hnn_train_node *a)
{
    double lo = l->u.approx.lo, hi = l->u.approx.hi;
    n->u.poly.source = l->op;
    if (l->u.approx.degree) {
        n->u.poly.cheb = hnn_approx_fit(b->arena, l->op, l->u.approx.degree, lo, hi);
    } else {
        const hnn_hints *h = &b->g->model->hints;
        uint32_t bits = h->precision_bits ? h->precision_bits : HNN_TRAIN_DEFAULT_PRECISION;
        n->u.poly.auto_degree = true;
        n->u.poly.cheb = hnn_approx_fit_auto(b->arena, l->op, ldexp(1.0, -(int)(bits + 2)),
                                             HNN_TIR_AUTO_MAX_DEGREE, lo, hi);
    }
    a->dcheb = hnn_train_cheb_derivative(b->arena, &n->u.poly.cheb);
}

static bool
hnn_train_lower_layer(hnn_train_builder *b, const hnn_layer *l)
{
    hnn_train_graph *g = b->g;
    hnn_tir *tir = g->tir;
    hnn_tir_kind kind = l->op == HNN_OP_INPUT      ? HNN_TIR_INPUT
                        : l->op == HNN_OP_ADD      ? HNN_TIR_ADD
                        : l->op == HNN_OP_SOFTARGMAX ? HNN_TIR_SOFTARGMAX
                        : l->op == HNN_OP_SQUARE || l->op == HNN_OP_POLY || l->op == HNN_OP_RELU ||
                                  l->op == HNN_OP_SIGMOID || l->op == HNN_OP_TANH || l->op == HNN_OP_GELU ||
                                  l->op == HNN_OP_EXP
                            ? HNN_TIR_POLY
                            : HNN_TIR_AFFINE;
    if (kind == HNN_TIR_SOFTARGMAX && l != g->model->output) {
        hnn_diag_error(b->diag, l->loc, "softargmax '%s' can only be the output: the key holder computes "
                       "it after decryption", l->name);
        return false;
    }
    hnn_tir_node *n = hnn_train_new_node(b, kind, l);
    n->id = tir->n_nodes;
    hnn_train_node *a = &g->aux[n->id];
    a->t_param = HNN_TRAIN_FIXED;
    const hnn_train_tensor *t = b->first_tensor[l->index];
    switch (l->op) { /* ORDER OP */
    case HNN_OP_DENSE:
        hnn_train_lower_dense(b, l, n, a, t);
        break;
    case HNN_OP_CONV2D:
        hnn_train_lower_conv2d(b, l, n, a, t);
        break;
    case HNN_OP_AVGPOOL:
    case HNN_OP_SUMPOOL:
        hnn_train_lower_pool(b, l, n, a);
        break;
    case HNN_OP_FLATTEN:
        hnn_train_lower_flatten(b, n, a);
        break;
    case HNN_OP_BATCHNORM:
        hnn_train_lower_batchnorm(b, n, a, t);
        break;
    case HNN_OP_SQUARE:
    case HNN_OP_POLY:
        hnn_train_lower_exact_poly(b, l, n, a);
        break;
    case HNN_OP_RELU:
    case HNN_OP_SIGMOID:
    case HNN_OP_TANH:
    case HNN_OP_GELU:
    case HNN_OP_EXP:
        hnn_train_lower_approx(b, l, n, a);
        break;
    case HNN_OP_SOFTARGMAX:
        a->t_param = (uint32_t)t[0].offset;
        break;
    case HNN_OP_INPUT:
    case HNN_OP_ADD:
        break;
    case HNN_OP__COUNT:
        hnn_bug("training graph: layer of no kind");
    }
    tir->nodes[tir->n_nodes++] = n;
    b->node_of[l->index] = n;
    for (uint32_t k = 0; k < n->n_in; k++)
        n->in[k]->uses++;
    return true;
}

hnn_train_graph *
hnn_train_graph_build(const hnn_model *model, hnn_arena *arena, hnn_diag *diag)
{
    hnn_train_graph *g = hnn_arena_alloc(arena, sizeof *g);
    g->model = model;
    g->loss = model->train.loss;
    g->n_out = (uint32_t)hnn_shape_count(model->output->shape);
    if (g->loss == HNN_LOSS_CROSS_ENTROPY && g->n_out < 2) {
        hnn_diag_error(diag, model->train.set[HNN_TRAIN_LOSS] ? model->train.setting_loc[HNN_TRAIN_LOSS]
                                                              : model->output_loc,
                       "cross_entropy needs an output of at least 2 classes; '%s' has %u value; use "
                       "'loss mse;'", model->output->name, g->n_out);
        return NULL;
    }
    /* Tensors of every layer, dead ones included: the weights file must hold them. */
    g->tensors = hnn_arena_array(arena, (size_t)model->n_layers * 4 + 1, sizeof *g->tensors);
    hnn_train_builder b = {g, arena, diag, NULL, NULL};
    b.node_of = calloc(model->n_layers, sizeof *b.node_of);
    b.first_tensor = calloc(model->n_layers, sizeof *b.first_tensor);
    bool *live = calloc(model->n_layers, sizeof *live);
    if (!b.node_of || !b.first_tensor || !live)
        hnn_fatal_oom();
    for (uint32_t i = 0; i < model->n_layers; i++) {
        hnn_train_tensor *first = &g->tensors[g->n_tensors];
        if (hnn_train_layer_tensors(g, model->layers[i]))
            b.first_tensor[i] = first;
    }
    g->theta = hnn_arena_array(arena, g->n_theta ? g->n_theta : 1, sizeof *g->theta);
    hnn_train_fill_theta(g);

    live[model->output->index] = true;
    uint32_t n_live = 0;
    for (uint32_t i = model->n_layers; i-- > 0;) {
        if (!live[i])
            continue;
        n_live++;
        for (uint32_t k = 0; k < model->layers[i]->n_in; k++)
            live[model->layers[i]->in[k]->index] = true;
    }
    g->tir = hnn_arena_alloc(arena, sizeof *g->tir);
    g->tir->model = model;
    g->tir->nodes = hnn_arena_array(arena, n_live, sizeof *g->tir->nodes);
    g->aux = hnn_arena_array(arena, n_live, sizeof *g->aux);
    bool ok = true;
    for (uint32_t i = 0; ok && i < model->n_layers; i++)
        if (live[i])
            ok = hnn_train_lower_layer(&b, model->layers[i]);
    if (ok) {
        g->tir->input = b.node_of[model->input->index];
        g->tir->output = b.node_of[model->output->index];
        g->tir->output->uses++;
        g->offset = hnn_arena_array(arena, (size_t)g->tir->n_nodes + 1, sizeof *g->offset);
        for (uint32_t i = 0; i < g->tir->n_nodes; i++)
            g->offset[i + 1] = g->offset[i] + g->tir->nodes[i]->size;
        g->values = g->offset[g->tir->n_nodes];
        hnn_train_graph_bind(g);
    }
    free(live);
    free(b.node_of);
    free(b.first_tensor);
    return ok ? g : NULL;
}

void
hnn_train_graph_bind(hnn_train_graph *g)
{
    const double *theta = g->theta;
    for (uint32_t i = 0; i < g->tir->n_nodes; i++) {
        hnn_tir_node *n = g->tir->nodes[i];
        hnn_train_node *a = &g->aux[i];
        if (n->kind == HNN_TIR_SOFTARGMAX && a->t_param != HNN_TRAIN_FIXED)
            n->u.softargmax.temperature = theta[a->t_param];
        if (n->kind != HNN_TIR_AFFINE)
            continue;
        if (a->bn[0]) {
            uint32_t channels = n->shape.dim[0], per = n->size / channels;
            const double *mean = theta + a->bn[2]->offset, *var = theta + a->bn[3]->offset;
            for (uint32_t c = 0; c < channels; c++) {
                double s = 1 / sqrt(var[c] + n->layer->u.batchnorm.eps);
                for (uint32_t k = 0; k < per; k++) {
                    uint32_t e = c * per + k;
                    a->w_scale[e] = s;
                    a->b_scale[2 * e + 1] = -mean[c] * s;
                }
            }
        }
        hnn_sparse *w = &n->u.affine.w;
        for (size_t k = 0; k < w->nnz; k++)
            w->val[k] = a->w_param[k] == HNN_TRAIN_FIXED ? a->w_scale[k] : a->w_scale[k] * theta[a->w_param[k]];
        for (uint32_t j = 0; j < n->size; j++) {
            double v = a->b_const[j];
            for (size_t t = a->b_start[j]; t < a->b_start[j + 1]; t++)
                v += a->b_scale[t] * theta[a->b_param[t]];
            n->u.affine.bias[j] = v;
        }
    }
}
