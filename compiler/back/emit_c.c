/*
 * The C back end (emit_c.h): a planned HE IR written as C over libhnnrt.
 *
 * Two steps. analyse() decides at compile time everything the executor
 * (back/exec.c) decides while it runs: where each value lives (an input, an
 * output, or a register freed at its last use), which rotations share a
 * hoisted decomposition and in which slot, which (plaintext, level, scale)
 * encodings the server keeps, where each constant sits in the weights
 * array, and how the nodes group into layers. The writers then print the
 * header, the client and the server from that analysis, so the two styles
 * (straight-line and table) cannot disagree about it.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "back/emit_c.h"
#include "middle/precision.h"

#define NONE UINT32_MAX

/* Where a value lives in the generated server. */
enum { LOC_NONE, LOC_IN, LOC_OUT, LOC_REG };
/* How a ROTATE runs: alone, hoisting its operand first, or from the hoist. */
enum { ROT_PLAIN, ROT_HOIST, ROT_HOISTED };

/* One plaintext encoding the server keeps: plan plaintext `pt` at (level, scale). */
typedef struct enc_pt {
    uint32_t pt, level;
    double scale;
    uint32_t next; /* the next encoding of the same plaintext, or NONE */
} enc_pt;

/* A maximal run of consecutive nodes of one tensor-IR layer. */
typedef struct run {
    uint32_t first, end; /* node ids, end exclusive; INPUT nodes excluded */
    uint32_t tir;
    uint32_t part;       /* 1 for the layer's first run, 2 for its second... */
} run;

typedef struct emit {
    const hnn_plan *plan;
    const hnn_hir *h;
    hnn_arena *arena;
    const char *name;  /* prefix of functions and types */
    char *up;          /* prefix of macros */
    hnn_emit_style style;
    hnn_emit_weights weights;

    uint32_t *last;      /* per node: the last node reading it, NONE when none */
    uint32_t *rot_users; /* per node: the ROTATEs reading it */
    uint32_t *ct_of;     /* per node: its output ciphertext, NONE when not an output */
    uint32_t n_ct_out;
    uint32_t *ct_node;   /* output ciphertext -> node */
    uint32_t *output_ct; /* output value k -> its ciphertext */
    uint8_t *loc;
    uint32_t *idx;       /* per node: the input, output or register index */
    uint8_t *rot_mode;
    uint32_t *hoist;     /* per ROTATE: its hoist slot */
    uint32_t n_regs, n_hoists;

    double *w;           /* the weights array: constants and plaintext values */
    size_t n_w;
    uint32_t *w_of;      /* per ADD_CONST/MUL_CONST node: its constant's index */
    uint32_t *pt_off;    /* per plan plaintext: its first value's index, NONE when unused */
    enc_pt *encs;
    uint32_t n_encs;
    uint32_t *enc_head;  /* per plan plaintext: its first encoding */
    uint32_t *enc_of;    /* per ADD_PT/MUL_PT node */
    run *runs;
    uint32_t n_runs;
    hnn_hir_linear_groups lin; /* LINEAR nodes run as one hnnrt_eval_linear call each */
    uint32_t ops;        /* nodes but the inputs */
    uint32_t calls;      /* runtime calls: ops less the LINEAR nodes that are not first in their group,
                            plus one round trip per refresh point */
    uint32_t n_refresh;  /* REFRESH nodes: the ciphertexts refreshed per evaluation */
    uint32_t n_points;   /* refresh points: runs of REFRESH nodes, one round trip each */
    uint32_t max_point;  /* the most ciphertexts one round trip carries */
    uint32_t *point_first; /* per REFRESH node: the first node of its point */
    uint32_t *point_end; /* per REFRESH node: the end of its point */
    bool relin;
    uint64_t checksum;
} emit;

/* ------------------------------------------------------------------ text buffer */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int k = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->n <= (size_t)k)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static void
sb_puts(sbuf *b, const char *s)
{
    sb_printf(b, "%s", s);
}

/* ------------------------------------------------------------------ numbers */

/* A double as a C literal that reads back to the same value: the shortest of
 * 15, 16 or 17 significant digits that does (0.41, not 0.40999999999999998). */
static const char *
lit(char buf[40], double v)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, 40, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (!strpbrk(buf, ".eEn")) /* "3" would be an int: harmless, but say double */
        strcat(buf, ".0");
    return buf;
}

/* Scales in hexadecimal: exact, and a power of two reads as one (0x1p+40). */
static const char *
hex(char buf[40], double v)
{
    snprintf(buf, 40, "%a", v);
    return buf;
}

uint64_t
hnn_emit_weights_checksum(const double *w, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &w[i], sizeof bits);
        for (int k = 0; k < 8; k++) {
            h ^= (bits >> (8 * k)) & 0xff;
            h *= 0x100000001b3ull;
        }
    }
    return h;
}

/* ------------------------------------------------------------------ analysis */

static uint32_t
push_weight(emit *e, double v)
{
    e->w[e->n_w] = v;
    return (uint32_t)e->n_w++;
}

static uint32_t
encoding(emit *e, uint32_t pt, uint32_t level, double scale)
{
    for (uint32_t k = e->enc_head[pt]; k != NONE; k = e->encs[k].next)
        if (e->encs[k].level == level && e->encs[k].scale == scale)
            return k;
    enc_pt *x = &e->encs[e->n_encs];
    x->pt = pt;
    x->level = level;
    x->scale = scale;
    x->next = e->enc_head[pt];
    e->enc_head[pt] = e->n_encs;
    return e->n_encs++;
}

static bool
analyse(emit *e, char *err, size_t err_len)
{
    const hnn_hir *h = e->h;
    hnn_arena *a = e->arena;
    uint32_t n = h->n_nodes;
    e->last = hnn_arena_array(a, n + 1, sizeof *e->last);
    e->rot_users = hnn_arena_array(a, n + 1, sizeof *e->rot_users);
    e->ct_of = hnn_arena_array(a, n + 1, sizeof *e->ct_of);
    e->loc = hnn_arena_array(a, n + 1, sizeof *e->loc);
    e->idx = hnn_arena_array(a, n + 1, sizeof *e->idx);
    e->rot_mode = hnn_arena_array(a, n + 1, sizeof *e->rot_mode);
    e->hoist = hnn_arena_array(a, n + 1, sizeof *e->hoist);
    e->w_of = hnn_arena_array(a, n + 1, sizeof *e->w_of);
    e->enc_of = hnn_arena_array(a, n + 1, sizeof *e->enc_of);
    e->runs = hnn_arena_array(a, n + 1, sizeof *e->runs);
    e->encs = hnn_arena_array(a, n + 1, sizeof *e->encs);
    e->pt_off = hnn_arena_array(a, h->n_pts + 1, sizeof *e->pt_off);
    e->enc_head = hnn_arena_array(a, h->n_pts + 1, sizeof *e->enc_head);
    e->ct_node = hnn_arena_array(a, h->n_outputs + 1, sizeof *e->ct_node);
    e->output_ct = hnn_arena_array(a, h->n_outputs + 1, sizeof *e->output_ct);

    size_t n_w = 0;
    for (uint32_t i = 0; i < n; i++) {
        e->last[i] = NONE;
        e->ct_of[i] = NONE;
        const hnn_hir_node *x = &h->nodes[i];
        if (x->op == HNN_HIR_ADD_CONST || x->op == HNN_HIR_MUL_CONST)
            n_w++;
        if (x->op == HNN_HIR_LINEAR)
            n_w += x->n_args;
        if (x->op == HNN_HIR_BOOTSTRAP) {
            snprintf(err, err_len, "node %%%u: bootstrapping is not supported by the C back end", i);
            return false;
        }
        if (x->op == HNN_HIR_REFRESH)
            e->n_refresh++;
        if (x->op == HNN_HIR_RELIN)
            e->relin = true;
        if (x->op != HNN_HIR_INPUT)
            e->ops++;
    }
    e->calls = e->ops;
    hnn_hir_linear_groups_build(h, a, &e->lin);
    for (uint32_t k = 0; k < e->lin.n_groups; k++)
        e->calls -= e->lin.groups[k].end - e->lin.groups[k].first - 1;
    /* Refresh points: as the executor, one round trip of the key holder's
     * per run of hnn_hir_refresh_point_end. */
    e->point_first = hnn_arena_array(a, n + 1, sizeof *e->point_first);
    e->point_end = hnn_arena_array(a, n + 1, sizeof *e->point_end);
    e->n_points = hnn_hir_refresh_points(h, e->point_first, e->point_end, &e->max_point);
    e->calls += e->n_points;
    for (uint32_t p = 0; p < h->n_pts; p++) {
        e->pt_off[p] = NONE;
        e->enc_head[p] = NONE;
        n_w += h->pts[p].len;
    }
    e->w = hnn_arena_array(a, n_w + 1, sizeof *e->w);

    /* Output ciphertexts: the distinct nodes of the output list, in order
     * (vector packing lists one node per value, all the same ciphertext). */
    for (uint32_t k = 0; k < h->n_outputs; k++) {
        uint32_t id = h->outputs[k];
        if (e->ct_of[id] == NONE) {
            e->ct_node[e->n_ct_out] = id;
            e->ct_of[id] = e->n_ct_out++;
        }
        e->output_ct[k] = e->ct_of[id];
    }
    for (uint32_t i = 0; i < n; i++) {
        const hnn_hir_node *x = &h->nodes[i];
        for (unsigned k = 0; k < hnn_hir_arity(x); k++)
            e->last[hnn_hir_arg(x, k)] = i;
        if (x->op == HNN_HIR_ROTATE)
            e->rot_users[x->a]++;
    }

    /* Registers, by last use. An operand whose last use this node is goes
     * back to the free stack before the result takes one, so the result
     * usually lands in its operand's register: the runtime allows every
     * output to alias an input. */
    uint32_t *free_regs = hnn_arena_array(a, n + 1, sizeof *free_regs);
    uint32_t n_free = 0;
    /* Hoist slots: as the executor, one per value whose rotations are not
     * all done, the lowest free slot first. */
    uint32_t *slot_node = hnn_arena_array(a, n + 1, sizeof *slot_node);
    uint32_t *slot_left = hnn_arena_array(a, n + 1, sizeof *slot_left);
    for (uint32_t i = 0; i < n; i++) {
        const hnn_hir_node *x = &h->nodes[i];
        if (x->op == HNN_HIR_INPUT) {
            e->loc[i] = LOC_IN;
            e->idx[i] = x->pt;
            continue;
        }
        if (e->lin.group_of[i] != NONE) {
            /* A group's results all take places before its operands free
             * theirs: hnnrt_eval_linear writes while it reads. */
            const hnn_hir_linear_group *g = &e->lin.groups[e->lin.group_of[i]];
            for (uint32_t r = g->first; r < g->end; r++) {
                e->loc[r] = e->ct_of[r] != NONE ? LOC_OUT : LOC_REG;
                e->idx[r] = e->ct_of[r] != NONE ? e->ct_of[r] : n_free ? free_regs[--n_free] : e->n_regs++;
            }
            for (uint32_t r = g->first; r < g->end; r++)
                if (e->loc[r] == LOC_REG && e->last[r] == NONE)
                    free_regs[n_free++] = e->idx[r];
            for (uint32_t k = 0; k < g->n_in; k++)
                if (e->loc[g->in[k]] == LOC_REG && e->last[g->in[k]] < g->end)
                    free_regs[n_free++] = e->idx[g->in[k]];
        }
        if (x->op == HNN_HIR_LINEAR) {
            e->w_of[i] = (uint32_t)e->n_w;
            for (uint32_t k = 0; k < x->n_args; k++)
                push_weight(e, x->coeffs[k]);
            continue;
        }
        unsigned k = hnn_hir_op_operands(x->op);
        for (unsigned j = 0; j < k; j++) {
            uint32_t o = j == 0 ? x->a : x->b;
            if (j == 1 && x->b == x->a)
                continue;
            if (e->loc[o] == LOC_REG && e->last[o] == i)
                free_regs[n_free++] = e->idx[o];
        }
        if (e->ct_of[i] != NONE) {
            e->loc[i] = LOC_OUT;
            e->idx[i] = e->ct_of[i];
        } else {
            e->loc[i] = LOC_REG;
            e->idx[i] = n_free ? free_regs[--n_free] : e->n_regs++;
            /* Read by nothing: its register serves the next node — but a
             * point's ciphertexts all go to the key holder together. */
            if (e->last[i] == NONE && x->op != HNN_HIR_REFRESH)
                free_regs[n_free++] = e->idx[i];
        }
        if (x->op == HNN_HIR_REFRESH && i + 1 == e->point_end[i])
            for (uint32_t r = e->point_first[i]; r <= i; r++)
                if (e->loc[r] == LOC_REG && e->last[r] == NONE)
                    free_regs[n_free++] = e->idx[r];
        if (x->op == HNN_HIR_ROTATE) {
            if (e->rot_users[x->a] < 2) {
                e->rot_mode[i] = ROT_PLAIN;
            } else {
                uint32_t s = NONE, f = NONE;
                for (uint32_t t = 0; t < e->n_hoists && s == NONE; t++) {
                    if (slot_node[t] == x->a)
                        s = t;
                    else if (slot_node[t] == NONE && f == NONE)
                        f = t;
                }
                if (s != NONE) {
                    e->rot_mode[i] = ROT_HOISTED;
                } else {
                    s = f != NONE ? f : e->n_hoists++;
                    slot_node[s] = x->a;
                    slot_left[s] = e->rot_users[x->a];
                    e->rot_mode[i] = ROT_HOIST;
                }
                e->hoist[i] = s;
                if (--slot_left[s] == 0)
                    slot_node[s] = NONE;
            }
        }
        switch (x->op) {
        case HNN_HIR_ADD_CONST:
        case HNN_HIR_MUL_CONST:
            e->w_of[i] = push_weight(e, x->c);
            break;
        case HNN_HIR_ADD_PT:
        case HNN_HIR_MUL_PT: {
            if (x->pt >= h->n_pts) {
                snprintf(err, err_len, "node %%%u: plaintext %u out of range", i, x->pt);
                return false;
            }
            const hnn_hir_pt *p = &h->pts[x->pt];
            if (p->len == 0 || p->len > e->plan->slots) {
                snprintf(err, err_len, "node %%%u: plaintext of %u values for %zu slots", i, p->len,
                         e->plan->slots);
                return false;
            }
            if (e->pt_off[x->pt] == NONE) {
                e->pt_off[x->pt] = (uint32_t)e->n_w;
                for (uint32_t v = 0; v < p->len; v++)
                    push_weight(e, p->values[v]);
            }
            /* As the executor: a sum at the value's own scale, a product at
             * the planned encoding scale; both at the value's level. */
            const hnn_hir_node *o = &h->nodes[x->a];
            double scale = x->op == HNN_HIR_ADD_PT ? o->scale : x->c_scale;
            e->enc_of[i] = encoding(e, x->pt, o->level, scale);
            break;
        }
        default:
            break;
        }
    }
    for (size_t i = 0; i < e->n_w; i++)
        if (!isfinite(e->w[i])) {
            snprintf(err, err_len, "weight %zu is not finite", i);
            return false;
        }
    e->checksum = hnn_emit_weights_checksum(e->w, e->n_w);

    /* Layers: maximal runs of one tensor-IR node. */
    uint32_t *parts = hnn_arena_array(a, e->plan->tir->n_nodes + 1, sizeof *parts);
    for (uint32_t i = 0; i < n; i++) {
        const hnn_hir_node *x = &h->nodes[i];
        if (x->op == HNN_HIR_INPUT)
            continue;
        run *r = e->n_runs ? &e->runs[e->n_runs - 1] : NULL;
        if (r && r->tir == x->tir && r->end == i) {
            r->end = i + 1;
            continue;
        }
        if (r && r->tir == x->tir) { /* only inputs between: the same run */
            bool inputs_only = true;
            for (uint32_t j = r->end; j < i && inputs_only; j++)
                inputs_only = h->nodes[j].op == HNN_HIR_INPUT;
            if (inputs_only) {
                r->end = i + 1;
                continue;
            }
        }
        r = &e->runs[e->n_runs++];
        r->first = i;
        r->end = i + 1;
        r->tir = x->tir;
        r->part = x->tir < e->plan->tir->n_nodes ? ++parts[x->tir] : 1;
    }
    return true;
}

