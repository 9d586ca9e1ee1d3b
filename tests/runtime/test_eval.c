/*
 * Layers 7–8: every evaluator operation, decrypted and compared with the same
 * computation on plaintext doubles under an asserted bound (scale 2^40, values
 * in [-1, 1], N = 2^12, primes 60, 8 x 40 | 60).
 */
#include "rt_test.h"

#include "eval/eval.h"

#define TOP 8
static const int steps[] = {1, 2, 5, -3, 100, -1, 1000};
#define N_STEPS (sizeof steps / sizeof *steps)

typedef struct fixture {
    hnnrt_context *ctx;
    hnnrt_keygen *kg;
    hnnrt_secret_key *sk;
    hnnrt_public_key *pk;
    hnnrt_relin_key *rk;
    hnnrt_galois_keys *gk;
    hnnrt_encoder *enc;
    hnnrt_encryptor *encr;
    hnnrt_decryptor *dec;
    hnnrt_evaluator *ev;
    hnnrt_pt *pt;
    hnnrt_ct *a, *b, *c;
    size_t slots;
    double *x, *y, *want, *got;
    long base_allocs;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->ctx = rt_context(rt_spec(12, TOP + 1, 60, 40, 1, 60));
    f->base_allocs = hnnrt_context_live_allocations(f->ctx);
    if (hnnrt_keygen_new(f->ctx, &f->kg) || hnnrt_keygen_secret(f->kg, 0, &f->sk) ||
        hnnrt_keygen_public(f->kg, f->sk, &f->pk) || hnnrt_keygen_relin(f->kg, f->sk, &f->rk) ||
        hnnrt_keygen_galois(f->kg, f->sk, steps, N_STEPS, 1, &f->gk) || hnnrt_encoder_new(f->ctx, &f->enc) ||
        hnnrt_encryptor_new(f->ctx, f->pk, NULL, &f->encr) || hnnrt_decryptor_new(f->ctx, f->sk, &f->dec) ||
        hnnrt_evaluator_new(f->ctx, f->rk, f->gk, &f->ev) || hnnrt_pt_new(f->ctx, &f->pt) ||
        hnnrt_ct_new(f->ctx, &f->a) || hnnrt_ct_new(f->ctx, &f->b) || hnnrt_ct_new(f->ctx, &f->c))
        return -1;
    f->slots = hnnrt_context_slots(f->ctx);
    f->x = malloc(f->slots * 8);
    f->y = malloc(f->slots * 8);
    f->want = malloc(f->slots * 8);
    f->got = malloc(f->slots * 8);
    rt_rng r = {40};
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
    hnnrt_ct_free(f->a);
    hnnrt_ct_free(f->b);
    hnnrt_ct_free(f->c);
    hnnrt_pt_free(f->pt);
    hnnrt_evaluator_free(f->ev);
    hnnrt_decryptor_free(f->dec);
    hnnrt_encryptor_free(f->encr);
    hnnrt_encoder_free(f->enc);
    hnnrt_galois_keys_free(f->gk);
    hnnrt_relin_key_free(f->rk);
    hnnrt_public_key_free(f->pk);
    hnnrt_secret_key_free(f->sk);
    hnnrt_keygen_free(f->kg);
    /* Every object released what it took. */
    assert_int_equal(hnnrt_context_live_allocations(f->ctx), f->base_allocs);
    hnnrt_context_free(f->ctx);
    free(f->x);
    free(f->y);
    free(f->want);
    free(f->got);
    free(f);
    return 0;
}

static void
encrypt_vec(fixture *f, hnnrt_ct *ct, const double *v, unsigned level)
{
    RT_OK(hnnrt_encode(f->enc, f->pt, v, f->slots, 0x1p40, level));
    RT_OK(hnnrt_encrypt(f->encr, ct, f->pt));
}

static double
decrypt_err(fixture *f, const hnnrt_ct *ct)
{
    RT_OK(hnnrt_decrypt(f->dec, f->pt, ct));
    RT_OK(hnnrt_decode(f->enc, f->pt, f->got, f->slots));
    return rt_max_err(f->want, f->got, f->slots);
}

