/*
 * The tensor IR: lowering checked against the layers computed directly from
 * the weights, simplification counts and equivalence, range soundness on
 * random inputs, the verifier on broken IRs, the printer against expected
 * text (tests/compiler/tir/NAME.expected, NAME.simplified.expected; run with
 * HNN_UPDATE_EXPECTED=1 to rewrite them), CSR helpers, and a 1,000-layer
 * chain simplified in well under a second.
 */
#include <float.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "front_helpers.h"
#include "middle/sparse.h"
#include "middle/tir.h"

/* ---------------------------------------------------------------- helpers */

/* splitmix64: a fixed-seed generator, so failures reproduce. */
static uint64_t
rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double
rng_uniform(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(rng_next(s) >> 11) * 0x1p-53);
}

/* tests/compiler/tir, found from this file's path (tests run from the root). */
static void
tir_dir(char *buf, size_t len)
{
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    int n = slash ? (int)(slash - file) : 0;
    snprintf(buf, len, "%.*s%stir", n, file, n ? "/" : "");
}

typedef struct tir_case {
    hnn_arena *arena;
    hnn_diag *diag;
    hnn_model *model;
    hnn_tir *tir;
} tir_case;

static tir_case
tir_load(const char *name)
{
    char dir[512], path[600];
    tir_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s.hnn", dir, name);
    tir_case c = {hnn_arena_new(), hnn_diag_new(), NULL, NULL};
    c.model = hnn_front_check_file(path, NULL, c.arena, c.diag, NULL);
    if (!c.model || hnn_diag_warning_count(c.diag)) {
        char *text = hnn_test_diag_text(c.diag);
        fail_msg("%s does not check cleanly:\n%s", path, text);
    }
    c.tir = hnn_tir_build(c.model, c.arena, c.diag);
    if (!c.tir) {
        char *text = hnn_test_diag_text(c.diag);
        fail_msg("%s does not lower:\n%s", path, text);
    }
    return c;
}

static tir_case
tir_load_text(const char *src)
{
    tir_case c = {hnn_arena_new(), hnn_diag_new(), NULL, NULL};
    c.model = hnn_front_check_text("t.hnn", src, strlen(src), "", NULL, c.arena, c.diag, NULL);
    if (!c.model) {
        char *text = hnn_test_diag_text(c.diag);
        fail_msg("model does not check:\n%s", text);
    }
    c.tir = hnn_tir_build(c.model, c.arena, c.diag);
    return c;
}

static void
tir_done(tir_case *c)
{
    hnn_diag_free(c->diag);
    hnn_arena_free(c->arena);
}

static void
assert_verifies(const hnn_tir *tir)
{
    char why[256];
    if (!hnn_tir_verify(tir, why, sizeof why))
        fail_msg("verify: %s", why);
}

static void
assert_close(double got, double want, double rel, const char *what, size_t i)
{
    double tol = rel * fmax(1.0, fabs(want));
    if (!(fabs(got - want) <= tol))
        fail_msg("%s[%zu]: got %.17g, want %.17g (tolerance %.3g)", what, i, got, want, tol);
}

static const hnn_tir_node *
tir_node_named(const hnn_tir *tir, const char *name)
{
    for (uint32_t i = 0; i < tir->n_nodes; i++)
        if (strcmp(tir->nodes[i]->name, name) == 0)
            return tir->nodes[i];
    fail_msg("no node named %s", name);
    return NULL;
}

/* Values of node id after hnn_tir_eval: the scratch layout of tir.h. */
static const double *
tir_values(const hnn_tir *tir, const double *scratch, uint32_t id)
{
    size_t off = 0;
    for (uint32_t i = 0; i < id; i++)
        off += tir->nodes[i]->size;
    return scratch + off;
}

typedef struct tir_eval_buf {
    double *x, *y, *scratch;
} tir_eval_buf;

static tir_eval_buf
tir_eval_buf_new(const hnn_tir *tir)
{
    tir_eval_buf b = {calloc(tir->input->size, sizeof(double)), calloc(tir->output->size, sizeof(double)),
                      calloc(hnn_tir_eval_scratch(tir), sizeof(double))};
    assert_non_null(b.x);
    assert_non_null(b.y);
    assert_non_null(b.scratch);
    return b;
}

static void
tir_eval_buf_free(tir_eval_buf *b)
{
    free(b->x);
    free(b->y);
    free(b->scratch);
}

static void
random_input(const hnn_tir *tir, uint64_t *seed, double *x)
{
    const hnn_layer *in = tir->input->layer;
    for (uint32_t i = 0; i < tir->input->size; i++) {
        /* A third of the inputs sit at a corner of the box, where linear
         * bounds are reached. */
        double lo, hi;
        hnn_input_element_range(in, i, &lo, &hi);
        uint64_t r = rng_next(seed) % 3;
        x[i] = r == 0 ? lo : r == 1 ? hi : rng_uniform(seed, lo, hi);
    }
}

/* ---------------------------------------------------------------- direct references */

/* y = W x + b with W [n_out][n_in] row-major. */
static void
ref_dense(const hnn_layer *l, const double *x, double *y)
{
    uint32_t units = l->u.dense.units, n = (uint32_t)hnn_shape_count(l->in[0]->shape);
    for (uint32_t r = 0; r < units; r++) {
        double s = l->u.dense.bias.data[r];
        for (uint32_t c = 0; c < n; c++)
            s += l->u.dense.weight.data[r * n + c] * x[c];
        y[r] = s;
    }
}

/* Cross-correlation with zero padding, straight from the definition. */
static void
ref_conv2d(const hnn_layer *l, const double *x, double *y)
{
    hnn_shape is = l->in[0]->shape, os = l->shape;
    uint32_t kh = l->u.conv2d.kernel[0], kw = l->u.conv2d.kernel[1];
    for (uint32_t co = 0; co < os.dim[0]; co++)
        for (uint32_t oy = 0; oy < os.dim[1]; oy++)
            for (uint32_t ox = 0; ox < os.dim[2]; ox++) {
                double s = l->u.conv2d.bias.data[co];
                for (uint32_t ci = 0; ci < is.dim[0]; ci++)
                    for (uint32_t ky = 0; ky < kh; ky++)
                        for (uint32_t kx = 0; kx < kw; kx++) {
                            long iy = (long)(oy * l->u.conv2d.stride[0] + ky) - (long)l->u.conv2d.padding[0];
                            long ix = (long)(ox * l->u.conv2d.stride[1] + kx) - (long)l->u.conv2d.padding[1];
                            double v = 0;
                            if (iy >= 0 && ix >= 0 && iy < (long)is.dim[1] && ix < (long)is.dim[2])
                                v = x[(ci * is.dim[1] + (uint32_t)iy) * is.dim[2] + (uint32_t)ix];
                            s += l->u.conv2d.weight.data[((co * is.dim[0] + ci) * kh + ky) * kw + kx] * v;
                        }
                y[(co * os.dim[1] + oy) * os.dim[2] + ox] = s;
            }
}

