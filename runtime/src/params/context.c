#include <math.h>
#include <string.h>

#include <sodium.h>

#include "params/params.h"

void
hnnrt_ctx_basis_q(const hnnrt_context *ctx, unsigned level, hnnrt_rns_basis *b)
{
    b->count = level + 1;
    for (unsigned i = 0; i <= level; i++)
        b->tab[i] = &ctx->ntt[i];
}

void
hnnrt_ctx_basis_qp(const hnnrt_context *ctx, unsigned level, hnnrt_rns_basis *b)
{
    hnnrt_ctx_basis_q(ctx, level, b);
    for (unsigned j = 0; j < ctx->n_special; j++)
        b->tab[b->count++] = &ctx->ntt[ctx->max_level + 1 + j];
}

void
hnnrt_ctx_basis_p(const hnnrt_context *ctx, hnnrt_rns_basis *b)
{
    b->count = ctx->n_special;
    for (unsigned j = 0; j < ctx->n_special; j++)
        b->tab[j] = &ctx->ntt[ctx->max_level + 1 + j];
}

void
hnnrt_ctx_env(const hnnrt_context *ctx, hnnrt_poly_env *e)
{
    e->n = ctx->n;
    e->threads = ctx->threads;
    e->kern = ctx->kern;
}

unsigned
hnnrt_ctx_digits(const hnnrt_context *ctx, unsigned level)
{
    return (level + 1 + ctx->alpha - 1) / ctx->alpha;
}

void
hnnrt_ctx_digit_range(const hnnrt_context *ctx, unsigned level, unsigned j, unsigned *first, unsigned *count)
{
    unsigned f = j * ctx->alpha, end = f + ctx->alpha;
    if (end > level + 1)
        end = level + 1;
    *first = f;
    *count = end - f;
}

/* ------------------------------------------------------------------ validation */

static hnnrt_status
check_spec(const hnnrt_params_spec *spec, unsigned flags, hnnrt_error *err)
{
    int insecure = (flags & HNNRT_PARAMS_INSECURE_TESTS_ONLY) != 0;
    unsigned min_log_n = insecure ? 10 : 12;
    if (spec->log_n < min_log_n || spec->log_n > 16)
        return hnnrt_err_set(err, HNNRT_ERR_PARAMS_INVALID, "ring dimension 2^%u is outside 2^%u..2^16",
                             spec->log_n, min_log_n);
    if (spec->n_data_primes < 1 || spec->n_special_primes < 1 ||
        spec->n_data_primes + spec->n_special_primes > HNNRT_MAX_PRIMES)
        return hnnrt_err_set(err, HNNRT_ERR_PARAMS_INVALID,
                             "%u data primes and %u special primes: need at least one of each and at most %u in all",
                             spec->n_data_primes, spec->n_special_primes, HNNRT_MAX_PRIMES);
    for (unsigned i = 0; i < spec->n_data_primes + spec->n_special_primes; i++) {
        int special = i >= spec->n_data_primes;
        unsigned bits = special ? spec->special_bits[i - spec->n_data_primes] : spec->data_bits[i];
        if (bits < 20 || bits > 61)
            return hnnrt_err_set(err, HNNRT_ERR_PARAMS_INVALID, "%s prime %u: %u bits is outside 20..61",
                                 special ? "special" : "data", special ? i - spec->n_data_primes : i, bits);
        if (bits <= spec->log_n + 1)
            return hnnrt_err_set(err, HNNRT_ERR_PARAMS_INVALID,
                                 "%s prime %u: %u bits is too small for an NTT prime of ring 2^%u",
                                 special ? "special" : "data", special ? i - spec->n_data_primes : i, bits,
                                 spec->log_n);
    }
    if (spec->dnum > spec->n_data_primes)
        return hnnrt_err_set(err, HNNRT_ERR_PARAMS_INVALID, "dnum %u exceeds the %u data primes", spec->dnum,
                             spec->n_data_primes);
    hnnrt_security sec = spec->security ? spec->security : HNNRT_SECURITY_128;
    if (sec != HNNRT_SECURITY_128 && sec != HNNRT_SECURITY_192 && sec != HNNRT_SECURITY_256)
        return hnnrt_err_set(err, HNNRT_ERR_PARAMS_INVALID, "security level %u is not 128, 192 or 256",
                             (unsigned)spec->security);
    return HNNRT_OK;
}

/* ------------------------------------------------------------------ construction */

