/* Layer 4: parameter validation, the HE Standard check, prime chains, objects. */
#include "rt_test.h"

#include "params/params.h"

static void
security_table_matches_standard(void **state)
{
    (void)state;
    assert_int_equal(hnnrt_security_max_log_qp(12, HNNRT_SECURITY_128), 109);
    assert_int_equal(hnnrt_security_max_log_qp(13, HNNRT_SECURITY_128), 218);
    assert_int_equal(hnnrt_security_max_log_qp(14, HNNRT_SECURITY_128), 438);
    assert_int_equal(hnnrt_security_max_log_qp(15, HNNRT_SECURITY_128), 881);
    assert_int_equal(hnnrt_security_max_log_qp(15, HNNRT_SECURITY_192), 611);
    assert_int_equal(hnnrt_security_max_log_qp(15, HNNRT_SECURITY_256), 476);
    assert_int_equal(hnnrt_security_max_log_qp(14, HNNRT_SECURITY_256), 237);
    assert_int_equal(hnnrt_security_max_log_qp(9, HNNRT_SECURITY_128), 0);
}

static void
oversize_qp_is_refused(void **state)
{
    (void)state;
    /* logN 13 holds 218 bits: 60 + 3 x 40 + 60 = 240 is too much. */
    hnnrt_params_spec s = rt_spec(13, 4, 60, 40, 1, 60);
    hnnrt_context *ctx = (hnnrt_context *)0x1;
    hnnrt_error err;
    assert_int_equal(hnnrt_context_new(&ctx, &s, 0, &err), HNNRT_ERR_PARAMS_INSECURE);
    assert_null(ctx);
    assert_int_equal(err.status, HNNRT_ERR_PARAMS_INSECURE);
    assert_non_null(strstr(err.message, "218"));
    /* The same set passes at logN 14, and at logN 13 only with the test flag. */
    s.log_n = 14;
    assert_int_equal(hnnrt_context_new(&ctx, &s, 0, &err), HNNRT_OK);
    assert_int_equal(hnnrt_context_security(ctx), HNNRT_SECURITY_128);
    hnnrt_context_free(ctx);
    s.log_n = 13;
    assert_int_equal(hnnrt_context_new(&ctx, &s, HNNRT_PARAMS_INSECURE_TESTS_ONLY, &err), HNNRT_OK);
    assert_int_equal(hnnrt_context_security(ctx), 0);
    hnnrt_context_free(ctx);
    /* 192-bit security at logN 14 allows 305 bits. */
    hnnrt_params_spec big = rt_spec(14, 7, 60, 40, 1, 60); /* 360 bits */
    big.security = HNNRT_SECURITY_192;
    assert_int_equal(hnnrt_context_new(&ctx, &big, 0, &err), HNNRT_ERR_PARAMS_INSECURE);
}

static void
malformed_specs_are_refused(void **state)
{
    (void)state;
    hnnrt_context *ctx;
    hnnrt_error err;
    hnnrt_params_spec s = rt_spec(11, 2, 40, 30, 1, 40);
    assert_int_equal(hnnrt_context_new(&ctx, &s, 0, &err), HNNRT_ERR_PARAMS_INVALID); /* ring too small */
    s = rt_spec(17, 2, 40, 30, 1, 40);
    assert_int_equal(hnnrt_context_new(&ctx, &s, HNNRT_PARAMS_INSECURE_TESTS_ONLY, &err), HNNRT_ERR_PARAMS_INVALID);
    s = rt_spec(12, 2, 62, 30, 1, 40);
    assert_int_equal(hnnrt_context_new(&ctx, &s, HNNRT_PARAMS_INSECURE_TESTS_ONLY, &err), HNNRT_ERR_PARAMS_INVALID);
    s = rt_spec(12, 0, 40, 30, 1, 40);
    assert_int_equal(hnnrt_context_new(&ctx, &s, HNNRT_PARAMS_INSECURE_TESTS_ONLY, &err), HNNRT_ERR_PARAMS_INVALID);
    s = rt_spec(12, 2, 40, 30, 0, 40);
    assert_int_equal(hnnrt_context_new(&ctx, &s, HNNRT_PARAMS_INSECURE_TESTS_ONLY, &err), HNNRT_ERR_PARAMS_INVALID);
    s = rt_spec(12, 2, 40, 30, 1, 40);
    s.dnum = 3;
    assert_int_equal(hnnrt_context_new(&ctx, &s, HNNRT_PARAMS_INSECURE_TESTS_ONLY, &err), HNNRT_ERR_PARAMS_INVALID);
    s = rt_spec(12, 2, 40, 30, 1, 40);
    s.security = 100;
    assert_int_equal(hnnrt_context_new(&ctx, &s, HNNRT_PARAMS_INSECURE_TESTS_ONLY, &err), HNNRT_ERR_PARAMS_INVALID);
    /* A digit of two 40-bit primes (80 bits) over a 40-bit P is refused unless insecure. */
    s = rt_spec(14, 4, 40, 40, 1, 40);
    s.dnum = 2;
    assert_int_equal(hnnrt_context_new(&ctx, &s, 0, &err), HNNRT_ERR_PARAMS_INVALID);
    assert_non_null(strstr(err.message, "digit"));
    /* Not enough 21-bit NTT primes for logN 15. */
    s = rt_spec(15, 40, 21, 21, 1, 40);
    assert_int_equal(hnnrt_context_new(&ctx, &s, HNNRT_PARAMS_INSECURE_TESTS_ONLY, &err),
                     HNNRT_ERR_PARAMS_NO_NTT_PRIME);
    assert_int_equal(hnnrt_context_new(NULL, &s, 0, NULL), HNNRT_ERR_ARG);
}

