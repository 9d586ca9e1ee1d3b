/* Shared state and helpers of the sema_*.c files; not for other modules. */
#ifndef HNN_FRONT_SEMA_INTERNAL_H
#define HNN_FRONT_SEMA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "front/ast.h"
#include "front/sema.h"
#include "front/weights.h"

enum { HNN_SEMA_MAX_PARAMS = 8 };

/* Limits that keep sizes within what the middle end and memory can take. */
#define HNN_SEMA_MAX_DIM (1u << 24)
#define HNN_SEMA_MAX_ELEMENTS (1ull << 31)

typedef struct hnn_sema_name {
    const char *name;
    hnn_layer *layer;       /* NULL while only declared */
    const hnn_ast_stmt *decl;
} hnn_sema_name;

typedef struct hnn_sema {
    hnn_arena *arena;
    hnn_diag *diag;
    const hnn_sema_options *opt;
    hnn_model *model;
    uint32_t layers_cap;
    hnn_sema_name *names; /* open addressing, power-of-two capacity */
    size_t names_cap;
    uint32_t kind_count[HNN_OP__COUNT];
    hnn_layer *last;      /* the most recent layer: the default input */
    hnn_weights *weights; /* the loaded file, when there is one */
    const hnn_ast_stmt *weights_stmt;
    bool missing_weights_reported;
} hnn_sema;

/* A call's arguments sorted out: inputs first, then parameters by name. */
typedef struct hnn_sema_call {
    const hnn_ast_value *call;
    const hnn_ast_value *inputs[2];
    uint32_t n_inputs;
    const char *names[HNN_SEMA_MAX_PARAMS];
    const hnn_ast_arg *args[HNN_SEMA_MAX_PARAMS]; /* NULL when not given */
    uint32_t n_names;
} hnn_sema_call;

/*
 * Binds the arguments of `call` (described as `what` in messages, e.g. "dense")
 * to the parameter names in `positional` and `options` (space-separated), after
 * up to max_inputs leading bare names. Reports unknown, duplicate and surplus
 * arguments; returns false if any.
 */
bool hnn_sema_bind(hnn_sema *s, const hnn_ast_value *call, const char *what, uint32_t max_inputs,
                   const char *positional, const char *options, hnn_sema_call *out);
/* The argument named key, or NULL. */
const hnn_ast_arg *hnn_sema_arg(const hnn_sema_call *c, const char *key);

/* Typed readers; each reports its own error and returns false on a bad value. */
bool hnn_sema_uint(hnn_sema *s, const hnn_ast_value *v, const char *what, uint64_t min,
                   uint64_t max, uint64_t *out);
bool hnn_sema_real(hnn_sema *s, const hnn_ast_value *v, const char *what, double *out);
/* An integer, or a list of two: kernel 3 / kernel [3, 5]. */
bool hnn_sema_pair(hnn_sema *s, const hnn_ast_value *v, const char *what, uint32_t min,
                   uint32_t max, uint32_t out[2]);
/* [lo, hi] with lo < hi, both finite. */
bool hnn_sema_interval(hnn_sema *s, const hnn_ast_value *v, const char *what, double out[2]);
/* A bare name among `choices` (space-separated); returns its index or -1. */
int hnn_sema_choice(hnn_sema *s, const hnn_ast_value *v, const char *what, const char *choices);
/* An inline tensor of exactly the given shape. */
bool hnn_sema_tensor(hnn_sema *s, const hnn_ast_value *v, const char *what, uint32_t rank,
                     const uint32_t *dim, const char *doc, hnn_tensor *out);
/* "8", "-0.5", "a name": how a value is shown in messages. */
const char *hnn_sema_describe(hnn_sema *s, const hnn_ast_value *v);

/* Layers (sema_layer.c). */
void hnn_sema_layer(hnn_sema *s, const hnn_ast_stmt *stmt, const hnn_ast_value *call,
                    const char *name, hnn_loc name_loc);
void hnn_sema_input(hnn_sema *s, const hnn_ast_stmt *stmt);

/* Names (sema.c). */
hnn_layer *hnn_sema_lookup(hnn_sema *s, const hnn_ast_value *ref);
void hnn_sema_define(hnn_sema *s, hnn_layer *layer);

/* Hints and training (sema_settings.c). */
void hnn_sema_hints(hnn_sema *s, const hnn_ast_stmt *stmt);
void hnn_sema_train(hnn_sema *s, const hnn_ast_stmt *stmt);
void hnn_sema_train_defaults(hnn_sema *s);

#endif
