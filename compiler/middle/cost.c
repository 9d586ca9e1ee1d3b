/*
 * The cost model (see cost.h and docs/design/cost-model.md): work terms
 * counted from the runtime's algorithms, constants fitted to bench lines.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "middle/cost.h"

/* rotate_hoisted in the bench: one hoist, then this many rotations, and the
 * median divided by it (bench/README.md). */
#define COST_BENCH_HOIST_STEPS 8

/* Unknowns of one fit: HOIST's terms and ROTATE_HOISTED's, fitted together. */
#define COST_MAX_UNKNOWNS (2 * HNN_COST_MAX_TERMS)

static const char *const op_names[HNN_COST__COUNT] = {
    [HNN_COST_ADD] = "add",
    [HNN_COST_MUL_PT] = "mul_pt",
    [HNN_COST_MUL_CONST] = "mul_const",
    [HNN_COST_MUL_CT] = "mul_ct",
    [HNN_COST_RELIN] = "relin",
    [HNN_COST_RESCALE] = "rescale",
    [HNN_COST_ROTATE] = "rotate",
    [HNN_COST_ROTATE_HOISTED] = "rotate_hoisted",
    [HNN_COST_HOIST] = "hoist",
    [HNN_COST_ENCODE] = "encode",
    [HNN_COST_ENCRYPT] = "encrypt",
    [HNN_COST_DECRYPT] = "decrypt",
    [HNN_COST_DECODE] = "decode",
    [HNN_COST_LINEAR] = "linear",
    [HNN_COST_LINEAR_TERM] = "linear_term",
};

/* The enum members' names, for the generated C table. */
static const char *const op_enums[HNN_COST__COUNT] = {
    [HNN_COST_ADD] = "HNN_COST_ADD",
    [HNN_COST_MUL_PT] = "HNN_COST_MUL_PT",
    [HNN_COST_MUL_CONST] = "HNN_COST_MUL_CONST",
    [HNN_COST_MUL_CT] = "HNN_COST_MUL_CT",
    [HNN_COST_RELIN] = "HNN_COST_RELIN",
    [HNN_COST_RESCALE] = "HNN_COST_RESCALE",
    [HNN_COST_ROTATE] = "HNN_COST_ROTATE",
    [HNN_COST_ROTATE_HOISTED] = "HNN_COST_ROTATE_HOISTED",
    [HNN_COST_HOIST] = "HNN_COST_HOIST",
    [HNN_COST_ENCODE] = "HNN_COST_ENCODE",
    [HNN_COST_ENCRYPT] = "HNN_COST_ENCRYPT",
    [HNN_COST_DECRYPT] = "HNN_COST_DECRYPT",
    [HNN_COST_DECODE] = "HNN_COST_DECODE",
    [HNN_COST_LINEAR] = "HNN_COST_LINEAR",
    [HNN_COST_LINEAR_TERM] = "HNN_COST_LINEAR_TERM",
};

/* What each term counts, for the JSON and C outputs (unused terms NULL). */
static const char *const term_names[HNN_COST__COUNT][HNN_COST_MAX_TERMS] = {
    [HNN_COST_ADD] = {"l*N", "l*N*log2(l*N)"},
    [HNN_COST_MUL_PT] = {"l*N", "l*N*log2(l*N)"},
    [HNN_COST_MUL_CONST] = {"l*N", "l*N*log2(l*N)"},
    [HNN_COST_MUL_CT] = {"l*N", "l*N*log2(l*N)"},
    [HNN_COST_DECRYPT] = {"l*N", "l*N*log2(l*N)"},
    [HNN_COST_RESCALE] = {"l*NlogN", "l*N"},
    [HNN_COST_ENCODE] = {"NlogN", "l*NlogN"},
    [HNN_COST_DECODE] = {"NlogN", "l*NlogN", "l(l+1)/2*N"},
    [HNN_COST_LINEAR] = {"l*N", "l*N*log2(l*N)"},
    [HNN_COST_LINEAR_TERM] = {"l*N", "l*N*log2(l*N)"},
    [HNN_COST_ENCRYPT] = {"N", "l*NlogN", "l*N"},
    [HNN_COST_RELIN] = {"(beta+2)(l+k)*NlogN", "conv*N", "2beta(l+k)*N"},
    [HNN_COST_ROTATE] = {"(beta+2)(l+k)*NlogN", "conv*N", "2beta(l+k)*N"},
    [HNN_COST_HOIST] = {"beta(l+k)*NlogN", "modup*N"},
    [HNN_COST_ROTATE_HOISTED] = {"2(l+k)*NlogN", "2lk*N", "2beta(l+k)*N"},
};

const char *
hnn_cost_op_name(hnn_cost_op op)
{
    return (unsigned)op < HNN_COST__COUNT ? op_names[op] : "?";
}

