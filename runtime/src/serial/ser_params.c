/*
 * Parameter sets: the spec and the exact primes. Reading rebuilds the
 * context from the spec and then requires the primes, dnum and fingerprint it
 * finds to be the serialised ones: the primes are not trusted, they are
 * recomputed and compared. Cheap consistency checks run first so that
 * hostile bytes rarely cost a context build.
 */
#include <stdio.h>

#include "serial/serial.h"

#define PARAMS_FIXED_BYTES 20 /* log_n, data primes, special primes, dnum, security: u32 each */

hnnrt_status
hnnrt_params_serialize(const hnnrt_context *ctx, uint8_t *buf, size_t cap, size_t *len)
{
    if (!ctx || !len)
        return HNNRT_ERR_ARG;
    const hnnrt_params_spec *s = &ctx->spec;
    const size_t body = PARAMS_FIXED_BYTES + (size_t)ctx->n_primes * 9;
    hnnrt_status st = hnnrt_ser_check_out(buf, cap, len, HNNRT_SER_HEADER_BYTES + body);
    if (st != HNNRT_OK || !buf)
        return st;
    hnnrt_ser_writer w = {buf, cap, 0, 0};
    hnnrt_ser_put_header(&w, HNNRT_KIND_PARAMS, ctx->fingerprint, body);
    hnnrt_ser_put_u32(&w, ctx->log_n);
    hnnrt_ser_put_u32(&w, ctx->max_level + 1);
    hnnrt_ser_put_u32(&w, ctx->n_special);
    hnnrt_ser_put_u32(&w, ctx->dnum);
    hnnrt_ser_put_u32(&w, (uint32_t)s->security);
    for (unsigned i = 0; i < ctx->n_primes; i++)
        hnnrt_ser_put_u8(&w, (uint8_t)ctx->ntt[i].mod.bits);
    for (unsigned i = 0; i < ctx->n_primes; i++)
        hnnrt_ser_put_u64(&w, ctx->ntt[i].mod.value);
    return w.overflow ? HNNRT_ERR_ARG : HNNRT_OK;
}

static unsigned
bit_length(uint64_t v)
{
    unsigned b = 0;
    while (b < 64 && (v >> b))
        b++;
    return b;
}

/* The fields as read, before any context exists. */
typedef struct params_fields {
    uint32_t log_n, n_data, n_special, dnum, security;
    uint8_t bits[HNNRT_MAX_PRIMES];
    uint64_t primes[HNNRT_MAX_PRIMES];
} params_fields;

static hnnrt_status
read_fields(hnnrt_ser_reader *r, params_fields *f)
{
    hnnrt_status st;
    if ((st = hnnrt_ser_get_u32(r, &f->log_n, "log N")) != HNNRT_OK ||
        (st = hnnrt_ser_get_u32(r, &f->n_data, "the data prime count")) != HNNRT_OK ||
        (st = hnnrt_ser_get_u32(r, &f->n_special, "the special prime count")) != HNNRT_OK ||
        (st = hnnrt_ser_get_u32(r, &f->dnum, "dnum")) != HNNRT_OK ||
        (st = hnnrt_ser_get_u32(r, &f->security, "the security level")) != HNNRT_OK)
        return st;
    if (f->log_n < 10 || f->log_n > 16)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_CORRUPT, "log N = %u is outside 10..16", f->log_n);
    if (f->n_data < 1 || f->n_special < 1 || f->n_data > HNNRT_MAX_PRIMES ||
        f->n_special > HNNRT_MAX_PRIMES - f->n_data)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_CORRUPT,
                              "%u data and %u special primes: need at least one of each and at most %d in all",
                              f->n_data, f->n_special, HNNRT_MAX_PRIMES);
    if (f->dnum < 1 || f->dnum > f->n_data)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_CORRUPT, "dnum %u is outside 1..%u", f->dnum, f->n_data);
    if (f->security != 0 && f->security != HNNRT_SECURITY_128 && f->security != HNNRT_SECURITY_192 &&
        f->security != HNNRT_SECURITY_256)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_CORRUPT, "security level %u is not 128, 192 or 256",
                              f->security);
    const unsigned total = f->n_data + f->n_special;
    if ((st = hnnrt_ser_expect_rest(r, (size_t)total * 9, "the prime sizes and primes")) != HNNRT_OK)
        return st;
    for (unsigned i = 0; i < total; i++)
        (void)hnnrt_ser_get_bytes(r, &f->bits[i], 1, "a prime size");
    for (unsigned i = 0; i < total; i++)
        (void)hnnrt_ser_get_u64(r, &f->primes[i], "a prime");
    const uint64_t two_n = (uint64_t)2 << f->log_n;
    for (unsigned i = 0; i < total; i++) {
        const uint64_t q = f->primes[i];
        const char *why = NULL;
        if (f->bits[i] < 20 || f->bits[i] > 61)
            why = "its size is outside 20..61 bits";
        else if (bit_length(q) != f->bits[i])
            why = "it does not have the stated size";
        else if (q % two_n != 1)
            why = "it is not 1 mod 2N";
        else if (!hnnrt_mod_is_prime(q))
            why = "it is not prime";
        for (unsigned j = 0; j < i && !why; j++)
            if (f->primes[j] == q)
                why = "it repeats an earlier prime";
        if (why)
            return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_CORRUPT, "prime %u = 0x%llx (%u bits): %s", i,
                                  (unsigned long long)q, f->bits[i], why);
    }
    return hnnrt_ser_close(r);
}

