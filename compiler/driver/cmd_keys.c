/*
 * The client/server workflow on files: hnnc keygen, encrypt, eval, decrypt
 * and refresh. The key holder (keygen, encrypt, decrypt, refresh) and the
 * evaluating server (eval) share only files: the parameter set, the public
 * evaluation keys and ciphertext bundles (back/bundle.h). eval opens no
 * secret key: it reads only the parameters, the relinearisation and Galois
 * keys, and refuses any file that holds a secret key.
 *
 * A key directory holds one file per object (hnnrt_file_write):
 *   params.hnnrt       the parameter set
 *   secret-key.hnnrt   the secret key (mode 0600): the key holder's only
 *   public-key.hnnrt   for encryption (client, key holder)
 *   relin-key.hnnrt    relinearisation key (server)
 *   galois-keys.hnnrt  the plan's rotation keys (server), when it rotates
 *
 * Refresh points: eval writes the masked ciphertexts of each refresh point
 * to one DIR/request-NNNNNN.hnnb and waits for DIR/reply-NNNNNN.hnnb, which
 * `hnnc refresh --keys KEYDIR DIR` (the key holder) writes with the same
 * ciphertexts encrypted afresh: one round trip per point. eval writes
 * DIR/done when it has finished, and refresh then exits.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "back/bundle.h"
#include "back/data.h"
#include "back/exec.h"
#include "driver/driver.h"
#include "front/front.h"
#include "middle/plan.h"

#define KEYS_PARAMS "params.hnnrt"
#define KEYS_SECRET "secret-key.hnnrt"
#define KEYS_PUBLIC "public-key.hnnrt"
#define KEYS_RELIN "relin-key.hnnrt"
#define KEYS_GALOIS "galois-keys.hnnrt"
/* Key files are large (a Galois key set at N = 2^16 is a few GB) but bounded. */
#define KEYS_MAX_BYTES ((size_t)1 << 36)
#define REFRESH_TIMEOUT_S 60.0

/* ------------------------------------------------------------------ shared */

typedef struct keys_opts {
    const char *cmd;
    const char *model, *keys, *data, *labels, *in, *out, *weights, *refresh_dir;
    unsigned long long limit, threads;
    double timeout_s;
    bool json;
} keys_opts;

static int
keys_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
keys_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hnnc %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return HNN_EXIT_USER;
}

static double
keys_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bool
keys_count(const char *s, unsigned long long max, unsigned long long *v)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return false;
    *v = strtoull(s, &end, 10);
    return *end == '\0' && errno == 0 && *v >= 1 && *v <= max;
}

/* Options the commands share; `allowed` lists those this command takes
 * ("kdlioOrtLTjw": --keys --data --labels -i -o (O: required)
 * --refresh-dir --threads --limit --timeout --json --weights). One
 * positional: the model, or (D) the exchange directory of hnnc refresh. */
static int
keys_parse(int argc, char **argv, const char *allowed, void (*help)(FILE *), keys_opts *o)
{
    const char *cmd = o->cmd;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL;
        bool miss = false;
        if (arg[0] != '-') {
            if (!o->model)
                o->model = arg;
            else
                return hnn_driver_usage_error(cmd, "unexpected argument '%s'", arg);
        } else if (hnn_driver_is_help(arg)) {
            help(stdout);
            return -1;
        } else if (strchr(allowed, 'k') && hnn_driver_opt(argc, argv, &i, "--keys", &v, &miss)) {
            if (miss || !v[0])
                return hnn_driver_usage_error(cmd, "--keys needs a key directory");
            o->keys = v;
        } else if (strchr(allowed, 'd') && hnn_driver_opt(argc, argv, &i, "--data", &v, &miss)) {
            if (miss || !v[0])
                return hnn_driver_usage_error(cmd, "--data needs a file name");
            o->data = v;
        } else if (strchr(allowed, 'l') && hnn_driver_opt(argc, argv, &i, "--labels", &v, &miss)) {
            if (miss || !v[0])
                return hnn_driver_usage_error(cmd, "--labels needs a file name");
            o->labels = v;
        } else if (strchr(allowed, 'i') && hnn_driver_opt(argc, argv, &i, "-i", &v, &miss)) {
            if (miss || !v[0])
                return hnn_driver_usage_error(cmd, "-i needs a file name");
            o->in = v;
        } else if (strchr(allowed, 'o') && hnn_driver_opt(argc, argv, &i, "-o", &v, &miss)) {
            if (miss || !v[0])
                return hnn_driver_usage_error(cmd, "-o needs a file name");
            o->out = v;
        } else if (strchr(allowed, 'r') && hnn_driver_opt(argc, argv, &i, "--refresh-dir", &v, &miss)) {
            if (miss || !v[0])
                return hnn_driver_usage_error(cmd, "--refresh-dir needs a directory");
            o->refresh_dir = v;
        } else if (strchr(allowed, 't') && hnn_driver_opt(argc, argv, &i, "--threads", &v, &miss)) {
            if (miss || !keys_count(v, 1024, &o->threads))
                return hnn_driver_usage_error(cmd, "--threads needs a number from 1 to 1024");
        } else if (strchr(allowed, 'L') && hnn_driver_opt(argc, argv, &i, "--limit", &v, &miss)) {
            if (miss || !keys_count(v, 1ull << 40, &o->limit))
                return hnn_driver_usage_error(cmd, "--limit needs a positive number of samples");
        } else if (strchr(allowed, 'T') && hnn_driver_opt(argc, argv, &i, "--timeout", &v, &miss)) {
            unsigned long long s;
            if (miss || !keys_count(v, 86400, &s))
                return hnn_driver_usage_error(cmd, "--timeout needs a number of seconds from 1 to 86400");
            o->timeout_s = (double)s;
        } else if (strchr(allowed, 'j') && hnn_driver_opt(argc, argv, &i, "--json", NULL, NULL)) {
            o->json = true;
        } else if (strchr(allowed, 'w') && hnn_driver_opt(argc, argv, &i, "--weights", &v, &miss)) {
            if (miss || !v[0])
                return hnn_driver_usage_error(cmd, "--weights needs a file name");
            o->weights = v;
        } else {
            return hnn_driver_usage_error(cmd, "unknown option '%s'", arg);
        }
    }
    if (!o->model)
        return hnn_driver_usage_error(cmd, strchr(allowed, 'D') ? "no exchange directory given" : "no model file given");
    if (strchr(allowed, 'k') && !o->keys)
        return hnn_driver_usage_error(cmd, "no key directory given (--keys KEYDIR)");
    if (strchr(allowed, 'd') && !o->data)
        return hnn_driver_usage_error(cmd, "no data given (--data FILE)");
    if (strchr(allowed, 'i') && !o->in)
        return hnn_driver_usage_error(cmd, "no input given (-i FILE)");
    if (strchr(allowed, 'O') && !o->out)
        return hnn_driver_usage_error(cmd, "no output given (-o %s)", strcmp(cmd, "keygen") ? "FILE" : "KEYDIR");
    return 0;
}

