/*
 * hnnrt-bench — timings of libhnnrt's operations (`make bench`).
 *
 * stdout carries one JSON object per line and nothing else (DESIGN.md §6):
 *   {"op": NAME, "logN": n, "levels": L, "special": k, "threads": t,
 *    "median_ns": x, "runs": r, "dnum": d, "min_ns": a, "p90_ns": b,
 *    "ntt_kernel": "name"[, NTT only: "prime_bits", "q1_bits", "q1_median_ns",
 *    "q1_runs"], "others_cpu": c[, "attempts": k][, "allocs": m]}
 * Progress, the machine description and the check lines go to stderr.
 *
 * Method. Every operation runs at the top level of its parameter set on
 * operands prepared beforehand, into outputs reserved beforehand, so a run
 * measures the operation and not the growth of its output. One untimed call
 * warms caches, thread pools and buffers; then each call is timed on its own
 * (CLOCK_MONOTONIC) until there are at least --min-runs runs and
 * --min-time seconds of them, or, for slow operations, at least --slow-runs
 * runs and --max-time seconds. The line reports the median, the minimum and
 * the 90th percentile of those runs and how many there were.
 *
 * The machine may be shared. others_cpu is the CPU time, in cores, that other
 * processes took while the runs lasted; when they took cores this thread
 * count needed, the measurement is redone after a quiet moment (see
 * time_op), and "attempts" says how many were made.
 *
 * "allocs" appears when the runtime's live blocks (through the allocator
 * hook) grew across the timed runs: the blocks an operation keeps per call.
 * Blocks allocated and freed within one call do not show there.
 *
 * The bit-identity check (on unless --no-check) redoes key generation,
 * encryption, mul_relin + rescale and rotations from fixed seeds at logN 13
 * and 14 with 1 and then 2 threads, and with the scalar NTT kernel when the
 * context chose another, and compares every limb; a difference is a runtime
 * bug and makes the program exit with status 1.
 *
 * This program reads internal headers on purpose: the one-limb NTT is timed
 * through the context's kernel table, and the check compares ciphertext limbs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <omp.h>

#include "hnnrt.h"
#include "eval/eval.h"

/* ------------------------------------------------------------------ parameter sets */

/* The sets of issue 2: a 60-bit q0, 40-bit primes above it, 60-bit special
 * primes, scale 2^40 (the "60-40" chains SEAL's figures use). */
typedef struct bench_set {
    unsigned log_n;
    unsigned n_data;    /* q0 (60 bits) and n_data - 1 primes of 40 bits */
    unsigned n_special; /* each 60 bits */
} bench_set;

static const bench_set bench_sets[] = {
    {13, 3, 1},
    {14, 7, 1},
    {15, 20, 1},
    {16, 35, 2},
};
#define BENCH_N_SETS (sizeof bench_sets / sizeof bench_sets[0])

#define BENCH_SCALE 0x1p40
#define BENCH_HOIST_STEPS 8
/* linear: a dense combination of this many inputs into this many outputs
 * (512 terms; about 1.8 GB of ciphertexts at logN 16). With fewer outputs
 * per input the call streams its inputs from memory at logN 15 and 16 and
 * times the memory more than the multiply-accumulates. */
#define BENCH_LIN_IN 16
#define BENCH_LIN_OUT 32
#define BENCH_MAX_THREADS 16

/* ------------------------------------------------------------------ options */

typedef struct bench_opts {
    unsigned sets;           /* bit i: bench_sets[i] */
    int threads[BENCH_MAX_THREADS];
    unsigned n_threads;
    uint32_t ops;            /* bit i: bench_ops[i] */
    int check;
    unsigned min_runs, slow_runs, max_runs;
    double min_time, max_time; /* seconds */
    unsigned retries;          /* further attempts of a contended measurement */
    double retry_time;         /* seconds the whole run may spend on them */
    double contention;         /* cores others may take beyond those left free */
    long hz;                   /* clock ticks per second of /proc */
    int ncpu;
} bench_opts;

/* ------------------------------------------------------------------ state of one parameter set */

typedef struct bench_env {
    const bench_set *set;
    hnnrt_context *ctx;
    unsigned level;          /* L: every operation runs at the top level */
    size_t slots;
    uint64_t rng;            /* xorshift state for operand values (not secret) */
    long live_ctx;           /* blocks the context holds for itself */

    hnnrt_keygen *kg;
    hnnrt_secret_key *sk;
    hnnrt_public_key *pk;
    hnnrt_relin_key *rk;     /* only while a relinearising op runs */
    hnnrt_galois_keys *gk;   /* only while a rotating op runs */

    /* Actors: made again for every thread count, because an evaluator sizes
     * its key-switching scratch for the thread count in force when it is made. */
    hnnrt_encoder *enc;
    hnnrt_encryptor *encr;
    hnnrt_decryptor *dec;
    hnnrt_evaluator *ev;
    hnnrt_hoisted *hoist;

    double *values, *decoded;        /* [slots] */
    /* The NTT is timed on one limb mod q0 (60 bits) and, for the extra
     * q1_ fields, on one limb mod q1 (40 bits): a kernel may treat the two
     * sizes differently, and 40-bit primes make up the rest of each chain. */
    unsigned ntt_prime;              /* 0 or 1 */
    uint64_t *limb[2];               /* [n] each, mod q0 and mod q1 */
    hnnrt_pt *pt, *pt_out;
    hnnrt_ct *a, *b, *prod;          /* prod: 3 parts, for relin */
    hnnrt_ct *out;                   /* reserved for 3 parts at level L */
    hnnrt_ct *outs[BENCH_HOIST_STEPS];
    hnnrt_galois_keys *gk_made;      /* keygen_galois output, freed after each run */
    hnnrt_ct *lin_in[BENCH_LIN_IN], *lin_out[BENCH_LIN_OUT];
    size_t lin_rows[BENCH_LIN_OUT + 1];
    uint32_t lin_col[BENCH_LIN_IN * BENCH_LIN_OUT];
    double lin_coeff[BENCH_LIN_IN * BENCH_LIN_OUT];
} bench_env;

/* ------------------------------------------------------------------ operations */

typedef enum bench_needs {
    BENCH_NEEDS_NONE,
    BENCH_NEEDS_RELIN,
    BENCH_NEEDS_GALOIS,
} bench_needs;