static hnnrt_status
choose_primes(hnnrt_context *ctx, hnnrt_error *err)
{
    const hnnrt_params_spec *s = &ctx->spec;
    uint64_t primes[HNNRT_MAX_PRIMES];
    unsigned total = s->n_data_primes + s->n_special_primes;
    uint64_t two_n = 2 * (uint64_t)ctx->n;
    for (unsigned i = 0; i < total; i++) {
        unsigned bits = i < s->n_data_primes ? s->data_bits[i] : s->special_bits[i - s->n_data_primes];
        if (hnnrt_mod_ntt_primes(bits, two_n, 1, primes, i, &primes[i]) != 1)
            return hnnrt_err_set(err, HNNRT_ERR_PARAMS_NO_NTT_PRIME,
                                 "prime %u: no %u-bit prime = 1 mod 2^%u left", i, bits, ctx->log_n + 1);
    }
    for (unsigned i = 0; i < total; i++) {
        hnnrt_status st = hnnrt_ntt_table_init(&ctx->ntt[i], primes[i], ctx->log_n, ctx->counter);
        if (st != HNNRT_OK)
            return hnnrt_err_set(err, st, "prime %u: cannot build its NTT tables", i);
    }
    return HNNRT_OK;
}

static hnnrt_status
check_security(hnnrt_context *ctx, unsigned flags, hnnrt_error *err)
{
    ctx->total_bits = 0;
    ctx->log_qp = 0;
    for (unsigned i = 0; i < ctx->n_primes; i++) {
        ctx->total_bits += ctx->ntt[i].mod.bits;
        ctx->log_qp += log2((double)ctx->ntt[i].mod.value);
    }
    hnnrt_security want = ctx->spec.security ? ctx->spec.security : HNNRT_SECURITY_128;
    unsigned bound = hnnrt_security_max_log_qp(ctx->log_n, want);
    if (bound && ctx->total_bits <= bound) {
        ctx->security = want;
        return HNNRT_OK;
    }
    ctx->security = 0;
    if (flags & HNNRT_PARAMS_INSECURE_TESTS_ONLY)
        return HNNRT_OK;
    return hnnrt_err_set(err, HNNRT_ERR_PARAMS_INSECURE,
                         "log2(QP) = %u bits exceeds %u, the HE Standard bound for %u-bit security at N = 2^%u; "
                         "use a larger ring or fewer/smaller primes",
                         ctx->total_bits, bound, (unsigned)want, ctx->log_n);
}

static hnnrt_status
build_rescale(hnnrt_context *ctx)
{
    unsigned L1 = ctx->max_level + 1;
    ctx->rescale_inv = hnnrt_mem_alloc(ctx->counter, (size_t)L1 * L1 * sizeof *ctx->rescale_inv);
    if (!ctx->rescale_inv)
        return HNNRT_ERR_ALLOC;
    for (unsigned l = 1; l < L1; l++)
        for (unsigned i = 0; i < l; i++) {
            const hnnrt_modulus *mi = &ctx->ntt[i].mod;
            uint64_t inv = hnnrt_mod_inv(hnnrt_mod_reduce64(ctx->ntt[l].mod.value, mi), mi);
            ctx->rescale_inv[l * L1 + i] = hnnrt_mod_shoup_make(inv, mi->value);
        }
    return HNNRT_OK;
}

static hnnrt_status
build_keyswitch(hnnrt_context *ctx)
{
    unsigned L1 = ctx->max_level + 1;
    hnnrt_rns_basis p, q;
    hnnrt_ctx_basis_p(ctx, &p);
    hnnrt_ctx_basis_q(ctx, ctx->max_level, &q);
    hnnrt_status st = hnnrt_baseconv_init(&ctx->moddown, &p, &q, ctx->counter);
    if (st != HNNRT_OK)
        return st;
    for (unsigned i = 0; i < L1; i++) {
        const hnnrt_modulus *mi = &ctx->ntt[i].mod;
        uint64_t pm = 1;
        for (unsigned j = 0; j < ctx->n_special; j++)
            pm = hnnrt_mod_mul(pm, hnnrt_mod_reduce64(p.tab[j]->mod.value, mi), mi);
        ctx->p_mod[i] = pm;
        ctx->p_inv[i] = hnnrt_mod_shoup_make(hnnrt_mod_inv(pm, mi), mi->value);
    }
    /* floor(P/2) = (P - 1)/2 mod every prime: P is odd. */
    for (unsigned i = 0; i < ctx->n_primes; i++) {
        const hnnrt_modulus *mi = &ctx->ntt[i].mod;
        uint64_t pm = 1;
        for (unsigned j = 0; j < ctx->n_special; j++)
            pm = hnnrt_mod_mul(pm, hnnrt_mod_reduce64(p.tab[j]->mod.value, mi), mi);
        uint64_t inv2 = (mi->value + 1) / 2;
        ctx->p_half_mod[i] = hnnrt_mod_mul(hnnrt_mod_sub(pm, 1 % mi->value, mi->value), inv2, mi);
    }
    for (unsigned j = 0; j < ctx->n_special; j++)
        ctx->p_inv_double[j] = 1.0 / (double)p.tab[j]->mod.value;
    ctx->modup = hnnrt_mem_alloc(ctx->counter, (size_t)L1 * ctx->dnum * sizeof *ctx->modup);
    if (!ctx->modup)
        return HNNRT_ERR_ALLOC;
    for (unsigned l = 0; l < L1; l++) {
        unsigned digits = hnnrt_ctx_digits(ctx, l);
        for (unsigned j = 0; j < digits; j++) {
            unsigned first, count;
            hnnrt_ctx_digit_range(ctx, l, j, &first, &count);
            hnnrt_rns_basis from = {.count = 0}, to = {.count = 0};
            for (unsigned i = 0; i <= l; i++) {
                if (i >= first && i < first + count)
                    from.tab[from.count++] = &ctx->ntt[i];
                else
                    to.tab[to.count++] = &ctx->ntt[i];
            }
            for (unsigned i = 0; i < ctx->n_special; i++)
                to.tab[to.count++] = p.tab[i];
            st = hnnrt_baseconv_init(&ctx->modup[l * ctx->dnum + j], &from, &to, ctx->counter);
            if (st != HNNRT_OK)
                return st;
        }
    }
    return HNNRT_OK;
}

