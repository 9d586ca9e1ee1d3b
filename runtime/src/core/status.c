#include "core/core.h"

static const struct {
    const char *name;
    const char *message;
} status_table[] = {
    [HNNRT_OK] = {"HNNRT_OK", "success"},
    [HNNRT_ERR_ARG] = {"HNNRT_ERR_ARG", "invalid argument"},
    [HNNRT_ERR_ALLOC] = {"HNNRT_ERR_ALLOC", "out of memory"},
    [HNNRT_ERR_RANDOM] = {"HNNRT_ERR_RANDOM", "the system random source is unavailable"},
    [HNNRT_ERR_PARAMS_INVALID] = {"HNNRT_ERR_PARAMS_INVALID", "invalid parameter set"},
    [HNNRT_ERR_PARAMS_INSECURE] = {"HNNRT_ERR_PARAMS_INSECURE",
                                   "modulus too large for the ring at the requested security level"},
    [HNNRT_ERR_PARAMS_NO_NTT_PRIME] = {"HNNRT_ERR_PARAMS_NO_NTT_PRIME", "not enough NTT-friendly primes"},
    [HNNRT_ERR_PARAMS_MISMATCH] = {"HNNRT_ERR_PARAMS_MISMATCH", "objects belong to different parameter sets"},
    [HNNRT_ERR_LEVEL_MISMATCH] = {"HNNRT_ERR_LEVEL_MISMATCH", "operands are at different levels"},
    [HNNRT_ERR_SCALE_MISMATCH] = {"HNNRT_ERR_SCALE_MISMATCH", "operands have different scales"},
    [HNNRT_ERR_LEVEL_EXHAUSTED] = {"HNNRT_ERR_LEVEL_EXHAUSTED", "no level left"},
    [HNNRT_ERR_SCALE_OVERFLOW] = {"HNNRT_ERR_SCALE_OVERFLOW", "scaled values do not fit the modulus"},
    [HNNRT_ERR_SIZE] = {"HNNRT_ERR_SIZE", "ciphertext has the wrong number of parts"},
    [HNNRT_ERR_MISSING_KEY] = {"HNNRT_ERR_MISSING_KEY", "a required evaluation key is missing"},
    [HNNRT_ERR_SERIAL_MAGIC] = {"HNNRT_ERR_SERIAL_MAGIC", "not a serialised hnnrt object of the expected kind"},
    [HNNRT_ERR_SERIAL_VERSION] = {"HNNRT_ERR_SERIAL_VERSION", "unsupported format version"},
    [HNNRT_ERR_SERIAL_TRUNCATED] = {"HNNRT_ERR_SERIAL_TRUNCATED", "serialised object is truncated"},
    [HNNRT_ERR_SERIAL_CORRUPT] = {"HNNRT_ERR_SERIAL_CORRUPT", "serialised object is corrupt"},
    [HNNRT_ERR_SERIAL_FINGERPRINT] = {"HNNRT_ERR_SERIAL_FINGERPRINT",
                                      "object was made under another parameter set"},
    [HNNRT_ERR_IO] = {"HNNRT_ERR_IO", "input/output error"},
};

const char *
hnnrt_status_name(hnnrt_status s)
{
    if ((unsigned)s >= sizeof status_table / sizeof status_table[0] || !status_table[s].name)
        return "HNNRT_ERR_UNKNOWN";
    return status_table[s].name;
}

const char *
hnnrt_status_message(hnnrt_status s)
{
    if ((unsigned)s >= sizeof status_table / sizeof status_table[0] || !status_table[s].message)
        return "unknown status";
    return status_table[s].message;
}
