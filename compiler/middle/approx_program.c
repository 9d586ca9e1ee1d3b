/*
 * Evaluation programs for a polynomial in the Chebyshev basis (on t in
 * [-1, 1]) or the power basis (on x), at the minimal depth ceil(log2(d + 1))
 * with scalar products counted as levels, and few non-scalar products.
 *
 * The shape is baby-step giant-step (Paterson–Stockmeyer in the Chebyshev
 * basis, as in Bossuat et al. 2021 and Lee et al.): a polynomial P of degree
 * n is either a leaf, a linear combination of the baby steps T_1 .. T_baby,
 * or it is split by a power-of-two step T_g as P = Q T_g + R (deg R < g),
 * with Q and R evaluated the same way. Depth is a budget passed down: a node
 * with budget b gives Q the budget b - 1 (the product adds one level; T_g has
 * depth log2 g <= b - 1) and R the budget b. Which nodes split where comes
 * from a small dynamic programme over (degree, budget) that minimises the
 * number of products for a given baby bound and giant range; the builder then
 * tries every baby bound and giant range and keeps the cheapest program.
 *
 * Level-free tricks that make the budget hold with scalar products costing a
 * level:
 *   - baby steps by halving, T_i = 2 T_a T_b - T_{a-b} (a = ceil(i/2)), with
 *     the factor 2 as s + s (s = T_a T_b), never a scalar product: T_i has
 *     depth ceil(log2 i), and for even i the subtrahend is the constant 1;
 *   - a leaf term c_i T_i is c_i (2 s_i - T_{a-b}) = (2 c_i) s_i - c_i T_{a-b}:
 *     the scalar lands on the raw product s_i (same depth as T_i) and the
 *     correction on T_1 or the constant, so T_i need not exist at all;
 *   - a coefficient that is exactly 1 (after that folding) needs no scalar
 *     product, which is what makes t^2 = T_2/2 + 1/2 one MUL at depth 1;
 *   - sums are kept pending until a value must exist (a product operand or
 *     the result), then added depth class by depth class, so a sum whose
 *     terms have k distinct depths costs k - 1 level alignments, the least
 *     possible.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"
#include "middle/approx.h"

#define HNN_APPROX_NONE UINT32_MAX
#define HNN_APPROX_INF (UINT32_MAX / 4)
/* Baby-step bounds tried; beyond this the leaves only cost more steps. */
#define HNN_APPROX_MAX_BABY 64u

enum {
    HNN_APPROX_PLAN_LEAF = -1,
    HNN_APPROX_PLAN_NONE = -2,
};

typedef struct hnn_approx_builder {
    bool power;              /* power basis on x instead of Chebyshev on t */
    uint32_t top;            /* degree of the whole polynomial */
    uint32_t budget;         /* its depth budget */
    uint32_t baby;           /* leaves use degrees <= baby */
    uint32_t giant;          /* splits at 2^m > baby need m <= giant */
    hnn_approx_instr *ins;
    uint32_t n, cap;
    uint32_t n_mul, n_mulc, n_align;
    uint32_t *prod;          /* [top + 1] s_i = T_a T_b (power: x^a x^b) */
    uint32_t *basis;         /* [top + 1] T_i (power: x^i) */
    uint32_t *cost;          /* [(top + 1) (budget + 1)] products, by the plan */
    int8_t *plan;            /* same shape: LEAF, NONE, or m: split at 2^m */
} hnn_approx_builder;

/* sum_k w[k] value(id[k]) + c, waiting to be emitted: a scalar product is
 * emitted only when the sum is, after merging the weights of one value. */
typedef struct hnn_approx_lin {
    uint32_t *id;
    double *w;
    uint32_t n;
    double c;
} hnn_approx_lin;

static void *
hnn_approx_alloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        hnn_fatal_oom();
    void *p = calloc(n > 0 ? n : 1, size > 0 ? size : 1);
    if (!p)
        hnn_fatal_oom();
    return p;
}

uint32_t
hnn_approx_depth(uint32_t degree)
{
    uint32_t d = 0;
    while (d < 32 && ((uint64_t)1 << d) < (uint64_t)degree + 1)
        d++;
    return d;
}

/* ceil(log2 i): the depth of T_i and s_i built by halving (i >= 1). */
static uint32_t
hnn_approx_lg(uint32_t i)
{
    return hnn_approx_depth(i - 1);
}