/* ------------------------------------------------------------------ shared pieces */

/* The client layout of the input (hir->in_layout) as a table: slot i of
 * input ciphertext k holds x[input_layout[k][i % in_period] - 1], zero where
 * the entry is 0. */
static void
emit_input_layout(sbuf *b, const hnn_hir *h)
{
    sb_printf(b, "/* The client layout of the input: slot i of input ciphertext k holds feature\n"
                 " * input_layout[k][i %% %u] - 1, or 0 where the entry is 0; the first layer's products\n"
                 " * then need no rotation of the input (docs/design/packing.md in hnnc). */\n"
                 "static const uint32_t input_layout[%u][%u] = {\n",
              h->in_period, h->in_cts, h->in_period);
    for (uint32_t k = 0; k < h->in_cts; k++) {
        sb_puts(b, "    {");
        for (uint32_t i = 0; i < h->in_period; i++) {
            uint32_t v = h->in_layout[(size_t)k * h->in_period + i];
            sb_printf(b, "%s%u", i == 0 ? "" : i % 24 ? ", " : ",\n     ", v == HNN_HIR_NONE ? 0 : v + 1);
        }
        sb_puts(b, "},\n");
    }
    sb_puts(b, "};\n\n");
}

static const char *
tir_name(const emit *e, uint32_t tir)
{
    return tir < e->plan->tir->n_nodes && e->plan->tir->nodes[tir]->name ? e->plan->tir->nodes[tir]->name : "?";
}

static const char *
tir_kind(const emit *e, uint32_t tir)
{
    if (tir >= e->plan->tir->n_nodes)
        return "?";
    const hnn_tir_node *n = e->plan->tir->nodes[tir];
    if (n->kind == HNN_TIR_POLY)
        return hnn_op_name(n->u.poly.source);
    return hnn_tir_kind_name(n->kind);
}

