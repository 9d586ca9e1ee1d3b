/* Reading whole files into memory, with a size cap. */
#ifndef HNN_FRONT_FILE_H
#define HNN_FRONT_FILE_H

#include <stddef.h>

/*
 * Reads path into a malloc'd, NUL-terminated buffer. Returns 0, or an errno
 * value (EFBIG when the file is larger than max_bytes, EISDIR for a directory).
 */
int hnn_file_read(const char *path, size_t max_bytes, char **text, size_t *len);

#endif