static hnn_plan *
keys_plan(const keys_opts *o, hnn_driver_session *ses)
{
    hnn_front_options fo = {.weights_path = o->weights};
    hnn_model *m = hnn_front_check_file(o->model, &fo, ses->arena, ses->diag, NULL);
    hnn_plan_options po = {0};
    return m ? hnn_plan_build(m, &po, ses->arena, ses->diag) : NULL;
}

static char *
keys_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* The bytes of one hnnrt object file, of the kind expected. A file that
 * holds a secret key is refused unless one was asked for: the evaluating
 * side must never load one, whatever file it is given. */
static int
keys_read_object(const char *cmd, const char *path, hnnrt_object_kind kind, uint8_t **buf, size_t *len)
{
    hnnrt_error e = {0};
    if (hnnrt_file_read(path, KEYS_MAX_BYTES, buf, len, &e) != HNNRT_OK)
        return keys_error(cmd, "%s", e.message[0] ? e.message : path);
    if (*len >= 8 && memcmp(*buf, "HNRT", 4) == 0 && ((*buf)[6] | (*buf)[7] << 8) == HNNRT_KIND_SECRET_KEY &&
        kind != HNNRT_KIND_SECRET_KEY) {
        hnnrt_file_buffer_free(*buf, *len);
        return keys_error(cmd, "%s holds a secret key; refusing to read it (the evaluating side never holds one)",
                          path);
    }
    return 0;
}

/* The parameter set of KEYDIR, checked against the plan's chain. */
static int
keys_load_params(const char *cmd, const hnn_plan *plan, const char *dir, hnnrt_context **ctx)
{
    char *path = keys_path(dir, KEYS_PARAMS);
    uint8_t *buf;
    size_t len;
    if (!path)
        return keys_error(cmd, "out of memory");
    if (keys_read_object(cmd, path, HNNRT_KIND_PARAMS, &buf, &len)) {
        free(path);
        return HNN_EXIT_USER;
    }
    hnnrt_error e = {0};
    hnnrt_status st = hnnrt_params_deserialize(ctx, buf, len, 0, &e);
    hnnrt_file_buffer_free(buf, len);
    if (st != HNNRT_OK) {
        keys_error(cmd, "%s: %s", path, e.message[0] ? e.message : hnnrt_status_message(st));
        free(path);
        return HNN_EXIT_USER;
    }
    bool same = hnnrt_context_max_level(*ctx) + 1 == plan->n_data_primes &&
                hnnrt_context_special_count(*ctx) == plan->n_special_primes;
    for (unsigned i = 0; same && i < plan->n_data_primes + plan->n_special_primes; i++)
        same = hnnrt_context_prime(*ctx, i) == plan->primes[i];
    if (!same) {
        keys_error(cmd, "%s: the keys were made for other parameters than this model's plan (run hnnc keygen again)",
                   path);
        hnnrt_context_free(*ctx);
        *ctx = NULL;
        free(path);
        return HNN_EXIT_USER;
    }
    free(path);
    if (plan->params.spec.log_n != hnnrt_context_log_n(*ctx))
        return keys_error(cmd, "%s: ring mismatch", dir);
    return 0;
}

/* One key of KEYDIR into *out (the deserialiser of its kind). */
static int
keys_load_key(const char *cmd, const hnnrt_context *ctx, const char *dir, const char *name, hnnrt_object_kind kind,
              void **out)
{
    char *path = keys_path(dir, name);
    uint8_t *buf;
    size_t len;
    if (!path)
        return keys_error(cmd, "out of memory");
    if (keys_read_object(cmd, path, kind, &buf, &len)) {
        free(path);
        return HNN_EXIT_USER;
    }
    hnnrt_error e = {0};
    hnnrt_status st;
    switch (kind) {
    case HNNRT_KIND_SECRET_KEY:
        st = hnnrt_secret_key_deserialize(ctx, (hnnrt_secret_key **)out, buf, len, &e);
        break;
    case HNNRT_KIND_PUBLIC_KEY:
        st = hnnrt_public_key_deserialize(ctx, (hnnrt_public_key **)out, buf, len, &e);
        break;
    case HNNRT_KIND_RELIN_KEY:
        st = hnnrt_relin_key_deserialize(ctx, (hnnrt_relin_key **)out, buf, len, &e);
        break;
    case HNNRT_KIND_GALOIS_KEYS:
        st = hnnrt_galois_keys_deserialize(ctx, (hnnrt_galois_keys **)out, buf, len, &e);
        break;
    default:
        st = HNNRT_ERR_ARG;
        break;
    }
    hnnrt_file_buffer_free(buf, len);
    int rc = 0;
    if (st != HNNRT_OK)
        rc = keys_error(cmd, "%s: %s", path, e.message[0] ? e.message : hnnrt_status_message(st));
    free(path);
    return rc;
}

