/*
 * Refresh placement: the chain DP, the greedy baseline, the DAG heuristic,
 * budgets from the parameter selection and the choice of ring. The model
 * and the contracts are in refresh.h; docs/design/refresh.md proves the DP.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "middle/refresh.h"

#define MIN_LOG_N 12
#define MAX_LOG_N 16
/* Bits a single base prime may have; above, the base takes two (params_select.h). */
#define MAX_PRIME_BITS 61

static void
say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t len, const char *fmt, ...)
{
    if (!why || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

/* The node's name for messages, in quotes, or "node 3". */
static const char *
node_label(const hnn_refresh_graph *g, uint32_t v, char *buf, size_t len)
{
    if (g->nodes[v].name)
        snprintf(buf, len, "layer '%s'", g->nodes[v].name);
    else
        snprintf(buf, len, "node %u", (unsigned)v);
    return buf;
}

static double
point_cost(const hnn_refresh_graph *g, const hnn_refresh_costs *c, uint32_t v)
{
    return (double)g->nodes[v].width * c->per_ciphertext + c->per_point;
}

/* Inputs earlier than their nodes, node 0 the only node without inputs. */
static bool
graph_ok(const hnn_refresh_graph *g, char *why, size_t len)
{
    if (!g || !g->nodes || g->n == 0) {
        say(why, len, "empty graph");
        return false;
    }
    if (g->nodes[0].in[0] != HNN_REFRESH_NONE || g->nodes[0].in[1] != HNN_REFRESH_NONE) {
        say(why, len, "node 0 (the input) has inputs");
        return false;
    }
    for (uint32_t v = 1; v < g->n; v++) {
        const hnn_refresh_node *x = &g->nodes[v];
        if (x->in[0] == HNN_REFRESH_NONE) {
            say(why, len, "node %u has no input", (unsigned)v);
            return false;
        }
        for (int k = 0; k < 2; k++)
            if (x->in[k] != HNN_REFRESH_NONE && x->in[k] >= v) {
                say(why, len, "node %u reads node %u, which is not earlier", (unsigned)v, (unsigned)x->in[k]);
                return false;
            }
    }
    return true;
}

/* No placement helps a node deeper than the budget on its own. */
static bool
depths_fit(const hnn_refresh_graph *g, uint32_t budget, char *why, size_t len)
{
    for (uint32_t v = 0; v < g->n; v++)
        if (g->nodes[v].depth > budget) {
            char buf[160];
            say(why, len, "%s alone needs %u levels; the budget is %u", node_label(g, v, buf, sizeof buf),
                (unsigned)g->nodes[v].depth, (unsigned)budget);
            return false;
        }
    return true;
}

bool
hnn_refresh_is_chain(const hnn_refresh_graph *g)
{
    if (!g || !g->nodes || g->n == 0)
        return false;
    for (uint32_t v = 1; v < g->n; v++)
        if (g->nodes[v].in[0] != v - 1 || g->nodes[v].in[1] != HNN_REFRESH_NONE)
            return false;
    return g->nodes[0].in[0] == HNN_REFRESH_NONE && g->nodes[0].in[1] == HNN_REFRESH_NONE;
}

/* The state a node starts from: the max over its inputs, 0 past a refresh. */
static uint32_t
state_in(const hnn_refresh_graph *g, const bool *after, const uint32_t *state, uint32_t v)
{
    uint32_t s = 0;
    for (int k = 0; k < 2; k++) {
        uint32_t u = g->nodes[v].in[k];
        if (u == HNN_REFRESH_NONE || (after && after[u]))
            continue;
        if (state[u] > s)
            s = state[u];
    }
    return s;
}

uint32_t
hnn_refresh_states(const hnn_refresh_graph *g, const bool *after, uint32_t *state)
{
    uint32_t max = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        state[v] = g->nodes[v].depth + state_in(g, after, state, v);
        if (state[v] > max)
            max = state[v];
    }
    return max;
}

/* Validity without messages or allocation, for the local search: one pass
 * in topological order. */
static bool
valid(const hnn_refresh_graph *g, uint32_t budget, const bool *after, uint32_t *state)
{
    for (uint32_t v = 0; v < g->n; v++) {
        state[v] = g->nodes[v].depth + state_in(g, after, state, v);
        if (state[v] > budget)
            return false;
    }
    return true;
}

bool
hnn_refresh_check(const hnn_refresh_graph *g, uint32_t budget, const bool *after, uint32_t *state, char *why,
                  size_t why_len)
{
    if (!graph_ok(g, why, why_len))
        return false;
    char buf[160];
    if (after && after[0] && g->n > 1) {
        say(why, why_len, "the input is refreshed");
        return false;
    }
    if (after && g->n > 1 && after[g->n - 1]) {
        say(why, why_len, "the output (%s) is refreshed", node_label(g, g->n - 1, buf, sizeof buf));
        return false;
    }
    for (uint32_t v = 0; v < g->n; v++) {
        state[v] = g->nodes[v].depth + state_in(g, after, state, v);
        if (state[v] > budget) {
            say(why, why_len, "%s is %u levels deep since the last refresh; the budget is %u",
                node_label(g, v, buf, sizeof buf), (unsigned)state[v], (unsigned)budget);
            return false;
        }
    }
    return true;
}

/* Fills the placement's summary from its flags. */
static void
finish(const hnn_refresh_graph *g, const hnn_refresh_costs *c, bool *after, uint32_t *state, bool optimal,
       hnn_arena *arena, hnn_refresh_placement *out)
{
    out->after = after;
    out->n_points = 0;
    out->ciphertexts = 0;
    out->cost = 0;
    for (uint32_t v = 0; v < g->n; v++)
        if (after[v])
            out->n_points++;
    out->points = hnn_arena_array(arena, out->n_points ? out->n_points : 1, sizeof *out->points);
    uint32_t k = 0;
    for (uint32_t v = 0; v < g->n; v++)
        if (after[v]) {
            out->points[k++] = v;
            out->ciphertexts += g->nodes[v].width;
            out->cost += point_cost(g, c, v);
        }
    out->max_state = hnn_refresh_states(g, after, state);
    out->optimal = optimal;
    out->why[0] = '\0';
}

/* The common entry checks; false with out->why. */
static bool
start(const hnn_refresh_graph *g, uint32_t budget, const hnn_refresh_costs *c, hnn_refresh_placement *out)
{
    memset(out, 0, sizeof *out);
    if (!c) {
        say(out->why, sizeof out->why, "no refresh costs given");
        return false;
    }
    return graph_ok(g, out->why, sizeof out->why) && depths_fit(g, budget, out->why, sizeof out->why);
}

/*
 * As late as possible. A node that would exceed the budget refreshes the
 * inputs whose state alone makes it exceed; since depth(v) <= budget, that
 * leaves v within it. Refreshing u after some of u's users were visited only
 * lowers their states, so states recorded earlier are upper bounds and every
 * decision stays sound. O(n).
 */
bool
hnn_refresh_place_greedy(const hnn_refresh_graph *g, uint32_t budget, const hnn_refresh_costs *c,
                         hnn_arena *arena, hnn_refresh_placement *out)
{
    if (!start(g, budget, c, out))
        return false;
    bool *after = hnn_arena_array(arena, g->n, sizeof *after);
    uint32_t *state = hnn_arena_array(arena, g->n, sizeof *state);
    for (uint32_t v = 0; v < g->n; v++) {
        const hnn_refresh_node *x = &g->nodes[v];
        for (int k = 0; k < 2; k++) {
            uint32_t u = x->in[k];
            if (u != HNN_REFRESH_NONE && !after[u] && state[u] + x->depth > budget)
                after[u] = true; /* never the input: its state is 0 */
        }
        state[v] = x->depth + state_in(g, after, state, v);
    }
    finish(g, c, after, state, false, arena, out);
    return true;
}

/* (cost, points) lexicographically: a strictly better prefix. */
static bool
better(double cost_a, uint32_t points_a, double cost_b, uint32_t points_b)
{
    return cost_a < cost_b || (cost_a == cost_b && points_a < points_b);
}

/*
 * The chain DP. With P(j) = depth(0) + ... + depth(j), the segment after a
 * refresh at i (or from the input, i = 0) up to j consumes P(j) - P(i).
 * best[j]: the least cost of a valid placement of nodes 0..j whose last
 * refresh is after j (best[0] = 0: the input starts fresh);
 *   best[j] = cost(j) + min { best[i] : i < j, P(j) - P(i) <= budget },
 * and the answer is min { best[i] : P(n-1) - P(i) <= budget }. The scan of
 * i goes down from j - 1 and stops at the first segment too deep (P is
 * non-decreasing), so it visits at most the nodes one segment holds. Ties
 * keep the fewer points, then the first i found: the latest refresh.
 */
bool
hnn_refresh_place_chain(const hnn_refresh_graph *g, uint32_t budget, const hnn_refresh_costs *c,
                        hnn_arena *arena, hnn_refresh_placement *out)
{
    if (!start(g, budget, c, out))
        return false;
    if (!hnn_refresh_is_chain(g)) {
        say(out->why, sizeof out->why, "the graph is not a chain");
        return false;
    }
    uint32_t n = g->n;
    uint64_t *P = hnn_arena_array(arena, n, sizeof *P);
    double *best = hnn_arena_array(arena, n, sizeof *best);
    uint32_t *points = hnn_arena_array(arena, n, sizeof *points);
    uint32_t *prev = hnn_arena_array(arena, n, sizeof *prev);
    for (uint32_t j = 0; j < n; j++)
        P[j] = (j ? P[j - 1] : 0) + g->nodes[j].depth;
    best[0] = 0;
    points[0] = 0;
    prev[0] = HNN_REFRESH_NONE;
    /* j = n - 1 is the output: never refreshed, it closes the last segment. */
    for (uint32_t j = 1; j < n; j++) {
        double b = INFINITY;
        uint32_t bp = 0, bi = HNN_REFRESH_NONE;
        for (uint32_t i = j; i-- > 0;) {
            if (P[j] - P[i] > budget)
                break;
            if (!isinf(best[i]) && (bi == HNN_REFRESH_NONE || better(best[i], points[i], b, bp))) {
                b = best[i];
                bp = points[i];
                bi = i;
            }
        }
        prev[j] = bi;
        if (j == n - 1) {
            best[j] = b;
            points[j] = bp;
        } else {
            best[j] = bi == HNN_REFRESH_NONE ? INFINITY : b + point_cost(g, c, j);
            points[j] = bp + 1;
        }
    }
    bool *after = hnn_arena_array(arena, n, sizeof *after);
    uint32_t *state = hnn_arena_array(arena, n, sizeof *state);
    if (n > 1) {
        /* Every node fits the budget, so refreshing after every node is
         * valid and the answer is finite. */
        for (uint32_t i = prev[n - 1]; i != HNN_REFRESH_NONE && i > 0; i = prev[i])
            after[i] = true;
    }
    finish(g, c, after, state, true, arena, out);
    return true;
}

/* ------------------------------------------------------------ DAG heuristic */

typedef struct ranked {
    double cost;
    uint32_t v;
} ranked;

static int
by_cost_desc(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->cost != b->cost)
        return a->cost > b->cost ? -1 : 1;
    return a->v > b->v ? -1 : a->v < b->v ? 1 : 0;
}

