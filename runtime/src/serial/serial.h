/*
 * Layer 9 — serialisation: every object to and from a self-describing,
 * checked, little-endian byte string (docs/serialization.md is the format).
 *
 *   header (24 bytes): "HNRT" | u16 version | u16 kind | u64 fingerprint | u64 body length
 *   body: the object's fields, each bounded and checked on reading.
 *
 * Residues mod a prime q of b bits are bit-packed at b bits each, limb by
 * limb, so a 40-bit prime costs 5 bytes per coefficient instead of 8.
 *
 * Readers never read past the length they were given, compute every size
 * from already-validated fields before allocating, and report the first
 * problem as SERIAL_* with a message "<object>: <what is wrong>".
 */
#ifndef HNNRT_SERIAL_H
#define HNNRT_SERIAL_H

#include "keys/keys.h"

#define HNNRT_SER_VERSION 1
#define HNNRT_SER_HEADER_BYTES 24

/* A writer over a buffer the caller sized with the matching _bytes function;
 * writing past cap is a bug in the size computation, caught by overflow. */
typedef struct hnnrt_ser_writer {
    uint8_t *buf;
    size_t cap, pos;
    int overflow;
} hnnrt_ser_writer;

/* A reader over the body of one object: [buf, buf + len), pos <= len always. */
typedef struct hnnrt_ser_reader {
    const uint8_t *buf;
    size_t len, pos;
    const char *what; /* "ciphertext", for messages */
    hnnrt_error *err; /* MAY be NULL */
} hnnrt_ser_reader;

/* Name of a kind for messages ("relinearisation key"); "unknown object" otherwise. */
const char *hnnrt_ser_kind_name(uint32_t kind);

/* The tail of every serialise entry point: *len = need; ARG when buf is
 * given and cap < need (buf NULL is the size query, any cap). */
hnnrt_status hnnrt_ser_check_out(uint8_t *buf, size_t cap, size_t *len, size_t need);

void hnnrt_ser_put_u8(hnnrt_ser_writer *w, uint8_t v);
void hnnrt_ser_put_u16(hnnrt_ser_writer *w, uint16_t v);
void hnnrt_ser_put_u32(hnnrt_ser_writer *w, uint32_t v);
void hnnrt_ser_put_u64(hnnrt_ser_writer *w, uint64_t v);
void hnnrt_ser_put_f64(hnnrt_ser_writer *w, double v);
void hnnrt_ser_put_bytes(hnnrt_ser_writer *w, const void *p, size_t n);
/* The header of an object whose body is body_len bytes. */
void hnnrt_ser_put_header(hnnrt_ser_writer *w, hnnrt_object_kind kind, uint64_t fingerprint, size_t body_len);

/*
 * Checks the header of buf[0, len) in this order: magic (MAGIC), length of
 * the header (TRUNCATED), version (VERSION), kind == want (MAGIC),
 * fingerprint == ctx's when ctx is given (FINGERPRINT), body length against
 * the bytes present (TRUNCATED when fewer, CORRUPT when more). On success r
 * covers exactly the body and *fingerprint (MAY be NULL) holds the header's.
 */
hnnrt_status hnnrt_ser_open(hnnrt_ser_reader *r, const uint8_t *buf, size_t len, hnnrt_object_kind want,
                            const hnnrt_context *ctx, uint64_t *fingerprint, hnnrt_error *err);
/* CORRUPT when bytes of the body remain unread. */
hnnrt_status hnnrt_ser_close(const hnnrt_ser_reader *r);

/* Each getter fails with TRUNCATED (naming field) when too few bytes remain,
 * and then leaves *v and the position unchanged. */
hnnrt_status hnnrt_ser_get_u32(hnnrt_ser_reader *r, uint32_t *v, const char *field);
hnnrt_status hnnrt_ser_get_u64(hnnrt_ser_reader *r, uint64_t *v, const char *field);
hnnrt_status hnnrt_ser_get_f64(hnnrt_ser_reader *r, double *v, const char *field);
hnnrt_status hnnrt_ser_get_bytes(hnnrt_ser_reader *r, void *p, size_t n, const char *field);
/* TRUNCATED when fewer than n bytes remain, CORRUPT when more than n remain:
 * the exact-size check readers make before allocating or unpacking. */
hnnrt_status hnnrt_ser_expect_rest(const hnnrt_ser_reader *r, size_t n, const char *field);
/* A failure at the reader's position: "<what>: <message>". Returns s. */
hnnrt_status hnnrt_ser_fail(const hnnrt_ser_reader *r, hnnrt_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Bytes of limbs 0..count-1 (primes in context order q0..qL, p0..) packed:
 * sum of n * bits(q_i) / 8. count MUST be <= ctx->n_primes. */
size_t hnnrt_ser_poly_bytes(const hnnrt_context *ctx, unsigned count);
/* Packs count limbs of n words (each MUST be < its prime). */
void hnnrt_ser_put_poly(hnnrt_ser_writer *w, const hnnrt_context *ctx, unsigned count, const uint64_t *limbs);
/*
 * Unpacks count limbs into out (MAY be NULL: check only), failing with
 * CORRUPT at the first residue not below its prime, named as
 * "<where> limb i (q_i) coefficient j = 0x.. is not below q_i = 0x..";
 * where MAY be "" . The caller MUST have checked that the bytes are present
 * (hnnrt_ser_expect_rest or the poly size); short input gives TRUNCATED.
 * On failure the position is unchanged and out is partly written.
 */
hnnrt_status hnnrt_ser_get_poly(hnnrt_ser_reader *r, const hnnrt_context *ctx, unsigned count, uint64_t *out,
                                const char *where);

/* Checked products for sizes computed from hostile fields: 0 on overflow. */
size_t hnnrt_ser_mul_size(size_t a, size_t b);

#endif
