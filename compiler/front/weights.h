/*
 * Weights files (JSON, read with jansson). The format, documented in
 * lang/SPEC.md:
 *
 *   { "format": "hnn-weights", "version": 1,
 *     "layers": { "h1": { "weight": [[...], ...], "bias": [...] }, ... } }
 *
 * Tensors are nested arrays, outermost dimension first. Entries are consumed as
 * sema reads them; what is left at the end is reported as unused.
 */
#ifndef HNN_FRONT_WEIGHTS_H
#define HNN_FRONT_WEIGHTS_H

#include <stdbool.h>

#include "front/arena.h"
#include "front/diag.h"
#include "front/model.h"

typedef struct hnn_weights hnn_weights;

/* Files larger than this are refused. */
#define HNN_WEIGHTS_MAX_BYTES (512u * 1024 * 1024)

/*
 * Reads and parses path; `cite` is where the model names the file (errors about
 * reading it point there). Returns NULL after reporting an error.
 */
hnn_weights *hnn_weights_load(const char *path, hnn_loc cite, hnn_diag *diag);
void hnn_weights_free(hnn_weights *w);

typedef enum hnn_weights_result {
    HNN_WEIGHTS_ABSENT, /* no such entry: the caller decides whether that is an error */
    HNN_WEIGHTS_OK,
    HNN_WEIGHTS_BAD,    /* present but wrong; already reported */
} hnn_weights_result;

/*
 * Takes layers[layer->name][key] as a tensor of the given shape. `doc` explains
 * the dimensions for messages, e.g. "[units, inputs]".
 */
hnn_weights_result hnn_weights_take_tensor(hnn_weights *w, hnn_arena *arena, hnn_diag *diag,
                                           const hnn_layer *layer, const char *key, uint32_t rank,
                                           const uint32_t *dim, const char *doc, hnn_tensor *out);
hnn_weights_result hnn_weights_take_number(hnn_weights *w, hnn_diag *diag, const hnn_layer *layer,
                                           const char *key, double *out, hnn_loc *loc);
/* Warns about every entry nobody took. */
void hnn_weights_report_unused(hnn_weights *w, hnn_diag *diag, const hnn_model *model);

#endif
