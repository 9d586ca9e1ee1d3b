/*
 * Ciphertexts and plaintexts: level, scale and the limbs q0..ql of each part,
 * bit-packed. Readers check every residue in a first pass that writes
 * nothing, so a rejected input leaves the caller's object as it was.
 */
#include <math.h>
#include <stdio.h>

#include "serial/serial.h"

static int
scale_ok(double scale)
{
    return isfinite(scale) && scale > 0;
}

hnnrt_status
hnnrt_ct_serialize(const hnnrt_ct *ct, uint8_t *buf, size_t cap, size_t *len)
{
    if (!ct || !len || !ct->data || ct->size < 2 || ct->size > 3 || !scale_ok(ct->scale))
        return HNNRT_ERR_ARG;
    const hnnrt_context *ctx = ct->ctx;
    const unsigned limbs = ct->level + 1;
    const size_t body = 4 + 4 + 8 + ct->size * hnnrt_ser_poly_bytes(ctx, limbs);
    hnnrt_status st = hnnrt_ser_check_out(buf, cap, len, HNNRT_SER_HEADER_BYTES + body);
    if (st != HNNRT_OK || !buf)
        return st;
    hnnrt_ser_writer w = {buf, cap, 0, 0};
    hnnrt_ser_put_header(&w, HNNRT_KIND_CIPHERTEXT, ctx->fingerprint, body);
    hnnrt_ser_put_u32(&w, ct->size);
    hnnrt_ser_put_u32(&w, ct->level);
    hnnrt_ser_put_f64(&w, ct->scale);
    for (unsigned p = 0; p < ct->size; p++)
        hnnrt_ser_put_poly(&w, ctx, limbs, hnnrt_ct_part(ct, p));
    return w.overflow ? HNNRT_ERR_ARG : HNNRT_OK;
}

/* Level and scale as both readers check them. */
static hnnrt_status
get_level_scale(hnnrt_ser_reader *r, const hnnrt_context *ctx, uint32_t *level, double *scale)
{
    hnnrt_status st = hnnrt_ser_get_u32(r, level, "the level");
    if (st != HNNRT_OK)
        return st;
    if (*level > ctx->max_level)
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_CORRUPT, "level %u exceeds the maximum level %u", *level,
                              ctx->max_level);
    if ((st = hnnrt_ser_get_f64(r, scale, "the scale")) != HNNRT_OK)
        return st;
    if (!scale_ok(*scale))
        return hnnrt_ser_fail(r, HNNRT_ERR_SERIAL_CORRUPT, "scale %g is not a finite positive number", *scale);
    return HNNRT_OK;
}

hnnrt_status
hnnrt_ct_deserialize(const hnnrt_context *ctx, hnnrt_ct *ct, const uint8_t *buf, size_t len, hnnrt_error *err)
{
    if (!ctx || !ct)
        return hnnrt_err_set(err, HNNRT_ERR_ARG, "ciphertext: NULL argument");
    if (ct->ctx != ctx)
        return hnnrt_err_set(err, HNNRT_ERR_PARAMS_MISMATCH,
                             "ciphertext: the output ciphertext belongs to another context");
    hnnrt_ser_reader r;
    hnnrt_status st = hnnrt_ser_open(&r, buf, len, HNNRT_KIND_CIPHERTEXT, ctx, NULL, err);
    uint32_t size = 0, level = 0;
    double scale = 0;
    if (st == HNNRT_OK && (st = hnnrt_ser_get_u32(&r, &size, "the size")) == HNNRT_OK && size != 2 && size != 3)
        st = hnnrt_ser_fail(&r, HNNRT_ERR_SERIAL_CORRUPT, "size %u is not 2 or 3 parts", size);
    if (st == HNNRT_OK)
        st = get_level_scale(&r, ctx, &level, &scale);
    /* level is checked before it sizes anything. */
    const size_t poly = st == HNNRT_OK ? hnnrt_ser_poly_bytes(ctx, level + 1) : 0;
    if (st == HNNRT_OK)
        st = hnnrt_ser_expect_rest(&r, size * poly, "the parts");
    const size_t parts_at = r.pos;
    char where[32];
    for (unsigned p = 0; p < size && st == HNNRT_OK; p++) {
        snprintf(where, sizeof where, "part %u", p);
        st = hnnrt_ser_get_poly(&r, ctx, level + 1, NULL, where);
    }
    if (st != HNNRT_OK)
        return st;
    if (hnnrt_ct_ensure(ct, size, level) != HNNRT_OK)
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "ciphertext: out of memory");
    /* Every residue passed the check above: this pass cannot fail. */
    r.pos = parts_at;
    for (unsigned p = 0; p < size; p++)
        (void)hnnrt_ser_get_poly(&r, ctx, level + 1, hnnrt_ct_part(ct, p), "");
    ct->size = size;
    ct->level = level;
    ct->scale = scale;
    return hnnrt_ser_close(&r);
}

hnnrt_status
hnnrt_pt_serialize(const hnnrt_pt *pt, uint8_t *buf, size_t cap, size_t *len)
{
    if (!pt || !len || !pt->data || !scale_ok(pt->scale))
        return HNNRT_ERR_ARG;
    const hnnrt_context *ctx = pt->ctx;
    const unsigned limbs = pt->level + 1;
    const size_t body = 4 + 8 + hnnrt_ser_poly_bytes(ctx, limbs);
    hnnrt_status st = hnnrt_ser_check_out(buf, cap, len, HNNRT_SER_HEADER_BYTES + body);
    if (st != HNNRT_OK || !buf)
        return st;
    hnnrt_ser_writer w = {buf, cap, 0, 0};
    hnnrt_ser_put_header(&w, HNNRT_KIND_PLAINTEXT, ctx->fingerprint, body);
    hnnrt_ser_put_u32(&w, pt->level);
    hnnrt_ser_put_f64(&w, pt->scale);
    hnnrt_ser_put_poly(&w, ctx, limbs, pt->data);
    return w.overflow ? HNNRT_ERR_ARG : HNNRT_OK;
}

hnnrt_status
hnnrt_pt_deserialize(const hnnrt_context *ctx, hnnrt_pt *pt, const uint8_t *buf, size_t len, hnnrt_error *err)
{
    if (!ctx || !pt)
        return hnnrt_err_set(err, HNNRT_ERR_ARG, "plaintext: NULL argument");
    if (pt->ctx != ctx)
        return hnnrt_err_set(err, HNNRT_ERR_PARAMS_MISMATCH,
                             "plaintext: the output plaintext belongs to another context");
    hnnrt_ser_reader r;
    hnnrt_status st = hnnrt_ser_open(&r, buf, len, HNNRT_KIND_PLAINTEXT, ctx, NULL, err);
    uint32_t level = 0;
    double scale = 0;
    if (st == HNNRT_OK)
        st = get_level_scale(&r, ctx, &level, &scale);
    if (st == HNNRT_OK)
        st = hnnrt_ser_expect_rest(&r, hnnrt_ser_poly_bytes(ctx, level + 1), "the limbs");
    const size_t limbs_at = r.pos;
    if (st == HNNRT_OK)
        st = hnnrt_ser_get_poly(&r, ctx, level + 1, NULL, "");
    if (st != HNNRT_OK)
        return st;
    if (hnnrt_pt_ensure(pt, level) != HNNRT_OK)
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "plaintext: out of memory");
    r.pos = limbs_at;
    (void)hnnrt_ser_get_poly(&r, ctx, level + 1, pt->data, "");
    pt->level = level;
    pt->scale = scale;
    return hnnrt_ser_close(&r);
}
