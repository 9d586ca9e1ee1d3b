/*
 * Parameter selection (see params_select.h and docs/design/parameters.md):
 * rings from the smallest up, for each the (alpha, k) layouts that fit the
 * HE Standard bound and the key-memory cap, ranked by the cost model; the
 * winner is built once by the runtime before it is returned.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "middle/params_select.h"

#define PS_MIN_LOG_N 12
#define PS_MAX_LOG_N 16
#define PS_MAX_SPECIAL 3
#define PS_MAX_SPECIAL_BITS 60 /* the runtime allows 61; 60 leaves room under 2^61 */
#define PS_MAX_PRIME_BITS 61
#define PS_MIN_PRIME_BITS 20
#define PS_MIB 1048576.0

/* The request with its defaults applied. */
typedef struct ps_need {
    const hnn_param_request *req;
    hnnrt_security security;
    unsigned scale_bits, precision_bits, bound_bits;
    unsigned n_keys; /* switching keys the circuit holds */
    const hnn_cost_table *costs;
} ps_need;

/* One layout of a ring: the base, L scale primes, k special primes. */
typedef struct ps_layout {
    unsigned log_n, levels, base_primes, base_bits[2], alpha, dnum, k, special_bits[PS_MAX_SPECIAL];
    unsigned total_bits;
    double key_bytes, cost_ns;
} ps_layout;

static void
why(hnn_param_choice *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
why(hnn_param_choice *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->why, sizeof out->why, fmt, ap);
    va_end(ap);
}

static unsigned
min_prime_bits(unsigned log_n)
{
    /* The runtime needs bits > log N + 1 for a prime = 1 mod 2N to exist below 2^bits. */
    return log_n + 2 > PS_MIN_PRIME_BITS ? log_n + 2 : PS_MIN_PRIME_BITS;
}

/*
 * Bits of the base modulus. The output y, |y| <= B, is decoded at the
 * bottom level from m = Delta*y + e (each coefficient of the plaintext is at
 * most Delta*B, as the inverse embedding averages the slots), and the
 * runtime reads m centred mod q0: correct iff |m| < q0/2, so q0 needs
 * log2(Delta) + log2(B) + 1 bits, and one more bit lets the bound be
 * exceeded twofold (approximation error, scale drift, noise) without a wrap.
 * Delta is the working scale; it must also hold p bits of precision above
 * the decoding noise, whose slot magnitude after a rescale is at most about
 * 6 sigma = 6 N / sqrt(18) < 2^(log N + 1) (rounding of c0 + c1 s with a
 * ternary s of about 2N/3 non-zero coefficients), hence max(s, p + log N + 1).
 */
static unsigned
base_bits(const ps_need *nd, unsigned log_n)
{
    unsigned noise = nd->precision_bits + log_n + 1;
    return nd->bound_bits + (nd->scale_bits > noise ? nd->scale_bits : noise) + 2;
}

/* Splits `bits` into k parts of at least lo bits, differing by at most one. */
static int
split_bits(unsigned bits, unsigned k, unsigned lo, unsigned hi, unsigned *parts)
{
    for (unsigned j = 0; j < k; j++) {
        parts[j] = bits / k + (j < bits % k);
        if (parts[j] < lo)
            parts[j] = lo;
        if (parts[j] > hi)
            return 0;
    }
    return 1;
}

/* Bits of data prime i of a layout with scale primes of s bits. */
static unsigned
prime_bits(const ps_layout *y, unsigned s, unsigned i)
{
    return i < y->base_primes ? y->base_bits[i] : s;
}

static void
layout_spec(const ps_layout *y, const ps_need *nd, hnnrt_params_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->log_n = y->log_n;
    spec->n_data_primes = y->base_primes + y->levels;
    for (unsigned i = 0; i < spec->n_data_primes; i++)
        spec->data_bits[i] = prime_bits(y, nd->scale_bits, i);
    spec->n_special_primes = y->k;
    for (unsigned j = 0; j < y->k; j++)
        spec->special_bits[j] = y->special_bits[j];
    spec->dnum = y->dnum;
    spec->security = nd->security;
}

double
hnn_params_switching_key_bytes(const hnnrt_params_spec *spec)
{
    unsigned l1 = spec->n_data_primes, k = spec->n_special_primes ? spec->n_special_primes : 1;
    unsigned dnum = spec->dnum ? spec->dnum : (l1 + k - 1) / k;
    if (dnum == 0)
        return 0;
    /* The runtime's rule: alpha = ceil(l1 / dnum), then dnum = ceil(l1 / alpha). */
    unsigned alpha = (l1 + dnum - 1) / dnum;
    dnum = (l1 + alpha - 1) / alpha;
    return (double)dnum * (l1 + k) * ldexp(1.0, (int)spec->log_n) * 2 * sizeof(uint64_t);
}

