/*
 * Fitting activations by Chebyshev series: interpolation at the Chebyshev
 * nodes of the first kind, a few discrete Remez exchanges on the error grid
 * (kept only when they lower the measured error), the smallest degree that
 * meets a target, the exact conversion of power-basis polynomials, and
 * Clenshaw's recurrence. The method and the measured figures are in
 * docs/design/approximation.md.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"
#include "middle/approx.h"

static const double hnn_approx_pi = 3.14159265358979323846;

/* The Remez steps stop once the measured error is within this fraction of
 * the levelled error |h|, a lower bound of the grid minimax error. */
#define HNN_APPROX_REMEZ_GAP 1e-3
/* More sign changes than this many per alternation point means the error is
 * rounding noise, not the oscillation of an approximant. */
#define HNN_APPROX_NOISY_LOBES 4

double
hnn_approx_activation(hnn_op op, double x)
{
    switch (op) {
    case HNN_OP_RELU:
        return x > 0 ? x : 0;
    case HNN_OP_SIGMOID:
        /* Each branch evaluates exp of a non-positive argument: no overflow,
         * and the small tail keeps its relative accuracy. */
        if (x >= 0)
            return 1 / (1 + exp(-x));
        else {
            double e = exp(x);
            return e / (1 + e);
        }
    case HNN_OP_TANH:
        return tanh(x);
    case HNN_OP_GELU:
        /* 0.5 x (1 + erf(x / sqrt 2)); erfc(-u) = 1 + erf(u) without the
         * cancellation of 1 + erf(u) for u << 0. */
        return 0.5 * x * erfc(-x * 0.70710678118654752440);
    case HNN_OP_EXP:
        return exp(x);
    case HNN_OP_SQUARE:
        return x * x;
    default:
        return NAN;
    }
}

/* ------------------------------------------------------------------ helpers */

static void *
hnn_approx_xmalloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        hnn_fatal_oom();
    void *p = malloc(n * size > 0 ? n * size : 1);
    if (!p)
        hnn_fatal_oom();
    return p;
}

/* sum_{k<=d} c_k T_k(t). For |t| <= 1 the rounding error is at most about
 * 2 (d + 1)^2 eps sum |c_k|, and in practice (d + 1) eps sum |c_k|. */
static double
hnn_approx_clenshaw(const double *c, uint32_t d, double t)
{
    double b1 = 0, b2 = 0;
    for (uint32_t k = d; k >= 1; k--) {
        double b0 = c[k] + 2 * t * b1 - b2;
        b2 = b1;
        b1 = b0;
    }
    return c[0] + t * b1 - b2;
}

static void
hnn_approx_check_interval(double lo, double hi)
{
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        hnn_bug("approximation interval must be finite with lo < hi");
}

/* --------------------------------------------------------------- error grid */

/* The points where max |f - p| is measured, as t in [-1, 1] ascending, with
 * f at the matching x. Uniform in the angle theta (t = -cos theta): every
 * lobe of the error of a near-minimax polynomial of degree d spans about
 * pi / (d + 1) in theta, so each gets about GRID / (d + 1) points whatever
 * its place, where a grid uniform in x would give the narrow lobes near the
 * ends 2.5 times fewer. Missing the top of a smooth lobe by at most half a
 * step underestimates it by a relative (d + 1)^2 (pi / 2 GRID)^2 / 2, 1.3e-5
 * at d = 63. x = 0 is added when inside: relu's kink, where the error of its
 * fits peaks. */
typedef struct hnn_approx_grid {
    size_t n;
    double *t;
    double *f;
} hnn_approx_grid;