/* A bundle file, checked against the parameters and the stage expected. */
static int
keys_read_bundle(const char *cmd, const char *path, const hnnrt_context *ctx, uint32_t stage, uint32_t per_group,
                 hnn_bundle *b)
{
    char err[512];
    FILE *f = fopen(path, "rb");
    uint8_t head[8] = {0};
    size_t got = f ? fread(head, 1, sizeof head, f) : 0;
    if (f)
        fclose(f);
    if (got == 8 && memcmp(head, "HNRT", 4) == 0 && (head[6] | head[7] << 8) == HNNRT_KIND_SECRET_KEY)
        return keys_error(cmd, "%s holds a secret key; refusing to read it", path);
    if (hnn_bundle_read(path, b, err, sizeof err))
        return keys_error(cmd, "%s", err);
    int rc = 0;
    if (b->h.stage != stage)
        rc = keys_error(cmd, "%s: a bundle of %s; %s reads %s", path, hnn_bundle_stage_name(b->h.stage), cmd,
                        hnn_bundle_stage_name(stage));
    else if (b->h.fingerprint != hnnrt_context_fingerprint(ctx))
        rc = keys_error(cmd, "%s: encrypted under another parameter set than the keys'", path);
    else if (per_group && b->h.per_group != per_group)
        rc = keys_error(cmd, "%s: %u ciphertexts per evaluation; the plan takes %u", path, b->h.per_group, per_group);
    if (rc)
        hnn_bundle_free(b);
    return rc;
}

/* ------------------------------------------------------------------ keygen */

static void
hnn_keygen_help(FILE *out)
{
    fputs("usage: hnnc keygen MODEL.hnn -o KEYDIR\n\n"
          "Plans the model and generates its keys into KEYDIR (created when absent, mode 0700):\n"
          "params.hnnrt, secret-key.hnnrt (mode 0600: keep it with the key holder),\n"
          "public-key.hnnrt, relin-key.hnnrt and, when the circuit rotates, galois-keys.hnnrt\n"
          "with exactly the plan's rotation keys. The evaluating server needs params, relin and\n"
          "galois keys only.\n\n"
          "options:\n"
          "  -o KEYDIR          the key directory\n"
          "  --weights FILE     read the weights from FILE instead of the model's weights file\n"
          "  -h, --help         print this help\n",
          out);
}

static int
write_object(const char *dir, const char *name, hnnrt_object_kind kind, const void *obj)
{
    char *path = keys_path(dir, name);
    hnnrt_error e = {0};
    if (!path)
        return keys_error("keygen", "out of memory");
    hnnrt_status st = hnnrt_file_write(path, kind, obj, &e);
    int rc = st == HNNRT_OK ? 0 : keys_error("keygen", "%s", e.message[0] ? e.message : hnnrt_status_message(st));
    free(path);
    return rc;
}

static int
hnn_keygen_run(int argc, char **argv)
{
    keys_opts o = {.cmd = "keygen"};
    int rc = keys_parse(argc, argv, "owO", hnn_keygen_help, &o);
    if (rc)
        return rc < 0 ? HNN_EXIT_OK : rc;
    hnn_driver_session ses;
    if (!hnn_driver_session_open(&ses))
        return HNN_EXIT_USER;
    hnn_plan *plan = keys_plan(&o, &ses);
    if (!plan)
        return hnn_driver_session_close(&ses, HNN_EXIT_USER);
    if (mkdir(o.out, 0700) != 0 && errno != EEXIST) {
        keys_error("keygen", "cannot create '%s': %s", o.out, strerror(errno));
        return hnn_driver_session_close(&ses, HNN_EXIT_USER);
    }
    hnn_exec_keys keys;
    char err[512];
    if (hnn_exec_keys_new(plan, &keys, err, sizeof err) != 0) {
        keys_error("keygen", "%s", err);
        return hnn_driver_session_close(&ses, HNN_EXIT_USER);
    }
    int status = write_object(o.out, KEYS_PARAMS, HNNRT_KIND_PARAMS, keys.ctx);
    if (!status)
        status = write_object(o.out, KEYS_SECRET, HNNRT_KIND_SECRET_KEY, keys.sk);
    if (!status)
        status = write_object(o.out, KEYS_PUBLIC, HNNRT_KIND_PUBLIC_KEY, keys.pk);
    if (!status)
        status = write_object(o.out, KEYS_RELIN, HNNRT_KIND_RELIN_KEY, keys.rk);
    if (!status && keys.gk)
        status = write_object(o.out, KEYS_GALOIS, HNNRT_KIND_GALOIS_KEYS, keys.gk);
    if (!status)
        printf("keys for %s in %s: N = 2^%u, %u rotation key%s%s\n", plan->model->name, o.out,
               plan->params.spec.log_n, plan->n_rotation_steps, plan->n_rotation_steps == 1 ? "" : "s",
               plan->conjugates ? " and conjugation" : "");
    hnn_exec_keys_free(&keys);
    return hnn_driver_session_close(&ses, status);
}

/* ------------------------------------------------------------------ encrypt */

static void
hnn_encrypt_help(FILE *out)
{
    fputs("usage: hnnc encrypt MODEL.hnn --keys KEYDIR --data FILE -o BUNDLE\n\n"
          "Encrypts a data set with the public key of KEYDIR in the plan's layout: batch\n"
          "packing, one ciphertext per feature for each batch of samples; vector packing, one\n"
          "ciphertext per sample (or the few of the plan's client layout, as `hnnc report`\n"
          "says). Writes one ciphertext bundle (docs/commands.md). Labels in\n"
          "the data are not encrypted and not written.\n\n"
          "options:\n"
          "  --keys KEYDIR      reads params.hnnrt and public-key.hnnrt\n"
          "  --data FILE        CSV or IDX images, as for hnnc run\n"
          "  --limit N          the first N samples only\n"
          "  -o BUNDLE          the output file\n"
          "  --weights FILE     read the weights from FILE instead of the model's weights file\n"
          "  -h, --help         print this help\n",
          out);
}

