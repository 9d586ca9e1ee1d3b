/*
 * Syntax-error messages, written in C rather than inside the grammar file. The
 * generated parser passes what it knows (the unexpected token, the tokens it
 * would have accepted); these functions turn that into one clear diagnostic.
 */
#ifndef HNN_FRONT_PARSE_ERROR_H
#define HNN_FRONT_PARSE_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#include "front/loc.h"
#include "front/parse.h"

typedef struct hnn_parse_expected {
    const char *name; /* bison's symbol name: "number", "';'", "layer" */
    bool is_keyword;
} hnn_parse_expected;

void hnn_parse_error_syntax(hnn_parser *p, hnn_loc loc, const char *got, bool got_is_keyword,
                            bool got_has_text, const hnn_parse_expected *expected, size_t n);
void hnn_parse_error_plain(hnn_parser *p, hnn_loc loc, const char *msg);

#endif
