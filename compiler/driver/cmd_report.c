/* hnnc report: plan a model and describe the circuit — depth, parameters,
 * security, operations per layer, key memory, estimated latency. */
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "front/front.h"
#include "middle/plan.h"
#include "middle/report.h"

static void
hnn_report_help(FILE *out)
{
    fputs("usage: hnnc report [options] MODEL.hnn\n\n"
          "Plans the model as a CKKS circuit and prints what it costs: the parameter set and\n"
          "its security, the levels consumed, operations and estimated time per layer, key\n"
          "memory, and the estimated latency of one evaluation.\n\n"
          "options:\n"
          "  --json             print the report as JSON (schema: docs/report-schema.md)\n"
          "  -o FILE            write the report to FILE instead of standard output\n"
          "  --dump-after PASS  print the IR after PASS (tir-build, tir-simplify, lower, levels,\n"
          "                     params, scales, verify) and stop\n"
          "  --weights FILE     read the weights from FILE instead of the model's weights file\n"
          "  -h, --help         print this help\n\n"
          "Exit status: 0 on success, 1 when the model has an error or cannot be planned,\n"
          "2 for bad usage.\n", out);
}

static bool
known_pass(const char *name)
{
    for (size_t i = 0; hnn_plan_pass_names[i]; i++)
        if (strcmp(hnn_plan_pass_names[i], name) == 0)
            return true;
    return false;
}

static int
hnn_report_run(int argc, char **argv)
{
    const char *file = NULL, *out_path = NULL, *dump = NULL, *weights = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        bool missing = false;
        if (arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (file)
                return hnn_driver_usage_error("report", "one model at a time ('%s' and '%s' given)", file, arg);
            file = arg;
        } else if (hnn_driver_is_help(arg)) {
            hnn_report_help(stdout);
            return HNN_EXIT_OK;
        } else if (hnn_driver_opt(argc, argv, &i, "--json", NULL, NULL)) {
            json = true;
        } else if (hnn_driver_opt(argc, argv, &i, "-o", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("report", "-o needs a file name");
            out_path = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--dump-after", &value, &missing)) {
            if (missing || !known_pass(value))
                return hnn_driver_usage_error("report",
                                              "--dump-after needs a pass: tir-build, tir-simplify, lower, levels, "
                                              "params, scales or verify");
            dump = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--weights", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("report", "--weights needs a file name");
            weights = value;
        } else {
            return hnn_driver_usage_error("report", "unknown option '%s'", arg);
        }
    }
    if (!file)
        return hnn_driver_usage_error("report", "no model file given");

    hnn_driver_session ses;
    if (!hnn_driver_session_open(&ses))
        return HNN_EXIT_USER;
    hnn_arena *arena = ses.arena;
    hnn_diag *diag = ses.diag;
    int status = HNN_EXIT_USER;
    hnn_front_options fo = {.weights_path = weights};
    hnn_model *m = hnn_front_check_file(file, &fo, arena, diag, NULL);
    FILE *out = stdout;
    if (m && out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "hnnc report: cannot write '%s'\n", out_path);
        out = NULL;
    }
    if (m && out) {
        hnn_plan_options po = {.dump_after = dump, .dump_to = out, .verify_each = true};
        hnn_plan *plan = hnn_plan_build(m, &po, arena, diag);
        if (plan && !dump) {
            hnn_report r;
            hnn_report_build(&r, plan, arena);
            if (json)
                status = hnn_report_print_json(out, &r) == 0 ? HNN_EXIT_OK : HNN_EXIT_USER;
            else {
                hnn_report_print_text(out, &r);
                status = HNN_EXIT_OK;
            }
        } else if (plan) {
            status = HNN_EXIT_OK;
        }
    }
    if (out && out != stdout && fclose(out) != 0)
        status = HNN_EXIT_USER;
    return hnn_driver_session_close(&ses, status);
}

const hnn_driver_cmd hnn_driver_cmd_report = {
    .name = "report",
    .summary = "plan a model and report its depth, parameters, security and cost",
    .run = hnn_report_run,
    .help = hnn_report_help,
};