static void
fresh_encryption(void **state)
{
    fixture *f = *state;
    encrypt_vec(f, f->a, f->x, TOP);
    memcpy(f->want, f->x, f->slots * 8);
    RT_ASSERT_ERR("public-key encryption", decrypt_err(f, f->a), -25);
    hnnrt_encryptor *sym;
    RT_OK(hnnrt_encryptor_new(f->ctx, NULL, f->sk, &sym));
    RT_OK(hnnrt_encode(f->enc, f->pt, f->x, f->slots, 0x1p40, 3));
    RT_OK(hnnrt_encrypt(sym, f->b, f->pt));
    assert_int_equal(hnnrt_ct_level(f->b), 3);
    RT_ASSERT_ERR("secret-key encryption", decrypt_err(f, f->b), -28);
    hnnrt_encryptor_free(sym);
}

static void
add_sub_negate(void **state)
{
    fixture *f = *state;
    encrypt_vec(f, f->a, f->x, TOP);
    encrypt_vec(f, f->b, f->y, TOP);
    RT_OK(hnnrt_eval_add(f->ev, f->c, f->a, f->b));
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = f->x[i] + f->y[i];
    RT_ASSERT_ERR("add", decrypt_err(f, f->c), -24);
    RT_OK(hnnrt_eval_sub(f->ev, f->c, f->a, f->b));
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = f->x[i] - f->y[i];
    RT_ASSERT_ERR("sub", decrypt_err(f, f->c), -24);
    RT_OK(hnnrt_eval_negate(f->ev, f->c, f->a));
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = -f->x[i];
    RT_ASSERT_ERR("negate", decrypt_err(f, f->c), -25);
    /* out aliasing an input */
    RT_OK(hnnrt_eval_add(f->ev, f->a, f->a, f->b));
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = f->x[i] + f->y[i];
    RT_ASSERT_ERR("add in place", decrypt_err(f, f->a), -24);
}

static void
plaintext_operands(void **state)
{
    fixture *f = *state;
    encrypt_vec(f, f->a, f->x, TOP);
    RT_OK(hnnrt_encode(f->enc, f->pt, f->y, f->slots, 0x1p40, TOP));
    hnnrt_pt *p;
    RT_OK(hnnrt_pt_new(f->ctx, &p));
    RT_OK(hnnrt_encode(f->enc, p, f->y, f->slots, 0x1p40, TOP));
    RT_OK(hnnrt_eval_add_pt(f->ev, f->c, f->a, p));
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = f->x[i] + f->y[i];
    RT_ASSERT_ERR("add_pt", decrypt_err(f, f->c), -24);
    RT_OK(hnnrt_eval_sub_pt(f->ev, f->c, f->a, p));
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = f->x[i] - f->y[i];
    RT_ASSERT_ERR("sub_pt", decrypt_err(f, f->c), -24);
    RT_OK(hnnrt_eval_mul_pt(f->ev, f->c, f->a, p));
    assert_true(hnnrt_ct_scale(f->c) == 0x1p80);
    RT_OK(hnnrt_eval_rescale(f->ev, f->c, f->c));
    assert_int_equal(hnnrt_ct_level(f->c), TOP - 1);
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = f->x[i] * f->y[i];
    RT_ASSERT_ERR("mul_pt + rescale", decrypt_err(f, f->c), -24);
    hnnrt_pt_free(p);
}

static void
constants(void **state)
{
    fixture *f = *state;
    encrypt_vec(f, f->a, f->x, TOP);
    RT_OK(hnnrt_eval_add_const(f->ev, f->c, f->a, -0.3125));
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = f->x[i] - 0.3125;
    RT_ASSERT_ERR("add_const", decrypt_err(f, f->c), -24);
    RT_OK(hnnrt_eval_mul_const(f->ev, f->c, f->a, 0.7, 0x1p40));
    RT_OK(hnnrt_eval_rescale(f->ev, f->c, f->c));
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = f->x[i] * 0.7;
    RT_ASSERT_ERR("mul_const + rescale", decrypt_err(f, f->c), -24);
    RT_OK(hnnrt_eval_mul_const(f->ev, f->c, f->a, -3.0, 0));
    assert_true(hnnrt_ct_scale(f->c) == hnnrt_ct_scale(f->a));
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = f->x[i] * -3.0;
    RT_ASSERT_ERR("mul by integer", decrypt_err(f, f->c), -22);
}

