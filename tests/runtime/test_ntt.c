/* Layer 2: the negacyclic NTT against direct evaluation and schoolbook products. */
#include "rt_test.h"

#include "ntt/ntt.h"

static void
make_table(hnnrt_ntt_table *t, unsigned log_n, unsigned bits)
{
    uint64_t q;
    assert_int_equal(hnnrt_mod_ntt_primes(bits, 2ull << log_n, 1, NULL, 0, &q), 1);
    assert_int_equal(hnnrt_ntt_table_init(t, q, log_n, NULL), HNNRT_OK);
}

static void
random_poly(rt_rng *r, uint64_t *a, size_t n, uint64_t bound)
{
    for (size_t i = 0; i < n; i++)
        a[i] = rt_next(r) % bound;
}

/* Output slot i holds a(psi^(2 brev(i) + 1)): the order the Galois maps rely on. */
static void
forward_is_evaluation_in_bitreversed_order(void **state)
{
    (void)state;
    rt_rng r = {10};
    for (unsigned log_n = 1; log_n <= 8; log_n++) {
        hnnrt_ntt_table t;
        make_table(&t, log_n, 40);
        size_t n = t.n;
        uint64_t a[256], x[256];
        random_poly(&r, a, n, t.mod.value);
        memcpy(x, a, n * sizeof *a);
        hnnrt_ntt_kernels_scalar.fwd(&t, x);
        for (size_t i = 0; i < n; i++) {
            uint64_t pt = hnnrt_mod_pow(t.psi, 2 * hnnrt_ntt_bitrev((uint32_t)i, log_n) + 1, &t.mod);
            uint64_t v = 0;
            for (size_t k = n; k-- > 0;)
                v = hnnrt_mod_add(hnnrt_mod_mul(v, pt, &t.mod), a[k], t.mod.value);
            assert_true(x[i] == v);
        }
        hnnrt_ntt_table_release(&t, NULL);
    }
}

static void
inverse_undoes_forward(void **state)
{
    (void)state;
    rt_rng r = {11};
    static const unsigned bits[] = {30, 40, 50, 60, 61};
    for (unsigned log_n = 10; log_n <= 16; log_n += 2)
        for (size_t b = 0; b < sizeof bits / sizeof *bits; b++) {
            hnnrt_ntt_table t;
            make_table(&t, log_n, bits[b]);
            size_t n = t.n;
            uint64_t *a = malloc(n * 8), *x = malloc(n * 8);
            random_poly(&r, a, n, t.mod.value);
            a[0] = t.mod.value - 1;
            memcpy(x, a, n * 8);
            hnnrt_ntt_kernels_scalar.fwd(&t, x);
            for (size_t i = 0; i < n; i++)
                assert_true(x[i] < t.mod.value);
            hnnrt_ntt_kernels_scalar.inv(&t, x);
            assert_memory_equal(a, x, n * 8);
            free(a);
            free(x);
            hnnrt_ntt_table_release(&t, NULL);
        }
}

static void
lazy_forward_stays_below_4q(void **state)
{
    (void)state;
    rt_rng r = {12};
    hnnrt_ntt_table t;
    make_table(&t, 12, 61);
    size_t n = t.n;
    uint64_t *a = malloc(n * 8), *x = malloc(n * 8);
    /* Inputs anywhere in [0, 4q) are allowed. */
    random_poly(&r, a, n, 4 * t.mod.value);
    memcpy(x, a, n * 8);
    hnnrt_ntt_kernels_scalar.fwd_lazy(&t, x);
    for (size_t i = 0; i < n; i++)
        assert_true(x[i] < 4 * t.mod.value);
    for (size_t i = 0; i < n; i++)
        a[i] %= t.mod.value;
    hnnrt_ntt_kernels_scalar.fwd(&t, a);
    for (size_t i = 0; i < n; i++)
        assert_true(x[i] % t.mod.value == a[i]);
    free(a);
    free(x);
    hnnrt_ntt_table_release(&t, NULL);
}

static void
pointwise_product_is_negacyclic_convolution(void **state)
{
    (void)state;
    rt_rng r = {13};
    for (unsigned log_n = 4; log_n <= 10; log_n += 3) {
        hnnrt_ntt_table t;
        make_table(&t, log_n, 59);
        const size_t n = t.n;
        const uint64_t q = t.mod.value;
        uint64_t *a = malloc(n * 8), *b = malloc(n * 8), *want = calloc(n, 8);
        random_poly(&r, a, n, q);
        random_poly(&r, b, n, q);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                uint64_t p = hnnrt_mod_mul(a[i], b[j], &t.mod);
                size_t k = i + j;
                if (k < n)
                    want[k] = hnnrt_mod_add(want[k], p, q);
                else
                    want[k - n] = hnnrt_mod_sub(want[k - n], p, q); /* X^n = -1 */
            }
        hnnrt_ntt_kernels_scalar.fwd(&t, a);
        hnnrt_ntt_kernels_scalar.fwd(&t, b);
        for (size_t i = 0; i < n; i++)
            a[i] = hnnrt_mod_mul(a[i], b[i], &t.mod);
        hnnrt_ntt_kernels_scalar.inv(&t, a);
        assert_memory_equal(a, want, n * 8);
        free(a);
        free(b);
        free(want);
        hnnrt_ntt_table_release(&t, NULL);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forward_is_evaluation_in_bitreversed_order),
        cmocka_unit_test(inverse_undoes_forward),
        cmocka_unit_test(lazy_forward_stays_below_4q),
        cmocka_unit_test(pointwise_product_is_negacyclic_convolution),
    };
    return cmocka_run_group_tests_name("ntt/scalar", tests, NULL, NULL);
}
