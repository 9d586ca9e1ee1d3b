/* approx: activation fits, power-to-Chebyshev conversion, evaluation programs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "front/arena.h"
#include "middle/approx.h"

#define APPROX_TEST(name, fn) {(name), (fn), NULL, NULL, NULL}

static const double PI = 3.14159265358979323846;

/* The activations and the intervals the fits are checked on. */
static const struct {
    hnn_op op;
    double lo, hi;
} act[] = {
    {HNN_OP_RELU, -5, 5},
    {HNN_OP_SIGMOID, -8, 8},
    {HNN_OP_TANH, -5, 5},
    {HNN_OP_GELU, -5, 5},
    {HNN_OP_EXP, -4, 2},
};
#define N_ACT (sizeof act / sizeof act[0])

/* Deterministic xorshift64*: uniform in [-0.5, 0.5). */
static double
rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ull) >> 11) / 9007199254740992.0 - 0.5;
}

static double
clenshaw(const double *c, uint32_t d, double t)
{
    double b1 = 0, b2 = 0;
    for (uint32_t k = d; k >= 1; k--) {
        double b0 = c[k] + 2 * t * b1 - b2;
        b2 = b1;
        b1 = b0;
    }
    return c[0] + t * b1 - b2;
}

/* max |f - p| on n + 1 points uniform in x: a grid of its own, finer than
 * and different from the one the fit measures on. */
static double
uniform_error(hnn_op op, const hnn_cheb *p, uint32_t n)
{
    double worst = 0;
    for (uint32_t i = 0; i <= n; i++) {
        double x = p->lo + (p->hi - p->lo) * i / n;
        double e = fabs(hnn_approx_activation(op, x) - hnn_cheb_eval(p, x));
        if (e > worst)
            worst = e;
    }
    return worst;
}

/* ---------------------------------------------------------------- fits */

static void
activation_values(void **state)
{
    (void)state;
    assert_true(hnn_approx_activation(HNN_OP_RELU, -1.5) == 0);
    assert_true(hnn_approx_activation(HNN_OP_RELU, 2.5) == 2.5);
    assert_true(hnn_approx_activation(HNN_OP_SIGMOID, 0) == 0.5);
    /* the tails keep their relative accuracy */
    assert_true(fabs(hnn_approx_activation(HNN_OP_SIGMOID, -40) / 4.248354255291589e-18 - 1) < 1e-14);
    assert_true(fabs(hnn_approx_activation(HNN_OP_SIGMOID, 3) - 0.9525741268224334) < 1e-16);
    assert_true(fabs(hnn_approx_activation(HNN_OP_TANH, 1) - 0.7615941559557649) < 1e-16);
    /* gelu(1) = Phi(1); gelu(-10) = -10 Phi(-10) */
    assert_true(fabs(hnn_approx_activation(HNN_OP_GELU, 1) - 0.8413447460685429486) < 2.3e-16);
    assert_true(fabs(hnn_approx_activation(HNN_OP_GELU, -10) / -7.619853024160527e-23 - 1) < 1e-13);
    assert_true(hnn_approx_activation(HNN_OP_GELU, 0) == 0);
    assert_true(fabs(hnn_approx_activation(HNN_OP_EXP, 1) - 2.718281828459045) < 1e-15);
    assert_true(hnn_approx_activation(HNN_OP_SQUARE, -3) == 9);
    assert_true(isnan(hnn_approx_activation(HNN_OP_DENSE, 1)));
}

/* Measured max errors (grid of the fit), each asserted within 2%. */
static void
fit_known_figures(void **state)
{
    (void)state;
    static const struct {
        size_t act;
        uint32_t d;
        double err;
    } known[] = {
        {0, 7, 0.114825},    {0, 15, 0.049872},  {0, 63, 0.0112962},
        {1, 3, 0.0894604},   {1, 7, 0.0188951},  {1, 15, 0.000878888}, {1, 31, 1.90926e-06},
        {2, 7, 0.0667987},   {2, 15, 0.00560679},
        {3, 7, 0.0601624},   {3, 15, 0.00121775},
        {4, 7, 0.000614876}, {4, 15, 2.65592e-11},
    };
    hnn_arena *arena = hnn_arena_new();
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        hnn_cheb p = hnn_approx_fit(arena, act[known[i].act].op, known[i].d, act[known[i].act].lo, act[known[i].act].hi);
        print_message("  measured %-8s [%g, %g] degree %2u max error %.6g\n", hnn_op_name(act[known[i].act].op),
                      p.lo, p.hi, p.degree, p.max_error);
        assert_int_equal(p.degree, known[i].d);
        assert_true(fabs(p.max_error / known[i].err - 1) < 0.02);
    }
    hnn_arena_free(arena);
}

