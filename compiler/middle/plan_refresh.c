/*
 * Refresh insertion: a REFRESH node for every value a refreshed tensor-IR
 * node hands to another layer (a value of node v used by a node of another
 * layer, or by nothing but the output list). Users in other layers read the
 * refreshed value; v's own nodes keep the original. Runs on the lowered HE
 * IR, before the levels pass, which puts every REFRESH at the top level
 * (plan_levels.c) with the top scale (plan_scales.c).
 *
 * A refresh point is one round trip with the key holder carrying all of the
 * layer's values (the cost model prices it so: refresh.h), and the back ends
 * make one round trip of each run of consecutive REFRESH nodes of one layer.
 * So a layer's REFRESH nodes are emitted together, after its last value that
 * leaves it, not each after its own value (which the lowering interleaves
 * with the layer's other nodes: a batch layer's biases, its squares). Only
 * when a node of another layer reads one of them before that (the lowering
 * charging an alignment to a later layer) are the refreshes pending so far
 * emitted before it, and the point then takes more than one round trip.
 */
#include <math.h>
#include <string.h>

#include "middle/plan.h"

/* The pending values of layer t, in node order: a list through next[]. */
typedef struct pending_refreshes {
    uint32_t *head, *tail, *next;
} pending_refreshes;

/* One REFRESH for each pending value of layer t, in order; refreshed[x] is
 * then the REFRESH of old node x, plus 1. */
static void
flush_refreshes(hnn_hir *h, pending_refreshes *p, uint32_t t, const uint32_t *map, uint32_t *refreshed)
{
    for (uint32_t x = p->head[t]; x != HNN_HIR_NONE; x = p->next[x])
        refreshed[x] = hnn_hir_emit(h, HNN_HIR_REFRESH, map[x], HNN_HIR_NONE, t) + 1;
    p->head[t] = p->tail[t] = HNN_HIR_NONE;
}

hnn_hir *
hnn_plan_insert_refresh(const hnn_hir *old, const bool *after, uint32_t n_tir, hnn_arena *arena)
{
    const uint32_t n = old->n_nodes;
    /* Which values leave their layer, and how many of them each refreshed
     * layer has left to compute. */
    bool *boundary = hnn_arena_array(arena, n ? n : 1, sizeof *boundary);
    uint32_t *left = hnn_arena_array(arena, n_tir ? n_tir : 1, sizeof *left);
    for (uint32_t i = 0; i < n; i++) {
        const hnn_hir_node *u = &old->nodes[i];
        for (unsigned k = 0; k < hnn_hir_arity(u); k++) {
            uint32_t x = hnn_hir_arg(u, k);
            if (old->nodes[x].tir != u->tir && !boundary[x]) {
                boundary[x] = true;
                if (old->nodes[x].tir < n_tir && after[old->nodes[x].tir])
                    left[old->nodes[x].tir]++;
            }
        }
    }
    hnn_hir *h = hnn_hir_derive(old, arena);
    uint32_t *map = hnn_arena_array(arena, n ? n : 1, sizeof *map);
    uint32_t *refreshed = hnn_arena_array(arena, n ? n : 1, sizeof *refreshed);
    uint32_t *args = hnn_arena_array(arena, hnn_hir_max_arity(old), sizeof *args);
    pending_refreshes p = {
        .head = hnn_arena_array(arena, n_tir ? n_tir : 1, sizeof *p.head),
        .tail = hnn_arena_array(arena, n_tir ? n_tir : 1, sizeof *p.tail),
        .next = hnn_arena_array(arena, n ? n : 1, sizeof *p.next),
    };
    for (uint32_t t = 0; t < n_tir; t++)
        p.head[t] = p.tail[t] = HNN_HIR_NONE;
    for (uint32_t i = 0; i < n; i++) {
        const hnn_hir_node *u = &old->nodes[i];
        /* Operands from a refreshed layer come through their REFRESH: one
         * still pending is emitted now, with the rest of its layer's. */
        for (unsigned k = 0; k < hnn_hir_arity(u); k++) {
            uint32_t x = hnn_hir_arg(u, k), t = old->nodes[x].tir;
            if (t != u->tir && boundary[x] && t < n_tir && after[t] && !refreshed[x])
                flush_refreshes(h, &p, t, map, refreshed);
            args[k] = t != u->tir && refreshed[x] ? refreshed[x] - 1 : map[x];
        }
        map[i] = hnn_hir_copy_node(h, u, args);
        if (boundary[i] && u->tir < n_tir && after[u->tir]) {
            p.next[i] = HNN_HIR_NONE;
            if (p.head[u->tir] == HNN_HIR_NONE)
                p.head[u->tir] = i;
            else
                p.next[p.tail[u->tir]] = i;
            p.tail[u->tir] = i;
            if (--left[u->tir] == 0)
                flush_refreshes(h, &p, u->tir, map, refreshed);
        }
    }
    hnn_hir_map_io(h, old, map);
    return h;
}

