/*
 * Parameter selection: the smallest CKKS parameter set that holds a planned
 * circuit at the requested security level, honouring the model's pins.
 *
 * Input: what the plan needs (levels consumed, the scale, the output's
 * magnitude and the precision wanted, the rotation steps, the key-memory cap,
 * the pins). Output: an hnnrt_params_spec that hnnrt_context_new accepts
 * (without the insecure flag), or a diagnostic-ready explanation of why no
 * set fits ("ring 2^13 holds at most 4 levels at 128-bit security; the plan
 * needs 7: drop the ring pin or lower the degree of relu at line 9").
 *
 * Chain layout (the runtime's conventions, see runtime/README.md):
 *   q0: log2(output bound) + precision bits + guard, at least the scale
 *       bits + guard, at most 61 bits;
 *   q1..qL: scale primes of scale_bits each (one per level consumed);
 *   P: k special primes, each <= 61 bits, with log2(P) >= the widest
 *       key-switching digit (alpha data primes), digits dnum = ceil((L+1)/alpha);
 *   total bits of q0..qL and P <= hnnrt_security_max_log_qp(log N, security).
 * The ring is the smallest N = 2^12..2^16 that holds the total and has at
 * least `min_slots` slots. Among the (alpha, k) choices for that ring, the one
 * with the lowest estimated key-switching cost that fits the key-memory cap.
 */
#ifndef HNN_MIDDLE_PARAMS_SELECT_H
#define HNN_MIDDLE_PARAMS_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hnnrt.h"

typedef struct hnn_param_request {
    uint32_t levels;          /* rescales on the longest path between refreshes */
    uint32_t scale_bits;      /* log2 of the working scale, e.g. 40 */
    double output_bound;      /* max |value| the decrypted output can take */
    uint32_t precision_bits;  /* wanted bits after the binary point at the output (0: 12) */
    size_t min_slots;         /* slots the packing needs */
    uint32_t n_rotation_keys; /* distinct Galois elements the circuit uses */
    bool needs_relin;
    uint32_t security;        /* 128, 192, 256 */
    uint32_t pin_log_n;       /* 0: free */
    uint32_t pin_levels;      /* 0: free; else exactly this many scale primes */
    uint32_t pin_scale_bits;  /* 0: free (use scale_bits) */
    uint64_t key_memory_mb;   /* 0: no cap */
} hnn_param_request;

typedef struct hnn_param_choice {
    hnnrt_params_spec spec;
    unsigned log_qp_bits;     /* total bits of q0..qL and P */
    unsigned max_log_qp;      /* the HE Standard bound for the ring */
    double key_memory_mb;     /* relinearisation + rotation keys, in memory */
    char why[512];            /* on failure: what does not fit and what would */
} hnn_param_choice;

/* true and *out filled when a set exists; false with out->why explaining. */
bool hnn_params_select(const hnn_param_request *req, hnn_param_choice *out);

/* Key memory in bytes of one switching key for a spec (dnum x (L+1+k) x N x 2 words). */
double hnn_params_switching_key_bytes(const hnnrt_params_spec *spec);

#endif