static void
fit_error_decreases_with_degree(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    static const uint32_t deg[] = {3, 7, 15, 31};
    for (size_t a = 0; a < N_ACT; a++) {
        double prev = INFINITY;
        for (size_t k = 0; k < 4; k++) {
            hnn_cheb p = hnn_approx_fit(arena, act[a].op, deg[k], act[a].lo, act[a].hi);
            assert_true(p.max_error < prev);
            assert_true(p.max_error > 0);
            prev = p.max_error;
        }
    }
    hnn_arena_free(arena);
}

/* The reported error is what a finer, independent grid sees: never more
 * than 1e-4 above it (a lobe top between grid points) nor far below. */
static void
fit_error_is_measured(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    for (size_t a = 0; a < N_ACT; a++) {
        for (uint32_t d = 5; d <= 13; d += 4) {
            hnn_cheb p = hnn_approx_fit(arena, act[a].op, d, act[a].lo, act[a].hi);
            double fine = uniform_error(act[a].op, &p, 200000);
            assert_true(fine <= p.max_error * (1 + 1e-4));
            assert_true(fine >= p.max_error * 0.99);
        }
    }
    hnn_arena_free(arena);
}

/* The Remez steps never lose to plain interpolation and gain on every
 * activation; plain interpolation computed here from its definition. */
static void
fit_beats_interpolation(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    for (size_t a = 0; a < N_ACT; a++) {
        for (uint32_t d = 4; d <= 16; d += 4) {
            double c[17], fx[17];
            uint32_t n = d + 1;
            double mid = 0.5 * (act[a].lo + act[a].hi), half = 0.5 * (act[a].hi - act[a].lo);
            for (uint32_t j = 0; j < n; j++)
                fx[j] = hnn_approx_activation(act[a].op, mid + half * cos(PI * (j + 0.5) / n));
            for (uint32_t k = 0; k < n; k++) {
                c[k] = 0;
                for (uint32_t j = 0; j < n; j++)
                    c[k] += 2.0 / n * fx[j] * cos(PI * k * (j + 0.5) / n);
            }
            c[0] /= 2;
            hnn_cheb interp = {.degree = d, .lo = act[a].lo, .hi = act[a].hi, .coeffs = c};
            hnn_cheb p = hnn_approx_fit(arena, act[a].op, d, act[a].lo, act[a].hi);
            double e_interp = uniform_error(act[a].op, &interp, 100000);
            double e_fit = uniform_error(act[a].op, &p, 100000);
            assert_true(e_fit < 0.95 * e_interp);
        }
    }
    hnn_arena_free(arena);
}

/* sigmoid and tanh are odd up to a constant on symmetric intervals: their
 * fits carry exact zeros, which the programs skip (MULC 54 -> 32 at d = 63). */
static void
fit_parity(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    for (size_t a = 1; a <= 2; a++) {
        hnn_cheb p = hnn_approx_fit(arena, act[a].op, 63, act[a].lo, act[a].hi);
        for (uint32_t k = 2; k <= 63; k += 2)
            assert_true(p.coeffs[k] == 0);
        for (uint32_t k = 1; k <= 15; k += 2)
            assert_true(p.coeffs[k] != 0);
        hnn_approx_program prog = hnn_approx_program_build(arena, &p);
        assert_int_equal(prog.depth, 6);
        assert_int_equal(prog.n_mul, 17);
        assert_int_equal(prog.n_mulc, 32);
    }
    /* off-centre the symmetry is gone and so are the zeros */
    hnn_cheb q = hnn_approx_fit(arena, HNN_OP_SIGMOID, 15, -8, 6);
    for (uint32_t k = 0; k <= 15; k++)
        assert_true(fabs(q.coeffs[k]) > 1e-12);
    hnn_arena_free(arena);
}

