/* hnnc run: the interpreter over a data set. Plans the model, generates keys,
 * encrypts the samples, evaluates the plan on libhnnrt, decrypts, and
 * compares with the same polynomial network on doubles: accuracy, agreement,
 * error and measured precision against the estimate, time and memory. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "back/data.h"
#include "back/exec.h"
#include "driver/driver.h"
#include "front/front.h"
#include "middle/plan.h"
#include "middle/precision.h"

static void
hnn_run_help(FILE *out)
{
    fputs("usage: hnnc run MODEL.hnn --data FILE [options]\n\n"
          "Runs the model encrypted on a data set: plans it, generates keys, encrypts the\n"
          "samples, evaluates the circuit (batch packing: one evaluation per batch of samples;\n"
          "vector packing: one per sample), decrypts, and evaluates the same polynomial network\n"
          "on doubles. Prints the samples, the accuracy of the encrypted and the plaintext\n"
          "predictions against the labels, their agreement, the max absolute error of the\n"
          "outputs, the measured precision (-log2 of that error) against the estimate, the\n"
          "key-generation time, the latency, refresh round trips and peak memory.\n\n"
          "options:\n"
          "  --data FILE        CSV (features, label last, optional header) or IDX images\n"
          "  --labels FILE      IDX labels for IDX images\n"
          "  --limit N          the first N samples only\n"
          "  --threads T        runtime threads (default: HNNRT_THREADS, else every core)\n"
          "  --threshold X      single-output models: class 1 when the output is above X\n"
          "                     (default 0.5 after a sigmoid output layer, else 0)\n"
          "  --outputs FILE     write the decrypted outputs, one sample per line (CSV)\n"
          "  --weights FILE     read the weights from FILE instead of the model's weights file\n"
          "  --json             print the results as one JSON object\n"
          "  -h, --help         print this help\n\n"
          "Predictions are the argmax of the outputs (the logits, before a softargmax). The\n"
          "latency is the time of one evaluation (a batch in batch packing), the amortised\n"
          "figure that divided by its samples. See docs/commands.md.\n\n"
          "Exit status: 0 on success, 1 when the model or the data has an error, 2 for bad usage.\n",
          out);
}

static double
run_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double
peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

static bool
parse_count(const char *s, unsigned long long max, unsigned long long *v)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return false;
    *v = strtoull(s, &end, 10);
    return *end == '\0' && errno == 0 && *v >= 1 && *v <= max;
}

/* The class a sample's outputs predict: the argmax, or for one output the
 * side of the threshold. */
static int64_t
predict(const double *y, uint32_t n, double threshold)
{
    if (n == 1)
        return y[0] > threshold;
    uint32_t best = 0;
    for (uint32_t k = 1; k < n; k++)
        if (y[k] > y[best])
            best = k;
    return best;
}

static void
progress(size_t done, size_t total)
{
    int width = 40, fill = (int)((double)width * (double)done / (double)total);
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu samples", fill, "========================================", width - fill,
            "", done, total);
    if (done == total)
        fputs("\n", stderr);
    fflush(stderr);
}

static void
json_number(FILE *out, const char *key, double v, bool last)
{
    if (isfinite(v))
        fprintf(out, "  \"%s\": %.6g%s\n", key, v, last ? "" : ",");
    else
        fprintf(out, "  \"%s\": null%s\n", key, last ? "" : ",");
}

static void
json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

typedef struct run_opts {
    const char *model, *data, *labels, *weights, *outputs;
    unsigned long long limit, threads;
    bool json, has_threshold;
    double threshold;
} run_opts;

typedef struct run_result {
    size_t samples, labelled, correct_enc, correct_plain, agree;
    size_t clamped_values, clamped_samples;
    /* Approximated activations: samples whose plaintext values put some
     * activation's input outside its interval, and the widest excursion
     * (|value| over the interval's half-width, at layer `worst`). */
    size_t fitted, outside_samples;
    double worst_excess;
    const hnn_tir_node *worst;
    double max_abs_error, keygen_ms, peak_rss_mb;
    hnn_exec_stats st;
    double threshold;
} run_result;

