/* Layer 6: encode/decode round trips, levels, large scales, refusals. */
#include "rt_test.h"

#include "encode/encode.h"

typedef struct fixture {
    hnnrt_context *ctx;
    hnnrt_encoder *enc;
    hnnrt_pt *pt;
    size_t slots;
    long base_allocs;
    double *x, *y, *w, *v;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->ctx = rt_context(rt_spec(12, 4, 60, 40, 1, 60));
    f->base_allocs = hnnrt_context_live_allocations(f->ctx);
    if (hnnrt_encoder_new(f->ctx, &f->enc) || hnnrt_pt_new(f->ctx, &f->pt))
        return -1;
    f->slots = hnnrt_context_slots(f->ctx);
    f->x = malloc(f->slots * 8);
    f->y = malloc(f->slots * 8);
    f->w = malloc(f->slots * 8);
    f->v = malloc(f->slots * 8);
    rt_rng r = {30};
    for (size_t i = 0; i < f->slots; i++) {
        f->x[i] = rt_unit(&r);
        f->y[i] = rt_unit(&r);
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    hnnrt_pt_free(f->pt);
    hnnrt_encoder_free(f->enc);
    assert_int_equal(hnnrt_context_live_allocations(f->ctx), f->base_allocs);
    hnnrt_context_free(f->ctx);
    free(f->x);
    free(f->y);
    free(f->w);
    free(f->v);
    free(f);
    return 0;
}

static void
real_round_trip_at_every_level(void **state)
{
    fixture *f = *state;
    for (unsigned level = 0; level <= 3; level++) {
        RT_OK(hnnrt_encode(f->enc, f->pt, f->x, f->slots, 0x1p40, level));
        assert_int_equal(hnnrt_pt_level(f->pt), level);
        assert_true(hnnrt_pt_scale(f->pt) == 0x1p40);
        RT_OK(hnnrt_decode(f->enc, f->pt, f->w, f->slots));
        RT_ASSERT_ERR("encode/decode", rt_max_err(f->x, f->w, f->slots), -30);
    }
}

static void
complex_round_trip(void **state)
{
    fixture *f = *state;
    RT_OK(hnnrt_encode_complex(f->enc, f->pt, f->x, f->y, f->slots, 0x1p40, 2));
    RT_OK(hnnrt_decode_complex(f->enc, f->pt, f->w, f->v, f->slots));
    RT_ASSERT_ERR("real part", rt_max_err(f->x, f->w, f->slots), -30);
    RT_ASSERT_ERR("imaginary part", rt_max_err(f->y, f->v, f->slots), -30);
}

static void
partial_vectors_pad_with_zeros(void **state)
{
    fixture *f = *state;
    RT_OK(hnnrt_encode(f->enc, f->pt, f->x, 10, 0x1p30, 1));
    RT_OK(hnnrt_decode(f->enc, f->pt, f->w, f->slots));
    RT_ASSERT_ERR("prefix", rt_max_err(f->x, f->w, 10), -20);
    double zero_max = 0;
    for (size_t i = 10; i < f->slots; i++)
        zero_max = fmax(zero_max, fabs(f->w[i]));
    RT_ASSERT_ERR("padding", zero_max, -20);
}

/* Scales past 2^63 take the exact large-value path: 2^90 at level 3 (Q = 2^180). */
static void
large_scale_beyond_64_bits(void **state)
{
    fixture *f = *state;
    RT_OK(hnnrt_encode(f->enc, f->pt, f->x, f->slots, 0x1p90, 3));
    RT_OK(hnnrt_decode(f->enc, f->pt, f->w, f->slots));
    RT_ASSERT_ERR("scale 2^90", rt_max_err(f->x, f->w, f->slots), -40);
}

static void
negative_and_constant_values(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < f->slots; i++)
        f->v[i] = -0.75;
    RT_OK(hnnrt_encode(f->enc, f->pt, f->v, f->slots, 0x1p40, 2));
    RT_OK(hnnrt_decode(f->enc, f->pt, f->w, f->slots));
    RT_ASSERT_ERR("constant", rt_max_err(f->v, f->w, f->slots), -30);
}

static void
refusals(void **state)
{
    fixture *f = *state;
    /* Q_0 is 60 bits: coefficients near 2^64 do not fit. */
    assert_int_equal(hnnrt_encode(f->enc, f->pt, f->x, f->slots, 0x1p70, 0), HNNRT_ERR_SCALE_OVERFLOW);
    assert_non_null(strstr(hnnrt_encoder_last_error(f->enc), "level 0"));
    assert_int_equal(hnnrt_encode(f->enc, f->pt, f->x, f->slots + 1, 0x1p40, 0), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_encode(f->enc, f->pt, f->x, 4, 0x1p40, 4), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_encode(f->enc, f->pt, f->x, 4, -1.0, 0), HNNRT_ERR_ARG);
    double bad[2] = {1.0, NAN};
    assert_int_equal(hnnrt_encode(f->enc, f->pt, bad, 2, 0x1p40, 1), HNNRT_ERR_ARG);
    bad[1] = INFINITY;
    assert_int_equal(hnnrt_encode(f->enc, f->pt, bad, 2, 0x1p40, 1), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_decode(f->enc, f->pt, f->w, f->slots + 1), HNNRT_ERR_ARG);
}

static void
double_reduction_is_exact(void **state)
{
    (void)state;
    hnnrt_modulus m;
    uint64_t q;
    assert_int_equal(hnnrt_mod_ntt_primes(50, 1 << 13, 1, NULL, 0, &q), 1);
    hnnrt_mod_init(&m, q);
    /* 2^100 + 2^48 and its negative, against a reference by repeated doubling. */
    double x = ldexp(1.0, 100) + ldexp(1.0, 48);
    uint64_t p100 = hnnrt_mod_pow(2, 100, &m), p48 = hnnrt_mod_pow(2, 48, &m);
    uint64_t want = hnnrt_mod_add(p100, p48, q);
    assert_true(hnnrt_encode_reduce_double(x, &m) == want);
    assert_true(hnnrt_encode_reduce_double(-x, &m) == hnnrt_mod_neg(want, q));
    assert_true(hnnrt_encode_reduce_double(2.5, &m) == 2); /* round half to even */
    assert_true(hnnrt_encode_reduce_double(-3.0, &m) == q - 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_round_trip_at_every_level),
        cmocka_unit_test(complex_round_trip),
        cmocka_unit_test(partial_vectors_pad_with_zeros),
        cmocka_unit_test(large_scale_beyond_64_bits),
        cmocka_unit_test(negative_and_constant_values),
        cmocka_unit_test(refusals),
        cmocka_unit_test(double_reduction_is_exact),
    };
    return cmocka_run_group_tests_name("encode", tests, setup, teardown);
}