static void
hnn_approx_grid_init(hnn_approx_grid *g, hnn_op op, double lo, double hi)
{
    const size_t m = HNN_APPROX_GRID;
    double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
    bool kink = lo < 0 && hi > 0;
    double t_kink = -mid / half;

    g->t = hnn_approx_xmalloc(m + 2, sizeof(double));
    g->f = hnn_approx_xmalloc(m + 2, sizeof(double));
    size_t k = 0;
    for (size_t j = 0; j <= m; j++) {
        double t = j == 0 ? -1 : j == m ? 1 : -cos(hnn_approx_pi * (double)j / (double)m);
        double x = j == 0 ? lo : j == m ? hi : mid + half * t;
        if (kink && t_kink <= t) {
            kink = false;
            if (t_kink < t) {
                g->t[k] = t_kink;
                g->f[k++] = hnn_approx_activation(op, 0.0);
            } else {
                x = 0;
            }
        }
        g->t[k] = t;
        g->f[k++] = hnn_approx_activation(op, x);
    }
    g->n = k;
}

static void
hnn_approx_grid_free(hnn_approx_grid *g)
{
    free(g->t);
    free(g->f);
}

/* max |f - p| over the grid; e[i] = f - p at each point when e != NULL. */
static double
hnn_approx_grid_error(const hnn_approx_grid *g, const double *c, uint32_t d, double *e)
{
    double worst = 0;
    for (size_t i = 0; i < g->n; i++) {
        double v = g->f[i] - hnn_approx_clenshaw(c, d, g->t[i]);
        if (e)
            e[i] = v;
        if (!(fabs(v) <= worst))
            worst = fabs(v); /* NaN propagates as the worst */
    }
    return worst;
}

/* ------------------------------------------------------------ interpolation */

/* c_k = (2 / n) sum_j f(x_j) cos(k theta_j), theta_j = pi (2j + 1) / 2n,
 * x_j = mid + half cos theta_j, n = d + 1, and c_0 halved: the unique
 * degree-d polynomial through f at the n Chebyshev nodes of the first kind.
 * The angle k (2j + 1) pi / 2n is reduced mod 2 pi exactly in integers before
 * the cosine, so each term is correct to a few ulps; c_k is then within
 * about n eps max |f| of the exact sum. */
static void
hnn_approx_interpolate(hnn_op op, uint32_t d, double lo, double hi, double *c, double *fx)
{
    uint32_t n = d + 1;
    double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
    for (uint32_t j = 0; j < n; j++) {
        double theta = hnn_approx_pi * (2.0 * j + 1) / (2.0 * n);
        fx[j] = hnn_approx_activation(op, mid + half * cos(theta));
    }
    for (uint32_t k = 0; k < n; k++) {
        double s = 0;
        for (uint32_t j = 0; j < n; j++) {
            uint32_t idx = (k * (2 * j + 1)) % (4 * n);
            s += fx[j] * cos(hnn_approx_pi * idx / (2.0 * n));
        }
        c[k] = 2 * s / n;
    }
    c[0] *= 0.5;
}

/* -------------------------------------------------------------------- Remez */

typedef struct hnn_approx_work {
    double *e;       /* grid error */
    size_t *seg;     /* one extremum per sign run of e */
    size_t *ref;     /* the d + 2 reference points */
    double *a;       /* (d + 2)^2 system */
    double *rhs;     /* d + 2 */
    double *trial;   /* d + 1 coefficients */
    double *fx;      /* d + 1 node values */
} hnn_approx_work;

static void
hnn_approx_work_init(hnn_approx_work *w, size_t grid_n, uint32_t max_degree)
{
    size_t m = (size_t)max_degree + 2;
    w->e = hnn_approx_xmalloc(grid_n, sizeof(double));
    w->seg = hnn_approx_xmalloc(grid_n, sizeof(size_t));
    w->ref = hnn_approx_xmalloc(m, sizeof(size_t));
    w->a = hnn_approx_xmalloc(m * m, sizeof(double));
    w->rhs = hnn_approx_xmalloc(m, sizeof(double));
    w->trial = hnn_approx_xmalloc(m, sizeof(double));
    w->fx = hnn_approx_xmalloc(m, sizeof(double));
}

static void
hnn_approx_work_free(hnn_approx_work *w)
{
    free(w->e);
    free(w->seg);
    free(w->ref);
    free(w->a);
    free(w->rhs);
    free(w->trial);
    free(w->fx);
}

