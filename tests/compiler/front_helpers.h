/* Helpers shared by the front-end unit tests: check a model from a string and
 * look at what came out. Header-only so that each test stays one program. */
#ifndef HNN_TEST_FRONT_HELPERS_H
#define HNN_TEST_FRONT_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "front/arena.h"
#include "front/diag.h"
#include "front/front.h"

typedef struct hnn_test_run {
    hnn_arena *arena;
    hnn_diag *diag;
    hnn_model *model;
    hnn_ast_model *ast;
    char *out; /* the printed diagnostics */
} hnn_test_run;

/* The printed diagnostics, malloc'd. */
static inline char *
hnn_test_diag_text(const hnn_diag *diag)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    hnn_diag_print(diag, f);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Checks `src` as if it were the file "t.hnn" in directory `dir`. */
static inline hnn_test_run
hnn_test_check_in(const char *src, const char *dir)
{
    hnn_test_run r = {hnn_arena_new(), hnn_diag_new(), NULL, NULL, NULL};
    assert_non_null(r.arena);
    assert_non_null(r.diag);
    r.model = hnn_front_check_text("t.hnn", src, strlen(src), dir, NULL, r.arena, r.diag, &r.ast);
    r.out = hnn_test_diag_text(r.diag);
    return r;
}

static inline hnn_test_run
hnn_test_check(const char *src)
{
    return hnn_test_check_in(src, "");
}

static inline void
hnn_test_done(hnn_test_run *r)
{
    free(r->out);
    hnn_diag_free(r->diag);
    hnn_arena_free(r->arena);
}

/* The diagnostics contain `needle`. */
#define assert_diag(r, needle)                                                         \
    do {                                                                               \
        if (!strstr((r)->out, (needle)))                                               \
            fail_msg("expected diagnostic containing \"%s\", got:\n%s", (needle), (r)->out); \
    } while (0)

#endif
