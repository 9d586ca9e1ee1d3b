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
hnn_hir_copy_node(hnn_hir *h, const hnn_hir_node *n, uint32_t a, uint32_t b)
{
    uint32_t id = hnn_hir_emit(h, n->op, a, b, n->tir);
    hnn_hir_node *m = hnn_hir_at(h, id);
    m->size = n->size;
    m->step = n->step;
    m->pt = n->pt;
    m->c = n->c;
    m->has_bound = n->has_bound;
    m->bound_lo = n->bound_lo;
    m->bound_hi = n->bound_hi;
    return id;
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
        unsigned nops = hnn_hir_op_operands(n->op);
        const hnn_hir_node *a = nops >= 1 ? (n->a < i ? &h->nodes[n->a] : NULL) : NULL;
        const hnn_hir_node *b = nops >= 2 ? (n->b < i ? &h->nodes[n->b] : NULL) : NULL;
        if ((nops >= 1 && !a) || (nops >= 2 && !b))
            return fail(why, why_len, "%%%u: operand is not an earlier node", i);
        /* 3-part values (products) feed a relinearisation, or a sum of
         * products that is itself 3-part (lazy relinearisation). */
        bool sum = n->op == HNN_HIR_ADD || n->op == HNN_HIR_SUB;
        if (n->op != HNN_HIR_RELIN && !sum && a && a->size != 2)
            return fail(why, why_len, "%%%u: takes a 3-part ciphertext that was not relinearised", i);
        if (sum && ((a->size == 3 || b->size == 3) != (n->size == 3)))
            return fail(why, why_len, "%%%u: a sum's part count does not match its operands'", i);
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
        char extra[96] = "";
        if (n->op == HNN_HIR_INPUT)
            snprintf(extra, sizeof extra, " #%u", n->pt);
        else if (n->op == HNN_HIR_ADD_CONST)
            snprintf(extra, sizeof extra, ", %.9g", n->c);
        else if (n->op == HNN_HIR_MUL_CONST)
            snprintf(extra, sizeof extra, ", %.9g @2^%.4f", n->c, log2(n->c_scale));
        else if (n->op == HNN_HIR_MUL_PT || n->op == HNN_HIR_ADD_PT)
            snprintf(extra, sizeof extra, ", pt%u @2^%.4f", n->pt, log2(n->c_scale));
        else if (n->op == HNN_HIR_ROTATE)
            snprintf(extra, sizeof extra, ", %d", n->step);
        fprintf(out, "%%%u = %s %s%s  L%u 2^%.4f\n", i, hnn_hir_op_name(n->op), args, extra, n->level,
                log2(n->scale));
    }
    for (uint32_t k = 0; k < h->n_outputs; k++)
        fprintf(out, "output %u = %%%u\n", k, h->outputs[k]);
}
