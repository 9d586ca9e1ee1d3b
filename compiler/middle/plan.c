#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hnnrt.h"
#include "middle/plan.h"
#include "middle/precision.h"
#include "middle/refresh.h"

const char *const hnn_plan_pass_names[] = {
    "tir-build", "tir-simplify", "lower", "levels", "params", "scales", "verify", NULL,
};

static bool
dump_here(const hnn_plan_options *opt, const char *pass)
{
    return opt && opt->dump_after && strcmp(opt->dump_after, pass) == 0;
}

static FILE *
dump_file(const hnn_plan_options *opt)
{
    return opt && opt->dump_to ? opt->dump_to : stdout;
}

static bool
check_tir(const hnn_plan_options *opt, const hnn_tir *tir, const char *pass, hnn_diag *diag, const hnn_model *m)
{
    if (!opt || !opt->verify_each)
        return true;
    char why[256];
    if (hnn_tir_verify(tir, why, sizeof why))
        return true;
    hnn_diag_error(diag, m->loc, "internal error: tensor IR invalid after %s: %s", pass, why);
    return false;
}

/* The smallest multiple of 2 above the magnitude of the output range. */
static double
output_bound(const hnn_tir *tir)
{
    const hnn_tir_node *o = tir->output;
    if (o->kind == HNN_TIR_SOFTARGMAX)
        o = o->in[0];
    return fmax(fabs(o->range.lo), fabs(o->range.hi));
}

static int
cmp_step(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The Galois keys the circuit needs: its distinct rotation steps. */
static void
collect_rotations(hnn_plan *plan, hnn_arena *arena)
{
    const hnn_hir *h = plan->hir;
    uint32_t n = 0;
    plan->conjugates = false;
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        n += h->nodes[i].op == HNN_HIR_ROTATE;
        plan->conjugates |= h->nodes[i].op == HNN_HIR_CONJUGATE;
    }
    int32_t *steps = hnn_arena_array(arena, n ? n : 1, sizeof *steps);
    n = 0;
    for (uint32_t i = 0; i < h->n_nodes; i++)
        if (h->nodes[i].op == HNN_HIR_ROTATE && h->nodes[i].step != 0)
            steps[n++] = h->nodes[i].step;
    qsort(steps, n, sizeof *steps, cmp_step);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (m == 0 || steps[m - 1] != steps[i])
            steps[m++] = steps[i];
    plan->rotation_steps = steps;
    plan->n_rotation_steps = m;
}


/*
 * refresh client: choose ring, level budget and refresh points by total
 * estimated time (compiler/middle/refresh.h), insert the REFRESH nodes, and
 * take the parameters of that choice. The refreshed values sit one level
 * above the bottom of the chain (reserve 1), which leaves the modulus room
 * for the mask that hides them from the key holder.
 */
static bool
place_refreshes(hnn_plan *plan, hnn_hir_packing packing, const hnn_param_request *req, hnn_arena *arena,
                hnn_diag *diag, char *why, size_t why_len)
{
    const hnn_tir *tir = plan->tir;
    hnn_hir *probe = plan->hir;
    hnn_plan_levels(&probe, arena);
    hnn_refresh_node *nodes = hnn_refresh_nodes_from_tir(tir, packing, arena);
    hnn_refresh_ops *ops = hnn_arena_array(arena, tir->n_nodes, sizeof *ops);
    hnn_refresh_measure(probe, nodes, tir->n_nodes, ops, arena);
    hnn_refresh_graph graph = {nodes, tir->n_nodes};
    hnn_param_request preq = *req;
    preq.n_rotation_keys = 0;
    hnn_refresh_request rr = {
        .graph = &graph,
        .ops = ops,
        .params = &preq,
        .reserve_levels = 1,
        .round_trip_ns = HNN_PLAN_ROUND_TRIP_NS,
        .ns_per_byte = HNN_PLAN_NS_PER_BYTE,
    };
    hnn_refresh_choice choice;
    if (!hnn_refresh_choose(&rr, arena, &choice)) {
        snprintf(why, why_len, "%s", choice.why);
        if (diag)
            hnn_diag_error(diag, plan->model->hints.loc[HNN_HINT_REFRESH], "no refresh placement fits: %s",
                           choice.why);
        return false;
    }
    plan->params = choice.params;
    plan->refresh_points = choice.placement.points;
    plan->n_refresh_points = choice.placement.n_points;
    plan->refresh_ciphertexts = choice.placement.ciphertexts;
    if (choice.placement.n_points)
        plan->hir = hnn_plan_insert_refresh(plan->hir, choice.placement.after, tir->n_nodes, arena);
    return true;
}

