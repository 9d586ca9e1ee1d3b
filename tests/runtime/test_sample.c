/* Layer 5: samplers — ranges, distributions, seeded determinism. */
#include "rt_test.h"

#include "sample/sample.h"

static hnnrt_context *
small_ctx(void)
{
    return rt_context(rt_spec(12, 2, 50, 40, 1, 50));
}

static void
ternary_is_uniform_over_three_values(void **state)
{
    (void)state;
    hnnrt_prng g;
    RT_OK(hnnrt_prng_init_random(&g));
    enum { N = 60000 };
    int32_t *x = malloc(N * sizeof *x);
    hnnrt_sample_ternary(&g, N, x);
    long count[3] = {0};
    for (int i = 0; i < N; i++) {
        assert_true(x[i] >= -1 && x[i] <= 1);
        count[x[i] + 1]++;
    }
    for (int v = 0; v < 3; v++) /* 20000 expected; 6 sigma is about 700 */
        assert_true(labs(count[v] - N / 3) < 700);
    free(x);
    hnnrt_prng_wipe(&g);
}

static void
sparse_ternary_has_exact_weight(void **state)
{
    (void)state;
    hnnrt_prng g;
    RT_OK(hnnrt_prng_init_random(&g));
    int32_t x[4096];
    for (unsigned h = 1; h <= 4096; h *= 4) {
        hnnrt_sample_ternary_sparse(&g, 4096, h, x);
        unsigned w = 0;
        for (int i = 0; i < 4096; i++) {
            assert_true(x[i] >= -1 && x[i] <= 1);
            w += x[i] != 0;
        }
        assert_int_equal(w, h);
    }
}

static void
gaussian_has_sigma_3_2_and_bound(void **state)
{
    (void)state;
    hnnrt_context *ctx = small_ctx();
    hnnrt_prng g;
    RT_OK(hnnrt_prng_init_random(&g));
    enum { N = 200000 };
    int32_t *x = malloc(N * sizeof *x);
    hnnrt_sample_gaussian(&g, ctx, N, x);
    double mean = 0, var = 0;
    for (int i = 0; i < N; i++) {
        assert_true(abs(x[i]) <= HNNRT_GAUSS_BOUND);
        mean += x[i];
    }
    mean /= N;
    for (int i = 0; i < N; i++)
        var += (x[i] - mean) * (x[i] - mean);
    var /= N - 1;
    assert_true(fabs(mean) < 0.05);
    assert_true(fabs(sqrt(var) - 3.2) < 0.03);
    free(x);
    hnnrt_context_free(ctx);
}

static void
uniform_is_below_q_and_balanced(void **state)
{
    (void)state;
    hnnrt_context *ctx = small_ctx();
    hnnrt_rns_basis b;
    hnnrt_ctx_basis_qp(ctx, 1, &b);
    const size_t n = ctx->n;
    uint64_t *x = malloc(b.count * n * 8);
    hnnrt_prng g;
    RT_OK(hnnrt_prng_init_random(&g));
    hnnrt_sample_uniform(&g, &b, n, x);
    for (unsigned k = 0; k < b.count; k++) {
        double q = (double)b.tab[k]->mod.value, mean = 0;
        for (size_t j = 0; j < n; j++) {
            assert_true(x[k * n + j] < b.tab[k]->mod.value);
            mean += (double)x[k * n + j] / q;
        }
        assert_true(fabs(mean / n - 0.5) < 0.03); /* sd of the mean is 0.0045 */
    }
    free(x);
    hnnrt_context_free(ctx);
}

static void
seeded_expansion_is_deterministic_per_prime(void **state)
{
    (void)state;
    hnnrt_context *ctx = small_ctx();
    const size_t n = ctx->n;
    uint8_t seed[32] = {1, 2, 3};
    hnnrt_rns_basis all, one;
    hnnrt_ctx_basis_qp(ctx, 1, &all);
    one.count = 1;
    one.tab[0] = all.tab[1];
    unsigned idx_all[3] = {0, 1, 2}, idx_one[1] = {1};
    uint64_t *a = malloc(3 * n * 8), *b = malloc(3 * n * 8), *c = malloc(n * 8);
    hnnrt_sample_uniform_seeded(seed, &all, idx_all, n, 1, a);
    hnnrt_sample_uniform_seeded(seed, &all, idx_all, n, 2, b);
    assert_memory_equal(a, b, 3 * n * 8);          /* thread count does not matter */
    hnnrt_sample_uniform_seeded(seed, &one, idx_one, n, 1, c);
    assert_memory_equal(a + n, c, n * 8);          /* a sub-basis expands the same limb */
    seed[0] ^= 1;
    hnnrt_sample_uniform_seeded(seed, &all, idx_all, n, 1, b);
    assert_memory_not_equal(a, b, n * 8);
    free(a);
    free(b);
    free(c);
    hnnrt_context_free(ctx);
}

static void
prng_streams(void **state)
{
    (void)state;
    uint8_t seed[32] = {7};
    hnnrt_prng a, b, c;
    hnnrt_prng_init_seeded(&a, seed, 5);
    hnnrt_prng_init_seeded(&b, seed, 5);
    hnnrt_prng_init_seeded(&c, seed, 6);
    uint8_t x[10000], y[10000], z[10000];
    hnnrt_prng_bytes(&a, x, 3);  /* odd split across refills */
    hnnrt_prng_bytes(&a, x + 3, sizeof x - 3);
    hnnrt_prng_bytes(&b, y, sizeof y);
    hnnrt_prng_bytes(&c, z, sizeof z);
    assert_memory_equal(x, y, sizeof x);
    assert_memory_not_equal(x, z, sizeof x);
    hnnrt_prng_wipe(&a);
    for (size_t i = 0; i < sizeof a.key; i++)
        assert_int_equal(a.key[i], 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ternary_is_uniform_over_three_values),
        cmocka_unit_test(sparse_ternary_has_exact_weight),
        cmocka_unit_test(gaussian_has_sigma_3_2_and_bound),
        cmocka_unit_test(uniform_is_below_q_and_balanced),
        cmocka_unit_test(seeded_expansion_is_deterministic_per_prime),
        cmocka_unit_test(prng_streams),
    };
    return cmocka_run_group_tests_name("sample", tests, NULL, NULL);
}
