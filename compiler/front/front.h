/*
 * The front end in one call: read a .hnn file, parse it, check it. This is the
 * entry point for the driver and for the middle end.
 *
 *   hnn_arena *arena = hnn_arena_new();
 *   hnn_diag *diag = hnn_diag_new();
 *   hnn_model *m = hnn_front_check_file("iris.hnn", NULL, arena, diag, NULL);
 *   hnn_diag_print(diag, stderr);
 *   if (m) ... lower m ...
 *   hnn_diag_free(diag);
 *   hnn_arena_free(arena);
 *
 * The model and its tensors live in the arena; locations refer to sources kept
 * by diag, so keep diag alive as long as you may report against the model.
 */
#ifndef HNN_FRONT_FRONT_H
#define HNN_FRONT_FRONT_H

#include <stdbool.h>
#include <stddef.h>

#include "front/arena.h"
#include "front/ast.h"
#include "front/diag.h"
#include "front/model.h"

/* Model files larger than this are refused. */
#define HNN_FRONT_MAX_SOURCE (64u * 1024 * 1024)

typedef struct hnn_front_options {
    const char *weights_path; /* use this weights file instead of the model's */
    bool no_io;               /* open no weights file (fuzzing, syntax-only tools) */
    bool parse_only;          /* stop after parsing: *ast is set, NULL is returned */
} hnn_front_options;

/*
 * Returns the checked model, or NULL when an error was reported (or with
 * parse_only). When ast is not NULL it receives the syntax tree (NULL if
 * parsing failed), e.g. for pretty-printing.
 */
hnn_model *hnn_front_check_file(const char *path, const hnn_front_options *opt, hnn_arena *arena,
                                hnn_diag *diag, hnn_ast_model **ast);
/* The same for text in memory; `name` is used in diagnostics, weights files are
 * looked up relative to model_dir. */
hnn_model *hnn_front_check_text(const char *name, const char *text, size_t len, const char *model_dir,
                                const hnn_front_options *opt, hnn_arena *arena, hnn_diag *diag,
                                hnn_ast_model **ast);

#endif
