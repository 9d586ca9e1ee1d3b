#include "front/ast.h"

#include <math.h>

hnn_ast_value *
hnn_ast_number(hnn_arena *a, hnn_loc loc, double v, bool is_integer)
{
    hnn_ast_value *n = hnn_arena_alloc(a, sizeof *n);
    n->kind = HNN_AST_NUMBER;
    n->loc = loc;
    n->u.number.value = v;
    n->u.number.is_integer = is_integer;
    return n;
}

hnn_ast_value *
hnn_ast_power(hnn_arena *a, hnn_loc loc, const hnn_ast_value *base, const hnn_ast_value *exponent)
{
    double b = base->u.number.value, e = exponent->u.number.value;
    double v = pow(b, e);
    hnn_ast_value *n = hnn_ast_number(a, loc, v, base->u.number.is_integer &&
                                                     exponent->u.number.is_integer && e >= 0 &&
                                                     v < 9007199254740992.0);
    n->u.number.is_power = true;
    n->u.number.base = b;
    n->u.number.exponent = e;
    return n;
}

hnn_ast_value *
hnn_ast_negate(hnn_ast_value *v, hnn_loc loc)
{
    v->loc = loc;
    v->u.number.value = -v->u.number.value;
    if (v->u.number.is_power)
        v->u.number.base = -v->u.number.base;
    return v;
}

hnn_ast_value *
hnn_ast_name(hnn_arena *a, hnn_loc loc, const char *name)
{
    hnn_ast_value *n = hnn_arena_alloc(a, sizeof *n);
    n->kind = HNN_AST_NAME;
    n->loc = loc;
    n->u.name = name;
    return n;
}

hnn_ast_value *
hnn_ast_string(hnn_arena *a, hnn_loc loc, const char *s)
{
    hnn_ast_value *n = hnn_arena_alloc(a, sizeof *n);
    n->kind = HNN_AST_STRING;
    n->loc = loc;
    n->u.string = s;
    return n;
}

hnn_ast_value *
hnn_ast_list(hnn_arena *a, hnn_loc loc, hnn_ast_value *items)
{
    hnn_ast_value *n = hnn_arena_alloc(a, sizeof *n);
    n->kind = HNN_AST_LIST;
    n->loc = loc;
    n->u.list.items = items;
    n->u.list.count = hnn_ast_value_count(items);
    return n;
}

hnn_ast_value *
hnn_ast_call(hnn_arena *a, hnn_loc loc, const char *callee, hnn_loc callee_loc, hnn_ast_arg *args)
{
    hnn_ast_value *n = hnn_arena_alloc(a, sizeof *n);
    n->kind = HNN_AST_CALL;
    n->loc = loc;
    n->u.call.callee = callee;
    n->u.call.callee_loc = callee_loc;
    n->u.call.args = args;
    for (const hnn_ast_arg *g = args; g; g = g->next)
        n->u.call.count++;
    return n;
}

hnn_ast_arg *
hnn_ast_arg_new(hnn_arena *a, hnn_loc loc, const char *key, hnn_loc key_loc, hnn_ast_value *value)
{
    hnn_ast_arg *g = hnn_arena_alloc(a, sizeof *g);
    g->loc = loc;
    g->key = key;
    g->key_loc = key_loc;
    g->value = value;
    return g;
}

hnn_ast_setting *
hnn_ast_setting_new(hnn_arena *a, hnn_loc loc, const char *name, hnn_loc name_loc, hnn_ast_value *values)
{
    hnn_ast_setting *s = hnn_arena_alloc(a, sizeof *s);
    s->loc = loc;
    s->name = name;
    s->name_loc = name_loc;
    s->values = values;
    s->count = hnn_ast_value_count(values);
    return s;
}

hnn_ast_stmt *
hnn_ast_stmt_new(hnn_arena *a, hnn_ast_stmt_kind kind, hnn_loc loc)
{
    hnn_ast_stmt *s = hnn_arena_alloc(a, sizeof *s);
    s->kind = kind;
    s->loc = loc;
    return s;
}

hnn_ast_model *
hnn_ast_model_new(hnn_arena *a, hnn_loc loc, const char *name, hnn_loc name_loc, hnn_ast_stmt *stmts)
{
    hnn_ast_model *m = hnn_arena_alloc(a, sizeof *m);
    m->loc = loc;
    m->name = name;
    m->name_loc = name_loc;
    m->stmts = stmts;
    for (const hnn_ast_stmt *s = stmts; s; s = s->next)
        m->n_stmts++;
    return m;
}

size_t
hnn_ast_value_count(const hnn_ast_value *v)
{
    size_t n = 0;
    for (; v; v = v->next)
        n++;
    return n;
}

const char *
hnn_ast_value_kind_name(hnn_ast_value_kind kind)
{
    switch (kind) {
    case HNN_AST_NUMBER:
        return "a number";
    case HNN_AST_NAME:
        return "a name";
    case HNN_AST_STRING:
        return "a string";
    case HNN_AST_LIST:
        return "a list";
    case HNN_AST_CALL:
        return "a call";
    }
    return "a value";
}
