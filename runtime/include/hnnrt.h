/*
 * libhnnrt — a full-RNS CKKS runtime.
 *
 * This is the whole public API. Objects are opaque and come in _new/_free pairs
 * (free(NULL) is a no-op). Every function that can fail returns an hnnrt_status;
 * HNNRT_OK is 0. Failures of constructors and readers are described in an
 * optional hnnrt_error; failures of an actor (encoder, encryptor, decryptor, key
 * generator, evaluator) are described by that actor's last_error string.
 *
 * Data flow: a context is built from a parameter spec; keys come from a key
 * generator over the context; an encoder turns doubles into plaintexts; an
 * encryptor and a decryptor move between plaintexts and ciphertexts; the
 * evaluator computes on ciphertexts given only the public evaluation keys.
 *
 * Ciphertexts and plaintexts carry their level (number of primes above q0 still
 * in use), their exact scale as a double, and their size (2 or 3 parts). The
 * evaluator checks them before it computes: mismatched levels or scales are
 * errors, never silent garbage. Polynomials are kept in NTT form throughout.
 *
 * Objects may be used from several threads only if each thread has its own
 * actors (an evaluator owns scratch memory). The context, keys, plaintexts and
 * ciphertexts given as const are only read.
 */
#ifndef HNNRT_H
#define HNNRT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HNNRT_BUILDING)
#define HNNRT_API __attribute__((visibility("default")))
#else
#define HNNRT_API
#endif
#define HNNRT_MUST_CHECK __attribute__((warn_unused_result))

#define HNNRT_VERSION_MAJOR 0
#define HNNRT_VERSION_MINOR 1
#define HNNRT_VERSION_PATCH 0

/* ------------------------------------------------------------------ status */

typedef enum hnnrt_status {
    HNNRT_OK = 0,
    HNNRT_ERR_ARG,                 /* an argument is NULL, out of range, or inconsistent */
    HNNRT_ERR_ALLOC,               /* out of memory */
    HNNRT_ERR_RANDOM,              /* the system random source could not be initialised */
    HNNRT_ERR_PARAMS_INVALID,      /* a parameter spec is malformed (ring, prime sizes, digits) */
    HNNRT_ERR_PARAMS_INSECURE,     /* log2(QP) exceeds the HE Standard bound for the security level */
    HNNRT_ERR_PARAMS_NO_NTT_PRIME, /* not enough NTT-friendly primes of a requested size */
    HNNRT_ERR_PARAMS_MISMATCH,     /* objects come from different parameter sets */
    HNNRT_ERR_LEVEL_MISMATCH,      /* operands are at different levels */
    HNNRT_ERR_SCALE_MISMATCH,      /* operands of an addition have different scales */
    HNNRT_ERR_LEVEL_EXHAUSTED,     /* no level left: rescale or drop below level 0 */
    HNNRT_ERR_SCALE_OVERFLOW,      /* the scale (times the values) does not fit the modulus */
    HNNRT_ERR_SIZE,                /* a ciphertext has the wrong number of parts (e.g. 3 where 2 is needed) */
    HNNRT_ERR_MISSING_KEY,         /* the relinearisation key or a Galois key is not present */
    HNNRT_ERR_SERIAL_MAGIC,        /* the bytes are not an hnnrt object of the expected kind */
    HNNRT_ERR_SERIAL_VERSION,      /* the format version is not supported */
    HNNRT_ERR_SERIAL_TRUNCATED,    /* the bytes end before the object does */
    HNNRT_ERR_SERIAL_CORRUPT,      /* a length, field or coefficient is out of its range */
    HNNRT_ERR_SERIAL_FINGERPRINT,  /* the object was made under another parameter set */
    HNNRT_ERR_IO                   /* a file could not be opened, read or written */
} hnnrt_status;

/* The enum member's name ("HNNRT_ERR_LEVEL_MISMATCH") and a one-line message. */
HNNRT_API const char *hnnrt_status_name(hnnrt_status s);
HNNRT_API const char *hnnrt_status_message(hnnrt_status s);

/* Detail of a failure of a constructor or reader ("prime 3: no 40-bit NTT prime left"). */
typedef struct hnnrt_error {
    hnnrt_status status;
    char message[256];
} hnnrt_error;

/* ------------------------------------------------------------------ parameters */

