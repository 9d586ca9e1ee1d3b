/*
 * Layer 7 — keys, hybrid key switching, encryption and decryption.
 *
 * Hybrid key switching (Han–Ki 2020; Kim–Polyakov–Zucca 2021): a level-l
 * polynomial d is cut into digits over the data primes, each digit is
 * extended (ModUp) to Q_l ∪ P, multiplied by the key's digit and summed, and
 * the sum is divided by P (ModDown). A switching key from s' to s has, for
 * each digit j over the full chain,
 *     b_j = -a_j s + e_j + P [i in digit j] s'   (mod each prime i),
 * so that sum_j ModUp(d)_j (b_j + a_j s) = P d s' + small (mod Q_l P).
 * ModUp is approximate (adds u * Q_digit); the indicator [i in digit j]
 * vanishes on every other prime, so that term cancels (see DESIGN notes in
 * runtime/README.md).
 */
#ifndef HNNRT_KEYS_H
#define HNNRT_KEYS_H

#include "encode/encode.h"

/* A switching key: dnum digits, each (b, a) over every prime of the chain
 * (index order: q0..qL, p0..p(k-1)), NTT form. */
typedef struct hnnrt_swk {
    uint64_t *b; /* [dnum][n_primes][n] */
    uint64_t *a; /* [dnum][n_primes][n], expanded from seed */
    uint8_t seed[HNNRT_SEED_BYTES];
} hnnrt_swk;

struct hnnrt_secret_key {
    const hnnrt_context *ctx;
    unsigned hamming_weight; /* 0: uniform ternary */
    int32_t *coeffs;         /* [n] in {-1, 0, 1} */
    uint64_t *ntt;           /* [n_primes][n] */
};

struct hnnrt_public_key {
    const hnnrt_context *ctx;
    uint64_t *b; /* [n_primes][n]: -a s + e */
    uint64_t *a; /* [n_primes][n], from seed */
    uint8_t seed[HNNRT_SEED_BYTES];
};

struct hnnrt_relin_key {
    const hnnrt_context *ctx;
    hnnrt_swk key;
};

typedef struct hnnrt_galois_entry {
    uint64_t element;
    hnnrt_swk key;
    uint32_t *perm; /* [n]: NTT-domain index map of the automorphism */
} hnnrt_galois_entry;

struct hnnrt_galois_keys {
    const hnnrt_context *ctx;
    size_t count, cap;
    hnnrt_galois_entry *entries;
};

struct hnnrt_keygen {
    const hnnrt_context *ctx;
    hnnrt_prng prng;
    char last_error[HNNRT_MSG_CAP];
};

/* Key-switching scratch sized for the top level; owned by an evaluator or an encryptor. */
typedef struct hnnrt_ks_scratch {
    uint64_t *coeff;   /* [L+1][n]: d in coefficient form, then scaled per digit */
    uint64_t *ext0;    /* [L+1+k][n] */
    uint64_t *ext1;    /* [L+1+k][n] */
    uint64_t *pbuf;    /* [k][n] */
    uint64_t *conv;    /* [L+1][n] */
    uint64_t *thread;  /* [threads][5 n]: per-thread row + 128-bit accumulators */
    int threads;
} hnnrt_ks_scratch;

hnnrt_status hnnrt_ks_scratch_init(hnnrt_ks_scratch *w, const hnnrt_context *ctx);
void hnnrt_ks_scratch_release(hnnrt_ks_scratch *w, const hnnrt_context *ctx);

/* Recomputes sk->ntt from sk->coeffs. */
hnnrt_status hnnrt_secret_key_refresh_ntt(hnnrt_secret_key *sk);
/* An empty public key with its arrays; expand_a fills a from pk->seed. */
hnnrt_status hnnrt_public_key_alloc(const hnnrt_context *ctx, hnnrt_public_key **out);
void hnnrt_public_key_expand_a(hnnrt_public_key *pk);

/* Size of one switching key's two arrays, in words. */
size_t hnnrt_swk_words(const hnnrt_context *ctx);
hnnrt_status hnnrt_swk_alloc(hnnrt_swk *k, const hnnrt_context *ctx);
void hnnrt_swk_release(hnnrt_swk *k, const hnnrt_context *ctx);
/* Expands k->a from k->seed (every digit, every prime). */
void hnnrt_swk_expand_a(hnnrt_swk *k, const hnnrt_context *ctx);
/* k = a switching key from s_from (NTT form over every prime) to sk. */
hnnrt_status hnnrt_swk_generate(hnnrt_keygen *kg, const hnnrt_secret_key *sk, const uint64_t *s_from,
                                hnnrt_swk *k);

/*
 * (out0, out1) over Q_l, NTT form, with out0 + out1 s = d s' + small, where
 * d is a level-l polynomial in NTT form and key switches s' to s. When perm
 * is given, d is replaced by its image under that automorphism. out0/out1
 * MUST NOT alias d. Uses w entirely.
 */
void hnnrt_keyswitch(const hnnrt_context *ctx, hnnrt_ks_scratch *w, const hnnrt_swk *key, unsigned level,
                     const uint64_t *d, uint64_t *out0, uint64_t *out1);

/* Decomposition of d for hoisting: digits[j] over Q_l ∪ P (limb order q0..ql,
 * p0..), NTT form, j < hnnrt_ctx_digits(ctx, level). */
void hnnrt_ks_decompose(const hnnrt_context *ctx, hnnrt_ks_scratch *w, unsigned level, const uint64_t *d,
                        uint64_t *digits);
/* ext0/ext1 of w = sum_j perm(digits[j]) * key_j; perm MAY be NULL (identity). */
void hnnrt_ks_inner(const hnnrt_context *ctx, hnnrt_ks_scratch *w, const hnnrt_swk *key, unsigned level,
                    const uint64_t *digits, const uint32_t *perm);
/* x over Q_l ∪ P (NTT form) -> round-ish(x / P) over Q_l, NTT form, into out. */
void hnnrt_ks_moddown(const hnnrt_context *ctx, hnnrt_ks_scratch *w, unsigned level, const uint64_t *x,
                      uint64_t *out);

/* Index map of X -> X^g in NTT order: out[i] = in[perm[i]]. */
void hnnrt_galois_perm(const hnnrt_context *ctx, uint64_t g, uint32_t *perm);
const hnnrt_galois_entry *hnnrt_galois_find(const hnnrt_galois_keys *gk, uint64_t g);
/* An empty key set, and a new entry for g with its key arrays and permutation
 * allocated (contents left to the caller). */
hnnrt_status hnnrt_galois_keys_alloc(const hnnrt_context *ctx, hnnrt_galois_keys **out);
hnnrt_status hnnrt_galois_keys_append(hnnrt_galois_keys *gk, uint64_t g, hnnrt_galois_entry **entry);

struct hnnrt_encryptor {
    const hnnrt_context *ctx;
    const hnnrt_public_key *pk;
    const hnnrt_secret_key *sk;
    hnnrt_prng prng;
    hnnrt_ks_scratch ks;  /* ModDown after encrypting over Q_l P */
    int32_t *small;       /* [n] */
    uint64_t *u, *e;      /* [L+1+k][n] each */
    char last_error[HNNRT_MSG_CAP];
};

struct hnnrt_decryptor {
    const hnnrt_context *ctx;
    const hnnrt_secret_key *sk;
    uint64_t *s2;  /* [L+1][n]: s^2, for 3-part ciphertexts */
    char last_error[HNNRT_MSG_CAP];
};

#endif
