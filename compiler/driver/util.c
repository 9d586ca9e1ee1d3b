#include <stdarg.h>
#include <string.h>

#include "driver/driver.h"
#include "front/arena.h"
#include "front/diag.h"

int
hnn_driver_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hnnc%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nrun 'hnnc %s%s--help' for usage\n", cmd ? cmd : "", cmd ? " " : "");
    return HNN_EXIT_USAGE;
}

bool
hnn_driver_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

bool
hnn_driver_opt(int argc, char **argv, int *i, const char *name, const char **value, bool *missing)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return false;
    if (!value)
        return arg[n] == '\0';
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return true;
    }
    if (arg[n] != '\0')
        return false;
    if (*i + 1 >= argc) {
        *missing = true;
        return true;
    }
    *value = argv[++*i];
    return true;
}

bool
hnn_driver_session_open(hnn_driver_session *s)
{
    s->arena = hnn_arena_new();
    s->diag = hnn_diag_new();
    if (s->arena && s->diag)
        return true;
    fputs("hnnc: out of memory\n", stderr);
    hnn_arena_free(s->arena);
    hnn_diag_free(s->diag);
    s->arena = NULL;
    s->diag = NULL;
    return false;
}

int
hnn_driver_session_close(hnn_driver_session *s, int status)
{
    fflush(stdout);
    hnn_diag_print(s->diag, stderr);
    if (hnn_diag_error_count(s->diag))
        status = HNN_EXIT_USER;
    hnn_diag_free(s->diag);
    hnn_arena_free(s->arena);
    return status;
}
