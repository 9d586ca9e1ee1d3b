#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "middle/hir.h"

static const struct {
    const char *name;
    unsigned operands;
} op_table[] = {
#define HNN_HIR_OP(e, name, nops, lvl, key, cost) {name, nops},
#include "middle/hir_ops.def"
#undef HNN_HIR_OP
};

const char *
hnn_hir_op_name(hnn_hir_op op)
{
    return (unsigned)op < HNN_HIR__COUNT ? op_table[op].name : "?";
}

unsigned
hnn_hir_op_operands(hnn_hir_op op)
{
    return (unsigned)op < HNN_HIR__COUNT ? op_table[op].operands : 0;
}

hnn_hir *
hnn_hir_new(hnn_arena *arena, hnn_hir_packing packing)
{
    hnn_hir *h = hnn_arena_alloc(arena, sizeof *h);
    h->arena = arena;
    h->packing = packing;
    return h;
}

/* Arena arrays grow by doubling; the old copy stays in the arena until the
 * compilation ends, at most doubling the memory of the array. */
static void *
grow(hnn_arena *arena, void *old, size_t count, size_t *cap, size_t elem)
{
    size_t ncap = *cap ? 2 * *cap : 256;
    void *n = hnn_arena_array(arena, ncap, elem);
    if (old)
        memcpy(n, old, count * elem);
    *cap = ncap;
    return n;
}

uint32_t
hnn_hir_emit(hnn_hir *h, hnn_hir_op op, uint32_t a, uint32_t b, uint32_t tir)
{
    if (h->n_nodes == h->cap_nodes) {
        size_t cap = h->cap_nodes;
        h->nodes = grow(h->arena, h->nodes, h->n_nodes, &cap, sizeof *h->nodes);
        h->cap_nodes = (uint32_t)cap;
    }
    hnn_hir_node *n = &h->nodes[h->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->a = a;
    n->b = b;
    n->pt = HNN_HIR_NONE;
    n->size = op == HNN_HIR_MUL_CT ? 3 : 2;
    n->tir = tir;
    return h->n_nodes++;
}

uint32_t
hnn_hir_emit_linear(hnn_hir *h, const uint32_t *args, const double *coeffs, uint32_t n, uint32_t tir)
{
    uint32_t id = hnn_hir_emit(h, HNN_HIR_LINEAR, args[0], HNN_HIR_NONE, tir);
    hnn_hir_node *x = hnn_hir_at(h, id);
    uint32_t *a = hnn_arena_array(h->arena, n, sizeof *a);
    double *c = hnn_arena_array(h->arena, n, sizeof *c);
    memcpy(a, args, n * sizeof *a);
    memcpy(c, coeffs, n * sizeof *c);
    x->n_args = n;
    x->args = a;
    x->coeffs = c;
    x->rescales = 1;
    return id;
}

uint32_t
hnn_hir_add_pt(hnn_hir *h, const double *values, uint32_t len)
{
    if (h->n_pts == h->cap_pts) {
        size_t cap = h->cap_pts;
        h->pts = grow(h->arena, h->pts, h->n_pts, &cap, sizeof *h->pts);
        h->cap_pts = (uint32_t)cap;
    }
    hnn_hir_pt *p = &h->pts[h->n_pts];
    p->len = len;
    p->values = hnn_arena_array(h->arena, len ? len : 1, sizeof *p->values);
    memcpy(p->values, values, len * sizeof *values);
    return h->n_pts++;
}

hnn_hir *
hnn_hir_derive(const hnn_hir *old, hnn_arena *arena)
{
    hnn_hir *h = hnn_hir_new(arena, old->packing);
    h->pts = old->pts;
    h->n_pts = old->n_pts;
    h->cap_pts = old->n_pts;
    h->period = old->period;
    h->in_layout = old->in_layout;
    h->in_period = old->in_period;
    h->in_cts = old->in_cts;
    return h;
}

uint32_t
hnn_hir_copy_node(hnn_hir *h, const hnn_hir_node *n, const uint32_t *args)
{
    uint32_t id;
    if (n->op == HNN_HIR_LINEAR) {
        id = hnn_hir_emit_linear(h, args, n->coeffs, n->n_args, n->tir);
    } else {
        unsigned k = hnn_hir_op_operands(n->op);
        id = hnn_hir_emit(h, n->op, k >= 1 ? args[0] : HNN_HIR_NONE, k >= 2 ? args[1] : HNN_HIR_NONE, n->tir);
    }
    hnn_hir_node *m = hnn_hir_at(h, id);
    m->size = n->size;
    m->step = n->step;
    m->pt = n->pt;
    m->c = n->c;
    m->has_bound = n->has_bound;
    m->bound_lo = n->bound_lo;
    m->bound_hi = n->bound_hi;
    m->rescales = n->rescales;
    return id;
}

uint32_t
hnn_hir_copy_mapped(hnn_hir *h, const hnn_hir_node *n, const uint32_t *map)
{
    uint32_t two[2], *args = two;
    const unsigned k = hnn_hir_arity(n);
    if (k > 2)
        args = hnn_arena_array(h->arena, k, sizeof *args);
    for (unsigned i = 0; i < k; i++)
        args[i] = map[hnn_hir_arg(n, i)];
    return hnn_hir_copy_node(h, n, args);
}

uint32_t
hnn_hir_max_arity(const hnn_hir *h)
{
    uint32_t m = 2;
    for (uint32_t i = 0; i < h->n_nodes; i++)
        if (hnn_hir_arity(&h->nodes[i]) > m)
            m = hnn_hir_arity(&h->nodes[i]);
    return m;
}

static uint32_t *
map_ids(hnn_arena *arena, const uint32_t *ids, uint32_t n, const uint32_t *map)
{
    uint32_t *out = hnn_arena_array(arena, n ? n : 1, sizeof *out);
    for (uint32_t k = 0; k < n; k++)
        out[k] = map[ids[k]];
    return out;
}

void
hnn_hir_map_io(hnn_hir *h, const hnn_hir *old, const uint32_t *map)
{
    h->inputs = map_ids(h->arena, old->inputs, old->n_inputs, map);
    h->n_inputs = old->n_inputs;
    h->outputs = map_ids(h->arena, old->outputs, old->n_outputs, map);
    h->n_outputs = old->n_outputs;
}

uint32_t
hnn_hir_distinct(const uint32_t *ids, uint32_t n)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = ids[j] == ids[i];
        count += !seen;
    }
    return count;
}

