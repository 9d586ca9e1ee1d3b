/*
 * Refresh placement: the chain DP on hand-made chains (exact placements and
 * costs), a chain where it beats the greedy placement, the DP against
 * exhaustive search on random chains, the DAG heuristic's validity on random
 * DAGs (every path checked by enumeration) and against exhaustive search,
 * infeasible budgets with their exact messages, budgets from the parameter
 * selection, the choice of ring, and the graph read off real plans.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "front/front.h"
#include "middle/plan.h"
#include "middle/refresh.h"

#define NONE HNN_REFRESH_NONE
#define RUNS_EXPECTED 259
#define OPTIMAL_EXPECTED 253
#define GREEDY_EXPECTED 156
#define BUDGET_13 3
#define BUDGET_14 8
#define BUDGET_15 19
#define BUDGET_16 41
#define WHY_PIN_13 "ring 2^13 holds at most 3 levels at 128-bit security; the pin asks for 40"
#define WHY_RESERVE_13 "ring 2^13 holds 3 levels at 128-bit security, none beyond the 3 the output needs"
#define CHOICE_LOG_N 13
#define CHOICE_BUDGET 3
#define CHOICE_POINTS 42
#define SLOW_LOG_N 14
#define SLOW_BUDGET 8
#define SLOW_POINTS 16
#define WHY_TOO_DEEP "layer 'dense' alone needs 100 levels; the largest budget, ring 2^16's, is 41"

/* splitmix64: deterministic test graphs. */
static uint64_t
next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t
below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(next(s) % n);
}

/* A chain from depths and widths (node 0 the input). */
static hnn_refresh_graph
chain(hnn_refresh_node *nodes, uint32_t n, const uint32_t *depth, const uint32_t *width, const char *const *name)
{
    for (uint32_t v = 0; v < n; v++)
        nodes[v] = (hnn_refresh_node){{v ? v - 1 : NONE, NONE}, depth[v], width[v], name ? name[v] : NULL};
    return (hnn_refresh_graph){nodes, n};
}

static void
assert_points(const hnn_refresh_placement *p, const uint32_t *want, uint32_t n_want)
{
    if (p->n_points != n_want) {
        char got[256] = "";
        for (uint32_t i = 0; i < p->n_points; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), " %u", (unsigned)p->points[i]);
        fail_msg("expected %u points, got %u:%s", (unsigned)n_want, (unsigned)p->n_points, got);
    }
    for (uint32_t i = 0; i < n_want; i++)
        assert_int_equal(p->points[i], want[i]);
}

/* ------------------------------------------------------------ hand-made chains */

/*
 * The brief's case. Budget 4, 10 per round trip, 1 per ciphertext:
 *
 *   node    0 in  1 dense1  2 act1  3 dense2  4 act2  5 dense3  6 act3  7 dense4
 *   depth   0     1         2       1         2       1         2       1
 *   width   8     16        16      4         4       64        64      10
 *   P       0     1         3       4         6       7         9       10
 *
 * Greedy runs until act2 would reach 6 and refreshes after dense2, then
 * until act3 would reach 5 and refreshes after dense3, 64 wide: 14 + 74 = 88.
 * The DP refreshes after dense2 and act2, both 4 wide: 14 + 14 = 28 (one
 * point cannot do: it would need 6 <= P(i) <= 4).
 */
static const uint32_t brief_depth[] = {0, 1, 2, 1, 2, 1, 2, 1};
static const uint32_t brief_width[] = {8, 16, 16, 4, 4, 64, 64, 10};
static const char *const brief_name[] = {"in", "dense1", "act1", "dense2", "act2", "dense3", "act3", "dense4"};

static void
chain_dp_beats_greedy(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    hnn_refresh_node nodes[8];
    hnn_refresh_graph g = chain(nodes, 8, brief_depth, brief_width, brief_name);
    hnn_refresh_costs c = {1, 10};
    hnn_refresh_placement greedy, dp, dag;
    assert_true(hnn_refresh_place_greedy(&g, 4, &c, a, &greedy));
    assert_points(&greedy, (const uint32_t[]){3, 5}, 2);
    assert_true(greedy.cost == 88);
    assert_int_equal(greedy.ciphertexts, 68);
    assert_int_equal(greedy.max_state, 4);
    assert_false(greedy.optimal);

    assert_true(hnn_refresh_place_chain(&g, 4, &c, a, &dp));
    assert_points(&dp, (const uint32_t[]){3, 4}, 2);
    assert_true(dp.cost == 28);
    assert_int_equal(dp.ciphertexts, 8);
    assert_int_equal(dp.max_state, 4);
    assert_true(dp.optimal);

    /* the DAG entry point sends a chain to the DP */
    assert_true(hnn_refresh_place_dag(&g, 4, &c, a, &dag));
    assert_points(&dag, (const uint32_t[]){3, 4}, 2);
    assert_true(dag.optimal);

    /* both valid; the states after the DP's cuts */
    uint32_t st[8];
    char why[256];
    assert_true(hnn_refresh_check(&g, 4, greedy.after, st, why, sizeof why));
    assert_true(hnn_refresh_check(&g, 4, dp.after, st, why, sizeof why));
    const uint32_t want_states[8] = {0, 1, 3, 4, 2, 1, 3, 4};
    assert_memory_equal(st, want_states, sizeof st);

    /* a larger budget needs one refresh: after act2 (P = 6 >= 10 - 5) */
    assert_true(hnn_refresh_place_chain(&g, 6, &c, a, &dp));
    assert_points(&dp, (const uint32_t[]){4}, 1);
    assert_true(dp.cost == 14);
    assert_int_equal(dp.max_state, 6);
    /* and none once it holds the whole chain */
    assert_true(hnn_refresh_place_chain(&g, 10, &c, a, &dp));
    assert_int_equal(dp.n_points, 0);
    assert_true(dp.cost == 0);
    assert_int_equal(dp.max_state, 10);
    hnn_arena_free(a);
}

