#include <math.h>
#include <string.h>

#include <jansson.h>

#include "middle/precision.h"
#include "middle/report.h"

static const char *
tir_kind_name(const hnn_tir_node *n)
{
    switch (n->kind) {
    case HNN_TIR_INPUT:
        return "input";
    case HNN_TIR_AFFINE:
        return "affine";
    case HNN_TIR_POLY:
        return hnn_op_name(n->u.poly.source);
    case HNN_TIR_ADD:
        return "add";
    case HNN_TIR_SOFTARGMAX:
        return "softargmax";
    }
    return "?";
}

void
hnn_report_build(hnn_report *r, const hnn_plan *plan, hnn_arena *arena)
{
    memset(r, 0, sizeof *r);
    r->plan = plan;
    const hnn_tir *tir = plan->tir;
    const hnn_hir *h = plan->hir;
    r->layers = hnn_arena_array(arena, tir->n_nodes, sizeof *r->layers);
    /* Map tensor-IR nodes to report rows (the input has none). */
    uint32_t *row = hnn_arena_array(arena, tir->n_nodes, sizeof *row);
    for (uint32_t i = 0; i < tir->n_nodes; i++) {
        const hnn_tir_node *n = tir->nodes[i];
        row[i] = UINT32_MAX;
        if (n->kind == HNN_TIR_INPUT)
            continue;
        hnn_report_layer *l = &r->layers[r->n_layers];
        row[i] = r->n_layers++;
        l->name = n->name;
        l->kind = tir_kind_name(n);
        l->size = n->size;
        l->level_in = UINT32_MAX;
        l->level_out = 0;
    }
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        const hnn_hir_node *n = &h->nodes[i];
        double ms = hnn_plan_node_ns(plan, n) / 1e6;
        uint64_t terms = n->op == HNN_HIR_LINEAR ? n->n_args : 0;
        r->ops[n->op]++;
        r->linear_terms += terms;
        r->est_ms += ms;
        if (n->tir >= tir->n_nodes || row[n->tir] == UINT32_MAX)
            continue;
        hnn_report_layer *l = &r->layers[row[n->tir]];
        l->ops[n->op]++;
        l->linear_terms += terms;
        l->est_ms += ms;
        uint32_t in_level = hnn_hir_op_operands(n->op) ? h->nodes[n->a].level : n->level;
        if (l->level_in == UINT32_MAX || in_level > l->level_in)
            l->level_in = in_level;
    }
    /* A layer's output level: the level of its values (the last node of the layer). */
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        const hnn_hir_node *n = &h->nodes[i];
        if (n->tir < tir->n_nodes && row[n->tir] != UINT32_MAX)
            r->layers[row[n->tir]].level_out = n->level;
    }
    const hnnrt_params_spec *s = &plan->params.spec;
    double n = ldexp(1.0, (int)s->log_n);
    r->relin_key_mb = hnn_params_switching_key_bytes(s) / 1048576.0;
    r->galois_keys_mb = plan->galois_keys_mb;
    r->ciphertexts_in = plan->ciphertexts_in;
    r->ciphertexts_out = plan->ciphertexts_out;
    r->ciphertext_mb = 2.0 * (double)s->n_data_primes * n * 8 / 1048576.0;
}

static const char *
security_text(const hnn_plan *p)
{
    switch (p->params.spec.security) {
    case HNNRT_SECURITY_192:
        return "192-bit";
    case HNNRT_SECURITY_256:
        return "256-bit";
    default:
        return "128-bit";
    }
}

