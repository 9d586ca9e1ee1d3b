/*
 * The syntax tree of one .hnn file, exactly as written (after parsing, before
 * any checking). It is deliberately generic: every layer is a call
 * `kind(args)`, every hint or training setting is `name values;`. What the
 * names mean is decided by sema against its tables, which is where unknown
 * names get "did you mean" suggestions. All nodes live in an hnn_arena.
 *
 * Lists are singly linked in source order.
 */
#ifndef HNN_FRONT_AST_H
#define HNN_FRONT_AST_H

#include <stdbool.h>
#include <stddef.h>

#include "front/arena.h"
#include "front/loc.h"

typedef enum hnn_ast_value_kind {
    HNN_AST_NUMBER, /* 8, -0.5, 1e-3, 2^14 */
    HNN_AST_NAME,   /* h1, auto, client */
    HNN_AST_STRING, /* "iris.weights.json" */
    HNN_AST_LIST,   /* [a, b, ...], nested for tensors */
    HNN_AST_CALL,   /* dense(x, 8), sgd(lr 0.05) */
} hnn_ast_value_kind;

typedef struct hnn_ast_value hnn_ast_value;
typedef struct hnn_ast_arg hnn_ast_arg;

/* One argument of a call: positional (key == NULL) or `key value`. */
struct hnn_ast_arg {
    const char *key;
    hnn_loc key_loc;
    hnn_ast_value *value;
    hnn_loc loc; /* key and value */
    hnn_ast_arg *next;
};

struct hnn_ast_value {
    hnn_ast_value_kind kind;
    hnn_loc loc;
    hnn_ast_value *next; /* next list item or setting value */
    union {
        struct {
            double value;
            bool is_integer; /* written as digits only (or 2^k with k >= 0) */
            bool is_power;   /* written as base^exponent */
            double base, exponent;
        } number;
        const char *name;
        const char *string;
        struct {
            hnn_ast_value *items;
            size_t count;
        } list;
        struct {
            const char *callee;
            hnn_loc callee_loc;
            hnn_ast_arg *args;
            size_t count;
        } call;
    } u;
};

typedef enum hnn_ast_stmt_kind {
    HNN_AST_INPUT,   /* input [NAME :] shape [range [lo, hi]]; */
    HNN_AST_WEIGHTS, /* weights "file.json"; | weights none; */
    HNN_AST_LAYER,   /* layer [NAME =] call; */
    HNN_AST_OUTPUT,  /* output NAME; | output call; */
    HNN_AST_HINTS,   /* hints { settings } */
    HNN_AST_TRAIN,   /* train { settings } */
} hnn_ast_stmt_kind;

/* `name value value ...;` inside hints or train. */
typedef struct hnn_ast_setting {
    const char *name;
    hnn_loc name_loc;
    hnn_ast_value *values;
    size_t count;
    hnn_loc loc;
    struct hnn_ast_setting *next;
} hnn_ast_setting;

typedef struct hnn_ast_stmt {
    hnn_ast_stmt_kind kind;
    hnn_loc loc;      /* the whole statement */
    const char *name; /* input or layer name; NULL when not written */
    hnn_loc name_loc;
    hnn_ast_value *value;         /* input shape call, weights source, layer call, output */
    hnn_ast_value *range;      /* input range, or NULL */
    hnn_loc range_loc;
    hnn_ast_setting *settings;    /* hints, train */
    hnn_loc keyword_loc;
    struct hnn_ast_stmt *next;
} hnn_ast_stmt;

typedef struct hnn_ast_model {
    const char *name;
    hnn_loc name_loc;
    hnn_loc loc;
    hnn_ast_stmt *stmts;
    size_t n_stmts;
} hnn_ast_model;

/* Builders, one per grammar action. */
hnn_ast_value *hnn_ast_number(hnn_arena *a, hnn_loc loc, double v, bool is_integer);
hnn_ast_value *hnn_ast_power(hnn_arena *a, hnn_loc loc, const hnn_ast_value *base,
                             const hnn_ast_value *exponent);
hnn_ast_value *hnn_ast_negate(hnn_ast_value *v, hnn_loc loc);
hnn_ast_value *hnn_ast_name(hnn_arena *a, hnn_loc loc, const char *name);
hnn_ast_value *hnn_ast_string(hnn_arena *a, hnn_loc loc, const char *s);
hnn_ast_value *hnn_ast_list(hnn_arena *a, hnn_loc loc, hnn_ast_value *items);
hnn_ast_value *hnn_ast_call(hnn_arena *a, hnn_loc loc, const char *callee, hnn_loc callee_loc,
                            hnn_ast_arg *args);
hnn_ast_arg *hnn_ast_arg_new(hnn_arena *a, hnn_loc loc, const char *key, hnn_loc key_loc,
                             hnn_ast_value *value);
hnn_ast_setting *hnn_ast_setting_new(hnn_arena *a, hnn_loc loc, const char *name, hnn_loc name_loc,
                                     hnn_ast_value *values);
hnn_ast_stmt *hnn_ast_stmt_new(hnn_arena *a, hnn_ast_stmt_kind kind, hnn_loc loc);
hnn_ast_model *hnn_ast_model_new(hnn_arena *a, hnn_loc loc, const char *name, hnn_loc name_loc,
                                 hnn_ast_stmt *stmts);

/* Number of items in a value chain (list items, setting values). */
size_t hnn_ast_value_count(const hnn_ast_value *v);
/* "a number", "a name", ...: for messages. */
const char *hnn_ast_value_kind_name(hnn_ast_value_kind kind);

#endif