/* Sum (or average over the whole window, padding included) of each window. */
static void
ref_pool(const hnn_layer *l, const double *x, double *y)
{
    hnn_shape is = l->in[0]->shape, os = l->shape;
    uint32_t kh = l->u.pool.kernel[0], kw = l->u.pool.kernel[1];
    for (uint32_t c = 0; c < os.dim[0]; c++)
        for (uint32_t oy = 0; oy < os.dim[1]; oy++)
            for (uint32_t ox = 0; ox < os.dim[2]; ox++) {
                double s = 0;
                for (uint32_t ky = 0; ky < kh; ky++)
                    for (uint32_t kx = 0; kx < kw; kx++) {
                        long iy = (long)(oy * l->u.pool.stride[0] + ky) - (long)l->u.pool.padding[0];
                        long ix = (long)(ox * l->u.pool.stride[1] + kx) - (long)l->u.pool.padding[1];
                        if (iy >= 0 && ix >= 0 && iy < (long)is.dim[1] && ix < (long)is.dim[2])
                            s += x[(c * is.dim[1] + (uint32_t)iy) * is.dim[2] + (uint32_t)ix];
                    }
                if (l->op == HNN_OP_AVGPOOL)
                    s /= (double)(kh * kw);
                y[(c * os.dim[1] + oy) * os.dim[2] + ox] = s;
            }
}

static void
ref_batchnorm(const hnn_layer *l, const double *x, double *y)
{
    uint32_t n = (uint32_t)hnn_shape_count(l->shape), per = n / l->shape.dim[0];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = i / per;
        y[i] = l->u.batchnorm.gamma.data[c] * (x[i] - l->u.batchnorm.mean.data[c]) /
                   sqrt(l->u.batchnorm.var.data[c] + l->u.batchnorm.eps) +
               l->u.batchnorm.beta.data[c];
    }
}

static double
ref_power(const hnn_layer *l, double x)
{
    if (l->op == HNN_OP_SQUARE)
        return x * x;
    double s = 0;
    for (uint32_t k = l->u.poly.degree + 1; k-- > 0;)
        s = s * x + l->u.poly.coeffs[k];
    return s;
}

/*
 * The whole model computed layer by layer from its weights (values[i] for
 * layers[i]), activations by the node's fitted series (what the circuit
 * evaluates) and exact polynomials in the power basis.
 */
static double *
ref_model(const hnn_model *m, const hnn_tir *tir, const double *x)
{
    size_t total = 0;
    size_t *off = calloc(m->n_layers + 1, sizeof *off);
    for (uint32_t i = 0; i < m->n_layers; i++)
        off[i + 1] = off[i] + hnn_shape_count(m->layers[i]->shape);
    total = off[m->n_layers];
    double *v = calloc(total, sizeof *v);
    for (uint32_t i = 0; i < m->n_layers; i++) {
        const hnn_layer *l = m->layers[i];
        double *y = v + off[i];
        const double *a = l->n_in ? v + off[l->in[0]->index] : x;
        size_t n = hnn_shape_count(l->shape);
        switch (l->op) {
        case HNN_OP_INPUT:
        case HNN_OP_FLATTEN:
            memcpy(y, a, n * sizeof *y);
            break;
        case HNN_OP_DENSE:
            ref_dense(l, a, y);
            break;
        case HNN_OP_CONV2D:
            ref_conv2d(l, a, y);
            break;
        case HNN_OP_AVGPOOL:
        case HNN_OP_SUMPOOL:
            ref_pool(l, a, y);
            break;
        case HNN_OP_BATCHNORM:
            ref_batchnorm(l, a, y);
            break;
        case HNN_OP_ADD:
            for (size_t e = 0; e < n; e++)
                y[e] = a[e] + v[off[l->in[1]->index] + e];
            break;
        case HNN_OP_SQUARE:
        case HNN_OP_POLY:
            for (size_t e = 0; e < n; e++)
                y[e] = ref_power(l, a[e]);
            break;
        case HNN_OP_RELU:
        case HNN_OP_SIGMOID:
        case HNN_OP_TANH:
        case HNN_OP_GELU:
        case HNN_OP_EXP: {
            const hnn_cheb *p = &tir_node_named(tir, l->name)->u.poly.cheb;
            for (size_t e = 0; e < n; e++)
                y[e] = hnn_cheb_eval(p, a[e]);
            break;
        }
        case HNN_OP_SOFTARGMAX: {
            double top = -INFINITY, sum = 0;
            for (size_t e = 0; e < n; e++)
                top = fmax(top, a[e]);
            for (size_t e = 0; e < n; e++)
                sum += exp((a[e] - top) / l->u.softargmax.temperature);
            for (size_t e = 0; e < n; e++)
                y[e] = exp((a[e] - top) / l->u.softargmax.temperature) / sum;
            break;
        }
        case HNN_OP__COUNT:
            break;
        }
    }
    /* Keep the output only, at the start. */
    size_t out = hnn_shape_count(m->output->shape);
    memmove(v, v + off[m->output->index], out * sizeof *v);
    free(off);
    return v;
}

/* The TIR (as it is now) agrees with the direct computation of the model on
 * `trials` random inputs: every node that still has a layer of its own, and
 * the output. */
static void
assert_matches_model(const tir_case *c, int trials, double rel)
{
    uint64_t seed = 42;
    tir_eval_buf b = tir_eval_buf_new(c->tir);
    for (int t = 0; t < trials; t++) {
        random_input(c->tir, &seed, b.x);
        hnn_tir_eval(c->tir, b.x, b.y, b.scratch);
        double *ref = ref_model(c->model, c->tir, b.x);
        for (uint32_t i = 0; i < c->tir->output->size; i++)
            assert_close(b.y[i], ref[i], rel, "output", i);
        free(ref);
    }
    tir_eval_buf_free(&b);
}

/* Every node's values lie within its per-element bounds and its range. */
static void
assert_ranges_sound(const hnn_tir *tir, int trials)
{
    uint64_t seed = 7;
    tir_eval_buf b = tir_eval_buf_new(tir);
    for (int t = 0; t < trials; t++) {
        random_input(tir, &seed, b.x);
        hnn_tir_eval(tir, b.x, b.y, b.scratch);
        for (uint32_t k = 0; k < tir->n_nodes; k++) {
            const hnn_tir_node *n = tir->nodes[k];
            const double *v = tir_values(tir, b.scratch, k);
            for (uint32_t e = 0; e < n->size; e++)
                if (!(v[e] >= n->elem_lo[e] && v[e] <= n->elem_hi[e] && v[e] >= n->range.lo &&
                      v[e] <= n->range.hi))
                    fail_msg("%%%u %s[%u] = %.17g outside [%.17g, %.17g] (range [%.17g, %.17g])", k,
                             n->name, e, v[e], n->elem_lo[e], n->elem_hi[e], n->range.lo, n->range.hi);
        }
    }
    tir_eval_buf_free(&b);
}

