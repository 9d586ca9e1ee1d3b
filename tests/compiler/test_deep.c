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
#include "middle/tir.h"
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
    bool same_point[RUNS * 64]; /* seen[i] came in the same round trip as seen[i - 1] */
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
        /* One round trip per refresh point, carrying all its ciphertexts. */
        assert_int_equal(st.evaluations, 1);
        assert_int_equal(st.refresh_round_trips, plan->n_refresh_points);
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
            same_point[n_pairs + k] = i > 0 && h->nodes[i - 1].op == HNN_HIR_REFRESH && h->nodes[i - 1].tir == t;
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
    /* Each ciphertext of a round trip has a mask of its own: two of one
     * point differ by far more than their true values can (with one mask
     * for all, by at most 2 max_true). */
    size_t within = 0, close = 0;
    for (size_t i = 1; i < n_pairs; i++)
        if (same_point[i]) {
            within++;
            close += fabs(seen[i] - seen[i - 1]) <= 1000 * max_true;
        }
    print_message("  %zu pairs of values in one round trip, %zu of them within 1000 max_true of each other\n", within,
                  close);
    assert_true(within >= 50);
    assert_true(close * 20 < within);
    free(scratch);
    free(want);
    hnn_exec_keys_free(&keys);
    hnn_diag_free(diag);
    hnn_arena_free(arena);
}

/*
 * A deep relu network (6 dense layers of 8 with degree-3 relu fits on
 * [-2, 2], weights uniform in +-0.7) whose typical values stay in the
 * activations' intervals but whose interval-arithmetic bounds do not: each
 * quadratic fit evaluated beyond its interval widens the next bound, and
 * the growth compounds. `interval` is the last activation's interval.
 */
enum { DEEP_LAYERS = 6, DEEP_WIDTH = 8, DEEP_OUT = 2 };
#define DEEP_W 0.7

static char *
deep_relu_model_of(int layers, const char *last_interval)
{
    size_t cap = 64 * 1024, n = 0;
    char *src = malloc(cap);
    uint64_t seed = 11;
    n += (size_t)snprintf(src + n, cap - n, "model deepr {\n  input x: vector(%d) range [-1, 1];\n", DEEP_WIDTH);
    const char *prev = "x";
    char name[16];
    for (int l = 1; l <= layers + 1; l++) {
        int units = l <= layers ? DEEP_WIDTH : DEEP_OUT;
        n += (size_t)snprintf(src + n, cap - n, "  layer h%d = dense(%s, %d, weight [", l, prev, units);
        for (int r = 0; r < units; r++) {
            n += (size_t)snprintf(src + n, cap - n, "%s[", r ? ", " : "");
            for (int c = 0; c < DEEP_WIDTH; c++)
                n += (size_t)snprintf(src + n, cap - n, "%s%.4f", c ? ", " : "", 2 * DEEP_W * unit(&seed) - DEEP_W);
            n += (size_t)snprintf(src + n, cap - n, "]");
        }
        n += (size_t)snprintf(src + n, cap - n, "], bias [");
        for (int r = 0; r < units; r++)
            n += (size_t)snprintf(src + n, cap - n, "%s%.4f", r ? ", " : "", 0.2 * unit(&seed) - 0.1);
        n += (size_t)snprintf(src + n, cap - n, "]);\n");
        if (l <= layers) {
            n += (size_t)snprintf(src + n, cap - n, "  layer a%d = relu(h%d, degree 3, interval %s);\n", l, l,
                                  l == layers ? last_interval : "[-2, 2]");
            snprintf(name, sizeof name, "a%d", l);
            prev = name;
        }
    }
    n += (size_t)snprintf(src + n, cap - n, "  output h%d;\n  hints { packing batch; refresh client; bounds intervals; }\n}\n",
                          layers + 1);
    assert_true(n < cap);
    return src;
}

static char *
deep_relu_model(const char *last_interval)
{
    return deep_relu_model_of(DEEP_LAYERS, last_interval);
}

/* Offset of node k's values in hnn_tir_eval's scratch. */
static size_t
node_offset(const hnn_tir *tir, uint32_t k)
{
    size_t off = 0;
    for (uint32_t u = 0; u < k; u++)
        off += tir->nodes[u]->size;
    return off;
}

