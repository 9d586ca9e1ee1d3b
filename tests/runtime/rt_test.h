/* Shared helpers for the runtime's cmocka tests: a deterministic PRNG for
 * test data, parameter sets, and plaintext-vs-decrypted comparisons. */
#ifndef RT_TEST_H
#define RT_TEST_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hnnrt.h"

/* splitmix64: reproducible test data (never key material). */
typedef struct rt_rng {
    uint64_t s;
} rt_rng;

static inline uint64_t
rt_next(rt_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1]. */
static inline double
rt_unit(rt_rng *r)
{
    return (double)(rt_next(r) >> 11) * 0x1p-52 - 1.0;
}

static inline double
rt_max_err(const double *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (!(d <= m))
            m = d; /* NaN propagates as a failure */
    }
    return m;
}

#define RT_OK(expr)                                                                                          \
    do {                                                                                                     \
        hnnrt_status rt_st_ = (expr);                                                                        \
        if (rt_st_ != HNNRT_OK)                                                                              \
            fail_msg("%s failed: %s", #expr, hnnrt_status_name(rt_st_));                                     \
    } while (0)

/* Asserts err <= 2^log2_bound and prints the measured figure. */
#define RT_ASSERT_ERR(what, err, log2_bound)                                                                 \
    do {                                                                                                     \
        double rt_e_ = (err);                                                                                \
        if (!(rt_e_ <= ldexp(1.0, (log2_bound))))                                                            \
            fail_msg("%s: error 2^%.2f exceeds 2^%d", (what), log2(rt_e_), (log2_bound));                    \
        print_message("  measured %-28s max error 2^%.2f (bound 2^%d)\n", (what), log2(rt_e_), (log2_bound));  \
    } while (0)

static inline hnnrt_params_spec
rt_spec(unsigned log_n, unsigned n_data, unsigned first_bits, unsigned bits, unsigned n_special,
        unsigned special_bits)
{
    hnnrt_params_spec s;
    memset(&s, 0, sizeof s);
    s.log_n = log_n;
    s.n_data_primes = n_data;
    for (unsigned i = 0; i < n_data; i++)
        s.data_bits[i] = i == 0 ? first_bits : bits;
    s.n_special_primes = n_special;
    for (unsigned i = 0; i < n_special; i++)
        s.special_bits[i] = special_bits;
    return s;
}

static inline hnnrt_context *
rt_context(hnnrt_params_spec spec)
{
    hnnrt_context *ctx = NULL;
    hnnrt_error err;
    hnnrt_status st = hnnrt_context_new(&ctx, &spec, HNNRT_PARAMS_INSECURE_TESTS_ONLY, &err);
    if (st != HNNRT_OK)
        fail_msg("context: %s", err.message);
    return ctx;
}

#endif
