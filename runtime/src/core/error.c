#include <stdio.h>
#include <string.h>

#include "core/core.h"

hnnrt_status
hnnrt_err_set(hnnrt_error *err, hnnrt_status s, const char *fmt, ...)
{
    if (!err)
        return s;
    err->status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return s;
}

hnnrt_status
hnnrt_msg_set(char *buf, hnnrt_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, HNNRT_MSG_CAP, fmt, ap);
    va_end(ap);
    return s;
}
