/* lexer: token kinds, numbers, strings, comments, locations, bad input. */
#include "front_helpers.h"
#include "front/parse.h"
#include "hnn.tab.h"

typedef struct lexed {
    hnn_arena *arena;
    hnn_diag *diag;
    hnn_lexer *lx;
} lexed;

static lexed
lex_open(const char *src, size_t len)
{
    lexed l = {hnn_arena_new(), hnn_diag_new(), NULL};
    uint32_t f = hnn_diag_add_source(l.diag, "t.hnn", src, len);
    l.lx = hnn_lex_new(l.arena, l.diag, f);
    assert_non_null(l.lx);
    return l;
}

static void
lex_close(lexed *l)
{
    hnn_lex_free(l->lx);
    hnn_diag_free(l->diag);
    hnn_arena_free(l->arena);
}

static void
lexer_keywords_names_punctuation(void **state)
{
    (void)state;
    const char *src = "model m { layer h1 = dense(x, 8); } layers _a";
    lexed l = lex_open(src, strlen(src));
    int want[] = {HNN_TOK_MODEL, HNN_TOK_IDENT, '{', HNN_TOK_LAYER, HNN_TOK_IDENT, '=', HNN_TOK_IDENT,
                  '(', HNN_TOK_IDENT, ',', HNN_TOK_NUMBER, ')', ';', '}', HNN_TOK_IDENT, HNN_TOK_IDENT,
                  HNN_TOK_YYEOF};
    hnn_lex_token t;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        hnn_lex_next(l.lx, &t);
        assert_int_equal(t.kind, want[i]);
    }
    assert_int_equal(hnn_diag_error_count(l.diag), 0);
    lex_close(&l);
}

static void
lexer_locations_are_byte_ranges(void **state)
{
    (void)state;
    const char *src = "  model\n\tiris #c\n";
    lexed l = lex_open(src, strlen(src));
    hnn_lex_token t;
    hnn_lex_next(l.lx, &t);
    assert_int_equal(t.loc.begin, 2);
    assert_int_equal(t.loc.end, 7);
    hnn_lex_next(l.lx, &t);
    assert_string_equal(t.text, "iris");
    assert_int_equal(t.loc.begin, 9);
    assert_int_equal(t.loc.end, 13);
    assert_int_equal(hnn_lex_next(l.lx, &t), 0);
    lex_close(&l);
}

static void
lexer_numbers(void **state)
{
    (void)state;
    const char *src = "8 0.5 .25 1e-3 2E+2 12.";
    double want[] = {8, 0.5, 0.25, 1e-3, 200, 12};
    int integer[] = {1, 0, 0, 0, 0, 0};
    lexed l = lex_open(src, strlen(src));
    hnn_lex_token t;
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(hnn_lex_next(l.lx, &t), HNN_TOK_NUMBER);
        assert_true(t.number == want[i]);
        assert_int_equal(t.is_integer, integer[i]);
    }
    lex_close(&l);
}

static void
lexer_strings_and_comments(void **state)
{
    (void)state;
    const char *src = "/* block\n comment */ \"a\\\"b\\\\c\" # line \"not a string\n\"x\"";
    lexed l = lex_open(src, strlen(src));
    hnn_lex_token t;
    assert_int_equal(hnn_lex_next(l.lx, &t), HNN_TOK_STRING);
    assert_string_equal(t.text, "a\"b\\c");
    assert_int_equal(hnn_lex_next(l.lx, &t), HNN_TOK_STRING);
    assert_string_equal(t.text, "x");
    assert_int_equal(hnn_lex_next(l.lx, &t), 0);
    assert_int_equal(hnn_diag_error_count(l.diag), 0);
    lex_close(&l);
}

static void
lexer_reports_bad_input_and_goes_on(void **state)
{
    (void)state;
    const char src[] = "a @ \x01\x02\0 b \"open\nc";
    lexed l = lex_open(src, sizeof src - 1);
    hnn_lex_token t;
    int idents = 0, strings = 0;
    while (hnn_lex_next(l.lx, &t) != 0) {
        idents += t.kind == HNN_TOK_IDENT;
        strings += t.kind == HNN_TOK_STRING;
    }
    assert_int_equal(idents, 3); /* a, b, c all survive */
    assert_int_equal(strings, 1);
    assert_int_equal(hnn_diag_error_count(l.diag), 3); /* '@', the control run, the string */
    char *out = hnn_test_diag_text(l.diag);
    assert_non_null(strstr(out, "unexpected character '@'"));
    assert_non_null(strstr(out, "3 bytes that cannot appear"));
    assert_non_null(strstr(out, "unterminated string"));
    free(out);
    lex_close(&l);
}

static void
lexer_stops_at_nesting_limit(void **state)
{
    (void)state;
    char src[HNN_PARSE_MAX_DEPTH + 10];
    memset(src, '[', sizeof src);
    lexed l = lex_open(src, sizeof src);
    hnn_lex_token t;
    int n = 0;
    while (hnn_lex_next(l.lx, &t) != 0)
        n++;
    assert_int_equal(n, HNN_PARSE_MAX_DEPTH);
    assert_int_equal(hnn_diag_error_count(l.diag), 1);
    lex_close(&l);
}

static void
lexer_unterminated_comment(void **state)
{
    (void)state;
    const char *src = "model /* never closed";
    lexed l = lex_open(src, strlen(src));
    hnn_lex_token t;
    assert_int_equal(hnn_lex_next(l.lx, &t), HNN_TOK_MODEL);
    assert_int_equal(hnn_lex_next(l.lx, &t), 0);
    assert_int_equal(hnn_diag_error_count(l.diag), 1);
    lex_close(&l);
}

static void
lexers_are_independent(void **state)
{
    (void)state;
    /* Two scanners advanced in turn: no shared state between them. */
    lexed a = lex_open("model a { }", 11), b = lex_open("input x ;", 9);
    hnn_lex_token ta, tb;
    hnn_lex_next(a.lx, &ta);
    hnn_lex_next(b.lx, &tb);
    assert_int_equal(ta.kind, HNN_TOK_MODEL);
    assert_int_equal(tb.kind, HNN_TOK_INPUT);
    hnn_lex_next(a.lx, &ta);
    hnn_lex_next(b.lx, &tb);
    assert_string_equal(ta.text, "a");
    assert_string_equal(tb.text, "x");
    assert_int_equal(ta.loc.begin, 6);
    assert_int_equal(tb.loc.begin, 6);
    lex_close(&a);
    lex_close(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lexer_keywords_names_punctuation),
        cmocka_unit_test(lexer_locations_are_byte_ranges),
        cmocka_unit_test(lexer_numbers),
        cmocka_unit_test(lexer_strings_and_comments),
        cmocka_unit_test(lexer_reports_bad_input_and_goes_on),
        cmocka_unit_test(lexer_stops_at_nesting_limit),
        cmocka_unit_test(lexer_unterminated_comment),
        cmocka_unit_test(lexers_are_independent),
    };
    return cmocka_run_group_tests_name("front/lexer", tests, NULL, NULL);
}
