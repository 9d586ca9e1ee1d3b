/*
 * Layer 2 — the negacyclic NTT over Z_q[X]/(X^n + 1).
 *
 * Forward: Cooley–Tukey with Harvey's lazy butterflies. Output slot i holds
 * a(psi^(2 * brev(i) + 1)), where psi is the table's primitive 2n-th root and
 * brev reverses log2(n) bits; the Galois permutation in the evaluator relies
 * on that order.
 *
 * Bounds (q < 2^61, so 4q < 2^63):
 *   fwd: input in [0, 4q); every butterfly keeps values in [0, 4q); the final
 *        pass brings them to [0, q). fwd_lazy stops at [0, 4q).
 *   inv: input in [0, 2q); Gentleman–Sande butterflies keep [0, 2q); the last
 *        stage folds in n^-1 and the result is brought to [0, q).
 *
 * The kernels sit behind a table chosen once per context
 * (hnnrt_ntt_kernels_best), so callers see one name whatever the machine.
 * Every kernel's fwd and inv return the unique residues in [0, q), so their
 * outputs are bit-identical across kernels and ciphertexts never depend on
 * the machine; fwd_lazy's representative in [0, 4q) may differ by kernel.
 */
#ifndef HNNRT_NTT_H
#define HNNRT_NTT_H

#include "modarith/modarith.h"

typedef struct hnnrt_ntt_table {
    hnnrt_modulus mod;
    size_t n;
    unsigned log_n;
    uint64_t psi;            /* primitive 2n-th root */
    uint64_t *roots;         /* [n]: psi^brev(k), k >= 1, Shoup quotients in roots_quot */
    uint64_t *roots_quot;
    uint64_t *inv_roots;     /* [n]: psi^-brev(k) */
    uint64_t *inv_roots_quot;
    hnnrt_mod_shoup n_inv;   /* n^-1 mod q */
    hnnrt_mod_shoup last_inv;/* n^-1 * psi^-brev(1): the last inverse stage's twiddle */
} hnnrt_ntt_table;

/* One implementation of the transforms, for every table (any q < 2^61, any n):
 *   fwd(t, a):      a in [0, 4q) -> NTT(a) in [0, q)
 *   fwd_lazy(t, a): a in [0, 4q) -> NTT(a) mod q, a representative in [0, 4q)
 *   inv(t, a):      a in [0, 2q) -> INTT(a) in [0, q)
 * In place; a holds t->n words. */
typedef struct hnnrt_ntt_kernels {
    const char *name;
    void (*fwd)(const hnnrt_ntt_table *t, uint64_t *a);
    void (*fwd_lazy)(const hnnrt_ntt_table *t, uint64_t *a);
    void (*inv)(const hnnrt_ntt_table *t, uint64_t *a);
} hnnrt_ntt_kernels;

/* The reference: Harvey butterflies on 64-bit words, one at a time. */
extern const hnnrt_ntt_kernels hnnrt_ntt_kernels_scalar;

/* AVX-512 IFMA (52-bit multiplies, eight lanes) for q < 2^50 and n >= 32; the
 * scalar code for other tables. Compiled on x86-64 with GCC or clang; MUST
 * only be called where hnnrt_ntt_kernels_available lists it. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HNNRT_NTT_HAVE_IFMA 1
extern const hnnrt_ntt_kernels hnnrt_ntt_kernels_ifma;
#else
#define HNNRT_NTT_HAVE_IFMA 0
#endif

/* The kernels this CPU can run, the scalar one first, into out[0..cap);
 * returns how many there are (at most HNNRT_NTT_MAX_KERNELS). */
#define HNNRT_NTT_MAX_KERNELS 2
size_t hnnrt_ntt_kernels_available(const hnnrt_ntt_kernels **out, size_t cap);

/* The fastest kernel this CPU can run, detected on each call (call it once,
 * when a context is made). The environment variable HNNRT_NTT names a kernel
 * to use instead ("scalar", "ifma"); a kernel the CPU cannot run, or an unknown
 * name, leaves the choice to the detection. Never NULL. */
const hnnrt_ntt_kernels *hnnrt_ntt_kernels_best(void);

/* Builds the tables for prime q = 1 (mod 2n); counter MAY be NULL. */
hnnrt_status hnnrt_ntt_table_init(hnnrt_ntt_table *t, uint64_t q, unsigned log_n, hnnrt_alloc_counter *counter);
void hnnrt_ntt_table_release(hnnrt_ntt_table *t, hnnrt_alloc_counter *counter);

uint32_t hnnrt_ntt_bitrev(uint32_t x, unsigned bits);

#endif
