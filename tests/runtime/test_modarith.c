/* Layer 1: word arithmetic against unsigned __int128 references. */
#include "rt_test.h"

#include "modarith/modarith.h"

static const unsigned bit_sizes[] = {20, 30, 36, 40, 45, 50, 55, 59, 60, 61};

static uint64_t
test_prime(unsigned bits)
{
    uint64_t q;
    assert_int_equal(hnnrt_mod_ntt_primes(bits, 1u << 13, 1, NULL, 0, &q), 1);
    return q;
}

static void
reduce128_matches_reference(void **state)
{
    (void)state;
    rt_rng r = {1};
    for (size_t b = 0; b < sizeof bit_sizes / sizeof *bit_sizes; b++) {
        hnnrt_modulus m;
        hnnrt_mod_init(&m, test_prime(bit_sizes[b]));
        for (int i = 0; i < 20000; i++) {
            hnnrt_u128 x = ((hnnrt_u128)rt_next(&r) << 64) | rt_next(&r);
            if (i % 4 == 0)
                x = (hnnrt_u128)m.value * m.value - 1 - (x % 1000); /* near q^2 */
            if (i % 4 == 1)
                x = ~(hnnrt_u128)0 - (x % 1000); /* near 2^128 */
            assert_true(hnnrt_mod_reduce128(x, &m) == (uint64_t)(x % m.value));
        }
    }
}

static void
mul_add_sub_neg_match_reference(void **state)
{
    (void)state;
    rt_rng r = {2};
    for (size_t b = 0; b < sizeof bit_sizes / sizeof *bit_sizes; b++) {
        hnnrt_modulus m;
        hnnrt_mod_init(&m, test_prime(bit_sizes[b]));
        const uint64_t q = m.value;
        for (int i = 0; i < 20000; i++) {
            uint64_t a = rt_next(&r) % q, c = rt_next(&r) % q;
            if (i == 0)
                a = q - 1, c = q - 1;
            assert_true(hnnrt_mod_mul(a, c, &m) == (uint64_t)((hnnrt_u128)a * c % q));
            assert_true(hnnrt_mod_add(a, c, q) == (uint64_t)(((hnnrt_u128)a + c) % q));
            assert_true(hnnrt_mod_sub(a, c, q) == (uint64_t)(((hnnrt_u128)a + q - c) % q));
            assert_true(hnnrt_mod_neg(a, q) == (q - a) % q);
        }
    }
}

static void
shoup_lazy_range_and_value(void **state)
{
    (void)state;
    rt_rng r = {3};
    for (size_t b = 0; b < sizeof bit_sizes / sizeof *bit_sizes; b++) {
        hnnrt_modulus m;
        hnnrt_mod_init(&m, test_prime(bit_sizes[b]));
        const uint64_t q = m.value;
        for (int i = 0; i < 20000; i++) {
            hnnrt_mod_shoup w = hnnrt_mod_shoup_make(rt_next(&r) % q, q);
            uint64_t x = rt_next(&r); /* any 64-bit input */
            uint64_t lazy = hnnrt_mod_mul_shoup_lazy(x, w.op, w.quot, q);
            uint64_t want = (uint64_t)((hnnrt_u128)x * w.op % q);
            assert_true(lazy < 2 * q);
            assert_true(lazy % q == want);
            assert_true(hnnrt_mod_mul_shoup(x, w.op, w.quot, q) == want);
        }
    }
}

static void
signed_and_double_reduction(void **state)
{
    (void)state;
    hnnrt_modulus m;
    hnnrt_mod_init(&m, test_prime(50));
    const uint64_t q = m.value;
    assert_true(hnnrt_mod_from_signed(-1, &m) == q - 1);
    assert_true(hnnrt_mod_from_signed(INT64_MIN + 1, &m) ==
                (uint64_t)((q - (uint64_t)(((hnnrt_u128)INT64_MAX) % q)) % q));
    assert_true(hnnrt_mod_from_signed(12345, &m) == 12345);
}

static void
pow_inv(void **state)
{
    (void)state;
    rt_rng r = {4};
    hnnrt_modulus m;
    hnnrt_mod_init(&m, test_prime(61));
    for (int i = 0; i < 200; i++) {
        uint64_t a = rt_next(&r) % (m.value - 1) + 1;
        assert_true(hnnrt_mod_mul(a, hnnrt_mod_inv(a, &m), &m) == 1);
        assert_true(hnnrt_mod_pow(a, m.value - 1, &m) == 1); /* Fermat */
    }
}

static void
primality(void **state)
{
    (void)state;
    /* Carmichael numbers and strong pseudoprimes to small bases are composite. */
    static const uint64_t composite[] = {561, 1105, 1729, 2047, 3215031751ull, 3825123056546413051ull,
                                         4294967297ull /* F5 = 641 * 6700417 */};
    static const uint64_t prime[] = {2, 3, 65537, 4294967291ull, 2305843009213693951ull /* 2^61 - 1 */,
                                     18446744073709551557ull /* largest 64-bit prime */};
    for (size_t i = 0; i < sizeof composite / sizeof *composite; i++)
        assert_false(hnnrt_mod_is_prime(composite[i]));
    for (size_t i = 0; i < sizeof prime / sizeof *prime; i++)
        assert_true(hnnrt_mod_is_prime(prime[i]));
}

static void
ntt_primes_are_distinct_and_friendly(void **state)
{
    (void)state;
    const uint64_t two_n = 1u << 17;
    uint64_t p[20];
    assert_int_equal(hnnrt_mod_ntt_primes(40, two_n, 20, NULL, 0, p), 20);
    for (int i = 0; i < 20; i++) {
        assert_true(p[i] % two_n == 1);
        assert_true(hnnrt_mod_is_prime(p[i]));
        assert_true(p[i] >> 39 == 1); /* exactly 40 bits */
        for (int j = 0; j < i; j++)
            assert_true(p[i] < p[j]); /* largest first, distinct */
    }
    uint64_t q;
    assert_int_equal(hnnrt_mod_ntt_primes(40, two_n, 1, p, 20, &q), 1);
    for (int i = 0; i < 20; i++)
        assert_true(q != p[i]);
    /* No 20-bit prime = 1 mod 2^17 beyond the few that exist. */
    uint64_t small[64];
    assert_true(hnnrt_mod_ntt_primes(20, two_n, 64, NULL, 0, small) < 64);
}

static void
primitive_root_has_order_2n(void **state)
{
    (void)state;
    for (unsigned log_n = 4; log_n <= 16; log_n += 4) {
        uint64_t two_n = 2ull << log_n, q;
        assert_int_equal(hnnrt_mod_ntt_primes(50, two_n, 1, NULL, 0, &q), 1);
        hnnrt_modulus m;
        hnnrt_mod_init(&m, q);
        uint64_t psi = hnnrt_mod_primitive_root(two_n, &m);
        assert_true(hnnrt_mod_pow(psi, two_n / 2, &m) == q - 1);
        assert_true(hnnrt_mod_pow(psi, two_n, &m) == 1);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reduce128_matches_reference),
        cmocka_unit_test(mul_add_sub_neg_match_reference),
        cmocka_unit_test(shoup_lazy_range_and_value),
        cmocka_unit_test(signed_and_double_reduction),
        cmocka_unit_test(pow_inv),
        cmocka_unit_test(primality),
        cmocka_unit_test(ntt_primes_are_distinct_and_friendly),
        cmocka_unit_test(primitive_root_has_order_2n),
    };
    return cmocka_run_group_tests_name("modarith", tests, NULL, NULL);
}
