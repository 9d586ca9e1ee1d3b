#include "front/front.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "front/file.h"
#include "front/parse.h"
#include "front/sema.h"

hnn_model *
hnn_front_check_text(const char *name, const char *text, size_t len, const char *model_dir,
                     const hnn_front_options *opt, hnn_arena *arena, hnn_diag *diag, hnn_ast_model **ast)
{
    static const hnn_front_options defaults;
    if (!opt)
        opt = &defaults;
    if (ast)
        *ast = NULL;
    if (len > HNN_FRONT_MAX_SOURCE) {
        hnn_diag_error(diag, (hnn_loc){0, 0, 0}, "'%s' is larger than 64 MB", name);
        return NULL;
    }
    size_t errors = hnn_diag_error_count(diag);
    uint32_t file = hnn_diag_add_source(diag, name, text, len);
    hnn_ast_model *tree = hnn_parse_source(arena, diag, file);
    if (!tree || hnn_diag_error_count(diag) > errors)
        return NULL;
    if (ast)
        *ast = tree;
    if (opt->parse_only)
        return NULL;
    hnn_sema_options so = {
        .model_dir = model_dir,
        .weights_override = opt->weights_path,
        .no_io = opt->no_io,
    };
    return hnn_sema_check(tree, &so, arena, diag);
}

hnn_model *
hnn_front_check_file(const char *path, const hnn_front_options *opt, hnn_arena *arena, hnn_diag *diag,
                     hnn_ast_model **ast)
{
    if (ast)
        *ast = NULL;
    char *text;
    size_t len;
    int err = hnn_file_read(path, HNN_FRONT_MAX_SOURCE, &text, &len);
    if (err) {
        hnn_diag_error(diag, (hnn_loc){0, 0, 0}, "cannot read '%s': %s", path,
                       err == EFBIG ? "it is larger than 64 MB" : strerror(err));
        return NULL;
    }
    const char *slash = strrchr(path, '/');
    char *dir = slash ? hnn_arena_strndup(arena, path, (size_t)(slash - path)) : "";
    if (slash == path)
        dir = "/";
    hnn_model *m = hnn_front_check_text(path, text, len, dir, opt, arena, diag, ast);
    free(text);
    return m;
}
