/*
 * The tensor IR: the checked model as a graph of a few kinds of operations on
 * flattened tensors, the form every later pass reads.
 *
 *   INPUT       the encrypted input, `size` values
 *   AFFINE      y = W x + b with W a sparse size x in->size matrix (CSR):
 *               dense, conv2d, avgpool, sumpool, flatten and batchnorm all
 *               lower to it (flatten to the identity, removed by simplify)
 *   POLY        y_i = p(x_i), p as a Chebyshev series on an interval
 *               (square, poly, and the approximated activations)
 *   ADD         y = a + b (residual connections)
 *   SOFTARGMAX  y = softmax(x / T): computed by the key holder after
 *               decryption; the circuit's output is x (logits)
 *
 * Invariants (hnn_tir_verify checks every one):
 *   - nodes[] is a topological order; nodes[0] is the only INPUT;
 *     `output` is the last node and nothing uses it.
 *   - in[k] of a node is an earlier node; n_in matches the kind (0, 1 or 2).
 *   - AFFINE: w.rows == size, w.cols == in[0]->size, row_start has rows + 1
 *     non-decreasing entries ending at nnz, columns sorted and < cols in each
 *     row, every value finite; bias has `size` finite values.
 *   - POLY: size == in[0]->size, 1 <= degree, finite coefficients, lo < hi.
 *   - ADD: both inputs and the node have the same size.
 *   - SOFTARGMAX: only as the output, T > 0.
 *   - range: lo <= hi, finite, a sound bound on every value of the node for
 *     inputs in the model's input range (after hnn_tir_assume_intervals:
 *     for those that also keep every approximated activation's input in its
 *     interval); elem_lo/elem_hi, when present, are finite per-element
 *     bounds within it.
 *   - uses: the number of nodes (and the output) reading this node; every
 *     node but the output is used (layers the output does not depend on
 *     are not lowered).
 *   - the output is the input only when the network is nothing else
 *     (n_nodes == 1).
 */
#ifndef HNN_MIDDLE_TIR_H
#define HNN_MIDDLE_TIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "front/arena.h"
#include "front/diag.h"
#include "front/model.h"
#include "middle/approx.h"

/* The highest degree `degree auto` may choose (explicit degrees go to 255). */
#define HNN_TIR_AUTO_MAX_DEGREE 63

typedef enum hnn_tir_kind {
    HNN_TIR_INPUT,
    HNN_TIR_AFFINE,
    HNN_TIR_POLY,
    HNN_TIR_ADD,
    HNN_TIR_SOFTARGMAX,
} hnn_tir_kind;

/* Compressed sparse rows. */
typedef struct hnn_sparse {
    uint32_t rows, cols;
    size_t nnz;
    size_t *row_start; /* rows + 1 */
    uint32_t *col;     /* nnz */
    double *val;       /* nnz */
} hnn_sparse;

typedef struct hnn_tir_node hnn_tir_node;

struct hnn_tir_node {
    hnn_tir_kind kind;
    uint32_t id;              /* index in hnn_tir.nodes */
    const hnn_layer *layer;   /* the source layer: name and location for messages */
    const char *name;         /* "h1", or "h1+out" after merging */
    hnn_tir_node *in[2];
    uint32_t n_in;
    uint32_t size;            /* flattened element count */
    hnn_shape shape;          /* the source layer's shape (for reports) */
    hnn_value_range range;    /* bound on every element: the hull of elem_lo/hi */
    double *elem_lo, *elem_hi; /* per-element bounds, `size` each (arena) */
    uint32_t uses;
    union {
        struct {
            hnn_sparse w;
            double *bias;
        } affine;
        struct {
            hnn_op source;    /* SQUARE, POLY, RELU ... EXP */
            hnn_cheb cheb;    /* the series and its interval, with max_error */
            /* Exact polynomials (SQUARE, POLY): the power-basis coefficients
             * the lowering evaluates (lowest first); NULL for fitted ones. */
            const double *power;
            uint32_t power_degree;
            bool auto_degree; /* the model said `degree auto` */
            /* Set by hnn_tir_assume_intervals: the input is taken to lie
             * in the interval (fitted activations only). */
            bool assume_interval;
        } poly;
        struct {
            double temperature;
        } softargmax;
    } u;
};

typedef struct hnn_tir {
    const hnn_model *model;
    hnn_tir_node **nodes;
    uint32_t n_nodes;
    hnn_tir_node *input;
    hnn_tir_node *output;
} hnn_tir;

/* Builds the tensor IR of a checked model with values (model->has_values).
 * Approximated activations are fitted at their degree (auto: the degree that
 * meets the model's precision target on the interval, at most 63). When a
 * sound bound overflows a double under `bounds intervals`, the activations
 * built so far are marked as hnn_tir_assume_intervals does and the bounds
 * recomputed. Errors go to diag at the layer's location; NULL on error. */
hnn_tir *hnn_tir_build(const hnn_model *model, hnn_arena *arena, hnn_diag *diag);