/*
 * The bound on |values| a REFRESH carries: its tensor-IR node's range, in
 * the units the HE IR holds the node in. An AFFINE whose sole reader is a
 * fitted activation carries t = alpha y + beta, the activation's change of
 * variable folded into the map by both lowerings (lower.c,
 * lower_vector.c), not y.
 */
double
hnn_plan_refresh_bound(const hnn_plan *plan, uint32_t tir_node)
{
    const hnn_tir_node *t = plan->tir->nodes[tir_node];
    double lo = t->range.lo, hi = t->range.hi;
    const hnn_tir_node *next = hnn_tir_folding_poly(plan->tir, t);
    if (next) {
        double alpha, beta;
        hnn_cheb_affine(&next->u.poly.cheb, &alpha, &beta);
        lo = alpha * lo + beta;
        hi = alpha * hi + beta;
    }
    return fmax(fmax(fabs(lo), fabs(hi)), 1e-3);
}

/*
 * The mask a server adds before a refresh (the REFRESH node's `c`): each
 * slot gets a uniform value in [-M, M] with M = B 2^k, B the bound on the
 * refreshed values (hnn_plan_refresh_bound), so the key holder's view of a
 * slot is within statistical distance 2^-k of a value independent of the
 * slot's content.
 * k is as large as both limits allow:
 *   - the modulus at the refresh level: B + M must stay below Q_l / (4 D_l);
 *   - double precision: the key holder re-encodes v + r, whose FFTs
 *     carry an error near |r| 2^-52 sqrt(log2 N) per slot, which later
 *     layers amplify; keeping it 2^-(p + 4) B or below for the planned
 *     precision p (with room for that amplification) gives
 *     k <= 53 - p - log2(N)/2 - 7;
 * and at most 40. The hiding bits k are returned for the report.
 */
uint32_t
hnn_plan_refresh_masks(hnn_plan *plan, uint32_t precision_bits)
{
    hnn_hir *h = plan->hir;
    uint32_t min_k = 40;
    double log_n = (double)plan->params.spec.log_n;
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        hnn_hir_node *n = &h->nodes[i];
        if (n->op != HNN_HIR_REFRESH)
            continue;
        const hnn_hir_node *a = &h->nodes[n->a];
        double bound = hnn_plan_refresh_bound(plan, n->tir);
        double log_q = 0;
        for (uint32_t l = 0; l <= a->level; l++)
            log_q += log2((double)plan->primes[l]);
        double k_mod = log_q - 2 - log2(a->scale) - log2(bound) - 1;
        double k_fft = 53 - (double)precision_bits - log_n / 2 - 7;
        double k = fmin(40, fmin(k_mod, k_fft));
        if (k < 0)
            k = 0;
        n->c = bound * ldexp(1.0, (int)floor(k));
        if ((uint32_t)floor(k) < min_k)
            min_k = (uint32_t)floor(k);
    }
    return min_k;
}
