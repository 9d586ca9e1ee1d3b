/*
 * The C back end: a planned HE IR written as C that links libhnnrt, in three
 * files for a model NAME (docs/generated-api.md is the user's view):
 *
 *   NAME.h         the API of both sides, the parameter set and the shapes
 *   NAME_client.c  the key holder: keys, encrypt, decrypt, softargmax, refresh
 *   NAME_server.c  the evaluator: plaintexts encoded once, the circuit, the
 *                  server's half of the masked refresh (one callback call per
 *                  refresh point, with all its ciphertexts). It calls no function
 *                  that touches a secret key, so the object it compiles to can
 *                  be shipped to a server that must never hold one (the
 *                  end-to-end tests check its symbols with nm).
 *
 * The server side does what the executor (back/exec.c) does, decided at
 * compile time instead of at run time: the register of every value (a
 * ciphertext freed at its last use serves the next result, in place when
 * the runtime allows it, which it always does), the hoisting of rotations of
 * one value, the encoded plaintexts and their (level, scale), the refresh
 * points (one round trip with the key holder each).
 *
 * Style: straight-line code, one static function per tensor-IR layer, for
 * circuits up to HNN_EMIT_STRAIGHT_MAX_OPS operations; above, an operation
 * table read by a small loop, so a 100,000-operation circuit is a data array
 * the C compiler reads in seconds rather than a function it optimises for
 * minutes.
 */
#ifndef HNN_BACK_EMIT_C_H
#define HNN_BACK_EMIT_C_H

#include <stddef.h>
#include <stdint.h>

#include "front/arena.h"
#include "middle/plan.h"

/* Above this many HE operations `auto` emits the table form. */
#define HNN_EMIT_STRAIGHT_MAX_OPS 5000

typedef enum hnn_emit_style {
    HNN_EMIT_STYLE_AUTO,
    HNN_EMIT_STYLE_STRAIGHT,
    HNN_EMIT_STYLE_TABLE,
} hnn_emit_style;

typedef enum hnn_emit_weights {
    HNN_EMIT_WEIGHTS_EMBED, /* static const double arrays in NAME_server.c */
    HNN_EMIT_WEIGHTS_FILE,  /* DIR/NAME.weights, read by NAME_server_new */
} hnn_emit_weights;

typedef struct hnn_emit_options {
    hnn_emit_style style;
    hnn_emit_weights weights;
} hnn_emit_options;

/* What was written, for the driver's summary and for tests. */
typedef struct hnn_emit_result {
    hnn_emit_style style;     /* STRAIGHT or TABLE */
    uint32_t ops;             /* HE operations in the circuit */
    uint32_t registers;       /* ciphertext temporaries the server keeps */
    uint32_t hoists;          /* hoisted decompositions alive at once */
    uint32_t plaintexts;      /* plaintexts encoded by NAME_server_new */
    uint32_t layer_functions; /* straight-line: functions emitted */
    size_t weights;           /* doubles in the weights array or file */
    uint64_t weights_checksum;
} hnn_emit_result;

/*
 * Writes DIR/NAME.h, DIR/NAME_client.c, DIR/NAME_server.c and, with
 * weights FILE, DIR/NAME.weights (NAME: the model's name; DIR is created
 * when missing). Returns 0, or -1 with a message in err (an I/O failure, a
 * name that is not a C identifier, an operation the back end cannot emit).
 */
int hnn_emit_c(const hnn_plan *plan, const char *dir, const hnn_emit_options *opt, hnn_arena *arena,
               hnn_emit_result *result, char *err, size_t err_len);

/* The weights file's checksum (FNV-1a, 64 bits, over the little-endian
 * doubles): the generated code checks a file against it. */
uint64_t hnn_emit_weights_checksum(const double *w, size_t n);

#endif