/* ------------------------------------------------------------------ work terms */

/*
 * Key switching at l limbs (runtime/src/keys/keyswitch.c), E = l + k
 * extended limbs, beta = ceil(l / alpha) digits of c_j primes (alpha each,
 * the last one the rest):
 *   ModUp: an inverse NTT of the l limbs, then per digit a basis conversion
 *     to the E - c_j limbs outside it (c_j products per coefficient each)
 *     and a forward NTT of each: beta*E - l NTTs, sum_j c_j (E - c_j) N
 *     products;
 *   inner product: beta digits times 2 key parts over E limbs: 2 beta E N
 *     multiply-accumulates;
 *   ModDown of both parts: an inverse NTT of the k special limbs, a
 *     conversion to the l data limbs (k products each) and a forward NTT of
 *     each: 2 (k + l) NTTs, 2 l k N products.
 * So (beta + 2) E limb NTTs in all. The hoisted form splits that in the
 * ModUp (done once) and the rest (done per rotation, on permuted digits).
 */
static void
ks_counts(unsigned l, unsigned k, unsigned alpha, double *beta_e, double *modup, double *e_out, double *beta_out)
{
    unsigned beta = (l + alpha - 1) / alpha, e = l + k;
    double sq = 0;
    for (unsigned j = 0; j < beta; j++) {
        unsigned c = j + 1 < beta ? alpha : l - alpha * (beta - 1);
        sq += (double)c * c;
    }
    *beta_e = (double)beta * e;
    *modup = (double)l * e - sq;
    *e_out = e;
    *beta_out = beta;
}

unsigned
hnn_cost_terms(hnn_cost_op op, unsigned log_n, unsigned limbs, unsigned special, unsigned alpha,
               double w[HNN_COST_MAX_TERMS])
{
    const unsigned l = limbs ? limbs : 1, k = special ? special : 1;
    const unsigned a = alpha ? (alpha < l ? alpha : l) : 1;
    const double n = ldexp(1.0, (int)log_n), nlg = n * log_n;
    double beta_e, modup, e, beta;
    ks_counts(l, k, a, &beta_e, &modup, &e, &beta);
    for (unsigned t = 0; t < HNN_COST_MAX_TERMS; t++)
        w[t] = 0;
    switch (op) {
    case HNN_COST_ADD:
    case HNN_COST_MUL_PT:
    case HNN_COST_MUL_CONST:
    case HNN_COST_MUL_CT:
    case HNN_COST_DECRYPT:
    case HNN_COST_LINEAR:
    case HNN_COST_LINEAR_TERM:
        /* One pass over the limbs; the cost per coefficient grows as the
         * operands outgrow the caches (2 MiB L2 holds a 2^13 ciphertext of
         * 16 limbs, not one of 2^15), which log2(l N) follows. */
        w[0] = l * n;
        w[1] = l * n * log2(l * n);
        return 2;
    case HNN_COST_RESCALE:
        /* Per part: an inverse NTT of the top limb, a forward NTT into each
         * of the l - 1 others: l transforms; plus the copy and the products. */
        w[0] = l * nlg;
        w[1] = l * n;
        return 2;
    case HNN_COST_ENCODE:
        /* The special FFT of N/2 slots, then an NTT per limb. */
        w[0] = nlg;
        w[1] = l * nlg;
        return 2;
    case HNN_COST_DECODE:
        /* An inverse NTT per limb, Garner's CRT lift of every coefficient
         * (i products for limb i: l (l - 1) / 2, plus l for the lift), the FFT. */
        w[0] = nlg;
        w[1] = l * nlg;
        w[2] = l * (l + 1) / 2.0 * n;
        return 3;
    case HNN_COST_ENCRYPT:
        /* Sampling u, e0, e1 once per coefficient, their NTTs per limb, the
         * products with the public key. */
        w[0] = n;
        w[1] = l * nlg;
        w[2] = l * n;
        return 3;
    case HNN_COST_RELIN:
    case HNN_COST_ROTATE:
        w[0] = (beta + 2) * e * nlg;
        w[1] = (modup + 2.0 * l * k) * n;
        w[2] = 2 * beta_e * n;
        return 3;
    case HNN_COST_HOIST:
        w[0] = beta_e * nlg;
        w[1] = modup * n;
        return 2;
    case HNN_COST_ROTATE_HOISTED:
        w[0] = 2 * e * nlg;
        w[1] = 2.0 * l * k * n;
        w[2] = 2 * beta_e * n;
        return 3;
    case HNN_COST__COUNT:
        break;
    }
    return 0;
}

/* ------------------------------------------------------------------ evaluation */