uint32_t
hnn_hir_input_ciphertexts(const hnn_hir *h)
{
    return h->in_layout ? h->in_cts : hnn_hir_distinct(h->inputs, h->n_inputs);
}

uint32_t
hnn_hir_slots_used(const hnn_hir *h)
{
    return h->in_layout && h->in_period > h->period ? h->in_period : h->period;
}

void
hnn_hir_count(const hnn_hir *h, uint64_t counts[HNN_HIR__COUNT])
{
    memset(counts, 0, HNN_HIR__COUNT * sizeof *counts);
    for (uint32_t i = 0; i < h->n_nodes; i++)
        counts[h->nodes[i].op]++;
}

static const int op_cost_class[] = {
#define HNN_HIR_OP(e, name, nops, lvl, key, cost) cost,
#include "middle/hir_ops.def"
#undef HNN_HIR_OP
};

unsigned
hnn_hir_node_work(const hnn_hir_node *n, hnn_cost_op cls[2], double count[2])
{
    int c = (unsigned)n->op < HNN_HIR__COUNT ? op_cost_class[n->op] : -1;
    if (c < 0)
        return 0;
    /* Key switching and products read 2-part operands whatever they give;
     * the element-wise ops pass over every part. */
    bool per_part = c == HNN_COST_ADD || c == HNN_COST_MUL_CONST || c == HNN_COST_MUL_PT ||
                    c == HNN_COST_RESCALE || c == HNN_COST_LINEAR;
    double parts = per_part && n->size == 3 ? 1.5 : 1.0;
    cls[0] = (hnn_cost_op)c;
    count[0] = parts;
    if (n->op != HNN_HIR_LINEAR)
        return 1;
    cls[1] = HNN_COST_LINEAR_TERM;
    count[1] = parts * n->n_args;
    return 2;
}