/*
 * lower -> levels -> params -> scales -> verify for one packing, into plan.
 * Errors go to diag, or only to `why` when diag is NULL (auto trying both).
 */
static bool
plan_circuit(hnn_plan *plan, hnn_hir_packing packing, bool fewer_keys, uint32_t in_slots, const hnn_plan_options *opt,
             hnn_arena *arena, hnn_diag *diag, char *why, size_t why_len)
{
    const hnn_model *model = plan->model;
    const hnn_hints *hints = &model->hints;
    plan->hir = packing == HNN_HIR_PACK_VECTOR ? hnn_plan_lower_vector(plan->tir, fewer_keys, in_slots, arena)
                                               : hnn_plan_lower(plan->tir, packing, arena);
    uint32_t period = hnn_hir_slots_used(plan->hir);
    plan->scale_bits = hints->set[HNN_HINT_SCALE] ? (uint32_t)lround(hints->scale_log2) : 40;
    hnn_param_request req = {
        .scale_bits = plan->scale_bits,
        .output_bound = output_bound(plan->tir),
        .precision_bits = hints->precision_bits ? hints->precision_bits : 12,
        .min_slots = packing == HNN_HIR_PACK_VECTOR ? period : (hints->batch ? hints->batch : 1),
        .needs_relin = true,
        .security = hints->security ? hints->security : 128,
        .pin_log_n = 0,
        .pin_levels = hints->levels,
        .pin_scale_bits = hints->set[HNN_HINT_SCALE] ? plan->scale_bits : 0,
        .key_memory_mb = hints->key_memory_mb,
    };
    if (hints->ring_dim) {
        unsigned log_n = 0;
        while ((1u << log_n) < hints->ring_dim)
            log_n++;
        req.pin_log_n = log_n;
    }
    bool chosen = false;
    if (hints->refresh == HNN_REFRESH_CLIENT) {
        if (!place_refreshes(plan, packing, &req, arena, diag, why, why_len))
            return false;
        chosen = true;
    }
    /* After the refreshes: a REFRESH takes 2-part values, which keeps the
     * linear rewrite from relinearising across a refreshed boundary. The
     * rewrite weighs its costs at the ring chosen so far, else at 2^14 (the
     * choice does not hinge on the ring: key switching dominates at any). */
    hnn_plan_lazy_relin(&plan->hir, chosen ? plan->params.spec.log_n : req.pin_log_n ? req.pin_log_n : 14, arena);
    if (dump_here(opt, "lower"))
        hnn_hir_print(dump_file(opt), plan->hir);
    plan->depth = hnn_plan_levels(&plan->hir, arena);
    if (dump_here(opt, "levels"))
        hnn_hir_print(dump_file(opt), plan->hir);
    collect_rotations(plan, arena);
    req.levels = plan->depth;
    req.n_rotation_keys = plan->n_rotation_steps + plan->conjugates;

    if (!chosen && !hnn_params_select(&req, &plan->params)) {
        snprintf(why, why_len, "%s", plan->params.why);
        if (!diag)
            return false;
        hnn_loc at = model->loc;
        for (int k = 0; k < HNN_HINT__COUNT; k++)
            if (hints->set[k] && (k == HNN_HINT_RING || k == HNN_HINT_LEVELS || k == HNN_HINT_SECURITY ||
                                  k == HNN_HINT_KEY_MEMORY)) {
                at = hints->loc[k];
                break;
            }
        hnn_diag_error(diag, at, "no parameter set holds this circuit: %s%s", plan->params.why,
                       hints->refresh == HNN_REFRESH_NONE ? " (or let the key holder refresh: `refresh client`)" : "");
        /* `refresh bootstrap` plans as `none` (the runtime has no server-side
         * bootstrapping), which only a circuit deeper than the ring exposes. */
        if (hints->refresh == HNN_REFRESH_BOOTSTRAP)
            hnn_diag_note(diag, hints->loc[HNN_HINT_REFRESH], "`refresh bootstrap` plans as `refresh none`: "
                          "server-side bootstrapping is not available yet; `refresh client` lets the key "
                          "holder refresh");
        if (hints->bounds == HNN_BOUNDS_SOUND && plan->uncovered_intervals)
            hnn_diag_note(diag, model->loc, "the value bounds hold for every input in the input ranges, through "
                          "every layer; when each activation's input stays in its interval, `hints { bounds "
                          "intervals; }` plans from the intervals instead");
        return false;
    }
    /* The real primes come from the runtime's own choice for the spec. */
    hnnrt_context *ctx;
    hnnrt_error err;
    if (hnnrt_context_new(&ctx, &plan->params.spec, 0, &err) != HNNRT_OK) {
        snprintf(why, why_len, "the runtime refuses the chosen parameters: %s", err.message);
        if (diag)
            hnn_diag_error(diag, model->loc, "internal error: %s", why);
        return false;
    }
    plan->n_data_primes = plan->params.spec.n_data_primes;
    plan->n_special_primes = plan->params.spec.n_special_primes;
    for (unsigned i = 0; i < plan->n_data_primes + plan->n_special_primes; i++)
        plan->primes[i] = hnnrt_context_prime(ctx, i);
    plan->slots = hnnrt_context_slots(ctx);
    hnnrt_context_free(ctx);
    plan->galois_keys_mb = (plan->n_rotation_steps + plan->conjugates) *
                           hnn_params_switching_key_bytes(&plan->params.spec) / 1048576.0;
    if (dump_here(opt, "params"))
        hnn_hir_print(dump_file(opt), plan->hir);

    /* The circuit may use fewer levels than the chain holds (a pinned level
     * count): its inputs then start at the top of the chain anyway. */
    uint32_t top = plan->n_data_primes - 1;
    if (top > plan->hir->top_level) {
        uint32_t shift = top - plan->hir->top_level;
        for (uint32_t i = 0; i < plan->hir->n_nodes; i++)
            plan->hir->nodes[i].level += shift;
        plan->hir->top_level = top;
    }
    plan->level_scale = hnn_arena_array(arena, top + 1, sizeof *plan->level_scale);
    hnn_plan_scales(plan->hir, plan->primes, plan->scale_bits, plan->level_scale);
    /* A plaintext added to a value is encoded at the value's scale. */
    for (uint32_t i = 0; i < plan->hir->n_nodes; i++)
        if (plan->hir->nodes[i].op == HNN_HIR_ADD_PT)
            plan->hir->nodes[i].c_scale = plan->hir->nodes[i].scale;
    plan->refresh_hiding_bits = hnn_plan_refresh_masks(plan, req.precision_bits);
    if (dump_here(opt, "scales"))
        hnn_hir_print(dump_file(opt), plan->hir);

    if (!hnn_hir_verify(plan->hir, plan->primes, why, why_len)) {
        if (diag)
            hnn_diag_error(diag, model->loc, "internal error: HE IR invalid after planning: %s", why);
        return false;
    }
    if (dump_here(opt, "verify"))
        hnn_hir_print(dump_file(opt), plan->hir);
    plan->batch = packing == HNN_HIR_PACK_VECTOR ? 1 : hints->batch ? hints->batch : (uint32_t)plan->slots;
    plan->ciphertexts_in = hnn_hir_input_ciphertexts(plan->hir);
    plan->ciphertexts_out = hnn_hir_distinct(plan->hir->outputs, plan->hir->n_outputs);
    return true;
}