typedef struct bench_op {
    const char *name;
    bench_needs needs;
    unsigned per_run;                        /* operations in one timed call */
    int steady;                              /* counted for allocations in steady state */
    int one_limb;                            /* the NTT: one thread whatever the count, timed mod q0 and q1 */
    hnnrt_status (*run)(bench_env *b);
    void (*after)(bench_env *b);             /* untimed clean-up after each call, or NULL */
} bench_op;

static hnnrt_status
op_ntt_fwd(bench_env *b)
{
    b->ctx->kern->fwd(&b->ctx->ntt[b->ntt_prime], b->limb[b->ntt_prime]);
    return HNNRT_OK;
}

static hnnrt_status
op_ntt_inv(bench_env *b)
{
    b->ctx->kern->inv(&b->ctx->ntt[b->ntt_prime], b->limb[b->ntt_prime]);
    return HNNRT_OK;
}

static hnnrt_status
op_encode(bench_env *b)
{
    return hnnrt_encode(b->enc, b->pt_out, b->values, b->slots, BENCH_SCALE, b->level);
}

static hnnrt_status
op_decode(bench_env *b)
{
    return hnnrt_decode(b->enc, b->pt, b->decoded, b->slots);
}

static hnnrt_status
op_encrypt_pk(bench_env *b)
{
    return hnnrt_encrypt(b->encr, b->out, b->pt);
}

static hnnrt_status
op_decrypt(bench_env *b)
{
    return hnnrt_decrypt(b->dec, b->pt_out, b->a);
}

static hnnrt_status
op_add(bench_env *b)
{
    return hnnrt_eval_add(b->ev, b->out, b->a, b->b);
}

static hnnrt_status
op_mul_pt(bench_env *b)
{
    return hnnrt_eval_mul_pt(b->ev, b->out, b->a, b->pt);
}

static hnnrt_status
op_linear(bench_env *b)
{
    const hnnrt_linear_map map = {BENCH_LIN_OUT, BENCH_LIN_IN, b->lin_rows, b->lin_col, b->lin_coeff};
    return hnnrt_eval_linear(b->ev, b->lin_out, (const hnnrt_ct *const *)b->lin_in, &map, BENCH_SCALE, b->level);
}

static hnnrt_status
op_mul_ct(bench_env *b)
{
    return hnnrt_eval_mul_ct(b->ev, b->out, b->a, b->b);
}

static hnnrt_status
op_relin(bench_env *b)
{
    return hnnrt_eval_relin(b->ev, b->out, b->prod);
}

static hnnrt_status
op_mul_relin(bench_env *b)
{
    return hnnrt_eval_mul_relin(b->ev, b->out, b->a, b->b);
}

static hnnrt_status
op_rescale(bench_env *b)
{
    return hnnrt_eval_rescale(b->ev, b->out, b->a);
}

static hnnrt_status
op_rotate(bench_env *b)
{
    return hnnrt_eval_rotate(b->ev, b->out, b->a, 1);
}

static hnnrt_status
op_rotate_hoisted(bench_env *b)
{
    hnnrt_status st = hnnrt_eval_hoist(b->ev, b->hoist, b->a);
    for (int i = 0; i < BENCH_HOIST_STEPS && st == HNNRT_OK; i++)
        st = hnnrt_eval_rotate_hoisted(b->ev, b->outs[i], b->hoist, i + 1);
    return st;
}

static hnnrt_status
op_conjugate(bench_env *b)
{
    return hnnrt_eval_conjugate(b->ev, b->out, b->a);
}

static hnnrt_status
op_keygen_galois(bench_env *b)
{
    const int step = 1;
    return hnnrt_keygen_galois(b->kg, b->sk, &step, 1, 0, &b->gk_made);
}

static void
after_keygen_galois(bench_env *b)
{
    hnnrt_galois_keys_free(b->gk_made);
    b->gk_made = NULL;
}

static const bench_op bench_ops[] = {
    {"ntt_fwd", BENCH_NEEDS_NONE, 1, 0, 1, op_ntt_fwd, NULL},
    {"ntt_inv", BENCH_NEEDS_NONE, 1, 0, 1, op_ntt_inv, NULL},
    {"encode", BENCH_NEEDS_NONE, 1, 1, 0, op_encode, NULL},
    {"decode", BENCH_NEEDS_NONE, 1, 1, 0, op_decode, NULL},
    {"encrypt_pk", BENCH_NEEDS_NONE, 1, 1, 0, op_encrypt_pk, NULL},
    {"decrypt", BENCH_NEEDS_NONE, 1, 1, 0, op_decrypt, NULL},
    {"add", BENCH_NEEDS_NONE, 1, 1, 0, op_add, NULL},
    {"mul_pt", BENCH_NEEDS_NONE, 1, 1, 0, op_mul_pt, NULL},
    {"linear", BENCH_NEEDS_NONE, 1, 1, 0, op_linear, NULL},
    {"mul_ct", BENCH_NEEDS_NONE, 1, 1, 0, op_mul_ct, NULL},
    {"relin", BENCH_NEEDS_RELIN, 1, 1, 0, op_relin, NULL},
    {"mul_relin", BENCH_NEEDS_RELIN, 1, 1, 0, op_mul_relin, NULL},
    {"rescale", BENCH_NEEDS_NONE, 1, 1, 0, op_rescale, NULL},
    {"rotate", BENCH_NEEDS_GALOIS, 1, 1, 0, op_rotate, NULL},
    {"rotate_hoisted", BENCH_NEEDS_GALOIS, BENCH_HOIST_STEPS, 1, 0, op_rotate_hoisted, NULL},
    {"conjugate", BENCH_NEEDS_GALOIS, 1, 1, 0, op_conjugate, NULL},
    {"keygen_galois", BENCH_NEEDS_NONE, 1, 0, 0, op_keygen_galois, after_keygen_galois},
};
#define BENCH_N_OPS (sizeof bench_ops / sizeof bench_ops[0])

/* ------------------------------------------------------------------ small helpers */

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* In [-1, 1]. */
static double
uniform_pm1(uint64_t *s)
{
    return (double)(xorshift(s) >> 11) * 0x1p-52 - 1.0;
}

static int
cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void
die_status(const char *what, hnnrt_status st, const char *detail)
{
    fprintf(stderr, "hnnrt-bench: %s: %s%s%s\n", what, hnnrt_status_name(st), detail && *detail ? ": " : "",
            detail ? detail : "");
    exit(1);
}

#define CHECK(what, call, detail)                                                                            \
    do {                                                                                                     \
        hnnrt_status st_ = (call);                                                                           \
        if (st_ != HNNRT_OK)                                                                                 \
            die_status((what), st_, (detail));                                                               \
    } while (0)

