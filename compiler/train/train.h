/*
 * Plaintext training of a checked model, in tensor-IR terms.
 *
 * The training graph is an hnn_tir (the nodes tir_build makes: AFFINE with a
 * CSR matrix, POLY with the same Chebyshev fit or exact power coefficients
 * the circuit evaluates, ADD, SOFTARGMAX as the output) plus, for each node,
 * a map from its numbers to the model's parameters:
 *
 *   AFFINE  every stored entry k of W is  w_scale[k] * theta[w_param[k]]
 *           (or the constant w_scale[k] when w_param[k] is HNN_TRAIN_FIXED);
 *           every bias entry j is  b_const[j] + sum_t b_scale[t] theta[b_param[t]]
 *           over its terms t in [b_start[j], b_start[j + 1]).
 *           dense: one entry per weight; conv2d: every position of a kernel
 *           entry maps to that entry (shared); avgpool/sumpool/flatten: fixed;
 *           batchnorm: entry = gamma_c / sqrt(var_c + eps), bias =
 *           beta_c - mean_c gamma_c / sqrt(var_c + eps) (mean and var fixed).
 *   POLY    no parameter; the derivative is that of the polynomial itself.
 *   SOFTARGMAX  T = theta[t_param] when learn_T, else fixed.
 *
 * Unlike tir_build, lowering keeps entries whose weight is zero (a weight at
 * zero still has a gradient). theta holds every number the weights file
 * carries (trainable or not), tensor after tensor; `tensors` says which are
 * trained. Encrypted training will compile this same graph and backward pass.
 *
 * Everything lives in the arena given to hnn_train_graph_build.
 */
#ifndef HNN_TRAIN_TRAIN_H
#define HNN_TRAIN_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "front/arena.h"
#include "front/diag.h"
#include "front/model.h"
#include "middle/tir.h"

#define HNN_TRAIN_FIXED UINT32_MAX
/* The smallest temperature training leaves a learnt T at. */
#define HNN_TRAIN_MIN_TEMPERATURE 1e-3

/* One tensor of the weights file: layers.LAYER.KEY. */
typedef struct hnn_train_tensor {
    const hnn_layer *layer;
    const char *key;       /* "weight", "bias", "gamma", "beta", "mean", "var", "T" */
    uint32_t rank;         /* 0 for T (a number) */
    uint32_t dim[4];
    size_t offset, count;  /* theta[offset .. offset + count) */
    bool trainable;        /* false: inline values, mean/var, T without learn_T */
    bool given;            /* the model gave values (inline or a weights file) */
    bool inline_values;    /* written in the model: never written to the weights file */
} hnn_train_tensor;

typedef struct hnn_train_node {
    /* AFFINE */
    uint32_t *w_param;     /* per stored entry of W */
    double *w_scale;
    size_t *b_start;       /* size + 1 */
    uint32_t *b_param;
    double *b_scale;
    double *b_const;       /* size */
    /* POLY: p' as a Chebyshev series on the same interval (fitted activations)
     * or in the power basis (exact polynomials). */
    hnn_cheb dcheb;
    double *dpower;        /* power_degree values; NULL for fitted ones */
    /* SOFTARGMAX */
    uint32_t t_param;
    /* batchnorm layers: recompute scales when mean/var change */
    const hnn_train_tensor *bn[4]; /* gamma, beta, mean, var */
} hnn_train_node;

typedef struct hnn_train_graph {
    const hnn_model *model;
    hnn_tir *tir;
    hnn_train_node *aux;   /* per node id */
    size_t *offset;        /* per node id + 1: start of its values in a sample's buffer */
    size_t values;         /* doubles per sample buffer: sum of node sizes */
    hnn_train_tensor *tensors;
    uint32_t n_tensors;
    double *theta;
    size_t n_theta;
    hnn_loss loss;
    uint32_t n_out;        /* output size */
} hnn_train_graph;

/* A data set: n rows of n_features values, and a label per row (a class
 * index for classification, a value for a single-output regression). */
typedef struct hnn_train_data {
    uint32_t n, n_features;
    double *x;             /* n * n_features, row-major */
    double *label;         /* n */
    uint32_t n_classes;    /* 0 when labels were numbers that name no class */
    char **class_names;    /* n_classes names for non-numeric labels, else NULL */
} hnn_train_data;

/* ---------------------------------------------------------------- graph (train_graph.c) */

/* Builds the training graph of a checked model (with or without values).
 * Tensors without values are zero until hnn_train_init. Errors (a softargmax
 * that is not the output, a loss the output cannot take) go to diag; NULL. */
hnn_train_graph *hnn_train_graph_build(const hnn_model *model, hnn_arena *arena, hnn_diag *diag);

/* Writes W's and the biases' values (and T) from theta into the tir nodes:
 * run after every change of theta. Batchnorm scales are recomputed from the
 * current mean and var. */
void hnn_train_graph_bind(hnn_train_graph *g);

/* The tensor layers.LAYER.KEY, or NULL. */
hnn_train_tensor *hnn_train_graph_tensor(const hnn_train_graph *g, const char *layer, const char *key);

/* ---------------------------------------------------------------- forward, backward (train_backward.c) */

/* values: g->values doubles; on return node k's values start at
 * values + g->offset[k] and the output's at values + g->offset[output id]. */
void hnn_train_forward(const hnn_train_graph *g, const double *x, double *values);