#define HNNRT_MAX_PRIMES 64  /* data primes + special primes */

typedef enum hnnrt_security {
    HNNRT_SECURITY_128 = 128,
    HNNRT_SECURITY_192 = 192,
    HNNRT_SECURITY_256 = 256
} hnnrt_security;

/* A parameter set as the compiler and the report describe it. Plain data;
 * hnnrt_context_new validates it and precomputes every table. */
typedef struct hnnrt_params_spec {
    unsigned log_n;                         /* ring dimension N = 2^log_n, 12..16 (10..16 when insecure) */
    unsigned n_data_primes;                 /* L + 1: q0 .. qL */
    unsigned data_bits[HNNRT_MAX_PRIMES];   /* bit size of each data prime, 20..61 */
    unsigned n_special_primes;              /* k >= 1 */
    unsigned special_bits[HNNRT_MAX_PRIMES];/* bit size of each special prime, 20..61 */
    unsigned dnum;                          /* key-switching digits; 0 = ceil((L+1)/k) */
    hnnrt_security security;                /* 0 = 128 */
} hnnrt_params_spec;

/* Flags for hnnrt_context_new. */
#define HNNRT_PARAMS_INSECURE_TESTS_ONLY 0x1u  /* skip the HE Standard check: tests only */

/* The HE Standard (2018) bound on log2(QP) for a ring and a security level,
 * ternary secret, sigma 3.2; 0 when the table has no entry. */
HNNRT_API unsigned hnnrt_security_max_log_qp(unsigned log_n, hnnrt_security level);

typedef struct hnnrt_context hnnrt_context;

/* Validates spec and builds the context: primes (distinct, NTT-friendly, the
 * requested sizes), NTT tables, basis-conversion and rescale constants.
 * Fails with PARAMS_INVALID, PARAMS_INSECURE (unless the insecure flag is
 * given), PARAMS_NO_NTT_PRIME, ALLOC, RANDOM. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status
hnnrt_context_new(hnnrt_context **out, const hnnrt_params_spec *spec, unsigned flags, hnnrt_error *err);
HNNRT_API void hnnrt_context_free(hnnrt_context *ctx);

HNNRT_API unsigned hnnrt_context_log_n(const hnnrt_context *ctx);
HNNRT_API size_t hnnrt_context_slots(const hnnrt_context *ctx);       /* N/2 */
HNNRT_API unsigned hnnrt_context_max_level(const hnnrt_context *ctx); /* L */
HNNRT_API unsigned hnnrt_context_special_count(const hnnrt_context *ctx);
HNNRT_API unsigned hnnrt_context_dnum(const hnnrt_context *ctx);
/* Prime i: i <= L a data prime, L < i <= L + k a special prime; 0 out of range. */
HNNRT_API uint64_t hnnrt_context_prime(const hnnrt_context *ctx, unsigned i);
HNNRT_API double hnnrt_context_log_qp(const hnnrt_context *ctx);
HNNRT_API hnnrt_security hnnrt_context_security(const hnnrt_context *ctx); /* 0 when insecure */
/* A 64-bit fingerprint of (N, primes, dnum): objects carry it in serialised form. */
HNNRT_API uint64_t hnnrt_context_fingerprint(const hnnrt_context *ctx);
/* Threads for OpenMP loops over limbs: default HNNRT_THREADS, else all cores.
 * Results are bit-identical whatever the count. */
HNNRT_API void hnnrt_context_set_threads(hnnrt_context *ctx, int threads);
HNNRT_API int hnnrt_context_threads(const hnnrt_context *ctx);
/* Blocks the runtime holds now through this context (tests check for leaks). */
HNNRT_API long hnnrt_context_live_allocations(const hnnrt_context *ctx);

/* ------------------------------------------------------------------ plaintexts, ciphertexts */

typedef struct hnnrt_pt hnnrt_pt;
typedef struct hnnrt_ct hnnrt_ct;

