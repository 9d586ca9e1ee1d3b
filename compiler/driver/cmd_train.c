/* hnnc train: plaintext training of a model as its circuit computes it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/driver.h"
#include "front/bug.h"
#include "front/front.h"
#include "front/print.h"
#include "train/train.h"

static void
hnn_train_help(FILE *out)
{
    fputs("usage: hnnc train MODEL.hnn --data FILE -o WEIGHTS.json [options]\n\n"
          "Trains the model in plaintext exactly as the circuit will compute it: approximated\n"
          "activations are their fitted polynomials, not the functions they approximate. Follows\n"
          "the model's train block (loss, sgd(lr, momentum), epochs, batch, learn_T, seed) and\n"
          "writes a weights file that the model can name or `hnnc check --weights` read. A model\n"
          "with `weights none` starts from random weights drawn from the seed; one with weights\n"
          "starts from them. Prints the loss and accuracy after every epoch.\n\n"
          "The data is CSV (one sample per line, the input's values then the label: a class\n"
          "index, or a name, numbered in order of first appearance) or IDX images with an IDX\n"
          "label file, as for `hnnc run`.\n\n"
          "options:\n"
          "  --data FILE     the training data (required)\n"
          "  -o FILE         where to write the weights (required)\n"
          "  --labels FILE   the IDX label file of the training images\n"
          "  --test FILE     also report loss and accuracy on FILE after every epoch\n"
          "  --test-labels FILE  the IDX label file of the test images\n"
          "  --seed S        the seed (0 to 2^53), instead of the train block's\n"
          "  --epochs N      the number of epochs, instead of the train block's\n"
          "  --from-scratch  ignore the model's weights file and start from random weights drawn\n"
          "                  from the seed (how an example's weights are reproduced)\n"
          "  --print-range   print a range clause for the input from the training data and stop:\n"
          "                  per element (per channel of an image), [min, max] widened by the\n"
          "                  margin on each side, not below 0 where the data is never negative\n"
          "  --margin F      that margin, a fraction of max - min (default 0.05)\n"
          "  -q, --quiet     print only the final summary\n"
          "  -h, --help      print this help\n\n"
          "Same seed, same data, same weights, bit for bit. See docs/training.md.\n\n"
          "Exit status: 0 on success, 1 when the model or the data has an error or training\n"
          "diverges, 2 for bad usage.\n", out);
}

static bool
hnn_train_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v > max)
        return false;
    *out = v;
    return true;
}

typedef struct hnn_train_cli {
    const char *model, *data, *out, *test, *labels, *test_labels;
    bool seed_set, epochs_set, quiet, scratch, print_range;
    uint64_t seed, epochs;
    double margin;
} hnn_train_cli;

static int
hnn_train_parse(int argc, char **argv, hnn_train_cli *c)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        bool missing = false;
        if (arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (c->model)
                return hnn_driver_usage_error("train", "one model at a time ('%s' and '%s' given)", c->model, arg);
            c->model = arg;
        } else if (hnn_driver_is_help(arg)) {
            hnn_train_help(stdout);
            return -1;
        } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
            c->quiet = true;
        } else if (strcmp(arg, "--from-scratch") == 0) {
            c->scratch = true;
        } else if (strcmp(arg, "--print-range") == 0) {
            c->print_range = true;
        } else if (hnn_driver_opt(argc, argv, &i, "--margin", &value, &missing)) {
            char *end = NULL;
            c->margin = missing ? -1 : strtod(value, &end);
            if (missing || !*value || *end || !(c->margin >= 0 && c->margin <= 10))
                return hnn_driver_usage_error("train", "--margin needs a number from 0 to 10");
        } else if (hnn_driver_opt(argc, argv, &i, "--data", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("train", "--data needs a file name");
            c->data = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--labels", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("train", "--labels needs a file name");
            c->labels = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--test-labels", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("train", "--test-labels needs a file name");
            c->test_labels = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--test", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("train", "--test needs a file name");
            c->test = value;
        } else if (hnn_driver_opt(argc, argv, &i, "-o", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("train", "-o needs a file name");
            c->out = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--seed", &value, &missing)) {
            if (missing || !hnn_train_parse_u64(value, (uint64_t)1 << 53, &c->seed))
                return hnn_driver_usage_error("train", "--seed needs a whole number from 0 to 2^53");
            c->seed_set = true;
        } else if (hnn_driver_opt(argc, argv, &i, "--epochs", &value, &missing)) {
            if (missing || !hnn_train_parse_u64(value, 1000000, &c->epochs) || c->epochs == 0)
                return hnn_driver_usage_error("train", "--epochs needs a whole number from 1 to 1000000");
            c->epochs_set = true;
        } else {
            return hnn_driver_usage_error("train", "unknown option '%s'", arg);
        }
    }
    if (!c->model)
        return hnn_driver_usage_error("train", "no model file given");
    if (!c->data)
        return hnn_driver_usage_error("train", "no training data given (--data FILE)");
    if (!c->out && !c->print_range)
        return hnn_driver_usage_error("train", "no output file given (-o WEIGHTS.json)");
    return HNN_EXIT_OK;
}

static void
hnn_train_warn_range(const hnn_model *m, const char *file, size_t outside)
{
    if (outside)
        fprintf(stderr, "hnnc: warning: %zu value%s in '%s' %s outside the input range of '%s'; clamped to it, "
                "as the encoder does\n", outside, outside == 1 ? "" : "s", file, outside == 1 ? "lies" : "lie",
                m->input->name);
}

/* The data has the model's width (the loader checked), and is not clamped yet. */
static void
hnn_train_print_range(const hnn_model *m, const hnn_train_data *d, double margin)
{
    size_t parts = m->input->shape.dim[0];
    double *lo = malloc(parts * sizeof *lo), *hi = malloc(parts * sizeof *hi);
    if (!lo || !hi)
        hnn_fatal_oom();
    hnn_train_data_ranges(m, d, margin, lo, hi);
    hnn_print_input_range(stdout, lo, hi, parts);
    putchar('\n');
    free(lo);
    free(hi);
}

