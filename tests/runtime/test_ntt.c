/* Layer 2: the negacyclic NTT against direct evaluation and schoolbook
 * products, for every kernel this CPU can run; every kernel against the
 * scalar reference, word for word, on random and extreme inputs. */
#include "rt_test.h"

#include "ntt/ntt.h"

static void
make_table(hnnrt_ntt_table *t, unsigned log_n, unsigned bits)
{
    uint64_t q;
    assert_int_equal(hnnrt_mod_ntt_primes(bits, 2ull << log_n, 1, NULL, 0, &q), 1);
    assert_int_equal(hnnrt_ntt_table_init(t, q, log_n, NULL), HNNRT_OK);
}

static void
random_poly(rt_rng *r, uint64_t *a, size_t n, uint64_t bound)
{
    for (size_t i = 0; i < n; i++)
        a[i] = rt_next(r) % bound;
}

/* Output slot i holds a(psi^(2 brev(i) + 1)): the order the Galois maps rely on. */
static void
forward_is_evaluation_in_bitreversed_order(void **state)
{
    const hnnrt_ntt_kernels *k = *state;
    rt_rng r = {10};
    static const unsigned bits[] = {40, 50, 60};
    for (unsigned log_n = 1; log_n <= 8; log_n++)
        for (size_t b = 0; b < sizeof bits / sizeof *bits; b++) {
            hnnrt_ntt_table t;
            make_table(&t, log_n, bits[b]);
            size_t n = t.n;
            uint64_t a[256], x[256];
            random_poly(&r, a, n, t.mod.value);
            memcpy(x, a, n * sizeof *a);
            k->fwd(&t, x);
            for (size_t i = 0; i < n; i++) {
                uint64_t pt = hnnrt_mod_pow(t.psi, 2 * hnnrt_ntt_bitrev((uint32_t)i, log_n) + 1, &t.mod);
                uint64_t v = 0;
                for (size_t j = n; j-- > 0;)
                    v = hnnrt_mod_add(hnnrt_mod_mul(v, pt, &t.mod), a[j], t.mod.value);
                assert_true(x[i] == v);
            }
            hnnrt_ntt_table_release(&t, NULL);
        }
}

static void
inverse_undoes_forward(void **state)
{
    const hnnrt_ntt_kernels *k = *state;
    rt_rng r = {11};
    static const unsigned bits[] = {30, 40, 49, 50, 51, 60, 61};
    for (unsigned log_n = 4; log_n <= 16; log_n++)
        for (size_t b = 0; b < sizeof bits / sizeof *bits; b++) {
            hnnrt_ntt_table t;
            make_table(&t, log_n, bits[b]);
            size_t n = t.n;
            uint64_t *a = malloc(n * 8), *x = malloc(n * 8);
            random_poly(&r, a, n, t.mod.value);
            a[0] = t.mod.value - 1;
            memcpy(x, a, n * 8);
            k->fwd(&t, x);
            for (size_t i = 0; i < n; i++)
                assert_true(x[i] < t.mod.value);
            k->inv(&t, x);
            assert_memory_equal(a, x, n * 8);
            free(a);
            free(x);
            hnnrt_ntt_table_release(&t, NULL);
        }
}

static void
lazy_forward_stays_below_4q(void **state)
{
    const hnnrt_ntt_kernels *k = *state;
    rt_rng r = {12};
    static const unsigned bits[] = {30, 40, 50, 61};
    for (size_t b = 0; b < sizeof bits / sizeof *bits; b++) {
        hnnrt_ntt_table t;
        make_table(&t, 12, bits[b]);
        size_t n = t.n;
        uint64_t *a = malloc(n * 8), *x = malloc(n * 8);
        /* Inputs anywhere in [0, 4q) are allowed. */
        random_poly(&r, a, n, 4 * t.mod.value);
        memcpy(x, a, n * 8);
        k->fwd_lazy(&t, x);
        for (size_t i = 0; i < n; i++)
            assert_true(x[i] < 4 * t.mod.value);
        for (size_t i = 0; i < n; i++)
            a[i] %= t.mod.value;
        hnnrt_ntt_kernels_scalar.fwd(&t, a);
        for (size_t i = 0; i < n; i++)
            assert_true(x[i] % t.mod.value == a[i]);
        free(a);
        free(x);
        hnnrt_ntt_table_release(&t, NULL);
    }
}

