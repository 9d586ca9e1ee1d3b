/*
 * cost: bench-line parsing and its errors, exact fits on synthetic lines,
 * monotonicity, and the shipped table (positive everywhere, within 1.5x of
 * every line it was fitted to, and what the fit makes of those lines).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "hnnrt.h"
#include "middle/cost.h"

/* The bench's parameter sets (bench/README.md): logN, L, k, dnum. */
static const struct {
    unsigned log_n, levels, special, dnum;
} sets[] = {{13, 2, 1, 3}, {14, 6, 1, 7}, {15, 19, 1, 20}, {16, 34, 2, 18}};

static bool
parse(const char *text, hnn_cost_table **t, char *err, size_t err_len)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    bool ok = hnn_cost_from_bench(f, t, err, err_len);
    fclose(f);
    return ok;
}

static void
expect_error(const char *text, const char *want)
{
    hnn_cost_table *t = (hnn_cost_table *)1;
    char err[256] = "";
    assert_false(parse(text, &t, err, sizeof err));
    assert_null(t);
    assert_string_equal(err, want);
}

static void
parse_errors(void **state)
{
    (void)state;
    expect_error("{\"op\": \"add\", \"logN\": 13, \"levels\": 2, \"special\": 1, \"threads\": 1, \"median_ns\": 5}\n"
                 "{\"op\": \"add\", \"logN\": 14\n",
                 "line 2: not valid JSON: '}' expected near end of file");
    expect_error("{\"op\": \"add\", \"logN\": 13, \"levels\": 2, \"special\": 1, \"threads\": 1, \"runs\": 5}\n",
                 "line 1: missing field \"median_ns\"");
    expect_error("{\"logN\": 13, \"levels\": 2, \"special\": 1, \"threads\": 1, \"median_ns\": 5}\n",
                 "line 1: missing field \"op\"");
    expect_error("{\"op\": \"add\", \"levels\": 2, \"special\": 1, \"threads\": 1, \"median_ns\": 5}\n",
                 "line 1: missing field \"logN\"");
    expect_error("{\"op\": \"add\", \"logN\": \"13\", \"levels\": 2, \"special\": 1, \"threads\": 1, \"median_ns\": 5}",
                 "line 1: bad field \"logN\" (an integer in range)");
    expect_error("{\"op\": \"add\", \"logN\": 13, \"levels\": 2, \"special\": 1, \"threads\": 1, \"median_ns\": -5}",
                 "line 1: bad field \"median_ns\" (a positive number)");
    expect_error("{\"op\": \"add\", \"logN\": 13, \"levels\": 2, \"special\": 1, \"threads\": 1, \"median_ns\": 5, "
                 "\"dnum\": 4}",
                 "line 1: bad field \"dnum\" (1..3)");
    expect_error("[1, 2]\n{\"op\": 3}", "line 2: non-string field \"op\"");
    expect_error("{\"op\": \"linear\", \"logN\": 13, \"levels\": 2, \"special\": 1, \"threads\": 1, \"median_ns\": 5, "
                 "\"terms\": 128}",
                 "line 1: a linear line needs the integer fields \"terms\" and \"outputs\"");
    /* Only other thread counts, unknown ops, and non-JSON lines: nothing to fit. */
    expect_error("build/bin/hnnrt-bench --threads 1\n\n"
                 "{\"op\": \"add\", \"logN\": 13, \"levels\": 2, \"special\": 1, \"threads\": 2, \"median_ns\": 5}\n"
                 "{\"op\": \"frobnicate\", \"logN\": 13, \"levels\": 2, \"special\": 1, \"threads\": 1, "
                 "\"median_ns\": 5}\n",
                 "no usable bench line measured with 1 thread");
}

/* A line of `op` at set s with median ns. */
static int
line(char *buf, size_t cap, const char *op, size_t s, int threads, double ns)
{
    return snprintf(buf, cap,
                    "{\"op\": \"%s\", \"logN\": %u, \"levels\": %u, \"special\": %u, \"threads\": %d, "
                    "\"median_ns\": %.17g, \"runs\": 9, \"dnum\": %u}\n",
                    op, sets[s].log_n, sets[s].levels, sets[s].special, threads, ns, sets[s].dnum);
}