static double
flags_cost(const hnn_refresh_graph *g, const hnn_refresh_costs *c, const bool *after)
{
    double sum = 0;
    for (uint32_t v = 0; v < g->n; v++)
        if (after[v])
            sum += point_cost(g, c, v);
    return sum;
}

/*
 * Drops every point (but `keep`) whose removal leaves the placement valid,
 * the most expensive first. `after` must be valid on entry and is on exit.
 * O(k log k + k n).
 */
static void
prune(const hnn_refresh_graph *g, uint32_t budget, const hnn_refresh_costs *c, bool *after, uint32_t keep,
      ranked *order, uint32_t *state)
{
    uint32_t k = 0;
    for (uint32_t v = 0; v < g->n; v++)
        if (after[v] && v != keep)
            order[k++] = (ranked){point_cost(g, c, v), v};
    qsort(order, k, sizeof *order, by_cost_desc);
    for (uint32_t i = 0; i < k; i++) {
        after[order[i].v] = false;
        if (!valid(g, budget, after, state))
            after[order[i].v] = true;
    }
}

bool
hnn_refresh_place_dag(const hnn_refresh_graph *g, uint32_t budget, const hnn_refresh_costs *c, hnn_arena *arena,
                      hnn_refresh_placement *out)
{
    if (hnn_refresh_is_chain(g))
        return hnn_refresh_place_chain(g, budget, c, arena, out);
    if (!hnn_refresh_place_greedy(g, budget, c, arena, out))
        return false;
    uint32_t n = g->n;
    bool *cur = out->after;
    bool *trial = hnn_arena_array(arena, n, sizeof *trial);
    bool *best = hnn_arena_array(arena, n, sizeof *best);
    uint32_t *state = hnn_arena_array(arena, n, sizeof *state);
    ranked *order = hnn_arena_array(arena, n, sizeof *order);
    prune(g, budget, c, cur, HNN_REFRESH_NONE, order, state);
    double cur_cost = flags_cost(g, c, cur);
    /* Each applied move lowers the cost strictly; the round cap bounds the
     * time when costs are reals that could lower by ever smaller steps. */
    for (uint32_t round = 0; round < n; round++) {
        double best_cost = cur_cost;
        bool found = false;
        for (uint32_t u = 1; u + 1 < n; u++) {
            if (cur[u])
                continue;
            memcpy(trial, cur, n * sizeof *trial);
            trial[u] = true;
            prune(g, budget, c, trial, u, order, state);
            double t = flags_cost(g, c, trial);
            if (t < best_cost) {
                best_cost = t;
                memcpy(best, trial, n * sizeof *best);
                found = true;
            }
        }
        if (!found)
            break;
        memcpy(cur, best, n * sizeof *cur);
        /* The new point may make others redundant that the move kept. */
        prune(g, budget, c, cur, HNN_REFRESH_NONE, order, state);
        cur_cost = flags_cost(g, c, cur);
    }
    finish(g, c, cur, state, false, arena, out);
    return true;
}

