/*
 * The plaintext trainer: gradients of every layer kind against central finite
 * differences, bit-for-bit determinism for a seed, a separable problem learnt
 * to a stated accuracy with a falling loss, the weights file read back by the
 * front end and lowered by tir_build to the network that was trained, and
 * data loading.
 */
#include <math.h>
#include <unistd.h>

#include "front_helpers.h"
#include "middle/tir.h"
#include "train/train.h"

/* ---------------------------------------------------------------- helpers */

static double
test_uniform(hnn_train_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * hnn_train_rng_uniform(r);
}

/* n random samples in the model's input range with labels below `classes`
 * (or values in [0, 1] when classes is 0). */
static hnn_train_data
test_random_data(const hnn_model *m, uint32_t n, uint32_t classes, uint64_t seed)
{
    hnn_train_rng r = {seed};
    hnn_train_data d = {.n = n, .n_features = (uint32_t)hnn_shape_count(m->input->shape)};
    d.x = malloc((size_t)n * d.n_features * sizeof *d.x);
    d.label = malloc(n * sizeof *d.label);
    assert_non_null(d.x);
    assert_non_null(d.label);
    for (size_t i = 0; i < (size_t)n * d.n_features; i++)
        d.x[i] = test_uniform(&r, m->input->u.input.lo, m->input->u.input.hi);
    for (uint32_t i = 0; i < n; i++)
        d.label[i] = classes ? (double)hnn_train_rng_below(&r, classes) : test_uniform(&r, 0, 1);
    return d;
}

static double
test_sample_loss(hnn_train_graph *g, const double *x, double label, double *values)
{
    hnn_train_graph_bind(g);
    hnn_train_forward(g, x, values);
    return hnn_train_loss(g, values, label);
}

/*
 * Checks d loss / d theta from the backward pass against central differences
 * for every trainable number, on a few samples: |g - fd| must be within
 * 1e-5 (|g| + |fd|) plus 1e-9 max(1, loss) (the differences' own rounding,
 * about eps loss / h). Returns the worst relative error.
 */
static double
test_gradients(const char *src, uint32_t classes, uint64_t seed)
{
    hnn_test_run r = hnn_test_check(src);
    if (!r.model)
        fail_msg("model does not check:\n%s", r.out);
    hnn_train_graph *g = hnn_train_graph_build(r.model, r.arena, r.diag);
    assert_non_null(g);
    hnn_train_data d = test_random_data(r.model, 16, classes, seed);
    hnn_train_init(g, seed, &d);
    /* Move every parameter off its initial value (zero biases, unit gammas),
     * so that no derivative vanishes by symmetry. */
    hnn_train_rng rng = {seed + 7};
    for (uint32_t t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].trainable)
            for (size_t k = 0; k < g->tensors[t].count; k++)
                g->theta[g->tensors[t].offset + k] += test_uniform(&rng, -0.2, 0.2);
    hnn_train_graph_bind(g);
    double *values = malloc(g->values * sizeof *values);
    double *delta = malloc(g->values * sizeof *delta);
    double *grad = malloc(g->n_theta * sizeof *grad);
    assert_non_null(values);
    assert_non_null(delta);
    assert_non_null(grad);
    double worst = 0;
    size_t checked = 0;
    for (uint32_t s = 0; s < 3; s++) {
        const double *x = d.x + (size_t)s * d.n_features;
        memset(grad, 0, g->n_theta * sizeof *grad);
        hnn_train_forward(g, x, values);
        double loss = hnn_train_backward(g, values, d.label[s], delta, grad);
        assert_true(fabs(loss - hnn_train_loss(g, values, d.label[s])) <= 1e-12 * fmax(1, fabs(loss)));
        for (uint32_t t = 0; t < g->n_tensors; t++) {
            const hnn_train_tensor *tt = &g->tensors[t];
            if (!tt->trainable)
                continue;
            for (size_t k = 0; k < tt->count; k++) {
                double *p = &g->theta[tt->offset + k], keep = *p;
                double h = 1e-5 * fmax(1, fabs(keep));
                *p = keep + h;
                double up = test_sample_loss(g, x, d.label[s], values);
                *p = keep - h;
                double down = test_sample_loss(g, x, d.label[s], values);
                *p = keep;
                double fd = (up - down) / (2 * h), an = grad[tt->offset + k];
                double err = fabs(an - fd) / fmax(fabs(an) + fabs(fd), 1e-300);
                if (err > worst && fabs(an) + fabs(fd) > 1e-6)
                    worst = err;
                if (fabs(an - fd) > 1e-5 * (fabs(an) + fabs(fd)) + 1e-9 * fmax(1, fabs(loss)))
                    fail_msg("%s.%s[%zu]: backward %.10g, finite differences %.10g", tt->layer->name, tt->key,
                             k, an, fd);
                checked++;
            }
        }
        hnn_train_graph_bind(g);
    }
    assert_true(checked > 0);
    print_message("  measured gradients of %s: %zu checks, worst relative error %.2g\n", r.model->name, checked,
                  worst);
    free(grad);
    free(delta);
    free(values);
    hnn_train_data_free(&d);
    hnn_test_done(&r);
    return worst;
}

