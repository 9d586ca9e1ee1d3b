/*
 * hnnrt_eval_linear, the fused linear combination: against the same sums on
 * plaintext doubles under an asserted bound, against mul_const + add word
 * for word, with both kernels (HNNRT_NTT=scalar makes the scalar one run),
 * and with hostile arguments. The kernels are also compared directly on
 * random residues, with rows long enough to need their partial reductions.
 */
#include "rt_test.h"

#include "eval/eval.h"
#include "poly/linear.h"

#define TOP 8
#define N_IN 24
#define N_OUT 9

typedef struct fixture {
    hnnrt_context *ctx;
    hnnrt_keygen *kg;
    hnnrt_secret_key *sk;
    hnnrt_public_key *pk;
    hnnrt_relin_key *rk;
    hnnrt_encoder *enc;
    hnnrt_encryptor *encr;
    hnnrt_decryptor *dec;
    hnnrt_evaluator *ev;
    hnnrt_pt *pt;
    hnnrt_ct *in[N_IN], *out[N_OUT], *ref[N_OUT], *tmp;
    size_t slots;
    double *x[N_IN], *want, *got;
    long base_allocs;
} fixture;

/* A context with the kernel `ntt` ("scalar", or NULL for the CPU's best). */
static fixture *
fixture_new(const char *ntt)
{
    fixture *f = calloc(1, sizeof *f);
    if (ntt)
        setenv("HNNRT_NTT", ntt, 1);
    f->ctx = rt_context(rt_spec(12, TOP + 1, 60, 40, 1, 60));
    unsetenv("HNNRT_NTT");
    f->base_allocs = hnnrt_context_live_allocations(f->ctx);
    RT_OK(hnnrt_keygen_new(f->ctx, &f->kg));
    RT_OK(hnnrt_keygen_secret(f->kg, 0, &f->sk));
    RT_OK(hnnrt_keygen_public(f->kg, f->sk, &f->pk));
    RT_OK(hnnrt_keygen_relin(f->kg, f->sk, &f->rk));
    RT_OK(hnnrt_encoder_new(f->ctx, &f->enc));
    RT_OK(hnnrt_encryptor_new(f->ctx, f->pk, NULL, &f->encr));
    RT_OK(hnnrt_decryptor_new(f->ctx, f->sk, &f->dec));
    RT_OK(hnnrt_evaluator_new(f->ctx, f->rk, NULL, &f->ev));
    RT_OK(hnnrt_pt_new(f->ctx, &f->pt));
    RT_OK(hnnrt_ct_new(f->ctx, &f->tmp));
    f->slots = hnnrt_context_slots(f->ctx);
    rt_rng r = {77};
    for (int k = 0; k < N_IN; k++) {
        RT_OK(hnnrt_ct_new(f->ctx, &f->in[k]));
        f->x[k] = malloc(f->slots * sizeof(double));
        for (size_t i = 0; i < f->slots; i++)
            f->x[k][i] = rt_unit(&r);
        RT_OK(hnnrt_encode(f->enc, f->pt, f->x[k], f->slots, 0x1p40, TOP));
        RT_OK(hnnrt_encrypt(f->encr, f->in[k], f->pt));
    }
    for (int j = 0; j < N_OUT; j++) {
        RT_OK(hnnrt_ct_new(f->ctx, &f->out[j]));
        RT_OK(hnnrt_ct_new(f->ctx, &f->ref[j]));
    }
    f->want = malloc(f->slots * sizeof(double));
    f->got = malloc(f->slots * sizeof(double));
    return f;
}

static void
fixture_free(fixture *f)
{
    for (int k = 0; k < N_IN; k++) {
        hnnrt_ct_free(f->in[k]);
        free(f->x[k]);
    }
    for (int j = 0; j < N_OUT; j++) {
        hnnrt_ct_free(f->out[j]);
        hnnrt_ct_free(f->ref[j]);
    }
    hnnrt_ct_free(f->tmp);
    hnnrt_pt_free(f->pt);
    hnnrt_evaluator_free(f->ev);
    hnnrt_decryptor_free(f->dec);
    hnnrt_encryptor_free(f->encr);
    hnnrt_encoder_free(f->enc);
    hnnrt_relin_key_free(f->rk);
    hnnrt_public_key_free(f->pk);
    hnnrt_secret_key_free(f->sk);
    hnnrt_keygen_free(f->kg);
    assert_int_equal(hnnrt_context_live_allocations(f->ctx), f->base_allocs);
    hnnrt_context_free(f->ctx);
    free(f->want);
    free(f->got);
    free(f);
}

