/*
 * Data sets for training, read by the shared loader of back/data.h (CSV with
 * the label last, or IDX images with a label file; see that header): the
 * same rows, labels and class numbering as `hnnc run` sees. Labels become
 * doubles here. A test set's named classes are renumbered to the training
 * set's, so a test file whose first row is of another class still agrees.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "back/data.h"
#include "front/bug.h"
#include "train/train.h"

void
hnn_train_data_free(hnn_train_data *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->label);
    for (uint32_t i = 0; d->class_names && i < d->n_classes; i++)
        free(d->class_names[i]);
    free(d->class_names);
    memset(d, 0, sizeof *d);
}

/* Renumbers named classes to the training set's numbering. */
static bool
hnn_train_renumber(const char *path, const hnn_train_data *classes, hnn_train_data *out)
{
    uint32_t *map = malloc((out->n_classes ? out->n_classes : 1) * sizeof *map);
    if (!map)
        hnn_fatal_oom();
    for (uint32_t i = 0; i < out->n_classes; i++) {
        uint32_t k = 0;
        while (k < classes->n_classes && strcmp(classes->class_names[k], out->class_names[i]) != 0)
            k++;
        if (k == classes->n_classes) {
            fprintf(stderr, "hnnc: error: %s: label '%s' is not a class of the training data\n", path,
                    out->class_names[i]);
            free(map);
            return false;
        }
        map[i] = k;
    }
    for (uint32_t r = 0; r < out->n; r++)
        out->label[r] = map[(uint32_t)out->label[r]];
    for (uint32_t i = 0; i < out->n_classes; i++)
        free(out->class_names[i]);
    free(out->class_names);
    out->n_classes = classes->n_classes;
    out->class_names = calloc(out->n_classes, sizeof *out->class_names);
    if (!out->class_names)
        hnn_fatal_oom();
    for (uint32_t i = 0; i < out->n_classes; i++)
        if (!(out->class_names[i] = strdup(classes->class_names[i])))
            hnn_fatal_oom();
    free(map);
    return true;
}

bool
hnn_train_data_load(const char *path, const char *idx_labels, const hnn_model *model,
                    const hnn_train_data *classes, hnn_train_data *out)
{
    memset(out, 0, sizeof *out);
    hnn_data_options opt = {
        .width = (uint32_t)hnn_shape_count(model->input->shape),
        .lo = model->input->u.input.lo,
        .hi = model->input->u.input.hi,
        .labels = idx_labels,
    };
    hnn_data d;
    char err[512];
    if (hnn_data_load(path, &opt, &d, err, sizeof err) != 0) {
        fprintf(stderr, "hnnc: error: %s\n", err);
        return false;
    }
    if (!d.label) {
        fprintf(stderr, "hnnc: error: %s has no labels: training needs one per sample (the last CSV field, "
                "or an IDX label file)\n", path);
        hnn_data_free(&d);
        return false;
    }
    if (d.n_samples > UINT32_MAX) {
        fprintf(stderr, "hnnc: error: %s has more than 2^32 samples\n", path);
        hnn_data_free(&d);
        return false;
    }
    out->n = (uint32_t)d.n_samples;
    out->n_features = d.n_features;
    out->x = d.x;
    d.x = NULL;
    out->label = malloc((out->n ? out->n : 1) * sizeof *out->label);
    if (!out->label)
        hnn_fatal_oom();
    for (uint32_t i = 0; i < out->n; i++)
        out->label[i] = (double)d.label[i];
    out->class_names = d.class_names;
    out->n_classes = d.class_names ? d.n_class_names : 0;
    d.class_names = NULL;
    d.n_class_names = 0;
    hnn_data_free(&d);
    if (classes && classes->class_names && out->class_names && !hnn_train_renumber(path, classes, out)) {
        hnn_train_data_free(out);
        return false;
    }
    return true;
}

bool
hnn_train_data_check(const hnn_train_graph *g, hnn_train_data *d, const char *what, hnn_diag *diag,
                     size_t *clamped)
{
    (void)diag;
    const hnn_model *m = g->model;
    uint32_t in = (uint32_t)hnn_shape_count(m->input->shape);
    if (d->n_features != in) {
        fprintf(stderr, "hnnc: error: %s has %u features per row; model '%s' takes %u (input '%s')\n", what,
                d->n_features, m->name, in, m->input->name);
        return false;
    }
    bool classify = g->n_out > 1;
    for (uint32_t i = 0; i < d->n && classify; i++) {
        double l = d->label[i];
        if (!(l >= 0 && l < g->n_out && l == floor(l))) {
            fprintf(stderr, "hnnc: error: %s: row %u has label %g; the output '%s' has %u classes "
                    "(labels 0 to %u)\n", what, i + 1, l, m->output->name, g->n_out, g->n_out - 1);
            return false;
        }
    }
    if (d->n_classes > g->n_out && classify) {
        fprintf(stderr, "hnnc: error: %s has %u classes; the output '%s' has %u\n", what, d->n_classes,
                m->output->name, g->n_out);
        return false;
    }
    /* The network trained is the one that runs: the key holder's encoder
     * clamps each value into its element's range. */
    size_t n = hnn_input_clamp(m->input, d->x, d->n);
    if (clamped)
        *clamped = n;
    return true;
}

/* One end rounded outward to a multiple of q (`down` for the low end), still
 * covering the data's extreme `limit`. */
static double
hnn_train_round_out(double v, double q, bool down, double limit)
{
    double k = v / q;
    if (fabs(k - nearbyint(k)) < 1e-9 * fmax(1.0, fabs(k)))
        k = nearbyint(k); /* already a multiple, up to the division's rounding */
    double r = (down ? floor(k) : ceil(k)) * q;
    /* q's multiples are not exact in binary (452 * 0.01 is 4.5200000000000005):
     * the short decimal reads best, and the margin is no exact quantity, so
     * it only has to cover the data. */
    char buf[32];
    snprintf(buf, sizeof buf, "%.6g", r);
    double t = strtod(buf, NULL);
    return (down ? t <= limit : t >= limit) ? t : r;
}

void
hnn_train_data_ranges(const hnn_model *m, const hnn_train_data *d, double margin, double *lo, double *hi)
{
    const hnn_layer *in = m->input;
    size_t parts = in->shape.dim[0], per = hnn_shape_count(in->shape) / parts;
    for (size_t k = 0; k < parts; k++) {
        double a = INFINITY, b = -INFINITY;
        for (uint32_t s = 0; s < d->n; s++)
            for (size_t j = k * per; j < (k + 1) * per; j++) {
                a = fmin(a, d->x[(size_t)s * d->n_features + j]);
                b = fmax(b, d->x[(size_t)s * d->n_features + j]);
            }
        double width = b > a ? b - a : fmax(fabs(a), 1.0);
        /* A constant column still needs a range with two ends. */
        double pad = b > a ? margin * width : fmax(margin, 0.01) * width;
        double l = a - pad, h = b + pad;
        if (a >= 0 && l < 0)
            l = 0; /* a measure that is never negative stays so */
        /* Three significant digits of the width: 0.0475, not 0.047512. */
        double q = pow(10, floor(log10(h - l)) - 2);
        lo[k] = hnn_train_round_out(l, q, true, a);
        hi[k] = hnn_train_round_out(h, q, false, b);
    }
}