/* ---------------------------------------------------------------- gradients */

static void
gradients_dense_mse(void **state)
{
    (void)state;
    test_gradients("model dense { input x: vector(5) range [-1, 1]; weights none;"
                   " layer h = dense(x, 4); layer o = dense(h, 3); output o; train { loss mse; } }", 3, 1);
}

static void
gradients_dense_single_output_mse(void **state)
{
    (void)state;
    test_gradients("model m { input x: vector(3) range [-2, 2]; weights none;"
                   " layer o = dense(x, 1); output o; }", 0, 2);
}

static void
gradients_conv2d_stride_padding(void **state)
{
    (void)state;
    test_gradients("model m { input x: image(2, 6, 7) range [0, 1]; weights none;"
                   " layer c = conv2d(x, 3, kernel [3, 2], stride [2, 1], padding [1, 1]);"
                   " layer f = flatten(); layer o = dense(f, 2); output o; train { loss mse; } }", 2, 3);
}

static void
gradients_avgpool_sumpool(void **state)
{
    (void)state;
    test_gradients("model m { input x: image(1, 6, 6) range [-1, 1]; weights none;"
                   " layer c = conv2d(x, 2, kernel 3, padding 1);"
                   " layer a = avgpool(c, kernel 2);"
                   " layer s = sumpool(a, kernel 2, stride 1, padding 1);"
                   " layer f = flatten(); layer o = dense(f, 3); output softargmax(o); }", 3, 4);
}

static void
gradients_batchnorm(void **state)
{
    (void)state;
    test_gradients("model m { input x: vector(4) range [-1, 3]; weights none;"
                   " layer h = dense(x, 5); layer bn = batchnorm(h); layer sq = square();"
                   " layer o = dense(sq, 2); output o; train { loss mse; } }", 2, 5);
    test_gradients("model m { input x: image(2, 4, 4) range [0, 1]; weights none;"
                   " layer c = conv2d(x, 3, kernel 3); layer bn = batchnorm(c);"
                   " layer f = flatten(); layer o = dense(f, 2); output softargmax(o, T 0.5); }", 2, 6);
}

static void
gradients_square_and_poly(void **state)
{
    (void)state;
    test_gradients("model m { input x: vector(3) range [-1, 1]; weights none;"
                   " layer h = dense(x, 4); layer sq = square();"
                   " layer h2 = dense(sq, 4); layer p = poly(h2, coeffs [0.1, 0.5, 0.25, -0.05]);"
                   " layer o = dense(p, 3); output softargmax(o, T 2); }", 3, 7);
}

static void
gradients_approximations(void **state)
{
    (void)state;
    test_gradients("model m { input x: vector(3) range [-1, 1]; weights none;"
                   " layer h = dense(x, 4); layer r = relu(h, degree 7, interval [-4, 4]);"
                   " layer h2 = dense(r, 4); layer s = sigmoid(h2, degree 5, interval [-6, 6]);"
                   " layer h3 = dense(s, 4); layer t = tanh(h3, interval [-3, 3]);"
                   " layer h4 = dense(t, 3); layer ge = gelu(h4, degree 8, interval [-3, 3]);"
                   " layer e = exp(ge, degree 6, interval [-2, 2]);"
                   " layer o = dense(e, 2); output o; train { loss mse; } }", 2, 8);
}

