/*
 * The precision estimate (see precision.h and docs/design/precision.md).
 *
 * Noise model, per HE node, in decoded units (coefficient noise / the
 * node's scale Delta). A polynomial whose N coefficients are independent
 * with variance v has, at a slot, a real part of variance (N/2) v: the
 * slot is sum_i m_i zeta^i and sum_i cos^2(angle_i) = N/2 for the primitive
 * 2N-th roots. With a ternary secret s (P(+-1) = 1/3 each, E s_i^2 = 2/3),
 * a rounding error r0 + r1 s (r uniform in [-1/2, 1/2], variance 1/12) has
 * slot value r0(zeta) + r1(zeta) s(zeta): the first part has variance
 * (N/2)/12, the second (N/24)|s(zeta)|^2, whose average over slots is
 * (N/2)(N/18) but which is fixed by the key per slot. That is why variances
 * are kept in two parts (precision.h).
 *
 *   INPUT      encoding rounding (N/2)/12 / D^2; public-key encryption over
 *              Q P divided by P with rounding (runtime/src/keys/encrypt.c):
 *              r0 + r1 s plus (u e + e0 + e1 s) / P.
 *   RESCALE    round(c / q) (runtime/src/eval/eval.c): r0 + r1 s at the
 *              result's scale (r2 s^2 as well for a 3-part operand).
 *   RELIN,     hybrid key switching (runtime/src/keys/keyswitch.c): each
 *   ROTATE,    digit d_j (centred, plus u Q_j from the fast conversion when
 *   CONJUGATE  the digit spans several primes, 0 <= u < count) times the
 *              key's error e_j (sigma 3.2), divided by P; then ModDown's
 *              rounding r0 + r1 s. Coefficient variance
 *                  N sigma^2 sum_j E[d_j^2] / P^2 + 1/12 + N/18 (with s),
 *              E[d_j^2] = Q_j^2 (count/12 + (count - 1)^2/4): the fast
 *              conversion's digit, centred then lifted, is Q_j (S - 1/2)
 *              with S the sum of `count` uniform fractions (Irwin-Hall),
 *              so Q_j^2/12 for one-prime digits.
 *   MUL_CONST  the constant is round(c * c_scale) / c_scale: an error of at
 *              most 0.5 / c_scale (+ the double product's rounding) times
 *              |x|; ADD_CONST: 0.5 / D.
 *   MUL_PT     the plaintext's encoding rounding times |x|.
 * Propagation (first order, derivative bounds): ADD, SUB 1; MUL_CONST |c|;
 * MUL_PT max |p|; MUL_CT |b| towards a and |a| towards b, plus the
 * second-order term T_a T_b as a deterministic error, T a forward bound of
 * each node's total error; every other op 1.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "middle/precision.h"

#define PREC_PI 3.14159265358979323846
/* Univariate sampling: M + 1 Chebyshev-Lobatto points of a source's interval. */
#define PREC_GRID 512
/* Above this degree in its source, a node's samples no longer bound it
 * tightly (factor 1 / (1 - d pi / (2M)) > 4/3): it becomes a source. */
#define PREC_MAX_DEGREE 80

const char *
hnn_precision_source_name(hnn_precision_source s)
{
    static const char *const names[HNN_PRECISION__COUNT] = {
        "approximation", "encoding", "fresh encryption", "rescale", "key switching", "products",
    };
    return (unsigned)s < HNN_PRECISION__COUNT ? names[s] : "?";
}

/* ------------------------------------------------------------------ the tail */

/* P(|X| > t) = int_0^inf f_k(E) erfc(t / sqrt(2 (A + B E))) dE by Simpson's
 * rule on [0, 64], f_k the Gamma density of shape k and mean 1 (k = 1:
 * e^-E; e^-64 < 2^-92 is far below any probability we ask). The integrand
 * is smooth on the scale of 1 / sqrt(k) in E; step 1/32 for k = 1, finer
 * for the narrower densities (k <= 64). */
static double
tail_prob(double a, double b, double k, double t)
{
    if (b <= 0)
        return erfc(t / sqrt(2 * a));
    const int steps = 64 * (k > 1 ? 128 : 32);
    const double h = 64.0 / steps, lnorm = k * log(k) - lgamma(k);
    double sum = 0;
    for (int i = 0; i <= steps; i++) {
        double e = i * h, v = a + b * e;
        double dens = k == 1 ? exp(-e) : e > 0 ? exp(lnorm + (k - 1) * log(e) - k * e) : 0;
        double f = v > 0 ? dens * erfc(t / sqrt(2 * v)) : 0;
        sum += f * (i == 0 || i == steps ? 1 : (i % 2 ? 4 : 2));
    }
    return sum * h / 3;
}

