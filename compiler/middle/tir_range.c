/*
 * Value bounds of the tensor IR by interval arithmetic, per element.
 *
 * Soundness comes first: the planner sizes q0 from the output bound and the
 * activations' intervals are checked against input bounds, so a bound that is
 * too narrow corrupts decryption, while one too wide only costs a few bits.
 * Every bound is therefore widened by the floating-point rounding that
 * hnn_tir_eval (and this file) may commit; the margins are far below any
 * precision CKKS reaches (relative 1e-13 for a 100-term row).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "front/bug.h"
#include "middle/tir.h"

/* POLY: an element's interval is bounded in this many pieces ... */
#define HNN_TIR_POLY_PIECES 8
/* ... while the node costs at most this many series terms to bound; beyond,
 * the input hull is cut into this many buckets, each bounded once. */
#define HNN_TIR_POLY_BUDGET 3e7
#define HNN_TIR_RANGE_BUCKETS 32
#define HNN_TIR_PI 3.14159265358979323846

/*
 * AFFINE row r: b_r + sum_k min/max(W_rk lo_k, W_rk hi_k). A dot product of
 * n terms rounds by at most gamma_n sum |terms| with gamma_n ~ n u, u =
 * DBL_EPSILON / 2 (Higham, Accuracy and Stability, 3.1); both the bound and
 * the evaluated value round, so the margin is twice that, with slack.
 */
/* Grid intervals per bounded piece (see hnn_tir_poly_bound). */
static uint32_t
hnn_tir_poly_grid(uint32_t degree)
{
    return 8 * degree + 8 < 256 ? 256 : 8 * degree + 8;
}

static void
hnn_tir_range_affine(hnn_tir_node *n)
{
    const hnn_tir_node *in = n->in[0];
    const hnn_sparse *w = &n->u.affine.w;
    for (uint32_t r = 0; r < w->rows; r++) {
        double b = n->u.affine.bias[r], lo = b, hi = b, mag = fabs(b);
        size_t terms = w->row_start[r + 1] - w->row_start[r];
        for (size_t k = w->row_start[r]; k < w->row_start[r + 1]; k++) {
            double v = w->val[k], p = v * in->elem_lo[w->col[k]], q = v * in->elem_hi[w->col[k]];
            lo += fmin(p, q);
            hi += fmax(p, q);
            mag += fmax(fabs(p), fabs(q));
        }
        double margin = 2.0 * (double)(terms + 2) * DBL_EPSILON * mag;
        n->elem_lo[r] = lo - margin;
        n->elem_hi[r] = hi + margin;
    }
}

/*
 * Bound of p on [a, b]. With x(theta) = m + h cos(theta), q(theta) =
 * p(x(theta)) - c is a trigonometric polynomial of degree d, and Bernstein's
 * inequality gives |q'| <= d ||q||. Every theta in [0, pi] is within
 * pi / (2M) of a grid point theta_i = i pi / M, so
 *     ||q|| <= max_i |q(theta_i)| + (pi / (2M)) d ||q||,
 *     ||q|| <= r / (1 - d pi / (2M))
 * with c, r the centre and half-width of the sampled values. M = max(8 d + 8,
 * 256) keeps the factor below 1 / (1 - pi / 16) = 1.244 of the sampled
 * spread, and near 1 for low degrees (square: 1.012). The caller cuts
 * intervals into pieces, so the spread, and the excess, are a piece's.
 *
 * Rounding: Clenshaw's recurrence at t errs by O(d^2 u S) with
 * S = sum_k |c_k| T_k(tau), tau = max(1, |t|) (T_k is increasing past 1), and
 * a perturbation of t by u |t| moves p by at most |p'| u |t| <= d^2 S u tau;
 * the margin 16 (d + 1)^2 DBL_EPSILON S tau covers both, with slack.
 */
static void
hnn_tir_poly_bound(const hnn_cheb *p, const double *cosines, double a, double b, double *lo, double *hi)
{
    double m = 0.5 * (a + b), h = 0.5 * (b - a);
    double half_t = 2.0 / (p->hi - p->lo), mid_t = (p->lo + p->hi) / (p->hi - p->lo);
    double tau = fmax(1.0, fmax(fabs(a * half_t - mid_t), fabs(b * half_t - mid_t)));
    double s = fabs(p->coeffs[0]), t_prev = 1, t_k = tau;
    for (uint32_t k = 1; k <= p->degree; k++) {
        s += fabs(p->coeffs[k]) * t_k;
        double next = 2 * tau * t_k - t_prev;
        t_prev = t_k;
        t_k = next;
    }
    double d = p->degree, margin = 16.0 * (d + 1) * (d + 1) * DBL_EPSILON * s * tau;
    if (!(h > 0)) {
        double v = hnn_cheb_eval(p, m);
        *lo = v - margin;
        *hi = v + margin;
        return;
    }
    uint32_t grid = hnn_tir_poly_grid(p->degree);
    double gmin = INFINITY, gmax = -INFINITY;
    for (uint32_t i = 0; i <= grid; i++) {
        double v = hnn_cheb_eval(p, m + h * cosines[i]);
        gmin = fmin(gmin, v);
        gmax = fmax(gmax, v);
    }
    double c = 0.5 * (gmin + gmax), r = 0.5 * (gmax - gmin);
    double spread = r / (1.0 - d * HNN_TIR_PI / (2.0 * grid));
    *lo = c - spread - margin;
    *hi = c + spread + margin;
}