static void
gradients_add(void **state)
{
    (void)state;
    test_gradients("model m { input x: vector(4) range [-1, 1]; weights none;"
                   " layer a = dense(x, 4); layer sq = square(a); layer b = dense(sq, 4);"
                   " layer r = add(b, a); layer o = dense(r, 3); output softargmax(o); }", 3, 9);
}

static void
gradients_softargmax_cross_entropy_and_mse(void **state)
{
    (void)state;
    /* T learnt (the default), T fixed, mse on the probabilities, and
     * cross-entropy on raw logits. */
    test_gradients("model m { input x: vector(3) range [-2, 2]; weights none;"
                   " layer o = dense(x, 4); output softargmax(o, T 0.3); }", 4, 10);
    test_gradients("model m { input x: vector(3) range [-2, 2]; weights none;"
                   " layer o = dense(x, 4); output softargmax(o, T 0.3); train { learn_T false; } }", 4, 11);
    test_gradients("model m { input x: vector(3) range [-2, 2]; weights none;"
                   " layer o = dense(x, 3); output softargmax(o, T 0.7); train { loss mse; } }", 3, 12);
    test_gradients("model m { input x: vector(3) range [-2, 2]; weights none;"
                   " layer o = dense(x, 3); output o; train { loss cross_entropy; } }", 3, 13);
}

static void
cheb_derivative_matches_the_polynomial(void **state)
{
    (void)state;
    /* The training graph's p' of a fitted sigmoid against differences of p. */
    hnn_test_run r = hnn_test_check("model m { input x: vector(1) range [-5, 5]; weights none;"
                                    " layer s = sigmoid(x, degree 9, interval [-5, 5]); output s; }");
    assert_non_null(r.model);
    hnn_train_graph *g = hnn_train_graph_build(r.model, r.arena, r.diag);
    assert_non_null(g);
    const hnn_tir_node *n = g->tir->output;
    assert_int_equal(n->kind, HNN_TIR_POLY);
    for (double x = -6; x <= 6; x += 0.37) {
        double h = 1e-5, fd = (hnn_cheb_eval(&n->u.poly.cheb, x + h) - hnn_cheb_eval(&n->u.poly.cheb, x - h)) / (2 * h);
        assert_true(fabs(hnn_cheb_eval(&g->aux[n->id].dcheb, x) - fd) < 1e-7);
    }
    hnn_test_done(&r);
}

/* ---------------------------------------------------------------- training */

/* Three classes in the plane, Gaussian blobs at the corners of a triangle:
 * separable with a wide margin. */
static hnn_train_data
test_blobs(uint32_t n, uint64_t seed)
{
    static const double centre[3][2] = {{-1.2, -0.8}, {1.2, -0.8}, {0, 1.2}};
    hnn_train_rng r = {seed};
    hnn_train_data d = {.n = n, .n_features = 2, .n_classes = 3};
    d.x = malloc((size_t)n * 2 * sizeof *d.x);
    d.label = malloc(n * sizeof *d.label);
    assert_non_null(d.x);
    assert_non_null(d.label);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = i % 3;
        for (int k = 0; k < 2; k++) {
            /* Box-Muller, sigma 0.35 */
            double u1 = hnn_train_rng_uniform(&r), u2 = hnn_train_rng_uniform(&r);
            double z = sqrt(-2 * log(1 - u1)) * cos(6.283185307179586 * u2);
            d.x[2 * i + k] = centre[c][k] + 0.35 * z;
        }
        d.label[i] = c;
    }
    return d;
}

static const char *blob_model =
    "model blobs { input x: vector(2) range [-3, 3]; weights none;"
    " layer h = dense(x, 8); layer a = poly(h, coeffs [0, 0.5, 0.25]);"
    " layer o = dense(a, 3); output softargmax(o, T 1);"
    " train { loss cross_entropy; optimizer sgd(lr 0.05, momentum 0.9); epochs 20; batch 16; seed 5; } }";