static void
fit_auto_is_smallest(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    static const struct {
        size_t act;
        int bits;
        uint32_t degree;
    } cases[] = {
        {1, 20, 33}, {1, 10, 15}, {2, 12, 27}, {3, 16, 22}, {4, 30, 14}, {0, 5, 24},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double target = ldexp(1, -cases[i].bits);
        hnn_op op = act[cases[i].act].op;
        double lo = act[cases[i].act].lo, hi = act[cases[i].act].hi;
        hnn_cheb p = hnn_approx_fit_auto(arena, op, target, 63, lo, hi);
        print_message("  measured auto %-8s 2^-%d: degree %u, max error %.4g\n", hnn_op_name(op), cases[i].bits,
                      p.degree, p.max_error);
        assert_int_equal(p.degree, cases[i].degree);
        assert_true(p.max_error <= target);
        hnn_cheb below = hnn_approx_fit(arena, op, p.degree - 1, lo, hi);
        assert_true(below.max_error > target);
        hnn_cheb same = hnn_approx_fit(arena, op, p.degree, lo, hi);
        assert_true(same.max_error == p.max_error);
        assert_memory_equal(same.coeffs, p.coeffs, (p.degree + 1) * sizeof(double));
    }
    /* unreachable: the fit at max_degree, reporting its error */
    hnn_cheb p = hnn_approx_fit_auto(arena, HNN_OP_RELU, 1e-6, 9, -5, 5);
    assert_int_equal(p.degree, 9);
    assert_true(p.max_error > 1e-6);
    hnn_arena_free(arena);
}

/* ------------------------------------------------------- power basis */

static void
power_conversion_is_exact(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    /* x^2 on [-3, 5]: x = 1 + 4t, x^2 = 1 + 8t + 16t^2 = 9 + 8 T_1 + 8 T_2 */
    static const double sq[3] = {0, 0, 1};
    hnn_cheb p = hnn_approx_from_power(arena, sq, 2, -3, 5);
    assert_int_equal(p.degree, 2);
    assert_true(p.coeffs[0] == 9 && p.coeffs[1] == 8 && p.coeffs[2] == 8);
    assert_true(p.max_error == 0);

    static const double iv[][2] = {{-1, 1}, {-5, 5}, {-4, 2}, {0.5, 3}, {-8, 8}, {10, 12}};
    uint64_t s = 42;
    double worst = 0;
    for (size_t k = 0; k < sizeof iv / sizeof iv[0]; k++) {
        for (uint32_t d = 0; d <= 20; d++) {
            double a[21];
            for (uint32_t i = 0; i <= d; i++)
                a[i] = 4 * rnd(&s);
            p = hnn_approx_from_power(arena, a, d, iv[k][0], iv[k][1]);
            double r = fmax(fabs(iv[k][0]), fabs(iv[k][1]));
            for (int j = 0; j <= 400; j++) {
                double x = iv[k][0] + (iv[k][1] - iv[k][0]) * j / 400.0;
                double horner = 0, scale = 0;
                for (uint32_t i = d + 1; i-- > 0;) {
                    horner = horner * x + a[i];
                    scale = scale * r + fabs(a[i]);
                }
                double rel = fabs(hnn_cheb_eval(&p, x) - horner) / scale;
                if (rel > worst)
                    worst = rel;
            }
        }
    }
    print_message("  measured power->Chebyshev vs Horner, degrees 0..20: relative error %.3g\n", worst);
    assert_true(worst <= 1e-12);
    hnn_arena_free(arena);
}

/* ------------------------------------------------------------ programs */