/* Whether every fitted activation's input lies in its interval. */
static bool
inside_intervals(const hnn_tir *tir, const double *scratch)
{
    for (uint32_t k = 0; k < tir->n_nodes; k++) {
        const hnn_tir_node *p = tir->nodes[k];
        if (p->kind != HNN_TIR_POLY || p->u.poly.power)
            continue;
        const double *v = scratch + node_offset(tir, p->in[0]->id);
        for (uint32_t j = 0; j < p->size; j++)
            if (v[j] < p->u.poly.cheb.lo || v[j] > p->u.poly.cheb.hi)
                return false;
    }
    return true;
}

/* Interval arithmetic alone loses a deep network's bounds; the planner's
 * assumption that each activation's input stays in its declared interval
 * keeps them near the values, and they hold for every input that keeps
 * that promise. The plan then fits 128-bit security with refreshes (with
 * the sound bounds q0 alone would exceed every ring). */
static void
deep_bounds_assume_the_activation_intervals(void **state)
{
    (void)state;
    char *src = deep_relu_model("[-2, 2]");
    hnn_arena *arena = hnn_arena_new();
    hnn_diag *diag = hnn_diag_new();
    hnn_model *m = hnn_front_check_text("deepr.hnn", src, strlen(src), ".", NULL, arena, diag, NULL);
    if (!m)
        hnn_diag_print(diag, stderr);
    assert_non_null(m);
    hnn_tir *tir = hnn_tir_build(m, arena, diag);
    assert_non_null(tir);
    hnn_tir_simplify(tir, arena);
    const hnn_tir_node *out = tir->output;
    double sound = fmax(fabs(out->range.lo), fabs(out->range.hi));
    uint32_t relied = hnn_tir_assume_intervals(tir);
    double assumed = fmax(fabs(out->range.lo), fabs(out->range.hi));
    print_message("  output bound: %.3g by interval arithmetic, %.3g assuming the intervals (%u relied on)\n",
                  sound, assumed, relied);
    assert_true(relied >= 3);
    assert_true(sound > 1e6);
    assert_true(assumed < 20);
    char why[256];
    assert_true(hnn_tir_verify(tir, why, sizeof why));

    /* Sound for the inputs that keep every activation in its interval. */
    size_t scratch_len = hnn_tir_eval_scratch(tir);
    double *scratch = malloc(scratch_len * sizeof *scratch), x[DEEP_WIDTH], y[DEEP_OUT];
    uint64_t seed = 5;
    unsigned kept = 0, trials = 4000;
    double peak = 0;
    for (unsigned t = 0; t < trials; t++) {
        for (int i = 0; i < DEEP_WIDTH; i++)
            x[i] = t % 4 == 0 ? (unit(&seed) < 0.5 ? -1 : 1) : 2 * unit(&seed) - 1;
        hnn_tir_eval(tir, x, y, scratch);
        if (!inside_intervals(tir, scratch))
            continue;
        kept++;
        for (uint32_t k = 0; k < tir->n_nodes; k++) {
            const hnn_tir_node *n = tir->nodes[k];
            const double *v = scratch + node_offset(tir, k);
            for (uint32_t j = 0; j < n->size; j++) {
                if (!(v[j] >= n->elem_lo[j] && v[j] <= n->elem_hi[j]))
                    fail_msg("%%%u %s[%u] = %.17g outside [%.17g, %.17g]", k, n->name, j, v[j], n->elem_lo[j],
                             n->elem_hi[j]);
                if (n == out)
                    peak = fmax(peak, fabs(v[j]));
            }
        }
    }
    print_message("  %u of %u inputs keep the intervals; their outputs reach %.3g\n", kept, trials, peak);
    assert_true(kept > trials / 2);
    free(scratch);
    hnn_diag_free(diag);
    hnn_arena_free(arena);

    planned p = plan_text(src);
    assert_true(p.plan->n_refresh_points >= 1);
    assert_true(p.plan->params.spec.security == HNNRT_SECURITY_128);
    planned_free(&p);
    free(src);
}

/* A refresh after a dense layer whose activation's change of variable the
 * lowering folds into it carries t = alpha y + beta: the mask is sized for
 * t. With a narrow interval t is larger than y, so a mask sized for y's
 * range would hide less than the plan reports. */
