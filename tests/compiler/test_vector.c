/*
 * Vector packing checked by execution: small models planned one sample per
 * ciphertext (diagonal matrix-vector products, baby-step giant-step),
 * run encrypted on libhnnrt one evaluation per sample and compared with
 * the tensor IR on doubles; plus the exact rotation sets, hoisting, the
 * plaintext cache, the padding bookkeeping and the auto packing choice.
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
#include "plan_test.h"

/* Encrypted run on n samples (one evaluation each) drawn uniformly from the
 * input range vs the tensor IR on doubles, compared on the logits (before a
 * softargmax). Returns the max error; the run's stats in *st. */
static double
run_and_compare(const hnn_plan *plan, size_t n, hnn_exec_stats *st)
{
    const hnn_tir *tir = plan->tir;
    const hnn_hir *h = plan->hir;
    const hnn_tir_node *in = tir->input;
    const hnn_tir_node *logits = tir->output->kind == HNN_TIR_SOFTARGMAX ? tir->output->in[0] : tir->output;
    double lo = in->range.lo, hi = in->range.hi;
    double *x = malloc(n * h->n_inputs * sizeof *x), *y = malloc(n * h->n_outputs * sizeof *y);
    double *scratch = malloc(hnn_tir_eval_scratch(tir) * sizeof *scratch);
    double *want = malloc((tir->output->size + 1) * sizeof *want);
    uint64_t seed = 7;
    for (size_t i = 0; i < n * h->n_inputs; i++)
        x[i] = lo + (hi - lo) * unit(&seed);
    hnn_exec_keys keys;
    char err[256];
    if (hnn_exec_keys_new(plan, &keys, err, sizeof err) != 0)
        fail_msg("keys: %s", err);
    /* exactly the plan's rotation keys */
    assert_int_equal(keys.gk ? hnnrt_galois_keys_count(keys.gk) : 0, plan->n_rotation_steps);
    if (hnn_exec_run(plan, &keys, x, n, y, st, err, sizeof err) != 0)
        fail_msg("run: %s", err);
    assert_int_equal(st->evaluations, n);
    double max_err = 0;
    for (size_t s = 0; s < n; s++) {
        hnn_tir_eval(tir, x + s * h->n_inputs, want, scratch);
        /* the logits node's values, wherever the softargmax left them */
        size_t off = 0;
        for (uint32_t k = 0; k < logits->id; k++)
            off += tir->nodes[k]->size;
        for (uint32_t k = 0; k < h->n_outputs; k++)
            max_err = fmax(max_err, fabs(scratch[off + k] - y[s * h->n_outputs + k]));
    }
    print_message("  period %u, %u rotation keys, max abs error %.3g (2^%.1f) over %zu samples, "
                  "%.1f ms per evaluation; %zu hoists, %zu hoisted + %zu plain rotations, %zu encodes\n",
                  h->period, plan->n_rotation_steps, max_err, log2(max_err), n, st->eval_ms / (double)n, st->hoists,
                  st->hoisted_rotations, st->rotations, st->pt_encodes);
    hnn_exec_keys_free(&keys);
    free(x);
    free(y);
    free(scratch);
    free(want);
    return max_err;
}

/* Planned with the input as one replicated ciphertext: the diagonal
 * method on the first layer too (the client layout would take it). */
static planned
plan_replicated(const char *text)
{
    hnn_plan_options po = {.verify_each = true, .no_client_layout = true};
    return plan_text_with(text, &po);
}

static uint64_t
count_op(const hnn_plan *plan, hnn_hir_op op)
{
    uint64_t counts[HNN_HIR__COUNT];
    hnn_hir_count(plan->hir, counts);
    return counts[op];
}

/* Ops of one kind charged to the tensor-IR node named `name`. */
static uint32_t
layer_ops(const hnn_plan *plan, const char *name, hnn_hir_op op)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < plan->hir->n_nodes; i++) {
        const hnn_hir_node *n = &plan->hir->nodes[i];
        count += n->op == op && strcmp(plan->tir->nodes[n->tir]->name, name) == 0;
    }
    return count;
}

