/*
 * Layer 5 — randomness. A PRNG is ChaCha20 (libsodium, IETF variant) keyed by
 * 32 bytes: from randombytes_buf for real use, from a caller's seed only for
 * the seeded expansion of public uniform polynomials and for tests.
 *
 * Samplers that touch secret values (ternary, Gaussian) do not branch on the
 * values they produce; rejection sampling branches only on discarded bytes.
 */
#ifndef HNNRT_SAMPLE_H
#define HNNRT_SAMPLE_H

#include "params/params.h"

#define HNNRT_SEED_BYTES 32
#define HNNRT_PRNG_BUF 4096

typedef struct hnnrt_prng {
    uint8_t key[HNNRT_SEED_BYTES];
    uint8_t nonce[12];
    uint32_t block;   /* next ChaCha20 block counter */
    size_t pos;       /* next unread byte of buf */
    uint8_t buf[HNNRT_PRNG_BUF];
} hnnrt_prng;

/* A stream keyed from the system CSPRNG. */
hnnrt_status hnnrt_prng_init_random(hnnrt_prng *g);
/* A stream that follows from seed and a domain tag (distinct tags give
 * independent streams from one seed). */
void hnnrt_prng_init_seeded(hnnrt_prng *g, const uint8_t seed[HNNRT_SEED_BYTES], uint64_t domain);
void hnnrt_prng_bytes(hnnrt_prng *g, void *out, size_t len);
uint64_t hnnrt_prng_u64(hnnrt_prng *g);
uint8_t hnnrt_prng_byte(hnnrt_prng *g);
void hnnrt_prng_wipe(hnnrt_prng *g);

/* Uniform polynomial over basis b (any form: uniform is uniform in both). */
void hnnrt_sample_uniform(hnnrt_prng *g, const hnnrt_rns_basis *b, size_t n, uint64_t *out);
/* Uniform over basis b from a seed alone: the a-part of keys and symmetric
 * ciphertexts, which can travel as the seed. Limb k depends only on the
 * seed and prime index idx[k], so any sub-basis expands consistently. */
void hnnrt_sample_uniform_seeded(const uint8_t seed[HNNRT_SEED_BYTES], const hnnrt_rns_basis *b,
                                 const unsigned *prime_index, size_t n, int threads, uint64_t *out);
/* Uniform ternary coefficients in {-1, 0, 1}. */
void hnnrt_sample_ternary(hnnrt_prng *g, size_t n, int32_t *out);
/* Ternary with exactly h non-zero coefficients, each +-1 (h <= n). */
void hnnrt_sample_ternary_sparse(hnnrt_prng *g, size_t n, unsigned h, int32_t *out);
/* Discrete Gaussian, sigma 3.2, |x| <= HNNRT_GAUSS_BOUND (cumulative table in ctx). */
void hnnrt_sample_gaussian(hnnrt_prng *g, const hnnrt_context *ctx, size_t n, int32_t *out);

#endif