/* Empty objects; the operations that write them size them. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_pt_new(const hnnrt_context *ctx, hnnrt_pt **out);
HNNRT_API void hnnrt_pt_free(hnnrt_pt *pt);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_ct_new(const hnnrt_context *ctx, hnnrt_ct **out);
HNNRT_API void hnnrt_ct_free(hnnrt_ct *ct);
/* Reserves room for size parts at level so later writes do not allocate. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_ct_reserve(hnnrt_ct *ct, unsigned size, unsigned level);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_ct_copy(hnnrt_ct *out, const hnnrt_ct *in);

HNNRT_API unsigned hnnrt_pt_level(const hnnrt_pt *pt);
HNNRT_API double hnnrt_pt_scale(const hnnrt_pt *pt);
HNNRT_API unsigned hnnrt_ct_level(const hnnrt_ct *ct);
HNNRT_API double hnnrt_ct_scale(const hnnrt_ct *ct);
HNNRT_API unsigned hnnrt_ct_size(const hnnrt_ct *ct);
/* Overrides the recorded scale: for callers that know the exact scale they
 * mean (e.g. after multiplying by a constant folded elsewhere). A scale that
 * is not finite and positive is ignored. */
HNNRT_API void hnnrt_ct_set_scale(hnnrt_ct *ct, double scale);

/* ------------------------------------------------------------------ encoder */

typedef struct hnnrt_encoder hnnrt_encoder;

HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_encoder_new(const hnnrt_context *ctx, hnnrt_encoder **out);
HNNRT_API void hnnrt_encoder_free(hnnrt_encoder *enc);
HNNRT_API const char *hnnrt_encoder_last_error(const hnnrt_encoder *enc);

/* Encodes count <= N/2 values (the rest of the slots are zero) at scale and
 * level into pt. Fails with ARG (count, level, scale <= 0, non-finite value)
 * or SCALE_OVERFLOW (scale * value does not fit in Q_level / 2). */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_encode(hnnrt_encoder *enc, hnnrt_pt *pt, const double *values,
                                                   size_t count, double scale, unsigned level);
/* The same for complex slots, given as separate real and imaginary arrays. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_encode_complex(hnnrt_encoder *enc, hnnrt_pt *pt, const double *re,
                                                           const double *im, size_t count, double scale,
                                                           unsigned level);
/* Decodes the first count slots (real parts / both parts). */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_decode(hnnrt_encoder *enc, const hnnrt_pt *pt, double *values,
                                                   size_t count);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_decode_complex(hnnrt_encoder *enc, const hnnrt_pt *pt, double *re,
                                                           double *im, size_t count);

/* ------------------------------------------------------------------ keys */

typedef struct hnnrt_secret_key hnnrt_secret_key;
typedef struct hnnrt_public_key hnnrt_public_key;
typedef struct hnnrt_relin_key hnnrt_relin_key;
typedef struct hnnrt_galois_keys hnnrt_galois_keys;
typedef struct hnnrt_keygen hnnrt_keygen;

/* A key generator draws from the system CSPRNG (libsodium). */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_keygen_new(const hnnrt_context *ctx, hnnrt_keygen **out);
/* Tests only: a generator whose every draw follows from seed. Never use it for real keys. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_keygen_new_seeded_insecure(const hnnrt_context *ctx,
                                                                       const uint8_t seed[32],
                                                                       hnnrt_keygen **out);
HNNRT_API void hnnrt_keygen_free(hnnrt_keygen *kg);
HNNRT_API const char *hnnrt_keygen_last_error(const hnnrt_keygen *kg);

/* A uniform ternary secret; hamming_weight > 0 asks for a sparse ternary one
 * with exactly that many non-zero coefficients. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_keygen_secret(hnnrt_keygen *kg, unsigned hamming_weight,
                                                          hnnrt_secret_key **out);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_keygen_public(hnnrt_keygen *kg, const hnnrt_secret_key *sk,
                                                          hnnrt_public_key **out);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_keygen_relin(hnnrt_keygen *kg, const hnnrt_secret_key *sk,
                                                         hnnrt_relin_key **out);
/* Galois keys for rotations by each of steps[0..n_steps) (left rotations; negative
 * steps rotate right; 0 and duplicates are ignored) and, if with_conjugate, for
 * complex conjugation. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_keygen_galois(hnnrt_keygen *kg, const hnnrt_secret_key *sk,
                                                          const int *steps, size_t n_steps, int with_conjugate,
                                                          hnnrt_galois_keys **out);
/* Adds keys for more steps to an existing set. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_keygen_galois_add(hnnrt_keygen *kg, const hnnrt_secret_key *sk,
                                                              const int *steps, size_t n_steps,
                                                              int with_conjugate, hnnrt_galois_keys *gk);

/* Secret material is wiped before it is released. */
HNNRT_API void hnnrt_secret_key_free(hnnrt_secret_key *sk);
HNNRT_API void hnnrt_public_key_free(hnnrt_public_key *pk);
HNNRT_API void hnnrt_relin_key_free(hnnrt_relin_key *rk);
HNNRT_API void hnnrt_galois_keys_free(hnnrt_galois_keys *gk);

