/*
 * Forward and backward passes of the training graph, one sample at a time.
 * The forward pass computes what the circuit computes (the fitted series of
 * an approximated activation, never the activation; exact polynomials in
 * their power form) and the soft-argmax the key holder applies. The backward
 * pass is reverse-mode differentiation of the same nodes:
 *
 *   AFFINE      dx += W^T dy; d theta[w_param[k]] += w_scale[k] dy_r x_c;
 *               d theta[b_param[t]] += b_scale[t] dy_j
 *   POLY        dx_e += p'(x_e) dy_e (the derivative of the polynomial)
 *   ADD         da += dy, db += dy
 *   SOFTARGMAX  p = softmax(z / T): dz = J^T dp with dz_i = p_i (dp_i - <dp, p>) / T,
 *               dT = -sum_i dz_i z_i / T
 *
 * Losses, per sample: cross_entropy -log p_label (with a raw output, p is
 * softmax(y)); mse the mean over outputs of (y_i - target_i)^2, the target
 * the one-hot vector of the label (or the label itself for one output).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"
#include "middle/sparse.h"
#include "train/train.h"

static double
hnn_train_power_eval(const double *c, uint32_t degree, double x)
{
    double v = c[degree];
    for (uint32_t k = degree; k-- > 0;)
        v = v * x + c[k];
    return v;
}

void
hnn_train_forward(const hnn_train_graph *g, const double *x, double *values)
{
    const hnn_tir *tir = g->tir;
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        double *v = values + g->offset[i];
        const double *a = n->n_in > 0 ? values + g->offset[n->in[0]->id] : NULL;
        const double *b = n->n_in > 1 ? values + g->offset[n->in[1]->id] : NULL;
        switch (n->kind) {
        case HNN_TIR_INPUT:
            memcpy(v, x, n->size * sizeof *v);
            break;
        case HNN_TIR_AFFINE:
            hnn_sparse_apply(&n->u.affine.w, n->u.affine.bias, a, v);
            break;
        case HNN_TIR_POLY:
            if (n->u.poly.power)
                for (uint32_t e = 0; e < n->size; e++)
                    v[e] = hnn_train_power_eval(n->u.poly.power, n->u.poly.power_degree, a[e]);
            else
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
}

static double
hnn_train_target(const hnn_train_graph *g, uint32_t i, double label)
{
    if (g->n_out == 1)
        return label;
    return (double)i == label ? 1.0 : 0.0;
}

/* The loss and d loss / d y for the output y (dy may be NULL). With
 * cross_entropy on a softargmax output dy is left for the caller, which
 * uses the closed form (p - onehot) / T; *fused says so. */
static double
hnn_train_output_loss(const hnn_train_graph *g, const double *y, double label, double *dy,
                      double *dz, bool *fused)
{
    uint32_t n = g->n_out;
    *fused = false;
    if (g->loss == HNN_LOSS_MSE) {
        double l = 0;
        for (uint32_t i = 0; i < n; i++) {
            double d = y[i] - hnn_train_target(g, i, label);
            l += d * d;
            if (dy)
                dy[i] = 2 * d / n;
        }
        return l / n;
    }
    uint32_t c = (uint32_t)label;
    if (g->tir->output->kind == HNN_TIR_SOFTARGMAX) {
        *fused = true;
        /* Clamped so a probability that underflows gives a large finite loss;
         * NaN stays NaN, so divergence is seen. */
        return -log(y[c] < 1e-300 ? 1e-300 : y[c]);
    }
    /* Cross-entropy on raw outputs: softmax(y) with T = 1. */
    double top = -INFINITY, sum = 0;
    for (uint32_t i = 0; i < n; i++)
        top = fmax(top, y[i]);
    for (uint32_t i = 0; i < n; i++)
        sum += exp(y[i] - top);
    if (dz)
        for (uint32_t i = 0; i < n; i++)
            dz[i] = exp(y[i] - top) / sum - (i == c);
    return log(sum) - (y[c] - top);
}

double
hnn_train_loss(const hnn_train_graph *g, const double *values, double label)
{
    bool fused;
    const hnn_tir_node *out = g->tir->output;
    return hnn_train_output_loss(g, values + g->offset[out->id], label, NULL, NULL, &fused);
}