static void *
xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "hnnrt-bench: out of memory\n");
        exit(1);
    }
    return p;
}

static void
spec_for(const bench_set *set, hnnrt_params_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->log_n = set->log_n;
    spec->n_data_primes = set->n_data;
    spec->data_bits[0] = 60;
    for (unsigned i = 1; i < set->n_data; i++)
        spec->data_bits[i] = 40;
    spec->n_special_primes = set->n_special;
    for (unsigned i = 0; i < set->n_special; i++)
        spec->special_bits[i] = 60;
    spec->security = HNNRT_SECURITY_128;
}

static hnnrt_context *
context_for(const bench_set *set)
{
    hnnrt_params_spec spec;
    hnnrt_error err = {0};
    hnnrt_context *ctx;
    spec_for(set, &spec);
    CHECK("context", hnnrt_context_new(&ctx, &spec, 0, &err), err.message);
    return ctx;
}

/* Bytes of one switching key: dnum digits of (b, a) over every prime. */
static double
key_mib(const hnnrt_context *ctx)
{
    return (double)ctx->dnum * ctx->n_primes * ctx->n * 2 * sizeof(uint64_t) / (1024.0 * 1024.0);
}

/* ------------------------------------------------------------------ contention */

/*
 * The machine is shared: another process on a core stalls every join of an
 * OpenMP team until the scheduler runs the waiting thread again (a tick,
 * 4 ms here), which can inflate a 2-thread median tenfold. So the CPU time
 * other processes (and the hypervisor, as steal) took during the runs is
 * measured from /proc and reported, and a contended measurement is redone.
 */
typedef struct cpu_mark {
    double wall;
    long long busy; /* jiffies any CPU was busy or stolen, /proc/stat */
    long long self; /* jiffies of this process, /proc/self/stat */
} cpu_mark;

/* 0 on success, -1 when /proc cannot be read. */
static int
cpu_mark_now(cpu_mark *m)
{
    m->wall = now_seconds();
    long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    int got = fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                     &v[6], &v[7]);
    fclose(f);
    if (got != 8)
        return -1;
    /* user nice system idle iowait irq softirq steal */
    m->busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];

    char buf[1024];
    f = fopen("/proc/self/stat", "r");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    /* Fields after the command name, which may hold spaces: state is field 3,
     * utime 14 and stime 15. */
    const char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    long long utime = 0, stime = 0;
    if (sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %lld %lld", &utime, &stime) != 2)
        return -1;
    m->self = utime + stime;
    return 0;
}

/* Cores' worth of CPU other processes took between a and b. */
static double
cpu_others(const cpu_mark *a, const cpu_mark *b, long hz)
{
    double secs = b->wall - a->wall;
    if (secs <= 0 || hz <= 0)
        return 0;
    double v = (double)((b->busy - a->busy) - (b->self - a->self)) / (double)hz / secs;
    return v > 0 ? v : 0;
}

/* Waits, up to max_wait seconds, for a half-second window in which other
 * processes leave room for threads threads. */
static void
wait_quiet(const bench_opts *o, int threads, double max_wait)
{
    const double until = now_seconds() + max_wait;
    while (now_seconds() < until) {
        cpu_mark a, b;
        if (cpu_mark_now(&a) != 0)
            return;
        struct timespec half = {0, 500000000L};
        nanosleep(&half, NULL);
        if (cpu_mark_now(&b) != 0)
            return;
        if (cpu_others(&a, &b, o->hz) <= o->ncpu - threads + o->contention)
            return;
    }
}

/* ------------------------------------------------------------------ timing */

typedef struct bench_result {
    double median_ns, min_ns, p90_ns;
    unsigned runs;
    long allocs;       /* net live blocks gained over all timed runs */
    double others;     /* cores other processes used meanwhile; < 0 unknown */
    unsigned attempts;
} bench_result;

/* The message of whichever actor failed last. */
static const char *
last_error(const bench_env *b)
{
    const char *msgs[] = {hnnrt_evaluator_last_error(b->ev), hnnrt_encoder_last_error(b->enc),
                          hnnrt_encryptor_last_error(b->encr), hnnrt_decryptor_last_error(b->dec),
                          hnnrt_keygen_last_error(b->kg)};
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++)
        if (*msgs[i])
            return msgs[i];
    return "";
}

/* One warm-up call, then timed calls until the run rule is met. */
static void
measure(bench_env *b, const bench_op *op, const bench_opts *o, double *samples, bench_result *r)
{
    CHECK(op->name, op->run(b), last_error(b));
    if (op->after)
        op->after(b);

    unsigned runs = 0;
    cpu_mark m0, m1;
    int have_marks = cpu_mark_now(&m0) == 0;
    const long live0 = hnnrt_context_live_allocations(b->ctx);
    const double start = now_seconds();
    for (;;) {
        const double t0 = now_seconds();
        hnnrt_status st = op->run(b);
        const double t1 = now_seconds();
        if (st != HNNRT_OK)
            die_status(op->name, st, last_error(b));
        if (op->after)
            op->after(b);
        samples[runs++] = (t1 - t0) / op->per_run;
        const double spent = now_seconds() - start;
        if (runs >= o->max_runs)
            break;
        if (runs >= o->min_runs && spent >= o->min_time)
            break;
        if (runs >= o->slow_runs && spent >= o->max_time)
            break;
    }
    r->allocs = hnnrt_context_live_allocations(b->ctx) - live0;
    have_marks = have_marks && cpu_mark_now(&m1) == 0;
    r->others = have_marks ? cpu_others(&m0, &m1, o->hz) : -1;
    qsort(samples, runs, sizeof *samples, cmp_double);
    r->runs = runs;
    r->median_ns = 1e9 * (runs % 2 ? samples[runs / 2] : 0.5 * (samples[runs / 2 - 1] + samples[runs / 2]));
    r->min_ns = 1e9 * samples[0];
    /* Nearest rank. */
    size_t rank = (size_t)ceil(0.9 * runs);
    r->p90_ns = 1e9 * samples[rank ? rank - 1 : 0];
}

/*
 * Measures op; while other processes took more than the cores this thread
 * count leaves free (plus o->contention), waits for a quiet moment and
 * measures again, as long as the run's retry budget (*retry_left seconds)
 * lasts. Keeps the least disturbed attempt.
 */