static void
refresh_masks_are_sized_in_the_circuits_units(void **state)
{
    (void)state;
    char *src = deep_relu_model("[0, 0.25]");
    planned p = plan_text(src);
    const hnn_plan *plan = p.plan;
    const hnn_hir *h = plan->hir;
    unsigned folded = 0;
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        const hnn_hir_node *n = &h->nodes[i];
        if (n->op != HNN_HIR_REFRESH)
            continue;
        const hnn_tir_node *t = plan->tir->nodes[n->tir];
        double y = fmax(fabs(t->range.lo), fabs(t->range.hi)), bound = hnn_plan_refresh_bound(plan, n->tir);
        const hnn_tir_node *next = hnn_tir_sole_reader(plan->tir, t);
        if (t->kind == HNN_TIR_AFFINE && next && next->kind == HNN_TIR_POLY && !next->u.poly.power) {
            double alpha, beta;
            hnn_cheb_affine(&next->u.poly.cheb, &alpha, &beta);
            double want = fmax(fabs(alpha * t->range.lo + beta), fabs(alpha * t->range.hi + beta));
            assert_true(fabs(bound - fmax(want, 1e-3)) <= 1e-12 * want);
            if (next->u.poly.cheb.hi - next->u.poly.cheb.lo < 1) {
                assert_true(bound > 2 * y);
                folded++;
            }
        } else {
            assert_true(bound == fmax(y, 1e-3));
        }
        /* The mask covers the bound with the reported hiding. */
        assert_true(n->c >= bound * ldexp(1.0, (int)plan->refresh_hiding_bits) * (1 - 1e-12));
    }
    print_message("  %llu refreshed ciphertexts, %u of them in a narrow interval's units; masks hide to 2^-%u\n",
                  (unsigned long long)plan->refresh_ciphertexts, folded, plan->refresh_hiding_bits);
    assert_true(folded >= 1); /* the case this test exists for */
    planned_free(&p);
    free(src);
}

/* The deep relu network encrypted: it matches the polynomial network on
 * doubles, and the plan's CKKS estimate (exact derivatives at sampled
 * inputs, second-order terms from forward error magnitudes) stays close to
 * the measured error instead of compounding a worst-case gain per layer. */
static void
deep_relu_network_runs_within_its_estimate(void **state)
{
    (void)state;
    char *src = deep_relu_model("[-2, 2]");
    planned p = plan_text(src);
    const hnn_plan *plan = p.plan;
    hnn_exec_keys keys;
    char err[256];
    if (hnn_exec_keys_new(plan, &keys, err, sizeof err) != 0)
        fail_msg("keys: %s", err);
    enum { SAMPLES = 128, RUNS = 1 };
    size_t scratch_len = hnn_tir_eval_scratch(plan->tir);
    double *scratch = malloc(scratch_len * sizeof *scratch), want[DEEP_OUT];
    double x[SAMPLES * DEEP_WIDTH], y[SAMPLES * DEEP_OUT], max_err = 0;
    uint64_t seed = 9;
    for (int run = 0; run < RUNS; run++) {
        for (size_t i = 0; i < SAMPLES * DEEP_WIDTH; i++)
            x[i] = 2 * unit(&seed) - 1;
        hnn_exec_stats st;
        if (hnn_exec_run(plan, &keys, x, SAMPLES, y, &st, err, sizeof err) != 0)
            fail_msg("run: %s", err);
        assert_int_equal(st.refresh_round_trips, plan->n_refresh_points * st.evaluations);
        assert_int_equal(st.refreshes, plan->refresh_ciphertexts * st.evaluations);
        for (size_t s = 0; s < SAMPLES; s++) {
            hnn_tir_eval(plan->tir, x + DEEP_WIDTH * s, want, scratch);
            for (int o = 0; o < DEEP_OUT; o++)
                max_err = fmax(max_err, fabs(want[o] - y[DEEP_OUT * s + o]));
        }
    }
    double est = -log2(plan->precision->ckks_error), bound = -log2(plan->precision->ckks_bound);
    double measured = -log2(max_err);
    print_message("  N = 2^%u, %u refresh points, %llu ciphertexts: CKKS estimate %.1f bits (bound %.1f), "
                  "measured %.1f bits over %d samples\n",
                  plan->params.spec.log_n, plan->n_refresh_points, (unsigned long long)plan->refresh_ciphertexts,
                  est, bound, measured, SAMPLES * RUNS);
    assert_true(est <= measured + 1.0);
    assert_true(measured - est <= 4.0);
    assert_true(bound <= est);
    free(scratch);
    hnn_exec_keys_free(&keys);
    planned_free(&p);
    free(src);
}