/* ------------------------------------------------------------ budgets and rings */

int
hnn_refresh_plan_budget(const hnn_param_request *req, unsigned log_n, uint32_t reserve_levels, char *why,
                        size_t why_len)
{
    if (!req) {
        say(why, why_len, "no parameter request");
        return -1;
    }
    if (log_n < MIN_LOG_N || log_n > MAX_LOG_N) {
        say(why, why_len, "ring 2^%u is outside 2^%u..2^%u", log_n, MIN_LOG_N, MAX_LOG_N);
        return -1;
    }
    size_t slots = (size_t)1 << (log_n - 1);
    if (req->min_slots > slots) {
        say(why, why_len, "ring 2^%u has %zu slots; the packing needs %zu", log_n, slots, req->min_slots);
        return -1;
    }
    unsigned security = req->security ? req->security : 128;
    int max = hnn_params_max_levels(req, log_n);
    if (max < 0) {
        say(why, why_len, "ring 2^%u cannot hold the base modulus at %u-bit security", log_n, security);
        return -1;
    }
    uint32_t levels = (uint32_t)max;
    if (req->pin_levels) {
        if (req->pin_levels > levels) {
            say(why, why_len, "ring 2^%u holds at most %u levels at %u-bit security; the pin asks for %u", log_n,
                (unsigned)levels, security, (unsigned)req->pin_levels);
            return -1;
        }
        levels = req->pin_levels;
    }
    if (levels <= reserve_levels) {
        say(why, why_len, "ring 2^%u holds %u levels at %u-bit security, none beyond the %u the output needs",
            log_n, (unsigned)levels, security, (unsigned)reserve_levels);
        return -1;
    }
    return (int)(levels - reserve_levels);
}

