/*
 * hnn_loc: where something came from. A file id (registered with hnn_diag, 0 means
 * "no file") and a half-open byte range [begin, end). Lines and columns are worked
 * out only when a diagnostic is printed, from the file's line table, so tokens and
 * nodes stay small.
 */
#ifndef HNN_FRONT_LOC_H
#define HNN_FRONT_LOC_H

#include <stdint.h>

typedef struct hnn_loc {
    uint32_t file;
    uint32_t begin;
    uint32_t end;
} hnn_loc;

/* The smallest range covering a and b (both in the same file). */
static inline hnn_loc
hnn_loc_span(hnn_loc a, hnn_loc b)
{
    hnn_loc r = a;
    if (b.begin < r.begin)
        r.begin = b.begin;
    if (b.end > r.end)
        r.end = b.end;
    return r;
}

#endif