static void
time_op(bench_env *b, const bench_op *op, const bench_opts *o, int threads, double *retry_left, bench_result *r)
{
    double *samples = xcalloc(o->max_runs, sizeof *samples);
    const double allowed = o->ncpu - (op->one_limb ? 1 : threads) + o->contention;
    measure(b, op, o, samples, r);
    r->attempts = 1;
    while (r->others > allowed && r->attempts <= o->retries && *retry_left > 0) {
        const double t0 = now_seconds();
        fprintf(stderr, "  %-15s threads %d: other processes took %.2f cores, measuring again\n", op->name, threads,
                r->others);
        wait_quiet(o, op->one_limb ? 1 : threads, fmin(10.0, *retry_left));
        bench_result again;
        measure(b, op, o, samples, &again);
        again.attempts = r->attempts + 1;
        if (again.others < r->others)
            *r = again;
        else
            r->attempts = again.attempts;
        *retry_left -= now_seconds() - t0;
    }
    free(samples);
}

/* q1 MAY be NULL; for the NTT it holds the figures of the 40-bit limb. */
static void
print_result(const bench_env *b, const bench_op *op, int threads, const bench_result *r, const bench_result *q1)
{
    printf("{\"op\": \"%s\", \"logN\": %u, \"levels\": %u, \"special\": %u, \"threads\": %d, "
           "\"median_ns\": %.0f, \"runs\": %u, \"dnum\": %u, \"min_ns\": %.0f, \"p90_ns\": %.0f, "
           "\"ntt_kernel\": \"%s\"",
           op->name, b->set->log_n, b->level, b->ctx->n_special, threads, r->median_ns, r->runs, b->ctx->dnum,
           r->min_ns, r->p90_ns, b->ctx->kern->name);
    if (op->run == op_linear)
        printf(", \"inputs\": %d, \"outputs\": %d, \"terms\": %d", BENCH_LIN_IN, BENCH_LIN_OUT,
               BENCH_LIN_IN * BENCH_LIN_OUT);
    if (q1)
        printf(", \"prime_bits\": %u, \"q1_bits\": %u, \"q1_median_ns\": %.0f, \"q1_runs\": %u",
               b->ctx->ntt[0].mod.bits, b->ctx->ntt[1].mod.bits, q1->median_ns, q1->runs);
    if (r->others >= 0)
        printf(", \"others_cpu\": %.2f", r->others);
    if (r->attempts > 1)
        printf(", \"attempts\": %u", r->attempts);
    if (r->allocs != 0)
        printf(", \"allocs\": %.3g", (double)r->allocs / r->runs);
    printf("}\n");
    fflush(stdout);
}

/* ------------------------------------------------------------------ set-up */

static void
env_open(bench_env *b, const bench_set *set)
{
    memset(b, 0, sizeof *b);
    b->set = set;
    b->ctx = context_for(set);
    b->live_ctx = hnnrt_context_live_allocations(b->ctx);
    b->level = b->ctx->max_level;
    b->slots = hnnrt_context_slots(b->ctx);
    b->rng = 0x9e3779b97f4a7c15u ^ set->log_n;
    CHECK("keygen", hnnrt_keygen_new(b->ctx, &b->kg), NULL);
    CHECK("secret key", hnnrt_keygen_secret(b->kg, 0, &b->sk), hnnrt_keygen_last_error(b->kg));
    CHECK("public key", hnnrt_keygen_public(b->kg, b->sk, &b->pk), hnnrt_keygen_last_error(b->kg));

    b->values = xcalloc(b->slots, sizeof *b->values);
    b->decoded = xcalloc(b->slots, sizeof *b->decoded);
    for (size_t i = 0; i < b->slots; i++)
        b->values[i] = uniform_pm1(&b->rng);
    for (unsigned k = 0; k < 2; k++) {
        b->limb[k] = xcalloc(b->ctx->n, sizeof *b->limb[k]);
        const uint64_t q = b->ctx->ntt[k].mod.value;
        for (size_t i = 0; i < b->ctx->n; i++)
            b->limb[k][i] = xorshift(&b->rng) % q;
    }

    CHECK("pt", hnnrt_pt_new(b->ctx, &b->pt), NULL);
    CHECK("pt", hnnrt_pt_new(b->ctx, &b->pt_out), NULL);
    hnnrt_ct **cts[] = {&b->a, &b->b, &b->prod, &b->out};
    for (size_t i = 0; i < sizeof cts / sizeof cts[0]; i++) {
        CHECK("ct", hnnrt_ct_new(b->ctx, cts[i]), NULL);
        CHECK("ct", hnnrt_ct_reserve(*cts[i], 3, b->level), NULL);
    }
    for (int i = 0; i < BENCH_HOIST_STEPS; i++) {
        CHECK("ct", hnnrt_ct_new(b->ctx, &b->outs[i]), NULL);
        CHECK("ct", hnnrt_ct_reserve(b->outs[i], 2, b->level), NULL);
    }
    for (int k = 0; k < BENCH_LIN_IN; k++)
        CHECK("ct", hnnrt_ct_new(b->ctx, &b->lin_in[k]), NULL);
    for (int j = 0; j < BENCH_LIN_OUT; j++) {
        CHECK("ct", hnnrt_ct_new(b->ctx, &b->lin_out[j]), NULL);
        CHECK("ct", hnnrt_ct_reserve(b->lin_out[j], 2, b->level), NULL);
        b->lin_rows[j + 1] = (size_t)(j + 1) * BENCH_LIN_IN;
        for (int k = 0; k < BENCH_LIN_IN; k++) {
            b->lin_col[j * BENCH_LIN_IN + k] = (uint32_t)k;
            b->lin_coeff[j * BENCH_LIN_IN + k] = uniform_pm1(&b->rng);
        }
    }
}

static void
env_close(bench_env *b)
{
    for (int i = 0; i < BENCH_HOIST_STEPS; i++)
        hnnrt_ct_free(b->outs[i]);
    for (int k = 0; k < BENCH_LIN_IN; k++)
        hnnrt_ct_free(b->lin_in[k]);
    for (int j = 0; j < BENCH_LIN_OUT; j++)
        hnnrt_ct_free(b->lin_out[j]);
    hnnrt_ct_free(b->a);
    hnnrt_ct_free(b->b);
    hnnrt_ct_free(b->prod);
    hnnrt_ct_free(b->out);
    hnnrt_pt_free(b->pt);
    hnnrt_pt_free(b->pt_out);
    free(b->values);
    free(b->decoded);
    free(b->limb[0]);
    free(b->limb[1]);
    hnnrt_relin_key_free(b->rk);
    hnnrt_galois_keys_free(b->gk);
    hnnrt_public_key_free(b->pk);
    hnnrt_secret_key_free(b->sk);
    hnnrt_keygen_free(b->kg);
    long live = hnnrt_context_live_allocations(b->ctx) - b->live_ctx;
    if (live != 0)
        fprintf(stderr, "hnnrt-bench: logN %u: %ld blocks leaked: still live after freeing every object\n",
                b->set->log_n, live);
    hnnrt_context_free(b->ctx);
}

