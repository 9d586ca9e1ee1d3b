#include <string.h>

#include "sample/sample.h"

/* Rejection sampling of x < q from bits(q)-bit words: accepted with
 * probability q / 2^bits > 1/2. */
static void
uniform_limb(hnnrt_prng *g, const hnnrt_modulus *m, size_t n, uint64_t *out)
{
    const uint64_t mask = m->bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << m->bits) - 1);
    for (size_t j = 0; j < n;) {
        uint64_t v = hnnrt_prng_u64(g) & mask;
        if (v < m->value)
            out[j++] = v;
    }
}

void
hnnrt_sample_uniform(hnnrt_prng *g, const hnnrt_rns_basis *b, size_t n, uint64_t *out)
{
    for (unsigned k = 0; k < b->count; k++)
        uniform_limb(g, &b->tab[k]->mod, n, out + k * n);
}

void
hnnrt_sample_uniform_seeded(const uint8_t seed[HNNRT_SEED_BYTES], const hnnrt_rns_basis *b,
                            const unsigned *prime_index, size_t n, int threads, uint64_t *out)
{
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && b->count > 1)
    for (unsigned k = 0; k < b->count; k++) {
        hnnrt_prng g;
        hnnrt_prng_init_seeded(&g, seed, 0x100u + prime_index[k]);
        uniform_limb(&g, &b->tab[k]->mod, n, out + k * n);
        hnnrt_prng_wipe(&g);
    }
}

/* A byte below 255 is uniform mod 3 (255 = 3 * 85). */
static int32_t
ternary_one(hnnrt_prng *g)
{
    uint8_t v;
    do
        v = hnnrt_prng_byte(g);
    while (v == 255);
    return (int32_t)(v % 3) - 1;
}

void
hnnrt_sample_ternary(hnnrt_prng *g, size_t n, int32_t *out)
{
    for (size_t j = 0; j < n; j++)
        out[j] = ternary_one(g);
}

/* A uniform index below bound by rejection (bound <= 2^32). */
static size_t
uniform_index(hnnrt_prng *g, size_t bound)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t v;
    do
        v = hnnrt_prng_u64(g);
    while (v >= limit);
    return (size_t)(v % bound);
}

void
hnnrt_sample_ternary_sparse(hnnrt_prng *g, size_t n, unsigned h, int32_t *out)
{
    memset(out, 0, n * sizeof *out);
    /* Uniform positions, redrawn on collision, each with a uniform sign. */
    for (unsigned placed = 0; placed < h && placed < n;) {
        size_t j = uniform_index(g, n);
        if (out[j] != 0)
            continue;
        out[j] = 1 - 2 * (int32_t)(hnnrt_prng_byte(g) & 1);
        placed++;
    }
}

void
hnnrt_sample_gaussian(hnnrt_prng *g, const hnnrt_context *ctx, size_t n, int32_t *out)
{
    for (size_t j = 0; j < n; j++) {
        uint64_t r = hnnrt_prng_u64(g);
        uint64_t u = r >> 1;          /* 63 uniform bits */
        int32_t sign = (int32_t)(r & 1);
        int32_t mag = 0;
        /* |x| = number of table entries <= u, scanned in full (no early exit). */
        for (int k = 0; k < HNNRT_GAUSS_BOUND; k++)
            mag += (int32_t)(u >= ctx->gauss_cdt[k]);
        out[j] = mag * (1 - 2 * sign);
    }
}