/* The plan's key set is the set of steps its ROTATEs use, ascending. */
static void
assert_keys_are_steps(const hnn_plan *plan)
{
    bool used[1 << 12] = {false};
    uint32_t distinct = 0;
    for (uint32_t i = 0; i < plan->hir->n_nodes; i++) {
        const hnn_hir_node *n = &plan->hir->nodes[i];
        if (n->op != HNN_HIR_ROTATE)
            continue;
        assert_true(n->step > 0 && n->step < (1 << 12));
        distinct += !used[n->step];
        used[n->step] = true;
    }
    assert_int_equal(plan->n_rotation_steps, distinct);
    for (uint32_t k = 0; k < plan->n_rotation_steps; k++) {
        assert_true(used[plan->rotation_steps[k]]);
        if (k)
            assert_true(plan->rotation_steps[k - 1] < plan->rotation_steps[k]);
    }
}

static void
assert_steps(const hnn_plan *plan, const int32_t *want, uint32_t n)
{
    assert_int_equal(plan->n_rotation_steps, n);
    for (uint32_t k = 0; k < n; k++)
        assert_int_equal(plan->rotation_steps[k], want[k]);
}

#define D43_MODEL \
    "model d43 { input x: vector(4) range [-1, 1];\n" \
    "  layer d = dense(x, 3, weight [[0.5, -0.25, 0.125, 1], [1, 1, -1, 0.5], [0, 0.3, 0.2, -0.1]]," \
    " bias [0.1, 0, -0.2]);\n" \
    "  output d; hints { packing vector; } }\n"

static void
dense_4_to_3(void **state)
{
    (void)state;
    planned p = plan_replicated(D43_MODEL);
    assert_int_equal(p.plan->hir->packing, HNN_HIR_PACK_VECTOR);
    assert_int_equal(p.plan->hir->period, 4);
    assert_int_equal(p.plan->depth, 1);
    assert_int_equal(p.plan->ciphertexts_in, 1);
    assert_int_equal(p.plan->ciphertexts_out, 1);
    assert_int_equal(p.plan->hir->n_outputs, 3);
    /* 3 x 4 at period 4: every diagonal 0..3 has an entry; b1 = 2 */
    assert_int_equal(count_op(p.plan, HNN_HIR_MUL_PT), 4);
    assert_int_equal(count_op(p.plan, HNN_HIR_ADD_PT), 1);
    assert_int_equal(count_op(p.plan, HNN_HIR_RESCALE), 1);
    static const int32_t steps[] = {1, 2};
    assert_steps(p.plan, steps, 2);
    assert_keys_are_steps(p.plan);
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 6, &st) < 1e-4);
    planned_free(&p);
}

/* A full 16 x 16 dense layer with a bias, and the given hints. */
static void
full16_text(char *text, size_t size, const char *hints)
{
    size_t at = (size_t)snprintf(text, size, "model f16 { input x: vector(16) range [-1, 1];\n  layer d = dense(x, 16, weight [");
    for (int i = 0; i < 16; i++) {
        at += (size_t)snprintf(text + at, size - at, "%s[", i ? ", " : "");
        for (int j = 0; j < 16; j++)
            at += (size_t)snprintf(text + at, size - at, "%s%g", j ? ", " : "",
                                   ((i * 7 + j * 3) % 11 + 1) / 16.0 * ((i + j) % 2 ? -1 : 1));
        at += (size_t)snprintf(text + at, size - at, "]");
    }
    at += (size_t)snprintf(text + at, size - at, "], bias [");
    for (int i = 0; i < 16; i++)
        at += (size_t)snprintf(text + at, size - at, "%s%g", i ? ", " : "", 0.0625 * i);
    snprintf(text + at, size - at, "]);\n  output d; hints { %s } }\n", hints);
}

/* A full 4 x 4 by hand: diagonals 0..3, b1 = 2: baby steps {1}, giant {2};
 * a full 16 x 16: diagonals 0..15, b1 = 4: baby {1, 2, 3} from one hoisted
 * decomposition, giant {4, 8, 12}. */
