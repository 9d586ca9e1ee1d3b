/*
 * Layer 0 — core: status names, error messages, the allocator hook and the
 * OpenMP thread-count helper. Every other layer builds on this one.
 */
#ifndef HNNRT_CORE_H
#define HNNRT_CORE_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hnnrt.h"

#define HNNRT_ALIGN 64
#define HNNRT_MSG_CAP 256

/* Live-allocation counter shared by the objects of one context. */
typedef struct hnnrt_alloc_counter {
    atomic_long live;
} hnnrt_alloc_counter;

/* Zeroed, HNNRT_ALIGN-aligned memory; NULL on failure or size 0. counter MAY be NULL. */
void *hnnrt_mem_alloc(hnnrt_alloc_counter *counter, size_t size);
/* The same, not zeroed: for buffers written before they are read (a
 * ciphertext's limbs). A fresh page is then first touched by the operation
 * that writes it, inside its threads, and pages never written are never
 * touched; zeroing would touch all of them once more, on one thread. */
void *hnnrt_mem_alloc_uninit(hnnrt_alloc_counter *counter, size_t size);
/* p MAY be NULL. */
void hnnrt_mem_free(hnnrt_alloc_counter *counter, void *p);
/* Wipes size bytes of p (sodium_memzero) before releasing it. */
void hnnrt_mem_free_secret(hnnrt_alloc_counter *counter, void *p, size_t size);
/* size = a * b * c * 8 bytes, or 0 when it overflows. */
size_t hnnrt_mem_words(size_t a, size_t b, size_t c);

/* Fills err (MAY be NULL) and returns s. */
hnnrt_status hnnrt_err_set(hnnrt_error *err, hnnrt_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes "op: detail" into an actor's message buffer (HNNRT_MSG_CAP) and returns s. */
hnnrt_status hnnrt_msg_set(char *buf, hnnrt_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Thread count from HNNRT_THREADS, else the OpenMP default; at least 1. */
int hnnrt_threads_default(void);

/* Initialises libsodium once (it is idempotent and thread-safe). */
hnnrt_status hnnrt_sodium_ready(void);

#endif
