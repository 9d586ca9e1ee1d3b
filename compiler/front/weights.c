#include "front/weights.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/file.h"

struct hnn_weights {
    json_t *root;
    json_t *layers; /* borrowed from root */
    uint32_t file;  /* the registered source, for locations */
    const char *path;
};

/* Where "key": first appears at or after `from` in the JSON text; jansson keeps
 * no positions for values, and this is close enough to point a caret at. */
static hnn_loc
hnn_weights_key_loc(const hnn_diag *diag, uint32_t file, uint32_t from, const char *key)
{
    size_t len;
    const char *text = hnn_diag_source_text(diag, file, &len);
    size_t klen = strlen(key);
    for (const char *p = text + (from < len ? from : len); (p = strchr(p, '"')) != NULL; p++) {
        if ((size_t)(text + len - p) < klen + 2 || strncmp(p + 1, key, klen) != 0 || p[klen + 1] != '"')
            continue;
        const char *q = p + klen + 2;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        if (*q == ':')
            return (hnn_loc){file, (uint32_t)(p - text), (uint32_t)(p - text + (ptrdiff_t)klen + 2)};
    }
    return (hnn_loc){file, from, from};
}

hnn_weights *
hnn_weights_load(const char *path, hnn_loc cite, hnn_diag *diag)
{
    size_t len;
    char *text = NULL;
    int err = hnn_file_read(path, HNN_WEIGHTS_MAX_BYTES, &text, &len);
    if (err) {
        hnn_diag_error(diag, cite, "cannot read the weights file '%s': %s", path,
                       err == EFBIG ? "it is larger than 512 MB" : strerror(err));
        return NULL;
    }
    uint32_t file = hnn_diag_add_source(diag, path, text, len);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!root) {
        uint32_t at = je.position > 0 ? (uint32_t)je.position - 1 : 0;
        if (at > len)
            at = (uint32_t)len;
        bool number = strstr(je.text, "invalid token") || strstr(je.text, "overflow");
        hnn_diag_error(diag, (hnn_loc){file, at, at + 1}, "the weights file is not valid JSON: %s%s", je.text,
                       number ? " (numbers must be finite: JSON has no NaN or Infinity)" : "");
        if (cite.file)
            hnn_diag_note(diag, cite, "the weights file is named here");
        return NULL;
    }
    json_t *layers = json_is_object(root) ? json_object_get(root, "layers") : NULL;
    json_t *format = json_is_object(root) ? json_object_get(root, "format") : NULL;
    json_t *version = json_is_object(root) ? json_object_get(root, "version") : NULL;
    const char *problem = NULL;
    hnn_loc at = {file, 0, 1};
    if (!json_is_object(root))
        problem = "the weights file must hold a JSON object with a \"layers\" object";
    else if (format && (!json_is_string(format) || strcmp(json_string_value(format), "hnn-weights") != 0))
        problem = "\"format\" must be \"hnn-weights\"", at = hnn_weights_key_loc(diag, file, 0, "format");
    else if (version && (!json_is_integer(version) || json_integer_value(version) != 1))
        problem = "this weights file has a \"version\" other than 1, the only one hnnc reads",
        at = hnn_weights_key_loc(diag, file, 0, "version");
    else if (!json_is_object(layers))
        problem = layers ? "\"layers\" must be an object mapping layer names to their tensors"
                         : "the weights file has no \"layers\" object",
        at = layers ? hnn_weights_key_loc(diag, file, 0, "layers") : at;
    if (problem) {
        hnn_diag_error(diag, at, "%s", problem);
        json_decref(root);
        return NULL;
    }
    hnn_weights *w = calloc(1, sizeof *w);
    if (!w) {
        json_decref(root);
        return NULL;
    }
    w->root = root;
    w->layers = layers;
    w->file = file;
    w->path = hnn_diag_source_name(diag, file);
    json_object_del(root, "format");
    json_object_del(root, "version");
    return w;
}

void
hnn_weights_free(hnn_weights *w)
{
    if (!w)
        return;
    json_decref(w->root);
    free(w);
}