static void
pointwise_product_is_negacyclic_convolution(void **state)
{
    const hnnrt_ntt_kernels *k = *state;
    rt_rng r = {13};
    static const unsigned bits[] = {30, 50, 59};
    for (unsigned log_n = 4; log_n <= 10; log_n += 3)
        for (size_t bi = 0; bi < sizeof bits / sizeof *bits; bi++) {
            hnnrt_ntt_table t;
            make_table(&t, log_n, bits[bi]);
            const size_t n = t.n;
            const uint64_t q = t.mod.value;
            uint64_t *a = malloc(n * 8), *b = malloc(n * 8), *want = calloc(n, 8);
            random_poly(&r, a, n, q);
            random_poly(&r, b, n, q);
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    uint64_t p = hnnrt_mod_mul(a[i], b[j], &t.mod);
                    size_t s = i + j;
                    if (s < n)
                        want[s] = hnnrt_mod_add(want[s], p, q);
                    else
                        want[s - n] = hnnrt_mod_sub(want[s - n], p, q); /* X^n = -1 */
                }
            k->fwd(&t, a);
            k->fwd(&t, b);
            for (size_t i = 0; i < n; i++)
                a[i] = hnnrt_mod_mul(a[i], b[i], &t.mod);
            k->inv(&t, a);
            assert_memory_equal(a, want, n * 8);
            free(a);
            free(b);
            free(want);
            hnnrt_ntt_table_release(&t, NULL);
        }
}

/* Runs fwd, fwd_lazy and inv of kernel k and of the scalar reference on in
 * (fwd inputs MUST be < 4q, inv inputs < 2q) and compares: fwd and inv word
 * for word, fwd_lazy below 4q and equal mod q. */
static void
check_against_scalar(const hnnrt_ntt_kernels *k, const hnnrt_ntt_table *t, const uint64_t *fwd_in,
                     const uint64_t *inv_in, uint64_t *want, uint64_t *got)
{
    const size_t n = t->n;
    const uint64_t q = t->mod.value;
    memcpy(want, fwd_in, n * 8);
    memcpy(got, fwd_in, n * 8);
    hnnrt_ntt_kernels_scalar.fwd(t, want);
    k->fwd(t, got);
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("%s fwd: log_n %u, q = %llu (%u bits), slot %zu: %llu, scalar %llu", k->name, t->log_n,
                     (unsigned long long)q, t->mod.bits, i, (unsigned long long)got[i],
                     (unsigned long long)want[i]);
    memcpy(got, fwd_in, n * 8);
    k->fwd_lazy(t, got);
    for (size_t i = 0; i < n; i++)
        if (got[i] >= 4 * q || got[i] % q != want[i])
            fail_msg("%s fwd_lazy: log_n %u, %u bits, slot %zu: %llu, reduced %llu", k->name, t->log_n,
                     t->mod.bits, i, (unsigned long long)got[i], (unsigned long long)want[i]);
    memcpy(want, inv_in, n * 8);
    memcpy(got, inv_in, n * 8);
    hnnrt_ntt_kernels_scalar.inv(t, want);
    k->inv(t, got);
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("%s inv: log_n %u, q = %llu (%u bits), slot %zu: %llu, scalar %llu", k->name, t->log_n,
                     (unsigned long long)q, t->mod.bits, i, (unsigned long long)got[i],
                     (unsigned long long)want[i]);
}

/* Random inputs over the whole allowed ranges, log_n 10..16, primes of
 * 30..61 bits: the largest prime of each size, so q just below 2^50 (the
 * largest the IFMA kernel takes) and just above (where it hands over). */