/* Trains blob_model with `seed`; returns the weights text (malloc'd). */
static char *
test_train_blobs(uint64_t seed, hnn_train_result *res, double *initial_loss)
{
    hnn_test_run r = hnn_test_check(blob_model);
    assert_non_null(r.model);
    hnn_train_graph *g = hnn_train_graph_build(r.model, r.arena, r.diag);
    assert_non_null(g);
    hnn_train_data train = test_blobs(300, 100), test = test_blobs(150, 200);
    hnn_train_options o = hnn_train_default_options(r.model);
    o.seed = seed;
    o.test = &test;
    hnn_train_init(g, o.seed, &train);
    double acc;
    hnn_train_evaluate(g, &train, initial_loss, &acc);
    assert_true(hnn_train_sgd(g, &train, &o, r.diag, res));
    char *text = hnn_train_weights_text(g);
    hnn_train_data_free(&train);
    hnn_train_data_free(&test);
    hnn_test_done(&r);
    return text;
}

static void
training_learns_a_separable_problem(void **state)
{
    (void)state;
    hnn_train_result res;
    double initial;
    free(test_train_blobs(5, &res, &initial));
    print_message("  measured blobs: loss %.4f before, %.4f after epoch 1, %.4f after %u epochs; "
                  "accuracy %.2f%% train, %.2f%% test\n", initial, res.first_loss, res.loss, res.epochs,
                  100 * res.accuracy, 100 * res.test_accuracy);
    assert_true(res.loss < res.first_loss);
    assert_true(res.first_loss < initial);
    assert_true(res.accuracy >= 0.95);
    assert_true(res.test_accuracy >= 0.95);
}

static void
training_is_deterministic(void **state)
{
    (void)state;
    hnn_train_result res;
    double initial;
    char *a = test_train_blobs(5, &res, &initial);
    char *b = test_train_blobs(5, &res, &initial);
    char *c = test_train_blobs(6, &res, &initial);
    assert_string_equal(a, b);
    assert_true(strcmp(a, c) != 0);
    free(a);
    free(b);
    free(c);
}

/* Trains blob_model from its seed with the given schedule; returns a copy of
 * the parameters (n_theta of them) and the final training accuracy. */
static double *
train_blobs(uint32_t epochs, double lr_decay, double weight_decay, size_t *n_theta, double *accuracy)
{
    hnn_test_run r = hnn_test_check(blob_model);
    assert_non_null(r.model);
    hnn_train_graph *g = hnn_train_graph_build(r.model, r.arena, r.diag);
    assert_non_null(g);
    hnn_train_data train = test_blobs(120, 100);
    hnn_train_options o = hnn_train_default_options(r.model);
    assert_true(o.lr_decay == 1 && o.weight_decay == 0);
    o.epochs = epochs;
    o.lr_decay = lr_decay;
    o.weight_decay = weight_decay;
    hnn_train_init(g, o.seed, &train);
    hnn_train_result res;
    assert_true(hnn_train_sgd(g, &train, &o, r.diag, &res));
    *n_theta = g->n_theta;
    *accuracy = res.accuracy;
    double *theta = malloc(g->n_theta * sizeof *theta);
    assert_non_null(theta);
    memcpy(theta, g->theta, g->n_theta * sizeof *theta);
    hnn_train_data_free(&train);
    hnn_test_done(&r);
    return theta;
}

/* lr_decay scales the step of each epoch after the first: with a vanishing
 * lr_decay, a second epoch moves nothing; the first epoch is untouched. */
static void
decay_scales_the_step_of_later_epochs(void **state)
{
    (void)state;
    size_t n_theta;
    double accuracy;
    double *one = train_blobs(1, 1, 0, &n_theta, &accuracy);
    double *one_decayed = train_blobs(1, 1e-30, 0, &n_theta, &accuracy);
    double *two_decayed = train_blobs(2, 1e-30, 0, &n_theta, &accuracy);
    for (size_t k = 0; k < n_theta; k++) {
        assert_true(one[k] == one_decayed[k]);
        assert_true(fabs(two_decayed[k] - one_decayed[k]) <= 1e-12 * (1 + fabs(one_decayed[k])));
    }
    free(one);
    free(one_decayed);
    free(two_decayed);
}