static void
full_square_bsgs_sets(void **state)
{
    (void)state;
    planned p = plan_replicated("model f4 { input x: vector(4) range [-1, 1];\n"
                          "  layer d = dense(x, 4, weight [[1, 2, 3, 4], [-1, 0.5, 0.25, 2], [0.5, 0.5, -0.5, 1],"
                          " [2, -1, 1, 0.125]]);\n"
                          "  output d; hints { packing vector; } }\n");
    static const int32_t steps4[] = {1, 2};
    assert_steps(p.plan, steps4, 2);
    assert_int_equal(count_op(p.plan, HNN_HIR_ROTATE), 2);
    assert_int_equal(count_op(p.plan, HNN_HIR_MUL_PT), 4);
    assert_int_equal(count_op(p.plan, HNN_HIR_ADD_PT), 0); /* no bias */
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 4, &st) < 1e-4);
    assert_int_equal(st.hoists, 0); /* one baby rotation: nothing to share */
    assert_int_equal(st.rotations, 2 * 4);
    planned_free(&p);

    char text[8192];
    full16_text(text, sizeof text, "packing vector;");
    p = plan_replicated(text);
    static const int32_t steps16[] = {1, 2, 3, 4, 8, 12};
    assert_steps(p.plan, steps16, 6);
    assert_keys_are_steps(p.plan);
    assert_int_equal(count_op(p.plan, HNN_HIR_ROTATE), 6);
    assert_int_equal(count_op(p.plan, HNN_HIR_MUL_PT), 16);
    assert_int_equal(count_op(p.plan, HNN_HIR_ADD_PT), 1);
    assert_true(run_and_compare(p.plan, 3, &st) < 1e-4);
    /* per evaluation: one decomposition for the three baby steps */
    assert_int_equal(st.hoists, 3);
    assert_int_equal(st.hoisted_rotations, 3 * 3);
    assert_int_equal(st.rotations, 3 * 3);
    /* 16 diagonals and the bias encoded once, served from the cache after */
    assert_int_equal(st.pt_encodes, 17);
    assert_int_equal(st.pt_reuses, 2 * 17);
    planned_free(&p);
}

/* The 16 x 16 layer's six keys take 4 MB at 2^13; under a 3 MB cap the
 * rotations are composed from power-of-two keys: babies 1, 2 from x (one
 * hoisted decomposition) and 3 = rot(baby 1, 2), giants Horner-style by 4. */
static void
key_memory_cap_composes_rotations(void **state)
{
    (void)state;
    char text[8192];
    full16_text(text, sizeof text, "packing vector; key_memory 3 MB;");
    planned p = plan_replicated(text);
    static const int32_t steps[] = {1, 2, 4};
    assert_steps(p.plan, steps, 3);
    assert_keys_are_steps(p.plan);
    assert_int_equal(count_op(p.plan, HNN_HIR_ROTATE), 6);
    assert_true(p.plan->params.key_memory_mb <= 3);
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 2, &st) < 1e-4);
    assert_int_equal(st.hoists, 2);
    assert_int_equal(st.hoisted_rotations, 2 * 2);
    assert_int_equal(st.rotations, 2 * 4);
    planned_free(&p);
}

static void
dense_square_dense(void **state)
{
    (void)state;
    planned p = plan_text("model sq { input x: vector(4) range [-1, 1];\n"
                          "  layer d1 = dense(x, 3, weight [[0.5, -0.25, 0.125, 1], [1, 1, -1, 0.5], [0, 0.3, 0.2, -0.1]],"
                          " bias [0.1, 0, -0.2]);\n"
                          "  layer s1 = square(d1);\n"
                          "  layer d2 = dense(s1, 2, weight [[1, -1, 0.5], [0.25, 0.5, 1]], bias [0, 0.3]);\n"
                          "  output d2; hints { packing vector; } }\n");
    assert_int_equal(p.plan->depth, 3);
    assert_int_equal(count_op(p.plan, HNN_HIR_MUL_CT), 1); /* the whole vector squared at once */
    /* d2 is 2 x 3 at period 4: square diagonals {0, 1, 2} and 3 (row 1,
     * column 0), but taken 2 rows at a time only (j - i) mod 2 in {0, 1},
     * then one fold by 2 */
    assert_int_equal(layer_ops(p.plan, "d2", HNN_HIR_MUL_PT), 2);
    assert_int_equal(layer_ops(p.plan, "d2", HNN_HIR_ROTATE), 2);
    assert_keys_are_steps(p.plan);
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 6, &st) < 1e-4);
    planned_free(&p);
}

