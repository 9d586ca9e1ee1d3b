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
    /* hnnrt_eval_linear's constants and pointer tables, grown to the
     * largest call so far (eval_linear.c). */
    void *lin_ws;
    size_t lin_ws_bytes;
    char last_error[HNNRT_MSG_CAP];
};

/* Checks shared by the evaluator's files (eval.c); each fills last_error. */
/* a is a ciphertext of ev's context with data. */
hnnrt_status hnnrt_ev_check_ct(hnnrt_evaluator *ev, const char *op, const hnnrt_ct *a);
/* out exists in ev's context and has room for size parts at level. */
hnnrt_status hnnrt_ev_prepare_out(hnnrt_evaluator *ev, const char *op, hnnrt_ct *out, unsigned size, unsigned level);
int hnnrt_ev_scales_equal(double a, double b);
/* c and scale finite, scale >= 0, |c| scale (|c| when scale = 0) below Q_level / 2. */
hnnrt_status hnnrt_ev_check_const(hnnrt_evaluator *ev, const char *op, unsigned level, double c, double scale);

struct hnnrt_hoisted {
    hnnrt_evaluator *ev;
    unsigned level;
    double scale;
    int ready;
    uint64_t *c0;     /* [L+1][n]: part 0 of the hoisted ciphertext */
    uint64_t *digits; /* [dnum][L+1+k][n] */
};

#endif