static void
chain_has_requested_ntt_primes(void **state)
{
    (void)state;
    hnnrt_params_spec s = rt_spec(14, 7, 60, 40, 1, 60);
    hnnrt_context *ctx = rt_context(s);
    assert_int_equal(hnnrt_context_max_level(ctx), 6);
    assert_int_equal(hnnrt_context_special_count(ctx), 1);
    assert_int_equal(hnnrt_context_dnum(ctx), 7);
    assert_int_equal(hnnrt_context_slots(ctx), 8192);
    for (unsigned i = 0; i < 8; i++) {
        uint64_t q = hnnrt_context_prime(ctx, i);
        unsigned bits = (i == 0 || i == 7) ? 60 : 40;
        assert_true(q >> (bits - 1) == 1);
        assert_true(q % (2 * 16384) == 1);
        for (unsigned j = 0; j < i; j++)
            assert_true(q != hnnrt_context_prime(ctx, j));
    }
    assert_true(hnnrt_context_prime(ctx, 8) == 0);
    double lq = hnnrt_context_log_qp(ctx);
    assert_true(lq > 359 && lq <= 360);
    hnnrt_context_free(ctx);
}

static void
fingerprint_identifies_the_set(void **state)
{
    (void)state;
    hnnrt_context *a = rt_context(rt_spec(12, 3, 50, 40, 1, 50));
    hnnrt_context *b = rt_context(rt_spec(12, 3, 50, 40, 1, 50));
    hnnrt_context *c = rt_context(rt_spec(12, 3, 50, 41, 1, 50));
    assert_true(hnnrt_context_fingerprint(a) == hnnrt_context_fingerprint(b));
    assert_true(hnnrt_context_fingerprint(a) != hnnrt_context_fingerprint(c));
    hnnrt_context_free(a);
    hnnrt_context_free(b);
    hnnrt_context_free(c);
}

static void
digits_cover_the_chain(void **state)
{
    (void)state;
    hnnrt_params_spec s = rt_spec(12, 7, 50, 40, 2, 55);
    hnnrt_context *ctx = rt_context(s);
    assert_int_equal(hnnrt_context_dnum(ctx), 4); /* ceil(7 / 2) */
    for (unsigned l = 0; l <= 6; l++) {
        unsigned covered = 0, digits = hnnrt_ctx_digits(ctx, l);
        for (unsigned j = 0; j < digits; j++) {
            unsigned first, count;
            hnnrt_ctx_digit_range(ctx, l, j, &first, &count);
            assert_int_equal(first, covered);
            assert_true(count >= 1 && count <= 2);
            covered += count;
        }
        assert_int_equal(covered, l + 1);
    }
    hnnrt_context_free(ctx);
}

static void
objects_grow_and_free(void **state)
{
    (void)state;
    hnnrt_context *ctx = rt_context(rt_spec(12, 4, 50, 40, 1, 50));
    long base = hnnrt_context_live_allocations(ctx);
    hnnrt_ct *ct;
    hnnrt_pt *pt;
    RT_OK(hnnrt_ct_new(ctx, &ct));
    RT_OK(hnnrt_pt_new(ctx, &pt));
    RT_OK(hnnrt_ct_reserve(ct, 3, 3));
    long after_reserve = hnnrt_context_live_allocations(ctx);
    RT_OK(hnnrt_ct_reserve(ct, 2, 1)); /* smaller: no new allocation */
    assert_int_equal(hnnrt_context_live_allocations(ctx), after_reserve);
    assert_int_equal(hnnrt_ct_reserve(ct, 4, 1), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_ct_reserve(ct, 2, 4), HNNRT_ERR_ARG);
    hnnrt_ct_free(ct);
    hnnrt_pt_free(pt);
    hnnrt_ct_free(NULL);
    hnnrt_pt_free(NULL);
    hnnrt_context_free(NULL);
    assert_int_equal(hnnrt_context_live_allocations(ctx), base);
    hnnrt_context_set_threads(ctx, 2);
    assert_int_equal(hnnrt_context_threads(ctx), 2);
    hnnrt_context_free(ctx);
}

static void
status_names_and_messages(void **state)
{
    (void)state;
    assert_string_equal(hnnrt_status_name(HNNRT_ERR_LEVEL_MISMATCH), "HNNRT_ERR_LEVEL_MISMATCH");
    assert_string_equal(hnnrt_status_name(HNNRT_OK), "HNNRT_OK");
    for (int s = HNNRT_OK; s <= HNNRT_ERR_IO; s++) {
        assert_non_null(strstr(hnnrt_status_name((hnnrt_status)s), "HNNRT_"));
        assert_true(strlen(hnnrt_status_message((hnnrt_status)s)) > 3);
    }
    assert_string_equal(hnnrt_status_name((hnnrt_status)999), "HNNRT_ERR_UNKNOWN");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(security_table_matches_standard),
        cmocka_unit_test(oversize_qp_is_refused),
        cmocka_unit_test(malformed_specs_are_refused),
        cmocka_unit_test(chain_has_requested_ntt_primes),
        cmocka_unit_test(fingerprint_identifies_the_set),
        cmocka_unit_test(digits_cover_the_chain),
        cmocka_unit_test(objects_grow_and_free),
        cmocka_unit_test(status_names_and_messages),
    };
    return cmocka_run_group_tests_name("params", tests, NULL, NULL);
}