static double
synth(hnn_cost_op op, size_t s, const double *c)
{
    unsigned l1 = sets[s].levels + 1, alpha = (l1 + sets[s].dnum - 1) / sets[s].dnum;
    double w[HNN_COST_MAX_TERMS], ns = 0;
    unsigned n = hnn_cost_terms(op, sets[s].log_n, l1, sets[s].special, alpha, w);
    for (unsigned i = 0; i < n; i++)
        ns += c[i] * w[i];
    return ns;
}

static void
assert_close(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("got %.17g, want %.17g", got, want);
}

/*
 * Lines made from known constants, with noise lines around them (another
 * thread count, an unknown op, make's echo, a blank line): the fit gives the
 * constants back and reproduces every line exactly.
 */
static void
fit_recovers_synthetic_constants(void **state)
{
    (void)state;
    static const double add_c[] = {0.5, 0.02}, mul_pt_c[] = {4.0, 0.01}, relin_c[] = {0.75, 3.0, 1.5},
                        rescale_c[] = {1.7, 0.4}, hoist_c[] = {0.7, 3.3}, roth_c[] = {0.7, 3.3, 2.9},
                        decode_c[] = {1.9, 0.25, 4.5}, term_c[] = {0.2, 0.003};
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, "build/bin/hnnrt-bench --threads 1\n\n");
    for (size_t s = 0; s < 4; s++) {
        double rot = synth(HNN_COST_HOIST, s, hoist_c) + synth(HNN_COST_ROTATE_HOISTED, s, roth_c);
        double hoisted = synth(HNN_COST_HOIST, s, hoist_c) / 8 + synth(HNN_COST_ROTATE_HOISTED, s, roth_c);
        len += (size_t)line(text + len, cap - len, "add", s, 1, synth(HNN_COST_ADD, s, add_c));
        len += (size_t)line(text + len, cap - len, "add", s, 2, 1e9);
        len += (size_t)line(text + len, cap - len, "mul_pt", s, 1, synth(HNN_COST_MUL_PT, s, mul_pt_c));
        len += (size_t)line(text + len, cap - len, "relin", s, 1, synth(HNN_COST_RELIN, s, relin_c));
        len += (size_t)line(text + len, cap - len, "rescale", s, 1, synth(HNN_COST_RESCALE, s, rescale_c));
        len += (size_t)line(text + len, cap - len, "decode", s, 1, synth(HNN_COST_DECODE, s, decode_c));
        len += (size_t)line(text + len, cap - len, "rotate", s, 1, rot);
        len += (size_t)line(text + len, cap - len, "conjugate", s, 1, rot);
        len += (size_t)line(text + len, cap - len, "rotate_hoisted", s, 1, hoisted);
        len += (size_t)line(text + len, cap - len, "keygen_galois", s, 1, 1e9);
        /* linear: 32 outputs at add's cost each, 512 terms (the line without
         * its closing "}\n", then its two fields) */
        len += (size_t)line(text + len, cap - len, "linear", s, 1,
                            32 * synth(HNN_COST_ADD, s, add_c) + 512 * synth(HNN_COST_LINEAR_TERM, s, term_c)) - 2;
        len += (size_t)snprintf(text + len, cap - len, ", \"terms\": 512, \"outputs\": 32}\n");
        len += (size_t)line(text + len, cap - len, "no_such_op", s, 1, 1e9);
    }
    hnn_cost_table *t = NULL;
    char err[256] = "";
    if (!parse(text, &t, err, sizeof err))
        fail_msg("%s", err);
    free(text);
    assert_int_equal(t->threads, 1);
    assert_int_equal(t->count, HNN_COST__COUNT);
    assert_int_equal(t->n_points, 4 * 9);
    const struct {
        hnn_cost_op op;
        const double *c;
        unsigned n, points;
    } want[] = {
        {HNN_COST_ADD, add_c, 2, 4},
        {HNN_COST_MUL_PT, mul_pt_c, 2, 4},
        {HNN_COST_MUL_CONST, mul_pt_c, 2, 4}, /* mul_pt's constants */
        {HNN_COST_RELIN, relin_c, 3, 4},
        {HNN_COST_RESCALE, rescale_c, 2, 4},
        {HNN_COST_DECODE, decode_c, 3, 4},
        {HNN_COST_HOIST, hoist_c, 2, 12},
        {HNN_COST_ROTATE_HOISTED, roth_c, 3, 12},
        {HNN_COST_LINEAR, add_c, 2, 4}, /* add's constants */
        {HNN_COST_LINEAR_TERM, term_c, 2, 4},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const hnn_cost_entry *e = &t->entries[want[i].op];
        assert_int_equal(e->op, want[i].op);
        assert_int_equal(e->n_points, want[i].points);
        for (unsigned k = 0; k < want[i].n; k++)
            assert_close(e->c_ns[k], want[i].c[k], 1e-9);
        assert_close(e->max_ratio, 1.0, 1e-9);
    }
    /* ROTATE is fitted to rotate + conjugate on its own terms, which are the
     * hoisted pair's summed: with the same constant per kind of work in both
     * (0.7 per butterfly, 3.3 per conversion product, 2.9 per MAC), the
     * same constants again, from 8 lines. */
    assert_int_equal(t->entries[HNN_COST_ROTATE].n_points, 8);
    assert_close(t->entries[HNN_COST_ROTATE].c_ns[0], 0.7, 1e-9);
    assert_close(t->entries[HNN_COST_ROTATE].c_ns[1], 3.3, 1e-9);
    assert_close(t->entries[HNN_COST_ROTATE].c_ns[2], 2.9, 1e-9);
    for (size_t i = 0; i < t->n_points; i++)
        assert_close(t->points[i].model_ns, t->points[i].median_ns, 1e-9);
    /* Ops without lines keep the default table's constants. */
    assert_int_equal(t->entries[HNN_COST_ENCODE].n_points, 0);
    assert_true(t->entries[HNN_COST_ENCODE].c_ns[0] == hnn_cost_default()->entries[HNN_COST_ENCODE].c_ns[0]);
    hnn_cost_table_free(t);
}