void
hnn_report_print_text(FILE *out, const hnn_report *r)
{
    const hnn_plan *p = r->plan;
    const hnnrt_params_spec *s = &p->params.spec;
    fprintf(out, "model %s — %s packing, %u levels consumed\n", p->model->name,
            p->hir->packing == HNN_HIR_PACK_BATCH ? "batch" : "vector", p->depth);
    fprintf(out, "parameters: N = 2^%u (%zu slots), q0 %u bits, %u x %u-bit scale primes, special", s->log_n,
            p->slots, s->data_bits[0], s->n_data_primes - 1, s->n_data_primes > 1 ? s->data_bits[1] : 0);
    for (unsigned k = 0; k < s->n_special_primes; k++)
        fprintf(out, " %u", s->special_bits[k]);
    fprintf(out, " bits, dnum %u\n", s->dnum ? s->dnum : 0);
    fprintf(out, "security: %s (HE Standard): log2(QP) = %u <= %u\n", security_text(p), p->params.log_qp_bits,
            p->params.max_log_qp);
    fprintf(out, "keys: relinearisation %.1f MB; ", r->relin_key_mb);
    if (p->n_rotation_steps + p->conjugates == 0) {
        fputs("rotation keys none", out);
    } else {
        fprintf(out, "%u rotation keys, %.1f MB (steps", p->n_rotation_steps + p->conjugates, r->galois_keys_mb);
        for (uint32_t k = 0; k < p->n_rotation_steps; k++)
            fprintf(out, " %d", p->rotation_steps[k]);
        fprintf(out, "%s)", p->conjugates ? ", conjugation" : "");
    }
    fprintf(out, "\nciphertexts: in %u, out %u per evaluation (%.2f MB each at the top level)\n", r->ciphertexts_in,
            r->ciphertexts_out, r->ciphertext_mb);
    if (p->hir->in_layout)
        fprintf(out, "input: laid out by the client for the first layer, %u ciphertext%s of %u slots\n",
                p->hir->in_cts, p->hir->in_cts == 1 ? "" : "s", p->hir->in_period);
    fprintf(out, "\n%-16s %-10s %6s %7s %7s %9s %7s %7s %7s %7s %8s %7s %10s\n", "layer", "kind", "size", "levels",
            "mul_pt", "mul_const", "linear", "terms", "mul_ct", "rotate", "rescale", "add", "est. ms");
    for (uint32_t i = 0; i < r->n_layers; i++) {
        const hnn_report_layer *l = &r->layers[i];
        if (strcmp(l->kind, "softargmax") == 0)
            continue; /* the key holder's, after decryption */
        char levels[32];
        snprintf(levels, sizeof levels, "%u->%u", l->level_in == UINT32_MAX ? 0 : l->level_in, l->level_out);
        fprintf(out, "%-16s %-10s %6u %7s %7llu %9llu %7llu %7llu %7llu %7llu %8llu %7llu %10.2f\n", l->name, l->kind,
                l->size, levels, (unsigned long long)l->ops[HNN_HIR_MUL_PT],
                (unsigned long long)l->ops[HNN_HIR_MUL_CONST], (unsigned long long)l->ops[HNN_HIR_LINEAR],
                (unsigned long long)l->linear_terms, (unsigned long long)l->ops[HNN_HIR_MUL_CT],
                (unsigned long long)l->ops[HNN_HIR_ROTATE],
                (unsigned long long)l->ops[HNN_HIR_RESCALE],
                (unsigned long long)(l->ops[HNN_HIR_ADD] + l->ops[HNN_HIR_SUB] + l->ops[HNN_HIR_ADD_CONST] +
                                     l->ops[HNN_HIR_ADD_PT]),
                l->est_ms);
    }
    fprintf(out, "\ntotal: %u HE operations, estimated %.1f ms per evaluation", p->hir->n_nodes, r->est_ms);
    if (p->hir->packing == HNN_HIR_PACK_VECTOR)
        fprintf(out, " of one sample");
    else
        fprintf(out, " for up to %zu samples (%.3f ms per sample at a full batch)", p->slots,
                r->est_ms / (double)p->slots);
    fputc('\n', out);
    if (p->precision) {
        const hnn_precision_result *pr = p->precision;
        fprintf(out, "precision: estimated %.1f bits at the output (max abs error %.2g; CKKS noise %.1f bits, "
                     "approximation %.1f bits; dominant: %s)\n",
                pr->precision_bits, pr->max_abs_error, -log2(pr->ckks_error),
                pr->approx_error > 0 ? -log2(pr->approx_error) : INFINITY, hnn_precision_source_name(pr->dominant));
    }
    if (p->n_refresh_points) {
        uint32_t trips = hnn_hir_refresh_points(p->hir, NULL, NULL, NULL);
        fprintf(out, "refresh: the key holder refreshes %llu ciphertexts per evaluation in %u round trip%s, after",
                (unsigned long long)p->refresh_ciphertexts, trips, trips == 1 ? "" : "s");
        for (uint32_t k = 0; k < p->n_refresh_points; k++)
            fprintf(out, "%s %s", k ? "," : "", p->tir->nodes[p->refresh_points[k]]->name);
        fprintf(out, " (masks hide each slot to within 2^-%u)\n", p->refresh_hiding_bits);
    }
    if (p->tir->output->kind == HNN_TIR_SOFTARGMAX)
        fprintf(out, "output: logits; softargmax (T = %g) is applied by the key holder after decryption\n",
                p->tir->output->u.softargmax.temperature);
}