/* Is `a` better than `b` (lower cost, then smaller keys, then fewer bits)? */
static int
layout_better(const ps_layout *a, const ps_layout *b)
{
    double tol = 1e-9 * (a->cost_ns > b->cost_ns ? a->cost_ns : b->cost_ns);
    if (fabs(a->cost_ns - b->cost_ns) > tol)
        return a->cost_ns < b->cost_ns;
    if (a->key_bytes != b->key_bytes)
        return a->key_bytes < b->key_bytes;
    if (a->total_bits != b->total_bits)
        return a->total_bits < b->total_bits;
    return a->alpha < b->alpha;
}

/*
 * Every layout of ring 2^log_n with `levels` scale primes that fits the bound
 * (and the cap, when use_cap), best first, into list (at most cap entries);
 * returns how many. *min_key_bytes gets the smallest key set among the layouts
 * that fit the bound, for the message when only the cap fails.
 */
static size_t
ring_layouts(const ps_need *nd, unsigned log_n, unsigned levels, int use_cap, ps_layout *list, size_t cap,
             double *min_key_bytes)
{
    const unsigned lo = min_prime_bits(log_n), s = nd->scale_bits;
    const unsigned bound = hnnrt_security_max_log_qp(log_n, nd->security);
    ps_layout y = {.log_n = log_n, .levels = levels};
    size_t n = 0;
    *min_key_bytes = INFINITY;
    if (s < lo || s > PS_MAX_PRIME_BITS)
        return 0;
    unsigned base = base_bits(nd, log_n);
    y.base_primes = base > PS_MAX_PRIME_BITS ? 2 : 1;
    if (!split_bits(base, y.base_primes, lo, PS_MAX_PRIME_BITS, y.base_bits))
        return 0;
    const unsigned l1 = y.base_primes + levels;
    unsigned data_total = 0;
    for (unsigned i = 0; i < l1; i++)
        data_total += prime_bits(&y, s, i);
    for (unsigned alpha = 1; alpha <= l1; alpha++) {
        unsigned dnum = (l1 + alpha - 1) / alpha;
        if ((l1 + dnum - 1) / dnum != alpha)
            continue; /* the runtime would use a smaller alpha for this dnum */
        unsigned widest = 0;
        for (unsigned first = 0; first < l1; first += alpha) {
            unsigned w = 0;
            for (unsigned i = first; i < first + alpha && i < l1; i++)
                w += prime_bits(&y, s, i);
            widest = w > widest ? w : widest;
        }
        for (unsigned k = 1; k <= PS_MAX_SPECIAL; k++) {
            if (l1 + k > HNNRT_MAX_PRIMES || !split_bits(widest, k, lo, PS_MAX_SPECIAL_BITS, y.special_bits))
                continue;
            unsigned p_bits = 0;
            for (unsigned j = 0; j < k; j++)
                p_bits += y.special_bits[j];
            y.alpha = alpha;
            y.dnum = dnum;
            y.k = k;
            y.total_bits = data_total + p_bits;
            if (y.total_bits > bound)
                continue;
            hnnrt_params_spec spec;
            layout_spec(&y, nd, &spec);
            y.key_bytes = hnn_params_switching_key_bytes(&spec) * nd->n_keys;
            if (y.key_bytes < *min_key_bytes)
                *min_key_bytes = y.key_bytes;
            if (use_cap && nd->req->key_memory_mb && y.key_bytes > (double)nd->req->key_memory_mb * PS_MIB)
                continue;
            y.cost_ns = hnn_cost_ks_ns(nd->costs, HNN_COST_RELIN, log_n, l1, k, alpha);
            /* Insertion into the sorted list. */
            size_t at = n;
            while (at > 0 && layout_better(&y, &list[at - 1]))
                at--;
            if (at >= cap)
                continue;
            size_t last = n < cap ? n : cap - 1;
            memmove(&list[at + 1], &list[at], (last - at) * sizeof *list);
            list[at] = y;
            if (n < cap)
                n++;
        }
    }
    return n;
}

/* The largest number of scale primes ring 2^log_n holds; -1: not even none. */
static int
ring_max_levels(const ps_need *nd, unsigned log_n, int use_cap)
{
    ps_layout one;
    double key;
    int best = -1;
    for (unsigned levels = 0; levels + 2 <= HNNRT_MAX_PRIMES; levels++) {
        if (ring_layouts(nd, log_n, levels, use_cap, &one, 1, &key) == 0)
            break;
        best = (int)levels;
    }
    return best;
}

