/* Argument binding and typed value readers shared by layers, hints and training. */
#include <math.h>
#include <string.h>

#include "front/print.h"
#include "front/sema_internal.h"

/* Calls `fn(word, len, ctx)` for each space-separated word; stops when it returns true. */
static bool
hnn_sema_words(const char *list, bool (*fn)(const char *, size_t, void *), void *ctx)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        if (p > w && fn(w, (size_t)(p - w), ctx))
            return true;
    }
    return false;
}

typedef struct hnn_sema_add_ctx {
    hnn_sema *s;
    hnn_sema_call *c;
} hnn_sema_add_ctx;

static bool
hnn_sema_add_name(const char *w, size_t n, void *ctx)
{
    hnn_sema_add_ctx *a = ctx;
    if (a->c->n_names < HNN_SEMA_MAX_PARAMS)
        a->c->names[a->c->n_names++] = hnn_arena_strndup(a->s->arena, w, n);
    return false;
}

static int
hnn_sema_param_index(const hnn_sema_call *c, const char *key)
{
    for (uint32_t i = 0; i < c->n_names; i++)
        if (strcmp(c->names[i], key) == 0)
            return (int)i;
    return -1;
}

bool
hnn_sema_bind(hnn_sema *s, const hnn_ast_value *call, const char *what, uint32_t max_inputs,
              const char *positional, const char *options, hnn_sema_call *out)
{
    memset(out, 0, sizeof *out);
    out->call = call;
    hnn_sema_add_ctx ctx = {s, out};
    hnn_sema_words(positional, hnn_sema_add_name, &ctx);
    uint32_t n_positional = out->n_names;
    hnn_sema_words(options, hnn_sema_add_name, &ctx);

    bool ok = true;
    uint32_t next_positional = 0;
    bool seen_other = false;
    for (const hnn_ast_arg *g = call->u.call.args; g; g = g->next) {
        if (!g->key && g->value->kind == HNN_AST_NAME && !seen_other && out->n_inputs < max_inputs) {
            out->inputs[out->n_inputs++] = g->value;
            continue;
        }
        seen_other = true;
        int idx;
        if (!g->key) {
            if (next_positional >= n_positional) {
                if (n_positional == 0)
                    hnn_diag_error(s->diag, g->loc, "%s takes no positional argument here; "
                                   "write options as 'name value'", what);
                else
                    hnn_diag_error(s->diag, g->loc, "too many positional arguments to %s "
                                   "(it takes %u: %s)", what, n_positional, positional);
                ok = false;
                continue;
            }
            idx = (int)next_positional++;
        } else {
            idx = hnn_sema_param_index(out, g->key);
            if (idx < 0) {
                hnn_diag_suggest sg;
                hnn_diag_suggest_init(&sg, g->key);
                for (uint32_t i = 0; i < out->n_names; i++)
                    hnn_diag_suggest_offer(&sg, out->names[i]);
                const char *best = hnn_diag_suggest_result(&sg);
                if (best)
                    hnn_diag_error(s->diag, g->key_loc, "%s has no option '%s'; did you mean '%s'?",
                                   what, g->key, best);
                else if (out->n_names)
                    hnn_diag_error(s->diag, g->key_loc, "%s has no option '%s' (its options: %s%s%s)",
                                   what, g->key, positional, *positional && *options ? " " : "",
                                   options);
                else
                    hnn_diag_error(s->diag, g->key_loc, "%s takes no options", what);
                ok = false;
                continue;
            }
        }
        if (out->args[idx]) {
            hnn_diag_error(s->diag, g->loc, "'%s' is given twice", out->names[idx]);
            hnn_diag_note(s->diag, out->args[idx]->loc, "first given here");
            ok = false;
            continue;
        }
        out->args[idx] = g;
    }
    return ok;
}

const hnn_ast_arg *
hnn_sema_arg(const hnn_sema_call *c, const char *key)
{
    int i = hnn_sema_param_index(c, key);
    return i < 0 ? NULL : c->args[i];
}

const char *
hnn_sema_describe(hnn_sema *s, const hnn_ast_value *v)
{
    char buf[64];
    switch (v->kind) {
    case HNN_AST_NUMBER:
        hnn_ast_format_number(buf, sizeof buf, v->u.number.value, v->u.number.is_integer);
        return hnn_arena_strdup(s->arena, buf);
    case HNN_AST_NAME:
        return hnn_arena_printf(s->arena, "'%s'", v->u.name);
    default:
        return hnn_ast_value_kind_name(v->kind);
    }
}

