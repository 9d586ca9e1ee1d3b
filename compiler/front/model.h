/*
 * The checked model: what the front end hands to the middle end.
 *
 * Invariants (established by hnn_sema_check; a model that fails them is never
 * returned):
 *   - layers[] is in definition order, which is a topological order: every
 *     input of layers[i] is some layers[j] with j < i. layers[0] is the input.
 *   - every layer has a known output shape, computed from its inputs and
 *     parameters; inputs have the shapes the layer needs (dense: a vector,
 *     conv2d/pools: an image, add: two equal shapes).
 *   - every parameter tensor has the shape its layer needs and finite values;
 *     when the model says `weights none`, tensors have shapes but data == NULL
 *     (has_values is false) and the model can be trained but not compiled.
 *   - the output layer is reachable from the input.
 *   - every layer, parameter and hint keeps the hnn_loc it was written at, so a
 *     later pass can report "model.hnn:12:3: error: precision 20 bits cannot be
 *     met" through the same hnn_diag.
 * Everything lives in the hnn_arena given to hnn_sema_check.
 */
#ifndef HNN_FRONT_MODEL_H
#define HNN_FRONT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "front/loc.h"

typedef enum hnn_op {
#define HNN_OP(e, name, min_in, max_in, pos, opts) HNN_OP_##e,
#include "front/ops.def"
#undef HNN_OP
    HNN_OP__COUNT
} hnn_op;

/* "dense", "conv2d", ... */
const char *hnn_op_name(hnn_op op);

/* A vector(n) has rank 1, dim = {n}; an image(C, H, W) has rank 3. */
typedef struct hnn_shape {
    uint32_t rank;
    uint32_t dim[3];
} hnn_shape;

size_t hnn_shape_count(hnn_shape s);
bool hnn_shape_equal(hnn_shape a, hnn_shape b);
/* "vector(8)", "image(1, 28, 28)" */
void hnn_shape_format(char *buf, size_t size, hnn_shape s);

/* A parameter tensor, row-major. */
typedef struct hnn_tensor {
    uint32_t rank;
    uint32_t dim[4];
    size_t count;
    const double *data; /* NULL when the model has no weight values */
    hnn_loc loc;        /* inline values, the weights file entry, or the layer */
} hnn_tensor;

/*
 * A bound on the values a layer can output, per tensor. `tight` means the bound
 * is reached for some input in the input range (it is exact, not just safe);
 * the front end warns about activation intervals only against tight bounds.
 */
typedef struct hnn_value_range {
    bool known;
    bool tight;
    double lo, hi;
} hnn_value_range;

typedef struct hnn_layer hnn_layer;

struct hnn_layer {
    hnn_op op;
    uint32_t index;        /* position in hnn_model.layers */
    const char *name;      /* as written, or KIND_N for an unnamed layer */
    bool implicit_name;
    hnn_loc loc;           /* the whole statement */
    hnn_loc name_loc;      /* the name, or the kind when the layer is unnamed */
    hnn_layer *in[2];
    uint32_t n_in;
    hnn_shape shape;       /* output shape */
    hnn_value_range range; /* bound on output values */
    uint32_t uses;         /* layers (and the output) that consume this one */
    uint64_t n_params;     /* numbers this layer reads from the weights */
    union {
        struct {
            double lo, hi; /* every element lies in [lo, hi]: the range, or the hull of the ranges */
            /* `range [[l1, h1], ...]`: n_ranges pairs, one per element of a
             * vector or per channel of an image; NULL and 0 when one range
             * covers every element. Read them through hnn_input_element_range. */
            const double *range_lo, *range_hi;
            uint32_t n_ranges;
            hnn_loc range_loc;
        } input;
        struct {
            uint32_t units;
            hnn_tensor weight; /* [units][inputs] */
            hnn_tensor bias;   /* [units]; zeros when not given */
        } dense;
        struct {
            uint32_t channels;
            uint32_t kernel[2], stride[2], padding[2]; /* [height, width] */
            hnn_tensor weight; /* [channels][in_channels][kh][kw] */
            hnn_tensor bias;   /* [channels] */
        } conv2d;
        struct {
            uint32_t kernel[2], stride[2], padding[2];
        } pool; /* avgpool, sumpool */
        struct {
            double eps;
            hnn_tensor gamma, beta, mean, var; /* [channels] or [features] */
        } batchnorm;
        struct {
            uint32_t degree;
            const double *coeffs; /* degree + 1, lowest power first */
            hnn_loc coeffs_loc;
        } poly;
        struct {
            uint32_t degree; /* 0 means auto: the middle end chooses */
            double lo, hi;   /* the approximation interval */
            hnn_loc degree_loc, interval_loc;
        } approx; /* relu, sigmoid, tanh, gelu, exp */
        struct {
            double temperature; /* T; from the weights file when it has one */
            hnn_loc temperature_loc;
        } softargmax;
    } u;
};

typedef enum hnn_packing {
    HNN_PACKING_AUTO,
    HNN_PACKING_BATCH,
    HNN_PACKING_VECTOR,
} hnn_packing;