double
hnn_cost_ks_ns(const hnn_cost_table *t, hnn_cost_op op, unsigned log_n, unsigned limbs, unsigned special,
               unsigned alpha)
{
    if (!t)
        t = hnn_cost_default();
    if ((unsigned)op >= HNN_COST__COUNT || (size_t)op >= t->count)
        return 0;
    double w[HNN_COST_MAX_TERMS], ns = 0;
    unsigned nt = hnn_cost_terms(op, log_n, limbs, special, alpha, w);
    for (unsigned i = 0; i < nt; i++)
        ns += t->entries[op].c_ns[i] * w[i];
    return ns;
}

double
hnn_cost_ns(const hnn_cost_table *t, hnn_cost_op op, unsigned log_n, unsigned limbs)
{
    return hnn_cost_ks_ns(t, op, log_n, limbs, 1, 1);
}

double
hnn_cost_spec_ns(const hnn_cost_table *t, hnn_cost_op op, const hnnrt_params_spec *spec, unsigned level)
{
    unsigned l1 = spec->n_data_primes ? spec->n_data_primes : 1, k = spec->n_special_primes;
    /* The runtime's digits: dnum 0 means ceil((L+1)/k), and alpha follows. */
    unsigned dnum = spec->dnum ? spec->dnum : (l1 + (k ? k : 1) - 1) / (k ? k : 1);
    unsigned alpha = (l1 + dnum - 1) / dnum;
    return hnn_cost_ks_ns(t, op, spec->log_n, level + 1, k, alpha);
}

/* ------------------------------------------------------------------ fitting */

typedef struct cost_obs {
    double x[COST_MAX_UNKNOWNS];
    double y;
} cost_obs;

/*
 * Solves the normal equations of min sum_i (sum_j c_j x_ij / y_i - 1)^2 over
 * the unknowns in mask; 0 when the system is singular. Columns are scaled to
 * unit maximum first: the raw terms differ by 10^6 between ops and rings.
 */
static int
solve_subset(const cost_obs *obs, size_t n, unsigned nu, unsigned mask, double c[COST_MAX_UNKNOWNS], double *res)
{
    unsigned idx[COST_MAX_UNKNOWNS], m = 0;
    for (unsigned j = 0; j < nu; j++)
        if (mask >> j & 1)
            idx[m++] = j;
    if (m == 0 || m > n)
        return 0;
    double scale[COST_MAX_UNKNOWNS] = {0};
    for (unsigned a = 0; a < m; a++)
        for (size_t i = 0; i < n; i++)
            scale[a] = fmax(scale[a], fabs(obs[i].x[idx[a]] / obs[i].y));
    for (unsigned a = 0; a < m; a++)
        if (!(scale[a] > 0))
            return 0;
    double g[COST_MAX_UNKNOWNS][COST_MAX_UNKNOWNS + 1] = {{0}};
    for (size_t i = 0; i < n; i++)
        for (unsigned a = 0; a < m; a++) {
            double xa = obs[i].x[idx[a]] / obs[i].y / scale[a];
            for (unsigned b = 0; b < m; b++)
                g[a][b] += xa * (obs[i].x[idx[b]] / obs[i].y / scale[b]);
            g[a][m] += xa;
        }
    for (unsigned p = 0; p < m; p++) {
        unsigned best = p;
        for (unsigned r = p + 1; r < m; r++)
            if (fabs(g[r][p]) > fabs(g[best][p]))
                best = r;
        if (fabs(g[best][p]) < 1e-12)
            return 0;
        for (unsigned col = 0; col <= m; col++) {
            double tmp = g[p][col];
            g[p][col] = g[best][col];
            g[best][col] = tmp;
        }
        for (unsigned r = 0; r < m; r++) {
            if (r == p)
                continue;
            double f = g[r][p] / g[p][p];
            for (unsigned col = p; col <= m; col++)
                g[r][col] -= f * g[p][col];
        }
    }
    for (unsigned j = 0; j < nu; j++)
        c[j] = 0;
    for (unsigned a = 0; a < m; a++)
        c[idx[a]] = g[a][m] / g[a][a] / scale[a];
    *res = 0;
    for (size_t i = 0; i < n; i++) {
        double pred = 0;
        for (unsigned j = 0; j < nu; j++)
            pred += c[j] * obs[i].x[j];
        *res += (pred / obs[i].y - 1) * (pred / obs[i].y - 1);
    }
    return 1;
}

/*
 * Non-negative least squares by trying every subset of the (at most six)
 * unknowns: the best residual among the solutions whose constants are all
 * positive. A subset with fewer terms wins unless a larger one lowers the
 * residual by more than rounding, so collinear terms are not split at random.
 * Returns 0 when no subset has a positive solution.
 */
