/*
 * libFuzzer harness for the runtime's deserialisers: every input goes to all
 * seven readers (parameters, secret/public/relinearisation/Galois keys,
 * plaintext, ciphertext) over one small context. An accepted object must
 * re-serialise to exactly the input bytes, and every call must leave the
 * context's live-allocation count where it was; either failure traps.
 *
 * Build (clang) and run, from the repository root:
 *   make BUILD=build/fuzz CC=clang OPT="-O1 -g" \
 *     SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fsanitize=fuzzer-no-link" \
 *     build/fuzz/lib/libhnnrt.a
 *   clang -std=c17 -D_POSIX_C_SOURCE=200809L -O1 -g -fopenmp \
 *     -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *     -Iruntime/include -Iruntime/src -o build/fuzz/bin/fuzz_serial \
 *     tests/fuzz/fuzz_serial.c build/fuzz/lib/libhnnrt.a -lsodium -lm
 *   mkdir -p build/fuzz/serial-corpus
 *   HNNRT_FUZZ_SEEDS=build/fuzz/serial-corpus build/fuzz/bin/fuzz_serial -runs=0
 *   build/fuzz/bin/fuzz_serial -max_len=65536 -max_total_time=300 \
 *     -artifact_prefix=build/fuzz/ build/fuzz/serial-corpus
 *
 * HNNRT_FUZZ_SEEDS=DIR writes one valid object of each kind into DIR as a
 * starting corpus. Inputs that crashed a reader are kept as regression cases
 * in tests/runtime/test_serial.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnnrt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Built once: libFuzzer calls the harness many times in one process. */
static hnnrt_context *ctx;
static long base_allocations;
static uint8_t *scratch;
static size_t scratch_cap;

/* data[0, size) re-serialised by ser must give the same bytes. */
#define SAME_BYTES(ser_call)                                                                                 \
    do {                                                                                                     \
        size_t need_ = 0;                                                                                    \
        if ((ser_call(NULL, 0, &need_)) != HNNRT_OK || need_ != size || need_ > scratch_cap ||               \
            (ser_call(scratch, scratch_cap, &need_)) != HNNRT_OK || memcmp(scratch, data, size) != 0)        \
            __builtin_trap();                                                                                \
    } while (0)

static void
write_seeds(const char *dir)
{
    static const uint8_t seed[32] = {1};
    static const int steps[] = {-3};
    static const double values[4] = {0.5, -1, 0.25, 0.125};
    hnnrt_keygen *kg;
    hnnrt_secret_key *sk, *sparse;
    hnnrt_public_key *pk;
    hnnrt_relin_key *rk;
    hnnrt_galois_keys *gk;
    hnnrt_encoder *enc;
    hnnrt_encryptor *encr;
    hnnrt_pt *pt;
    hnnrt_ct *ct;
    if (hnnrt_keygen_new_seeded_insecure(ctx, seed, &kg) || hnnrt_keygen_secret(kg, 0, &sk) ||
        hnnrt_keygen_secret(kg, 16, &sparse) || hnnrt_keygen_public(kg, sk, &pk) ||
        hnnrt_keygen_relin(kg, sk, &rk) || hnnrt_keygen_galois(kg, sk, steps, 1, 1, &gk) ||
        hnnrt_encoder_new(ctx, &enc) || hnnrt_encryptor_new_seeded_insecure(ctx, pk, NULL, seed, &encr) ||
        hnnrt_pt_new(ctx, &pt) || hnnrt_ct_new(ctx, &ct) || hnnrt_encode(enc, pt, values, 4, 0x1p30, 1) ||
        hnnrt_encrypt(encr, ct, pt)) {
        fprintf(stderr, "fuzz_serial: cannot make the seed objects\n");
        exit(1);
    }
    const struct {
        const char *name;
        hnnrt_object_kind kind;
        const void *obj;
    } seeds[] = {
        {"params", HNNRT_KIND_PARAMS, ctx},      {"secret-key", HNNRT_KIND_SECRET_KEY, sk},
        {"sparse-key", HNNRT_KIND_SECRET_KEY, sparse}, {"public-key", HNNRT_KIND_PUBLIC_KEY, pk},
        {"relin-key", HNNRT_KIND_RELIN_KEY, rk}, {"galois-keys", HNNRT_KIND_GALOIS_KEYS, gk},
        {"plaintext", HNNRT_KIND_PLAINTEXT, pt}, {"ciphertext", HNNRT_KIND_CIPHERTEXT, ct},
    };
    char path[4096];
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        hnnrt_error err;
        snprintf(path, sizeof path, "%s/%s", dir, seeds[i].name);
        if (hnnrt_file_write(path, seeds[i].kind, seeds[i].obj, &err) != HNNRT_OK) {
            fprintf(stderr, "fuzz_serial: %s\n", err.message);
            exit(1);
        }
    }
    hnnrt_ct_free(ct);
    hnnrt_pt_free(pt);
    hnnrt_encryptor_free(encr);
    hnnrt_encoder_free(enc);
    hnnrt_galois_keys_free(gk);
    hnnrt_relin_key_free(rk);
    hnnrt_public_key_free(pk);
    hnnrt_secret_key_free(sparse);
    hnnrt_secret_key_free(sk);
    hnnrt_keygen_free(kg);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* N = 2^10, primes 40, 30 | 40, dnum 2: objects of a few kilobytes. */
    hnnrt_params_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.log_n = 10;
    spec.n_data_primes = 2;
    spec.data_bits[0] = 40;
    spec.data_bits[1] = 30;
    spec.n_special_primes = 1;
    spec.special_bits[0] = 40;
    hnnrt_error err;
    if (hnnrt_context_new(&ctx, &spec, HNNRT_PARAMS_INSECURE_TESTS_ONLY, &err) != HNNRT_OK) {
        fprintf(stderr, "fuzz_serial: %s\n", err.message);
        exit(1);
    }
    hnnrt_context_set_threads(ctx, 1);
    base_allocations = hnnrt_context_live_allocations(ctx);
    const char *dir = getenv("HNNRT_FUZZ_SEEDS");
    if (dir && *dir)
        write_seeds(dir);
    scratch_cap = (size_t)1 << 20;
    scratch = malloc(scratch_cap);
    if (!scratch)
        exit(1);
    return 0;
}