static hnn_loc
hnn_weights_entry_loc(hnn_weights *w, const hnn_diag *diag, const char *layer, const char *key)
{
    hnn_loc l = hnn_weights_key_loc(diag, w->file, 0, "layers");
    l = hnn_weights_key_loc(diag, w->file, l.begin, layer);
    return key ? hnn_weights_key_loc(diag, w->file, l.begin, key) : l;
}

/* Takes layers[name][key] out of the document (so that leftovers can be
 * reported); the caller owns the returned reference. */
static json_t *
hnn_weights_take(hnn_weights *w, hnn_diag *diag, const hnn_layer *layer, const char *key, bool *bad)
{
    *bad = false;
    json_t *entry = json_object_get(w->layers, layer->name);
    if (!entry)
        return NULL;
    if (!json_is_object(entry)) {
        hnn_diag_error(diag, hnn_weights_entry_loc(w, diag, layer->name, NULL),
                       "layers.%s must be an object of named tensors", layer->name);
        hnn_diag_note(diag, layer->name_loc, "'%s' is defined here", layer->name);
        json_object_del(w->layers, layer->name);
        *bad = true;
        return NULL;
    }
    json_t *v = json_object_get(entry, key);
    if (!v)
        return NULL;
    json_incref(v);
    return v;
}

static void
hnn_weights_done(hnn_weights *w, const hnn_layer *layer, const char *key, json_t *v)
{
    json_t *entry = json_object_get(w->layers, layer->name);
    json_object_del(entry, key);
    if (json_object_size(entry) == 0)
        json_object_del(w->layers, layer->name);
    json_decref(v);
}

static uint32_t
hnn_weights_shape(const json_t *v, uint32_t *dim, uint32_t max_rank)
{
    uint32_t rank = 0;
    while (json_is_array(v) && rank < max_rank) {
        size_t n = json_array_size(v);
        dim[rank++] = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        if (!n)
            break;
        v = json_array_get(v, 0);
    }
    return rank;
}

