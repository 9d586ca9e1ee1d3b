/*
 * Layer 3 — RNS polynomials and fast basis conversion.
 *
 * A polynomial over a basis of `count` primes is count limbs of n words,
 * limb k reduced mod basis->tab[k]->mod. Every function here works limb by
 * limb, in parallel over limbs with `threads` OpenMP threads; each limb is
 * computed by exactly one thread in a fixed way, so results do not depend on
 * the thread count. Inputs and outputs are in [0, q) unless stated; out MAY
 * alias any input.
 */
#ifndef HNNRT_POLY_H
#define HNNRT_POLY_H

#include "ntt/ntt.h"

typedef struct hnnrt_rns_basis {
    unsigned count;
    const hnnrt_ntt_table *tab[HNNRT_MAX_PRIMES];
} hnnrt_rns_basis;

typedef struct hnnrt_poly_env {
    size_t n;
    int threads;
    const hnnrt_ntt_kernels *kern;
} hnnrt_poly_env;

void hnnrt_poly_add(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x,
                    const uint64_t *y);
void hnnrt_poly_sub(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x,
                    const uint64_t *y);
void hnnrt_poly_neg(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x);
/* Pointwise product (NTT form). */
void hnnrt_poly_mul(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x,
                    const uint64_t *y);
/* out += x * y pointwise. */
void hnnrt_poly_mul_acc(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x,
                        const uint64_t *y);
/* Limb k multiplied by c[k] (c[k] < q_k). */
void hnnrt_poly_mul_scalar(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x,
                           const uint64_t *c);
/* Limb k plus c[k] in every coefficient (adds the constant c in NTT form). */
void hnnrt_poly_add_scalar(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const uint64_t *x,
                           const uint64_t *c);
void hnnrt_poly_ntt_fwd(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *x);
void hnnrt_poly_ntt_inv(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *x);

/*
 * Linear combinations by constants, the kernel of hnnrt_eval_linear:
 *   out_j = sum_{t = row_start[j]}^{row_start[j+1] - 1} C_t * x_{col[t]}
 * on every limb of basis b and every part. Products are accumulated
 * unreduced (128-bit sums, or 52-bit halves in AVX-512 IFMA lanes) and each
 * output coefficient is reduced once, so the result is the same residue
 * whatever the kernel: bit-identical to multiplying each input by its
 * constant and adding the products mod q. The coefficients are cut in
 * blocks small enough that the block of every input stays in the L2 cache
 * while all the rows are accumulated (a sparse matrix product, GEMM-style);
 * threads take (limb, part, block) tasks, so nothing is shared but reads.
 * Outputs MUST NOT alias inputs.
 */
typedef struct hnnrt_poly_linear {
    unsigned parts;
    size_t n_in, n_out;
    const size_t *row_start;    /* [n_out + 1] */
    const uint32_t *col;        /* [nnz]: the input of term t */
    const uint64_t *w;          /* [b->count][nnz]: C_t mod the limb's prime */
    /* [nnz]: |C_t| < 2^52, bit 63 set when C_t < 0; NULL when some |C_t| is
     * larger. Lets the IFMA kernel take primes of 50 bits and more. */
    const uint64_t *mag;
    /* [n_out]: 1 when row j + 1 has row j's columns, so the kernels read
     * each input once for both (NULL: no row does). */
    const uint8_t *same_next;
    const uint64_t *const *x;   /* [parts][n_in]: limb 0 of each input's part; limb k at + k n */
    uint64_t *const *out;       /* [parts][n_out], the same layout */
} hnnrt_poly_linear;

void hnnrt_poly_linear_apply(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, const hnnrt_poly_linear *lin);

/* Signed small coefficients (|c| < 2^31, e.g. a ternary secret or Gaussian
 * error) written into every limb, coefficient form. */
void hnnrt_poly_from_small(const hnnrt_poly_env *e, const hnnrt_rns_basis *b, uint64_t *out, const int32_t *c);

/*
 * Fast basis conversion (Bajard et al., HPS 2019): from basis B to basis T,
 *   conv(x)_t = sum_i [x_i * (B/b_i)^-1]_{b_i} * (B/b_i)  mod t,
 * which equals x + u * B for some 0 <= u < |B| (an approximate conversion:
 * key switching tolerates the u * B term, see keys/keyswitch.c).
 */
typedef struct hnnrt_baseconv {
    hnnrt_rns_basis from, to;
    hnnrt_mod_shoup *hat_inv; /* [from.count]: (B/b_i)^-1 mod b_i */
    uint64_t *hat_mod;        /* [to.count][from.count]: (B/b_i) mod t_j */
    uint64_t *half_from;      /* [from.count]: floor(B/2) mod b_i */
    uint64_t *half_to;        /* [to.count]: floor(B/2) mod t_j */
} hnnrt_baseconv;

hnnrt_status hnnrt_baseconv_init(hnnrt_baseconv *bc, const hnnrt_rns_basis *from, const hnnrt_rns_basis *to,
                                 hnnrt_alloc_counter *counter);
void hnnrt_baseconv_release(hnnrt_baseconv *bc, hnnrt_alloc_counter *counter);
/* in: from.count limbs in coefficient form; out: the first n_to (<= to.count)
 * target limbs; tmp: from.count limbs of scratch. out MUST NOT alias in or tmp. */
void hnnrt_baseconv_apply(const hnnrt_poly_env *e, const hnnrt_baseconv *bc, unsigned n_to, const uint64_t *in,
                          uint64_t *out, uint64_t *tmp);
/* First step alone: tmp_i = in_i * (B/b_i)^-1 mod b_i, limb i of from. */
void hnnrt_baseconv_scale(const hnnrt_poly_env *e, const hnnrt_baseconv *bc, const uint64_t *in, uint64_t *tmp);
/* Second step for one target row t, single-threaded: out = sum_i tmp_i * (B/b_i) mod t. */
void hnnrt_baseconv_row(size_t n, const hnnrt_baseconv *bc, unsigned t, const uint64_t *tmp, uint64_t *out);

#endif