static int
fit(const cost_obs *obs, size_t n, unsigned nu, double c[COST_MAX_UNKNOWNS])
{
    double best_res = INFINITY, cand[COST_MAX_UNKNOWNS];
    int best_terms = 0;
    for (unsigned mask = 1; mask < (1u << nu); mask++) {
        double res;
        if (!solve_subset(obs, n, nu, mask, cand, &res))
            continue;
        int ok = 1, terms = 0;
        for (unsigned j = 0; j < nu; j++) {
            if (mask >> j & 1) {
                terms++;
                ok &= cand[j] > 0 && isfinite(cand[j]);
            }
        }
        if (!ok)
            continue;
        int better = res < best_res * (1 - 1e-9) - 1e-15 ||
                     (res <= best_res * (1 + 1e-9) + 1e-15 && best_terms && terms < best_terms);
        if (!better)
            continue;
        best_res = res;
        best_terms = terms;
        memcpy(c, cand, sizeof cand);
    }
    return best_terms > 0;
}

/* ------------------------------------------------------------------ bench lines */

/* How a bench op enters the fit. */
typedef enum cost_line_kind {
    LINE_OP,        /* one cost op */
    LINE_ROTATE,    /* rotate and conjugate: ROTATE, and HOIST + ROTATE_HOISTED */
    LINE_HOISTED,   /* HOIST / steps + ROTATE_HOISTED */
    LINE_MUL_RELIN, /* MUL_CT + RELIN: checked, not fitted */
    LINE_LINEAR,    /* outputs * LINEAR (add's constants) + terms * LINEAR_TERM */
} cost_line_kind;

static const struct {
    const char *name;
    cost_line_kind kind;
    hnn_cost_op op;
} bench_ops[] = {
    {"add", LINE_OP, HNN_COST_ADD},
    {"mul_pt", LINE_OP, HNN_COST_MUL_PT},
    {"mul_ct", LINE_OP, HNN_COST_MUL_CT},
    {"relin", LINE_OP, HNN_COST_RELIN},
    {"rescale", LINE_OP, HNN_COST_RESCALE},
    {"encode", LINE_OP, HNN_COST_ENCODE},
    {"decode", LINE_OP, HNN_COST_DECODE},
    {"encrypt_pk", LINE_OP, HNN_COST_ENCRYPT},
    {"decrypt", LINE_OP, HNN_COST_DECRYPT},
    {"rotate", LINE_ROTATE, HNN_COST_ROTATE},
    {"conjugate", LINE_ROTATE, HNN_COST_ROTATE},
    {"rotate_hoisted", LINE_HOISTED, HNN_COST_ROTATE_HOISTED},
    {"mul_relin", LINE_MUL_RELIN, HNN_COST_MUL_CT},
    {"linear", LINE_LINEAR, HNN_COST_LINEAR_TERM},
};
#define N_BENCH_OPS (sizeof bench_ops / sizeof bench_ops[0])

static int
bench_op_index(const char *name)
{
    for (size_t i = 0; i < N_BENCH_OPS; i++)
        if (!strcmp(bench_ops[i].name, name))
            return (int)i;
    return -1;
}