static bool
is_identifier(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* "h1+out" -> "h1_out": a layer name inside a function name. */
static const char *
c_ident(hnn_arena *arena, const char *s)
{
    size_t len = strlen(s);
    if (len > 40)
        len = 40;
    char *o = hnn_arena_strndup(arena, s, len);
    for (char *p = o; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            *p = '_';
    return o;
}

/* A layer name inside a C string or comment. */
static const char *
c_text(hnn_arena *arena, const char *s)
{
    char *o = hnn_arena_strdup(arena, s);
    for (char *p = o; *p; p++)
        if (*p == '"' || *p == '\\' || *p == '*' || (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '_';
    return o;
}

/* "8 mul_pt, 4 rotate (3 hoisted), 1 rescale, 8 add" for the nodes of a run;
 * refreshes with their round trips, "64 refresh (1 round trip)". */
static void
op_counts(sbuf *b, const emit *e, const run *r)
{
    uint64_t c[HNN_HIR__COUNT] = {0};
    uint32_t hoisted = 0, points = 0;
    for (uint32_t i = r->first; i < r->end; i++) {
        c[e->h->nodes[i].op]++;
        hoisted += e->h->nodes[i].op == HNN_HIR_ROTATE && e->rot_mode[i] != ROT_PLAIN;
        points += e->h->nodes[i].op == HNN_HIR_REFRESH && e->point_first[i] == i;
    }
    bool first = true;
    for (int op = 0; op < HNN_HIR__COUNT; op++) {
        if (!c[op] || op == HNN_HIR_INPUT)
            continue;
        sb_printf(b, "%s%llu %s", first ? "" : ", ", (unsigned long long)c[op], hnn_hir_op_name((hnn_hir_op)op));
        if (op == HNN_HIR_ROTATE && hoisted)
            sb_printf(b, " (%u hoisted)", hoisted);
        if (op == HNN_HIR_REFRESH)
            sb_printf(b, " (%u round trip%s)", points, points == 1 ? "" : "s");
        first = false;
    }
}

static void
run_levels(const emit *e, const run *r, uint32_t *in, uint32_t *out)
{
    *in = 0;
    for (uint32_t i = r->first; i < r->end; i++) {
        const hnn_hir_node *x = &e->h->nodes[i];
        uint32_t l = hnn_hir_op_operands(x->op) ? e->h->nodes[x->a].level : x->level;
        if (l > *in)
            *in = l;
    }
    *out = e->h->nodes[r->end - 1].level;
}

/* The ciphertext expression of node i's value. */
static const char *
val(const emit *e, uint32_t i, char buf[32])
{
    switch (e->loc[i]) {
    case LOC_IN:
        snprintf(buf, 32, "in[%u]", e->idx[i]);
        break;
    case LOC_OUT:
        snprintf(buf, 32, "out[%u]", e->idx[i]);
        break;
    default:
        snprintf(buf, 32, "r[%u]", e->idx[i]);
        break;
    }
    return buf;
}

static void
banner(sbuf *b, const emit *e, const char *what)
{
    sb_printf(b, "/*\n * %s%s — generated by hnnc from model '%s'. Do not edit: recompile the model.\n"
                 " * The API of both sides is in %s.h; docs/generated-api.md describes it.\n */\n",
              e->name, what, e->name, e->name);
}

/* #define NAME_WHAT value, with its comment aligned. */
static void
define(sbuf *b, const emit *e, const char *what, const char *value, const char *comment)
{
    char head[160];
    snprintf(head, sizeof head, "#define %s_%s %s", e->up, what, value);
    if (comment)
        sb_printf(b, "%-44s /* %s */\n", head, comment);
    else
        sb_printf(b, "%s\n", head);
}

/* ------------------------------------------------------------------ NAME.h */

static void
write_header(sbuf *b, const emit *e)
{
    const hnn_plan *p = e->plan;
    const hnn_hir *h = e->h;
    const hnnrt_params_spec *s = &p->params.spec;
    const char *N = e->name, *U = e->up;
    char x1[40];
    bool vector = h->packing == HNN_HIR_PACK_VECTOR;
    bool softargmax = p->tir->output->kind == HNN_TIR_SOFTARGMAX;
    banner(b, e, ".h");
    sb_printf(b, "#ifndef %s_HNNC_H\n#define %s_HNNC_H\n\n#include <stddef.h>\n#include <stdint.h>\n#include <stdio.h>\n\n"
                 "#include \"hnnrt.h\"\n\n",
              U, U);
    sb_printf(b,
              "/*\n * The circuit: %s packing, %u levels consumed, %u HE operations; N = 2^%u, %u data primes,\n"
              " * %u special. Precision: estimated %.1f bits at the output (max abs error %.3g).\n",
              vector ? "vector" : "batch", p->depth, e->ops, s->log_n, p->n_data_primes, p->n_special_primes,
              p->precision ? p->precision->precision_bits : 0.0, p->precision ? p->precision->max_abs_error : 0.0);
    if (e->n_refresh)
        sb_printf(b, " * The key holder refreshes %u ciphertexts per evaluation in %u round trip%s, one per\n"
                     " * refresh point (masked: it sees each value hidden to within 2^-%u).\n",
                  e->n_refresh, e->n_points, e->n_points == 1 ? "" : "s", p->refresh_hiding_bits);
    sb_printf(b, " *\n * Client (key holder): %s_context_new, %s_keygen, %s_client_new, %s_encrypt,\n"
                 " * %s_decrypt, %s_client_refresh. Server: %s_server_new, %s_evaluate, %s_server_free.\n */\n\n",
              N, N, N, N, N, N, N, N, N);

    char v[64];
    snprintf(v, sizeof v, "%u", h->n_inputs);
    define(b, e, "INPUTS", v, "values per sample in");
    snprintf(v, sizeof v, "%u", h->n_outputs);
    define(b, e, "OUTPUTS", v, "values per sample out");
    snprintf(v, sizeof v, "%u", p->ciphertexts_in);
    define(b, e, "CIPHERTEXTS_IN", v, "ciphertexts per evaluation");
    snprintf(v, sizeof v, "%u", e->n_ct_out);
    define(b, e, "CIPHERTEXTS_OUT", v, NULL);
    snprintf(v, sizeof v, "%zu", vector ? (size_t)1 : p->slots);
    define(b, e, "BATCH_MAX", v, "samples per evaluation");
    define(b, e, "VECTOR_PACKING", vector ? "1" : "0", "1: a sample per ciphertext; 0: per slot");
    snprintf(v, sizeof v, "(%s)", lit(x1, p->tir->input->range.lo));
    define(b, e, "INPUT_LO", v, "every input value lies in [LO, HI] (each in its own range within)");
    snprintf(v, sizeof v, "(%s)", lit(x1, p->tir->input->range.hi));
    define(b, e, "INPUT_HI", v, NULL);
    snprintf(v, sizeof v, "%u", h->top_level);
    define(b, e, "TOP_LEVEL", v, "level and scale of the inputs");
    define(b, e, "INPUT_SCALE", hex(x1, p->level_scale[h->top_level]), NULL);
    snprintf(v, sizeof v, "%u", e->n_points);
    define(b, e, "REFRESHES", v, "refresh points: key holder callbacks per evaluation");
    snprintf(v, sizeof v, "%u", e->n_refresh);
    define(b, e, "REFRESH_CIPHERTEXTS", v, "ciphertexts they carry in all");
    snprintf(v, sizeof v, "%u", e->max_point);
    define(b, e, "REFRESH_MAX", v, "the most in one callback");
    define(b, e, "HAS_SOFTARGMAX", softargmax ? "1" : "0", NULL);
    snprintf(v, sizeof v, "%.1f", p->precision ? p->precision->precision_bits : 0.0);
    define(b, e, "PRECISION_BITS", v, "estimated, at the output");
    define(b, e, "MAX_ABS_ERROR", lit(x1, p->precision ? p->precision->max_abs_error : 0.0), NULL);
    define(b, e, "WEIGHTS_FILE", e->weights == HNN_EMIT_WEIGHTS_FILE ? "1" : "0", "1: NAME_server_new reads NAME.weights");
    snprintf(v, sizeof v, "%zu", e->n_w);
    define(b, e, "WEIGHTS_COUNT", v, NULL);
    snprintf(v, sizeof v, "0x%016llxull", (unsigned long long)e->checksum);
    define(b, e, "WEIGHTS_CHECKSUM", v, "FNV-1a of the weights");
    sb_puts(b, "\n");

    /* Parameters: in the header, so that client and server build the same
     * context without sharing an object file. */
    sb_printf(b, "/* The parameter set the circuit was planned for. */\nstatic inline void\n%s_params(hnnrt_params_spec *spec)\n{\n"
                 "    *spec = (hnnrt_params_spec){0};\n    spec->log_n = %u;\n    spec->n_data_primes = %u;\n",
              N, s->log_n, s->n_data_primes);
    for (unsigned i = 0; i < s->n_data_primes; i++)
        sb_printf(b, "    spec->data_bits[%u] = %u;\n", i, s->data_bits[i]);
    sb_printf(b, "    spec->n_special_primes = %u;\n", s->n_special_primes);
    for (unsigned i = 0; i < s->n_special_primes; i++)
        sb_printf(b, "    spec->special_bits[%u] = %u;\n", i, s->special_bits[i]);
    sb_printf(b, "    spec->dnum = %u;\n    spec->security = (hnnrt_security)%d;\n}\n\n", s->dnum, (int)s->security);

    unsigned np = p->n_data_primes + p->n_special_primes;
    sb_printf(b, "/* HNNRT_OK when ctx has the primes the circuit's scales were computed from;\n"
                 " * HNNRT_ERR_PARAMS_MISMATCH (and why, in err when given) otherwise. */\n"
                 "static inline hnnrt_status\n%s_check_context(const hnnrt_context *ctx, hnnrt_error *err)\n{\n"
                 "    static const uint64_t primes[%u] = {\n",
              N, np);
    for (unsigned i = 0; i < np; i++)
        sb_printf(b, "        %lluull,%s\n", (unsigned long long)p->primes[i],
                  i + 1 == p->n_data_primes ? " /* special primes follow */" : "");
    sb_printf(b, "    };\n    const char *why = NULL;\n    int bad = -1;\n"
                 "    if (!ctx) {\n        if (err) {\n            err->status = HNNRT_ERR_ARG;\n"
                 "            snprintf(err->message, sizeof err->message, \"%s: no context\");\n        }\n"
                 "        return HNNRT_ERR_ARG;\n    }\n"
                 "    if (hnnrt_context_log_n(ctx) != %u)\n        why = \"ring dimension\";\n"
                 "    else if (hnnrt_context_max_level(ctx) + 1 != %u || hnnrt_context_special_count(ctx) != %u)\n"
                 "        why = \"number of primes\";\n",
              N, s->log_n, p->n_data_primes, p->n_special_primes);
    if (s->dnum)
        sb_printf(b, "    else if (hnnrt_context_dnum(ctx) != %u)\n        why = \"number of key-switching digits\";\n", s->dnum);
    sb_printf(b, "    for (unsigned i = 0; !why && i < %u; i++)\n        if (hnnrt_context_prime(ctx, i) != primes[i]) {\n"
                 "            why = \"primes\";\n            bad = (int)i;\n        }\n"
                 "    if (!why)\n        return HNNRT_OK;\n"
                 "    if (err) {\n        err->status = HNNRT_ERR_PARAMS_MISMATCH;\n"
                 "        if (bad >= 0)\n"
                 "            snprintf(err->message, sizeof err->message,\n"
                 "                     \"%s: the context's prime %%d is %%llu; the circuit was compiled for %%llu\", bad,\n"
                 "                     (unsigned long long)hnnrt_context_prime(ctx, (unsigned)bad), (unsigned long long)primes[bad]);\n"
                 "        else\n"
                 "            snprintf(err->message, sizeof err->message, \"%s: the context's %%s differs from the circuit's\", why);\n"
                 "    }\n    return HNNRT_ERR_PARAMS_MISMATCH;\n}\n\n",
              np, N, N);
    sb_printf(b, "/* A context for the circuit's parameters, checked by %s_check_context. */\n"
                 "static inline hnnrt_status\n%s_context_new(hnnrt_context **ctx, hnnrt_error *err)\n{\n"
                 "    hnnrt_params_spec spec;\n    %s_params(&spec);\n"
                 "    hnnrt_status st = hnnrt_context_new(ctx, &spec, 0, err);\n"
                 "    if (st == HNNRT_OK && (st = %s_check_context(*ctx, err)) != HNNRT_OK) {\n"
                 "        hnnrt_context_free(*ctx);\n        *ctx = NULL;\n    }\n    return st;\n}\n\n",
              N, N, N, N);

    /* Client. */
    sb_printf(b, "/* ---------------------------------------------------------------- client (key holder): %s_client.c */\n\n", N);
    sb_printf(b, "/* Exactly the keys the circuit needs; relin and galois are NULL when it needs none. */\n"
                 "typedef struct %s_keys {\n    hnnrt_secret_key *secret;\n    hnnrt_public_key *public_key;\n"
                 "    hnnrt_relin_key *relin;\n    hnnrt_galois_keys *galois;\n} %s_keys;\n\n",
              N, N);
    sb_printf(b, "hnnrt_status %s_keygen(const hnnrt_context *ctx, %s_keys *keys);\nvoid %s_keys_free(%s_keys *keys);\n\n",
              N, N, N, N);
    sb_printf(b, "/* The key holder's encoder, encryptor and decryptor; keys are borrowed. */\n"
                 "typedef struct %s_client %s_client;\n"
                 "hnnrt_status %s_client_new(const hnnrt_context *ctx, const %s_keys *keys, %s_client **out);\n"
                 "void %s_client_free(%s_client *c);\nconst char *%s_client_last_error(const %s_client *c);\n\n",
              N, N, N, N, N, N, N, N, N);
    if (vector && h->in_layout)
        sb_printf(b, "/* Encrypts one sample (n_samples must be 1): its %u features laid out for the first\n"
                     " * layer over in[0..%s_CIPHERTEXTS_IN) (made by the caller with hnnrt_ct_new), as the\n"
                     " * client layout table says. */\n",
                  h->n_inputs, U);
    else if (vector)
        sb_printf(b, "/* Encrypts one sample (n_samples must be 1): its %u features in slots 0..%u, repeated\n"
                     " * every %u slots, into in[0] (made by the caller with hnnrt_ct_new). */\n",
                  h->n_inputs, h->n_inputs - 1, h->period);
    else
        sb_printf(b, "/* Encrypts n_samples <= %s_BATCH_MAX samples (rows of %s_INPUTS doubles): feature k of\n"
                     " * sample s in slot s of in[k] (ciphertexts made by the caller with hnnrt_ct_new). */\n",
                  U, U);
    sb_printf(b, "hnnrt_status %s_encrypt(%s_client *c, const double *x, size_t n_samples, hnnrt_ct *const *in);\n", N, N);
    sb_printf(b, "/* %s_encrypt clamps each value into its element's declared range (the circuit's\n"
                 " * bounds hold only there); the values it clamped since the client was made. */\n"
                 "size_t %s_client_clamped(const %s_client *c);\n",
              N, N, N);
    sb_printf(b, "/* The circuit's outputs, n_samples rows of %s_OUTPUTS doubles%s. */\n"
                 "hnnrt_status %s_decrypt_logits(%s_client *c, const hnnrt_ct *const *out, size_t n_samples, double *y);\n",
              U, softargmax ? " (logits)" : "", N, N);
    sb_printf(b, "/* The model's outputs: the circuit's%s. */\n"
                 "hnnrt_status %s_decrypt(%s_client *c, const hnnrt_ct *const *out, size_t n_samples, double *y);\n",
              softargmax ? ", then the soft-argmax of each sample" : "", N, N);
    if (softargmax)
        sb_printf(b, "/* probs = softmax(logits / T), T = %s; probs MAY alias logits. */\n"
                     "void %s_softargmax(const double *logits, double *probs);\n",
                  lit(x1, p->tir->output->u.softargmax.temperature), N);
    sb_printf(b, "/* The key holder's side of a refresh point (a %s_refresh_fn; user: the %s_client *):\n"
                 " * decrypts each of the n masked ciphertexts and encrypts it again at (level, scale). */\n"
                 "int %s_client_refresh(void *user, hnnrt_ct *const *cts, size_t n, unsigned level, double scale);\n\n",
              N, N, N);

    /* Server. */
    sb_printf(b, "/* ---------------------------------------------------------------- server: %s_server.c */\n\n", N);
    sb_printf(b, "/*\n * A refresh callback, one call (one round trip) per refresh point: cts[0..n) are the\n"
                 " * point's ciphertexts (n <= %s_REFRESH_MAX), each encrypting v + r for a uniform mask r\n"
                 " * of its own that the server drew; the key holder replaces each, in place, by a fresh\n"
                 " * encryption of the same slots at level and scale; the server then subtracts each r.\n"
                 " * Returns 0 or an hnnrt_status.\n */\n"
                 "typedef int (*%s_refresh_fn)(void *user, hnnrt_ct *const *cts, size_t n, unsigned level, double scale);\n\n",
              U, N);
    sb_printf(b, "typedef struct %s_server %s_server;\n\n", N, N);
    sb_printf(b, "/*\n * The evaluator: checks ctx and the keys (rk%s, Galois keys for %u rotation%s%s),\n"
                 " * %s and encodes the circuit's %u plaintexts once, at the level\n"
                 " * and scale each use needs. ctx and the keys are borrowed. Fails with\n"
                 " * PARAMS_MISMATCH, MISSING_KEY, ALLOC%s; err (may be NULL) says why.\n */\n",
              e->relin ? " needed" : " unused: may be NULL", p->n_rotation_steps, p->n_rotation_steps == 1 ? "" : "s",
              p->conjugates ? " and conjugation" : "",
              e->weights == HNN_EMIT_WEIGHTS_FILE ? "reads the weights file (written next to this header)"
                                                  : "takes the embedded weights",
              e->n_encs, e->weights == HNN_EMIT_WEIGHTS_FILE ? ", IO, SERIAL_* (a bad weights file)" : "");
    sb_printf(b, "hnnrt_status %s_server_new(const hnnrt_context *ctx, const hnnrt_relin_key *rk, const hnnrt_galois_keys *gk,\n"
                 "                            %s%s_server **out, hnnrt_error *err);\n",
              N, e->weights == HNN_EMIT_WEIGHTS_FILE ? "const char *weights_path, " : "", N);
    sb_printf(b, "/*\n * One evaluation: in[0..%s_CIPHERTEXTS_IN) at level %s_TOP_LEVEL and scale %s_INPUT_SCALE;\n"
                 " * out[0..%s_CIPHERTEXTS_OUT) are ciphertexts made by the caller (hnnrt_ct_new), distinct\n"
                 " * from the inputs. refresh and user: the key holder's callback%s. On failure\n"
                 " * %s_server_last_error says where.\n */\n"
                 "hnnrt_status %s_evaluate(%s_server *s, const hnnrt_ct *const *in, hnnrt_ct *const *out,\n"
                 "                         %s_refresh_fn refresh, void *user);\n"
                 "const char *%s_server_last_error(const %s_server *s);\nvoid %s_server_free(%s_server *s);\n\n"
                 "#endif\n",
              U, U, U, U, e->n_refresh ? " (required)" : " (unused: the circuit has no refresh point)", N, N, N, N, N,
              N, N, N);
}

/* ------------------------------------------------------------------ NAME_client.c */

/* The declared input ranges, one per element of a vector or channel of an
 * image (a single one when the model gives one for all), and the clamp the
 * encoder applies; `count` is false for the copies vector packing repeats. */
static void
write_client_clamp(sbuf *b, const emit *e)
{
    const hnn_layer *in = e->plan->model->input;
    uint32_t n = in->u.input.n_ranges ? in->u.input.n_ranges : 1;
    size_t per = in->u.input.n_ranges ? hnn_shape_count(in->shape) / n : e->h->n_inputs;
    char x1[40];
    sb_printf(b, "/* The declared input ranges: input value i lies in [input_lo[i / %zu], input_hi[i / %zu]]. */\n",
              per, per);
    const char *names[2] = {"input_lo", "input_hi"};
    for (int side = 0; side < 2; side++) {
        sb_printf(b, "static const double %s[%u] = {", names[side], n);
        for (uint32_t k = 0; k < n; k++) {
            double lo, hi;
            hnn_input_element_range(in, (size_t)k * per, &lo, &hi);
            sb_printf(b, "%s%s", k ? ", " : "", lit(x1, side ? hi : lo));
        }
        sb_puts(b, "};\n");
    }
    sb_printf(b, "\n/* The circuit's bounds (q0, the activations' intervals) hold only inside the\n"
                 " * ranges: a value outside is clamped, and counted. NaN passes, for the encoder\n"
                 " * to refuse. */\nstatic double\nclamp_input(%s_client *c, size_t i, double v, int count)\n{\n"
                 "    double lo = input_lo[i / %zu], hi = input_hi[i / %zu];\n"
                 "    if (!(v < lo || v > hi))\n        return v;\n"
                 "    c->clamped += count != 0;\n    return v < lo ? lo : hi;\n}\n\n",
              e->name, per, per);
}

static void
write_client(sbuf *b, const emit *e)
{
    const hnn_plan *p = e->plan;
    const hnn_hir *h = e->h;
    const char *N = e->name, *U = e->up;
    bool vector = h->packing == HNN_HIR_PACK_VECTOR;
    bool softargmax = p->tir->output->kind == HNN_TIR_SOFTARGMAX;
    char x1[40];
    banner(b, e, "_client.c");
    sb_printf(b, "#include <math.h>\n#include <stdarg.h>\n#include <stdlib.h>\n#include <string.h>\n\n#include <sodium.h>\n\n"
                 "#include \"%s.h\"\n\n",
              N);
    /* Keys. */
    sb_printf(b, "static const int rotation_steps[%u] = {", p->n_rotation_steps ? p->n_rotation_steps : 1);
    for (uint32_t i = 0; i < p->n_rotation_steps; i++)
        sb_printf(b, "%s%d", i ? ", " : "", p->rotation_steps[i]);
    sb_printf(b, "%s};\n\n", p->n_rotation_steps ? "" : "0");
    sb_printf(b, "/* Output value k is slot %s of output ciphertext output_ct[k]. */\n"
                 "static const unsigned output_ct[%u] = {",
              vector ? "k" : "s (sample s)", h->n_outputs ? h->n_outputs : 1);
    for (uint32_t k = 0; k < h->n_outputs; k++)
        sb_printf(b, "%s%u", k ? ", " : "", e->output_ct[k]);
    sb_printf(b, "%s};\n\n", h->n_outputs ? "" : "0");

    sb_printf(b, "hnnrt_status\n%s_keygen(const hnnrt_context *ctx, %s_keys *keys)\n{\n"
                 "    hnnrt_keygen *kg = NULL;\n    hnnrt_status st;\n"
                 "    if (!keys)\n        return HNNRT_ERR_ARG;\n"
                 "    memset(keys, 0, sizeof *keys);\n"
                 "    if ((st = %s_check_context(ctx, NULL)) != HNNRT_OK || (st = hnnrt_keygen_new(ctx, &kg)) != HNNRT_OK)\n"
                 "        return st;\n"
                 "    st = hnnrt_keygen_secret(kg, 0, &keys->secret);\n"
                 "    if (st == HNNRT_OK)\n        st = hnnrt_keygen_public(kg, keys->secret, &keys->public_key);\n",
              N, N, N);
    if (e->relin)
        sb_puts(b, "    if (st == HNNRT_OK) /* the circuit multiplies ciphertexts */\n"
                   "        st = hnnrt_keygen_relin(kg, keys->secret, &keys->relin);\n");
    if (p->n_rotation_steps || p->conjugates)
        sb_printf(b, "    if (st == HNNRT_OK) /* exactly the circuit's rotations */\n"
                     "        st = hnnrt_keygen_galois(kg, keys->secret, rotation_steps, %u, %d, &keys->galois);\n",
                  p->n_rotation_steps, p->conjugates ? 1 : 0);
    else
        sb_puts(b, "    (void)rotation_steps; /* the circuit rotates nothing */\n");
    sb_printf(b, "    hnnrt_keygen_free(kg);\n    if (st != HNNRT_OK)\n        %s_keys_free(keys);\n    return st;\n}\n\n", N);
    sb_printf(b, "void\n%s_keys_free(%s_keys *keys)\n{\n    if (!keys)\n        return;\n"
                 "    hnnrt_galois_keys_free(keys->galois);\n    hnnrt_relin_key_free(keys->relin);\n"
                 "    hnnrt_public_key_free(keys->public_key);\n    hnnrt_secret_key_free(keys->secret);\n"
                 "    memset(keys, 0, sizeof *keys);\n}\n\n",
              N, N);

    /* Client object. */
    sb_printf(b, "struct %s_client {\n    const hnnrt_context *ctx;\n    hnnrt_encoder *enc;\n    hnnrt_encryptor *encr;\n"
                 "    hnnrt_decryptor *dec;\n    hnnrt_pt *pt;\n    size_t slots;\n"
                 "    double *re, *im; /* one value per slot */\n    size_t clamped;  /* input values clamped */\n"
                 "    char error[256];\n};\n\n",
              N);
    write_client_clamp(b, e);
    sb_printf(b, "static hnnrt_status client_failed(%s_client *c, hnnrt_status st, const char *fmt, ...)\n"
                 "    __attribute__((format(printf, 3, 4)));\n\n"
                 "static hnnrt_status\nclient_failed(%s_client *c, hnnrt_status st, const char *fmt, ...)\n{\n"
                 "    va_list ap;\n    va_start(ap, fmt);\n    vsnprintf(c->error, sizeof c->error, fmt, ap);\n    va_end(ap);\n"
                 "    return st;\n}\n\n",
              N, N);
    sb_printf(b, "hnnrt_status\n%s_client_new(const hnnrt_context *ctx, const %s_keys *keys, %s_client **out)\n{\n"
                 "    hnnrt_status st;\n    if (!out || !keys || !keys->secret || !keys->public_key)\n        return HNNRT_ERR_ARG;\n"
                 "    *out = NULL;\n    if ((st = %s_check_context(ctx, NULL)) != HNNRT_OK)\n        return st;\n"
                 "    %s_client *c = calloc(1, sizeof *c);\n    if (!c)\n        return HNNRT_ERR_ALLOC;\n"
                 "    c->ctx = ctx;\n    c->slots = hnnrt_context_slots(ctx);\n"
                 "    c->re = calloc(c->slots, sizeof *c->re);\n    c->im = calloc(c->slots, sizeof *c->im);\n"
                 "    st = c->re && c->im ? HNNRT_OK : HNNRT_ERR_ALLOC;\n"
                 "    if (st == HNNRT_OK)\n        st = hnnrt_encoder_new(ctx, &c->enc);\n"
                 "    if (st == HNNRT_OK)\n        st = hnnrt_encryptor_new(ctx, keys->public_key, NULL, &c->encr);\n"
                 "    if (st == HNNRT_OK)\n        st = hnnrt_decryptor_new(ctx, keys->secret, &c->dec);\n"
                 "    if (st == HNNRT_OK)\n        st = hnnrt_pt_new(ctx, &c->pt);\n"
                 "    if (st != HNNRT_OK) {\n        %s_client_free(c);\n        return st;\n    }\n"
                 "    *out = c;\n    return HNNRT_OK;\n}\n\n",
              N, N, N, N, N, N);
    sb_printf(b, "void\n%s_client_free(%s_client *c)\n{\n    if (!c)\n        return;\n"
                 "    if (c->re)\n        sodium_memzero(c->re, c->slots * sizeof *c->re);\n"
                 "    if (c->im)\n        sodium_memzero(c->im, c->slots * sizeof *c->im);\n"
                 "    free(c->re);\n    free(c->im);\n    hnnrt_pt_free(c->pt);\n    hnnrt_decryptor_free(c->dec);\n"
                 "    hnnrt_encryptor_free(c->encr);\n    hnnrt_encoder_free(c->enc);\n    free(c);\n}\n\n"
                 "const char *\n%s_client_last_error(const %s_client *c)\n{\n    return c ? c->error : \"no client\";\n}\n\n"
                 "size_t\n%s_client_clamped(const %s_client *c)\n{\n    return c ? c->clamped : 0;\n}\n\n",
              N, N, N, N, N, N);

    /* Encrypt. */
    if (vector && h->in_layout)
        emit_input_layout(b, h);
    sb_printf(b, "hnnrt_status\n%s_encrypt(%s_client *c, const double *x, size_t n_samples, hnnrt_ct *const *in)\n{\n"
                 "    hnnrt_status st;\n    if (!c || !x || !in)\n        return HNNRT_ERR_ARG;\n",
              N, N);
    if (vector && h->in_layout) {
        sb_printf(b, "    if (n_samples != 1)\n"
                     "        return client_failed(c, HNNRT_ERR_ARG, \"vector packing: one sample per evaluation, %%zu given\", n_samples);\n"
                     "    for (size_t i = 0; i < %s_INPUTS; i++) /* each value counted once, however often laid out */\n"
                     "        (void)clamp_input(c, i, x[i], 1);\n"
                     "    for (unsigned k = 0; k < %s_CIPHERTEXTS_IN; k++) {\n"
                     "        if (!in[k])\n            return client_failed(c, HNNRT_ERR_ARG, \"in[%%u] is NULL\", k);\n"
                     "        for (size_t i = 0; i < c->slots; i++) {\n"
                     "            uint32_t v = input_layout[k][i %% %u];\n"
                     "            c->re[i] = v ? clamp_input(c, v - 1, x[v - 1], 0) : 0.0;\n        }\n"
                     "        st = hnnrt_encode(c->enc, c->pt, c->re, c->slots, %s_INPUT_SCALE, %s_TOP_LEVEL);\n"
                     "        if (st == HNNRT_OK)\n            st = hnnrt_encrypt(c->encr, in[k], c->pt);\n"
                     "        if (st != HNNRT_OK) {\n            sodium_memzero(c->re, c->slots * sizeof *c->re);\n"
                     "            return client_failed(c, st, \"encrypt ciphertext %%u: %%s\", k, hnnrt_encoder_last_error(c->enc));\n"
                     "        }\n    }\n    sodium_memzero(c->re, c->slots * sizeof *c->re);\n    return HNNRT_OK;\n}\n\n",
                  U, U, h->in_period, U, U);
    } else if (vector) {
        sb_printf(b, "    if (n_samples != 1)\n"
                     "        return client_failed(c, HNNRT_ERR_ARG, \"vector packing: one sample per evaluation, %%zu given\", n_samples);\n"
                     "    if (!in[0])\n        return client_failed(c, HNNRT_ERR_ARG, \"in[0] is NULL\");\n"
                     "    /* The sample's features in slots 0..%u, repeated every %u slots (the\n"
                     "     * circuit's rotations read the copies). */\n"
                     "    for (size_t i = 0; i < c->slots; i++)\n"
                     "        c->re[i] = i %% %u < %s_INPUTS ? clamp_input(c, i %% %u, x[i %% %u], i < %u) : 0.0;\n"
                     "    st = hnnrt_encode(c->enc, c->pt, c->re, c->slots, %s_INPUT_SCALE, %s_TOP_LEVEL);\n"
                     "    if (st == HNNRT_OK)\n        st = hnnrt_encrypt(c->encr, in[0], c->pt);\n"
                     "    sodium_memzero(c->re, c->slots * sizeof *c->re);\n"
                     "    if (st != HNNRT_OK)\n"
                     "        return client_failed(c, st, \"encrypt: %%s\", hnnrt_encoder_last_error(c->enc));\n"
                     "    return HNNRT_OK;\n}\n\n",
                  h->n_inputs - 1, h->period, h->period, U, h->period, h->period, h->period, U, U);
    } else {
        sb_printf(b, "    if (n_samples == 0 || n_samples > c->slots)\n"
                     "        return client_failed(c, HNNRT_ERR_ARG, \"%%zu samples; an evaluation holds 1..%%zu\", n_samples, c->slots);\n"
                     "    for (unsigned k = 0; k < %s_CIPHERTEXTS_IN; k++) {\n"
                     "        if (!in[k])\n            return client_failed(c, HNNRT_ERR_ARG, \"in[%%u] is NULL\", k);\n"
                     "        for (size_t s = 0; s < n_samples; s++)\n            c->re[s] = clamp_input(c, k, x[s * %s_INPUTS + k], 1);\n"
                     "        st = hnnrt_encode(c->enc, c->pt, c->re, n_samples, %s_INPUT_SCALE, %s_TOP_LEVEL);\n"
                     "        if (st == HNNRT_OK)\n            st = hnnrt_encrypt(c->encr, in[k], c->pt);\n"
                     "        if (st != HNNRT_OK) {\n            sodium_memzero(c->re, c->slots * sizeof *c->re);\n"
                     "            return client_failed(c, st, \"encrypt feature %%u: %%s\", k, hnnrt_encoder_last_error(c->enc));\n"
                     "        }\n    }\n    sodium_memzero(c->re, c->slots * sizeof *c->re);\n    return HNNRT_OK;\n}\n\n",
                  U, U, U, U);
    }
    /* Decrypt. */
    sb_printf(b, "hnnrt_status\n%s_decrypt_logits(%s_client *c, const hnnrt_ct *const *out, size_t n_samples, double *y)\n{\n"
                 "    hnnrt_status st = HNNRT_OK;\n    if (!c || !out || !y)\n        return HNNRT_ERR_ARG;\n",
              N, N);
    if (vector)
        sb_puts(b, "    if (n_samples != 1)\n"
                   "        return client_failed(c, HNNRT_ERR_ARG, \"vector packing: one sample per evaluation, %zu given\", n_samples);\n");
    else
        sb_puts(b, "    if (n_samples == 0 || n_samples > c->slots)\n"
                   "        return client_failed(c, HNNRT_ERR_ARG, \"%zu samples; an evaluation holds 1..%zu\", n_samples, c->slots);\n");
    sb_printf(b, "    for (unsigned ct = 0; ct < %s_CIPHERTEXTS_OUT && st == HNNRT_OK; ct++) {\n"
                 "        if (!out[ct])\n            return client_failed(c, HNNRT_ERR_ARG, \"out[%%u] is NULL\", ct);\n"
                 "        st = hnnrt_decrypt(c->dec, c->pt, out[ct]);\n",
              U);
    if (vector)
        sb_printf(b, "        if (st == HNNRT_OK)\n            st = hnnrt_decode(c->enc, c->pt, c->re, %s_OUTPUTS);\n"
                     "        for (unsigned k = 0; k < %s_OUTPUTS && st == HNNRT_OK; k++)\n"
                     "            if (output_ct[k] == ct)\n                y[k] = c->re[k];\n",
                  U, U);
    else
        sb_printf(b, "        if (st == HNNRT_OK)\n            st = hnnrt_decode(c->enc, c->pt, c->re, n_samples);\n"
                     "        for (unsigned k = 0; k < %s_OUTPUTS && st == HNNRT_OK; k++)\n"
                     "            if (output_ct[k] == ct)\n"
                     "                for (size_t s = 0; s < n_samples; s++)\n"
                     "                    y[s * %s_OUTPUTS + k] = c->re[s];\n",
                  U, U);
    sb_printf(b, "    }\n    sodium_memzero(c->re, c->slots * sizeof *c->re);\n"
                 "    if (st != HNNRT_OK)\n        return client_failed(c, st, \"decrypt: %%s\", hnnrt_decryptor_last_error(c->dec));\n"
                 "    return HNNRT_OK;\n}\n\n");
    if (softargmax) {
        sb_printf(b, "void\n%s_softargmax(const double *logits, double *probs)\n{\n"
                     "    const double t = %s;\n    double mx = -INFINITY, sum = 0;\n"
                     "    for (unsigned k = 0; k < %s_OUTPUTS; k++)\n        mx = fmax(mx, logits[k] / t);\n"
                     "    for (unsigned k = 0; k < %s_OUTPUTS; k++) {\n        probs[k] = exp(logits[k] / t - mx);\n"
                     "        sum += probs[k];\n    }\n"
                     "    for (unsigned k = 0; k < %s_OUTPUTS; k++)\n        probs[k] /= sum;\n}\n\n",
                  N, lit(x1, p->tir->output->u.softargmax.temperature), U, U, U);
    }
    sb_printf(b, "hnnrt_status\n%s_decrypt(%s_client *c, const hnnrt_ct *const *out, size_t n_samples, double *y)\n{\n"
                 "    hnnrt_status st = %s_decrypt_logits(c, out, n_samples, y);\n",
              N, N, N);
    if (softargmax)
        sb_printf(b, "    for (size_t s = 0; st == HNNRT_OK && s < n_samples; s++)\n"
                     "        %s_softargmax(y + s * %s_OUTPUTS, y + s * %s_OUTPUTS);\n",
                  N, U, U);
    sb_puts(b, "    return st;\n}\n\n");
    /* Refresh. */
    sb_printf(b, "/* A refresh point, all its ciphertexts in one call. The server masked every\n"
                 " * slot of each before handing them over: what is decrypted here is v + r,\n"
                 " * and it is wiped once encrypted again. */\n"
                 "int\n%s_client_refresh(void *user, hnnrt_ct *const *cts, size_t n, unsigned level, double scale)\n{\n"
                 "    %s_client *c = user;\n    if (!c || !cts)\n        return HNNRT_ERR_ARG;\n"
                 "    hnnrt_status st = HNNRT_OK;\n    size_t k = 0;\n"
                 "    for (; k < n && st == HNNRT_OK; k++) {\n"
                 "        if (!cts[k]) {\n            st = HNNRT_ERR_ARG;\n            break;\n        }\n"
                 "        st = hnnrt_decrypt(c->dec, c->pt, cts[k]);\n"
                 "        if (st == HNNRT_OK)\n            st = hnnrt_decode_complex(c->enc, c->pt, c->re, c->im, c->slots);\n"
                 "        if (st == HNNRT_OK)\n"
                 "            st = hnnrt_encode_complex(c->enc, c->pt, c->re, c->im, c->slots, scale, level);\n"
                 "        if (st == HNNRT_OK)\n            st = hnnrt_encrypt(c->encr, cts[k], c->pt);\n"
                 "        sodium_memzero(c->re, c->slots * sizeof *c->re);\n"
                 "        sodium_memzero(c->im, c->slots * sizeof *c->im);\n"
                 "        if (st != HNNRT_OK)\n            break;\n    }\n"
                 "    if (st != HNNRT_OK)\n"
                 "        client_failed(c, st, \"refresh: ciphertext %%zu of %%zu: %%s\", k, n, hnnrt_status_message(st));\n"
                 "    return (int)st;\n}\n",
              N, N);
}

/* ------------------------------------------------------------------ NAME_server.c */

/* Where a value lives, as the linear groups' tables say it: the kind in the
 * top two bits (0 a register, 1 an output, 2 an input), the index below. */
static uint32_t
loc_code(const emit *e, uint32_t id)
{
    uint32_t kind = e->loc[id] == LOC_REG ? 0 : e->loc[id] == LOC_OUT ? 1 : 2;
    return kind << 30 | e->idx[id];
}

static void
write_u32_table(sbuf *b, const char *type, const char *name, uint32_t k, const uint32_t *v, size_t n)
{
    sb_printf(b, "static const %s %s%u[%zu] = {", type, name, k, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        sb_printf(b, "%s%u,", i % 16 == 0 ? "\n    " : " ", v[i]);
    sb_printf(b, "%s\n};\n", n ? "" : "0");
}

/* The linear groups: per group, its rows, columns, operands and results,
 * then the table of groups. */
static void
write_linear_tables(sbuf *b, const emit *e)
{
    char x1[40];
    sb_puts(b, "/*\n * Linear groups: LINEAR nodes computed by one hnnrt_eval_linear call each. Row r's\n"
               " * terms t = rows[r] .. rows[r + 1] - 1 multiply operand cols[t] by weights[w + t];\n"
               " * operands and results are values: kind << 30 | index, the kind 0 for a register,\n"
               " * 1 an output, 2 an input.\n */\n");
    for (uint32_t k = 0; k < e->lin.n_groups; k++) {
        const hnn_hir_linear_group *g = &e->lin.groups[k];
        const uint32_t rows = g->end - g->first;
        sb_printf(b, "static const size_t lin_rows%u[%u] = {", k, rows + 1);
        for (uint32_t r = 0; r <= rows; r++)
            sb_printf(b, "%s%zu,", r % 12 == 0 ? "\n    " : " ", g->row_start[r]);
        sb_puts(b, "\n};\n");
        write_u32_table(b, "uint32_t", "lin_cols", k, g->col, g->row_start[rows]);
        uint32_t *codes = hnn_arena_array(e->arena, (g->n_in > rows ? g->n_in : rows) + 1, sizeof *codes);
        for (uint32_t i = 0; i < g->n_in; i++)
            codes[i] = loc_code(e, g->in[i]);
        write_u32_table(b, "uint32_t", "lin_in", k, codes, g->n_in);
        for (uint32_t r = 0; r < rows; r++)
            codes[r] = loc_code(e, g->first + r);
        write_u32_table(b, "uint32_t", "lin_out", k, codes, rows);
    }
    sb_printf(b, "\nstatic const struct {\n    uint32_t rows, n_in, w, level;\n    double scale;\n"
                 "    const size_t *row_start;\n    const uint32_t *cols, *in, *out;\n} linears[%u] = {\n",
              e->lin.n_groups);
    for (uint32_t k = 0; k < e->lin.n_groups; k++) {
        const hnn_hir_linear_group *g = &e->lin.groups[k];
        const hnn_hir_node *f = &e->h->nodes[g->first];
        sb_printf(b, "    {%u, %u, %u, %u, %s, lin_rows%u, lin_cols%u, lin_in%u, lin_out%u},\n", g->end - g->first,
                  g->n_in, e->w_of[g->first], f->level, hex(x1, f->c_scale), k, k, k, k);
    }
    sb_puts(b, "};\n\n");
}

/* run_linear: resolves a group's values and makes the call. */
static void
write_linear_runner(sbuf *b, const emit *e)
{
    sb_printf(b, "static const hnnrt_ct *\nlinear_value(const %s_server *s, const hnnrt_ct *const *in, hnnrt_ct *const *out, uint32_t code)\n"
                 "{\n    uint32_t i = code & 0x3fffffffu;\n"
                 "    return code >> 30 == 0 ? s->reg[i] : code >> 30 == 1 ? out[i] : in[i];\n}\n\n",
              e->name);
    sb_printf(b, "/* Linear group k: every row in one call. */\n"
                 "static hnnrt_status\nrun_linear(%s_server *s, const hnnrt_ct *const *in, hnnrt_ct *const *out, unsigned k)\n{\n"
                 "    for (uint32_t i = 0; i < linears[k].n_in; i++)\n"
                 "        s->lin_in[i] = linear_value(s, in, out, linears[k].in[i]);\n"
                 "    for (uint32_t r = 0; r < linears[k].rows; r++) {\n"
                 "        uint32_t code = linears[k].out[r], i = code & 0x3fffffffu;\n"
                 "        s->lin_out[r] = code >> 30 == 0 ? s->reg[i] : out[i];\n    }\n"
                 "    const hnnrt_linear_map map = {linears[k].rows, linears[k].n_in, linears[k].row_start, linears[k].cols,\n"
                 "                                  s->w + linears[k].w};\n"
                 "    return hnnrt_eval_linear(s->ev, s->lin_out, s->lin_in, &map, linears[k].scale, linears[k].level);\n}\n\n",
              e->name);
}

static void
write_server_common(sbuf *b, const emit *e)
{
    const hnn_plan *p = e->plan;
    const char *N = e->name, *U = e->up;
    bool table = e->style == HNN_EMIT_STYLE_TABLE;
    bool file = e->weights == HNN_EMIT_WEIGHTS_FILE;
    char x1[40];
    banner(b, e, "_server.c");
    sb_printf(b, "/*\n * The server side: it holds the evaluation keys only. Nothing here touches a\n"
                 " * secret key; the masks of the refresh protocol come from libsodium's CSPRNG.\n"
                 " * Style: %s.\n */\n",
              table ? "an operation table read by one loop (the circuit is large)"
                    : "straight-line, one function per layer");
    sb_printf(b, "#include <math.h>\n#include <stdarg.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n"
                 "#include <sodium.h>\n\n#include \"%s.h\"\n\n",
              N);
    sb_printf(b, "enum {\n    N_REGS = %u,     /* ciphertext temporaries, reused by last use */\n"
                 "    N_HOISTS = %u,   /* hoisted decompositions alive at once */\n"
                 "    N_PTS = %u,      /* encoded plaintexts */\n};\n\n",
              e->n_regs ? e->n_regs : 1, e->n_hoists ? e->n_hoists : 1, e->n_encs ? e->n_encs : 1);
    sb_printf(b, "static const int rotation_steps[%u] = {", p->n_rotation_steps ? p->n_rotation_steps : 1);
    for (uint32_t i = 0; i < p->n_rotation_steps; i++)
        sb_printf(b, "%s%d", i ? ", " : "", p->rotation_steps[i]);
    sb_printf(b, "%s};\n\n", p->n_rotation_steps ? "" : "0");

    /* The weights. */
    if (!file) {
        sb_printf(b, "/* The weights: constants of the circuit, then the values of its plaintexts. */\n"
                     "static const double weights[%zu] = {\n",
                  e->n_w ? e->n_w : 1);
        for (size_t i = 0; i < e->n_w; i++)
            sb_printf(b, "%s%s,%s", i % 6 == 0 ? "    " : " ", lit(x1, e->w[i]), i % 6 == 5 || i + 1 == e->n_w ? "\n" : "");
        if (!e->n_w)
            sb_puts(b, "    0\n");
        sb_puts(b, "};\n\n");
    }
    if (e->lin.n_groups)
        write_linear_tables(b, e);
    /* Plaintexts (batch packing multiplies by constants and has none). */
    if (e->n_encs) {
        sb_printf(b, "/* Plaintext k: weights[off .. off + len) repeated over the slots, at (level, scale). */\n"
                     "static const struct {\n    uint32_t off, len, level;\n    double scale;\n} plaintexts[N_PTS] = {\n");
        for (uint32_t k = 0; k < e->n_encs; k++)
            sb_printf(b, "    {%u, %u, %u, %s},\n", e->pt_off[e->encs[k].pt], e->h->pts[e->encs[k].pt].len,
                      e->encs[k].level, hex(x1, e->encs[k].scale));
        sb_puts(b, "};\n\n");
    }

    sb_printf(b, "struct %s_server {\n    const hnnrt_context *ctx;\n    hnnrt_evaluator *ev;\n    hnnrt_encoder *enc;\n"
                 "    const double *w;         /* the weights */\n%s"
                 "    hnnrt_pt *pt[N_PTS];\n    hnnrt_ct *reg[N_REGS];\n    hnnrt_hoisted *hoist[N_HOISTS];\n",
              N, file ? "    double *w_loaded;        /* ... read from the weights file */\n" : "");
    if (e->lin.n_groups)
        sb_printf(b, "    const hnnrt_ct *lin_in[%u];   /* the operands of a linear group */\n"
                     "    hnnrt_ct *lin_out[%u];        /* ... and its results */\n",
                  e->lin.max_in, e->lin.max_rows);
    if (table)
        sb_printf(b, "    hnnrt_ct *dst[N_REGS + %s_CIPHERTEXTS_OUT];       /* registers, then outputs */\n"
                     "    const hnnrt_ct *src[N_REGS + %s_CIPHERTEXTS_OUT + %s_CIPHERTEXTS_IN]; /* ..., then inputs */\n",
                  U, U, U);
    sb_puts(b, "    size_t slots;\n");
    if (e->n_refresh)
        sb_printf(b, "    double *mask;            /* the current refresh point's masks, slots values each */\n"
                     "    uint64_t *mask_bits;     /* the bits one mask is drawn from */\n    hnnrt_pt *mask_pt;\n"
                     "    hnnrt_ct *refresh_ct[%s_REFRESH_MAX]; /* the point's ciphertexts, handed over at once */\n",
                  U);
    sb_printf(b, "    %s_refresh_fn refresh;\n    void *refresh_user;\n    char error[256];\n};\n\n", N);

    sb_printf(b, "static hnnrt_status failed(%s_server *s, hnnrt_status st, const char *fmt, ...)\n"
                 "    __attribute__((format(printf, 3, 4)));\n\n"
                 "static hnnrt_status\nfailed(%s_server *s, hnnrt_status st, const char *fmt, ...)\n{\n"
                 "    va_list ap;\n    va_start(ap, fmt);\n    vsnprintf(s->error, sizeof s->error, fmt, ap);\n    va_end(ap);\n"
                 "    return st;\n}\n\n",
              N, N);
    sb_printf(b, "/* Where an evaluation failed: the layer and the HE IR node (`hnnc report --dump-after\n"
                 " * scales` numbers them the same way). */\n"
                 "static hnnrt_status\nlayer_failed(%s_server *s, hnnrt_status st, const char *layer, unsigned node)\n{\n"
                 "    if (s->error[0]) /* a refresh already said why */\n        return st;\n"
                 "    return failed(s, st, \"layer %%s, node %%%%%%u: %%s: %%s\", layer, node, hnnrt_status_name(st),\n"
                 "                  hnnrt_evaluator_last_error(s->ev));\n}\n\n",
              N);
    if (e->lin.n_groups)
        write_linear_runner(b, e);

    if (e->n_refresh) {
        sb_printf(b,
                  "/*\n * Masked refresh, one round trip with the key holder per refresh point:\n"
                  " * out = Refresh(a + r) - r for each of the point's values a. refresh_mask: value k\n"
                  " * gets a mask of its own, r uniform in [-bound, bound] per slot (the planner's\n"
                  " * bound: large enough to hide a's values statistically, small enough for the\n"
                  " * precision), added at a's level and scale. refresh_point: the point's n masked\n"
                  " * ciphertexts to the key holder in one call; each comes back at (level, scale)\n"
                  " * and loses its mask, encoded there from the same doubles. The masks are wiped.\n */\n"
                  "static void\nwipe_masks(%s_server *s, size_t n)\n{\n"
                  "    sodium_memzero(s->mask, n * s->slots * sizeof *s->mask);\n"
                  "    sodium_memzero(s->mask_bits, s->slots * sizeof *s->mask_bits);\n}\n\n"
                  "static hnnrt_status\nrefresh_mask(%s_server *s, unsigned k, hnnrt_ct *out, const hnnrt_ct *a, double bound)\n{\n"
                  "    double *mask = s->mask + (size_t)k * s->slots;\n"
                  "    randombytes_buf(s->mask_bits, s->slots * sizeof *s->mask_bits);\n"
                  "    for (size_t i = 0; i < s->slots; i++) /* uniform in [-1, 1), 52 bits */\n"
                  "        mask[i] = bound * ((double)(s->mask_bits[i] >> 11) * 0x1p-52 - 1.0);\n"
                  "    hnnrt_status st = hnnrt_encode(s->enc, s->mask_pt, mask, s->slots, hnnrt_ct_scale(a), hnnrt_ct_level(a));\n"
                  "    if (st == HNNRT_OK)\n        st = hnnrt_eval_add_pt(s->ev, out, a, s->mask_pt);\n"
                  "    s->refresh_ct[k] = out;\n"
                  "    if (st != HNNRT_OK)\n        wipe_masks(s, k + 1);\n"
                  "    return st;\n}\n\n"
                  "static hnnrt_status\nrefresh_point(%s_server *s, unsigned node, unsigned n, unsigned level, double scale)\n{\n"
                  "    hnnrt_status st = (hnnrt_status)s->refresh(s->refresh_user, s->refresh_ct, n, level, scale);\n"
                  "    if (st != HNNRT_OK)\n"
                  "        failed(s, st, \"nodes %%%%%%u..%%%%%%u: the key holder's refresh failed: %%s\", node, node + n - 1,\n"
                  "               hnnrt_status_name(st));\n"
                  "    for (unsigned k = 0; k < n && st == HNNRT_OK; k++) {\n"
                  "        hnnrt_ct *ct = s->refresh_ct[k];\n"
                  "        if (hnnrt_ct_level(ct) != level || hnnrt_ct_size(ct) != 2 || !(fabs(hnnrt_ct_scale(ct) / scale - 1) < 0x1p-40))\n"
                  "            st = failed(s, HNNRT_ERR_LEVEL_MISMATCH,\n"
                  "                        \"node %%%%%%u: the key holder's refresh returned level %%u scale %%a, not level %%u scale %%a\",\n"
                  "                        node + k, hnnrt_ct_level(ct), hnnrt_ct_scale(ct), level, scale);\n"
                  "        if (st == HNNRT_OK)\n"
                  "            st = hnnrt_encode(s->enc, s->mask_pt, s->mask + (size_t)k * s->slots, s->slots, hnnrt_ct_scale(ct),\n"
                  "                              hnnrt_ct_level(ct));\n"
                  "        if (st == HNNRT_OK)\n            st = hnnrt_eval_sub_pt(s->ev, ct, ct, s->mask_pt);\n"
                  "    }\n"
                  "    wipe_masks(s, n);\n"
                  "    return st;\n}\n\n",
                  N, N, N);
    }

    if (file) {
        sb_printf(b,
                  "/*\n * The weights file: \"HNNW\", version 1 (u32), the count (u64), the FNV-1a checksum\n"
                  " * of the doubles (u64), then the doubles; every integer and double little-endian.\n"
                  " * The count and checksum must be the ones compiled in: a file from another\n"
                  " * compilation, truncated or altered, is refused.\n */\n"
                  "static uint64_t\nle64(const unsigned char *p)\n{\n    uint64_t v = 0;\n"
                  "    for (int k = 7; k >= 0; k--)\n        v = v << 8 | p[k];\n    return v;\n}\n\n"
                  "static hnnrt_status\nload_weights(%s_server *s, const char *path)\n{\n"
                  "    unsigned char head[24], bytes[8];\n    hnnrt_status st = HNNRT_OK;\n"
                  "    if (!path)\n        return failed(s, HNNRT_ERR_ARG, \"no weights file given\");\n"
                  "    FILE *f = fopen(path, \"rb\");\n"
                  "    if (!f)\n        return failed(s, HNNRT_ERR_IO, \"cannot open the weights file '%%s'\", path);\n"
                  "    size_t n = %s_WEIGHTS_COUNT;\n"
                  "    s->w_loaded = malloc((n ? n : 1) * sizeof *s->w_loaded);\n"
                  "    if (!s->w_loaded)\n        st = failed(s, HNNRT_ERR_ALLOC, \"out of memory\");\n"
                  "    else if (fread(head, 1, sizeof head, f) != sizeof head)\n"
                  "        st = failed(s, HNNRT_ERR_SERIAL_TRUNCATED, \"'%%s': truncated header\", path);\n"
                  "    else if (memcmp(head, \"HNNW\", 4) != 0)\n"
                  "        st = failed(s, HNNRT_ERR_SERIAL_MAGIC, \"'%%s' is not a weights file\", path);\n"
                  "    else if (head[4] != 1 || head[5] || head[6] || head[7])\n"
                  "        st = failed(s, HNNRT_ERR_SERIAL_VERSION, \"'%%s': unknown weights file version\", path);\n"
                  "    else if (le64(head + 8) != n)\n"
                  "        st = failed(s, HNNRT_ERR_SERIAL_CORRUPT, \"'%%s' holds %%llu weights, the circuit needs %%zu\", path,\n"
                  "                    (unsigned long long)le64(head + 8), n);\n"
                  "    else if (le64(head + 16) != %s_WEIGHTS_CHECKSUM)\n"
                  "        st = failed(s, HNNRT_ERR_SERIAL_FINGERPRINT, \"'%%s' was written for another compilation\", path);\n"
                  "    uint64_t h = 0xcbf29ce484222325ull;\n"
                  "    for (size_t i = 0; st == HNNRT_OK && i < n; i++) {\n"
                  "        if (fread(bytes, 1, 8, f) != 8) {\n"
                  "            st = failed(s, HNNRT_ERR_SERIAL_TRUNCATED, \"'%%s': truncated at weight %%zu\", path, i);\n"
                  "            break;\n        }\n"
                  "        for (int k = 0; k < 8; k++)\n            h = (h ^ bytes[k]) * 0x100000001b3ull;\n"
                  "        uint64_t bits = le64(bytes);\n        memcpy(&s->w_loaded[i], &bits, sizeof bits);\n"
                  "    }\n"
                  "    if (st == HNNRT_OK && fgetc(f) != EOF)\n"
                  "        st = failed(s, HNNRT_ERR_SERIAL_CORRUPT, \"'%%s': bytes after the last weight\", path);\n"
                  "    if (st == HNNRT_OK && h != %s_WEIGHTS_CHECKSUM)\n"
                  "        st = failed(s, HNNRT_ERR_SERIAL_CORRUPT, \"'%%s': the weights do not match their checksum\", path);\n"
                  "    fclose(f);\n    s->w = s->w_loaded;\n    return st;\n}\n\n",
                  N, U, U, U);
    }

    /* server_new */
    sb_printf(b, "hnnrt_status\n%s_server_new(const hnnrt_context *ctx, const hnnrt_relin_key *rk, const hnnrt_galois_keys *gk,\n"
                 "               %s%s_server **out, hnnrt_error *err)\n{\n"
                 "    hnnrt_status st;\n    double *buf = NULL;\n"
                 "    if (!out)\n        return HNNRT_ERR_ARG;\n    *out = NULL;\n"
                 "    if ((st = %s_check_context(ctx, err)) != HNNRT_OK)\n        return st;\n"
                 "    %s_server *s = calloc(1, sizeof *s);\n    if (!s)\n        return HNNRT_ERR_ALLOC;\n"
                 "    s->ctx = ctx;\n    s->slots = hnnrt_context_slots(ctx);\n",
              N, file ? "const char *weights_path, " : "", N, N, N);
    if (file)
        sb_puts(b, "    if ((st = load_weights(s, weights_path)) != HNNRT_OK)\n        goto fail;\n");
    else
        sb_puts(b, "    s->w = weights;\n");
    if (e->relin)
        sb_puts(b, "    if (!rk) {\n        st = failed(s, HNNRT_ERR_MISSING_KEY, \"the circuit relinearises: the relinearisation key is needed\");\n"
                   "        goto fail;\n    }\n");
    if (p->n_rotation_steps || p->conjugates) {
        sb_printf(b, "    if (!gk) {\n        st = failed(s, HNNRT_ERR_MISSING_KEY, \"the circuit rotates: its Galois keys are needed\");\n"
                     "        goto fail;\n    }\n"
                     "    for (unsigned i = 0; i < %u; i++)\n"
                     "        if (!hnnrt_galois_keys_has(gk, hnnrt_galois_element_rotation(ctx, rotation_steps[i]))) {\n"
                     "            st = failed(s, HNNRT_ERR_MISSING_KEY, \"no Galois key for a rotation by %%d\", rotation_steps[i]);\n"
                     "            goto fail;\n        }\n",
                  p->n_rotation_steps);
        if (p->conjugates)
            sb_puts(b, "    if (!hnnrt_galois_keys_has(gk, hnnrt_galois_element_conjugate(ctx))) {\n"
                       "        st = failed(s, HNNRT_ERR_MISSING_KEY, \"no Galois key for conjugation\");\n        goto fail;\n    }\n");
    } else {
        sb_puts(b, "    (void)rotation_steps; /* the circuit rotates nothing */\n");
    }
    sb_printf(b, "    if ((st = hnnrt_evaluator_new(ctx, rk, gk, &s->ev)) != HNNRT_OK ||\n"
                 "        (st = hnnrt_encoder_new(ctx, &s->enc)) != HNNRT_OK) {\n"
                 "        failed(s, st, \"evaluator: %%s\", hnnrt_status_message(st));\n        goto fail;\n    }\n"
                 "    /* Every plaintext once, at the (level, scale) of its use: nothing is\n"
                 "     * encoded while evaluating but the refresh masks. */\n"
                 "    if (!(buf = malloc(s->slots * sizeof *buf))) {\n        st = failed(s, HNNRT_ERR_ALLOC, \"out of memory\");\n"
                 "        goto fail;\n    }\n");
    if (e->n_encs)
        sb_printf(b, "    for (unsigned k = 0; k < %u; k++) {\n"
                     "        size_t len = plaintexts[k].len, count = len < s->slots ? s->slots : len;\n"
                     "        for (size_t i = 0; i < count; i++)\n            buf[i] = s->w[plaintexts[k].off + i %% len];\n"
                     "        if ((st = hnnrt_pt_new(ctx, &s->pt[k])) != HNNRT_OK ||\n"
                     "            (st = hnnrt_encode(s->enc, s->pt[k], buf, count, plaintexts[k].scale, plaintexts[k].level)) != HNNRT_OK) {\n"
                     "            failed(s, st, \"plaintext %%u: %%s\", k, hnnrt_encoder_last_error(s->enc));\n            goto fail;\n        }\n"
                     "    }\n",
                  e->n_encs);
    if (e->n_regs)
        sb_printf(b, "    for (unsigned k = 0; k < %u; k++)\n"
                     "        if ((st = hnnrt_ct_new(ctx, &s->reg[k])) != HNNRT_OK)\n            goto fail;\n",
                  e->n_regs);
    if (e->n_hoists)
        sb_printf(b, "    for (unsigned k = 0; k < %u; k++)\n"
                     "        if ((st = hnnrt_hoisted_new(s->ev, &s->hoist[k])) != HNNRT_OK)\n            goto fail;\n",
                  e->n_hoists);
    if (table && e->n_regs)
        sb_printf(b, "    for (unsigned k = 0; k < %u; k++)\n        s->src[k] = s->dst[k] = s->reg[k];\n", e->n_regs);
    if (e->n_refresh)
        sb_printf(b, "    s->mask = malloc((size_t)%s_REFRESH_MAX * s->slots * sizeof *s->mask);\n"
                     "    s->mask_bits = malloc(s->slots * sizeof *s->mask_bits);\n"
                     "    if (!s->mask || !s->mask_bits) {\n        st = HNNRT_ERR_ALLOC;\n        goto fail;\n    }\n"
                     "    if ((st = hnnrt_pt_new(ctx, &s->mask_pt)) != HNNRT_OK)\n        goto fail;\n",
                  U);
    sb_printf(b, "    free(buf);\n    *out = s;\n    return HNNRT_OK;\nfail:\n"
                 "    if (err) {\n        err->status = st;\n"
                 "        snprintf(err->message, sizeof err->message, \"%%s\", s->error[0] ? s->error : hnnrt_status_message(st));\n"
                 "    }\n    free(buf);\n    %s_server_free(s);\n    return st;\n}\n\n",
              N);
    sb_printf(b, "void\n%s_server_free(%s_server *s)\n{\n    if (!s)\n        return;\n"
                 "    for (unsigned k = 0; k < N_HOISTS; k++)\n        hnnrt_hoisted_free(s->hoist[k]);\n"
                 "    for (unsigned k = 0; k < N_REGS; k++)\n        hnnrt_ct_free(s->reg[k]);\n"
                 "    for (unsigned k = 0; k < N_PTS; k++)\n        hnnrt_pt_free(s->pt[k]);\n",
              N, N);
    if (e->n_refresh)
        sb_puts(b, "    free(s->mask);\n    free(s->mask_bits);\n    hnnrt_pt_free(s->mask_pt);\n");
    if (file)
        sb_puts(b, "    free(s->w_loaded);\n");
    sb_printf(b, "    hnnrt_encoder_free(s->enc);\n    hnnrt_evaluator_free(s->ev);\n    free(s);\n}\n\n"
                 "const char *\n%s_server_last_error(const %s_server *s)\n{\n    return s ? s->error : \"no server\";\n}\n\n",
              N, N);
}

/* The checks NAME_evaluate makes before it computes anything. */
static void
write_evaluate_prologue(sbuf *b, const emit *e)
{
    const char *N = e->name, *U = e->up;
    sb_printf(b, "hnnrt_status\n%s_evaluate(%s_server *s, const hnnrt_ct *const *in, hnnrt_ct *const *out, %s_refresh_fn refresh,\n"
                 "            void *user)\n{\n    hnnrt_status st = HNNRT_OK;\n"
                 "    if (!s || !in || !out)\n        return HNNRT_ERR_ARG;\n    s->error[0] = '\\0';\n",
              N, N, N);
    sb_printf(b, "    for (unsigned k = 0; k < %s_CIPHERTEXTS_IN; k++) {\n"
                 "        if (!in[k])\n            return failed(s, HNNRT_ERR_ARG, \"in[%%u] is NULL\", k);\n"
                 "        if (hnnrt_ct_size(in[k]) != 2)\n"
                 "            return failed(s, HNNRT_ERR_SIZE, \"in[%%u] has %%u parts, not 2\", k, hnnrt_ct_size(in[k]));\n"
                 "        if (hnnrt_ct_level(in[k]) != %s_TOP_LEVEL)\n"
                 "            return failed(s, HNNRT_ERR_LEVEL_MISMATCH, \"in[%%u] is at level %%u, the circuit starts at %%u\", k,\n"
                 "                          hnnrt_ct_level(in[k]), %s_TOP_LEVEL);\n"
                 "        if (!(fabs(hnnrt_ct_scale(in[k]) / %s_INPUT_SCALE - 1) < 0x1p-40))\n"
                 "            return failed(s, HNNRT_ERR_SCALE_MISMATCH, \"in[%%u] has scale %%a, the circuit starts at %%a\", k,\n"
                 "                          hnnrt_ct_scale(in[k]), %s_INPUT_SCALE);\n    }\n",
              U, U, U, U, U);
    sb_printf(b, "    for (unsigned k = 0; k < %s_CIPHERTEXTS_OUT; k++) {\n"
                 "        if (!out[k])\n            return failed(s, HNNRT_ERR_ARG, \"out[%%u] is NULL\", k);\n"
                 "        for (unsigned j = 0; j < %s_CIPHERTEXTS_IN; j++)\n"
                 "            if ((const hnnrt_ct *)out[k] == in[j])\n"
                 "                return failed(s, HNNRT_ERR_ARG, \"out[%%u] is in[%%u]: outputs must be distinct ciphertexts\", k, j);\n"
                 "    }\n",
              U, U);
    if (e->n_refresh)
        sb_puts(b, "    if (!refresh)\n        return failed(s, HNNRT_ERR_ARG, \"the circuit has refresh points: a refresh callback is needed\");\n");
    sb_puts(b, "    s->refresh = refresh;\n    s->refresh_user = user;\n");
}

/* The output ciphertexts that are inputs (an identity network) are copies. */
static void
write_output_copies(sbuf *b, const emit *e)
{
    for (uint32_t k = 0; k < e->n_ct_out; k++) {
        uint32_t id = e->ct_node[k];
        if (e->loc[id] != LOC_IN)
            continue;
        sb_printf(b, "    if ((st = hnnrt_ct_copy(out[%u], in[%u])) != HNNRT_OK)\n        return layer_failed(s, st, \"output\", %u);\n",
                      k, e->idx[id], id);
    }
}

/* Straight-line: the evaluator calls of one node, in a layer function. */
static void
write_node(sbuf *b, const emit *e, uint32_t i, bool *uses_w)
{
    const hnn_hir_node *x = &e->h->nodes[i];
    char d[32], a[32] = "", c[32], x1[40], x2[40];
    val(e, i, d);
    if (hnn_hir_op_operands(x->op) >= 1)
        val(e, x->a, a);
    if (hnn_hir_op_operands(x->op) >= 2)
        val(e, x->b, c);
    sb_printf(b, "    TRY(%u, ", i);
    switch (x->op) {
    case HNN_HIR_ADD:
        sb_printf(b, "hnnrt_eval_add(ev, %s, %s, %s));\n", d, a, c);
        break;
    case HNN_HIR_SUB:
        sb_printf(b, "hnnrt_eval_sub(ev, %s, %s, %s));\n", d, a, c);
        break;
    case HNN_HIR_NEGATE:
        sb_printf(b, "hnnrt_eval_negate(ev, %s, %s));\n", d, a);
        break;
    case HNN_HIR_ADD_CONST:
        sb_printf(b, "hnnrt_eval_add_const(ev, %s, %s, w[%u]));\n", d, a, e->w_of[i]);
        *uses_w = true;
        break;
    case HNN_HIR_MUL_CONST:
        sb_printf(b, "hnnrt_eval_mul_const(ev, %s, %s, w[%u], %s));\n", d, a, e->w_of[i], hex(x1, x->c_scale));
        *uses_w = true;
        break;
    case HNN_HIR_ADD_PT:
        sb_printf(b, "hnnrt_eval_add_pt(ev, %s, %s, s->pt[%u]));\n", d, a, e->enc_of[i]);
        break;
    case HNN_HIR_MUL_PT:
        sb_printf(b, "hnnrt_eval_mul_pt(ev, %s, %s, s->pt[%u]));\n", d, a, e->enc_of[i]);
        break;
    case HNN_HIR_MUL_CT:
        sb_printf(b, "hnnrt_eval_mul_ct(ev, %s, %s, %s));\n", d, a, c);
        break;
    case HNN_HIR_RELIN:
        sb_printf(b, "hnnrt_eval_relin(ev, %s, %s));\n", d, a);
        break;
    case HNN_HIR_RESCALE:
        sb_printf(b, "hnnrt_eval_rescale(ev, %s, %s));\n", d, a);
        break;
    case HNN_HIR_DROP_LEVEL:
        sb_printf(b, "hnnrt_eval_drop_to(ev, %s, %s, %u));\n", d, a, x->level);
        break;
    case HNN_HIR_ROTATE:
        if (e->rot_mode[i] == ROT_PLAIN) {
            sb_printf(b, "hnnrt_eval_rotate(ev, %s, %s, %d));\n", d, a, x->step);
        } else {
            if (e->rot_mode[i] == ROT_HOIST)
                sb_printf(b, "hnnrt_eval_hoist(ev, s->hoist[%u], %s));\n    TRY(%u, ", e->hoist[i], a, i);
            sb_printf(b, "hnnrt_eval_rotate_hoisted(ev, %s, s->hoist[%u], %d));\n", d, e->hoist[i], x->step);
        }
        break;
    case HNN_HIR_CONJUGATE:
        sb_printf(b, "hnnrt_eval_conjugate(ev, %s, %s));\n", d, a);
        break;
    case HNN_HIR_REFRESH: /* masked one by one; the point's last sends them all */
        sb_printf(b, "refresh_mask(s, %u, %s, %s, %s));\n", i - e->point_first[i], d, a, lit(x1, x->c));
        if (i + 1 == e->point_end[i])
            sb_printf(b, "    TRY(%u, refresh_point(s, %u, %u, %u, %s)); /* one round trip */\n", e->point_first[i],
                      e->point_first[i], i + 1 - e->point_first[i], x->level, hex(x2, x->scale));
        break;
    case HNN_HIR_LINEAR: /* the group's first node; write_server_straight skips the others */
        sb_printf(b, "run_linear(s, in, out, %u));\n", e->lin.group_of[i]);
        break;
    default: /* INPUT is not emitted; analyse() refused BOOTSTRAP */
        sb_puts(b, "HNNRT_ERR_ARG);\n");
        break;
    }
}

static void
write_server_straight(sbuf *b, const emit *e, hnn_arena *arena)
{
    const char *N = e->name;
    sb_puts(b, "/* Runs one runtime call; on failure records the HE IR node and leaves. */\n"
               "#define TRY(node, call)                  \\\n"
               "    do {                                  \\\n"
               "        if ((st = (call)) != HNNRT_OK) {  \\\n"
               "            failed_node = (node);         \\\n"
               "            goto fail;                    \\\n"
               "        }                                 \\\n"
               "    } while (0)\n\n");
    const char **fn = hnn_arena_array(arena, e->n_runs + 1, sizeof *fn);
    for (uint32_t k = 0; k < e->n_runs; k++) {
        const run *r = &e->runs[k];
        const char *lname = c_text(e->arena, tir_name(e, r->tir));
        fn[k] = hnn_arena_printf(arena, "layer_%u_%s", k + 1, c_ident(e->arena, tir_name(e, r->tir)));
        uint32_t lin, lout;
        run_levels(e, r, &lin, &lout);
        sbuf body = {0};
        bool uses_w = false, uses_in = false, uses_out = false, uses_r = false, uses_ev = false;
        for (uint32_t i = r->first; i < r->end; i++) {
            const hnn_hir_node *x = &e->h->nodes[i];
            if (x->op == HNN_HIR_INPUT || (x->op == HNN_HIR_LINEAR && e->lin.group_of[i] == NONE))
                continue;
            write_node(&body, e, i, &uses_w);
            if (x->op == HNN_HIR_LINEAR) { /* run_linear takes the values from in, out and s */
                uses_in = uses_out = true;
                continue;
            }
            uses_ev |= x->op != HNN_HIR_REFRESH;
            uint32_t ids[3] = {i, hnn_hir_op_operands(x->op) >= 1 ? x->a : NONE,
                               hnn_hir_op_operands(x->op) >= 2 ? x->b : NONE};
            for (int j = 0; j < 3; j++) {
                if (ids[j] == NONE)
                    continue;
                uses_in |= e->loc[ids[j]] == LOC_IN;
                uses_out |= e->loc[ids[j]] == LOC_OUT;
                uses_r |= e->loc[ids[j]] == LOC_REG;
            }
        }
        sbuf head = {0};
        op_counts(&head, e, r);
        sb_printf(b, "/* Layer %s (%s%s%s), levels %u -> %u: %s. */\n", lname, tir_kind(e, r->tir),
                  r->part > 1 ? ", part " : "", r->part > 1 ? hnn_arena_printf(arena, "%u", r->part) : "", lin, lout,
                  head.p ? head.p : "");
        free(head.p);
        sb_printf(b, "static hnnrt_status\n%s(%s_server *s, const hnnrt_ct *const *in, hnnrt_ct *const *out)\n{\n", fn[k], N);
        if (uses_ev)
            sb_puts(b, "    hnnrt_evaluator *ev = s->ev;\n");
        if (uses_r)
            sb_puts(b, "    hnnrt_ct **r = s->reg;\n");
        if (uses_w)
            sb_puts(b, "    const double *w = s->w;\n");
        sb_puts(b, "    hnnrt_status st;\n    unsigned failed_node = 0;\n");
        if (!uses_in)
            sb_puts(b, "    (void)in;\n");
        if (!uses_out)
            sb_puts(b, "    (void)out;\n");
        sb_puts(b, "\n");
        sb_printf(b, "%s", body.p ? body.p : "");
        b->oom |= body.oom;
        free(body.p);
        sb_printf(b, "    return HNNRT_OK;\nfail:\n    return layer_failed(s, st, \"%s\", failed_node);\n}\n\n", lname);
    }
    write_evaluate_prologue(b, e);
    sb_puts(b, "\n");
    for (uint32_t k = 0; k < e->n_runs; k++)
        sb_printf(b, "    if ((st = %s(s, in, out)) != HNNRT_OK)\n        return st;\n", fn[k]);
    write_output_copies(b, e);
    sb_puts(b, "    return st;\n}\n");
}

/* Table ops: the HE IR ops with the rotation's hoisting made explicit. */
static const char *const table_op_names[] = {
    "OP_ADD", "OP_SUB", "OP_NEGATE", "OP_ADD_CONST", "OP_MUL_CONST", "OP_ADD_PT", "OP_MUL_PT", "OP_MUL_CT",
    "OP_RELIN", "OP_RESCALE", "OP_DROP", "OP_ROTATE", "OP_HOIST_ROTATE", "OP_ROTATE_HOISTED", "OP_CONJUGATE",
    "OP_REFRESH_MASK", "OP_REFRESH_POINT", "OP_LINEAR",
};
enum {
    T_ADD, T_SUB, T_NEGATE, T_ADD_CONST, T_MUL_CONST, T_ADD_PT, T_MUL_PT, T_MUL_CT, T_RELIN, T_RESCALE, T_DROP,
    T_ROTATE, T_HOIST_ROTATE, T_ROTATE_HOISTED, T_CONJUGATE, T_REFRESH_MASK, T_REFRESH_POINT, T_LINEAR,
};

static void
write_server_table(sbuf *b, const emit *e)
{
    const char *N = e->name, *U = e->up;
    char x1[40];
    uint32_t R = e->n_regs ? e->n_regs : 1;
    /* Operand numbering: registers, outputs, inputs (the src array). */
#define LOCNUM(id) (e->loc[id] == LOC_REG ? e->idx[id] : e->loc[id] == LOC_OUT ? R + e->idx[id] : R + e->n_ct_out + e->idx[id])
    sb_puts(b, "enum {\n");
    for (size_t k = 0; k < sizeof table_op_names / sizeof *table_op_names; k++)
        sb_printf(b, "    %s,\n", table_op_names[k]);
    sb_puts(b, "};\n\n");
    sb_puts(b, "/* One runtime call: dst = op(src[a], src[b]); imm is the rotation step, the target\n"
               " * level, or a refresh's place in its point; arg the weight, plaintext or refresh bound;\n"
               " * node the HE IR node. A point's round trip: imm the level, arg its ciphertexts, node\n"
               " * its first. */\n"
               "typedef struct op {\n    uint16_t op, hoist;\n    uint32_t node, dst, a, b;\n    int32_t imm;\n"
               "    uint32_t arg;\n    double scale;\n} op;\n\n");
    if (e->n_refresh) {
        sb_printf(b, "static const double refresh_bounds[%u] = {", e->n_refresh);
        uint32_t k = 0;
        for (uint32_t i = 0; i < e->h->n_nodes; i++)
            if (e->h->nodes[i].op == HNN_HIR_REFRESH)
                sb_printf(b, "%s%s", k++ ? ", " : "", lit(x1, e->h->nodes[i].c));
        sb_puts(b, "};\n\n");
    }
    sb_printf(b, "static const op ops[%u] = {\n", e->calls ? e->calls : 1);
    uint32_t n_refresh = 0, n_ops = 0;
    uint32_t *first_op = hnn_arena_array(e->arena, e->n_runs + 1, sizeof *first_op);
    for (uint32_t k = 0; k < e->n_runs; k++) {
        const run *r = &e->runs[k];
        first_op[k] = n_ops;
        uint32_t lin, lout;
        run_levels(e, r, &lin, &lout);
        sbuf head = {0};
        op_counts(&head, e, r);
        sb_printf(b, "    /* layer %s (%s), levels %u -> %u: %s */\n", c_text(e->arena, tir_name(e, r->tir)),
                  tir_kind(e, r->tir), lin, lout, head.p ? head.p : "");
        free(head.p);
        for (uint32_t i = r->first; i < r->end; i++) {
            const hnn_hir_node *x = &e->h->nodes[i];
            if (x->op == HNN_HIR_INPUT || (x->op == HNN_HIR_LINEAR && e->lin.group_of[i] == NONE))
                continue; /* a group's later rows are in its first row's call */
            unsigned nops = x->op == HNN_HIR_LINEAR ? 0 : hnn_hir_op_operands(x->op);
            uint32_t a = nops >= 1 ? LOCNUM(x->a) : 0, bb = nops >= 2 ? LOCNUM(x->b) : 0;
            int op = 0;
            int32_t imm = 0;
            uint32_t arg = 0, hoist = 0;
            double scale = 0;
            switch (x->op) {
            case HNN_HIR_ADD: op = T_ADD; break;
            case HNN_HIR_SUB: op = T_SUB; break;
            case HNN_HIR_NEGATE: op = T_NEGATE; break;
            case HNN_HIR_ADD_CONST: op = T_ADD_CONST; arg = e->w_of[i]; break;
            case HNN_HIR_MUL_CONST: op = T_MUL_CONST; arg = e->w_of[i]; scale = x->c_scale; break;
            case HNN_HIR_ADD_PT: op = T_ADD_PT; arg = e->enc_of[i]; break;
            case HNN_HIR_MUL_PT: op = T_MUL_PT; arg = e->enc_of[i]; break;
            case HNN_HIR_MUL_CT: op = T_MUL_CT; break;
            case HNN_HIR_RELIN: op = T_RELIN; break;
            case HNN_HIR_RESCALE: op = T_RESCALE; break;
            case HNN_HIR_DROP_LEVEL: op = T_DROP; imm = (int32_t)x->level; break;
            case HNN_HIR_ROTATE:
                op = e->rot_mode[i] == ROT_PLAIN ? T_ROTATE : e->rot_mode[i] == ROT_HOIST ? T_HOIST_ROTATE : T_ROTATE_HOISTED;
                imm = x->step;
                hoist = e->rot_mode[i] == ROT_PLAIN ? 0 : e->hoist[i];
                break;
            case HNN_HIR_CONJUGATE: op = T_CONJUGATE; break;
            case HNN_HIR_REFRESH:
                op = T_REFRESH_MASK;
                imm = (int32_t)(i - e->point_first[i]);
                arg = n_refresh++;
                break;
            case HNN_HIR_LINEAR:
                op = T_LINEAR;
                arg = e->lin.group_of[i];
                break;
            default:
                break;
            }
            sb_printf(b, "    {%s, %u, %u, %u, %u, %u, %d, %u, %s},\n", table_op_names[op], hoist, i, LOCNUM(i), a, bb,
                      imm, arg, scale != 0 ? hex(x1, scale) : "0");
            n_ops++;
            if (x->op == HNN_HIR_REFRESH && i + 1 == e->point_end[i]) { /* the point's round trip */
                sb_printf(b, "    {%s, 0, %u, 0, 0, 0, %u, %u, %s},\n", table_op_names[T_REFRESH_POINT],
                          e->point_first[i], x->level, i + 1 - e->point_first[i], hex(x1, x->scale));
                n_ops++;
            }
        }
    }
    if (!n_ops)
        sb_puts(b, "    {OP_ADD, 0, 0, 0, 0, 0, 0, 0, 0},\n");
    sb_puts(b, "};\n\n");
#undef LOCNUM
    sb_printf(b, "/* The layers: ops[first .. end). */\nstatic const struct {\n    const char *name;\n    uint32_t first, end;\n} layers[%u] = {\n",
              e->n_runs ? e->n_runs : 1);
    for (uint32_t k = 0; k < e->n_runs; k++)
        sb_printf(b, "    {\"%s\", %u, %u},\n", c_text(e->arena, tir_name(e, e->runs[k].tir)), first_op[k],
                  k + 1 < e->n_runs ? first_op[k + 1] : n_ops);
    if (!e->n_runs)
        sb_puts(b, "    {\"\", 0, 0},\n");
    sb_puts(b, "};\n\n");

    sb_printf(b, "static hnnrt_status\nrun_op(%s_server *s, const op *o)\n{\n"
                 "    hnnrt_evaluator *ev = s->ev;\n    hnnrt_ct *d = s->dst[o->dst];\n"
                 "    const hnnrt_ct *a = s->src[o->a], *b = s->src[o->b];\n    hnnrt_status st;\n"
                 "    switch (o->op) {\n"
                 "    case OP_ADD:\n        return hnnrt_eval_add(ev, d, a, b);\n"
                 "    case OP_SUB:\n        return hnnrt_eval_sub(ev, d, a, b);\n"
                 "    case OP_NEGATE:\n        return hnnrt_eval_negate(ev, d, a);\n"
                 "    case OP_ADD_CONST:\n        return hnnrt_eval_add_const(ev, d, a, s->w[o->arg]);\n"
                 "    case OP_MUL_CONST:\n        return hnnrt_eval_mul_const(ev, d, a, s->w[o->arg], o->scale);\n"
                 "    case OP_ADD_PT:\n        return hnnrt_eval_add_pt(ev, d, a, s->pt[o->arg]);\n"
                 "    case OP_MUL_PT:\n        return hnnrt_eval_mul_pt(ev, d, a, s->pt[o->arg]);\n"
                 "    case OP_MUL_CT:\n        return hnnrt_eval_mul_ct(ev, d, a, b);\n"
                 "    case OP_RELIN:\n        return hnnrt_eval_relin(ev, d, a);\n"
                 "    case OP_RESCALE:\n        return hnnrt_eval_rescale(ev, d, a);\n"
                 "    case OP_DROP:\n        return hnnrt_eval_drop_to(ev, d, a, (unsigned)o->imm);\n"
                 "    case OP_ROTATE:\n        return hnnrt_eval_rotate(ev, d, a, o->imm);\n"
                 "    case OP_HOIST_ROTATE: /* the first of several rotations of a */\n"
                 "        if ((st = hnnrt_eval_hoist(ev, s->hoist[o->hoist], a)) != HNNRT_OK)\n            return st;\n"
                 "        return hnnrt_eval_rotate_hoisted(ev, d, s->hoist[o->hoist], o->imm);\n"
                 "    case OP_ROTATE_HOISTED:\n        return hnnrt_eval_rotate_hoisted(ev, d, s->hoist[o->hoist], o->imm);\n"
                 "    case OP_CONJUGATE:\n        return hnnrt_eval_conjugate(ev, d, a);\n",
              N);
    if (e->n_refresh)
        sb_puts(b, "    case OP_REFRESH_MASK:\n        return refresh_mask(s, (unsigned)o->imm, d, a, refresh_bounds[o->arg]);\n"
                   "    case OP_REFRESH_POINT:\n        return refresh_point(s, o->node, o->arg, (unsigned)o->imm, o->scale);\n");
    if (e->lin.n_groups)
        sb_printf(b, "    case OP_LINEAR: /* in and out as the evaluation got them */\n"
                     "        return run_linear(s, s->src + N_REGS + %s_CIPHERTEXTS_OUT, s->dst + N_REGS, o->arg);\n",
                  U);
    sb_puts(b, "    }\n    (void)st;\n    return HNNRT_ERR_ARG;\n}\n\n");

    write_evaluate_prologue(b, e);
    sb_printf(b, "    for (unsigned j = 0; j < %s_CIPHERTEXTS_IN; j++)\n        s->src[N_REGS + %s_CIPHERTEXTS_OUT + j] = in[j];\n"
                 "    for (unsigned k = 0; k < %s_CIPHERTEXTS_OUT; k++)\n        s->src[N_REGS + k] = s->dst[N_REGS + k] = out[k];\n"
                 "",
              U, U, U);
    if (e->n_runs)
        sb_printf(b, "    for (unsigned l = 0; l < %u; l++)\n        for (uint32_t i = layers[l].first; i < layers[l].end; i++)\n"
                     "            if ((st = run_op(s, &ops[i])) != HNNRT_OK)\n"
                     "                return layer_failed(s, st, layers[l].name, ops[i].node);\n",
                  e->n_runs);
    write_output_copies(b, e);
    sb_puts(b, "    return st;\n}\n");
}

/* ------------------------------------------------------------------ files */

static int
write_file(const char *dir, const char *name, const char *suffix, const void *data, size_t len, char *err,
           size_t err_len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix);
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, err_len, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    bool ok = fwrite(data, 1, len, f) == len;
    ok &= fclose(f) == 0;
    if (!ok) {
        snprintf(err, err_len, "cannot write '%s'", path);
        return -1;
    }
    return 0;
}

static int
write_weights_file(const emit *e, const char *dir, char *err, size_t err_len)
{
    size_t len = 24 + 8 * e->n_w;
    unsigned char *p = malloc(len);
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    memcpy(p, "HNNW", 4);
    uint64_t fields[3] = {1, e->n_w, e->checksum};
    for (int k = 0; k < 4; k++)
        p[4 + k] = (unsigned char)(fields[0] >> (8 * k));
    for (int k = 0; k < 8; k++) {
        p[8 + k] = (unsigned char)(fields[1] >> (8 * k));
        p[16 + k] = (unsigned char)(fields[2] >> (8 * k));
    }
    for (size_t i = 0; i < e->n_w; i++) {
        uint64_t bits;
        memcpy(&bits, &e->w[i], sizeof bits);
        for (int k = 0; k < 8; k++)
            p[24 + 8 * i + (size_t)k] = (unsigned char)(bits >> (8 * k));
    }
    int rc = write_file(dir, e->name, ".weights", p, len, err, err_len);
    free(p);
    return rc;
}

int
hnn_emit_c(const hnn_plan *plan, const char *dir, const hnn_emit_options *opt, hnn_arena *arena,
           hnn_emit_result *result, char *err, size_t err_len)
{
    emit e = {0};
    e.plan = plan;
    e.h = plan->hir;
    e.arena = arena;
    e.name = plan->model->name;
    e.weights = opt ? opt->weights : HNN_EMIT_WEIGHTS_EMBED;
    if (!is_identifier(e.name)) {
        snprintf(err, err_len, "the model name '%s' is not a C identifier", e.name ? e.name : "");
        return -1;
    }
    e.up = hnn_arena_strdup(arena, e.name);
    for (char *p = e.up; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    if (!analyse(&e, err, err_len))
        return -1;
    hnn_emit_style style = opt ? opt->style : HNN_EMIT_STYLE_AUTO;
    if (style == HNN_EMIT_STYLE_AUTO)
        style = e.ops > HNN_EMIT_STRAIGHT_MAX_OPS ? HNN_EMIT_STYLE_TABLE : HNN_EMIT_STYLE_STRAIGHT;
    e.style = style;

    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "cannot create '%s': %s", dir, strerror(errno));
        return -1;
    }
    sbuf hb = {0}, cb = {0}, sb = {0};
    write_header(&hb, &e);
    write_client(&cb, &e);
    write_server_common(&sb, &e);
    if (style == HNN_EMIT_STYLE_TABLE)
        write_server_table(&sb, &e);
    else
        write_server_straight(&sb, &e, arena);
    int rc = 0;
    if (hb.oom || cb.oom || sb.oom) {
        snprintf(err, err_len, "out of memory");
        rc = -1;
    }
    if (rc == 0)
        rc = write_file(dir, e.name, ".h", hb.p, hb.n, err, err_len);
    if (rc == 0)
        rc = write_file(dir, e.name, "_client.c", cb.p, cb.n, err, err_len);
    if (rc == 0)
        rc = write_file(dir, e.name, "_server.c", sb.p, sb.n, err, err_len);
    if (rc == 0 && e.weights == HNN_EMIT_WEIGHTS_FILE)
        rc = write_weights_file(&e, dir, err, err_len);
    free(hb.p);
    free(cb.p);
    free(sb.p);
    if (result) {
        memset(result, 0, sizeof *result);
        result->style = style;
        result->ops = e.ops;
        result->registers = e.n_regs;
        result->hoists = e.n_hoists;
        result->plaintexts = e.n_encs;
        result->layer_functions = style == HNN_EMIT_STYLE_STRAIGHT ? e.n_runs : 0;
        result->weights = e.n_w;
        result->weights_checksum = e.checksum;
    }
    return rc;
}