double
hnn_precision_tail_mixed(double var_plain, double var_key, double key_slots, double count, double fail_log2)
{
    if (!(var_plain + var_key > 0))
        return 0;
    if (count < 1)
        count = 1;
    double k = key_slots < 1 ? 1 : key_slots > HNN_PRECISION_MAX_KEY_SLOTS ? HNN_PRECISION_MAX_KEY_SLOTS : key_slots;
    const double target = ldexp(1.0, -(int)lround(fail_log2)) / count;
    double lo = 0, hi = sqrt(var_plain + var_key);
    while (tail_prob(var_plain, var_key, k, hi) > target)
        hi *= 2;
    for (int it = 0; it < 64 && hi - lo > 1e-12 * hi; it++) {
        double mid = 0.5 * (lo + hi);
        if (tail_prob(var_plain, var_key, k, mid) > target)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

double
hnn_precision_tail(double var_plain, double var_key, double count, double fail_log2)
{
    return hnn_precision_tail_mixed(var_plain, var_key, 1, count, fail_log2);
}

/* ------------------------------------------------------------------ HE IR */

typedef struct node_info {
    double lo, hi;      /* value bound */
    uint32_t src, deg;  /* univariate source and degree in it */
    double *smp;        /* PREC_GRID + 1 samples while live */
    /* Local errors: a random part (a plain, b key-dependent) of source cat,
     * encoding rounding enc (plain), a deterministic d of source dcat. */
    double a, b, enc, d;
    uint8_t cat, dcat;
    double total;       /* forward bound of the node's error (second-order terms) */
    double d_est;       /* the estimate's deterministic local error: first order only
                           (second-order products are taken at each sample) */
} node_info;

typedef struct hir_state {
    const hnn_hir *h;
    const hnn_precision_ring *ring;
    double n;              /* ring dimension */
    double cosines[PREC_GRID + 1];
    node_info *info;
    uint32_t *last;        /* last consumer of every node */
} hir_state;

static double
maxabs(const node_info *x)
{
    return fmax(fabs(x->lo), fabs(x->hi));
}

static void
pt_range(const hnn_hir *h, uint32_t pt, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    const hnn_hir_pt *p = &h->pts[pt];
    for (uint32_t i = 0; i < p->len; i++) {
        *lo = fmin(*lo, p->values[i]);
        *hi = fmax(*hi, p->values[i]);
    }
    if (h->period && p->len < h->period) { /* unfilled slots hold zeros */
        *lo = fmin(*lo, 0);
        *hi = fmax(*hi, 0);
    }
    if (!(*lo <= *hi))
        *lo = *hi = 0;
}

static void
mul_interval(double alo, double ahi, double blo, double bhi, double *lo, double *hi)
{
    double p[4] = {alo * blo, alo * bhi, ahi * blo, ahi * bhi};
    *lo = fmin(fmin(p[0], p[1]), fmin(p[2], p[3]));
    *hi = fmax(fmax(p[0], p[1]), fmax(p[2], p[3]));
}

/* Interval arithmetic for node i from its operands. */
static void
interval(hir_state *s, uint32_t i, double *lo, double *hi)
{
    const hnn_hir_node *n = &s->h->nodes[i];
    const node_info *a = hnn_hir_arity(n) >= 1 ? &s->info[n->a] : NULL;
    const node_info *b = hnn_hir_op_operands(n->op) >= 2 ? &s->info[n->b] : NULL;
    double plo, phi;
    switch (n->op) {
    case HNN_HIR_INPUT:
        if (s->h->packing == HNN_HIR_PACK_BATCH) {
            *lo = s->ring->input_lo[n->pt];
            *hi = s->ring->input_hi[n->pt];
        } else { /* every element in its slot, zeros in the unused ones */
            *lo = *hi = 0;
            for (uint32_t k = 0; k < s->h->n_inputs; k++) {
                *lo = fmin(*lo, s->ring->input_lo[k]);
                *hi = fmax(*hi, s->ring->input_hi[k]);
            }
        }
        break;
    case HNN_HIR_ADD:
        *lo = a->lo + b->lo;
        *hi = a->hi + b->hi;
        break;
    case HNN_HIR_SUB:
        *lo = a->lo - b->hi;
        *hi = a->hi - b->lo;
        break;
    case HNN_HIR_NEGATE:
        *lo = -a->hi;
        *hi = -a->lo;
        break;
    case HNN_HIR_ADD_CONST:
        *lo = a->lo + n->c;
        *hi = a->hi + n->c;
        break;
    case HNN_HIR_MUL_CONST:
        mul_interval(a->lo, a->hi, n->c, n->c, lo, hi);
        break;
    case HNN_HIR_ADD_PT:
        pt_range(s->h, n->pt, &plo, &phi);
        *lo = a->lo + plo;
        *hi = a->hi + phi;
        break;
    case HNN_HIR_MUL_PT:
        pt_range(s->h, n->pt, &plo, &phi);
        mul_interval(a->lo, a->hi, plo, phi, lo, hi);
        break;
    case HNN_HIR_MUL_CT:
        if (n->a == n->b) {
            double m = maxabs(a);
            *lo = a->lo <= 0 && a->hi >= 0 ? 0 : fmin(a->lo * a->lo, a->hi * a->hi);
            *hi = m * m;
        } else {
            mul_interval(a->lo, a->hi, b->lo, b->hi, lo, hi);
        }
        break;
    case HNN_HIR_LINEAR:
        *lo = *hi = 0;
        for (uint32_t k = 0; k < n->n_args; k++) {
            const node_info *x = &s->info[n->args[k]];
            mul_interval(x->lo, x->hi, n->coeffs[k], n->coeffs[k], &plo, &phi);
            *lo += plo;
            *hi += phi;
        }
        break;
    default: /* RELIN, RESCALE, DROP_LEVEL, ROTATE, CONJUGATE, REFRESH, BOOTSTRAP: same values */
        *lo = a->lo;
        *hi = a->hi;
        break;
    }
    /* What the lowering knows from the tensor IR (a layer's whole value)
     * is sharper than sums of diagonal products bounded slot-blind. */
    if (n->has_bound && n->bound_lo <= *hi && n->bound_hi >= *lo) {
        *lo = fmax(*lo, n->bound_lo);
        *hi = fmin(*hi, n->bound_hi);
    }
}

static bool
starts_source(const hnn_hir_node *n, const node_info *info)
{
    switch (n->op) {
    case HNN_HIR_INPUT:
    case HNN_HIR_ROTATE:    /* another slot's value: not a function of this slot's source */
    case HNN_HIR_CONJUGATE:
    case HNN_HIR_ADD_PT:    /* the plaintext differs between slots */
    case HNN_HIR_MUL_PT:
        return true;
    default:
        break;
    }
    for (unsigned k = 1; k < hnn_hir_arity(n); k++)
        if (info[hnn_hir_arg(n, k)].src != info[n->a].src)
            return true;
    return false;
}

/*
 * Value bounds of node i. A univariate node is a function of its source's
 * value alone (the source being the nearest node that combines different
 * sources or starts afresh), of degree deg: its samples at the source's
 * Chebyshev-Lobatto points bound it by Bernstein's inequality (as in
 * tir_range.c): with c, r the centre and half-spread of the samples,
 * |p - c| <= r / (1 - deg pi / (2M)). The bound is intersected with
 * interval arithmetic, which is sound on its own but loses the
 * correlations inside a polynomial program (T_2 = 2 t t - 1 in [-3, 1]).
 */
static bool
bound_node(hir_state *s, uint32_t i)
{
    const hnn_hir_node *n = &s->h->nodes[i];
    node_info *x = &s->info[i];
    double lo, hi;
    interval(s, i, &lo, &hi);
    /* A bound the plan assumes starts a new source (the samples of the old
     * one would leave it). */
    bool assumed = false;
    if (s->ring->assume_lo) {
        double alo = s->ring->assume_lo[i], ahi = s->ring->assume_hi[i];
        if (alo <= hi && lo <= ahi && (lo < alo || hi > ahi)) {
            lo = fmax(lo, alo);
            hi = fmin(hi, ahi);
            assumed = true;
        }
    }
    x->lo = lo;
    x->hi = hi;
    x->smp = NULL;
    bool fresh = assumed || starts_source(n, s->info);
    const node_info *a = hnn_hir_arity(n) >= 1 ? &s->info[n->a] : NULL;
    const node_info *b = hnn_hir_op_operands(n->op) >= 2 ? &s->info[n->b] : NULL;
    if (!fresh) {
        x->src = a->src;
        x->deg = n->op == HNN_HIR_MUL_CT ? a->deg + b->deg : (b && b->deg > a->deg ? b->deg : a->deg);
        fresh = !a->smp || (b && !b->smp);
        for (unsigned k = 1; n->op == HNN_HIR_LINEAR && k < n->n_args; k++) {
            const node_info *y = &s->info[n->args[k]];
            x->deg = y->deg > x->deg ? y->deg : x->deg;
            fresh |= !y->smp;
        }
        fresh |= x->deg > PREC_MAX_DEGREE;
    }
    x->smp = malloc((PREC_GRID + 1) * sizeof *x->smp);
    if (!x->smp)
        return false;
    if (fresh) {
        x->src = i;
        x->deg = 1;
        double m = 0.5 * (lo + hi), h = 0.5 * (hi - lo);
        for (int g = 0; g <= PREC_GRID; g++)
            x->smp[g] = m + h * s->cosines[g];
        return true;
    }
    for (int g = 0; g <= PREC_GRID; g++) {
        double va = a->smp[g], vb = b ? b->smp[g] : 0, v;
        switch (n->op) {
        case HNN_HIR_ADD: v = va + vb; break;
        case HNN_HIR_SUB: v = va - vb; break;
        case HNN_HIR_NEGATE: v = -va; break;
        case HNN_HIR_ADD_CONST: v = va + n->c; break;
        case HNN_HIR_MUL_CONST: v = va * n->c; break;
        case HNN_HIR_MUL_CT: v = va * vb; break;
        case HNN_HIR_LINEAR:
            v = 0;
            for (uint32_t k = 0; k < n->n_args; k++)
                v += n->coeffs[k] * s->info[n->args[k]].smp[g];
            break;
        default: v = va; break;
        }
        x->smp[g] = v;
    }
    double mn = INFINITY, mx = -INFINITY, mag = 0;
    for (int g = 0; g <= PREC_GRID; g++) {
        mn = fmin(mn, x->smp[g]);
        mx = fmax(mx, x->smp[g]);
        mag = fmax(mag, fabs(x->smp[g]));
    }
    double c = 0.5 * (mn + mx), r = 0.5 * (mx - mn);
    double f = 1.0 / (1.0 - (double)x->deg * PREC_PI / (2.0 * PREC_GRID));
    /* Rounding of the samples themselves: a few ulps per op along the chain,
     * far below this margin for chains under 2^20 ops. */
    double margin = 1e-10 * (mag + fabs(lo) + fabs(hi));
    x->lo = fmax(lo, c - r * f - margin);
    x->hi = fmin(hi, c + r * f + margin);
    if (x->lo > x->hi) { /* both sound: only rounding can cross them */
        x->lo = fmin(lo, c - r * f - margin);
        x->hi = fmax(hi, c + r * f + margin);
    }
    return true;
}

/* Product of the primes [first, first + count). */
static double
prime_product(const uint64_t *primes, unsigned first, unsigned count)
{
    double q = 1;
    for (unsigned i = first; i < first + count; i++)
        q *= (double)primes[i];
    return q;
}

/* Fresh public-key encryption at scale delta (coefficient variances, split). */
static void
fresh_noise(const hir_state *s, double delta, node_info *x)
{
    const double n = s->n, sig2 = HNN_PRECISION_SIGMA * HNN_PRECISION_SIGMA;
    const hnn_precision_ring *r = s->ring;
    double p = prime_product(r->primes, r->n_data_primes, r->n_special_primes), p2 = p * p;
    double d2 = delta * delta;
    x->cat = HNN_PRECISION_FRESH;
    x->a = (n / 2) * (1.0 / 12 + sig2 / p2) / d2;                          /* r0, e0 / P */
    x->b = (n / 2) * (n / 18 + n * (2.0 / 3) * sig2 * 2 / p2) / d2;      /* r1 s; (u e + e1 s) / P */
    x->enc = (n / 2) * (1.0 / 12) / d2;
}

/* Key switching at level `level`, result scale delta. */
static void
keyswitch_noise(const hir_state *s, unsigned level, double delta, node_info *x)
{
    const double n = s->n, sig2 = HNN_PRECISION_SIGMA * HNN_PRECISION_SIGMA;
    const hnn_precision_ring *r = s->ring;
    const unsigned alpha = r->alpha ? r->alpha : 1;
    double p = prime_product(r->primes, r->n_data_primes, r->n_special_primes);
    double digits = 0; /* sum_j E[d_j^2] / P^2 */
    for (unsigned first = 0; first <= level; first += alpha) {
        unsigned count = first + alpha <= level + 1 ? alpha : level + 1 - first;
        double qj = prime_product(r->primes, first, count) / p;
        digits += qj * qj * ((double)count / 12 + (double)(count - 1) * (count - 1) / 4);
    }
    double d2 = delta * delta;
    x->cat = HNN_PRECISION_KEYSWITCH;
    x->a = (n / 2) * (1.0 / 12) / d2;
    /* e_j(zeta) is fixed by the key as s(zeta) is: counted with the key part. */
    x->b = (n / 2) * (n / 18 + n * sig2 * digits) / d2;
}

/* A forward magnitude bound of a local random error, for second-order
 * terms only: a Gaussian-times-Laplace tail far out (2^-40). */
static double
local_magnitude(const hir_state *s, const node_info *x)
{
    return 8.0 * sqrt(x->a + x->enc) + sqrt(x->b / 2) * (log(s->n) + 40 * log(2.0));
}

static void
local_errors(hir_state *s, uint32_t i)
{
    const hnn_hir_node *n = &s->h->nodes[i];
    node_info *x = &s->info[i];
    const node_info *a = hnn_hir_arity(n) >= 1 ? &s->info[n->a] : NULL;
    const node_info *b = hnn_hir_op_operands(n->op) >= 2 ? &s->info[n->b] : NULL;
    const double N = s->n;
    x->a = x->b = x->enc = x->d = 0;
    x->cat = HNN_PRECISION_ENCODE;
    x->dcat = HNN_PRECISION_ENCODE;
    double carried = 0;
    switch (n->op) {
    case HNN_HIR_INPUT:
        fresh_noise(s, n->scale, x);
        break;
    case HNN_HIR_REFRESH:
        /* The key holder decodes and re-encodes v + r, the mask r up to
         * n->c: the double-precision FFTs leave a slot error with a
         * standard deviation near |r| 2^-52, the rounding unit of the
         * largest value (calibrated on tests/compiler/test_deep.c, where
         * masks of 1.34 2^27 at N = 2^13 measure 2^-18.4 at the output);
         * then re-encryption adds a fresh error. */
        fresh_noise(s, n->scale, x);
        x->enc += fabs(n->c) * DBL_EPSILON * fabs(n->c) * DBL_EPSILON;
        carried = a->total;
        break;
    case HNN_HIR_BOOTSTRAP: /* the decrypted value keeps its error; re-encryption adds a fresh one */
        fresh_noise(s, n->scale, x);
        carried = a->total;
        break;
    case HNN_HIR_RESCALE: {
        x->cat = HNN_PRECISION_RESCALE;
        double d2 = n->scale * n->scale;
        x->a = (N / 2) * (1.0 / 12) / d2;
        x->b = (N / 2) * (N / 18) / d2;
        if (s->h->nodes[n->a].size == 3) /* r2 s^2: (N 2/3)^2-ish per coefficient, heavier still */
            x->b += (N / 2) * (N * N * 4.0 / 9 / 12) / d2;
        carried = a->total;
        break;
    }
    case HNN_HIR_RELIN:
    case HNN_HIR_ROTATE:
    case HNN_HIR_CONJUGATE:
        keyswitch_noise(s, n->level, n->scale, x);
        carried = a->total;
        break;
    case HNN_HIR_MUL_CONST: {
        double cs = n->c_scale > 0 ? n->c_scale : 1;
        x->d = maxabs(a) * (0.5 / cs + fabs(n->c) * DBL_EPSILON);
        carried = fabs(n->c) * a->total;
        break;
    }
    case HNN_HIR_LINEAR: {
        /* Each term as a MUL_CONST, the sum as ADDs (the same words). */
        double cs = n->c_scale > 0 ? n->c_scale : 1;
        for (uint32_t k = 0; k < n->n_args; k++) {
            const node_info *y = &s->info[n->args[k]];
            x->d += maxabs(y) * (0.5 / cs + fabs(n->coeffs[k]) * DBL_EPSILON);
            carried += fabs(n->coeffs[k]) * y->total;
        }
        break;
    }
    case HNN_HIR_ADD_CONST:
        x->d = (0.5 + fabs(n->c) * n->scale * DBL_EPSILON) / n->scale;
        carried = a->total;
        break;
    case HNN_HIR_MUL_PT: {
        double plo, phi;
        pt_range(s->h, n->pt, &plo, &phi);
        double cs = n->c_scale > 0 ? n->c_scale : 1, m = maxabs(a);
        x->enc = m * m * (N / 2) * (1.0 / 12) / (cs * cs);
        carried = fmax(fabs(plo), fabs(phi)) * a->total;
        break;
    }
    case HNN_HIR_ADD_PT:
        x->enc = (N / 2) * (1.0 / 12) / (n->scale * n->scale);
        carried = a->total;
        break;
    case HNN_HIR_MUL_CT:
        x->dcat = HNN_PRECISION_PRODUCT;
        x->d = a->total * b->total;
        carried = maxabs(b) * a->total + maxabs(a) * b->total;
        break;
    case HNN_HIR_ADD:
    case HNN_HIR_SUB:
        carried = a->total + b->total;
        break;
    default: /* NEGATE, DROP_LEVEL */
        carried = a->total;
        break;
    }
    x->d_est = n->op == HNN_HIR_MUL_CT ? 0 : x->d;
    x->total = carried + local_magnitude(s, x) + x->d;
}

/* Derivative bounds towards the operands. */
static void
derivatives(const hir_state *s, uint32_t i, double *da, double *db)
{
    const hnn_hir_node *n = &s->h->nodes[i];
    *da = *db = 1;
    switch (n->op) {
    case HNN_HIR_MUL_CONST:
        *da = fabs(n->c);
        break;
    case HNN_HIR_MUL_PT: {
        double plo, phi;
        pt_range(s->h, n->pt, &plo, &phi);
        *da = fmax(fabs(plo), fabs(phi));
        break;
    }
    case HNN_HIR_MUL_CT:
        *da = maxabs(&s->info[n->b]);
        *db = maxabs(&s->info[n->a]);
        break;
    default:
        break;
    }
}

/* splitmix64: the sampled inputs are the same on every run. */
static uint64_t
next_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Input k of sample t: the lower corner, the upper corner, the centre,
 * then random vertices and uniform points in turn. */
static double
sample_input(const hnn_precision_ring *ring, uint32_t k, unsigned t, uint64_t *rng)
{
    double lo = ring->input_lo[k], hi = ring->input_hi[k];
    switch (t) {
    case 0: return lo;
    case 1: return hi;
    case 2: return 0.5 * (lo + hi);
    default: break;
    }
    uint64_t r = next_u64(rng);
    if (t % 2)
        return r >> 63 ? hi : lo;
    return lo + (hi - lo) * (double)(r >> 11) * 0x1p-53;
}

/* A LINEAR node's rounding of its constants at slot j of the sample: each
 * term's MUL_CONST error, which scales with the value it multiplies. */
static double
linear_rounding(const hnn_hir_node *n, size_t W, const double *val, size_t j)
{
    double cs = n->c_scale > 0 ? n->c_scale : 1, d = 0;
    for (uint32_t k = 0; k < n->n_args; k++)
        d += fabs(val[(size_t)n->args[k] * W + j]) * (0.5 / cs + fabs(n->coeffs[k]) * DBL_EPSILON);
    return d;
}

/*
 * The variance of node i's error at the current sample, slot by slot
 * (fv, W per node), from its operands' through the exact derivatives at
 * the sample's values, plus its own local error (random, and the first-order
 * deterministic part counted as a variance): the forward counterpart of the
 * reverse pass, for the second-order products e_a e_b only. Operands'
 * errors are taken as independent (a value used twice adds coherently).
 */
static void
forward_variance(const hir_state *s, uint32_t i, size_t W, const double *val, double *fv)
{
    const hnn_hir *h = s->h;
    const hnn_hir_node *n = &h->nodes[i];
    const node_info *x = &s->info[i];
    double *f = fv + (size_t)i * W;
    const double *fa = hnn_hir_op_operands(n->op) >= 1 ? fv + (size_t)n->a * W : NULL;
    const double *fb = hnn_hir_op_operands(n->op) >= 2 ? fv + (size_t)n->b * W : NULL;
    const double *va = fa ? val + (size_t)n->a * W : NULL, *vb = fb ? val + (size_t)n->b * W : NULL;
    const hnn_hir_pt *pt = n->op == HNN_HIR_MUL_PT ? &h->pts[n->pt] : NULL;
    size_t shift = n->op == HNN_HIR_ROTATE ? (size_t)(((int64_t)n->step % (int64_t)W + (int64_t)W) % (int64_t)W) : 0;
    double local = x->a + x->b + x->enc + x->d_est * x->d_est;
    bool same = fb && n->a == n->b;
    if (n->op == HNN_HIR_LINEAR) { /* as its chain: each term's variance and rounding, summed */
        double cs = n->c_scale > 0 ? n->c_scale : 1, dd = 0;
        for (uint32_t k = 0; k < n->n_args; k++) {
            double d = maxabs(&s->info[n->args[k]]) * (0.5 / cs + fabs(n->coeffs[k]) * DBL_EPSILON);
            dd += d * d;
        }
        for (size_t j = 0; j < W; j++) {
            double v = 0;
            for (uint32_t k = 0; k < n->n_args; k++)
                v += n->coeffs[k] * n->coeffs[k] * fv[(size_t)n->args[k] * W + j];
            f[j] = v + dd;
        }
        return;
    }
    for (size_t j = 0; j < W; j++) {
        double v;
        switch (n->op) {
        case HNN_HIR_INPUT: v = 0; break;
        case HNN_HIR_ADD: v = same ? 4 * fa[j] : fa[j] + fb[j]; break;
        case HNN_HIR_SUB: v = same ? 0 : fa[j] + fb[j]; break;
        case HNN_HIR_MUL_CONST: v = n->c * n->c * fa[j]; break;
        case HNN_HIR_MUL_PT: {
            double p = pt->values[j % pt->len]; /* a plaintext repeats over the slots */
            v = p * p * fa[j];
            break;
        }
        case HNN_HIR_MUL_CT: v = same ? 4 * va[j] * va[j] * fa[j] : vb[j] * vb[j] * fa[j] + va[j] * va[j] * fb[j]; break;
        case HNN_HIR_ROTATE: v = fa[(j + shift) % W]; break;
        default: v = fa[j]; break;
        }
        f[j] = v + local;
    }
}

/* Slot j of input node n in vector packing, for input values in[]: the
 * client layout's value there, or value j mod period. */
static double
vector_input_slot(const hnn_hir *h, const hnn_hir_node *n, const double *in, size_t j)
{
    if (h->in_layout) {
        uint32_t v = h->in_layout[(size_t)n->pt * h->in_period + j % h->in_period];
        return v == HNN_HIR_NONE ? 0 : in[v];
    }
    j %= h->period;
    return j < h->n_inputs ? in[j] : 0;
}

/*
 * The estimate: at each sampled input, the values of every node on doubles,
 * then per output a reverse pass with the exact (signed) derivatives, so
 * that terms of opposite signs cancel as they do in the run. Values are
 * vectors of W slots: 1 in batch packing (every slot is a sample), the
 * widest period in vector packing (the client layout's, when it spreads
 * wider than the values' period), where ROTATE by r reads slot
 * j + r mod W and plaintexts differ per slot. Slot noise is independent
 * across slots, so a node's variance counts sum_j g[j]^2 v over its slots.
 * (Two rotations of one value by steps that differ by a multiple of W
 * would reach distinct slots that this folds into one; BSGS steps stay
 * below the period.) Circuits too wide to hold W values per node keep the
 * bound as their estimate.
 */
static bool
sampled_noise(const hir_state *s, hnn_precision_noise *noise)
{
    const hnn_hir *h = s->h;
    const bool vec = h->packing != HNN_HIR_PACK_BATCH;
    const size_t W = vec ? (hnn_hir_slots_used(h) ? hnn_hir_slots_used(h) : 1) : 1;
    for (uint32_t k = 0; k < h->n_outputs; k++) {
        noise[k].est_var_plain = noise[k].est_var_key = noise[k].est_det = 0;
        memset(noise[k].est_var_by, 0, sizeof noise[k].est_var_by);
        memset(noise[k].est_det_by, 0, sizeof noise[k].est_det_by);
    }
    size_t nn = h->n_nodes ? h->n_nodes : 1;
    double *val = NULL, *g = NULL, *in = NULL, *fv = NULL, *wk = NULL;
    if ((double)nn * (double)W <= ldexp(1.0, 24)) {
        val = malloc(nn * W * sizeof *val);
        fv = malloc(nn * W * sizeof *fv);
        g = malloc(nn * W * sizeof *g);
        wk = malloc(W * sizeof *wk);
        in = malloc((h->n_inputs ? h->n_inputs : 1) * sizeof *in);
    }
    if (!val || !fv || !g || !in || !wk) {
        free(val);
        free(fv);
        free(g);
        free(in);
        free(wk);
        if ((double)nn * (double)W <= ldexp(1.0, 24))
            return false;
        for (uint32_t k = 0; k < h->n_outputs; k++) {
            noise[k].est_var_plain = noise[k].var_plain;
            noise[k].est_var_key = noise[k].var_key;
            memcpy(noise[k].est_var_by, noise[k].var_by, sizeof noise[k].var_by);
            noise[k].est_det = noise[k].det;
            memcpy(noise[k].est_det_by, noise[k].det_by, sizeof noise[k].det_by);
            noise[k].est_key_slots = 1;
        }
        return true;
    }
    double work = (double)nn * (double)W * (1.0 + h->n_outputs);
    unsigned samples = (unsigned)fmin(64, fmax(8, ldexp(1.0, 26) / work));
    uint64_t rng = 0x9a3c5e7f1b2d4068ull;
    for (unsigned t = 0; t < samples; t++) {
        for (uint32_t k = 0; k < h->n_inputs; k++)
            in[k] = sample_input(s->ring, k, t, &rng);
        for (uint32_t i = 0; i < h->n_nodes; i++) {
            const hnn_hir_node *n = &h->nodes[i];
            double *v = val + (size_t)i * W;
            const double *a = hnn_hir_arity(n) >= 1 ? val + (size_t)n->a * W : NULL;
            const double *b = hnn_hir_op_operands(n->op) >= 2 ? val + (size_t)n->b * W : NULL;
            const hnn_hir_pt *pt = n->op == HNN_HIR_ADD_PT || n->op == HNN_HIR_MUL_PT ? &h->pts[n->pt] : NULL;
            for (size_t j = 0; n->op == HNN_HIR_LINEAR && j < W; j++) {
                double sum = 0;
                for (uint32_t k = 0; k < n->n_args; k++)
                    sum += n->coeffs[k] * val[(size_t)n->args[k] * W + j];
                v[j] = sum;
            }
            for (size_t j = 0; n->op != HNN_HIR_LINEAR && j < W; j++) {
                double p = pt ? pt->values[j % pt->len] : 0; /* a plaintext repeats over the slots */
                switch (n->op) {
                case HNN_HIR_INPUT: v[j] = vec ? vector_input_slot(h, n, in, j) : in[n->pt]; break;
                case HNN_HIR_ADD: v[j] = a[j] + b[j]; break;
                case HNN_HIR_SUB: v[j] = a[j] - b[j]; break;
                case HNN_HIR_NEGATE: v[j] = -a[j]; break;
                case HNN_HIR_ADD_CONST: v[j] = a[j] + n->c; break;
                case HNN_HIR_MUL_CONST: v[j] = a[j] * n->c; break;
                case HNN_HIR_ADD_PT: v[j] = a[j] + p; break;
                case HNN_HIR_MUL_PT: v[j] = a[j] * p; break;
                case HNN_HIR_MUL_CT: v[j] = a[j] * b[j]; break;
                case HNN_HIR_ROTATE: v[j] = a[(j + (size_t)(((int64_t)n->step % (int64_t)W + (int64_t)W) % (int64_t)W)) % W]; break;
                default: v[j] = a[j]; break;
                }
            }
            if (s->ring->assume_lo)
                for (size_t j = 0; j < W; j++)
                    v[j] = fmin(fmax(v[j], s->ring->assume_lo[i]), s->ring->assume_hi[i]);
            forward_variance(s, i, W, val, fv);
        }
        for (uint32_t k = 0; k < h->n_outputs; k++) {
            hnn_precision_noise *o = &noise[k];
            uint32_t top = h->outputs[k];
            memset(g, 0, ((size_t)top + 1) * W * sizeof *g);
            g[(size_t)top * W + (vec ? k % W : 0)] = 1;
            double vp = 0, vk = 0, by[HNN_PRECISION__COUNT] = {0}, det = 0, det_by[HNN_PRECISION__COUNT] = {0};
            memset(wk, 0, W * sizeof *wk);
            for (uint32_t i = top + 1; i-- > 0;) {
                const double *gi = g + (size_t)i * W;
                const node_info *x = &s->info[i];
                const hnn_hir_node *n = &h->nodes[i];
                /* A constant's or plaintext's rounding scales with the value it
                 * multiplies: at the sample, each slot's own (the bounds take
                 * the largest over the input range). A product's e_a e_b from
                 * its operands' forward variances at this sample, each up to
                 * 8 sigma. */
                const double *fa = n->op == HNN_HIR_MUL_CT ? fv + (size_t)n->a * W : NULL;
                const double *fb = n->op == HNN_HIR_MUL_CT ? fv + (size_t)n->b * W : NULL;
                bool scaled = n->op == HNN_HIR_MUL_PT || n->op == HNN_HIR_MUL_CONST;
                const double *vs = scaled ? val + (size_t)n->a * W : NULL;
                double m = scaled ? maxabs(&s->info[n->a]) : 0;
                double enc_unit = m > 0 ? x->enc / (m * m) : 0, d_unit = m > 0 ? x->d_est / m : 0;
                double g2 = 0, genc = 0, gd = 0;
                for (size_t j = 0; j < W; j++) {
                    g2 += gi[j] * gi[j];
                    genc += gi[j] * gi[j] * (vs ? vs[j] * vs[j] * enc_unit : x->enc);
                    double dj = n->op == HNN_HIR_LINEAR && gi[j] != 0 ? linear_rounding(n, W, val, j)
                                : vs                               ? fabs(vs[j]) * d_unit
                                                                   : x->d_est;
                    gd += fabs(gi[j]) * (dj + (fa ? 64 * sqrt(fa[j] * fb[j]) : 0));
                    wk[j] += gi[j] * gi[j] * x->b;
                }
                if (g2 == 0)
                    continue;
                vp += g2 * x->a + genc;
                vk += g2 * x->b;
                by[x->cat] += g2 * (x->a + x->b);
                by[HNN_PRECISION_ENCODE] += genc;
                det += gd;
                det_by[x->dcat] += gd;
                if (n->op == HNN_HIR_LINEAR) {
                    for (uint32_t q = 0; q < n->n_args; q++)
                        for (size_t j = 0; j < W; j++)
                            g[(size_t)n->args[q] * W + j] += gi[j] * n->coeffs[q];
                    continue;
                }
                double *ga = hnn_hir_arity(n) >= 1 ? g + (size_t)n->a * W : NULL;
                double *gb = hnn_hir_op_operands(n->op) >= 2 ? g + (size_t)n->b * W : NULL;
                const double *va = ga ? val + (size_t)n->a * W : NULL, *vb = gb ? val + (size_t)n->b * W : NULL;
                const hnn_hir_pt *pt = n->op == HNN_HIR_MUL_PT ? &h->pts[n->pt] : NULL;
                size_t shift = n->op == HNN_HIR_ROTATE
                                   ? (size_t)(((int64_t)n->step % (int64_t)W + (int64_t)W) % (int64_t)W) : 0;
                for (size_t j = 0; j < W; j++) {
                    double d = gi[j];
                    switch (n->op) {
                    case HNN_HIR_INPUT: break;
                    case HNN_HIR_SUB: ga[j] += d; gb[j] -= d; break;
                    case HNN_HIR_NEGATE: ga[j] -= d; break;
                    case HNN_HIR_MUL_CONST: ga[j] += d * n->c; break;
                    case HNN_HIR_MUL_PT: ga[j] += d * pt->values[j % pt->len]; break;
                    case HNN_HIR_MUL_CT: ga[j] += d * vb[j]; gb[j] += d * va[j]; break;
                    case HNN_HIR_ROTATE: ga[(j + shift) % W] += d; break;
                    case HNN_HIR_ADD: ga[j] += d; gb[j] += d; break;
                    default: ga[j] += d; break;
                    }
                }
            }
            if (vp + vk > o->est_var_plain + o->est_var_key)
                memcpy(o->est_var_by, by, sizeof by);
            o->est_var_plain = fmax(o->est_var_plain, vp);
            o->est_var_key = fmax(o->est_var_key, vk);
            if (det > o->est_det) {
                o->est_det = det;
                memcpy(o->est_det_by, det_by, sizeof det_by);
            }
            /* Slots sharing a key factor are counted as one: a slot's
             * variance sums every node's term there, as if all shared it. */
            double w1 = 0, w2 = 0;
            for (size_t j = 0; j < W; j++)
                w1 += wk[j], w2 += wk[j] * wk[j];
            double slots = w2 > 0 ? w1 * w1 / w2 : 1;
            o->est_key_slots = t == 0 ? slots : fmin(o->est_key_slots, slots);
        }
    }
    free(val);
    free(fv);
    free(g);
    free(wk);
    free(in);
    return true;
}

bool
hnn_precision_hir(const hnn_hir *h, const hnn_precision_ring *ring, hnn_precision_noise *noise)
{
    hir_state s = {.h = h, .ring = ring, .n = ldexp(1.0, (int)ring->log_n)};
    for (int g = 0; g <= PREC_GRID; g++)
        s.cosines[g] = cos(PREC_PI * g / PREC_GRID);
    size_t nn = h->n_nodes ? h->n_nodes : 1;
    s.info = calloc(nn, sizeof *s.info);
    s.last = calloc(nn, sizeof *s.last);
    double *g = calloc(nn, sizeof *g);
    bool ok = s.info && s.last && g;
    for (uint32_t i = 0; ok && i < h->n_nodes; i++) {
        s.last[i] = i;
        const hnn_hir_node *n = &h->nodes[i];
        for (unsigned k = 0; k < hnn_hir_arity(n); k++)
            s.last[hnn_hir_arg(n, k)] = i;
    }
    /* Forward: value bounds, local errors, forward error bounds. */
    for (uint32_t i = 0; ok && i < h->n_nodes; i++) {
        ok = bound_node(&s, i);
        if (!ok)
            break;
        local_errors(&s, i);
        const hnn_hir_node *n = &h->nodes[i];
        for (unsigned k = 0; k < hnn_hir_arity(n); k++) {
            uint32_t x = hnn_hir_arg(n, k);
            if (s.last[x] == i && s.info[x].smp) {
                free(s.info[x].smp);
                s.info[x].smp = NULL;
            }
        }
        if (s.last[i] == i) {
            free(s.info[i].smp);
            s.info[i].smp = NULL;
        }
    }
    /* Reverse, once per output: derivative bounds g_k of the output with
     * respect to every node, and the sums of g_k^2 var_k and g_k d_k. */
    for (uint32_t k = 0; ok && k < h->n_outputs; k++) {
        hnn_precision_noise *o = &noise[k];
        memset(o, 0, sizeof *o);
        uint32_t top = h->outputs[k];
        memset(g, 0, ((size_t)top + 1) * sizeof *g);
        g[top] = 1;
        for (uint32_t i = top + 1; i-- > 0;) {
            if (g[i] == 0)
                continue;
            const node_info *x = &s.info[i];
            double g2 = g[i] * g[i];
            o->var_plain += g2 * (x->a + x->enc);
            o->var_key += g2 * x->b;
            o->var_by[x->cat] += g2 * (x->a + x->b);
            o->var_by[HNN_PRECISION_ENCODE] += g2 * x->enc;
            o->det += g[i] * x->d;
            o->det_by[x->dcat] += g[i] * x->d;
            const hnn_hir_node *n = &h->nodes[i];
            if (n->op == HNN_HIR_LINEAR) {
                for (uint32_t t = 0; t < n->n_args; t++)
                    g[n->args[t]] += g[i] * fabs(n->coeffs[t]);
                continue;
            }
            double da, db;
            derivatives(&s, i, &da, &db);
            if (hnn_hir_op_operands(n->op) >= 1)
                g[n->a] += g[i] * da;
            if (hnn_hir_op_operands(n->op) >= 2)
                g[n->b] += g[i] * db;
        }
    }
    ok = ok && sampled_noise(&s, noise);
    for (uint32_t i = 0; s.info && i < h->n_nodes; i++)
        free(s.info[i].smp);
    free(s.info);
    free(s.last);
    free(g);
    return ok;
}

/* ------------------------------------------------------------------ approximation */

static bool
is_fitted(const hnn_tir_node *n)
{
    return n->kind == HNN_TIR_POLY && n->u.poly.source != HNN_OP_SQUARE && n->u.poly.source != HNN_OP_POLY;
}

static double
elem_lo(const hnn_tir_node *n, uint32_t j)
{
    return n->elem_lo ? n->elem_lo[j] : n->range.lo;
}

static double
elem_hi(const hnn_tir_node *n, uint32_t j)
{
    return n->elem_hi ? n->elem_hi[j] : n->range.hi;
}

/*
 * max |f'| on [lo, hi]: the true activation for fitted layers (the true
 * network's input may leave the fit's interval by the error so far; f is
 * defined there, p may not be close), the polynomial itself for exact ones.
 * Largest secant slope over 256 pieces, plus 5%: the secant underestimates
 * |f'| by at most h/2 max |f''| on a piece, which for these functions on
 * pieces of 1/256 of the interval stays within that margin (relu's kink
 * has slope 1 on either side).
 */
static double
lipschitz(const hnn_tir_node *n, double lo, double hi)
{
    if (!(hi > lo))
        hi = lo + 1e-9 * (1 + fabs(lo));
    const int pieces = 256;
    double best = 0, prev = 0;
    for (int i = 0; i <= pieces; i++) {
        double x = lo + (hi - lo) * i / pieces;
        double f = is_fitted(n) ? hnn_approx_activation(n->u.poly.source, x) : hnn_cheb_eval(&n->u.poly.cheb, x);
        if (i)
            best = fmax(best, fabs(f - prev) / ((hi - lo) / pieces));
        prev = f;
    }
    return 1.05 * best;
}

typedef struct approx_state {
    const hnn_tir *tir;
    double **err;  /* per node, per element: bound on |poly network - true network| */
    double **lip;  /* POLY nodes: the Lipschitz bound used per element */
} approx_state;

static bool
approx_forward(approx_state *a)
{
    const hnn_tir *tir = a->tir;
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        double *e = calloc(n->size ? n->size : 1, sizeof *e);
        if (!e)
            return false;
        a->err[i] = e;
        const double *ein = n->n_in ? a->err[n->in[0]->id] : NULL;
        switch (n->kind) {
        case HNN_TIR_INPUT:
            break;
        case HNN_TIR_AFFINE: {
            const hnn_sparse *w = &n->u.affine.w;
            for (uint32_t r = 0; r < w->rows; r++)
                for (size_t k = w->row_start[r]; k < w->row_start[r + 1]; k++)
                    e[r] += fabs(w->val[k]) * ein[w->col[k]];
            break;
        }
        case HNN_TIR_POLY: {
            double *l = calloc(n->size ? n->size : 1, sizeof *l);
            if (!l)
                return false;
            a->lip[i] = l;
            const hnn_tir_node *in = n->in[0];
            bool uniform = !in->elem_lo;
            for (uint32_t j = 0; j < n->size; j++) {
                if (uniform && j > 0 && ein[j] == ein[0])
                    l[j] = l[0];
                else
                    l[j] = lipschitz(n, elem_lo(in, j) - ein[j], elem_hi(in, j) + ein[j]);
                e[j] = l[j] * ein[j] + n->u.poly.cheb.max_error;
            }
            break;
        }
        case HNN_TIR_ADD: {
            const double *eb = a->err[n->in[1]->id];
            for (uint32_t j = 0; j < n->size; j++)
                e[j] = ein[j] + eb[j];
            break;
        }
        case HNN_TIR_SOFTARGMAX:
            memcpy(e, ein, n->size * sizeof *e);
            break;
        }
    }
    return true;
}

/* The circuit's last node: the logits before a softargmax. */
static const hnn_tir_node *
circuit_output(const hnn_tir *tir)
{
    const hnn_tir_node *o = tir->output;
    return o->kind == HNN_TIR_SOFTARGMAX ? o->in[0] : o;
}

/* Contribution of every fitted activation to element k of the circuit
 * output, with the Lipschitz bounds of the forward pass (so the
 * contributions sum to the forward bound): the dominant one and its gain. */
static bool
approx_attribute(approx_state *a, uint32_t k, hnn_precision_result *r)
{
    const hnn_tir *tir = a->tir;
    const hnn_tir_node *out = circuit_output(tir);
    double **adj = calloc(tir->n_nodes, sizeof *adj);
    bool ok = adj != NULL;
    for (uint32_t i = 0; ok && i < tir->n_nodes; i++)
        ok = (adj[i] = calloc(tir->nodes[i]->size ? tir->nodes[i]->size : 1, sizeof **adj)) != NULL;
    if (ok)
        adj[out->id][k] = 1;
    for (uint32_t i = out->id + 1; ok && i-- > 0;) {
        const hnn_tir_node *n = tir->nodes[i];
        const double *g = adj[i];
        switch (n->kind) {
        case HNN_TIR_AFFINE: {
            const hnn_sparse *w = &n->u.affine.w;
            double *gi = adj[n->in[0]->id];
            for (uint32_t row = 0; row < w->rows; row++)
                for (size_t t = w->row_start[row]; t < w->row_start[row + 1]; t++)
                    gi[w->col[t]] += fabs(w->val[t]) * g[row];
            break;
        }
        case HNN_TIR_POLY: {
            double gain = 0, *gi = adj[n->in[0]->id];
            for (uint32_t j = 0; j < n->size; j++) {
                gain += g[j];
                gi[j] += a->lip[i][j] * g[j];
            }
            double contrib = gain * n->u.poly.cheb.max_error;
            if (is_fitted(n) && (!r->dominant_poly || contrib > r->dominant_poly_error)) {
                r->dominant_poly = n;
                r->dominant_poly_error = contrib;
                r->dominant_poly_gain = gain;
            }
            break;
        }
        case HNN_TIR_ADD:
            for (uint32_t j = 0; j < n->size; j++) {
                adj[n->in[0]->id][j] += g[j];
                adj[n->in[1]->id][j] += g[j];
            }
            break;
        default:
            break;
        }
    }
    for (uint32_t i = 0; adj && i < tir->n_nodes; i++)
        free(adj[i]);
    free(adj);
    return ok;
}

/* ------------------------------------------------------------------ the estimate */

#define TAIL_GRID 16
/* Key-part shapes 1, 2, 4, ..., HNN_PRECISION_MAX_KEY_SLOTS. */
#define TAIL_SHAPES 7

static double
tail_on_grid(const double *tau, double var_plain, double var_key)
{
    double v = var_plain + var_key;
    if (!(v > 0))
        return 0;
    int t = (int)ceil(var_key / v * TAIL_GRID);
    return sqrt(v) * tau[t < 0 ? 0 : t > TAIL_GRID ? TAIL_GRID : t];
}

/*
 * The bounds the plan assumes per HE IR node (2 n_nodes doubles, lows then
 * highs; NULL when memory runs out): at a REFRESH, the mask's bound; where a
 * fitted activation's program reads its input, the activation's interval,
 * in the input's units: t in [-1, 1] when the AFFINE before it folds the
 * change of variable (lower.c), the interval itself otherwise.
 */
static double *
assumed_bounds(const hnn_plan *plan)
{
    const hnn_hir *h = plan->hir;
    const hnn_tir *tir = plan->tir;
    size_t n = h->n_nodes ? h->n_nodes : 1;
    double *lo = malloc(2 * n * sizeof *lo), *hi = lo ? lo + h->n_nodes : NULL;
    if (!lo)
        return NULL;
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        lo[i] = -INFINITY;
        hi[i] = INFINITY;
    }
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        const hnn_hir_node *u = &h->nodes[i];
        if (u->op == HNN_HIR_REFRESH) {
            double m = hnn_plan_refresh_bound(plan, u->tir);
            lo[i] = fmax(lo[i], -m);
            hi[i] = fmin(hi[i], m);
        }
        const hnn_tir_node *p = u->tir < tir->n_nodes ? tir->nodes[u->tir] : NULL;
        if (!p || !is_fitted(p))
            continue;
        for (unsigned k = 0; k < hnn_hir_arity(u); k++) {
            uint32_t a = hnn_hir_arg(u, k);
            uint32_t ta = h->nodes[a].tir;
            if (ta == u->tir || ta >= tir->n_nodes)
                continue;
            const hnn_tir_node *x = tir->nodes[ta];
            bool folded = hnn_tir_folding_poly(tir, x) == p;
            lo[a] = fmax(lo[a], folded ? -1.0 : p->u.poly.cheb.lo);
            hi[a] = fmin(hi[a], folded ? 1.0 : p->u.poly.cheb.hi);
        }
    }
    return lo;
}