/* The loss of one sample whose forward values are in `values` (label as in
 * hnn_train_data). */
double hnn_train_loss(const hnn_train_graph *g, const double *values, double label);

/* Adds d loss / d theta for one sample to grad (n_theta doubles; fixed
 * entries receive nothing). values from hnn_train_forward; delta is scratch
 * of g->values doubles. Returns the sample's loss. */
double hnn_train_backward(const hnn_train_graph *g, const double *values, double label, double *delta,
                          double *grad);

/* Whether the output of a forward pass predicts `label`: the largest output
 * is the class, or, for one output, |y - label| < 0.5. */
bool hnn_train_correct(const hnn_train_graph *g, const double *values, double label);

/* Mean loss and accuracy (0 .. 1) over a data set. */
void hnn_train_evaluate(const hnn_train_graph *g, const hnn_train_data *data, double *loss, double *accuracy);

/* ---------------------------------------------------------------- SGD (train_sgd.c) */

/*
 * Deterministic pseudo-random numbers: splitmix64 (Steele, Lea, Flood 2014),
 * state += 0x9e3779b97f4a7c15 then a 64-bit mix. Initialisation and
 * shuffling use separate streams derived from the seed.
 */
typedef struct hnn_train_rng {
    uint64_t state;
} hnn_train_rng;

uint64_t hnn_train_rng_next(hnn_train_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double hnn_train_rng_uniform(hnn_train_rng *r);
/* Uniform in [0, n), n >= 1, without modulo bias. */
uint64_t hnn_train_rng_below(hnn_train_rng *r, uint64_t n);

/*
 * Gives every tensor without values its starting values from the seed:
 * weights uniform in +-sqrt(6 / (fan_in + fan_out)) (dense: inputs, units;
 * conv2d: C kh kw, channels kh kw), biases and beta 0, gamma 1; mean and var
 * of a batchnorm without values are its input's statistics over `data`
 * (per channel or feature, population variance), computed layer after layer
 * in order. Then binds the graph.
 */
void hnn_train_init(hnn_train_graph *g, uint64_t seed, const hnn_train_data *data);

typedef struct hnn_train_options {
    uint64_t seed;
    uint32_t epochs, batch;   /* from the model's train block */
    double lr, momentum;
    double lr_decay;          /* the lr of epoch e is lr lr_decay^(e-1) */
    double weight_decay;      /* weight_decay theta joins every gradient but T's */
    const hnn_train_data *test; /* may be NULL */
    FILE *log;                /* one line per epoch; NULL for none */
    FILE *progress;           /* a progress bar (a terminal); NULL for none */
} hnn_train_options;

/* The options the model's train block gives, seed included. */
hnn_train_options hnn_train_default_options(const hnn_model *model);

typedef struct hnn_train_result {
    double loss, accuracy;            /* on the training data after the last epoch */
    double test_loss, test_accuracy;  /* when a test set was given */
    double first_loss;                /* after the first epoch */
    uint32_t epochs;
} hnn_train_result;

/* Mini-batch SGD with momentum (v = momentum v + g; theta -= lr v, g the
 * mean gradient of the batch plus weight_decay theta; lr is multiplied by
 * lr_decay after each epoch)
 * over data shuffled each epoch by Fisher-Yates from the seed. A learnt T is
 * kept >= HNN_TRAIN_MIN_TEMPERATURE. Returns false, with an error in diag,
 * when the loss stops being finite. */
bool hnn_train_sgd(hnn_train_graph *g, const hnn_train_data *data, const hnn_train_options *opt,
                   hnn_diag *diag, hnn_train_result *result);

/* ---------------------------------------------------------------- data (train_data.c) */

/* Reads a data set for the model through back/data.h: CSV (features, then
 * the label) or IDX images with their label file `idx_labels` (NULL for
 * CSV). Labels are class indices, or names numbered in order of first
 * appearance; with `classes` (the training set, for a test set) names take
 * its numbering. Errors are printed on stderr; false. */
bool hnn_train_data_load(const char *path, const char *idx_labels, const hnn_model *model,
                         const hnn_train_data *classes, hnn_train_data *out);
void hnn_train_data_free(hnn_train_data *d);
/* Checks a data set against the model: feature count, labels within the
 * output's classes; clamps values into their elements' input ranges, as the
 * key holder's encoder does, and counts them in *clamped. */
bool hnn_train_data_check(const hnn_train_graph *g, hnn_train_data *d, const char *what, hnn_diag *diag,
                          size_t *clamped);

/* A range clause for the model's input from the data (`hnnc train
 * --print-range`): per part (element of a vector, channel of an image), the
 * data's min and max widened by `margin` times their spread on each side
 * (not below zero for a part with no negative value; a constant part by at
 * least 1 % of its value, or of 1), rounded outward to three significant
 * digits of the width. lo and hi hold the input's first dimension of
 * entries. The data must not be clamped yet. */
void hnn_train_data_ranges(const hnn_model *m, const hnn_train_data *d, double margin, double *lo, double *hi);

/* ---------------------------------------------------------------- weights (train_weights.c) */

/* Writes every tensor not written inline in the model as a weights file
 * (lang/SPEC.md section 8) that hnnc check --weights reads back. */
bool hnn_train_write_weights(const hnn_train_graph *g, const char *path, hnn_diag *diag);
/* The same text, malloc'd (tests). */
char *hnn_train_weights_text(const hnn_train_graph *g);

#endif
