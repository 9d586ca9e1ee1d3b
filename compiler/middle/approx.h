/*
 * Polynomial approximation of activations and their evaluation programs.
 *
 * Two parts, both pure numerics (no HE objects):
 *
 * 1. Fitting. An activation f (relu, sigmoid, tanh, gelu, exp) is approximated
 *    on [lo, hi] by a polynomial of degree d in the Chebyshev basis of that
 *    interval: p(x) = sum_k c_k T_k(t), t = (2x - lo - hi) / (hi - lo). The fit
 *    is Chebyshev interpolation refined by a few discrete Remez exchanges,
 *    kept only when they lower the measured error; its max error on [lo, hi]
 *    is measured on a dense grid (see docs/design/approximation.md). Fits of
 *    an f odd or even about the centre (sigmoid, tanh on symmetric
 *    intervals) carry exact zeros in the other parity, which programs skip.
 *    Explicit polynomials (square, poly) are converted exactly to the same
 *    basis, so every activation reaches the planner in one form.
 *
 * 2. Evaluation. hnn_approx_program_build turns a Chebyshev series into a
 *    straight-line program over one encrypted input t = alpha x + beta, the
 *    input already mapped to [-1, 1] (the planner folds alpha and beta into
 *    the preceding linear layer, or emits them as a scalar multiply and add):
 *    products of two values (non-scalar multiplications), products by
 *    constants, additions of values and of constants. On CKKS both kinds of
 *    product consume a level, so the program's depth counts scalar products
 *    too. It reaches the minimal multiplicative depth ceil(log2(d + 1)) with
 *    few non-scalar multiplications (baby-step giant-step /
 *    Paterson–Stockmeyer in the Chebyshev basis). The planner maps the
 *    program onto HE operations; hnn_approx_program_eval runs it on doubles,
 *    which is how tests and the planner check it.
 *
 *    Which program for which layer: fitted activations use
 *    hnn_approx_program_build on t. Exact polynomials (square, poly) use
 *    hnn_approx_program_power on x itself: no affine map to fold or pay a
 *    level for, and unit coefficients stay unit (square is one MUL at
 *    depth 1). Use the Chebyshev form for an exact polynomial only when its
 *    power-basis terms would cancel badly on the interval (high degree on a
 *    wide interval), at the price of the map.
 *
 * Program invariants (every builder here establishes them, tests check them):
 *   - instr[0] is the only INPUT; operands of instr[i] are < i;
 *   - depth: INPUT 0; MUL, MULC max(operand depths) + 1; ADD, SUB
 *     max(operand depths); ADDC the operand's depth;
 *   - depth == instr[result].depth <= hnn_approx_depth(effective degree);
 *   - n_align counts the ADD/SUB whose operands have different depths: each
 *     is a level alignment (a drop_level or a rescale shift) for the planner.
 */
#ifndef HNN_MIDDLE_APPROX_H
#define HNN_MIDDLE_APPROX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "front/arena.h"
#include "front/model.h"

#define HNN_APPROX_MAX_DEGREE 255
/* The error grid: this many intervals uniform in the Chebyshev angle
 * (x = mid + half cos theta), both ends included, plus x = 0 when it is
 * inside (relu's kink). */
#define HNN_APPROX_GRID 20000
/* Remez exchange steps after the interpolant, at most. */
#define HNN_APPROX_REMEZ_ITERS 12

typedef struct hnn_cheb {
    uint32_t degree;
    double lo, hi;       /* interval */
    double *coeffs;      /* degree + 1 Chebyshev coefficients */
    double max_error;    /* max |f - p| on [lo, hi] (0 for exact conversions) */
} hnn_cheb;

/* f(x) for an activation op (HNN_OP_RELU ... HNN_OP_EXP; HNN_OP_SQUARE gives
 * x^2); NaN for any other op. */
double hnn_approx_activation(hnn_op op, double x);

/* Chebyshev fit of activation op on [lo, hi] at degree d (1 <= d <= MAX),
 * lo < hi finite. Cost: O(d^2) for the interpolant, O(GRID d) per error
 * measurement, at most HNN_APPROX_REMEZ_ITERS Remez steps of O(d^3 + GRID d). */