/*
 * plan_circuit for a packing. In vector packing the client's layout of the
 * input may spread over every slot of the ring, which parameter selection
 * chooses after lowering: the circuit is planned without a client layout
 * first, then with the ring's slots, and the second plan is kept when it
 * holds in the same ring (the lowering takes the layout only where its cost
 * model finds it cheaper; the depth does not change, the rotation keys may).
 */
static bool
plan_packing(hnn_plan *plan, hnn_hir_packing packing, bool fewer_keys, const hnn_plan_options *opt,
             hnn_arena *arena, hnn_diag *diag, char *why, size_t why_len)
{
    uint32_t in_slots = 0;
    hnn_plan first = *plan, wide = *plan;
    if (packing == HNN_HIR_PACK_VECTOR && plan->client_layout &&
        plan_circuit(&first, packing, fewer_keys, 0, NULL, arena, NULL, why, why_len) &&
        plan_circuit(&wide, packing, fewer_keys, (uint32_t)first.slots, NULL, arena, NULL, why, why_len) &&
        wide.slots == first.slots)
        in_slots = (uint32_t)first.slots;
    return plan_circuit(plan, packing, fewer_keys, in_slots, opt, arena, diag, why, why_len);
}


double
hnn_plan_node_ns(const hnn_plan *plan, const hnn_hir_node *n)
{
    hnn_cost_op cls[2];
    double count[2], ns = 0;
    for (unsigned k = hnn_hir_node_work(n, cls, count); k-- > 0;)
        ns += count[k] * hnn_cost_spec_ns(hnn_cost_default(), cls[k], &plan->params.spec, hnn_hir_cost_level(n));
    return ns;
}