static void
check_no_leak(void)
{
    if (hnnrt_context_live_allocations(ctx) != base_allocations)
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hnnrt_error err;

    hnnrt_context *c2 = NULL;
    if (hnnrt_params_deserialize(&c2, data, size, HNNRT_PARAMS_INSECURE_TESTS_ONLY, &err) == HNNRT_OK) {
#define SER(b, cap, len) hnnrt_params_serialize(c2, b, cap, len)
        SAME_BYTES(SER);
#undef SER
        hnnrt_context_free(c2);
    }

    hnnrt_secret_key *sk = NULL;
    if (hnnrt_secret_key_deserialize(ctx, &sk, data, size, &err) == HNNRT_OK) {
#define SER(b, cap, len) hnnrt_secret_key_serialize(sk, b, cap, len)
        SAME_BYTES(SER);
#undef SER
        hnnrt_secret_key_free(sk);
    }
    check_no_leak();

    hnnrt_public_key *pk = NULL;
    if (hnnrt_public_key_deserialize(ctx, &pk, data, size, &err) == HNNRT_OK) {
#define SER(b, cap, len) hnnrt_public_key_serialize(pk, b, cap, len)
        SAME_BYTES(SER);
#undef SER
        hnnrt_public_key_free(pk);
    }
    check_no_leak();

    hnnrt_relin_key *rk = NULL;
    if (hnnrt_relin_key_deserialize(ctx, &rk, data, size, &err) == HNNRT_OK) {
#define SER(b, cap, len) hnnrt_relin_key_serialize(rk, b, cap, len)
        SAME_BYTES(SER);
#undef SER
        hnnrt_relin_key_free(rk);
    }
    check_no_leak();

    hnnrt_galois_keys *gk = NULL;
    if (hnnrt_galois_keys_deserialize(ctx, &gk, data, size, &err) == HNNRT_OK) {
#define SER(b, cap, len) hnnrt_galois_keys_serialize(gk, b, cap, len)
        SAME_BYTES(SER);
#undef SER
        hnnrt_galois_keys_free(gk);
    }
    check_no_leak();

    hnnrt_pt *pt = NULL;
    if (hnnrt_pt_new(ctx, &pt) == HNNRT_OK) {
        if (hnnrt_pt_deserialize(ctx, pt, data, size, &err) == HNNRT_OK) {
#define SER(b, cap, len) hnnrt_pt_serialize(pt, b, cap, len)
            SAME_BYTES(SER);
#undef SER
        }
        hnnrt_pt_free(pt);
    }
    check_no_leak();

    hnnrt_ct *ct = NULL;
    if (hnnrt_ct_new(ctx, &ct) == HNNRT_OK) {
        if (hnnrt_ct_deserialize(ctx, ct, data, size, &err) == HNNRT_OK) {
#define SER(b, cap, len) hnnrt_ct_serialize(ct, b, cap, len)
            SAME_BYTES(SER);
#undef SER
        }
        hnnrt_ct_free(ct);
    }
    check_no_leak();
    return 0;
}
