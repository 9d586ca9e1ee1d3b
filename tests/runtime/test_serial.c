/*
 * Layer 9: serialisation. Every object kind round-trips and is used again
 * (decrypt, encrypt, relinearise, rotate) with the same results, and
 * re-serialises to the same bytes. Hostile bytes (truncated at every length,
 * bit-flipped headers and length fields, oversize counts, foreign kinds and
 * parameter sets, future versions, residues >= q, trailing garbage) are
 * refused with the expected status, a message, untouched outputs and no leak.
 * Every reader call gets an exactly-sized heap copy, so ASan sees any read
 * past the end. N = 2^10, primes 50, 40, 40 | 50 (dnum 3), insecure.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_test.h"

#include "serial/serial.h"

#define SCALE 0x1p40
#define N_KINDS 7
static const int steps[] = {1, 3, -2};
#define N_STEPS (sizeof steps / sizeof *steps)

typedef struct fixture {
    hnnrt_context *ctx, *other;
    hnnrt_keygen *kg;
    hnnrt_secret_key *sk;
    hnnrt_public_key *pk;
    hnnrt_relin_key *rk;
    hnnrt_galois_keys *gk;
    hnnrt_encoder *enc;
    hnnrt_encryptor *encr;
    hnnrt_decryptor *dec;
    hnnrt_evaluator *ev;
    hnnrt_pt *pt;  /* Encode(x) at the top level */
    hnnrt_ct *ct;  /* Enc(x) at the top level */
    hnnrt_ct *ct0; /* Enc(x) at level 0: small enough to cut at every length */
    size_t n, slots;
    double *x, *got, *want;
    long base; /* the context's own tables */
    long live;
    char dir[64];
} fixture;

/* ------------------------------------------------------------------ helpers */

/* The serialised bytes of obj, malloc'd. */
static uint8_t *
ser(hnnrt_object_kind kind, const void *obj, size_t *len)
{
    size_t need = 0, got = 0;
    RT_OK(hnnrt_serialize(kind, obj, NULL, 0, &need));
    assert_true(need >= HNNRT_SER_HEADER_BYTES);
    uint8_t *b = malloc(need);
    assert_non_null(b);
    RT_OK(hnnrt_serialize(kind, obj, b, need, &got));
    assert_int_equal(got, need);
    *len = need;
    return b;
}

static const void *
fixture_obj(const fixture *f, hnnrt_object_kind kind)
{
    switch (kind) {
    case HNNRT_KIND_PARAMS:
        return f->ctx;
    case HNNRT_KIND_SECRET_KEY:
        return f->sk;
    case HNNRT_KIND_PUBLIC_KEY:
        return f->pk;
    case HNNRT_KIND_RELIN_KEY:
        return f->rk;
    case HNNRT_KIND_GALOIS_KEYS:
        return f->gk;
    case HNNRT_KIND_PLAINTEXT:
        return f->pt;
    case HNNRT_KIND_CIPHERTEXT:
        return f->ct;
    }
    return NULL;
}

/*
 * Deserialises b as kind into ctx and frees the result. On failure, pointer
 * outputs still hold their sentinel. Parameter sets are read with the
 * insecure flag.
 */
static hnnrt_status
deser(const hnnrt_context *ctx, hnnrt_object_kind kind, const uint8_t *b, size_t len, hnnrt_error *err)
{
    static int sentinel;
    hnnrt_status st = HNNRT_ERR_ARG;
    switch (kind) {
    case HNNRT_KIND_PARAMS: {
        hnnrt_context *out = (hnnrt_context *)&sentinel;
        st = hnnrt_params_deserialize(&out, b, len, HNNRT_PARAMS_INSECURE_TESTS_ONLY, err);
        if (st == HNNRT_OK)
            hnnrt_context_free(out);
        else
            assert_ptr_equal(out, &sentinel);
        break;
    }
    case HNNRT_KIND_SECRET_KEY: {
        hnnrt_secret_key *out = (hnnrt_secret_key *)&sentinel;
        st = hnnrt_secret_key_deserialize(ctx, &out, b, len, err);
        if (st == HNNRT_OK)
            hnnrt_secret_key_free(out);
        else
            assert_ptr_equal(out, &sentinel);
        break;
    }
    case HNNRT_KIND_PUBLIC_KEY: {
        hnnrt_public_key *out = (hnnrt_public_key *)&sentinel;
        st = hnnrt_public_key_deserialize(ctx, &out, b, len, err);
        if (st == HNNRT_OK)
            hnnrt_public_key_free(out);
        else
            assert_ptr_equal(out, &sentinel);
        break;
    }
    case HNNRT_KIND_RELIN_KEY: {
        hnnrt_relin_key *out = (hnnrt_relin_key *)&sentinel;
        st = hnnrt_relin_key_deserialize(ctx, &out, b, len, err);
        if (st == HNNRT_OK)
            hnnrt_relin_key_free(out);
        else
            assert_ptr_equal(out, &sentinel);
        break;
    }
    case HNNRT_KIND_GALOIS_KEYS: {
        hnnrt_galois_keys *out = (hnnrt_galois_keys *)&sentinel;
        st = hnnrt_galois_keys_deserialize(ctx, &out, b, len, err);
        if (st == HNNRT_OK)
            hnnrt_galois_keys_free(out);
        else
            assert_ptr_equal(out, &sentinel);
        break;
    }
    case HNNRT_KIND_PLAINTEXT: {
        hnnrt_pt *pt;
        RT_OK(hnnrt_pt_new(ctx, &pt));
        st = hnnrt_pt_deserialize(ctx, pt, b, len, err);
        hnnrt_pt_free(pt);
        break;
    }
    case HNNRT_KIND_CIPHERTEXT: {
        hnnrt_ct *ct;
        RT_OK(hnnrt_ct_new(ctx, &ct));
        st = hnnrt_ct_deserialize(ctx, ct, b, len, err);
        hnnrt_ct_free(ct);
        break;
    }
    }
    return st;
}

static void
put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Flags for expect(). */
#define FIX_LEN 1u /* rewrite the header's body length to match len */

/*
 * Reads b[0, len) (an exact heap copy) as kind into ctx and checks the status,
 * that err names it, that its message contains needle (MAY be NULL), and that
 * ctx holds as many allocations as before.
 */
static void
expect(const hnnrt_context *ctx, hnnrt_object_kind kind, const uint8_t *b, size_t len, unsigned flags,
       hnnrt_status want, const char *needle)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, b, len);
    if ((flags & FIX_LEN) && len >= HNNRT_SER_HEADER_BYTES)
        put_le(copy + 16, len - HNNRT_SER_HEADER_BYTES, 8);
    long live = hnnrt_context_live_allocations(ctx);
    hnnrt_error err = {HNNRT_OK, ""};
    hnnrt_status st = deser(ctx, kind, copy, len, &err);
    free(copy);
    if (st != want)
        fail_msg("%s, %zu bytes: got %s (%s), want %s", hnnrt_ser_kind_name(kind), len, hnnrt_status_name(st),
                 err.message, hnnrt_status_name(want));
    if (want != HNNRT_OK) {
        assert_int_equal(err.status, want);
        assert_true(strlen(err.message) > 0);
        if (needle && !strstr(err.message, needle))
            fail_msg("message \"%s\" does not mention \"%s\"", err.message, needle);
    }
    if (hnnrt_context_live_allocations(ctx) != live)
        fail_msg("%s, %zu bytes: %ld allocations leaked", hnnrt_ser_kind_name(kind), len,
                 hnnrt_context_live_allocations(ctx) - live);
}

static unsigned
prime_bits(const hnnrt_context *ctx, unsigned i)
{
    uint64_t q = hnnrt_context_prime(ctx, i);
    unsigned b = 0;
    while (q >> b)
        b++;
    return b;
}

/* Byte size of limbs 0..count-1, from the format's definition. */
static size_t
poly_bytes(const hnnrt_context *ctx, unsigned count)
{
    size_t s = 0;
    for (unsigned i = 0; i < count; i++)
        s += ((size_t)1 << hnnrt_context_log_n(ctx)) * prime_bits(ctx, i) / 8;
    return s;
}

/* Writes v into bits [bit, bit + width) of a little-endian bit string. */
static void
put_bits(uint8_t *p, size_t bit, unsigned width, uint64_t v)
{
    for (unsigned k = 0; k < width; k++) {
        size_t at = bit + k;
        if ((v >> k) & 1)
            p[at / 8] |= (uint8_t)(1u << (at % 8));
        else
            p[at / 8] &= (uint8_t)~(1u << (at % 8));
    }
}

/* Bit offset of coefficient j of limb i in a packed polynomial starting at byte poly_at. */
static size_t
coeff_bit(const hnnrt_context *ctx, size_t poly_at, unsigned i, size_t j)
{
    return 8 * (poly_at + poly_bytes(ctx, i)) + j * prime_bits(ctx, i);
}