/* Pr[|X| <= k] for the discrete Gaussian of sigma 3.2 cut at the bound. */
static void
build_gaussian(hnnrt_context *ctx)
{
    const long double sigma = 3.2L;
    long double w[HNNRT_GAUSS_BOUND + 1], total = 0;
    for (int k = 0; k <= HNNRT_GAUSS_BOUND; k++) {
        w[k] = expl(-(long double)(k * k) / (2 * sigma * sigma)) * (k ? 2 : 1);
        total += w[k];
    }
    long double acc = 0;
    for (int k = 0; k <= HNNRT_GAUSS_BOUND; k++) {
        acc += w[k];
        long double c = acc / total * 9223372036854775808.0L; /* 2^63 */
        ctx->gauss_cdt[k] = k == HNNRT_GAUSS_BOUND ? UINT64_C(1) << 63 : (uint64_t)c;
    }
}

static void
build_fingerprint(hnnrt_context *ctx)
{
    uint8_t msg[8 * (HNNRT_MAX_PRIMES + 4)];
    size_t len = 0;
    uint64_t head[4] = {ctx->log_n, ctx->max_level + 1, ctx->n_special, ctx->dnum};
    for (unsigned i = 0; i < 4 + ctx->n_primes; i++) {
        uint64_t v = i < 4 ? head[i] : ctx->ntt[i - 4].mod.value;
        for (int b = 0; b < 8; b++)
            msg[len++] = (uint8_t)(v >> (8 * b));
    }
    uint8_t h[8];
    crypto_generichash(h, sizeof h, msg, len, NULL, 0);
    ctx->fingerprint = 0;
    for (int b = 0; b < 8; b++)
        ctx->fingerprint |= (uint64_t)h[b] << (8 * b);
}

