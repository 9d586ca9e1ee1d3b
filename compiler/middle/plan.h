/*
 * The plan: a checked model taken through the middle end's passes to a
 * CKKS circuit with its parameters — what the back ends run and the report
 * describes.
 *
 * Passes, in order (the flat table in plan.c; --dump-after=NAME prints the IR
 * after one):
 *   tir-build     model -> tensor IR (activations fitted)
 *   tir-simplify  fold batch-norm and scalar chains, merge linear maps
 *   lower         tensor IR -> HE IR for the packing (ops without levels):
 *                 batch (lower.c), vector (lower_vector.c), or auto — both
 *                 planned, the cheaper for the batch hint by the cost model
 *   levels        depth of every node; operands of binary ops aligned
 *   params        the smallest parameter set that holds the depth
 *   scales        exact scales from the chain's primes; constants' encoding scales
 *   verify        the HE IR invariants (hir.h)
 *
 * Scale discipline: every ciphertext at level l has the canonical scale
 * D_l, with D_L = 2^scale_bits and D_(l-1) = D_l^2 / q_l, so a product of
 * two level-l values rescales exactly onto D_(l-1), and a product by a
 * constant encoded at D_(l-1) q_l / scale lands there too. (On chains long
 * enough for that recurrence to drift, D is anchored at the lowest level
 * the circuit reaches instead: plan_scales.c.) Aligning a value
 * from level l down to m < l costs a drop to m + 1 and a product by 1
 * encoded at D_m q_(m+1) / D_l, then a rescale.
 */
#ifndef HNN_MIDDLE_PLAN_H
#define HNN_MIDDLE_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "front/arena.h"
#include "front/diag.h"
#include "front/model.h"
#include "middle/hir.h"
#include "middle/params_select.h"
#include "middle/tir.h"

/* The key holder's link the planner assumes (refresh placement, the
 * client's input layout): a 20 ms round trip and 1 Gbit/s (8 ns per byte). */
#define HNN_PLAN_ROUND_TRIP_NS 20e6
#define HNN_PLAN_NS_PER_BYTE 8.0

typedef struct hnn_plan_options {
    const char *dump_after;   /* pass name, or NULL */
    FILE *dump_to;            /* default stdout */
    bool verify_each;         /* run the verifiers after every pass */
    bool no_precision_check;  /* estimate precision but do not fail on the hint */
    bool no_client_layout;    /* vector packing: the input as one replicated
                                 ciphertext, never laid out for its reader */
} hnn_plan_options;

typedef struct hnn_plan {
    const hnn_model *model;
    hnn_tir *tir;
    hnn_hir *hir;
    uint32_t depth;                       /* levels the circuit consumes */
    uint32_t scale_bits;
    hnn_param_choice params;
    uint64_t primes[HNNRT_MAX_PRIMES];    /* q0..qL, then P */
    unsigned n_data_primes, n_special_primes;
    double *level_scale;                  /* canonical scale D_l, l = 0..L */
    size_t slots;
    uint32_t batch;                       /* samples per evaluation (batch packing; 1 in vector) */
    /* Rotation keys: the distinct ROTATE steps of the circuit, ascending
     * (left rotations, 0 < step < slots), one Galois key each, plus one for
     * conjugation when the circuit conjugates. */
    int32_t *rotation_steps;
    uint32_t n_rotation_steps;
    bool conjugates;
    /* Approximated activations whose interval the sound bounds leave (the
     * warnings of hnn_tir_check_intervals). */
    uint32_t uncovered_intervals;
    double galois_keys_mb;                /* their memory at the chosen parameters */
    /* Ciphertexts per evaluation: in vector packing hir->inputs/outputs
     * list one node per value (value k in slot k), all the same ciphertext. */
    uint32_t ciphertexts_in, ciphertexts_out;
    /* Client-aided refreshes (hints refresh client): the tensor-IR nodes
     * after which the key holder refreshes, the ciphertexts per evaluation,
     * and the statistical hiding of the masks, in bits. */
    uint32_t *refresh_points;
    uint32_t n_refresh_points;
    uint64_t refresh_ciphertexts;
    uint32_t refresh_hiding_bits;
    /* Vector packing: the client may lay the input out for the map that
     * reads it (hnn_hir.in_layout); false with no_client_layout. */
    bool client_layout;
    /* The output precision estimate (precision.h), set by hnn_plan_build. */
    struct hnn_precision_result *precision;
} hnn_plan;