static void
decrypt_decode(fixture *f, const hnnrt_decryptor *dec, const hnnrt_ct *ct, double *out)
{
    hnnrt_pt *pt;
    RT_OK(hnnrt_pt_new(f->ctx, &pt));
    RT_OK(hnnrt_decrypt((hnnrt_decryptor *)dec, pt, ct));
    RT_OK(hnnrt_decode(f->enc, pt, out, f->slots));
    hnnrt_pt_free(pt);
}

static void
assert_same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
}

/* Entries of dir other than . and .. */
static int
dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            count++;
    closedir(d);
    return count;
}

/* ------------------------------------------------------------------ fixture */

static int
setup(void **state)
{
    static const uint8_t seed[32] = {7};
    fixture *f = calloc(1, sizeof *f);
    f->ctx = rt_context(rt_spec(10, 3, 50, 40, 1, 50));
    f->other = rt_context(rt_spec(10, 3, 50, 40, 1, 45));
    f->base = hnnrt_context_live_allocations(f->ctx);
    if (hnnrt_keygen_new_seeded_insecure(f->ctx, seed, &f->kg) || hnnrt_keygen_secret(f->kg, 0, &f->sk) ||
        hnnrt_keygen_public(f->kg, f->sk, &f->pk) || hnnrt_keygen_relin(f->kg, f->sk, &f->rk) ||
        hnnrt_keygen_galois(f->kg, f->sk, steps, N_STEPS, 1, &f->gk) || hnnrt_encoder_new(f->ctx, &f->enc) ||
        hnnrt_encryptor_new_seeded_insecure(f->ctx, f->pk, NULL, seed, &f->encr) ||
        hnnrt_decryptor_new(f->ctx, f->sk, &f->dec) || hnnrt_evaluator_new(f->ctx, f->rk, f->gk, &f->ev) ||
        hnnrt_pt_new(f->ctx, &f->pt) || hnnrt_ct_new(f->ctx, &f->ct) || hnnrt_ct_new(f->ctx, &f->ct0))
        return -1;
    f->n = (size_t)1 << hnnrt_context_log_n(f->ctx);
    f->slots = hnnrt_context_slots(f->ctx);
    f->x = malloc(f->slots * sizeof *f->x);
    f->got = malloc(f->slots * sizeof *f->got);
    f->want = malloc(f->slots * sizeof *f->want);
    rt_rng r = {90};
    for (size_t i = 0; i < f->slots; i++)
        f->x[i] = rt_unit(&r);
    hnnrt_pt *p0;
    if (hnnrt_encode(f->enc, f->pt, f->x, f->slots, SCALE, 2) || hnnrt_encrypt(f->encr, f->ct, f->pt) ||
        hnnrt_pt_new(f->ctx, &p0) || hnnrt_encode(f->enc, p0, f->x, f->slots, 0x1p30, 0) ||
        hnnrt_encrypt(f->encr, f->ct0, p0))
        return -1;
    hnnrt_pt_free(p0);
    snprintf(f->dir, sizeof f->dir, "/tmp/hnnrt-serial-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(f->dir);
    hnnrt_ct_free(f->ct);
    hnnrt_ct_free(f->ct0);
    hnnrt_pt_free(f->pt);
    hnnrt_evaluator_free(f->ev);
    hnnrt_decryptor_free(f->dec);
    hnnrt_encryptor_free(f->encr);
    hnnrt_encoder_free(f->enc);
    hnnrt_galois_keys_free(f->gk);
    hnnrt_relin_key_free(f->rk);
    hnnrt_public_key_free(f->pk);
    hnnrt_secret_key_free(f->sk);
    hnnrt_keygen_free(f->kg);
    assert_int_equal(hnnrt_context_live_allocations(f->ctx), f->base);
    hnnrt_context_free(f->ctx);
    hnnrt_context_free(f->other);
    free(f->x);
    free(f->got);
    free(f->want);
    free(f);
    return 0;
}

/* Each case leaves the context holding exactly what it held before. */
static int
case_setup(void **state)
{
    fixture *f = *state;
    f->live = hnnrt_context_live_allocations(f->ctx);
    return 0;
}

static int
case_teardown(void **state)
{
    fixture *f = *state;
    long now = hnnrt_context_live_allocations(f->ctx);
    if (now != f->live) {
        print_error("%ld allocations leaked\n", now - f->live);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ round trips */

static void
ct_roundtrip_decrypts_the_same(void **state)
{
    fixture *f = *state;
    size_t len, len2;
    uint8_t *b = ser(HNNRT_KIND_CIPHERTEXT, f->ct, &len);
    assert_int_equal(len, HNNRT_SER_HEADER_BYTES + 16 + 2 * poly_bytes(f->ctx, 3));
    hnnrt_ct *back;
    hnnrt_error err;
    RT_OK(hnnrt_ct_new(f->ctx, &back));
    RT_OK(hnnrt_ct_deserialize(f->ctx, back, b, len, &err));
    assert_int_equal(hnnrt_ct_level(back), 2);
    assert_int_equal(hnnrt_ct_size(back), 2);
    assert_true(hnnrt_ct_scale(back) == hnnrt_ct_scale(f->ct));
    decrypt_decode(f, f->dec, f->ct, f->want);
    decrypt_decode(f, f->dec, back, f->got);
    assert_memory_equal(f->want, f->got, f->slots * sizeof *f->got);
    RT_ASSERT_ERR("ct round trip vs x", rt_max_err(f->got, f->x, f->slots), -25);
    uint8_t *b2 = ser(HNNRT_KIND_CIPHERTEXT, back, &len2);
    assert_same_bytes(b, len, b2, len2);
    hnnrt_ct_free(back);
    free(b);
    free(b2);
}

static void
ct_three_parts_and_lower_levels(void **state)
{
    fixture *f = *state;
    hnnrt_ct *sq, *back, *relin_a, *relin_b;
    hnnrt_error err;
    RT_OK(hnnrt_ct_new(f->ctx, &sq));
    RT_OK(hnnrt_ct_new(f->ctx, &back));
    RT_OK(hnnrt_ct_new(f->ctx, &relin_a));
    RT_OK(hnnrt_ct_new(f->ctx, &relin_b));
    RT_OK(hnnrt_eval_mul_ct(f->ev, sq, f->ct, f->ct));
    assert_int_equal(hnnrt_ct_size(sq), 3);
    size_t len, len2;
    uint8_t *b = ser(HNNRT_KIND_CIPHERTEXT, sq, &len);
    RT_OK(hnnrt_ct_deserialize(f->ctx, back, b, len, &err));
    assert_int_equal(hnnrt_ct_size(back), 3);
    decrypt_decode(f, f->dec, back, f->got);
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = f->x[i] * f->x[i];
    RT_ASSERT_ERR("3-part ct after round trip", rt_max_err(f->got, f->want, f->slots), -20);
    /* Relinearised and rescaled from the copy: the same bytes as from the original. */
    RT_OK(hnnrt_eval_relin(f->ev, relin_a, sq));
    RT_OK(hnnrt_eval_relin(f->ev, relin_b, back));
    RT_OK(hnnrt_eval_rescale(f->ev, relin_a, relin_a));
    RT_OK(hnnrt_eval_rescale(f->ev, relin_b, relin_b));
    free(b);
    b = ser(HNNRT_KIND_CIPHERTEXT, relin_a, &len);
    uint8_t *b2 = ser(HNNRT_KIND_CIPHERTEXT, relin_b, &len2);
    assert_same_bytes(b, len, b2, len2);
    /* A level-1 ciphertext: two limbs per part. */
    assert_int_equal(len, HNNRT_SER_HEADER_BYTES + 16 + 2 * poly_bytes(f->ctx, 2));
    RT_OK(hnnrt_ct_deserialize(f->ctx, back, b, len, &err));
    assert_int_equal(hnnrt_ct_level(back), 1);
    decrypt_decode(f, f->dec, back, f->got);
    RT_ASSERT_ERR("rescaled ct after round trip", rt_max_err(f->got, f->want, f->slots), -20);
    free(b);
    free(b2);
    hnnrt_ct_free(sq);
    hnnrt_ct_free(back);
    hnnrt_ct_free(relin_a);
    hnnrt_ct_free(relin_b);
}

static void
pt_roundtrip_decodes_the_same(void **state)
{
    fixture *f = *state;
    size_t len, len2;
    uint8_t *b = ser(HNNRT_KIND_PLAINTEXT, f->pt, &len);
    assert_int_equal(len, HNNRT_SER_HEADER_BYTES + 12 + poly_bytes(f->ctx, 3));
    hnnrt_pt *back;
    hnnrt_error err;
    RT_OK(hnnrt_pt_new(f->ctx, &back));
    RT_OK(hnnrt_pt_deserialize(f->ctx, back, b, len, &err));
    assert_true(hnnrt_pt_scale(back) == SCALE);
    assert_int_equal(hnnrt_pt_level(back), 2);
    RT_OK(hnnrt_decode(f->enc, back, f->got, f->slots));
    RT_OK(hnnrt_decode(f->enc, f->pt, f->want, f->slots));
    assert_memory_equal(f->got, f->want, f->slots * sizeof *f->got);
    RT_ASSERT_ERR("pt round trip vs x", rt_max_err(f->got, f->x, f->slots), -30);
    uint8_t *b2 = ser(HNNRT_KIND_PLAINTEXT, back, &len2);
    assert_same_bytes(b, len, b2, len2);
    hnnrt_pt_free(back);
    free(b);
    free(b2);
}

static void
secret_key_roundtrip_decrypts(void **state)
{
    fixture *f = *state;
    size_t len, len2;
    uint8_t *b = ser(HNNRT_KIND_SECRET_KEY, f->sk, &len);
    assert_int_equal(len, HNNRT_SER_HEADER_BYTES + 4 + f->n / 4);
    hnnrt_secret_key *sk;
    hnnrt_decryptor *dec;
    hnnrt_error err;
    RT_OK(hnnrt_secret_key_deserialize(f->ctx, &sk, b, len, &err));
    assert_memory_equal(sk->coeffs, f->sk->coeffs, f->n * sizeof *sk->coeffs);
    assert_memory_equal(sk->ntt, f->sk->ntt, (4 * f->n) * sizeof *sk->ntt);
    RT_OK(hnnrt_decryptor_new(f->ctx, sk, &dec));
    decrypt_decode(f, dec, f->ct, f->got);
    RT_ASSERT_ERR("decrypt with the read key", rt_max_err(f->got, f->x, f->slots), -25);
    uint8_t *b2 = ser(HNNRT_KIND_SECRET_KEY, sk, &len2);
    assert_same_bytes(b, len, b2, len2);
    hnnrt_decryptor_free(dec);
    hnnrt_secret_key_free(sk);
    free(b);
    free(b2);
}

static void
sparse_secret_key_keeps_its_weight(void **state)
{
    fixture *f = *state;
    hnnrt_secret_key *sparse, *back;
    hnnrt_error err;
    RT_OK(hnnrt_keygen_secret(f->kg, 64, &sparse));
    size_t len;
    uint8_t *b = ser(HNNRT_KIND_SECRET_KEY, sparse, &len);
    RT_OK(hnnrt_secret_key_deserialize(f->ctx, &back, b, len, &err));
    assert_int_equal(back->hamming_weight, 64);
    assert_memory_equal(back->coeffs, sparse->coeffs, f->n * sizeof *back->coeffs);
    /* One more non-zero coefficient contradicts the weight. */
    size_t j = 0;
    while (sparse->coeffs[j] != 0)
        j++;
    uint8_t *bad = malloc(len);
    memcpy(bad, b, len);
    put_bits(bad + 28, 2 * j, 2, 1);
    expect(f->ctx, HNNRT_KIND_SECRET_KEY, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "Hamming weight says 64");
    free(bad);
    hnnrt_secret_key_free(back);
    hnnrt_secret_key_free(sparse);
    free(b);
}

static void
public_key_roundtrip_encrypts(void **state)
{
    fixture *f = *state;
    static const uint8_t seed[32] = {9};
    size_t len, len2;
    uint8_t *b = ser(HNNRT_KIND_PUBLIC_KEY, f->pk, &len);
    /* The seed stands for a: b alone, bit-packed, less than half the key in memory. */
    assert_int_equal(len, HNNRT_SER_HEADER_BYTES + 32 + poly_bytes(f->ctx, 4));
    assert_true(len < 2 * 4 * f->n * sizeof(uint64_t) / 2);
    hnnrt_public_key *pk;
    hnnrt_encryptor *encr;
    hnnrt_ct *ct;
    hnnrt_error err;
    RT_OK(hnnrt_public_key_deserialize(f->ctx, &pk, b, len, &err));
    assert_memory_equal(pk->a, f->pk->a, 4 * f->n * sizeof *pk->a);
    assert_memory_equal(pk->b, f->pk->b, 4 * f->n * sizeof *pk->b);
    RT_OK(hnnrt_encryptor_new_seeded_insecure(f->ctx, pk, NULL, seed, &encr));
    RT_OK(hnnrt_ct_new(f->ctx, &ct));
    RT_OK(hnnrt_encrypt(encr, ct, f->pt));
    decrypt_decode(f, f->dec, ct, f->got);
    RT_ASSERT_ERR("encrypt with the read key", rt_max_err(f->got, f->x, f->slots), -25);
    uint8_t *b2 = ser(HNNRT_KIND_PUBLIC_KEY, pk, &len2);
    assert_same_bytes(b, len, b2, len2);
    hnnrt_ct_free(ct);
    hnnrt_encryptor_free(encr);
    hnnrt_public_key_free(pk);
    free(b);
    free(b2);
}

static void
relin_key_roundtrip_relinearises_identically(void **state)
{
    fixture *f = *state;
    size_t len, la, lb;
    uint8_t *b = ser(HNNRT_KIND_RELIN_KEY, f->rk, &len);
    assert_int_equal(len, HNNRT_SER_HEADER_BYTES + 32 + 3 * poly_bytes(f->ctx, 4));
    assert_true(len < hnnrt_relin_key_bytes(f->rk) / 2);
    hnnrt_relin_key *rk;
    hnnrt_evaluator *ev;
    hnnrt_ct *ca, *cb;
    hnnrt_error err;
    RT_OK(hnnrt_relin_key_deserialize(f->ctx, &rk, b, len, &err));
    RT_OK(hnnrt_evaluator_new(f->ctx, rk, NULL, &ev));
    RT_OK(hnnrt_ct_new(f->ctx, &ca));
    RT_OK(hnnrt_ct_new(f->ctx, &cb));
    RT_OK(hnnrt_eval_mul_relin(f->ev, ca, f->ct, f->ct));
    RT_OK(hnnrt_eval_mul_relin(ev, cb, f->ct, f->ct));
    uint8_t *ba = ser(HNNRT_KIND_CIPHERTEXT, ca, &la), *bb = ser(HNNRT_KIND_CIPHERTEXT, cb, &lb);
    assert_same_bytes(ba, la, bb, lb);
    decrypt_decode(f, f->dec, cb, f->got);
    for (size_t i = 0; i < f->slots; i++)
        f->want[i] = f->x[i] * f->x[i];
    RT_ASSERT_ERR("mul_relin with the read key", rt_max_err(f->got, f->want, f->slots), -20);
    uint8_t *b2 = ser(HNNRT_KIND_RELIN_KEY, rk, &lb);
    assert_same_bytes(b, len, b2, lb);
    free(ba);
    free(bb);
    free(b2);
    hnnrt_ct_free(ca);
    hnnrt_ct_free(cb);
    hnnrt_evaluator_free(ev);
    hnnrt_relin_key_free(rk);
    free(b);
}

static void
galois_keys_roundtrip_rotate_identically(void **state)
{
    fixture *f = *state;
    size_t len, la, lb;
    uint8_t *b = ser(HNNRT_KIND_GALOIS_KEYS, f->gk, &len);
    assert_int_equal(len, HNNRT_SER_HEADER_BYTES + 4 + 4 * (8 + 32 + 3 * poly_bytes(f->ctx, 4)));
    hnnrt_galois_keys *gk;
    hnnrt_evaluator *ev;
    hnnrt_ct *ca, *cb;
    hnnrt_error err;
    RT_OK(hnnrt_galois_keys_deserialize(f->ctx, &gk, b, len, &err));
    assert_int_equal(hnnrt_galois_keys_count(gk), N_STEPS + 1);
    assert_true(hnnrt_galois_keys_has(gk, hnnrt_galois_element_conjugate(f->ctx)));
    RT_OK(hnnrt_evaluator_new(f->ctx, NULL, gk, &ev));
    RT_OK(hnnrt_ct_new(f->ctx, &ca));
    RT_OK(hnnrt_ct_new(f->ctx, &cb));
    for (size_t s = 0; s < N_STEPS; s++) {
        RT_OK(hnnrt_eval_rotate(f->ev, ca, f->ct, steps[s]));
        RT_OK(hnnrt_eval_rotate(ev, cb, f->ct, steps[s]));
        uint8_t *ba = ser(HNNRT_KIND_CIPHERTEXT, ca, &la), *bb = ser(HNNRT_KIND_CIPHERTEXT, cb, &lb);
        assert_same_bytes(ba, la, bb, lb);
        free(ba);
        free(bb);
        decrypt_decode(f, f->dec, cb, f->got);
        for (size_t i = 0; i < f->slots; i++)
            f->want[i] = f->x[(i + f->slots + (size_t)(long)steps[s]) % f->slots];
        RT_ASSERT_ERR("rotation with the read keys", rt_max_err(f->got, f->want, f->slots), -20);
    }
    RT_OK(hnnrt_eval_conjugate(ev, cb, f->ct));
    decrypt_decode(f, f->dec, cb, f->got);
    RT_ASSERT_ERR("conjugation with the read keys", rt_max_err(f->got, f->x, f->slots), -20);
    uint8_t *b2 = ser(HNNRT_KIND_GALOIS_KEYS, gk, &lb);
    assert_same_bytes(b, len, b2, lb);
    free(b2);
    hnnrt_ct_free(ca);
    hnnrt_ct_free(cb);
    hnnrt_evaluator_free(ev);
    hnnrt_galois_keys_free(gk);
    free(b);
}

static void
galois_keys_empty_set(void **state)
{
    fixture *f = *state;
    hnnrt_galois_keys *empty, *back;
    hnnrt_error err;
    RT_OK(hnnrt_keygen_galois(f->kg, f->sk, NULL, 0, 0, &empty));
    size_t len;
    uint8_t *b = ser(HNNRT_KIND_GALOIS_KEYS, empty, &len);
    assert_int_equal(len, HNNRT_SER_HEADER_BYTES + 4);
    RT_OK(hnnrt_galois_keys_deserialize(f->ctx, &back, b, len, &err));
    assert_int_equal(hnnrt_galois_keys_count(back), 0);
    hnnrt_galois_keys_free(back);
    hnnrt_galois_keys_free(empty);
    free(b);
}

static void
params_roundtrip_rebuilds_the_context(void **state)
{
    fixture *f = *state;
    size_t len, len2;
    uint8_t *b = ser(HNNRT_KIND_PARAMS, f->ctx, &len);
    assert_int_equal(len, HNNRT_SER_HEADER_BYTES + 20 + 4 * 9);
    hnnrt_context *ctx2;
    hnnrt_error err;
    RT_OK(hnnrt_params_deserialize(&ctx2, b, len, HNNRT_PARAMS_INSECURE_TESTS_ONLY, &err));
    const long base2 = hnnrt_context_live_allocations(ctx2);
    assert_true(hnnrt_context_fingerprint(ctx2) == hnnrt_context_fingerprint(f->ctx));
    for (unsigned i = 0; i < 4; i++)
        assert_true(hnnrt_context_prime(ctx2, i) == hnnrt_context_prime(f->ctx, i));
    assert_int_equal(hnnrt_context_dnum(ctx2), hnnrt_context_dnum(f->ctx));
    uint8_t *b2 = ser(HNNRT_KIND_PARAMS, ctx2, &len2);
    assert_same_bytes(b, len, b2, len2);
    /* Objects of the first context live in the rebuilt one. */
    size_t lsk, lct;
    uint8_t *bsk = ser(HNNRT_KIND_SECRET_KEY, f->sk, &lsk), *bct = ser(HNNRT_KIND_CIPHERTEXT, f->ct, &lct);
    hnnrt_secret_key *sk;
    hnnrt_decryptor *dec;
    hnnrt_encoder *enc;
    hnnrt_ct *ct;
    hnnrt_pt *pt;
    RT_OK(hnnrt_secret_key_deserialize(ctx2, &sk, bsk, lsk, &err));
    RT_OK(hnnrt_ct_new(ctx2, &ct));
    RT_OK(hnnrt_ct_deserialize(ctx2, ct, bct, lct, &err));
    RT_OK(hnnrt_decryptor_new(ctx2, sk, &dec));
    RT_OK(hnnrt_encoder_new(ctx2, &enc));
    RT_OK(hnnrt_pt_new(ctx2, &pt));
    RT_OK(hnnrt_decrypt(dec, pt, ct));
    RT_OK(hnnrt_decode(enc, pt, f->got, f->slots));
    RT_ASSERT_ERR("decrypt in the rebuilt context", rt_max_err(f->got, f->x, f->slots), -25);
    hnnrt_pt_free(pt);
    hnnrt_encoder_free(enc);
    hnnrt_decryptor_free(dec);
    hnnrt_ct_free(ct);
    hnnrt_secret_key_free(sk);
    assert_int_equal(hnnrt_context_live_allocations(ctx2), base2);
    hnnrt_context_free(ctx2);
    free(b);
    free(b2);
    free(bsk);
    free(bct);
}

static void
params_security_is_checked_again(void **state)
{
    fixture *f = *state;
    size_t len;
    hnnrt_context *ctx2 = NULL;
    hnnrt_error err;
    /* An insecure set needs the flag again when read. */
    uint8_t *b = ser(HNNRT_KIND_PARAMS, f->ctx, &len);
    assert_int_equal(hnnrt_params_deserialize(&ctx2, b, len, 0, &err), HNNRT_ERR_PARAMS_INSECURE);
    assert_null(ctx2);
    assert_non_null(strstr(err.message, "HE Standard"));
    free(b);
    /* A secure one is read without it and stays secure. */
    hnnrt_params_spec spec = rt_spec(12, 2, 35, 30, 1, 40);
    hnnrt_context *secure;
    RT_OK(hnnrt_context_new(&secure, &spec, 0, &err));
    b = ser(HNNRT_KIND_PARAMS, secure, &len);
    RT_OK(hnnrt_params_deserialize(&ctx2, b, len, 0, &err));
    assert_int_equal(hnnrt_context_security(ctx2), HNNRT_SECURITY_128);
    assert_true(hnnrt_context_fingerprint(ctx2) == hnnrt_context_fingerprint(secure));
    hnnrt_context_free(ctx2);
    hnnrt_context_free(secure);
    free(b);
}

/* ------------------------------------------------------------------ the byte-level API */

static void
api_size_query_and_small_buffers(void **state)
{
    fixture *f = *state;
    for (hnnrt_object_kind k = 1; k <= N_KINDS; k++) {
        const void *obj = fixture_obj(f, k);
        size_t need = 0, len = 0;
        RT_OK(hnnrt_serialize(k, obj, NULL, 0, &need));
        RT_OK(hnnrt_serialize(k, obj, NULL, 12345, &len));
        assert_int_equal(len, need);
        /* One byte short: ARG, the need reported, the buffer untouched. */
        uint8_t *buf = malloc(need + 16);
        memset(buf, 0xa5, need + 16);
        len = 0;
        assert_int_equal(hnnrt_serialize(k, obj, buf, need - 1, &len), HNNRT_ERR_ARG);
        assert_int_equal(len, need);
        for (size_t i = 0; i < need + 16; i++)
            assert_int_equal(buf[i], 0xa5);
        /* Room to spare: exactly need bytes written. */
        RT_OK(hnnrt_serialize(k, obj, buf, need + 16, &len));
        assert_int_equal(len, need);
        for (size_t i = need; i < need + 16; i++)
            assert_int_equal(buf[i], 0xa5);
        assert_memory_equal(buf, "HNRT", 4);
        assert_int_equal(buf[6], k);
        assert_int_equal(hnnrt_serialize(k, NULL, buf, need, &len), HNNRT_ERR_ARG);
        assert_int_equal(hnnrt_serialize(k, obj, buf, need, NULL), HNNRT_ERR_ARG);
        free(buf);
    }
}

static void
api_empty_and_mismatched_objects(void **state)
{
    fixture *f = *state;
    hnnrt_ct *empty_ct, *foreign;
    hnnrt_pt *empty_pt;
    size_t len;
    hnnrt_error err;
    RT_OK(hnnrt_ct_new(f->ctx, &empty_ct));
    RT_OK(hnnrt_pt_new(f->ctx, &empty_pt));
    RT_OK(hnnrt_ct_new(f->other, &foreign));
    assert_int_equal(hnnrt_ct_serialize(empty_ct, NULL, 0, &len), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_pt_serialize(empty_pt, NULL, 0, &len), HNNRT_ERR_ARG);
    /* A scale the reader would refuse cannot be set, so it is never written. */
    RT_OK(hnnrt_ct_copy(empty_ct, f->ct));
    hnnrt_ct_set_scale(empty_ct, NAN);
    hnnrt_ct_set_scale(empty_ct, -1.0);
    assert_true(hnnrt_ct_scale(empty_ct) == hnnrt_ct_scale(f->ct));
    uint8_t *b = ser(HNNRT_KIND_CIPHERTEXT, f->ct, &len);
    assert_int_equal(hnnrt_ct_deserialize(f->ctx, foreign, b, len, &err), HNNRT_ERR_PARAMS_MISMATCH);
    assert_int_equal(hnnrt_ct_deserialize(f->ctx, NULL, b, len, &err), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_ct_deserialize(f->ctx, empty_ct, NULL, len, &err), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_ct_deserialize(f->ctx, empty_ct, NULL, 0, &err), HNNRT_ERR_SERIAL_TRUNCATED);
    hnnrt_secret_key *sk = NULL;
    assert_int_equal(hnnrt_secret_key_deserialize(NULL, &sk, b, len, &err), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_params_deserialize(NULL, b, len, 0, &err), HNNRT_ERR_ARG);
    /* err may be NULL. */
    assert_int_equal(hnnrt_public_key_deserialize(f->ctx, &(hnnrt_public_key *){NULL}, b, len, NULL),
                     HNNRT_ERR_SERIAL_MAGIC);
    free(b);
    hnnrt_ct_free(empty_ct);
    hnnrt_pt_free(empty_pt);
    hnnrt_ct_free(foreign);
}

/* ------------------------------------------------------------------ headers */

static void
header_wrong_kind_is_magic(void **state)
{
    fixture *f = *state;
    for (hnnrt_object_kind k = 1; k <= N_KINDS; k++) {
        size_t len;
        uint8_t *b = ser(k, fixture_obj(f, k), &len);
        for (hnnrt_object_kind r = 1; r <= N_KINDS; r++)
            expect(f->ctx, r, b, len, 0, r == k ? HNNRT_OK : HNNRT_ERR_SERIAL_MAGIC,
                   r == k ? NULL : hnnrt_ser_kind_name(k));
        /* An unknown kind. */
        put_le(b + 6, 42, 2);
        expect(f->ctx, k, b, len, 0, HNNRT_ERR_SERIAL_MAGIC, "kind 42");
        free(b);
    }
}

static void
header_foreign_magic_short_and_empty(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *b = ser(HNNRT_KIND_CIPHERTEXT, f->ct, &len);
    b[0] = 'X';
    expect(f->ctx, HNNRT_KIND_CIPHERTEXT, b, len, 0, HNNRT_ERR_SERIAL_MAGIC, "HNRT");
    expect(f->ctx, HNNRT_KIND_CIPHERTEXT, (const uint8_t *)"PK", 2, 0, HNNRT_ERR_SERIAL_MAGIC, NULL);
    expect(f->ctx, HNNRT_KIND_CIPHERTEXT, (const uint8_t *)"HN", 2, 0, HNNRT_ERR_SERIAL_TRUNCATED, "header");
    expect(f->ctx, HNNRT_KIND_CIPHERTEXT, b, 0, 0, HNNRT_ERR_SERIAL_TRUNCATED, NULL);
    free(b);
}

static void
header_future_version(void **state)
{
    fixture *f = *state;
    static const unsigned versions[] = {0, 2, 0xffff};
    for (hnnrt_object_kind k = 1; k <= N_KINDS; k++) {
        size_t len;
        uint8_t *b = ser(k, fixture_obj(f, k), &len);
        for (size_t v = 0; v < 3; v++) {
            put_le(b + 4, versions[v], 2);
            expect(f->ctx, k, b, len, 0, HNNRT_ERR_SERIAL_VERSION, "version");
        }
        free(b);
    }
}

static void
header_other_parameter_set(void **state)
{
    fixture *f = *state;
    for (hnnrt_object_kind k = HNNRT_KIND_SECRET_KEY; k <= N_KINDS; k++) {
        size_t len;
        uint8_t *b = ser(k, fixture_obj(f, k), &len);
        expect(f->other, k, b, len, 0, HNNRT_ERR_SERIAL_FINGERPRINT, "fingerprint");
        free(b);
    }
}

/* Every bit of the header, flipped alone: the field it belongs to decides the status. */
static void
header_every_bit_flip(void **state)
{
    fixture *f = *state;
    for (hnnrt_object_kind k = 1; k <= N_KINDS; k++) {
        const void *obj = k == HNNRT_KIND_CIPHERTEXT ? (const void *)f->ct0 : fixture_obj(f, k);
        size_t len;
        uint8_t *b = ser(k, obj, &len);
        for (unsigned bit = 0; bit < 8 * HNNRT_SER_HEADER_BYTES; bit++) {
            unsigned byte = bit / 8;
            hnnrt_status want;
            if (byte < 4 || (byte >= 6 && byte < 8))
                want = HNNRT_ERR_SERIAL_MAGIC;
            else if (byte < 6)
                want = HNNRT_ERR_SERIAL_VERSION;
            else if (byte < 16)
                want = k == HNNRT_KIND_PARAMS ? HNNRT_ERR_SERIAL_CORRUPT : HNNRT_ERR_SERIAL_FINGERPRINT;
            else /* the body length grows (bytes missing) or shrinks (bytes left over) */
                want = (b[byte] >> (bit % 8)) & 1 ? HNNRT_ERR_SERIAL_CORRUPT : HNNRT_ERR_SERIAL_TRUNCATED;
            b[byte] ^= (uint8_t)(1u << (bit % 8));
            expect(f->ctx, k, b, len, 0, want, NULL);
            b[byte] ^= (uint8_t)(1u << (bit % 8));
        }
        expect(f->ctx, k, b, len, 0, HNNRT_OK, NULL);
        free(b);
    }
}

/* ------------------------------------------------------------------ truncation, trailing bytes */

/*
 * Every prefix (or, with stride > 1, every prefix up to 512 bytes, then one in
 * stride, then the last 64) is TRUNCATED: as cut, and with the header's body
 * length rewritten to match, so the body's own fields run out.
 */
static void
truncate_all(const hnnrt_context *ctx, hnnrt_object_kind kind, const uint8_t *b, size_t len, size_t stride)
{
    for (size_t l = 0; l < len;) {
        expect(ctx, kind, b, l, 0, HNNRT_ERR_SERIAL_TRUNCATED, NULL);
        expect(ctx, kind, b, l, FIX_LEN, HNNRT_ERR_SERIAL_TRUNCATED, NULL);
        l += (l < 512 || l + 64 >= len) ? 1 : stride;
    }
}

static void
truncated_every_length_small_objects(void **state)
{
    fixture *f = *state;
    static const hnnrt_object_kind kinds[] = {HNNRT_KIND_PARAMS, HNNRT_KIND_SECRET_KEY, HNNRT_KIND_PUBLIC_KEY,
                                              HNNRT_KIND_CIPHERTEXT};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        const void *obj = kinds[i] == HNNRT_KIND_CIPHERTEXT ? (const void *)f->ct0 : fixture_obj(f, kinds[i]);
        size_t len;
        uint8_t *b = ser(kinds[i], obj, &len);
        truncate_all(f->ctx, kinds[i], b, len, 1);
        free(b);
    }
}

static void
truncated_dense_sample_big_objects(void **state)
{
    fixture *f = *state;
    static const hnnrt_object_kind kinds[] = {HNNRT_KIND_PLAINTEXT, HNNRT_KIND_RELIN_KEY, HNNRT_KIND_GALOIS_KEYS,
                                              HNNRT_KIND_CIPHERTEXT};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        size_t len;
        uint8_t *b = ser(kinds[i], fixture_obj(f, kinds[i]), &len);
        truncate_all(f->ctx, kinds[i], b, len, len / 1500 > 97 ? len / 1500 : 97);
        free(b);
    }
}

static void
trailing_bytes_are_corrupt(void **state)
{
    fixture *f = *state;
    for (hnnrt_object_kind k = 1; k <= N_KINDS; k++) {
        size_t len;
        uint8_t *b = ser(k, fixture_obj(f, k), &len);
        uint8_t *longer = calloc(len + 8, 1);
        memcpy(longer, b, len);
        for (size_t extra = 1; extra <= 8; extra *= 2) {
            expect(f->ctx, k, longer, len + extra, 0, HNNRT_ERR_SERIAL_CORRUPT, "trailing");
            expect(f->ctx, k, longer, len + extra, FIX_LEN, HNNRT_ERR_SERIAL_CORRUPT, NULL);
        }
        free(longer);
        free(b);
    }
}

/* ------------------------------------------------------------------ fields of each kind */

static void
ct_bad_size_level_scale(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *b = ser(HNNRT_KIND_CIPHERTEXT, f->ct, &len);
    static const uint32_t sizes[] = {0, 1, 4, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < 5; i++) {
        put_le(b + 24, sizes[i], 4);
        expect(f->ctx, HNNRT_KIND_CIPHERTEXT, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "size");
    }
    put_le(b + 24, 2, 4);
    /* Regression: a level beyond L once sized the limbs before it was checked,
     * reading prime tables past the chain; 0xffffffff also wraps level + 1. */
    static const uint32_t levels[] = {3, 64, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < 4; i++) {
        put_le(b + 28, levels[i], 4);
        expect(f->ctx, HNNRT_KIND_CIPHERTEXT, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "maximum level 2");
    }
    /* A lower level than the limbs present: the lengths disagree. */
    put_le(b + 28, 1, 4);
    expect(f->ctx, HNNRT_KIND_CIPHERTEXT, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "do not match");
    put_le(b + 28, 2, 4);
    static const double scales[] = {0.0, -0.0, -1.0, INFINITY, -INFINITY, NAN};
    for (size_t i = 0; i < 6; i++) {
        uint64_t bits;
        memcpy(&bits, &scales[i], 8);
        put_le(b + 32, bits, 8);
        expect(f->ctx, HNNRT_KIND_CIPHERTEXT, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "scale");
    }
    free(b);
}

/* Every bit of a length or count field, flipped alone, is refused. */
static void
length_field_bit_flips(void **state)
{
    fixture *f = *state;
    static const struct {
        hnnrt_object_kind kind;
        size_t at, bytes;
    } fields[] = {
        {HNNRT_KIND_CIPHERTEXT, 24, 8}, /* size, level */
        {HNNRT_KIND_PLAINTEXT, 24, 4},  /* level */
        {HNNRT_KIND_GALOIS_KEYS, 24, 4}, /* count */
        {HNNRT_KIND_PARAMS, 24, 16},    /* log N, data and special prime counts, dnum */
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        size_t len;
        uint8_t *b = ser(fields[i].kind, fixture_obj(f, fields[i].kind), &len);
        for (size_t bit = 0; bit < 8 * fields[i].bytes; bit++) {
            uint8_t *p = b + fields[i].at + bit / 8;
            *p ^= (uint8_t)(1u << (bit % 8));
            long live = hnnrt_context_live_allocations(f->ctx);
            hnnrt_error err = {HNNRT_OK, ""};
            hnnrt_status st = deser(f->ctx, fields[i].kind, b, len, &err);
            if (st != HNNRT_ERR_SERIAL_CORRUPT && st != HNNRT_ERR_SERIAL_TRUNCATED)
                fail_msg("%s: flipping bit %zu of the field at %zu gave %s", hnnrt_ser_kind_name(fields[i].kind),
                         bit, fields[i].at, hnnrt_status_name(st));
            assert_int_equal(hnnrt_context_live_allocations(f->ctx), live);
            *p ^= (uint8_t)(1u << (bit % 8));
        }
        free(b);
    }
}

static void
ct_residue_not_below_q(void **state)
{
    fixture *f = *state;
    size_t len, before_len, after_len;
    uint8_t *b = ser(HNNRT_KIND_CIPHERTEXT, f->ct, &len);
    const size_t part1 = 40 + poly_bytes(f->ctx, 3);
    const uint64_t q2 = hnnrt_context_prime(f->ctx, 2), q0 = hnnrt_context_prime(f->ctx, 0);
    /* The caller's ciphertext is left as it was. */
    hnnrt_ct *target;
    RT_OK(hnnrt_ct_new(f->ctx, &target));
    RT_OK(hnnrt_ct_copy(target, f->ct0));
    uint8_t *before = ser(HNNRT_KIND_CIPHERTEXT, target, &before_len);

    put_bits(b, coeff_bit(f->ctx, part1, 2, 17), prime_bits(f->ctx, 2), q2);
    expect(f->ctx, HNNRT_KIND_CIPHERTEXT, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT,
           "part 1 limb 2 coefficient 17 = 0x");
    hnnrt_error err;
    assert_int_equal(hnnrt_ct_deserialize(f->ctx, target, b, len, &err), HNNRT_ERR_SERIAL_CORRUPT);
    assert_non_null(strstr(err.message, "is not below q2"));
    uint8_t *after = ser(HNNRT_KIND_CIPHERTEXT, target, &after_len);
    assert_same_bytes(before, before_len, after, after_len);
    free(after);

    /* q - 1 is a residue; all ones is not. */
    put_bits(b, coeff_bit(f->ctx, part1, 2, 17), prime_bits(f->ctx, 2), q2 - 1);
    expect(f->ctx, HNNRT_KIND_CIPHERTEXT, b, len, 0, HNNRT_OK, NULL);
    put_bits(b, coeff_bit(f->ctx, 40, 0, 0), prime_bits(f->ctx, 0), ~(uint64_t)0);
    expect(f->ctx, HNNRT_KIND_CIPHERTEXT, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "part 0 limb 0 coefficient 0");
    put_bits(b, coeff_bit(f->ctx, 40, 0, 0), prime_bits(f->ctx, 0), q0);
    expect(f->ctx, HNNRT_KIND_CIPHERTEXT, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "not below q0");
    /* The last coefficient of the last limb. */
    put_bits(b, coeff_bit(f->ctx, 40, 0, 0), prime_bits(f->ctx, 0), 0);
    put_bits(b, coeff_bit(f->ctx, part1, 2, f->n - 1), prime_bits(f->ctx, 2), q2);
    expect(f->ctx, HNNRT_KIND_CIPHERTEXT, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "limb 2 coefficient 1023");
    free(before);
    free(b);
    hnnrt_ct_free(target);
}

static void
pt_and_keys_residue_not_below_q(void **state)
{
    fixture *f = *state;
    size_t len;
    const uint64_t p0 = hnnrt_context_prime(f->ctx, 3), q1 = hnnrt_context_prime(f->ctx, 1);
    uint8_t *b = ser(HNNRT_KIND_PLAINTEXT, f->pt, &len);
    put_bits(b, coeff_bit(f->ctx, 36, 1, 5), prime_bits(f->ctx, 1), q1);
    expect(f->ctx, HNNRT_KIND_PLAINTEXT, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "limb 1 coefficient 5");
    free(b);
    b = ser(HNNRT_KIND_PUBLIC_KEY, f->pk, &len);
    put_bits(b, coeff_bit(f->ctx, 56, 3, 9), prime_bits(f->ctx, 3), p0);
    expect(f->ctx, HNNRT_KIND_PUBLIC_KEY, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "limb 3 coefficient 9");
    expect(f->ctx, HNNRT_KIND_PUBLIC_KEY, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "not below p0");
    free(b);
    b = ser(HNNRT_KIND_RELIN_KEY, f->rk, &len);
    put_bits(b, coeff_bit(f->ctx, 56 + 2 * poly_bytes(f->ctx, 4), 1, 0), prime_bits(f->ctx, 1), q1);
    expect(f->ctx, HNNRT_KIND_RELIN_KEY, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "digit 2 limb 1 coefficient 0");
    free(b);
    b = ser(HNNRT_KIND_GALOIS_KEYS, f->gk, &len);
    const size_t entry = 8 + 32 + 3 * poly_bytes(f->ctx, 4);
    put_bits(b, coeff_bit(f->ctx, 28 + 3 * entry + 40, 3, 100), prime_bits(f->ctx, 3), p0 + 1);
    expect(f->ctx, HNNRT_KIND_GALOIS_KEYS, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "key 3 (element");
    expect(f->ctx, HNNRT_KIND_GALOIS_KEYS, b, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "digit 0 limb 3 coefficient 100");
    free(b);
}

static void
secret_key_bad_codes_and_weights(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *b = ser(HNNRT_KIND_SECRET_KEY, f->sk, &len);
    uint8_t *bad = malloc(len);
    memcpy(bad, b, len);
    put_bits(bad + 28, 2 * 777, 2, 2);
    expect(f->ctx, HNNRT_KIND_SECRET_KEY, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "coefficient 777");
    memcpy(bad, b, len);
    put_le(bad + 24, f->n + 1, 4);
    expect(f->ctx, HNNRT_KIND_SECRET_KEY, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "exceeds N");
    put_le(bad + 24, 0xffffffffu, 4);
    expect(f->ctx, HNNRT_KIND_SECRET_KEY, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "exceeds N");
    /* A uniform key has far more than one non-zero coefficient. */
    put_le(bad + 24, 1, 4);
    expect(f->ctx, HNNRT_KIND_SECRET_KEY, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "Hamming weight says 1");
    free(bad);
    free(b);
}

static void
galois_oversize_count_and_bad_elements(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *b = ser(HNNRT_KIND_GALOIS_KEYS, f->gk, &len);
    uint8_t *bad = malloc(len);
    const size_t entry = 8 + 32 + 3 * poly_bytes(f->ctx, 4);
    const uint64_t two_n = 2 * f->n;
    /* Refused from the count alone, before anything is allocated for it. */
    static const uint32_t counts[] = {0x80000000u, 0xffffffffu, 1024, 1023};
    for (size_t i = 0; i < 4; i++) {
        memcpy(bad, b, len);
        put_le(bad + 24, counts[i], 4);
        expect(f->ctx, HNNRT_KIND_GALOIS_KEYS, bad, len, 0,
               counts[i] == 1023 ? HNNRT_ERR_SERIAL_TRUNCATED : HNNRT_ERR_SERIAL_CORRUPT, NULL);
    }
    memcpy(bad, b, len);
    put_le(bad + 24, 3, 4);
    expect(f->ctx, HNNRT_KIND_GALOIS_KEYS, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, NULL);
    put_le(bad + 24, 5, 4);
    expect(f->ctx, HNNRT_KIND_GALOIS_KEYS, bad, len, 0, HNNRT_ERR_SERIAL_TRUNCATED, NULL);

    const uint64_t first = hnnrt_galois_element_rotation(f->ctx, steps[0]);
    const struct {
        size_t key;
        uint64_t element;
        const char *why;
    } cases[] = {
        {0, first + 1, "even"},       {2, two_n + 1, "not below 2N"}, {1, UINT64_MAX, "not below 2N"},
        {3, 1, "identity"},           {3, first, "appears twice"},    {1, two_n, "not below 2N"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memcpy(bad, b, len);
        put_le(bad + 28 + cases[i].key * entry, cases[i].element, 8);
        expect(f->ctx, HNNRT_KIND_GALOIS_KEYS, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, cases[i].why);
    }
    free(bad);
    free(b);
}

static void
params_bad_fields_and_primes(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *b = ser(HNNRT_KIND_PARAMS, f->ctx, &len);
    uint8_t *bad = malloc(len);
    const size_t primes_at = 24 + 20 + 4;
    const struct {
        size_t at, bytes;
        uint64_t value;
        const char *why;
    } cases[] = {
        {24, 4, 9, "log N"},
        {24, 4, 17, "log N"},
        {28, 4, 0, "data and"},
        {28, 4, 64, "data and"},
        {32, 4, 0, "data and"},
        {36, 4, 0, "dnum"},
        {36, 4, 4, "dnum"},
        {40, 4, 100, "security"},
        {44, 1, 19, "outside 20..61"},
        {44, 1, 51, "stated size"},
        {primes_at + 8, 8, 3, "stated size"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memcpy(bad, b, len);
        put_le(bad + cases[i].at, cases[i].value, (unsigned)cases[i].bytes);
        expect(f->ctx, HNNRT_KIND_PARAMS, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, cases[i].why);
    }
    /* Prime 1 made even, repeated, composite. */
    memcpy(bad, b, len);
    bad[primes_at + 8] ^= 1;
    expect(f->ctx, HNNRT_KIND_PARAMS, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "1 mod 2N");
    memcpy(bad, b, len);
    memcpy(bad + primes_at + 16, bad + primes_at + 8, 8);
    expect(f->ctx, HNNRT_KIND_PARAMS, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "repeats");
    uint64_t composite = hnnrt_context_prime(f->ctx, 1);
    do
        composite -= 2 * f->n;
    while (hnnrt_mod_is_prime(composite));
    memcpy(bad, b, len);
    put_le(bad + primes_at + 8, composite, 8);
    expect(f->ctx, HNNRT_KIND_PARAMS, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "not prime");
    /* Another true NTT prime of the right size: not the one the spec yields. */
    uint64_t avoid[4], other;
    for (unsigned i = 0; i < 4; i++)
        avoid[i] = hnnrt_context_prime(f->ctx, i);
    assert_int_equal(hnnrt_mod_ntt_primes(40, 2 * f->n, 1, avoid, 4, &other), 1);
    memcpy(bad, b, len);
    put_le(bad + primes_at + 8, other, 8);
    expect(f->ctx, HNNRT_KIND_PARAMS, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "primes differ");
    /* A valid dnum that is not this set's. */
    memcpy(bad, b, len);
    put_le(bad + 36, 1, 4);
    expect(f->ctx, HNNRT_KIND_PARAMS, bad, len, 0, HNNRT_ERR_SERIAL_CORRUPT, "fingerprint");
    free(bad);
    free(b);
}

/* ------------------------------------------------------------------ files */

static void
file_roundtrip_every_kind(void **state)
{
    fixture *f = *state;
    char path[128];
    for (hnnrt_object_kind k = 1; k <= N_KINDS; k++) {
        snprintf(path, sizeof path, "%s/object-%d", f->dir, (int)k);
        hnnrt_error err;
        RT_OK(hnnrt_file_write(path, k, fixture_obj(f, k), &err));
        /* Written twice: the second replaces the first. */
        RT_OK(hnnrt_file_write(path, k, fixture_obj(f, k), &err));
        uint8_t *data = NULL;
        size_t len = 0, want_len;
        RT_OK(hnnrt_file_read(path, (size_t)1 << 26, &data, &len, &err));
        uint8_t *want = ser(k, fixture_obj(f, k), &want_len);
        assert_same_bytes(data, len, want, want_len);
        expect(f->ctx, k, data, len, 0, HNNRT_OK, NULL);
        hnnrt_file_buffer_free(data, len);
        free(want);
        /* No temporary file is left behind. */
        assert_int_equal(dir_entries(f->dir), (int)k);
    }
    hnnrt_file_buffer_free(NULL, 0);
}

static void
file_secret_key_is_private(void **state)
{
    fixture *f = *state;
    char path[128];
    struct stat sb;
    hnnrt_error err;
    snprintf(path, sizeof path, "%s/secret", f->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(path, 0644), 0);
    RT_OK(hnnrt_file_write(path, HNNRT_KIND_SECRET_KEY, f->sk, &err));
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    hnnrt_secret_key *sk;
    uint8_t *data;
    size_t len;
    RT_OK(hnnrt_file_read(path, 1 << 20, &data, &len, &err));
    RT_OK(hnnrt_secret_key_deserialize(f->ctx, &sk, data, len, &err));
    assert_memory_equal(sk->coeffs, f->sk->coeffs, f->n * sizeof *sk->coeffs);
    hnnrt_file_buffer_free(data, len);
    hnnrt_secret_key_free(sk);
    unlink(path);
}

static void
file_errors_are_io(void **state)
{
    fixture *f = *state;
    char path[160];
    hnnrt_error err;
    uint8_t *data = NULL;
    size_t len = 7;
    int before = dir_entries(f->dir);

    snprintf(path, sizeof path, "%s/does-not-exist", f->dir);
    assert_int_equal(hnnrt_file_read(path, 1 << 20, &data, &len, &err), HNNRT_ERR_IO);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "No such file"));
    assert_null(data);
    assert_int_equal(len, 7);
    assert_int_equal(hnnrt_file_read(f->dir, 1 << 20, &data, &len, &err), HNNRT_ERR_IO);
    assert_non_null(strstr(err.message, "not a regular file"));

    snprintf(path, sizeof path, "%s/no-such-dir/ct", f->dir);
    assert_int_equal(hnnrt_file_write(path, HNNRT_KIND_CIPHERTEXT, f->ct, &err), HNNRT_ERR_IO);
    assert_non_null(strstr(err.message, path));
    /* The rename fails (the target is a directory): the temporary is removed. */
    snprintf(path, sizeof path, "%s/a-directory", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(hnnrt_file_write(path, HNNRT_KIND_CIPHERTEXT, f->ct, &err), HNNRT_ERR_IO);
    assert_non_null(strstr(err.message, "rename"));
    assert_int_equal(dir_entries(f->dir), before + 1);
    rmdir(path);

    /* Larger than the caller's limit. */
    snprintf(path, sizeof path, "%s/big", f->dir);
    RT_OK(hnnrt_file_write(path, HNNRT_KIND_CIPHERTEXT, f->ct0, &err));
    assert_int_equal(hnnrt_file_read(path, 1000, &data, &len, &err), HNNRT_ERR_IO);
    assert_non_null(strstr(err.message, "limit of 1000"));
    assert_null(data);
    unlink(path);

    /* An empty file reads as zero bytes, which no reader accepts. */
    snprintf(path, sizeof path, "%s/empty", f->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    close(fd);
    RT_OK(hnnrt_file_read(path, 1 << 20, &data, &len, &err));
    assert_non_null(data);
    assert_int_equal(len, 0);
    expect(f->ctx, HNNRT_KIND_CIPHERTEXT, data, len, 0, HNNRT_ERR_SERIAL_TRUNCATED, NULL);
    hnnrt_file_buffer_free(data, len);
    unlink(path);

    assert_int_equal(hnnrt_file_write(path, (hnnrt_object_kind)99, f->ct, &err), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_file_write(path, HNNRT_KIND_CIPHERTEXT, NULL, &err), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_file_write(NULL, HNNRT_KIND_CIPHERTEXT, f->ct, &err), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_file_read(NULL, 1, &data, &len, &err), HNNRT_ERR_ARG);
    assert_int_equal(dir_entries(f->dir), before);
}

/* ------------------------------------------------------------------ packing */

/* Every prime width 20..61: packing equals a bit-by-bit reference, and
 * unpacking gives the residues back, including 0 and q - 1. */
static void
packing_every_prime_width(void **state)
{
    (void)state;
    rt_rng r = {61};
    for (unsigned bits = 20; bits <= 61; bits++) {
        hnnrt_params_spec spec = rt_spec(10, 1, bits, bits, 1, bits);
        hnnrt_context *ctx = rt_context(spec);
        const size_t n = 1024, bytes = poly_bytes(ctx, 2);
        assert_int_equal(bytes, 2 * n * bits / 8);
        uint64_t *in = malloc(2 * n * sizeof *in), *out = calloc(2 * n, sizeof *out);
        uint8_t *got = malloc(bytes), *want = calloc(bytes, 1);
        for (unsigned i = 0; i < 2; i++) {
            const uint64_t q = hnnrt_context_prime(ctx, i);
            for (size_t j = 0; j < n; j++) {
                uint64_t v = rt_next(&r) % q;
                in[i * n + j] = j == 0 ? q - 1 : j == 1 ? 0 : v;
                put_bits(want, 8 * i * (n * bits / 8) + j * bits, bits, in[i * n + j]);
            }
        }
        hnnrt_ser_writer w = {got, bytes, 0, 0};
        hnnrt_ser_put_poly(&w, ctx, 2, in);
        assert_false(w.overflow);
        assert_int_equal(w.pos, bytes);
        assert_memory_equal(got, want, bytes);
        hnnrt_ser_reader rd = {got, bytes, 0, "test", NULL};
        RT_OK(hnnrt_ser_get_poly(&rd, ctx, 2, out, ""));
        assert_int_equal(rd.pos, bytes);
        assert_memory_equal(in, out, 2 * n * sizeof *in);
        /* One byte short: refused, nothing consumed. */
        hnnrt_ser_reader shortr = {got, bytes - 1, 0, "test", NULL};
        assert_int_equal(hnnrt_ser_get_poly(&shortr, ctx, 2, NULL, ""), HNNRT_ERR_SERIAL_TRUNCATED);
        assert_int_equal(shortr.pos, 0);
        free(in);
        free(out);
        free(got);
        free(want);
        hnnrt_context_free(ctx);
    }
}

/* ------------------------------------------------------------------ sizes at N = 2^13 */

static void
sizes_at_logn13(void **state)
{
    (void)state;
    static const uint8_t seed[32] = {13};
    hnnrt_context *ctx;
    hnnrt_params_spec spec = rt_spec(13, 3, 60, 40, 1, 60);
    hnnrt_error err;
    RT_OK(hnnrt_context_new(&ctx, &spec, 0, &err));
    const long base = hnnrt_context_live_allocations(ctx);
    hnnrt_keygen *kg;
    hnnrt_secret_key *sk;
    hnnrt_public_key *pk;
    hnnrt_relin_key *rk;
    hnnrt_galois_keys *gk;
    hnnrt_encoder *enc;
    hnnrt_encryptor *encr;
    hnnrt_pt *pt;
    hnnrt_ct *ct;
    const int one = 1;
    double v[4] = {0.5, -0.25, 0.125, 1};
    RT_OK(hnnrt_keygen_new_seeded_insecure(ctx, seed, &kg));
    RT_OK(hnnrt_keygen_secret(kg, 0, &sk));
    RT_OK(hnnrt_keygen_public(kg, sk, &pk));
    RT_OK(hnnrt_keygen_relin(kg, sk, &rk));
    RT_OK(hnnrt_keygen_galois(kg, sk, &one, 1, 0, &gk));
    RT_OK(hnnrt_encoder_new(ctx, &enc));
    RT_OK(hnnrt_encryptor_new(ctx, pk, NULL, &encr));
    RT_OK(hnnrt_pt_new(ctx, &pt));
    RT_OK(hnnrt_ct_new(ctx, &ct));
    RT_OK(hnnrt_encode(enc, pt, v, 4, 0x1p40, 2));
    RT_OK(hnnrt_encrypt(encr, ct, pt));
    size_t s_params, s_sk, s_pk, s_rk, s_gk, s_ct;
    RT_OK(hnnrt_params_serialize(ctx, NULL, 0, &s_params));
    RT_OK(hnnrt_secret_key_serialize(sk, NULL, 0, &s_sk));
    RT_OK(hnnrt_public_key_serialize(pk, NULL, 0, &s_pk));
    RT_OK(hnnrt_relin_key_serialize(rk, NULL, 0, &s_rk));
    RT_OK(hnnrt_galois_keys_serialize(gk, NULL, 0, &s_gk));
    RT_OK(hnnrt_ct_serialize(ct, NULL, 0, &s_ct));
    /* 200 bits of primes, 8192 coefficients: 204,800 bytes per polynomial over every prime. */
    assert_int_equal(s_pk, 24 + 32 + 204800);
    assert_int_equal(s_rk, 24 + 32 + 3 * 204800);
    assert_int_equal(s_gk, 24 + 4 + 8 + 32 + 3 * 204800);
    assert_int_equal(s_ct, 24 + 16 + 2 * 143360);
    assert_int_equal(s_sk, 24 + 4 + 2048);
    print_message("  measured serial sizes logN 13 (60,40,40|60): params %zu, secret key %zu, public key %zu, "
                  "relin key %zu (in memory %zu), one Galois key %zu, fresh ciphertext %zu bytes\n",
                  s_params, s_sk, s_pk, s_rk, hnnrt_relin_key_bytes(rk), s_gk, s_ct);
    hnnrt_ct_free(ct);
    hnnrt_pt_free(pt);
    hnnrt_encryptor_free(encr);
    hnnrt_encoder_free(enc);
    hnnrt_galois_keys_free(gk);
    hnnrt_relin_key_free(rk);
    hnnrt_public_key_free(pk);
    hnnrt_secret_key_free(sk);
    hnnrt_keygen_free(kg);
    assert_int_equal(hnnrt_context_live_allocations(ctx), base);
    hnnrt_context_free(ctx);
}

/* ------------------------------------------------------------------ main */

#define T(name, fn)                                                                                          \
    {                                                                                                        \
        name, fn, case_setup, case_teardown, NULL                                                            \
    }

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T("serial/ct/roundtrip_decrypts_the_same", ct_roundtrip_decrypts_the_same),
        T("serial/ct/three_parts_and_lower_levels", ct_three_parts_and_lower_levels),
        T("serial/pt/roundtrip_decodes_the_same", pt_roundtrip_decodes_the_same),
        T("serial/sk/roundtrip_decrypts", secret_key_roundtrip_decrypts),
        T("serial/sk/sparse_keeps_its_weight", sparse_secret_key_keeps_its_weight),
        T("serial/pk/roundtrip_encrypts", public_key_roundtrip_encrypts),
        T("serial/rk/roundtrip_relinearises_identically", relin_key_roundtrip_relinearises_identically),
        T("serial/gk/roundtrip_rotates_identically", galois_keys_roundtrip_rotate_identically),
        T("serial/gk/empty_set", galois_keys_empty_set),
        T("serial/params/roundtrip_rebuilds_the_context", params_roundtrip_rebuilds_the_context),
        T("serial/params/security_is_checked_again", params_security_is_checked_again),
        T("serial/api/size_query_and_small_buffers", api_size_query_and_small_buffers),
        T("serial/api/empty_and_mismatched_objects", api_empty_and_mismatched_objects),
        T("serial/header/wrong_kind_is_magic", header_wrong_kind_is_magic),
        T("serial/header/foreign_magic_short_and_empty", header_foreign_magic_short_and_empty),
        T("serial/header/future_version", header_future_version),
        T("serial/header/other_parameter_set", header_other_parameter_set),
        T("serial/header/every_bit_flip", header_every_bit_flip),
        T("serial/truncated/every_length_small_objects", truncated_every_length_small_objects),
        T("serial/truncated/dense_sample_big_objects", truncated_dense_sample_big_objects),
        T("serial/trailing/bytes_are_corrupt", trailing_bytes_are_corrupt),
        T("serial/fields/length_bit_flips", length_field_bit_flips),
        T("serial/ct/bad_size_level_scale", ct_bad_size_level_scale),
        T("serial/ct/residue_not_below_q", ct_residue_not_below_q),
        T("serial/keys/residue_not_below_q", pt_and_keys_residue_not_below_q),
        T("serial/sk/bad_codes_and_weights", secret_key_bad_codes_and_weights),
        T("serial/gk/oversize_count_and_bad_elements", galois_oversize_count_and_bad_elements),
        T("serial/params/bad_fields_and_primes", params_bad_fields_and_primes),
        T("serial/file/roundtrip_every_kind", file_roundtrip_every_kind),
        T("serial/file/secret_key_is_private", file_secret_key_is_private),
        T("serial/file/errors_are_io", file_errors_are_io),
        T("serial/wire/packing_every_prime_width", packing_every_prime_width),
        T("serial/sizes/logn13", sizes_at_logn13),
    };
    return cmocka_run_group_tests_name("serial", tests, setup, teardown);
}
