/* sema: shapes, names, parameters, value bounds, hints and training. */
#include <math.h>

#include "front_helpers.h"

static void
sema_infers_shapes_through_image_layers(void **state)
{
    (void)state;
    hnn_test_run r = hnn_test_check("model m {\n"
                                    "  input image(3, 32, 32) range [0, 1];\n"
                                    "  weights none;\n"
                                    "  layer c = conv2d(16, kernel 3, stride 2, padding 1);\n"
                                    "  layer p = avgpool(kernel 2);\n"
                                    "  layer q = sumpool(kernel [2, 4], stride [1, 2]);\n"
                                    "  layer flatten();\n"
                                    "  layer dense(10);\n"
                                    "  output dense_1;\n"
                                    "}\n");
    assert_non_null(r.model);
    hnn_model *m = r.model;
    assert_int_equal(m->n_layers, 6);
    hnn_layer *c = m->layers[1], *p = m->layers[2], *q = m->layers[3], *f = m->layers[4];
    assert_int_equal(c->shape.rank, 3);
    assert_int_equal(c->shape.dim[0], 16);
    assert_int_equal(c->shape.dim[1], 16); /* (32 + 2 - 3) / 2 + 1 */
    assert_int_equal(p->shape.dim[1], 8);
    assert_int_equal(q->shape.dim[1], 7);  /* (8 - 2) / 1 + 1 */
    assert_int_equal(q->shape.dim[2], 3);  /* (8 - 4) / 2 + 1 */
    assert_int_equal(f->shape.dim[0], 16 * 7 * 3);
    assert_int_equal(c->n_params, 16 * 3 * 3 * 3 + 16);
    assert_int_equal(m->n_params, 16 * 27 + 16 + 10 * 336 + 10);
    assert_false(m->has_values);
    assert_ptr_equal(m->output, m->layers[5]);
    assert_ptr_equal(m->layers[5]->in[0], f);
    assert_string_equal(f->name, "flatten_1");
    assert_true(f->implicit_name);
    hnn_test_done(&r);
}

static void
sema_inline_weights_and_bounds(void **state)
{
    (void)state;
    hnn_test_run r = hnn_test_check("model m {\n"
                                    "  input x: vector(2) range [-1, 2];\n"
                                    "  layer d = dense(x, 1, weight [[2, -3]], bias [0.5]);\n"
                                    "  layer s = square();\n"
                                    "  output s;\n"
                                    "}\n");
    assert_non_null(r.model);
    hnn_layer *d = r.model->layers[1], *s = r.model->layers[2];
    assert_true(d->u.dense.weight.data[1] == -3);
    assert_true(d->u.dense.bias.data[0] == 0.5);
    /* 2x - 3y + 0.5 over [-1, 2]^2 is [-2 - 6 + 0.5, 4 + 3 + 0.5]. */
    assert_true(d->range.known && !d->range.tight);
    assert_true(d->range.lo == -7.5 && d->range.hi == 7.5);
    assert_true(s->range.lo == 0 && s->range.hi == 56.25);
    assert_true(r.model->has_values);
    assert_int_equal(r.model->weights, HNN_WEIGHTS_INLINE);
    hnn_test_done(&r);
}

/* `range [[l1, h1], ...]`: per element of a vector, per channel of an image;
 * the hull for everything that asks for one range; dense and batchnorm on
 * the input bound each element by its own pair; clamping per element. */