typedef enum hnn_refresh {
    HNN_REFRESH_NONE,
    HNN_REFRESH_CLIENT,
    HNN_REFRESH_BOOTSTRAP,
} hnn_refresh;

/* Where the planner's value bounds come from (hint `bounds`). */
typedef enum hnn_bounds {
    HNN_BOUNDS_SOUND,     /* interval arithmetic from the input ranges: holds for every input */
    HNN_BOUNDS_INTERVALS, /* each approximated activation's input taken to lie in its interval */
} hnn_bounds;

/* One per hint; index of hnn_hints.set and .loc. */
typedef enum hnn_hint {
    HNN_HINT_PACKING,
    HNN_HINT_REFRESH,
    HNN_HINT_SECURITY,
    HNN_HINT_PRECISION,
    HNN_HINT_RING,
    HNN_HINT_LEVELS,
    HNN_HINT_SCALE,
    HNN_HINT_KEY_MEMORY,
    HNN_HINT_BATCH,
    HNN_HINT_BOUNDS,
    HNN_HINT__COUNT
} hnn_hint;

typedef struct hnn_hints {
    hnn_packing packing;     /* default auto */
    hnn_refresh refresh;     /* default none */
    uint32_t security;       /* 128 (default), 192 or 256 bits */
    uint32_t precision_bits; /* target output precision; 0 = not given */
    uint32_t ring_dim;       /* pinned N (a power of two); 0 = free */
    uint32_t levels;         /* pinned multiplicative levels; 0 = free */
    double scale_log2;       /* pinned log2 of the scale; 0 = free */
    uint64_t key_memory_mb;  /* cap on evaluation-key memory; 0 = none */
    uint32_t batch;          /* inputs per ciphertext in batch packing; 0 = free */
    hnn_bounds bounds;       /* default sound */
    bool set[HNN_HINT__COUNT];
    hnn_loc loc[HNN_HINT__COUNT];
} hnn_hints;

typedef enum hnn_loss {
    HNN_LOSS_MSE,
    HNN_LOSS_CROSS_ENTROPY,
} hnn_loss;

typedef enum hnn_train_setting {
    HNN_TRAIN_LOSS,
    HNN_TRAIN_OPTIMIZER,
    HNN_TRAIN_EPOCHS,
    HNN_TRAIN_BATCH,
    HNN_TRAIN_LEARN_T,
    HNN_TRAIN_SEED,
    HNN_TRAIN__COUNT
} hnn_train_setting;

typedef struct hnn_train {
    bool present;              /* the model has a train block */
    hnn_loc loc;
    hnn_loss loss;             /* default cross_entropy after softargmax, else mse */
    double lr, momentum;       /* sgd; defaults 0.01 and 0 */
    double lr_decay;           /* lr of epoch e is lr lr_decay^(e-1); default 1 */
    double weight_decay;       /* L2 penalty: weight_decay theta joins each gradient; default 0 */
    uint32_t epochs;           /* default 10 */
    uint32_t batch;            /* default 32 */
    bool learn_temperature;    /* softargmax T is trained; default true */
    uint64_t seed;             /* default 0 */
    bool set[HNN_TRAIN__COUNT];
    hnn_loc setting_loc[HNN_TRAIN__COUNT];
} hnn_train;

typedef enum hnn_weights_source {
    HNN_WEIGHTS_FILE,   /* `weights "file.json"` (or --weights) */
    HNN_WEIGHTS_INLINE, /* no weights statement: every value is written inline */
    HNN_WEIGHTS_NONE,   /* `weights none`: shapes only, values to be trained */
} hnn_weights_source;

typedef struct hnn_model {
    const char *name;
    hnn_loc loc, name_loc;
    hnn_layer **layers;
    uint32_t n_layers;
    hnn_layer *input;
    hnn_layer *output;
    hnn_loc output_loc;        /* the output statement */
    hnn_weights_source weights;
    const char *weights_path;  /* resolved path, for HNN_WEIGHTS_FILE */
    hnn_loc weights_loc;
    bool has_values;           /* every parameter tensor has data */
    uint64_t n_params;
    hnn_hints hints;
    hnn_train train;
} hnn_model;

/* The declared range of element i (flattened, channel-major) of an input layer. */
void hnn_input_element_range(const hnn_layer *input, size_t i, double *lo, double *hi);
/* v clamped into the range of input element i: the key holder's encoder
 * clamps, because the plan's bounds (q0, the activations' intervals) hold
 * only inside the declared ranges. */
double hnn_input_clamp_value(const hnn_layer *input, size_t i, double v);
/* Clamps n_samples rows of the input's elements in place; returns how many
 * values lay outside their ranges. */
size_t hnn_input_clamp(const hnn_layer *input, double *x, size_t n_samples);

/* Looks a layer up by name; NULL when there is none. Linear: for tools, not passes. */
hnn_layer *hnn_model_find(const hnn_model *model, const char *name);

/* "iris: 5 layers, 68 parameters, input vector(4), output vector(3)" */
void hnn_model_summary(FILE *out, const hnn_model *model);
/* Every layer with its inputs, shape, parameters and value bound; then hints and
 * training settings. Stable text, used by the golden tests. */
void hnn_model_dump(FILE *out, const hnn_model *model);

#endif