/* Checks every program invariant of approx.h by recomputing it. */
static void
check_program(const hnn_approx_program *prog)
{
    uint32_t mul = 0, mulc = 0, align = 0;
    assert_true(prog->n_instr >= 1);
    assert_int_equal(prog->instr[0].op, HNN_APPROX_INPUT);
    assert_int_equal(prog->instr[0].depth, 0);
    for (uint32_t i = 1; i < prog->n_instr; i++) {
        const hnn_approx_instr *in = &prog->instr[i];
        assert_true(in->op != HNN_APPROX_INPUT);
        assert_true(in->a < i);
        uint32_t da = prog->instr[in->a].depth, db = 0, want = 0;
        if (in->op == HNN_APPROX_MUL || in->op == HNN_APPROX_ADD || in->op == HNN_APPROX_SUB) {
            assert_true(in->b < i);
            db = prog->instr[in->b].depth;
        }
        uint32_t mx = da > db ? da : db;
        switch (in->op) {
        case HNN_APPROX_MUL: want = mx + 1; mul++; break;
        case HNN_APPROX_MULC: want = da + 1; mulc++; break;
        case HNN_APPROX_ADD:
        case HNN_APPROX_SUB: want = mx; align += da != db; break;
        case HNN_APPROX_ADDC: want = da; break;
        case HNN_APPROX_INPUT: break;
        }
        assert_int_equal(in->depth, want);
    }
    assert_true(prog->result < prog->n_instr);
    assert_int_equal(prog->depth, prog->instr[prog->result].depth);
    assert_int_equal(prog->n_mul, mul);
    assert_int_equal(prog->n_mulc, mulc);
    assert_int_equal(prog->n_align, align);
}

static double *
random_series(hnn_arena *arena, uint32_t d, uint64_t *s)
{
    double *c = hnn_arena_array(arena, d + 1, sizeof(double));
    for (uint32_t k = 0; k <= d; k++)
        c[k] = (rnd(s) + (rnd(s) < 0 ? -0.75 : 0.75)) / (1 + k); /* never 0 or 1 */
    return c;
}

static void
program_depth_every_degree(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    uint64_t s = 7;
    for (uint32_t d = 1; d <= 63; d++) {
        hnn_cheb p = {.degree = d, .lo = -1, .hi = 1, .coeffs = random_series(arena, d, &s)};
        hnn_approx_program prog = hnn_approx_program_build(arena, &p);
        check_program(&prog);
        assert_int_equal(prog.depth, hnn_approx_depth(d));
        for (int j = 0; j <= 200; j++) {
            double t = -1 + j / 100.0;
            assert_true(fabs(hnn_approx_program_eval(&prog, t) - clenshaw(p.coeffs, d, t)) < 1e-12);
        }
        hnn_approx_program pw = hnn_approx_program_power(arena, p.coeffs, d);
        check_program(&pw);
        assert_int_equal(pw.depth, hnn_approx_depth(d));
    }
    static const uint32_t big[] = {64, 100, 127, 128, 200, 255};
    for (size_t k = 0; k < sizeof big / sizeof big[0]; k++) {
        hnn_cheb p = {.degree = big[k], .lo = -1, .hi = 1, .coeffs = random_series(arena, big[k], &s)};
        hnn_approx_program prog = hnn_approx_program_build(arena, &p);
        check_program(&prog);
        assert_int_equal(prog.depth, hnn_approx_depth(big[k]));
    }
    assert_int_equal(hnn_approx_depth(0), 0);
    assert_int_equal(hnn_approx_depth(1), 1);
    assert_int_equal(hnn_approx_depth(7), 3);
    assert_int_equal(hnn_approx_depth(8), 4);
    assert_int_equal(hnn_approx_depth(255), 8);
    hnn_arena_free(arena);
}

/* The MUL counts of docs/design/approximation.md, for dense series. */
static void
program_mul_counts(void **state)
{
    (void)state;
    static const struct {
        uint32_t d, mul;
    } want[] = {
        {1, 0}, {2, 1}, {3, 2}, {4, 2}, {7, 5}, {8, 4}, {15, 8}, {16, 7}, {27, 11}, {31, 13}, {63, 18},
    };
    hnn_arena *arena = hnn_arena_new();
    uint64_t s = 11;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint32_t d = want[i].d;
        hnn_cheb p = {.degree = d, .lo = -1, .hi = 1, .coeffs = random_series(arena, d, &s)};
        hnn_approx_program prog = hnn_approx_program_build(arena, &p);
        hnn_approx_program pw = hnn_approx_program_power(arena, p.coeffs, d);
        print_message("  measured degree %2u: depth %u, mul %2u (naive %2u), mulc %2u, align %2u, instrs %3u; "
                      "power basis mul %2u\n",
                      d, prog.depth, prog.n_mul, d - 1, prog.n_mulc, prog.n_align, prog.n_instr, pw.n_mul);
        assert_int_equal(prog.n_mul, want[i].mul);
        assert_int_equal(pw.n_mul, want[i].mul);
    }
    hnn_arena_free(arena);
}