bool
hnn_sema_uint(hnn_sema *s, const hnn_ast_value *v, const char *what, uint64_t min, uint64_t max,
              uint64_t *out)
{
    if (v->kind != HNN_AST_NUMBER || !v->u.number.is_integer || v->u.number.value < (double)min ||
        v->u.number.value > (double)max) {
        hnn_diag_error(s->diag, v->loc, "%s must be a whole number from %llu to %llu; got %s", what,
                       (unsigned long long)min, (unsigned long long)max, hnn_sema_describe(s, v));
        return false;
    }
    *out = (uint64_t)v->u.number.value;
    return true;
}

bool
hnn_sema_real(hnn_sema *s, const hnn_ast_value *v, const char *what, double *out)
{
    if (v->kind != HNN_AST_NUMBER) {
        hnn_diag_error(s->diag, v->loc, "%s must be a number; got %s", what, hnn_sema_describe(s, v));
        return false;
    }
    if (!isfinite(v->u.number.value)) {
        hnn_diag_error(s->diag, v->loc, "%s is too large", what);
        return false;
    }
    *out = v->u.number.value;
    return true;
}

bool
hnn_sema_pair(hnn_sema *s, const hnn_ast_value *v, const char *what, uint32_t min, uint32_t max,
              uint32_t out[2])
{
    uint64_t a, b;
    if (v->kind == HNN_AST_LIST) {
        if (v->u.list.count != 2) {
            hnn_diag_error(s->diag, v->loc, "%s must be one number or a list of two [height, width]; "
                           "got a list of %zu", what, v->u.list.count);
            return false;
        }
        if (!hnn_sema_uint(s, v->u.list.items, what, min, max, &a) ||
            !hnn_sema_uint(s, v->u.list.items->next, what, min, max, &b))
            return false;
    } else {
        if (!hnn_sema_uint(s, v, what, min, max, &a))
            return false;
        b = a;
    }
    out[0] = (uint32_t)a;
    out[1] = (uint32_t)b;
    return true;
}

bool
hnn_sema_interval(hnn_sema *s, const hnn_ast_value *v, const char *what, double out[2])
{
    if (v->kind != HNN_AST_LIST || v->u.list.count != 2) {
        hnn_diag_error(s->diag, v->loc, "%s must be a list of two numbers [low, high]; got %s", what,
                       v->kind == HNN_AST_LIST ? hnn_arena_printf(s->arena, "a list of %zu",
                                                                  v->u.list.count)
                                               : hnn_sema_describe(s, v));
        return false;
    }
    if (!hnn_sema_real(s, v->u.list.items, what, &out[0]) ||
        !hnn_sema_real(s, v->u.list.items->next, what, &out[1]))
        return false;
    if (!(out[0] < out[1])) {
        hnn_diag_error(s->diag, v->loc, "%s must have its low end below its high end; got [%s, %s]",
                       what, hnn_sema_describe(s, v->u.list.items),
                       hnn_sema_describe(s, v->u.list.items->next));
        return false;
    }
    return true;
}

typedef struct hnn_sema_choice_ctx {
    const char *word;
    int index, found;
    hnn_diag_suggest *sg;
    hnn_arena *arena;
} hnn_sema_choice_ctx;

static bool
hnn_sema_choice_word(const char *w, size_t n, void *ctx)
{
    hnn_sema_choice_ctx *c = ctx;
    if (strlen(c->word) == n && strncmp(c->word, w, n) == 0) {
        c->found = c->index;
        return true;
    }
    hnn_diag_suggest_offer(c->sg, hnn_arena_strndup(c->arena, w, n));
    c->index++;
    return false;
}

typedef struct hnn_sema_join_ctx {
    char *out;
    size_t o, index, words;
} hnn_sema_join_ctx;

static bool
hnn_sema_join_word(const char *w, size_t n, void *ctx)
{
    hnn_sema_join_ctx *j = ctx;
    if (j->index > 0) {
        const char *sep = j->index + 1 == j->words ? " or " : ", ";
        memcpy(j->out + j->o, sep, strlen(sep));
        j->o += strlen(sep);
    }
    j->out[j->o++] = '\'';
    memcpy(j->out + j->o, w, n);
    j->o += n;
    j->out[j->o++] = '\'';
    j->index++;
    return false;
}

static bool
hnn_sema_count_word(const char *w, size_t n, void *ctx)
{
    (void)w;
    (void)n;
    ++*(size_t *)ctx;
    return false;
}

