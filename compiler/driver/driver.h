/*
 * The hnnc command-line driver. Each subcommand is one file defining an
 * hnn_driver_cmd and one line in the table in commands.c; main.c only
 * dispatches. Exit statuses: 0 success, 1 user error (bad model, bad data),
 * 2 bad usage.
 */
#ifndef HNN_DRIVER_DRIVER_H
#define HNN_DRIVER_DRIVER_H

#include <stdbool.h>
#include <stdio.h>

#define HNN_VERSION "0.1.0"

enum {
    HNN_EXIT_OK = 0,
    HNN_EXIT_USER = 1,
    HNN_EXIT_USAGE = 2,
};

typedef struct hnn_driver_cmd {
    const char *name;
    const char *summary;                  /* one line for `hnnc help` */
    int (*run)(int argc, char **argv);    /* argv[0] is the command name */
    void (*help)(FILE *out);              /* the full --help text */
} hnn_driver_cmd;

/* NULL-terminated, in the order `hnnc help` lists them. */
extern const hnn_driver_cmd *const hnn_driver_commands[];

const hnn_driver_cmd *hnn_driver_find(const char *name);
/* Reports a usage error ("hnnc check: ...") and returns HNN_EXIT_USAGE. */
int hnn_driver_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether arg is -h or --help. */
bool hnn_driver_is_help(const char *arg);

/*
 * A small option reader: `--name VALUE`, `--name=VALUE` and flags. Returns
 * true when argv[*i] is the option `name`; for options with a value, *value
 * receives it (and *i moves past it). Sets *missing when the value is absent.
 */
bool hnn_driver_opt(int argc, char **argv, int *i, const char *name, const char **value, bool *missing);

/*
 * One compilation's memory and diagnostics, for commands that load a model:
 * open makes them (false and a message when memory runs out); close prints
 * the diagnostics to stderr, frees both, and returns `status`, or
 * HNN_EXIT_USER when an error was reported.
 */
struct hnn_arena;
struct hnn_diag;
typedef struct hnn_driver_session {
    struct hnn_arena *arena;
    struct hnn_diag *diag;
} hnn_driver_session;

bool hnn_driver_session_open(hnn_driver_session *s);
int hnn_driver_session_close(hnn_driver_session *s, int status);

#endif
