#include "modarith/modarith.h"

void
hnnrt_mod_init(hnnrt_modulus *m, uint64_t q)
{
    m->value = q;
    /* floor(2^128 / q): 2^128 - 1 divided, exact since q is odd (not a power of two). */
    hnnrt_u128 ratio = ~(hnnrt_u128)0 / q;
    m->ratio_hi = (uint64_t)(ratio >> 64);
    m->ratio_lo = (uint64_t)ratio;
    unsigned bits = 0;
    while (bits < 64 && (q >> bits))
        bits++;
    m->bits = bits;
}

uint64_t
hnnrt_mod_pow(uint64_t base, uint64_t e, const hnnrt_modulus *m)
{
    uint64_t r = 1 % m->value, b = hnnrt_mod_reduce64(base, m);
    while (e) {
        if (e & 1)
            r = hnnrt_mod_mul(r, b, m);
        b = hnnrt_mod_mul(b, b, m);
        e >>= 1;
    }
    return r;
}

uint64_t
hnnrt_mod_inv(uint64_t a, const hnnrt_modulus *m)
{
    return hnnrt_mod_pow(a, m->value - 2, m);
}

static uint64_t
mulmod_u64(uint64_t a, uint64_t b, uint64_t n)
{
    return (uint64_t)(((hnnrt_u128)a * b) % n);
}

static uint64_t
powmod_u64(uint64_t b, uint64_t e, uint64_t n)
{
    uint64_t r = 1 % n;
    b %= n;
    while (e) {
        if (e & 1)
            r = mulmod_u64(r, b, n);
        b = mulmod_u64(b, b, n);
        e >>= 1;
    }
    return r;
}

int
hnnrt_mod_is_prime(uint64_t n)
{
    static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    if (n < 2)
        return 0;
    for (unsigned i = 0; i < 12; i++) {
        if (n == bases[i])
            return 1;
        if (n % bases[i] == 0)
            return 0;
    }
    uint64_t d = n - 1;
    unsigned s = 0;
    while (!(d & 1)) {
        d >>= 1;
        s++;
    }
    for (unsigned i = 0; i < 12; i++) {
        uint64_t x = powmod_u64(bases[i], d, n);
        if (x == 1 || x == n - 1)
            continue;
        unsigned r;
        for (r = 1; r < s; r++) {
            x = mulmod_u64(x, x, n);
            if (x == n - 1)
                break;
        }
        if (r == s)
            return 0;
    }
    return 1;
}

static int
contains(const uint64_t *v, unsigned n, uint64_t x)
{
    for (unsigned i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

unsigned
hnnrt_mod_ntt_primes(unsigned bits, uint64_t two_n, unsigned count, const uint64_t *avoid, unsigned n_avoid,
                     uint64_t *out)
{
    if (bits < 2 || bits > 62 || count == 0)
        return 0;
    uint64_t lo = (uint64_t)1 << (bits - 1), hi = (uint64_t)1 << bits;
    /* The largest candidate below 2^bits with q = 1 (mod 2n). */
    uint64_t q = ((hi - 1) / two_n) * two_n + 1;
    if (q >= hi)
        q -= two_n;
    unsigned found = 0;
    for (; q > lo && found < count; q -= two_n) {
        if (contains(avoid, n_avoid, q) || contains(out, found, q))
            continue;
        if (hnnrt_mod_is_prime(q))
            out[found++] = q;
        if (q < lo + two_n)
            break;
    }
    return found;
}

uint64_t
hnnrt_mod_primitive_root(uint64_t two_n, const hnnrt_modulus *m)
{
    uint64_t q = m->value, cofactor = (q - 1) / two_n, best = 0;
    /* g^((q-1)/2n) has order dividing 2n; it is primitive iff its n-th power is -1. */
    for (uint64_t g = 2; g < q && g < 100000; g++) {
        uint64_t r = hnnrt_mod_pow(g, cofactor, m);
        if (hnnrt_mod_pow(r, two_n / 2, m) != q - 1)
            continue;
        /* The smallest primitive 2n-th root among the powers r^(odd). */
        uint64_t r2 = hnnrt_mod_mul(r, r, m), cur = r;
        best = r;
        for (uint64_t k = 1; k < two_n; k += 2) {
            if (cur < best)
                best = cur;
            cur = hnnrt_mod_mul(cur, r2, m);
        }
        return best;
    }
    return 0;
}
