/*
 * Initialisation and mini-batch SGD with momentum. Everything random comes
 * from splitmix64 streams derived from the seed, and the arithmetic is done
 * in a fixed order, so a seed gives the same weights bit for bit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"
#include "train/train.h"

/* Streams derived from the seed: one for initial weights, one for shuffling. */
#define HNN_TRAIN_STREAM_INIT 0x696e6974u    /* "init" */
#define HNN_TRAIN_STREAM_SHUFFLE 0x73687566u /* "shuf" */
#define HNN_TRAIN_BAR_WIDTH 30

uint64_t
hnn_train_rng_next(hnn_train_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double
hnn_train_rng_uniform(hnn_train_rng *r)
{
    return (double)(hnn_train_rng_next(r) >> 11) * 0x1p-53;
}

uint64_t
hnn_train_rng_below(hnn_train_rng *r, uint64_t n)
{
    /* Reject the top partial copy of [0, n) so every value is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = hnn_train_rng_next(r);
    while (v >= limit);
    return v % n;
}

static hnn_train_rng
hnn_train_stream(uint64_t seed, uint64_t stream)
{
    hnn_train_rng r = {seed ^ (stream * 0xd1342543de82ef95ull)};
    hnn_train_rng_next(&r);
    return r;
}

/* ---------------------------------------------------------------- initialisation */

static void
hnn_train_init_tensor(hnn_train_graph *g, const hnn_train_tensor *t, hnn_train_rng *rng)
{
    double *v = g->theta + t->offset;
    const hnn_layer *l = t->layer;
    if (strcmp(t->key, "weight") == 0) {
        double fan_in, fan_out;
        if (l->op == HNN_OP_DENSE) {
            fan_in = t->dim[1];
            fan_out = t->dim[0];
        } else { /* conv2d [channels][C][kh][kw] */
            double area = (double)t->dim[2] * t->dim[3];
            fan_in = t->dim[1] * area;
            fan_out = t->dim[0] * area;
        }
        double a = sqrt(6.0 / (fan_in + fan_out));
        for (size_t i = 0; i < t->count; i++)
            v[i] = a * (2 * hnn_train_rng_uniform(rng) - 1);
    } else if (strcmp(t->key, "gamma") == 0 || strcmp(t->key, "var") == 0) {
        for (size_t i = 0; i < t->count; i++)
            v[i] = 1;
    } else {
        memset(v, 0, t->count * sizeof *v); /* bias, beta, mean */
    }
}

/* mean and var of a batchnorm's input over the data, per channel. */
static void
hnn_train_batchnorm_stats(hnn_train_graph *g, const hnn_tir_node *n, const hnn_train_data *data)
{
    const hnn_train_node *a = &g->aux[n->id];
    uint32_t channels = n->shape.dim[0], per = n->size / channels;
    double *mean = g->theta + a->bn[2]->offset, *var = g->theta + a->bn[3]->offset;
    double *values = malloc(g->values * sizeof *values);
    double *sum = calloc(2 * (size_t)channels, sizeof *sum);
    if (!values || !sum)
        hnn_fatal_oom();
    const double *x = values + g->offset[n->in[0]->id];
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t s = 0; s < data->n; s++) {
            hnn_train_forward(g, data->x + (size_t)s * data->n_features, values);
            for (uint32_t c = 0; c < channels; c++)
                for (uint32_t k = 0; k < per; k++) {
                    double d = x[c * per + k] - (pass ? sum[c] : 0);
                    sum[pass * channels + c] += pass ? d * d : d;
                }
        }
        double count = (double)data->n * per;
        for (uint32_t c = 0; c < channels; c++)
            sum[pass * channels + c] /= count > 0 ? count : 1;
    }
    for (uint32_t c = 0; c < channels; c++) {
        mean[c] = sum[c];
        var[c] = sum[channels + c];
    }
    free(sum);
    free(values);
}

void
hnn_train_init(hnn_train_graph *g, uint64_t seed, const hnn_train_data *data)
{
    hnn_train_rng rng = hnn_train_stream(seed, HNN_TRAIN_STREAM_INIT);
    for (uint32_t i = 0; i < g->n_tensors; i++)
        if (!g->tensors[i].given)
            hnn_train_init_tensor(g, &g->tensors[i], &rng);
    hnn_train_graph_bind(g);
    if (!data || !data->n)
        return;
    /* In order, so each batchnorm sees its input normalised by those before it. */
    for (uint32_t i = 0; i < g->tir->n_nodes; i++) {
        const hnn_tir_node *n = g->tir->nodes[i];
        const hnn_train_node *a = &g->aux[i];
        if (n->kind == HNN_TIR_AFFINE && a->bn[0] && !a->bn[2]->given && !a->bn[3]->given) {
            hnn_train_batchnorm_stats(g, n, data);
            hnn_train_graph_bind(g);
        }
    }
}

hnn_train_options
hnn_train_default_options(const hnn_model *model)
{
    const hnn_train *t = &model->train;
    return (hnn_train_options){
        .seed = t->seed, .epochs = t->epochs, .batch = t->batch, .lr = t->lr, .momentum = t->momentum,
        .lr_decay = t->lr_decay, .weight_decay = t->weight_decay,
    };
}

/* ---------------------------------------------------------------- SGD */