/* A map with every shape of row: dense, sparse, a repeated input, one term,
 * empty, three rows on the same columns. Constants in [-1, 1], some 0. */
typedef struct test_map {
    size_t row_start[N_OUT + 1];
    uint32_t col[N_OUT * N_IN * 2];
    double coeff[N_OUT * N_IN * 2];
    hnnrt_linear_map map;
} test_map;

static void
make_map(test_map *m, uint64_t seed)
{
    rt_rng r = {seed};
    size_t t = 0;
    for (int j = 0; j < N_OUT; j++) {
        m->row_start[j] = t;
        const int copy = j == 5 || j == 6; /* row 4's columns */
        int terms = j == 0 ? N_IN : j == 1 ? 0 : j == 2 ? 1 : j == 3 ? 2 * N_IN : (int)(rt_next(&r) % N_IN) + 1;
        if (copy)
            terms = (int)(m->row_start[5] - m->row_start[4]);
        for (int k = 0; k < terms; k++) {
            m->col[t] = j == 0   ? (uint32_t)k
                        : j == 3 ? (uint32_t)(k % 3)
                        : copy   ? m->col[m->row_start[4] + (size_t)k]
                                 : (uint32_t)(rt_next(&r) % N_IN);
            m->coeff[t] = k % 7 == 5 ? 0.0 : rt_unit(&r);
            t++;
        }
    }
    m->row_start[N_OUT] = t;
    m->map = (hnnrt_linear_map){N_OUT, N_IN, m->row_start, m->col, m->coeff};
}

/* The same rows by mul_const and add, into ref[]. */
static void
unfused(fixture *f, const hnnrt_linear_map *m, const hnnrt_ct *const *in, double scale, unsigned level)
{
    for (size_t j = 0; j < m->n_out; j++) {
        if (m->row_start[j] == m->row_start[j + 1]) {
            RT_OK(hnnrt_eval_drop_to(f->ev, f->tmp, in[0], level));
            RT_OK(hnnrt_eval_mul_const(f->ev, f->ref[j], f->tmp, 0.0, scale));
            continue;
        }
        for (size_t t = m->row_start[j]; t < m->row_start[j + 1]; t++) {
            RT_OK(hnnrt_eval_drop_to(f->ev, f->tmp, in[m->col[t]], level));
            RT_OK(hnnrt_eval_mul_const(f->ev, f->tmp, f->tmp, m->coeff[t], scale));
            if (t == m->row_start[j])
                RT_OK(hnnrt_ct_copy(f->ref[j], f->tmp));
            else
                RT_OK(hnnrt_eval_add(f->ev, f->ref[j], f->ref[j], f->tmp));
        }
    }
}

static void
assert_same_words(const hnnrt_ct *a, const hnnrt_ct *b)
{
    assert_int_equal(hnnrt_ct_size(a), hnnrt_ct_size(b));
    assert_int_equal(hnnrt_ct_level(a), hnnrt_ct_level(b));
    assert_true(hnnrt_ct_scale(a) == hnnrt_ct_scale(b));
    const size_t words = (size_t)(hnnrt_ct_level(a) + 1) * a->ctx->n;
    for (unsigned p = 0; p < hnnrt_ct_size(a); p++)
        assert_memory_equal(hnnrt_ct_part(a, p), hnnrt_ct_part(b, p), words * sizeof(uint64_t));
}

/* Row j of m on the plaintexts, into want; returns 1 + sum |coeff|, by which
 * the inputs' errors may grow. */
static double
plain_row(fixture *f, const hnnrt_linear_map *m, size_t j, double (*value)(fixture *, uint32_t, size_t))
{
    double gain = 1;
    for (size_t t = m->row_start[j]; t < m->row_start[j + 1]; t++)
        gain += fabs(m->coeff[t]);
    for (size_t i = 0; i < f->slots; i++) {
        double s = 0;
        for (size_t t = m->row_start[j]; t < m->row_start[j + 1]; t++)
            s += m->coeff[t] * value(f, m->col[t], i);
        f->want[i] = s;
    }
    return gain;
}

static double
input_value(fixture *f, uint32_t k, size_t i)
{
    return f->x[k][i];
}

