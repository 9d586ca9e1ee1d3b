/*
 * Semantic analysis: from the syntax tree to the checked model (model.h).
 * Resolves names, infers every shape, loads and checks weights, checks hint and
 * training values, and warns about suspicious things (unused layers, activation
 * intervals narrower than their input's range). Reports everything to diag and
 * keeps going, so one run shows all it can.
 */
#ifndef HNN_FRONT_SEMA_H
#define HNN_FRONT_SEMA_H

#include <stdbool.h>

#include "front/arena.h"
#include "front/ast.h"
#include "front/diag.h"
#include "front/model.h"

typedef struct hnn_sema_options {
    const char *model_dir;        /* a weights file is found relative to this ("" = cwd) */
    const char *weights_override; /* replaces the model's weights statement (hnnc --weights) */
    bool no_io;                   /* open no file (fuzzing): a weights file counts as none */
} hnn_sema_options;

/* Returns the model, or NULL when an error was reported. */
hnn_model *hnn_sema_check(const hnn_ast_model *ast, const hnn_sema_options *opt, hnn_arena *arena,
                          hnn_diag *diag);

#endif