/* Outputs before and after simplification agree to 1e-12 relative. */
typedef struct tir_outputs {
    double *y;
    size_t n, trials;
} tir_outputs;

static tir_outputs
tir_outputs_take(const hnn_tir *tir, size_t trials)
{
    uint64_t seed = 99;
    tir_outputs o = {calloc(trials * tir->output->size, sizeof(double)), tir->output->size, trials};
    tir_eval_buf b = tir_eval_buf_new(tir);
    for (size_t t = 0; t < trials; t++) {
        random_input(tir, &seed, b.x);
        hnn_tir_eval(tir, b.x, o.y + t * o.n, b.scratch);
    }
    tir_eval_buf_free(&b);
    return o;
}

static void
assert_same_outputs(const tir_outputs *before, const hnn_tir *tir)
{
    tir_outputs after = tir_outputs_take(tir, before->trials);
    assert_int_equal(after.n, before->n);
    for (size_t i = 0; i < before->n * before->trials; i++)
        assert_close(after.y[i], before->y[i], 1e-12, "simplified output", i);
    free(after.y);
}

static char *
tir_print_text(const hnn_tir *tir)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    hnn_tir_print(f, tir);
    fclose(f);
    return buf;
}

static char *
read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* The printed IR equals tests/compiler/tir/NAME.expected (or rewrites it). */
static void
assert_prints(const hnn_tir *tir, const char *name)
{
    char dir[512], path[700];
    tir_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s.expected", dir, name);
    char *got = tir_print_text(tir);
    const char *update = getenv("HNN_UPDATE_EXPECTED");
    if (update && *update == '1') {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fputs(got, f);
        fclose(f);
    }
    char *want = read_text(path);
    if (!want)
        fail_msg("missing %s; this run printed:\n%s", path, got);
    if (strcmp(got, want) != 0)
        fail_msg("%s differs; expected:\n%s\ngot:\n%s", path, want, got);
    free(want);
    free(got);
}

/* ---------------------------------------------------------------- sparse */

static void
sparse_from_triplets_sorts_sums_and_drops_zeros(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    static const uint32_t row[] = {2, 0, 0, 2, 1, 0, 2, 0};
    static const uint32_t col[] = {1, 3, 0, 1, 2, 3, 0, 2};
    static const double val[] = {1.5, 2, 1, 0.5, 0, -2, -4, 3};
    hnn_sparse m = hnn_sparse_from_triplets(a, 3, 4, 8, row, col, val);
    /* row 0: (0, 1), (2, 3), (3, 2 - 2 = 0 dropped); row 1: a zero; row 2: (0, -4), (1, 2) */
    assert_int_equal(m.nnz, 4);
    static const size_t rs[] = {0, 2, 2, 4};
    static const uint32_t cs[] = {0, 2, 0, 1};
    static const double vs[] = {1, 3, -4, 2};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(m.row_start[i], rs[i]);
        assert_int_equal(m.col[i], cs[i]);
        assert_true(m.val[i] == vs[i]);
    }
    char why[128];
    assert_true(hnn_sparse_check(&m, why, sizeof why));
    assert_true(hnn_sparse_get(&m, 2, 1) == 2);
    assert_true(hnn_sparse_get(&m, 0, 3) == 0);
    assert_false(hnn_sparse_is_diagonal(&m));

    hnn_sparse id = hnn_sparse_identity(a, 5);
    assert_true(hnn_sparse_is_identity(&id));
    assert_true(hnn_sparse_is_diagonal(&id));
    static const double d[] = {2, 0, 1, 1, 1};
    hnn_sparse dg = hnn_sparse_diagonal(a, 5, d);
    assert_int_equal(dg.nnz, 4);
    assert_true(hnn_sparse_is_diagonal(&dg));
    assert_false(hnn_sparse_is_identity(&dg));
    hnn_arena_free(a);
}

static hnn_sparse
random_sparse(hnn_arena *a, uint64_t *seed, uint32_t rows, uint32_t cols, double density, double *dense)
{
    size_t cap = (size_t)rows * cols, n = 0;
    uint32_t *r = malloc(cap * sizeof *r), *c = malloc(cap * sizeof *c);
    double *v = malloc(cap * sizeof *v);
    memset(dense, 0, cap * sizeof *dense);
    for (uint32_t i = 0; i < rows; i++)
        for (uint32_t j = 0; j < cols; j++)
            if (rng_uniform(seed, 0, 1) < density) {
                r[n] = i;
                c[n] = j;
                v[n] = rng_uniform(seed, -1, 1);
                dense[i * cols + j] = v[n];
                n++;
            }
    /* Shuffle the triplets: the builder must not rely on their order. */
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_next(seed) % i;
        uint32_t tr = r[i - 1], tc = c[i - 1];
        double tv = v[i - 1];
        r[i - 1] = r[j], c[i - 1] = c[j], v[i - 1] = v[j];
        r[j] = tr, c[j] = tc, v[j] = tv;
    }
    hnn_sparse m = hnn_sparse_from_triplets(a, rows, cols, n, r, c, v);
    free(r);
    free(c);
    free(v);
    return m;
}

static void
sparse_product_matches_dense(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    uint64_t seed = 1;
    enum { M = 9, K = 13, N = 7 };
    double da[M * K], db[K * N], dc[M * N];
    hnn_sparse sa = random_sparse(a, &seed, M, K, 0.3, da);
    hnn_sparse sb = random_sparse(a, &seed, K, N, 0.3, db);
    size_t structural = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            bool any = false;
            for (int k = 0; k < K; k++) {
                s += da[i * K + k] * db[k * N + j];
                any |= da[i * K + k] != 0 && db[k * N + j] != 0;
            }
            dc[i * N + j] = s;
            structural += any;
        }
    assert_int_equal(hnn_sparse_product_nnz(&sa, &sb, SIZE_MAX), structural);
    /* With a limit, counting stops just past it. */
    size_t capped = hnn_sparse_product_nnz(&sa, &sb, 5);
    assert_true(capped > 5 && capped <= structural);
    hnn_sparse sc = hnn_sparse_product(a, &sa, &sb);
    char why[128];
    assert_true(hnn_sparse_check(&sc, why, sizeof why));
    assert_int_equal(sc.nnz, structural);
    for (uint32_t i = 0; i < M; i++)
        for (uint32_t j = 0; j < N; j++)
            assert_close(hnn_sparse_get(&sc, i, j), dc[i * N + j], 1e-15, "product", i * N + j);

    double x[K], y[M], b[M];
    for (int k = 0; k < K; k++)
        x[k] = rng_uniform(&seed, -1, 1);
    for (int i = 0; i < M; i++)
        b[i] = rng_uniform(&seed, -1, 1);
    hnn_sparse_apply(&sa, b, x, y);
    for (int i = 0; i < M; i++) {
        double s = b[i];
        for (int k = 0; k < K; k++)
            s += da[i * K + k] * x[k];
        assert_close(y[i], s, 1e-15, "apply", (size_t)i);
    }
    hnn_arena_free(a);
}

