/*
 * Layer 1 — modular arithmetic on 64-bit words.
 *
 * Moduli are primes q with 2^19 < q < 2^61 (so 4q < 2^63 and lazy values in
 * [0, 4q) never overflow). Naming: a _lazy result lies in [0, 2q) unless the
 * comment says otherwise; every other result lies in [0, q).
 *
 * Barrett: ratio = floor(2^128 / q) as two words. For x < 2^128 the estimate
 * qhat = floor(x * ratio / 2^128) computed from the three high partial
 * products satisfies floor(x / q) - 2 <= qhat <= floor(x / q), so x - qhat * q
 * lies in [0, 3q) and two conditional subtractions finish the reduction.
 *
 * Shoup: for a fixed operand w < q, quot = floor(w * 2^64 / q). For any
 * x < 2^64, x * w - mulhi(x, quot) * q lies in [0, 2q): the lazy product.
 */
#ifndef HNNRT_MODARITH_H
#define HNNRT_MODARITH_H

#include <stdint.h>

#include "core/core.h"

typedef unsigned __int128 hnnrt_u128;

typedef struct hnnrt_modulus {
    uint64_t value;
    uint64_t ratio_hi, ratio_lo; /* floor(2^128 / value) */
    unsigned bits;
} hnnrt_modulus;

/* A fixed multiplicand with its Shoup quotient. */
typedef struct hnnrt_mod_shoup {
    uint64_t op;   /* < q */
    uint64_t quot; /* floor(op * 2^64 / q) */
} hnnrt_mod_shoup;

/* q MUST be in (2^19, 2^61) and odd. */
void hnnrt_mod_init(hnnrt_modulus *m, uint64_t q);

static inline uint64_t
hnnrt_mod_mulhi(uint64_t a, uint64_t b)
{
    return (uint64_t)(((hnnrt_u128)a * b) >> 64);
}

/* a, b < q. */
static inline uint64_t
hnnrt_mod_add(uint64_t a, uint64_t b, uint64_t q)
{
    uint64_t s = a + b;
    return s - (q & (uint64_t)-(int64_t)(s >= q));
}

/* a, b < q. */
static inline uint64_t
hnnrt_mod_sub(uint64_t a, uint64_t b, uint64_t q)
{
    uint64_t d = a - b;
    return d + (q & (uint64_t)-(int64_t)(a < b));
}

/* a < q. */
static inline uint64_t
hnnrt_mod_neg(uint64_t a, uint64_t q)
{
    return (q - a) & (uint64_t)-(int64_t)(a != 0);
}

/* x < 2^128 -> [0, q). See the Barrett bound above. */
static inline uint64_t
hnnrt_mod_reduce128(hnnrt_u128 x, const hnnrt_modulus *m)
{
    uint64_t x0 = (uint64_t)x, x1 = (uint64_t)(x >> 64);
    hnnrt_u128 t = (hnnrt_u128)x0 * m->ratio_hi + hnnrt_mod_mulhi(x0, m->ratio_lo);
    hnnrt_u128 u = (hnnrt_u128)x1 * m->ratio_lo + (uint64_t)t;
    uint64_t qhat = x1 * m->ratio_hi + (uint64_t)(t >> 64) + (uint64_t)(u >> 64);
    uint64_t r = x0 - qhat * m->value;
    r -= m->value & (uint64_t)-(int64_t)(r >= m->value);
    r -= m->value & (uint64_t)-(int64_t)(r >= m->value);
    return r;
}

/* x < 2^64 -> [0, q). */
static inline uint64_t
hnnrt_mod_reduce64(uint64_t x, const hnnrt_modulus *m)
{
    return hnnrt_mod_reduce128(x, m);
}

/* a * b mod q for a * b < 2^128. */
static inline uint64_t
hnnrt_mod_mul(uint64_t a, uint64_t b, const hnnrt_modulus *m)
{
    return hnnrt_mod_reduce128((hnnrt_u128)a * b, m);
}

/* w < q. */
static inline hnnrt_mod_shoup
hnnrt_mod_shoup_make(uint64_t w, uint64_t q)
{
    hnnrt_mod_shoup s = {w, (uint64_t)(((hnnrt_u128)w << 64) / q)};
    return s;
}

/* Any x < 2^64 -> [0, 2q). */
static inline uint64_t
hnnrt_mod_mul_shoup_lazy(uint64_t x, uint64_t w, uint64_t wquot, uint64_t q)
{
    return x * w - hnnrt_mod_mulhi(x, wquot) * q;
}

/* Any x < 2^64 -> [0, q). */
static inline uint64_t
hnnrt_mod_mul_shoup(uint64_t x, uint64_t w, uint64_t wquot, uint64_t q)
{
    uint64_t r = hnnrt_mod_mul_shoup_lazy(x, w, wquot, q);
    return r - (q & (uint64_t)-(int64_t)(r >= q));
}

/* A signed integer |v| < 2^63 -> [0, q). */
static inline uint64_t
hnnrt_mod_from_signed(int64_t v, const hnnrt_modulus *m)
{
    uint64_t a = hnnrt_mod_reduce64((uint64_t)(v < 0 ? -v : v), m);
    return v < 0 ? hnnrt_mod_neg(a, m->value) : a;
}

uint64_t hnnrt_mod_pow(uint64_t base, uint64_t e, const hnnrt_modulus *m);
/* a MUST be invertible mod q (q prime, a != 0 mod q). */
uint64_t hnnrt_mod_inv(uint64_t a, const hnnrt_modulus *m);

/* Deterministic Miller–Rabin for 64-bit n (the first 12 prime bases). */
int hnnrt_mod_is_prime(uint64_t n);
/* Largest-first primes q = 1 (mod 2n) of exactly bits bits, skipping those in
 * avoid[0..n_avoid) and those already written. Returns how many were found
 * (<= count). */
unsigned hnnrt_mod_ntt_primes(unsigned bits, uint64_t two_n, unsigned count, const uint64_t *avoid,
                              unsigned n_avoid, uint64_t *out);
/* A primitive 2n-th root of unity mod q (q = 1 mod 2n): the smallest such
 * root, so tables are reproducible. */
uint64_t hnnrt_mod_primitive_root(uint64_t two_n, const hnnrt_modulus *m);

#endif