static int
need_init(const hnn_param_request *req, ps_need *nd, hnn_param_choice *out)
{
    memset(nd, 0, sizeof *nd);
    nd->req = req;
    nd->security = req->security ? (hnnrt_security)req->security : HNNRT_SECURITY_128;
    if (nd->security != HNNRT_SECURITY_128 && nd->security != HNNRT_SECURITY_192 &&
        nd->security != HNNRT_SECURITY_256) {
        why(out, "security level %u is not 128, 192 or 256", (unsigned)req->security);
        return 0;
    }
    nd->scale_bits = req->pin_scale_bits ? req->pin_scale_bits : req->scale_bits ? req->scale_bits : 40;
    if (nd->scale_bits < PS_MIN_PRIME_BITS || nd->scale_bits > PS_MAX_SPECIAL_BITS) {
        why(out, "scale primes of %u bits: the runtime takes primes of %u..%u bits", nd->scale_bits,
            PS_MIN_PRIME_BITS, PS_MAX_SPECIAL_BITS);
        return 0;
    }
    nd->precision_bits = req->precision_bits ? req->precision_bits : 12;
    if (!(req->output_bound >= 0) || !isfinite(req->output_bound)) {
        why(out, "the output bound %g is not a finite number >= 0", req->output_bound);
        return 0;
    }
    double lb = req->output_bound > 1 ? ceil(log2(req->output_bound)) : 0;
    if (lb + nd->precision_bits > 2 * PS_MAX_PRIME_BITS) {
        why(out, "an output bound of 2^%.0f with %u bits of precision needs more than two 61-bit base primes",
            lb, nd->precision_bits);
        return 0;
    }
    nd->bound_bits = (unsigned)lb;
    nd->n_keys = (req->needs_relin ? 1u : 0u) + req->n_rotation_keys;
    nd->costs = req->costs ? req->costs : hnn_cost_default();
    return 1;
}

/* Explains why ring 2^log_n cannot hold `levels` scale primes. */
static void
explain_ring(const ps_need *nd, unsigned log_n, unsigned levels, hnn_param_choice *out)
{
    unsigned bound = hnnrt_security_max_log_qp(log_n, nd->security);
    unsigned base = base_bits(nd, log_n);
    if (nd->scale_bits < min_prime_bits(log_n)) {
        why(out, "ring 2^%u needs primes of at least %u bits; the scale primes have %u", log_n,
            min_prime_bits(log_n), nd->scale_bits);
        return;
    }
    if (base > 2 * PS_MAX_PRIME_BITS) {
        why(out, "the output needs a %u-bit base modulus (bound 2^%u at scale 2^%u), more than two 61-bit primes: "
            "lower the scale or the output bound", base, nd->bound_bits, nd->scale_bits);
        return;
    }
    int fit = ring_max_levels(nd, log_n, 0);
    if (fit < (int)levels) {
        if (fit < 0)
            why(out, "ring 2^%u holds no chain at %u-bit security: the %u-bit base and its special prime "
                "exceed the %u-bit bound", log_n, (unsigned)nd->security, base, bound);
        else
            why(out, "ring 2^%u holds at most %d level%s of %u-bit scale primes at %u-bit security; the plan "
                "needs %u", log_n, fit, fit == 1 ? "" : "s", nd->scale_bits, (unsigned)nd->security, levels);
        return;
    }
    ps_layout one;
    double min_key;
    ring_layouts(nd, log_n, levels, 0, &one, 1, &min_key);
    why(out, "at ring 2^%u the smallest key set for %u level%s (%u switching key%s) takes %.0f MB; the cap is "
        "%llu MB", log_n, levels, levels == 1 ? "" : "s", nd->n_keys, nd->n_keys == 1 ? "" : "s",
        ceil(min_key / PS_MIB), (unsigned long long)nd->req->key_memory_mb);
}

/* Builds each layout with the runtime until one is accepted; 1 on success. */
static int
confirm(const ps_need *nd, const ps_layout *list, size_t n, hnn_param_choice *out)
{
    for (size_t i = 0; i < n; i++) {
        hnnrt_params_spec spec;
        hnnrt_context *ctx = NULL;
        hnnrt_error err = {0};
        layout_spec(&list[i], nd, &spec);
        if (hnnrt_context_new(&ctx, &spec, 0, &err) != HNNRT_OK) {
            why(out, "the runtime refuses ring 2^%u with %u data primes: %s", spec.log_n, spec.n_data_primes,
                err.message);
            continue;
        }
        hnnrt_context_free(ctx);
        const ps_layout *y = &list[i];
        out->spec = spec;
        out->log_qp_bits = y->total_bits;
        out->max_log_qp = hnnrt_security_max_log_qp(y->log_n, nd->security);
        out->key_memory_mb = y->key_bytes / PS_MIB;
        out->base_primes = y->base_primes;
        out->base_bits = y->base_bits[0] + (y->base_primes > 1 ? y->base_bits[1] : 0);
        out->alpha = y->alpha;
        out->ks_cost_ns = y->cost_ns;
        out->why[0] = '\0';
        return 1;
    }
    return 0;
}