uint32_t
hnn_hir_linear_group_end(const hnn_hir *h, uint32_t first)
{
    const hnn_hir_node *f = &h->nodes[first];
    uint32_t end = first + 1;
    for (; end < h->n_nodes; end++) {
        const hnn_hir_node *n = &h->nodes[end];
        if (n->op != HNN_HIR_LINEAR || n->tir != f->tir || n->level != f->level || n->size != f->size ||
            n->c_scale != f->c_scale)
            break;
        bool earlier = true;
        for (uint32_t k = 0; k < n->n_args && earlier; k++)
            earlier = n->args[k] < first;
        if (!earlier)
            break;
    }
    return end;
}

uint32_t
hnn_hir_refresh_point_end(const hnn_hir *h, uint32_t first)
{
    const hnn_hir_node *f = &h->nodes[first];
    uint32_t end = first + 1;
    while (end < h->n_nodes && h->nodes[end].op == HNN_HIR_REFRESH && h->nodes[end].tir == f->tir &&
           h->nodes[end].level == f->level && h->nodes[end].scale == f->scale && h->nodes[end].a < first)
        end++;
    return end;
}

uint32_t
hnn_hir_refresh_points(const hnn_hir *h, uint32_t *first_of, uint32_t *end_of, uint32_t *largest)
{
    uint32_t points = 0, most = 0;
    for (uint32_t i = 0; i < h->n_nodes;) {
        if (h->nodes[i].op != HNN_HIR_REFRESH) {
            i++;
            continue;
        }
        const uint32_t end = hnn_hir_refresh_point_end(h, i);
        for (uint32_t r = i; r < end; r++) {
            if (first_of)
                first_of[r] = i;
            if (end_of)
                end_of[r] = end;
        }
        if (end - i > most)
            most = end - i;
        points++;
        i = end;
    }
    if (largest)
        *largest = most;
    return points;
}

void
hnn_hir_linear_group_build(const hnn_hir *h, uint32_t first, hnn_arena *arena, uint32_t *mark,
                           hnn_hir_linear_group *g)
{
    g->first = first;
    g->end = hnn_hir_linear_group_end(h, first);
    size_t terms = 0;
    for (uint32_t i = first; i < g->end; i++)
        terms += h->nodes[i].n_args;
    g->row_start = hnn_arena_array(arena, g->end - first + 1, sizeof *g->row_start);
    g->col = hnn_arena_array(arena, terms, sizeof *g->col);
    g->coeff = hnn_arena_array(arena, terms, sizeof *g->coeff);
    g->in = hnn_arena_array(arena, terms, sizeof *g->in);
    g->n_in = 0;
    size_t t = 0;
    for (uint32_t i = first; i < g->end; i++) {
        const hnn_hir_node *n = &h->nodes[i];
        g->row_start[i - first] = t;
        for (uint32_t k = 0; k < n->n_args; k++, t++) {
            uint32_t x = n->args[k];
            if (mark[x] == HNN_HIR_NONE) {
                mark[x] = g->n_in;
                g->in[g->n_in++] = x;
            }
            g->col[t] = mark[x];
            g->coeff[t] = n->coeffs[k];
        }
    }
    g->row_start[g->end - first] = t;
    for (uint32_t k = 0; k < g->n_in; k++)
        mark[g->in[k]] = HNN_HIR_NONE;
}

static bool fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool
fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return false;
}

static bool
same_scale(double a, double b)
{
    return fabs(a - b) <= 0x1p-40 * fmax(fabs(a), fabs(b));
}