/* The thread count selects the lines. */
static void
fit_for_another_thread_count(void **state)
{
    (void)state;
    char text[4096];
    size_t len = 0;
    static const double one[] = {1.0, 0}, two[] = {0.6, 0};
    for (size_t s = 0; s < 4; s++) {
        len += (size_t)line(text + len, sizeof text - len, "add", s, 1, synth(HNN_COST_ADD, s, one));
        len += (size_t)line(text + len, sizeof text - len, "add", s, 2, synth(HNN_COST_ADD, s, two));
    }
    FILE *f = fmemopen(text, len, "r");
    hnn_cost_table *t = NULL;
    char err[256];
    assert_true(hnn_cost_from_bench_threads(f, 2, &t, err, sizeof err));
    fclose(f);
    assert_int_equal(t->threads, 2);
    assert_close(t->entries[HNN_COST_ADD].c_ns[0], 0.6, 1e-9);
    assert_true(t->entries[HNN_COST_ADD].c_ns[1] == 0);
    hnn_cost_table_free(t);
}

/* The terms of a relinearisation at the logN 16 set: l = 35, k = 2, alpha 2,
 * beta 18, E 37: (18 + 2) 37 NTTs, sum_j c_j (37 - c_j) + 2*35*2 products
 * (17 digits of 2, one of 1: 17*2*35 + 36 = 1226, plus 140), 2*18*37 MACs. */