/* The Galois element of a left rotation by step (negative: right), and of conjugation. */
HNNRT_API uint64_t hnnrt_galois_element_rotation(const hnnrt_context *ctx, int step);
HNNRT_API uint64_t hnnrt_galois_element_conjugate(const hnnrt_context *ctx);
HNNRT_API size_t hnnrt_galois_keys_count(const hnnrt_galois_keys *gk);
HNNRT_API int hnnrt_galois_keys_has(const hnnrt_galois_keys *gk, uint64_t galois_element);
/* Bytes of key material held (for memory reports). */
HNNRT_API size_t hnnrt_galois_keys_bytes(const hnnrt_galois_keys *gk);
HNNRT_API size_t hnnrt_relin_key_bytes(const hnnrt_relin_key *rk);

/* ------------------------------------------------------------------ encrypt, decrypt */

typedef struct hnnrt_encryptor hnnrt_encryptor;
typedef struct hnnrt_decryptor hnnrt_decryptor;

/* Public-key encryption (pk given) or symmetric encryption (sk given); exactly one. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_encryptor_new(const hnnrt_context *ctx, const hnnrt_public_key *pk,
                                                          const hnnrt_secret_key *sk, hnnrt_encryptor **out);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_encryptor_new_seeded_insecure(const hnnrt_context *ctx,
                                                                          const hnnrt_public_key *pk,
                                                                          const hnnrt_secret_key *sk,
                                                                          const uint8_t seed[32],
                                                                          hnnrt_encryptor **out);
HNNRT_API void hnnrt_encryptor_free(hnnrt_encryptor *enc);
HNNRT_API const char *hnnrt_encryptor_last_error(const hnnrt_encryptor *enc);
/* ct = Enc(pt), at pt's level and scale. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_encrypt(hnnrt_encryptor *enc, hnnrt_ct *ct, const hnnrt_pt *pt);

HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_decryptor_new(const hnnrt_context *ctx, const hnnrt_secret_key *sk,
                                                          hnnrt_decryptor **out);
HNNRT_API void hnnrt_decryptor_free(hnnrt_decryptor *dec);
HNNRT_API const char *hnnrt_decryptor_last_error(const hnnrt_decryptor *dec);
/* pt = Dec(ct); ct may have 2 or 3 parts. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_decrypt(hnnrt_decryptor *dec, hnnrt_pt *pt, const hnnrt_ct *ct);

/* ------------------------------------------------------------------ evaluator */

typedef struct hnnrt_evaluator hnnrt_evaluator;
typedef struct hnnrt_hoisted hnnrt_hoisted;