static double
square_value(fixture *f, uint32_t k, size_t i)
{
    return f->x[k][i] * f->x[k][i];
}

static double
decrypt_err(fixture *f, const hnnrt_ct *ct)
{
    RT_OK(hnnrt_decrypt(f->dec, f->pt, ct));
    RT_OK(hnnrt_decode(f->enc, f->pt, f->got, f->slots));
    return rt_max_err(f->want, f->got, f->slots);
}

/* Fused = unfused word for word, and = the plaintext sums after a rescale. */
static void
check_kernel(const char *ntt)
{
    fixture *f = fixture_new(ntt);
    print_message("  NTT kernel %s\n", f->ctx->kern->name);
    test_map m;
    make_map(&m, 5);
    const double scale = (double)hnnrt_context_prime(f->ctx, TOP);
    RT_OK(hnnrt_eval_linear(f->ev, f->out, (const hnnrt_ct *const *)f->in, &m.map, scale, TOP));
    unfused(f, &m.map, (const hnnrt_ct *const *)f->in, scale, TOP);
    double worst = 0;
    for (int j = 0; j < N_OUT; j++) {
        assert_same_words(f->out[j], f->ref[j]);
        RT_OK(hnnrt_eval_rescale(f->ev, f->out[j], f->out[j]));
        double gain = plain_row(f, &m.map, (size_t)j, input_value);
        worst = fmax(worst, decrypt_err(f, f->out[j]) / gain);
    }
    RT_ASSERT_ERR("linear+rescale / (1+sum|c|)", worst, -24);
    /* Scale 0: integer constants, the scale kept. */
    for (size_t t = 0; t < m.map.row_start[N_OUT]; t++)
        m.coeff[t] = nearbyint(4 * m.coeff[t]);
    RT_OK(hnnrt_eval_linear(f->ev, f->out, (const hnnrt_ct *const *)f->in, &m.map, 0.0, TOP));
    unfused(f, &m.map, (const hnnrt_ct *const *)f->in, 0.0, TOP);
    worst = 0;
    for (int j = 0; j < N_OUT; j++) {
        assert_same_words(f->out[j], f->ref[j]);
        double gain = plain_row(f, &m.map, (size_t)j, input_value);
        worst = fmax(worst, decrypt_err(f, f->out[j]) / gain);
    }
    RT_ASSERT_ERR("linear, integers / (1+sum|c|)", worst, -24);
    fixture_free(f);
}

static void
matches_unfused_and_plaintext(void **state)
{
    (void)state;
    check_kernel(NULL);
    check_kernel("scalar");
}

/* Inputs above the output's level are used at it (drop_to is free), and
 * 3-part products combine before one relinearisation. */
static void
levels_and_three_parts(void **state)
{
    (void)state;
    fixture *f = fixture_new(NULL);
    test_map m;
    make_map(&m, 9);
    hnnrt_ct *sq[N_IN];
    for (int k = 0; k < N_IN; k++) {
        RT_OK(hnnrt_ct_new(f->ctx, &sq[k]));
        RT_OK(hnnrt_eval_drop_to(f->ev, f->in[k], f->in[k], TOP - (unsigned)(k % 3)));
    }
    const unsigned level = TOP - 3;
    const double scale = (double)hnnrt_context_prime(f->ctx, level);
    RT_OK(hnnrt_eval_linear(f->ev, f->out, (const hnnrt_ct *const *)f->in, &m.map, scale, level));
    unfused(f, &m.map, (const hnnrt_ct *const *)f->in, scale, level);
    for (int j = 0; j < N_OUT; j++)
        assert_same_words(f->out[j], f->ref[j]);

    /* Squares: 3 parts at scale 2^80, level TOP - 3; constants at the top
     * prime below so one rescale after relinearising brings 2^80. */
    for (int k = 0; k < N_IN; k++) {
        RT_OK(hnnrt_eval_drop_to(f->ev, f->tmp, f->in[k], level));
        RT_OK(hnnrt_eval_mul_ct(f->ev, sq[k], f->tmp, f->tmp));
    }
    RT_OK(hnnrt_eval_linear(f->ev, f->out, (const hnnrt_ct *const *)sq, &m.map, scale, level));
    unfused(f, &m.map, (const hnnrt_ct *const *)sq, scale, level);
    double worst = 0;
    for (int j = 0; j < N_OUT; j++) {
        assert_same_words(f->out[j], f->ref[j]);
        assert_int_equal(hnnrt_ct_size(f->out[j]), 3);
        RT_OK(hnnrt_eval_relin(f->ev, f->out[j], f->out[j]));
        RT_OK(hnnrt_eval_rescale(f->ev, f->out[j], f->out[j]));
        double gain = plain_row(f, &m.map, (size_t)j, square_value);
        worst = fmax(worst, decrypt_err(f, f->out[j]) / gain);
    }
    RT_ASSERT_ERR("on squares, relin / (1+sum|c|)", worst, -22);
    for (int k = 0; k < N_IN; k++)
        hnnrt_ct_free(sq[k]);
    fixture_free(f);
}