/* ---------------------------------------------------------------- lowering */

static void
lower_mlp(void **state)
{
    (void)state;
    tir_case c = tir_load("mlp");
    const hnn_tir *t = c.tir;
    assert_verifies(t);
    assert_int_equal(t->n_nodes, 6);
    static const hnn_tir_kind kinds[] = {HNN_TIR_INPUT, HNN_TIR_AFFINE, HNN_TIR_AFFINE,
                                         HNN_TIR_AFFINE, HNN_TIR_POLY, HNN_TIR_AFFINE};
    static const size_t nnz[] = {0, 24, 6, 30, 0, 15};
    for (uint32_t i = 0; i < 6; i++) {
        assert_int_equal(t->nodes[i]->kind, kinds[i]);
        if (kinds[i] == HNN_TIR_AFFINE)
            assert_int_equal(t->nodes[i]->u.affine.w.nnz, nnz[i]);
    }
    assert_true(hnn_sparse_is_diagonal(&t->nodes[2]->u.affine.w));
    const hnn_tir_node *sq = t->nodes[4];
    assert_int_equal(sq->u.poly.source, HNN_OP_SQUARE);
    assert_int_equal(sq->u.poly.cheb.degree, 2);
    /* converted on its input's bound, exactly */
    assert_true(sq->u.poly.cheb.lo == t->nodes[3]->range.lo);
    assert_true(sq->u.poly.cheb.hi == t->nodes[3]->range.hi);
    assert_ptr_equal(t->output, t->nodes[5]);
    assert_int_equal(t->output->uses, 1);
    assert_matches_model(&c, 200, 1e-12);
    assert_ranges_sound(t, 2000);
    assert_prints(t, "mlp");
    tir_done(&c);
}

static void
lower_conv_and_pools(void **state)
{
    (void)state;
    tir_case c = tir_load("conv");
    assert_verifies(c.tir);
    assert_int_equal(c.tir->n_nodes, 5);
    /* 3x3 taps inside a 6x6 image with padding 1: 16 valid rows x 16 columns */
    assert_int_equal(c.tir->nodes[1]->u.affine.w.nnz, 256);
    assert_int_equal(c.tir->nodes[2]->u.affine.w.nnz, 36); /* 9 windows of 4 */
    assert_true(hnn_sparse_is_identity(&c.tir->nodes[3]->u.affine.w));
    assert_matches_model(&c, 200, 1e-12);
    assert_ranges_sound(c.tir, 2000);
    tir_done(&c);

    c = tir_load("cnn");
    assert_verifies(c.tir);
    const hnn_tir_node *conv = c.tir->nodes[1], *pool = c.tir->nodes[3];
    assert_int_equal(conv->size, 2 * 4 * 4);
    assert_int_equal(conv->u.affine.w.cols, 2 * 7 * 7);
    assert_int_equal(pool->size, 2 * 2 * 2);
    /* padded windows keep 1/9 on their inside taps: 5 x 5 taps per channel */
    assert_int_equal(pool->u.affine.w.nnz, 50);
    assert_true(pool->u.affine.w.val[0] == 1.0 / 9);
    assert_matches_model(&c, 200, 1e-12);
    assert_ranges_sound(c.tir, 2000);
    assert_prints(c.tir, "cnn");
    tir_done(&c);
}

static void
lower_residual_and_softargmax(void **state)
{
    (void)state;
    tir_case c = tir_load("residual");
    const hnn_tir *t = c.tir;
    assert_verifies(t);
    assert_int_equal(t->n_nodes, 7);
    const hnn_tir_node *d1 = tir_node_named(t, "d1"), *r = tir_node_named(t, "r");
    assert_int_equal(d1->uses, 2);
    assert_int_equal(r->kind, HNN_TIR_ADD);
    assert_ptr_equal(r->in[1], d1);
    assert_int_equal(t->output->kind, HNN_TIR_SOFTARGMAX);
    assert_true(t->output->u.softargmax.temperature == 0.5);
    assert_matches_model(&c, 200, 1e-12);
    assert_ranges_sound(t, 2000);

    /* The soft-argmax is exact: softmax(logits / T), summing to 1. */
    uint64_t seed = 5;
    tir_eval_buf b = tir_eval_buf_new(t);
    random_input(t, &seed, b.x);
    hnn_tir_eval(t, b.x, b.y, b.scratch);
    const double *logits = tir_values(t, b.scratch, t->output->in[0]->id);
    double e0 = exp(logits[0] / 0.5), e1 = exp(logits[1] / 0.5);
    assert_close(b.y[0], e0 / (e0 + e1), 1e-15, "softargmax", 0);
    assert_close(b.y[0] + b.y[1], 1, 1e-15, "softargmax sum", 0);
    tir_eval_buf_free(&b);

    assert_int_equal(hnn_tir_simplify(c.tir, c.arena), 0);
    assert_verifies(t);
    assert_int_equal(t->n_nodes, 7);
    assert_prints(t, "residual");
    tir_done(&c);
}

static void
lower_every_activation(void **state)
{
    (void)state;
    tir_case c = tir_load("acts");
    const hnn_tir *t = c.tir;
    assert_verifies(t);
    static const struct {
        const char *name;
        hnn_op op;
        uint32_t degree; /* 0: auto */
        double lo, hi;
    } want[] = {
        {"r", HNN_OP_RELU, 7, -2, 2},    {"s", HNN_OP_SIGMOID, 0, -4, 4}, {"t", HNN_OP_TANH, 9, -4, 4},
        {"g", HNN_OP_GELU, 8, -4, 4},    {"e", HNN_OP_EXP, 0, -5, 3},
    };
    double target = 0x1p-14; /* precision 12 bits by default, two bits of headroom */
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const hnn_tir_node *n = tir_node_named(t, want[i].name);
        const hnn_cheb *p = &n->u.poly.cheb;
        assert_int_equal(n->kind, HNN_TIR_POLY);
        assert_int_equal(n->u.poly.source, want[i].op);
        assert_true(p->lo == want[i].lo && p->hi == want[i].hi);
        if (want[i].degree) {
            assert_int_equal(p->degree, want[i].degree);
            assert_false(n->u.poly.auto_degree);
        } else {
            /* auto: the smallest degree that meets the target */
            assert_true(n->u.poly.auto_degree);
            assert_true(p->max_error <= target);
            assert_true(p->degree >= 2 && p->degree <= 63);
            hnn_cheb lower = hnn_approx_fit(c.arena, want[i].op, p->degree - 1, p->lo, p->hi);
            assert_true(lower.max_error > target);
        }
        /* The fit is what it says: within its max error of the function. */
        assert_true(p->max_error > 0);
        for (int k = 0; k <= 1000; k++) {
            double x = p->lo + (p->hi - p->lo) * k / 1000;
            double err = fabs(hnn_cheb_eval(p, x) - hnn_approx_activation(want[i].op, x));
            if (!(err <= p->max_error * 1.05 + 1e-12))
                fail_msg("%s at %g: error %g, max_error %g", want[i].name, x, err, p->max_error);
        }
    }
    assert_matches_model(&c, 200, 1e-12);
    assert_ranges_sound(t, 2000);
    assert_prints(t, "acts");
    assert_int_equal(hnn_tir_simplify(c.tir, c.arena), 0);
    assert_verifies(t);
    assert_ranges_sound(t, 2000);
    assert_int_equal(hnn_tir_check_intervals(t, false, c.diag), 0);
    tir_done(&c);
}