bool
hnn_precision_estimate(const hnn_plan *plan, hnn_precision_result *out)
{
    memset(out, 0, sizeof *out);
    const hnn_hir *h = plan->hir;
    const hnn_tir *tir = plan->tir;
    const hnnrt_params_spec *spec = &plan->params.spec;
    unsigned L1 = plan->n_data_primes, k = plan->n_special_primes ? plan->n_special_primes : 1;
    /* The runtime's digit layout (runtime/src/params/context.c). */
    unsigned dnum = spec->dnum ? spec->dnum : (L1 + k - 1) / k;
    unsigned alpha = (L1 + dnum - 1) / dnum;

    const hnn_tir_node *in = tir->input;
    double *lo = calloc(h->n_inputs ? h->n_inputs : 1, sizeof *lo);
    double *hi = calloc(h->n_inputs ? h->n_inputs : 1, sizeof *hi);
    hnn_precision_noise *noise = calloc(h->n_outputs ? h->n_outputs : 1, sizeof *noise);
    approx_state ap = {.tir = tir};
    ap.err = calloc(tir->n_nodes, sizeof *ap.err);
    ap.lip = calloc(tir->n_nodes, sizeof *ap.lip);
    bool ok = lo && hi && noise && ap.err && ap.lip;
    for (uint32_t j = 0; ok && j < h->n_inputs; j++) {
        lo[j] = j < in->size ? elem_lo(in, j) : in->range.lo;
        hi[j] = j < in->size ? elem_hi(in, j) : in->range.hi;
    }
    double *assume_lo = ok ? assumed_bounds(plan) : NULL, *assume_hi = assume_lo ? assume_lo + h->n_nodes : NULL;
    ok = ok && assume_lo != NULL;
    hnn_precision_ring ring = {
        .log_n = spec->log_n,
        .primes = plan->primes,
        .n_data_primes = plan->n_data_primes,
        .n_special_primes = plan->n_special_primes,
        .alpha = alpha,
        .input_lo = lo,
        .input_hi = hi,
        .assume_lo = assume_lo,
        .assume_hi = assume_hi,
    };
    ok = ok && hnn_precision_hir(h, &ring, noise) && approx_forward(&ap);
    if (ok) {
        const hnn_tir_node *o = circuit_output(tir);
        const double *ae = ap.err[o->id];
        double approx_all = 0;
        for (uint32_t j = 0; j < o->size; j++)
            approx_all = fmax(approx_all, ae[j]);
        bool paired = h->n_outputs == o->size;
        double count = ldexp(1.0, (int)spec->log_n - 1) * (h->n_outputs ? h->n_outputs : 1);
        /* The tail at total variance 1 as a function of the key part's
         * share rho, on a grid: it grows with rho (a heavier mixture), so
         * the grid point above an output's rho bounds it, and outputs cost
         * O(1) each. */
        double tau[TAIL_SHAPES][TAIL_GRID + 1];
        bool have[TAIL_SHAPES] = {false};
        double worst = -1, worst_tail = 0;
        for (uint32_t q = 0; q < h->n_outputs; q++) {
            const hnn_precision_noise *z = &noise[q];
            /* The estimate averages the key part over the slots it mixes (a
             * power of two below the count, for a small grid); the bound
             * keeps the single slot's Laplace-like tail. */
            int shape = 0;
            while (shape + 1 < TAIL_SHAPES && (double)(2 << shape) <= z->est_key_slots)
                shape++;
            for (int sh = 0; sh <= shape; sh += shape ? shape : 1)
                if (!have[sh]) {
                    for (int t = 0; t <= TAIL_GRID; t++)
                        tau[sh][t] = hnn_precision_tail_mixed(1.0 - (double)t / TAIL_GRID, (double)t / TAIL_GRID,
                                                              (double)(1 << sh), count, HNN_PRECISION_FAIL_LOG2);
                    have[sh] = true;
                }
            double tail = tail_on_grid(tau[shape], z->est_var_plain, z->est_var_key);
            double bound = tail_on_grid(tau[0], z->var_plain, z->var_key);
            double ckks = tail + z->est_det, approx = paired ? ae[q] : approx_all;
            out->ckks_error = fmax(out->ckks_error, ckks);
            out->ckks_bound = fmax(out->ckks_bound, bound + z->det);
            out->approx_error = fmax(out->approx_error, approx);
            if (ckks + approx > worst) {
                worst = ckks + approx;
                worst_tail = tail;
                out->worst_output = q;
            }
        }
        const hnn_precision_noise *w = &noise[out->worst_output];
        double var = 0;
        for (int src = 0; src < HNN_PRECISION__COUNT; src++)
            var += w->est_var_by[src];
        for (int src = 0; src < HNN_PRECISION__COUNT; src++)
            out->by_source[src] = (var > 0 ? worst_tail * w->est_var_by[src] / var : 0) + w->est_det_by[src];
        uint32_t elem = 0;
        if (paired)
            elem = out->worst_output;
        else
            for (uint32_t j = 0; j < o->size; j++)
                if (ae[j] > ae[elem])
                    elem = j;
        out->by_source[HNN_PRECISION_APPROX] = o->size ? ae[elem] : 0;
        out->max_abs_error = fmax(worst, 0);
        out->precision_bits = out->max_abs_error > 0 ? -log2(out->max_abs_error) : INFINITY;
        out->noise_rms = sqrt(w->est_var_plain + w->est_var_key);
        out->dominant = HNN_PRECISION_APPROX;
        for (int src = 0; src < HNN_PRECISION__COUNT; src++)
            if (out->by_source[src] > out->by_source[out->dominant])
                out->dominant = (hnn_precision_source)src;
        ok = o->size == 0 || approx_attribute(&ap, elem, out);
    }
    for (uint32_t i = 0; ap.err && i < tir->n_nodes; i++)
        free(ap.err[i]);
    for (uint32_t i = 0; ap.lip && i < tir->n_nodes; i++)
        free(ap.lip[i]);
    free(ap.err);
    free(ap.lip);
    free(lo);
    free(hi);
    free(noise);
    free(assume_lo);
    return ok;
}

