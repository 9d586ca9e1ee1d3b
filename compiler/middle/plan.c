#include <math.h>
#include <string.h>

#include "hnnrt.h"
#include "middle/plan.h"

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

hnn_plan *
hnn_plan_build(const hnn_model *model, const hnn_plan_options *opt, hnn_arena *arena, hnn_diag *diag)
{
    hnn_plan *plan = hnn_arena_alloc(arena, sizeof *plan);
    plan->model = model;
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
    if (!check_tir(opt, plan->tir, "tir-simplify", diag, model))
        return NULL;
    /* Activation intervals against the bounds sharpened by merging. */
    hnn_tir_check_intervals(plan->tir, diag);
    if (dump_here(opt, "tir-simplify"))
        hnn_tir_print(dump_file(opt), plan->tir);

    const hnn_hints *hints = &model->hints;
    if (hints->packing == HNN_PACKING_VECTOR) {
        hnn_diag_error(diag, hints->loc[HNN_HINT_PACKING],
                       "vector packing is not planned yet; use `packing batch` (or auto)");
        return NULL;
    }
    plan->hir = hnn_plan_lower(plan->tir, HNN_HIR_PACK_BATCH, arena);
    if (dump_here(opt, "lower"))
        hnn_hir_print(dump_file(opt), plan->hir);
    plan->depth = hnn_plan_levels(&plan->hir, arena);
    if (dump_here(opt, "levels"))
        hnn_hir_print(dump_file(opt), plan->hir);

    plan->scale_bits = hints->set[HNN_HINT_SCALE] ? (uint32_t)lround(hints->scale_log2) : 40;
    hnn_param_request req = {
        .levels = plan->depth,
        .scale_bits = plan->scale_bits,
        .output_bound = output_bound(plan->tir),
        .precision_bits = hints->precision_bits ? hints->precision_bits : 12,
        .min_slots = hints->batch ? hints->batch : 1,
        .n_rotation_keys = 0,
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
    if (!hnn_params_select(&req, &plan->params)) {
        hnn_loc at = model->loc;
        for (int k = 0; k < HNN_HINT__COUNT; k++)
            if (hints->set[k] && (k == HNN_HINT_RING || k == HNN_HINT_LEVELS || k == HNN_HINT_SECURITY)) {
                at = hints->loc[k];
                break;
            }
        hnn_diag_error(diag, at, "no parameter set holds this circuit: %s", plan->params.why);
        return NULL;
    }
    /* The real primes come from the runtime's own choice for the spec. */
    hnnrt_context *ctx;
    hnnrt_error err;
    if (hnnrt_context_new(&ctx, &plan->params.spec, 0, &err) != HNNRT_OK) {
        hnn_diag_error(diag, model->loc, "internal error: the runtime refuses the chosen parameters: %s",
                       err.message);
        return NULL;
    }
    plan->n_data_primes = plan->params.spec.n_data_primes;
    plan->n_special_primes = plan->params.spec.n_special_primes;
    for (unsigned i = 0; i < plan->n_data_primes + plan->n_special_primes; i++)
        plan->primes[i] = hnnrt_context_prime(ctx, i);
    plan->slots = hnnrt_context_slots(ctx);
    hnnrt_context_free(ctx);
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
    if (dump_here(opt, "scales"))
        hnn_hir_print(dump_file(opt), plan->hir);

    char why[256];
    if (!hnn_hir_verify(plan->hir, plan->primes, why, sizeof why)) {
        hnn_diag_error(diag, model->loc, "internal error: HE IR invalid after planning: %s", why);
        return NULL;
    }
    if (dump_here(opt, "verify"))
        hnn_hir_print(dump_file(opt), plan->hir);
    plan->batch = hints->batch ? hints->batch : (uint32_t)plan->slots;
    return plan;
}
