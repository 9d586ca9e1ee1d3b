#include "front/bug.h"

#include <stdio.h>
#include <stdlib.h>

void
hnn_bug_at(const char *file, int line, const char *msg)
{
    fprintf(stderr, "hnnc: internal error at %s:%d: %s\n", file, line, msg);
    fprintf(stderr, "hnnc: this is a bug in hnnc; please report it with the input that caused it\n");
    abort();
}

void
hnn_fatal_oom(void)
{
    fputs("hnnc: out of memory\n", stderr);
    exit(1);
}