double
hnn_plan_estimate_ms(const hnn_plan *plan, uint64_t samples)
{
    const hnn_hir *h = plan->hir;
    double eval = 0;
    for (uint32_t i = 0; i < h->n_nodes; i++)
        eval += hnn_plan_node_ns(plan, &h->nodes[i]);
    uint64_t per = h->packing == HNN_HIR_PACK_BATCH ? (plan->slots ? plan->slots : 1) : 1;
    uint64_t evaluations = (samples + per - 1) / per;
    return (double)evaluations * eval / 1e6;
}

/*
 * `degree auto` against the whole plan: the tensor IR fits each automatic
 * activation for the precision target on its own; when the plan's estimate
 * still misses the target and an automatic activation dominates, its
 * degree rises to the smallest that meets its share of the target once the
 * error's growth to the output (the estimate's gain) is counted, and the
 * circuit is planned again (a few rounds at most; each may deepen the chain).
 */
static void
raise_auto_degrees(hnn_plan *plan, hnn_hir_packing packing, bool fewer_keys, hnn_arena *arena)
{
    const hnn_hints *hints = &plan->model->hints;
    if (!hints->precision_bits)
        return;
    double target = ldexp(1.0, -(int)hints->precision_bits);
    char why[512];
    for (int round = 0; round < 4 && plan->precision->max_abs_error > target; round++) {
        const hnn_precision_result *r = plan->precision;
        hnn_tir_node *p = (hnn_tir_node *)r->dominant_poly;
        if (r->dominant != HNN_PRECISION_APPROX || !p || !p->u.poly.auto_degree || !(r->dominant_poly_gain > 0))
            return;
        double share = target - (r->max_abs_error - r->dominant_poly_error);
        if (share <= 0)
            return;
        hnn_cheb fit = hnn_approx_fit_auto(arena, p->u.poly.source, share / r->dominant_poly_gain,
                                           HNN_TIR_AUTO_MAX_DEGREE, p->u.poly.cheb.lo, p->u.poly.cheb.hi);
        if (fit.degree <= p->u.poly.cheb.degree)
            return;
        hnn_plan trial = *plan;
        hnn_cheb old = p->u.poly.cheb;
        p->u.poly.cheb = fit;
        hnn_tir_compute_ranges(plan->tir);
        hnn_precision_result *est = hnn_arena_alloc(arena, sizeof *est);
        if (!plan_packing(&trial, packing, fewer_keys, NULL, arena, NULL, why, sizeof why) ||
            !(trial.precision = est, hnn_precision_estimate(&trial, est))) {
            p->u.poly.cheb = old; /* no parameter set holds the deeper plan: keep the first */
            hnn_tir_compute_ranges(plan->tir);
            return;
        }
        *plan = trial;
    }
}