static int
hnn_encrypt_run(int argc, char **argv)
{
    keys_opts o = {.cmd = "encrypt"};
    int rc = keys_parse(argc, argv, "kdlLowO", hnn_encrypt_help, &o);
    if (rc)
        return rc < 0 ? HNN_EXIT_OK : rc;
    hnn_driver_session ses;
    if (!hnn_driver_session_open(&ses))
        return HNN_EXIT_USER;
    hnn_plan *plan = keys_plan(&o, &ses);
    hnnrt_context *ctx = NULL;
    hnnrt_public_key *pk = NULL;
    if (!plan || keys_load_params("encrypt", plan, o.keys, &ctx) ||
        keys_load_key("encrypt", ctx, o.keys, KEYS_PUBLIC, HNNRT_KIND_PUBLIC_KEY, (void **)&pk)) {
        hnnrt_context_free(ctx);
        return hnn_driver_session_close(&ses, HNN_EXIT_USER);
    }
    const hnn_hir *h = plan->hir;
    const hnn_model *m = plan->model;
    hnn_data d;
    char err[512];
    hnn_data_options dopt = {.width = plan->tir->input->size, .lo = m->input->u.input.lo,
                             .hi = m->input->u.input.hi, .labels = o.labels, .limit = (size_t)o.limit};
    int status = HNN_EXIT_USER;
    if (hnn_data_load(o.data, &dopt, &d, err, sizeof err) != 0) {
        keys_error("encrypt", "%s", err);
        goto out_keys;
    }
    size_t clamped = hnn_input_clamp(m->input, d.x, d.n_samples);
    if (clamped)
        fprintf(stderr, "hnnc encrypt: warning: %zu feature value%s outside the model's input range; clamped "
                "to it\n", clamped, clamped == 1 ? " lies" : "s lie");
    bool vector = h->packing == HNN_HIR_PACK_VECTOR;
    size_t slots = hnnrt_context_slots(ctx), per = vector ? 1 : plan->batch;
    size_t groups = (d.n_samples + per - 1) / per;
    hnn_bundle_header bh = {.stage = HNN_BUNDLE_INPUTS, .fingerprint = hnnrt_context_fingerprint(ctx),
                            .groups = (uint32_t)groups, .per_group = plan->ciphertexts_in,
                            .samples = d.n_samples, .group_samples = (uint32_t)per};
    hnnrt_encoder *enc = NULL;
    hnnrt_encryptor *encr = NULL;
    hnnrt_pt *pt = NULL;
    hnnrt_ct *ct = NULL;
    hnn_bundle_writer *w = NULL;
    double *buf = malloc(slots * sizeof *buf);
    hnnrt_status st = buf ? HNNRT_OK : HNNRT_ERR_ALLOC;
    if (groups > UINT32_MAX)
        st = HNNRT_ERR_ARG;
    if (st == HNNRT_OK)
        st = hnnrt_encoder_new(ctx, &enc);
    if (st == HNNRT_OK)
        st = hnnrt_encryptor_new(ctx, pk, NULL, &encr);
    if (st == HNNRT_OK)
        st = hnnrt_pt_new(ctx, &pt);
    if (st == HNNRT_OK)
        st = hnnrt_ct_new(ctx, &ct);
    if (st != HNNRT_OK) {
        keys_error("encrypt", "setting up: %s", hnnrt_status_message(st));
        goto out;
    }
    if (hnn_bundle_writer_open(&w, o.out, &bh, err, sizeof err)) {
        keys_error("encrypt", "%s", err);
        goto out;
    }
    for (size_t g = 0; g < groups; g++) {
        size_t first = g * per, count = d.n_samples - first < per ? d.n_samples - first : per;
        for (uint32_t k = 0; k < plan->ciphertexts_in; k++) {
            size_t n = hnn_exec_input_slots(plan, d.x + first * d.n_features, 0, count, k, buf, slots);
            st = hnnrt_encode(enc, pt, buf, n, plan->level_scale[h->top_level], h->top_level);
            if (st == HNNRT_OK)
                st = hnnrt_encrypt(encr, ct, pt);
            if (st != HNNRT_OK) {
                keys_error("encrypt", "sample %zu: %s", first + 1, hnnrt_encoder_last_error(enc));
                goto out;
            }
            if (hnn_bundle_writer_add(w, ct, err, sizeof err)) {
                keys_error("encrypt", "%s", err);
                goto out;
            }
        }
    }
    if (hnn_bundle_writer_close(w, err, sizeof err)) {
        w = NULL;
        keys_error("encrypt", "%s", err);
        goto out;
    }
    w = NULL;
    status = HNN_EXIT_OK;
    fprintf(stderr, "hnnc encrypt: %zu samples in %zu evaluation%s of %u ciphertext%s -> %s\n", d.n_samples, groups,
            groups == 1 ? "" : "s", plan->ciphertexts_in, plan->ciphertexts_in == 1 ? "" : "s", o.out);
out:
    hnn_bundle_writer_abort(w);
    free(buf);
    hnnrt_ct_free(ct);
    hnnrt_pt_free(pt);
    hnnrt_encryptor_free(encr);
    hnnrt_encoder_free(enc);
    hnn_data_free(&d);
out_keys:
    hnnrt_public_key_free(pk);
    hnnrt_context_free(ctx);
    return hnn_driver_session_close(&ses, status);
}

/* ------------------------------------------------------------------ eval */

static void
hnn_eval_help(FILE *out)
{
    fputs("usage: hnnc eval MODEL.hnn --keys KEYDIR -i INPUTS -o OUTPUTS [options]\n\n"
          "The server side: evaluates the plan on an input bundle (hnnc encrypt) and writes\n"
          "the output bundle (for hnnc decrypt). Reads only params.hnnrt, relin-key.hnnrt and\n"
          "galois-keys.hnnrt from KEYDIR, never a secret key: it refuses any file that holds\n"
          "one, and runs with the secret key absent.\n\n"
          "Plans with refresh points exchange masked ciphertexts with the key holder through\n"
          "a directory, one round trip per refresh point: eval writes the point's ciphertexts\n"
          "to DIR/request-N.hnnb and waits for DIR/reply-N.hnnb, which\n"
          "'hnnc refresh --keys KEYDIR DIR' writes (start it first, or alongside).\n\n"
          "options:\n"
          "  --keys KEYDIR        the evaluation keys\n"
          "  -i INPUTS            the input bundle\n"
          "  -o OUTPUTS           the output bundle\n"
          "  --refresh-dir DIR    the exchange directory for refresh points\n"
          "  --timeout S          seconds to wait for each refresh reply, the key holder's\n"
          "                       work on a whole refresh point included (default 60)\n"
          "  --threads T          runtime threads\n"
          "  --weights FILE       read the weights from FILE instead of the model's weights file\n"
          "  -h, --help           print this help\n",
          out);
}