static void
threads_give_identical_bits(void **state)
{
    (void)state;
    fixture *f = fixture_new(NULL);
    test_map m;
    make_map(&m, 13);
    const double scale = 0x1p40;
    hnnrt_context_set_threads(f->ctx, 1);
    RT_OK(hnnrt_eval_linear(f->ev, f->ref, (const hnnrt_ct *const *)f->in, &m.map, scale, TOP));
    hnnrt_context_set_threads(f->ctx, 2);
    RT_OK(hnnrt_eval_linear(f->ev, f->out, (const hnnrt_ct *const *)f->in, &m.map, scale, TOP));
    long before = hnnrt_context_live_allocations(f->ctx);
    RT_OK(hnnrt_eval_linear(f->ev, f->out, (const hnnrt_ct *const *)f->in, &m.map, scale, TOP));
    /* Once the workspace and the outputs exist, nothing is allocated. */
    assert_int_equal(hnnrt_context_live_allocations(f->ctx), before);
    for (int j = 0; j < N_OUT; j++)
        assert_same_words(f->out[j], f->ref[j]);
    fixture_free(f);
}

static void
hostile_arguments_are_errors(void **state)
{
    (void)state;
    fixture *f = fixture_new(NULL);
    test_map m;
    make_map(&m, 21);
    const hnnrt_ct *const *in = (const hnnrt_ct *const *)f->in;
    hnnrt_linear_map bad = m.map;
    assert_int_equal(hnnrt_eval_linear(NULL, f->out, in, &m.map, 0x1p40, TOP), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_eval_linear(f->ev, NULL, in, &m.map, 0x1p40, TOP), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, NULL, &m.map, 0x1p40, TOP), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, NULL, 0x1p40, TOP), HNNRT_ERR_ARG);
    bad.n_out = 0;
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &bad, 0x1p40, TOP), HNNRT_ERR_ARG);
    bad = m.map;
    bad.n_in = 0;
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &bad, 0x1p40, TOP), HNNRT_ERR_ARG);
    bad = m.map;
    bad.col = NULL;
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &bad, 0x1p40, TOP), HNNRT_ERR_ARG);
    const size_t empty[2] = {0, 0}, backwards[3] = {0, 2, 1}, late[2] = {1, 2};
    bad = (hnnrt_linear_map){1, N_IN, empty, m.col, m.coeff};
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &bad, 0x1p40, TOP), HNNRT_ERR_ARG);
    bad = (hnnrt_linear_map){2, N_IN, backwards, m.col, m.coeff};
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &bad, 0x1p40, TOP), HNNRT_ERR_ARG);
    bad = (hnnrt_linear_map){1, N_IN, late, m.col, m.coeff};
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &bad, 0x1p40, TOP), HNNRT_ERR_ARG);
    bad = m.map;
    bad.n_in = 2; /* the dense row reads inputs up to N_IN - 1 */
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &bad, 0x1p40, TOP), HNNRT_ERR_ARG);
    /* Constants and scales. */
    double saved = m.coeff[0];
    m.coeff[0] = NAN;
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &m.map, 0x1p40, TOP), HNNRT_ERR_ARG);
    m.coeff[0] = 0x1p400;
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &m.map, 0x1p40, TOP), HNNRT_ERR_SCALE_OVERFLOW);
    m.coeff[0] = saved;
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &m.map, INFINITY, TOP), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &m.map, -1.0, TOP), HNNRT_ERR_ARG);
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &m.map, 0x1p380, TOP), HNNRT_ERR_SCALE_OVERFLOW);
    /* Levels, scales, parts. */
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &m.map, 0x1p40, TOP + 1), HNNRT_ERR_LEVEL_MISMATCH);
    RT_OK(hnnrt_eval_drop_to(f->ev, f->in[5], f->in[5], TOP - 1));
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &m.map, 0x1p40, TOP), HNNRT_ERR_LEVEL_MISMATCH);
    RT_OK(hnnrt_eval_linear(f->ev, f->out, in, &m.map, 0x1p40, TOP - 1));
    hnnrt_ct_set_scale(f->in[7], 0x1p41);
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &m.map, 0x1p40, TOP - 1), HNNRT_ERR_SCALE_MISMATCH);
    hnnrt_ct_set_scale(f->in[7], 0x1p40);
    RT_OK(hnnrt_eval_mul_ct(f->ev, f->in[3], f->in[3], f->in[3]));
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, in, &m.map, 0x1p40, TOP - 1), HNNRT_ERR_SIZE);
    RT_OK(hnnrt_eval_relin(f->ev, f->in[3], f->in[3]));
    hnnrt_ct_set_scale(f->in[3], 0x1p40);
    /* Aliasing, NULL and empty ciphertexts. */
    hnnrt_ct *alias[N_OUT];
    memcpy(alias, f->out, sizeof alias);
    alias[4] = f->in[2];
    assert_int_equal(hnnrt_eval_linear(f->ev, alias, in, &m.map, 0x1p40, TOP - 1), HNNRT_ERR_ARG);
    alias[4] = f->out[6];
    assert_int_equal(hnnrt_eval_linear(f->ev, alias, in, &m.map, 0x1p40, TOP - 1), HNNRT_ERR_ARG);
    alias[4] = NULL;
    assert_int_equal(hnnrt_eval_linear(f->ev, alias, in, &m.map, 0x1p40, TOP - 1), HNNRT_ERR_ARG);
    hnnrt_ct *empty_ct;
    RT_OK(hnnrt_ct_new(f->ctx, &empty_ct));
    const hnnrt_ct *with_empty[N_IN];
    memcpy(with_empty, f->in, sizeof with_empty);
    with_empty[9] = empty_ct;
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, with_empty, &m.map, 0x1p40, TOP - 1), HNNRT_ERR_ARG);
    with_empty[9] = NULL;
    assert_int_equal(hnnrt_eval_linear(f->ev, f->out, with_empty, &m.map, 0x1p40, TOP - 1), HNNRT_ERR_ARG);
    hnnrt_ct_free(empty_ct);
    /* Another context's ciphertext. */
    fixture *g = fixture_new(NULL);
    alias[4] = g->out[0];
    assert_int_equal(hnnrt_eval_linear(f->ev, alias, in, &m.map, 0x1p40, TOP - 1), HNNRT_ERR_PARAMS_MISMATCH);
    fixture_free(g);
    RT_OK(hnnrt_eval_linear(f->ev, f->out, in, &m.map, 0x1p40, TOP - 1));
    fixture_free(f);
}

