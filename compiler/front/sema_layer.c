/*
 * Layer rules: one function per kind (grep ORDER OP), each checking its
 * parameters and inputs, reading its weights, and computing its output shape
 * and value bound.
 */
#include <math.h>
#include <string.h>

#include "front/sema_internal.h"

typedef struct hnn_op_info {
    const char *name;
    uint32_t min_in, max_in;
    const char *positional, *options;
} hnn_op_info;

static const hnn_op_info hnn_op_table[HNN_OP__COUNT] = {
#define HNN_OP(e, nm, min_in, max_in, pos, opts) [HNN_OP_##e] = {nm, min_in, max_in, pos, opts},
#include "front/ops.def"
#undef HNN_OP
};

/* Everything a rule needs about the layer being checked. */
typedef struct hnn_sema_ctx {
    hnn_sema *s;
    hnn_layer *layer;
    const hnn_sema_call *call;
    const char *what; /* "dense 'h1'" */
} hnn_sema_ctx;

static const char *
hnn_sema_shape_text(hnn_sema *s, hnn_shape shape)
{
    char buf[96];
    hnn_shape_format(buf, sizeof buf, shape);
    return hnn_arena_strdup(s->arena, buf);
}

static const char *
hnn_sema_param_what(const hnn_sema_ctx *x, const char *key)
{
    return hnn_arena_printf(x->s->arena, "'%s' of %s", key, x->what);
}

/* The value of a parameter, or NULL. */
static const hnn_ast_value *
hnn_sema_opt(const hnn_sema_ctx *x, const char *key)
{
    const hnn_ast_arg *a = hnn_sema_arg(x->call, key);
    return a ? a->value : NULL;
}

static bool
hnn_sema_required_uint(const hnn_sema_ctx *x, const char *key, uint64_t min, uint64_t max,
                       const char *example, uint32_t *out)
{
    const hnn_ast_value *v = hnn_sema_opt(x, key);
    if (!v) {
        hnn_diag_error(x->s->diag, x->call->call->loc, "%s needs '%s', e.g. %s", x->what, key, example);
        return false;
    }
    uint64_t u;
    if (!hnn_sema_uint(x->s, v, hnn_sema_param_what(x, key), min, max, &u))
        return false;
    *out = (uint32_t)u;
    return true;
}

/* Reads a parameter tensor from inline values or the weights file. */
static bool
hnn_sema_param(const hnn_sema_ctx *x, const char *key, uint32_t rank, const uint32_t *dim,
               const char *doc, bool required, hnn_tensor *out)
{
    hnn_sema *s = x->s;
    hnn_layer *l = x->layer;
    hnn_model *m = s->model;
    out->rank = rank;
    memcpy(out->dim, dim, rank * sizeof *dim);
    out->count = 1;
    for (uint32_t i = 0; i < rank; i++)
        out->count *= dim[i];
    out->loc = l->name_loc;
    out->data = NULL;
    l->n_params += out->count;

    const hnn_ast_value *v = hnn_sema_opt(x, key);
    if (v)
        return hnn_sema_tensor(s, v, hnn_sema_param_what(x, key), rank, dim, doc, out);
    if (m->weights == HNN_WEIGHTS_NONE)
        return true;
    if (m->weights == HNN_WEIGHTS_FILE) {
        if (!s->weights)
            return false; /* the file could not be read: already reported */
        hnn_weights_result r = hnn_weights_take_tensor(s->weights, s->arena, s->diag, l, key, rank,
                                                       dim, doc, out);
        if (r == HNN_WEIGHTS_OK)
            return true;
        if (r == HNN_WEIGHTS_BAD)
            return false;
        if (required) {
            hnn_diag_error(s->diag, l->name_loc, "the weights file has no '%s' for %s", key, x->what);
            if (m->weights_loc.file)
                hnn_diag_note(s->diag, m->weights_loc, "expected at layers.%s.%s in this file, "
                              "an array of shape %s", l->name, key, doc);
            return false;
        }
    } else if (required) {
        if (!s->missing_weights_reported)
            hnn_diag_error(s->diag, l->name_loc, "%s has no '%s' values and the model names no "
                           "weights file; add 'weights \"FILE.json\";' (or 'weights none;' to train "
                           "from scratch), or give them inline: %s [...]", x->what, key, key);
        s->missing_weights_reported = true;
        return false;
    }
    /* An optional tensor that nobody gave is zero. */
    out->data = hnn_arena_array(s->arena, out->count, sizeof(double));
    return true;
}

/* ---------------------------------------------------------------- value bounds */

static hnn_value_range
hnn_range_unknown(void)
{
    return (hnn_value_range){.known = false};
}