/* The union of the bounds of `pieces` equal pieces of [a, b]. */
static void
hnn_tir_poly_bound_pieces(const hnn_cheb *p, const double *cosines, double a, double b, uint32_t pieces,
                          double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    if (!(b > a))
        pieces = 1;
    double width = (b - a) / pieces;
    for (uint32_t j = 0; j < pieces; j++) {
        double l, h;
        hnn_tir_poly_bound(p, cosines, j ? a + width * j : a, j + 1 == pieces ? b : a + width * (j + 1), &l, &h);
        *lo = fmin(*lo, l);
        *hi = fmax(*hi, h);
    }
}

/* A POLY marked by hnn_tir_assume_intervals is bounded on the part of its
 * input's bound inside its interval (a bound wholly outside is kept). */
static void
hnn_tir_assume_interval(const hnn_tir_node *n, double *x0, double *x1)
{
    const hnn_cheb *p = &n->u.poly.cheb;
    if (!n->u.poly.assume_interval || *x1 < p->lo || *x0 > p->hi)
        return;
    *x0 = fmax(*x0, p->lo);
    *x1 = fmin(*x1, p->hi);
}

/*
 * Each element is bounded on its own interval, cut into pieces (elements
 * with the interval of the one before reuse its bound, which is the common
 * case: per-channel runs, the input box). When that would cost too much
 * (wide nodes of high degree), the hull is cut into buckets once, and an
 * element takes the union of the buckets its interval meets.
 */
static void
hnn_tir_range_poly(hnn_tir_node *n)
{
    const hnn_tir_node *in = n->in[0];
    const hnn_cheb *p = &n->u.poly.cheb;
    uint32_t grid = hnn_tir_poly_grid(p->degree);
    double *cosines = malloc(((size_t)grid + 1) * sizeof *cosines);
    if (!cosines)
        hnn_fatal_oom();
    for (uint32_t i = 0; i <= grid; i++)
        cosines[i] = cos(HNN_TIR_PI * i / grid);
    double per_bound = (double)HNN_TIR_POLY_PIECES * (grid + 1) * (p->degree + 1);
    if ((double)n->size * per_bound <= HNN_TIR_POLY_BUDGET) {
        double last_lo = NAN, last_hi = NAN, lo = 0, hi = 0;
        for (uint32_t i = 0; i < n->size; i++) {
            double x0 = in->elem_lo[i], x1 = in->elem_hi[i];
            hnn_tir_assume_interval(n, &x0, &x1);
            if (!(x0 == last_lo && x1 == last_hi))
                hnn_tir_poly_bound_pieces(p, cosines, x0, x1, HNN_TIR_POLY_PIECES, &lo, &hi);
            last_lo = x0;
            last_hi = x1;
            n->elem_lo[i] = lo;
            n->elem_hi[i] = hi;
        }
        free(cosines);
        return;
    }
    double a = in->range.lo, b = in->range.hi;
    hnn_tir_assume_interval(n, &a, &b);
    uint32_t nb = b > a ? HNN_TIR_RANGE_BUCKETS : 1;
    double edge[HNN_TIR_RANGE_BUCKETS + 1], blo[HNN_TIR_RANGE_BUCKETS], bhi[HNN_TIR_RANGE_BUCKETS];
    double width = (b - a) / nb;
    for (uint32_t j = 0; j <= nb; j++)
        edge[j] = j == nb ? b : a + width * j;
    for (uint32_t j = 0; j < nb; j++)
        hnn_tir_poly_bound(p, cosines, edge[j], edge[j + 1], &blo[j], &bhi[j]);
    for (uint32_t i = 0; i < n->size; i++) {
        double x0 = in->elem_lo[i], x1 = in->elem_hi[i];
        hnn_tir_assume_interval(n, &x0, &x1);
        if (x0 < a || x1 > b) { /* wholly outside the interval: bounded alone */
            hnn_tir_poly_bound(p, cosines, x0, x1, &n->elem_lo[i], &n->elem_hi[i]);
            continue;
        }
        uint32_t k0 = 0, k1 = nb - 1;
        if (width > 0) {
            double f0 = floor((x0 - a) / width), f1 = floor((x1 - a) / width);
            k0 = f0 <= 0 ? 0 : f0 >= nb - 1 ? nb - 1 : (uint32_t)f0;
            k1 = f1 <= 0 ? 0 : f1 >= nb - 1 ? nb - 1 : (uint32_t)f1;
            /* The division rounds: make sure the buckets really cover [x0, x1]. */
            while (k0 > 0 && edge[k0] > x0)
                k0--;
            while (k1 < nb - 1 && edge[k1 + 1] < x1)
                k1++;
        }
        double lo = INFINITY, hi = -INFINITY;
        for (uint32_t k = k0; k <= k1; k++) {
            lo = fmin(lo, blo[k]);
            hi = fmax(hi, bhi[k]);
        }
        n->elem_lo[i] = lo;
        n->elem_hi[i] = hi;
    }
    free(cosines);
}

