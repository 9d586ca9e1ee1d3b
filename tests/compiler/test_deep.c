/*
 * A network deeper than its ring holds, planned with client-aided refreshes:
 * it runs encrypted with the in-process key holder and matches the tensor
 * IR on doubles, and what the key holder sees at a refresh is masked.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "back/exec.h"
#include "front/front.h"
#include "middle/plan.h"
#include "middle/precision.h"
#include "plan_test.h"

static const char deep_model[] =
    "model deep { input x: vector(3) range [-1, 1];\n"
    "  layer d1 = dense(x, 3, weight [[0.5, -0.4, 0.3], [0.2, 0.6, -0.5], [-0.3, 0.2, 0.7]], bias [0.1, 0, -0.1]);\n"
    "  layer s1 = square(d1);\n"
    "  layer d2 = dense(s1, 3, weight [[0.9, -0.2, 0.4], [0.3, 0.8, -0.6], [-0.5, 0.1, 0.9]], bias [0, 0.2, 0]);\n"
    "  layer s2 = square(d2);\n"
    "  layer d3 = dense(s2, 3, weight [[0.7, 0.3, -0.4], [-0.2, 0.9, 0.1], [0.4, -0.6, 0.8]], bias [0.1, 0.1, 0.1]);\n"
    "  layer s3 = square(d3);\n"
    "  layer d4 = dense(s3, 2, weight [[1, -1, 0.5], [0.5, 0.5, -1]], bias [0, 0]);\n"
    "  output d4;\n"
    "  hints { packing batch; refresh client; ring 2^13; }\n"
    "}\n";


static void
deep_network_runs_with_refreshes(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    hnn_diag *diag = hnn_diag_new();
    hnn_model *m = hnn_front_check_text("deep.hnn", deep_model, strlen(deep_model), ".", NULL, arena, diag, NULL);
    hnn_plan_options po = {.verify_each = true};
    hnn_plan *plan = m ? hnn_plan_build(m, &po, arena, diag) : NULL;
    if (!plan)
        hnn_diag_print(diag, stderr);
    assert_non_null(plan);
    /* 7 levels do not fit the 3 levels of 2^13: the key holder refreshes. */
    assert_int_equal(plan->params.spec.log_n, 13);
    assert_true(plan->n_refresh_points >= 2);
    assert_true(plan->refresh_hiding_bits >= 20);
    print_message("  refresh points %u, ciphertexts %llu, mask hiding %u bits, chain %u levels\n",
                  plan->n_refresh_points, (unsigned long long)plan->refresh_ciphertexts, plan->refresh_hiding_bits,
                  plan->params.spec.n_data_primes - 1);

    hnn_exec_keys keys;
    char err[256];
    if (hnn_exec_keys_new(plan, &keys, err, sizeof err) != 0)
        fail_msg("keys: %s", err);
    enum { SAMPLES = 32, RUNS = 12 };
    const hnn_tir *tir = plan->tir;
    size_t scratch_len = hnn_tir_eval_scratch(tir);
    double *scratch = malloc(scratch_len * sizeof *scratch), *want = malloc(8 * sizeof *want);
    double x[SAMPLES * 3], y[SAMPLES * 2];
    double seen[RUNS * 64], truth[RUNS * 64];
    size_t n_pairs = 0;
    uint64_t seed = 7;
    double max_err = 0;
    for (int run = 0; run < RUNS; run++) {
        for (size_t i = 0; i < SAMPLES * 3; i++)
            x[i] = 2 * unit(&seed) - 1;
        keys.seen = seen + n_pairs;
        keys.n_seen = 0;
        keys.seen_cap = RUNS * 64 - n_pairs;
        hnn_exec_stats st;
        if (hnn_exec_run(plan, &keys, x, SAMPLES, y, &st, err, sizeof err) != 0)
            fail_msg("run: %s", err);
        assert_int_equal(st.refreshes, plan->refresh_ciphertexts);
        /* The true values the key holder would have seen without the mask:
         * slot 0 is sample 0; each refreshed ciphertext is one element of a
         * refreshed node, in HE IR order. */
        hnn_tir_eval(tir, x, want, scratch);
        const hnn_hir *h = plan->hir;
        size_t k = 0;
        for (uint32_t i = 0; i < h->n_nodes && k < keys.n_seen; i++) {
            if (h->nodes[i].op != HNN_HIR_REFRESH)
                continue;
            /* the value refreshed: element j of tensor-IR node t for sample 0 */
            uint32_t t = h->nodes[i].tir, off = 0;
            for (uint32_t u = 0; u < t; u++)
                off += tir->nodes[u]->size;
            uint32_t j = 0;
            for (uint32_t q = 0; q < i; q++)
                j += h->nodes[q].op == HNN_HIR_REFRESH && h->nodes[q].tir == t;
            truth[n_pairs + k] = scratch[off + j];
            k++;
        }
        n_pairs += keys.n_seen;
        for (size_t s = 0; s < SAMPLES; s++) {
            hnn_tir_eval(tir, x + 3 * s, want, scratch);
            for (int o = 0; o < 2; o++)
                max_err = fmax(max_err, fabs(want[o] - y[2 * s + o]));
        }
    }
    print_message("  measured max abs error %.3g (2^%.1f) over %d samples\n", max_err, log2(max_err),
                  SAMPLES * RUNS);
    assert_true(max_err < 1e-3);
    /* The estimate accounts for the masks: within 3 bits, never more than 1 bit optimistic. */
    double est = plan->precision->precision_bits, measured = -log2(max_err);
    print_message("  precision estimated %.1f bits, measured %.1f bits\n", est, measured);
    assert_true(fabs(est - measured) <= 3.0);
    assert_true(est <= measured + 1.0);
    /* The key holder's view: masked values far larger than the true ones and
     * uncorrelated with them. */
    double ms = 0, mt = 0, sst = 0, sss = 0, sxy = 0, max_true = 0, min_seen = INFINITY;
    for (size_t i = 0; i < n_pairs; i++) {
        ms += seen[i];
        mt += truth[i];
    }
    ms /= (double)n_pairs;
    mt /= (double)n_pairs;
    for (size_t i = 0; i < n_pairs; i++) {
        sss += (seen[i] - ms) * (seen[i] - ms);
        sst += (truth[i] - mt) * (truth[i] - mt);
        sxy += (seen[i] - ms) * (truth[i] - mt);
        max_true = fmax(max_true, fabs(truth[i]));
        min_seen = fmin(min_seen, fabs(seen[i]));
    }
    double corr = sxy / sqrt(sss * sst);
    print_message("  key holder's view: %zu values, correlation with the true values %.3f, "
                  "rms seen %.3g vs max true %.3g\n",
                  n_pairs, corr, sqrt(sss / (double)n_pairs), max_true);
    assert_true(n_pairs >= 100);
    assert_true(fabs(corr) < 0.3);
    assert_true(sqrt(sss / (double)n_pairs) > 1000 * max_true);
    free(scratch);
    free(want);
    hnn_exec_keys_free(&keys);
    hnn_diag_free(diag);
    hnn_arena_free(arena);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deep_network_runs_with_refreshes),
    };
    return cmocka_run_group_tests_name("deep", tests, NULL, NULL);
}