hnnrt_status
hnnrt_context_new(hnnrt_context **out, const hnnrt_params_spec *spec, unsigned flags, hnnrt_error *err)
{
    if (!out || !spec)
        return hnnrt_err_set(err, HNNRT_ERR_ARG, "context_new: NULL argument");
    *out = NULL;
    if (hnnrt_sodium_ready() != HNNRT_OK)
        return hnnrt_err_set(err, HNNRT_ERR_RANDOM, "libsodium could not be initialised");
    hnnrt_status st = check_spec(spec, flags, err);
    if (st != HNNRT_OK)
        return st;

    hnnrt_context *ctx = hnnrt_mem_alloc(NULL, sizeof *ctx);
    hnnrt_alloc_counter *counter = hnnrt_mem_alloc(NULL, sizeof *counter);
    if (!ctx || !counter) {
        hnnrt_mem_free(NULL, ctx);
        hnnrt_mem_free(NULL, counter);
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "context_new: out of memory");
    }
    atomic_init(&counter->live, 0);
    ctx->counter = counter;
    ctx->spec = *spec;
    ctx->log_n = spec->log_n;
    ctx->n = (size_t)1 << spec->log_n;
    ctx->max_level = spec->n_data_primes - 1;
    ctx->n_special = spec->n_special_primes;
    ctx->n_primes = spec->n_data_primes + spec->n_special_primes;
    ctx->dnum = spec->dnum ? spec->dnum : (spec->n_data_primes + ctx->n_special - 1) / ctx->n_special;
    ctx->alpha = (spec->n_data_primes + ctx->dnum - 1) / ctx->dnum;
    ctx->dnum = (spec->n_data_primes + ctx->alpha - 1) / ctx->alpha; /* no empty digit */
    ctx->spec.dnum = ctx->dnum;
    ctx->threads = hnnrt_threads_default();
    ctx->kern = hnnrt_ntt_kernels_best();

    st = choose_primes(ctx, err);
    if (st == HNNRT_OK)
        st = check_security(ctx, flags, err);
    if (st == HNNRT_OK) {
        /* Key-switching noise grows with the digit modulus over P: a digit
         * wider than P would make every relinearisation lose precision. */
        double log_p = 0;
        for (unsigned j = 0; j < ctx->n_special; j++)
            log_p += log2((double)ctx->ntt[ctx->max_level + 1 + j].mod.value);
        for (unsigned j = 0; j < ctx->dnum && st == HNNRT_OK; j++) {
            unsigned first, count;
            double log_d = 0;
            hnnrt_ctx_digit_range(ctx, ctx->max_level, j, &first, &count);
            for (unsigned i = first; i < first + count; i++)
                log_d += log2((double)ctx->ntt[i].mod.value);
            if (log_d > log_p + 0.5 && !(flags & HNNRT_PARAMS_INSECURE_TESTS_ONLY))
                st = hnnrt_err_set(err, HNNRT_ERR_PARAMS_INVALID,
                                   "key-switching digit %u spans %.0f bits but P has %.0f: "
                                   "raise dnum or add special primes",
                                   j, log_d, log_p);
        }
    }
    if (st == HNNRT_OK && (st = build_rescale(ctx)) != HNNRT_OK)
        hnnrt_err_set(err, st, "context_new: out of memory");
    if (st == HNNRT_OK && (st = build_keyswitch(ctx)) != HNNRT_OK)
        hnnrt_err_set(err, st, "context_new: out of memory");
    if (st != HNNRT_OK) {
        hnnrt_context_free(ctx);
        return st;
    }
    build_gaussian(ctx);
    build_fingerprint(ctx);
    *out = ctx;
    return HNNRT_OK;
}

void
hnnrt_context_free(hnnrt_context *ctx)
{
    if (!ctx)
        return;
    if (ctx->modup) {
        for (unsigned l = 0; l <= ctx->max_level; l++)
            for (unsigned j = 0; j < ctx->dnum; j++)
                hnnrt_baseconv_release(&ctx->modup[l * ctx->dnum + j], ctx->counter);
        hnnrt_mem_free(ctx->counter, ctx->modup);
    }
    hnnrt_baseconv_release(&ctx->moddown, ctx->counter);
    hnnrt_mem_free(ctx->counter, ctx->rescale_inv);
    for (unsigned i = 0; i < HNNRT_MAX_PRIMES; i++)
        hnnrt_ntt_table_release(&ctx->ntt[i], ctx->counter);
    hnnrt_mem_free(NULL, ctx->counter);
    hnnrt_mem_free(NULL, ctx);
}

/* ------------------------------------------------------------------ accessors */

unsigned hnnrt_context_log_n(const hnnrt_context *ctx) { return ctx->log_n; }
size_t hnnrt_context_slots(const hnnrt_context *ctx) { return ctx->n / 2; }
unsigned hnnrt_context_max_level(const hnnrt_context *ctx) { return ctx->max_level; }
unsigned hnnrt_context_special_count(const hnnrt_context *ctx) { return ctx->n_special; }
unsigned hnnrt_context_dnum(const hnnrt_context *ctx) { return ctx->dnum; }
double hnnrt_context_log_qp(const hnnrt_context *ctx) { return ctx->log_qp; }
hnnrt_security hnnrt_context_security(const hnnrt_context *ctx) { return ctx->security; }
uint64_t hnnrt_context_fingerprint(const hnnrt_context *ctx) { return ctx->fingerprint; }
int hnnrt_context_threads(const hnnrt_context *ctx) { return ctx->threads; }

uint64_t
hnnrt_context_prime(const hnnrt_context *ctx, unsigned i)
{
    return i < ctx->n_primes ? ctx->ntt[i].mod.value : 0;
}

void
hnnrt_context_set_threads(hnnrt_context *ctx, int threads)
{
    ctx->threads = threads >= 1 ? threads : hnnrt_threads_default();
}

long
hnnrt_context_live_allocations(const hnnrt_context *ctx)
{
    return atomic_load(&ctx->counter->live);
}
