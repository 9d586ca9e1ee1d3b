#include <string.h>

#include "driver/driver.h"
#include "front/diag.h"

static void
hnn_driver_help(FILE *out)
{
    fputs("hnnc " HNN_VERSION " - compiles neural-network descriptions (.hnn) to CKKS "
          "homomorphic-encryption circuits\n\n"
          "usage: hnnc COMMAND [options] [arguments]\n\n"
          "commands:\n", out);
    for (size_t i = 0; hnn_driver_commands[i]; i++)
        fprintf(out, "  %-10s %s\n", hnn_driver_commands[i]->name, hnn_driver_commands[i]->summary);
    fputs("\noptions:\n"
          "  --version  print the version and exit\n"
          "  -h, --help print this help and exit\n\n"
          "'hnnc COMMAND --help' describes a command. Exit status: 0 success, 1 an error in the\n"
          "model or its data, 2 bad usage.\n", out);
}

static int
hnn_driver_help_run(int argc, char **argv)
{
    if (argc > 2)
        return hnn_driver_usage_error("help", "expected at most one command name");
    if (argc < 2) {
        hnn_driver_help(stdout);
        return HNN_EXIT_OK;
    }
    if (hnn_driver_is_help(argv[1])) {
        fputs("usage: hnnc help [COMMAND]\n\nPrints the list of commands, or the help of COMMAND.\n",
              stdout);
        return HNN_EXIT_OK;
    }
    const hnn_driver_cmd *cmd = hnn_driver_find(argv[1]);
    if (!cmd)
        return hnn_driver_usage_error("help", "unknown command '%s'", argv[1]);
    cmd->help(stdout);
    return HNN_EXIT_OK;
}

static void
hnn_driver_help_help(FILE *out)
{
    fputs("usage: hnnc help [COMMAND]\n\nPrints the list of commands, or the help of COMMAND.\n", out);
}

const hnn_driver_cmd hnn_driver_cmd_help = {
    .name = "help",
    .summary = "show the list of commands, or the help of one",
    .run = hnn_driver_help_run,
    .help = hnn_driver_help_help,
};

int
main(int argc, char **argv)
{
    if (argc < 2) {
        hnn_driver_help(stderr);
        return HNN_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0) {
        puts("hnnc " HNN_VERSION);
        return HNN_EXIT_OK;
    }
    if (hnn_driver_is_help(name)) {
        hnn_driver_help(stdout);
        return HNN_EXIT_OK;
    }
    const hnn_driver_cmd *cmd = hnn_driver_find(name);
    if (!cmd) {
        hnn_diag_suggest sg;
        hnn_diag_suggest_init(&sg, name);
        for (size_t i = 0; hnn_driver_commands[i]; i++)
            hnn_diag_suggest_offer(&sg, hnn_driver_commands[i]->name);
        const char *best = hnn_diag_suggest_result(&sg);
        if (name[0] == '-')
            fprintf(stderr, "hnnc: unknown option '%s'\n", name);
        else if (best)
            fprintf(stderr, "hnnc: unknown command '%s'; did you mean '%s'?\n", name, best);
        else
            fprintf(stderr, "hnnc: unknown command '%s'\n", name);
        fputs("run 'hnnc help' for the list of commands\n", stderr);
        return HNN_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