static void
key_switching_terms(void **state)
{
    (void)state;
    double w[HNN_COST_MAX_TERMS];
    assert_int_equal(hnn_cost_terms(HNN_COST_RELIN, 16, 35, 2, 2, w), 3);
    assert_true(w[0] == 20.0 * 37 * 65536 * 16);
    assert_true(w[1] == (1226.0 + 140) * 65536);
    assert_true(w[2] == 2.0 * 18 * 37 * 65536);
    assert_int_equal(hnn_cost_terms(HNN_COST_HOIST, 16, 35, 2, 2, w), 2);
    assert_true(w[0] == 18.0 * 37 * 65536 * 16);
    assert_true(w[1] == 1226.0 * 65536);
    assert_int_equal(hnn_cost_terms(HNN_COST_ADD, 13, 3, 1, 1, w), 2);
    assert_true(w[0] == 3.0 * 8192);
    assert_true(w[1] == 3.0 * 8192 * log2(3.0 * 8192));
    assert_int_equal(hnn_cost_terms(HNN_COST__COUNT, 13, 3, 1, 1, w), 0);
    /* hnn_cost_ns is the k = 1, alpha = 1 case; hnn_cost_spec_ns reads the spec. */
    const hnn_cost_table *d = hnn_cost_default();
    assert_true(hnn_cost_ns(d, HNN_COST_RELIN, 14, 7) == hnn_cost_ks_ns(d, HNN_COST_RELIN, 14, 7, 1, 1));
    hnnrt_params_spec spec = {.log_n = 16, .n_data_primes = 35, .n_special_primes = 2, .dnum = 18};
    assert_true(hnn_cost_spec_ns(d, HNN_COST_RELIN, &spec, 34) == hnn_cost_ks_ns(d, HNN_COST_RELIN, 16, 35, 2, 2));
    /* At a lower level the digits shrink: 10 limbs, alpha 2, 5 digits. */
    assert_true(hnn_cost_spec_ns(d, HNN_COST_RELIN, &spec, 9) == hnn_cost_ks_ns(d, HNN_COST_RELIN, 16, 10, 2, 2));
    spec.dnum = 0; /* the runtime's default: ceil(35/2) = 18 digits, alpha 2 */
    assert_true(hnn_cost_spec_ns(d, HNN_COST_RELIN, &spec, 34) == hnn_cost_ks_ns(d, HNN_COST_RELIN, 16, 35, 2, 2));
    assert_true(hnn_cost_ns(d, HNN_COST__COUNT, 14, 7) == 0);
    assert_string_equal(hnn_cost_op_name(HNN_COST_ROTATE_HOISTED), "rotate_hoisted");
    assert_string_equal(hnn_cost_op_name(HNN_COST__COUNT), "?");
}

static void
default_positive_and_monotone(void **state)
{
    (void)state;
    const hnn_cost_table *d = hnn_cost_default();
    assert_string_equal(d->source, "default");
    assert_int_equal(d->threads, 1);
    assert_int_equal(d->count, HNN_COST__COUNT);
    for (unsigned op = 0; op < HNN_COST__COUNT; op++) {
        assert_int_equal(d->entries[op].op, op);
        for (unsigned log_n = 12; log_n <= 16; log_n++) {
            double prev = 0;
            for (unsigned limbs = 1; limbs <= 44; limbs++) {
                double ns = hnn_cost_ns(d, (hnn_cost_op)op, log_n, limbs);
                if (!(ns > 0) || ns < prev)
                    fail_msg("%s at 2^%u, %u limbs: %g after %g", hnn_cost_op_name((hnn_cost_op)op), log_n, limbs,
                             ns, prev);
                /* Monotone in the ring at the same limbs. */
                if (log_n > 12)
                    assert_true(ns > hnn_cost_ns(d, (hnn_cost_op)op, log_n - 1, limbs));
                /* and for the key-switching layouts the selection tries. */
                for (unsigned k = 1; k <= 3; k++)
                    for (unsigned alpha = 1; alpha <= 4; alpha++) {
                        double ks = hnn_cost_ks_ns(d, (hnn_cost_op)op, log_n, limbs, k, alpha);
                        assert_true(ks > 0);
                        if (limbs > 1)
                            assert_true(ks >= hnn_cost_ks_ns(d, (hnn_cost_op)op, log_n, limbs - 1, k, alpha));
                    }
                prev = ns;
            }
        }
    }
    /* A rotation after a hoist costs less than a rotation; mul_const as mul_pt. */
    assert_true(hnn_cost_ns(d, HNN_COST_ROTATE_HOISTED, 14, 7) < hnn_cost_ns(d, HNN_COST_ROTATE, 14, 7));
    assert_true(hnn_cost_ns(d, HNN_COST_MUL_CONST, 14, 7) == hnn_cost_ns(d, HNN_COST_MUL_PT, 14, 7));
    assert_true(hnn_cost_ns(NULL, HNN_COST_ADD, 14, 7) == hnn_cost_ns(d, HNN_COST_ADD, 14, 7));
}