/*
 * Round trips against ciphertexts. Budget 2 over depths 0 1 1 1 1 (P = 0..4),
 * widths 1 1 20 1 1: one refresh must sit exactly at P = 2 (node 2, 20 wide);
 * two can sit at nodes 1 and 3 (1 wide each).
 *   per point 0:   {2} = 20, {1, 3} = 2      -> {1, 3}
 *   per point 100: {2} = 120, {1, 3} = 202   -> {2}
 */
static void
chain_round_trip_tradeoff(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    hnn_refresh_node nodes[5];
    hnn_refresh_graph g =
        chain(nodes, 5, (const uint32_t[]){0, 1, 1, 1, 1}, (const uint32_t[]){1, 1, 20, 1, 1}, NULL);
    hnn_refresh_placement p;
    assert_true(hnn_refresh_place_chain(&g, 2, &(hnn_refresh_costs){1, 0}, a, &p));
    assert_points(&p, (const uint32_t[]){1, 3}, 2);
    assert_true(p.cost == 2);
    assert_true(hnn_refresh_place_chain(&g, 2, &(hnn_refresh_costs){1, 100}, a, &p));
    assert_points(&p, (const uint32_t[]){2}, 1);
    assert_true(p.cost == 120);
    /* greedy takes node 2 whatever the costs */
    assert_true(hnn_refresh_place_greedy(&g, 2, &(hnn_refresh_costs){1, 0}, a, &p));
    assert_points(&p, (const uint32_t[]){2}, 1);
    assert_true(p.cost == 20);
    hnn_arena_free(a);
}

/* Equal costs: the fewest points, then the latest. Depths 0 1 1 1 1 1 1,
 * budget 4, all 1 wide, no round-trip cost: one point at P(i) in 2..4 (nodes
 * 2, 3, 4) costs 1 as does none of the others; node 4 is the latest. With
 * no round-trip cost, two points (2) never tie one (1). */
static void
chain_ties_take_the_latest(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    hnn_refresh_node nodes[7];
    hnn_refresh_graph g = chain(nodes, 7, (const uint32_t[]){0, 1, 1, 1, 1, 1, 1},
                                (const uint32_t[]){1, 1, 1, 1, 1, 1, 1}, NULL);
    hnn_refresh_placement p;
    assert_true(hnn_refresh_place_chain(&g, 4, &(hnn_refresh_costs){1, 0}, a, &p));
    assert_points(&p, (const uint32_t[]){4}, 1);
    /* zero-cost refreshes: still the fewest points */
    assert_true(hnn_refresh_place_chain(&g, 4, &(hnn_refresh_costs){0, 0}, a, &p));
    assert_points(&p, (const uint32_t[]){4}, 1);
    assert_true(p.cost == 0);
    hnn_arena_free(a);
}

/* Zero-depth nodes inside a segment (softargmax at the output, a 1-node
 * circuit, a 2-node one). */
static void
chain_degenerate_sizes(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    hnn_refresh_node nodes[4];
    hnn_refresh_placement p;
    hnn_refresh_graph g = chain(nodes, 1, (const uint32_t[]){0}, (const uint32_t[]){3}, NULL);
    assert_true(hnn_refresh_place_chain(&g, 0, &(hnn_refresh_costs){1, 1}, a, &p));
    assert_int_equal(p.n_points, 0);
    g = chain(nodes, 2, (const uint32_t[]){0, 3}, (const uint32_t[]){3, 2}, NULL);
    assert_true(hnn_refresh_place_chain(&g, 3, &(hnn_refresh_costs){1, 1}, a, &p));
    assert_int_equal(p.n_points, 0);
    assert_int_equal(p.max_state, 3);
    g = chain(nodes, 4, (const uint32_t[]){0, 2, 2, 0}, (const uint32_t[]){3, 5, 7, 7}, NULL);
    assert_true(hnn_refresh_place_chain(&g, 2, &(hnn_refresh_costs){1, 1}, a, &p));
    assert_points(&p, (const uint32_t[]){1}, 1);
    assert_true(p.cost == 6);
    hnn_arena_free(a);
}

