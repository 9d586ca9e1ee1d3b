/*
 * Layer 4 — the validated parameter set (the context) and the plaintext and
 * ciphertext objects that live in it.
 *
 * Prime order: index 0..L are the data primes q0..qL, L+1..L+k the special
 * primes p0..p(k-1). A level l uses q0..ql; key switching works over
 * Q_l ∪ P. Digits: the data primes are cut into dnum digits of alpha
 * consecutive primes (the last may be shorter); at level l only the digits
 * that intersect q0..ql are used, truncated to ql.
 *
 * Context invariants (checked by hnnrt_context_new, relied on everywhere):
 * 12 <= log_n <= 16 (10 with the insecure flag); all primes distinct, in
 * (2^19, 2^61), = 1 mod 2n; 1 <= k; 1 <= dnum <= L + 1; the special
 * modulus P is at least as large as every digit's modulus when secure.
 */
#ifndef HNNRT_PARAMS_H
#define HNNRT_PARAMS_H

#include "poly/poly.h"

#define HNNRT_GAUSS_BOUND 19   /* ceil(6 sigma), sigma = 3.2 */

struct hnnrt_context {
    hnnrt_params_spec spec;
    unsigned log_n;
    size_t n;
    unsigned max_level;        /* L */
    unsigned n_special;        /* k */
    unsigned n_primes;         /* L + 1 + k */
    unsigned dnum, alpha;
    hnnrt_security security;   /* 0 when built with the insecure flag beyond the table */
    double log_qp;
    unsigned total_bits;
    uint64_t fingerprint;
    int threads;
    hnnrt_alloc_counter *counter;
    const hnnrt_ntt_kernels *kern;
    hnnrt_ntt_table ntt[HNNRT_MAX_PRIMES];

    /* rescale_inv[l * (L+1) + i] = q_l^-1 mod q_i, i < l. */
    hnnrt_mod_shoup *rescale_inv;
    /* ModDown: P -> data primes, P^-1 mod q_i, P mod q_i. */
    hnnrt_baseconv moddown;
    hnnrt_mod_shoup p_inv[HNNRT_MAX_PRIMES];
    uint64_t p_mod[HNNRT_MAX_PRIMES];
    uint64_t p_half_mod[HNNRT_MAX_PRIMES]; /* floor(P/2) mod prime i, every prime */
    double p_inv_double[HNNRT_MAX_PRIMES]; /* 1 / p_t for the special primes */
    /* ModUp of digit j at level l: modup[l * dnum + j] converts the digit's
     * primes (truncated to q_l) to the other primes of Q_l followed by P. */
    hnnrt_baseconv *modup;
    /* Discrete Gaussian: cdt[k] = floor(2^63 * Pr[|X| <= k]), k <= bound. */
    uint64_t gauss_cdt[HNNRT_GAUSS_BOUND + 1];
};

/* Bases of a level. */
void hnnrt_ctx_basis_q(const hnnrt_context *ctx, unsigned level, hnnrt_rns_basis *b);   /* q0..ql */
void hnnrt_ctx_basis_qp(const hnnrt_context *ctx, unsigned level, hnnrt_rns_basis *b);  /* q0..ql, P */
void hnnrt_ctx_basis_p(const hnnrt_context *ctx, hnnrt_rns_basis *b);                   /* P */
void hnnrt_ctx_env(const hnnrt_context *ctx, hnnrt_poly_env *e);
/* Digits in use at a level, and the primes [first, first + count) of digit j. */
unsigned hnnrt_ctx_digits(const hnnrt_context *ctx, unsigned level);
void hnnrt_ctx_digit_range(const hnnrt_context *ctx, unsigned level, unsigned j, unsigned *first, unsigned *count);

struct hnnrt_pt {
    const hnnrt_context *ctx;
    unsigned level;
    double scale;
    unsigned cap_limbs;
    uint64_t *data; /* level + 1 limbs, NTT form */
};

struct hnnrt_ct {
    const hnnrt_context *ctx;
    unsigned size;  /* parts: 2, or 3 after mul_ct */
    unsigned level;
    double scale;
    unsigned cap_parts, cap_limbs;
    uint64_t *data; /* part p, limb i at data + (p * cap_limbs + i) * n; NTT form */
};

static inline uint64_t *
hnnrt_ct_part(const hnnrt_ct *ct, unsigned p)
{
    return ct->data + (size_t)p * ct->cap_limbs * ct->ctx->n;
}

/* Grows ct to hold size parts at level, keeping its current content; no
 * allocation when it already has room. Does not change ct->size/level. */
hnnrt_status hnnrt_ct_ensure(hnnrt_ct *ct, unsigned size, unsigned level);
hnnrt_status hnnrt_pt_ensure(hnnrt_pt *pt, unsigned level);

#endif