/* Runs of consecutive REFRESH nodes of one tensor-IR node: the back ends
 * make one round trip with the key holder of each. *cts: the REFRESH nodes. */
static uint32_t
refresh_runs(const hnn_hir *h, uint64_t *cts)
{
    uint32_t runs = 0;
    *cts = 0;
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        if (h->nodes[i].op != HNN_HIR_REFRESH)
            continue;
        ++*cts;
        runs += i == 0 || h->nodes[i - 1].op != HNN_HIR_REFRESH || h->nodes[i - 1].tir != h->nodes[i].tir;
    }
    return runs;
}

/* A refresh point's REFRESH nodes come together, after the layer's last
 * value, so that the point is one round trip as the plan prices it (the
 * lowering interleaves a batch layer's values with its biases and squares). */
static void
refresh_points_are_one_run_each(void **state)
{
    (void)state;
    char *src = deep_relu_model("[-2, 2]");
    const char *models[] = {deep_model, src};
    for (int m = 0; m < 2; m++) {
        planned p = plan_text(models[m]);
        uint64_t cts;
        uint32_t runs = refresh_runs(p.plan->hir, &cts);
        print_message("  %s: %u refresh points, %u runs of REFRESH nodes, %llu ciphertexts\n",
                      p.plan->model->name, p.plan->n_refresh_points, runs, (unsigned long long)cts);
        assert_true(p.plan->n_refresh_points >= 1);
        assert_int_equal(runs, p.plan->n_refresh_points);
        assert_int_equal(cts, p.plan->refresh_ciphertexts);
        planned_free(&p);
    }
    free(src);
}

/* input -> layer 1 (two values) -> layer 2, layer 1 refreshed; `early`: layer
 * 2 reads layer 1's first value before layer 1's second is computed. */
static hnn_hir *
two_layers(hnn_arena *arena, bool early)
{
    hnn_hir *h = hnn_hir_new(arena, HNN_HIR_PACK_BATCH);
    uint32_t x = hnn_hir_emit(h, HNN_HIR_INPUT, HNN_HIR_NONE, HNN_HIR_NONE, 0);
    h->nodes[x].pt = 0;
    uint32_t v1 = hnn_hir_emit(h, HNN_HIR_ADD_CONST, x, HNN_HIR_NONE, 1), w1 = HNN_HIR_NONE;
    if (early)
        w1 = hnn_hir_emit(h, HNN_HIR_NEGATE, v1, HNN_HIR_NONE, 2);
    uint32_t v2 = hnn_hir_emit(h, HNN_HIR_ADD_CONST, x, HNN_HIR_NONE, 1);
    if (!early)
        w1 = hnn_hir_emit(h, HNN_HIR_NEGATE, v1, HNN_HIR_NONE, 2);
    uint32_t w2 = hnn_hir_emit(h, HNN_HIR_ADD, w1, v2, 2);
    h->inputs = hnn_arena_array(arena, 1, sizeof *h->inputs);
    h->inputs[0] = x;
    h->n_inputs = 1;
    h->outputs = hnn_arena_array(arena, 1, sizeof *h->outputs);
    h->outputs[0] = w2;
    h->n_outputs = 1;
    return h;
}

/* The layer's REFRESH nodes wait for its last value; a reader in another
 * layer that comes first gets the ones pending so far, and the point takes
 * two round trips. Either way every reader reads the refreshed value. */