#define CNN_MODEL \
    "model cnn { input img: image(1, 6, 6) range [0, 1];\n" \
    "  layer c = conv2d(img, 1, kernel 3, weight [[[[0.5, -0.25, 0.125], [1, 0.5, -0.5]," \
    " [0.25, 0.75, -1]]]], bias [0.1]);\n" \
    "  layer s = square(c);\n" \
    "  layer f = flatten(s);\n" \
    "  layer d = dense(f, 2, weight [[1, -1, 0.5, 0.25, 1, -1, 0.5, 0.25, 1, -1, 0.5, 0.25, 1, -1, 0.5," \
    " 0.25], [0.5, 0.5, -0.5, 1, 0.5, 0.5, -0.5, 1, 0.5, 0.5, -0.5, 1, 0.5, 0.5, -0.5, 1]]," \
    " bias [0, 0.2]);\n" \
    "  output d; hints { packing vector; } }\n"

/* The convolution reads the input: the client lays the image out for it
 * (3 ciphertexts, no rotation of the input), the period only covers the
 * 16 outputs, and the 2 x 16 dense takes its rows 2 at a time. */
static void
conv_square_dense(void **state)
{
    (void)state;
    planned p = plan_text(CNN_MODEL);
    const hnn_hir *h = p.plan->hir;
    assert_non_null(h->in_layout);
    assert_int_equal(p.plan->ciphertexts_in, h->in_cts);
    assert_true(h->in_period >= h->period);
    /* every weight of every row has one slot: 16 rows x 9 taps */
    uint32_t used = 0;
    for (size_t i = 0; i < (size_t)h->in_cts * h->in_period; i++)
        used += h->in_layout[i] != HNN_HIR_NONE;
    assert_int_equal(used, 16 * 9);
    assert_int_equal(layer_ops(p.plan, "c", HNN_HIR_MUL_PT), h->in_cts);
    /* only the fold over the row copies in the layout's slots: log2 of the
     * layout's slots over its row block (16 rows, up to the period) */
    uint32_t fold = 0;
    for (uint32_t b = h->in_period / h->period; b > 1; b /= 2)
        fold++;
    assert_true(layer_ops(p.plan, "c", HNN_HIR_ROTATE) >= fold);
    assert_true(layer_ops(p.plan, "c", HNN_HIR_ROTATE) <= fold + 2);
    /* the dense: diagonals (j - i) mod 2, one rotation, then the folds to 2 rows */
    assert_int_equal(layer_ops(p.plan, "d", HNN_HIR_MUL_PT), 2);
    assert_keys_are_steps(p.plan);
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 4, &st) < 1e-4);
    planned_free(&p);
}

/* Without a client layout the same convolution is the generic sparse map
 * at period 64: output (r, c) reads input (r + i, c + j), offset
 * 2r + 6i + j, the 21 square diagonals 0..20 of the 64 — or, rows taken 16
 * at a time, the 16 offsets mod 16 and two folds, which the cost model
 * finds cheaper. */
static void
conv_as_sparse_diagonals(void **state)
{
    (void)state;
    planned p = plan_replicated(CNN_MODEL);
    assert_int_equal(p.plan->hir->period, 64);
    assert_null(p.plan->hir->in_layout);
    assert_int_equal(p.plan->ciphertexts_in, 1);
    assert_int_equal(layer_ops(p.plan, "c", HNN_HIR_MUL_PT), 16);
    /* b1 = 4: baby {1, 2, 3}, giant {4, 8, 12}, folds {32, 16} */
    assert_int_equal(layer_ops(p.plan, "c", HNN_HIR_ROTATE), 8);
    assert_keys_are_steps(p.plan);
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 2, &st) < 1e-4);
    assert_true(st.hoists >= 2); /* at least the convolution's baby steps, every evaluation */
    planned_free(&p);
}

