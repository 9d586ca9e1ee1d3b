/* weights: the JSON format, shapes, finiteness, leftovers, overrides. */
#include <unistd.h>

#include "front_helpers.h"

static char dir[64];

static int
make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hnn-test-weights-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static void
write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *model_src = "model m {\n"
                               "  input x: vector(2) range [0, 1];\n"
                               "  weights \"w.json\";\n"
                               "  layer d = dense(x, 2);\n"
                               "  layer bn = batchnorm(d);\n"
                               "  output softargmax(bn);\n"
                               "}\n";

static void
weights_load_everything(void **state)
{
    (void)state;
    write_file("w.json", "{\"format\": \"hnn-weights\", \"version\": 1, \"layers\": {\n"
                         " \"d\": {\"weight\": [[1, 2], [3, 4]], \"bias\": [5, 6]},\n"
                         " \"bn\": {\"gamma\": [1, 1], \"beta\": [0, 0], \"mean\": [0, 0], \"var\": [1, 1]},\n"
                         " \"softargmax_1\": {\"T\": 0.75}}}\n");
    hnn_test_run r = hnn_test_check_in(model_src, dir);
    assert_string_equal(r.out, "");
    assert_non_null(r.model);
    hnn_layer *d = r.model->layers[1];
    assert_true(d->u.dense.weight.data[0] == 1 && d->u.dense.weight.data[3] == 4);
    assert_true(d->u.dense.bias.data[1] == 6);
    assert_true(r.model->output->u.softargmax.temperature == 0.75);
    assert_int_equal(r.model->weights, HNN_WEIGHTS_FILE);
    assert_int_equal(r.model->n_params, 6 + 8 + 1);
    hnn_test_done(&r);
}

static void
weights_wrong_shape_points_into_the_json(void **state)
{
    (void)state;
    write_file("w.json", "{\"layers\": {\n"
                         "  \"d\": {\"weight\": [[1, 2, 3], [3, 4, 5]]},\n"
                         "  \"bn\": {\"gamma\": [1, 1], \"beta\": [0, 0], \"mean\": [0, 0], \"var\": [1, 1]}}}\n");
    hnn_test_run r = hnn_test_check_in(model_src, dir);
    assert_null(r.model);
    assert_diag(&r, "w.json:2:9: error: layers.d.weight has shape [2, 3]; dense 'd' needs [2, 2]");
    assert_diag(&r, "t.hnn:4:9: note: 'd' is defined here");
    hnn_test_done(&r);
}

static void
weights_not_json_nan_missing(void **state)
{
    (void)state;
    write_file("w.json", "{\"layers\": {\"d\": {\"weight\": [[1, NaN], [3, 4]]}}}");
    hnn_test_run r = hnn_test_check_in(model_src, dir);
    assert_null(r.model);
    assert_diag(&r, "error: the weights file is not valid JSON");
    assert_diag(&r, "JSON has no NaN or Infinity");
    hnn_test_done(&r);

    write_file("w.json", "{\"layers\": {\"d\": {\"weight\": [[1, 2], [3, 4]]}}}");
    r = hnn_test_check_in(model_src, dir);
    assert_null(r.model);
    assert_diag(&r, "error: the weights file has no 'gamma' for batchnorm 'bn'");
    hnn_test_done(&r);

    char path[128];
    snprintf(path, sizeof path, "%s/w.json", dir);
    unlink(path);
    r = hnn_test_check_in(model_src, dir);
    assert_null(r.model);
    assert_diag(&r, "t.hnn:3:11: error: cannot read the weights file");
    assert_diag(&r, "No such file or directory");
    hnn_test_done(&r);
}

static void
weights_override_and_none(void **state)
{
    (void)state;
    write_file("other.json", "{\"layers\": {\"d\": {\"weight\": [[1, 2], [3, 4]]},\n"
                             " \"bn\": {\"gamma\": [1, 1], \"beta\": [0, 0], \"mean\": [0, 0], \"var\": [1, 1]}}}");
    char path[128];
    snprintf(path, sizeof path, "%s/other.json", dir);
    hnn_arena *a = hnn_arena_new();
    hnn_diag *d = hnn_diag_new();
    hnn_front_options o = {.weights_path = path};
    hnn_model *m = hnn_front_check_text("t.hnn", model_src, strlen(model_src), "/nonexistent", &o, a, d, NULL);
    assert_non_null(m);
    assert_true(m->layers[1]->u.dense.bias.data[0] == 0); /* absent bias is zero */
    hnn_diag_free(d);
    hnn_arena_free(a);

    /* no_io: the file is not opened, the model has shapes but no values */
    a = hnn_arena_new();
    d = hnn_diag_new();
    hnn_front_options none = {.no_io = true};
    m = hnn_front_check_text("t.hnn", model_src, strlen(model_src), "/nonexistent", &none, a, d, NULL);
    assert_non_null(m);
    assert_false(m->has_values);
    assert_null(m->layers[1]->u.dense.weight.data);
    hnn_diag_free(d);
    hnn_arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(weights_load_everything),
        cmocka_unit_test(weights_wrong_shape_points_into_the_json),
        cmocka_unit_test(weights_not_json_nan_missing),
        cmocka_unit_test(weights_override_and_none),
    };
    return cmocka_run_group_tests_name("front/weights", tests, make_dir, remove_dir);
}