static void
hnn_train_progress(FILE *out, uint32_t epoch, uint32_t epochs, uint32_t done, uint32_t total)
{
    uint32_t fill = total ? (uint32_t)((uint64_t)done * HNN_TRAIN_BAR_WIDTH / total) : HNN_TRAIN_BAR_WIDTH;
    fprintf(out, "\repoch %u/%u [", epoch, epochs);
    for (uint32_t i = 0; i < HNN_TRAIN_BAR_WIDTH; i++)
        fputc(i < fill ? '#' : '.', out);
    fprintf(out, "] %3u%%", total ? (uint32_t)((uint64_t)done * 100 / total) : 100);
    fflush(out);
}

bool
hnn_train_sgd(hnn_train_graph *g, const hnn_train_data *data, const hnn_train_options *opt, hnn_diag *diag,
              hnn_train_result *result)
{
    memset(result, 0, sizeof *result);
    size_t n_theta = g->n_theta;
    double *grad = calloc(n_theta ? n_theta : 1, sizeof *grad);
    double *vel = calloc(n_theta ? n_theta : 1, sizeof *vel);
    bool *train = calloc(n_theta ? n_theta : 1, sizeof *train);
    double *values = malloc(g->values * sizeof *values);
    double *delta = malloc(g->values * sizeof *delta);
    uint32_t *order = malloc((data->n ? data->n : 1) * sizeof *order);
    if (!grad || !vel || !train || !values || !delta || !order)
        hnn_fatal_oom();
    for (uint32_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].trainable)
            for (size_t k = 0; k < g->tensors[i].count; k++)
                train[g->tensors[i].offset + k] = true;
    uint32_t t_param = g->tir->output->kind == HNN_TIR_SOFTARGMAX ? g->aux[g->tir->output->id].t_param
                                                                  : HNN_TRAIN_FIXED;
    for (uint32_t i = 0; i < data->n; i++)
        order[i] = i;
    hnn_train_rng rng = hnn_train_stream(opt->seed, HNN_TRAIN_STREAM_SHUFFLE);
    uint32_t batch = opt->batch ? opt->batch : 1;
    bool ok = true;
    double lr = opt->lr;
    for (uint32_t epoch = 1; ok && epoch <= opt->epochs; epoch++, lr *= opt->lr_decay > 0 ? opt->lr_decay : 1) {
        for (uint32_t i = data->n; i > 1; i--) {
            uint32_t j = (uint32_t)hnn_train_rng_below(&rng, i);
            uint32_t tmp = order[i - 1];
            order[i - 1] = order[j];
            order[j] = tmp;
        }
        for (uint32_t start = 0; start < data->n; start += batch) {
            uint32_t end = start + batch < data->n ? start + batch : data->n;
            memset(grad, 0, n_theta * sizeof *grad);
            for (uint32_t s = start; s < end; s++) {
                const double *x = data->x + (size_t)order[s] * data->n_features;
                hnn_train_forward(g, x, values);
                hnn_train_backward(g, values, data->label[order[s]], delta, grad);
            }
            double inv = 1.0 / (end - start);
            for (size_t k = 0; k < n_theta; k++) {
                if (!train[k])
                    continue;
                double wd = k == t_param ? 0 : opt->weight_decay * g->theta[k];
                vel[k] = opt->momentum * vel[k] + grad[k] * inv + wd;
                g->theta[k] -= lr * vel[k];
            }
            if (t_param != HNN_TRAIN_FIXED && g->theta[t_param] < HNN_TRAIN_MIN_TEMPERATURE)
                g->theta[t_param] = HNN_TRAIN_MIN_TEMPERATURE;
            hnn_train_graph_bind(g);
            if (opt->progress)
                hnn_train_progress(opt->progress, epoch, opt->epochs, end, data->n);
        }
        if (opt->progress)
            fputs("\r\033[K", opt->progress);
        hnn_train_evaluate(g, data, &result->loss, &result->accuracy);
        if (epoch == 1)
            result->first_loss = result->loss;
        result->epochs = epoch;
        if (opt->log)
            fprintf(opt->log, "epoch %*u/%u  loss %.6f  accuracy %6.2f%%", (int)snprintf(NULL, 0, "%u", opt->epochs),
                    epoch, opt->epochs, result->loss, 100 * result->accuracy);
        if (opt->test) {
            hnn_train_evaluate(g, opt->test, &result->test_loss, &result->test_accuracy);
            if (opt->log)
                fprintf(opt->log, "  test loss %.6f  test accuracy %6.2f%%", result->test_loss,
                        100 * result->test_accuracy);
        }
        if (opt->log) {
            if (t_param != HNN_TRAIN_FIXED)
                fprintf(opt->log, "  T %.4g", g->theta[t_param]);
            fputc('\n', opt->log);
            fflush(opt->log);
        }
        if (!isfinite(result->loss)) {
            hnn_diag_error(diag, g->model->train.set[HNN_TRAIN_OPTIMIZER]
                                     ? g->model->train.setting_loc[HNN_TRAIN_OPTIMIZER]
                                     : g->model->loc,
                           "training diverged at epoch %u: the loss is no longer finite; lower the "
                           "learning rate (lr %g) or narrow the inputs", epoch, opt->lr);
            ok = false;
        }
    }
    free(order);
    free(delta);
    free(values);
    free(train);
    free(vel);
    free(grad);
    return ok;
}