static int
run_parse(int argc, char **argv, run_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        bool missing = false;
        if (arg[0] != '-') {
            if (o->model)
                return hnn_driver_usage_error("run", "one model at a time ('%s' and '%s' given)", o->model, arg);
            o->model = arg;
        } else if (hnn_driver_is_help(arg)) {
            hnn_run_help(stdout);
            return -1;
        } else if (hnn_driver_opt(argc, argv, &i, "--json", NULL, NULL)) {
            o->json = true;
        } else if (hnn_driver_opt(argc, argv, &i, "--data", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("run", "--data needs a file name");
            o->data = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--labels", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("run", "--labels needs a file name");
            o->labels = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--outputs", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("run", "--outputs needs a file name");
            o->outputs = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--weights", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("run", "--weights needs a file name");
            o->weights = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--limit", &value, &missing)) {
            if (missing || !parse_count(value, 1ull << 40, &o->limit))
                return hnn_driver_usage_error("run", "--limit needs a positive number of samples");
        } else if (hnn_driver_opt(argc, argv, &i, "--threads", &value, &missing)) {
            if (missing || !parse_count(value, 1024, &o->threads))
                return hnn_driver_usage_error("run", "--threads needs a number from 1 to 1024");
        } else if (hnn_driver_opt(argc, argv, &i, "--threshold", &value, &missing)) {
            char *end;
            if (missing || !value[0] || (o->threshold = strtod(value, &end), *end) || !isfinite(o->threshold))
                return hnn_driver_usage_error("run", "--threshold needs a number");
            o->has_threshold = true;
        } else {
            return hnn_driver_usage_error("run", "unknown option '%s'", arg);
        }
    }
    if (!o->model)
        return hnn_driver_usage_error("run", "no model file given");
    if (!o->data)
        return hnn_driver_usage_error("run", "no data given (--data FILE)");
    return 0;
}

/* The key holder's encoder clamps every value into its element's declared
 * range; done here once, the plaintext reference sees the same inputs as
 * the circuit and the count can be reported. */
static void
clamp_data(const hnn_layer *input, hnn_data *d, const char *file, run_result *r)
{
    for (size_t s = 0; s < d->n_samples; s++) {
        size_t n = hnn_input_clamp(input, d->x + s * d->n_features, 1);
        r->clamped_values += n;
        r->clamped_samples += n > 0;
    }
    if (r->clamped_values)
        fprintf(stderr,
                "hnnc run: warning: %zu feature value%s of %zu sample%s in %s %s outside the model's input range; "
                "clamped to it, as the encoder does\n",
                r->clamped_values, r->clamped_values == 1 ? "" : "s", r->clamped_samples,
                r->clamped_samples == 1 ? "" : "s", file, r->clamped_values == 1 ? "lies" : "lie");
}

/* Offset of the logits (the output, or a softargmax's input) among the
 * values hnn_tir_eval leaves in its scratch. */
static size_t
logits_offset(const hnn_tir *tir)
{
    const hnn_tir_node *logits = tir->output->kind == HNN_TIR_SOFTARGMAX ? tir->output->in[0] : tir->output;
    size_t off = 0;
    for (uint32_t k = 0; k < logits->id; k++)
        off += tir->nodes[k]->size;
    return off;
}

/* Whether a sample's plaintext values (scratch, node k's at offset[k]) put
 * some approximated activation's input outside its interval; the widest
 * excursion so far goes to r (distance from the interval's centre in
 * half-widths: above 1 is outside). */
static bool
leaves_intervals(const hnn_tir *tir, const size_t *offset, const double *scratch, run_result *r)
{
    bool out = false;
    for (uint32_t k = 0; k < tir->n_nodes; k++) {
        const hnn_tir_node *p = tir->nodes[k];
        if (p->kind != HNN_TIR_POLY || p->u.poly.power)
            continue;
        const double lo = p->u.poly.cheb.lo, hi = p->u.poly.cheb.hi, mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
        const double *v = scratch + offset[p->in[0]->id];
        for (uint32_t j = 0; j < p->size; j++) {
            out |= v[j] < lo || v[j] > hi;
            double e = fabs(v[j] - mid) / half;
            if (e > r->worst_excess) {
                r->worst_excess = e;
                r->worst = p;
            }
        }
    }
    return out;
}

