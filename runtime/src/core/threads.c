#include <stdlib.h>

#include <omp.h>

#include "core/core.h"

int
hnnrt_threads_default(void)
{
    const char *env = getenv("HNNRT_THREADS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v >= 1 && v <= 1024)
            return (int)v;
    }
    int t = omp_get_max_threads();
    return t >= 1 ? t : 1;
}