/* The bound of part k of a layer's values: element k of a vector, channel k
 * of an image. An input declared with a range per element (or channel) has
 * its own; any other layer, the bound of all its values. */
static void
hnn_range_part(const hnn_layer *in, size_t k, double *lo, double *hi)
{
    if (in->op == HNN_OP_INPUT && in->u.input.n_ranges) {
        *lo = in->u.input.range_lo[k];
        *hi = in->u.input.range_hi[k];
    } else {
        *lo = in->range.lo;
        *hi = in->range.hi;
    }
}

/* The bound of sum_j w[j] * x_j + b, per output, then over outputs; x_j is
 * part j / cols of the input (dense: cols 1, element j; conv2d: kh kw
 * columns per input channel), with zeros when the window is padded. */
static hnn_value_range
hnn_range_affine(const hnn_layer *in, size_t cols, bool padded, const hnn_tensor *w, const hnn_tensor *b,
                 size_t outputs)
{
    if (!in->range.known || !w->data || !b->data || !outputs)
        return hnn_range_unknown();
    size_t per = w->count / outputs;
    hnn_value_range r = {.known = true, .tight = false, .lo = INFINITY, .hi = -INFINITY};
    for (size_t i = 0; i < outputs; i++) {
        double lo = b->data[i], hi = b->data[i];
        for (size_t j = 0; j < per; j++) {
            double xl, xh;
            hnn_range_part(in, j / cols, &xl, &xh);
            if (padded) {
                xl = fmin(xl, 0);
                xh = fmax(xh, 0);
            }
            double a = w->data[i * per + j] * xl, c = w->data[i * per + j] * xh;
            lo += a < c ? a : c;
            hi += a < c ? c : a;
        }
        r.lo = lo < r.lo ? lo : r.lo;
        r.hi = hi > r.hi ? hi : r.hi;
    }
    if (!isfinite(r.lo) || !isfinite(r.hi))
        return hnn_range_unknown();
    return r;
}

/* Padding brings zeros into the window. */
static hnn_value_range
hnn_range_with_zero(hnn_value_range r, bool padded)
{
    if (padded && r.known) {
        r.lo = r.lo < 0 ? r.lo : 0;
        r.hi = r.hi > 0 ? r.hi : 0;
        r.tight = false;
    }
    return r;
}

/* ---------------------------------------------------------------- rules */

static bool
hnn_sema_need_rank(const hnn_sema_ctx *x, uint32_t k, uint32_t rank, const char *advice)
{
    hnn_layer *in = x->layer->in[k];
    if (in->shape.rank == rank)
        return true;
    hnn_diag_error(x->s->diag, x->call->call->loc, "%s needs %s input, but '%s' is %s%s", x->what,
                   rank == 1 ? "a vector" : "an image", in->name, hnn_sema_shape_text(x->s, in->shape),
                   advice);
    hnn_diag_note(x->s->diag, in->name_loc, "'%s' is defined here", in->name);
    return false;
}

static bool
hnn_rule_dense(const hnn_sema_ctx *x)
{
    hnn_layer *l = x->layer;
    if (!hnn_sema_need_rank(x, 0, 1, "; add flatten() before it"))
        return false;
    uint32_t units;
    if (!hnn_sema_required_uint(x, "units", 1, HNN_SEMA_MAX_DIM, "dense(x, 8)", &units))
        return false;
    uint32_t n = l->in[0]->shape.dim[0];
    if ((uint64_t)units * n > HNN_SEMA_MAX_ELEMENTS) {
        hnn_diag_error(x->s->diag, x->call->call->loc, "%s would have %llu weights; the limit is 2^31",
                       x->what, (unsigned long long)units * n);
        return false;
    }
    l->u.dense.units = units;
    l->shape = (hnn_shape){1, {units, 0, 0}};
    uint32_t wdim[2] = {units, n}, bdim[1] = {units};
    bool ok = hnn_sema_param(x, "weight", 2, wdim, "[units, inputs]", true, &l->u.dense.weight);
    ok &= hnn_sema_param(x, "bias", 1, bdim, "[units]", false, &l->u.dense.bias);
    if (ok)
        l->range = hnn_range_affine(l->in[0], 1, false, &l->u.dense.weight, &l->u.dense.bias, units);
    return ok;
}

/* Output size of a sliding window, or 0 when the window does not fit. */
static uint32_t
hnn_sema_window(uint32_t size, uint32_t kernel, uint32_t stride, uint32_t padding)
{
    uint64_t padded = (uint64_t)size + 2ull * padding;
    if (padded < kernel)
        return 0;
    return (uint32_t)((padded - kernel) / stride + 1);
}

