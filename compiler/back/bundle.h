/*
 * Ciphertext bundles: the ciphertexts of one step of the client/server
 * workflow (a data set's encrypted inputs, the outputs of their
 * evaluation, the masked ciphertexts of a refresh) in one file.
 *
 * Layout, little-endian, no padding (docs/commands.md, "Ciphertext bundles"):
 *   0   magic          "HNNB"
 *   4   version        u16, 1
 *   6   stage          u16, hnn_bundle_stage
 *   8   fingerprint    u64, hnnrt_context_fingerprint of the parameter set
 *   16  groups         u32, evaluations (>= 1)
 *   20  per_group      u32, ciphertexts per evaluation (>= 1)
 *   24  samples        u64, samples in all
 *   32  group_samples  u32, samples per evaluation (batch packing: up to the
 *                      slots; vector packing: 1)
 *   36  level          u32, refresh: the level to re-encrypt at (else 0)
 *   40  scale          f64, refresh: the scale to re-encrypt at (else 0)
 *   48  groups x per_group items, group by group: u64 length, then that
 *       many bytes of one hnnrt ciphertext serialisation
 *
 * The reader checks every field and every length against the bytes present
 * before it allocates per item, and refuses trailing bytes; the ciphertexts
 * themselves are checked by hnnrt_ct_deserialize when they are used.
 */
#ifndef HNN_BACK_BUNDLE_H
#define HNN_BACK_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "hnnrt.h"

#define HNN_BUNDLE_HEADER_BYTES 48

typedef enum hnn_bundle_stage {
    HNN_BUNDLE_INPUTS = 1,          /* hnnc encrypt -> hnnc eval */
    HNN_BUNDLE_OUTPUTS = 2,         /* hnnc eval -> hnnc decrypt */
    HNN_BUNDLE_REFRESH_REQUEST = 3, /* hnnc eval -> hnnc refresh: masked values */
    HNN_BUNDLE_REFRESH_REPLY = 4,   /* hnnc refresh -> hnnc eval: re-encrypted */
} hnn_bundle_stage;

typedef struct hnn_bundle_header {
    uint32_t stage;
    uint64_t fingerprint;
    uint32_t groups, per_group;
    uint64_t samples;
    uint32_t group_samples;
    uint32_t level;
    double scale;
} hnn_bundle_header;

typedef struct hnn_bundle {
    hnn_bundle_header h;
    uint8_t *buf;          /* the file's bytes (owned when read from a file) */
    size_t len;
    size_t n;              /* groups x per_group */
    size_t *off, *size;    /* item i's serialisation: buf[off[i] .. off[i] + size[i]) */
    int owned;
} hnn_bundle;

/* "inputs", "outputs", "refresh request", "refresh reply". */
const char *hnn_bundle_stage_name(uint32_t stage);

/* Writes h and its groups x per_group ciphertexts to path atomically (a
 * temporary beside it, then a rename). 0, or -1 with a message in err. */
int hnn_bundle_write(const char *path, const hnn_bundle_header *h, hnnrt_ct *const *cts, char *err,
                     size_t err_len);
/* The same one ciphertext at a time, for bundles larger than memory
 * should hold: open writes the header to a temporary, add appends one
 * ciphertext, close checks the count and renames the temporary over path;
 * abort removes it. 0, or -1 with a message in err. */
typedef struct hnn_bundle_writer hnn_bundle_writer;
int hnn_bundle_writer_open(hnn_bundle_writer **w, const char *path, const hnn_bundle_header *h, char *err,
                           size_t err_len);
int hnn_bundle_writer_add(hnn_bundle_writer *w, const hnnrt_ct *ct, char *err, size_t err_len);
int hnn_bundle_writer_close(hnn_bundle_writer *w, char *err, size_t err_len);
void hnn_bundle_writer_abort(hnn_bundle_writer *w);
/* Checks buf (borrowed) and indexes its items. 0, or -1 with a message. */
int hnn_bundle_parse(const uint8_t *buf, size_t len, hnn_bundle *b, char *err, size_t err_len);
/* Reads and parses a file. 0, or -1 with "path: message". */
int hnn_bundle_read(const char *path, hnn_bundle *b, char *err, size_t err_len);
/* Item i into ct (made by the caller for ctx): 0, or an hnnrt_status with a message. */
int hnn_bundle_ct(const hnn_bundle *b, size_t i, const hnnrt_context *ctx, hnnrt_ct *ct, char *err, size_t err_len);
void hnn_bundle_free(hnn_bundle *b);

#endif