/* Actors and operands for the thread count in force. */
static void
actors_open(bench_env *b)
{
    hnnrt_context *ctx = b->ctx;
    CHECK("encoder", hnnrt_encoder_new(ctx, &b->enc), NULL);
    CHECK("encryptor", hnnrt_encryptor_new(ctx, b->pk, NULL, &b->encr), NULL);
    CHECK("decryptor", hnnrt_decryptor_new(ctx, b->sk, &b->dec), NULL);
    CHECK("evaluator", hnnrt_evaluator_new(ctx, b->rk, b->gk, &b->ev), NULL);
    CHECK("hoisted", hnnrt_hoisted_new(b->ev, &b->hoist), NULL);
    CHECK("encode", hnnrt_encode(b->enc, b->pt, b->values, b->slots, BENCH_SCALE, b->level),
          hnnrt_encoder_last_error(b->enc));
    CHECK("encode", hnnrt_encode(b->enc, b->pt_out, b->values, b->slots, BENCH_SCALE, b->level),
          hnnrt_encoder_last_error(b->enc));
    CHECK("encrypt", hnnrt_encrypt(b->encr, b->a, b->pt), hnnrt_encryptor_last_error(b->encr));
    CHECK("encrypt", hnnrt_encrypt(b->encr, b->b, b->pt), hnnrt_encryptor_last_error(b->encr));
    CHECK("mul_ct", hnnrt_eval_mul_ct(b->ev, b->prod, b->a, b->b), hnnrt_evaluator_last_error(b->ev));
    for (int k = 0; k < BENCH_LIN_IN; k++)
        CHECK("copy", hnnrt_ct_copy(b->lin_in[k], k % 2 ? b->b : b->a), NULL);
}

static void
actors_close(bench_env *b)
{
    hnnrt_hoisted_free(b->hoist);
    hnnrt_evaluator_free(b->ev);
    hnnrt_decryptor_free(b->dec);
    hnnrt_encryptor_free(b->encr);
    hnnrt_encoder_free(b->enc);
    b->hoist = NULL;
    b->ev = NULL;
    b->dec = NULL;
    b->encr = NULL;
    b->enc = NULL;
}

static void
keys_open(bench_env *b, bench_needs needs)
{
    double t0 = now_seconds();
    if (needs == BENCH_NEEDS_RELIN) {
        CHECK("relin key", hnnrt_keygen_relin(b->kg, b->sk, &b->rk), hnnrt_keygen_last_error(b->kg));
        fprintf(stderr, "  relinearisation key: %.0f MiB, %.2f s\n", key_mib(b->ctx), now_seconds() - t0);
    } else if (needs == BENCH_NEEDS_GALOIS) {
        int steps[BENCH_HOIST_STEPS];
        for (int i = 0; i < BENCH_HOIST_STEPS; i++)
            steps[i] = i + 1;
        CHECK("galois keys", hnnrt_keygen_galois(b->kg, b->sk, steps, BENCH_HOIST_STEPS, 1, &b->gk),
              hnnrt_keygen_last_error(b->kg));
        fprintf(stderr, "  Galois keys (steps 1..%d, conjugation): %.0f MiB, %.2f s\n", BENCH_HOIST_STEPS,
                key_mib(b->ctx) * (BENCH_HOIST_STEPS + 1), now_seconds() - t0);
    }
}

static void
keys_close(bench_env *b)
{
    hnnrt_relin_key_free(b->rk);
    hnnrt_galois_keys_free(b->gk);
    b->rk = NULL;
    b->gk = NULL;
}

/* ------------------------------------------------------------------ the run */

/*
 * Operations are grouped by the keys they need so that at most one kind of
 * evaluation key is held at a time: at logN 16 one switching key takes about
 * 700 MiB, and the nine Galois keys alone about 6 GiB.
 */
static void
bench_set_run(const bench_set *set, const bench_opts *o, double *retry_left)
{
    bench_env b;
    double t0 = now_seconds();
    env_open(&b, set);
    fprintf(stderr, "logN %u: L = %u, k = %u, dnum = %u, log2 QP = %.1f, NTT kernel %s (%.2f s set-up)\n",
            set->log_n, b.level, b.ctx->n_special, b.ctx->dnum, hnnrt_context_log_qp(b.ctx), b.ctx->kern->name,
            now_seconds() - t0);
    const bench_needs groups[] = {BENCH_NEEDS_NONE, BENCH_NEEDS_RELIN, BENCH_NEEDS_GALOIS};
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        int any = 0;
        for (size_t i = 0; i < BENCH_N_OPS; i++)
            any |= (o->ops >> i & 1) && bench_ops[i].needs == groups[g];
        if (!any)
            continue;
        keys_open(&b, groups[g]);
        for (unsigned ti = 0; ti < o->n_threads; ti++) {
            const int threads = o->threads[ti];
            hnnrt_context_set_threads(b.ctx, threads);
            actors_open(&b);
            for (size_t i = 0; i < BENCH_N_OPS; i++) {
                const bench_op *op = &bench_ops[i];
                if (!(o->ops >> i & 1) || op->needs != groups[g])
                    continue;
                bench_result r, q1;
                b.ntt_prime = 0;
                time_op(&b, op, o, threads, retry_left, &r);
                if (op->one_limb) {
                    b.ntt_prime = 1;
                    time_op(&b, op, o, threads, retry_left, &q1);
                }
                print_result(&b, op, threads, &r, op->one_limb ? &q1 : NULL);
                fprintf(stderr, "  %-15s threads %d: median %12.0f ns, %6u runs, others took %.2f cores%s\n",
                        op->name, threads, r.median_ns, r.runs, r.others,
                        r.allocs && op->steady ? ", keeps blocks in steady state" : "");
                if (op->one_limb)
                    fprintf(stderr, "  %-15s threads %d: median %12.0f ns, %6u runs, others took %.2f cores (q1)\n",
                            op->name, threads, q1.median_ns, q1.runs, q1.others);
            }
            actors_close(&b);
        }
        keys_close(&b);
    }
    env_close(&b);
}

