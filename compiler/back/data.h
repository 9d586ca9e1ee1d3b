/*
 * Data sets for `hnnc run` and `hnnc encrypt`: rows of features for the
 * model's input, with an optional class label per row.
 *
 * Formats (chosen by content, not by file name):
 *   CSV   one sample per line, comma-separated numbers, the label last
 *         (when a row has one field more than the model's input). The first
 *         line is a header, and skipped, when none of the fields that must
 *         be numbers is one. Labels are integers (class indices), or names that
 *         are mapped to indices in order of first appearance
 *         ("Iris-setosa" -> 0, ...); the names are kept for reports.
 *         Blank lines and lines starting with '#' are skipped.
 *   IDX   MNIST's format: an image file (magic 0x00000803, unsigned bytes,
 *         count x rows x cols, big-endian sizes) and, optionally, a label
 *         file (0x00000801, count bytes). Pixels p in 0..255 are scaled
 *         into the model's input range [lo, hi]: lo + (hi - lo) p / 255,
 *         so a model declaring range [0, 1] sees p / 255.
 * Either format may be gzip-compressed (MNIST ships as .gz): it is
 * inflated while read, within the same size limit.
 *
 * Errors name the file and, for CSV, the line: "d.csv:7: 5 fields, the
 * model's input takes 4 (and an optional label)".
 */
#ifndef HNN_BACK_DATA_H
#define HNN_BACK_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hnn_data {
    size_t n_samples;
    uint32_t n_features;
    double *x;            /* n_samples x n_features, row by row */
    int64_t *label;       /* n_samples class indices; NULL when the data has no labels */
    char **class_names;   /* CSV labels that were names: class i's name; else NULL */
    uint32_t n_class_names;
    const char *format;   /* "csv" or "idx" */
    /* CSV: feature values outside the range given to hnn_data_load (the
     * model's input range): the encrypted network was not planned for them. */
    size_t out_of_range;
} hnn_data;

typedef struct hnn_data_options {
    uint32_t width;       /* features per sample: the model's input size */
    double lo, hi;        /* the model's input range (IDX scaling, CSV range check) */
    const char *labels;   /* IDX label file, or NULL */
    size_t limit;         /* at most this many samples; 0 = all */
} hnn_data_options;

/* Loads path (CSV or IDX, by content). 0 on success; -1 with the message in
 * err (file:line: ... for CSV) and *out empty. */
int hnn_data_load(const char *path, const hnn_data_options *opt, hnn_data *out, char *err, size_t err_len);
int hnn_data_load_csv(const char *path, const hnn_data_options *opt, hnn_data *out, char *err, size_t err_len);
int hnn_data_load_idx(const char *path, const hnn_data_options *opt, hnn_data *out, char *err, size_t err_len);
void hnn_data_free(hnn_data *d);

#endif
