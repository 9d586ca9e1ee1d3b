/* hnnc graph: the planned HE circuit as a graphviz drawing, nodes coloured
 * by level, refresh points marked. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "front/front.h"
#include "middle/plan.h"

static void
hnn_graph_help(FILE *out)
{
    fputs("usage: hnnc graph [options] MODEL.hnn -o circuit.dot\n\n"
          "Plans the model and writes its HE circuit in graphviz form: one node per HE\n"
          "operation, coloured by its level (blue at the top of the chain, red near the\n"
          "bottom), refresh points as double octagons, inputs and outputs as boxes.\n"
          "Render with `dot -Tsvg circuit.dot -o circuit.svg`.\n\n"
          "options:\n"
          "  -o FILE            write to FILE (default: standard output)\n"
          "  --layers           draw the tensor IR (one node per layer) instead\n"
          "  --weights FILE     read the weights from FILE instead of the model's weights file\n"
          "  -h, --help         print this help\n\n"
          "Exit status: 0 on success, 1 when the model has an error or cannot be planned,\n"
          "2 for bad usage.\n", out);
}

/* Blue (top) to red (level 0), as an HSV hue. */
static void
level_colour(char *buf, size_t len, uint32_t level, uint32_t top)
{
    double f = top ? (double)level / (double)top : 1.0;
    snprintf(buf, len, "%.3f 0.45 0.95", 0.66 * f);
}

static void
draw_hir(FILE *out, const hnn_plan *plan)
{
    const hnn_hir *h = plan->hir;
    fprintf(out, "digraph \"%s\" {\n  rankdir=TB;\n  node [style=filled, fontname=\"Helvetica\", fontsize=10];\n",
            plan->model->name);
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        const hnn_hir_node *n = &h->nodes[i];
        char colour[32];
        level_colour(colour, sizeof colour, n->level, h->top_level);
        const char *shape = n->op == HNN_HIR_INPUT ? "box" : n->op == HNN_HIR_REFRESH ? "doubleoctagon" : "ellipse";
        const char *layer = n->tir < plan->tir->n_nodes ? plan->tir->nodes[n->tir]->name : "";
        fprintf(out, "  n%u [label=\"%s\\n%s L%u\", shape=%s, fillcolor=\"%s\"];\n", i, hnn_hir_op_name(n->op), layer,
                n->level, shape, colour);
        for (unsigned k = 0; k < hnn_hir_arity(n); k++)
            fprintf(out, "  n%u -> n%u;\n", hnn_hir_arg(n, k), i);
    }
    for (uint32_t k = 0; k < h->n_outputs; k++)
        fprintf(out, "  out%u [label=\"output %u\", shape=box, fillcolor=\"white\"];\n  n%u -> out%u;\n", k, k,
                h->outputs[k], k);
    fputs("}\n", out);
}

static void
draw_tir(FILE *out, const hnn_plan *plan)
{
    const hnn_tir *t = plan->tir;
    bool *refreshed = calloc(t->n_nodes, sizeof *refreshed);
    for (uint32_t k = 0; refreshed && k < plan->n_refresh_points; k++)
        refreshed[plan->refresh_points[k]] = true;
    fprintf(out, "digraph \"%s\" {\n  rankdir=TB;\n  node [style=filled, fontname=\"Helvetica\", fontsize=10];\n",
            plan->model->name);
    for (uint32_t i = 0; i < t->n_nodes; i++) {
        const hnn_tir_node *n = t->nodes[i];
        fprintf(out, "  t%u [label=\"%s\\n%s [%u]\", shape=%s, fillcolor=\"%s\"];\n", i, n->name,
                hnn_tir_kind_name(n->kind), n->size, refreshed && refreshed[i] ? "doubleoctagon" : "box",
                refreshed && refreshed[i] ? "gold" : "lightgrey");
        for (uint32_t k = 0; k < n->n_in; k++)
            fprintf(out, "  t%u -> t%u;\n", n->in[k]->id, i);
    }
    fputs("}\n", out);
    free(refreshed);
}

static int
hnn_graph_run(int argc, char **argv)
{
    const char *file = NULL, *out_path = NULL, *weights = NULL;
    bool layers = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        bool missing = false;
        if (arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (file)
                return hnn_driver_usage_error("graph", "one model at a time ('%s' and '%s' given)", file, arg);
            file = arg;
        } else if (hnn_driver_is_help(arg)) {
            hnn_graph_help(stdout);
            return HNN_EXIT_OK;
        } else if (hnn_driver_opt(argc, argv, &i, "--layers", NULL, NULL)) {
            layers = true;
        } else if (hnn_driver_opt(argc, argv, &i, "-o", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("graph", "-o needs a file name");
            out_path = value;
        } else if (hnn_driver_opt(argc, argv, &i, "--weights", &value, &missing)) {
            if (missing || !value[0])
                return hnn_driver_usage_error("graph", "--weights needs a file name");
            weights = value;
        } else {
            return hnn_driver_usage_error("graph", "unknown option '%s'", arg);
        }
    }
    if (!file)
        return hnn_driver_usage_error("graph", "no model file given");
    hnn_driver_session ses;
    if (!hnn_driver_session_open(&ses))
        return HNN_EXIT_USER;
    int status = HNN_EXIT_USER;
    hnn_front_options fo = {.weights_path = weights};
    hnn_model *m = hnn_front_check_file(file, &fo, ses.arena, ses.diag, NULL);
    hnn_plan_options po = {.verify_each = true};
    hnn_plan *plan = m ? hnn_plan_build(m, &po, ses.arena, ses.diag) : NULL;
    if (plan) {
        FILE *out = out_path ? fopen(out_path, "w") : stdout;
        if (!out) {
            fprintf(stderr, "hnnc graph: cannot write '%s'\n", out_path);
        } else {
            if (layers)
                draw_tir(out, plan);
            else
                draw_hir(out, plan);
            status = (out != stdout ? fclose(out) : fflush(out)) == 0 ? HNN_EXIT_OK : HNN_EXIT_USER;
        }
    }
    return hnn_driver_session_close(&ses, status);
}

const hnn_driver_cmd hnn_driver_cmd_graph = {
    .name = "graph",
    .summary = "draw the planned HE circuit (graphviz), coloured by level",
    .run = hnn_graph_run,
    .help = hnn_graph_help,
};
