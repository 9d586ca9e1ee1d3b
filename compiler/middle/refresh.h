/*
 * Refresh placement: where a circuit deeper than its parameters allow cuts
 * its level budget by client-aided refreshes (DESIGN.md §1; the masked
 * protocol of the back end). A refresh after node v sends v's width(v)
 * ciphertexts to the key holder, who decrypts and re-encrypts them at the
 * top level, so v's users see a fresh budget.
 *
 * Model (docs/design/refresh.md). A graph of nodes in topological order,
 * nodes[0] the input, nodes[n - 1] the output. Node v consumes depth(v)
 * levels and carries width(v) ciphertexts at its output (batch packing: the
 * layer's size; vector packing: 1). With R the set of refreshed nodes, the
 * level state of a node is
 *
 *   s(input) = 0,   s(v) = depth(v) + max over inputs u of (u in R ? 0 : s(u))
 *
 * i.e. the most levels any path consumes since the input or the last refresh
 * on it, up to and including v (a binary op aligns its operands to the
 * lower level: the max). R is valid for budget B when s(v) <= B for every
 * v, and costs
 *
 *   cost(R) = sum over v in R of (width(v) * per_ciphertext + per_point).
 *
 * Neither the input (its state is 0 already) nor the output (the client
 * decrypts it anyway) is ever refreshed. A node with depth(v) > B makes
 * every placement invalid: the error names it.
 *
 * HE IR semantics a levels pass must follow: a REFRESH node's result is at
 * the top level of the chain with the canonical top scale, whatever its
 * operand's level; its users align to it like to any other value.
 */
#ifndef HNN_MIDDLE_REFRESH_H
#define HNN_MIDDLE_REFRESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "front/arena.h"
#include "middle/cost.h"
#include "middle/hir.h"
#include "middle/params_select.h"
#include "middle/tir.h"

#define HNN_REFRESH_NONE UINT32_MAX

typedef struct hnn_refresh_node {
    uint32_t in[2];   /* inputs: earlier nodes, HNN_REFRESH_NONE when absent */
    uint32_t depth;   /* levels the node consumes */
    uint32_t width;   /* ciphertexts at its output */
    const char *name; /* for messages; NULL: "node %u" */
} hnn_refresh_node;

typedef struct hnn_refresh_graph {
    const hnn_refresh_node *nodes; /* topological order: nodes[0] the input, nodes[n - 1] the output */
    uint32_t n;
} hnn_refresh_graph;

typedef struct hnn_refresh_costs {
    double per_ciphertext; /* one ciphertext through the key holder */
    double per_point;      /* fixed cost of one refresh point (a round trip) */
} hnn_refresh_costs;

typedef struct hnn_refresh_placement {
    bool *after;          /* n flags (arena): refresh after node v */
    uint32_t *points;     /* the refreshed nodes, ascending (arena) */
    uint32_t n_points;
    uint64_t ciphertexts; /* sum of the refreshed widths */
    double cost;          /* cost(R) */
    uint32_t max_state;   /* max s(v): the levels the chain must hold (<= budget) */
    bool optimal;         /* proven minimal (the chain DP) */
    char why[256];        /* on failure: which node cannot fit */
} hnn_refresh_placement;

/* True when every node v >= 1 has the single input v - 1 (so every node has
 * one user): the case hnn_refresh_place_chain solves exactly. */
bool hnn_refresh_is_chain(const hnn_refresh_graph *g);

/* The level state s(v) of every node for the flags `after` (NULL: none)
 * into state[0..n), and the max. O(n). */
uint32_t hnn_refresh_states(const hnn_refresh_graph *g, const bool *after, uint32_t *state);

/* Checks a placement: every state <= budget, the input and the output not
 * refreshed, inputs earlier than their nodes; state (n entries) receives
 * the states. On failure writes the first offending node to why ("layer
 * 'a3' is 5 levels deep since the last refresh; the budget is 4") and
 * returns false. O(n). */