typedef struct file_refresh {
    const char *dir;
    const hnnrt_context *ctx;
    unsigned seq;
    double timeout_s;
    char err[512];
} file_refresh;

/* The server's side of a refresh point through files: its masked
 * ciphertexts out in one request, the key holder's fresh encryptions back
 * into cts from one reply, which must hold exactly n ciphertexts at the
 * level and scale asked. */
static int
file_refresh_fn(void *user, hnnrt_ct *const *cts, size_t n, unsigned level, double scale)
{
    file_refresh *fr = user;
    char name[64];
    snprintf(name, sizeof name, "request-%06u.hnnb", fr->seq);
    char *req_path = keys_path(fr->dir, name);
    snprintf(name, sizeof name, "reply-%06u.hnnb", fr->seq);
    char *rep_path = keys_path(fr->dir, name);
    int st = HNNRT_ERR_ALLOC;
    if (!req_path || !rep_path)
        goto done;
    st = HNNRT_ERR_ARG;
    if (n == 0 || n > UINT32_MAX) {
        snprintf(fr->err, sizeof fr->err, "a refresh point of %zu ciphertexts", n);
        goto done;
    }
    hnn_bundle_header bh = {.stage = HNN_BUNDLE_REFRESH_REQUEST, .fingerprint = hnnrt_context_fingerprint(fr->ctx),
                            .groups = 1, .per_group = (uint32_t)n, .samples = 1, .group_samples = 1, .level = level,
                            .scale = scale};
    st = HNNRT_ERR_IO;
    if (hnn_bundle_write(req_path, &bh, cts, fr->err, sizeof fr->err))
        goto done;
    double start = keys_now_s();
    struct timespec nap = {0, 5 * 1000 * 1000};
    while (access(rep_path, F_OK) != 0) {
        if (keys_now_s() - start > fr->timeout_s) {
            snprintf(fr->err, sizeof fr->err,
                     "no reply from the key holder in %s after %.0f s (is 'hnnc refresh --keys KEYDIR %s' running?)",
                     fr->dir, fr->timeout_s, fr->dir);
            goto done;
        }
        nanosleep(&nap, NULL);
    }
    hnn_bundle b;
    if (hnn_bundle_read(rep_path, &b, fr->err, sizeof fr->err))
        goto done;
    if (b.h.stage != HNN_BUNDLE_REFRESH_REPLY || b.h.fingerprint != hnnrt_context_fingerprint(fr->ctx)) {
        snprintf(fr->err, sizeof fr->err, "%s: not a refresh reply for these keys", rep_path);
    } else if (b.h.groups != 1 || b.n != n) {
        snprintf(fr->err, sizeof fr->err, "%s: %zu ciphertexts in %u groups; the request had %zu in 1", rep_path, b.n,
                 b.h.groups, n);
    } else {
        st = HNNRT_OK;
        for (size_t k = 0; st == HNNRT_OK && k < n; k++) {
            if ((st = hnn_bundle_ct(&b, k, fr->ctx, cts[k], fr->err, sizeof fr->err)) != HNNRT_OK)
                break;
            if (hnnrt_ct_level(cts[k]) != level || hnnrt_ct_scale(cts[k]) != scale) {
                snprintf(fr->err, sizeof fr->err, "%s: ciphertext %zu re-encrypted at level %u scale %a, not %u %a",
                         rep_path, k, hnnrt_ct_level(cts[k]), hnnrt_ct_scale(cts[k]), level, scale);
                st = HNNRT_ERR_LEVEL_MISMATCH;
            }
        }
    }
    if (st == HNNRT_ERR_IO)
        st = HNNRT_ERR_SERIAL_CORRUPT;
    hnn_bundle_free(&b);
    remove(rep_path);
    fr->seq++;
done:
    free(req_path);
    free(rep_path);
    return st;
}

