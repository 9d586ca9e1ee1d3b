/*
 * Data sets for training: CSV with the label last. This is the one place the
 * trainer reads data, so that it can move to the shared loader of
 * back/data.h without touching anything else.
 *
 * Format: one sample per line, fields separated by commas, spaces around
 * fields ignored, blank lines skipped; a first line whose features are not
 * all numbers is a header. Labels that are all numbers are used as they are
 * (class indices, or values for one output); otherwise each distinct label
 * is a class, numbered in order of first appearance (as back/data.h does);
 * a test set takes the training set's numbering. Lines starting with '#'
 * are skipped.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"
#include "train/train.h"

typedef struct hnn_train_row {
    double *x;
    char *label;
} hnn_train_row;

static char *
hnn_train_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static bool
hnn_train_number(const char *s, double *out)
{
    char *end;
    if (!*s)
        return false;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

void
hnn_train_data_free(hnn_train_data *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->label);
    for (uint32_t i = 0; d->class_names && i < d->n_classes; i++)
        free(d->class_names[i]);
    free(d->class_names);
    memset(d, 0, sizeof *d);
}

/* Splits a line in place into at most max fields; returns the count, or
 * max + 1 when there are more. */
static uint32_t
hnn_train_split(char *line, char **fields, uint32_t max)
{
    uint32_t n = 0;
    for (char *p = line;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (n == max)
            return max + 1;
        fields[n++] = hnn_train_trim(p);
        if (!comma)
            return n;
        p = comma + 1;
    }
}

static bool
hnn_train_labels(const char *path, hnn_train_row *rows, uint32_t n, const hnn_train_data *classes,
                 hnn_train_data *out)
{
    bool numeric = true;
    for (uint32_t i = 0; i < n && numeric; i++)
        numeric = hnn_train_number(rows[i].label, &out->label[i]);
    if (numeric && !(classes && classes->class_names))
        return true;
    if (classes && classes->class_names) {
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k = 0;
            while (k < classes->n_classes && strcmp(classes->class_names[k], rows[i].label) != 0)
                k++;
            if (k == classes->n_classes) {
                fprintf(stderr, "hnnc: error: %s: label '%s' is not a class of the training data\n", path,
                        rows[i].label);
                return false;
            }
            out->label[i] = k;
        }
        return true;
    }
    /* Classes in order of first appearance, as back/data.h numbers them. */
    out->class_names = calloc(n, sizeof *out->class_names);
    if (!out->class_names)
        hnn_fatal_oom();
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = 0;
        while (k < out->n_classes && strcmp(out->class_names[k], rows[i].label) != 0)
            k++;
        if (k == out->n_classes && !(out->class_names[out->n_classes++] = strdup(rows[i].label)))
            hnn_fatal_oom();
        out->label[i] = k;
    }
    return true;
}

