/*
 * The end-to-end check of one model compiled by `hnnc compile`: built with the
 * generated NAME.h, NAME_client.c and NAME_server.c (run-e2e.sh passes
 * -DE2E_MODEL=name -DE2E_UP=NAME -DE2E_HEADER='"name.h"'), it plays both
 * sides through the generated API only — keys, encryption, evaluation with
 * the key holder's refresh callback, decryption — and compares the outputs
 * with the same plan on doubles (hnn_tir_eval) and with the executor
 * (hnn_exec_run) on the same inputs and keys. Both make one round trip with
 * the key holder per refresh point and evaluation, carrying the point's
 * ciphertexts.
 *
 *   driver MODEL.hnn SAMPLES [WEIGHTS]   the comparison; exit 0 when within
 *                                        the plan's precision estimate
 *   driver --bad-weights WEIGHTS         NAME_server_new must refuse the file
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "back/exec.h"
#include "front/front.h"
#include "middle/plan.h"
#include "middle/precision.h"
#include E2E_HEADER

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define F(x) CAT(E2E_MODEL, x) /* iris_keygen */
#define M(x) CAT(E2E_UP, x)    /* IRIS_INPUTS */

typedef F(keys) keys_t;
typedef F(client) client_t;
typedef F(server) server_t;

static double
now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static uint64_t
next64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static hnnrt_status
new_server(const hnnrt_context *ctx, const keys_t *k, const char *weights, server_t **srv, hnnrt_error *err)
{
#if M(WEIGHTS_FILE)
    return F(server_new)(ctx, k ? k->relin : NULL, k ? k->galois : NULL, weights, srv, err);
#else
    (void)weights;
    return F(server_new)(ctx, k ? k->relin : NULL, k ? k->galois : NULL, srv, err);
#endif
}

/* A corrupted, truncated or foreign weights file: refused with a SERIAL or
 * IO status before any key is looked at. */
static int
bad_weights(const char *path)
{
    hnnrt_context *ctx;
    hnnrt_error err = {0};
    if (F(context_new)(&ctx, &err) != HNNRT_OK) {
        fprintf(stderr, "context: %s\n", err.message);
        return 1;
    }
    server_t *srv = NULL;
    hnnrt_status st = new_server(ctx, NULL, path, &srv, &err);
    int rc = 0;
    if (st == HNNRT_OK || srv) {
        fprintf(stderr, "the weights file '%s' was accepted\n", path);
        rc = 1;
    } else {
        printf("refused: %s: %s\n", hnnrt_status_name(st), err.message);
    }
    F(server_free)(srv);
    hnnrt_context_free(ctx);
    return rc;
}

/* The key holder's callback, counted; `bad` 1 makes it fail, 2 re-encrypt a
 * level too low. */
typedef struct key_holder {
    client_t *cl;
    int bad;
    size_t calls, cts, largest;
} key_holder;

static int
counted_refresh(void *user, hnnrt_ct *const *cts, size_t n, unsigned level, double scale)
{
    key_holder *k = user;
    k->calls++;
    k->cts += n;
    if (n > k->largest)
        k->largest = n;
    if (k->bad == 1)
        return HNNRT_ERR_IO;
    return F(client_refresh)(k->cl, cts, n, k->bad == 2 ? level - 1 : level, scale);
}

#define CHECK(call, what)                                                                                      \
    do {                                                                                                       \
        hnnrt_status st_ = (call);                                                                             \
        if (st_ != HNNRT_OK) {                                                                                 \
            fprintf(stderr, "%s: %s\n", what, hnnrt_status_name(st_));                                         \
            return 1;                                                                                          \
        }                                                                                                      \
    } while (0)