static void
hnn_weights_dims_text(char *buf, size_t size, uint32_t rank, const uint32_t *dim)
{
    size_t o = (size_t)snprintf(buf, size, "[");
    for (uint32_t i = 0; i < rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%u", i ? ", " : "", dim[i]);
    if (o < size)
        snprintf(buf + o, size - o, "]");
}

/* Copies the numbers; on an irregular or non-numeric element leaves its index
 * path in path[0 .. *fail_depth) and returns false. */
static bool
hnn_weights_fill(const json_t *v, uint32_t depth, uint32_t rank, const uint32_t *dim, double *data,
                 size_t *at, size_t *path, uint32_t *fail_depth, const char **why)
{
    if (depth == rank) {
        if (!json_is_number(v)) {
            *why = "is not a number";
            *fail_depth = depth;
            return false;
        }
        data[(*at)++] = json_number_value(v);
        return true;
    }
    if (!json_is_array(v) || json_array_size(v) != dim[depth]) {
        *why = json_is_array(v) ? "has the wrong length" : "is not an array";
        *fail_depth = depth;
        return false;
    }
    for (size_t i = 0; i < dim[depth]; i++) {
        path[depth] = i;
        if (!hnn_weights_fill(json_array_get(v, i), depth + 1, rank, dim, data, at, path, fail_depth, why))
            return false;
    }
    return true;
}

hnn_weights_result
hnn_weights_take_tensor(hnn_weights *w, hnn_arena *arena, hnn_diag *diag, const hnn_layer *layer,
                        const char *key, uint32_t rank, const uint32_t *dim, const char *doc,
                        hnn_tensor *out)
{
    bool bad;
    json_t *v = hnn_weights_take(w, diag, layer, key, &bad);
    if (!v)
        return bad ? HNN_WEIGHTS_BAD : HNN_WEIGHTS_ABSENT;
    hnn_loc at = hnn_weights_entry_loc(w, diag, layer->name, key);
    uint32_t got[5] = {0};
    uint32_t got_rank = hnn_weights_shape(v, got, 5);
    bool same = got_rank == rank;
    for (uint32_t i = 0; same && i < rank; i++)
        same = got[i] == dim[i];
    hnn_weights_result r = HNN_WEIGHTS_BAD;
    char want[96], have[96];
    hnn_weights_dims_text(want, sizeof want, rank, dim);
    if (!same) {
        hnn_weights_dims_text(have, sizeof have, got_rank, got);
        if (got_rank == 0)
            hnn_diag_error(diag, at, "layers.%s.%s must be an array of shape %s (%s)", layer->name, key,
                           want, doc);
        else
            hnn_diag_error(diag, at, "layers.%s.%s has shape %s; %s '%s' needs %s (%s)", layer->name, key,
                           have, hnn_op_name(layer->op), layer->name, want, doc);
        hnn_diag_note(diag, layer->name_loc, "'%s' is defined here", layer->name);
    } else {
        double *data = hnn_arena_array(arena, out->count, sizeof *data);
        size_t n = 0;
        size_t path[5];
        uint32_t depth = 0;
        const char *why = "";
        if (hnn_weights_fill(v, 0, rank, dim, data, &n, path, &depth, &why)) {
            out->data = data;
            out->loc = at;
            r = HNN_WEIGHTS_OK;
        } else {
            char where[128] = "";
            size_t o = 0;
            for (uint32_t i = 0; i < depth && o < sizeof where - 24; i++)
                o += (size_t)snprintf(where + o, sizeof where - o, "[%zu]", path[i]);
            hnn_diag_error(diag, at, "layers.%s.%s%s %s (expected an array of shape %s)", layer->name,
                           key, where, why, want);
        }
    }
    hnn_weights_done(w, layer, key, v);
    return r;
}

hnn_weights_result
hnn_weights_take_number(hnn_weights *w, hnn_diag *diag, const hnn_layer *layer, const char *key,
                        double *out, hnn_loc *loc)
{
    bool bad;
    json_t *v = hnn_weights_take(w, diag, layer, key, &bad);
    if (!v)
        return bad ? HNN_WEIGHTS_BAD : HNN_WEIGHTS_ABSENT;
    *loc = hnn_weights_entry_loc(w, diag, layer->name, key);
    hnn_weights_result r = HNN_WEIGHTS_OK;
    if (json_is_number(v)) {
        *out = json_number_value(v);
    } else {
        hnn_diag_error(diag, *loc, "layers.%s.%s must be a number", layer->name, key);
        r = HNN_WEIGHTS_BAD;
    }
    hnn_weights_done(w, layer, key, v);
    return r;
}

void
hnn_weights_report_unused(hnn_weights *w, hnn_diag *diag, const hnn_model *model)
{
    const char *name;
    json_t *entry;
    const char *top;
    json_t *tv;
    json_object_foreach(w->root, top, tv) {
        if (strcmp(top, "layers") != 0)
            hnn_diag_warning(diag, hnn_weights_key_loc(diag, w->file, 0, top),
                             "unknown top-level key \"%s\" in the weights file is ignored", top);
    }
    json_object_foreach(w->layers, name, entry) {
        hnn_loc at = hnn_weights_entry_loc(w, diag, name, NULL);
        const hnn_layer *l = hnn_model_find(model, name);
        if (!l) {
            hnn_diag_suggest sg;
            hnn_diag_suggest_init(&sg, name);
            for (uint32_t i = 0; i < model->n_layers; i++)
                hnn_diag_suggest_offer(&sg, model->layers[i]->name);
            const char *best = hnn_diag_suggest_result(&sg);
            hnn_diag_warning(diag, at, "the weights file has an entry '%s' that matches no layer%s%s%s",
                             name, best ? "; did you mean '" : "", best ? best : "", best ? "'?" : "");
            continue;
        }
        if (!json_is_object(entry))
            continue;
        const char *key;
        json_t *v;
        json_object_foreach(entry, key, v) {
            (void)v;
            hnn_diag_warning(diag, hnn_weights_key_loc(diag, w->file, at.begin, key),
                             "layers.%s.%s is not a parameter of %s '%s' and is ignored", name, key,
                             hnn_op_name(l->op), name);
        }
    }
}
