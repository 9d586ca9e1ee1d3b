/*
 * Semantic analysis, top level: statements in order, names, the output, unused
 * layers, and the model-wide checks. Layer rules are in sema_layer.c, hints and
 * training in sema_settings.c, argument handling in sema_args.c.
 */
#include "front/sema.h"

#include <stdlib.h>
#include <string.h>

#include "front/sema_internal.h"

/* ---------------------------------------------------------------- names */

static uint64_t
hnn_sema_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static hnn_sema_name *
hnn_sema_slot(hnn_sema *s, const char *name)
{
    size_t mask = s->names_cap - 1;
    size_t i = (size_t)hnn_sema_hash(name) & mask;
    while (s->names[i].name && strcmp(s->names[i].name, name) != 0)
        i = (i + 1) & mask;
    return &s->names[i];
}

/* Explicit names are declared up front so that a forward use can say where the
 * name is defined. */
static void
hnn_sema_declare(hnn_sema *s, const hnn_ast_stmt *stmt)
{
    hnn_sema_name *slot = hnn_sema_slot(s, stmt->name);
    if (!slot->name) {
        slot->name = stmt->name;
        slot->decl = stmt;
    }
}

void
hnn_sema_define(hnn_sema *s, hnn_layer *layer)
{
    hnn_sema_name *slot = hnn_sema_slot(s, layer->name);
    if (slot->layer) {
        hnn_layer *prev = slot->layer;
        if (layer->implicit_name || prev->implicit_name)
            hnn_diag_error(s->diag, layer->name_loc, "the name '%s' is used twice (an unnamed %s "
                           "layer is called %s)", layer->name,
                           hnn_op_name(layer->implicit_name ? layer->op : prev->op), layer->name);
        else
            hnn_diag_error(s->diag, layer->name_loc, "redefinition of '%s'", layer->name);
        hnn_diag_note(s->diag, prev->name_loc, "'%s' was first defined here", layer->name);
        return;
    }
    slot->name = layer->name;
    slot->layer = layer;
}

hnn_layer *
hnn_sema_lookup(hnn_sema *s, const hnn_ast_value *ref)
{
    hnn_sema_name *slot = hnn_sema_slot(s, ref->u.name);
    if (slot->layer)
        return slot->layer;
    if (slot->decl) {
        hnn_diag_error(s->diag, ref->loc, "'%s' is used before it is defined", ref->u.name);
        hnn_diag_note(s->diag, slot->decl->name_loc, "'%s' is defined here; layers may only use "
                      "layers defined above them", ref->u.name);
        return NULL;
    }
    hnn_diag_suggest sg;
    hnn_diag_suggest_init(&sg, ref->u.name);
    for (uint32_t i = 0; i < s->model->n_layers; i++)
        hnn_diag_suggest_offer(&sg, s->model->layers[i]->name);
    const char *best = hnn_diag_suggest_result(&sg);
    if (best)
        hnn_diag_error(s->diag, ref->loc, "'%s' is not defined; did you mean '%s'?", ref->u.name, best);
    else
        hnn_diag_error(s->diag, ref->loc, "'%s' is not defined", ref->u.name);
    return NULL;
}

/* ---------------------------------------------------------------- statements */

static const hnn_ast_stmt *
hnn_sema_once(hnn_sema *s, const hnn_ast_stmt **seen, const hnn_ast_stmt *stmt, const char *what)
{
    if (*seen) {
        hnn_diag_error(s->diag, stmt->keyword_loc, "a model has only one %s", what);
        hnn_diag_note(s->diag, (*seen)->keyword_loc, "the first one is here");
        return NULL;
    }
    *seen = stmt;
    return stmt;
}

