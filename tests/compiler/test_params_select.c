/*
 * params_select: chains worked out by hand, the HE Standard boundary at
 * every ring and security level, pins honoured or refused with their exact
 * text, the key-memory cap, and every returned spec built by the runtime.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hnnrt.h"
#include "middle/cost.h"
#include "middle/params_select.h"

/*
 * Synthetic cost tables that make the (alpha, k) choice computable by hand:
 * ntt_only ranks layouts by the NTT count of a relinearisation,
 * (beta + 2)(l + k); conv_only by its basis-conversion products,
 * sum_j c_j (l + k - c_j) + 2 l k.
 */
static const hnn_cost_entry ntt_only_entries[HNN_COST__COUNT] = {
    [HNN_COST_RELIN] = {HNN_COST_RELIN, {1, 0, 0}, 1, 1},
};
static const hnn_cost_table ntt_only = {ntt_only_entries, HNN_COST__COUNT, NULL, 0, 1, "ntt-only"};
static const hnn_cost_entry conv_only_entries[HNN_COST__COUNT] = {
    [HNN_COST_RELIN] = {HNN_COST_RELIN, {0, 1, 0}, 1, 1},
};
static const hnn_cost_table conv_only = {conv_only_entries, HNN_COST__COUNT, NULL, 0, 1, "conv-only"};

/* The request of the worked examples: scale 2^40, |output| <= 10, 12 bits. */
static hnn_param_request
example(uint32_t levels)
{
    return (hnn_param_request){
        .levels = levels,
        .scale_bits = 40,
        .output_bound = 10,
        .precision_bits = 12,
        .min_slots = 1,
        .needs_relin = true,
        .security = 128,
        .costs = &ntt_only,
    };
}

static void
assert_runtime_accepts(const hnnrt_params_spec *spec)
{
    hnnrt_context *ctx = NULL;
    hnnrt_error err = {0};
    hnnrt_status st = hnnrt_context_new(&ctx, spec, 0, &err);
    if (st != HNNRT_OK)
        fail_msg("hnnrt_context_new refuses the spec: %s", err.message);
    assert_int_equal(hnnrt_context_max_level(ctx), spec->n_data_primes - 1);
    assert_int_equal(hnnrt_context_dnum(ctx), spec->dnum);
    hnnrt_context_free(ctx);
}

static void
assert_chain(const hnnrt_params_spec *spec, const unsigned *data, unsigned n_data, const unsigned *special,
             unsigned n_special)
{
    assert_int_equal(spec->n_data_primes, n_data);
    for (unsigned i = 0; i < n_data; i++)
        assert_int_equal(spec->data_bits[i], data[i]);
    assert_int_equal(spec->n_special_primes, n_special);
    for (unsigned j = 0; j < n_special; j++)
        assert_int_equal(spec->special_bits[j], special[j]);
}

/*
 * levels 2, scale 40, bound 10, precision 12.
 * q0 = ceil(log2 10) + max(40, 12 + log N + 1) + 2 = 4 + 40 + 2 = 46 bits.
 * Data 46 + 40 + 40 = 126 bits: over 2^12's bound of 109, so N = 2^13 (218).
 * Layouts at 2^13 (l = 3 limbs; NTT count (beta + 2)(3 + k); keys beta(3 + k)):
 *   alpha 1, k 1: P 46          total 172, NTTs 5*4 = 20, keys 12
 *   alpha 1, k 2: P 23+23       total 172, NTTs 5*5 = 25
 *   alpha 1, k 3: P 3*20        total 186, NTTs 5*6 = 30
 *   alpha 2, k 2: digits 86, 40: P 43+43, total 212, NTTs 4*5 = 20, keys 10
 *   alpha 2, k 3: P 29+29+28    total 212, NTTs 4*6 = 24
 *   alpha 2, k 1 needs an 86-bit prime; alpha 3 needs 126 + 126 > 218 bits.
 * Tie at 20 NTTs, broken by the smaller keys: alpha 2, k 2, dnum 2.
 */