/* ------------------------------------------------------------ infeasible */

static void
infeasible_budgets_name_the_layer(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    hnn_refresh_node nodes[4];
    hnn_refresh_graph g = chain(nodes, 4, (const uint32_t[]){0, 1, 6, 1}, (const uint32_t[]){1, 1, 1, 1},
                                (const char *const[]){"x", "d1", "a1", "d2"});
    hnn_refresh_costs c = {1, 0};
    hnn_refresh_placement p;
    assert_false(hnn_refresh_place_chain(&g, 4, &c, a, &p));
    assert_string_equal(p.why, "layer 'a1' alone needs 6 levels; the budget is 4");
    assert_false(hnn_refresh_place_greedy(&g, 4, &c, a, &p));
    assert_string_equal(p.why, "layer 'a1' alone needs 6 levels; the budget is 4");
    assert_false(hnn_refresh_place_dag(&g, 4, &c, a, &p));
    assert_string_equal(p.why, "layer 'a1' alone needs 6 levels; the budget is 4");
    /* unnamed nodes by number; budget 0 */
    g = chain(nodes, 3, (const uint32_t[]){0, 1, 1}, (const uint32_t[]){1, 1, 1}, NULL);
    assert_false(hnn_refresh_place_dag(&g, 0, &c, a, &p));
    assert_string_equal(p.why, "node 1 alone needs 1 levels; the budget is 0");
    /* it fits at 6 */
    g = chain(nodes, 4, (const uint32_t[]){0, 1, 6, 1}, (const uint32_t[]){1, 1, 1, 1},
              (const char *const[]){"x", "d1", "a1", "d2"});
    assert_true(hnn_refresh_place_chain(&g, 6, &c, a, &p));
    assert_points(&p, (const uint32_t[]){1, 2}, 2);

    /* the checker on bad placements and malformed graphs */
    uint32_t st[4];
    char why[256];
    bool after[4] = {false, false, false, false};
    assert_false(hnn_refresh_check(&g, 6, after, st, why, sizeof why));
    assert_string_equal(why, "layer 'a1' is 7 levels deep since the last refresh; the budget is 6");
    after[3] = true;
    assert_false(hnn_refresh_check(&g, 6, after, st, why, sizeof why));
    assert_string_equal(why, "the output (layer 'd2') is refreshed");
    nodes[2].in[0] = 3;
    assert_false(hnn_refresh_place_dag(&g, 6, &c, a, &p));
    assert_string_equal(p.why, "node 2 reads node 3, which is not earlier");
    hnn_arena_free(a);
}

/* ------------------------------------------------------------ exhaustive references */

/* The least cost over every subset of the refreshable nodes 1..n-2 (n <= 22),
 * -1 when none is valid. */
static double
exhaustive(const hnn_refresh_graph *g, uint32_t budget, const hnn_refresh_costs *c)
{
    uint32_t n = g->n, m = n > 2 ? n - 2 : 0;
    bool after[24];
    uint32_t st[24];
    char why[64];
    double best = -1;
    for (uint32_t mask = 0; mask < (1u << m); mask++) {
        double cost = 0;
        for (uint32_t v = 0; v < n; v++) {
            after[v] = v >= 1 && v + 1 < n && (mask >> (v - 1) & 1);
            if (after[v])
                cost += g->nodes[v].width * c->per_ciphertext + c->per_point;
        }
        if ((best < 0 || cost < best) && hnn_refresh_check(g, budget, after, st, why, sizeof why))
            best = cost;
    }
    return best;
}

/* Every path from the input or from a refreshed node, through nodes not
 * refreshed, to any node: the sum of the depths after its start is within
 * the budget. Enumerated path by path (forwards), independent of the
 * library's states. */
static bool
paths_fit(const hnn_refresh_graph *g, uint32_t budget, const bool *after, uint32_t v, uint32_t sum)
{
    if (sum > budget)
        return false;
    if (v != 0 && after[v])
        return true; /* the path ends here: v's users start afresh */
    for (uint32_t w = v + 1; w < g->n; w++)
        for (int k = 0; k < 2; k++)
            if (g->nodes[w].in[k] == v && (k == 0 || g->nodes[w].in[0] != v) &&
                !paths_fit(g, budget, after, w, sum + g->nodes[w].depth))
                return false;
    return true;
}