static void
lower_prunes_unused_and_rejects_what_cannot_run(void **state)
{
    (void)state;
    tir_case c = tir_load_text("model m {\n"
                               "  input x: vector(2) range [-1, 1];\n"
                               "  layer d = dense(x, 2, weight [[1, 2], [3, 4]]);\n"
                               "  layer unused = square(x);\n"
                               "  layer s = square(d);\n"
                               "  output s;\n"
                               "}\n");
    assert_non_null(c.tir);
    assert_verifies(c.tir);
    assert_int_equal(c.tir->n_nodes, 3);
    assert_int_equal(c.tir->input->uses, 1);
    tir_done(&c);

    c = tir_load_text("model m {\n"
                      "  input x: vector(2) range [-1, 1];\n"
                      "  weights none;\n"
                      "  layer d = dense(x, 2);\n"
                      "  output d;\n"
                      "}\n");
    assert_null(c.tir);
    char *text = hnn_test_diag_text(c.diag);
    assert_non_null(strstr(text, "t.hnn:3:11: error: model 'm' has no weight values"));
    free(text);
    tir_done(&c);

    c = tir_load_text("model m {\n"
                      "  input x: vector(2) range [-1, 1];\n"
                      "  layer s = softargmax(x);\n"
                      "  layer d = dense(s, 2, weight [[1, 2], [3, 4]]);\n"
                      "  output d;\n"
                      "}\n");
    assert_null(c.tir);
    text = hnn_test_diag_text(c.diag);
    assert_non_null(strstr(text, "t.hnn:3:3: error: softargmax 's' can only be the output"));
    free(text);
    tir_done(&c);

    /* degree auto that no degree up to 63 meets: the best fit, and a warning */
    c = tir_load_text("model m {\n"
                      "  input x: vector(2) range [-6, 6];\n"
                      "  layer r = relu(x, degree auto, interval [-6, 6]);\n"
                      "  output r;\n"
                      "}\n");
    assert_non_null(c.tir);
    assert_int_equal(c.tir->output->u.poly.cheb.degree, 63);
    assert_int_equal(hnn_diag_warning_count(c.diag), 1);
    text = hnn_test_diag_text(c.diag);
    assert_non_null(strstr(text, "t.hnn:3:28: warning: no degree up to 63 approximates relu on [-6, 6] "
                                 "within 2^-14 (the target for 12 bits); degree 63 is used"));
    free(text);
    tir_done(&c);

    /* Nothing but the input. */
    c = tir_load_text("model m {\n  input x: vector(3) range [0, 1];\n  output x;\n}\n");
    assert_non_null(c.tir);
    assert_verifies(c.tir);
    assert_int_equal(c.tir->n_nodes, 1);
    assert_ptr_equal(c.tir->output, c.tir->input);
    double x[3] = {0.25, 0.5, 1}, y[3], scratch[3];
    hnn_tir_eval(c.tir, x, y, scratch);
    assert_true(y[0] == 0.25 && y[2] == 1);
    tir_done(&c);
}

/* ---------------------------------------------------------------- simplify */

static void
simplify_mlp_folds_batchnorm_and_merges(void **state)
{
    (void)state;
    tir_case c = tir_load("mlp");
    tir_outputs before = tir_outputs_take(c.tir, 200);
    assert_int_equal(hnn_tir_simplify(c.tir, c.arena), 2);
    const hnn_tir *t = c.tir;
    assert_verifies(t);
    assert_int_equal(t->n_nodes, 4);
    const hnn_tir_node *m = t->nodes[1];
    assert_string_equal(m->name, "h1+bn+h2");
    assert_int_equal(m->u.affine.w.rows, 5);
    assert_int_equal(m->u.affine.w.cols, 4);
    assert_int_equal(m->u.affine.w.nnz, 20);
    assert_int_equal(t->nodes[2]->kind, HNN_TIR_POLY);
    assert_ptr_equal(t->nodes[2]->in[0], m);
    assert_int_equal(t->output->id, 3);
    assert_same_outputs(&before, t);
    assert_ranges_sound(t, 2000);
    assert_prints(t, "mlp.simplified");
    /* A second run finds nothing. */
    assert_int_equal(hnn_tir_simplify(c.tir, c.arena), 0);
    free(before.y);
    tir_done(&c);
}

static void
simplify_conv_chain_into_one_sparse_map(void **state)
{
    (void)state;
    tir_case c = tir_load("conv");
    tir_outputs before = tir_outputs_take(c.tir, 200);
    assert_int_equal(hnn_tir_simplify(c.tir, c.arena), 3);
    const hnn_tir *t = c.tir;
    assert_verifies(t);
    assert_int_equal(t->n_nodes, 2);
    const hnn_tir_node *m = t->output;
    assert_string_equal(m->name, "c+p+f+d");
    assert_int_equal(m->u.affine.w.rows, 3);
    assert_int_equal(m->u.affine.w.cols, 36);
    /* conv o sumpool: 4x4 windows clipped to the image, 10 x 10 = 100 taps;
     * the dense layer mixes all 9 sums, so each output reads all 36 pixels */
    assert_int_equal(m->u.affine.w.nnz, 108);
    assert_same_outputs(&before, t);
    assert_ranges_sound(t, 2000);
    assert_prints(t, "conv.simplified");
    free(before.y);
    tir_done(&c);

    /* With a square after the conv: pool and flatten merge, the dense stays
     * (4 x 32 = 128 entries against 50 + 32). */
    c = tir_load("cnn");
    before = tir_outputs_take(c.tir, 200);
    assert_int_equal(hnn_tir_simplify(c.tir, c.arena), 1);
    t = c.tir;
    assert_verifies(t);
    assert_int_equal(t->n_nodes, 5);
    assert_string_equal(t->nodes[3]->name, "p+f");
    assert_int_equal(t->nodes[3]->u.affine.w.nnz, 50);
    assert_int_equal(t->nodes[4]->u.affine.w.nnz, 32);
    assert_same_outputs(&before, t);
    assert_ranges_sound(t, 2000);
    assert_prints(t, "cnn.simplified");
    free(before.y);
    tir_done(&c);
}