/* ---------------------------------------------------------------- emission */

static uint32_t
hnn_approx_emit(hnn_approx_builder *bd, hnn_approx_opcode op, uint32_t a, uint32_t b, double c)
{
    if (bd->n == bd->cap) {
        bd->cap = bd->cap ? 2 * bd->cap : 64;
        hnn_approx_instr *grown = realloc(bd->ins, bd->cap * sizeof *grown);
        if (!grown)
            hnn_fatal_oom();
        bd->ins = grown;
    }
    hnn_approx_instr *in = &bd->ins[bd->n];
    *in = (hnn_approx_instr){.op = op, .a = a, .b = b, .c = c};
    switch (op) {
    case HNN_APPROX_INPUT:
        in->depth = 0;
        break;
    case HNN_APPROX_MUL:
        in->depth = (bd->ins[a].depth > bd->ins[b].depth ? bd->ins[a].depth : bd->ins[b].depth) + 1;
        bd->n_mul++;
        break;
    case HNN_APPROX_MULC:
        in->depth = bd->ins[a].depth + 1;
        bd->n_mulc++;
        break;
    case HNN_APPROX_ADD:
    case HNN_APPROX_SUB:
        in->depth = bd->ins[a].depth > bd->ins[b].depth ? bd->ins[a].depth : bd->ins[b].depth;
        if (bd->ins[a].depth != bd->ins[b].depth)
            bd->n_align++;
        break;
    case HNN_APPROX_ADDC:
        in->depth = bd->ins[a].depth;
        break;
    }
    return bd->n++;
}

static uint32_t hnn_approx_basis(hnn_approx_builder *bd, uint32_t i);

/* s_i = T_a T_b, a = ceil(i/2), b = floor(i/2) (power basis: x^a x^b = x^i). */
static uint32_t
hnn_approx_prod(hnn_approx_builder *bd, uint32_t i)
{
    if (i == 1)
        return 0;
    if (bd->prod[i] == HNN_APPROX_NONE) {
        uint32_t a = hnn_approx_basis(bd, (i + 1) / 2);
        uint32_t b = hnn_approx_basis(bd, i / 2);
        bd->prod[i] = hnn_approx_emit(bd, HNN_APPROX_MUL, a, b, 0);
    }
    return bd->prod[i];
}

/* T_i = s_i + s_i - T_{a-b}: T_1 for odd i, the constant 1 for even i. */
static uint32_t
hnn_approx_basis(hnn_approx_builder *bd, uint32_t i)
{
    if (i == 1)
        return 0;
    if (bd->basis[i] == HNN_APPROX_NONE) {
        uint32_t s = hnn_approx_prod(bd, i);
        if (bd->power) {
            bd->basis[i] = s;
        } else {
            uint32_t twice = hnn_approx_emit(bd, HNN_APPROX_ADD, s, s, 0);
            bd->basis[i] = (i & 1) ? hnn_approx_emit(bd, HNN_APPROX_SUB, twice, 0, 0)
                                   : hnn_approx_emit(bd, HNN_APPROX_ADDC, twice, 0, -1.0);
        }
    }
    return bd->basis[i];
}

/* Weights of one value merge, except a unit weight: it was counted as no
 * scalar product, and merging could turn it into one and break the depth. */
static void
hnn_approx_term(hnn_approx_lin *lin, uint32_t id, double w)
{
    if (w != 1)
        for (uint32_t k = 0; k < lin->n; k++)
            if (lin->id[k] == id && lin->w[k] != 1) {
                lin->w[k] += w;
                return;
            }
    lin->id[lin->n] = id;
    lin->w[lin->n++] = w;
}

static void
hnn_approx_lin_init(hnn_approx_lin *lin, size_t cap)
{
    *lin = (hnn_approx_lin){
        .id = hnn_approx_alloc(cap, sizeof *lin->id),
        .w = hnn_approx_alloc(cap, sizeof *lin->w),
    };
}

static void
hnn_approx_lin_free(hnn_approx_lin *lin)
{
    free(lin->id);
    free(lin->w);
}

/*
 * The leaf sum_{i<=n} c_i T_i (power: c_i x^i) into lin, or with emit false
 * only its depth. Terms go from the top down because the folding of c_i T_i
 * onto s_i moves -c_i to T_1 or the constant. A T_i that already exists is
 * used as it is (no folding, no new correction term).
 */