/* weight_decay pulls the weights toward zero: the trained weights are
 * smaller in norm than without it, from the same seed and data. */
static void
weight_decay_shrinks_the_weights(void **state)
{
    (void)state;
    double norm[2];
    for (int run = 0; run < 2; run++) {
        size_t n_theta;
        double accuracy, weight_decay = run ? 0.005 : 0;
        double *theta = train_blobs(5, 1, weight_decay, &n_theta, &accuracy);
        norm[run] = 0;
        for (size_t k = 0; k + 1 < n_theta; k++) /* the last is the learnt T */
            norm[run] += theta[k] * theta[k];
        print_message("  weight_decay %g: accuracy %.2f%%\n", weight_decay, 100 * accuracy);
        assert_true(accuracy >= 0.95);
        free(theta);
    }
    print_message("  weight norm %.3f without weight decay, %.3f with 0.005\n", sqrt(norm[0]), sqrt(norm[1]));
    assert_true(norm[1] < 0.98 * norm[0]);
}

static void
rng_is_splitmix64(void **state)
{
    (void)state;
    /* Reference values of splitmix64 from state 0 (Vigna's splitmix64.c). */
    hnn_train_rng r = {0};
    assert_true(hnn_train_rng_next(&r) == 0xe220a8397b1dcdafull);
    assert_true(hnn_train_rng_next(&r) == 0x6e789e6aa1b965f4ull);
    for (int i = 0; i < 1000; i++)
        assert_true(hnn_train_rng_below(&r, 7) < 7);
}

/* ---------------------------------------------------------------- weights file */

static void
weights_read_back_and_lower_to_the_trained_network(void **state)
{
    (void)state;
    const char *src =
        "model w { input x: image(1, 5, 5) range [0, 1]; weights none;"
        " layer c = conv2d(x, 2, kernel 3, padding 1); layer bn = batchnorm(c); layer sq = square();"
        " layer p = avgpool(sq, kernel 2); layer f = flatten();"
        " layer h = dense(f, 4, bias [0.5, 0, 0, -0.5]); layer r = relu(h, degree 6, interval [-8, 8]);"
        " layer o = dense(r, 3); output softargmax(o, T 0.8); train { epochs 2; batch 4; } }";
    hnn_test_run r = hnn_test_check(src);
    assert_non_null(r.model);
    hnn_train_graph *g = hnn_train_graph_build(r.model, r.arena, r.diag);
    assert_non_null(g);
    hnn_train_data d = test_random_data(r.model, 24, 3, 77);
    hnn_train_options o = hnn_train_default_options(r.model);
    hnn_train_init(g, o.seed, &d);
    hnn_train_result res;
    assert_true(hnn_train_sgd(g, &d, &o, r.diag, &res));
    /* The inline bias is not trained and not written. */
    assert_false(hnn_train_graph_tensor(g, "h", "bias")->trainable);
    assert_true(hnn_train_graph_tensor(g, "h", "bias")->inline_values);
    char path[] = "/tmp/hnn-train-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_true(hnn_train_write_weights(g, path, r.diag));

    hnn_arena *arena = hnn_arena_new();
    hnn_diag *diag = hnn_diag_new();
    hnn_front_options fo = {.weights_path = path};
    hnn_model *m = hnn_front_check_text("w.hnn", src, strlen(src), "", &fo, arena, diag, NULL);
    char *msgs = hnn_test_diag_text(diag);
    if (!m || hnn_diag_warning_count(diag))
        fail_msg("the weights do not read back cleanly:\n%s", msgs);
    free(msgs);
    assert_true(m->has_values);
    hnn_tir *tir = hnn_tir_build(m, arena, diag);
    assert_non_null(tir);
    double *scratch = malloc(hnn_tir_eval_scratch(tir) * sizeof *scratch);
    double *values = malloc(g->values * sizeof *values);
    double y[3];
    assert_non_null(scratch);
    assert_non_null(values);
    for (uint32_t s = 0; s < d.n; s++) {
        const double *x = d.x + (size_t)s * d.n_features;
        hnn_tir_eval(tir, x, y, scratch);
        hnn_train_forward(g, x, values);
        const double *p = values + g->offset[g->tir->output->id];
        for (int k = 0; k < 3; k++)
            assert_true(fabs(y[k] - p[k]) <= 1e-9);
    }
    free(values);
    free(scratch);
    hnn_diag_free(diag);
    hnn_arena_free(arena);
    unlink(path);
    hnn_train_data_free(&d);
    hnn_test_done(&r);
}