/* kernel, stride, padding of conv2d and the pools; fills the output's H and W. */
static bool
hnn_sema_windowing(const hnn_sema_ctx *x, uint32_t kernel[2], uint32_t stride[2], uint32_t padding[2],
                   bool stride_defaults_to_kernel, hnn_shape *out)
{
    hnn_sema *s = x->s;
    hnn_shape in = x->layer->in[0]->shape;
    const hnn_ast_value *kv = hnn_sema_opt(x, "kernel");
    if (!kv) {
        hnn_diag_error(s->diag, x->call->call->loc, "%s needs 'kernel', e.g. kernel 3 or kernel [3, 3]",
                       x->what);
        return false;
    }
    if (!hnn_sema_pair(s, kv, hnn_sema_param_what(x, "kernel"), 1, 64, kernel))
        return false;
    const hnn_ast_value *sv = hnn_sema_opt(x, "stride");
    const hnn_ast_value *pv = hnn_sema_opt(x, "padding");
    stride[0] = stride_defaults_to_kernel ? kernel[0] : 1;
    stride[1] = stride_defaults_to_kernel ? kernel[1] : 1;
    padding[0] = padding[1] = 0;
    if (sv && !hnn_sema_pair(s, sv, hnn_sema_param_what(x, "stride"), 1, 64, stride))
        return false;
    if (pv && !hnn_sema_pair(s, pv, hnn_sema_param_what(x, "padding"), 0, 64, padding))
        return false;
    for (int i = 0; i < 2; i++) {
        if (padding[i] >= kernel[i]) {
            hnn_diag_error(s->diag, pv->loc, "%s must be smaller than the kernel (%u)",
                           hnn_sema_param_what(x, "padding"), kernel[i]);
            return false;
        }
    }
    uint32_t oh = hnn_sema_window(in.dim[1], kernel[0], stride[0], padding[0]);
    uint32_t ow = hnn_sema_window(in.dim[2], kernel[1], stride[1], padding[1]);
    if (!oh || !ow) {
        hnn_diag_error(s->diag, kv->loc, "a %ux%u kernel does not fit in %s '%s' with padding %u",
                       kernel[0], kernel[1], hnn_sema_shape_text(s, in), x->layer->in[0]->name,
                       oh ? padding[1] : padding[0]);
        return false;
    }
    *out = (hnn_shape){3, {in.dim[0], oh, ow}};
    return true;
}

static bool
hnn_rule_conv2d(const hnn_sema_ctx *x)
{
    hnn_layer *l = x->layer;
    if (!hnn_sema_need_rank(x, 0, 3, ""))
        return false;
    uint32_t ch;
    bool ok = hnn_sema_required_uint(x, "channels", 1, 65536, "conv2d(x, 8, kernel 3)", &ch);
    hnn_shape out;
    ok &= hnn_sema_windowing(x, l->u.conv2d.kernel, l->u.conv2d.stride, l->u.conv2d.padding, false,
                             &out);
    if (!ok)
        return false;
    uint32_t ic = l->in[0]->shape.dim[0];
    uint64_t nw = (uint64_t)ch * ic * l->u.conv2d.kernel[0] * l->u.conv2d.kernel[1];
    if (nw > HNN_SEMA_MAX_ELEMENTS || (uint64_t)ch * out.dim[1] * out.dim[2] > HNN_SEMA_MAX_ELEMENTS) {
        hnn_diag_error(x->s->diag, x->call->call->loc, "%s is too large", x->what);
        return false;
    }
    l->u.conv2d.channels = ch;
    out.dim[0] = ch;
    l->shape = out;
    uint32_t wdim[4] = {ch, ic, l->u.conv2d.kernel[0], l->u.conv2d.kernel[1]}, bdim[1] = {ch};
    ok = hnn_sema_param(x, "weight", 4, wdim, "[channels, in_channels, kernel_h, kernel_w]", true,
                        &l->u.conv2d.weight);
    ok &= hnn_sema_param(x, "bias", 1, bdim, "[channels]", false, &l->u.conv2d.bias);
    if (ok) {
        bool padded = l->u.conv2d.padding[0] || l->u.conv2d.padding[1];
        l->range = hnn_range_affine(l->in[0], (size_t)l->u.conv2d.kernel[0] * l->u.conv2d.kernel[1], padded,
                                    &l->u.conv2d.weight, &l->u.conv2d.bias, ch);
    }
    return ok;
}

static bool
hnn_rule_pool(const hnn_sema_ctx *x)
{
    hnn_layer *l = x->layer;
    if (!hnn_sema_need_rank(x, 0, 3, ""))
        return false;
    if (!hnn_sema_windowing(x, l->u.pool.kernel, l->u.pool.stride, l->u.pool.padding, true, &l->shape))
        return false;
    bool padded = l->u.pool.padding[0] || l->u.pool.padding[1];
    hnn_value_range r = hnn_range_with_zero(l->in[0]->range, padded);
    if (l->op == HNN_OP_SUMPOOL && r.known) {
        double k = (double)l->u.pool.kernel[0] * l->u.pool.kernel[1];
        r.lo *= k;
        r.hi *= k;
    }
    l->range = r;
    return true;
}