static uint32_t
hnn_approx_leaf(hnn_approx_builder *bd, const double *c, uint32_t n, hnn_approx_lin *lin, bool emit)
{
    double c0 = c[0], c1 = n >= 1 ? c[1] : 0;
    uint32_t depth = 0;
    /* Emitting s_i may create lower T_j as factors; the choice for T_j is
     * made on what existed before this leaf, as the depth-only pass saw. */
    uint32_t before = bd->n;
    for (uint32_t i = n; i >= 2; i--) {
        double w = c[i];
        if (w == 0)
            continue;
        uint32_t id = HNN_APPROX_NONE, d = hnn_approx_lg(i);
        if (bd->power || bd->basis[i] < before) {
            if (emit)
                id = hnn_approx_basis(bd, i);
        } else {
            if (emit)
                id = hnn_approx_prod(bd, i);
            if (i & 1)
                c1 -= w;
            else
                c0 -= w;
            w *= 2;
        }
        if (w != 1)
            d++;
        if (d > depth)
            depth = d;
        if (emit)
            hnn_approx_term(lin, id, w);
    }
    if (c1 != 0) {
        if (c1 != 1 && depth < 1)
            depth = 1;
        if (emit)
            hnn_approx_term(lin, 0, c1);
    }
    if (emit)
        lin->c += c0;
    return depth;
}

/* Emits the scalar products, sorts the terms by depth, sums each depth
 * class, then the classes from the shallowest up, then adds the constant.
 * NONE when no term is left (the value is the constant lin->c alone). */
static uint32_t
hnn_approx_materialize(hnn_approx_builder *bd, hnn_approx_lin *lin)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < lin->n; k++) {
        if (lin->w[k] == 0)
            continue;
        lin->id[n++] = lin->w[k] == 1 ? lin->id[k] : hnn_approx_emit(bd, HNN_APPROX_MULC, lin->id[k], 0, lin->w[k]);
    }
    lin->n = n;
    for (uint32_t i = 1; i < lin->n; i++) {
        uint32_t v = lin->id[i], j = i;
        while (j > 0 && (bd->ins[lin->id[j - 1]].depth > bd->ins[v].depth ||
                         (bd->ins[lin->id[j - 1]].depth == bd->ins[v].depth && lin->id[j - 1] > v))) {
            lin->id[j] = lin->id[j - 1];
            j--;
        }
        lin->id[j] = v;
    }
    uint32_t acc = HNN_APPROX_NONE, cur = HNN_APPROX_NONE;
    for (uint32_t i = 0; i < lin->n; i++) {
        uint32_t v = lin->id[i];
        if (cur != HNN_APPROX_NONE && bd->ins[cur].depth != bd->ins[v].depth) {
            acc = acc == HNN_APPROX_NONE ? cur : hnn_approx_emit(bd, HNN_APPROX_ADD, acc, cur, 0);
            cur = HNN_APPROX_NONE;
        }
        cur = cur == HNN_APPROX_NONE ? v : hnn_approx_emit(bd, HNN_APPROX_ADD, cur, v, 0);
    }
    if (cur != HNN_APPROX_NONE)
        acc = acc == HNN_APPROX_NONE ? cur : hnn_approx_emit(bd, HNN_APPROX_ADD, acc, cur, 0);
    if (acc != HNN_APPROX_NONE && lin->c != 0)
        acc = hnn_approx_emit(bd, HNN_APPROX_ADDC, acc, 0, lin->c);
    return acc;
}

/* ------------------------------------------------------------------ splits */

/*
 * P = Q T_g + R with deg R < g, for g <= n. Chebyshev: from the top,
 * c_k T_k = (2 c_k T_{k-g}) T_g - c_k T_{|k-2g|} (T_g itself is 1 T_g),
 * and |k - 2g| < k is reduced in turn when still >= g. Each coefficient
 * receives at most two corrections per pass, so the coefficients of Q and R
 * stay within a small multiple of sum |c_k|. Power basis: plain slicing.
 */