/* Limbs below the scale primes at ring 2^log_n: 1, or 2 when q0 would
 * exceed one prime (params_select.h). */
static unsigned
base_limbs(const hnn_param_request *req, unsigned log_n)
{
    return hnn_params_base_bits(req, log_n) > MAX_PRIME_BITS ? 2 : 1;
}

/* One ciphertext through the masked refresh (refresh.h), at a chain of
 * `levels` scale primes. */
static double
unit_ns(const hnn_refresh_request *req, const hnn_cost_table *t, unsigned log_n, unsigned base, uint32_t levels)
{
    unsigned bot = base, top = base + levels;
    double ns = hnn_cost_ns(t, HNN_COST_ENCODE, log_n, bot) + hnn_cost_ns(t, HNN_COST_ADD, log_n, bot) +
                hnn_cost_ns(t, HNN_COST_DECRYPT, log_n, bot) + hnn_cost_ns(t, HNN_COST_DECODE, log_n, bot) +
                hnn_cost_ns(t, HNN_COST_ENCODE, log_n, top) + hnn_cost_ns(t, HNN_COST_ENCRYPT, log_n, top) +
                hnn_cost_ns(t, HNN_COST_ENCODE, log_n, top) + hnn_cost_ns(t, HNN_COST_ADD, log_n, top);
    double bytes = 2.0 * (double)((size_t)1 << log_n) * 8.0 * (double)(bot + top);
    return ns + bytes * req->ns_per_byte;
}

