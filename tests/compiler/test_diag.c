/* diag: the printed format, carets, notes, limits, ordering, suggestions. */
#include "front_helpers.h"

static char *
print_one(hnn_diag *d)
{
    return hnn_test_diag_text(d);
}

/* Offset of needle in hay, or -1. */
static long
pos(const char *hay, const char *needle)
{
    const char *p = strstr(hay, needle);
    return p ? (long)(p - hay) : -1;
}

static void
diag_error_with_caret_range(void **state)
{
    (void)state;
    hnn_diag *d = hnn_diag_new();
    const char *src = "model m {\n  layer h = dnse(x, 8);\n}\n";
    uint32_t f = hnn_diag_add_source(d, "m.hnn", src, strlen(src));
    hnn_diag_error(d, (hnn_loc){f, 22, 26}, "unknown layer kind '%s'", "dnse");
    hnn_diag_note(d, (hnn_loc){f, 0, 5}, "in this model");
    char *out = print_one(d);
    assert_string_equal(out, "m.hnn:2:13: error: unknown layer kind 'dnse'\n"
                             "    2 |   layer h = dnse(x, 8);\n"
                             "      |             ^~~~\n"
                             "m.hnn:1:1: note: in this model\n"
                             "    1 | model m {\n"
                             "      | ^~~~~\n");
    assert_int_equal(hnn_diag_error_count(d), 1);
    free(out);
    hnn_diag_free(d);
}

static void
diag_line_col(void **state)
{
    (void)state;
    hnn_diag *d = hnn_diag_new();
    const char *src = "a\nbc\n\nd";
    uint32_t f = hnn_diag_add_source(d, "x", src, strlen(src));
    uint32_t line, col;
    hnn_diag_line_col(d, f, 0, &line, &col);
    assert_true(line == 1 && col == 1);
    hnn_diag_line_col(d, f, 3, &line, &col);
    assert_true(line == 2 && col == 2);
    hnn_diag_line_col(d, f, 5, &line, &col);
    assert_true(line == 3 && col == 1);
    hnn_diag_line_col(d, f, 6, &line, &col);
    assert_true(line == 4 && col == 1);
    hnn_diag_free(d);
}

static void
diag_sorted_by_place_with_notes(void **state)
{
    (void)state;
    hnn_diag *d = hnn_diag_new();
    const char *src = "one\ntwo\nthree\n";
    uint32_t f = hnn_diag_add_source(d, "s", src, strlen(src));
    hnn_diag_warning(d, (hnn_loc){f, 8, 13}, "third");
    hnn_diag_error(d, (hnn_loc){f, 0, 3}, "first");
    hnn_diag_note(d, (hnn_loc){f, 8, 13}, "note of first");
    hnn_diag_error(d, (hnn_loc){0, 0, 0}, "no place");
    char *out = print_one(d);
    long a = pos(out, "no place"), b = pos(out, "first"), c = pos(out, "note of first"),
         e = pos(out, "warning: third");
    assert_true(a >= 0 && a < b && b < c && c < e);
    assert_non_null(strstr(out, "hnnc: error: no place\n"));
    free(out);
    hnn_diag_free(d);
}

static void
diag_error_limit_and_werror(void **state)
{
    (void)state;
    hnn_diag *d = hnn_diag_new();
    const char *src = "x\n";
    uint32_t f = hnn_diag_add_source(d, "s", src, 2);
    hnn_diag_set_max_errors(d, 3);
    for (int i = 0; i < 10; i++) {
        hnn_diag_error(d, (hnn_loc){f, 0, 1}, "e%d", i);
        hnn_diag_note(d, (hnn_loc){f, 0, 1}, "n%d", i);
    }
    assert_true(hnn_diag_full(d));
    assert_int_equal(hnn_diag_error_count(d), 10);
    char *out = print_one(d);
    assert_non_null(strstr(out, "e2"));
    assert_null(strstr(out, "e3"));
    assert_null(strstr(out, "n3"));
    assert_non_null(strstr(out, "7 more errors not shown"));
    free(out);
    hnn_diag_free(d);

    d = hnn_diag_new();
    hnn_diag_set_werror(d, true);
    hnn_diag_warning(d, (hnn_loc){0, 0, 0}, "w");
    assert_int_equal(hnn_diag_error_count(d), 1);
    hnn_diag_free(d);
}