/* Layouts kept per ring for confirmation: the runtime refuses one only when
 * NTT primes of a size run out, which the next layout rarely shares. */
#define PS_CANDIDATES 8

bool
hnn_params_select(const hnn_param_request *req, hnn_param_choice *out)
{
    memset(out, 0, sizeof *out);
    ps_need nd;
    if (!req) {
        why(out, "no request");
        return false;
    }
    if (!need_init(req, &nd, out))
        return false;
    unsigned levels = req->levels;
    if (req->pin_levels) {
        if (req->levels > req->pin_levels) {
            why(out, "the plan needs %u levels; pinned %u", req->levels, req->pin_levels);
            return false;
        }
        levels = req->pin_levels;
    }
    if (req->min_slots > ((size_t)1 << (PS_MAX_LOG_N - 1))) {
        why(out, "the packing needs %zu slots; the largest ring, 2^%u, has %zu", req->min_slots, PS_MAX_LOG_N,
            (size_t)1 << (PS_MAX_LOG_N - 1));
        return false;
    }
    unsigned lo = PS_MIN_LOG_N, hi = PS_MAX_LOG_N;
    if (req->pin_log_n) {
        if (req->pin_log_n < PS_MIN_LOG_N || req->pin_log_n > PS_MAX_LOG_N) {
            why(out, "ring 2^%u is outside 2^%u..2^%u", req->pin_log_n, PS_MIN_LOG_N, PS_MAX_LOG_N);
            return false;
        }
        if (((size_t)1 << (req->pin_log_n - 1)) < req->min_slots) {
            why(out, "ring 2^%u has %zu slots; the packing needs %zu", req->pin_log_n,
                (size_t)1 << (req->pin_log_n - 1), req->min_slots);
            return false;
        }
        lo = hi = req->pin_log_n;
    }
    while (((size_t)1 << (lo - 1)) < req->min_slots)
        lo++;
    if (base_bits(&nd, lo) > 2 * PS_MAX_PRIME_BITS) {
        explain_ring(&nd, lo, levels, out);
        return false;
    }
    ps_layout list[PS_CANDIDATES];
    double min_key;
    for (unsigned log_n = lo; log_n <= hi; log_n++) {
        size_t n = ring_layouts(&nd, log_n, levels, 1, list, PS_CANDIDATES, &min_key);
        if (n == 0)
            continue;
        if (confirm(&nd, list, n, out)) {
            int m = ring_max_levels(&nd, log_n, 1);
            out->max_levels = m > 0 ? (unsigned)m : 0;
            return true;
        }
        return false; /* the runtime's refusal is in out->why */
    }
    if (req->pin_log_n) {
        explain_ring(&nd, req->pin_log_n, levels, out);
        return false;
    }
    /* The smallest ring the bound allows failed on the key-memory cap. */
    for (unsigned log_n = lo; log_n <= hi; log_n++)
        if (ring_max_levels(&nd, log_n, 0) >= (int)levels) {
            explain_ring(&nd, log_n, levels, out);
            return false;
        }
    /* No ring holds it: say what the largest one holds. */
    char largest[sizeof out->why];
    explain_ring(&nd, hi, levels, out);
    snprintf(largest, sizeof largest, "%s", out->why);
    why(out, "no ring up to 2^%u holds the plan: %s; cut the depth with refresh points, lower polynomial "
        "degrees or smaller scale primes", hi, largest);
    return false;
}

int
hnn_params_max_levels(const hnn_param_request *req, unsigned log_n)
{
    ps_need nd;
    hnn_param_choice scratch;
    if (!req || log_n < PS_MIN_LOG_N || log_n > PS_MAX_LOG_N || !need_init(req, &nd, &scratch))
        return -1;
    return ring_max_levels(&nd, log_n, 1);
}

unsigned
hnn_params_base_bits(const hnn_param_request *req, unsigned log_n)
{
    ps_need nd;
    hnn_param_choice scratch;
    if (!req || !need_init(req, &nd, &scratch))
        return 0;
    return base_bits(&nd, log_n);
}