bool
hnn_train_data_load(const char *path, const hnn_train_data *classes, hnn_train_data *out, hnn_diag *diag)
{
    (void)diag;
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "hnnc: error: cannot read '%s': %s\n", path, strerror(errno));
        return false;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    hnn_train_row *rows = NULL;
    uint32_t n = 0, n_rows_cap = 0, width = 0, line_no = 0;
    char **fields = NULL;
    bool ok = true;
    while (ok && (len = getline(&line, &cap, f)) >= 0) {
        line_no++;
        char *text = hnn_train_trim(line);
        size_t tl = strlen(text);
        if (tl && text[tl - 1] == '\n')
            text[--tl] = '\0';
        text = hnn_train_trim(text);
        if (!*text || *text == '#')
            continue;
        if (!width) {
            width = 1;
            for (const char *p = text; *p; p++)
                width += *p == ',';
            if (width < 2) {
                fprintf(stderr, "hnnc: error: %s:%u: a row needs features and a label, separated by commas\n",
                        path, line_no);
                ok = false;
                break;
            }
            fields = malloc((width + 1) * sizeof *fields);
            if (!fields)
                hnn_fatal_oom();
        }
        uint32_t got = hnn_train_split(text, fields, width);
        if (got != width) {
            fprintf(stderr, "hnnc: error: %s:%u: %s fields; the first row has %u\n", path, line_no,
                    got > width ? "more" : "fewer", width);
            ok = false;
            break;
        }
        double *x = malloc((width - 1) * sizeof *x);
        if (!x)
            hnn_fatal_oom();
        bool numbers = true;
        uint32_t bad = 0;
        for (uint32_t i = 0; i + 1 < width && numbers; i++)
            if (!(numbers = hnn_train_number(fields[i], &x[i])))
                bad = i;
        if (!numbers) {
            free(x);
            if (n == 0 && line_no == 1)
                continue; /* a header */
            fprintf(stderr, "hnnc: error: %s:%u: field %u ('%s') is not a finite number\n", path, line_no,
                    bad + 1, fields[bad]);
            ok = false;
            break;
        }
        if (n == n_rows_cap) {
            n_rows_cap = n_rows_cap ? 2 * n_rows_cap : 64;
            rows = realloc(rows, n_rows_cap * sizeof *rows);
            if (!rows)
                hnn_fatal_oom();
        }
        rows[n].x = x;
        if (!(rows[n].label = strdup(fields[width - 1])))
            hnn_fatal_oom();
        n++;
    }
    fclose(f);
    free(line);
    free(fields);
    if (ok && n == 0) {
        fprintf(stderr, "hnnc: error: %s: no data rows\n", path);
        ok = false;
    }
    if (ok) {
        out->n = n;
        out->n_features = width - 1;
        out->x = malloc((size_t)n * out->n_features * sizeof *out->x);
        out->label = malloc((size_t)n * sizeof *out->label);
        if (!out->x || !out->label)
            hnn_fatal_oom();
        for (uint32_t i = 0; i < n; i++)
            memcpy(out->x + (size_t)i * out->n_features, rows[i].x, out->n_features * sizeof *out->x);
        ok = hnn_train_labels(path, rows, n, classes, out);
        if (ok && classes && classes->class_names) {
            out->n_classes = classes->n_classes;
            out->class_names = calloc(out->n_classes, sizeof *out->class_names);
            if (!out->class_names)
                hnn_fatal_oom();
            for (uint32_t i = 0; i < out->n_classes; i++)
                if (!(out->class_names[i] = strdup(classes->class_names[i])))
                    hnn_fatal_oom();
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        free(rows[i].x);
        free(rows[i].label);
    }
    free(rows);
    if (!ok)
        hnn_train_data_free(out);
    return ok;
}

bool
hnn_train_data_check(const hnn_train_graph *g, const hnn_train_data *d, const char *what, hnn_diag *diag,
                     size_t *outside_range)
{
    (void)diag;
    const hnn_model *m = g->model;
    uint32_t in = (uint32_t)hnn_shape_count(m->input->shape);
    if (d->n_features != in) {
        fprintf(stderr, "hnnc: error: %s has %u features per row; model '%s' takes %u (input '%s')\n", what,
                d->n_features, m->name, in, m->input->name);
        return false;
    }
    bool classify = g->n_out > 1;
    for (uint32_t i = 0; i < d->n && classify; i++) {
        double l = d->label[i];
        if (!(l >= 0 && l < g->n_out && l == floor(l))) {
            fprintf(stderr, "hnnc: error: %s: row %u has label %g; the output '%s' has %u classes "
                    "(labels 0 to %u)\n", what, i + 1, l, m->output->name, g->n_out, g->n_out - 1);
            return false;
        }
    }
    if (d->n_classes > g->n_out && classify) {
        fprintf(stderr, "hnnc: error: %s has %u classes; the output '%s' has %u\n", what, d->n_classes,
                m->output->name, g->n_out);
        return false;
    }
    size_t outside = 0;
    double lo = m->input->u.input.lo, hi = m->input->u.input.hi;
    for (size_t i = 0; i < (size_t)d->n * d->n_features; i++)
        outside += !(d->x[i] >= lo && d->x[i] <= hi);
    if (outside_range)
        *outside_range = outside;
    return true;
}
