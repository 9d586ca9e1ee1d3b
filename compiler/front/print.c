#include "front/print.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void
hnn_ast_format_number(char *buf, size_t size, double v, int is_integer)
{
    if (v == 0) {
        snprintf(buf, size, "0"); /* also for -0: the sign of zero means nothing here */
        return;
    }
    if (is_integer && fabs(v) < 9007199254740992.0 && v == floor(v)) {
        snprintf(buf, size, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* "3" would read back as an integer; keep non-integers visibly real. */
    if (!is_integer && !strpbrk(buf, ".eEn")) {
        size_t n = strlen(buf);
        if (n + 2 < size)
            memcpy(buf + n, ".0", 3);
    }
}

static void
hnn_ast_print_number(FILE *out, const hnn_ast_value *v)
{
    char buf[64];
    if (v->u.number.is_power) {
        hnn_ast_format_number(buf, sizeof buf, v->u.number.base, 1);
        /* base and exponent are written as integers or decimals as parsed */
        if (v->u.number.base != floor(v->u.number.base))
            hnn_ast_format_number(buf, sizeof buf, v->u.number.base, 0);
        fprintf(out, "%s^", buf);
        int int_exp = v->u.number.exponent == floor(v->u.number.exponent);
        hnn_ast_format_number(buf, sizeof buf, v->u.number.exponent, int_exp);
        fputs(buf, out);
        return;
    }
    hnn_ast_format_number(buf, sizeof buf, v->u.number.value, v->u.number.is_integer);
    fputs(buf, out);
}

static void
hnn_ast_print_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void
hnn_ast_print_args(FILE *out, const hnn_ast_arg *args)
{
    for (const hnn_ast_arg *g = args; g; g = g->next) {
        if (g != args)
            fputs(", ", out);
        if (g->key)
            fprintf(out, "%s ", g->key);
        hnn_ast_print_value(out, g->value);
    }
}

void
hnn_ast_print_value(FILE *out, const hnn_ast_value *v)
{
    switch (v->kind) {
    case HNN_AST_NUMBER:
        hnn_ast_print_number(out, v);
        break;
    case HNN_AST_NAME:
        fputs(v->u.name, out);
        break;
    case HNN_AST_STRING:
        hnn_ast_print_string(out, v->u.string);
        break;
    case HNN_AST_LIST:
        fputc('[', out);
        for (const hnn_ast_value *i = v->u.list.items; i; i = i->next) {
            if (i != v->u.list.items)
                fputs(", ", out);
            hnn_ast_print_value(out, i);
        }
        fputc(']', out);
        break;
    case HNN_AST_CALL:
        fprintf(out, "%s(", v->u.call.callee);
        hnn_ast_print_args(out, v->u.call.args);
        fputc(')', out);
        break;
    }
}

/* An input range of many pairs reads best a few pairs to a line. */
#define HNN_PRINT_PAIRS_PER_LINE 4

/* Prints pair k; called for k = 0, 1, ... in order. */
typedef void (*hnn_print_item)(FILE *out, size_t k, void *ctx);

/* The layout of a list of pairs, the same for a parsed range and a computed one. */
static void
hnn_print_pairs(FILE *out, size_t n, hnn_print_item item, void *ctx)
{
    bool wrap = n > HNN_PRINT_PAIRS_PER_LINE;
    fputc('[', out);
    for (size_t k = 0; k < n; k++) {
        if (wrap)
            fputs(k == 0 ? "\n    " : k % HNN_PRINT_PAIRS_PER_LINE ? ", " : ",\n    ", out);
        else if (k)
            fputs(", ", out);
        item(out, k, ctx);
    }
    fputs(wrap ? "\n  ]" : "]", out);
}

static void
hnn_print_ast_item(FILE *out, size_t k, void *ctx)
{
    const hnn_ast_value **next = ctx;
    (void)k;
    hnn_ast_print_value(out, *next);
    *next = (*next)->next;
}

static void
hnn_ast_print_range(FILE *out, const hnn_ast_value *v)
{
    if (v->kind == HNN_AST_LIST && v->u.list.items && v->u.list.items->kind == HNN_AST_LIST) {
        const hnn_ast_value *next = v->u.list.items;
        hnn_print_pairs(out, v->u.list.count, hnn_print_ast_item, &next);
    } else {
        hnn_ast_print_value(out, v);
    }
}

typedef struct hnn_print_bounds {
    const double *lo, *hi;
} hnn_print_bounds;

static void
hnn_print_bounds_item(FILE *out, size_t k, void *ctx)
{
    const hnn_print_bounds *b = ctx;
    char lo[64], hi[64];
    hnn_ast_format_number(lo, sizeof lo, b->lo[k], b->lo[k] == floor(b->lo[k]));
    hnn_ast_format_number(hi, sizeof hi, b->hi[k], b->hi[k] == floor(b->hi[k]));
    fprintf(out, "[%s, %s]", lo, hi);
}

void
hnn_print_input_range(FILE *out, const double *lo, const double *hi, size_t n)
{
    hnn_print_bounds b = {lo, hi};
    fputs("range ", out);
    if (n == 1)
        hnn_print_bounds_item(out, 0, &b);
    else
        hnn_print_pairs(out, n, hnn_print_bounds_item, &b);
}

static void
hnn_ast_print_settings(FILE *out, const char *keyword, const hnn_ast_setting *settings)
{
    fprintf(out, "  %s {\n", keyword);
    for (const hnn_ast_setting *s = settings; s; s = s->next) {
        fprintf(out, "    %s", s->name);
        for (const hnn_ast_value *v = s->values; v; v = v->next) {
            fputc(' ', out);
            hnn_ast_print_value(out, v);
        }
        fputs(";\n", out);
    }
    fputs("  }\n", out);
}

void
hnn_ast_print(FILE *out, const hnn_ast_model *model)
{
    fprintf(out, "model %s {\n", model->name);
    for (const hnn_ast_stmt *s = model->stmts; s; s = s->next) {
        switch (s->kind) {
        case HNN_AST_INPUT:
            fputs("  input ", out);
            if (s->name)
                fprintf(out, "%s: ", s->name);
            hnn_ast_print_value(out, s->value);
            if (s->range) {
                fputs(" range ", out);
                hnn_ast_print_range(out, s->range);
            }
            fputs(";\n", out);
            break;
        case HNN_AST_WEIGHTS:
            fputs("  weights ", out);
            hnn_ast_print_value(out, s->value);
            fputs(";\n", out);
            break;
        case HNN_AST_LAYER:
            fputs("  layer ", out);
            if (s->name)
                fprintf(out, "%s = ", s->name);
            hnn_ast_print_value(out, s->value);
            fputs(";\n", out);
            break;
        case HNN_AST_OUTPUT:
            fputs("  output ", out);
            hnn_ast_print_value(out, s->value);
            fputs(";\n", out);
            break;
        case HNN_AST_HINTS:
            hnn_ast_print_settings(out, "hints", s->settings);
            break;
        case HNN_AST_TRAIN:
            hnn_ast_print_settings(out, "train", s->settings);
            break;
        }
    }
    fputs("}\n", out);
}