static bool
hnn_rule_flatten(const hnn_sema_ctx *x)
{
    hnn_layer *l = x->layer;
    hnn_shape in = l->in[0]->shape;
    if (in.rank == 1)
        hnn_diag_warning(x->s->diag, x->call->call->loc, "flatten of '%s' does nothing: it is already "
                         "a vector", l->in[0]->name);
    l->shape = (hnn_shape){1, {(uint32_t)hnn_shape_count(in), 0, 0}};
    l->range = l->in[0]->range;
    return true;
}

static bool
hnn_rule_batchnorm(const hnn_sema_ctx *x)
{
    hnn_layer *l = x->layer;
    hnn_sema *s = x->s;
    l->shape = l->in[0]->shape;
    l->u.batchnorm.eps = 1e-5;
    const hnn_ast_value *ev = hnn_sema_opt(x, "eps");
    if (ev) {
        if (!hnn_sema_real(s, ev, hnn_sema_param_what(x, "eps"), &l->u.batchnorm.eps))
            return false;
        if (!(l->u.batchnorm.eps > 0)) {
            hnn_diag_error(s->diag, ev->loc, "%s must be positive", hnn_sema_param_what(x, "eps"));
            return false;
        }
    }
    uint32_t c[1] = {l->shape.dim[0]};
    const char *doc = l->shape.rank == 3 ? "[channels]" : "[features]";
    bool ok = hnn_sema_param(x, "gamma", 1, c, doc, true, &l->u.batchnorm.gamma);
    ok &= hnn_sema_param(x, "beta", 1, c, doc, true, &l->u.batchnorm.beta);
    ok &= hnn_sema_param(x, "mean", 1, c, doc, true, &l->u.batchnorm.mean);
    ok &= hnn_sema_param(x, "var", 1, c, doc, true, &l->u.batchnorm.var);
    if (!ok)
        return false;
    const hnn_tensor *var = &l->u.batchnorm.var;
    for (size_t i = 0; var->data && i < var->count; i++) {
        if (var->data[i] < 0) {
            hnn_diag_error(s->diag, var->loc, "%s must not be negative; entry [%zu] is %g",
                           hnn_sema_param_what(x, "var"), i, var->data[i]);
            return false;
        }
    }
    /* y = a x + b per channel: exact, so a tight bound stays tight, and an
     * input's own range per channel makes it tight. */
    const hnn_layer *from = l->in[0];
    hnn_value_range in = from->range;
    if (in.known && var->data && l->u.batchnorm.gamma.data) {
        bool per_part = from->op == HNN_OP_INPUT && from->u.input.n_ranges;
        hnn_value_range r = {.known = true, .tight = in.tight || per_part, .lo = INFINITY, .hi = -INFINITY};
        for (size_t i = 0; i < var->count; i++) {
            double a = l->u.batchnorm.gamma.data[i] / sqrt(var->data[i] + l->u.batchnorm.eps);
            double b = l->u.batchnorm.beta.data[i] - a * l->u.batchnorm.mean.data[i];
            double xl, xh;
            hnn_range_part(from, i, &xl, &xh);
            double p = a * xl + b, q = a * xh + b;
            r.lo = fmin(r.lo, fmin(p, q));
            r.hi = fmax(r.hi, fmax(p, q));
        }
        if (isfinite(r.lo) && isfinite(r.hi))
            l->range = r;
    }
    return true;
}

static bool
hnn_rule_add(const hnn_sema_ctx *x)
{
    hnn_layer *l = x->layer;
    hnn_layer *a = l->in[0], *b = l->in[1];
    if (!hnn_shape_equal(a->shape, b->shape)) {
        hnn_diag_error(x->s->diag, x->call->call->loc, "%s adds values of different shapes: '%s' is %s "
                       "and '%s' is %s", x->what, a->name, hnn_sema_shape_text(x->s, a->shape), b->name,
                       hnn_sema_shape_text(x->s, b->shape));
        hnn_diag_note(x->s->diag, a->name_loc, "'%s' is defined here", a->name);
        hnn_diag_note(x->s->diag, b->name_loc, "'%s' is defined here", b->name);
        return false;
    }
    l->shape = a->shape;
    if (a->range.known && b->range.known)
        l->range = (hnn_value_range){true, false, a->range.lo + b->range.lo, a->range.hi + b->range.hi};
    return true;
}

