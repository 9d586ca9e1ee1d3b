/* hnnc calibrate: fit the planner's cost model to `make bench` output. */
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "middle/cost.h"

static void
hnn_calibrate_help(FILE *out)
{
    fputs("usage: hnnc calibrate [options] [BENCH.jsonl]\n\n"
          "Reads the JSON lines `make bench` prints (from the file, or standard input),\n"
          "fits the cost model the planner estimates latency with, and prints how well the\n"
          "fit reproduces every measured line. With --c it writes the table as the C source\n"
          "of compiler/middle/cost_default.c (the table hnnc ships), with --json as JSON.\n\n"
          "  make bench BENCH_ARGS=\"--threads 1\" > bench.jsonl\n"
          "  hnnc calibrate bench.jsonl --c -o compiler/middle/cost_default.c && make\n\n"
          "options:\n"
          "  --threads N        fit the lines measured with N threads (default 1)\n"
          "  --c                write the table as C source\n"
          "  --json             write the table as JSON\n"
          "  -o FILE            write to FILE (default: standard output)\n"
          "  -h, --help         print this help\n\n"
          "Exit status: 0 on success, 1 on malformed input, 2 for bad usage.\n", out);
}

static int
hnn_calibrate_run(int argc, char **argv)
{
    const char *file = NULL, *out_path = NULL;
    bool as_c = false, as_json = false;
    long threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        bool missing = false;
        if (arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (file)
                return hnn_driver_usage_error("calibrate", "one bench file at a time");
            file = arg;
        } else if (hnn_driver_is_help(arg)) {
            hnn_calibrate_help(stdout);
            return HNN_EXIT_OK;
        } else if (hnn_driver_opt(argc, argv, &i, "--c", NULL, NULL)) {
            as_c = true;
        } else if (hnn_driver_opt(argc, argv, &i, "--json", NULL, NULL)) {
            as_json = true;
        } else if (hnn_driver_opt(argc, argv, &i, "-o", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("calibrate", "-o needs a file name");
            out_path = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--threads", &value, &missing)) {
            char *end = NULL;
            threads = missing ? 0 : strtol(value, &end, 10);
            if (missing || !*value || *end || threads < 1 || threads > 1024)
                return hnn_driver_usage_error("calibrate", "--threads needs a number from 1 to 1024");
        } else {
            return hnn_driver_usage_error("calibrate", "unknown option '%s'", arg);
        }
    }
    if (as_c && as_json)
        return hnn_driver_usage_error("calibrate", "--c and --json cannot be used together");
    FILE *in = file && strcmp(file, "-") != 0 ? fopen(file, "r") : stdin;
    if (!in) {
        fprintf(stderr, "hnnc calibrate: cannot read '%s'\n", file);
        return HNN_EXIT_USER;
    }
    hnn_cost_table *t = NULL;
    char err[256];
    bool ok = hnn_cost_from_bench_threads(in, (int)threads, &t, err, sizeof err);
    if (in != stdin)
        fclose(in);
    if (!ok) {
        fprintf(stderr, "%s: error: %s\n", file ? file : "<stdin>", err);
        return HNN_EXIT_USER;
    }
    FILE *out = out_path ? fopen(out_path, "w") : stdout;
    if (!out) {
        fprintf(stderr, "hnnc calibrate: cannot write '%s'\n", out_path);
        hnn_cost_table_free(t);
        return HNN_EXIT_USER;
    }
    if (as_c)
        hnn_cost_write_c(out, t);
    else if (as_json)
        hnn_cost_write_json(out, t);
    else
        hnn_cost_write_ratios(out, t);
    int status = (out != stdout ? fclose(out) : fflush(out)) == 0 ? HNN_EXIT_OK : HNN_EXIT_USER;
    hnn_cost_table_free(t);
    return status;
}

const hnn_driver_cmd hnn_driver_cmd_calibrate = {
    .name = "calibrate",
    .summary = "fit the planner's cost model to `make bench` output",
    .run = hnn_calibrate_run,
    .help = hnn_calibrate_help,
};
