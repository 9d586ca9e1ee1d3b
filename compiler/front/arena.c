#include "front/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"

/* Chunks grow geometrically so a 10,000-layer model costs a handful of mallocs. */
enum { HNN_ARENA_FIRST_CHUNK = 16 * 1024, HNN_ARENA_MAX_CHUNK = 4 * 1024 * 1024 };

typedef struct hnn_arena_chunk {
    struct hnn_arena_chunk *next;
    size_t size;
    size_t used;
    max_align_t data[];
} hnn_arena_chunk;

struct hnn_arena {
    hnn_arena_chunk *head;
    size_t next_size;
    size_t total;
};

hnn_arena *
hnn_arena_new(void)
{
    hnn_arena *a = calloc(1, sizeof *a);
    if (a)
        a->next_size = HNN_ARENA_FIRST_CHUNK;
    return a;
}

void
hnn_arena_free(hnn_arena *arena)
{
    if (!arena)
        return;
    hnn_arena_chunk *c = arena->head;
    while (c) {
        hnn_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(arena);
}

static size_t
hnn_arena_round(size_t n)
{
    size_t align = _Alignof(max_align_t);
    return (n + align - 1) / align * align;
}

void *
hnn_arena_alloc(hnn_arena *arena, size_t size)
{
    if (size > SIZE_MAX / 2)
        hnn_fatal_oom();
    size = hnn_arena_round(size ? size : 1);
    hnn_arena_chunk *c = arena->head;
    if (!c || c->size - c->used < size) {
        size_t want = arena->next_size;
        if (want < size)
            want = size;
        c = malloc(sizeof *c + want);
        if (!c)
            hnn_fatal_oom();
        c->size = want;
        c->used = 0;
        /* A huge one-off block goes behind the current chunk so the free space
         * of the current chunk is not wasted. */
        if (arena->head && size > arena->next_size) {
            c->next = arena->head->next;
            arena->head->next = c;
        } else {
            c->next = arena->head;
            arena->head = c;
            if (arena->next_size < HNN_ARENA_MAX_CHUNK)
                arena->next_size *= 2;
        }
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    arena->total += size;
    memset(p, 0, size);
    return p;
}

void *
hnn_arena_array(hnn_arena *arena, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / 4 / size)
        hnn_fatal_oom();
    return hnn_arena_alloc(arena, n * size);
}

char *
hnn_arena_strndup(hnn_arena *arena, const char *s, size_t len)
{
    char *p = hnn_arena_alloc(arena, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
hnn_arena_strdup(hnn_arena *arena, const char *s)
{
    return hnn_arena_strndup(arena, s, strlen(s));
}

char *
hnn_arena_printf(hnn_arena *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        hnn_bug("bad format string");
    char *p = hnn_arena_alloc(arena, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t
hnn_arena_used(const hnn_arena *arena)
{
    return arena->total;
}