bool hnn_refresh_check(const hnn_refresh_graph *g, uint32_t budget, const bool *after, uint32_t *state, char *why,
                       size_t why_len);

/*
 * The placements. Each returns true and fills *out with a valid placement,
 * or false with out->why when none exists (a node deeper than the budget:
 * "layer 'a1' alone needs 6 levels; the budget is 4") or the graph is
 * malformed. Arrays come from the arena.
 *
 * _greedy: the baseline, as late as possible: in topological order, a node
 * that would exceed the budget refreshes each input whose state alone makes
 * it exceed. Valid on every DAG; O(n). Not optimal: it refreshes wherever
 * the budget runs out, however wide the layer there.
 *
 * _chain: exact dynamic programming on a chain (hnn_refresh_is_chain; false
 * otherwise). g[j], the least cost of a valid prefix whose last refresh is
 * after j, is width-cost(j) + min g[i] over the i before j whose segment
 * i+1..j fits the budget. O(n * w), w the most nodes a segment holds (at
 * most budget + 1 when every node but the input consumes a level; O(n^2) in
 * general). Optimal (proof in docs/design/refresh.md); among placements of
 * equal cost it takes the fewest points, then the latest ones.
 *
 * _dag: a chain goes to _chain. Otherwise a heuristic: the greedy placement,
 * then local search until no move lowers the cost: (1) drop a point whose
 * removal keeps the placement valid; (2) add a point u and drop every point
 * u makes redundant (moves a refresh earlier onto a narrower layer, or
 * merges the refreshes of two branches into one before the fork), taking
 * the best such u per round. Every step keeps the placement valid, so the
 * result is valid and costs no more than the greedy one; it may be
 * suboptimal (a better placement may need two points moved at once).
 * O(n * k * (n + e)) per round with k points and e edges, at most n
 * rounds; meant for tensor-IR graphs (tens to hundreds of layers).
 */
bool hnn_refresh_place_greedy(const hnn_refresh_graph *g, uint32_t budget, const hnn_refresh_costs *c,
                              hnn_arena *arena, hnn_refresh_placement *out);
bool hnn_refresh_place_chain(const hnn_refresh_graph *g, uint32_t budget, const hnn_refresh_costs *c,
                             hnn_arena *arena, hnn_refresh_placement *out);
bool hnn_refresh_place_dag(const hnn_refresh_graph *g, uint32_t budget, const hnn_refresh_costs *c,
                           hnn_arena *arena, hnn_refresh_placement *out);

/* ------------------------------------------------------------ budgets and rings */

/*
 * The level budget B of ring 2^log_n for a request (its scale, output bound,
 * precision, security, key-memory cap; its `levels` ignored): the most scale
 * primes the ring holds (hnn_params_max_levels), or the pinned level count
 * when req->pin_levels is set and the ring holds it, minus reserve_levels
 * (levels the output needs after the circuit; 0 in the runtime's layout,
 * where the base modulus holds the output). -1 with why when the ring holds
 * no level, fewer than the pin, or no more than the reserve, or has fewer
 * slots than req->min_slots.
 */
int hnn_refresh_plan_budget(const hnn_param_request *req, unsigned log_n, uint32_t reserve_levels, char *why,
                            size_t why_len);

/* Per-node operation counts by cost-model class, for the evaluation cost. */
typedef struct hnn_refresh_ops {
    double count[HNN_COST__COUNT];
} hnn_refresh_ops;

typedef struct hnn_refresh_request {
    const hnn_refresh_graph *graph;
    const hnn_refresh_ops *ops;      /* n entries; NULL: the refresh cost alone */
    const hnn_param_request *params; /* scale, output bound, precision, slots, security, pins */
    uint32_t reserve_levels;         /* see hnn_refresh_plan_budget */
    double round_trip_ns;            /* fixed cost per refresh point (network latency) */
    double ns_per_byte;              /* transfer of ciphertexts to the key holder and back */
    const hnn_cost_table *costs;     /* NULL: hnn_cost_default() */
} hnn_refresh_request;