int
hnn_report_print_json(FILE *out, const hnn_report *r)
{
    const hnn_plan *p = r->plan;
    const hnnrt_params_spec *s = &p->params.spec;
    json_t *root = json_object();
    json_object_set_new(root, "schema", json_string("hnnc-report"));
    json_object_set_new(root, "version", json_integer(HNN_REPORT_SCHEMA_VERSION));
    json_object_set_new(root, "model", json_string(p->model->name));
    json_object_set_new(root, "packing", json_string(p->hir->packing == HNN_HIR_PACK_BATCH ? "batch" : "vector"));
    json_object_set_new(root, "depth", json_integer(p->depth));

    json_t *params = json_object();
    json_object_set_new(params, "log_n", json_integer(s->log_n));
    json_object_set_new(params, "slots", json_integer((json_int_t)p->slots));
    json_t *data = json_array(), *special = json_array(), *primes = json_array();
    for (unsigned i = 0; i < s->n_data_primes; i++)
        json_array_append_new(data, json_integer(s->data_bits[i]));
    for (unsigned i = 0; i < s->n_special_primes; i++)
        json_array_append_new(special, json_integer(s->special_bits[i]));
    for (unsigned i = 0; i < s->n_data_primes + s->n_special_primes; i++) {
        char hex[32];
        snprintf(hex, sizeof hex, "0x%llx", (unsigned long long)p->primes[i]);
        json_array_append_new(primes, json_string(hex));
    }
    json_object_set_new(params, "data_prime_bits", data);
    json_object_set_new(params, "special_prime_bits", special);
    json_object_set_new(params, "primes", primes);
    json_object_set_new(params, "dnum", json_integer(s->dnum));
    json_object_set_new(params, "scale_bits", json_integer(p->scale_bits));
    json_object_set_new(params, "log_qp_bits", json_integer(p->params.log_qp_bits));
    json_object_set_new(params, "max_log_qp_bits", json_integer(p->params.max_log_qp));
    json_object_set_new(params, "security_bits", json_integer(s->security ? s->security : 128));
    json_object_set_new(root, "parameters", params);

    json_t *ops = json_object();
    for (int k = 0; k < HNN_HIR__COUNT; k++)
        if (r->ops[k])
            json_object_set_new(ops, hnn_hir_op_name((hnn_hir_op)k), json_integer((json_int_t)r->ops[k]));
    json_object_set_new(root, "ops", ops);
    json_object_set_new(root, "linear_terms", json_integer((json_int_t)r->linear_terms));

    json_t *layers = json_array();
    for (uint32_t i = 0; i < r->n_layers; i++) {
        const hnn_report_layer *l = &r->layers[i];
        json_t *o = json_object(), *lops = json_object();
        json_object_set_new(o, "name", json_string(l->name));
        json_object_set_new(o, "kind", json_string(l->kind));
        json_object_set_new(o, "size", json_integer(l->size));
        json_object_set_new(o, "level_in", json_integer(l->level_in == UINT32_MAX ? 0 : l->level_in));
        json_object_set_new(o, "level_out", json_integer(l->level_out));
        for (int k = 0; k < HNN_HIR__COUNT; k++)
            if (l->ops[k])
                json_object_set_new(lops, hnn_hir_op_name((hnn_hir_op)k), json_integer((json_int_t)l->ops[k]));
        json_object_set_new(o, "ops", lops);
        json_object_set_new(o, "linear_terms", json_integer((json_int_t)l->linear_terms));
        json_object_set_new(o, "estimated_ms", json_real(l->est_ms));
        json_array_append_new(layers, o);
    }
    json_object_set_new(root, "layers", layers);

    json_t *keys = json_object();
    json_object_set_new(keys, "relin_mb", json_real(r->relin_key_mb));
    json_object_set_new(keys, "galois_keys", json_integer(p->n_rotation_steps + p->conjugates));
    json_t *steps = json_array();
    for (uint32_t k = 0; k < p->n_rotation_steps; k++)
        json_array_append_new(steps, json_integer(p->rotation_steps[k]));
    json_object_set_new(keys, "rotation_steps", steps);
    json_object_set_new(keys, "conjugation", json_boolean(p->conjugates));
    json_object_set_new(keys, "galois_mb", json_real(r->galois_keys_mb));
    json_object_set_new(root, "keys", keys);

    json_t *io = json_object();
    json_object_set_new(io, "ciphertexts_in", json_integer(r->ciphertexts_in));
    json_object_set_new(io, "ciphertexts_out", json_integer(r->ciphertexts_out));
    json_object_set_new(io, "ciphertext_mb", json_real(r->ciphertext_mb));
    json_object_set_new(root, "io", io);

    json_t *est = json_object();
    json_object_set_new(est, "latency_ms", json_real(r->est_ms));
    json_object_set_new(est, "samples_per_evaluation",
                        json_integer(p->hir->packing == HNN_HIR_PACK_BATCH ? (json_int_t)p->slots : 1));
    json_object_set_new(est, "cost_table", json_string(hnn_cost_default()->source));
    json_object_set_new(root, "estimate", est);
    if (p->precision) {
        const hnn_precision_result *pr = p->precision;
        json_t *prec = json_object();
        json_object_set_new(prec, "bits", json_real(pr->precision_bits));
        json_object_set_new(prec, "max_abs_error", json_real(pr->max_abs_error));
        json_object_set_new(prec, "ckks_bits", json_real(-log2(pr->ckks_error)));
        json_object_set_new(prec, "ckks_bound_bits", json_real(-log2(pr->ckks_bound)));
        json_object_set_new(prec, "approximation_bits",
                            pr->approx_error > 0 ? json_real(-log2(pr->approx_error)) : json_null());
        json_object_set_new(prec, "dominant", json_string(hnn_precision_source_name(pr->dominant)));
        json_object_set_new(root, "precision", prec);
    }
    json_t *refresh = json_object(), *points = json_array();
    for (uint32_t k = 0; k < p->n_refresh_points; k++)
        json_array_append_new(points, json_string(p->tir->nodes[p->refresh_points[k]]->name));
    json_object_set_new(refresh, "points", points);
    json_object_set_new(refresh, "ciphertexts", json_integer((json_int_t)p->refresh_ciphertexts));
    json_object_set_new(refresh, "round_trips", json_integer(hnn_hir_refresh_points(p->hir, NULL, NULL, NULL)));
    json_object_set_new(refresh, "mask_hiding_bits", json_integer(p->n_refresh_points ? p->refresh_hiding_bits : 0));
    json_object_set_new(root, "refresh", refresh);
    if (p->tir->output->kind == HNN_TIR_SOFTARGMAX) {
        json_t *post = json_object();
        json_object_set_new(post, "softargmax_temperature", json_real(p->tir->output->u.softargmax.temperature));
        json_object_set_new(root, "client_postprocess", post);
    }
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', out);
    json_decref(root);
    return rc;
}
