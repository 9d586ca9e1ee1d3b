/* Choosing a kernel: what the CPU can run, and HNNRT_NTT. Nothing here
 * carries an AVX-512 target, so this file runs on any x86-64. */
#include <stdlib.h>
#include <string.h>

#include "ntt/ntt.h"

#if HNNRT_NTT_HAVE_IFMA
/* Detected on every call: no cached flag, no global state of ours. */
static int
cpu_has_ifma(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512ifma");
}
#endif

/* see ntt.h */
size_t
hnnrt_ntt_kernels_available(const hnnrt_ntt_kernels **out, size_t cap)
{
    const hnnrt_ntt_kernels *all[HNNRT_NTT_MAX_KERNELS];
    size_t count = 0;
    all[count++] = &hnnrt_ntt_kernels_scalar;
#if HNNRT_NTT_HAVE_IFMA
    if (cpu_has_ifma())
        all[count++] = &hnnrt_ntt_kernels_ifma;
#endif
    for (size_t i = 0; i < count && i < cap; i++)
        out[i] = all[i];
    return count;
}

/* see ntt.h */
const hnnrt_ntt_kernels *
hnnrt_ntt_kernels_best(void)
{
    const hnnrt_ntt_kernels *avail[HNNRT_NTT_MAX_KERNELS];
    size_t count = hnnrt_ntt_kernels_available(avail, HNNRT_NTT_MAX_KERNELS);
    const char *want = getenv("HNNRT_NTT");
    if (want && *want)
        for (size_t i = 0; i < count; i++)
            if (strcmp(avail[i]->name, want) == 0)
                return avail[i];
    return avail[count - 1]; /* the list runs from slowest to fastest */
}