/* Simplification, in place:
 *   - fold batchnorm and scalar chains into the neighbouring affine node
 *     (an AFFINE following or followed by a diagonal AFFINE merges);
 *   - merge consecutive AFFINE nodes with no activation between
 *     (W = W2 W1, b = W2 b1 + b2) when the product is no denser than the
 *     pair (or always for diagonals and identities: flatten);
 *   - drop identity AFFINE nodes.
 * Node ids are renumbered; ranges are recomputed. Returns the number of
 * nodes removed. */
uint32_t hnn_tir_simplify(hnn_tir *tir, hnn_arena *arena);

/* The node that alone reads n (n used once, and not the output), or NULL. */
hnn_tir_node *hnn_tir_sole_reader(const hnn_tir *tir, const hnn_tir_node *n);

/* The fitted POLY whose change of variable onto [-1, 1], t = alpha y + beta,
 * both lowerings fold into the AFFINE n (the POLY alone reads n), or NULL.
 * The planner's refresh masks and precision bounds follow the same rule. */
const hnn_tir_node *hnn_tir_folding_poly(const hnn_tir *tir, const hnn_tir_node *n);

/* softmax(x / T) into y (n values), the largest logit subtracted first so
 * that no exponential overflows. y MAY alias x. */
void hnn_tir_softargmax(const double *x, uint32_t n, double temperature, double *y);

/* Folds the leading coefficient of an exact polynomial into the linear map
 * that alone reads it when the monic polynomial evaluates at a lower depth
 * (0.25 x^2 + 0.5 x: depth 2; x^2 + 2 x with the factor 0.25 in the next
 * weights: depth 1). Ranges are recomputed. Returns the polynomials folded. */
uint32_t hnn_tir_fold_poly_factors(hnn_tir *tir, hnn_arena *arena);

/* Interval-arithmetic value bounds for every node from the input range,
 * per element (elem_lo/elem_hi) and their hull (range). Sound, including
 * floating-point rounding in hnn_tir_eval:
 *   AFFINE  per row j: b_j + sum_i min/max(W_ji lo_i, W_ji hi_i), widened by
 *           the dot product's rounding bound;
 *   POLY    each element's input interval is cut into pieces; on each, p is
 *           sampled on a Chebyshev-Lobatto grid fine enough that Bernstein's
 *           inequality bounds it between the samples (see tir_range.c);
 *           wide nodes of high degree bound buckets of the input's hull
 *           once instead;
 *   ADD     the sum; SOFTARGMAX [0, 1].
 * A bound that overflows is left infinite: hnn_tir_verify then fails, and
 * hnn_tir_build reports it. */
void hnn_tir_compute_ranges(hnn_tir *tir);
/* The same for one node, from its inputs' bounds (INPUT: each element's
 * declared range). Nodes own elem_lo/elem_hi arrays of `size` doubles. */
void hnn_tir_compute_node_range(hnn_tir_node *node);

/* Warns (once per layer, at the layer's `interval`) about every approximated
 * activation whose interval does not cover its input's computed range, which
 * is sharper than the front end's after simplification: run it after
 * hnn_tir_simplify. Layers the front end already warned about (their input's
 * bound was exact) are skipped; `assumed` (hint `bounds intervals`) says
 * the plan will rely on the intervals. Returns the number of warnings. */
uint32_t hnn_tir_check_intervals(const hnn_tir *tir, bool assumed, hnn_diag *diag);

/* The planner's assumption under `hints { bounds intervals; }` (the default,
 * `bounds sound`, keeps the bounds that hold for every input): each
 * approximated activation's input lies in
 * its declared interval, as the input lies in its declared range. Marks
 * every fitted POLY (assume_interval) and recomputes the ranges, which then
 * bound such a node by its polynomial on its interval (cut to the input's
 * bound): sound for inputs that keep every activation's input inside its
 * interval, no longer for all inputs in the model's range. Run after
 * hnn_tir_check_intervals, which warns where the bounds cannot show it.
 * Returns the activations whose computed input bound leaves the interval. */
uint32_t hnn_tir_assume_intervals(hnn_tir *tir);

/* Checks every invariant above; on failure writes what is wrong to `why`
 * and returns false. Run after every pass in tests and debug builds. */
bool hnn_tir_verify(const hnn_tir *tir, char *why, size_t why_len);

/* Stable text form, one node per line:
 *   %3 = affine %2 [100 x 845, nnz 84500] range [-4.1, 3.9]   # dense_1
 * used by --dump-after and golden tests. */
void hnn_tir_print(FILE *out, const hnn_tir *tir);

/* y = tir(x) on doubles: the plaintext reference of the polynomial network
 * (softargmax included). x has input->size values, y output->size. On return
 * scratch holds every node's values, node after node in nodes[] order
 * (node k at the sum of the sizes of nodes 0 .. k-1). */
void hnn_tir_eval(const hnn_tir *tir, const double *x, double *y, double *scratch);
/* Scratch doubles hnn_tir_eval needs: the sum of the node sizes. */
size_t hnn_tir_eval_scratch(const hnn_tir *tir);

/* "input", "affine", "poly", "add", "softargmax". */
const char *hnn_tir_kind_name(hnn_tir_kind kind);

#endif