hnnrt_status
hnnrt_params_deserialize(hnnrt_context **out, const uint8_t *buf, size_t len, unsigned flags, hnnrt_error *err)
{
    if (!out)
        return hnnrt_err_set(err, HNNRT_ERR_ARG, "parameter set: NULL argument");
    hnnrt_ser_reader r;
    uint64_t fingerprint = 0;
    params_fields f = {0};
    hnnrt_status st = hnnrt_ser_open(&r, buf, len, HNNRT_KIND_PARAMS, NULL, &fingerprint, err);
    if (st == HNNRT_OK)
        st = read_fields(&r, &f);
    if (st != HNNRT_OK)
        return st;

    hnnrt_params_spec spec = {0};
    spec.log_n = f.log_n;
    spec.n_data_primes = f.n_data;
    spec.n_special_primes = f.n_special;
    spec.dnum = f.dnum;
    spec.security = (hnnrt_security)f.security;
    unsigned total_bits = 0;
    for (unsigned i = 0; i < f.n_data + f.n_special; i++) {
        if (i < f.n_data)
            spec.data_bits[i] = f.bits[i];
        else
            spec.special_bits[i - f.n_data] = f.bits[i];
        total_bits += f.bits[i];
    }
    /* Refuse an insecure set before building anything; the context checks again. */
    if (!(flags & HNNRT_PARAMS_INSECURE_TESTS_ONLY)) {
        hnnrt_security want = spec.security ? spec.security : HNNRT_SECURITY_128;
        unsigned bound = hnnrt_security_max_log_qp(f.log_n, want);
        if (!bound || total_bits > bound)
            return hnnrt_err_set(err, HNNRT_ERR_PARAMS_INSECURE,
                                 "parameter set: log2(QP) = %u bits exceeds %u, the HE Standard bound for %u-bit "
                                 "security at N = 2^%u",
                                 total_bits, bound, (unsigned)want, f.log_n);
    }

    hnnrt_context *ctx = NULL;
    hnnrt_error inner = {HNNRT_OK, ""};
    st = hnnrt_context_new(&ctx, &spec, flags, &inner);
    if (st == HNNRT_ERR_PARAMS_NO_NTT_PRIME)
        return hnnrt_err_set(err, HNNRT_ERR_SERIAL_CORRUPT, "parameter set: the spec yields no such primes (%s)",
                             inner.message);
    if (st != HNNRT_OK)
        return hnnrt_err_set(err, st, "parameter set: %s", inner.message);
    const char *why = NULL;
    for (unsigned i = 0; i < ctx->n_primes && !why; i++)
        if (ctx->ntt[i].mod.value != f.primes[i])
            why = "the primes differ from those the spec yields";
    if (!why && ctx->dnum != f.dnum)
        why = "dnum differs from the one the spec yields";
    if (!why && ctx->fingerprint != fingerprint)
        why = "the header's fingerprint is not that of these parameters";
    if (why) {
        hnnrt_context_free(ctx);
        return hnnrt_err_set(err, HNNRT_ERR_SERIAL_CORRUPT, "parameter set: %s", why);
    }
    *out = ctx;
    return HNNRT_OK;
}
