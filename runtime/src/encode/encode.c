#include <math.h>
#include <string.h>

#include "encode/encode.h"

hnnrt_status
hnnrt_encoder_new(const hnnrt_context *ctx, hnnrt_encoder **out)
{
    if (!ctx || !out)
        return HNNRT_ERR_ARG;
    *out = NULL;
    const size_t n = ctx->n, m = 2 * n, L1 = ctx->max_level + 1;
    hnnrt_encoder *enc = hnnrt_mem_alloc(ctx->counter, sizeof *enc);
    if (!enc)
        return HNNRT_ERR_ALLOC;
    enc->ctx = ctx;
    enc->slots = n / 2;
    enc->ksi = hnnrt_mem_alloc(ctx->counter, (m + 1) * sizeof *enc->ksi);
    enc->rot_group = hnnrt_mem_alloc(ctx->counter, enc->slots * sizeof *enc->rot_group);
    enc->work = hnnrt_mem_alloc(ctx->counter, enc->slots * sizeof *enc->work);
    enc->garner_inv = hnnrt_mem_alloc(ctx->counter, L1 * L1 * sizeof *enc->garner_inv);
    enc->half = hnnrt_mem_alloc(ctx->counter, L1 * L1 * sizeof *enc->half);
    enc->digits = hnnrt_mem_alloc(ctx->counter, L1 * sizeof *enc->digits);
    enc->coeffs = hnnrt_mem_alloc(ctx->counter, L1 * n * sizeof *enc->coeffs);
    if (!enc->ksi || !enc->rot_group || !enc->work || !enc->garner_inv || !enc->half || !enc->digits ||
        !enc->coeffs) {
        hnnrt_encoder_free(enc);
        return HNNRT_ERR_ALLOC;
    }
    for (size_t k = 0; k <= m; k++) {
        long double angle = 2.0L * 3.141592653589793238462643383279502884L * (long double)k / (long double)m;
        enc->ksi[k] = (double)cosl(angle) + (double)sinl(angle) * I;
    }
    uint64_t g = 1;
    for (size_t j = 0; j < enc->slots; j++) {
        enc->rot_group[j] = g;
        g = g * 5 % m;
    }
    for (size_t i = 0; i < L1; i++)
        for (size_t j = 0; j < i; j++) {
            const hnnrt_modulus *mi = &ctx->ntt[i].mod;
            uint64_t inv = hnnrt_mod_inv(hnnrt_mod_reduce64(ctx->ntt[j].mod.value, mi), mi);
            enc->garner_inv[i * L1 + j] = hnnrt_mod_shoup_make(inv, mi->value);
        }
    /* floor(Q_l / 2) in mixed radix: Q_l is odd, so floor(Q_l/2) = (Q_l - 1)/2,
     * whose digits follow from halving (q_0 - 1, ..., q_l - 1) from the top. */
    for (size_t l = 0; l < L1; l++) {
        uint64_t rem = 0;
        for (size_t i = l + 1; i-- > 0;) {
            uint64_t q = ctx->ntt[i].mod.value;
            /* digit value = rem * q_i + (q_i - 1), halved. */
            hnnrt_u128 cur = (hnnrt_u128)rem * q + (q - 1);
            enc->half[l * L1 + i] = (uint64_t)(cur / 2);
            rem = (uint64_t)(cur % 2);
        }
    }
    *out = enc;
    return HNNRT_OK;
}

void
hnnrt_encoder_free(hnnrt_encoder *enc)
{
    if (!enc)
        return;
    hnnrt_alloc_counter *c = enc->ctx->counter;
    size_t L1 = enc->ctx->max_level + 1;
    hnnrt_mem_free(c, enc->ksi);
    hnnrt_mem_free(c, enc->rot_group);
    /* The work buffers held messages: wipe them. */
    hnnrt_mem_free_secret(c, enc->work, enc->slots * sizeof *enc->work);
    hnnrt_mem_free(c, enc->garner_inv);
    hnnrt_mem_free(c, enc->half);
    hnnrt_mem_free_secret(c, enc->digits, L1 * sizeof *enc->digits);
    hnnrt_mem_free_secret(c, enc->coeffs, L1 * enc->ctx->n * sizeof *enc->coeffs);
    hnnrt_mem_free(c, enc);
}

const char *
hnnrt_encoder_last_error(const hnnrt_encoder *enc)
{
    return enc ? enc->last_error : "";
}

uint64_t
hnnrt_encode_reduce_double(double x, const hnnrt_modulus *m)
{
    double r = nearbyint(x);
    double a = fabs(r);
    uint64_t res;
    if (a < 9223372036854775808.0) {
        res = hnnrt_mod_reduce64((uint64_t)a, m);
    } else {
        /* a = mant * 2^e exactly, mant < 2^53. */
        int e;
        double f = frexp(a, &e);
        uint64_t mant = (uint64_t)ldexp(f, 53);
        res = hnnrt_mod_mul(hnnrt_mod_reduce64(mant, m), hnnrt_mod_pow(2, (uint64_t)(e - 53), m), m);
    }
    return r < 0 ? hnnrt_mod_neg(res, m->value) : res;
}