/* Every activation at degrees 3..63: the program on t = alpha x + beta
 * against Clenshaw on x, to 1e-9. */
static void
program_matches_clenshaw(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    static const uint32_t deg[] = {3, 7, 15, 31, 63};
    double worst = 0;
    for (size_t a = 0; a < N_ACT; a++) {
        for (size_t k = 0; k < 5; k++) {
            hnn_cheb p = hnn_approx_fit(arena, act[a].op, deg[k], act[a].lo, act[a].hi);
            hnn_approx_program prog = hnn_approx_program_build(arena, &p);
            check_program(&prog);
            assert_int_equal(prog.depth, hnn_approx_depth(deg[k]));
            double alpha, beta;
            hnn_cheb_affine(&p, &alpha, &beta);
            for (int j = 0; j <= 2000; j++) {
                double x = p.lo + (p.hi - p.lo) * j / 2000.0;
                double e = fabs(hnn_approx_program_eval(&prog, alpha * x + beta) - hnn_cheb_eval(&p, x));
                if (e > worst)
                    worst = e;
            }
        }
    }
    print_message("  measured program vs Clenshaw, all activations, degrees 3..63: %.3g\n", worst);
    assert_true(worst < 1e-9);
    hnn_arena_free(arena);
}

static void
program_small_cases(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    /* degree 1: one MULC */
    double lin[2] = {0.25, -3};
    hnn_cheb p1 = {.degree = 1, .lo = -1, .hi = 1, .coeffs = lin};
    hnn_approx_program prog = hnn_approx_program_build(arena, &p1);
    check_program(&prog);
    assert_int_equal(prog.depth, 1);
    assert_int_equal(prog.n_mul, 0);
    assert_int_equal(prog.n_mulc, 1);
    assert_true(hnn_approx_program_eval(&prog, 0.5) == -1.25);

    /* t^2 = T_2/2 + 1/2 from the exact conversion: one MUL at depth 1 */
    static const double sq[3] = {0, 0, 1};
    hnn_cheb p2 = hnn_approx_from_power(arena, sq, 2, -1, 1);
    prog = hnn_approx_program_build(arena, &p2);
    check_program(&prog);
    assert_int_equal(prog.depth, 1);
    assert_int_equal(prog.n_mul, 1);
    assert_int_equal(prog.n_mulc, 0);
    assert_true(hnn_approx_program_eval(&prog, -0.75) == 0.5625);
    /* and on x in the power basis */
    prog = hnn_approx_program_power(arena, sq, 2);
    check_program(&prog);
    assert_int_equal(prog.depth, 1);
    assert_int_equal(prog.n_mul, 1);
    assert_int_equal(prog.n_instr, 2);
    assert_true(hnn_approx_program_eval(&prog, 3) == 9);

    /* x^4 + x^2: unit coefficients, depth 2 below the bound 3 */
    static const double q4[5] = {0, 0, 1, 0, 1};
    prog = hnn_approx_program_power(arena, q4, 4);
    check_program(&prog);
    assert_int_equal(prog.depth, 2);
    assert_int_equal(prog.n_mul, 2);
    assert_true(hnn_approx_program_eval(&prog, 2) == 20);

    /* zero top coefficients: the effective degree sets the depth */
    double c[8] = {0.5, 0.25, -0.125, 0, 0, 0, 0, 0};
    hnn_cheb p7 = {.degree = 7, .lo = -1, .hi = 1, .coeffs = c};
    prog = hnn_approx_program_build(arena, &p7);
    check_program(&prog);
    assert_int_equal(prog.depth, 2);

    /* a constant still yields a value, at depth 0 */
    double k[3] = {1.5, 0, 0};
    hnn_cheb p0 = {.degree = 2, .lo = -1, .hi = 1, .coeffs = k};
    prog = hnn_approx_program_build(arena, &p0);
    check_program(&prog);
    assert_int_equal(prog.depth, 0);
    assert_true(hnn_approx_program_eval(&prog, 0.3) == 1.5);
    hnn_arena_free(arena);
}

