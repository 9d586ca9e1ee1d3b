/* The wire primitives: little-endian fields, the header, bit-packed limbs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "serial/serial.h"

static const uint8_t magic[4] = {'H', 'N', 'R', 'T'};

const char *
hnnrt_ser_kind_name(uint32_t kind)
{
    switch (kind) {
    case HNNRT_KIND_PARAMS:
        return "parameter set";
    case HNNRT_KIND_SECRET_KEY:
        return "secret key";
    case HNNRT_KIND_PUBLIC_KEY:
        return "public key";
    case HNNRT_KIND_RELIN_KEY:
        return "relinearisation key";
    case HNNRT_KIND_GALOIS_KEYS:
        return "Galois key set";
    case HNNRT_KIND_PLAINTEXT:
        return "plaintext";
    case HNNRT_KIND_CIPHERTEXT:
        return "ciphertext";
    }
    return "unknown object";
}

hnnrt_status
hnnrt_ser_check_out(uint8_t *buf, size_t cap, size_t *len, size_t need)
{
    *len = need;
    if (buf && cap < need)
        return HNNRT_ERR_ARG;
    return HNNRT_OK;
}

size_t
hnnrt_ser_mul_size(size_t a, size_t b)
{
    if (a && b > SIZE_MAX / a)
        return 0;
    return a * b;
}

/* ------------------------------------------------------------------ writing */

static uint8_t *
room(hnnrt_ser_writer *w, size_t n)
{
    if (w->overflow || n > w->cap - w->pos) {
        w->overflow = 1;
        return NULL;
    }
    uint8_t *p = w->buf + w->pos;
    w->pos += n;
    return p;
}

static void
put_le(hnnrt_ser_writer *w, uint64_t v, unsigned bytes)
{
    uint8_t *p = room(w, bytes);
    if (!p)
        return;
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void
hnnrt_ser_put_u8(hnnrt_ser_writer *w, uint8_t v)
{
    put_le(w, v, 1);
}

void
hnnrt_ser_put_u16(hnnrt_ser_writer *w, uint16_t v)
{
    put_le(w, v, 2);
}

void
hnnrt_ser_put_u32(hnnrt_ser_writer *w, uint32_t v)
{
    put_le(w, v, 4);
}

void
hnnrt_ser_put_u64(hnnrt_ser_writer *w, uint64_t v)
{
    put_le(w, v, 8);
}

void
hnnrt_ser_put_f64(hnnrt_ser_writer *w, double v)
{
    /* IEEE 754 binary64 bits, so the scale survives exactly. */
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_le(w, bits, 8);
}

void
hnnrt_ser_put_bytes(hnnrt_ser_writer *w, const void *p, size_t n)
{
    uint8_t *d = room(w, n);
    if (d && n)
        memcpy(d, p, n);
}

void
hnnrt_ser_put_header(hnnrt_ser_writer *w, hnnrt_object_kind kind, uint64_t fingerprint, size_t body_len)
{
    hnnrt_ser_put_bytes(w, magic, sizeof magic);
    hnnrt_ser_put_u16(w, HNNRT_SER_VERSION);
    hnnrt_ser_put_u16(w, (uint16_t)kind);
    hnnrt_ser_put_u64(w, fingerprint);
    hnnrt_ser_put_u64(w, (uint64_t)body_len);
}

/* ------------------------------------------------------------------ reading */

static uint64_t
load_le(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

hnnrt_status
hnnrt_ser_fail(const hnnrt_ser_reader *r, hnnrt_status s, const char *fmt, ...)
{
    char msg[sizeof ((hnnrt_error *)0)->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hnnrt_err_set(r->err, s, "%s: %s", r->what, msg);
}

hnnrt_status
hnnrt_ser_open(hnnrt_ser_reader *r, const uint8_t *buf, size_t len, hnnrt_object_kind want,
               const hnnrt_context *ctx, uint64_t *fingerprint, hnnrt_error *err)
{
    r->buf = buf;
    r->len = 0;
    r->pos = 0;
    r->what = hnnrt_ser_kind_name(want);
    r->err = err;
    if (!buf && len)
        return hnnrt_ser_fail(r, HNNRT_ERR_ARG, "NULL buffer of %zu bytes", len);
    /* The magic first, on whatever bytes there are: a short foreign file is
     * foreign, a short prefix of an object is truncated. */
    size_t m = len < sizeof magic ? len : sizeof magic;
    if (m && memcmp(buf, magic, m) != 0) {
        uint8_t got[4] = {0, 0, 0, 0};
        memcpy(got, buf, m);
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_MAGIC,
                              "not an hnnrt object: it starts with %02x %02x %02x %02x, not \"HNRT\"", got[0],
                              got[1], got[2], got[3]);
    }
    if (len < HNNRT_SER_HEADER_BYTES)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_TRUNCATED, "%zu bytes end inside the %d-byte header", len,
                              HNNRT_SER_HEADER_BYTES);
    unsigned version = (unsigned)load_le(buf + 4, 2);
    unsigned kind = (unsigned)load_le(buf + 6, 2);
    uint64_t fp = load_le(buf + 8, 8);
    uint64_t body = load_le(buf + 16, 8);
    if (version != HNNRT_SER_VERSION)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_VERSION,
                              "format version %u is not supported (this library reads version %d)", version,
                              HNNRT_SER_VERSION);
    if (kind != (unsigned)want)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_MAGIC, "found kind %u (%s) where kind %u (%s) was expected",
                              kind, hnnrt_ser_kind_name(kind), (unsigned)want, r->what);
    if (ctx && fp != ctx->fingerprint)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_FINGERPRINT,
                              "made under parameters with fingerprint %016llx, this context has %016llx",
                              (unsigned long long)fp, (unsigned long long)ctx->fingerprint);
    size_t avail = len - HNNRT_SER_HEADER_BYTES;
    if (body > avail)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_TRUNCATED,
                              "the header announces a %llu-byte body but only %zu bytes follow",
                              (unsigned long long)body, avail);
    if (body < avail)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_CORRUPT,
                              "%zu bytes of trailing garbage follow the %llu-byte body", avail - (size_t)body,
                              (unsigned long long)body);
    r->buf = buf + HNNRT_SER_HEADER_BYTES;
    r->len = avail;
    if (fingerprint)
        *fingerprint = fp;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_ser_close(const hnnrt_ser_reader *r)
{
    if (r->pos != r->len)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_CORRUPT, "%zu bytes of trailing garbage at body offset %zu",
                              r->len - r->pos, r->pos);
    return HNNRT_OK;
}

