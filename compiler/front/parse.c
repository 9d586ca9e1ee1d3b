#include "front/parse.h"

#include <stdlib.h>
#include <string.h>

#include "hnn.tab.h"
#define YYSTYPE HNN_YYSTYPE
#define YYLTYPE HNN_YYLTYPE
#include "hnn.yy.h"

int hnn_lex_scan(HNN_YYSTYPE *lval, HNN_YYLTYPE *lloc, void *scanner);

/* The parser's view of the scanner: remembers the token before the current one,
 * which is where a missing ';' belongs. */
int
hnn_yylex(HNN_YYSTYPE *lval, HNN_YYLTYPE *lloc, void *scanner)
{
    hnn_lex_state *st = hnn_yyget_extra(scanner);
    int tok = hnn_lex_scan(lval, lloc, scanner);
    if (tok == HNN_TOK_YYEOF) {
        /* End of input sits just past the last byte. */
        size_t len;
        hnn_diag_source_text(st->diag, st->file, &len);
        *lloc = (hnn_loc){st->file, (uint32_t)len, (uint32_t)len};
    }
    st->prev = st->cur;
    st->cur = *lloc;
    return tok;
}

/* Both the parser and the token-stream API scan a registered source. */
static void *
hnn_parse_scanner_new(hnn_lex_state *st, void **buffer)
{
    void *scanner;
    if (hnn_yylex_init_extra(st, &scanner) != 0)
        return NULL;
    size_t len;
    const char *text = hnn_diag_source_text(st->diag, st->file, &len);
    /* A UTF-8 byte-order mark, as some editors write, is not part of the model. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        st->offset = 3;
        text += 3;
        len -= 3;
    }
    *buffer = hnn_yy_scan_bytes(text, (int)len, scanner);
    return scanner;
}

hnn_ast_model *
hnn_parse_source(hnn_arena *arena, hnn_diag *diag, uint32_t file)
{
    hnn_parser p = {.lex = {.arena = arena, .diag = diag, .file = file}};
    void *buffer;
    void *scanner = hnn_parse_scanner_new(&p.lex, &buffer);
    if (!scanner)
        return NULL;
    hnn_yyparse(scanner, &p);
    hnn_yy_delete_buffer(buffer, scanner);
    hnn_yylex_destroy(scanner);
    return p.result;
}

struct hnn_lexer {
    hnn_lex_state st;
    void *scanner;
    void *buffer;
};

hnn_lexer *
hnn_lex_new(hnn_arena *arena, hnn_diag *diag, uint32_t file)
{
    hnn_lexer *lx = calloc(1, sizeof *lx);
    if (!lx)
        return NULL;
    lx->st = (hnn_lex_state){.arena = arena, .diag = diag, .file = file};
    lx->scanner = hnn_parse_scanner_new(&lx->st, &lx->buffer);
    if (!lx->scanner) {
        free(lx);
        return NULL;
    }
    return lx;
}

void
hnn_lex_free(hnn_lexer *lexer)
{
    if (!lexer)
        return;
    hnn_yy_delete_buffer(lexer->buffer, lexer->scanner);
    hnn_yylex_destroy(lexer->scanner);
    free(lexer);
}

int
hnn_lex_next(hnn_lexer *lexer, hnn_lex_token *tok)
{
    HNN_YYSTYPE v = {0};
    HNN_YYLTYPE l = {0};
    int kind = hnn_yylex(&v, &l, lexer->scanner);
    *tok = (hnn_lex_token){.kind = kind, .loc = l};
    if (kind == HNN_TOK_IDENT || kind == HNN_TOK_STRING)
        tok->text = v.str;
    if (kind == HNN_TOK_NUMBER) {
        tok->number = v.num.value;
        tok->is_integer = v.num.is_integer;
    }
    return kind;
}