static void
simplify_drops_identities_and_respects_uses(void **state)
{
    (void)state;
    /* flatten straight after the input: nothing to merge with, dropped */
    tir_case c = tir_load_text("model m {\n"
                               "  input x: image(1, 2, 2) range [-1, 1];\n"
                               "  layer f = flatten(x);\n"
                               "  layer s = square(f);\n"
                               "  output s;\n"
                               "}\n");
    assert_non_null(c.tir);
    assert_int_equal(hnn_tir_simplify(c.tir, c.arena), 1);
    assert_verifies(c.tir);
    assert_int_equal(c.tir->n_nodes, 2);
    assert_ptr_equal(c.tir->output->in[0], c.tir->input);
    tir_done(&c);

    /* a flatten as the output: the output becomes its input */
    c = tir_load_text("model m {\n"
                      "  input x: image(1, 2, 2) range [-1, 1];\n"
                      "  layer s = square(x);\n"
                      "  layer f = flatten(s);\n"
                      "  output f;\n"
                      "}\n");
    assert_int_equal(hnn_tir_simplify(c.tir, c.arena), 1);
    assert_verifies(c.tir);
    assert_int_equal(c.tir->output->kind, HNN_TIR_POLY);
    tir_done(&c);

    /* d is read by the square and by the add: it stays, and so does e */
    c = tir_load_text("model m {\n"
                      "  input x: vector(2) range [-1, 1];\n"
                      "  layer d = dense(x, 2, weight [[1, 2], [3, 4]]);\n"
                      "  layer e = dense(d, 2, weight [[1, 0], [1, 1]]);\n"
                      "  layer s = square(d);\n"
                      "  layer r = add(s, e);\n"
                      "  output r;\n"
                      "}\n");
    assert_int_equal(hnn_tir_simplify(c.tir, c.arena), 0);
    assert_int_equal(c.tir->n_nodes, 5);
    tir_done(&c);

    /* expand-then-contract: 1 x 8 times 8 x 8 costs more than the pair? No:
     * 8 x 1 then 1 x 8 gives an 8 x 8 product (64 > 8 + 8): kept apart. */
    c = tir_load_text("model m {\n"
                      "  input x: vector(8) range [-1, 1];\n"
                      "  layer a = dense(x, 1, weight [[1, 1, 1, 1, 1, 1, 1, 1]]);\n"
                      "  layer b = dense(a, 8, weight [[1], [2], [3], [4], [5], [6], [7], [8]]);\n"
                      "  output b;\n"
                      "}\n");
    assert_int_equal(hnn_tir_simplify(c.tir, c.arena), 0);
    assert_int_equal(c.tir->n_nodes, 3);
    tir_done(&c);
}

/* ---------------------------------------------------------------- ranges */

static void
ranges_are_tight_where_they_can_be(void **state)
{
    (void)state;
    tir_case c = tir_load_text("model m {\n"
                               "  input x: vector(2) range [-2, 2];\n"
                               "  layer bn = batchnorm(x, gamma [1, 2], beta [0, 0.5], mean [0, 1], "
                               "var [3, 0.25], eps 1);\n"
                               "  layer s = square(bn);\n"
                               "  output s;\n"
                               "}\n");
    const hnn_tir_node *bn = c.tir->nodes[1], *s = c.tir->nodes[2];
    /* bn: x / 2 on [-2, 2], and 2 (x - 1) / sqrt(1.25) + 0.5 */
    double a = 2 / sqrt(1.25);
    assert_close(bn->elem_lo[0], -1, 1e-14, "bn lo", 0);
    assert_close(bn->elem_hi[0], 1, 1e-14, "bn hi", 0);
    assert_close(bn->elem_lo[1], -3 * a + 0.5, 1e-14, "bn lo", 1);
    assert_close(bn->elem_hi[1], a + 0.5, 1e-14, "bn hi", 1);
    /* the square of [-1, 1] per element, within a fraction of a percent */
    assert_true(s->elem_lo[0] <= 0 && s->elem_lo[0] > -1e-3);
    assert_true(s->elem_hi[0] >= 1 && s->elem_hi[0] < 1.005);
    double top = (-3 * a + 0.5) * (-3 * a + 0.5);
    assert_true(s->elem_hi[1] >= top && s->elem_hi[1] < top * 1.005);
    assert_true(s->range.hi == s->elem_hi[1]);
    tir_done(&c);
}

/* Each input element starts from its own range: the bound of a standardised
 * logit over features of very different scales stays small (with the hull
 * [0, 4300] for every feature it would be in the thousands), and is sound. */
static void
ranges_start_from_each_elements_own_range(void **state)
{
    (void)state;
    tir_case c = tir_load_text("model m {\n"
                               "  input x: vector(3) range [[0, 1], [-2, 2], [100, 4300]];\n"
                               "  layer bn = batchnorm(x, gamma [1, 1, 1], beta [0, 0, 0], mean [0.5, 0, 2200],\n"
                               "                       var [0.25, 1, 1e6], eps 1e-12);\n"
                               "  layer d = dense(bn, 1, weight [[1, 2, 3]], bias [0.5]);\n"
                               "  output sigmoid(d, degree 5, interval [-8, 8]);\n"
                               "}\n");
    assert_non_null(c.tir);
    const hnn_tir_node *in = c.tir->input;
    assert_true(in->elem_lo[0] == 0 && in->elem_hi[0] == 1);
    assert_true(in->elem_lo[1] == -2 && in->elem_hi[1] == 2);
    assert_true(in->elem_lo[2] == 100 && in->elem_hi[2] == 4300);
    assert_true(in->range.lo == -2 && in->range.hi == 4300);
    hnn_tir_simplify(c.tir, c.arena);
    assert_verifies(c.tir);
    /* bn+d: 2 (x0 - 0.5) + 2 x1 + 3 (x2 - 2200) / 1000 + 0.5, over the box:
     * [-1 - 4 - 6.3 + 0.5, 1 + 4 + 6.3 + 0.5] = [-10.8, 11.8]. */
    const hnn_tir_node *d = c.tir->output->in[0];
    assert_int_equal(d->kind, HNN_TIR_AFFINE);
    assert_close(d->range.lo, -10.8, 1e-9, "logit lo", 0);
    assert_close(d->range.hi, 11.8, 1e-9, "logit hi", 0);
    assert_ranges_sound(c.tir, 2000);
    tir_done(&c);
}

/* A wide node of high degree takes the bucket path of tir_range.c (200
 * elements x degree 63 is over its budget): still sound, and near the
 * function's own range. */
