/*
 * Writing trained weights as a weights file (lang/SPEC.md section 8). jansson
 * formats every tensor (numbers with 17 significant digits, so the file reads
 * back to the same doubles); the layout around them is written here so that
 * each tensor sits on one line, which keeps files small and diffs readable.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"
#include "train/train.h"

#define HNN_TRAIN_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY)

/* Nested arrays of dims[0..rank), from v. */
static json_t *
hnn_train_json_tensor(const double *v, const uint32_t *dim, uint32_t rank, size_t *pos)
{
    if (rank == 0) {
        /* JSON has no NaN or infinity; training stops before theta holds one. */
        json_t *x = json_real(v[(*pos)++]);
        if (!x)
            hnn_bug("training: a weight to write is not finite");
        return x;
    }
    json_t *a = json_array();
    if (!a)
        hnn_fatal_oom();
    for (uint32_t i = 0; i < dim[0]; i++)
        if (json_array_append_new(a, hnn_train_json_tensor(v, dim + 1, rank - 1, pos)))
            hnn_fatal_oom();
    return a;
}

/* Appends s to the growing buffer. */
typedef struct hnn_train_buf {
    char *text;
    size_t len, cap;
} hnn_train_buf;

static void
hnn_train_put(hnn_train_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->text = realloc(b->text, b->cap);
        if (!b->text)
            hnn_fatal_oom();
    }
    memcpy(b->text + b->len, s, n + 1);
    b->len += n;
}

static void
hnn_train_put_json(hnn_train_buf *b, json_t *value)
{
    char *s = json_dumps(value, HNN_TRAIN_JSON_FLAGS);
    if (!s)
        hnn_fatal_oom();
    hnn_train_put(b, s);
    free(s);
    json_decref(value);
}

char *
hnn_train_weights_text(const hnn_train_graph *g)
{
    hnn_train_buf b = {0};
    hnn_train_put(&b, "{\n  \"format\": \"hnn-weights\",\n  \"version\": 1,\n  \"layers\": {");
    const hnn_layer *open = NULL;
    for (uint32_t i = 0; i < g->n_tensors; i++) {
        const hnn_train_tensor *t = &g->tensors[i];
        if (t->inline_values)
            continue;
        if (t->layer != open) {
            hnn_train_put(&b, open ? "\n    },\n    " : "\n    ");
            hnn_train_put_json(&b, json_string(t->layer->name));
            hnn_train_put(&b, ": {");
        } else {
            hnn_train_put(&b, ",");
        }
        hnn_train_put(&b, "\n      ");
        hnn_train_put_json(&b, json_string(t->key));
        hnn_train_put(&b, ": ");
        size_t pos = 0;
        hnn_train_put_json(&b, hnn_train_json_tensor(g->theta + t->offset, t->dim, t->rank, &pos));
        open = t->layer;
    }
    hnn_train_put(&b, open ? "\n    }\n  }\n}\n" : "}\n}\n");
    return b.text;
}

bool
hnn_train_write_weights(const hnn_train_graph *g, const char *path, hnn_diag *diag)
{
    (void)diag;
    char *text = hnn_train_weights_text(g);
    FILE *f = fopen(path, "w");
    bool ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "hnnc: error: cannot write '%s': %s\n", path, strerror(errno));
    free(text);
    return ok;
}
