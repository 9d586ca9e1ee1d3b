/*
 * The runtime demo: a client encrypts a batch of samples, a server scores
 * them with a logistic-regression model (weights in plaintext, a degree-3
 * sigmoid approximation) holding only the public evaluation keys, and the
 * client decrypts and compares with the same computation in plaintext.
 *
 * Batch packing: slot i of ciphertext j holds feature j of sample i, so the
 * model runs on N/2 samples at once with no rotation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hnnrt.h"

#define FEATURES 8

static double
now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int
check(hnnrt_status st, const char *what, const char *detail)
{
    if (st == HNNRT_OK)
        return 0;
    fprintf(stderr, "demo: %s: %s%s%s\n", what, hnnrt_status_message(st), detail ? ": " : "", detail ? detail : "");
    return 1;
}

/* sigmoid(x) ~ 0.5 + 0.197 x - 0.004 x^3 on [-8, 8] (least squares). */
static const double c0 = 0.5, c1 = 0.197, c3 = -0.004;

static double
plain_model(const double *x, const double *w, double b)
{
    double z = b;
    for (int j = 0; j < FEATURES; j++)
        z += w[j] * x[j];
    return c0 + c1 * z + c3 * z * z * z;
}

int
main(void)
{
    /* N = 2^14, primes 60 | 4 x 40 | 60: 280 bits, within 438 for 128-bit security. */
    hnnrt_params_spec spec = {.log_n = 14,
                              .n_data_primes = 4,
                              .data_bits = {60, 40, 40, 40},
                              .n_special_primes = 1,
                              .special_bits = {60}};
    hnnrt_context *ctx;
    hnnrt_error err;
    if (check(hnnrt_context_new(&ctx, &spec, 0, &err), "parameters", err.message))
        return 1;
    const size_t slots = hnnrt_context_slots(ctx);
    const double scale = 0x1p40;
    printf("hnnrt demo — encrypted logistic regression, batch packing\n");
    printf("  ring N = 2^%u (%zu slots), levels %u, log2(QP) = %.0f, security %d-bit (HE Standard)\n",
           hnnrt_context_log_n(ctx), slots, hnnrt_context_max_level(ctx), hnnrt_context_log_qp(ctx),
           (int)hnnrt_context_security(ctx));

    /* Data and model (deterministic). */
    double *x = malloc(slots * FEATURES * sizeof *x), w[FEATURES], b = -0.2;
    unsigned long s = 12345;
    for (size_t i = 0; i < slots * FEATURES; i++) {
        s = s * 6364136223846793005ul + 1442695040888963407ul;
        x[i] = ((double)(s >> 11) / 9007199254740992.0) * 2 - 1;
    }
    for (int j = 0; j < FEATURES; j++)
        w[j] = 0.9 * cos(1.7 * j);

    /* Client: keys and encryption. */
    double t0 = now_ms();
    hnnrt_keygen *kg;
    hnnrt_secret_key *sk;
    hnnrt_public_key *pk;
    hnnrt_relin_key *rk;
    if (check(hnnrt_keygen_new(ctx, &kg), "keygen", NULL) || check(hnnrt_keygen_secret(kg, 0, &sk), "secret key", NULL) ||
        check(hnnrt_keygen_public(kg, sk, &pk), "public key", NULL) ||
        check(hnnrt_keygen_relin(kg, sk, &rk), "relinearisation key", NULL))
        return 1;
    double t_keys = now_ms() - t0;
    hnnrt_encoder *enc;
    hnnrt_encryptor *encr;
    hnnrt_pt *pt;
    hnnrt_ct *in[FEATURES];
    if (hnnrt_encoder_new(ctx, &enc) || hnnrt_encryptor_new(ctx, pk, NULL, &encr) || hnnrt_pt_new(ctx, &pt))
        return 1;
    double *col = malloc(slots * sizeof *col);
    t0 = now_ms();
    for (int j = 0; j < FEATURES; j++) {
        for (size_t i = 0; i < slots; i++)
            col[i] = x[i * FEATURES + j];
        if (check(hnnrt_ct_new(ctx, &in[j]), "ciphertext", NULL) ||
            check(hnnrt_encode(enc, pt, col, slots, scale, 3), "encode", hnnrt_encoder_last_error(enc)) ||
            check(hnnrt_encrypt(encr, in[j], pt), "encrypt", hnnrt_encryptor_last_error(encr)))
            return 1;
    }
    double t_enc = now_ms() - t0;

    /* Server: z = b + sum w_j x_j (level 3 -> 2), then c0 + c1 z + c3 z^3 (2 -> 0). */
    hnnrt_evaluator *ev;
    hnnrt_ct *z, *t, *z2;
    if (hnnrt_evaluator_new(ctx, rk, NULL, &ev) || hnnrt_ct_new(ctx, &z) || hnnrt_ct_new(ctx, &t) ||
        hnnrt_ct_new(ctx, &z2))
        return 1;
    t0 = now_ms();
    int bad = 0;
    for (int j = 0; j < FEATURES && !bad; j++) {
        bad |= check(hnnrt_eval_mul_const(ev, j ? t : z, in[j], w[j], scale), "mul_const", hnnrt_evaluator_last_error(ev));
        if (j)
            bad |= check(hnnrt_eval_add(ev, z, z, t), "add", hnnrt_evaluator_last_error(ev));
    }
    bad = bad || check(hnnrt_eval_rescale(ev, z, z), "rescale", hnnrt_evaluator_last_error(ev)) ||
          check(hnnrt_eval_add_const(ev, z, z, b), "add_const", hnnrt_evaluator_last_error(ev)) ||
          /* z^2 (level 1), c3 z (level 1), c3 z^3 (level 0) */
          check(hnnrt_eval_square_relin(ev, z2, z), "square", hnnrt_evaluator_last_error(ev)) ||
          check(hnnrt_eval_rescale(ev, z2, z2), "rescale", hnnrt_evaluator_last_error(ev)) ||
          check(hnnrt_eval_mul_const(ev, t, z, c3, hnnrt_context_prime(ctx, 2)), "mul_const", hnnrt_evaluator_last_error(ev)) ||
          check(hnnrt_eval_rescale(ev, t, t), "rescale", hnnrt_evaluator_last_error(ev)) ||
          check(hnnrt_eval_mul_relin(ev, t, t, z2), "mul_relin", hnnrt_evaluator_last_error(ev)) ||
          check(hnnrt_eval_rescale(ev, t, t), "rescale", hnnrt_evaluator_last_error(ev)) ||
          /* c1 z at t's level and scale, then the constant */
          check(hnnrt_eval_mul_const(ev, z, z, c1,
                                     hnnrt_ct_scale(t) * (double)hnnrt_context_prime(ctx, 2) / hnnrt_ct_scale(z)),
                "mul_const", hnnrt_evaluator_last_error(ev)) ||
          check(hnnrt_eval_rescale(ev, z, z), "rescale", hnnrt_evaluator_last_error(ev)) ||
          check(hnnrt_eval_drop_to(ev, z, z, 0), "drop", hnnrt_evaluator_last_error(ev));
    /* c1 z was encoded at the scale that lands it exactly on c3 z^3's scale. */
    bad = bad || check(hnnrt_eval_add(ev, t, t, z), "add", hnnrt_evaluator_last_error(ev)) ||
          check(hnnrt_eval_add_const(ev, t, t, c0), "add_const", hnnrt_evaluator_last_error(ev));
    if (bad)
        return 1;
    double t_eval = now_ms() - t0;

    /* Client: decrypt and compare. */
    hnnrt_decryptor *dec;
    double *got = malloc(slots * sizeof *got);
    if (hnnrt_decryptor_new(ctx, sk, &dec) || check(hnnrt_decrypt(dec, pt, t), "decrypt", NULL) ||
        check(hnnrt_decode(enc, pt, got, slots), "decode", hnnrt_encoder_last_error(enc)))
        return 1;
    double max_err = 0;
    size_t agree = 0;
    for (size_t i = 0; i < slots; i++) {
        double want = plain_model(x + i * FEATURES, w, b);
        max_err = fmax(max_err, fabs(want - got[i]));
        agree += (want >= 0.5) == (got[i] >= 0.5);
    }
    printf("  keys %.0f ms, encrypt %d features x %zu samples %.0f ms, evaluate %.1f ms (%.3f ms per sample)\n",
           t_keys, FEATURES, slots, t_enc, t_eval, t_eval / (double)slots);
    printf("  encrypted vs plaintext: max abs error %.2e (2^%.1f), predicted classes agree on %zu / %zu samples\n",
           max_err, log2(max_err), agree, slots);
    int ok = max_err < 0x1p-15 && agree == slots;
    printf("  %s\n", ok ? "OK: the encrypted result matches the plaintext model" : "FAILED: results differ");

    for (int j = 0; j < FEATURES; j++)
        hnnrt_ct_free(in[j]);
    hnnrt_ct_free(z);
    hnnrt_ct_free(t);
    hnnrt_ct_free(z2);
    hnnrt_pt_free(pt);
    hnnrt_evaluator_free(ev);
    hnnrt_decryptor_free(dec);
    hnnrt_encryptor_free(encr);
    hnnrt_encoder_free(enc);
    hnnrt_relin_key_free(rk);
    hnnrt_public_key_free(pk);
    hnnrt_secret_key_free(sk);
    hnnrt_keygen_free(kg);
    hnnrt_context_free(ctx);
    free(x);
    free(col);
    free(got);
    return ok ? 0 : 1;
}