/* The same 3 x 4 map laid out by the client: row r's 4 weights in slots
 * r + 4t of one ciphertext of 16 slots, so one product and two folds
 * (by 8, then 4) replace four diagonals and two BSGS rotations. */
static void
dense_client_layout(void **state)
{
    (void)state;
    planned p = plan_text(D43_MODEL);
    const hnn_hir *h = p.plan->hir;
    assert_non_null(h->in_layout);
    assert_int_equal(h->in_cts, 1);
    assert_int_equal(h->in_period, 16);
    assert_int_equal(h->period, 4);
    assert_int_equal(p.plan->ciphertexts_in, 1);
    /* slot r + 4q holds the column of row r's entry q: rows 0 and 1 read
     * x0..x3, row 2 (whose first weight is 0) x1..x3; row 3 is padding */
    static const uint32_t N_ = HNN_HIR_NONE;
    static const uint32_t want[16] = {0, 0, 1, N_, 1, 1, 2, N_, 2, 2, 3, N_, 3, 3, N_, N_};
    for (uint32_t i = 0; i < 16; i++)
        assert_int_equal(h->in_layout[i], want[i]);
    assert_int_equal(count_op(p.plan, HNN_HIR_MUL_PT), 1);
    static const int32_t steps[] = {4, 8};
    assert_steps(p.plan, steps, 2);
    /* the executor's input path follows the layout */
    double x[4] = {0.5, -0.25, 0.75, 1}, slots[32];
    assert_int_equal(hnn_exec_input_slots(p.plan, x, 0, 1, 0, slots, 32), 32);
    for (uint32_t i = 0; i < 32; i++)
        assert_true(slots[i] == (want[i % 16] == N_ ? 0 : x[want[i % 16]]));
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 4, &st) < 1e-4);
    planned_free(&p);
}

/* A wide map (4 x 64) at period 64 (after a square, so that the client
 * does not lay the input out for it): 4 diagonals of rows taken 4 at a
 * time instead of 64 square ones, then log2(64 / 4) folds; its padding
 * holds copies of the rows, which the square and the next dense take as
 * they are. */
static void
wide_dense_takes_row_blocks(void **state)
{
    (void)state;
    char text[8192];
    size_t at = (size_t)snprintf(text, sizeof text, "model wide { input x: vector(64) range [-1, 1];\n"
                                                     "  layer q = square(x);\n  layer w = dense(q, 4, weight [");
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 64; j++)
            at += (size_t)snprintf(text + at, sizeof text - at, "%s%g%s", j ? ", " : i ? "], [" : "[",
                                   ((i * 5 + j * 3) % 7 - 3) / 16.0, i == 3 && j == 63 ? "]" : "");
    snprintf(text + at, sizeof text - at, "], bias [0.1, 0.2, 0.3, 0.4]);\n  layer s = square(w);\n"
                                          "  layer o = dense(s, 2, weight [[1, -1, 0.5, 0.25], [0.5, 0.5, -1, 1]]);\n"
                                          "  output o; hints { packing vector; } }\n");
    planned p = plan_text(text);
    assert_int_equal(p.plan->hir->period, 64);
    assert_null(p.plan->hir->in_layout);
    assert_int_equal(layer_ops(p.plan, "w", HNN_HIR_MUL_PT), 4);
    /* b1 = 2 or 4 over 4 diagonals: 2 or 3 BSGS rotations, and 4 folds */
    assert_true(layer_ops(p.plan, "w", HNN_HIR_ROTATE) <= 3 + 4);
    assert_true(layer_ops(p.plan, "w", HNN_HIR_ROTATE) >= 2 + 4);
    assert_keys_are_steps(p.plan);
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 3, &st) < 1e-4);
    planned_free(&p);
}

/* Copies in the padding meet an ADD: the residual sum would hold neither
 * the sum's copies nor a known padding, so the map keeps whole periods. */