static void
sema_input_element_ranges(void **state)
{
    (void)state;
    hnn_test_run r = hnn_test_check("model m {\n"
                                    "  input x: vector(3) range [[0, 1], [-2, 2], [100, 4300]];\n"
                                    "  layer b = batchnorm(x, gamma [1, 1, 1], beta [0, 0, 0], mean [0, 0, 100],\n"
                                    "                      var [1, 4, 1e6]);\n"
                                    "  layer d = dense(x, 1, weight [[2, -3, 0.001]], bias [0.5]);\n"
                                    "  output add(b, b);\n"
                                    "}\n");
    assert_non_null(r.model);
    const hnn_layer *x = r.model->input, *b = r.model->layers[1], *d = r.model->layers[2];
    assert_int_equal(x->u.input.n_ranges, 3);
    assert_true(x->u.input.lo == -2 && x->u.input.hi == 4300);
    assert_true(x->range.known && !x->range.tight); /* the hull is no element's range */
    double lo, hi;
    hnn_input_element_range(x, 2, &lo, &hi);
    assert_true(lo == 100 && hi == 4300);
    /* (x - mean) / sqrt(var) per feature: [0, 1], [-1, 1], [0, 4.2] (eps aside), exact. */
    assert_true(b->range.tight);
    assert_true(fabs(b->range.lo + 1) < 1e-5 && fabs(b->range.hi - 4.2) < 1e-5);
    /* 2 [0, 1] - 3 [-2, 2] + 0.001 [100, 4300] + 0.5 = [-5.4, 12.8]. */
    assert_true(fabs(d->range.lo + 5.4) < 1e-12 && fabs(d->range.hi - 12.8) < 1e-12);
    double row[6] = {-1, 3, 50, 0.5, 0, 5000};
    assert_int_equal(hnn_input_clamp(x, row, 2), 4);
    assert_true(row[0] == 0 && row[1] == 2 && row[2] == 100 && row[3] == 0.5 && row[4] == 0 && row[5] == 4300);
    hnn_test_done(&r);

    r = hnn_test_check("model m {\n  input img: image(2, 2, 2) range [[0, 1], [-5, 5]];\n  output img;\n}\n");
    assert_non_null(r.model);
    hnn_input_element_range(r.model->input, 3, &lo, &hi);
    assert_true(lo == 0 && hi == 1);
    hnn_input_element_range(r.model->input, 4, &lo, &hi);
    assert_true(lo == -5 && hi == 5);
    hnn_test_done(&r);

    /* Pairs that are all the same are one range: its bound stays exact. */
    r = hnn_test_check("model m {\n  input x: vector(2) range [[-1, 1], [-1, 1]];\n  output x;\n}\n");
    assert_non_null(r.model);
    assert_true(r.model->input->range.tight);
    hnn_test_done(&r);

    r = hnn_test_check("model m {\n  input x: vector(3) range [[0, 1], [1, 0]];\n  output x;\n}\n");
    assert_null(r.model);
    assert_diag(&r, "t.hnn:2:28: error: 'x' has 3 elements but its range lists 2 pairs");
    hnn_test_done(&r);
    r = hnn_test_check("model m {\n  input x: vector(2) range [[0, 1], [1, 0]];\n  output x;\n}\n");
    assert_null(r.model);
    assert_diag(&r, "t.hnn:2:37: error: pair 2 of the input range must have its low end below its high end");
    hnn_test_done(&r);
}

static void
sema_approximations_and_softargmax(void **state)
{
    (void)state;
    hnn_test_run r = hnn_test_check("model m {\n"
                                    "  input x: vector(3) range [-1, 1];\n"
                                    "  layer a = relu(x, degree 7, interval [-1, 1]);\n"
                                    "  layer b = tanh(a, degree auto, interval [-2, 2]);\n"
                                    "  layer c = poly(b, coeffs [0, 1, 0.5]);\n"
                                    "  output softargmax(c, T 0.25);\n"
                                    "}\n");
    assert_non_null(r.model);
    hnn_layer *a = r.model->layers[1], *b = r.model->layers[2], *c = r.model->layers[3];
    hnn_layer *o = r.model->output;
    assert_int_equal(a->op, HNN_OP_RELU);
    assert_int_equal(a->u.approx.degree, 7);
    assert_int_equal(b->u.approx.degree, 0);
    assert_true(b->u.approx.lo == -2);
    assert_int_equal(c->u.poly.degree, 2);
    assert_int_equal(o->op, HNN_OP_SOFTARGMAX);
    assert_true(o->u.softargmax.temperature == 0.25);
    assert_int_equal(r.model->train.loss, HNN_LOSS_CROSS_ENTROPY); /* default after softargmax */
    assert_string_equal(r.out, "");
    hnn_test_done(&r);
}

