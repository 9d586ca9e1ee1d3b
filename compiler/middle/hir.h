/*
 * The HE IR: a DAG of CKKS ciphertext operations, the form the back ends
 * (the C emitter and the `hnnc run` interpreter) walk.
 *
 * Every node produces one ciphertext. Nodes are stored in a topological order
 * (operands first). After the planning passes each node carries the level it
 * is at and its exact scale (a double), computed from the real primes of the
 * chosen chain, so the plan is what runs:
 *
 * Invariants (hnn_hir_verify checks every one after planning):
 *   - operands are earlier nodes; arities follow hir_ops.def.
 *   - ADD, SUB, MUL_CT: both operands at the same level; ADD/SUB operands at
 *     the same scale (relative difference below 2^-40).
 *   - MUL_CT's result has 3 parts; a 3-part value is read only by RELIN and
 *     by the ops that keep the part count (ADD, SUB, LINEAR, RESCALE: lazy
 *     relinearisation); every other op takes and gives 2 parts.
 *   - LINEAR: at least one operand, all at the node's level with one scale
 *     and one part count (the node's); its constants are encoded at
 *     `c_scale` and the result's scale is the operands' times c_scale;
 *     `rescales` is 1 or 2.
 *   - RESCALE: operand level >= 1; level drops by one; scale divided by the
 *     dropped prime. DROP_LEVEL: to a lower level, scale unchanged.
 *   - MUL_CONST/MUL_PT: the constant or plaintext is encoded at `c_scale` at
 *     the operand's level; the result's scale is the product.
 *   - ROTATE: its step has a Galois key in the plan's key set.
 *   - levels are >= 0; the inputs are at the top level.
 */
#ifndef HNN_MIDDLE_HIR_H
#define HNN_MIDDLE_HIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "front/arena.h"
#include "middle/cost.h"

typedef enum hnn_hir_op {
#define HNN_HIR_OP(e, name, nops, lvl, key, cost) HNN_HIR_##e,
#include "middle/hir_ops.def"
#undef HNN_HIR_OP
    HNN_HIR__COUNT
} hnn_hir_op;

#define HNN_HIR_NONE UINT32_MAX

typedef struct hnn_hir_node {
    hnn_hir_op op;
    uint8_t size;      /* ciphertext parts: 2, or 3 after MUL_CT */
    uint32_t a, b;     /* operand ids, HNN_HIR_NONE when absent */
    int32_t step;      /* ROTATE */
    uint32_t pt;       /* ADD_PT/MUL_PT: plaintext index; INPUT: input index */
    double c;          /* ADD_CONST/MUL_CONST: the constant */
    /* LINEAR: sum_k coeffs[k] * args[k], k < n_args (a = args[0]); the arrays
     * live in the arena. `rescales`: how many RESCALEs follow before the
     * value is back on its level's canonical scale — 1, or 2 when it
     * combines products that were not rescaled (lazy relinearisation) — so
     * the scales pass encodes the constants for that many. */
    uint8_t rescales;
    uint32_t n_args;
    const uint32_t *args;
    const double *coeffs;
    double c_scale;    /* MUL_CONST/MUL_PT: scale the constant is encoded at */
    uint32_t level;    /* after the op */
    double scale;      /* after the op */
    uint32_t tir;      /* the tensor-IR node this implements (for reports) */
    /* A bound on every slot's value that the lowering knows from the tensor
     * IR's ranges (vector packing: a layer's value, padding included), or
     * has_bound false. The precision estimate intersects its own interval
     * arithmetic with it, which alone loses the rows apart once diagonals
     * mix them. */
    bool has_bound;
    double bound_lo, bound_hi;
} hnn_hir_node;

/* A plaintext vector the circuit multiplies by (vector packing: diagonals). */
typedef struct hnn_hir_pt {
    uint32_t len;
    double *values;
} hnn_hir_pt;

typedef enum hnn_hir_packing {
    HNN_HIR_PACK_BATCH,  /* one ciphertext per feature, one sample per slot */
    HNN_HIR_PACK_VECTOR, /* one sample per ciphertext */
} hnn_hir_packing;

