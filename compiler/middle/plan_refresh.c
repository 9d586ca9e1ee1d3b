/*
 * Refresh insertion: a REFRESH node after every value a refreshed
 * tensor-IR node hands to another layer (a value of node v used by a node of
 * another layer, or by nothing but the output list). Users in other layers
 * read the refreshed value; v's own nodes keep the original. Runs on the
 * lowered HE IR, before the levels pass, which puts every REFRESH at the top
 * level (plan_levels.c) with the top scale (plan_scales.c).
 */
#include <math.h>
#include <string.h>

#include "middle/plan.h"

hnn_hir *
hnn_plan_insert_refresh(const hnn_hir *old, const bool *after, uint32_t n_tir, hnn_arena *arena)
{
    const uint32_t n = old->n_nodes;
    /* Which values leave their layer. */
    bool *boundary = hnn_arena_array(arena, n ? n : 1, sizeof *boundary);
    for (uint32_t i = 0; i < n; i++) {
        const hnn_hir_node *u = &old->nodes[i];
        for (unsigned k = 0; k < hnn_hir_arity(u); k++) {
            uint32_t x = hnn_hir_arg(u, k);
            if (old->nodes[x].tir != u->tir)
                boundary[x] = true;
        }
    }
    hnn_hir *h = hnn_hir_derive(old, arena);
    uint32_t *map = hnn_arena_array(arena, n ? n : 1, sizeof *map);
    uint32_t *refreshed = hnn_arena_array(arena, n ? n : 1, sizeof *refreshed);
    uint32_t *args = hnn_arena_array(arena, hnn_hir_max_arity(old), sizeof *args);
    for (uint32_t i = 0; i < n; i++) {
        const hnn_hir_node *u = &old->nodes[i];
        /* Operands from a refreshed layer come through their REFRESH. */
        for (unsigned k = 0; k < hnn_hir_arity(u); k++) {
            uint32_t x = hnn_hir_arg(u, k);
            args[k] = old->nodes[x].tir != u->tir && refreshed[x] ? refreshed[x] - 1 : map[x];
        }
        uint32_t id = hnn_hir_copy_node(h, u, args);
        map[i] = id;
        if (boundary[i] && u->tir < n_tir && after[u->tir]) {
            uint32_t r = hnn_hir_emit(h, HNN_HIR_REFRESH, id, HNN_HIR_NONE, u->tir);
            refreshed[i] = r + 1; /* 0 means none */
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
    const hnn_tir_node *next = t->kind == HNN_TIR_AFFINE ? hnn_tir_sole_reader(plan->tir, t) : NULL;
    if (next && next->kind == HNN_TIR_POLY && !next->u.poly.power) {
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