static bool
fail(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool
fail(char *err, size_t err_len, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* An integer field in [lo, hi]; -1 missing, -2 wrong type or range. */
static long
int_field(json_t *o, const char *key, long lo, long hi)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return -1;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return -2;
    return (long)json_integer_value(v);
}

/* Reads one bench object into p; 1 kept, 0 skipped, -1 error. */
static int
read_line(const char *line, size_t lineno, int threads, hnn_cost_point *p, int *bench_op, char *err,
          size_t err_len)
{
    json_error_t jerr;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        fail(err, err_len, "line %zu: not valid JSON: %s", lineno, jerr.text);
        return -1;
    }
    int rc = -1;
    static const struct {
        const char *key;
        long lo, hi;
    } ints[] = {{"logN", 10, 17}, {"levels", 0, HNNRT_MAX_PRIMES - 2}, {"special", 1, HNNRT_MAX_PRIMES - 1},
                {"threads", 1, 4096}};
    long v[4];
    json_t *op = json_object_get(o, "op"), *med = json_object_get(o, "median_ns");
    if (!json_is_object(o)) {
        fail(err, err_len, "line %zu: not a JSON object", lineno);
        goto out;
    }
    if (!op || !json_is_string(op)) {
        fail(err, err_len, "line %zu: %s field \"op\"", lineno, op ? "non-string" : "missing");
        goto out;
    }
    for (int i = 0; i < 4; i++) {
        v[i] = int_field(o, ints[i].key, ints[i].lo, ints[i].hi);
        if (v[i] < 0) {
            fail(err, err_len, "line %zu: %s field \"%s\"%s", lineno, v[i] == -1 ? "missing" : "bad",
                 ints[i].key, v[i] == -1 ? "" : " (an integer in range)");
            goto out;
        }
    }
    if (!med) {
        fail(err, err_len, "line %zu: missing field \"median_ns\"", lineno);
        goto out;
    }
    if (!json_is_number(med) || !(json_number_value(med) > 0) || !isfinite(json_number_value(med))) {
        fail(err, err_len, "line %zu: bad field \"median_ns\" (a positive number)", lineno);
        goto out;
    }
    unsigned l1 = (unsigned)v[1] + 1, k = (unsigned)v[2];
    if (l1 + k > HNNRT_MAX_PRIMES) {
        fail(err, err_len, "line %zu: %u data and %u special primes exceed %u", lineno, l1, k, HNNRT_MAX_PRIMES);
        goto out;
    }
    long dnum = int_field(o, "dnum", 1, (long)l1);
    if (dnum == -2) {
        fail(err, err_len, "line %zu: bad field \"dnum\" (1..%u)", lineno, l1);
        goto out;
    }
    long terms = int_field(o, "terms", 1, UINT32_MAX), outputs = int_field(o, "outputs", 1, UINT32_MAX);
    rc = 0;
    *bench_op = bench_op_index(json_string_value(op));
    if (*bench_op < 0 || v[3] != threads)
        goto out;
    if (bench_ops[*bench_op].kind == LINE_LINEAR && (terms < 0 || outputs < 0)) {
        fail(err, err_len, "line %zu: a linear line needs the integer fields \"terms\" and \"outputs\"", lineno);
        rc = -1;
        goto out;
    }
    memset(p, 0, sizeof *p);
    snprintf(p->op, sizeof p->op, "%s", json_string_value(op));
    p->log_n = (unsigned)v[0];
    p->levels = (unsigned)v[1];
    p->special = k;
    /* Without the field, the runtime's default digits: ceil((L+1)/k). */
    p->dnum = dnum > 0 ? (unsigned)dnum : (l1 + k - 1) / k;
    p->median_ns = json_number_value(med);
    if (bench_ops[*bench_op].kind == LINE_LINEAR) {
        p->terms = (unsigned)terms;
        p->outputs = (unsigned)outputs;
    }
    rc = 1;
out:
    json_decref(o);
    return rc;
}

static unsigned
point_alpha(const hnn_cost_point *p)
{
    unsigned l1 = p->levels + 1;
    return (l1 + p->dnum - 1) / p->dnum;
}

static void
point_terms(const hnn_cost_point *p, hnn_cost_op op, double w[HNN_COST_MAX_TERMS])
{
    hnn_cost_terms(op, p->log_n, p->levels + 1, p->special, point_alpha(p), w);
}

/* What the table predicts for a bench line. */
static double
point_model(const hnn_cost_table *t, const hnn_cost_point *p, int bench_op)
{
    unsigned l1 = p->levels + 1, a = point_alpha(p);
    hnn_cost_op op = bench_ops[bench_op].op;
    switch (bench_ops[bench_op].kind) {
    case LINE_OP:
    case LINE_ROTATE:
        return hnn_cost_ks_ns(t, op, p->log_n, l1, p->special, a);
    case LINE_HOISTED:
        return hnn_cost_ks_ns(t, HNN_COST_HOIST, p->log_n, l1, p->special, a) / COST_BENCH_HOIST_STEPS +
               hnn_cost_ks_ns(t, HNN_COST_ROTATE_HOISTED, p->log_n, l1, p->special, a);
    case LINE_MUL_RELIN:
        return hnn_cost_ks_ns(t, HNN_COST_MUL_CT, p->log_n, l1, p->special, a) +
               hnn_cost_ks_ns(t, HNN_COST_RELIN, p->log_n, l1, p->special, a);
    case LINE_LINEAR:
        return p->outputs * hnn_cost_ks_ns(t, HNN_COST_LINEAR, p->log_n, l1, p->special, a) +
               p->terms * hnn_cost_ks_ns(t, HNN_COST_LINEAR_TERM, p->log_n, l1, p->special, a);
    }
    return 0;
}

/* Observations of cost op `op` (of the HOIST + ROTATE_HOISTED pair when op
 * is HOIST); `entries` holds the ops fitted so far (LINEAR_TERM's lines
 * less their outputs' LINEAR cost). */