/*
 * need points of alternating sign of e, one per sign run, largest kept:
 * while there are too many, drop the smaller end when one too many, else
 * the smallest extremum and the smaller of its two (now same-signed)
 * neighbours. The largest |e| always stays, which is what makes the exchange
 * converge. Returns false when e has fewer than need sign runs or so many
 * that it is rounding noise.
 */
static bool
hnn_approx_extrema(const double *e, size_t n, size_t need, size_t *seg, size_t *ref)
{
    size_t cnt = 0;
    int sign = 0;
    for (size_t i = 0; i < n; i++) {
        int s = e[i] > 0 ? 1 : e[i] < 0 ? -1 : 0;
        if (s == 0)
            continue;
        if (s != sign) {
            if (cnt == HNN_APPROX_NOISY_LOBES * need)
                return false;
            seg[cnt++] = i;
            sign = s;
        } else if (fabs(e[i]) > fabs(e[seg[cnt - 1]])) {
            seg[cnt - 1] = i;
        }
    }
    if (cnt < need)
        return false;
    while (cnt > need) {
        size_t drop;
        if (cnt - need == 1) {
            drop = fabs(e[seg[0]]) < fabs(e[seg[cnt - 1]]) ? 0 : cnt - 1;
        } else {
            size_t i = 0;
            for (size_t k = 1; k < cnt; k++)
                if (fabs(e[seg[k]]) < fabs(e[seg[i]]))
                    i = k;
            if (i > 0 && i < cnt - 1) {
                size_t nb = fabs(e[seg[i - 1]]) < fabs(e[seg[i + 1]]) ? i - 1 : i + 1;
                size_t first = nb < i ? nb : i;
                /* remove positions first and first + 1 (i and nb are adjacent) */
                memmove(seg + first, seg + first + 2, (cnt - first - 2) * sizeof *seg);
                cnt -= 2;
                continue;
            }
            drop = i;
        }
        memmove(seg + drop, seg + drop + 1, (cnt - drop - 1) * sizeof *seg);
        cnt--;
    }
    memcpy(ref, seg, need * sizeof *ref);
    return true;
}

/* Solves a x = b (n x n, row-major) in place by Gaussian elimination with
 * partial pivoting; x replaces b. False when singular. */
static bool
hnn_approx_solve(double *a, double *b, size_t n)
{
    for (size_t col = 0; col < n; col++) {
        size_t piv = col;
        for (size_t r = col + 1; r < n; r++)
            if (fabs(a[r * n + col]) > fabs(a[piv * n + col]))
                piv = r;
        if (!(fabs(a[piv * n + col]) > 0))
            return false;
        if (piv != col) {
            for (size_t k = 0; k < n; k++) {
                double tmp = a[col * n + k];
                a[col * n + k] = a[piv * n + k];
                a[piv * n + k] = tmp;
            }
            double tmp = b[col];
            b[col] = b[piv];
            b[piv] = tmp;
        }
        for (size_t r = col + 1; r < n; r++) {
            double f = a[r * n + col] / a[col * n + col];
            if (f == 0)
                continue;
            for (size_t k = col; k < n; k++)
                a[r * n + k] -= f * a[col * n + k];
            b[r] -= f * b[col];
        }
    }
    for (size_t r = n; r-- > 0;) {
        double s = b[r];
        for (size_t k = r + 1; k < n; k++)
            s -= a[r * n + k] * b[k];
        b[r] = s / a[r * n + r];
    }
    for (size_t r = 0; r < n; r++)
        if (!isfinite(b[r]))
            return false;
    return true;
}

/*
 * Discrete Remez exchange on the grid, from the reference w->ref of the
 * current best c (error `best`): solve sum_k c_k T_k(t_i) + (-1)^i h = f_i
 * at the d + 2 reference points (the Chebyshev basis keeps this system well
 * conditioned: its rows are near-orthogonal on alternation points), measure,
 * move the reference to the new alternating extrema. |h| increases towards
 * the grid minimax error E and bounds it from below; the measured error
 * bounds it from above. Keeps the best coefficients seen; returns their error
 * and sets *converged when a step came within the gap of the bound.
 */