static int
hnn_train_session(const hnn_train_cli *c, hnn_driver_session *ses)
{
    /* Opening no weights file makes the model's file count as `weights none`. */
    hnn_front_options fo = {.no_io = c->scratch};
    hnn_model *m = hnn_front_check_file(c->model, &fo, ses->arena, ses->diag, NULL);
    if (!m)
        return HNN_EXIT_USER;
    hnn_train_graph *g = hnn_train_graph_build(m, ses->arena, ses->diag);
    if (!g)
        return HNN_EXIT_USER;
    hnn_train_data data, test = {0};
    if (!hnn_train_data_load(c->data, c->labels, m, NULL, &data))
        return HNN_EXIT_USER;
    if (c->print_range) {
        hnn_train_print_range(m, &data, c->margin);
        hnn_train_data_free(&data);
        return HNN_EXIT_OK;
    }
    int status = HNN_EXIT_USER;
    size_t outside = 0;
    if (!hnn_train_data_check(g, &data, c->data, ses->diag, &outside))
        goto done;
    hnn_train_warn_range(m, c->data, outside);
    if (c->test) {
        if (!hnn_train_data_load(c->test, c->test_labels, m, &data, &test) ||
            !hnn_train_data_check(g, &test, c->test, ses->diag, &outside))
            goto done;
        hnn_train_warn_range(m, c->test, outside);
    }
    hnn_train_options o = hnn_train_default_options(m);
    if (c->seed_set)
        o.seed = c->seed;
    if (c->epochs_set)
        o.epochs = (uint32_t)c->epochs;
    o.test = c->test ? &test : NULL;
    o.log = c->quiet ? NULL : stdout;
    o.progress = !c->quiet && isatty(fileno(stderr)) ? stderr : NULL;
    hnn_train_init(g, o.seed, &data);
    if (!c->quiet)
        printf("training %s: %zu parameters, %u samples, %u epochs, batch %u, sgd(lr %g, momentum %g, "
               "lr_decay %g, weight_decay %g), loss %s, seed %llu\n", m->name, g->n_theta, data.n, o.epochs, o.batch,
               o.lr, o.momentum, o.lr_decay, o.weight_decay,
               g->loss == HNN_LOSS_MSE ? "mse" : "cross_entropy", (unsigned long long)o.seed);
    hnn_train_result r;
    if (!hnn_train_sgd(g, &data, &o, ses->diag, &r))
        goto done;
    if (!hnn_train_write_weights(g, c->out, ses->diag))
        goto done;
    printf("wrote %s: loss %.6f, accuracy %.2f%%", c->out, r.loss, 100 * r.accuracy);
    if (c->test)
        printf(", test accuracy %.2f%% (%s)", 100 * r.test_accuracy, c->test);
    putchar('\n');
    status = HNN_EXIT_OK;
done:
    hnn_train_data_free(&test);
    hnn_train_data_free(&data);
    return status;
}

static int
hnn_train_run(int argc, char **argv)
{
    hnn_train_cli c = {.margin = 0.05};
    int status = hnn_train_parse(argc, argv, &c);
    if (status < 0)
        return HNN_EXIT_OK;
    if (status != HNN_EXIT_OK)
        return status;
    hnn_driver_session ses;
    if (!hnn_driver_session_open(&ses))
        return HNN_EXIT_USER;
    status = hnn_train_session(&c, &ses);
    return hnn_driver_session_close(&ses, status);
}

const hnn_driver_cmd hnn_driver_cmd_train = {
    .name = "train",
    .summary = "train a model in plaintext, as its circuit computes it; write its weights",
    .run = hnn_train_run,
    .help = hnn_train_help,
};