static bool
every_path_fits(const hnn_refresh_graph *g, uint32_t budget, const bool *after)
{
    if (g->nodes[0].depth > budget || !paths_fit(g, budget, after, 0, g->nodes[0].depth))
        return false;
    for (uint32_t v = 1; v < g->n; v++)
        if (after[v] && !paths_fit(g, budget, after, v, 0))
            return false;
    return true;
}

static void
chain_dp_is_optimal_on_random_chains(void **state)
{
    (void)state;
    uint64_t seed = 1;
    hnn_refresh_node nodes[16];
    uint32_t depth[16], width[16];
    for (int t = 0; t < 300; t++) {
        hnn_arena *a = hnn_arena_new();
        uint32_t n = 2 + below(&seed, 13);
        for (uint32_t v = 0; v < n; v++) {
            depth[v] = v ? below(&seed, 4) : 0;
            width[v] = 1 + below(&seed, 9);
        }
        hnn_refresh_graph g = chain(nodes, n, depth, width, NULL);
        uint32_t budget = 3 + below(&seed, 3);
        hnn_refresh_costs c = {1 + below(&seed, 3), below(&seed, 6)};
        hnn_refresh_placement dp, gr;
        assert_true(hnn_refresh_place_chain(&g, budget, &c, a, &dp));
        assert_true(hnn_refresh_place_greedy(&g, budget, &c, a, &gr));
        assert_true(every_path_fits(&g, budget, dp.after));
        assert_true(every_path_fits(&g, budget, gr.after));
        assert_true(dp.cost == exhaustive(&g, budget, &c));
        assert_true(dp.cost <= gr.cost);
        hnn_arena_free(a);
    }
}

/* ------------------------------------------------------------ DAGs */

/*
 * Residual-like random DAGs: node v reads v - 1 mostly, else an earlier node,
 * and a third of the nodes add a second, earlier input (depth 0, like ADD).
 */
static hnn_refresh_graph
random_dag(hnn_refresh_node *nodes, uint32_t n, uint64_t *seed)
{
    nodes[0] = (hnn_refresh_node){{NONE, NONE}, 0, 1 + below(seed, 8), NULL};
    for (uint32_t v = 1; v < n; v++) {
        uint32_t a = below(seed, 5) ? v - 1 : below(seed, v);
        uint32_t b = NONE, d = below(seed, 4);
        if (v >= 2 && below(seed, 3) == 0) {
            b = below(seed, v);
            if (b == a)
                b = NONE;
            else
                d = 0;
        }
        nodes[v] = (hnn_refresh_node){{a, b}, d, 1 + below(seed, 8), NULL};
    }
    return (hnn_refresh_graph){nodes, n};
}

static void
dag_heuristic_valid_on_random_dags(void **state)
{
    (void)state;
    uint64_t seed = 7;
    hnn_refresh_node nodes[40];
    for (int t = 0; t < 400; t++) {
        hnn_arena *a = hnn_arena_new();
        uint32_t n = 3 + below(&seed, 22);
        hnn_refresh_graph g = random_dag(nodes, n, &seed);
        uint32_t budget = 3 + below(&seed, 4);
        hnn_refresh_costs c = {1, below(&seed, 4)};
        hnn_refresh_placement h, gr;
        assert_true(hnn_refresh_place_dag(&g, budget, &c, a, &h));
        assert_true(hnn_refresh_place_greedy(&g, budget, &c, a, &gr));
        assert_true(every_path_fits(&g, budget, h.after));
        assert_true(every_path_fits(&g, budget, gr.after));
        assert_false(h.after[0]);
        assert_false(h.after[n - 1]);
        assert_true(h.cost <= gr.cost);
        uint32_t st[40];
        assert_int_equal(hnn_refresh_states(&g, h.after, st), h.max_state);
        assert_true(h.max_state <= budget);
        hnn_arena_free(a);
    }
}

/* Against exhaustive search on small DAGs: never below the optimum (a
 * sanity check of the cost), and how often at it. */
static void
dag_heuristic_against_exhaustive(void **state)
{
    (void)state;
    uint64_t seed = 11;
    hnn_refresh_node nodes[16];
    int runs = 0, optimal = 0, greedy_optimal = 0;
    for (int t = 0; t < 300; t++) {
        hnn_arena *a = hnn_arena_new();
        uint32_t n = 4 + below(&seed, 11);
        hnn_refresh_graph g = random_dag(nodes, n, &seed);
        if (hnn_refresh_is_chain(&g)) {
            hnn_arena_free(a);
            continue;
        }
        uint32_t budget = 3 + below(&seed, 3);
        hnn_refresh_costs c = {1, below(&seed, 4)};
        hnn_refresh_placement h, gr;
        assert_true(hnn_refresh_place_dag(&g, budget, &c, a, &h));
        assert_true(hnn_refresh_place_greedy(&g, budget, &c, a, &gr));
        double best = exhaustive(&g, budget, &c);
        assert_true(best >= 0);
        assert_true(h.cost >= best);
        runs++;
        optimal += h.cost == best;
        greedy_optimal += gr.cost == best;
        hnn_arena_free(a);
    }
    print_message("dag: %d graphs, heuristic optimal on %d, greedy on %d\n", runs, optimal, greedy_optimal);
    assert_int_equal(runs, RUNS_EXPECTED);
    assert_int_equal(optimal, OPTIMAL_EXPECTED);
    assert_int_equal(greedy_optimal, GREEDY_EXPECTED);
}

