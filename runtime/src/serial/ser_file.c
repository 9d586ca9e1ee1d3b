/*
 * Whole objects in files. Writing goes to a fresh temporary file in the same
 * directory, fsync, then rename over the target: a reader sees the old file
 * or the new one, never half of one, even across a crash. Every buffer that
 * held serialised bytes is wiped before it is released, since it may hold a
 * secret key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "serial/serial.h"

static hnnrt_status
io_fail(hnnrt_error *err, int errnum, const char *what, const char *path)
{
    char reason[128];
    if (strerror_r(errnum, reason, sizeof reason) != 0)
        snprintf(reason, sizeof reason, "error %d", errnum);
    return hnnrt_err_set(err, HNNRT_ERR_IO, "%s '%s': %s", what, path, reason);
}

hnnrt_status
hnnrt_serialize(hnnrt_object_kind kind, const void *obj, uint8_t *buf, size_t cap, size_t *len)
{
    switch (kind) {
    case HNNRT_KIND_PARAMS:
        return hnnrt_params_serialize(obj, buf, cap, len);
    case HNNRT_KIND_SECRET_KEY:
        return hnnrt_secret_key_serialize(obj, buf, cap, len);
    case HNNRT_KIND_PUBLIC_KEY:
        return hnnrt_public_key_serialize(obj, buf, cap, len);
    case HNNRT_KIND_RELIN_KEY:
        return hnnrt_relin_key_serialize(obj, buf, cap, len);
    case HNNRT_KIND_GALOIS_KEYS:
        return hnnrt_galois_keys_serialize(obj, buf, cap, len);
    case HNNRT_KIND_PLAINTEXT:
        return hnnrt_pt_serialize(obj, buf, cap, len);
    case HNNRT_KIND_CIPHERTEXT:
        return hnnrt_ct_serialize(obj, buf, cap, len);
    }
    return HNNRT_ERR_ARG;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The directory holding path, so the rename itself can be made durable. */
static void
sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (!slash) {
        dir = strdup(".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        /* Best effort: the data is already in place under its name. */
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

static hnnrt_status
write_atomic(const char *path, const uint8_t *data, size_t len, mode_t mode, hnnrt_error *err)
{
    if (hnnrt_sodium_ready() != HNNRT_OK)
        return hnnrt_err_set(err, HNNRT_ERR_RANDOM, "file_write: libsodium could not be initialised");
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp)
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "file_write: out of memory");
    int fd = -1;
    for (int attempt = 0; attempt < 8 && fd < 0; attempt++) {
        uint8_t r[8];
        randombytes_buf(r, sizeof r);
        snprintf(tmp, plen + 32, "%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x", path, r[0], r[1], r[2], r[3], r[4],
                 r[5], r[6], r[7]);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        hnnrt_status st = io_fail(err, errno, "cannot create a temporary file beside", path);
        free(tmp);
        return st;
    }
    hnnrt_status st = HNNRT_OK;
    if (write_all(fd, data, len) != 0)
        st = io_fail(err, errno, "cannot write", tmp);
    else if (fsync(fd) != 0)
        st = io_fail(err, errno, "cannot sync", tmp);
    if (close(fd) != 0 && st == HNNRT_OK)
        st = io_fail(err, errno, "cannot close", tmp);
    if (st == HNNRT_OK && rename(tmp, path) != 0)
        st = io_fail(err, errno, "cannot rename the temporary file to", path);
    if (st != HNNRT_OK)
        (void)unlink(tmp);
    else
        sync_parent(path);
    free(tmp);
    return st;
}

hnnrt_status
hnnrt_file_write(const char *path, hnnrt_object_kind kind, const void *obj, hnnrt_error *err)
{
    if (!path || !*path || !obj)
        return hnnrt_err_set(err, HNNRT_ERR_ARG, "file_write: NULL or empty argument");
    size_t len = 0;
    hnnrt_status st = hnnrt_serialize(kind, obj, NULL, 0, &len);
    if (st != HNNRT_OK)
        return hnnrt_err_set(err, st, "file_write: cannot serialise the %s (kind %u)", hnnrt_ser_kind_name(kind),
                             (unsigned)kind);
    uint8_t *buf = hnnrt_mem_alloc(NULL, len);
    if (!buf)
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "file_write: out of memory for %zu bytes", len);
    st = hnnrt_serialize(kind, obj, buf, len, &len);
    if (st != HNNRT_OK)
        hnnrt_err_set(err, st, "file_write: cannot serialise the %s", hnnrt_ser_kind_name(kind));
    else
        /* A secret key file is readable by its owner only, whatever the umask. */
        st = write_atomic(path, buf, len, kind == HNNRT_KIND_SECRET_KEY ? 0600 : 0666, err);
    hnnrt_mem_free_secret(NULL, buf, len);
    return st;
}

hnnrt_status
hnnrt_file_read(const char *path, size_t max_bytes, uint8_t **buf, size_t *len, hnnrt_error *err)
{
    if (!path || !buf || !len)
        return hnnrt_err_set(err, HNNRT_ERR_ARG, "file_read: NULL argument");
    /* O_NONBLOCK: a FIFO or device under the name must not hang the caller;
     * it is refused below, and regular files ignore the flag. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return io_fail(err, errno, "cannot open", path);
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        hnnrt_status st = io_fail(err, errno, "cannot stat", path);
        close(fd);
        return st;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return hnnrt_err_set(err, HNNRT_ERR_IO, "cannot read '%s': not a regular file", path);
    }
    if (sb.st_size < 0 || (unsigned long long)sb.st_size > max_bytes) {
        close(fd);
        return hnnrt_err_set(err, HNNRT_ERR_IO, "cannot read '%s': %lld bytes exceed the limit of %zu", path,
                             (long long)sb.st_size, max_bytes);
    }
    size_t size = (size_t)sb.st_size;
    /* One spare byte: the buffer is never NULL, and a file that grew shows. */
    uint8_t *data = hnnrt_mem_alloc(NULL, size + 1);
    if (!data) {
        close(fd);
        return hnnrt_err_set(err, HNNRT_ERR_ALLOC, "file_read: out of memory for %zu bytes", size);
    }
    size_t got = 0;
    hnnrt_status st = HNNRT_OK;
    while (st == HNNRT_OK) {
        ssize_t r = read(fd, data + got, size + 1 - got);
        if (r < 0) {
            if (errno != EINTR)
                st = io_fail(err, errno, "cannot read", path);
            continue;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got > size)
            st = hnnrt_err_set(err, HNNRT_ERR_IO, "cannot read '%s': it grew while being read", path);
    }
    close(fd);
    if (st != HNNRT_OK) {
        hnnrt_mem_free_secret(NULL, data, size + 1);
        return st;
    }
    *buf = data;
    *len = got;
    return HNNRT_OK;
}

void
hnnrt_file_buffer_free(uint8_t *buf, size_t len)
{
    /* The spare byte read past len is zero or the file changed: wipe it too. */
    hnnrt_mem_free_secret(NULL, buf, len + 1);
}