void
hnn_tir_compute_node_range(hnn_tir_node *n)
{
    switch (n->kind) {
    case HNN_TIR_INPUT:
        for (uint32_t i = 0; i < n->size; i++)
            hnn_input_element_range(n->layer, i, &n->elem_lo[i], &n->elem_hi[i]);
        break;
    case HNN_TIR_AFFINE:
        hnn_tir_range_affine(n);
        break;
    case HNN_TIR_POLY:
        hnn_tir_range_poly(n);
        break;
    case HNN_TIR_ADD:
        /* Rounding is monotone, so the evaluated sum stays within the
         * rounded sum of bounds; the margin covers the real-number sum. */
        for (uint32_t i = 0; i < n->size; i++) {
            double lo = n->in[0]->elem_lo[i] + n->in[1]->elem_lo[i];
            double hi = n->in[0]->elem_hi[i] + n->in[1]->elem_hi[i];
            n->elem_lo[i] = lo - DBL_EPSILON * fabs(lo);
            n->elem_hi[i] = hi + DBL_EPSILON * fabs(hi);
        }
        break;
    case HNN_TIR_SOFTARGMAX:
        for (uint32_t i = 0; i < n->size; i++) {
            n->elem_lo[i] = 0;
            n->elem_hi[i] = 1;
        }
        break;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (uint32_t i = 0; i < n->size; i++) {
        lo = fmin(lo, n->elem_lo[i]);
        hi = fmax(hi, n->elem_hi[i]);
    }
    n->range = (hnn_value_range){.known = true, .tight = n->kind == HNN_TIR_INPUT, .lo = lo, .hi = hi};
}

void
hnn_tir_compute_ranges(hnn_tir *tir)
{
    for (uint32_t i = 0; i < tir->n_nodes; i++)
        hnn_tir_compute_node_range(tir->nodes[i]);
}

static bool
hnn_tir_is_approximation(hnn_op op)
{
    return op == HNN_OP_RELU || op == HNN_OP_SIGMOID || op == HNN_OP_TANH || op == HNN_OP_GELU ||
           op == HNN_OP_EXP;
}

/*
 * The planner's assumption (tir.h): interval arithmetic through trained
 * dense layers overestimates a network's values by a factor that compounds
 * with every layer (orders of magnitude after a few), so a deep network's
 * sound bounds, and with them q0 and the refresh masks, are useless. The
 * declared interval of an approximated activation is where the model says
 * its input lies, as the input range is for the input: the planner takes
 * it at its word, after hnn_tir_check_intervals has warned where it cannot
 * prove it.
 */
uint32_t
hnn_tir_assume_intervals(hnn_tir *tir)
{
    uint32_t relied = 0;
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        hnn_tir_node *n = tir->nodes[i];
        if (n->kind != HNN_TIR_POLY || n->u.poly.power)
            continue;
        n->u.poly.assume_interval = true;
        const hnn_value_range r = n->in[0]->range;
        relied += r.lo < n->u.poly.cheb.lo || r.hi > n->u.poly.cheb.hi;
    }
    hnn_tir_compute_ranges(tir);
    return relied;
}

uint32_t
hnn_tir_check_intervals(const hnn_tir *tir, bool assumed, hnn_diag *diag)
{
    uint32_t warnings = 0;
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        if (n->kind != HNN_TIR_POLY || !hnn_tir_is_approximation(n->u.poly.source))
            continue;
        const hnn_layer *l = n->layer;
        double lo = l->u.approx.lo, hi = l->u.approx.hi;
        /* Rounding margins must not turn an exact fit into a warning. */
        double slack = 1e-9 * fmax(hi - lo, fmax(fabs(lo), fabs(hi)));
        hnn_value_range r = n->in[0]->range;
        if (r.lo >= lo - slack && r.hi <= hi + slack)
            continue;
        hnn_value_range f = l->in[0]->range;
        if (f.known && f.tight && (f.lo < lo || f.hi > hi))
            continue; /* the front end said so already */
        hnn_diag_warning(diag, l->u.approx.interval_loc, "the interval [%g, %g] of %s '%s' does not "
                         "cover its input, whose values can reach [%.4g, %.4g]; %s", lo, hi,
                         hnn_op_name(l->op), l->name, r.lo, r.hi,
                         assumed ? "the plan assumes they stay inside (`bounds intervals`: outside, the "
                                   "approximation and the plan's bounds are wrong)"
                                 : "the approximation is wrong outside the interval");
        warnings++;
    }
    return warnings;
}