static void
kernel_matches_scalar_on_random_inputs(void **state)
{
    const hnnrt_ntt_kernels *k = *state;
    rt_rng r = {14};
    for (unsigned log_n = 10; log_n <= 16; log_n++)
        for (unsigned bits = 30; bits <= 61; bits++) {
            hnnrt_ntt_table t;
            make_table(&t, log_n, bits);
            const size_t n = t.n;
            uint64_t *fin = malloc(n * 8), *iin = malloc(n * 8), *want = malloc(n * 8), *got = malloc(n * 8);
            random_poly(&r, fin, n, 4 * t.mod.value);
            random_poly(&r, iin, n, 2 * t.mod.value);
            check_against_scalar(k, &t, fin, iin, want, got);
            free(fin);
            free(iin);
            free(want);
            free(got);
            hnnrt_ntt_table_release(&t, NULL);
        }
}

/* Inputs at the edges: all 0, all at the top of the range (4q - 1 forward,
 * 2q - 1 inverse), alternating with the top, and the residues around q and
 * 2q, with the largest and the smallest prime of 30, 40, 49, 50, 51 and 61
 * bits; log_n 4 (below the IFMA kernel's minimum), 5, 6 (both parities of
 * its stage plan), 9 and 14. */
static void
kernel_matches_scalar_on_extreme_inputs(void **state)
{
    const hnnrt_ntt_kernels *k = *state;
    static const unsigned bits[] = {30, 40, 49, 50, 51, 61};
    static const unsigned log_ns[] = {4, 5, 6, 9, 14};
    for (size_t l = 0; l < sizeof log_ns / sizeof *log_ns; l++)
        for (size_t b = 0; b < sizeof bits / sizeof *bits; b++)
            for (int smallest = 0; smallest <= 1; smallest++) {
                hnnrt_ntt_table t;
                uint64_t q;
                if (smallest) {
                    /* The smallest q = 1 (mod 2n) of the size that is prime. */
                    const uint64_t two_n = 2ull << log_ns[l];
                    q = (1ull << (bits[b] - 1)) + 1;
                    while (!hnnrt_mod_is_prime(q))
                        q += two_n;
                    assert_true(q < (1ull << bits[b]));
                } else {
                    assert_int_equal(hnnrt_mod_ntt_primes(bits[b], 2ull << log_ns[l], 1, NULL, 0, &q), 1);
                }
                assert_int_equal(hnnrt_ntt_table_init(&t, q, log_ns[l], NULL), HNNRT_OK);
                const size_t n = t.n;
                uint64_t *fin = malloc(n * 8), *iin = malloc(n * 8), *want = malloc(n * 8), *got = malloc(n * 8);
                const uint64_t fwd_vals[] = {0, 4 * q - 1, q - 1, q, 2 * q - 1, 2 * q, 3 * q, 1};
                const uint64_t inv_vals[] = {0, 2 * q - 1, q - 1, q, q + 1, 1, 2 * q - 2, q / 2};
                const size_t nv = sizeof fwd_vals / sizeof *fwd_vals;
                for (size_t v = 0; v < nv; v++) {
                    for (size_t i = 0; i < n; i++) {
                        fin[i] = fwd_vals[v];
                        iin[i] = inv_vals[v];
                    }
                    check_against_scalar(k, &t, fin, iin, want, got);
                    /* Alternating with the top of the range, then the pairs. */
                    for (size_t i = 0; i < n; i++) {
                        fin[i] = (i & 1) ? 4 * q - 1 : fwd_vals[v];
                        iin[i] = (i & 1) ? 2 * q - 1 : inv_vals[v];
                    }
                    check_against_scalar(k, &t, fin, iin, want, got);
                    for (size_t i = 0; i < n; i++) {
                        fin[i] = fwd_vals[(i + v) % nv];
                        iin[i] = inv_vals[(i * 3 + v) % nv];
                    }
                    check_against_scalar(k, &t, fin, iin, want, got);
                }
                free(fin);
                free(iin);
                free(want);
                free(got);
                hnnrt_ntt_table_release(&t, NULL);
            }
}