static void
example_levels2_scale40(void **state)
{
    (void)state;
    hnn_param_request req = example(2);
    hnn_param_choice c;
    assert_true(hnn_params_select(&req, &c));
    assert_string_equal(c.why, "");
    assert_int_equal(c.spec.log_n, 13);
    assert_chain(&c.spec, (unsigned[]){46, 40, 40}, 3, (unsigned[]){43, 43}, 2);
    assert_int_equal(c.spec.dnum, 2);
    assert_int_equal(c.alpha, 2);
    assert_int_equal(c.spec.security, HNNRT_SECURITY_128);
    assert_int_equal(c.log_qp_bits, 212);
    assert_int_equal(c.max_log_qp, 218);
    assert_int_equal(c.base_primes, 1);
    assert_int_equal(c.base_bits, 46);
    assert_int_equal(c.max_levels, 3);
    /* One relinearisation key: 2 digits x 5 limbs x 2^13 x 2 words = 1.25 MiB. */
    assert_true(fabs(c.key_memory_mb - 1.25) < 1e-12);
    assert_true(fabs(c.ks_cost_ns - 20.0 * 8192 * 13) < 1e-6);
    assert_runtime_accepts(&c.spec);
}

/* The same request ranked by the shipped cost table: the ring and the data
 * chain do not depend on the costs; the digits are the table's choice. */
static void
example_with_default_costs(void **state)
{
    (void)state;
    hnn_param_request req = example(2);
    req.costs = NULL;
    hnn_param_choice c;
    assert_true(hnn_params_select(&req, &c));
    assert_int_equal(c.spec.log_n, 13);
    assert_int_equal(c.spec.n_data_primes, 3);
    assert_int_equal(c.spec.data_bits[0], 46);
    assert_true(c.log_qp_bits <= 218);
    assert_true(c.ks_cost_ns > 0);
    assert_runtime_accepts(&c.spec);
}

/*
 * levels 5: 2^13 holds 3 (46 + 40 L + 46 <= 218), so 2^14 (438).
 * l = 6 limbs, data 46 + 5 * 40 = 246 bits:
 *   alpha 1 (dnum 6), k 1: P 46,     total 292, NTTs 8*7 = 56
 *   alpha 2 (dnum 3), k 2: P 43+43,  total 332, NTTs 5*8 = 40
 *   alpha 3 (dnum 2), k 3: P 42*3,   total 372, NTTs 4*9 = 36  <- best
 *   alpha 4 and 5 give dnum 2, which the runtime lays out as alpha 3;
 *   alpha 6 needs 246 bits of P, more than 3 x 60.
 */
static void
too_big_for_2_13_takes_2_14(void **state)
{
    (void)state;
    hnn_param_request req = example(5);
    hnn_param_choice c;
    assert_int_equal(hnn_params_max_levels(&req, 13), 3);
    assert_true(hnn_params_select(&req, &c));
    assert_int_equal(c.spec.log_n, 14);
    assert_chain(&c.spec, (unsigned[]){46, 40, 40, 40, 40, 40}, 6, (unsigned[]){42, 42, 42}, 3);
    assert_int_equal(c.spec.dnum, 2);
    assert_int_equal(c.log_qp_bits, 372);
    assert_int_equal(c.max_log_qp, 438);
    assert_runtime_accepts(&c.spec);
}

/* min_slots forces N >= 2 * min_slots even when a smaller ring holds the chain. */
static void
min_slots_forces_the_ring(void **state)
{
    (void)state;
    hnn_param_request req = example(2);
    req.min_slots = 4097; /* more than 2^13's 4096 slots */
    hnn_param_choice c;
    assert_true(hnn_params_select(&req, &c));
    assert_int_equal(c.spec.log_n, 14);
    assert_runtime_accepts(&c.spec);
    req.min_slots = 40000;
    assert_false(hnn_params_select(&req, &c));
    assert_string_equal(c.why, "the packing needs 40000 slots; the largest ring, 2^16, has 32768");
}

/*
 * The HE Standard bound at every ring and level. With q0 = 46 bits and
 * 40-bit scale primes the cheapest special modulus is one 46-bit prime
 * (alpha 1), so L levels need 92 + 40 L bits and the largest L is
 * floor((bound - 92) / 40):
 *            128           192           256
 *   2^12     109 -> 0       75 -> none    58 -> none
 *   2^13     218 -> 3      152 -> 1      118 -> 0
 *   2^14     438 -> 8      305 -> 5      237 -> 3
 *   2^15     881 -> 19     611 -> 12     476 -> 9
 *   2^16    1747 -> 41    1211 -> 27     943 -> 21
 */
