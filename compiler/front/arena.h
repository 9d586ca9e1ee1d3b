/*
 * hnn_arena: a bump allocator that owns every AST node, string and checked-model
 * object of one compilation. Nothing allocated from it is freed on its own; the
 * whole arena goes in one hnn_arena_free call. Several arenas may coexist, which is
 * what lets one process compile several models.
 */
#ifndef HNN_FRONT_ARENA_H
#define HNN_FRONT_ARENA_H

#include <stddef.h>

typedef struct hnn_arena hnn_arena;

/* Returns NULL when memory is exhausted. */
hnn_arena *hnn_arena_new(void);
/* Frees the arena and everything allocated from it; NULL is a no-op. */
void hnn_arena_free(hnn_arena *arena);

/*
 * Zeroed memory aligned for any object. Aborts through hnn_bug-style reporting
 * on exhaustion: the front end has no sensible way to continue without memory.
 */
void *hnn_arena_alloc(hnn_arena *arena, size_t size);
/* n * size bytes, with the product checked for overflow. */
void *hnn_arena_array(hnn_arena *arena, size_t n, size_t size);
char *hnn_arena_strndup(hnn_arena *arena, const char *s, size_t len);
char *hnn_arena_strdup(hnn_arena *arena, const char *s);
/* printf into the arena. */
char *hnn_arena_printf(hnn_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Bytes handed out so far (tests and statistics). */
size_t hnn_arena_used(const hnn_arena *arena);

#endif