static bool
hnn_rule_square(const hnn_sema_ctx *x)
{
    hnn_layer *l = x->layer;
    l->shape = l->in[0]->shape;
    hnn_value_range in = l->in[0]->range;
    if (in.known) {
        double a = in.lo * in.lo, b = in.hi * in.hi;
        if (in.lo >= 0)
            l->range = (hnn_value_range){true, in.tight, a, b};
        else if (in.hi <= 0)
            l->range = (hnn_value_range){true, in.tight, b, a};
        else
            l->range = (hnn_value_range){true, in.tight, 0, a > b ? a : b};
    }
    return true;
}

static bool
hnn_rule_poly(const hnn_sema_ctx *x)
{
    hnn_layer *l = x->layer;
    hnn_sema *s = x->s;
    l->shape = l->in[0]->shape;
    const hnn_ast_value *cv = hnn_sema_opt(x, "coeffs");
    if (!cv) {
        hnn_diag_error(s->diag, x->call->call->loc, "%s needs 'coeffs', lowest power first, e.g. "
                       "poly(x, coeffs [0, 0.5, 0.25]) for 0.5x + 0.25x^2", x->what);
        return false;
    }
    if (cv->kind != HNN_AST_LIST || cv->u.list.count < 2 || cv->u.list.count > 65) {
        hnn_diag_error(s->diag, cv->loc, "%s must be a list of 2 to 65 numbers (degree 1 to 64)",
                       hnn_sema_param_what(x, "coeffs"));
        return false;
    }
    uint32_t n = (uint32_t)cv->u.list.count;
    double *c = hnn_arena_array(s->arena, n, sizeof *c);
    uint32_t i = 0;
    for (const hnn_ast_value *v = cv->u.list.items; v; v = v->next, i++)
        if (!hnn_sema_real(s, v, hnn_sema_param_what(x, "coeffs"), &c[i]))
            return false;
    uint32_t degree = n - 1;
    while (degree > 0 && c[degree] == 0)
        degree--;
    if (degree == 0) {
        hnn_diag_error(s->diag, cv->loc, "%s describe a constant; an activation needs degree 1 or more",
                       hnn_sema_param_what(x, "coeffs"));
        return false;
    }
    if (degree < n - 1)
        hnn_diag_warning(s->diag, cv->loc, "the highest coefficients of %s are zero: its degree is %u, "
                         "not %u", x->what, degree, n - 1);
    l->u.poly.degree = degree;
    l->u.poly.coeffs = c;
    l->u.poly.coeffs_loc = cv->loc;
    hnn_value_range in = l->in[0]->range;
    if (in.known) {
        double m = fmax(fabs(in.lo), fabs(in.hi)), bound = 0, p = 1;
        for (uint32_t k = 0; k <= degree; k++, p *= m)
            bound += fabs(c[k]) * p;
        if (isfinite(bound))
            l->range = (hnn_value_range){true, false, -bound, bound};
    }
    return true;
}

static bool
hnn_rule_approx(const hnn_sema_ctx *x)
{
    hnn_layer *l = x->layer;
    hnn_sema *s = x->s;
    l->shape = l->in[0]->shape;
    bool ok = true;
    const hnn_ast_value *dv = hnn_sema_opt(x, "degree");
    if (dv) {
        l->u.approx.degree_loc = dv->loc;
        if (dv->kind == HNN_AST_NAME && strcmp(dv->u.name, "auto") == 0) {
            l->u.approx.degree = 0;
        } else if (dv->kind == HNN_AST_NUMBER) {
            uint64_t d;
            ok = hnn_sema_uint(s, dv, hnn_sema_param_what(x, "degree"), 1, 255, &d);
            l->u.approx.degree = (uint32_t)d;
        } else {
            hnn_diag_error(s->diag, dv->loc, "%s must be a whole number or 'auto'; got %s",
                           hnn_sema_param_what(x, "degree"), hnn_sema_describe(s, dv));
            ok = false;
        }
    }
    const hnn_ast_value *iv = hnn_sema_opt(x, "interval");
    if (!iv) {
        hnn_diag_error(s->diag, x->call->call->loc, "%s needs 'interval', the input range the "
                       "polynomial approximation must cover, e.g. %s(x, interval [-6, 6])", x->what,
                       hnn_op_name(l->op));
        return false;
    }
    double in[2];
    if (!hnn_sema_interval(s, iv, hnn_sema_param_what(x, "interval"), in))
        return false;
    l->u.approx.lo = in[0];
    l->u.approx.hi = in[1];
    l->u.approx.interval_loc = iv->loc;
    if (l->op == HNN_OP_EXP && in[1] > 700) {
        hnn_diag_error(s->diag, iv->loc, "exp over an interval reaching %g overflows", in[1]);
        return false;
    }
    hnn_value_range r = l->in[0]->range;
    if (r.known && r.tight && (r.lo < in[0] || r.hi > in[1])) {
        hnn_diag_warning(s->diag, iv->loc, "the interval [%g, %g] of %s is narrower than the range of "
                         "its input, [%g, %g]; the approximation is wrong outside the interval",
                         in[0], in[1], x->what, r.lo, r.hi);
        hnn_diag_note(s->diag, s->model->input->u.input.range_loc, "the input range is declared here");
    }
    double hi = in[1] > 0 ? in[1] : 0;
    switch (l->op) {
    case HNN_OP_RELU:
        l->range = (hnn_value_range){true, false, 0, hi};
        break;
    case HNN_OP_SIGMOID:
        l->range = (hnn_value_range){true, false, 0, 1};
        break;
    case HNN_OP_TANH:
        l->range = (hnn_value_range){true, false, -1, 1};
        break;
    case HNN_OP_GELU:
        l->range = (hnn_value_range){true, false, -0.17, hi};
        break;
    default:
        l->range = (hnn_value_range){true, false, exp(in[0]), exp(in[1])};
        break;
    }
    return ok;
}