/* Encrypted and plaintext evaluation of every sample; the figures in *r. */
static int
run_data(const hnn_plan *plan, const hnn_data *d, const run_opts *o, double *y, run_result *r)
{
    const hnn_hir *h = plan->hir;
    uint32_t n_out = h->n_outputs, w = d->n_features;
    bool vector = h->packing == HNN_HIR_PACK_VECTOR, bar = isatty(STDERR_FILENO);
    char err[512];
    hnn_exec_keys keys;
    double t0 = run_now_ms();
    if (hnn_exec_keys_new(plan, &keys, err, sizeof err) != 0) {
        fprintf(stderr, "hnnc run: %s\n", err);
        return HNN_EXIT_USER;
    }
    r->keygen_ms = run_now_ms() - t0;
    if (o->threads)
        hnnrt_context_set_threads(keys.ctx, (int)o->threads);
    /* Batch packing: every batch in one call, whose server and ciphertexts
     * serve all of them; vector packing one sample per evaluation, in chunks
     * only to move the progress bar (each call encodes the plaintexts
     * again). */
    size_t chunk = vector && bar ? (d->n_samples + 49) / 50 : d->n_samples;
    if (chunk == 0)
        chunk = 1;
    int status = HNN_EXIT_OK;
    for (size_t at = 0; at < d->n_samples; at += chunk) {
        size_t cnt = d->n_samples - at < chunk ? d->n_samples - at : chunk;
        hnn_exec_stats st = {0};
        if (hnn_exec_run(plan, &keys, d->x + at * w, cnt, y + at * n_out, &st, err, sizeof err) != 0) {
            if (bar)
                fputs("\n", stderr);
            fprintf(stderr, "hnnc run: samples %zu..%zu: %s\n", at + 1, at + cnt, err);
            status = HNN_EXIT_USER;
            break;
        }
        r->st.encrypt_ms += st.encrypt_ms;
        r->st.eval_ms += st.eval_ms;
        r->st.decrypt_ms += st.decrypt_ms;
        r->st.evaluations += st.evaluations;
        r->st.refreshes += st.refreshes;
        r->st.refresh_round_trips += st.refresh_round_trips;
        r->st.refresh_bytes += st.refresh_bytes;
        r->st.refresh_ms += st.refresh_ms;
        if (st.peak_live_ciphertexts > r->st.peak_live_ciphertexts)
            r->st.peak_live_ciphertexts = st.peak_live_ciphertexts;
        if (bar)
            progress(at + cnt, d->n_samples);
    }
    hnn_exec_keys_free(&keys);
    if (status)
        return status;

    const hnn_tir *tir = plan->tir;
    double *scratch = malloc(hnn_tir_eval_scratch(tir) * sizeof *scratch);
    double *want = malloc((tir->output->size + 1) * sizeof *want);
    size_t *offset = malloc((tir->n_nodes + 1) * sizeof *offset);
    if (!scratch || !want || !offset) {
        free(scratch);
        free(want);
        free(offset);
        fputs("hnnc run: out of memory\n", stderr);
        return HNN_EXIT_USER;
    }
    size_t off = logits_offset(tir);
    offset[0] = 0;
    for (uint32_t k = 0; k < tir->n_nodes; k++) {
        offset[k + 1] = offset[k] + tir->nodes[k]->size;
        r->fitted += tir->nodes[k]->kind == HNN_TIR_POLY && !tir->nodes[k]->u.poly.power;
    }
    for (size_t s = 0; s < d->n_samples; s++) {
        hnn_tir_eval(tir, d->x + s * w, want, scratch);
        r->outside_samples += r->fitted && leaves_intervals(tir, offset, scratch, r);
        const double *plain = scratch + off, *enc = y + s * n_out;
        for (uint32_t k = 0; k < n_out; k++)
            r->max_abs_error = fmax(r->max_abs_error, fabs(plain[k] - enc[k]));
        int64_t pe = predict(enc, n_out, r->threshold), pp = predict(plain, n_out, r->threshold);
        r->agree += pe == pp;
        if (d->label) {
            r->labelled++;
            r->correct_enc += pe == d->label[s];
            r->correct_plain += pp == d->label[s];
        }
    }
    r->samples = d->n_samples;
    free(scratch);
    free(want);
    free(offset);
    return HNN_EXIT_OK;
}

static int
write_outputs(const char *path, const double *y, size_t n, uint32_t n_out)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "hnnc run: cannot write '%s': %s\n", path, strerror(errno));
        return HNN_EXIT_USER;
    }
    for (size_t s = 0; s < n; s++)
        for (uint32_t k = 0; k < n_out; k++)
            fprintf(f, "%.17g%c", y[s * n_out + k], k + 1 == n_out ? '\n' : ',');
    if (fclose(f) != 0) {
        fprintf(stderr, "hnnc run: cannot write '%s'\n", path);
        return HNN_EXIT_USER;
    }
    return HNN_EXIT_OK;
}