static void
sema_hints_and_train(void **state)
{
    (void)state;
    hnn_test_run r = hnn_test_check("model m {\n"
                                    "  input x: vector(2) range [0, 1];\n"
                                    "  output x;\n"
                                    "  hints { packing batch; refresh client; security 192; precision 14 bits;\n"
                                    "          ring 2^15; levels 12; scale 2^45; key_memory 2 GB; batch 1024; }\n"
                                    "  train { loss mse; optimizer sgd(lr 0.5, momentum 0.25); epochs 3; batch 8;\n"
                                    "          learn_T false; seed 11; }\n"
                                    "}\n");
    assert_non_null(r.model);
    const hnn_hints *h = &r.model->hints;
    assert_int_equal(h->packing, HNN_PACKING_BATCH);
    assert_int_equal(h->refresh, HNN_REFRESH_CLIENT);
    assert_int_equal(h->security, 192);
    assert_int_equal(h->precision_bits, 14);
    assert_int_equal(h->ring_dim, 32768);
    assert_int_equal(h->levels, 12);
    assert_true(h->scale_log2 == 45);
    assert_int_equal(h->key_memory_mb, 2048);
    assert_int_equal(h->batch, 1024);
    assert_true(h->set[HNN_HINT_RING]);
    assert_true(h->loc[HNN_HINT_PRECISION].begin > 0);
    const hnn_train *t = &r.model->train;
    assert_true(t->present);
    assert_true(t->lr == 0.5 && t->momentum == 0.25);
    assert_int_equal(t->epochs, 3);
    assert_int_equal(t->batch, 8);
    assert_false(t->learn_temperature);
    assert_int_equal(t->seed, 11);
    hnn_test_done(&r);
}

static void
sema_errors_do_not_cascade(void **state)
{
    (void)state;
    /* One bad layer: its users are not reported again, and nothing is "unused". */
    hnn_test_run r = hnn_test_check("model m {\n"
                                    "  input x: vector(4) range [0, 1];\n"
                                    "  weights none;\n"
                                    "  layer a = dense(x, 0);\n"
                                    "  layer b = dense(a, 2);\n"
                                    "  layer c = add(b, a);\n"
                                    "  output c;\n"
                                    "}\n");
    assert_null(r.model);
    assert_int_equal(hnn_diag_error_count(r.diag), 1);
    assert_int_equal(hnn_diag_warning_count(r.diag), 0);
    hnn_test_done(&r);
}

static void
sema_names(void **state)
{
    (void)state;
    hnn_test_run r = hnn_test_check("model m {\n"
                                    "  input x: vector(4) range [0, 1];\n"
                                    "  weights none;\n"
                                    "  layer first = dense(x, 4);\n"
                                    "  layer second = dense(frist, 4);\n"
                                    "  layer third = add(fourth, first);\n"
                                    "  layer fourth = square(first);\n"
                                    "  layer first = square(x);\n"
                                    "  output third;\n"
                                    "}\n");
    assert_null(r.model);
    assert_diag(&r, "t.hnn:5:24: error: 'frist' is not defined; did you mean 'first'?");
    assert_diag(&r, "t.hnn:6:21: error: 'fourth' is used before it is defined");
    assert_diag(&r, "t.hnn:7:9: note: 'fourth' is defined here");
    assert_diag(&r, "t.hnn:8:9: error: redefinition of 'first'");
    assert_diag(&r, "t.hnn:4:9: note: 'first' was first defined here");
    hnn_test_done(&r);
}

static void
sema_warnings(void **state)
{
    (void)state;
    hnn_test_run r = hnn_test_check("model m {\n"
                                    "  input x: vector(2) range [-4, 4];\n"
                                    "  layer a = sigmoid(x, interval [-3, 3]);\n"
                                    "  layer b = square(x);\n"
                                    "  output a;\n"
                                    "}\n");
    assert_non_null(r.model); /* warnings do not fail the check */
    assert_int_equal(hnn_diag_warning_count(r.diag), 2);
    assert_diag(&r, "warning: the interval [-3, 3] of sigmoid 'a' is narrower than the range of its "
                    "input, [-4, 4]");
    assert_diag(&r, "warning: layer 'b' is never used");
    hnn_test_done(&r);
}

static void
sema_missing_input_and_output(void **state)
{
    (void)state;
    hnn_test_run r = hnn_test_check("model nothing { }");
    assert_null(r.model);
    assert_int_equal(hnn_diag_error_count(r.diag), 2);
    assert_diag(&r, "model 'nothing' has no input");
    assert_diag(&r, "model 'nothing' has no output");
    hnn_test_done(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sema_infers_shapes_through_image_layers),
        cmocka_unit_test(sema_inline_weights_and_bounds),
        cmocka_unit_test(sema_input_element_ranges),
        cmocka_unit_test(sema_approximations_and_softargmax),
        cmocka_unit_test(sema_hints_and_train),
        cmocka_unit_test(sema_errors_do_not_cascade),
        cmocka_unit_test(sema_names),
        cmocka_unit_test(sema_warnings),
        cmocka_unit_test(sema_missing_input_and_output),
    };
    return cmocka_run_group_tests_name("front/sema", tests, NULL, NULL);
}