/* The shipped table reproduces every bench line it came from within 1.5x. */
static void
default_matches_its_bench_lines(void **state)
{
    (void)state;
    const hnn_cost_table *d = hnn_cost_default();
    assert_true(d->n_points >= 4 * 13);
    unsigned sets_seen = 0;
    for (size_t i = 0; i < d->n_points; i++) {
        const hnn_cost_point *p = &d->points[i];
        double r = p->model_ns / p->median_ns;
        if (!(r > 1 / 1.5 && r < 1.5))
            fail_msg("%s at 2^%u: model %.0f ns, measured %.0f ns", p->op, p->log_n, p->model_ns, p->median_ns);
        sets_seen |= 1u << (p->log_n - 13);
    }
    assert_int_equal(sets_seen, 0xf);
    for (unsigned op = 0; op < HNN_COST__COUNT; op++) {
        assert_true(d->entries[op].n_points >= 4);
        assert_true(d->entries[op].max_ratio >= 1 && d->entries[op].max_ratio < 1.5);
    }
}

/* Fitting the table's own lines again gives the table back. */
static void
default_is_the_fit_of_its_lines(void **state)
{
    (void)state;
    const hnn_cost_table *d = hnn_cost_default();
    size_t cap = d->n_points * 256 + 1, len = 0;
    char *text = malloc(cap);
    for (size_t i = 0; i < d->n_points; i++) {
        const hnn_cost_point *p = &d->points[i];
        len += (size_t)snprintf(text + len, cap - len,
                                "{\"op\": \"%s\", \"logN\": %u, \"levels\": %u, \"special\": %u, \"threads\": 1, "
                                "\"median_ns\": %.17g, \"runs\": 1, \"dnum\": %u",
                                p->op, p->log_n, p->levels, p->special, p->median_ns, p->dnum);
        if (p->terms) /* a linear line */
            len += (size_t)snprintf(text + len, cap - len, ", \"terms\": %u, \"outputs\": %u", p->terms, p->outputs);
        len += (size_t)snprintf(text + len, cap - len, "}\n");
    }
    hnn_cost_table *t = NULL;
    char err[256];
    if (!parse(text, &t, err, sizeof err))
        fail_msg("%s", err);
    free(text);
    for (unsigned op = 0; op < HNN_COST__COUNT; op++)
        for (unsigned k = 0; k < HNN_COST_MAX_TERMS; k++)
            assert_close(t->entries[op].c_ns[k], d->entries[op].c_ns[k], 1e-9);
    hnn_cost_table_free(t);
}

/* The JSON form parses back with every op; the C form defines the table. */
static void
writers(void **state)
{
    (void)state;
    const hnn_cost_table *d = hnn_cost_default();
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    hnn_cost_write_json(f, d);
    fclose(f);
    json_error_t jerr;
    json_t *root = json_loads(buf, 0, &jerr);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "version")), 1);
    json_t *ops = json_object_get(root, "ops");
    assert_int_equal(json_array_size(ops), HNN_COST__COUNT);
    json_t *relin = json_array_get(ops, HNN_COST_RELIN);
    assert_string_equal(json_string_value(json_object_get(relin, "op")), "relin");
    assert_int_equal(json_array_size(json_object_get(relin, "c_ns")), 3);
    assert_int_equal(json_array_size(json_object_get(root, "points")), d->n_points);
    json_decref(root);
    free(buf);

    f = open_memstream(&buf, &size);
    hnn_cost_write_c(f, d);
    fclose(f);
    assert_non_null(strstr(buf, "static const hnn_cost_entry default_entries[HNN_COST__COUNT] = {"));
    assert_non_null(strstr(buf, "const hnn_cost_table *\nhnn_cost_default(void)\n"));
    free(buf);

    f = open_memstream(&buf, &size);
    hnn_cost_write_ratios(f, d);
    fclose(f);
    size_t lines = 0;
    for (const char *c = buf; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, d->n_points + 1);
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_errors),
        cmocka_unit_test(fit_recovers_synthetic_constants),
        cmocka_unit_test(fit_for_another_thread_count),
        cmocka_unit_test(key_switching_terms),
        cmocka_unit_test(default_positive_and_monotone),
        cmocka_unit_test(default_matches_its_bench_lines),
        cmocka_unit_test(default_is_the_fit_of_its_lines),
        cmocka_unit_test(writers),
    };
    return cmocka_run_group_tests_name("middle/cost", tests, NULL, NULL);
}