static void
hnn_approx_divide(bool power, const double *c, uint32_t n, uint32_t g, double *q, double *r, double *work)
{
    memcpy(work, c, ((size_t)n + 1) * sizeof *work);
    memset(q, 0, ((size_t)n - g + 1) * sizeof *q);
    for (uint32_t k = n; k >= g; k--) {
        double v = work[k];
        work[k] = 0;
        if (v == 0)
            continue;
        if (power || k == g) {
            q[k - g] += v;
        } else {
            q[k - g] += 2 * v;
            work[k > 2 * g ? k - 2 * g : 2 * g - k] -= v;
        }
    }
    memcpy(r, work, (size_t)g * sizeof *r);
}

static void
hnn_approx_node(hnn_approx_builder *bd, const double *c, uint32_t n, uint32_t b, hnn_approx_lin *out)
{
    while (n > 0 && c[n] == 0)
        n--;
    if (n == 0) {
        out->c += c[0];
        return;
    }
    if (n <= bd->baby && hnn_approx_leaf(bd, c, n, NULL, false) <= b) {
        hnn_approx_leaf(bd, c, n, out, true);
        return;
    }
    int m = bd->plan[(size_t)n * (bd->budget + 1) + b];
    if (m < 0)
        hnn_bug("approximation program: no plan for a node"); /* the plan covers n < 2^b */
    uint32_t g = (uint32_t)1 << m;
    double *q = hnn_approx_alloc((size_t)n - g + 1, sizeof *q);
    double *r = hnn_approx_alloc(g, sizeof *r);
    double *work = hnn_approx_alloc((size_t)n + 1, sizeof *work);
    hnn_approx_divide(bd->power, c, n, g, q, r, work);

    hnn_approx_lin ql;
    hnn_approx_lin_init(&ql, (size_t)n - g + 2);
    hnn_approx_node(bd, q, n - g, b - 1, &ql);
    uint32_t qv = hnn_approx_materialize(bd, &ql);
    if (qv == HNN_APPROX_NONE) {
        /* Q is the constant q0: q0 T_g is a leaf term (depth log2 g + 1 <= b) */
        if (ql.c != 0) {
            memset(work, 0, ((size_t)g + 1) * sizeof *work);
            work[g] = ql.c;
            hnn_approx_leaf(bd, work, g, out, true);
        }
    } else {
        uint32_t tg = hnn_approx_basis(bd, g);
        hnn_approx_term(out, hnn_approx_emit(bd, HNN_APPROX_MUL, qv, tg, 0), 1);
    }
    hnn_approx_lin_free(&ql);
    hnn_approx_node(bd, r, g - 1, b, out);
    free(q);
    free(r);
    free(work);
}

/* --------------------------------------------------------------- the plan */

/*
 * cost(n, b): the fewest products Q T_g (Q not constant) that evaluate a
 * dense polynomial of degree n within depth b, given baby and giant:
 *   leaf  when n <= baby and ceil(log2 n) + 1 <= b (scalar product of the
 *         deepest baby step included): no product;
 *   split at g = 2^m <= n, m <= b - 1, g a baby step or m <= giant:
 *         cost(n - g, b - 1) + cost(g - 1, b) + [n > g].
 * Every n < 2^b is feasible (split at the largest g <= n down to degree 1).
 * Ties go to the larger g: fewer nested products, shallower Q.
 */
static void
hnn_approx_plan(hnn_approx_builder *bd)
{
    uint32_t nb = bd->budget + 1;
    for (uint32_t b = 0; b < nb; b++) {
        for (uint32_t n = 0; n <= bd->top; n++) {
            size_t at = (size_t)n * nb + b;
            bd->cost[at] = HNN_APPROX_INF;
            bd->plan[at] = HNN_APPROX_PLAN_NONE;
            if (n == 0 || (n <= bd->baby && hnn_approx_lg(n) + 1 <= b)) {
                bd->cost[at] = 0;
                bd->plan[at] = HNN_APPROX_PLAN_LEAF;
                continue;
            }
            for (uint32_t m = 0; b >= 1 && m <= b - 1 && ((uint32_t)1 << m) <= n; m++) {
                uint32_t g = (uint32_t)1 << m;
                if (g > bd->baby && m > bd->giant)
                    continue;
                uint32_t cq = bd->cost[(size_t)(n - g) * nb + b - 1];
                uint32_t cr = bd->cost[(size_t)(g - 1) * nb + b];
                if (cq >= HNN_APPROX_INF || cr >= HNN_APPROX_INF)
                    continue;
                uint32_t total = cq + cr + (n > g);
                if (total <= bd->cost[at]) {
                    bd->cost[at] = total;
                    bd->plan[at] = (int8_t)m;
                }
            }
        }
    }
}