static hnnrt_status
need(hnnrt_ser_reader *r, size_t n, const char *field)
{
    if (n > r->len - r->pos)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_TRUNCATED,
                              "the bytes end at body offset %zu inside %s (%zu bytes needed, %zu left)", r->pos,
                              field, n, r->len - r->pos);
    return HNNRT_OK;
}

hnnrt_status
hnnrt_ser_get_u32(hnnrt_ser_reader *r, uint32_t *v, const char *field)
{
    hnnrt_status st = need(r, 4, field);
    if (st != HNNRT_OK)
        return st;
    *v = (uint32_t)load_le(r->buf + r->pos, 4);
    r->pos += 4;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_ser_get_u64(hnnrt_ser_reader *r, uint64_t *v, const char *field)
{
    hnnrt_status st = need(r, 8, field);
    if (st != HNNRT_OK)
        return st;
    *v = load_le(r->buf + r->pos, 8);
    r->pos += 8;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_ser_get_f64(hnnrt_ser_reader *r, double *v, const char *field)
{
    uint64_t bits;
    hnnrt_status st = hnnrt_ser_get_u64(r, &bits, field);
    if (st == HNNRT_OK)
        memcpy(v, &bits, sizeof *v);
    return st;
}

hnnrt_status
hnnrt_ser_get_bytes(hnnrt_ser_reader *r, void *p, size_t n, const char *field)
{
    hnnrt_status st = need(r, n, field);
    if (st != HNNRT_OK)
        return st;
    if (n)
        memcpy(p, r->buf + r->pos, n);
    r->pos += n;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_ser_expect_rest(const hnnrt_ser_reader *r, size_t n, const char *field)
{
    size_t rest = r->len - r->pos;
    if (rest < n)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_TRUNCATED, "%s needs %zu bytes but only %zu are left", field, n,
                              rest);
    if (rest > n)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_CORRUPT,
                              "%s needs %zu bytes but %zu are left: the length fields do not match the body",
                              field, n, rest);
    return HNNRT_OK;
}

/* ------------------------------------------------------------------ bit-packed limbs */

/*
 * Limb of n residues at b bits each, as one little-endian bit string: residue
 * j occupies bits [j b, (j + 1) b). n is a multiple of 8, so every limb is a
 * whole number of bytes, n b / 8, and every bit of them belongs to a residue.
 *
 * Both directions move 64-bit words through a 128-bit accumulator. Packing:
 * fewer than 64 bits are pending before a residue is added, at most
 * 63 + 61 = 124 after. Unpacking: a word is loaded only when fewer than b
 * (<= 61) bits are pending, so at most 60 + 64 = 124 are held; the last
 * bytes of a limb, where a whole word would cross its end, go one by one.
 */
static void
store_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void
pack_limb(uint8_t *dst, unsigned bits, size_t n, const uint64_t *in)
{
    const uint64_t mask = ((uint64_t)1 << bits) - 1;
    hnnrt_u128 acc = 0;
    unsigned have = 0;
    size_t pos = 0;
    for (size_t j = 0; j < n; j++) {
        acc |= (hnnrt_u128)(in[j] & mask) << have;
        have += bits;
        if (have >= 64) {
            store_le64(dst + pos, (uint64_t)acc);
            pos += 8;
            acc >>= 64;
            have -= 64;
        }
    }
    /* n b is a multiple of 8: the tail is whole bytes. */
    while (have) {
        dst[pos++] = (uint8_t)acc;
        acc >>= 8;
        have = have > 8 ? have - 8 : 0;
    }
}

/* Returns the index of the first residue >= q (its value in *bad), or n.
 * Reads exactly n b / 8 bytes. */
static size_t
unpack_limb(const uint8_t *src, unsigned bits, uint64_t q, size_t n, uint64_t *out, uint64_t *bad)
{
    const uint64_t mask = ((uint64_t)1 << bits) - 1;
    const size_t nbytes = n / 8 * bits;
    hnnrt_u128 acc = 0;
    unsigned have = 0;
    size_t pos = 0;
    for (size_t j = 0; j < n; j++) {
        if (have < bits) {
            if (nbytes - pos >= 8) {
                acc |= (hnnrt_u128)load_le(src + pos, 8) << have;
                pos += 8;
                have += 64;
            } else {
                while (have < bits) {
                    acc |= (hnnrt_u128)src[pos++] << have;
                    have += 8;
                }
            }
        }
        uint64_t v = (uint64_t)acc & mask;
        acc >>= bits;
        have -= bits;
        if (v >= q) {
            *bad = v;
            return j;
        }
        if (out)
            out[j] = v;
    }
    return n;
}

static size_t
limb_bytes(const hnnrt_context *ctx, unsigned i)
{
    return ctx->n / 8 * ctx->ntt[i].mod.bits;
}

size_t
hnnrt_ser_poly_bytes(const hnnrt_context *ctx, unsigned count)
{
    size_t total = 0;
    for (unsigned i = 0; i < count; i++)
        total += limb_bytes(ctx, i);
    return total;
}

void
hnnrt_ser_put_poly(hnnrt_ser_writer *w, const hnnrt_context *ctx, unsigned count, const uint64_t *limbs)
{
    for (unsigned i = 0; i < count; i++) {
        uint8_t *d = room(w, limb_bytes(ctx, i));
        if (!d)
            return;
        pack_limb(d, ctx->ntt[i].mod.bits, ctx->n, limbs + (size_t)i * ctx->n);
    }
}

static void
prime_name(const hnnrt_context *ctx, unsigned i, char *buf, size_t cap)
{
    if (i <= ctx->max_level)
        snprintf(buf, cap, "q%u", i);
    else
        snprintf(buf, cap, "p%u", i - ctx->max_level - 1);
}

hnnrt_status
hnnrt_ser_get_poly(hnnrt_ser_reader *r, const hnnrt_context *ctx, unsigned count, uint64_t *out, const char *where)
{
    size_t total = hnnrt_ser_poly_bytes(ctx, count);
    hnnrt_status st = need(r, total, "a polynomial");
    if (st != HNNRT_OK)
        return st;
    const uint8_t *src = r->buf + r->pos;
    for (unsigned i = 0; i < count; i++) {
        const hnnrt_modulus *m = &ctx->ntt[i].mod;
        uint64_t bad = 0;
        size_t j = unpack_limb(src, m->bits, m->value, ctx->n, out ? out + (size_t)i * ctx->n : NULL, &bad);
        if (j < ctx->n) {
            char name[16];
            prime_name(ctx, i, name, sizeof name);
            return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_CORRUPT,
                                  "%s%slimb %u coefficient %zu = 0x%llx is not below %s = 0x%llx", where,
                                  *where ? " " : "", i, j, (unsigned long long)bad, name,
                                  (unsigned long long)m->value);
        }
        src += limb_bytes(ctx, i);
    }
    r->pos += total;
    return HNNRT_OK;
}
