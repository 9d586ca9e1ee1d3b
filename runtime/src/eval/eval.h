/*
 * Layer 8 — the evaluator: arithmetic on ciphertexts with level and scale
 * checks, rescaling, relinearisation, rotations (plain and hoisted) and
 * conjugation. The evaluator owns scratch sized for the top level, so no
 * operation allocates once its output ciphertext has room.
 */
#ifndef HNNRT_EVAL_H
#define HNNRT_EVAL_H

#include "keys/keys.h"

/* Relative scale difference under which two scales count as equal. */
#define HNNRT_SCALE_TOLERANCE 0x1p-40

struct hnnrt_evaluator {
    const hnnrt_context *ctx;
    const hnnrt_relin_key *rk;
    const hnnrt_galois_keys *gk;
    hnnrt_ks_scratch ks;
    uint64_t *t0, *t1, *t2; /* [L+1][n] each */
    char last_error[HNNRT_MSG_CAP];
};

struct hnnrt_hoisted {
    hnnrt_evaluator *ev;
    unsigned level;
    double scale;
    int ready;
    uint64_t *c0;     /* [L+1][n]: part 0 of the hoisted ciphertext */
    uint64_t *digits; /* [dnum][L+1+k][n] */
};

#endif
