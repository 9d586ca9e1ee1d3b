#include <stdarg.h>
#include <string.h>

#include "driver/driver.h"

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