/* rk and gk may be NULL when the circuit needs no relinearisation / rotation;
 * they are borrowed and must outlive the evaluator. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_evaluator_new(const hnnrt_context *ctx, const hnnrt_relin_key *rk,
                                                          const hnnrt_galois_keys *gk, hnnrt_evaluator **out);
HNNRT_API void hnnrt_evaluator_free(hnnrt_evaluator *ev);
HNNRT_API const char *hnnrt_evaluator_last_error(const hnnrt_evaluator *ev);

/*
 * In every operation below, out MAY alias any input. Failure leaves out
 * unchanged unless it aliases an input, in which case out is unspecified.
 * Scales: additions require equal scales (relative difference below 2^-40);
 * multiplications multiply them; rescale divides by the dropped prime.
 * Common failures: PARAMS_MISMATCH, LEVEL_MISMATCH, SCALE_MISMATCH, SIZE, ALLOC.
 */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_add(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a,
                                                     const hnnrt_ct *b);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_sub(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a,
                                                     const hnnrt_ct *b);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_negate(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_add_pt(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a,
                                                        const hnnrt_pt *b);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_sub_pt(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a,
                                                        const hnnrt_pt *b);
/* out = a + c in every slot; c is encoded at a's scale (rounding to an integer
 * multiple of the scale's unit). */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_add_const(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a,
                                                           double c);
/* out = a * c in every slot, c encoded as round(c * scale); out's scale is
 * a's scale times scale. scale = 0 multiplies by the integer round(c) and
 * keeps the scale (no level is needed to remove it). */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_mul_const(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a,
                                                           double c, double scale);
/*
 * Linear combinations by constants, many at once: for every row j < n_out,
 *   out[j] = sum_t coeff[t] * in[col[t]],  t = row_start[j] .. row_start[j + 1] - 1
 * (a sparse matrix in compressed rows). Each constant is encoded as
 * hnnrt_eval_mul_const encodes it, round(coeff * scale) (round(coeff) when
 * scale = 0), so out[j] is bit-identical to mul_const of each term followed
 * by add in row order, and its scale is that of its first term's product
 * (in's scale times scale; an empty row gives an encryption-free zero at
 * in[0]'s). It costs far less: products are summed unreduced and each
 * output coefficient is reduced once, and the work is blocked so that every
 * input is read from memory once for all the rows.
 *
 * Every in[k] (k < n_in) has the same number of parts (2 or 3: out[j] gets
 * as many), the same scale (relative difference below 2^-40) and a level at
 * least `level`: their primes above it are ignored (a free drop_to). Every
 * out[j] is an existing ciphertext, distinct from the others and from every
 * in[k]; each is written at `level`. Fails with ARG (NULL arguments, n_out
 * or n_in zero, no term at all, row_start not non-decreasing from 0, col
 * out of range, a non-finite constant, aliased outputs), LEVEL_MISMATCH
 * (an input below level, level above the chain), SCALE_MISMATCH, SIZE,
 * SCALE_OVERFLOW (|coeff| * scale not below Q_level / 2), PARAMS_MISMATCH,
 * ALLOC. The first call of a given size grows a workspace the evaluator
 * keeps; later calls do not allocate.
 */
typedef struct hnnrt_linear_map {
    size_t n_out;            /* rows: outputs */
    size_t n_in;             /* columns: inputs */
    const size_t *row_start; /* [n_out + 1]: row_start[0] = 0, non-decreasing */
    const uint32_t *col;     /* [row_start[n_out]]: the input of each term, < n_in */
    const double *coeff;     /* [row_start[n_out]]: the constant of each term */
} hnnrt_linear_map;

HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_linear(hnnrt_evaluator *ev, hnnrt_ct *const *out,
                                                        const hnnrt_ct *const *in, const hnnrt_linear_map *map,
                                                        double scale, unsigned level);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_mul_pt(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a,
                                                        const hnnrt_pt *b);
/* 2 x 2 -> 3 parts. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_mul_ct(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a,
                                                        const hnnrt_ct *b);
/* 3 -> 2 parts with the relinearisation key; MISSING_KEY without it. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_relin(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_mul_relin(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a,
                                                           const hnnrt_ct *b);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_square_relin(hnnrt_evaluator *ev, hnnrt_ct *out,
                                                              const hnnrt_ct *a);
/* Divides by the top prime and drops it: level - 1; LEVEL_EXHAUSTED at level 0. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_rescale(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a);
/* Drops primes without dividing: to the given lower level; scale unchanged. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_drop_to(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a,
                                                         unsigned level);
/* Slot i of out is slot (i + step) mod N/2 of a (a left rotation); MISSING_KEY
 * when the Galois key for step is absent. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_rotate(hnnrt_evaluator *ev, hnnrt_ct *out, const hnnrt_ct *a,
                                                        int step);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_conjugate(hnnrt_evaluator *ev, hnnrt_ct *out,
                                                           const hnnrt_ct *a);

/* Hoisted rotations: decompose a once, then rotate it by many steps, each
 * rotation skipping the basis extension. A hoisted object belongs to one
 * evaluator and holds one decomposition at a time. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_hoisted_new(hnnrt_evaluator *ev, hnnrt_hoisted **out);
HNNRT_API void hnnrt_hoisted_free(hnnrt_hoisted *h);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_hoist(hnnrt_evaluator *ev, hnnrt_hoisted *h, const hnnrt_ct *a);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_rotate_hoisted(hnnrt_evaluator *ev, hnnrt_ct *out,
                                                                const hnnrt_hoisted *h, int step);
/* The n rotations of a by steps[i] into outs[i], decomposing a once. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_eval_rotate_many(hnnrt_evaluator *ev, hnnrt_ct **outs,
                                                             const hnnrt_ct *a, const int *steps, size_t n);

/* ------------------------------------------------------------------ serialisation */

/*
 * Every object serialises to a self-describing byte string: magic "HNRT", a
 * format version, an object kind, the parameter fingerprint, then bounded,
 * checked fields. Readers take (bytes, len) and never read past len; hostile
 * or truncated input gives SERIAL_* with a message in err.
 * hnnrt_X_serialize(x, NULL, 0, &need) reports the size needed.
 */
typedef enum hnnrt_object_kind {
    HNNRT_KIND_PARAMS = 1,
    HNNRT_KIND_SECRET_KEY = 2,
    HNNRT_KIND_PUBLIC_KEY = 3,
    HNNRT_KIND_RELIN_KEY = 4,
    HNNRT_KIND_GALOIS_KEYS = 5,
    HNNRT_KIND_PLAINTEXT = 6,
    HNNRT_KIND_CIPHERTEXT = 7
} hnnrt_object_kind;

HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_params_serialize(const hnnrt_context *ctx, uint8_t *buf, size_t cap,
                                                             size_t *len);
/* Rebuilds a context from serialised parameters (the same primes, checked again). */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_params_deserialize(hnnrt_context **out, const uint8_t *buf,
                                                               size_t len, unsigned flags, hnnrt_error *err);

HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_ct_serialize(const hnnrt_ct *ct, uint8_t *buf, size_t cap, size_t *len);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_ct_deserialize(const hnnrt_context *ctx, hnnrt_ct *ct,
                                                           const uint8_t *buf, size_t len, hnnrt_error *err);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_pt_serialize(const hnnrt_pt *pt, uint8_t *buf, size_t cap, size_t *len);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_pt_deserialize(const hnnrt_context *ctx, hnnrt_pt *pt,
                                                           const uint8_t *buf, size_t len, hnnrt_error *err);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_secret_key_serialize(const hnnrt_secret_key *sk, uint8_t *buf,
                                                                 size_t cap, size_t *len);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_secret_key_deserialize(const hnnrt_context *ctx,
                                                                   hnnrt_secret_key **out, const uint8_t *buf,
                                                                   size_t len, hnnrt_error *err);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_public_key_serialize(const hnnrt_public_key *pk, uint8_t *buf,
                                                                 size_t cap, size_t *len);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_public_key_deserialize(const hnnrt_context *ctx,
                                                                   hnnrt_public_key **out, const uint8_t *buf,
                                                                   size_t len, hnnrt_error *err);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_relin_key_serialize(const hnnrt_relin_key *rk, uint8_t *buf,
                                                                size_t cap, size_t *len);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_relin_key_deserialize(const hnnrt_context *ctx,
                                                                  hnnrt_relin_key **out, const uint8_t *buf,
                                                                  size_t len, hnnrt_error *err);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_galois_keys_serialize(const hnnrt_galois_keys *gk, uint8_t *buf,
                                                                  size_t cap, size_t *len);
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_galois_keys_deserialize(const hnnrt_context *ctx,
                                                                    hnnrt_galois_keys **out, const uint8_t *buf,
                                                                    size_t len, hnnrt_error *err);

/* Any of the above by kind: obj is the object hnnrt_X_serialize takes for
 * that kind. ARG for an unknown kind. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_serialize(hnnrt_object_kind kind, const void *obj, uint8_t *buf,
                                                      size_t cap, size_t *len);

/* Files: the whole object in one file, written atomically (temporary + rename).
 * kind says which object obj is; reading checks the kind in the file. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_file_write(const char *path, hnnrt_object_kind kind, const void *obj,
                                                       hnnrt_error *err);
/* Reads a whole file into a malloc'd buffer (at most max_bytes) for the
 * deserialisers above; the caller frees it with hnnrt_file_buffer_free. */
HNNRT_API HNNRT_MUST_CHECK hnnrt_status hnnrt_file_read(const char *path, size_t max_bytes, uint8_t **buf,
                                                      size_t *len, hnnrt_error *err);
HNNRT_API void hnnrt_file_buffer_free(uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* HNNRT_H */