static int
hnn_eval_run(int argc, char **argv)
{
    keys_opts o = {.cmd = "eval", .timeout_s = REFRESH_TIMEOUT_S};
    int rc = keys_parse(argc, argv, "kiotrTwO", hnn_eval_help, &o);
    if (rc)
        return rc < 0 ? HNN_EXIT_OK : rc;
    hnn_driver_session ses;
    if (!hnn_driver_session_open(&ses))
        return HNN_EXIT_USER;
    hnn_plan *plan = keys_plan(&o, &ses);
    if (plan && plan->n_refresh_points && !o.refresh_dir) {
        keys_error("eval",
                   "the plan has %u refresh points: give --refresh-dir DIR and run 'hnnc refresh --keys KEYDIR DIR' "
                   "on the key holder's side (or use hnnc run)",
                   plan->n_refresh_points);
        return hnn_driver_session_close(&ses, HNN_EXIT_USER);
    }
    hnnrt_context *ctx = NULL;
    hnnrt_relin_key *rk = NULL;
    hnnrt_galois_keys *gk = NULL;
    hnn_exec_server *srv = NULL;
    hnn_bundle in = {0};
    hnn_bundle_writer *w = NULL;
    int status = HNN_EXIT_USER;
    char err[512];
    if (!plan || keys_load_params("eval", plan, o.keys, &ctx) ||
        keys_load_key("eval", ctx, o.keys, KEYS_RELIN, HNNRT_KIND_RELIN_KEY, (void **)&rk) ||
        ((plan->n_rotation_steps || plan->conjugates) &&
         keys_load_key("eval", ctx, o.keys, KEYS_GALOIS, HNNRT_KIND_GALOIS_KEYS, (void **)&gk)) ||
        keys_read_bundle("eval", o.in, ctx, HNN_BUNDLE_INPUTS, plan->ciphertexts_in, &in))
        goto out;
    if (o.threads)
        hnnrt_context_set_threads(ctx, (int)o.threads);
    if (hnn_exec_server_new(plan, ctx, rk, gk, &srv, err, sizeof err)) {
        keys_error("eval", "%s", err);
        goto out;
    }
    file_refresh fr = {.dir = o.refresh_dir, .ctx = ctx, .timeout_s = o.timeout_s};
    char *done_path = o.refresh_dir ? keys_path(o.refresh_dir, "done") : NULL;
    if (done_path)
        remove(done_path);
    if (plan->n_refresh_points)
        hnn_exec_server_set_refresh(srv, file_refresh_fn, &fr);
    hnn_bundle_header oh = in.h;
    oh.stage = HNN_BUNDLE_OUTPUTS;
    oh.per_group = plan->ciphertexts_out;
    uint32_t n_in = plan->ciphertexts_in, n_out = plan->ciphertexts_out;
    hnnrt_ct **cin = calloc(n_in, sizeof *cin), **cout = calloc(n_out, sizeof *cout);
    bool ok = cin && cout && hnn_bundle_writer_open(&w, o.out, &oh, err, sizeof err) == 0;
    if (!ok)
        keys_error("eval", "%s", cin && cout ? err : "out of memory");
    for (uint32_t k = 0; ok && k < n_in; k++)
        ok = hnnrt_ct_new(ctx, &cin[k]) == HNNRT_OK;
    double t0 = keys_now_s();
    hnn_exec_stats stats = {0};
    for (uint32_t g = 0; ok && g < in.h.groups; g++) {
        for (uint32_t k = 0; ok && k < n_in; k++)
            if (hnn_bundle_ct(&in, (size_t)g * n_in + k, ctx, cin[k], err, sizeof err)) {
                keys_error("eval", "%s: %s", o.in, err);
                ok = false;
            }
        if (ok && hnn_exec_server_eval(srv, cin, cout, &stats, err, sizeof err)) {
            keys_error("eval", "evaluation %u: %s%s%s", g + 1, err, fr.err[0] ? ": " : "", fr.err);
            ok = false;
        }
        for (uint32_t k = 0; ok && k < n_out; k++)
            if (hnn_bundle_writer_add(w, cout[k], err, sizeof err)) {
                keys_error("eval", "%s", err);
                ok = false;
            }
        for (uint32_t k = 0; k < n_out; k++) {
            hnnrt_ct_free(cout[k]);
            cout[k] = NULL;
        }
    }
    if (ok) {
        ok = hnn_bundle_writer_close(w, err, sizeof err) == 0;
        w = NULL;
        if (!ok)
            keys_error("eval", "%s", err);
    }
    if (done_path) {
        /* tells the key holder's refresh loop that no request will follow */
        FILE *f = fopen(done_path, "w");
        if (f)
            fclose(f);
        free(done_path);
    }
    if (ok) {
        status = HNN_EXIT_OK;
        fprintf(stderr, "hnnc eval: %u evaluation%s in %.0f ms, %zu refresh round trip%s (%zu ciphertext%s) -> %s\n",
                in.h.groups, in.h.groups == 1 ? "" : "s", (keys_now_s() - t0) * 1e3, stats.refresh_round_trips,
                stats.refresh_round_trips == 1 ? "" : "s", stats.refreshes, stats.refreshes == 1 ? "" : "s", o.out);
    }
    for (uint32_t k = 0; cin && k < n_in; k++)
        hnnrt_ct_free(cin[k]);
    free(cin);
    free(cout);
out:
    hnn_bundle_writer_abort(w);
    hnn_bundle_free(&in);
    hnn_exec_server_free(srv);
    hnnrt_galois_keys_free(gk);
    hnnrt_relin_key_free(rk);
    hnnrt_context_free(ctx);
    return hnn_driver_session_close(&ses, status);
}

/* ------------------------------------------------------------------ decrypt */

static void
hnn_decrypt_help(FILE *out)
{
    fputs("usage: hnnc decrypt MODEL.hnn --keys KEYDIR -i OUTPUTS [-o FILE] [--json]\n\n"
          "Decrypts an output bundle (hnnc eval) with the secret key of KEYDIR and prints the\n"
          "outputs (the logits, before a softargmax): one sample per line, comma-separated, in\n"
          "the format of 'hnnc run --outputs'. --json prints {\"samples\", \"outputs\",\n"
          "\"predictions\"} (the argmax; one output: above 0.5 after a sigmoid, else 0).\n\n"
          "options:\n"
          "  --keys KEYDIR      reads params.hnnrt and secret-key.hnnrt\n"
          "  -i OUTPUTS         the output bundle\n"
          "  -o FILE            write there instead of standard output\n"
          "  --json             JSON instead of CSV\n"
          "  --weights FILE     read the weights from FILE instead of the model's weights file\n"
          "  -h, --help         print this help\n",
          out);
}

