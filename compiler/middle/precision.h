/*
 * The precision estimate: a bound on how far the decrypted outputs of a
 * planned circuit stand from the model with its true activations, from the
 * plan alone (no keys, no run). docs/design/precision.md gives the model of
 * every term and the measured figures.
 *
 * Two parts, added at every output and reported separately:
 *
 *   CKKS error    |decrypted - polynomial network| (the network hnn_tir_eval
 *                 computes). Linearised: output error = sum_k g_k eps_k over
 *                 the error eps_k each HE node k introduces (encoding,
 *                 fresh encryption, rescale and key-switch rounding,
 *                 constant rounding), g_k the output's derivative with
 *                 respect to node k's value: exact and signed at sampled
 *                 inputs for the estimate, bounded through value bounds
 *                 (interval arithmetic sharpened by univariate sampling)
 *                 for the worst-case bound. Random terms are summed as
 *                 variances, split into a key-independent part and a part
 *                 that scales with |s(zeta)|^2 in a slot (the secret's value
 *                 at the slot's root, which makes the slot error Laplace-like
 *                 rather than Gaussian); the error is the level it exceeds
 *                 in any slot of any output with probability at most
 *                 2^-HNN_PRECISION_FAIL_LOG2 per evaluation. Deterministic
 *                 terms (constants, second-order products) add in magnitude.
 *   approximation |polynomial network - true network|: each fitted
 *                 activation's max error on its interval, carried through
 *                 the later layers by their Lipschitz bounds (AFFINE: the
 *                 rows' L1 norms; activations: max |f'| on the input's range).
 *
 * Values are in units of the decoded output (the circuit's outputs: logits
 * when the model ends in softargmax).
 */
#ifndef HNN_MIDDLE_PRECISION_H
#define HNN_MIDDLE_PRECISION_H

#include <stdbool.h>
#include <stdint.h>

#include "front/diag.h"
#include "middle/hir.h"
#include "middle/plan.h"
#include "middle/tir.h"

/* The estimate fails (some slot of some output beyond it) in at most one
 * evaluation in 2^10. */
#define HNN_PRECISION_FAIL_LOG2 10
/* The runtime's discrete Gaussian (runtime/src/sample). */
#define HNN_PRECISION_SIGMA 3.2

typedef enum hnn_precision_source {
    HNN_PRECISION_APPROX,    /* polynomial approximation of activations */
    HNN_PRECISION_ENCODE,    /* rounding of encoded inputs, constants, plaintexts */
    HNN_PRECISION_FRESH,     /* public-key encryption */
    HNN_PRECISION_RESCALE,   /* rescale rounding */
    HNN_PRECISION_KEYSWITCH, /* relinearisation, rotations: digits x key error, ModDown rounding */
    HNN_PRECISION_PRODUCT,   /* second-order e_a e_b of ciphertext products */
    HNN_PRECISION__COUNT
} hnn_precision_source;

/* "approximation", "encoding", "fresh encryption", "rescale", "key switching", "products". */
const char *hnn_precision_source_name(hnn_precision_source s);

/* The CKKS error of one HE IR output, before the tail bound. Variances are
 * per slot, real part, decoded units; var_key is the average over slots of
 * the part that scales with |s(zeta)|^2. Two versions:
 *   bound  over the whole input range: every derivative bounded through
 *          the value bounds (|a| e_b + |b| e_a): sound, and pessimistic by
 *          about sqrt(width) per wide layer after a product, whose signs
 *          it cannot see;
 *   est    the exact derivatives at sampled inputs (the box's corners, its
 *          centre, random vertices and points; slot by slot through
 *          rotations in vector packing), the largest variances seen: the
 *          estimate the plan reports. In vector packing its deterministic
 *          terms are taken slot by slot: a constant's rounding at the value
 *          it multiplies there, a product's second-order term from each
 *          slot's own forward error magnitude. */