/* ------------------------------------------------------------------ the kernels alone */

/* out_j = sum C_t x_col[t] mod q, one product at a time. */
static uint64_t
reference(const hnnrt_modulus *m, const hnnrt_poly_linear *lin, const uint64_t *w, unsigned part, size_t j,
          size_t c)
{
    uint64_t s = 0;
    for (size_t t = lin->row_start[j]; t < lin->row_start[j + 1]; t++)
        s = hnnrt_mod_add(s, hnnrt_mod_mul(w[t], lin->x[part * lin->n_in + lin->col[t]][c], m), m->value);
    return s;
}

/* Random limbs, constants below 2^52 in magnitude (or full residues when
 * `wide` is 0), rows of 0 and 1 terms, three rows sharing 1100 columns, four
 * sharing 4200, two sharing 300 (so the kernels take 1 to 4 rows together
 * and reduce partial sums on the way), one of 7, and one of 8300 terms (past
 * twice the 52-bit kernel's chunk of 4096, so a chunk too long for its sums
 * would overflow here): every kernel the CPU runs, on primes of 40, 49, 58
 * and 61 bits, against the reference. */
static void
kernels_match_reference(void **state)
{
    (void)state;
    const unsigned bits[] = {40, 49, 58, 61};
    enum { n = 128, n_in = 37, n_out = 13 };
    const size_t lens[n_out] = {0, 1, 1100, 1100, 1100, 4200, 4200, 4200, 4200, 300, 300, 7, 8300};
    size_t row_start[n_out + 1] = {0};
    for (size_t j = 0; j < n_out; j++)
        row_start[j + 1] = row_start[j] + lens[j];
    const size_t nnz = row_start[n_out];
    uint8_t same_next[n_out];
    for (size_t j = 0; j < n_out; j++)
        same_next[j] = j + 1 < n_out && lens[j] && lens[j + 1] == lens[j];
    uint32_t *col = malloc(nnz * sizeof *col);
    uint64_t *w = malloc(nnz * sizeof *w), *mag = malloc(nnz * sizeof *mag);
    uint64_t *xs = malloc(2 * n_in * n * sizeof *xs), *os = malloc(2 * n_out * n * sizeof *os);
    const uint64_t *x[2 * n_in];
    uint64_t *out[2 * n_out];
    for (size_t k = 0; k < 2 * n_in; k++)
        x[k] = xs + k * n;
    for (size_t j = 0; j < 2 * n_out; j++)
        out[j] = os + j * n;
    const hnnrt_ntt_kernels *kerns[HNNRT_NTT_MAX_KERNELS];
    size_t n_kerns = hnnrt_ntt_kernels_available(kerns, HNNRT_NTT_MAX_KERNELS);
    rt_rng r = {99};
    for (size_t b = 0; b < sizeof bits / sizeof *bits; b++) {
        uint64_t q;
        assert_int_equal(hnnrt_mod_ntt_primes(bits[b], 2 * n, 1, NULL, 0, &q), 1);
        hnnrt_ntt_table tab;
        RT_OK(hnnrt_ntt_table_init(&tab, q, 7, NULL));
        hnnrt_rns_basis basis = {1, {&tab}};
        for (int wide = 0; wide < 2; wide++) {
            for (size_t j = 0; j < n_out; j++)
                for (size_t t = row_start[j]; t < row_start[j + 1]; t++) {
                    /* rows that share columns copy the first one's */
                    col[t] = j && same_next[j - 1] ? col[t - lens[j]] : (uint32_t)(rt_next(&r) % n_in);
                    uint64_t a = wide ? rt_next(&r) >> 12 : rt_next(&r) % q;
                    int neg = wide && (rt_next(&r) & 1);
                    mag[t] = a | (uint64_t)neg << 63;
                    a %= q;
                    w[t] = neg ? hnnrt_mod_neg(a, q) : a;
                }
            for (size_t i = 0; i < 2 * n_in * n; i++)
                xs[i] = rt_next(&r) % q;
            for (int shared = 0; shared < 2; shared++) {
                hnnrt_poly_linear lin = {
                    .parts = 2,
                    .n_in = n_in,
                    .n_out = n_out,
                    .row_start = row_start,
                    .col = col,
                    .w = w,
                    .mag = wide ? mag : NULL,
                    .same_next = shared ? same_next : NULL,
                    .x = x,
                    .out = out,
                };
                for (size_t kk = 0; kk < n_kerns; kk++) {
                    hnnrt_poly_env env = {n, 2, kerns[kk]};
                    memset(os, 0xA5, 2 * n_out * n * sizeof *os);
                    hnnrt_poly_linear_apply(&env, &basis, &lin);
                    for (unsigned p = 0; p < 2; p++)
                        for (size_t j = 0; j < n_out; j++)
                            for (size_t c = 0; c < n; c++)
                                if (out[p * n_out + j][c] != reference(&tab.mod, &lin, w, p, j, c))
                                    fail_msg("kernel %s, %u-bit prime, %s constants%s: part %u row %zu coefficient "
                                             "%zu",
                                             kerns[kk]->name, bits[b], wide ? "small" : "full",
                                             shared ? ", rows together" : "", p, j, c);
                }
            }
        }
        hnnrt_ntt_table_release(&tab, NULL);
    }
    print_message("  kernels checked: %zu (%s%s)\n", n_kerns, kerns[0]->name, n_kerns > 1 ? ", ifma" : "");
    free(col);
    free(w);
    free(mag);
    free(xs);
    free(os);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_unfused_and_plaintext),
        cmocka_unit_test(levels_and_three_parts),
        cmocka_unit_test(threads_give_identical_bits),
        cmocka_unit_test(hostile_arguments_are_errors),
        cmocka_unit_test(kernels_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