static void
print_text(const hnn_plan *plan, const hnn_data *d, const run_opts *o, const run_result *r)
{
    const hnn_hir *h = plan->hir;
    bool vector = h->packing == HNN_HIR_PACK_VECTOR;
    double est = plan->precision ? plan->precision->precision_bits : NAN;
    double est_ckks = plan->precision ? -log2(plan->precision->ckks_error) : NAN;
    printf("model %s: %s packing, N = 2^%u (%zu slots), %u levels; %zu samples from %s (%s)\n",
           plan->model->name, vector ? "vector" : "batch", plan->params.spec.log_n, plan->slots, plan->depth,
           r->samples, o->data, d->format);
    if (d->n_class_names) {
        fputs("classes:", stdout);
        for (uint32_t i = 0; i < d->n_class_names; i++)
            printf(" %u = %s%s", i, d->class_names[i], i + 1 < d->n_class_names ? "," : "\n");
    }
    if (r->labelled)
        printf("accuracy: encrypted %.2f%% (%zu/%zu), plaintext %.2f%% (%zu/%zu)\n",
               100.0 * (double)r->correct_enc / (double)r->labelled, r->correct_enc, r->labelled,
               100.0 * (double)r->correct_plain / (double)r->labelled, r->correct_plain, r->labelled);
    else
        puts("accuracy: the data has no labels");
    printf("agreement: %.2f%% of predicted classes (%zu/%zu)%s\n", 100.0 * (double)r->agree / (double)r->samples,
           r->agree, r->samples, h->n_outputs == 1 ? "" : "");
    if (h->n_outputs == 1)
        printf("single output: class 1 above %g\n", r->threshold);
    printf("error: max abs %.3g over %zu outputs; %.1f bits measured, estimated %.1f (CKKS part %.1f)\n",
           r->max_abs_error, r->samples * h->n_outputs, -log2(r->max_abs_error), est, est_ckks);
    printf("time: key generation %.0f ms", r->keygen_ms);
    if (vector)
        printf("; %.2f ms per sample (one evaluation each, %zu evaluations)\n",
               r->st.eval_ms / (double)r->st.evaluations, r->st.evaluations);
    else
        printf("; %.2f ms per batch of up to %u samples (%zu evaluations), %.3f ms per sample amortised\n",
               r->st.eval_ms / (double)r->st.evaluations, plan->batch, r->st.evaluations,
               r->st.eval_ms / (double)r->samples);
    printf("client: encryption %.1f ms, decryption %.1f ms in all\n", r->st.encrypt_ms, r->st.decrypt_ms);
    printf("inputs: %zu value%s clamped into their declared ranges (%zu sample%s)\n", r->clamped_values,
           r->clamped_values == 1 ? "" : "s", r->clamped_samples, r->clamped_samples == 1 ? "" : "s");
    if (r->fitted) {
        printf("intervals: %zu sample%s put an activation's input outside its interval", r->outside_samples,
               r->outside_samples == 1 ? "" : "s");
        const hnn_tir_node *p = r->worst;
        if (p)
            printf(" (widest: '%s' at %.2f half-widths from the centre of [%g, %g])", p->name, r->worst_excess,
                   p->u.poly.cheb.lo, p->u.poly.cheb.hi);
        printf("%s\n", r->outside_samples && plan->model->hints.bounds == HNN_BOUNDS_INTERVALS
                            ? "; the plan's bounds assume none does (bounds intervals)" : "");
    }
    if (plan->n_refresh_points)
        printf("refresh: %zu round trip%s with the key holder (%zu ciphertext%s), %.2f MB exchanged, %.1f ms\n",
               r->st.refresh_round_trips, r->st.refresh_round_trips == 1 ? "" : "s", r->st.refreshes,
               r->st.refreshes == 1 ? "" : "s", (double)r->st.refresh_bytes / 1e6, r->st.refresh_ms);
    printf("peak memory: %.0f MB\n", r->peak_rss_mb);
}