static void
copies_never_reach_a_sum(void **state)
{
    (void)state;
    planned p = plan_text("model rw { input x: vector(8) range [-1, 1];\n"
                          "  layer a = dense(x, 8, weight [[1, 0, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0, 0],"
                          " [0, 0, 1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0, 0],"
                          " [0, 0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 0, 1]]);\n"
                          "  layer s = square(a);\n"
                          "  layer w = dense(s, 2, weight [[1, 1, 1, 1, 1, 1, 1, 1], [1, -1, 1, -1, 1, -1, 1, -1]]);\n"
                          "  layer v = dense(a, 2, weight [[0.5, 0, 0, 0, 0, 0, 0, 0.5], [0, 0.5, 0, 0, 0, 0, 0.5, 0]]);\n"
                          "  layer r = add(w, v);\n"
                          "  layer q = square(r);\n"
                          "  output q; hints { packing vector; } }\n");
    /* w feeds the sum: its 8 square diagonals at period 8 rather than 2
     * taken 2 rows at a time (and a fold) */
    assert_int_equal(p.plan->hir->period, 8);
    assert_int_equal(layer_ops(p.plan, "w", HNN_HIR_MUL_PT), 8);
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 3, &st) < 1e-4);
    planned_free(&p);
}

static void
residual_add(void **state)
{
    (void)state;
    planned p = plan_text("model res { input x: vector(2) range [-1, 1];\n"
                          "  layer d1 = dense(x, 2, weight [[1, 0.5], [-0.5, 1]], bias [0.1, -0.1]);\n"
                          "  layer sq = square(d1);\n"
                          "  layer r = add(sq, d1);\n"
                          "  output r; hints { packing vector; } }\n");
    assert_int_equal(p.plan->depth, 2);
    assert_int_equal(layer_ops(p.plan, "r", HNN_HIR_ADD), 1); /* one ciphertext add */
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 6, &st) < 1e-4);
    planned_free(&p);
}

/* sigmoid(0) = 1/2 fills the padding of the activation's output: the next
 * dense's zero-padded diagonals ignore it, with no correction. */
static void
sigmoid_padding_is_harmless(void **state)
{
    (void)state;
    planned p = plan_text("model sig { input x: vector(3) range [-1, 1];\n"
                          "  layer d1 = dense(x, 3, weight [[2, -1, 0.5], [1, 3, 0], [0.5, 0.5, 0.5]], bias [0, 0.5, 1]);\n"
                          "  layer a = sigmoid(d1, degree 7, interval [-5, 5]);\n"
                          "  layer d2 = dense(a, 2, weight [[1, -1, 0.5], [0.25, 2, -1]], bias [0.5, 0]);\n"
                          "  output d2; hints { packing vector; } }\n");
    assert_int_equal(p.plan->depth, 5);
    assert_int_equal(count_op(p.plan, HNN_HIR_ADD_PT), 2); /* the two biases, no padding correction */
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 4, &st) < 1e-4);
    planned_free(&p);
}

/* A residual sum pads with 0, outside the activation's interval [2, 6]:
 * one ADD_PT moves the padding to 2 before the series meets it. */
static void
padding_outside_the_interval_is_moved(void **state)
{
    (void)state;
    planned p = plan_text("model mv { input x: vector(3) range [-0.5, 0.5];\n"
                          "  layer d1 = dense(x, 3, weight [[0.5, 0, 0], [0, 0.5, 0], [0.25, 0.25, 0]], bias [2, 2, 2]);\n"
                          "  layer d2 = dense(x, 3, weight [[0, 0.5, 0], [0, 0, 0.5], [0.5, 0, -0.25]], bias [2, 2, 2]);\n"
                          "  layer r = add(d1, d2);\n"
                          "  layer a = sigmoid(r, degree 7, interval [2, 6]);\n"
                          "  layer d3 = dense(a, 1, weight [[1, -1, 0.5]], bias [0.1]);\n"
                          "  output d3; hints { packing vector; } }\n");
    assert_int_equal(layer_ops(p.plan, "a", HNN_HIR_ADD_PT), 1);
    assert_int_equal(count_op(p.plan, HNN_HIR_ADD_PT), 4); /* three biases and the correction */
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 4, &st) < 1e-4);
    planned_free(&p);
}