static const struct {
    unsigned log_n, security;
    int max_levels;
} boundary[] = {
    {12, 128, 0},  {12, 192, -1}, {12, 256, -1}, {13, 128, 3},  {13, 192, 1},
    {13, 256, 0},  {14, 128, 8},  {14, 192, 5},  {14, 256, 3},  {15, 128, 19},
    {15, 192, 12}, {15, 256, 9},  {16, 128, 41}, {16, 192, 27}, {16, 256, 21},
};

static void
he_standard_boundary_every_ring(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof boundary / sizeof boundary[0]; i++) {
        hnn_param_request req = example(0);
        req.costs = NULL;
        req.security = boundary[i].security;
        req.pin_log_n = boundary[i].log_n;
        hnn_param_choice c;
        char want[512];
        int max = boundary[i].max_levels;
        assert_int_equal(hnn_params_max_levels(&req, boundary[i].log_n), max);
        if (max < 0) {
            assert_false(hnn_params_select(&req, &c));
            snprintf(want, sizeof want,
                     "ring 2^%u holds no chain at %u-bit security: the 46-bit base and its special prime exceed "
                     "the %u-bit bound",
                     boundary[i].log_n, boundary[i].security,
                     hnnrt_security_max_log_qp(boundary[i].log_n, (hnnrt_security)boundary[i].security));
            assert_string_equal(c.why, want);
            continue;
        }
        req.levels = (uint32_t)max;
        if (!hnn_params_select(&req, &c))
            fail_msg("2^%u at %u bits, %d levels: %s", boundary[i].log_n, boundary[i].security, max, c.why);
        assert_int_equal(c.spec.log_n, boundary[i].log_n);
        assert_int_equal(c.spec.n_data_primes, (unsigned)max + 1);
        assert_int_equal(c.max_levels, (unsigned)max);
        assert_true(c.log_qp_bits <= c.max_log_qp);
        assert_int_equal(c.max_log_qp,
                         hnnrt_security_max_log_qp(boundary[i].log_n, (hnnrt_security)boundary[i].security));
        assert_int_equal(c.spec.security, boundary[i].security);
        assert_runtime_accepts(&c.spec);

        req.levels = (uint32_t)max + 1;
        assert_false(hnn_params_select(&req, &c));
        snprintf(want, sizeof want,
                 "ring 2^%u holds at most %d level%s of 40-bit scale primes at %u-bit security; the plan needs %d",
                 boundary[i].log_n, max, max == 1 ? "" : "s", boundary[i].security, max + 1);
        assert_string_equal(c.why, want);
    }
}

/* Free ring, 42 levels: beyond every ring at 128 bits. */
static void
too_deep_for_every_ring(void **state)
{
    (void)state;
    hnn_param_request req = example(42);
    hnn_param_choice c;
    assert_false(hnn_params_select(&req, &c));
    assert_string_equal(c.why, "no ring up to 2^16 holds the plan: ring 2^16 holds at most 41 levels of 40-bit "
                               "scale primes at 128-bit security; the plan needs 42; cut the depth with refresh "
                               "points, lower polynomial degrees or smaller scale primes");
}

static void
pins_honoured(void **state)
{
    (void)state;
    hnn_param_choice c;
    /* pin_log_n: 2^15 although 2^13 holds the plan. */
    hnn_param_request req = example(2);
    req.pin_log_n = 15;
    assert_true(hnn_params_select(&req, &c));
    assert_int_equal(c.spec.log_n, 15);
    assert_runtime_accepts(&c.spec);
    /* pin_levels: exactly 6 scale primes for a plan of 2. */
    req = example(2);
    req.pin_levels = 6;
    assert_true(hnn_params_select(&req, &c));
    assert_int_equal(c.spec.n_data_primes, 7);
    for (unsigned i = 1; i < 7; i++)
        assert_int_equal(c.spec.data_bits[i], 40);
    assert_int_equal(c.spec.log_n, 14); /* 46 + 6 * 40 + 46 = 332 > 218 */
    assert_runtime_accepts(&c.spec);
    /* pin_scale_bits: 30-bit scale primes, q0 = 4 + max(30, 26) + 2 = 36. */
    req = example(2);
    req.pin_scale_bits = 30;
    assert_true(hnn_params_select(&req, &c));
    assert_int_equal(c.spec.log_n, 13);
    assert_int_equal(c.spec.data_bits[0], 36);
    assert_int_equal(c.spec.data_bits[1], 30);
    assert_int_equal(c.spec.data_bits[2], 30);
    assert_runtime_accepts(&c.spec);
    /* pin_scale_bits 30 lets 2^12 (109) hold one level: 36 + 30 + 36 = 102. */
    req = example(1);
    req.pin_scale_bits = 30;
    assert_true(hnn_params_select(&req, &c));
    assert_int_equal(c.spec.log_n, 12);
    assert_chain(&c.spec, (unsigned[]){36, 30}, 2, (unsigned[]){36}, 1);
    assert_runtime_accepts(&c.spec);
}