static int
hnn_decrypt_run(int argc, char **argv)
{
    keys_opts o = {.cmd = "decrypt"};
    int rc = keys_parse(argc, argv, "kiojw", hnn_decrypt_help, &o);
    if (rc)
        return rc < 0 ? HNN_EXIT_OK : rc;
    hnn_driver_session ses;
    if (!hnn_driver_session_open(&ses))
        return HNN_EXIT_USER;
    hnn_plan *plan = keys_plan(&o, &ses);
    hnnrt_context *ctx = NULL;
    hnnrt_secret_key *sk = NULL;
    hnn_bundle b = {0};
    int status = HNN_EXIT_USER;
    hnnrt_encoder *enc = NULL;
    hnnrt_decryptor *dec = NULL;
    hnnrt_pt *pt = NULL;
    hnnrt_ct *ct = NULL;
    double *y = NULL, *buf = NULL;
    char err[512];
    if (!plan || keys_load_params("decrypt", plan, o.keys, &ctx) ||
        keys_load_key("decrypt", ctx, o.keys, KEYS_SECRET, HNNRT_KIND_SECRET_KEY, (void **)&sk) ||
        keys_read_bundle("decrypt", o.in, ctx, HNN_BUNDLE_OUTPUTS, plan->ciphertexts_out, &b))
        goto out;
    const hnn_hir *h = plan->hir;
    bool vector = h->packing == HNN_HIR_PACK_VECTOR;
    uint32_t n_out = h->n_outputs;
    size_t slots = hnnrt_context_slots(ctx), n = (size_t)b.h.samples;
    if ((vector && b.h.group_samples != 1) || (!vector && b.h.group_samples > slots)) {
        keys_error("decrypt", "%s: %u samples per evaluation do not fit the plan's packing", o.in, b.h.group_samples);
        goto out;
    }
    y = malloc(n * n_out * sizeof *y);
    buf = malloc((slots > n_out ? slots : n_out) * sizeof *buf);
    hnnrt_status st = y && buf ? HNNRT_OK : HNNRT_ERR_ALLOC;
    if (st == HNNRT_OK)
        st = hnnrt_encoder_new(ctx, &enc);
    if (st == HNNRT_OK)
        st = hnnrt_decryptor_new(ctx, sk, &dec);
    if (st == HNNRT_OK)
        st = hnnrt_pt_new(ctx, &pt);
    if (st == HNNRT_OK)
        st = hnnrt_ct_new(ctx, &ct);
    if (st != HNNRT_OK) {
        keys_error("decrypt", "setting up: %s", hnnrt_status_message(st));
        goto out;
    }
    for (uint32_t g = 0; g < b.h.groups; g++) {
        size_t first = (size_t)g * b.h.group_samples;
        size_t count = n - first < b.h.group_samples ? n - first : b.h.group_samples;
        for (uint32_t k = 0; k < b.h.per_group; k++) {
            if (hnn_bundle_ct(&b, (size_t)g * b.h.per_group + k, ctx, ct, err, sizeof err)) {
                keys_error("decrypt", "%s: %s", o.in, err);
                goto out;
            }
            st = hnnrt_decrypt(dec, pt, ct);
            if (st == HNNRT_OK)
                st = hnnrt_decode(enc, pt, buf, vector ? n_out : count);
            if (st != HNNRT_OK) {
                keys_error("decrypt", "%s: evaluation %u: %s", o.in, g + 1, hnnrt_status_message(st));
                goto out;
            }
            if (vector)
                memcpy(y + first * n_out, buf, n_out * sizeof *y);
            else
                for (size_t s = 0; s < count; s++)
                    y[(first + s) * n_out + k] = buf[s];
        }
    }
    FILE *out = o.out ? fopen(o.out, "w") : stdout;
    if (!out) {
        keys_error("decrypt", "cannot write '%s': %s", o.out, strerror(errno));
        goto out;
    }
    double threshold = plan->model->output->op == HNN_OP_SIGMOID ? 0.5 : 0.0;
    if (o.json) {
        fprintf(out, "{\n  \"samples\": %zu,\n  \"outputs\": [", n);
        for (size_t s = 0; s < n; s++) {
            fputs(s ? ",\n    [" : "\n    [", out);
            for (uint32_t k = 0; k < n_out; k++)
                fprintf(out, "%s%.17g", k ? ", " : "", y[s * n_out + k]);
            fputc(']', out);
        }
        fputs("\n  ],\n  \"predictions\": [", out);
        for (size_t s = 0; s < n; s++) {
            const double *r = y + s * n_out;
            uint32_t best = 0;
            for (uint32_t k = 1; k < n_out; k++)
                if (r[k] > r[best])
                    best = k;
            fprintf(out, "%s%u", s ? ", " : "", n_out == 1 ? (unsigned)(r[0] > threshold) : best);
        }
        fputs("]\n}\n", out);
    } else {
        for (size_t s = 0; s < n; s++)
            for (uint32_t k = 0; k < n_out; k++)
                fprintf(out, "%.17g%c", y[s * n_out + k], k + 1 == n_out ? '\n' : ',');
    }
    status = HNN_EXIT_OK;
    if (out != stdout && fclose(out) != 0)
        status = keys_error("decrypt", "cannot write '%s'", o.out);
out:
    free(y);
    if (buf)
        free(buf);
    hnnrt_ct_free(ct);
    hnnrt_pt_free(pt);
    hnnrt_decryptor_free(dec);
    hnnrt_encoder_free(enc);
    hnn_bundle_free(&b);
    hnnrt_secret_key_free(sk);
    hnnrt_context_free(ctx);
    return hnn_driver_session_close(&ses, status);
}

/* ------------------------------------------------------------------ refresh */

static void
hnn_refresh_help(FILE *out)
{
    fputs("usage: hnnc refresh --keys KEYDIR DIR [--timeout S]\n\n"
          "The key holder's side of the refresh points of 'hnnc eval --refresh-dir DIR':\n"
          "answers each DIR/request-N.hnnb (a refresh point's masked ciphertexts: the values\n"
          "plus a uniform mask the server drew, so the key holder learns nothing of them)\n"
          "with DIR/reply-N.hnnb, the same slots encrypted afresh at the level and scale the\n"
          "request names, until eval writes DIR/done. Fails when no request comes for S\n"
          "seconds (default 60).\n\n"
          "options:\n"
          "  --keys KEYDIR      reads params.hnnrt, secret-key.hnnrt and public-key.hnnrt\n"
          "  --timeout S        seconds to wait for the next request\n"
          "  -h, --help         print this help\n",
          out);
}

/* One refresh request: each of its masked ciphertexts decrypted and
 * encrypted again at the level and scale it names, streamed into the reply
 * one at a time (a request is a whole refresh point). 0, or an exit status
 * with the message printed. */