static double
hnn_approx_remez(const hnn_approx_grid *g, uint32_t d, double *c, double best, hnn_approx_work *w, bool *converged)
{
    size_t m = (size_t)d + 2;
    for (int it = 0; it < HNN_APPROX_REMEZ_ITERS; it++) {
        for (size_t i = 0; i < m; i++) {
            double t = g->t[w->ref[i]];
            double *row = w->a + i * m;
            row[0] = 1;
            if (d >= 1)
                row[1] = t;
            for (uint32_t k = 2; k <= d; k++)
                row[k] = 2 * t * row[k - 1] - row[k - 2];
            row[d + 1] = (i & 1) ? -1 : 1;
            w->rhs[i] = g->f[w->ref[i]];
        }
        if (!hnn_approx_solve(w->a, w->rhs, m))
            break;
        double h = fabs(w->rhs[d + 1]);
        memcpy(w->trial, w->rhs, (d + 1) * sizeof(double));
        double err = hnn_approx_grid_error(g, w->trial, d, w->e);
        if (err < best) {
            best = err;
            memcpy(c, w->trial, (d + 1) * sizeof(double));
        }
        if (err - h <= HNN_APPROX_REMEZ_GAP * err) {
            *converged = true;
            break;
        }
        if (!hnn_approx_extrema(w->e, g->n, m, w->seg, w->ref))
            break;
    }
    return best;
}

/*
 * The fit of f at degree d into c, and its measured error. When target > 0
 * and the interpolant's error alternates at d + 2 grid points whose smallest
 * |error| exceeds target, no degree-d polynomial meets target on the grid
 * (de la Vallée Poussin), so the Remez steps are skipped (*skipped) and the
 * interpolant's error (> target) is returned: the caller only needs to know
 * that this degree fails. Otherwise the result does not depend on target.
 */
static double
hnn_approx_fit_once(const hnn_approx_grid *g, hnn_op op, uint32_t d, double lo, double hi,
                    double target, double *c, hnn_approx_work *w, bool *converged, bool *skipped)
{
    *converged = *skipped = false;
    hnn_approx_interpolate(op, d, lo, hi, c, w->fx);
    double err = hnn_approx_grid_error(g, c, d, w->e);
    if (!isfinite(err))
        return err;
    double scale = 0;
    for (size_t i = 0; i < g->n; i++)
        if (fabs(g->f[i]) > scale)
            scale = fabs(g->f[i]);
    /* Below a few hundred ulps of max |f| the error is the rounding of the
     * evaluation itself; an exchange would chase noise. */
    if (err <= 256 * DBL_EPSILON * scale) {
        *converged = true;
        return err;
    }
    if (hnn_approx_extrema(w->e, g->n, (size_t)d + 2, w->seg, w->ref)) {
        double lower = INFINITY;
        for (size_t i = 0; i < (size_t)d + 2; i++)
            if (fabs(w->e[w->ref[i]]) < lower)
                lower = fabs(w->e[w->ref[i]]);
        if (target > 0 && lower > target) {
            *skipped = true;
            return err;
        }
    } else {
        /* The interpolant's error does not alternate d + 2 times (relu with
         * a node on its kink, where the error touches 0 without a sign
         * change): start from the Chebyshev extrema cos(pi i / (d + 1)),
         * the alternation points of the minimax error of x^(d+1). */
        size_t j = 0;
        for (uint32_t i = 0; i <= d + 1; i++) {
            double t = -cos(hnn_approx_pi * i / (d + 1.0));
            while (j + 1 < g->n && fabs(g->t[j + 1] - t) <= fabs(g->t[j] - t))
                j++;
            if (i > 0 && j <= w->ref[i - 1])
                return err; /* fewer grid points than the degree needs */
            w->ref[i] = j;
        }
    }
    return hnn_approx_remez(g, d, c, err, w, converged);
}