/*
 * A residual block, budget 4:
 *
 *   0 in -> 1 a (1, 2 wide) -> 2 b1 (3) -> 4 c1 (1) -> 6 add (0) -> 7 out (0)
 *                           -> 3 b2 (3) -> 5 c2 (1) ->
 *
 * b1, b2, c1, c2, add are 10 wide. c1 would reach 5: greedy refreshes b1,
 * and for c2 b2: 2 x (10 + 5) = 30. One refresh of `a` before the fork
 * serves both branches: 2 + 5 = 7 (states 0 1 3 3 4 4 4 4).
 */
static void
dag_merges_branch_refreshes_before_the_fork(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    const hnn_refresh_node nodes[8] = {
        {{NONE, NONE}, 0, 1, "in"}, {{0, NONE}, 1, 2, "a"},  {{1, NONE}, 3, 10, "b1"}, {{1, NONE}, 3, 10, "b2"},
        {{2, NONE}, 1, 10, "c1"},   {{3, NONE}, 1, 10, "c2"}, {{4, 5}, 0, 10, "add"},  {{6, NONE}, 0, 10, "out"},
    };
    hnn_refresh_graph g = {nodes, 8};
    hnn_refresh_costs c = {1, 5};
    hnn_refresh_placement gr, h;
    assert_true(hnn_refresh_place_greedy(&g, 4, &c, a, &gr));
    assert_points(&gr, (const uint32_t[]){2, 3}, 2);
    assert_true(gr.cost == 30);
    assert_true(hnn_refresh_place_dag(&g, 4, &c, a, &h));
    assert_points(&h, (const uint32_t[]){1}, 1);
    assert_true(h.cost == 7);
    assert_false(h.optimal);
    assert_true(exhaustive(&g, 4, &c) == 7);
    uint32_t st[8];
    hnn_refresh_states(&g, h.after, st);
    const uint32_t want[8] = {0, 1, 3, 3, 4, 4, 4, 4};
    assert_memory_equal(st, want, sizeof st);
    hnn_arena_free(a);
}

/*
 * Greedy refreshes at the join, the heuristic moves it before the fork onto
 * the narrow layer. Budget 4:
 *   0 in -> 1 a (1, 2 wide) -> 2 b1 (2) -> 4 c1 (1) -> 6 add (0) -> 7 out (1, 1 wide)
 *                           -> 3 b2 (2) -> 5 c2 (1) ->
 * States without refresh: 0 1 3 3 4 4 4 5; greedy refreshes `add` (10 wide),
 * the heuristic `a` (2 wide).
 */
static void
dag_moves_the_join_refresh_before_the_fork(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    const hnn_refresh_node nodes[8] = {
        {{NONE, NONE}, 0, 1, "in"}, {{0, NONE}, 1, 2, "a"},  {{1, NONE}, 2, 10, "b1"}, {{1, NONE}, 2, 10, "b2"},
        {{2, NONE}, 1, 10, "c1"},   {{3, NONE}, 1, 10, "c2"}, {{4, 5}, 0, 10, "add"},  {{6, NONE}, 1, 1, "out"},
    };
    hnn_refresh_graph g = {nodes, 8};
    hnn_refresh_costs c = {1, 0};
    hnn_refresh_placement gr, h;
    assert_true(hnn_refresh_place_greedy(&g, 4, &c, a, &gr));
    assert_points(&gr, (const uint32_t[]){6}, 1);
    assert_true(gr.cost == 10);
    assert_true(hnn_refresh_place_dag(&g, 4, &c, a, &h));
    assert_points(&h, (const uint32_t[]){1}, 1);
    assert_true(h.cost == 2);
    hnn_arena_free(a);
}

/*
 * Where the heuristic stops short: two points must move at once. Budget 4,
 * 3 per round trip:
 *   0 in -> 1 (1, 7 wide) -> 2 (1, 8 wide) -> 3 (3, 1 wide) -> 4 add(3, 1) (0)
 *        -> 5 (1, 1 wide) -> 6 (1) -> 7 (1)
 * Greedy and the local search end at {2, 5}: 11 + 4 = 15. The optimum is
 * {1, 3}: 10 + 4 = 14; from {2, 5} no single added point makes both
 * redundant, so no move of the search reaches it.
 */