static void
mul_relin_rescale(void **state)
{
    fixture *f = *state;
    encrypt_vec(f, f->a, f->x, TOP);
    encrypt_vec(f, f->b, f->y, TOP);
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = f->x[i] * f->y[i];
    RT_OK(hnnrt_eval_mul_ct(f->ev, f->c, f->a, f->b));
    assert_int_equal(hnnrt_ct_size(f->c), 3);
    /* A 3-part ciphertext decrypts too (with s^2). */
    RT_OK(hnnrt_decrypt(f->dec, f->pt, f->c));
    RT_OK(hnnrt_eval_relin(f->ev, f->c, f->c));
    assert_int_equal(hnnrt_ct_size(f->c), 2);
    RT_OK(hnnrt_eval_rescale(f->ev, f->c, f->c));
    double scale = 0x1p80 / (double)hnnrt_context_prime(f->ctx, TOP);
    assert_true(hnnrt_ct_scale(f->c) == scale);
    RT_ASSERT_ERR("ct x ct + relin + rescale", decrypt_err(f, f->c), -20);
    RT_OK(hnnrt_eval_mul_relin(f->ev, f->b, f->a, f->b)); /* out aliases b */
    RT_OK(hnnrt_eval_rescale(f->ev, f->b, f->b));
    RT_ASSERT_ERR("mul_relin in place", decrypt_err(f, f->b), -20);
}

static void
rotations_move_slot_i_to_i_minus_k(void **state)
{
    fixture *f = *state;
    encrypt_vec(f, f->a, f->x, TOP);
    const long S = (long)f->slots;
    for (size_t s = 0; s < N_STEPS; s++) {
        RT_OK(hnnrt_eval_rotate(f->ev, f->c, f->a, steps[s]));
        for (long i = 0; i < S; i++)
            f->want[i] = f->x[((i + steps[s]) % S + S) % S];
        char what[64];
        snprintf(what, sizeof what, "rotate %d", steps[s]);
        RT_ASSERT_ERR(what, decrypt_err(f, f->c), -20);
    }
    /* Composition: rotating by 1 then 2 equals rotating by 3 (key for 3 absent). */
    RT_OK(hnnrt_eval_rotate(f->ev, f->c, f->a, 1));
    RT_OK(hnnrt_eval_rotate(f->ev, f->c, f->c, 2));
    for (long i = 0; i < S; i++)
        f->want[i] = f->x[(i + 3) % S];
    RT_ASSERT_ERR("rotate 1 then 2", decrypt_err(f, f->c), -19);
    /* Step 0 and full turns are the identity without a key. */
    RT_OK(hnnrt_eval_rotate(f->ev, f->c, f->a, (int)S));
    memcpy(f->want, f->x, f->slots * 8);
    RT_ASSERT_ERR("rotate N/2", decrypt_err(f, f->c), -25);
}

static void
hoisted_rotations_match_plain_ones(void **state)
{
    fixture *f = *state;
    encrypt_vec(f, f->a, f->x, 5);
    RT_OK(hnnrt_eval_drop_to(f->ev, f->a, f->a, 5));
    hnnrt_ct *outs[N_STEPS];
    for (size_t s = 0; s < N_STEPS; s++)
        RT_OK(hnnrt_ct_new(f->ctx, &outs[s]));
    RT_OK(hnnrt_eval_rotate_many(f->ev, outs, f->a, steps, N_STEPS));
    const long S = (long)f->slots;
    for (size_t s = 0; s < N_STEPS; s++) {
        for (long i = 0; i < S; i++)
            f->want[i] = f->x[((i + steps[s]) % S + S) % S];
        RT_ASSERT_ERR("hoisted rotation", decrypt_err(f, outs[s]), -20);
        assert_int_equal(hnnrt_ct_level(outs[s]), 5);
        hnnrt_ct_free(outs[s]);
    }
    hnnrt_hoisted *h;
    RT_OK(hnnrt_hoisted_new(f->ev, &h));
    assert_int_equal(hnnrt_eval_rotate_hoisted(f->ev, f->c, h, 1), HNNRT_ERR_ARG); /* nothing hoisted */
    RT_OK(hnnrt_eval_hoist(f->ev, h, f->a));
    RT_OK(hnnrt_eval_rotate_hoisted(f->ev, f->c, h, 0));
    memcpy(f->want, f->x, f->slots * 8);
    RT_ASSERT_ERR("hoisted step 0", decrypt_err(f, f->c), -25);
    assert_int_equal(hnnrt_eval_rotate_hoisted(f->ev, f->c, h, 7), HNNRT_ERR_MISSING_KEY);
    hnnrt_hoisted_free(h);
}