/* ---------------------------------------------------------------- data */

static void
csv_names_and_test_numbering(void **state)
{
    (void)state;
    hnn_test_run r = hnn_test_check("model m { input x: vector(2) range [0, 10]; weights none;"
                                    " layer o = dense(x, 2); output softargmax(o); }");
    assert_non_null(r.model);
    char train[] = "/tmp/hnn-train-csv-XXXXXX", test[] = "/tmp/hnn-train-csv-XXXXXX";
    int fd = mkstemp(train);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("1,2,virginica\n3,4,setosa\n5,6,virginica\n", f);
    fclose(f);
    fd = mkstemp(test);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("7,8,setosa\n9,10,virginica\n", f); /* another first class: renumbered */
    fclose(f);
    hnn_train_data d, t;
    assert_true(hnn_train_data_load(train, NULL, r.model, NULL, &d));
    assert_int_equal(d.n, 3);
    assert_int_equal(d.n_features, 2);
    assert_int_equal(d.n_classes, 2);
    assert_string_equal(d.class_names[0], "virginica");
    assert_true(d.label[0] == 0 && d.label[1] == 1 && d.label[2] == 0);
    assert_true(d.x[2] == 3 && d.x[3] == 4);
    assert_true(hnn_train_data_load(test, NULL, r.model, &d, &t));
    assert_true(t.label[0] == 1 && t.label[1] == 0);
    hnn_train_data_free(&t);
    f = fopen(test, "w");
    fputs("7,8,setosa\n9,10,versicolor\n", f);
    fclose(f);
    assert_false(hnn_train_data_load(test, NULL, r.model, &d, &t));
    f = fopen(test, "w");
    fputs("7,8\n9,1\n", f);
    fclose(f);
    assert_false(hnn_train_data_load(test, NULL, r.model, NULL, &t)); /* no labels */
    hnn_train_data_free(&d);
    unlink(train);
    unlink(test);
    hnn_test_done(&r);
}

static void
graph_refuses_what_training_cannot_do(void **state)
{
    (void)state;
    hnn_test_run r = hnn_test_check("model m { input x: vector(3) range [0, 1]; weights none;"
                                    " layer o = dense(x, 1); output o; train { loss cross_entropy; } }");
    assert_non_null(r.model);
    assert_null(hnn_train_graph_build(r.model, r.arena, r.diag));
    assert_true(hnn_diag_error_count(r.diag) == 1);
    hnn_test_done(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gradients_dense_mse),
        cmocka_unit_test(gradients_dense_single_output_mse),
        cmocka_unit_test(gradients_conv2d_stride_padding),
        cmocka_unit_test(gradients_avgpool_sumpool),
        cmocka_unit_test(gradients_batchnorm),
        cmocka_unit_test(gradients_square_and_poly),
        cmocka_unit_test(gradients_approximations),
        cmocka_unit_test(gradients_add),
        cmocka_unit_test(gradients_softargmax_cross_entropy_and_mse),
        cmocka_unit_test(cheb_derivative_matches_the_polynomial),
        cmocka_unit_test(training_learns_a_separable_problem),
        cmocka_unit_test(training_is_deterministic),
        cmocka_unit_test(decay_scales_the_step_of_later_epochs),
        cmocka_unit_test(weight_decay_shrinks_the_weights),
        cmocka_unit_test(rng_is_splitmix64),
        cmocka_unit_test(weights_read_back_and_lower_to_the_trained_network),
        cmocka_unit_test(csv_names_and_test_numbering),
        cmocka_unit_test(graph_refuses_what_training_cannot_do),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