/* ------------------------------------------------------------------ the check */

static uint32_t
line_of(hnn_diag *diag, hnn_loc loc)
{
    uint32_t line = 0, col = 0;
    if (loc.file)
        hnn_diag_line_col(diag, loc.file, loc.begin, &line, &col);
    return line;
}

/* A note for the dominant activation; false when its degree cannot help. */
static bool
note_degree(const hnn_precision_result *r, double want, hnn_diag *diag)
{
    const hnn_tir_node *p = r->dominant_poly;
    if (!p || r->dominant_poly_gain <= 0 || !p->layer)
        return false;
    /* The other terms stay; this layer's share must fit in what is left. */
    double budget = want - (r->max_abs_error - r->dominant_poly_error);
    if (budget <= 0)
        return false;
    double need = budget / r->dominant_poly_gain;
    hnn_arena *arena = hnn_arena_new();
    if (!arena)
        return false;
    const hnn_cheb *c = &p->u.poly.cheb;
    hnn_cheb fit = hnn_approx_fit_auto(arena, p->u.poly.source, need, 63, c->lo, c->hi);
    hnn_arena_free(arena);
    const hnn_layer *l = p->layer;
    hnn_loc at = l->u.approx.degree_loc.file ? l->u.approx.degree_loc : l->name_loc;
    if (fit.max_error > need) {
        hnn_diag_note(diag, at,
                      "the approximation of '%s' (line %u) dominates, and even degree 63 leaves it an error "
                      "of %.3g on [%g, %g] (%.3g needed): narrow its interval",
                      l->name, line_of(diag, l->loc), fit.max_error, c->lo, c->hi, need);
        return true;
    }
    hnn_diag_note(diag, at, "raise the degree of '%s' (line %u) from %u to at least %u", l->name,
                  line_of(diag, l->loc), c->degree, fit.degree);
    return true;
}