/* Shared tail of encode: slots already in enc->work. */
static hnnrt_status
encode_work(hnnrt_encoder *enc, hnnrt_pt *pt, double scale, unsigned level)
{
    const hnnrt_context *ctx = enc->ctx;
    const size_t n = ctx->n, half = n / 2;
    hnnrt_encode_ifft(enc, enc->work, enc->slots);

    /* The largest coefficient must stay below Q_level / 2. */
    double max_abs = 0;
    for (size_t j = 0; j < half; j++) {
        double re = fabs(creal(enc->work[j])) * scale, im = fabs(cimag(enc->work[j])) * scale;
        if (re > max_abs)
            max_abs = re;
        if (im > max_abs)
            max_abs = im;
    }
    double log_q = 0;
    for (unsigned i = 0; i <= level; i++)
        log_q += log2((double)ctx->ntt[i].mod.value);
    if (!isfinite(max_abs) || (max_abs > 0 && log2(max_abs) >= log_q - 1))
        return hnnrt_msg_set(enc->last_error, HNNRT_ERR_SCALE_OVERFLOW,
                             "encode: scaled values reach 2^%.1f, beyond Q/2 = 2^%.1f at level %u", log2(max_abs),
                             log_q - 1, level);

    hnnrt_status st = hnnrt_pt_ensure(pt, level);
    if (st != HNNRT_OK)
        return hnnrt_msg_set(enc->last_error, st, "encode: out of memory");
    hnnrt_rns_basis b;
    hnnrt_poly_env env;
    hnnrt_ctx_basis_q(ctx, level, &b);
    hnnrt_ctx_env(ctx, &env);
    int small = max_abs < 9.0e18;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (ctx->threads > 1 && level > 0)
    for (unsigned i = 0; i <= level; i++) {
        const hnnrt_modulus *m = &ctx->ntt[i].mod;
        uint64_t *limb = pt->data + (size_t)i * n;
        for (size_t j = 0; j < half; j++) {
            double re = creal(enc->work[j]) * scale, im = cimag(enc->work[j]) * scale;
            if (small) {
                limb[j] = hnnrt_mod_from_signed((int64_t)nearbyint(re), m);
                limb[j + half] = hnnrt_mod_from_signed((int64_t)nearbyint(im), m);
            } else {
                limb[j] = hnnrt_encode_reduce_double(re, m);
                limb[j + half] = hnnrt_encode_reduce_double(im, m);
            }
        }
    }
    hnnrt_poly_ntt_fwd(&env, &b, pt->data);
    pt->level = level;
    pt->scale = scale;
    return HNNRT_OK;
}

static hnnrt_status
check_encode_args(hnnrt_encoder *enc, const hnnrt_pt *pt, size_t count, double scale, unsigned level)
{
    if (!pt || pt->ctx != enc->ctx)
        return hnnrt_msg_set(enc->last_error, HNNRT_ERR_PARAMS_MISMATCH,
                             "encode: plaintext belongs to another context");
    if (count > enc->slots)
        return hnnrt_msg_set(enc->last_error, HNNRT_ERR_ARG, "encode: %zu values exceed the %zu slots", count,
                             enc->slots);
    if (level > enc->ctx->max_level)
        return hnnrt_msg_set(enc->last_error, HNNRT_ERR_ARG, "encode: level %u exceeds the top level %u", level,
                             enc->ctx->max_level);
    if (!(scale > 0) || !isfinite(scale))
        return hnnrt_msg_set(enc->last_error, HNNRT_ERR_ARG, "encode: scale must be positive and finite");
    return HNNRT_OK;
}

hnnrt_status
hnnrt_encode(hnnrt_encoder *enc, hnnrt_pt *pt, const double *values, size_t count, double scale, unsigned level)
{
    if (!enc || (!values && count))
        return HNNRT_ERR_ARG;
    hnnrt_status st = check_encode_args(enc, pt, count, scale, level);
    if (st != HNNRT_OK)
        return st;
    for (size_t j = 0; j < enc->slots; j++) {
        double v = j < count ? values[j] : 0.0;
        if (!isfinite(v))
            return hnnrt_msg_set(enc->last_error, HNNRT_ERR_ARG, "encode: value %zu is not finite", j);
        enc->work[j] = v;
    }
    return encode_work(enc, pt, scale, level);
}