/* The circuit's operations for a placement, each node's at the level
 * midway through it. */
static double
eval_ns(const hnn_refresh_request *req, const hnn_cost_table *t, unsigned log_n, unsigned base, uint32_t levels,
        const bool *after, uint32_t *state)
{
    const hnn_refresh_graph *g = req->graph;
    double sum = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        uint32_t s_in = state_in(g, after, state, v);
        state[v] = s_in + g->nodes[v].depth;
        if (!req->ops)
            continue;
        uint32_t mid = s_in + g->nodes[v].depth / 2;
        unsigned limbs = base + (levels > mid ? levels - mid : 0);
        for (int op = 0; op < HNN_COST__COUNT; op++)
            if (req->ops[v].count[op] != 0)
                sum += req->ops[v].count[op] * hnn_cost_ns(t, (hnn_cost_op)op, log_n, limbs);
    }
    return sum;
}

bool
hnn_refresh_choose(const hnn_refresh_request *req, hnn_arena *arena, hnn_refresh_choice *out)
{
    memset(out, 0, sizeof *out);
    if (!req || !req->params || !graph_ok(req->graph, out->why, sizeof out->why)) {
        if (!req || !req->params)
            say(out->why, sizeof out->why, "incomplete refresh request");
        return false;
    }
    const hnn_refresh_graph *g = req->graph;
    const hnn_param_request *pr = req->params;
    const hnn_cost_table *t = req->costs ? req->costs : hnn_cost_default();
    uint32_t deepest = 0, dmax = 0;
    for (uint32_t v = 0; v < g->n; v++)
        if (g->nodes[v].depth > dmax) {
            dmax = g->nodes[v].depth;
            deepest = v;
        }
    unsigned lo = MIN_LOG_N, hi = MAX_LOG_N;
    if (pr->pin_log_n)
        lo = hi = pr->pin_log_n;
    uint32_t *state = hnn_arena_array(arena, g->n, sizeof *state);
    char last_why[256] = "";
    int widest = -1;
    unsigned widest_log_n = lo;
    bool found = false;
    for (unsigned log_n = lo; log_n <= hi; log_n++) {
        int ring_budget = hnn_refresh_plan_budget(pr, log_n, req->reserve_levels, last_why, sizeof last_why);
        if (ring_budget < 0)
            continue;
        if (ring_budget > widest) {
            widest = ring_budget;
            widest_log_n = log_n;
        }
        if ((uint32_t)ring_budget < dmax)
            continue;
        unsigned base = base_limbs(pr, log_n);
        for (uint32_t b = dmax; b <= (uint32_t)ring_budget; b++) {
            /* Place for the unit cost of a chain this budget fills; the
             * placement's own chain may be shorter (max_state < b), and is
             * then charged its own, lower, unit cost. */
            uint32_t levels = pr->pin_levels ? pr->pin_levels : b + req->reserve_levels;
            double unit = unit_ns(req, t, log_n, base, levels);
            hnn_refresh_costs c = {unit, req->round_trip_ns};
            hnn_refresh_placement p;
            if (!hnn_refresh_place_dag(g, b, &c, arena, &p)) {
                say(last_why, sizeof last_why, "%s", p.why);
                continue;
            }
            levels = pr->pin_levels ? pr->pin_levels : p.max_state + req->reserve_levels;
            unit = unit_ns(req, t, log_n, base, levels);
            double ev = eval_ns(req, t, log_n, base, levels, p.after, state);
            double rf = (double)p.ciphertexts * unit + (double)p.n_points * req->round_trip_ns;
            if (!found || ev + rf < out->total_ns) {
                found = true;
                out->log_n = log_n;
                out->budget = b;
                out->levels = levels;
                out->placement = p;
                out->placement.cost = rf; /* at the final chain's unit cost */
                out->unit_ns = unit;
                out->eval_ns = ev;
                out->refresh_ns = rf;
                out->total_ns = ev + rf;
            }
        }
    }
    if (!found) {
        char buf[160];
        if (widest >= 0 && (uint32_t)widest < dmax)
            say(out->why, sizeof out->why, "%s alone needs %u levels; the largest budget, ring 2^%u's, is %d",
                node_label(g, deepest, buf, sizeof buf), (unsigned)dmax, widest_log_n, widest);
        else
            say(out->why, sizeof out->why, "no ring holds the circuit: %s", last_why);
        return false;
    }
    hnn_param_request final = *pr;
    final.pin_log_n = out->log_n;
    final.levels = out->levels;
    if (!hnn_params_select(&final, &out->params)) {
        say(out->why, sizeof out->why, "ring 2^%u with %u levels: %s", out->log_n, (unsigned)out->levels,
            out->params.why);
        return false;
    }
    out->placement.why[0] = '\0';
    return true;
}

