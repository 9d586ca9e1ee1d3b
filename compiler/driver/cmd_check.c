/* hnnc check: run the front end on one or more models. */
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "front/front.h"
#include "front/print.h"

static void
hnn_check_help(FILE *out)
{
    fputs("usage: hnnc check [options] MODEL.hnn...\n\n"
          "Checks each model: parses it, resolves names, infers every shape, loads and checks\n"
          "the weights, and checks the hints and training settings. Prints the diagnostics, or\n"
          "on success a one-line summary (layers, parameters, input and output shapes).\n\n"
          "options:\n"
          "  --print            print the canonical form of the model (syntax is checked, the\n"
          "                     rest is not)\n"
          "  --dump             print the checked model: layers, shapes, parameters, value bounds\n"
          "  --weights FILE     read the weights from FILE instead of the model's weights file\n"
          "  --max-errors N     report at most N errors (default 20; 0 means no limit)\n"
          "  -Werror            treat warnings as errors\n"
          "  -w                 do not report warnings\n"
          "  -h, --help         print this help\n\n"
          "Exit status: 0 when every model is valid (warnings allowed), 1 when a model has an\n"
          "error, 2 for bad usage.\n", out);
}

typedef struct hnn_check_opts {
    bool print, dump, werror, no_warnings;
    const char *weights;
    size_t max_errors;
} hnn_check_opts;

static int
hnn_check_one(const char *path, const hnn_check_opts *o)
{
    hnn_arena *arena = hnn_arena_new();
    hnn_diag *diag = hnn_diag_new();
    if (!arena || !diag) {
        fputs("hnnc: out of memory\n", stderr);
        hnn_arena_free(arena);
        hnn_diag_free(diag);
        return HNN_EXIT_USER;
    }
    hnn_diag_set_max_errors(diag, o->max_errors);
    hnn_diag_set_werror(diag, o->werror);
    hnn_diag_set_no_warnings(diag, o->no_warnings);
    hnn_front_options fo = {.weights_path = o->weights, .parse_only = o->print};
    hnn_ast_model *ast = NULL;
    hnn_model *m = hnn_front_check_file(path, &fo, arena, diag, &ast);
    fflush(stdout);
    hnn_diag_print(diag, stderr);
    int status = hnn_diag_error_count(diag) ? HNN_EXIT_USER : HNN_EXIT_OK;
    if (status == HNN_EXIT_OK) {
        if (o->print && ast)
            hnn_ast_print(stdout, ast);
        else if (o->dump && m)
            hnn_model_dump(stdout, m);
        else if (m)
            hnn_model_summary(stdout, m);
    }
    hnn_diag_free(diag);
    hnn_arena_free(arena);
    return status;
}

static int
hnn_check_run(int argc, char **argv)
{
    hnn_check_opts o = {.max_errors = 20};
    const char **files = calloc((size_t)argc, sizeof *files);
    int n_files = 0;
    if (!files)
        return HNN_EXIT_USER;
    int status = HNN_EXIT_OK;
    bool only_files = false;
    for (int i = 1; i < argc && status == HNN_EXIT_OK; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        bool missing = false;
        if (only_files || arg[0] != '-' || strcmp(arg, "-") == 0) {
            files[n_files++] = arg;
        } else if (strcmp(arg, "--") == 0) {
            only_files = true;
        } else if (hnn_driver_is_help(arg)) {
            hnn_check_help(stdout);
            free(files);
            return HNN_EXIT_OK;
        } else if (hnn_driver_opt(argc, argv, &i, "--print", NULL, NULL)) {
            o.print = true;
        } else if (hnn_driver_opt(argc, argv, &i, "--dump", NULL, NULL)) {
            o.dump = true;
        } else if (strcmp(arg, "-Werror") == 0) {
            o.werror = true;
        } else if (strcmp(arg, "-w") == 0) {
            o.no_warnings = true;
        } else if (hnn_driver_opt(argc, argv, &i, "--weights", &value, &missing)) {
            if (missing || !value[0])
                status = hnn_driver_usage_error("check", "--weights needs a file name");
            o.weights = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--max-errors", &value, &missing)) {
            char *end = NULL;
            long n = missing ? -1 : strtol(value, &end, 10);
            if (missing || !*value || *end || n < 0 || n > 1000000)
                status = hnn_driver_usage_error("check", "--max-errors needs a number from 0 to 1000000");
            else
                o.max_errors = (size_t)n;
        } else {
            status = hnn_driver_usage_error("check", "unknown option '%s'", arg);
        }
    }
    if (status == HNN_EXIT_OK && n_files == 0)
        status = hnn_driver_usage_error("check", "no model file given");
    if (status == HNN_EXIT_OK && o.print && o.dump)
        status = hnn_driver_usage_error("check", "--print and --dump cannot be used together");
    if (status == HNN_EXIT_OK && o.weights && n_files > 1)
        status = hnn_driver_usage_error("check", "--weights applies to one model; %d were given", n_files);
    for (int i = 0; status != HNN_EXIT_USAGE && i < n_files; i++)
        if (hnn_check_one(files[i], &o) != HNN_EXIT_OK)
            status = HNN_EXIT_USER;
    free(files);
    return status;
}

const hnn_driver_cmd hnn_driver_cmd_check = {
    .name = "check",
    .summary = "parse and check models; print diagnostics or a one-line summary",
    .run = hnn_check_run,
    .help = hnn_check_help,
};