bool
hnn_hir_verify(const hnn_hir *h, const uint64_t *primes, char *why, size_t why_len)
{
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        const hnn_hir_node *n = &h->nodes[i];
        if ((unsigned)n->op >= HNN_HIR__COUNT)
            return fail(why, why_len, "%%%u: unknown op", i);
        unsigned nops = hnn_hir_arity(n);
        if (n->op == HNN_HIR_LINEAR && (nops == 0 || n->a != n->args[0]))
            return fail(why, why_len, "%%%u: linear without operands, or a is not its first", i);
        for (unsigned k = 0; k < nops; k++)
            if (hnn_hir_arg(n, k) >= i)
                return fail(why, why_len, "%%%u: operand is not an earlier node", i);
        const hnn_hir_node *a = nops >= 1 ? &h->nodes[hnn_hir_arg(n, 0)] : NULL;
        const hnn_hir_node *b = nops >= 2 && n->op != HNN_HIR_LINEAR ? &h->nodes[n->b] : NULL;
        /* 3-part values (products) feed a relinearisation, or ops that keep
         * the part count: sums, linear combinations, rescales (lazy
         * relinearisation). */
        bool sum = n->op == HNN_HIR_ADD || n->op == HNN_HIR_SUB;
        bool keeps = sum || n->op == HNN_HIR_LINEAR || n->op == HNN_HIR_RESCALE;
        if (n->op != HNN_HIR_RELIN && !keeps && a && a->size != 2)
            return fail(why, why_len, "%%%u: takes a 3-part ciphertext that was not relinearised", i);
        if (sum && ((a->size == 3 || b->size == 3) != (n->size == 3)))
            return fail(why, why_len, "%%%u: a sum's part count does not match its operands'", i);
        if ((n->op == HNN_HIR_LINEAR || n->op == HNN_HIR_RESCALE) && n->size != a->size)
            return fail(why, why_len, "%%%u: the part count changed by an op that keeps it", i);
        switch (n->op) {
        case HNN_HIR_ADD:
        case HNN_HIR_SUB:
            if (a->level != b->level)
                return fail(why, why_len, "%%%u: operands at different levels", i);
            if (!same_scale(a->scale, b->scale))
                return fail(why, why_len, "%%%u: operands at different scales", i);
            break;
        case HNN_HIR_MUL_CT:
            if (a->level != b->level)
                return fail(why, why_len, "%%%u: operands at different levels", i);
            if (n->size != 3 || !same_scale(n->scale, a->scale * b->scale))
                return fail(why, why_len, "%%%u: product size or scale wrong", i);
            break;
        case HNN_HIR_RELIN:
            if (a->size != 3)
                return fail(why, why_len, "%%%u: relinearises a 2-part ciphertext", i);
            break;
        case HNN_HIR_RESCALE:
            if (a->level < 1 || n->level != a->level - 1)
                return fail(why, why_len, "%%%u: rescale level wrong", i);
            if (primes && !same_scale(n->scale, a->scale / (double)primes[a->level]))
                return fail(why, why_len, "%%%u: rescale scale is not the operand's over its top prime", i);
            break;
        case HNN_HIR_DROP_LEVEL:
            if (n->level > a->level || !same_scale(n->scale, a->scale))
                return fail(why, why_len, "%%%u: drop_level raises the level or changes the scale", i);
            break;
        case HNN_HIR_LINEAR:
            for (unsigned k = 1; k < nops; k++) {
                const hnn_hir_node *x = &h->nodes[n->args[k]];
                if (x->level != a->level || !same_scale(x->scale, a->scale) || x->size != a->size)
                    return fail(why, why_len, "%%%u: operands %%%u and %%%u differ in level, scale or parts", i,
                                n->args[0], n->args[k]);
            }
            for (unsigned k = 0; k < nops; k++)
                if (!isfinite(n->coeffs[k]))
                    return fail(why, why_len, "%%%u: constant %u is not finite", i, k);
            if (n->rescales < 1 || n->rescales > 2 || n->rescales > a->level)
                return fail(why, why_len, "%%%u: linear followed by %u rescales at level %u", i, n->rescales,
                            a->level);
            break;
        default:
            break;
        }
        switch (n->op) {
        case HNN_HIR_LINEAR: /* the scale of the first operand's term */
        case HNN_HIR_MUL_CONST:
        case HNN_HIR_MUL_PT:
            if (!(n->c_scale > 0) || !same_scale(n->scale, a->scale * n->c_scale))
                return fail(why, why_len, "%%%u: constant scale inconsistent", i);
            break;
        default:
            break;
        }
        if (n->op != HNN_HIR_RESCALE && n->op != HNN_HIR_DROP_LEVEL && n->op != HNN_HIR_INPUT &&
            n->op != HNN_HIR_REFRESH && n->op != HNN_HIR_BOOTSTRAP && a && n->level != a->level)
            return fail(why, why_len, "%%%u: level changed by an op that keeps it", i);
        if (!(n->scale > 0) || !isfinite(n->scale))
            return fail(why, why_len, "%%%u: scale not positive", i);
        if ((n->op == HNN_HIR_INPUT || n->op == HNN_HIR_REFRESH) && n->level != h->top_level)
            return fail(why, why_len, "%%%u: input or refresh below the top level", i);
    }
    for (uint32_t k = 0; k < h->n_outputs; k++)
        if (h->outputs[k] >= h->n_nodes || h->nodes[h->outputs[k]].size != 2)
            return fail(why, why_len, "output %u is not a 2-part node", k);
    return true;
}