/* ---------------------------------------------------------------- building */

static void
hnn_approx_builder_reset(hnn_approx_builder *bd)
{
    bd->n = 0;
    bd->n_mul = bd->n_mulc = bd->n_align = 0;
    for (uint32_t i = 0; i <= bd->top; i++)
        bd->prod[i] = bd->basis[i] = HNN_APPROX_NONE;
    hnn_approx_emit(bd, HNN_APPROX_INPUT, 0, 0, 0);
}

/* Builds into bd with the current baby and giant (leaf_only: the whole
 * polynomial as one leaf); returns the result's index. */
static uint32_t
hnn_approx_run(hnn_approx_builder *bd, const double *c, uint32_t n, bool leaf_only)
{
    hnn_approx_builder_reset(bd);
    hnn_approx_lin lin;
    hnn_approx_lin_init(&lin, (size_t)n + 2);
    if (leaf_only)
        hnn_approx_leaf(bd, c, n, &lin, true);
    else
        hnn_approx_node(bd, c, n, bd->budget, &lin);
    uint32_t v = hnn_approx_materialize(bd, &lin);
    if (v == HNN_APPROX_NONE) {
        /* a constant: x - x + c keeps a ciphertext at depth 0 */
        v = hnn_approx_emit(bd, HNN_APPROX_SUB, 0, 0, 0);
        v = hnn_approx_emit(bd, HNN_APPROX_ADDC, v, 0, lin.c);
    }
    hnn_approx_lin_free(&lin);
    return v;
}

/* Lexicographic: depth, MUL, MULC, alignments, instructions. */
static bool
hnn_approx_better(const hnn_approx_program *a, const hnn_approx_program *b)
{
    uint32_t ka[5] = {a->depth, a->n_mul, a->n_mulc, a->n_align, a->n_instr};
    uint32_t kb[5] = {b->depth, b->n_mul, b->n_mulc, b->n_align, b->n_instr};
    for (int i = 0; i < 5; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i];
    return false;
}

static void
hnn_approx_keep(hnn_approx_builder *bd, uint32_t result, hnn_approx_program *best, hnn_approx_instr **best_ins)
{
    hnn_approx_program cand = {
        .n_instr = bd->n, .result = result, .depth = bd->ins[result].depth,
        .n_mul = bd->n_mul, .n_mulc = bd->n_mulc, .n_align = bd->n_align, .baby = bd->baby,
    };
    if (*best_ins && !hnn_approx_better(&cand, best))
        return;
    free(*best_ins);
    *best_ins = hnn_approx_alloc(bd->n, sizeof **best_ins);
    memcpy(*best_ins, bd->ins, bd->n * sizeof **best_ins);
    *best = cand;
}

static hnn_approx_program
hnn_approx_build(hnn_arena *arena, const double *coeffs, uint32_t degree, bool power)
{
    uint32_t n = degree;
    while (n > 0 && coeffs[n] == 0)
        n--;
    for (uint32_t i = 0; i <= n; i++)
        if (!isfinite(coeffs[i]))
            hnn_bug("approximation program: coefficient not finite");
    hnn_approx_builder bd = {.power = power, .top = n, .budget = hnn_approx_depth(n)};
    bd.prod = hnn_approx_alloc((size_t)n + 1, sizeof *bd.prod);
    bd.basis = hnn_approx_alloc((size_t)n + 1, sizeof *bd.basis);
    bd.cost = hnn_approx_alloc(((size_t)n + 1) * (bd.budget + 1), sizeof *bd.cost);
    bd.plan = hnn_approx_alloc(((size_t)n + 1) * (bd.budget + 1), sizeof *bd.plan);

    hnn_approx_program best = {0};
    hnn_approx_instr *best_ins = NULL;

    /* Unit coefficients may make the plain sum shallower than the bound
     * (x^2, x^4 + x^2, T_2/2 + 1/2): depth first. */
    bd.baby = n;
    hnn_approx_builder_reset(&bd);
    bool shallow = n == 0 || hnn_approx_leaf(&bd, coeffs, n, NULL, false) < bd.budget;
    if (shallow)
        hnn_approx_keep(&bd, hnn_approx_run(&bd, coeffs, n, true), &best, &best_ins);

    uint32_t max_baby = n < HNN_APPROX_MAX_BABY ? n : HNN_APPROX_MAX_BABY;
    for (uint32_t baby = 1; !shallow && baby <= max_baby; baby++) {
        /* giant steps above baby: 2^m with floor(log2 baby) < m <= giant;
         * a split needs m <= budget - 1, so larger ranges change nothing */
        uint32_t lo = hnn_approx_lg(baby + 1) - 1;
        uint32_t hi = bd.budget >= 1 && bd.budget - 1 > lo ? bd.budget - 1 : lo;
        for (uint32_t giant = lo; giant <= hi; giant++) {
            bd.baby = baby;
            bd.giant = giant;
            hnn_approx_plan(&bd);
            if (bd.cost[(size_t)n * (bd.budget + 1) + bd.budget] >= HNN_APPROX_INF)
                continue; /* too few giant steps for this degree */
            hnn_approx_keep(&bd, hnn_approx_run(&bd, coeffs, n, false), &best, &best_ins);
        }
    }
    best.instr = hnn_arena_array(arena, best.n_instr, sizeof *best.instr);
    memcpy(best.instr, best_ins, best.n_instr * sizeof *best.instr);
    free(best_ins);
    free(bd.ins);
    free(bd.prod);
    free(bd.basis);
    free(bd.cost);
    free(bd.plan);
    return best;
}