hnn_plan *
hnn_plan_build(const hnn_model *model, const hnn_plan_options *opt, hnn_arena *arena, hnn_diag *diag)
{
    hnn_plan *plan = hnn_arena_alloc(arena, sizeof *plan);
    plan->model = model;
    plan->client_layout = !(opt && opt->no_client_layout);
    if (!model->has_values) {
        hnn_diag_error(diag, model->weights_loc,
                       "the model has no weight values (weights none): train it first, then compile");
        return NULL;
    }

    plan->tir = hnn_tir_build(model, arena, diag);
    if (!plan->tir || !check_tir(opt, plan->tir, "tir-build", diag, model))
        return NULL;
    if (dump_here(opt, "tir-build"))
        hnn_tir_print(dump_file(opt), plan->tir);
    hnn_tir_simplify(plan->tir, arena);
    hnn_tir_fold_poly_factors(plan->tir, arena);
    if (!check_tir(opt, plan->tir, "tir-simplify", diag, model))
        return NULL;
    /* Activation intervals against the bounds sharpened by merging; with
     * `bounds intervals` the plan then takes them at their word (tir.h). */
    bool assume = model->hints.bounds == HNN_BOUNDS_INTERVALS;
    plan->uncovered_intervals = hnn_tir_check_intervals(plan->tir, assume, diag);
    if (assume)
        hnn_tir_assume_intervals(plan->tir);
    if (dump_here(opt, "tir-simplify"))
        hnn_tir_print(dump_file(opt), plan->tir);

    const hnn_hints *hints = &model->hints;
    hnn_hir_packing packing = hints->packing == HNN_PACKING_VECTOR ? HNN_HIR_PACK_VECTOR : HNN_HIR_PACK_BATCH;
    char why[512];
    if (hints->packing == HNN_PACKING_AUTO) {
        /* Both packings planned quietly; the cheaper for the requested batch
         * is planned for real. Without a batch hint the sample count is
         * free: the comparison is per sample at a full batch (throughput). */
        hnn_plan b = *plan, v = *plan;
        bool ok_b = plan_packing(&b, HNN_HIR_PACK_BATCH, false, NULL, arena, NULL, why, sizeof why);
        bool ok_v = plan_packing(&v, HNN_HIR_PACK_VECTOR, false, NULL, arena, NULL, why, sizeof why);
        if (!ok_v && hints->key_memory_mb)
            ok_v = plan_packing(&v, HNN_HIR_PACK_VECTOR, true, NULL, arena, NULL, why, sizeof why);
        uint64_t samples = hints->batch ? hints->batch : ok_b ? b.slots : 1;
        if (ok_v && (!ok_b || hnn_plan_estimate_ms(&v, samples) < hnn_plan_estimate_ms(&b, samples)))
            packing = HNN_HIR_PACK_VECTOR;
    }
    bool fewer_keys = false;
    if (packing == HNN_HIR_PACK_VECTOR && hints->key_memory_mb) {
        /* Under a key-memory cap, a split for fewer keys when the fastest does not fit. */
        hnn_plan trial = *plan;
        fewer_keys = !plan_packing(&trial, packing, false, NULL, arena, NULL, why, sizeof why);
    }
    if (!plan_packing(plan, packing, fewer_keys, opt, arena, diag, why, sizeof why))
        return NULL;
    plan->precision = hnn_arena_alloc(arena, sizeof *plan->precision);
    if (!hnn_precision_estimate(plan, plan->precision)) {
        hnn_diag_error(diag, model->loc, "internal error: out of memory estimating precision");
        return NULL;
    }
    raise_auto_degrees(plan, packing, fewer_keys, arena);
    if (!(opt && opt->no_precision_check) && !hnn_precision_check(plan, plan->precision, diag))
        return NULL;
    return plan;
}