static void
refresh_insertion_groups_a_layer(void **state)
{
    (void)state;
    const bool after[3] = {false, true, false};
    static const hnn_hir_op together[] = {HNN_HIR_INPUT, HNN_HIR_ADD_CONST, HNN_HIR_ADD_CONST, HNN_HIR_REFRESH,
                                          HNN_HIR_REFRESH, HNN_HIR_NEGATE, HNN_HIR_ADD};
    static const hnn_hir_op split[] = {HNN_HIR_INPUT, HNN_HIR_ADD_CONST, HNN_HIR_REFRESH, HNN_HIR_NEGATE,
                                       HNN_HIR_ADD_CONST, HNN_HIR_REFRESH, HNN_HIR_ADD};
    for (int early = 0; early < 2; early++) {
        hnn_arena *arena = hnn_arena_new();
        const hnn_hir *h = hnn_plan_insert_refresh(two_layers(arena, early), after, 3, arena);
        const hnn_hir_op *want = early ? split : together;
        assert_int_equal(h->n_nodes, 7);
        for (uint32_t i = 0; i < h->n_nodes; i++) {
            assert_int_equal(h->nodes[i].op, want[i]);
            if (h->nodes[i].op == HNN_HIR_REFRESH)
                assert_int_equal(h->nodes[h->nodes[i].a].op, HNN_HIR_ADD_CONST);
            if (h->nodes[i].tir == 2) /* layer 2 reads layer 1 through its refreshes only */
                for (unsigned k = 0; k < hnn_hir_arity(&h->nodes[i]); k++) {
                    const hnn_hir_node *o = &h->nodes[hnn_hir_arg(&h->nodes[i], k)];
                    assert_true(o->tir == 2 || o->op == HNN_HIR_REFRESH);
                }
        }
        uint64_t cts;
        assert_int_equal(refresh_runs(h, &cts), early ? 2 : 1);
        assert_int_equal(cts, 2);
        assert_int_equal(h->outputs[0], 6);
        hnn_arena_free(arena);
    }
}

/* A key holder for key_holder_answers_are_checked: honest (mode 0), one
 * that re-encrypts a level too low (1), or one that fails (2). */
typedef struct key_holder {
    hnn_exec_key_holder *holder;
    int mode;
    size_t calls, cts;
} key_holder;

static int
test_key_holder(void *user, hnnrt_ct *const *cts, size_t n, unsigned level, double scale)
{
    key_holder *k = user;
    k->calls++;
    k->cts += n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            assert_true(cts[i] != cts[j]);
    if (k->mode == 2)
        return HNNRT_ERR_IO;
    return hnn_exec_key_holder_refresh(k->holder, cts, n, k->mode == 1 ? level - 1 : level, scale);
}

/* The server hands each refresh point to the key holder in one call, and
 * checks what comes back: a ciphertext at another level, or a failure, stops
 * the evaluation at that point with its nodes named; without a key holder a
 * plan with refresh points does not run. The same server then evaluates
 * again. */
static void
key_holder_answers_are_checked(void **state)
{
    (void)state;
    planned p = plan_text(deep_model);
    const hnn_plan *plan = p.plan;
    const hnn_hir *h = plan->hir;
    hnn_exec_keys keys;
    char err[512];
    if (hnn_exec_keys_new(plan, &keys, err, sizeof err) != 0)
        fail_msg("keys: %s", err);
    size_t slots = hnnrt_context_slots(keys.ctx);
    double *buf = malloc(slots * sizeof *buf);
    for (size_t i = 0; i < slots; i++)
        buf[i] = 0.25;
    hnnrt_encoder *enc;
    hnnrt_encryptor *encr;
    hnnrt_pt *pt;
    assert_int_equal(hnnrt_encoder_new(keys.ctx, &enc), HNNRT_OK);
    assert_int_equal(hnnrt_encryptor_new(keys.ctx, keys.pk, NULL, &encr), HNNRT_OK);
    assert_int_equal(hnnrt_pt_new(keys.ctx, &pt), HNNRT_OK);
    assert_int_equal(hnnrt_encode(enc, pt, buf, slots, plan->level_scale[h->top_level], h->top_level), HNNRT_OK);
    hnnrt_ct *in[3], *out[2] = {NULL, NULL};
    assert_int_equal(plan->ciphertexts_in, 3);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(hnnrt_ct_new(keys.ctx, &in[k]), HNNRT_OK);
        assert_int_equal(hnnrt_encrypt(encr, in[k], pt), HNNRT_OK);
    }
    hnn_exec_server *srv;
    if (hnn_exec_server_new(plan, keys.ctx, keys.rk, keys.gk, &srv, err, sizeof err) != 0)
        fail_msg("server: %s", err);
    assert_int_equal(hnn_exec_server_eval(srv, in, out, NULL, err, sizeof err), HNNRT_ERR_MISSING_KEY);
    print_message("  no key holder: %s\n", err);
    assert_non_null(strstr(err, " refresh: "));
    static const char *const said[] = {NULL, "the key holder returned ciphertext 0 of 3 at level",
                                       "the key holder's refresh failed"};
    static const int status[] = {HNNRT_OK, HNNRT_ERR_LEVEL_MISMATCH, HNNRT_ERR_IO};
    hnn_exec_key_holder *holder;
    assert_int_equal(hnn_exec_key_holder_new(&keys, &holder), 0);
    for (int mode = 2; mode >= 0; mode--) {
        key_holder kh = {holder, mode, 0, 0};
        hnn_exec_server_set_refresh(srv, test_key_holder, &kh);
        hnn_exec_stats st = {0};
        err[0] = '\0';
        assert_int_equal(hnn_exec_server_eval(srv, in, out, &st, err, sizeof err), status[mode]);
        assert_int_equal(st.refresh_round_trips, kh.calls);
        assert_int_equal(st.refreshes, kh.cts);
        if (mode) {
            print_message("  key holder %d: %s\n", mode, err);
            assert_int_equal(kh.calls, 1);
            assert_int_equal(kh.cts, 3);
            assert_non_null(strstr(err, "..%"));
            assert_non_null(strstr(err, said[mode]));
            continue;
        }
        assert_int_equal(kh.calls, plan->n_refresh_points);
        assert_int_equal(kh.cts, plan->refresh_ciphertexts);
        for (int k = 0; k < 2; k++) {
            hnnrt_ct_free(out[k]);
            out[k] = NULL;
        }
    }
    hnn_exec_key_holder_free(holder);
    hnn_exec_server_free(srv);
    for (int k = 0; k < 3; k++)
        hnnrt_ct_free(in[k]);
    hnnrt_pt_free(pt);
    hnnrt_encryptor_free(encr);
    hnnrt_encoder_free(enc);
    free(buf);
    hnn_exec_keys_free(&keys);
    planned_free(&p);
}

