#include "front/model.h"

#include <string.h>

#include "front/print.h"

static const char *const hnn_op_names[HNN_OP__COUNT] = {
#define HNN_OP(e, name, min_in, max_in, pos, opts) [HNN_OP_##e] = name,
#include "front/ops.def"
#undef HNN_OP
};

const char *
hnn_op_name(hnn_op op)
{
    return (unsigned)op < HNN_OP__COUNT ? hnn_op_names[op] : "?";
}

size_t
hnn_shape_count(hnn_shape s)
{
    size_t n = s.rank ? 1 : 0;
    for (uint32_t i = 0; i < s.rank; i++)
        n *= s.dim[i];
    return n;
}

bool
hnn_shape_equal(hnn_shape a, hnn_shape b)
{
    if (a.rank != b.rank)
        return false;
    for (uint32_t i = 0; i < a.rank; i++)
        if (a.dim[i] != b.dim[i])
            return false;
    return true;
}

void
hnn_shape_format(char *buf, size_t size, hnn_shape s)
{
    if (s.rank == 1)
        snprintf(buf, size, "vector(%u)", s.dim[0]);
    else if (s.rank == 3)
        snprintf(buf, size, "image(%u, %u, %u)", s.dim[0], s.dim[1], s.dim[2]);
    else
        snprintf(buf, size, "(unknown)");
}

hnn_layer *
hnn_model_find(const hnn_model *model, const char *name)
{
    for (uint32_t i = 0; i < model->n_layers; i++)
        if (strcmp(model->layers[i]->name, name) == 0)
            return model->layers[i];
    return NULL;
}

void
hnn_input_element_range(const hnn_layer *input, size_t i, double *lo, double *hi)
{
    if (!input->u.input.n_ranges) {
        *lo = input->u.input.lo;
        *hi = input->u.input.hi;
        return;
    }
    size_t k = i / (hnn_shape_count(input->shape) / input->u.input.n_ranges);
    *lo = input->u.input.range_lo[k];
    *hi = input->u.input.range_hi[k];
}

double
hnn_input_clamp_value(const hnn_layer *input, size_t i, double v)
{
    double lo, hi;
    hnn_input_element_range(input, i, &lo, &hi);
    return v < lo ? lo : v > hi ? hi : v;
}

size_t
hnn_input_clamp(const hnn_layer *input, double *x, size_t n_samples)
{
    size_t width = hnn_shape_count(input->shape), clamped = 0;
    for (size_t s = 0; s < n_samples; s++)
        for (size_t i = 0; i < width; i++) {
            double *v = &x[s * width + i], c = hnn_input_clamp_value(input, i, *v);
            clamped += c != *v;
            *v = c;
        }
    return clamped;
}

void
hnn_model_summary(FILE *out, const hnn_model *model)
{
    char in[96], outs[96];
    hnn_shape_format(in, sizeof in, model->input->shape);
    hnn_shape_format(outs, sizeof outs, model->output->shape);
    fprintf(out, "%s: %u layer%s, %llu parameter%s%s, input %s, output %s\n", model->name,
            model->n_layers - 1, model->n_layers == 2 ? "" : "s", (unsigned long long)model->n_params,
            model->n_params == 1 ? "" : "s", model->has_values ? "" : " (no values: weights none)", in,
            outs);
}

static void
hnn_model_num(FILE *out, double v)
{
    char buf[64];
    hnn_ast_format_number(buf, sizeof buf, v, v == (double)(long long)v);
    fputs(buf, out);
}

static void
hnn_model_pair(FILE *out, const char *key, const uint32_t v[2])
{
    if (v[0] == v[1])
        fprintf(out, " %s %u", key, v[0]);
    else
        fprintf(out, " %s [%u, %u]", key, v[0], v[1]);
}

static void
hnn_model_interval(FILE *out, double lo, double hi)
{
    fputc('[', out);
    hnn_model_num(out, lo);
    fputs(", ", out);
    hnn_model_num(out, hi);
    fputc(']', out);
}

static void
hnn_model_dump_input_range(FILE *out, const hnn_layer *l)
{
    uint32_t n = l->u.input.n_ranges;
    if (!n) {
        hnn_model_interval(out, l->u.input.lo, l->u.input.hi);
        return;
    }
    fputc('[', out);
    for (uint32_t k = 0; k < n; k++) {
        if (k)
            fputs(", ", out);
        hnn_model_interval(out, l->u.input.range_lo[k], l->u.input.range_hi[k]);
    }
    fputc(']', out);
}