/* ------------------------------------------------------------------ bit-identity check */

/* Every word of the objects the check compares, in a fixed order. */
typedef struct check_snap {
    uint64_t *words;
    size_t count, cap;
} check_snap;

static void
snap_words(check_snap *s, const uint64_t *w, size_t count)
{
    if (s->count + count > s->cap) {
        size_t cap = s->cap ? s->cap : 1 << 16;
        while (cap < s->count + count)
            cap *= 2;
        uint64_t *p = realloc(s->words, cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "hnnrt-bench: out of memory\n");
            exit(1);
        }
        s->words = p;
        s->cap = cap;
    }
    memcpy(s->words + s->count, w, count * sizeof *w);
    s->count += count;
}

static void
snap_ct(check_snap *s, const hnnrt_ct *ct)
{
    const uint64_t meta[2] = {ct->size, ct->level};
    snap_words(s, meta, 2);
    for (unsigned p = 0; p < ct->size; p++)
        snap_words(s, hnnrt_ct_part(ct, p), (size_t)(ct->level + 1) * ct->ctx->n);
}

/* Where the snapshots of one item start, so a difference can be named. */
typedef struct check_item {
    const char *name;
    size_t start;
} check_item;

#define CHECK_ITEMS 8

/*
 * One pass of the check with the context's current thread count: keys from
 * a fixed seed, two encryptions from a fixed seed, then mul_relin + rescale,
 * rotate, hoisted rotations and conjugation. Returns the largest slot error
 * of the decrypted mul_relin + rescale against the product of the inputs.
 */