static void
ranges_of_wide_high_degree_nodes(void **state)
{
    (void)state;
    enum { N = 200 };
    size_t cap = 16 * 1024, n = 0;
    char *src = malloc(cap);
    n += (size_t)snprintf(src + n, cap - n, "model m {\n  input x: vector(%d) range [-1, 1];\n"
                          "  layer bn = batchnorm(x, beta [", N);
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(src + n, cap - n, "%s%g", i ? ", " : "", (i % 20) * 0.1 - 1);
    n += (size_t)snprintf(src + n, cap - n, "], gamma [");
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(src + n, cap - n, "%s%g", i ? ", " : "", 0.5 + (i % 7) * 0.25);
    n += (size_t)snprintf(src + n, cap - n, "], mean [");
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(src + n, cap - n, "%s0", i ? ", " : "");
    n += (size_t)snprintf(src + n, cap - n, "], var [");
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(src + n, cap - n, "%s1", i ? ", " : "");
    snprintf(src + n, cap - n, "], eps 0.0001);\n  layer t = tanh(bn, degree 63, interval [-4, 4]);\n"
             "  output t;\n}\n");
    tir_case c = tir_load_text(src);
    assert_non_null(c.tir);
    assert_verifies(c.tir);
    const hnn_tir_node *t = c.tir->output;
    assert_int_equal(t->u.poly.cheb.degree, 63);
    assert_ranges_sound(c.tir, 2000);
    /* bn reaches [-3, 2.9] (gamma 2, beta -1 and 0.9): the fit of tanh there,
     * within its max error and the bucket's excess */
    double slack = t->u.poly.cheb.max_error + 0.01;
    double err = t->u.poly.cheb.max_error + 1e-12;
    assert_true(t->range.lo >= tanh(-3) - slack && t->range.lo <= tanh(-3) + err);
    assert_true(t->range.hi <= tanh(2.9) + slack && t->range.hi >= tanh(2.9) - err);
    /* element 0: bn = 0.5 x - 1 on [-1.5, -0.5] */
    assert_true(t->elem_lo[0] <= tanh(-1.5) && t->elem_lo[0] > tanh(-1.5) - slack - 0.05);
    tir_done(&c);
    free(src);
}

static void
ranges_sound_after_simplify_on_every_model(void **state)
{
    (void)state;
    static const char *const names[] = {"mlp", "conv", "cnn", "residual", "acts"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tir_case c = tir_load(names[i]);
        hnn_tir_simplify(c.tir, c.arena);
        assert_verifies(c.tir);
        assert_ranges_sound(c.tir, 3000);
        assert_matches_model(&c, 50, 1e-12);
        tir_done(&c);
    }
}

static void
interval_warnings_use_the_sharper_ranges(void **state)
{
    (void)state;
    /* The front end's bound on d is not exact, so it says nothing; the
     * computed range [-2, 2] is outside [-1.5, 1.5]: one warning, at the
     * interval. */
    tir_case c = tir_load_text("model m {\n"
                               "  input x: vector(2) range [-1, 1];\n"
                               "  layer d = dense(x, 2, weight [[1, 1], [1, -1]]);\n"
                               "  layer r = relu(d, degree 4,\n"
                               "                 interval [-1.5, 1.5]);\n"
                               "  output r;\n"
                               "}\n");
    assert_int_equal(hnn_diag_warning_count(c.diag), 0);
    hnn_tir_simplify(c.tir, c.arena);
    assert_int_equal(hnn_tir_check_intervals(c.tir, false, c.diag), 1);
    assert_int_equal(hnn_diag_warning_count(c.diag), 1);
    char *text = hnn_test_diag_text(c.diag);
    assert_non_null(strstr(text, "t.hnn:5:27: warning: the interval [-1.5, 1.5] of relu 'r' does not "
                                 "cover its input, whose values can reach [-2, 2]"));
    free(text);
    tir_done(&c);

    /* Chained bounds say [-2, 2]; merged, d2 = x0 exactly: no warning. */
    c = tir_load_text("model m {\n"
                      "  input x: vector(2) range [-1, 1];\n"
                      "  layer d1 = dense(x, 2, weight [[1, 1], [1, -1]]);\n"
                      "  layer d2 = dense(d1, 1, weight [[0.5, 0.5]]);\n"
                      "  layer r = relu(d2, degree 4, interval [-1, 1]);\n"
                      "  output r;\n"
                      "}\n");
    hnn_diag *scratch = hnn_diag_new();
    assert_int_equal(hnn_tir_check_intervals(c.tir, false, scratch), 1);
    hnn_diag_free(scratch);
    assert_int_equal(hnn_tir_simplify(c.tir, c.arena), 1);
    assert_int_equal(hnn_tir_check_intervals(c.tir, false, c.diag), 0);
    assert_int_equal(hnn_diag_warning_count(c.diag), 0);
    tir_done(&c);

    /* An exact bound outside the interval: the front end warned, once. */
    hnn_test_run r = hnn_test_check("model m {\n"
                                    "  input x: vector(2) range [-2, 2];\n"
                                    "  layer r = relu(x, degree 4, interval [-1, 1]);\n"
                                    "  output r;\n"
                                    "}\n");
    assert_int_equal(hnn_diag_warning_count(r.diag), 1);
    hnn_tir *t = hnn_tir_build(r.model, r.arena, r.diag);
    assert_int_equal(hnn_tir_check_intervals(t, false, r.diag), 0);
    assert_int_equal(hnn_diag_warning_count(r.diag), 1);
    hnn_test_done(&r);
}

/* ---------------------------------------------------------------- verify */

static void
assert_broken(const hnn_tir *tir, const char *needle)
{
    char why[256] = "";
    if (hnn_tir_verify(tir, why, sizeof why))
        fail_msg("verify accepted an IR with: %s", needle);
    if (!strstr(why, needle))
        fail_msg("verify said \"%s\", expected \"%s\"", why, needle);
}