int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--bad-weights") == 0)
        return bad_weights(argv[2]);
    if (argc < 3) {
        fprintf(stderr, "usage: driver MODEL.hnn SAMPLES [WEIGHTS] | --bad-weights WEIGHTS\n");
        return 2;
    }
    const char *weights = argc > 3 ? argv[3] : NULL;
    size_t n = (size_t)strtoul(argv[2], NULL, 10);

    /* The plan again, from the same model: the reference and the executor. */
    hnn_arena *arena = hnn_arena_new();
    hnn_diag *diag = hnn_diag_new();
    hnn_model *m = hnn_front_check_file(argv[1], NULL, arena, diag, NULL);
    hnn_plan_options po = {0};
    hnn_plan *plan = m ? hnn_plan_build(m, &po, arena, diag) : NULL;
    if (!plan) {
        hnn_diag_print(diag, stderr);
        return 1;
    }
    const hnn_hir *h = plan->hir;
    const hnn_tir *tir = plan->tir;
    hnnrt_params_spec spec;
    F(params)(&spec);
    if (spec.log_n != plan->params.spec.log_n || spec.n_data_primes != plan->params.spec.n_data_primes ||
        M(INPUTS) != h->n_inputs || M(OUTPUTS) != h->n_outputs || M(CIPHERTEXTS_IN) != plan->ciphertexts_in ||
        M(CIPHERTEXTS_OUT) != plan->ciphertexts_out) {
        fprintf(stderr, "the generated code does not describe this plan\n");
        return 1;
    }
    if (M(VECTOR_PACKING) && n > 8)
        n = 8;
    if (!M(VECTOR_PACKING) && n > M(BATCH_MAX))
        n = M(BATCH_MAX);

    /* Client: context, keys, client; server: the evaluation keys only. */
    hnnrt_context *ctx;
    hnnrt_error err = {0};
    if (F(context_new)(&ctx, &err) != HNNRT_OK) {
        fprintf(stderr, "context: %s\n", err.message);
        return 1;
    }
    keys_t keys;
    double t0 = now_ms();
    CHECK(F(keygen)(ctx, &keys), "keygen");
    double keygen_ms = now_ms() - t0;
    /* Exactly the keys the circuit needs. */
    uint64_t counts[HNN_HIR__COUNT];
    hnn_hir_count(h, counts);
    size_t galois = keys.galois ? hnnrt_galois_keys_count(keys.galois) : 0;
    if ((keys.relin != NULL) != (counts[HNN_HIR_RELIN] > 0) ||
        galois != plan->n_rotation_steps + (plan->conjugates ? 1u : 0u)) {
        fprintf(stderr, "keys: relinearisation %s, %zu Galois keys; the circuit has %llu relin, %u rotation steps\n",
                keys.relin ? "made" : "not made", galois, (unsigned long long)counts[HNN_HIR_RELIN],
                plan->n_rotation_steps);
        return 1;
    }
    client_t *cl;
    CHECK(F(client_new)(ctx, &keys, &cl), "client");
    server_t *srv;
    t0 = now_ms();
    if (new_server(ctx, &keys, weights, &srv, &err) != HNNRT_OK) {
        fprintf(stderr, "server: %s\n", err.message);
        return 1;
    }
    double setup_ms = now_ms() - t0;

    /* Inputs uniform over the hull of the model's ranges widened by a tenth
     * on each side: the values outside their element's range are clamped by
     * the encoders, and the reference sees them clamped. */
    double lo = tir->input->range.lo, hi = tir->input->range.hi, wide = 0.1 * (hi - lo);
    double *x = malloc(n * M(INPUTS) * sizeof *x), *x_in = malloc(n * M(INPUTS) * sizeof *x_in);
    double *y = malloc(n * M(OUTPUTS) * sizeof *y), *prob = malloc(n * M(OUTPUTS) * sizeof *prob);
    double *y_exec = malloc(n * M(OUTPUTS) * sizeof *y_exec);
    double *scratch = malloc(hnn_tir_eval_scratch(tir) * sizeof *scratch);
    double *want = malloc((tir->output->size + 1) * sizeof *want);
    uint64_t seed = 2024;
    for (size_t i = 0; i < n * M(INPUTS); i++)
        x[i] = lo - wide + (hi - lo + 2 * wide) * (double)(next64(&seed) >> 11) * 0x1p-53;
    memcpy(x_in, x, n * M(INPUTS) * sizeof *x);
    size_t clamped = hnn_input_clamp(m->input, x_in, n);
    hnnrt_ct *in[M(CIPHERTEXTS_IN)], *out[M(CIPHERTEXTS_OUT)];
    for (unsigned k = 0; k < M(CIPHERTEXTS_IN); k++)
        CHECK(hnnrt_ct_new(ctx, &in[k]), "ct");
    for (unsigned k = 0; k < M(CIPHERTEXTS_OUT); k++)
        CHECK(hnnrt_ct_new(ctx, &out[k]), "ct");

    /* Batch: one evaluation for all the samples; vector: one per sample. */
    size_t passes = M(VECTOR_PACKING) ? n : 1, per = M(VECTOR_PACKING) ? 1 : n;
    double eval_ms = 0;
    key_holder kh = {cl, 0, 0, 0, 0};
    for (size_t pass = 0; pass < passes; pass++) {
        CHECK(F(encrypt)(cl, x + pass * M(INPUTS), per, in), F(client_last_error)(cl));
        t0 = now_ms();
        if (F(evaluate)(srv, (const hnnrt_ct *const *)in, out, counted_refresh, &kh) != HNNRT_OK) {
            fprintf(stderr, "evaluate: %s\n", F(server_last_error)(srv));
            return 1;
        }
        eval_ms += now_ms() - t0;
        CHECK(F(decrypt_logits)(cl, (const hnnrt_ct *const *)out, per, y + pass * M(OUTPUTS)),
              F(client_last_error)(cl));
        CHECK(F(decrypt)(cl, (const hnnrt_ct *const *)out, per, prob + pass * M(OUTPUTS)), F(client_last_error)(cl));
    }
    if (F(client_clamped)(cl) != clamped) {
        fprintf(stderr, "the client clamped %zu values; %zu lie outside their ranges\n", F(client_clamped)(cl), clamped);
        return 1;
    }
    /* Without the key holder, a circuit with refresh points is refused. */
    if (M(REFRESHES)) {
        if (F(evaluate)(srv, (const hnnrt_ct *const *)in, out, NULL, NULL) == HNNRT_OK) {
            fprintf(stderr, "evaluate without a refresh callback succeeded\n");
            return 1;
        }
        printf("  without a refresh callback: %s\n", F(server_last_error)(srv));
        /* A key holder that fails, or answers at another level, stops the
         * evaluation at the first point, which the message names. */
        static const char *const said[] = {"", "the key holder's refresh failed", "the key holder's refresh returned"};
        for (int bad = 1; bad <= 2; bad++) {
            key_holder evil = {cl, bad, 0, 0, 0};
            if (F(evaluate)(srv, (const hnnrt_ct *const *)in, out, counted_refresh, &evil) == HNNRT_OK ||
                evil.calls != 1 || !strstr(F(server_last_error)(srv), said[bad])) {
                fprintf(stderr, "a bad key holder (%d): %zu calls, '%s'\n", bad, evil.calls, F(server_last_error)(srv));
                return 1;
            }
            printf("  a bad key holder: %s\n", F(server_last_error)(srv));
        }
    }

    /* The executor on the same inputs with the same keys. */
    hnn_exec_keys ek = {.ctx = ctx, .sk = keys.secret, .pk = keys.public_key, .rk = keys.relin, .gk = keys.galois};
    hnn_exec_stats xs;
    char xerr[256];
    if (hnn_exec_run(plan, &ek, x, n, y_exec, &xs, xerr, sizeof xerr) != 0) {
        fprintf(stderr, "executor: %s\n", xerr);
        return 1;
    }
    /* One round trip per refresh point and evaluation, on both sides, each
     * carrying all of its point's ciphertexts. */
    if (M(REFRESHES) != plan->n_refresh_points || M(REFRESH_CIPHERTEXTS) != plan->refresh_ciphertexts ||
        kh.calls != passes * plan->n_refresh_points || kh.cts != passes * plan->refresh_ciphertexts ||
        kh.largest > M(REFRESH_MAX) || xs.evaluations != passes || xs.refresh_round_trips != kh.calls ||
        xs.refreshes != kh.cts) {
        fprintf(stderr,
                "refresh: the plan has %u points of %llu ciphertexts per evaluation, the header says %u of %u "
                "(at most %u at once); %zu evaluations: the generated server made %zu round trips of %zu "
                "ciphertexts (at most %zu at once), the executor %zu of %zu in %zu evaluations\n",
                plan->n_refresh_points, (unsigned long long)plan->refresh_ciphertexts, (unsigned)M(REFRESHES),
                (unsigned)M(REFRESH_CIPHERTEXTS), (unsigned)M(REFRESH_MAX), passes, kh.calls, kh.cts, kh.largest,
                xs.refresh_round_trips, xs.refreshes, xs.evaluations);
        return 1;
    }

    /* The plan on doubles: logits (the softargmax's input) and outputs. */
    const hnn_tir_node *logits_node = tir->output->kind == HNN_TIR_SOFTARGMAX ? tir->output->in[0] : tir->output;
    size_t logits_at = 0;
    for (uint32_t i = 0; i < logits_node->id; i++)
        logits_at += tir->nodes[i]->size;
    double e_gen = 0, e_exec = 0, e_both = 0, e_prob = 0;
    for (size_t s = 0; s < n; s++) {
        hnn_tir_eval(tir, x_in + s * M(INPUTS), want, scratch);
        for (unsigned k = 0; k < M(OUTPUTS); k++) {
            double ref = scratch[logits_at + k], g = y[s * M(OUTPUTS) + k], e = y_exec[s * M(OUTPUTS) + k];
            e_gen = fmax(e_gen, fabs(g - ref));
            e_exec = fmax(e_exec, fabs(e - ref));
            e_both = fmax(e_both, fabs(g - e));
            e_prob = fmax(e_prob, fabs(prob[s * M(OUTPUTS) + k] - want[k]));
            if (!isfinite(g))
                e_gen = INFINITY;
        }
    }
    double bound = plan->precision->max_abs_error;
    double prob_bound = tir->output->kind == HNN_TIR_SOFTARGMAX ? 2 * bound / tir->output->u.softargmax.temperature
                                                                 : bound;
    printf("  %zu samples (%zu values clamped): generated vs plan 2^%.1f, executor vs plan 2^%.1f, generated vs"
           " executor 2^%.1f; estimate 2^%.1f\n",
           n, clamped, log2(e_gen), log2(e_exec), log2(e_both), log2(bound));
    printf("  keygen %.0f ms, server setup %.1f ms, evaluation %.1f ms (executor %.1f ms), %zu refresh round trips"
           " (%zu ciphertexts)\n",
           keygen_ms, setup_ms, eval_ms, xs.eval_ms, kh.calls, kh.cts);
    int rc = 0;
    if (!(e_gen <= bound) || !(e_both <= 2 * bound) || !(e_prob <= prob_bound)) {
        fprintf(stderr, "outside the precision estimate (probabilities 2^%.1f, bound 2^%.1f)\n", log2(e_prob),
                log2(prob_bound));
        rc = 1;
    }
    for (unsigned k = 0; k < M(CIPHERTEXTS_IN); k++)
        hnnrt_ct_free(in[k]);
    for (unsigned k = 0; k < M(CIPHERTEXTS_OUT); k++)
        hnnrt_ct_free(out[k]);
    F(server_free)(srv);
    F(client_free)(cl);
    F(keys_free)(&keys);
    hnnrt_context_free(ctx);
    free(x);
    free(x_in);
    free(y);
    free(prob);
    free(y_exec);
    free(scratch);
    free(want);
    hnn_diag_free(diag);
    hnn_arena_free(arena);
    return rc;
}
