/* Performance: parsing and checking a generated 10,000-layer model takes well
 * under a second (asserted below 1 s; it takes a few milliseconds). */
#include <time.h>

#include "front_helpers.h"

enum { LAYERS = 10000 };

static char *
generate(void)
{
    size_t cap = (size_t)LAYERS * 96 + 1024, n = 0;
    char *src = malloc(cap);
    n += (size_t)snprintf(src + n, cap - n, "model big {\n  input x: vector(16) range [-1, 1];\n"
                                            "  weights none;\n");
    for (int i = 0; i < LAYERS; i++) {
        switch (i % 4) {
        case 0:
            /* sequential style: no input named, the previous layer is used */
            n += (size_t)snprintf(src + n, cap - n, "  layer l%d = dense(%s16);\n", i, i ? "" : "x, ");
            break;
        case 1:
            n += (size_t)snprintf(src + n, cap - n, "  layer l%d = poly(l%d, coeffs [0, 1, 0.5]);\n", i,
                                  i - 1);
            break;
        case 2:
            n += (size_t)snprintf(src + n, cap - n, "  layer l%d = add(l%d, l%d);\n", i, i - 1, i - 2);
            break;
        default:
            n += (size_t)snprintf(src + n, cap - n, "  layer l%d = relu(interval [-8, 8], degree 15);\n", i);
            break;
        }
    }
    snprintf(src + n, cap - n, "  output l%d;\n  hints { packing vector; }\n}\n", LAYERS - 1);
    return src;
}

static double
seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void
perf_ten_thousand_layers(void **state)
{
    (void)state;
    char *src = generate();
    double t0 = seconds();
    hnn_test_run r = hnn_test_check(src);
    double dt = seconds() - t0;
    if (!r.model)
        fail_msg("the generated model does not check:\n%.2000s", r.out);
    assert_int_equal(r.model->n_layers, LAYERS + 1);
    assert_int_equal(r.model->output->index, LAYERS);
    print_message("parse + check of %d layers: %.1f ms\n", LAYERS, dt * 1e3);
    assert_true(dt < 1.0);
    hnn_test_done(&r);
    free(src);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(perf_ten_thousand_layers),
    };
    return cmocka_run_group_tests_name("front/perf", tests, NULL, NULL);
}