static void
conjugation(void **state)
{
    fixture *f = *state;
    RT_OK(hnnrt_encode_complex(f->enc, f->pt, f->x, f->y, f->slots, 0x1p40, TOP));
    RT_OK(hnnrt_encrypt(f->encr, f->a, f->pt));
    RT_OK(hnnrt_eval_conjugate(f->ev, f->c, f->a));
    RT_OK(hnnrt_decrypt(f->dec, f->pt, f->c));
    double *im = malloc(f->slots * 8), *neg = malloc(f->slots * 8);
    RT_OK(hnnrt_decode_complex(f->enc, f->pt, f->got, im, f->slots));
    for (size_t i = 0; i < f->slots; i++)
        neg[i] = -f->y[i];
    RT_ASSERT_ERR("conjugate (real)", rt_max_err(f->x, f->got, f->slots), -20);
    RT_ASSERT_ERR("conjugate (imaginary)", rt_max_err(neg, im, f->slots), -20);
    free(im);
    free(neg);
}

static void
depth_8_squarings_keep_12_bits(void **state)
{
    fixture *f = *state;
    encrypt_vec(f, f->a, f->x, TOP);
    memcpy(f->want, f->x, f->slots * 8);
    for (int d = 0; d < 8; d++) {
        RT_OK(hnnrt_eval_square_relin(f->ev, f->a, f->a));
        RT_OK(hnnrt_eval_rescale(f->ev, f->a, f->a));
        for (size_t i = 0; i < f->slots; i++)
            f->want[i] *= f->want[i];
    }
    assert_int_equal(hnnrt_ct_level(f->a), 0);
    RT_ASSERT_ERR("depth 8", decrypt_err(f, f->a), -12);
    assert_int_equal(hnnrt_eval_rescale(f->ev, f->a, f->a), HNNRT_ERR_LEVEL_EXHAUSTED);
    assert_non_null(strstr(hnnrt_evaluator_last_error(f->ev), "level 0"));
}

static void
mismatches_are_errors(void **state)
{
    fixture *f = *state;
    encrypt_vec(f, f->a, f->x, TOP);
    encrypt_vec(f, f->b, f->y, TOP - 1);
    assert_int_equal(hnnrt_eval_add(f->ev, f->c, f->a, f->b), HNNRT_ERR_LEVEL_MISMATCH);
    assert_int_equal(hnnrt_eval_mul_ct(f->ev, f->c, f->a, f->b), HNNRT_ERR_LEVEL_MISMATCH);
    RT_OK(hnnrt_eval_drop_to(f->ev, f->c, f->a, TOP - 1));
    RT_OK(hnnrt_eval_add(f->ev, f->c, f->c, f->b)); /* dropped to match: fine */
    assert_int_equal(hnnrt_eval_drop_to(f->ev, f->c, f->b, TOP), HNNRT_ERR_LEVEL_MISMATCH);
    hnnrt_ct_set_scale(f->b, 0x1p41);
    RT_OK(hnnrt_eval_drop_to(f->ev, f->c, f->a, TOP - 1));
    assert_int_equal(hnnrt_eval_add(f->ev, f->c, f->c, f->b), HNNRT_ERR_SCALE_MISMATCH);
    assert_non_null(strstr(hnnrt_evaluator_last_error(f->ev), "scales"));
    RT_OK(hnnrt_eval_mul_ct(f->ev, f->c, f->a, f->a));
    assert_int_equal(hnnrt_eval_rotate(f->ev, f->c, f->c, 1), HNNRT_ERR_SIZE);
    assert_int_equal(hnnrt_eval_mul_ct(f->ev, f->c, f->c, f->a), HNNRT_ERR_SIZE);
    assert_int_equal(hnnrt_eval_rotate(f->ev, f->c, f->a, 7), HNNRT_ERR_MISSING_KEY);
    assert_non_null(strstr(hnnrt_evaluator_last_error(f->ev), "step 7"));
    hnnrt_evaluator *bare;
    RT_OK(hnnrt_evaluator_new(f->ctx, NULL, NULL, &bare));
    RT_OK(hnnrt_eval_mul_ct(bare, f->c, f->a, f->a));
    assert_int_equal(hnnrt_eval_relin(bare, f->c, f->c), HNNRT_ERR_MISSING_KEY);
    assert_int_equal(hnnrt_eval_conjugate(bare, f->c, f->a), HNNRT_ERR_MISSING_KEY);
    hnnrt_evaluator_free(bare);
    /* A ciphertext of another parameter set. */
    hnnrt_context *other = rt_context(rt_spec(12, 3, 60, 40, 1, 60));
    hnnrt_ct *foreign;
    RT_OK(hnnrt_ct_new(other, &foreign));
    RT_OK(hnnrt_ct_reserve(foreign, 2, 0));
    assert_int_equal(hnnrt_eval_add(f->ev, f->c, f->a, foreign), HNNRT_ERR_PARAMS_MISMATCH);
    hnnrt_ct_free(foreign);
    hnnrt_context_free(other);
    hnnrt_ct *empty;
    RT_OK(hnnrt_ct_new(f->ctx, &empty));
    assert_int_equal(hnnrt_eval_negate(f->ev, f->c, empty), HNNRT_ERR_ARG);
    hnnrt_ct_free(empty);
}