void
hnn_hir_print(FILE *out, const hnn_hir *h)
{
    fprintf(out, "# %u nodes, %u inputs, %u outputs, %u plaintexts, top level %u, %s packing\n", h->n_nodes,
            h->n_inputs, h->n_outputs, h->n_pts, h->top_level,
            h->packing == HNN_HIR_PACK_BATCH ? "batch" : "vector");
    if (h->in_layout)
        fprintf(out, "# input in the client's layout: %u ciphertexts of %u slots (period %u)\n", h->in_cts,
                h->in_period, h->period);
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        const hnn_hir_node *n = &h->nodes[i];
        char args[96] = "";
        switch (hnn_hir_op_operands(n->op)) {
        case 1:
            snprintf(args, sizeof args, "%%%u", n->a);
            break;
        case 2:
            snprintf(args, sizeof args, "%%%u, %%%u", n->a, n->b);
            break;
        default:
            break;
        }
        if (n->op == HNN_HIR_LINEAR) {
            fprintf(out, "%%%u = linear", i);
            for (uint32_t k = 0; k < n->n_args; k++)
                fprintf(out, "%s %.9g %%%u", k ? " +" : "", n->coeffs[k], n->args[k]);
        }
        char extra[96] = "";
        if (n->op == HNN_HIR_INPUT)
            snprintf(extra, sizeof extra, " #%u", n->pt);
        else if (n->op == HNN_HIR_ADD_CONST)
            snprintf(extra, sizeof extra, ", %.9g", n->c);
        else if (n->op == HNN_HIR_MUL_CONST)
            snprintf(extra, sizeof extra, ", %.9g @2^%.4f", n->c, log2(n->c_scale));
        else if (n->op == HNN_HIR_LINEAR)
            snprintf(extra, sizeof extra, " @2^%.4f%s", log2(n->c_scale), n->rescales == 2 ? " (2 rescales)" : "");
        else if (n->op == HNN_HIR_MUL_PT || n->op == HNN_HIR_ADD_PT)
            snprintf(extra, sizeof extra, ", pt%u @2^%.4f", n->pt, log2(n->c_scale));
        else if (n->op == HNN_HIR_ROTATE)
            snprintf(extra, sizeof extra, ", %d", n->step);
        if (n->op == HNN_HIR_LINEAR)
            fprintf(out, "%s  L%u 2^%.4f\n", extra, n->level, log2(n->scale));
        else
            fprintf(out, "%%%u = %s %s%s  L%u 2^%.4f\n", i, hnn_hir_op_name(n->op), args, extra, n->level,
                    log2(n->scale));
    }
    for (uint32_t k = 0; k < h->n_outputs; k++)
        fprintf(out, "output %u = %%%u\n", k, h->outputs[k]);
}

void
hnn_hir_linear_groups_build(const hnn_hir *h, hnn_arena *arena, hnn_hir_linear_groups *out)
{
    const uint32_t n = h->n_nodes;
    uint32_t *mark = hnn_arena_array(arena, n + 1, sizeof *mark), n_linear = 0;
    out->group_of = hnn_arena_array(arena, n + 1, sizeof *out->group_of);
    for (uint32_t i = 0; i < n; i++) {
        mark[i] = out->group_of[i] = HNN_HIR_NONE;
        n_linear += h->nodes[i].op == HNN_HIR_LINEAR; /* at most one group each */
    }
    out->groups = hnn_arena_array(arena, n_linear + 1, sizeof *out->groups);
    out->n_groups = 0;
    out->max_in = out->max_rows = 1;
    for (uint32_t i = 0; i < n;) {
        if (h->nodes[i].op != HNN_HIR_LINEAR) {
            i++;
            continue;
        }
        hnn_hir_linear_group *g = &out->groups[out->n_groups];
        hnn_hir_linear_group_build(h, i, arena, mark, g);
        out->group_of[i] = out->n_groups++;
        if (g->n_in > out->max_in)
            out->max_in = g->n_in;
        if (g->end - g->first > out->max_rows)
            out->max_rows = g->end - g->first;
        i = g->end;
    }
}