static void
hnn_sema_weights(hnn_sema *s, const hnn_ast_stmt *stmt)
{
    hnn_model *m = s->model;
    const hnn_ast_value *v = stmt->value;
    m->weights_loc = v->loc;
    if (v->kind == HNN_AST_NAME && strcmp(v->u.name, "none") == 0) {
        m->weights = HNN_WEIGHTS_NONE;
        return;
    }
    if (v->kind != HNN_AST_STRING || v->u.string[0] == '\0') {
        hnn_diag_error(s->diag, v->loc, "weights must be a file name in quotes (\"model.weights.json\") "
                       "or 'none'; got %s", v->kind == HNN_AST_STRING ? "an empty string"
                                                                       : hnn_sema_describe(s, v));
        return;
    }
    m->weights = HNN_WEIGHTS_FILE;
    const char *dir = s->opt->model_dir ? s->opt->model_dir : "";
    if (v->u.string[0] == '/' || dir[0] == '\0')
        m->weights_path = v->u.string;
    else
        m->weights_path = hnn_arena_printf(s->arena, "%s/%s", dir, v->u.string);
}

static void
hnn_sema_output(hnn_sema *s, const hnn_ast_stmt *stmt)
{
    hnn_model *m = s->model;
    const hnn_ast_value *v = stmt->value;
    m->output_loc = stmt->loc;
    if (v->kind == HNN_AST_CALL) {
        hnn_sema_layer(s, stmt, v, NULL, v->u.call.callee_loc);
        m->output = s->last;
    } else if (v->kind == HNN_AST_NAME) {
        m->output = hnn_sema_lookup(s, v);
    } else {
        hnn_diag_error(s->diag, v->loc, "output must name a layer or be a layer (output "
                       "softargmax(out, T 1)); got %s", hnn_sema_describe(s, v));
    }
    if (m->output)
        m->output->uses++;
}

/* Layers the output does not depend on are dead weight in an HE circuit. */
static void
hnn_sema_unused(hnn_sema *s)
{
    hnn_model *m = s->model;
    if (!m->output || !m->n_layers)
        return;
    bool *live = calloc(m->n_layers, sizeof *live);
    if (!live)
        return;
    live[m->output->index] = true;
    for (uint32_t i = m->n_layers; i-- > 0;)
        if (live[i])
            for (uint32_t k = 0; k < m->layers[i]->n_in; k++)
                if (m->layers[i]->in[k])
                    live[m->layers[i]->in[k]->index] = true;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        hnn_layer *l = m->layers[i];
        if (live[i] || !l->shape.rank)
            continue; /* a broken layer has had its error already */
        if (l->op == HNN_OP_INPUT)
            hnn_diag_error(s->diag, m->output->name_loc, "the output does not depend on the input '%s'",
                           l->name);
        else if (l->uses == 0)
            hnn_diag_warning(s->diag, l->name_loc, "layer '%s' is never used", l->name);
        else
            hnn_diag_warning(s->diag, l->name_loc, "layer '%s' does not contribute to the output",
                             l->name);
    }
    free(live);
}

static uint32_t
hnn_sema_count_layers(const hnn_ast_model *ast)
{
    uint32_t n = 1;
    for (const hnn_ast_stmt *st = ast->stmts; st; st = st->next)
        n += st->kind == HNN_AST_LAYER || st->kind == HNN_AST_INPUT ||
             (st->kind == HNN_AST_OUTPUT && st->value->kind == HNN_AST_CALL);
    return n;
}

static void
hnn_sema_load_weights(hnn_sema *s)
{
    hnn_model *m = s->model;
    if (s->opt->weights_override) {
        m->weights = HNN_WEIGHTS_FILE;
        m->weights_path = s->opt->weights_override;
        m->weights_loc = (hnn_loc){0, 0, 0};
    }
    if (m->weights != HNN_WEIGHTS_FILE)
        return;
    if (s->opt->no_io) {
        m->weights = HNN_WEIGHTS_NONE;
        return;
    }
    s->weights = hnn_weights_load(m->weights_path, m->weights_loc, s->diag);
}

