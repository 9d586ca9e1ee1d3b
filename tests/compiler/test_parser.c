/* parser: tree shape, locations, powers, recovery, several parses per process. */
#include "front_helpers.h"
#include "front/parse.h"

static hnn_ast_model *
parse(hnn_arena *a, hnn_diag *d, const char *src)
{
    uint32_t f = hnn_diag_add_source(d, "t.hnn", src, strlen(src));
    return hnn_parse_source(a, d, f);
}

static void
parser_builds_the_tree(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    hnn_diag *d = hnn_diag_new();
    const char *src = "model iris {\n"
                      "  input x: vector(4) range [-3, 3];\n"
                      "  layer h = dense(x, 8, bias [1, 2]);\n"
                      "  output softargmax(h, T 0.5);\n"
                      "  hints { ring 2^14; precision 12 bits; }\n"
                      "}\n";
    hnn_ast_model *m = parse(a, d, src);
    assert_non_null(m);
    assert_int_equal(hnn_diag_error_count(d), 0);
    assert_string_equal(m->name, "iris");
    assert_int_equal(m->n_stmts, 4);
    hnn_ast_stmt *in = m->stmts, *layer = in->next, *out = layer->next, *hints = out->next;
    assert_int_equal(in->kind, HNN_AST_INPUT);
    assert_string_equal(in->name, "x");
    assert_int_equal(in->range->kind, HNN_AST_LIST);
    assert_true(in->range->u.list.items->u.number.value == -3);
    assert_int_equal(layer->kind, HNN_AST_LAYER);
    hnn_ast_value *call = layer->value;
    assert_string_equal(call->u.call.callee, "dense");
    assert_int_equal(call->u.call.count, 3);
    hnn_ast_arg *bias = call->u.call.args->next->next;
    assert_string_equal(bias->key, "bias");
    assert_int_equal(bias->value->u.list.count, 2);
    assert_int_equal(out->value->kind, HNN_AST_CALL);
    hnn_ast_setting *ring = hints->settings;
    assert_string_equal(ring->name, "ring");
    assert_true(ring->values->u.number.value == 16384);
    assert_true(ring->values->u.number.is_power);
    assert_int_equal(ring->next->count, 2);
    /* The layer statement spans "layer" to ";" on line 3. */
    const char *text = "layer h = dense(x, 8, bias [1, 2]);";
    uint32_t at = (uint32_t)(strstr(src, text) - src);
    assert_int_equal(layer->loc.begin, at);
    assert_int_equal(layer->loc.end, at + strlen(text));
    hnn_diag_free(d);
    hnn_arena_free(a);
}

static void
parser_numbers_negative_and_powers(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    hnn_diag *d = hnn_diag_new();
    hnn_ast_model *m = parse(a, d, "model m { hints { x -2 2^-2 -2^3 1.5e3; } }");
    assert_non_null(m);
    hnn_ast_value *v = m->stmts->settings->values;
    assert_true(v->u.number.value == -2);
    assert_true(v->next->u.number.value == 0.25);
    assert_false(v->next->u.number.is_integer);
    assert_true(v->next->next->u.number.value == -8);
    assert_true(v->next->next->next->u.number.value == 1500);
    hnn_diag_free(d);
    hnn_arena_free(a);
}

static void
parser_recovers_and_reports_several_errors(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    hnn_diag *d = hnn_diag_new();
    hnn_ast_model *m = parse(a, d,
                             "model m {\n"
                             "  layer a = (;\n"
                             "  layer b = square(a);\n"
                             "  layer = x;\n"
                             "  hints { packing = 1; security 128; }\n"
                             "}\n");
    assert_non_null(m); /* recovered: the good statements are kept */
    assert_int_equal(hnn_diag_error_count(d), 3);
    int layers = 0;
    for (hnn_ast_stmt *s = m->stmts; s; s = s->next)
        layers += s->kind == HNN_AST_LAYER;
    assert_int_equal(layers, 1);
    hnn_diag_free(d);
    hnn_arena_free(a);
}

static void
parser_suggests_keywords(void **state)
{
    (void)state;
    hnn_test_run r = hnn_test_check("model m {\n  inptu x: vector(2) range [0, 1];\n}\n");
    assert_null(r.model);
    assert_diag(&r, "t.hnn:2:3: error: unexpected name 'inptu'; did you mean 'input'?");
    hnn_test_done(&r);
}

static void
parser_missing_semicolon_points_at_line_end(void **state)
{
    (void)state;
    hnn_test_run r = hnn_test_check("model m {\n  output x\n}\n");
    assert_diag(&r, "t.hnn:2:11: error: expected ';' at the end of the statement");
    hnn_test_done(&r);
}

static void
parser_many_models_in_one_process(void **state)
{
    (void)state;
    for (int i = 0; i < 50; i++) {
        hnn_arena *a = hnn_arena_new();
        hnn_diag *d = hnn_diag_new();
        char src[128], name[16];
        snprintf(src, sizeof src, "model m%d { layer l%d = square(); }", i, i);
        snprintf(name, sizeof name, "l%d", i);
        hnn_ast_model *m = parse(a, d, src);
        assert_non_null(m);
        assert_string_equal(m->stmts->name, name);
        hnn_diag_free(d);
        hnn_arena_free(a);
    }
}

static void
parser_deep_nesting_is_refused(void **state)
{
    (void)state;
    size_t n = 100000;
    char *src = malloc(n + 64);
    strcpy(src, "model m { hints { x ");
    size_t len = strlen(src);
    memset(src + len, '[', n);
    src[len + n] = '\0';
    hnn_arena *a = hnn_arena_new();
    hnn_diag *d = hnn_diag_new();
    parse(a, d, src);
    assert_int_equal(hnn_diag_error_count(d), 1);
    char *out = hnn_test_diag_text(d);
    assert_non_null(strstr(out, "nested too deeply"));
    free(out);
    free(src);
    hnn_diag_free(d);
    hnn_arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parser_builds_the_tree),
        cmocka_unit_test(parser_numbers_negative_and_powers),
        cmocka_unit_test(parser_recovers_and_reports_several_errors),
        cmocka_unit_test(parser_suggests_keywords),
        cmocka_unit_test(parser_missing_semicolon_points_at_line_end),
        cmocka_unit_test(parser_many_models_in_one_process),
        cmocka_unit_test(parser_deep_nesting_is_refused),
    };
    return cmocka_run_group_tests_name("front/parser", tests, NULL, NULL);
}