hnn_cheb hnn_approx_fit(hnn_arena *arena, hnn_op op, uint32_t degree, double lo, double hi);
/* Smallest degree in [1, max_degree] whose max error <= target; when none
 * meets it, the fit at max_degree (check .max_error). The result is exactly
 * hnn_approx_fit at that degree. Degrees that a de la Vallée Poussin lower
 * bound rules out skip the Remez steps; cost about (number of degrees tried)
 * x O(GRID d), see docs/design/approximation.md for timings. */
hnn_cheb hnn_approx_fit_auto(hnn_arena *arena, hnn_op op, double target, uint32_t max_degree, double lo, double hi);
/* Exact (up to rounding) conversion of a power-basis polynomial
 * (coeffs[0] + coeffs[1] x + ...) to the Chebyshev basis of [lo, hi].
 * degree <= MAX; the result's coefficients differ from the exact ones by
 * about degree * eps * sum |coeffs[i]| max(|lo|, |hi|)^i. */
hnn_cheb hnn_approx_from_power(hnn_arena *arena, const double *coeffs, uint32_t degree, double lo, double hi);
/* p(x) by Clenshaw's recurrence. */
double hnn_cheb_eval(const hnn_cheb *p, double x);
/* t = alpha x + beta maps [lo, hi] onto [-1, 1]. */
void hnn_cheb_affine(const hnn_cheb *p, double *alpha, double *beta);

/* ------------------------------------------------------------------ programs */

typedef enum hnn_approx_opcode {
    HNN_APPROX_INPUT,   /* v = x (the encrypted input) */
    HNN_APPROX_MUL,     /* v = a * b          non-scalar: one level, a relinearisation */
    HNN_APPROX_MULC,    /* v = a * c          scalar: one level (constant encoded at a scale) */
    HNN_APPROX_ADD,     /* v = a + b */
    HNN_APPROX_SUB,     /* v = a - b */
    HNN_APPROX_ADDC,    /* v = a + c          no level */
} hnn_approx_opcode;

typedef struct hnn_approx_instr {
    hnn_approx_opcode op;
    uint32_t a, b;       /* earlier instruction indices */
    double c;            /* constant for MULC / ADDC */
    uint32_t depth;      /* multiplicative depth of the result (INPUT: 0) */
} hnn_approx_instr;

typedef struct hnn_approx_program {
    hnn_approx_instr *instr;
    uint32_t n_instr;
    uint32_t result;        /* index of the value computed */
    uint32_t depth;         /* = instr[result].depth */
    uint32_t n_mul;         /* non-scalar multiplications */
    uint32_t n_mulc;        /* scalar multiplications */
    uint32_t n_align;       /* ADD/SUB of operands at different depths */
    uint32_t baby;          /* the baby-step bound the builder chose */
} hnn_approx_program;

/* ceil(log2(degree + 1)): the depth every program of that degree reaches
 * (0 for degree 0). */
uint32_t hnn_approx_depth(uint32_t degree);

/* A program whose input is t in [-1, 1] and whose result is
 * sum_k coeffs[k] T_k(t) = p(x). Its depth is ceil(log2(degree + 1)) for
 * every degree (degree 1: depth 1, the scalar product c_1 t; a polynomial
 * whose zero or unit coefficients make it cheaper may use less, e.g.
 * T_2/2 + 1/2 = t^2 is one MUL at depth 1). Among the baby-step bounds and
 * giant-step ranges it tries, it keeps the program with the least depth,
 * then fewest MUL, MULC, alignments, instructions. Cost: O(d^2 log^2 d). */
hnn_approx_program hnn_approx_program_build(hnn_arena *arena, const hnn_cheb *p);
/* The same for an exact polynomial on x itself, in the power basis:
 * result = coeffs[0] + coeffs[1] x + ... + coeffs[degree] x^degree, same
 * depth rules (x^2 alone: one MUL, depth 1). */
hnn_approx_program hnn_approx_program_power(hnn_arena *arena, const double *coeffs, uint32_t degree);
/* Runs the program on a double input (t for _build, x for _power). */
double hnn_approx_program_eval(const hnn_approx_program *prog, double x);
/* Human-readable listing, one instruction per line (for --dump-after):
 *   program: N instrs, depth D, mul M, mulc C, align A, result %R
 *     %3 = mulc %1, 0.5                 # depth 2
 * constants with %.17g, so the text is exact and golden-friendly. */
void hnn_approx_program_print(FILE *out, const hnn_approx_program *prog);

#endif