hnnrt_status
hnnrt_encode_complex(hnnrt_encoder *enc, hnnrt_pt *pt, const double *re, const double *im, size_t count,
                     double scale, unsigned level)
{
    if (!enc || ((!re || !im) && count))
        return HNNRT_ERR_ARG;
    hnnrt_status st = check_encode_args(enc, pt, count, scale, level);
    if (st != HNNRT_OK)
        return st;
    for (size_t j = 0; j < enc->slots; j++) {
        double a = j < count ? re[j] : 0.0, b = j < count ? im[j] : 0.0;
        if (!isfinite(a) || !isfinite(b))
            return hnnrt_msg_set(enc->last_error, HNNRT_ERR_ARG, "encode: value %zu is not finite", j);
        enc->work[j] = a + b * I;
    }
    return encode_work(enc, pt, scale, level);
}

long double
hnnrt_encode_crt_coeff(hnnrt_encoder *enc, const uint64_t *poly, unsigned level, size_t j)
{
    const hnnrt_context *ctx = enc->ctx;
    const size_t n = ctx->n, L1 = ctx->max_level + 1;
    uint64_t *v = enc->digits;
    /* Garner: x = v0 + v1 q0 + v2 q0 q1 + ..., v_i in [0, q_i). */
    for (unsigned i = 0; i <= level; i++) {
        const hnnrt_modulus *mi = &ctx->ntt[i].mod;
        uint64_t t = poly[(size_t)i * n + j];
        for (unsigned k = 0; k < i; k++) {
            const hnnrt_mod_shoup s = enc->garner_inv[i * L1 + k];
            t = hnnrt_mod_sub(t, hnnrt_mod_reduce64(v[k], mi), mi->value);
            t = hnnrt_mod_mul_shoup(t, s.op, s.quot, mi->value);
        }
        v[i] = t;
    }
    /* x > floor(Q/2) means x stands for x - Q: compare digits from the top. */
    const uint64_t *h = enc->half + (size_t)level * L1;
    int negative = 0;
    for (unsigned i = level + 1; i-- > 0;) {
        if (v[i] != h[i]) {
            negative = v[i] > h[i];
            break;
        }
    }
    long double x = 0;
    for (unsigned i = level + 1; i-- > 0;) {
        uint64_t d = negative ? ctx->ntt[i].mod.value - 1 - v[i] : v[i];
        x = x * (long double)ctx->ntt[i].mod.value + (long double)d;
    }
    return negative ? -(x + 1) : x;
}

static hnnrt_status
decode_work(hnnrt_encoder *enc, const hnnrt_pt *pt)
{
    const hnnrt_context *ctx = enc->ctx;
    if (!pt || pt->ctx != ctx || !pt->data)
        return hnnrt_msg_set(enc->last_error, HNNRT_ERR_ARG, "decode: empty or foreign plaintext");
    const size_t n = ctx->n, half = n / 2;
    unsigned level = pt->level;
    hnnrt_rns_basis b;
    hnnrt_poly_env env;
    hnnrt_ctx_basis_q(ctx, level, &b);
    hnnrt_ctx_env(ctx, &env);
    uint64_t *coeffs = enc->coeffs;
    memcpy(coeffs, pt->data, (size_t)(level + 1) * n * sizeof(uint64_t));
    hnnrt_poly_ntt_inv(&env, &b, coeffs);
    const long double inv_scale = 1.0L / (long double)pt->scale;
    for (size_t j = 0; j < half; j++) {
        long double re = hnnrt_encode_crt_coeff(enc, coeffs, level, j) * inv_scale;
        long double im = hnnrt_encode_crt_coeff(enc, coeffs, level, j + half) * inv_scale;
        enc->work[j] = (double)re + (double)im * I;
    }
    hnnrt_encode_fft(enc, enc->work, enc->slots);
    return HNNRT_OK;
}

hnnrt_status
hnnrt_decode(hnnrt_encoder *enc, const hnnrt_pt *pt, double *values, size_t count)
{
    if (!enc || (!values && count))
        return HNNRT_ERR_ARG;
    if (count > enc->slots)
        return hnnrt_msg_set(enc->last_error, HNNRT_ERR_ARG, "decode: %zu values exceed the %zu slots", count,
                             enc->slots);
    hnnrt_status st = decode_work(enc, pt);
    if (st != HNNRT_OK)
        return st;
    for (size_t j = 0; j < count; j++)
        values[j] = creal(enc->work[j]);
    return HNNRT_OK;
}

hnnrt_status
hnnrt_decode_complex(hnnrt_encoder *enc, const hnnrt_pt *pt, double *re, double *im, size_t count)
{
    if (!enc || ((!re || !im) && count))
        return HNNRT_ERR_ARG;
    if (count > enc->slots)
        return hnnrt_msg_set(enc->last_error, HNNRT_ERR_ARG, "decode: %zu values exceed the %zu slots", count,
                             enc->slots);
    hnnrt_status st = decode_work(enc, pt);
    if (st != HNNRT_OK)
        return st;
    for (size_t j = 0; j < count; j++) {
        re[j] = creal(enc->work[j]);
        im[j] = cimag(enc->work[j]);
    }
    return HNNRT_OK;
}
