#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/core.h"

void *
hnnrt_mem_alloc_uninit(hnnrt_alloc_counter *counter, size_t size)
{
    if (size == 0)
        return NULL;
    size_t rounded = (size + HNNRT_ALIGN - 1) / HNNRT_ALIGN * HNNRT_ALIGN;
    if (rounded < size)
        return NULL;
    void *p = aligned_alloc(HNNRT_ALIGN, rounded);
    if (p && counter)
        atomic_fetch_add(&counter->live, 1);
    return p;
}

void *
hnnrt_mem_alloc(hnnrt_alloc_counter *counter, size_t size)
{
    void *p = hnnrt_mem_alloc_uninit(counter, size);
    if (p)
        memset(p, 0, (size + HNNRT_ALIGN - 1) / HNNRT_ALIGN * HNNRT_ALIGN);
    return p;
}

void
hnnrt_mem_free(hnnrt_alloc_counter *counter, void *p)
{
    if (!p)
        return;
    if (counter)
        atomic_fetch_sub(&counter->live, 1);
    free(p);
}

void
hnnrt_mem_free_secret(hnnrt_alloc_counter *counter, void *p, size_t size)
{
    if (!p)
        return;
    sodium_memzero(p, size);
    hnnrt_mem_free(counter, p);
}

size_t
hnnrt_mem_words(size_t a, size_t b, size_t c)
{
    size_t r = a;
    if (b && r > SIZE_MAX / b)
        return 0;
    r *= b;
    if (c && r > SIZE_MAX / c)
        return 0;
    r *= c;
    if (r > SIZE_MAX / 8)
        return 0;
    return r * 8;
}

hnnrt_status
hnnrt_sodium_ready(void)
{
    return sodium_init() < 0 ? HNNRT_ERR_RANDOM : HNNRT_OK;
}