static void
verify_catches_broken_irs(void **state)
{
    (void)state;
    tir_case c = tir_load("mlp");
    hnn_tir *t = c.tir;
    assert_verifies(t);
    hnn_tir_node *h1 = t->nodes[1], *sq = t->nodes[4];
    hnn_sparse *w = &h1->u.affine.w;

    uint32_t col = w->col[0];
    w->col[0] = w->col[1];
    w->col[1] = col;
    assert_broken(t, "%1 (h1): row 0: columns not strictly increasing");
    w->col[1] = w->col[0];
    w->col[0] = col;

    w->col[3] = 4;
    assert_broken(t, "column 4 out of range");
    w->col[3] = 3;

    w->rows = 5;
    assert_broken(t, "matrix is 5 x 4, the node needs 6 x 4");
    w->rows = 6;

    size_t end = w->row_start[6];
    w->row_start[6] = end - 1;
    assert_broken(t, "row_start runs from 0 to 23, not 0 to nnz 24");
    w->row_start[6] = end;

    double v = w->val[5];
    w->val[5] = NAN;
    assert_broken(t, "value nan is not finite");
    w->val[5] = v;

    double b = h1->u.affine.bias[2];
    h1->u.affine.bias[2] = INFINITY;
    assert_broken(t, "bias missing or not finite");
    h1->u.affine.bias[2] = b;

    double c1 = sq->u.poly.cheb.coeffs[1];
    sq->u.poly.cheb.coeffs[1] = NAN;
    assert_broken(t, "%4 (sq): polynomial coefficient not finite");
    sq->u.poly.cheb.coeffs[1] = c1;

    double lo = sq->u.poly.cheb.lo;
    sq->u.poly.cheb.lo = sq->u.poly.cheb.hi;
    assert_broken(t, "polynomial interval");
    sq->u.poly.cheb.lo = lo;

    sq->size = 4;
    assert_broken(t, "size 4, its input's 5");
    sq->size = 5;

    sq->uses = 2;
    assert_broken(t, "uses is 2, but 1 read it");
    sq->uses = 1;

    double hi = sq->range.hi;
    sq->range.hi = NAN;
    assert_broken(t, "range [");
    sq->range.hi = hi;

    sq->elem_hi[0] = hi * 2;
    assert_broken(t, "element 0 bound");
    hnn_tir_compute_ranges(t);

    hnn_tir_node *in = sq->in[0];
    sq->in[0] = t->nodes[5];
    assert_broken(t, "input 0 is not an earlier node");
    sq->in[0] = in;

    t->output = t->nodes[4];
    assert_broken(t, "the output is not the last node");
    t->output = t->nodes[5];

    t->nodes[5]->kind = HNN_TIR_ADD;
    assert_broken(t, "add with 1 inputs");
    t->nodes[5]->kind = HNN_TIR_AFFINE;

    t->nodes[2]->id = 7;
    assert_broken(t, "node 2 has id 7");
    t->nodes[2]->id = 2;

    assert_verifies(t);
    tir_done(&c);
}

/* ---------------------------------------------------------------- scale */

enum { CHAIN = 1000, WIDTH = 16 };

static double
seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A 1,000-layer chain in groups of five: dense, batchnorm, dense, dense,
 * square. Each group's four linear layers fold into one map. Row sums of
 * |W| are below 1 so bounds stay near [-1, 1]. */
static void
simplify_thousand_layer_chain(void **state)
{
    (void)state;
    char dir[] = "/tmp/hnn-test-tir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/chain.weights.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    uint64_t seed = 3;
    size_t cap = (size_t)CHAIN * 64 + 256, n = 0;
    char *src = malloc(cap);
    n += (size_t)snprintf(src + n, cap - n, "model chain {\n  input x: vector(%d) range [-1, 1];\n"
                          "  weights \"chain.weights.json\";\n", WIDTH);
    fprintf(f, "{\"layers\": {\n");
    const char *sep = "";
    for (int i = 0; i < CHAIN; i++) {
        const char *prev = i ? "" : "x, ";
        switch (i % 5) {
        case 1:
            n += (size_t)snprintf(src + n, cap - n, "  layer l%d = batchnorm();\n", i);
            fprintf(f, "%s\"l%d\": {\"gamma\": [", sep, i);
            sep = ",\n";
            for (int k = 0; k < 4; k++) {
                const char *name[] = {"gamma", "beta", "mean", "var"};
                if (k)
                    fprintf(f, "], \"%s\": [", name[k]);
                for (int j = 0; j < WIDTH; j++)
                    fprintf(f, "%s%.3f", j ? ", " : "", k == 0 ? rng_uniform(&seed, 0.5, 0.9)
                                                 : k == 3 ? rng_uniform(&seed, 0.9, 1.1)
                                                          : rng_uniform(&seed, -0.05, 0.05));
            }
            fprintf(f, "]}");
            break;
        case 4:
            n += (size_t)snprintf(src + n, cap - n, "  layer l%d = square();\n", i);
            break;
        default:
            n += (size_t)snprintf(src + n, cap - n, "  layer l%d = dense(%s%d);\n", i, prev, WIDTH);
            fprintf(f, "%s\"l%d\": {\"weight\": [", sep, i);
            sep = ",\n";
            for (int r = 0; r < WIDTH; r++) {
                fprintf(f, "%s[", r ? ", " : "");
                for (int j = 0; j < WIDTH; j++)
                    fprintf(f, "%s%.4f", j ? ", " : "", rng_uniform(&seed, -1, 1) / (WIDTH + 1));
                fprintf(f, "]");
            }
            fprintf(f, "]}");
            break;
        }
    }
    fprintf(f, "\n}}\n");
    fclose(f);
    snprintf(src + n, cap - n, "  output l%d;\n}\n", CHAIN - 1);

    hnn_test_run r = hnn_test_check_in(src, dir);
    if (!r.model)
        fail_msg("the chain does not check:\n%.2000s", r.out);
    double t0 = seconds();
    hnn_tir *t = hnn_tir_build(r.model, r.arena, r.diag);
    double t1 = seconds();
    assert_non_null(t);
    assert_int_equal(t->n_nodes, CHAIN + 1);
    tir_outputs before = tir_outputs_take(t, 20);
    double t2 = seconds();
    uint32_t removed = hnn_tir_simplify(t, r.arena);
    double t3 = seconds();
    assert_int_equal(removed, 600);
    assert_int_equal(t->n_nodes, CHAIN + 1 - 600);
    assert_verifies(t);
    assert_same_outputs(&before, t);
    print_message("  measured 1,000-layer chain: build %.1f ms, simplify %.1f ms (%u -> %u nodes)\n",
                  (t1 - t0) * 1e3, (t3 - t2) * 1e3, CHAIN + 1, t->n_nodes);
    assert_true(t3 - t2 < 0.25);
    free(before.y);
    hnn_test_done(&r);
    free(src);
    remove(path);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sparse_from_triplets_sorts_sums_and_drops_zeros),
        cmocka_unit_test(sparse_product_matches_dense),
        cmocka_unit_test(lower_mlp),
        cmocka_unit_test(lower_conv_and_pools),
        cmocka_unit_test(lower_residual_and_softargmax),
        cmocka_unit_test(lower_every_activation),
        cmocka_unit_test(lower_prunes_unused_and_rejects_what_cannot_run),
        cmocka_unit_test(simplify_mlp_folds_batchnorm_and_merges),
        cmocka_unit_test(simplify_conv_chain_into_one_sparse_map),
        cmocka_unit_test(simplify_drops_identities_and_respects_uses),
        cmocka_unit_test(ranges_are_tight_where_they_can_be),
        cmocka_unit_test(ranges_start_from_each_elements_own_range),
        cmocka_unit_test(ranges_of_wide_high_degree_nodes),
        cmocka_unit_test(ranges_sound_after_simplify_on_every_model),
        cmocka_unit_test(interval_warnings_use_the_sharper_ranges),
        cmocka_unit_test(verify_catches_broken_irs),
        cmocka_unit_test(simplify_thousand_layer_chain),
    };
    return cmocka_run_group_tests_name("middle/tir", tests, NULL, NULL);
}
