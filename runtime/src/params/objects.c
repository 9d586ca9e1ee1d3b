/* Plaintexts and ciphertexts: buffers sized on demand, kept for reuse. */
#include <string.h>

#include "params/params.h"

hnnrt_status
hnnrt_pt_new(const hnnrt_context *ctx, hnnrt_pt **out)
{
    if (!ctx || !out)
        return HNNRT_ERR_ARG;
    hnnrt_pt *pt = hnnrt_mem_alloc(ctx->counter, sizeof *pt);
    if (!pt)
        return HNNRT_ERR_ALLOC;
    pt->ctx = ctx;
    pt->scale = 1.0;
    *out = pt;
    return HNNRT_OK;
}

void
hnnrt_pt_free(hnnrt_pt *pt)
{
    if (!pt)
        return;
    hnnrt_alloc_counter *c = pt->ctx->counter;
    /* A plaintext may hold a decrypted message: wipe it. */
    hnnrt_mem_free_secret(c, pt->data, (size_t)pt->cap_limbs * pt->ctx->n * sizeof(uint64_t));
    hnnrt_mem_free(c, pt);
}

hnnrt_status
hnnrt_pt_ensure(hnnrt_pt *pt, unsigned level)
{
    if (level > pt->ctx->max_level)
        return HNNRT_ERR_ARG;
    if (pt->data && pt->cap_limbs >= level + 1)
        return HNNRT_OK;
    unsigned limbs = level + 1;
    uint64_t *d = hnnrt_mem_alloc(pt->ctx->counter, (size_t)limbs * pt->ctx->n * sizeof(uint64_t));
    if (!d)
        return HNNRT_ERR_ALLOC;
    hnnrt_mem_free_secret(pt->ctx->counter, pt->data, (size_t)pt->cap_limbs * pt->ctx->n * sizeof(uint64_t));
    pt->data = d;
    pt->cap_limbs = limbs;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_ct_new(const hnnrt_context *ctx, hnnrt_ct **out)
{
    if (!ctx || !out)
        return HNNRT_ERR_ARG;
    hnnrt_ct *ct = hnnrt_mem_alloc(ctx->counter, sizeof *ct);
    if (!ct)
        return HNNRT_ERR_ALLOC;
    ct->ctx = ctx;
    ct->size = 2;
    ct->scale = 1.0;
    *out = ct;
    return HNNRT_OK;
}

void
hnnrt_ct_free(hnnrt_ct *ct)
{
    if (!ct)
        return;
    hnnrt_alloc_counter *c = ct->ctx->counter;
    hnnrt_mem_free(c, ct->data);
    hnnrt_mem_free(c, ct);
}

hnnrt_status
hnnrt_ct_ensure(hnnrt_ct *ct, unsigned size, unsigned level)
{
    if (size < 2 || size > 3 || level > ct->ctx->max_level)
        return HNNRT_ERR_ARG;
    if (ct->data && ct->cap_parts >= size && ct->cap_limbs >= level + 1)
        return HNNRT_OK;
    const size_t n = ct->ctx->n;
    unsigned parts = size > ct->cap_parts ? size : ct->cap_parts;
    unsigned limbs = level + 1 > ct->cap_limbs ? level + 1 : ct->cap_limbs;
    /* Not zeroed: every operation writes the parts and limbs it produces
     * before anything reads them, and nothing reads beyond size and level. */
    uint64_t *d = hnnrt_mem_alloc_uninit(ct->ctx->counter, (size_t)parts * limbs * n * sizeof(uint64_t));
    if (!d)
        return HNNRT_ERR_ALLOC;
    if (ct->data) {
        unsigned keep_limbs = ct->level + 1 < ct->cap_limbs ? ct->level + 1 : ct->cap_limbs;
        for (unsigned p = 0; p < ct->size && p < ct->cap_parts; p++)
            memcpy(d + (size_t)p * limbs * n, ct->data + (size_t)p * ct->cap_limbs * n,
                   (size_t)keep_limbs * n * sizeof(uint64_t));
        hnnrt_mem_free(ct->ctx->counter, ct->data);
    }
    ct->data = d;
    ct->cap_parts = parts;
    ct->cap_limbs = limbs;
    return HNNRT_OK;
}

hnnrt_status
hnnrt_ct_reserve(hnnrt_ct *ct, unsigned size, unsigned level)
{
    if (!ct)
        return HNNRT_ERR_ARG;
    return hnnrt_ct_ensure(ct, size, level);
}

hnnrt_status
hnnrt_ct_copy(hnnrt_ct *out, const hnnrt_ct *in)
{
    if (!out || !in || !in->data)
        return HNNRT_ERR_ARG;
    if (out == in)
        return HNNRT_OK;
    if (out->ctx != in->ctx)
        return HNNRT_ERR_PARAMS_MISMATCH;
    hnnrt_status st = hnnrt_ct_ensure(out, in->size, in->level);
    if (st != HNNRT_OK)
        return st;
    for (unsigned p = 0; p < in->size; p++)
        memcpy(hnnrt_ct_part(out, p), hnnrt_ct_part(in, p), (size_t)(in->level + 1) * in->ctx->n * sizeof(uint64_t));
    out->size = in->size;
    out->level = in->level;
    out->scale = in->scale;
    return HNNRT_OK;
}

unsigned hnnrt_pt_level(const hnnrt_pt *pt) { return pt->level; }
double hnnrt_pt_scale(const hnnrt_pt *pt) { return pt->scale; }
unsigned hnnrt_ct_level(const hnnrt_ct *ct) { return ct->level; }
double hnnrt_ct_scale(const hnnrt_ct *ct) { return ct->scale; }
unsigned hnnrt_ct_size(const hnnrt_ct *ct) { return ct->size; }
void
hnnrt_ct_set_scale(hnnrt_ct *ct, double scale)
{
    if (scale > 0 && scale <= 1.7976931348623157e308)
        ct->scale = scale;
}
