/* Layer 3: RNS polynomial operations and fast basis conversion against exact CRT. */
#include "rt_test.h"

#include "poly/poly.h"

/* Three ~30-bit primes: products of the basis fit in 128 bits. */
typedef struct fixture {
    hnnrt_ntt_table tab[6];
    hnnrt_rns_basis from, to;
    hnnrt_poly_env env;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    uint64_t p[6];
    if (hnnrt_mod_ntt_primes(30, 2u << 6, 6, NULL, 0, p) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        if (hnnrt_ntt_table_init(&f->tab[i], p[i], 6, NULL) != HNNRT_OK)
            return -1;
    f->from.count = 3;
    f->to.count = 3;
    for (int i = 0; i < 3; i++) {
        f->from.tab[i] = &f->tab[i];
        f->to.tab[i] = &f->tab[3 + i];
    }
    f->env.n = 64;
    f->env.threads = 1;
    f->env.kern = &hnnrt_ntt_kernels_scalar;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 6; i++)
        hnnrt_ntt_table_release(&f->tab[i], NULL);
    free(f);
    return 0;
}

static void
baseconv_is_exact_up_to_multiples_of_B(void **state)
{
    fixture *f = *state;
    const size_t n = f->env.n;
    rt_rng r = {20};
    hnnrt_baseconv bc;
    assert_int_equal(hnnrt_baseconv_init(&bc, &f->from, &f->to, NULL), HNNRT_OK);
    hnnrt_u128 B = 1;
    for (int i = 0; i < 3; i++)
        B *= f->from.tab[i]->mod.value;
    uint64_t in[3 * 64], out[3 * 64], tmp[3 * 64];
    hnnrt_u128 x[64];
    for (size_t j = 0; j < n; j++) {
        x[j] = (((hnnrt_u128)rt_next(&r) << 64) | rt_next(&r)) % B;
        if (j == 0)
            x[j] = B - 1;
        for (int i = 0; i < 3; i++)
            in[i * n + j] = (uint64_t)(x[j] % f->from.tab[i]->mod.value);
    }
    hnnrt_baseconv_apply(&f->env, &bc, 3, in, out, tmp);
    for (size_t j = 0; j < n; j++) {
        /* out = x + u B (mod t) for one u in [0, 3), the same for every target. */
        int found = 0;
        for (unsigned u = 0; u < 3 && !found; u++) {
            int all = 1;
            for (int t = 0; t < 3; t++) {
                uint64_t m = f->to.tab[t]->mod.value;
                hnnrt_u128 v = (x[j] % m + (hnnrt_u128)u * (B % m)) % m;
                all &= out[t * n + j] == (uint64_t)v;
            }
            found = all;
        }
        assert_true(found);
    }
    /* The centring constants are floor(B/2) mod each prime. */
    for (int i = 0; i < 3; i++)
        assert_true(bc.half_from[i] == (uint64_t)((B / 2) % f->from.tab[i]->mod.value));
    for (int t = 0; t < 3; t++)
        assert_true(bc.half_to[t] == (uint64_t)((B / 2) % f->to.tab[t]->mod.value));
    hnnrt_baseconv_release(&bc, NULL);
}

static void
elementwise_ops_match_reference(void **state)
{
    fixture *f = *state;
    const size_t n = f->env.n;
    rt_rng r = {21};
    uint64_t a[3 * 64], b[3 * 64], o[3 * 64], c[3];
    for (int i = 0; i < 3; i++) {
        uint64_t q = f->from.tab[i]->mod.value;
        c[i] = rt_next(&r) % q;
        for (size_t j = 0; j < n; j++) {
            a[i * n + j] = rt_next(&r) % q;
            b[i * n + j] = rt_next(&r) % q;
        }
    }
    hnnrt_poly_add(&f->env, &f->from, o, a, b);
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < n; j++)
            assert_true(o[i * n + j] == (a[i * n + j] + b[i * n + j]) % f->from.tab[i]->mod.value);
    hnnrt_poly_sub(&f->env, &f->from, o, a, b);
    for (int i = 0; i < 3; i++) {
        uint64_t q = f->from.tab[i]->mod.value;
        for (size_t j = 0; j < n; j++)
            assert_true(o[i * n + j] == (a[i * n + j] + q - b[i * n + j]) % q);
    }
    hnnrt_poly_mul(&f->env, &f->from, o, a, b);
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < n; j++)
            assert_true(o[i * n + j] ==
                        (uint64_t)((hnnrt_u128)a[i * n + j] * b[i * n + j] % f->from.tab[i]->mod.value));
    memcpy(o, a, sizeof o);
    hnnrt_poly_mul_acc(&f->env, &f->from, o, a, b);
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < n; j++)
            assert_true(o[i * n + j] == (uint64_t)(((hnnrt_u128)a[i * n + j] * b[i * n + j] + a[i * n + j]) %
                                                   f->from.tab[i]->mod.value));
    hnnrt_poly_mul_scalar(&f->env, &f->from, o, a, c);
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < n; j++)
            assert_true(o[i * n + j] == (uint64_t)((hnnrt_u128)a[i * n + j] * c[i] % f->from.tab[i]->mod.value));
    hnnrt_poly_neg(&f->env, &f->from, o, a);
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < n; j++)
            assert_true((o[i * n + j] + a[i * n + j]) % f->from.tab[i]->mod.value == 0);
    int32_t small[64];
    for (size_t j = 0; j < n; j++)
        small[j] = (int32_t)(j % 7) - 3;
    hnnrt_poly_from_small(&f->env, &f->from, o, small);
    for (int i = 0; i < 3; i++) {
        uint64_t q = f->from.tab[i]->mod.value;
        for (size_t j = 0; j < n; j++)
            assert_true(o[i * n + j] == (small[j] < 0 ? q - (uint64_t)-small[j] : (uint64_t)small[j]));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(baseconv_is_exact_up_to_multiples_of_B),
        cmocka_unit_test(elementwise_ops_match_reference),
    };
    return cmocka_run_group_tests_name("poly", tests, setup, teardown);
}
