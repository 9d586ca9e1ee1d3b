/*
 * hnn_diag: the diagnostics engine and the source map.
 *
 * Every file the front end reads (the model, its weights file) is registered here
 * and gets an id that hnn_loc refers to. Passes append errors, warnings and notes
 * instead of printing or exiting; a note belongs to the error or warning before
 * it. The driver prints the list at the end and picks the exit status from
 * hnn_diag_error_count. Output format:
 *
 *   model.hnn:4:19: error: 'y' is not defined; did you mean 'x'?
 *       4 |   layer h = dense(y, 8);
 *         |                   ^
 */
#ifndef HNN_FRONT_DIAG_H
#define HNN_FRONT_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "front/loc.h"

typedef enum hnn_diag_severity {
    HNN_DIAG_ERROR,
    HNN_DIAG_WARNING,
    HNN_DIAG_NOTE,
} hnn_diag_severity;

typedef struct hnn_diag hnn_diag;

/* Returns NULL when memory is exhausted. */
hnn_diag *hnn_diag_new(void);
void hnn_diag_free(hnn_diag *diag);

/* Copies name and text; returns the file id (>= 1) for hnn_loc.file. */
uint32_t hnn_diag_add_source(hnn_diag *diag, const char *name, const char *text, size_t len);
const char *hnn_diag_source_name(const hnn_diag *diag, uint32_t file);
/* The registered bytes; *len receives their count. NUL-terminated for convenience. */
const char *hnn_diag_source_text(const hnn_diag *diag, uint32_t file, size_t *len);
/* 1-based line and byte column of a byte offset. */
void hnn_diag_line_col(const hnn_diag *diag, uint32_t file, uint32_t offset,
                       uint32_t *line, uint32_t *col);

void hnn_diag_error(hnn_diag *diag, hnn_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void hnn_diag_warning(hnn_diag *diag, hnn_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Attached to the last error or warning; dropped with it if that one was dropped. */
void hnn_diag_note(hnn_diag *diag, hnn_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Errors beyond the limit are counted but not kept (default 20; 0 = no limit). */
void hnn_diag_set_max_errors(hnn_diag *diag, size_t max);
/* Report warnings as errors. */
void hnn_diag_set_werror(hnn_diag *diag, bool on);
/* Drop warnings altogether. */
void hnn_diag_set_no_warnings(hnn_diag *diag, bool on);

size_t hnn_diag_error_count(const hnn_diag *diag);
size_t hnn_diag_warning_count(const hnn_diag *diag);
/* True once the error limit is reached: scanners and passes may stop early. */
bool hnn_diag_full(const hnn_diag *diag);

/* Prints every kept diagnostic in the order it was reported. */
void hnn_diag_print(const hnn_diag *diag, FILE *out);

/*
 * "Did you mean": offer candidates one by one, then ask for the closest one
 * within a small edit distance (Damerau, optimal string alignment), or NULL.
 */
typedef struct hnn_diag_suggest {
    const char *word;
    const char *best;
    size_t best_dist;
    size_t limit;
} hnn_diag_suggest;

void hnn_diag_suggest_init(hnn_diag_suggest *s, const char *word);
void hnn_diag_suggest_offer(hnn_diag_suggest *s, const char *candidate);
const char *hnn_diag_suggest_result(const hnn_diag_suggest *s);
/* Edit distance, or a value > limit as soon as it is sure to exceed limit. */
size_t hnn_diag_edit_distance(const char *a, const char *b, size_t limit);

#endif