static double
check_pass(hnnrt_context *ctx, check_snap *s, check_item *items, unsigned *n_items)
{
    static const uint8_t key_seed[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                         17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    static const uint8_t enc_seed[32] = {32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
                                         16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    const int steps[3] = {1, 2, 5};
    const unsigned L = ctx->max_level;
    const size_t slots = hnnrt_context_slots(ctx), n = ctx->n;
    hnnrt_keygen *kg;
    hnnrt_secret_key *sk;
    hnnrt_public_key *pk;
    hnnrt_relin_key *rk;
    hnnrt_galois_keys *gk;
    CHECK("check keygen", hnnrt_keygen_new_seeded_insecure(ctx, key_seed, &kg), NULL);
    CHECK("check secret key", hnnrt_keygen_secret(kg, 0, &sk), hnnrt_keygen_last_error(kg));
    CHECK("check public key", hnnrt_keygen_public(kg, sk, &pk), hnnrt_keygen_last_error(kg));
    CHECK("check relin key", hnnrt_keygen_relin(kg, sk, &rk), hnnrt_keygen_last_error(kg));
    CHECK("check galois keys", hnnrt_keygen_galois(kg, sk, steps, 3, 1, &gk), hnnrt_keygen_last_error(kg));

    hnnrt_encoder *enc;
    hnnrt_encryptor *encr;
    hnnrt_decryptor *dec;
    hnnrt_evaluator *ev;
    hnnrt_hoisted *h;
    CHECK("check encoder", hnnrt_encoder_new(ctx, &enc), NULL);
    CHECK("check encryptor", hnnrt_encryptor_new_seeded_insecure(ctx, pk, NULL, enc_seed, &encr), NULL);
    CHECK("check decryptor", hnnrt_decryptor_new(ctx, sk, &dec), NULL);
    CHECK("check evaluator", hnnrt_evaluator_new(ctx, rk, gk, &ev), NULL);
    CHECK("check hoisted", hnnrt_hoisted_new(ev, &h), NULL);

    double *x = xcalloc(slots, sizeof *x), *y = xcalloc(slots, sizeof *y), *got = xcalloc(slots, sizeof *got);
    uint64_t rng = 0x2545f4914f6cdd1du;
    for (size_t i = 0; i < slots; i++) {
        x[i] = uniform_pm1(&rng);
        y[i] = uniform_pm1(&rng);
    }
    hnnrt_pt *px, *py, *pd;
    hnnrt_ct *cx, *cy, *prod, *rot, *conj, *hrot[3];
    CHECK("check pt", hnnrt_pt_new(ctx, &px), NULL);
    CHECK("check pt", hnnrt_pt_new(ctx, &py), NULL);
    CHECK("check pt", hnnrt_pt_new(ctx, &pd), NULL);
    hnnrt_ct **cts[] = {&cx, &cy, &prod, &rot, &conj, &hrot[0], &hrot[1], &hrot[2]};
    for (size_t i = 0; i < sizeof cts / sizeof cts[0]; i++)
        CHECK("check ct", hnnrt_ct_new(ctx, cts[i]), NULL);

    CHECK("check encode", hnnrt_encode(enc, px, x, slots, BENCH_SCALE, L), hnnrt_encoder_last_error(enc));
    CHECK("check encode", hnnrt_encode(enc, py, y, slots, BENCH_SCALE, L), hnnrt_encoder_last_error(enc));
    CHECK("check encrypt", hnnrt_encrypt(encr, cx, px), hnnrt_encryptor_last_error(encr));
    CHECK("check encrypt", hnnrt_encrypt(encr, cy, py), hnnrt_encryptor_last_error(encr));
    CHECK("check mul_relin", hnnrt_eval_mul_relin(ev, prod, cx, cy), hnnrt_evaluator_last_error(ev));
    CHECK("check rescale", hnnrt_eval_rescale(ev, prod, prod), hnnrt_evaluator_last_error(ev));
    CHECK("check rotate", hnnrt_eval_rotate(ev, rot, cx, 1), hnnrt_evaluator_last_error(ev));
    CHECK("check conjugate", hnnrt_eval_conjugate(ev, conj, cx), hnnrt_evaluator_last_error(ev));
    CHECK("check hoist", hnnrt_eval_hoist(ev, h, cx), hnnrt_evaluator_last_error(ev));
    for (int i = 0; i < 3; i++)
        CHECK("check rotate_hoisted", hnnrt_eval_rotate_hoisted(ev, hrot[i], h, steps[i]),
              hnnrt_evaluator_last_error(ev));

    unsigned k = 0;
    items[k++] = (check_item){"relinearisation key", s->count};
    snap_words(s, rk->key.b, (size_t)ctx->dnum * ctx->n_primes * n);
    snap_words(s, rk->key.a, (size_t)ctx->dnum * ctx->n_primes * n);
    items[k++] = (check_item){"Galois keys", s->count};
    for (size_t e = 0; e < gk->count; e++) {
        snap_words(s, gk->entries[e].key.b, (size_t)ctx->dnum * ctx->n_primes * n);
        snap_words(s, gk->entries[e].key.a, (size_t)ctx->dnum * ctx->n_primes * n);
    }
    items[k++] = (check_item){"encryptions", s->count};
    snap_ct(s, cx);
    snap_ct(s, cy);
    items[k++] = (check_item){"mul_relin+rescale", s->count};
    snap_ct(s, prod);
    items[k++] = (check_item){"rotate", s->count};
    snap_ct(s, rot);
    items[k++] = (check_item){"rotate_hoisted", s->count};
    for (int i = 0; i < 3; i++)
        snap_ct(s, hrot[i]);
    items[k++] = (check_item){"conjugate", s->count};
    snap_ct(s, conj);
    *n_items = k;

    CHECK("check decrypt", hnnrt_decrypt(dec, pd, prod), hnnrt_decryptor_last_error(dec));
    CHECK("check decode", hnnrt_decode(enc, pd, got, slots), hnnrt_encoder_last_error(enc));
    double max_err = 0;
    for (size_t i = 0; i < slots; i++)
        max_err = fmax(max_err, fabs(got[i] - x[i] * y[i]));

    for (size_t i = 0; i < sizeof cts / sizeof cts[0]; i++)
        hnnrt_ct_free(*cts[i]);
    hnnrt_pt_free(px);
    hnnrt_pt_free(py);
    hnnrt_pt_free(pd);
    free(x);
    free(y);
    free(got);
    hnnrt_hoisted_free(h);
    hnnrt_evaluator_free(ev);
    hnnrt_decryptor_free(dec);
    hnnrt_encryptor_free(encr);
    hnnrt_encoder_free(enc);
    hnnrt_galois_keys_free(gk);
    hnnrt_relin_key_free(rk);
    hnnrt_public_key_free(pk);
    hnnrt_secret_key_free(sk);
    hnnrt_keygen_free(kg);
    return max_err;
}

/* Compares pass b with pass a item by item on one stderr line; 1 if any word differs. */
static int
check_compare(const bench_set *set, const char *what, const check_snap *a, const check_item *items, unsigned n_items,
              const check_snap *b, const double err[2])
{
    int bad = a->count != b->count;
    fprintf(stderr, "check: logN %u, %s, seeded keys and encryptions:", set->log_n, what);
    for (unsigned i = 0; i < n_items; i++) {
        size_t from = items[i].start, to = i + 1 < n_items ? items[i + 1].start : a->count;
        size_t diff = 0;
        if (to <= b->count)
            for (size_t w = from; w < to; w++)
                diff += a->words[w] != b->words[w];
        else
            diff = to - from;
        if (diff) {
            bad = 1;
            fprintf(stderr, " %s DIFFER (%zu of %zu words);", items[i].name, diff, to - from);
        } else {
            fprintf(stderr, " %s identical;", items[i].name);
        }
    }
    fprintf(stderr, " mul_relin+rescale error 2^%.1f / 2^%.1f\n", log2(err[0]), log2(err[1]));
    if (bad)
        fprintf(stderr, "check: logN %u: FAILED: results depend on %s\n", set->log_n, what);
    return bad;
}

/*
 * 0 when the words are the same with 1 and 2 threads, and with the
 * context's NTT kernel and the scalar reference kernel (DESIGN.md §3 and
 * runtime/src/ntt/ntt.h promise both); 1 otherwise.
 */
static int
check_identity(const bench_set *set)
{
    hnnrt_context *ctx = context_for(set);
    const hnnrt_ntt_kernels *best = ctx->kern;
    check_snap snap[3] = {{0}};
    check_item items[3][CHECK_ITEMS];
    unsigned n_items[3];
    double err[3];
    for (int t = 0; t < 2; t++) {
        hnnrt_context_set_threads(ctx, t + 1);
        err[t] = check_pass(ctx, &snap[t], items[t], &n_items[t]);
    }
    int bad = check_compare(set, "1 vs 2 threads", &snap[0], items[0], n_items[0], &snap[1], err);
    if (best != &hnnrt_ntt_kernels_scalar) {
        /* The kernel is chosen once per context; swapping it in this private
         * context is the only way to run both on one parameter set. */
        ctx->kern = &hnnrt_ntt_kernels_scalar;
        hnnrt_context_set_threads(ctx, 1);
        err[2] = check_pass(ctx, &snap[2], items[2], &n_items[2]);
        char what[96];
        snprintf(what, sizeof what, "NTT kernel %s vs scalar", best->name);
        const double pair[2] = {err[0], err[2]};
        bad |= check_compare(set, what, &snap[0], items[0], n_items[0], &snap[2], pair);
    }
    hnnrt_context_free(ctx);
    for (int i = 0; i < 3; i++)
        free(snap[i].words);
    return bad;
}

/* ------------------------------------------------------------------ options */

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: hnnrt-bench [options]\n"
            "Times libhnnrt's operations; one JSON object per line on stdout.\n"
            "\n"
            "  --logn LIST       parameter sets by logN, from 13,14,15,16 (default: all)\n"
            "  --threads LIST    thread counts (default: 1,2)\n"
            "  --ops LIST        operations (default: all):\n"
            "                    ");
    for (size_t i = 0; i < BENCH_N_OPS; i++)
        fprintf(f, "%s%s", bench_ops[i].name, i + 1 < BENCH_N_OPS ? (i % 6 == 5 ? ",\n                    " : ",")
                                                                     : "\n");
    fprintf(f,
            "  --quick           few runs: a smoke test, not a measurement\n"
            "  --min-runs N      at least N runs per operation (default 9)\n"
            "  --min-time S      and at least S seconds of runs (default 0.3)\n"
            "  --max-time S      but stop after S seconds once --slow-runs runs are done (default 10)\n"
            "  --slow-runs N     (default 5)\n"
            "  --retries N       measure again, up to N times, when other processes took the\n"
            "                    cores the op needs (default 3)\n"
            "  --retry-time S    seconds the whole run may spend on that (default 180)\n"
            "  --no-check        skip the bit-identity check of 1 vs 2 threads and of the NTT\n"
            "                    kernel vs the scalar one (logN 13 and 14)\n"
            "  --help            this text\n"
            "\n"
            "Lines: {\"op\", \"logN\", \"levels\" (L: primes q0..qL), \"special\" (k), \"threads\",\n"
            "\"median_ns\", \"runs\", \"dnum\", \"min_ns\", \"p90_ns\", \"ntt_kernel\"[, for the one-limb NTT\n"
            "(prime q0): \"prime_bits\", and the 40-bit prime q1: \"q1_bits\", \"q1_median_ns\", \"q1_runs\"],\n"
            "\"others_cpu\" (cores other processes took meanwhile)[, \"attempts\"][, \"allocs\": blocks kept\n"
            "per call]}.\n"
            "rotate_hoisted is the cost per rotation of one hoist and %d rotations; linear is one\n"
            "call combining %d inputs into %d outputs, its line adds \"inputs\", \"outputs\", \"terms\".\n"
            "Exit status: 0, 1 on a failed operation or check, 2 on bad usage.\n",
            BENCH_HOIST_STEPS, BENCH_LIN_IN, BENCH_LIN_OUT);
}