static void
program_power_matches_horner(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    uint64_t s = 99;
    for (uint32_t d = 1; d <= 24; d++) {
        double *a = random_series(arena, d, &s);
        hnn_approx_program prog = hnn_approx_program_power(arena, a, d);
        check_program(&prog);
        assert_int_equal(prog.depth, hnn_approx_depth(d));
        for (int j = 0; j <= 100; j++) {
            double x = -1.5 + 3 * j / 100.0, horner = 0, scale = 0;
            for (uint32_t i = d + 1; i-- > 0;) {
                horner = horner * x + a[i];
                scale = scale * fabs(x) + fabs(a[i]);
            }
            assert_true(fabs(hnn_approx_program_eval(&prog, x) - horner) <= 1e-13 * scale);
        }
    }
    hnn_arena_free(arena);
}

static char *
printed(const hnn_approx_program *prog)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    hnn_approx_program_print(f, prog);
    long n = ftell(f);
    rewind(f);
    char *text = calloc((size_t)n + 1, 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return text;
}

static void
program_print_golden(void **state)
{
    (void)state;
    hnn_arena *arena = hnn_arena_new();
    double c[4] = {0.5, -1.25, 0.75, 0.1};
    hnn_cheb p = {.degree = 3, .lo = -1, .hi = 1, .coeffs = c};
    hnn_approx_program prog = hnn_approx_program_build(arena, &p);
    char *text = printed(&prog);
    assert_string_equal(text,
                        "program: 10 instrs, depth 2, mul 2, mulc 2, align 1, result %9\n"
                        "  %0 = input  # depth 0\n"
                        "  %1 = mulc %0, 0.20000000000000001  # depth 1\n"
                        "  %2 = addc %1, 0.75  # depth 1\n"
                        "  %3 = mul %0, %0  # depth 1\n"
                        "  %4 = add %3, %3  # depth 1\n"
                        "  %5 = addc %4, -1  # depth 1\n"
                        "  %6 = mul %2, %5  # depth 2\n"
                        "  %7 = mulc %0, -1.3500000000000001  # depth 1\n"
                        "  %8 = add %7, %6  # depth 2\n"
                        "  %9 = addc %8, 0.5  # depth 2\n");
    free(text);
    /* the same program prints the same text */
    hnn_approx_program again = hnn_approx_program_build(arena, &p);
    text = printed(&again);
    char *first = printed(&prog);
    assert_string_equal(text, first);
    free(text);
    free(first);
    hnn_arena_free(arena);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        APPROX_TEST("approx/activation/values", activation_values),
        APPROX_TEST("approx/fit/known_figures", fit_known_figures),
        APPROX_TEST("approx/fit/error_decreases_with_degree", fit_error_decreases_with_degree),
        APPROX_TEST("approx/fit/error_is_measured", fit_error_is_measured),
        APPROX_TEST("approx/fit/beats_interpolation", fit_beats_interpolation),
        APPROX_TEST("approx/fit/parity", fit_parity),
        APPROX_TEST("approx/fit/auto_is_smallest", fit_auto_is_smallest),
        APPROX_TEST("approx/power/conversion_is_exact", power_conversion_is_exact),
        APPROX_TEST("approx/program/depth_every_degree", program_depth_every_degree),
        APPROX_TEST("approx/program/mul_counts", program_mul_counts),
        APPROX_TEST("approx/program/matches_clenshaw", program_matches_clenshaw),
        APPROX_TEST("approx/program/small_cases", program_small_cases),
        APPROX_TEST("approx/program/power_matches_horner", program_power_matches_horner),
        APPROX_TEST("approx/program/print_golden", program_print_golden),
    };
    return cmocka_run_group_tests_name("compiler/approx", tests, NULL, NULL);
}