static int
answer_refresh(hnn_exec_keys *keys, hnn_exec_key_holder *holder, hnnrt_ct *ct, const char *req, const char *rep,
               size_t *answered)
{
    hnn_bundle b;
    char err[512];
    if (keys_read_bundle("refresh", req, keys->ctx, HNN_BUNDLE_REFRESH_REQUEST, 0, &b))
        return HNN_EXIT_USER;
    int rc = 0;
    if (b.h.groups != 1 || b.h.level > hnnrt_context_max_level(keys->ctx) || !isfinite(b.h.scale) || b.h.scale <= 0)
        rc = keys_error("refresh", "%s: a refresh request of %u groups names level %u, scale %g", req, b.h.groups,
                        b.h.level, b.h.scale);
    hnn_bundle_header rh = b.h;
    rh.stage = HNN_BUNDLE_REFRESH_REPLY;
    hnn_bundle_writer *w = NULL;
    if (rc == 0 && hnn_bundle_writer_open(&w, rep, &rh, err, sizeof err))
        rc = keys_error("refresh", "%s", err);
    for (size_t k = 0; rc == 0 && k < b.n; k++) {
        hnnrt_status st;
        if (hnn_bundle_ct(&b, k, keys->ctx, ct, err, sizeof err))
            rc = keys_error("refresh", "%s: %s", req, err);
        else if ((st = (hnnrt_status)hnn_exec_key_holder_refresh(holder, &ct, 1, rh.level, rh.scale)) != HNNRT_OK)
            rc = keys_error("refresh", "%s: ciphertext %zu: %s", req, k, hnnrt_status_message(st));
        else if (hnn_bundle_writer_add(w, ct, err, sizeof err))
            rc = keys_error("refresh", "%s", err);
    }
    if (rc == 0) {
        *answered += b.n;
        if (hnn_bundle_writer_close(w, err, sizeof err))
            rc = keys_error("refresh", "%s", err);
    } else {
        hnn_bundle_writer_abort(w);
    }
    hnn_bundle_free(&b);
    return rc;
}

static int
hnn_refresh_run(int argc, char **argv)
{
    /* No model: the key holder needs only its keys and the requests. The
     * first positional is the exchange directory. */
    keys_opts o = {.cmd = "refresh", .timeout_s = REFRESH_TIMEOUT_S};
    int rc = keys_parse(argc, argv, "kTD", hnn_refresh_help, &o);
    if (rc)
        return rc < 0 ? HNN_EXIT_OK : rc;
    const char *dir = o.model;
    hnn_exec_keys keys = {0};
    uint8_t *buf;
    size_t len;
    hnnrt_error e = {0};
    char *pp = keys_path(o.keys, KEYS_PARAMS), *done = keys_path(dir, "done");
    int status = HNN_EXIT_USER;
    if (!pp || !done || keys_read_object("refresh", pp, HNNRT_KIND_PARAMS, &buf, &len))
        goto out;
    hnnrt_status st = hnnrt_params_deserialize(&keys.ctx, buf, len, 0, &e);
    hnnrt_file_buffer_free(buf, len);
    if (st != HNNRT_OK) {
        keys_error("refresh", "%s: %s", pp, e.message[0] ? e.message : hnnrt_status_message(st));
        goto out;
    }
    if (keys_load_key("refresh", keys.ctx, o.keys, KEYS_SECRET, HNNRT_KIND_SECRET_KEY, (void **)&keys.sk) ||
        keys_load_key("refresh", keys.ctx, o.keys, KEYS_PUBLIC, HNNRT_KIND_PUBLIC_KEY, (void **)&keys.pk))
        goto out;
    /* A `done` left by an earlier run would end this one at once; no eval
     * can have finished a plan with refresh points before this started. */
    remove(done);
    unsigned seq = 0;
    size_t answered = 0;
    double last = keys_now_s();
    struct timespec nap = {0, 5 * 1000 * 1000};
    hnnrt_ct *ct = NULL;
    hnn_exec_key_holder *holder = NULL;
    if ((st = hnnrt_ct_new(keys.ctx, &ct)) != HNNRT_OK ||
        (st = (hnnrt_status)hnn_exec_key_holder_new(&keys, &holder)) != HNNRT_OK) {
        hnnrt_ct_free(ct);
        keys_error("refresh", "setting up the key holder: %s", hnnrt_status_message(st));
        goto out;
    }
    for (;;) {
        char name[64];
        snprintf(name, sizeof name, "request-%06u.hnnb", seq);
        char *req = keys_path(dir, name);
        snprintf(name, sizeof name, "reply-%06u.hnnb", seq);
        char *rep = keys_path(dir, name);
        if (!req || !rep) {
            free(req);
            free(rep);
            keys_error("refresh", "out of memory");
            break;
        }
        if (access(req, F_OK) != 0) {
            free(req);
            free(rep);
            if (access(done, F_OK) == 0) {
                remove(done);
                status = HNN_EXIT_OK;
                break;
            }
            if (keys_now_s() - last > o.timeout_s) {
                keys_error("refresh", "no request in %s for %.0f s", dir, o.timeout_s);
                break;
            }
            nanosleep(&nap, NULL);
            continue;
        }
        bool ok = answer_refresh(&keys, holder, ct, req, rep, &answered) == 0;
        remove(req);
        free(req);
        free(rep);
        if (!ok)
            break;
        seq++;
        last = keys_now_s();
    }
    hnnrt_ct_free(ct);
    hnn_exec_key_holder_free(holder);
    if (status == HNN_EXIT_OK)
        fprintf(stderr, "hnnc refresh: %u refresh request%s answered (%zu ciphertext%s)\n", seq, seq == 1 ? "" : "s",
                answered, answered == 1 ? "" : "s");
out:
    free(pp);
    free(done);
    hnn_exec_keys_free(&keys);
    return status;
}

const hnn_driver_cmd hnn_driver_cmd_keygen = {
    .name = "keygen",
    .summary = "generate a model's keys into a directory (client)",
    .run = hnn_keygen_run,
    .help = hnn_keygen_help,
};

const hnn_driver_cmd hnn_driver_cmd_encrypt = {
    .name = "encrypt",
    .summary = "encrypt a data set with the public key (client)",
    .run = hnn_encrypt_run,
    .help = hnn_encrypt_help,
};

const hnn_driver_cmd hnn_driver_cmd_eval = {
    .name = "eval",
    .summary = "evaluate encrypted inputs with the evaluation keys only (server)",
    .run = hnn_eval_run,
    .help = hnn_eval_help,
};

const hnn_driver_cmd hnn_driver_cmd_decrypt = {
    .name = "decrypt",
    .summary = "decrypt a model's encrypted outputs (client)",
    .run = hnn_decrypt_run,
    .help = hnn_decrypt_help,
};

const hnn_driver_cmd hnn_driver_cmd_refresh = {
    .name = "refresh",
    .summary = "answer the refresh requests of hnnc eval (key holder)",
    .run = hnn_refresh_run,
    .help = hnn_refresh_help,
};