typedef struct hnn_precision_noise {
    double var_plain, var_key;
    double det;                               /* deterministic bound (the bound's version) */
    double var_by[HNN_PRECISION__COUNT];      /* var_plain + var_key by source */
    double det_by[HNN_PRECISION__COUNT];
    double est_var_plain, est_var_key;        /* each the largest over the samples */
    double est_var_by[HNN_PRECISION__COUNT];  /* at the sample of largest variance */
    /* The deterministic part at the sampled inputs: each local error times
     * the exact |derivative| there, and the second-order products e_a e_b
     * from the operands' error variances carried forward through the exact
     * derivatives at the same sample (the bound's worst-case gains compound
     * per layer); the largest over the samples, and its split. */
    double est_det;
    double est_det_by[HNN_PRECISION__COUNT];
    /* The slots the key part averages over at that sample: (sum_j w_j)^2 /
     * sum_j w_j^2 for the key variance w_j entering through slot j (1 in
     * batch packing, where nothing leaves its slot). */
    double est_key_slots;
} hnn_precision_noise;

/* What hnn_precision_hir needs from the plan: the ring, the chain, the key
 * switching digits, and the value range of every input. */
typedef struct hnn_precision_ring {
    unsigned log_n;
    const uint64_t *primes;     /* q0 .. qL, then the special primes */
    unsigned n_data_primes, n_special_primes;
    unsigned alpha;             /* data primes per key-switching digit */
    const double *input_lo, *input_hi; /* per HE IR input: batch, per node.pt; vector, per slot */
    /* Per HE IR node, NULL for none: bounds the plan assumes the node's
     * values keep (-/+INFINITY: none): at a REFRESH, the bound its mask is
     * sized for (hnn_plan_refresh_bound); at the input of an approximated
     * activation's program, its interval (tir_range.c). Value bounds and
     * sampled values are kept within them. */
    const double *assume_lo, *assume_hi;
} hnn_precision_ring;

/* The CKKS error of every output of h (noise[k] for h->outputs[k]); false
 * when memory runs out. Costs O(n_outputs x n_nodes) for the bound, plus
 * 513 samples per live univariate node, plus 8..64 input samples of
 * O((n_outputs + 1) n_nodes) each (fewer for larger circuits). */
bool hnn_precision_hir(const hnn_hir *h, const hnn_precision_ring *ring, hnn_precision_noise *noise);

/* The t with  count x P(|X| > t) <= 2^-fail_log2  for X | E ~ N(0, var_plain
 * + var_key E), E ~ Exp(1): a slot's error, E = |s(zeta)|^2 / E|s(zeta)|^2.
 * var_key = 0 gives the Gaussian quantile, var_plain = 0 the Laplace one,
 * sqrt(var_key / 2) ln(count 2^fail_log2). Relative accuracy 1e-9. */
double hnn_precision_tail(double var_plain, double var_key, double count, double fail_log2);
/* The same when the key part is the average over key_slots independent
 * slots' factors (rotations mix slots in vector packing): E ~ Gamma of
 * shape key_slots and mean 1, key_slots clamped to [1, MAX_KEY_SLOTS] —
 * from the Laplace-like tail at 1 towards the Gaussian one. */
#define HNN_PRECISION_MAX_KEY_SLOTS 64
double hnn_precision_tail_mixed(double var_plain, double var_key, double key_slots, double count, double fail_log2);

typedef struct hnn_precision_result {
    double max_abs_error;  /* bound on |decrypted - true network| at the worst output */
    double precision_bits; /* -log2(max_abs_error) */
    double ckks_error;     /* max over outputs of the CKKS part (sampled derivatives) */
    double ckks_bound;     /* the same with derivative bounds over the whole input range */
    double approx_error;   /* max over outputs of the approximation part */
    uint32_t worst_output; /* the output with the largest total */
    /* The worst output's total, by source (they sum to max_abs_error; random
     * sources share the tail bound in proportion to their variances). */
    double by_source[HNN_PRECISION__COUNT];
    hnn_precision_source dominant;
    /* The fitted activation contributing most at the worst output, or NULL,
     * with that contribution and its output error per unit of max_error. */
    const hnn_tir_node *dominant_poly;
    double dominant_poly_error, dominant_poly_gain;
    double noise_rms;      /* sqrt(est_var_plain + est_var_key) at the worst output */
} hnn_precision_result;

/* Estimates the plan's output precision; false when memory runs out. */
bool hnn_precision_estimate(const hnn_plan *plan, hnn_precision_result *out);

/* When the model's hints ask `precision N bits` and r is below, reports
 *   error: the plan reaches an estimated X bits of output precision; N were asked
 * at the hint, with a note saying what would meet it (a higher degree for the
 * dominant activation, or a larger scale), and returns false. */
bool hnn_precision_check(const hnn_plan *plan, const hnn_precision_result *r, hnn_diag *diag);

#endif