/*
 * An f odd about the centre up to a constant (sigmoid, tanh on a symmetric
 * interval) or even has a best fit of the same parity, but the computed
 * coefficients of the other parity come out as rounding noise (~1e-17), not
 * zeros, and every nonzero coefficient costs the evaluation program a scalar
 * product. They are set to exact zeros when f passes the parity test at 64
 * points to 8 ulps and the re-measured error is no worse than the old one
 * plus 8 ulps of max |f|; returns the error of what c now holds.
 */
static double
hnn_approx_parity(const hnn_approx_grid *g, hnn_op op, uint32_t d, double lo, double hi, double *c, double err)
{
    double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo), f0 = hnn_approx_activation(op, mid);
    bool odd = true, even = true;
    for (int i = 1; i <= 64; i++) {
        double u = half * i / 64.0;
        double a = hnn_approx_activation(op, mid + u), b = hnn_approx_activation(op, mid - u);
        double tol = 8 * DBL_EPSILON * (fabs(a) + fabs(b) + 2 * fabs(f0));
        odd = odd && fabs(a + b - 2 * f0) <= tol;
        even = even && fabs(a - b) <= tol;
    }
    if (!odd && !even)
        return err;
    double trial[HNN_APPROX_MAX_DEGREE + 1];
    memcpy(trial, c, ((size_t)d + 1) * sizeof(double));
    for (uint32_t k = odd ? 2 : 1; k <= d; k += 2)
        trial[k] = 0;
    double scale = 0;
    for (size_t i = 0; i < g->n; i++)
        if (fabs(g->f[i]) > scale)
            scale = fabs(g->f[i]);
    double trial_err = hnn_approx_grid_error(g, trial, d, NULL);
    if (!(trial_err <= err + 8 * DBL_EPSILON * scale))
        return err;
    memcpy(c, trial, ((size_t)d + 1) * sizeof(double));
    return trial_err;
}

/*
 * fit_once, and when its exchange does not converge, the degree-(d + 1) fit
 * with its top coefficient dropped, if that measures better. The exchange
 * stalls when the best fits of degrees d and d + 1 coincide and the
 * reference is symmetric: relu = x/2 + |x|/2 at d = 8 has E_8 = E_9, and on
 * 10 symmetric points the levelled system fits f exactly with h = 0. The
 * degree-(d + 1) exchange has no such trouble and its top coefficient is
 * then about 0. w must be sized for d + 1.
 */
static double
hnn_approx_fit_grid(const hnn_approx_grid *g, hnn_op op, uint32_t d, double lo, double hi,
                    double target, double *c, hnn_approx_work *w)
{
    bool converged, skipped;
    double err = hnn_approx_fit_once(g, op, d, lo, hi, target, c, w, &converged, &skipped);
    if (skipped || !isfinite(err))
        return err;
    if (!converged && d < HNN_APPROX_MAX_DEGREE) {
        double up[HNN_APPROX_MAX_DEGREE + 2];
        hnn_approx_fit_once(g, op, d + 1, lo, hi, 0, up, w, &converged, &skipped);
        double up_err = hnn_approx_grid_error(g, up, d, NULL);
        if (up_err < err) {
            memcpy(c, up, ((size_t)d + 1) * sizeof(double));
            err = up_err;
        }
    }
    return hnn_approx_parity(g, op, d, lo, hi, c, err);
}

/* -------------------------------------------------------------- public API */

static void
hnn_approx_check_fit(hnn_op op, uint32_t degree, double lo, double hi)
{
    if (isnan(hnn_approx_activation(op, 0.0)))
        hnn_bug("hnn_approx_fit: not an activation");
    if (degree < 1 || degree > HNN_APPROX_MAX_DEGREE)
        hnn_bug("hnn_approx_fit: degree out of range");
    hnn_approx_check_interval(lo, hi);
}

hnn_cheb
hnn_approx_fit(hnn_arena *arena, hnn_op op, uint32_t degree, double lo, double hi)
{
    hnn_approx_check_fit(op, degree, lo, hi);
    hnn_approx_grid g;
    hnn_approx_work w;
    hnn_approx_grid_init(&g, op, lo, hi);
    hnn_approx_work_init(&w, g.n, degree + 1);
    hnn_cheb p = {.degree = degree, .lo = lo, .hi = hi};
    p.coeffs = hnn_arena_array(arena, (size_t)degree + 1, sizeof(double));
    p.max_error = hnn_approx_fit_grid(&g, op, degree, lo, hi, 0, p.coeffs, &w);
    hnn_approx_work_free(&w);
    hnn_approx_grid_free(&g);
    return p;
}