hnn_model *
hnn_sema_check(const hnn_ast_model *ast, const hnn_sema_options *opt, hnn_arena *arena, hnn_diag *diag)
{
    static const hnn_sema_options no_options;
    size_t errors_before = hnn_diag_error_count(diag);
    hnn_sema sema = {.arena = arena, .diag = diag, .opt = opt ? opt : &no_options};
    hnn_sema *s = &sema;
    hnn_model *m = hnn_arena_alloc(arena, sizeof *m);
    s->model = m;
    m->name = ast->name;
    m->loc = ast->loc;
    m->name_loc = ast->name_loc;
    m->weights = HNN_WEIGHTS_INLINE;
    m->hints.security = 128;
    s->layers_cap = hnn_sema_count_layers(ast);
    m->layers = hnn_arena_array(arena, s->layers_cap, sizeof *m->layers);
    s->names_cap = 16;
    while (s->names_cap < 2 * (size_t)s->layers_cap + 16)
        s->names_cap *= 2;
    s->names = calloc(s->names_cap, sizeof *s->names);
    if (!s->names)
        return NULL;

    /* Model-wide statements first: layers need the weights file. */
    const hnn_ast_stmt *input = NULL, *weights = NULL, *output = NULL, *hints = NULL, *train = NULL;
    for (const hnn_ast_stmt *st = ast->stmts; st; st = st->next) {
        switch (st->kind) {
        case HNN_AST_INPUT:
            if (hnn_sema_once(s, &input, st, "input") && st->name)
                hnn_sema_declare(s, st);
            break;
        case HNN_AST_WEIGHTS:
            if (hnn_sema_once(s, &weights, st, "weights statement"))
                hnn_sema_weights(s, st);
            break;
        case HNN_AST_LAYER:
            if (st->name)
                hnn_sema_declare(s, st);
            break;
        case HNN_AST_OUTPUT:
            hnn_sema_once(s, &output, st, "output");
            break;
        case HNN_AST_HINTS:
            if (hnn_sema_once(s, &hints, st, "hints block"))
                hnn_sema_hints(s, st);
            break;
        case HNN_AST_TRAIN:
            if (hnn_sema_once(s, &train, st, "train block"))
                hnn_sema_train(s, st);
            break;
        }
    }
    s->weights_stmt = weights;
    hnn_sema_load_weights(s);

    /* Then the graph, in order. */
    for (const hnn_ast_stmt *st = ast->stmts; st; st = st->next) {
        if (st->kind == HNN_AST_INPUT && st == input)
            hnn_sema_input(s, st);
        else if (st->kind == HNN_AST_LAYER)
            hnn_sema_layer(s, st, st->value, st->name, st->name ? st->name_loc : st->value->u.call.callee_loc);
        else if (st->kind == HNN_AST_OUTPUT && st == output)
            hnn_sema_output(s, st);
    }

    if (!input)
        hnn_diag_error(diag, m->name_loc, "model '%s' has no input; add one, e.g. "
                       "'input x: vector(4) range [-1, 1];'", m->name);
    if (!output)
        hnn_diag_error(diag, m->name_loc, "model '%s' has no output; add 'output NAME;' naming the "
                       "last layer", m->name);
    /* After an error the graph is incomplete: what looks unused or untaken may
     * only be the error's shadow, so these checks speak only for sound models. */
    bool clean = hnn_diag_error_count(diag) == errors_before;
    if (clean)
        hnn_sema_unused(s);
    hnn_sema_train_defaults(s);
    if (s->weights) {
        if (clean)
            hnn_weights_report_unused(s->weights, diag, m);
        hnn_weights_free(s->weights);
    }
    free(s->names);

    m->has_values = m->weights != HNN_WEIGHTS_NONE;
    for (uint32_t i = 0; i < m->n_layers; i++)
        m->n_params += m->layers[i]->n_params;
    return hnn_diag_error_count(diag) > errors_before ? NULL : m;
}