typedef struct hnn_hir {
    hnn_arena *arena;
    hnn_hir_packing packing;
    hnn_hir_node *nodes;
    uint32_t n_nodes, cap_nodes;
    uint32_t *inputs;    /* node ids of the inputs, in input order */
    uint32_t n_inputs;
    uint32_t *outputs;   /* node ids of the outputs, in output order */
    uint32_t n_outputs;
    hnn_hir_pt *pts;
    uint32_t n_pts, cap_pts;
    uint32_t top_level;  /* level of the inputs */
    uint32_t period;     /* vector packing: values repeat every `period` slots
                            (a power of two); plaintexts and inputs are
                            replicated to fill the slots. 0 in batch packing. */
    /* Vector packing, the client's layout of the input. NULL: the input
     * vector in slots 0..n_inputs-1 of one ciphertext, repeated every
     * period. Otherwise in_cts ciphertexts (INPUT node pt = c) of
     * in_period slots each, a power of two repeated to fill the slots:
     * slot j of ciphertext c holds input value in_layout[c * in_period + j],
     * or zero where that is HNN_HIR_NONE (docs/design/packing.md). */
    uint32_t *in_layout;
    uint32_t in_period, in_cts;
} hnn_hir;

const char *hnn_hir_op_name(hnn_hir_op op);
/* The op's arity in hir_ops.def (1 for LINEAR: see hnn_hir_arity). */
unsigned hnn_hir_op_operands(hnn_hir_op op);

/* The operands of node n, whatever its op: hnn_hir_arity(n) of them, the
 * k-th hnn_hir_arg(n, k). */
static inline unsigned
hnn_hir_arity(const hnn_hir_node *n)
{
    return n->op == HNN_HIR_LINEAR ? n->n_args : hnn_hir_op_operands(n->op);
}

static inline uint32_t
hnn_hir_arg(const hnn_hir_node *n, unsigned k)
{
    return n->op == HNN_HIR_LINEAR ? n->args[k] : k == 0 ? n->a : n->b;
}

hnn_hir *hnn_hir_new(hnn_arena *arena, hnn_hir_packing packing);
/* Appends a node and returns its id. */
uint32_t hnn_hir_emit(hnn_hir *h, hnn_hir_op op, uint32_t a, uint32_t b, uint32_t tir);
/* Appends LINEAR sum_k coeffs[k] * args[k], k < n (n >= 1); both arrays
 * are copied into the arena. */
uint32_t hnn_hir_emit_linear(hnn_hir *h, const uint32_t *args, const double *coeffs, uint32_t n, uint32_t tir);
static inline hnn_hir_node *
hnn_hir_at(hnn_hir *h, uint32_t id)
{
    return &h->nodes[id];
}
uint32_t hnn_hir_add_pt(hnn_hir *h, const double *values, uint32_t len);

/* Rewriting passes build a new IR from an old one: _derive starts it (same
 * packing, period and plaintexts, no nodes); _copy_node appends a copy of n
 * whose operands are args[0 .. hnn_hir_arity(n)) (its size, step,
 * plaintext and constants kept; args is copied); _map_io sets the new inputs
 * and outputs through map (old id -> new id). */
hnn_hir *hnn_hir_derive(const hnn_hir *old, hnn_arena *arena);
uint32_t hnn_hir_copy_node(hnn_hir *h, const hnn_hir_node *n, const uint32_t *args);
/* The copy of n with every operand x read as map[x]. */
uint32_t hnn_hir_copy_mapped(hnn_hir *h, const hnn_hir_node *n, const uint32_t *map);
/* The largest arity in h (a size for operand buffers; at least 2). */
uint32_t hnn_hir_max_arity(const hnn_hir *h);
void hnn_hir_map_io(hnn_hir *h, const hnn_hir *old, const uint32_t *map);

/* Counts of each op. */
void hnn_hir_count(const hnn_hir *h, uint64_t counts[HNN_HIR__COUNT]);

/* The number of distinct ids among ids[0..n). */
uint32_t hnn_hir_distinct(const uint32_t *ids, uint32_t n);
/* Input ciphertexts the client sends per evaluation: in_cts with a client
 * layout, else the distinct nodes of the input list. */