/* "'a', 'b' or 'c'" from "a b c". */
static const char *
hnn_sema_choices_text(hnn_sema *s, const char *choices)
{
    hnn_sema_join_ctx j = {hnn_arena_alloc(s->arena, 4 * strlen(choices) + 16), 0, 0, 0};
    hnn_sema_words(choices, hnn_sema_count_word, &j.words);
    hnn_sema_words(choices, hnn_sema_join_word, &j);
    j.out[j.o] = '\0';
    return j.out;
}

int
hnn_sema_choice(hnn_sema *s, const hnn_ast_value *v, const char *what, const char *choices)
{
    if (v->kind == HNN_AST_NAME) {
        hnn_diag_suggest sg;
        hnn_diag_suggest_init(&sg, v->u.name);
        hnn_sema_choice_ctx c = {v->u.name, 0, -1, &sg, s->arena};
        hnn_sema_words(choices, hnn_sema_choice_word, &c);
        if (c.found >= 0)
            return c.found;
        const char *best = hnn_diag_suggest_result(&sg);
        if (best) {
            hnn_diag_error(s->diag, v->loc, "'%s' is not a valid %s; did you mean '%s'?", v->u.name, what,
                           best);
            return -1;
        }
    }
    hnn_diag_error(s->diag, v->loc, "%s must be %s; got %s", what, hnn_sema_choices_text(s, choices),
                   hnn_sema_describe(s, v));
    return -1;
}

/* The shape a nested list has along its first elements. */
static uint32_t
hnn_sema_list_shape(const hnn_ast_value *v, uint32_t *dim, uint32_t max_rank)
{
    uint32_t rank = 0;
    while (v->kind == HNN_AST_LIST && rank < max_rank) {
        dim[rank++] = (uint32_t)v->u.list.count;
        if (!v->u.list.items)
            break;
        v = v->u.list.items;
    }
    return rank;
}

static const char *
hnn_sema_dims_text(hnn_sema *s, uint32_t rank, const uint32_t *dim)
{
    char buf[96];
    size_t o = 0;
    buf[o++] = '[';
    for (uint32_t i = 0; i < rank && o < sizeof buf - 16; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%u", i ? ", " : "", dim[i]);
    buf[o++] = ']';
    buf[o] = '\0';
    return hnn_arena_strdup(s->arena, buf);
}

/* Copies the numbers of a regular nested list; reports the first irregularity. */
static bool
hnn_sema_list_fill(hnn_sema *s, const hnn_ast_value *v, const char *what, uint32_t depth,
                   uint32_t rank, const uint32_t *dim, double *data, size_t *at)
{
    if (depth == rank) {
        if (v->kind != HNN_AST_NUMBER) {
            hnn_diag_error(s->diag, v->loc, "%s must hold numbers only; got %s", what,
                           hnn_ast_value_kind_name(v->kind));
            return false;
        }
        data[(*at)++] = v->u.number.value;
        return true;
    }
    if (v->kind != HNN_AST_LIST || v->u.list.count != dim[depth]) {
        hnn_diag_error(s->diag, v->loc, "%s is not a regular array: expected a list of %u here",
                       what, dim[depth]);
        return false;
    }
    for (const hnn_ast_value *i = v->u.list.items; i; i = i->next)
        if (!hnn_sema_list_fill(s, i, what, depth + 1, rank, dim, data, at))
            return false;
    return true;
}

bool
hnn_sema_tensor(hnn_sema *s, const hnn_ast_value *v, const char *what, uint32_t rank,
                const uint32_t *dim, const char *doc, hnn_tensor *out)
{
    uint32_t got[5] = {0};
    uint32_t got_rank = hnn_sema_list_shape(v, got, 5);
    bool same = got_rank == rank;
    for (uint32_t i = 0; same && i < rank; i++)
        same = got[i] == dim[i];
    if (!same) {
        if (got_rank == 0)
            hnn_diag_error(s->diag, v->loc, "%s must be an array of shape %s (%s); got %s", what,
                           hnn_sema_dims_text(s, rank, dim), doc, hnn_sema_describe(s, v));
        else
            hnn_diag_error(s->diag, v->loc, "%s has shape %s; expected %s (%s)", what,
                           hnn_sema_dims_text(s, got_rank, got), hnn_sema_dims_text(s, rank, dim), doc);
        return false;
    }
    size_t count = 1;
    for (uint32_t i = 0; i < rank; i++)
        count *= dim[i];
    double *data = hnn_arena_array(s->arena, count, sizeof *data);
    size_t at = 0;
    if (!hnn_sema_list_fill(s, v, what, 0, rank, dim, data, &at))
        return false;
    out->rank = rank;
    memcpy(out->dim, dim, rank * sizeof *dim);
    out->count = count;
    out->data = data;
    out->loc = v->loc;
    return true;
}