static void
pins_refused_with_why(void **state)
{
    (void)state;
    hnn_param_choice c;
    hnn_param_request req = example(7);
    req.pin_levels = 5;
    assert_false(hnn_params_select(&req, &c));
    assert_string_equal(c.why, "the plan needs 7 levels; pinned 5");

    req = example(7);
    req.pin_log_n = 13;
    assert_false(hnn_params_select(&req, &c));
    assert_string_equal(c.why,
                        "ring 2^13 holds at most 3 levels of 40-bit scale primes at 128-bit security; the plan needs 7");

    req = example(2);
    req.pin_log_n = 12;
    req.min_slots = 4096;
    assert_false(hnn_params_select(&req, &c));
    assert_string_equal(c.why, "ring 2^12 has 2048 slots; the packing needs 4096");

    req = example(2);
    req.pin_log_n = 11;
    assert_false(hnn_params_select(&req, &c));
    assert_string_equal(c.why, "ring 2^11 is outside 2^12..2^16");

    req = example(2);
    req.pin_scale_bits = 64;
    assert_false(hnn_params_select(&req, &c));
    assert_string_equal(c.why, "scale primes of 64 bits: the runtime takes primes of 20..60 bits");

    req = example(2);
    req.security = 100;
    assert_false(hnn_params_select(&req, &c));
    assert_string_equal(c.why, "security level 100 is not 128, 192 or 256");
}

/*
 * Key-memory cap, ranked by conversion products (conv_only), 2 levels at
 * 2^13 (l = 3), 1 relinearisation + 9 rotation keys; one key unit is
 * 2^13 x 2 words = 0.125 MiB per limb-digit:
 *   alpha 1, k 1: conv 9 + 6 = 15,  keys 3 x 4 = 12 units -> 15 MiB for 10
 *   alpha 2, k 2: conv 10 + 12 = 22, keys 2 x 5 = 10 units -> 12.5 MiB
 *   (alpha 1, k 2: 24, 18.75 MiB; alpha 2, k 3: 31, 15 MiB; alpha 1, k 3: 33)
 * No cap: alpha 1, k 1. Cap 14 MB: only alpha 2, k 2 fits. Cap 12 MB: none.
 */
static void
key_memory_cap_changes_the_digits(void **state)
{
    (void)state;
    hnn_param_request req = example(2);
    req.costs = &conv_only;
    req.n_rotation_keys = 9;
    hnn_param_choice c;
    assert_true(hnn_params_select(&req, &c));
    assert_int_equal(c.spec.log_n, 13);
    assert_int_equal(c.alpha, 1);
    assert_chain(&c.spec, (unsigned[]){46, 40, 40}, 3, (unsigned[]){46}, 1);
    assert_int_equal(c.spec.dnum, 3);
    assert_true(fabs(c.key_memory_mb - 15.0) < 1e-12);

    req.key_memory_mb = 14;
    assert_true(hnn_params_select(&req, &c));
    assert_int_equal(c.spec.log_n, 13);
    assert_int_equal(c.alpha, 2);
    assert_chain(&c.spec, (unsigned[]){46, 40, 40}, 3, (unsigned[]){43, 43}, 2);
    assert_int_equal(c.spec.dnum, 2);
    assert_true(fabs(c.key_memory_mb - 12.5) < 1e-12);
    assert_runtime_accepts(&c.spec);

    req.key_memory_mb = 12;
    assert_false(hnn_params_select(&req, &c));
    assert_string_equal(c.why, "at ring 2^13 the smallest key set for 2 levels (10 switching keys) takes 13 MB; "
                               "the cap is 12 MB");
}