/* ------------------------------------------------------------ from the IRs */

/* The depth of a POLY node as lower.c runs it. */
static uint32_t
poly_depth(const hnn_tir *tir, const hnn_tir_node *n, hnn_arena *arena)
{
    hnn_op src = n->u.poly.source;
    if (src == HNN_OP_SQUARE || src == HNN_OP_POLY) {
        const double *coeffs = n->u.poly.power;
        uint32_t degree = n->u.poly.power_degree;
        return hnn_approx_program_power(arena, coeffs, degree).depth;
    }
    /* The map onto [-1, 1] folds into an AFFINE this POLY alone reads. */
    bool folded = hnn_tir_folding_poly(tir, n->in[0]) == n;
    return hnn_approx_program_build(arena, &n->u.poly.cheb).depth + (folded ? 0 : 1);
}

hnn_refresh_node *
hnn_refresh_nodes_from_tir(const hnn_tir *tir, hnn_hir_packing packing, hnn_arena *arena)
{
    hnn_refresh_node *nodes = hnn_arena_array(arena, tir->n_nodes, sizeof *nodes);
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        hnn_refresh_node *r = &nodes[i];
        r->in[0] = n->n_in > 0 ? n->in[0]->id : HNN_REFRESH_NONE;
        r->in[1] = n->n_in > 1 ? n->in[1]->id : HNN_REFRESH_NONE;
        r->width = packing == HNN_HIR_PACK_BATCH ? n->size : 1;
        r->name = n->name;
        switch (n->kind) {
        case HNN_TIR_AFFINE:
            r->depth = 1;
            break;
        case HNN_TIR_POLY:
            r->depth = poly_depth(tir, n, arena);
            break;
        case HNN_TIR_INPUT:
        case HNN_TIR_ADD:
        case HNN_TIR_SOFTARGMAX:
            r->depth = 0;
            break;
        }
    }
    return nodes;
}

void
hnn_refresh_measure(const hnn_hir *hir, hnn_refresh_node *nodes, uint32_t n, hnn_refresh_ops *ops,
                    hnn_arena *arena)
{
    /* out_level[v]: the lowest level among v's HE nodes; UINT32_MAX when v
     * has none (softargmax: it passes its input on). */
    uint32_t *out_level = hnn_arena_array(arena, n ? n : 1, sizeof *out_level);
    for (uint32_t v = 0; v < n; v++)
        out_level[v] = UINT32_MAX;
    if (ops)
        memset(ops, 0, n * sizeof *ops);
    for (uint32_t i = 0; i < hir->n_nodes; i++) {
        const hnn_hir_node *h = &hir->nodes[i];
        if (h->tir >= n)
            continue;
        if (h->level < out_level[h->tir])
            out_level[h->tir] = h->level;
        hnn_cost_op cls[2];
        double count[2];
        for (unsigned k = ops ? hnn_hir_node_work(h, cls, count) : 0; k-- > 0;)
            ops[h->tir].count[cls[k]] += count[k];
    }
    for (uint32_t v = 0; v < n; v++) {
        uint32_t in_level = v == 0 ? hir->top_level : UINT32_MAX;
        for (int k = 0; k < 2; k++) {
            uint32_t u = nodes[v].in[k];
            if (u != HNN_REFRESH_NONE && u < v && out_level[u] < in_level)
                in_level = out_level[u];
        }
        if (out_level[v] == UINT32_MAX)
            out_level[v] = in_level;
        nodes[v].depth = in_level != UINT32_MAX && in_level > out_level[v] ? in_level - out_level[v] : 0;
    }
}