hnn_approx_program
hnn_approx_program_build(hnn_arena *arena, const hnn_cheb *p)
{
    if (p->degree > HNN_APPROX_MAX_DEGREE)
        hnn_bug("hnn_approx_program_build: degree out of range");
    return hnn_approx_build(arena, p->coeffs, p->degree, false);
}

hnn_approx_program
hnn_approx_program_power(hnn_arena *arena, const double *coeffs, uint32_t degree)
{
    if (degree > HNN_APPROX_MAX_DEGREE)
        hnn_bug("hnn_approx_program_power: degree out of range");
    return hnn_approx_build(arena, coeffs, degree, true);
}

/* ------------------------------------------------------------ run, print */

double
hnn_approx_program_eval(const hnn_approx_program *prog, double x)
{
    double *v = malloc((prog->n_instr > 0 ? prog->n_instr : 1) * sizeof *v);
    if (!v)
        return NAN;
    for (uint32_t i = 0; i < prog->n_instr; i++) {
        const hnn_approx_instr *in = &prog->instr[i];
        switch (in->op) {
        case HNN_APPROX_INPUT: v[i] = x; break;
        case HNN_APPROX_MUL: v[i] = v[in->a] * v[in->b]; break;
        case HNN_APPROX_MULC: v[i] = v[in->a] * in->c; break;
        case HNN_APPROX_ADD: v[i] = v[in->a] + v[in->b]; break;
        case HNN_APPROX_SUB: v[i] = v[in->a] - v[in->b]; break;
        case HNN_APPROX_ADDC: v[i] = v[in->a] + in->c; break;
        }
    }
    double y = prog->n_instr > 0 ? v[prog->result] : NAN;
    free(v);
    return y;
}

void
hnn_approx_program_print(FILE *out, const hnn_approx_program *prog)
{
    fprintf(out, "program: %u instrs, depth %u, mul %u, mulc %u, align %u, result %%%u\n",
            prog->n_instr, prog->depth, prog->n_mul, prog->n_mulc, prog->n_align, prog->result);
    for (uint32_t i = 0; i < prog->n_instr; i++) {
        const hnn_approx_instr *in = &prog->instr[i];
        fprintf(out, "  %%%u = ", i);
        switch (in->op) {
        case HNN_APPROX_INPUT: fputs("input", out); break;
        case HNN_APPROX_MUL: fprintf(out, "mul %%%u, %%%u", in->a, in->b); break;
        case HNN_APPROX_MULC: fprintf(out, "mulc %%%u, %.17g", in->a, in->c); break;
        case HNN_APPROX_ADD: fprintf(out, "add %%%u, %%%u", in->a, in->b); break;
        case HNN_APPROX_SUB: fprintf(out, "sub %%%u, %%%u", in->a, in->b); break;
        case HNN_APPROX_ADDC: fprintf(out, "addc %%%u, %.17g", in->a, in->c); break;
        }
        fprintf(out, "  # depth %u\n", in->depth);
    }
}