static void
dag_heuristic_may_be_suboptimal(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    const hnn_refresh_node nodes[8] = {
        {{NONE, NONE}, 0, 1, NULL}, {{0, NONE}, 1, 7, NULL}, {{1, NONE}, 1, 8, NULL}, {{2, NONE}, 3, 1, NULL},
        {{3, 1}, 0, 7, NULL},       {{4, NONE}, 1, 1, NULL}, {{5, NONE}, 1, 7, NULL}, {{6, NONE}, 1, 6, NULL},
    };
    hnn_refresh_graph g = {nodes, 8};
    hnn_refresh_costs c = {1, 3};
    hnn_refresh_placement h;
    assert_true(hnn_refresh_place_dag(&g, 4, &c, a, &h));
    assert_points(&h, (const uint32_t[]){2, 5}, 2);
    assert_true(h.cost == 15);
    assert_true(exhaustive(&g, 4, &c) == 14);
    bool best[8] = {false, true, false, true, false, false, false, false};
    uint32_t st[8];
    char why[128];
    assert_true(hnn_refresh_check(&g, 4, best, st, why, sizeof why));
    hnn_arena_free(a);
}

/* ------------------------------------------------------------ budgets and rings */

/* The request of params_select's worked examples: scale 2^40, |output| <= 10,
 * 12 bits, 128-bit security. */
static hnn_param_request
example(void)
{
    return (hnn_param_request){
        .scale_bits = 40,
        .output_bound = 10,
        .precision_bits = 12,
        .min_slots = 1,
        .needs_relin = true,
        .security = 128,
    };
}

static void
budget_from_the_parameter_selection(void **state)
{
    (void)state;
    hnn_param_request req = example();
    char why[256];
    /* ring 2^12 holds no 40-bit level at 128 bits */
    assert_int_equal(hnn_params_max_levels(&req, 12), 0);
    assert_int_equal(hnn_refresh_plan_budget(&req, 12, 0, why, sizeof why), -1);
    assert_string_equal(why, "ring 2^12 holds 0 levels at 128-bit security, none beyond the 0 the output needs");
    for (unsigned log_n = 13; log_n <= 16; log_n++) {
        int max = hnn_params_max_levels(&req, log_n);
        assert_int_equal(hnn_refresh_plan_budget(&req, log_n, 0, why, sizeof why), max);
        assert_int_equal(hnn_refresh_plan_budget(&req, log_n, 1, why, sizeof why), max - 1);
    }
    assert_int_equal(hnn_refresh_plan_budget(&req, 13, 0, why, sizeof why), BUDGET_13);
    assert_int_equal(hnn_refresh_plan_budget(&req, 14, 0, why, sizeof why), BUDGET_14);
    assert_int_equal(hnn_refresh_plan_budget(&req, 15, 0, why, sizeof why), BUDGET_15);
    assert_int_equal(hnn_refresh_plan_budget(&req, 16, 0, why, sizeof why), BUDGET_16);
    /* a pin within the ring */
    req.pin_levels = 3;
    assert_int_equal(hnn_refresh_plan_budget(&req, 14, 0, why, sizeof why), 3);
    assert_int_equal(hnn_refresh_plan_budget(&req, 14, 1, why, sizeof why), 2);
    /* refusals with their reasons */
    req.pin_levels = 40;
    assert_int_equal(hnn_refresh_plan_budget(&req, 13, 0, why, sizeof why), -1);
    assert_string_equal(why, WHY_PIN_13);
    req.pin_levels = 0;
    assert_int_equal(hnn_refresh_plan_budget(&req, 13, BUDGET_13, why, sizeof why), -1);
    assert_string_equal(why, WHY_RESERVE_13);
    req.min_slots = 8192;
    assert_int_equal(hnn_refresh_plan_budget(&req, 13, 0, why, sizeof why), -1);
    assert_string_equal(why, "ring 2^13 has 4096 slots; the packing needs 8192");
    assert_int_equal(hnn_refresh_plan_budget(&req, 11, 0, why, sizeof why), -1);
    assert_string_equal(why, "ring 2^11 is outside 2^12..2^16");
}

/* A chain of `pairs` dense + square layers, 16 wide, and a 2-wide dense
 * output, with the batch lowering's op counts per layer. */
static hnn_refresh_graph
deep_network(hnn_refresh_node *nodes, hnn_refresh_ops *ops, uint32_t pairs)
{
    uint32_t n = 2 * pairs + 2;
    memset(ops, 0, n * sizeof *ops);
    nodes[0] = (hnn_refresh_node){{NONE, NONE}, 0, 16, "x"};
    for (uint32_t v = 1; v < n; v++) {
        bool dense = v % 2 == 1;
        uint32_t width = v == n - 1 ? 2 : 16;
        nodes[v] = (hnn_refresh_node){{v - 1, NONE}, 1, width, dense ? "dense" : "square"};
        if (dense) {
            ops[v].count[HNN_COST_MUL_CONST] = 16.0 * width;
            ops[v].count[HNN_COST_ADD] = 16.0 * width;
            ops[v].count[HNN_COST_RESCALE] = width;
        } else {
            ops[v].count[HNN_COST_MUL_CT] = width;
            ops[v].count[HNN_COST_RELIN] = width;
            ops[v].count[HNN_COST_RESCALE] = width;
        }
    }
    return (hnn_refresh_graph){nodes, n};
}

