/* print: canonical form, number spelling, and the print-parse-print fixed point. */
#include <math.h>

#include "front_helpers.h"
#include "front/print.h"

static char *
canonical(const char *src)
{
    hnn_arena *a = hnn_arena_new();
    hnn_diag *d = hnn_diag_new();
    hnn_front_options o = {.parse_only = true};
    hnn_ast_model *ast;
    hnn_front_check_text("t.hnn", src, strlen(src), "", &o, a, d, &ast);
    assert_int_equal(hnn_diag_error_count(d), 0);
    assert_non_null(ast);
    FILE *f = tmpfile();
    hnn_ast_print(f, ast);
    long n = ftell(f);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    hnn_diag_free(d);
    hnn_arena_free(a);
    return text;
}

static void
print_numbers_shortest_exact(void **state)
{
    (void)state;
    char buf[64];
    double values[] = {0.1, 1.0 / 3, 1e-300, 123456789012345.0, 6.02214076e23, -2.5, 1e21};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        hnn_ast_format_number(buf, sizeof buf, values[i], 0);
        assert_true(strtod(buf, NULL) == values[i]);
    }
    hnn_ast_format_number(buf, sizeof buf, 0.1, 0);
    assert_string_equal(buf, "0.1");
    hnn_ast_format_number(buf, sizeof buf, 3, 0);
    assert_string_equal(buf, "3.0"); /* stays a real number */
    hnn_ast_format_number(buf, sizeof buf, 4096, 1);
    assert_string_equal(buf, "4096");
    hnn_ast_format_number(buf, sizeof buf, -0.0, 0);
    assert_string_equal(buf, "0");
}

static void
print_canonical_layout(void **state)
{
    (void)state;
    char *out = canonical("# comment\nmodel   m{input x:vector(2)range[-1,1.50];"
                          "layer   h=dense(x,2,weight[[1,2],[3,4]]);/* c */output h;"
                          "hints{ring 2^14;scale 2^-3;precision 12 bits;}}");
    assert_string_equal(out, "model m {\n"
                             "  input x: vector(2) range [-1, 1.5];\n"
                             "  layer h = dense(x, 2, weight [[1, 2], [3, 4]]);\n"
                             "  output h;\n"
                             "  hints {\n"
                             "    ring 2^14;\n"
                             "    scale 2^-3;\n"
                             "    precision 12 bits;\n"
                             "  }\n"
                             "}\n");
    free(out);
}

static void
print_is_a_fixed_point(void **state)
{
    (void)state;
    const char *models[] = {
        "model a { input vector(3) range [0, 1e-3]; layer square(); output input; }",
        "model b { weights \"a \\\"q\\\" \\\\ b.json\"; layer x = poly(coeffs [0.1, -2.5e10, 3]); }",
        "model c { train { optimizer sgd(lr 0.05, momentum 0.9); loss mse; } hints { } }",
        "model d { layer k = conv2d(y, 4, kernel [3, 5], padding -0); output softargmax(k, T 2^-1); }",
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char *once = canonical(models[i]);
        char *twice = canonical(once);
        assert_string_equal(once, twice);
        free(once);
        free(twice);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(print_numbers_shortest_exact),
        cmocka_unit_test(print_canonical_layout),
        cmocka_unit_test(print_is_a_fixed_point),
    };
    return cmocka_run_group_tests_name("front/print", tests, NULL, NULL);
}