uint32_t hnn_hir_input_ciphertexts(const hnn_hir *h);
/* The widest period of the circuit's values: in_period with a client layout
 * spread wider than the period, else the period (0 in batch packing). */
uint32_t hnn_hir_slots_used(const hnn_hir *h);

/*
 * The cost-model work of node n: (class, count) pairs into cls and count,
 * returning how many (0 for bookkeeping ops, 2 for LINEAR: one
 * HNN_COST_LINEAR for its outputs' reduction, one HNN_COST_LINEAR_TERM per
 * term). Element-wise work on a 3-part ciphertext counts 3/2 times. The
 * limbs the work runs on are those of hnn_hir_cost_level.
 */
unsigned hnn_hir_node_work(const hnn_hir_node *n, hnn_cost_op cls[2], double count[2]);
/* The level of the operand an op works on: the node's, or one above for a rescale. */
static inline uint32_t
hnn_hir_cost_level(const hnn_hir_node *n)
{
    return n->level + (n->op == HNN_HIR_RESCALE);
}

/*
 * Consecutive LINEAR nodes that back ends run as one hnnrt_eval_linear
 * call: the end (exclusive) of the group starting at LINEAR node `first` —
 * the following LINEAR nodes of the same tensor-IR node, level, part count
 * and constant scale whose operands all precede `first`.
 */
uint32_t hnn_hir_linear_group_end(const hnn_hir *h, uint32_t first);

/*
 * Consecutive REFRESH nodes that back ends hand to the key holder in one
 * call, one round trip (a refresh point: hnn_plan_insert_refresh emits a
 * point's nodes together): the end (exclusive) of the run starting at
 * REFRESH node `first` — the following REFRESH nodes of the same tensor-IR
 * node, level and scale whose operands precede `first` (each is masked
 * before any comes back).
 */
uint32_t hnn_hir_refresh_point_end(const hnn_hir *h, uint32_t first);
/*
 * Every refresh point of h: returns their number (the round trips per
 * evaluation) and, when not NULL, fills first_of[r] and end_of[r] (n_nodes
 * entries) for each REFRESH node r with its point's first node and end, and
 * *largest with the most ciphertexts one point carries.
 */
uint32_t hnn_hir_refresh_points(const hnn_hir *h, uint32_t *first_of, uint32_t *end_of, uint32_t *largest);

/* A group as the runtime takes it: the rows [first, end) over the group's
 * distinct operands in[0 .. n_in), in order of first use; row r's terms
 * are row_start[r] .. row_start[r + 1] - 1, reading in[col[t]] with
 * constant coeff[t] (the nodes' own constants, in order). */
typedef struct hnn_hir_linear_group {
    uint32_t first, end;
    uint32_t n_in;
    uint32_t *in;
    size_t *row_start;
    uint32_t *col;
    double *coeff;
} hnn_hir_linear_group;

/* The group from LINEAR node `first` to hnn_hir_linear_group_end, its
 * arrays in arena. mark: h->n_nodes entries of scratch, all HNN_HIR_NONE,
 * left so. */
void hnn_hir_linear_group_build(const hnn_hir *h, uint32_t first, hnn_arena *arena, uint32_t *mark,
                                hnn_hir_linear_group *g);

/* Every group of h, in node order, its arrays in arena. */
typedef struct hnn_hir_linear_groups {
    hnn_hir_linear_group *groups;
    uint32_t n_groups;
    uint32_t *group_of;        /* per node: the group a LINEAR node starts, or HNN_HIR_NONE */
    uint32_t max_in, max_rows; /* the most operands and rows of a group (at least 1) */
} hnn_hir_linear_groups;

void hnn_hir_linear_groups_build(const hnn_hir *h, hnn_arena *arena, hnn_hir_linear_groups *out);

bool hnn_hir_verify(const hnn_hir *h, const uint64_t *primes, char *why, size_t why_len);
/* One line per node: "%12 = rescale %11            L3  2^40.0000" */
void hnn_hir_print(FILE *out, const hnn_hir *h);

#endif