static void
choose_ring_budget_and_placement(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    hnn_refresh_node nodes[130];
    hnn_refresh_ops ops[130];
    hnn_refresh_graph g = deep_network(nodes, ops, 64); /* 129 levels: no ring holds them */
    hnn_param_request pr = example();
    hnn_refresh_request req = {
        .graph = &g, .ops = ops, .params = &pr, .round_trip_ns = 1e6, .ns_per_byte = 1,
    };
    hnn_refresh_choice ch;
    if (!hnn_refresh_choose(&req, a, &ch))
        fail_msg("%s", ch.why);
    print_message("choice: 2^%u, budget %u, levels %u, %u points, %llu ciphertexts, eval %.0f + refresh %.0f ns\n",
                  ch.log_n, (unsigned)ch.budget, (unsigned)ch.levels, (unsigned)ch.placement.n_points,
                  (unsigned long long)ch.placement.ciphertexts, ch.eval_ns, ch.refresh_ns);
    assert_int_equal(ch.log_n, CHOICE_LOG_N);
    assert_int_equal(ch.budget, CHOICE_BUDGET);
    assert_int_equal(ch.levels, CHOICE_BUDGET);
    assert_int_equal(ch.placement.n_points, CHOICE_POINTS);
    assert_true(ch.placement.optimal);
    assert_int_equal(ch.placement.max_state, ch.levels);
    assert_true(ch.total_ns == ch.eval_ns + ch.refresh_ns);
    assert_true(ch.refresh_ns ==
                (double)ch.placement.ciphertexts * ch.unit_ns + ch.placement.n_points * req.round_trip_ns);
    assert_true(every_path_fits(&g, ch.budget, ch.placement.after));
    /* the parameters hold the chain the placement needs, at that ring */
    assert_int_equal(ch.params.spec.log_n, ch.log_n);
    assert_int_equal(ch.params.spec.n_data_primes, ch.params.base_primes + ch.levels);

    /* no pinned ring does better; the chosen one gives the same answer */
    for (unsigned log_n = 12; log_n <= 16; log_n++) {
        hnn_param_request pinned = pr;
        pinned.pin_log_n = log_n;
        hnn_refresh_request r2 = req;
        r2.params = &pinned;
        hnn_refresh_choice c2;
        if (!hnn_refresh_choose(&r2, a, &c2))
            continue;
        assert_true(c2.total_ns >= ch.total_ns);
        if (log_n == ch.log_n)
            assert_true(c2.total_ns == ch.total_ns);
    }

    /* slow round trips (1 s each) pay for a larger ring and fewer points */
    req.round_trip_ns = 1e9;
    assert_true(hnn_refresh_choose(&req, a, &ch));
    print_message("slow network: 2^%u, budget %u, %u points\n", ch.log_n, (unsigned)ch.budget,
                  (unsigned)ch.placement.n_points);
    assert_int_equal(ch.log_n, SLOW_LOG_N);
    assert_int_equal(ch.budget, SLOW_BUDGET);
    assert_int_equal(ch.placement.n_points, SLOW_POINTS);
    req.round_trip_ns = 1e6;

    /* a pinned level count fixes the chain: budget = pin, chain = pin */
    pr.pin_levels = 4;
    assert_true(hnn_refresh_choose(&req, a, &ch));
    assert_int_equal(ch.levels, 4);
    assert_true(ch.budget <= 4);
    assert_int_equal(ch.params.spec.n_data_primes, ch.params.base_primes + 4);
    /* 129 levels in segments of at most 4 need at least 32 points */
    assert_true(ch.placement.n_points >= 32);
    pr.pin_levels = 0;

    /* a layer deeper than any ring */
    nodes[5].depth = 100;
    assert_false(hnn_refresh_choose(&req, a, &ch));
    assert_string_equal(ch.why, WHY_TOO_DEEP);
    hnn_arena_free(a);
}

/* ------------------------------------------------------------ from real plans */

typedef struct planned {
    hnn_arena *arena;
    hnn_diag *diag;
    hnn_plan *plan;
} planned;

static planned
plan_text(const char *text)
{
    planned p = {hnn_arena_new(), hnn_diag_new(), NULL};
    hnn_model *m = hnn_front_check_text("test.hnn", text, strlen(text), ".", NULL, p.arena, p.diag, NULL);
    if (m) {
        hnn_plan_options po = {.verify_each = true};
        p.plan = hnn_plan_build(m, &po, p.arena, p.diag);
    }
    if (!p.plan)
        hnn_diag_print(p.diag, stderr);
    assert_non_null(p.plan);
    return p;
}