/* Deeper still, the sound bounds overflow a double before simplification
 * can sharpen them: the tensor IR is then built under the planner's
 * assumption from the first overflow on, instead of being refused. */
static void
bounds_that_overflow_a_double_take_the_assumption(void **state)
{
    (void)state;
    char *src = deep_relu_model_of(12, "[-2, 2]");
    hnn_arena *arena = hnn_arena_new();
    hnn_diag *diag = hnn_diag_new();
    hnn_model *m = hnn_front_check_text("deepr.hnn", src, strlen(src), ".", NULL, arena, diag, NULL);
    assert_non_null(m);
    hnn_tir *tir = hnn_tir_build(m, arena, diag);
    if (!tir)
        hnn_diag_print(diag, stderr);
    assert_non_null(tir);
    bool assumed = false;
    for (uint32_t k = 0; k < tir->n_nodes; k++)
        assumed |= tir->nodes[k]->kind == HNN_TIR_POLY && tir->nodes[k]->u.poly.assume_interval;
    assert_true(assumed);
    char why[256];
    assert_true(hnn_tir_verify(tir, why, sizeof why));
    print_message("  12 layers: output bound %.3g under the assumption\n",
                  fmax(fabs(tir->output->range.lo), fabs(tir->output->range.hi)));
    hnn_diag_free(diag);
    hnn_arena_free(arena);
    planned p = plan_text(src);
    assert_true(p.plan->n_refresh_points >= 1);
    planned_free(&p);

    /* Under the default `bounds sound` the overflow is an error, with a
     * note naming the hint. */
    char *hint = strstr(src, "bounds intervals; ");
    assert_non_null(hint);
    memmove(hint, hint + strlen("bounds intervals; "), strlen(hint + strlen("bounds intervals; ")) + 1);
    arena = hnn_arena_new();
    diag = hnn_diag_new();
    m = hnn_front_check_text("deepr.hnn", src, strlen(src), ".", NULL, arena, diag, NULL);
    assert_non_null(m);
    assert_null(hnn_tir_build(m, arena, diag));
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    hnn_diag_print(diag, out);
    fclose(out);
    assert_non_null(strstr(text, "can exceed the range of a double"));
    assert_non_null(strstr(text, "note: the value bounds hold for every input"));
    assert_non_null(strstr(text, "`hints { bounds intervals; }`"));
    free(text);
    hnn_diag_free(diag);
    hnn_arena_free(arena);
    free(src);
}

/* A chain of `layers` dense + quadratic layers of width 2 in batch packing,
 * 2 levels each, without refreshes. */
