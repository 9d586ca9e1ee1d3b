/*
 * The canonical form of a model: hnn_ast_print writes the tree back as .hnn text
 * with one statement per line, two-space indentation, single spaces, and numbers
 * in their shortest exact spelling. Comments are not kept. Printing, parsing the
 * output and printing again gives the same text (the golden tests check this).
 */
#ifndef HNN_FRONT_PRINT_H
#define HNN_FRONT_PRINT_H

#include <stddef.h>
#include <stdio.h>

#include "front/ast.h"

void hnn_ast_print(FILE *out, const hnn_ast_model *model);
void hnn_ast_print_value(FILE *out, const hnn_ast_value *value);
/* `range [lo, hi]` (n == 1), or `range [[lo0, hi0], ...]` laid out as the
 * canonical form lays out a long input range. */
void hnn_print_input_range(FILE *out, const double *lo, const double *hi, size_t n);
/* The shortest decimal spelling that reads back as exactly v. */
void hnn_ast_format_number(char *buf, size_t size, double v, int is_integer);

#endif
