/*
 * Parsing glue between the generated scanner/parser (lang/hnn.l, lang/hnn.y) and
 * the rest of the front end. All state lives in an hnn_parser on the caller's
 * stack, so any number of models can be parsed in one process, in any order.
 */
#ifndef HNN_FRONT_PARSE_H
#define HNN_FRONT_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "front/arena.h"
#include "front/ast.h"
#include "front/diag.h"

/* Brackets and parentheses nest at most this deep; deeper input is refused. */
#define HNN_PARSE_MAX_DEPTH 64
/* Identifiers longer than this are an error (they are kept, clipped). */
#define HNN_LEX_MAX_IDENT 255
/* String literals (file names) longer than this are an error. */
#define HNN_LEX_MAX_STRING 4096

/* Scanner state, reached from flex actions as yyextra. */
typedef struct hnn_lex_state {
    hnn_arena *arena;
    hnn_diag *diag;
    uint32_t file;
    uint32_t offset;       /* byte offset of the next character */
    int depth;             /* open ( and [ */
    bool stop;             /* a fatal input condition: the scanner reports end of input */
    bool quiet;            /* skip the next syntax error: the scanner explained it */
    uint32_t quiet_end;    /* ... or a syntax error before this offset (a bad character's line) */
    hnn_loc comment_start; /* of the open block comment */
    hnn_loc prev, cur;     /* the last two tokens handed to the parser */
} hnn_lex_state;

typedef struct hnn_parser {
    hnn_lex_state lex;
    hnn_ast_model *result;
    uint32_t syntax_errors;
} hnn_parser;

/*
 * Parses the source registered in diag as `file`. Returns the model (possibly
 * partial, after error recovery) or NULL when nothing usable was recognised;
 * every problem is reported to diag. The tree lives in arena.
 */
hnn_ast_model *hnn_parse_source(hnn_arena *arena, hnn_diag *diag, uint32_t file);

/* One token, for tests and tools that want the token stream. */
typedef struct hnn_lex_token {
    int kind;         /* an HNN_TOK_* value from hnn.tab.h; HNN_TOK_YYEOF at the end */
    hnn_loc loc;
    const char *text; /* identifier or string contents, else NULL */
    double number;
    bool is_integer;
} hnn_lex_token;

typedef struct hnn_lexer hnn_lexer;

hnn_lexer *hnn_lex_new(hnn_arena *arena, hnn_diag *diag, uint32_t file);
void hnn_lex_free(hnn_lexer *lexer);
/* Fills *tok with the next token; returns its kind (0 at the end). */
int hnn_lex_next(hnn_lexer *lexer, hnn_lex_token *tok);

#endif