static size_t
collect(const hnn_cost_point *pts, const int *which, size_t n, hnn_cost_op op, const hnn_cost_entry *entries,
        cost_obs *obs, unsigned *nu)
{
    size_t m = 0;
    double w[HNN_COST_MAX_TERMS], h[HNN_COST_MAX_TERMS];
    *nu = op == HNN_COST_HOIST ? 2 * HNN_COST_MAX_TERMS : HNN_COST_MAX_TERMS;
    for (size_t i = 0; i < n; i++) {
        cost_line_kind kind = bench_ops[which[i]].kind;
        cost_obs *o = &obs[m];
        memset(o, 0, sizeof *o);
        o->y = pts[i].median_ns;
        if (op == HNN_COST_HOIST) {
            if (kind != LINE_ROTATE && kind != LINE_HOISTED)
                continue;
            /* A plain rotation does the work of a hoist and one hoisted rotation. */
            double share = kind == LINE_HOISTED ? 1.0 / COST_BENCH_HOIST_STEPS : 1.0;
            point_terms(&pts[i], HNN_COST_HOIST, h);
            point_terms(&pts[i], HNN_COST_ROTATE_HOISTED, w);
            for (unsigned t = 0; t < HNN_COST_MAX_TERMS; t++) {
                o->x[t] = h[t] * share;
                o->x[HNN_COST_MAX_TERMS + t] = w[t];
            }
        } else if (kind == LINE_LINEAR) {
            if (op != HNN_COST_LINEAR_TERM)
                continue;
            double out_w[HNN_COST_MAX_TERMS], per_output = 0;
            point_terms(&pts[i], HNN_COST_LINEAR, out_w);
            for (unsigned t = 0; t < HNN_COST_MAX_TERMS; t++)
                per_output += entries[HNN_COST_LINEAR].c_ns[t] * out_w[t];
            o->y = (pts[i].median_ns - pts[i].outputs * per_output) / pts[i].terms;
            if (!(o->y > 0))
                continue;
            point_terms(&pts[i], op, w);
            memcpy(o->x, w, sizeof w);
        } else {
            if (kind == LINE_HOISTED || kind == LINE_MUL_RELIN || bench_ops[which[i]].op != op)
                continue;
            point_terms(&pts[i], op, w);
            memcpy(o->x, w, sizeof w);
        }
        m++;
    }
    return m;
}

/* ------------------------------------------------------------------ tables */

/* One block: the table, its entries, its points, its source string. */
static hnn_cost_table *
table_alloc(size_t n_points, const char *source, hnn_cost_entry **entries, hnn_cost_point **points)
{
    size_t src_len = strlen(source) + 1;
    size_t size = sizeof(hnn_cost_table) + HNN_COST__COUNT * sizeof(hnn_cost_entry) +
                  n_points * sizeof(hnn_cost_point) + src_len;
    hnn_cost_table *t = calloc(1, size);
    if (!t)
        return NULL;
    *entries = (hnn_cost_entry *)(t + 1);
    *points = (hnn_cost_point *)(*entries + HNN_COST__COUNT);
    char *src = (char *)(*points + n_points);
    memcpy(src, source, src_len);
    t->entries = *entries;
    t->count = HNN_COST__COUNT;
    t->points = *points;
    t->n_points = n_points;
    t->source = src;
    return t;
}

void
hnn_cost_table_free(hnn_cost_table *t)
{
    free(t);
}

/* Fits every op from the kept lines into entries; ops without lines keep the
 * default table's constants. */
static bool
fit_all(const hnn_cost_point *pts, const int *which, size_t n, hnn_cost_entry *entries, char *err,
        size_t err_len)
{
    const hnn_cost_table *def = hnn_cost_default();
    cost_obs *obs = malloc((n ? n : 1) * sizeof *obs);
    if (!obs)
        return fail(err, err_len, "out of memory");
    for (unsigned op = 0; op < HNN_COST__COUNT; op++) {
        entries[op] = def && op < def->count ? def->entries[op] : (hnn_cost_entry){.op = (hnn_cost_op)op};
        entries[op].op = (hnn_cost_op)op;
        entries[op].n_points = 0;
        entries[op].max_ratio = 0;
    }
    for (unsigned op = 0; op < HNN_COST__COUNT; op++) {
        if (op == HNN_COST_MUL_CONST || op == HNN_COST_ROTATE_HOISTED || op == HNN_COST_LINEAR)
            continue; /* copied from mul_pt; fitted with HOIST; copied from add */
        unsigned nu;
        size_t m = collect(pts, which, n, (hnn_cost_op)op, entries, obs, &nu);
        if (m == 0)
            continue;
        double c[COST_MAX_UNKNOWNS];
        if (!fit(obs, m, nu, c)) {
            free(obs);
            return fail(err, err_len, "cannot fit %s: the lines give no positive constants",
                        hnn_cost_op_name((hnn_cost_op)op));
        }
        for (unsigned t = 0; t < HNN_COST_MAX_TERMS; t++) {
            entries[op].c_ns[t] = c[t];
            if (op == HNN_COST_HOIST)
                entries[HNN_COST_ROTATE_HOISTED].c_ns[t] = c[HNN_COST_MAX_TERMS + t];
        }
        entries[op].n_points = (unsigned)m;
        if (op == HNN_COST_HOIST)
            entries[HNN_COST_ROTATE_HOISTED].n_points = (unsigned)m;
        if (op == HNN_COST_ADD) { /* before LINEAR_TERM, whose lines need it */
            memcpy(entries[HNN_COST_LINEAR].c_ns, entries[op].c_ns, sizeof entries[0].c_ns);
            entries[HNN_COST_LINEAR].n_points = (unsigned)m;
        }
    }
    if (entries[HNN_COST_MUL_PT].n_points) {
        memcpy(entries[HNN_COST_MUL_CONST].c_ns, entries[HNN_COST_MUL_PT].c_ns, sizeof entries[0].c_ns);
        entries[HNN_COST_MUL_CONST].n_points = entries[HNN_COST_MUL_PT].n_points;
    }
    free(obs);
    return true;
}

