#include "front/parse_error.h"

#include <stdio.h>
#include <string.h>

/* Longer lists of expected tokens are not shown: they do not help. */
enum { HNN_PARSE_MAX_LISTED = 5, HNN_PARSE_TEXT_MAX = 40 };

typedef struct hnn_parse_buf {
    char text[1024];
    size_t len;
} hnn_parse_buf;

static void
hnn_parse_buf_add(hnn_parse_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (n > sizeof b->text - 1 - b->len)
        n = sizeof b->text - 1 - b->len;
    memcpy(b->text + b->len, s, n);
    b->len += n;
    b->text[b->len] = '\0';
}

/* A token as the user wrote it, e.g. "name 'layr'" or "number 12.5". */
static void
hnn_parse_describe(hnn_parser *p, hnn_parse_buf *b, hnn_loc loc, const char *got, bool is_keyword,
                   bool has_text)
{
    if (is_keyword) {
        hnn_parse_buf_add(b, "'");
        hnn_parse_buf_add(b, got);
        hnn_parse_buf_add(b, "'");
        return;
    }
    if (!has_text && (strcmp(got, "name") == 0 || strcmp(got, "number") == 0 ||
                      strcmp(got, "string") == 0))
        hnn_parse_buf_add(b, "a ");
    hnn_parse_buf_add(b, got);
    if (!has_text)
        return;
    size_t len;
    const char *src = hnn_diag_source_text(p->lex.diag, loc.file, &len);
    size_t n = loc.end > loc.begin ? loc.end - loc.begin : 0;
    if (loc.begin > len || n > len - loc.begin)
        return;
    char text[HNN_PARSE_TEXT_MAX + 4];
    bool clipped = n > HNN_PARSE_TEXT_MAX;
    if (clipped)
        n = HNN_PARSE_TEXT_MAX;
    memcpy(text, src + loc.begin, n);
    strcpy(text + n, clipped ? "..." : "");
    bool string = got[0] == 's'; /* "string" keeps its own quotes */
    hnn_parse_buf_add(b, string ? " " : " '");
    hnn_parse_buf_add(b, text);
    if (!string)
        hnn_parse_buf_add(b, "'");
}

static bool
hnn_parse_same_line(hnn_parser *p, uint32_t file, uint32_t a, uint32_t b)
{
    uint32_t la, lb, col;
    hnn_diag_line_col(p->lex.diag, file, a, &la, &col);
    hnn_diag_line_col(p->lex.diag, file, b, &lb, &col);
    return la == lb;
}

void
hnn_parse_error_syntax(hnn_parser *p, hnn_loc loc, const char *got, bool got_is_keyword,
                       bool got_has_text, const hnn_parse_expected *expected, size_t n)
{
    p->syntax_errors++;
    /* The scanner has already said why it stopped (nesting, error limit). */
    if (p->lex.stop)
        return;
    if (p->lex.quiet || loc.begin < p->lex.quiet_end) {
        p->lex.quiet = false;
        p->lex.quiet_end = 0;
        return;
    }

    bool want_semicolon = false;
    for (size_t i = 0; i < n; i++)
        want_semicolon |= strcmp(expected[i].name, "';'") == 0;
    /* A statement that ends at a line break without its ';': point there. */
    if (want_semicolon && p->lex.prev.file && loc.begin > p->lex.prev.end &&
        !hnn_parse_same_line(p, loc.file, p->lex.prev.end, loc.begin)) {
        hnn_loc at = {loc.file, p->lex.prev.end, p->lex.prev.end};
        hnn_diag_error(p->lex.diag, at, "expected ';' at the end of the statement");
        return;
    }

    hnn_parse_buf b = {.len = 0};
    hnn_parse_buf_add(&b, "unexpected ");
    hnn_parse_describe(p, &b, loc, got, got_is_keyword, got_has_text);
    bool want_brace = false;
    for (size_t i = 0; i < n; i++)
        want_brace |= strcmp(expected[i].name, "'}'") == 0;
    if (n > HNN_PARSE_MAX_LISTED && want_brace && strcmp(got, "end of file") == 0) {
        hnn_parse_buf_add(&b, "; a closing '}' is missing");
    } else if (n > 0 && n <= HNN_PARSE_MAX_LISTED) {
        hnn_parse_buf_add(&b, "; expected ");
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                hnn_parse_buf_add(&b, i + 1 == n ? " or " : ", ");
            hnn_parse_describe(p, &b, loc, expected[i].name, expected[i].is_keyword, false);
        }
    }
    /* A misspelt keyword: "layr" where 'layer' would fit. */
    if (got_has_text && strcmp(got, "name") == 0) {
        size_t len;
        const char *src = hnn_diag_source_text(p->lex.diag, loc.file, &len);
        char word[HNN_PARSE_TEXT_MAX + 1];
        size_t wn = loc.end - loc.begin;
        if (wn <= HNN_PARSE_TEXT_MAX && loc.end <= len) {
            memcpy(word, src + loc.begin, wn);
            word[wn] = '\0';
            hnn_diag_suggest s;
            hnn_diag_suggest_init(&s, word);
            for (size_t i = 0; i < n; i++)
                if (expected[i].is_keyword)
                    hnn_diag_suggest_offer(&s, expected[i].name);
            const char *best = hnn_diag_suggest_result(&s);
            if (best) {
                hnn_parse_buf_add(&b, "; did you mean '");
                hnn_parse_buf_add(&b, best);
                hnn_parse_buf_add(&b, "'?");
            }
        }
    }
    hnn_diag_error(p->lex.diag, loc, "%s", b.text);
}

void
hnn_parse_error_plain(hnn_parser *p, hnn_loc loc, const char *msg)
{
    p->syntax_errors++;
    if (strcmp(msg, "memory exhausted") == 0)
        msg = "the model is nested too deeply to parse";
    hnn_diag_error(p->lex.diag, loc, "%s", msg);
}