static void
hnn_model_dump_layer(FILE *out, const hnn_layer *l)
{
    char shape[96];
    hnn_shape_format(shape, sizeof shape, l->shape);
    fprintf(out, "  %%%u %s = %s", l->index, l->name, hnn_op_name(l->op));
    if (l->op != HNN_OP_INPUT) {
        fputc('(', out);
        for (uint32_t i = 0; i < l->n_in; i++)
            fprintf(out, "%s%%%u", i ? ", " : "", l->in[i]->index);
        fputc(')', out);
    }
    switch (l->op) {
    case HNN_OP_INPUT:
        fputs(" range ", out);
        hnn_model_dump_input_range(out, l);
        break;
    case HNN_OP_DENSE:
        fprintf(out, " units %u", l->u.dense.units);
        break;
    case HNN_OP_CONV2D:
        fprintf(out, " channels %u", l->u.conv2d.channels);
        hnn_model_pair(out, "kernel", l->u.conv2d.kernel);
        hnn_model_pair(out, "stride", l->u.conv2d.stride);
        hnn_model_pair(out, "padding", l->u.conv2d.padding);
        break;
    case HNN_OP_AVGPOOL:
    case HNN_OP_SUMPOOL:
        hnn_model_pair(out, "kernel", l->u.pool.kernel);
        hnn_model_pair(out, "stride", l->u.pool.stride);
        hnn_model_pair(out, "padding", l->u.pool.padding);
        break;
    case HNN_OP_BATCHNORM:
        fputs(" eps ", out);
        hnn_model_num(out, l->u.batchnorm.eps);
        break;
    case HNN_OP_POLY:
        fprintf(out, " degree %u coeffs [", l->u.poly.degree);
        for (uint32_t i = 0; i <= l->u.poly.degree; i++) {
            if (i)
                fputs(", ", out);
            hnn_model_num(out, l->u.poly.coeffs[i]);
        }
        fputc(']', out);
        break;
    case HNN_OP_RELU:
    case HNN_OP_SIGMOID:
    case HNN_OP_TANH:
    case HNN_OP_GELU:
    case HNN_OP_EXP:
        if (l->u.approx.degree)
            fprintf(out, " degree %u", l->u.approx.degree);
        else
            fputs(" degree auto", out);
        fputs(" interval ", out);
        hnn_model_interval(out, l->u.approx.lo, l->u.approx.hi);
        break;
    case HNN_OP_SOFTARGMAX:
        fputs(" T ", out);
        hnn_model_num(out, l->u.softargmax.temperature);
        break;
    case HNN_OP_FLATTEN:
    case HNN_OP_ADD:
    case HNN_OP_SQUARE:
    case HNN_OP__COUNT:
        break;
    }
    fprintf(out, " : %s", shape);
    if (l->n_params)
        fprintf(out, " params %llu", (unsigned long long)l->n_params);
    if (l->range.known) {
        fprintf(out, " values [%.6g, %.6g]%s", l->range.lo, l->range.hi, l->range.tight ? " exact" : "");
    }
    fputc('\n', out);
}

void
hnn_model_dump(FILE *out, const hnn_model *model)
{
    static const char *const packing[] = {"auto", "batch", "vector"};
    static const char *const refresh[] = {"none", "client", "bootstrap"};
    static const char *const weights[] = {"file", "inline", "none"};
    hnn_model_summary(out, model);
    fprintf(out, "weights %s\n", weights[model->weights]);
    for (uint32_t i = 0; i < model->n_layers; i++)
        hnn_model_dump_layer(out, model->layers[i]);
    fprintf(out, "  output %%%u\n", model->output->index);
    const hnn_hints *h = &model->hints;
    fprintf(out, "hints packing %s, refresh %s, security %u", packing[h->packing], refresh[h->refresh],
            h->security);
    if (h->set[HNN_HINT_PRECISION])
        fprintf(out, ", precision %u bits", h->precision_bits);
    if (h->set[HNN_HINT_BOUNDS])
        fprintf(out, ", bounds %s", h->bounds == HNN_BOUNDS_INTERVALS ? "intervals" : "sound");
    if (h->set[HNN_HINT_RING])
        fprintf(out, ", ring %u", h->ring_dim);
    if (h->set[HNN_HINT_LEVELS])
        fprintf(out, ", levels %u", h->levels);
    if (h->set[HNN_HINT_SCALE])
        fprintf(out, ", scale 2^%g", h->scale_log2);
    if (h->set[HNN_HINT_KEY_MEMORY])
        fprintf(out, ", key_memory %llu MB", (unsigned long long)h->key_memory_mb);
    if (h->set[HNN_HINT_BATCH])
        fprintf(out, ", batch %u", h->batch);
    fputc('\n', out);
    const hnn_train *t = &model->train;
    fprintf(out, "train%s loss %s, optimizer sgd(lr %g, momentum %g", t->present ? "" : " (defaults)",
            t->loss == HNN_LOSS_MSE ? "mse" : "cross_entropy", t->lr, t->momentum);
    if (t->lr_decay != 1)
        fprintf(out, ", lr_decay %g", t->lr_decay);
    if (t->weight_decay != 0)
        fprintf(out, ", weight_decay %g", t->weight_decay);
    fprintf(out, "), epochs %u, batch %u, learn_T %s", t->epochs, t->batch, t->learn_temperature ? "true" : "false");
    if (t->set[HNN_TRAIN_SEED])
        fprintf(out, ", seed %llu", (unsigned long long)t->seed);
    fputc('\n', out);
}