/* Model values and worst ratios, once the constants are known. */
static void
score(hnn_cost_table *t, hnn_cost_entry *entries, hnn_cost_point *pts, const int *which)
{
    for (size_t i = 0; i < t->n_points; i++) {
        pts[i].model_ns = point_model(t, &pts[i], which[i]);
        double r = pts[i].model_ns / pts[i].median_ns;
        r = r >= 1 ? r : 1 / r;
        hnn_cost_op op = bench_ops[which[i]].op;
        switch (bench_ops[which[i]].kind) {
        case LINE_OP:
        case LINE_ROTATE:
            break;
        case LINE_HOISTED:
            op = HNN_COST_ROTATE_HOISTED;
            if (r > entries[HNN_COST_HOIST].max_ratio)
                entries[HNN_COST_HOIST].max_ratio = r;
            break;
        case LINE_MUL_RELIN:
            continue;
        case LINE_LINEAR:
            break;
        }
        if (r > entries[op].max_ratio)
            entries[op].max_ratio = r;
        if (op == HNN_COST_MUL_PT && r > entries[HNN_COST_MUL_CONST].max_ratio)
            entries[HNN_COST_MUL_CONST].max_ratio = r;
        if (op == HNN_COST_ADD && r > entries[HNN_COST_LINEAR].max_ratio)
            entries[HNN_COST_LINEAR].max_ratio = r;
    }
}

bool
hnn_cost_from_bench_threads(FILE *in, int threads, hnn_cost_table **out, char *err, size_t err_len)
{
    if (!in || !out)
        return fail(err, err_len, "no input");
    *out = NULL;
    size_t cap = 0, n = 0, lineno = 0, line_cap = 0;
    hnn_cost_point *pts = NULL;
    int *which = NULL;
    char *line = NULL;
    bool ok = true;
    ssize_t len;
    while (ok && (len = getline(&line, &line_cap, in)) >= 0) {
        lineno++;
        const char *s = line + strspn(line, " \t\r\n");
        if (*s != '{')
            continue;
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 64;
            hnn_cost_point *np = realloc(pts, nc * sizeof *np);
            int *nw = np ? realloc(which, nc * sizeof *nw) : NULL;
            if (np)
                pts = np;
            if (nw)
                which = nw;
            if (!np || !nw) {
                ok = fail(err, err_len, "out of memory");
                break;
            }
            cap = nc;
        }
        int rc = read_line(s, lineno, threads, &pts[n], &which[n], err, err_len);
        if (rc < 0)
            ok = false;
        else if (rc > 0)
            n++;
    }
    free(line);
    if (ok && ferror(in))
        ok = fail(err, err_len, "read error: %s", strerror(errno));
    if (ok && n == 0)
        ok = fail(err, err_len, "no usable bench line measured with %d thread%s", threads, threads == 1 ? "" : "s");
    hnn_cost_table *t = NULL;
    hnn_cost_entry *entries = NULL;
    hnn_cost_point *tp = NULL;
    if (ok) {
        char src[64];
        snprintf(src, sizeof src, "bench (%d thread%s)", threads, threads == 1 ? "" : "s");
        t = table_alloc(n, src, &entries, &tp);
        if (!t)
            ok = fail(err, err_len, "out of memory");
    }
    if (ok) {
        memcpy(tp, pts, n * sizeof *tp);
        t->threads = threads;
        ok = fit_all(tp, which, n, entries, err, err_len);
    }
    if (ok)
        score(t, entries, tp, which);
    free(pts);
    free(which);
    if (!ok) {
        hnn_cost_table_free(t);
        return false;
    }
    *out = t;
    return true;
}

bool
hnn_cost_from_bench(FILE *in, hnn_cost_table **out, char *err, size_t err_len)
{
    return hnn_cost_from_bench_threads(in, 1, out, err, err_len);
}

/* ------------------------------------------------------------------ output */