double
hnn_train_backward(const hnn_train_graph *g, const double *values, double label, double *delta, double *grad)
{
    const hnn_tir *tir = g->tir;
    const hnn_tir_node *out = tir->output;
    memset(delta, 0, g->values * sizeof *delta);
    double *dy = delta + g->offset[out->id];
    const double *y = values + g->offset[out->id];
    bool fused;
    double loss = hnn_train_output_loss(g, y, label, dy, dy, &fused);
    if (out->kind == HNN_TIR_SOFTARGMAX) {
        /* d loss / d z for z the soft-argmax's input, and d loss / d T. */
        const hnn_tir_node *zn = out->in[0];
        const double *z = values + g->offset[zn->id];
        double *dz = delta + g->offset[zn->id];
        double t = out->u.softargmax.temperature, dt = 0;
        uint32_t c = (uint32_t)label;
        if (fused) {
            for (uint32_t i = 0; i < g->n_out; i++)
                dz[i] += (y[i] - (i == c)) / t;
        } else {
            double dot = 0;
            for (uint32_t i = 0; i < g->n_out; i++)
                dot += dy[i] * y[i];
            for (uint32_t i = 0; i < g->n_out; i++)
                dz[i] += y[i] * (dy[i] - dot) / t;
        }
        /* s = z / T: d loss / d T = sum_i (d loss / d s_i) (-z_i / T^2) = -sum_i dz_i z_i / T. */
        for (uint32_t i = 0; i < g->n_out; i++)
            dt -= dz[i] * z[i] / t;
        uint32_t tp = g->aux[out->id].t_param;
        if (tp != HNN_TRAIN_FIXED)
            grad[tp] += dt;
    }
    for (uint32_t i = tir->n_nodes; i-- > 0;) {
        const hnn_tir_node *n = tir->nodes[i];
        const hnn_train_node *a = &g->aux[i];
        const double *d = delta + g->offset[i];
        double *da = n->n_in > 0 ? delta + g->offset[n->in[0]->id] : NULL;
        const double *xa = n->n_in > 0 ? values + g->offset[n->in[0]->id] : NULL;
        switch (n->kind) {
        case HNN_TIR_INPUT:
        case HNN_TIR_SOFTARGMAX:
            break;
        case HNN_TIR_AFFINE: {
            const hnn_sparse *w = &n->u.affine.w;
            for (uint32_t r = 0; r < w->rows; r++) {
                double dr = d[r];
                if (dr == 0)
                    continue;
                for (size_t k = w->row_start[r]; k < w->row_start[r + 1]; k++) {
                    da[w->col[k]] += w->val[k] * dr;
                    if (a->w_param[k] != HNN_TRAIN_FIXED)
                        grad[a->w_param[k]] += a->w_scale[k] * dr * xa[w->col[k]];
                }
                for (size_t t = a->b_start[r]; t < a->b_start[r + 1]; t++)
                    grad[a->b_param[t]] += a->b_scale[t] * dr;
            }
            break;
        }
        case HNN_TIR_POLY:
            if (a->dpower)
                for (uint32_t e = 0; e < n->size; e++)
                    da[e] += hnn_train_power_eval(a->dpower, n->u.poly.power_degree - 1, xa[e]) * d[e];
            else
                for (uint32_t e = 0; e < n->size; e++)
                    da[e] += hnn_cheb_eval(&a->dcheb, xa[e]) * d[e];
            break;
        case HNN_TIR_ADD: {
            double *db = delta + g->offset[n->in[1]->id];
            for (uint32_t e = 0; e < n->size; e++) {
                da[e] += d[e];
                db[e] += d[e];
            }
            break;
        }
        }
    }
    return loss;
}

bool
hnn_train_correct(const hnn_train_graph *g, const double *values, double label)
{
    const double *y = values + g->offset[g->tir->output->id];
    if (g->n_out == 1)
        return fabs(y[0] - label) < 0.5;
    uint32_t best = 0;
    for (uint32_t i = 1; i < g->n_out; i++)
        if (y[i] > y[best])
            best = i;
    return (double)best == label;
}

void
hnn_train_evaluate(const hnn_train_graph *g, const hnn_train_data *data, double *loss, double *accuracy)
{
    double *values = malloc(g->values * sizeof *values);
    if (!values)
        hnn_fatal_oom();
    double sum = 0;
    size_t right = 0;
    for (uint32_t s = 0; s < data->n; s++) {
        hnn_train_forward(g, data->x + (size_t)s * data->n_features, values);
        sum += hnn_train_loss(g, values, data->label[s]);
        right += hnn_train_correct(g, values, data->label[s]);
    }
    free(values);
    *loss = data->n ? sum / data->n : 0;
    *accuracy = data->n ? (double)right / data->n : 0;
}