/* An output bound of 2^20 at scale 2^50: q0 would need 20 + 50 + 2 = 72
 * bits, so the base takes two primes of 36 (decoded at level 1). One level:
 * data 36 + 36 + 50 = 122; alpha 1 needs P >= 50 (172 bits), alpha 2 digits
 * 72 and 50, P 36 + 36 (194 bits); both 20 NTTs, alpha 2 has the smaller keys. */
static void
wide_output_takes_two_base_primes(void **state)
{
    (void)state;
    hnn_param_request req = example(1);
    req.scale_bits = 50;
    req.output_bound = 1048576;
    hnn_param_choice c;
    assert_int_equal(hnn_params_base_bits(&req, 13), 72);
    assert_true(hnn_params_select(&req, &c));
    assert_int_equal(c.spec.log_n, 13);
    assert_int_equal(c.base_primes, 2);
    assert_int_equal(c.base_bits, 72);
    assert_chain(&c.spec, (unsigned[]){36, 36, 50}, 3, (unsigned[]){36, 36}, 2);
    assert_runtime_accepts(&c.spec);

    /* 2^70 at scale 2^60: 132 bits, more than two primes hold. */
    req.scale_bits = 60;
    req.output_bound = ldexp(1, 70);
    assert_false(hnn_params_select(&req, &c));
    assert_string_equal(c.why, "the output needs a 132-bit base modulus (bound 2^70 at scale 2^60), more than "
                               "two 61-bit primes: lower the scale or the output bound");
}

/* q0's guard follows the precision when it asks for more than the scale
 * gives: 30 bits at 2^14 is 30 + 14 + 1 = 45 > 40, so q0 = 4 + 45 + 2. */
static void
precision_beyond_the_scale_widens_q0(void **state)
{
    (void)state;
    hnn_param_request req = example(2);
    req.precision_bits = 30;
    assert_int_equal(hnn_params_base_bits(&req, 14), 51);
    assert_int_equal(hnn_params_base_bits(&req, 13), 50);
    req.precision_bits = 0; /* 12 */
    req.output_bound = 0.5;  /* below 1 counts as 1 */
    assert_int_equal(hnn_params_base_bits(&req, 13), 42);
}

/* Key bytes: dnum x (L+1+k) x N x 2 words, with the runtime's digit rule. */
static void
switching_key_bytes(void **state)
{
    (void)state;
    hnnrt_params_spec s = {.log_n = 16, .n_data_primes = 35, .n_special_primes = 2, .dnum = 18};
    assert_true(hnn_params_switching_key_bytes(&s) == 18.0 * 37 * 65536 * 16);
    s.dnum = 0; /* the runtime's default: ceil(35 / 2) = 18 */
    assert_true(hnn_params_switching_key_bytes(&s) == 18.0 * 37 * 65536 * 16);
    s.dnum = 12; /* alpha = ceil(35/12) = 3, so dnum = ceil(35/3) = 12 */
    assert_true(hnn_params_switching_key_bytes(&s) == 12.0 * 37 * 65536 * 16);
    s.dnum = 13; /* alpha 3 again: the runtime makes 12 digits */
    assert_true(hnn_params_switching_key_bytes(&s) == 12.0 * 37 * 65536 * 16);
}

/* Without relinearisation or rotations no key is held: no cap can bind. */
static void
no_keys_no_memory(void **state)
{
    (void)state;
    hnn_param_request req = example(2);
    req.needs_relin = false;
    req.key_memory_mb = 1;
    hnn_param_choice c;
    assert_true(hnn_params_select(&req, &c));
    assert_true(c.key_memory_mb == 0);
    assert_runtime_accepts(&c.spec);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_levels2_scale40),
        cmocka_unit_test(example_with_default_costs),
        cmocka_unit_test(too_big_for_2_13_takes_2_14),
        cmocka_unit_test(min_slots_forces_the_ring),
        cmocka_unit_test(he_standard_boundary_every_ring),
        cmocka_unit_test(too_deep_for_every_ring),
        cmocka_unit_test(pins_honoured),
        cmocka_unit_test(pins_refused_with_why),
        cmocka_unit_test(key_memory_cap_changes_the_digits),
        cmocka_unit_test(wide_output_takes_two_base_primes),
        cmocka_unit_test(precision_beyond_the_scale_widens_q0),
        cmocka_unit_test(switching_key_bytes),
        cmocka_unit_test(no_keys_no_memory),
    };
    return cmocka_run_group_tests_name("middle/params_select", tests, NULL, NULL);
}