bool
hnn_precision_check(const hnn_plan *plan, const hnn_precision_result *r, hnn_diag *diag)
{
    const hnn_hints *hints = &plan->model->hints;
    uint32_t bits = hints->precision_bits;
    if (!bits || r->precision_bits >= (double)bits)
        return true;
    hnn_loc at = hints->loc[HNN_HINT_PRECISION];
    hnn_diag_error(diag, at, "the plan reaches an estimated %.1f bits of output precision; %u were asked",
                   r->precision_bits, bits);
    double want = ldexp(1.0, -(int)bits);
    double ckks = r->max_abs_error - r->by_source[HNN_PRECISION_APPROX];
    bool approx_dominates = r->by_source[HNN_PRECISION_APPROX] >= ckks;
    if (approx_dominates && note_degree(r, want, diag))
        return false;
    /* CKKS noise is relative to the scale: each bit of scale is a bit of it. */
    double budget = want - r->by_source[HNN_PRECISION_APPROX];
    if (budget > 0 && ckks > 0) {
        unsigned extra = (unsigned)ceil(log2(ckks / budget));
        unsigned scale = plan->scale_bits + (extra ? extra : 1);
        if (scale <= 60) {
            hnn_diag_note(diag, hints->set[HNN_HINT_SCALE] ? hints->loc[HNN_HINT_SCALE] : at,
                          "CKKS noise (mostly %s) dominates: use a larger scale (scale 2^%u)",
                          hnn_precision_source_name(r->dominant == HNN_PRECISION_APPROX ? HNN_PRECISION_RESCALE
                                                                                        : r->dominant),
                          scale);
            return false;
        }
        hnn_diag_note(diag, at, "CKKS noise would need a scale of 2^%u, above the runtime's 60-bit primes: "
                      "ask for fewer bits", scale);
        return false;
    }
    if (!note_degree(r, want, diag))
        hnn_diag_note(diag, at, "the activations' approximation error alone (%.3g) exceeds 2^-%u: "
                      "raise their degrees or narrow their intervals", r->by_source[HNN_PRECISION_APPROX], bits);
    return false;
}