/* The lowering's depths read off the tensor IR agree with the HE IR's. */
static void
graph_from_tir_matches_the_lowering(void **state)
{
    (void)state;
    static const char *const models[] = {
        "model sig { input x: vector(2) range [-1, 1];\n"
        "  layer d1 = dense(x, 2, weight [[2, -1], [1, 3]], bias [0, 0.5]);\n"
        "  layer a = sigmoid(d1, degree 7, interval [-5, 5]);\n"
        "  layer d2 = dense(a, 1, weight [[1, -1]], bias [0.5]);\n"
        "  output d2; }\n",
        "model res { input x: vector(2) range [-1, 1];\n"
        "  layer d1 = dense(x, 2, weight [[1, 0.5], [-0.5, 1]], bias [0.1, -0.1]);\n"
        "  layer sq = square(d1);\n"
        "  layer r = add(sq, d1);\n"
        "  output r; }\n",
        "model pol { input x: vector(3) range [-1, 1];\n"
        "  layer d = dense(x, 3, weight [[1, 0, 0], [0, 1, 0], [0.5, 0.5, 0.5]]);\n"
        "  layer q = poly(d, coeffs [0.1, 0.5, 0.25, -0.125]);\n"
        "  output softargmax(q, T 0.5); }\n",
    };
    /* depth per tensor-IR node, and the circuit's depth */
    static const uint32_t want_depth[3][4] = {{0, 1, 3, 1}, {0, 1, 1, 0}, {0, 1, 2, 0}};
    static const uint32_t want_total[3] = {5, 2, 3};
    for (int k = 0; k < 3; k++) {
        planned p = plan_text(models[k]);
        const hnn_tir *tir = p.plan->tir;
        assert_int_equal(tir->n_nodes, 4);
        hnn_refresh_node *nodes = hnn_refresh_nodes_from_tir(tir, HNN_HIR_PACK_BATCH, p.arena);
        for (uint32_t v = 0; v < 4; v++) {
            assert_int_equal(nodes[v].depth, want_depth[k][v]);
            assert_int_equal(nodes[v].width, tir->nodes[v]->size);
        }
        hnn_refresh_graph g = {nodes, tir->n_nodes};
        uint32_t st[4];
        assert_int_equal(hnn_refresh_states(&g, NULL, st), want_total[k]);
        assert_int_equal(want_total[k], p.plan->depth);

        hnn_refresh_ops ops[4];
        hnn_refresh_measure(p.plan->hir, nodes, 4, ops, p.arena);
        for (uint32_t v = 0; v < 4; v++)
            assert_int_equal(nodes[v].depth, want_depth[k][v]);
        uint64_t counts[HNN_HIR__COUNT];
        hnn_hir_count(p.plan->hir, counts);
        double mul_ct = 0, rescale = 0;
        for (uint32_t v = 0; v < 4; v++) {
            mul_ct += ops[v].count[HNN_COST_MUL_CT];
            rescale += ops[v].count[HNN_COST_RESCALE];
        }
        assert_true(mul_ct == (double)counts[HNN_HIR_MUL_CT]);
        assert_true(rescale == (double)counts[HNN_HIR_RESCALE]);
        /* vector packing: one ciphertext per node */
        nodes = hnn_refresh_nodes_from_tir(tir, HNN_HIR_PACK_VECTOR, p.arena);
        for (uint32_t v = 0; v < 4; v++)
            assert_int_equal(nodes[v].width, 1);
        hnn_diag_free(p.diag);
        hnn_arena_free(p.arena);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chain_dp_beats_greedy),
        cmocka_unit_test(chain_round_trip_tradeoff),
        cmocka_unit_test(chain_ties_take_the_latest),
        cmocka_unit_test(chain_degenerate_sizes),
        cmocka_unit_test(infeasible_budgets_name_the_layer),
        cmocka_unit_test(chain_dp_is_optimal_on_random_chains),
        cmocka_unit_test(dag_heuristic_valid_on_random_dags),
        cmocka_unit_test(dag_heuristic_against_exhaustive),
        cmocka_unit_test(dag_merges_branch_refreshes_before_the_fork),
        cmocka_unit_test(dag_moves_the_join_refresh_before_the_fork),
        cmocka_unit_test(dag_heuristic_may_be_suboptimal),
        cmocka_unit_test(budget_from_the_parameter_selection),
        cmocka_unit_test(choose_ring_budget_and_placement),
        cmocka_unit_test(graph_from_tir_matches_the_lowering),
    };
    return cmocka_run_group_tests_name("middle/refresh", tests, NULL, NULL);
}