static void
bad_usage(const char *what, const char *arg)
{
    fprintf(stderr, "hnnrt-bench: %s%s%s%s\nTry 'hnnrt-bench --help'.\n", what, arg ? " '" : "", arg ? arg : "",
            arg ? "'" : "");
    exit(2);
}

/* Next comma-separated item of *p into buf; 0 at the end. */
static int
next_item(const char **p, char *buf, size_t cap)
{
    if (!**p)
        return 0;
    const char *comma = strchr(*p, ',');
    size_t len = comma ? (size_t)(comma - *p) : strlen(*p);
    if (len == 0 || len >= cap)
        bad_usage("bad list item in", *p);
    memcpy(buf, *p, len);
    buf[len] = '\0';
    *p += len + (comma != NULL);
    return 1;
}

static long
parse_long(const char *s, long lo, long hi, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        bad_usage(what, s);
    return v;
}

static double
parse_seconds(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 3600)
        bad_usage("bad number of seconds", s);
    return v;
}

static void
parse_args(int argc, char **argv, bench_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sets = (1u << BENCH_N_SETS) - 1;
    o->ops = (uint32_t)((1u << BENCH_N_OPS) - 1);
    o->threads[0] = 1;
    o->threads[1] = 2;
    o->n_threads = 2;
    o->check = 1;
    o->min_runs = 9;
    o->slow_runs = 5;
    o->max_runs = 200000;
    o->min_time = 0.3;
    o->max_time = 10.0;
    o->retries = 3;
    o->retry_time = 180.0;
    o->contention = 0.15;
    o->hz = sysconf(_SC_CLK_TCK);
    o->ncpu = omp_get_num_procs();
    int quick = 0;
    char item[64];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--quick")) {
            quick = 1;
        } else if (!strcmp(a, "--no-check")) {
            o->check = 0;
        } else if (!v) {
            bad_usage("unknown option or missing value:", a);
        } else if (!strcmp(a, "--logn")) {
            o->sets = 0;
            for (const char *p = v; next_item(&p, item, sizeof item);) {
                long n = parse_long(item, 0, 64, "bad logN");
                size_t k = 0;
                while (k < BENCH_N_SETS && bench_sets[k].log_n != n)
                    k++;
                if (k == BENCH_N_SETS)
                    bad_usage("no parameter set (13, 14, 15, 16) with logN", item);
                o->sets |= 1u << k;
            }
            i++;
        } else if (!strcmp(a, "--threads")) {
            o->n_threads = 0;
            for (const char *p = v; next_item(&p, item, sizeof item);) {
                if (o->n_threads == BENCH_MAX_THREADS)
                    bad_usage("too many thread counts in", v);
                o->threads[o->n_threads++] = (int)parse_long(item, 1, 256, "bad thread count");
            }
            i++;
        } else if (!strcmp(a, "--ops")) {
            o->ops = 0;
            for (const char *p = v; next_item(&p, item, sizeof item);) {
                size_t k = 0;
                while (k < BENCH_N_OPS && strcmp(bench_ops[k].name, item))
                    k++;
                if (k == BENCH_N_OPS)
                    bad_usage("unknown operation (see --help):", item);
                o->ops |= 1u << k;
            }
            i++;
        } else if (!strcmp(a, "--min-runs")) {
            o->min_runs = (unsigned)parse_long(v, 1, 100000, "bad run count");
            i++;
        } else if (!strcmp(a, "--slow-runs")) {
            o->slow_runs = (unsigned)parse_long(v, 1, 100000, "bad run count");
            i++;
        } else if (!strcmp(a, "--min-time")) {
            o->min_time = parse_seconds(v);
            i++;
        } else if (!strcmp(a, "--retries")) {
            o->retries = (unsigned)parse_long(v, 0, 100, "bad retry count");
            i++;
        } else if (!strcmp(a, "--retry-time")) {
            o->retry_time = parse_seconds(v);
            i++;
        } else if (!strcmp(a, "--max-time")) {
            o->max_time = parse_seconds(v);
            i++;
        } else {
            bad_usage("unknown option", a);
        }
    }
    if (quick) {
        o->min_runs = 3;
        o->slow_runs = 1;
        o->min_time = 0.01;
        o->max_time = 0.05;
        o->retries = 0;
    }
    if (o->sets == 0 || o->n_threads == 0 || o->ops == 0)
        bad_usage("nothing to run", NULL);
    if (o->slow_runs > o->min_runs)
        o->slow_runs = o->min_runs;
}

/* ------------------------------------------------------------------ main */

static void
describe_machine(void)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[1024];
        while (fgets(line, sizeof line, f)) {
            if (!strncmp(line, "model name", 10)) {
                const char *c = strchr(line, ':');
                if (c) {
                    snprintf(model, sizeof model, "%s", c + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
    fprintf(stderr, "hnnrt-bench: libhnnrt %d.%d.%d, %s, %d OpenMP threads available, compiler %s\n",
            HNNRT_VERSION_MAJOR, HNNRT_VERSION_MINOR, HNNRT_VERSION_PATCH, model, omp_get_num_procs(), __VERSION__);
}

int
main(int argc, char **argv)
{
    bench_opts o;
    parse_args(argc, argv, &o);
    describe_machine();
    int failed = 0;
    double retry_left = o.retry_time;
    if (o.check)
        for (size_t i = 0; i < BENCH_N_SETS; i++)
            if ((o.sets >> i & 1) && bench_sets[i].log_n <= 14)
                failed |= check_identity(&bench_sets[i]);
    for (size_t i = 0; i < BENCH_N_SETS; i++)
        if (o.sets >> i & 1)
            bench_set_run(&bench_sets[i], &o, &retry_left);
    return failed;
}
