/*
 * Parameter selection: the smallest CKKS parameter set that holds a planned
 * circuit at the requested security level, honouring the model's pins.
 *
 * Input: what the plan needs (levels consumed, the scale, the output's
 * magnitude and the precision wanted, the rotation keys, the key-memory cap,
 * the pins). Output: an hnnrt_params_spec that hnnrt_context_new accepts
 * (without the insecure flag; every returned spec has been built once to
 * confirm it), or a diagnostic-ready explanation of why no set fits ("ring
 * 2^13 holds at most 3 levels of 40-bit scale primes at 128-bit security;
 * the plan needs 7"), to which the caller adds the model's location.
 *
 * Chain layout (the runtime's conventions, see runtime/README.md and
 * docs/design/parameters.md):
 *   base: q0 of ceil(log2 B) + max(scale bits, precision bits + log N + 1)
 *       + 2 bits, B the output bound: the output is decoded at the bottom
 *       level from Delta*y + e, which must stay below q0/2 (one bit), with a
 *       bit of headroom; the max(...) holds Delta (the working scale) and
 *       the decoding noise under the precision target. Above 61 bits the
 *       base takes two primes (base_primes = 2: the output is then decoded
 *       at level 1, not 0); above 122 bits selection fails;
 *   q1..qL: scale primes of scale_bits each (one per level consumed);
 *   P: k <= 3 special primes, each <= 60 bits, with log2(P) >= the widest
 *       key-switching digit (alpha data primes), digits dnum = ceil((L+1)/alpha);
 *   total bits of the data primes and P <= hnnrt_security_max_log_qp(log N,
 *       security); every prime 20..61 bits and > log N + 1.
 * The ring is the smallest N = 2^12..2^16 that holds the total and has at
 * least `min_slots` slots. Among the (alpha, k) choices for that ring, the one
 * with the lowest estimated key-switching cost (hnn_cost_ks_ns of RELIN at
 * the top level) whose keys fit the key-memory cap; ties go to the smaller
 * keys, then to the fewer total bits.
 */
#ifndef HNN_MIDDLE_PARAMS_SELECT_H
#define HNN_MIDDLE_PARAMS_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hnnrt.h"
#include "middle/cost.h"

typedef struct hnn_param_request {
    uint32_t levels;          /* rescales on the longest path between refreshes */
    uint32_t scale_bits;      /* log2 of the working scale, e.g. 40 (0: 40) */
    double output_bound;      /* max |value| the decrypted output can take (below 1 counts as 1) */
    uint32_t precision_bits;  /* wanted bits after the binary point at the output (0: 12) */
    size_t min_slots;         /* slots the packing needs */
    uint32_t n_rotation_keys; /* distinct Galois elements the circuit uses */
    bool needs_relin;
    uint32_t security;        /* 128, 192, 256 (0: 128) */
    uint32_t pin_log_n;       /* 0: free */
    uint32_t pin_levels;      /* 0: free; else exactly this many scale primes */
    uint32_t pin_scale_bits;  /* 0: free (use scale_bits) */
    uint64_t key_memory_mb;   /* 0: no cap; MiB (2^20 bytes) of relinearisation + rotation keys */
    const hnn_cost_table *costs; /* ranks the digit choices; NULL: hnn_cost_default() */
} hnn_param_request;

typedef struct hnn_param_choice {
    hnnrt_params_spec spec;
    unsigned log_qp_bits;     /* total bits of q0..qL and P */
    unsigned max_log_qp;      /* the HE Standard bound for the ring */
    double key_memory_mb;     /* relinearisation + rotation keys, in memory (MiB) */
    char why[512];            /* on failure: what does not fit and what would */
    unsigned base_primes;     /* primes below the scale primes: 1, or 2 when q0 would exceed 61 bits */
    unsigned base_bits;       /* bits the base needs (the sum of the base primes) */
    unsigned alpha;           /* data primes per key-switching digit */
    unsigned max_levels;      /* the most scale primes this ring holds for the request */
    double ks_cost_ns;        /* estimated relinearisation at the top level */
} hnn_param_choice;

/* true and *out filled when a set exists; false with out->why explaining. */
bool hnn_params_select(const hnn_param_request *req, hnn_param_choice *out);

/* The most scale primes ring 2^log_n holds for req at its security (its
 * scale, output bound, precision and key-memory cap; its levels and level pin
 * ignored); -1 when not even the base fits. The level budget a refresh
 * planner works against. */
int hnn_params_max_levels(const hnn_param_request *req, unsigned log_n);

/* Bits the base modulus needs at ring 2^log_n (the layout above). */
unsigned hnn_params_base_bits(const hnn_param_request *req, unsigned log_n);

/* Key memory in bytes of one switching key for a spec (dnum x (L+1+k) x N x 2 words). */
double hnn_params_switching_key_bytes(const hnnrt_params_spec *spec);

#endif