/* Runs every pass; NULL after reporting errors to diag. */
hnn_plan *hnn_plan_build(const hnn_model *model, const hnn_plan_options *opt, hnn_arena *arena, hnn_diag *diag);

/* The passes, for tests and tools. */
hnn_hir *hnn_plan_lower(const hnn_tir *tir, hnn_hir_packing packing, hnn_arena *arena);
/* Vector packing (lower_vector.c): one sample per ciphertext, replicated
 * with the period stored in the IR; matrix-vector products by diagonals
 * taken a block of rows at a time, with baby-step giant-step and a fold,
 * each layer's block and split the cheapest by the cost model. fewer_keys
 * (a key-memory cap): rotations composed from power-of-two steps, at most
 * log2 of the widest period keys for the whole circuit. in_slots (0: none):
 * the slots, a power of two, over which the client may lay the input out
 * for the map that reads it (hir->in_layout), when that is cheaper. */
hnn_hir *hnn_plan_lower_vector(const hnn_tir *tir, bool fewer_keys, uint32_t in_slots, hnn_arena *arena);
/* Lazy relinearisation (plan_relin.c): sums of two ciphertext products, and
 * linear combinations of products where the cost model at ring 2^log_n finds
 * it cheaper, relinearised once; returns the sums and combinations rewritten. */
uint32_t hnn_plan_lazy_relin(hnn_hir **hir, unsigned log_n, hnn_arena *arena);
/* Inserts level alignments; returns the depth (levels consumed). */
uint32_t hnn_plan_levels(hnn_hir **hir, hnn_arena *arena);
/* Assigns exact scales and constant encoding scales from the primes. */
void hnn_plan_scales(hnn_hir *hir, const uint64_t *primes, uint32_t scale_bits, double *level_scale);

/* Refresh points (refresh client): a REFRESH after every value the
 * tensor-IR nodes flagged in `after` hand to other layers (plan_refresh.c). */
hnn_hir *hnn_plan_insert_refresh(const hnn_hir *hir, const bool *after, uint32_t n_tir, hnn_arena *arena);
/* Sets each REFRESH's mask bound (its `c`) after the scales pass; returns the
 * smallest number of hiding bits among them (40 when there is none). */
uint32_t hnn_plan_refresh_masks(hnn_plan *plan, uint32_t precision_bits);
/* The bound on |values| the REFRESH nodes of tensor-IR node `tir_node`
 * carry, in the units of the HE IR (a fitted activation's change of
 * variable may be folded into the AFFINE before it); at least 1e-3. */
double hnn_plan_refresh_bound(const hnn_plan *plan, uint32_t tir_node);

/* Estimated server milliseconds to evaluate `samples` samples with the plan
 * (default cost table): the evaluations the packing needs (batch: one per
 * `slots` samples; vector: one per sample) times the circuit's ops. The
 * client's encryption and decryption are not counted. What `auto`
 * compares, for the model's batch hint (without one, for a full batch of
 * the batch packing's slots: the sample count is free, throughput counts). */
double hnn_plan_estimate_ms(const hnn_plan *plan, uint64_t samples);
/* Estimated nanoseconds of one node of the plan's circuit (default cost
 * table, its parameters): what the estimate and the report add up. */
double hnn_plan_node_ns(const hnn_plan *plan, const hnn_hir_node *n);

/* The pass names, NULL-terminated. */
extern const char *const hnn_plan_pass_names[];

#endif