static void
print_json(const hnn_plan *plan, const hnn_data *d, const run_result *r)
{
    const hnn_hir *h = plan->hir;
    bool vector = h->packing == HNN_HIR_PACK_VECTOR;
    double lat = r->st.evaluations ? r->st.eval_ms / (double)r->st.evaluations : NAN;
    printf("{\n  \"samples\": %zu,\n", r->samples);
    json_number(stdout, "accuracy_encrypted", r->labelled ? (double)r->correct_enc / (double)r->labelled : NAN, false);
    json_number(stdout, "accuracy_plain", r->labelled ? (double)r->correct_plain / (double)r->labelled : NAN, false);
    json_number(stdout, "agreement", (double)r->agree / (double)r->samples, false);
    json_number(stdout, "max_abs_error", r->max_abs_error, false);
    json_number(stdout, "precision_bits_measured", -log2(r->max_abs_error), false);
    json_number(stdout, "precision_bits_estimated", plan->precision ? plan->precision->precision_bits : NAN, false);
    json_number(stdout, "latency_ms", lat, false);
    json_number(stdout, "keygen_ms", r->keygen_ms, false);
    json_number(stdout, "peak_rss_mb", r->peak_rss_mb, false);
    json_number(stdout, "precision_bits_estimated_ckks",
                plan->precision ? -log2(plan->precision->ckks_error) : NAN, false);
    printf("  \"packing\": \"%s\",\n", vector ? "vector" : "batch");
    printf("  \"evaluations\": %zu,\n  \"samples_per_evaluation\": %u,\n", r->st.evaluations, plan->batch);
    json_number(stdout, "amortised_ms_per_sample", r->st.eval_ms / (double)r->samples, false);
    json_number(stdout, "encrypt_ms", r->st.encrypt_ms, false);
    json_number(stdout, "decrypt_ms", r->st.decrypt_ms, false);
    printf("  \"refresh_round_trips\": %zu,\n  \"refresh_ciphertexts\": %zu,\n  \"refresh_bytes\": %zu,\n",
           r->st.refresh_round_trips, r->st.refreshes, r->st.refresh_bytes);
    printf("  \"labelled\": %zu,\n  \"classes\": [", r->labelled);
    for (uint32_t i = 0; i < d->n_class_names; i++) {
        json_string(stdout, d->class_names[i]);
        if (i + 1 < d->n_class_names)
            fputs(", ", stdout);
    }
    printf("],\n  \"clamped_values\": %zu,\n  \"clamped_samples\": %zu,\n", r->clamped_values, r->clamped_samples);
    printf("  \"interval_samples_outside\": %zu,\n", r->outside_samples);
    json_number(stdout, "interval_widest", r->worst ? r->worst_excess : 0, true);
    printf("}\n");
}

static int
hnn_run_run(int argc, char **argv)
{
    run_opts o;
    int rc = run_parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? HNN_EXIT_OK : rc;

    hnn_driver_session ses;
    if (!hnn_driver_session_open(&ses))
        return HNN_EXIT_USER;
    int status = HNN_EXIT_USER;
    hnn_front_options fo = {.weights_path = o.weights};
    hnn_model *m = hnn_front_check_file(o.model, &fo, ses.arena, ses.diag, NULL);
    hnn_plan_options po = {0};
    hnn_plan *plan = m ? hnn_plan_build(m, &po, ses.arena, ses.diag) : NULL;
    if (!plan)
        return hnn_driver_session_close(&ses, HNN_EXIT_USER);

    hnn_data d;
    char err[512];
    hnn_data_options dopt = {
        .width = plan->tir->input->size,
        .lo = m->input->u.input.lo,
        .hi = m->input->u.input.hi,
        .labels = o.labels,
        .limit = (size_t)o.limit,
    };
    if (hnn_data_load(o.data, &dopt, &d, err, sizeof err) != 0) {
        fprintf(stderr, "hnnc run: %s\n", err);
        return hnn_driver_session_close(&ses, HNN_EXIT_USER);
    }
    run_result r = {0};
    clamp_data(m->input, &d, o.data, &r);
    r.threshold = o.has_threshold ? o.threshold : m->output->op == HNN_OP_SIGMOID ? 0.5 : 0.0;
    uint32_t n_out = plan->hir->n_outputs;
    double *y = calloc(d.n_samples * n_out, sizeof *y);
    if (!y) {
        fputs("hnnc run: out of memory\n", stderr);
    } else if ((status = run_data(plan, &d, &o, y, &r)) == HNN_EXIT_OK) {
        r.peak_rss_mb = peak_rss_mb();
        if (o.outputs)
            status = write_outputs(o.outputs, y, d.n_samples, n_out);
        if (o.json)
            print_json(plan, &d, &r);
        else
            print_text(plan, &d, &o, &r);
    }
    free(y);
    hnn_data_free(&d);
    return hnn_driver_session_close(&ses, status);
}

const hnn_driver_cmd hnn_driver_cmd_run = {
    .name = "run",
    .summary = "run a model encrypted on a data set and compare with plaintext",
    .run = hnn_run_run,
    .help = hnn_run_help,
};