/* Two dense layers of 16, each squared: in batch packing every element is
 * a ciphertext with its own key switches (the last square's, and the
 * first's where the linear rewrite does not pay), in vector packing a few
 * rotations serve all of them. */
static void
auto_model(char *text, size_t len, unsigned batch)
{
    size_t at = (size_t)snprintf(text, len, "model sq { input x: vector(8) range [-1, 1];\n");
    for (int layer = 0; layer < 2; layer++) {
        int cols = layer ? 16 : 8;
        at += (size_t)snprintf(text + at, len - at, "  layer d%d = dense(%s, 16, weight [", layer + 1, layer ? "s1" : "x");
        for (int r = 0; r < 16; r++) {
            at += (size_t)snprintf(text + at, len - at, "%s[", r ? ", " : "");
            for (int c = 0; c < cols; c++)
                at += (size_t)snprintf(text + at, len - at, "%s%.2f", c ? ", " : "", ((r * 7 + c * 3 + layer) % 11 - 5) / 10.0);
            at += (size_t)snprintf(text + at, len - at, "]");
        }
        at += (size_t)snprintf(text + at, len - at, "]);\n  layer s%d = square(d%d);\n", layer + 1, layer + 1);
    }
    snprintf(text + at, len - at, "  output s2; hints { packing auto; batch %u; } }\n", batch);
}

static void
auto_packing_by_batch(void **state)
{
    (void)state;
    char text[8192];
    auto_model(text, sizeof text, 1u);
    planned one = plan_text(text);
    auto_model(text, sizeof text, 4096u);
    planned many = plan_text(text);
    /* one sample: the single ciphertext's few rotations beat 8 inputs' and
     * 32 squares' worth of scalar work; a full batch shares those over 4096
     * samples */
    assert_int_equal(one.plan->hir->packing, HNN_HIR_PACK_VECTOR);
    assert_int_equal(many.plan->hir->packing, HNN_HIR_PACK_BATCH);
    assert_true(hnn_plan_estimate_ms(one.plan, 1) < hnn_plan_estimate_ms(many.plan, 1));
    assert_true(hnn_plan_estimate_ms(many.plan, 4096) < hnn_plan_estimate_ms(one.plan, 4096));
    assert_int_equal(many.plan->n_rotation_steps, 0);
    planned_free(&one);
    planned_free(&many);
}

static void
iris_plans_in_vector_packing(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    hnn_diag *diag = hnn_diag_new();
    hnn_model *m = hnn_front_check_file("tests/golden/valid/iris.hnn", NULL, arena, diag, NULL);
    planned p = plan_model(m, arena, diag);
    assert_int_equal(p.plan->hir->packing, HNN_HIR_PACK_VECTOR);
    assert_int_equal(p.plan->hir->period, 8);
    assert_int_equal(p.plan->params.spec.log_n, 14); /* pinned */
    assert_true(p.plan->n_rotation_steps > 0);
    assert_true(p.plan->galois_keys_mb > 0);
    assert_keys_are_steps(p.plan);
    hnn_exec_stats st;
    assert_true(run_and_compare(p.plan, 3, &st) < 1e-4);
    planned_free(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dense_4_to_3),
        cmocka_unit_test(full_square_bsgs_sets),
        cmocka_unit_test(key_memory_cap_composes_rotations),
        cmocka_unit_test(dense_square_dense),
        cmocka_unit_test(conv_square_dense),
        cmocka_unit_test(conv_as_sparse_diagonals),
        cmocka_unit_test(dense_client_layout),
        cmocka_unit_test(wide_dense_takes_row_blocks),
        cmocka_unit_test(copies_never_reach_a_sum),
        cmocka_unit_test(residual_add),
        cmocka_unit_test(sigmoid_padding_is_harmless),
        cmocka_unit_test(padding_outside_the_interval_is_moved),
        cmocka_unit_test(auto_packing_by_batch),
        cmocka_unit_test(iris_plans_in_vector_packing),
    };
    return cmocka_run_group_tests_name("vector", tests, NULL, NULL);
}