static bool
hnn_rule_softargmax(const hnn_sema_ctx *x)
{
    hnn_layer *l = x->layer;
    hnn_sema *s = x->s;
    if (!hnn_sema_need_rank(x, 0, 1, "; add flatten() or dense() before it"))
        return false;
    l->shape = l->in[0]->shape;
    l->range = (hnn_value_range){true, false, 0, 1};
    l->u.softargmax.temperature = 1;
    l->u.softargmax.temperature_loc = x->call->call->loc;
    l->n_params = 1;
    const hnn_ast_value *tv = hnn_sema_opt(x, "T");
    if (tv) {
        l->u.softargmax.temperature_loc = tv->loc;
        if (!hnn_sema_real(s, tv, hnn_sema_param_what(x, "T"), &l->u.softargmax.temperature))
            return false;
    }
    if (s->weights) {
        double t;
        hnn_loc at;
        hnn_weights_result r = hnn_weights_take_number(s->weights, s->diag, l, "T", &t, &at);
        if (r == HNN_WEIGHTS_BAD)
            return false;
        if (r == HNN_WEIGHTS_OK) {
            l->u.softargmax.temperature = t;
            l->u.softargmax.temperature_loc = at;
        }
    }
    if (!(l->u.softargmax.temperature > 0)) {
        hnn_diag_error(s->diag, l->u.softargmax.temperature_loc, "the temperature T of %s must be "
                       "positive; got %g", x->what, l->u.softargmax.temperature);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- layers */

static hnn_layer *
hnn_sema_new_layer(hnn_sema *s, hnn_op op, const hnn_ast_stmt *stmt, hnn_loc name_loc)
{
    hnn_model *m = s->model;
    hnn_layer *l = hnn_arena_alloc(s->arena, sizeof *l);
    l->op = op;
    l->loc = stmt->loc;
    l->name_loc = name_loc;
    l->index = m->n_layers;
    if (m->n_layers >= s->layers_cap)
        return NULL; /* cannot happen: layers were counted */
    m->layers[m->n_layers++] = l;
    return l;
}

static int
hnn_sema_find_op(const char *name)
{
    for (int i = 0; i < HNN_OP__COUNT; i++)
        if (i != HNN_OP_INPUT && strcmp(hnn_op_table[i].name, name) == 0)
            return i;
    return -1;
}

typedef bool (*hnn_sema_rule)(const hnn_sema_ctx *x);

static hnn_sema_rule
hnn_sema_rule_of(hnn_op op)
{
    switch (op) { /* ORDER OP */
    case HNN_OP_INPUT:
        return NULL;
    case HNN_OP_DENSE:
        return hnn_rule_dense;
    case HNN_OP_CONV2D:
        return hnn_rule_conv2d;
    case HNN_OP_AVGPOOL:
    case HNN_OP_SUMPOOL:
        return hnn_rule_pool;
    case HNN_OP_FLATTEN:
        return hnn_rule_flatten;
    case HNN_OP_BATCHNORM:
        return hnn_rule_batchnorm;
    case HNN_OP_ADD:
        return hnn_rule_add;
    case HNN_OP_SQUARE:
        return hnn_rule_square;
    case HNN_OP_POLY:
        return hnn_rule_poly;
    case HNN_OP_RELU:
    case HNN_OP_SIGMOID:
    case HNN_OP_TANH:
    case HNN_OP_GELU:
    case HNN_OP_EXP:
        return hnn_rule_approx;
    case HNN_OP_SOFTARGMAX:
        return hnn_rule_softargmax;
    case HNN_OP__COUNT:
        break;
    }
    return NULL;
}

static void
hnn_sema_unknown_kind(hnn_sema *s, const hnn_ast_value *call)
{
    const char *name = call->u.call.callee;
    hnn_diag_suggest sg;
    hnn_diag_suggest_init(&sg, name);
    for (int i = 0; i < HNN_OP__COUNT; i++)
        if (i != HNN_OP_INPUT)
            hnn_diag_suggest_offer(&sg, hnn_op_table[i].name);
    const char *best = hnn_diag_suggest_result(&sg);
    if (best)
        hnn_diag_error(s->diag, call->u.call.callee_loc, "unknown layer kind '%s'; did you mean '%s'?",
                       name, best);
    else
        hnn_diag_error(s->diag, call->u.call.callee_loc, "unknown layer kind '%s' (the kinds are "
                       "dense, conv2d, avgpool, sumpool, flatten, batchnorm, add, square, poly, relu, "
                       "sigmoid, tanh, gelu, exp and softargmax)", name);
}

void
hnn_sema_layer(hnn_sema *s, const hnn_ast_stmt *stmt, const hnn_ast_value *call, const char *name,
               hnn_loc name_loc)
{
    if (call->kind != HNN_AST_CALL)
        return;
    int op = hnn_sema_find_op(call->u.call.callee);
    hnn_layer *l = hnn_sema_new_layer(s, op < 0 ? HNN_OP_SQUARE : (hnn_op)op, stmt, name_loc);
    if (!l)
        return;
    if (op >= 0)
        s->kind_count[op]++;
    if (name) {
        l->name = name;
    } else {
        l->implicit_name = true;
        l->name = hnn_arena_printf(s->arena, "%s_%u", call->u.call.callee,
                                   op >= 0 ? s->kind_count[op] : l->index);
    }
    if (name || op >= 0)
        hnn_sema_define(s, l);
    hnn_layer *previous = s->last;
    s->last = l; /* even a broken layer is "the previous one" for the next */
    if (op < 0) {
        hnn_sema_unknown_kind(s, call);
        return;
    }

    const hnn_op_info *info = &hnn_op_table[op];
    hnn_sema_call c;
    const char *what = hnn_arena_printf(s->arena, "%s '%s'", info->name, l->name);
    bool ok = hnn_sema_bind(s, call, what, info->max_in, info->positional, info->options, &c);

    /* Inputs: the names written, with the previous layer filling the first slot. */
    uint32_t k = 0;
    if (c.n_inputs < info->min_in) {
        if (!previous) {
            hnn_diag_error(s->diag, call->loc, "%s has no input: nothing is defined before it", what);
            return;
        }
        l->in[k++] = previous;
    }
    for (uint32_t i = 0; i < c.n_inputs; i++) {
        hnn_layer *in = hnn_sema_lookup(s, c.inputs[i]);
        if (!in)
            ok = false;
        l->in[k++] = in;
    }
    l->n_in = k;
    for (uint32_t i = 0; i < k; i++) {
        if (l->in[i])
            l->in[i]->uses++;
        if (!l->in[i] || !l->in[i]->shape.rank)
            ok = false; /* the input is broken: already reported, do not pile on */
    }
    if (!ok)
        return;
    hnn_sema_ctx x = {s, l, &c, what};
    if (!hnn_sema_rule_of((hnn_op)op)(&x))
        l->shape.rank = 0;
}

/* `range [[l1, h1], ...]`: one pair per element of a vector, per channel of
 * an image. Every pair is checked, so one run reports all the bad ones. */
static bool
hnn_sema_input_pairs(hnn_sema *s, hnn_layer *l, const hnn_ast_value *v)
{
    bool image = l->shape.rank == 3;
    uint32_t want = l->shape.dim[0];
    if (v->u.list.count != want) {
        hnn_diag_error(s->diag, v->loc, "'%s' has %u %s but its range lists %zu pair%s; give one [low, high] "
                       "per %s, or one range for every value", l->name, want,
                       image ? (want == 1 ? "channel" : "channels") : (want == 1 ? "element" : "elements"),
                       v->u.list.count, v->u.list.count == 1 ? "" : "s", image ? "channel" : "element");
        return false;
    }
    double *lo = hnn_arena_array(s->arena, want, sizeof *lo), *hi = hnn_arena_array(s->arena, want, sizeof *hi);
    bool ok = true, uniform = true;
    uint32_t k = 0;
    for (const hnn_ast_value *p = v->u.list.items; p; p = p->next, k++) {
        double r[2];
        if (!hnn_sema_interval(s, p, hnn_arena_printf(s->arena, "pair %u of the input range", k + 1), r)) {
            ok = false;
            continue;
        }
        lo[k] = r[0];
        hi[k] = r[1];
        uniform &= k == 0 || (r[0] == lo[0] && r[1] == hi[0]);
    }
    if (!ok)
        return false;
    double hull_lo = lo[0], hull_hi = hi[0];
    for (k = 1; k < want; k++) {
        hull_lo = fmin(hull_lo, lo[k]);
        hull_hi = fmax(hull_hi, hi[k]);
    }
    l->u.input.lo = hull_lo;
    l->u.input.hi = hull_hi;
    l->u.input.range_lo = lo;
    l->u.input.range_hi = hi;
    l->u.input.n_ranges = want;
    /* The hull is reached, but a layer that treats every element alike
     * (square, the pools) would take it for each element's range. */
    l->range = (hnn_value_range){true, uniform, hull_lo, hull_hi};
    return true;
}

/* `range [low, high]` for every value, or one pair per element (channel). */
static bool
hnn_sema_input_range(hnn_sema *s, hnn_layer *l, const hnn_ast_value *v)
{
    l->u.input.range_loc = v->loc;
    bool pairs = false;
    for (const hnn_ast_value *p = v->kind == HNN_AST_LIST ? v->u.list.items : NULL; p; p = p->next)
        pairs |= p->kind == HNN_AST_LIST;
    if (pairs)
        return hnn_sema_input_pairs(s, l, v);
    double r[2];
    if (!hnn_sema_interval(s, v, "the input range", r))
        return false;
    l->u.input.lo = r[0];
    l->u.input.hi = r[1];
    l->range = (hnn_value_range){true, true, r[0], r[1]};
    return true;
}

void
hnn_sema_input(hnn_sema *s, const hnn_ast_stmt *stmt)
{
    const hnn_ast_value *shape = stmt->value;
    hnn_layer *l = hnn_sema_new_layer(s, HNN_OP_INPUT, stmt,
                                      stmt->name ? stmt->name_loc : shape->u.call.callee_loc);
    if (!l)
        return;
    l->name = stmt->name ? stmt->name : "input";
    l->implicit_name = !stmt->name;
    hnn_sema_define(s, l);
    s->model->input = l;
    s->last = l;
    const char *callee = shape->u.call.callee;
    const char *what = hnn_arena_printf(s->arena, "input '%s'", l->name);
    hnn_sema_call c;
    bool ok = false;
    if (strcmp(callee, "vector") == 0 || strcmp(callee, "image") == 0) {
        bool vec = callee[0] == 'v';
        if (hnn_sema_bind(s, shape, callee, 0, vec ? "size" : "channels height width", "", &c)) {
            ok = true;
            l->shape.rank = vec ? 1 : 3;
            for (uint32_t i = 0; i < l->shape.rank; i++) {
                uint64_t d;
                const hnn_ast_arg *a = c.args[i];
                if (!a) {
                    hnn_diag_error(s->diag, shape->loc, "%s needs %s", callee,
                                   vec ? "its size: vector(4)" : "three sizes: image(channels, height, "
                                   "width)");
                    ok = false;
                    break;
                }
                if (!hnn_sema_uint(s, a->value, hnn_arena_printf(s->arena, "'%s' of %s", c.names[i],
                                                                 callee), 1, HNN_SEMA_MAX_DIM, &d)) {
                    ok = false;
                    break;
                }
                l->shape.dim[i] = (uint32_t)d;
            }
            if (ok && hnn_shape_count(l->shape) > HNN_SEMA_MAX_ELEMENTS / 8) {
                hnn_diag_error(s->diag, shape->loc, "%s is too large", what);
                ok = false;
            }
        }
    } else {
        hnn_diag_suggest sg;
        hnn_diag_suggest_init(&sg, callee);
        hnn_diag_suggest_offer(&sg, "vector");
        hnn_diag_suggest_offer(&sg, "image");
        const char *best = hnn_diag_suggest_result(&sg);
        hnn_diag_error(s->diag, shape->u.call.callee_loc, "unknown input shape '%s'; %s%s%s", callee,
                       best ? "did you mean '" : "use vector(N) or image(C, H, W)", best ? best : "",
                       best ? "'?" : "");
    }
    if (!ok) {
        l->shape.rank = 0;
        return;
    }
    if (!stmt->range) {
        hnn_diag_error(s->diag, stmt->value->loc, "%s has no value range; add 'range [low, high]': "
                       "scales, precision and activation intervals are planned from it", what);
        l->shape.rank = 0;
        return;
    }
    if (!hnn_sema_input_range(s, l, stmt->range))
        l->shape.rank = 0;
}