static void
diag_long_line_and_control_bytes(void **state)
{
    (void)state;
    hnn_diag *d = hnn_diag_new();
    size_t n = 100000;
    char *src = malloc(n + 1);
    memset(src, 'a', n);
    src[50000] = '\x01';
    src[n] = '\0';
    uint32_t f = hnn_diag_add_source(d, "long", src, n);
    hnn_diag_error(d, (hnn_loc){f, 50000, 50001}, "here '%s'", src + 40000); /* a huge quote */
    char *out = print_one(d);
    assert_true(strlen(out) < 1000);
    assert_non_null(strstr(out, "long:1:50001: error: here 'aaaa"));
    assert_non_null(strstr(out, "...'"));
    assert_non_null(strstr(out, "| ...aaaa"));
    assert_non_null(strstr(out, "a?a"));
    assert_null(strchr(out, '\x01'));
    free(out);
    free(src);
    hnn_diag_free(d);
}

/* Apostrophes in words are not quotes: nothing of a long message that names a
 * layer and says "plan's" may be clipped. */
static void
diag_apostrophes_are_not_quotes(void **state)
{
    (void)state;
    hnn_diag *d = hnn_diag_new();
    const char *msg = "the interval [-8, 8] of tanh 'a7' does not cover its input, whose values can "
                      "reach [-19.98, 21.5]; the plan assumes they stay inside (outside, the "
                      "approximation and the plan's bounds are wrong), says the key holder's 'b'";
    hnn_diag_warning(d, (hnn_loc){0, 0, 0}, "%s", msg);
    char *out = print_one(d);
    assert_non_null(strstr(out, msg));
    free(out);
    hnn_diag_free(d);
}

static void
diag_edit_distance_and_suggest(void **state)
{
    (void)state;
    assert_int_equal(hnn_diag_edit_distance("dense", "dense", 3), 0);
    assert_int_equal(hnn_diag_edit_distance("dnse", "dense", 3), 1);
    assert_int_equal(hnn_diag_edit_distance("desne", "dense", 3), 1); /* transposition */
    assert_int_equal(hnn_diag_edit_distance("relu", "gelu", 3), 1);
    assert_true(hnn_diag_edit_distance("conv2d", "softargmax", 3) > 3);

    hnn_diag_suggest s;
    hnn_diag_suggest_init(&s, "sofargmax");
    const char *names[] = {"dense", "square", "softargmax", "sigmoid"};
    for (size_t i = 0; i < 4; i++)
        hnn_diag_suggest_offer(&s, names[i]);
    assert_string_equal(hnn_diag_suggest_result(&s), "softargmax");

    hnn_diag_suggest_init(&s, "x"); /* too short to guess */
    hnn_diag_suggest_offer(&s, "h");
    assert_null(hnn_diag_suggest_result(&s));

    hnn_diag_suggest_init(&s, "zzzzzz");
    hnn_diag_suggest_offer(&s, "dense");
    assert_null(hnn_diag_suggest_result(&s));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(diag_error_with_caret_range),
        cmocka_unit_test(diag_line_col),
        cmocka_unit_test(diag_sorted_by_place_with_notes),
        cmocka_unit_test(diag_error_limit_and_werror),
        cmocka_unit_test(diag_long_line_and_control_bytes),
        cmocka_unit_test(diag_apostrophes_are_not_quotes),
        cmocka_unit_test(diag_edit_distance_and_suggest),
    };
    return cmocka_run_group_tests_name("front/diag", tests, NULL, NULL);
}