void
hnn_cost_write_ratios(FILE *out, const hnn_cost_table *t)
{
    fprintf(out, "%-15s %5s %6s %3s %5s %15s %15s %7s\n", "op", "logN", "levels", "k", "dnum", "measured_ns",
            "model_ns", "ratio");
    for (size_t i = 0; i < t->n_points; i++) {
        const hnn_cost_point *p = &t->points[i];
        fprintf(out, "%-15s %5u %6u %3u %5u %15.0f %15.0f %7.3f\n", p->op, p->log_n, p->levels, p->special, p->dnum,
                p->median_ns, p->model_ns, p->model_ns / p->median_ns);
    }
}

void
hnn_cost_write_c(FILE *out, const hnn_cost_table *t)
{
    fprintf(out,
            "/*\n"
            " * The default cost table, written by hnn_cost_write_c from %s.\n"
            " * Regenerate rather than edit: docs/design/cost-model.md.\n"
            " *\n"
            " * Fit: op, bench lines, worst model/measured ratio.\n",
            t->source);
    for (size_t op = 0; op < t->count; op++)
        fprintf(out, " *   %-15s %2u  %.3f\n", hnn_cost_op_name((hnn_cost_op)op), t->entries[op].n_points,
                t->entries[op].max_ratio);
    fprintf(out, " */\n#include \"middle/cost.h\"\n\n");
    fprintf(out, "/* ns per unit of each work term (hnn_cost_terms). */\n");
    fprintf(out, "static const hnn_cost_entry default_entries[HNN_COST__COUNT] = {\n");
    for (size_t op = 0; op < t->count; op++) {
        const hnn_cost_entry *e = &t->entries[op];
        fprintf(out, "    {%s, {%.17g, %.17g, %.17g}, %u, %.17g},\n", op_enums[op], e->c_ns[0], e->c_ns[1],
                e->c_ns[2], e->n_points, e->max_ratio);
    }
    fprintf(out, "};\n\n/* The calibration lines: op, logN, levels, special, dnum, median, model, terms,\n"
                 " * outputs. */\n");
    fprintf(out, "static const hnn_cost_point default_points[%zu] = {\n", t->n_points ? t->n_points : 1);
    for (size_t i = 0; i < t->n_points; i++) {
        const hnn_cost_point *p = &t->points[i];
        fprintf(out, "    {\"%s\", %u, %u, %u, %u, %.17g, %.17g, %u, %u},\n", p->op, p->log_n, p->levels,
                p->special, p->dnum, p->median_ns, p->model_ns, p->terms, p->outputs);
    }
    fprintf(out,
            "};\n\n"
            "static const hnn_cost_table default_table = {\n"
            "    .entries = default_entries,\n"
            "    .count = HNN_COST__COUNT,\n"
            "    .points = default_points,\n"
            "    .n_points = %zu,\n"
            "    .threads = %d,\n"
            "    .source = \"default\",\n"
            "};\n\n"
            "const hnn_cost_table *\n"
            "hnn_cost_default(void)\n"
            "{\n"
            "    return &default_table;\n"
            "}\n",
            t->n_points, t->threads);
}

void
hnn_cost_write_json(FILE *out, const hnn_cost_table *t)
{
    json_t *root = json_object(), *ops = json_array(), *pts = json_array();
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "source", json_string(t->source));
    json_object_set_new(root, "threads", json_integer(t->threads));
    for (size_t op = 0; op < t->count; op++) {
        const hnn_cost_entry *e = &t->entries[op];
        json_t *o = json_object(), *terms = json_array(), *c = json_array();
        for (unsigned k = 0; k < HNN_COST_MAX_TERMS && term_names[op][k]; k++) {
            json_array_append_new(terms, json_string(term_names[op][k]));
            json_array_append_new(c, json_real(e->c_ns[k]));
        }
        json_object_set_new(o, "op", json_string(hnn_cost_op_name((hnn_cost_op)op)));
        json_object_set_new(o, "terms", terms);
        json_object_set_new(o, "c_ns", c);
        json_object_set_new(o, "points", json_integer(e->n_points));
        json_object_set_new(o, "max_ratio", json_real(e->max_ratio));
        json_array_append_new(ops, o);
    }
    for (size_t i = 0; i < t->n_points; i++) {
        const hnn_cost_point *p = &t->points[i];
        json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:f}", "op", p->op, "logN", (json_int_t)p->log_n,
                              "levels", (json_int_t)p->levels, "special", (json_int_t)p->special, "dnum",
                              (json_int_t)p->dnum, "median_ns", p->median_ns, "model_ns", p->model_ns);
        if (p->terms) {
            json_object_set_new(o, "terms", json_integer(p->terms));
            json_object_set_new(o, "outputs", json_integer(p->outputs));
        }
        json_array_append_new(pts, o);
    }
    json_object_set_new(root, "ops", ops);
    json_object_set_new(root, "points", pts);
    json_dumpf(root, out, JSON_INDENT(2));
    fputc('\n', out);
    json_decref(root);
}