/* With outputs already sized, hot operations take no memory. */
static void
steady_state_allocates_nothing(void **state)
{
    fixture *f = *state;
    encrypt_vec(f, f->a, f->x, TOP);
    encrypt_vec(f, f->b, f->y, TOP);
    RT_OK(hnnrt_ct_reserve(f->c, 3, TOP));
    long before = hnnrt_context_live_allocations(f->ctx);
    RT_OK(hnnrt_eval_mul_relin(f->ev, f->c, f->a, f->b));
    RT_OK(hnnrt_eval_rescale(f->ev, f->c, f->c));
    RT_OK(hnnrt_eval_rotate(f->ev, f->c, f->a, 5));
    RT_OK(hnnrt_eval_add(f->ev, f->c, f->c, f->b));
    RT_OK(hnnrt_eval_conjugate(f->ev, f->c, f->a));
    assert_int_equal(hnnrt_context_live_allocations(f->ctx), before);
}

static void
threads_give_identical_bits(void **state)
{
    fixture *f = *state;
    encrypt_vec(f, f->a, f->x, TOP);
    encrypt_vec(f, f->b, f->y, TOP);
    hnnrt_ct *r1, *r2;
    RT_OK(hnnrt_ct_new(f->ctx, &r1));
    RT_OK(hnnrt_ct_new(f->ctx, &r2));
    int saved = hnnrt_context_threads(f->ctx);
    for (int t = 1; t <= 2; t++) {
        hnnrt_context_set_threads(f->ctx, t);
        hnnrt_ct *r = t == 1 ? r1 : r2;
        RT_OK(hnnrt_eval_mul_relin(f->ev, r, f->a, f->b));
        RT_OK(hnnrt_eval_rescale(f->ev, r, r));
        RT_OK(hnnrt_eval_rotate(f->ev, r, r, 5));
    }
    hnnrt_context_set_threads(f->ctx, saved);
    const size_t words = (size_t)(hnnrt_ct_level(r1) + 1) * 4096;
    assert_memory_equal(hnnrt_ct_part(r1, 0), hnnrt_ct_part(r2, 0), words * 8);
    assert_memory_equal(hnnrt_ct_part(r1, 1), hnnrt_ct_part(r2, 1), words * 8);
    hnnrt_ct_free(r1);
    hnnrt_ct_free(r2);
}

