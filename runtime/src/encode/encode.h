/*
 * Layer 6 — the CKKS encoder: the canonical embedding by the special FFT
 * (Cheon et al. 2017, HEAAN's variant), N/2 complex slots, slot j at the root
 * zeta^(5^j) with zeta = exp(i pi / N).
 */
#ifndef HNNRT_ENCODE_H
#define HNNRT_ENCODE_H

#include <complex.h>

#include "sample/sample.h"

struct hnnrt_encoder {
    const hnnrt_context *ctx;
    size_t slots;
    double complex *ksi;   /* [2N + 1]: exp(2 pi i k / 2N) */
    uint64_t *rot_group;   /* [N/2]: 5^j mod 2N */
    double complex *work;  /* [N/2] */
    /* Garner: garner_inv[i * (L+1) + j] = q_j^-1 mod q_i, j < i. */
    hnnrt_mod_shoup *garner_inv;
    /* Mixed-radix digits of floor(Q_l / 2) for each level: half[l * (L+1) + i]. */
    uint64_t *half;
    uint64_t *digits;      /* [L+1] scratch for one coefficient */
    uint64_t *coeffs;      /* [L+1][n] scratch: a plaintext in coefficient form */
    char last_error[HNNRT_MSG_CAP];
};

/* In-place special FFT of n values (decode direction) and its inverse (encode
 * direction, including the 1/n factor). n is a power of two <= N/2. */
void hnnrt_encode_fft(const hnnrt_encoder *enc, double complex *v, size_t n);
void hnnrt_encode_ifft(const hnnrt_encoder *enc, double complex *v, size_t n);

/* Residue of round(x) mod q for any finite |x| (exact, also beyond 2^63). */
uint64_t hnnrt_encode_reduce_double(double x, const hnnrt_modulus *m);

/* Signed value of the coefficient at position j of a level-l polynomial in
 * coefficient form (limbs of n words), by exact mixed-radix CRT. */
long double hnnrt_encode_crt_coeff(hnnrt_encoder *enc, const uint64_t *poly, unsigned level, size_t j);

#endif
