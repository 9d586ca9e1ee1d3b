/* Shared helpers of the planner tests: plan a model from text, free it, and
 * draw reproducible test inputs. */
#ifndef PLAN_TEST_H
#define PLAN_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "front/front.h"
#include "middle/plan.h"

typedef struct planned {
    hnn_arena *arena;
    hnn_diag *diag;
    hnn_plan *plan;
} planned;

/* Plans a checked model (NULL: the front end failed); fails the test when
 * planning fails, after printing the diagnostics. */
static inline planned
plan_model_with(hnn_model *m, hnn_arena *arena, hnn_diag *diag, const hnn_plan_options *po)
{
    planned p = {arena, diag, NULL};
    if (m)
        p.plan = hnn_plan_build(m, po, p.arena, p.diag);
    if (!p.plan)
        hnn_diag_print(p.diag, stderr);
    assert_non_null(p.plan);
    return p;
}

static inline planned
plan_text_with(const char *text, const hnn_plan_options *po)
{
    hnn_arena *arena = hnn_arena_new();
    hnn_diag *diag = hnn_diag_new();
    hnn_model *m = hnn_front_check_text("test.hnn", text, strlen(text), ".", NULL, arena, diag, NULL);
    return plan_model_with(m, arena, diag, po);
}

static inline planned
plan_model(hnn_model *m, hnn_arena *arena, hnn_diag *diag)
{
    hnn_plan_options po = {.verify_each = true};
    return plan_model_with(m, arena, diag, &po);
}

static inline planned
plan_text(const char *text)
{
    hnn_plan_options po = {.verify_each = true};
    return plan_text_with(text, &po);
}

static inline void
planned_free(planned *p)
{
    hnn_diag_free(p->diag);
    hnn_arena_free(p->arena);
}

/* splitmix64: the next 64 bits, and a double uniform in [0, 1). */
static inline uint64_t
next64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline double
unit(uint64_t *s)
{
    return (double)(next64(s) >> 11) * 0x1p-53;
}

#endif
