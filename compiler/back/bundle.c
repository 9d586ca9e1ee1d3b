#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "back/bundle.h"

/* A bundle of a whole data set in batch packing is a few ciphertexts per
 * feature; 64 GiB is far beyond any, and keeps a hostile file from asking
 * for more. */
#define BUNDLE_MAX_BYTES ((size_t)1 << 36)
#define BUNDLE_VERSION 1

static int
bundle_fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
bundle_fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

const char *
hnn_bundle_stage_name(uint32_t stage)
{
    switch (stage) {
    case HNN_BUNDLE_INPUTS:
        return "inputs";
    case HNN_BUNDLE_OUTPUTS:
        return "outputs";
    case HNN_BUNDLE_REFRESH_REQUEST:
        return "refresh request";
    case HNN_BUNDLE_REFRESH_REPLY:
        return "refresh reply";
    default:
        return "unknown";
    }
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

struct hnn_bundle_writer {
    FILE *f;
    char *path, *tmp;
    size_t want, added;
    uint8_t *ser;
    size_t ser_cap;
    int failed;
};

int
hnn_bundle_writer_open(hnn_bundle_writer **out, const char *path, const hnn_bundle_header *h, char *err,
                       size_t err_len)
{
    *out = NULL;
    size_t n = (size_t)h->groups * h->per_group;
    if (n == 0)
        return bundle_fail(err, err_len, "%s: a bundle holds at least one ciphertext", path);
    uint8_t head[HNN_BUNDLE_HEADER_BYTES];
    memcpy(head, "HNNB", 4);
    put16(head + 4, BUNDLE_VERSION);
    put16(head + 6, (uint16_t)h->stage);
    put64(head + 8, h->fingerprint);
    put32(head + 16, h->groups);
    put32(head + 20, h->per_group);
    put64(head + 24, h->samples);
    put32(head + 32, h->group_samples);
    put32(head + 36, h->level);
    uint64_t bits;
    memcpy(&bits, &h->scale, sizeof bits);
    put64(head + 40, bits);

    hnn_bundle_writer *w = calloc(1, sizeof *w);
    size_t tlen = strlen(path) + 32;
    if (!w || !(w->path = strdup(path)) || !(w->tmp = malloc(tlen))) {
        hnn_bundle_writer_abort(w);
        return bundle_fail(err, err_len, "%s: out of memory", path);
    }
    /* The temporary is renamed over path only when complete, so a process
     * waiting for path (hnnc refresh, hnnc eval) never reads a part. */
    snprintf(w->tmp, tlen, "%s.tmp-%ld", path, (long)getpid());
    w->want = n;
    if (!(w->f = fopen(w->tmp, "wb"))) {
        int rc = bundle_fail(err, err_len, "%s: cannot write: %s", w->tmp, strerror(errno));
        hnn_bundle_writer_abort(w);
        return rc;
    }
    if (fwrite(head, 1, sizeof head, w->f) != sizeof head) {
        int rc = bundle_fail(err, err_len, "%s: cannot write: %s", w->tmp, strerror(errno));
        hnn_bundle_writer_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

int
hnn_bundle_writer_add(hnn_bundle_writer *w, const hnnrt_ct *ct, char *err, size_t err_len)
{
    if (w->added == w->want)
        return bundle_fail(err, err_len, "%s: more ciphertexts than the header announces", w->path);
    size_t need = 0;
    hnnrt_status st = hnnrt_ct_serialize(ct, NULL, 0, &need);
    if (need == 0)
        return bundle_fail(err, err_len, "%s: ciphertext %zu: %s", w->path, w->added, hnnrt_status_message(st));
    if (need > w->ser_cap) {
        uint8_t *g = realloc(w->ser, need);
        if (!g)
            return bundle_fail(err, err_len, "%s: out of memory", w->path);
        w->ser = g;
        w->ser_cap = need;
    }
    size_t got = 0;
    if ((st = hnnrt_ct_serialize(ct, w->ser, w->ser_cap, &got)) != HNNRT_OK)
        return bundle_fail(err, err_len, "%s: ciphertext %zu: %s", w->path, w->added, hnnrt_status_message(st));
    uint8_t lenb[8];
    put64(lenb, got);
    if (fwrite(lenb, 1, 8, w->f) != 8 || fwrite(w->ser, 1, got, w->f) != got)
        return bundle_fail(err, err_len, "%s: cannot write: %s", w->tmp, strerror(errno));
    w->added++;
    return 0;
}

int
hnn_bundle_writer_close(hnn_bundle_writer *w, char *err, size_t err_len)
{
    int rc = 0;
    if (w->added != w->want)
        rc = bundle_fail(err, err_len, "%s: %zu ciphertexts of the %zu announced", w->path, w->added, w->want);
    if (rc == 0 && fflush(w->f) != 0)
        rc = bundle_fail(err, err_len, "%s: cannot write: %s", w->tmp, strerror(errno));
    if (rc == 0 && fsync(fileno(w->f)) != 0)
        rc = bundle_fail(err, err_len, "%s: cannot write: %s", w->tmp, strerror(errno));
    if (fclose(w->f) != 0 && rc == 0)
        rc = bundle_fail(err, err_len, "%s: cannot write: %s", w->tmp, strerror(errno));
    w->f = NULL;
    if (rc == 0 && rename(w->tmp, w->path) != 0)
        rc = bundle_fail(err, err_len, "%s: cannot write: %s", w->path, strerror(errno));
    if (rc)
        remove(w->tmp);
    free(w->tmp);
    free(w->path);
    free(w->ser);
    free(w);
    return rc;
}

void
hnn_bundle_writer_abort(hnn_bundle_writer *w)
{
    if (!w)
        return;
    if (w->f) {
        fclose(w->f);
        remove(w->tmp);
    }
    free(w->tmp);
    free(w->path);
    free(w->ser);
    free(w);
}

int
hnn_bundle_write(const char *path, const hnn_bundle_header *h, hnnrt_ct *const *cts, char *err, size_t err_len)
{
    hnn_bundle_writer *w;
    if (hnn_bundle_writer_open(&w, path, h, err, err_len))
        return -1;
    size_t n = (size_t)h->groups * h->per_group;
    for (size_t i = 0; i < n; i++)
        if (hnn_bundle_writer_add(w, cts[i], err, err_len)) {
            hnn_bundle_writer_abort(w);
            return -1;
        }
    return hnn_bundle_writer_close(w, err, err_len);
}

int
hnn_bundle_parse(const uint8_t *buf, size_t len, hnn_bundle *b, char *err, size_t err_len)
{
    memset(b, 0, sizeof *b);
    if (len < 4 || memcmp(buf, "HNNB", 4) != 0)
        return bundle_fail(err, err_len, "not a ciphertext bundle (bad magic)");
    if (len < HNN_BUNDLE_HEADER_BYTES)
        return bundle_fail(err, err_len, "truncated: %zu bytes, the header alone takes %d", len,
                           HNN_BUNDLE_HEADER_BYTES);
    unsigned version = get16(buf + 4);
    if (version != BUNDLE_VERSION)
        return bundle_fail(err, err_len, "bundle version %u; this hnnc reads version %d", version, BUNDLE_VERSION);
    hnn_bundle_header *h = &b->h;
    h->stage = get16(buf + 6);
    h->fingerprint = get64(buf + 8);
    h->groups = get32(buf + 16);
    h->per_group = get32(buf + 20);
    h->samples = get64(buf + 24);
    h->group_samples = get32(buf + 32);
    h->level = get32(buf + 36);
    uint64_t bits = get64(buf + 40);
    memcpy(&h->scale, &bits, sizeof bits);
    if (h->stage < HNN_BUNDLE_INPUTS || h->stage > HNN_BUNDLE_REFRESH_REPLY)
        return bundle_fail(err, err_len, "unknown stage %u", h->stage);
    if (h->groups == 0 || h->per_group == 0)
        return bundle_fail(err, err_len, "corrupt header: %u groups of %u ciphertexts", h->groups, h->per_group);
    /* Every item takes at least its length and an hnnrt header (24 bytes):
     * the count is checked against the bytes present before anything is
     * allocated for it. */
    uint64_t n = (uint64_t)h->groups * h->per_group;
    if (n > (len - HNN_BUNDLE_HEADER_BYTES) / 32)
        return bundle_fail(err, err_len, "truncated: %llu ciphertexts announced in %zu bytes", (unsigned long long)n,
                           len);
    if (h->group_samples == 0 || h->samples == 0 || h->samples > (uint64_t)h->groups * h->group_samples ||
        h->samples <= (uint64_t)(h->groups - 1) * h->group_samples)
        return bundle_fail(err, err_len, "corrupt header: %llu samples in %u groups of %u",
                           (unsigned long long)h->samples, h->groups, h->group_samples);
    if (!isfinite(h->scale) || h->scale < 0)
        return bundle_fail(err, err_len, "corrupt header: scale %g", h->scale);
    b->off = malloc(n * sizeof *b->off);
    b->size = malloc(n * sizeof *b->size);
    if (!b->off || !b->size) {
        hnn_bundle_free(b);
        return bundle_fail(err, err_len, "out of memory");
    }
    size_t at = HNN_BUNDLE_HEADER_BYTES;
    for (size_t i = 0; i < n; i++) {
        if (len - at < 8) {
            hnn_bundle_free(b);
            return bundle_fail(err, err_len, "truncated: ciphertext %zu of %llu is missing", i, (unsigned long long)n);
        }
        uint64_t sz = get64(buf + at);
        at += 8;
        if (sz < 24 || sz > len - at) {
            hnn_bundle_free(b);
            return bundle_fail(err, err_len, "%s: ciphertext %zu announces %llu bytes, %zu remain",
                               sz < 24 ? "corrupt" : "truncated", i, (unsigned long long)sz, len - at);
        }
        b->off[i] = at;
        b->size[i] = (size_t)sz;
        at += (size_t)sz;
    }
    if (at != len) {
        hnn_bundle_free(b);
        return bundle_fail(err, err_len, "corrupt: %zu bytes after the last ciphertext", len - at);
    }
    b->buf = (uint8_t *)buf;
    b->len = len;
    b->n = (size_t)n;
    return 0;
}

int
hnn_bundle_read(const char *path, hnn_bundle *b, char *err, size_t err_len)
{
    memset(b, 0, sizeof *b);
    uint8_t *buf;
    size_t len;
    hnnrt_error e = {0};
    if (hnnrt_file_read(path, BUNDLE_MAX_BYTES, &buf, &len, &e) != HNNRT_OK)
        return bundle_fail(err, err_len, "%s", e.message[0] ? e.message : "cannot read");
    char why[256];
    if (hnn_bundle_parse(buf, len, b, why, sizeof why)) {
        hnnrt_file_buffer_free(buf, len);
        return bundle_fail(err, err_len, "%s: %s", path, why);
    }
    b->owned = 1;
    return 0;
}

int
hnn_bundle_ct(const hnn_bundle *b, size_t i, const hnnrt_context *ctx, hnnrt_ct *ct, char *err, size_t err_len)
{
    hnnrt_error e = {0};
    hnnrt_status st = hnnrt_ct_deserialize(ctx, ct, b->buf + b->off[i], b->size[i], &e);
    if (st != HNNRT_OK)
        snprintf(err, err_len, "ciphertext %zu: %s", i, e.message[0] ? e.message : hnnrt_status_message(st));
    return (int)st;
}

void
hnn_bundle_free(hnn_bundle *b)
{
    if (b->owned)
        hnnrt_file_buffer_free(b->buf, b->len);
    free(b->off);
    free(b->size);
    memset(b, 0, sizeof *b);
}