/* The choice: a kernel the CPU runs; HNNRT_NTT=scalar forces the reference. */
static void
best_kernel_is_available_and_scalar_can_be_forced(void **state)
{
    (void)state;
    const hnnrt_ntt_kernels *avail[HNNRT_NTT_MAX_KERNELS];
    size_t count = hnnrt_ntt_kernels_available(avail, HNNRT_NTT_MAX_KERNELS);
    assert_true(count >= 1 && count <= HNNRT_NTT_MAX_KERNELS);
    assert_ptr_equal(avail[0], &hnnrt_ntt_kernels_scalar);
    const char *saved = getenv("HNNRT_NTT");
    char *copy = saved ? strdup(saved) : NULL;
    assert_int_equal(setenv("HNNRT_NTT", "scalar", 1), 0);
    assert_ptr_equal(hnnrt_ntt_kernels_best(), &hnnrt_ntt_kernels_scalar);
    assert_int_equal(setenv("HNNRT_NTT", "no-such-kernel", 1), 0);
    assert_ptr_equal(hnnrt_ntt_kernels_best(), avail[count - 1]);
    assert_int_equal(unsetenv("HNNRT_NTT"), 0);
    assert_ptr_equal(hnnrt_ntt_kernels_best(), avail[count - 1]);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(setenv("HNNRT_NTT", avail[i]->name, 1), 0);
        assert_ptr_equal(hnnrt_ntt_kernels_best(), avail[i]);
    }
    if (copy)
        assert_int_equal(setenv("HNNRT_NTT", copy, 1), 0);
    else
        assert_int_equal(unsetenv("HNNRT_NTT"), 0);
    free(copy);
    print_message("  kernels on this CPU:");
    for (size_t i = 0; i < count; i++)
        print_message(" %s", avail[i]->name);
    print_message("\n");
}

int
main(void)
{
    static const struct {
        const char *name;
        CMUnitTestFunction fn;
    } per_kernel[] = {
        {"forward_is_evaluation_in_bitreversed_order", forward_is_evaluation_in_bitreversed_order},
        {"inverse_undoes_forward", inverse_undoes_forward},
        {"lazy_forward_stays_below_4q", lazy_forward_stays_below_4q},
        {"pointwise_product_is_negacyclic_convolution", pointwise_product_is_negacyclic_convolution},
        {"kernel_matches_scalar_on_random_inputs", kernel_matches_scalar_on_random_inputs},
        {"kernel_matches_scalar_on_extreme_inputs", kernel_matches_scalar_on_extreme_inputs},
    };
    enum { PER_KERNEL = sizeof per_kernel / sizeof *per_kernel };
    const hnnrt_ntt_kernels *avail[HNNRT_NTT_MAX_KERNELS];
    size_t count = hnnrt_ntt_kernels_available(avail, HNNRT_NTT_MAX_KERNELS);

    static char names[HNNRT_NTT_MAX_KERNELS * PER_KERNEL][96];
    struct CMUnitTest tests[HNNRT_NTT_MAX_KERNELS * PER_KERNEL + 1];
    size_t nt = 0;
    for (size_t k = 0; k < count; k++)
        for (size_t i = 0; i < PER_KERNEL; i++) {
            /* The scalar kernel is the reference: comparing it with itself proves nothing. */
            if (avail[k] == &hnnrt_ntt_kernels_scalar && strstr(per_kernel[i].name, "matches_scalar"))
                continue;
            snprintf(names[nt], sizeof names[nt], "ntt/%s/%s", avail[k]->name, per_kernel[i].name);
            tests[nt] = (struct CMUnitTest){names[nt], per_kernel[i].fn, NULL, NULL, (void *)avail[k]};
            nt++;
        }
    tests[nt++] = (struct CMUnitTest){"ntt/select/best_kernel_is_available_and_scalar_can_be_forced",
                                      best_kernel_is_available_and_scalar_can_be_forced, NULL, NULL, NULL};
    return _cmocka_run_group_tests("ntt", tests, nt, NULL, NULL);
}