static char *
long_chain_model(int layers)
{
    size_t cap = 16 * 1024, n = 0;
    char *src = malloc(cap);
    n += (size_t)snprintf(src + n, cap - n, "model chain {\n  input x: vector(2) range [-1, 1];\n");
    for (int l = 1; l <= layers; l++) {
        if (l == 1)
            n += (size_t)snprintf(src + n, cap - n, "  layer d1 = dense(x, 2");
        else
            n += (size_t)snprintf(src + n, cap - n, "  layer d%d = dense(p%d, 2", l, l - 1);
        n += (size_t)snprintf(src + n, cap - n, ", weight [[0.6, 0.3], [-0.4, 0.7]], bias [0.05, -0.05]);\n"
                              "  layer p%d = poly(d%d, coeffs [0, 1, 0.25]);\n", l, l);
    }
    n += (size_t)snprintf(src + n, cap - n, "  output p%d;\n  hints { packing batch; }\n}\n", layers);
    assert_true(n < cap);
    return src;
}

/* Long chains without refresh: the canonical scales from the top double
 * any deviation per level (the runtime's primes sit just below 2^40), and
 * over 19 levels at 2^15 the output's scale reached 2^52 on a 45-bit q0
 * (2.7 bits measured where 24 were estimated); 25 levels at 2^16 failed
 * verification. Anchored at the bottom, every level stays at 2^40 and the
 * run matches its estimate. */
static void
long_chains_keep_their_scales(void **state)
{
    (void)state;
    char *src = long_chain_model(12); /* 25 levels: 2^16 */
    planned p = plan_text(src);
    assert_int_equal(p.plan->params.spec.log_n, 16);
    for (uint32_t l = 0; l < p.plan->n_data_primes; l++)
        assert_true(fabs(log2(p.plan->level_scale[l]) - 40) < 1.0 / 16);
    planned_free(&p);
    free(src);

    src = long_chain_model(9); /* 19 levels: 2^15 */
    p = plan_text(src);
    const hnn_plan *plan = p.plan;
    assert_int_equal(plan->params.spec.log_n, 15);
    assert_int_equal(plan->depth, 19);
    for (uint32_t l = 0; l < plan->n_data_primes; l++)
        assert_true(fabs(log2(plan->level_scale[l]) - 40) < 1.0 / 16);
    hnn_exec_keys keys;
    char err[256];
    if (hnn_exec_keys_new(plan, &keys, err, sizeof err) != 0)
        fail_msg("keys: %s", err);
    enum { SAMPLES = 64 };
    double x[SAMPLES * 2], y[SAMPLES * 2], want[2], max_err = 0;
    double *scratch = malloc(hnn_tir_eval_scratch(plan->tir) * sizeof *scratch);
    uint64_t seed = 3;
    for (size_t i = 0; i < SAMPLES * 2; i++)
        x[i] = 2 * unit(&seed) - 1;
    hnn_exec_stats st;
    if (hnn_exec_run(plan, &keys, x, SAMPLES, y, &st, err, sizeof err) != 0)
        fail_msg("run: %s", err);
    for (size_t s = 0; s < SAMPLES; s++) {
        hnn_tir_eval(plan->tir, x + 2 * s, want, scratch);
        for (int o = 0; o < 2; o++)
            max_err = fmax(max_err, fabs(want[o] - y[2 * s + o]));
    }
    double est = plan->precision->precision_bits, measured = -log2(max_err);
    print_message("  19 levels at 2^15: scales 2^%.4f (top) to 2^%.4f (bottom); estimated %.1f bits, measured %.1f\n",
                  log2(plan->level_scale[plan->n_data_primes - 1]), log2(plan->level_scale[0]), est, measured);
    assert_true(est <= measured + 1.0);
    assert_true(measured - est <= 5.0);
    free(scratch);
    hnn_exec_keys_free(&keys);
    planned_free(&p);
    free(src);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deep_network_runs_with_refreshes),
        cmocka_unit_test(deep_bounds_assume_the_activation_intervals),
        cmocka_unit_test(refresh_masks_are_sized_in_the_circuits_units),
        cmocka_unit_test(refresh_points_are_one_run_each),
        cmocka_unit_test(refresh_insertion_groups_a_layer),
        cmocka_unit_test(key_holder_answers_are_checked),
        cmocka_unit_test(deep_relu_network_runs_within_its_estimate),
        cmocka_unit_test(bounds_that_overflow_a_double_take_the_assumption),
        cmocka_unit_test(long_chains_keep_their_scales),
    };
    return cmocka_run_group_tests_name("deep", tests, NULL, NULL);
}