hnn_cheb
hnn_approx_fit_auto(hnn_arena *arena, hnn_op op, double target, uint32_t max_degree, double lo, double hi)
{
    if (max_degree > HNN_APPROX_MAX_DEGREE)
        max_degree = HNN_APPROX_MAX_DEGREE;
    hnn_approx_check_fit(op, max_degree, lo, hi);
    if (!(target > 0))
        hnn_bug("hnn_approx_fit_auto: target must be positive");
    hnn_approx_grid g;
    hnn_approx_work w;
    hnn_approx_grid_init(&g, op, lo, hi);
    hnn_approx_work_init(&w, g.n, max_degree + 1);
    double c[HNN_APPROX_MAX_DEGREE + 1];
    hnn_cheb p = {.lo = lo, .hi = hi};
    /* Every degree in turn: the error of a fit need not decrease with the
     * degree (an odd f gains nothing from an even degree), so a bisection
     * could miss the smallest. */
    for (uint32_t d = 1; d <= max_degree; d++) {
        double err = hnn_approx_fit_grid(&g, op, d, lo, hi, d < max_degree ? target : 0, c, &w);
        if (err <= target || d == max_degree) {
            p.degree = d;
            p.max_error = err;
            p.coeffs = hnn_arena_array(arena, (size_t)d + 1, sizeof(double));
            memcpy(p.coeffs, c, ((size_t)d + 1) * sizeof(double));
            break;
        }
    }
    hnn_approx_work_free(&w);
    hnn_approx_grid_free(&g);
    return p;
}

/*
 * Horner's scheme carried out on Chebyshev series: S <- S (mid + half t) + a_i
 * from the top coefficient down, with t T_0 = T_1 and
 * t T_k = (T_{k+1} + T_{k-1}) / 2. Every step is exact in real arithmetic, so
 * the only error is rounding: each step adds a relative eps to every term,
 * giving about degree eps sum |a_i| max(|lo|, |hi|)^i on the coefficients.
 */
hnn_cheb
hnn_approx_from_power(hnn_arena *arena, const double *coeffs, uint32_t degree, double lo, double hi)
{
    if (degree > HNN_APPROX_MAX_DEGREE)
        hnn_bug("hnn_approx_from_power: degree out of range");
    hnn_approx_check_interval(lo, hi);
    double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
    hnn_cheb p = {.degree = degree, .lo = lo, .hi = hi, .max_error = 0};
    double *s = hnn_arena_array(arena, (size_t)degree + 1, sizeof(double));
    double r[HNN_APPROX_MAX_DEGREE + 2];
    s[0] = coeffs[degree];
    for (uint32_t m = 0; m < degree; m++) {
        /* s has degree m; r = t s has degree m + 1 */
        memset(r, 0, (m + 2) * sizeof(double));
        r[1] += s[0];
        for (uint32_t k = 1; k <= m; k++) {
            r[k + 1] += 0.5 * s[k];
            r[k - 1] += 0.5 * s[k];
        }
        s[m + 1] = 0;
        for (uint32_t k = 0; k <= m + 1; k++)
            s[k] = mid * s[k] + half * r[k];
        s[0] += coeffs[degree - m - 1];
    }
    p.coeffs = s;
    return p;
}

double
hnn_cheb_eval(const hnn_cheb *p, double x)
{
    double t = (x - 0.5 * (p->lo + p->hi)) / (0.5 * (p->hi - p->lo));
    return hnn_approx_clenshaw(p->coeffs, p->degree, t);
}

void
hnn_cheb_affine(const hnn_cheb *p, double *alpha, double *beta)
{
    *alpha = 2 / (p->hi - p->lo);
    *beta = -(p->lo + p->hi) / (p->hi - p->lo);
}