static void
sparse_secret_and_seeded_keys(void **state)
{
    fixture *f = *state;
    uint8_t seed[32] = {9};
    hnnrt_keygen *kg1, *kg2;
    RT_OK(hnnrt_keygen_new_seeded_insecure(f->ctx, seed, &kg1));
    RT_OK(hnnrt_keygen_new_seeded_insecure(f->ctx, seed, &kg2));
    hnnrt_secret_key *s1, *s2;
    RT_OK(hnnrt_keygen_secret(kg1, 64, &s1));
    RT_OK(hnnrt_keygen_secret(kg2, 64, &s2));
    unsigned weight = 0;
    for (size_t i = 0; i < 4096; i++)
        weight += s1->coeffs[i] != 0;
    assert_int_equal(weight, 64);
    assert_memory_equal(s1->coeffs, s2->coeffs, 4096 * sizeof *s1->coeffs);
    hnnrt_public_key *pk;
    hnnrt_decryptor *dec;
    hnnrt_encryptor *enc;
    RT_OK(hnnrt_keygen_public(kg1, s1, &pk));
    RT_OK(hnnrt_encryptor_new(f->ctx, pk, NULL, &enc));
    RT_OK(hnnrt_decryptor_new(f->ctx, s1, &dec));
    RT_OK(hnnrt_encode(f->enc, f->pt, f->x, f->slots, 0x1p40, TOP));
    RT_OK(hnnrt_encrypt(enc, f->a, f->pt));
    RT_OK(hnnrt_decrypt(dec, f->pt, f->a));
    RT_OK(hnnrt_decode(f->enc, f->pt, f->got, f->slots));
    RT_ASSERT_ERR("sparse secret", rt_max_err(f->x, f->got, f->slots), -25);
    hnnrt_secret_key *too_heavy = (hnnrt_secret_key *)&weight;
    assert_int_equal(hnnrt_keygen_secret(kg1, 5000, &too_heavy), HNNRT_ERR_ARG);
    assert_null(too_heavy);
    hnnrt_encryptor_free(enc);
    hnnrt_decryptor_free(dec);
    hnnrt_public_key_free(pk);
    hnnrt_secret_key_free(s1);
    hnnrt_secret_key_free(s2);
    hnnrt_keygen_free(kg1);
    hnnrt_keygen_free(kg2);
}

static void
galois_key_bookkeeping(void **state)
{
    fixture *f = *state;
    /* 7 steps + conjugation, all distinct elements. */
    assert_int_equal(hnnrt_galois_keys_count(f->gk), N_STEPS + 1);
    assert_true(hnnrt_galois_keys_has(f->gk, hnnrt_galois_element_rotation(f->ctx, 5)));
    assert_true(hnnrt_galois_keys_has(f->gk, hnnrt_galois_element_conjugate(f->ctx)));
    assert_false(hnnrt_galois_keys_has(f->gk, hnnrt_galois_element_rotation(f->ctx, 7)));
    assert_true(hnnrt_galois_element_rotation(f->ctx, -1) ==
                hnnrt_galois_element_rotation(f->ctx, (int)f->slots - 1));
    assert_true(hnnrt_galois_element_rotation(f->ctx, 0) == 1);
    /* dnum = 9 digits x 10 primes x 4096 words x 2 parts x 8 bytes per key */
    assert_int_equal(hnnrt_galois_keys_bytes(f->gk), (N_STEPS + 1) * 9 * 10 * 4096 * 2 * 8);
    RT_OK(hnnrt_keygen_galois_add(f->kg, f->sk, (const int[]){5, 7}, 2, 0, f->gk));
    assert_int_equal(hnnrt_galois_keys_count(f->gk), N_STEPS + 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fresh_encryption),
        cmocka_unit_test(add_sub_negate),
        cmocka_unit_test(plaintext_operands),
        cmocka_unit_test(constants),
        cmocka_unit_test(mul_relin_rescale),
        cmocka_unit_test(rotations_move_slot_i_to_i_minus_k),
        cmocka_unit_test(hoisted_rotations_match_plain_ones),
        cmocka_unit_test(conjugation),
        cmocka_unit_test(depth_8_squarings_keep_12_bits),
        cmocka_unit_test(mismatches_are_errors),
        cmocka_unit_test(steady_state_allocates_nothing),
        cmocka_unit_test(threads_give_identical_bits),
        cmocka_unit_test(sparse_secret_and_seeded_keys),
        cmocka_unit_test(galois_key_bookkeeping),
    };
    return cmocka_run_group_tests_name("eval", tests, setup, teardown);
}