typedef struct hnn_refresh_choice {
    unsigned log_n;                  /* the ring chosen */
    uint32_t budget;                 /* the budget b the placement was made for */
    uint32_t levels;                 /* scale primes the chain needs: max_state + reserve (or the pin) */
    hnn_refresh_placement placement;
    double unit_ns;                  /* one ciphertext's refresh at that ring and chain */
    double eval_ns;                  /* the circuit's operations */
    double refresh_ns;               /* the placement's refreshes */
    double total_ns;
    hnn_param_choice params;         /* hnn_params_select for (log_n, levels) */
    char why[512];                   /* on failure */
} hnn_refresh_choice;

/*
 * Chooses ring, budget and placement for a refresh=client circuit by total
 * estimated time = evaluation + refreshes:
 *
 *   for each ring 2^12..2^16 (or the pinned one) with enough slots,
 *     for each budget b from the deepest node's depth up to the ring's B:
 *       R = hnn_refresh_place_dag(b) with per_ciphertext = unit at a chain
 *       of b + reserve levels and per_point = round_trip_ns; the chain then
 *       holds L = max_state + reserve (the pinned level count when pinned)
 *       scale primes and R is charged at L's unit cost (placement.cost too);
 *       eval = sum over v of ops(v) at ring, at the level midway through v
 *              (L - s_in(v) - floor(depth(v) / 2), s_in the state v starts
 *              from: deeper chains cost more per op);
 *       refresh = sum over R of width * unit + round_trip, unit = mask
 *              (encode + add) at the bottom, decrypt + decode there,
 *              encode + encrypt at the top, unmask (encode + add) at the top,
 *              and 2N * 8 bytes per limb both ways times ns_per_byte;
 *   keep the cheapest (ties: the smaller ring, then the smaller b).
 *
 * Smaller budgets are tried too: a shorter chain makes every operation
 * cheaper and may pay for more refreshes. Then hnn_params_select with the
 * ring pinned and L levels fills out->params. O(rings * B * place).
 * Returns false with out->why when no ring holds the deepest node.
 */
bool hnn_refresh_choose(const hnn_refresh_request *req, hnn_arena *arena, hnn_refresh_choice *out);

/* ------------------------------------------------------------ from the IRs */

/*
 * The refresh graph of a tensor IR (arena): one node per tensor-IR node,
 * names from the nodes, width = size (batch) or 1 (vector), depth by the
 * lowering's rules: AFFINE 1; POLY the depth of the program the lowering
 * runs (exact polynomials: hnn_approx_program_power's; fitted ones:
 * hnn_approx_program_build's, at most hnn_approx_depth(degree), plus 1 when
 * the map onto [-1, 1] cannot fold into a preceding AFFINE used only by the
 * POLY); ADD, INPUT, SOFTARGMAX 0. When the lowered HE
 * IR is at hand, hnn_refresh_measure gives the exact depths instead.
 */
hnn_refresh_node *hnn_refresh_nodes_from_tir(const hnn_tir *tir, hnn_hir_packing packing, hnn_arena *arena);

/*
 * From an HE IR after the levels pass (no refreshes yet), per tensor-IR
 * node: depth(v) = min over v's inputs of their output level - v's output
 * level (a node's output level: the lowest level among its HE nodes), and,
 * when ops is not NULL, the count of each cost-model class among its HE
 * nodes. nodes[] must already hold the graph (hnn_refresh_nodes_from_tir);
 * only depth is overwritten; ops (n entries) is overwritten. Scratch from
 * the arena. O(HE IR nodes + n).
 */
void hnn_refresh_measure(const hnn_hir *hir, hnn_refresh_node *nodes, uint32_t n, hnn_refresh_ops *ops,
                         hnn_arena *arena);

#endif
