/* hnnc compile: plan a model and write it as C over libhnnrt — the header,
 * the client (key holder) and the server (evaluator) — and optionally the
 * JSON report of the same plan. */
#include <stdlib.h>
#include <string.h>

#include "back/emit_c.h"
#include "driver/driver.h"
#include "front/front.h"
#include "middle/plan.h"
#include "middle/report.h"

static void
hnn_compile_help(FILE *out)
{
    fputs("usage: hnnc compile MODEL.hnn -o DIR [options]\n\n"
          "Plans the model as a CKKS circuit and writes it as C that links libhnnrt:\n"
          "  DIR/NAME.h          the API, the parameter set and the shapes\n"
          "  DIR/NAME_client.c   the key holder: keys, encrypt, decrypt, refresh\n"
          "  DIR/NAME_server.c   the evaluator; it references no secret-key function\n"
          "  DIR/NAME.weights    with --weights file\n"
          "NAME is the model's name. Build with\n"
          "  cc -std=c17 -c DIR/NAME_client.c DIR/NAME_server.c -I<hnnrt include dir>\n"
          "and link with libhnnrt.a -lsodium -lm -fopenmp (docs/generated-api.md).\n\n"
          "options:\n"
          "  -o DIR                 the output directory (created when missing)\n"
          "  --report FILE.json     also write the plan's JSON report (docs/report-schema.md)\n"
          "  --weights embed|file   weights as arrays in NAME_server.c (default), or in\n"
          "                         DIR/NAME.weights, read by NAME_server_new\n"
          "  --style auto|straight|table\n"
          "                         straight-line code with one function per layer, or an\n"
          "                         operation table read by a loop; auto: straight up to\n"
          "                         5000 HE operations\n"
          "  -h, --help             print this help\n\n"
          "Exit status: 0 on success, 1 when the model has an error, cannot be planned or\n"
          "the files cannot be written, 2 for bad usage.\n", out);
}

static const char *
style_name(hnn_emit_style s)
{
    return s == HNN_EMIT_STYLE_TABLE ? "operation table" : "straight-line";
}

static int
hnn_compile_run(int argc, char **argv)
{
    const char *file = NULL, *dir = NULL, *report = NULL;
    hnn_emit_options eo = {.style = HNN_EMIT_STYLE_AUTO, .weights = HNN_EMIT_WEIGHTS_EMBED};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        bool missing = false;
        if (arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (file)
                return hnn_driver_usage_error("compile", "one model at a time ('%s' and '%s' given)", file, arg);
            file = arg;
        } else if (hnn_driver_is_help(arg)) {
            hnn_compile_help(stdout);
            return HNN_EXIT_OK;
        } else if (hnn_driver_opt(argc, argv, &i, "-o", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("compile", "-o needs a directory");
            dir = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--report", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("compile", "--report needs a file name");
            report = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--weights", &value, &missing)) {
            if (!missing && strcmp(value, "embed") == 0)
                eo.weights = HNN_EMIT_WEIGHTS_EMBED;
            else if (!missing && strcmp(value, "file") == 0)
                eo.weights = HNN_EMIT_WEIGHTS_FILE;
            else
                return hnn_driver_usage_error("compile", "--weights takes 'embed' or 'file'");
        } else if (hnn_driver_opt(argc, argv, &i, "--style", &value, &missing)) {
            if (!missing && strcmp(value, "auto") == 0)
                eo.style = HNN_EMIT_STYLE_AUTO;
            else if (!missing && strcmp(value, "straight") == 0)
                eo.style = HNN_EMIT_STYLE_STRAIGHT;
            else if (!missing && strcmp(value, "table") == 0)
                eo.style = HNN_EMIT_STYLE_TABLE;
            else
                return hnn_driver_usage_error("compile", "--style takes 'auto', 'straight' or 'table'");
        } else {
            return hnn_driver_usage_error("compile", "unknown option '%s'", arg);
        }
    }
    if (!file)
        return hnn_driver_usage_error("compile", "no model file given");
    if (!dir)
        return hnn_driver_usage_error("compile", "no output directory given (-o DIR)");

    hnn_driver_session ses;
    if (!hnn_driver_session_open(&ses))
        return HNN_EXIT_USER;
    int status = HNN_EXIT_USER;
    hnn_model *m = hnn_front_check_file(file, NULL, ses.arena, ses.diag, NULL);
    hnn_plan_options po = {0};
    hnn_plan *plan = m ? hnn_plan_build(m, &po, ses.arena, ses.diag) : NULL;
    if (plan) {
        char err[512];
        hnn_emit_result r;
        if (hnn_emit_c(plan, dir, &eo, ses.arena, &r, err, sizeof err) != 0) {
            fprintf(stderr, "hnnc compile: %s\n", err);
        } else {
            const char *name = plan->model->name;
            printf("%s: wrote %s/%s.h, %s/%s_client.c, %s/%s_server.c%s%s%s%s\n", name, dir, name, dir, name, dir,
                   name, eo.weights == HNN_EMIT_WEIGHTS_FILE ? ", " : "",
                   eo.weights == HNN_EMIT_WEIGHTS_FILE ? dir : "", eo.weights == HNN_EMIT_WEIGHTS_FILE ? "/" : "",
                   eo.weights == HNN_EMIT_WEIGHTS_FILE ? hnn_arena_printf(ses.arena, "%s.weights", name) : "");
            printf("%s: %s, %u HE operations, %u ciphertext registers, %u hoisted, %u plaintexts, %zu weights\n",
                   name, style_name(r.style), r.ops, r.registers, r.hoists, r.plaintexts, r.weights);
            status = HNN_EXIT_OK;
        }
        if (status == HNN_EXIT_OK && report) {
            FILE *out = fopen(report, "w");
            hnn_report rep;
            hnn_report_build(&rep, plan, ses.arena);
            if (!out || hnn_report_print_json(out, &rep) != 0) {
                fprintf(stderr, "hnnc compile: cannot write '%s'\n", report);
                status = HNN_EXIT_USER;
            }
            if (out && fclose(out) != 0 && status == HNN_EXIT_OK) {
                fprintf(stderr, "hnnc compile: cannot write '%s'\n", report);
                status = HNN_EXIT_USER;
            }
        }
    }
    return hnn_driver_session_close(&ses, status);
}

const hnn_driver_cmd hnn_driver_cmd_compile = {
    .name = "compile",
    .summary = "plan a model and write it as C over libhnnrt (client and server)",
    .run = hnn_compile_run,
    .help = hnn_compile_help,
};
