/* The hints block and the train block: `name values;` settings checked by table. */
#include <math.h>
#include <string.h>

#include "front/sema_internal.h"

static const char *const hnn_hint_names[HNN_HINT__COUNT] = {
    [HNN_HINT_PACKING] = "packing",       [HNN_HINT_REFRESH] = "refresh",
    [HNN_HINT_SECURITY] = "security",     [HNN_HINT_PRECISION] = "precision",
    [HNN_HINT_RING] = "ring",             [HNN_HINT_LEVELS] = "levels",
    [HNN_HINT_SCALE] = "scale",           [HNN_HINT_KEY_MEMORY] = "key_memory",
    [HNN_HINT_BATCH] = "batch",           [HNN_HINT_BOUNDS] = "bounds",
};

static const char *const hnn_train_names[HNN_TRAIN__COUNT] = {
    [HNN_TRAIN_LOSS] = "loss",       [HNN_TRAIN_OPTIMIZER] = "optimizer",
    [HNN_TRAIN_EPOCHS] = "epochs",   [HNN_TRAIN_BATCH] = "batch",
    [HNN_TRAIN_LEARN_T] = "learn_T", [HNN_TRAIN_SEED] = "seed",
};

/* Finds the setting's index; reports unknown and repeated names. */
static int
hnn_sema_setting_index(hnn_sema *s, const hnn_ast_setting *st, const char *block,
                       const char *const *names, int n, const hnn_ast_setting **seen)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], st->name) != 0)
            continue;
        if (seen[i]) {
            hnn_diag_error(s->diag, st->name_loc, "'%s' is set twice in the %s block", st->name, block);
            hnn_diag_note(s->diag, seen[i]->loc, "first set here");
            return -1;
        }
        seen[i] = st;
        return i;
    }
    hnn_diag_suggest sg;
    hnn_diag_suggest_init(&sg, st->name);
    for (int i = 0; i < n; i++)
        hnn_diag_suggest_offer(&sg, names[i]);
    const char *best = hnn_diag_suggest_result(&sg);
    if (best) {
        hnn_diag_error(s->diag, st->name_loc, "unknown %s setting '%s'; did you mean '%s'?", block,
                       st->name, best);
    } else {
        char list[256];
        size_t o = 0;
        for (int i = 0; i < n && o < sizeof list - 32; i++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", names[i]);
        hnn_diag_error(s->diag, st->name_loc, "unknown %s setting '%s' (the settings are %s)", block,
                       st->name, list);
    }
    return -1;
}

/* One value and an optional unit word from `units` (space-separated; "" for none). */
static const hnn_ast_value *
hnn_sema_setting_value(hnn_sema *s, const hnn_ast_setting *st, const char *example, const char *units,
                       const char **unit)
{
    if (!st->values) {
        hnn_diag_error(s->diag, st->name_loc, "'%s' needs a value, e.g. %s", st->name, example);
        return NULL;
    }
    const hnn_ast_value *extra = st->values->next;
    if (unit)
        *unit = NULL;
    if (extra && units[0]) {
        if (hnn_sema_choice(s, extra, hnn_arena_printf(s->arena, "unit for '%s'", st->name), units) < 0)
            return NULL;
        *unit = extra->u.name;
        extra = extra->next;
    }
    if (extra) {
        hnn_diag_error(s->diag, extra->loc, "unexpected extra value for '%s' (write it as %s)", st->name,
                       example);
        return NULL;
    }
    return st->values;
}

static void
hnn_sema_hint(hnn_sema *s, hnn_hints *h, hnn_hint which, const hnn_ast_setting *st)
{
    const char *what = hnn_arena_printf(s->arena, "'%s'", st->name);
    const char *unit;
    const hnn_ast_value *v;
    uint64_t u;
    int c;
    switch (which) {
    case HNN_HINT_PACKING:
        if (!(v = hnn_sema_setting_value(s, st, "packing vector", "", NULL)))
            return;
        if ((c = hnn_sema_choice(s, v, "packing", "auto batch vector")) < 0)
            return;
        h->packing = (hnn_packing)c;
        break;
    case HNN_HINT_REFRESH:
        if (!(v = hnn_sema_setting_value(s, st, "refresh client", "", NULL)))
            return;
        if ((c = hnn_sema_choice(s, v, "refresh", "none client bootstrap")) < 0)
            return;
        h->refresh = (hnn_refresh)c;
        break;
    case HNN_HINT_BOUNDS:
        if (!(v = hnn_sema_setting_value(s, st, "bounds intervals", "", NULL)))
            return;
        if ((c = hnn_sema_choice(s, v, "bounds", "sound intervals")) < 0)
            return;
        h->bounds = (hnn_bounds)c;
        break;
    case HNN_HINT_SECURITY:
        if (!(v = hnn_sema_setting_value(s, st, "security 128", "bits", &unit)))
            return;
        if (v->kind != HNN_AST_NUMBER || (v->u.number.value != 128 && v->u.number.value != 192 &&
                                          v->u.number.value != 256)) {
            hnn_diag_error(s->diag, v->loc, "security must be 128, 192 or 256 (bits); got %s",
                           hnn_sema_describe(s, v));
            return;
        }
        h->security = (uint32_t)v->u.number.value;
        break;
    case HNN_HINT_PRECISION:
        if (!(v = hnn_sema_setting_value(s, st, "precision 12 bits", "bits", &unit)))
            return;
        if (!hnn_sema_uint(s, v, what, 1, 60, &u))
            return;
        h->precision_bits = (uint32_t)u;
        break;
    case HNN_HINT_RING:
        if (!(v = hnn_sema_setting_value(s, st, "ring 2^14", "", NULL)))
            return;
        if (v->kind != HNN_AST_NUMBER || !v->u.number.is_integer || v->u.number.value < 1024 ||
            v->u.number.value > 131072 || ((uint64_t)v->u.number.value & ((uint64_t)v->u.number.value - 1))) {
            hnn_diag_error(s->diag, v->loc, "'ring' (the ring dimension N) must be a power of two from "
                           "2^10 to 2^17; got %s", hnn_sema_describe(s, v));
            return;
        }
        h->ring_dim = (uint32_t)v->u.number.value;
        break;
    case HNN_HINT_LEVELS:
        if (!(v = hnn_sema_setting_value(s, st, "levels 8", "", NULL)))
            return;
        if (!hnn_sema_uint(s, v, what, 1, 64, &u))
            return;
        h->levels = (uint32_t)u;
        break;
    case HNN_HINT_SCALE:
        if (!(v = hnn_sema_setting_value(s, st, "scale 2^40", "", NULL)))
            return;
        if (v->kind != HNN_AST_NUMBER || !(v->u.number.value >= 0x1p10 && v->u.number.value <= 0x1p80)) {
            hnn_diag_error(s->diag, v->loc, "'scale' must be a number from 2^10 to 2^80, e.g. 2^40; got %s",
                           hnn_sema_describe(s, v));
            return;
        }
        h->scale_log2 = log2(v->u.number.value);
        break;
    case HNN_HINT_KEY_MEMORY:
        if (!(v = hnn_sema_setting_value(s, st, "key_memory 512 MB", "MB GB", &unit)))
            return;
        if (!hnn_sema_uint(s, v, what, 1, 1u << 30, &u))
            return;
        h->key_memory_mb = unit && unit[0] == 'G' ? u * 1024 : u;
        break;
    case HNN_HINT_BATCH:
        if (!(v = hnn_sema_setting_value(s, st, "batch 4096", "", NULL)))
            return;
        if (!hnn_sema_uint(s, v, what, 1, 1u << 20, &u))
            return;
        h->batch = (uint32_t)u;
        break;
    case HNN_HINT__COUNT:
        return;
    }
    h->set[which] = true;
    h->loc[which] = st->loc;
}

void
hnn_sema_hints(hnn_sema *s, const hnn_ast_stmt *stmt)
{
    const hnn_ast_setting *seen[HNN_HINT__COUNT] = {0};
    for (const hnn_ast_setting *st = stmt->settings; st; st = st->next) {
        int i = hnn_sema_setting_index(s, st, "hints", hnn_hint_names, HNN_HINT__COUNT, seen);
        if (i >= 0)
            hnn_sema_hint(s, &s->model->hints, (hnn_hint)i, st);
    }
    hnn_hints *h = &s->model->hints;
    if (h->set[HNN_HINT_BATCH] && h->set[HNN_HINT_RING] && h->batch > h->ring_dim / 2) {
        hnn_diag_error(s->diag, h->loc[HNN_HINT_BATCH], "'batch %u' does not fit in the %u slots of "
                       "ring %u", h->batch, h->ring_dim / 2, h->ring_dim);
        hnn_diag_note(s->diag, h->loc[HNN_HINT_RING], "the ring dimension is pinned here");
    }
}

static void
hnn_sema_optimizer(hnn_sema *s, hnn_train *t, const hnn_ast_value *v)
{
    const char *name = v->kind == HNN_AST_NAME ? v->u.name : v->kind == HNN_AST_CALL ? v->u.call.callee : NULL;
    hnn_loc name_loc = v->kind == HNN_AST_CALL ? v->u.call.callee_loc : v->loc;
    if (!name) {
        hnn_diag_error(s->diag, v->loc, "'optimizer' must be sgd(lr 0.05, momentum 0.9); got %s",
                       hnn_sema_describe(s, v));
        return;
    }
    if (strcmp(name, "sgd") != 0) {
        hnn_diag_suggest sg;
        hnn_diag_suggest_init(&sg, name);
        hnn_diag_suggest_offer(&sg, "sgd");
        hnn_diag_error(s->diag, name_loc, "unknown optimizer '%s'%s (the optimizer is sgd)", name,
                       hnn_diag_suggest_result(&sg) ? "; did you mean 'sgd'?" : "");
        return;
    }
    if (v->kind != HNN_AST_CALL)
        return;
    hnn_sema_call c;
    /* the known options are still checked */
    hnn_sema_bind(s, v, "sgd", 0, "", "lr momentum lr_decay weight_decay", &c);
    const hnn_ast_arg *lr = hnn_sema_arg(&c, "lr"), *mo = hnn_sema_arg(&c, "momentum");
    const hnn_ast_arg *decay = hnn_sema_arg(&c, "lr_decay"), *wd = hnn_sema_arg(&c, "weight_decay");
    if (lr && hnn_sema_real(s, lr->value, "'lr'", &t->lr) && !(t->lr > 0 && t->lr <= 10))
        hnn_diag_error(s->diag, lr->value->loc, "'lr' must be above 0 and at most 10; got %g", t->lr);
    if (mo && hnn_sema_real(s, mo->value, "'momentum'", &t->momentum) &&
        !(t->momentum >= 0 && t->momentum < 1))
        hnn_diag_error(s->diag, mo->value->loc, "'momentum' must be from 0 up to (not including) 1; "
                       "got %g", t->momentum);
    if (decay && hnn_sema_real(s, decay->value, "'lr_decay'", &t->lr_decay) &&
        !(t->lr_decay > 0 && t->lr_decay <= 1))
        hnn_diag_error(s->diag, decay->value->loc, "'lr_decay' must be above 0 and at most 1; got %g", t->lr_decay);
    if (wd && hnn_sema_real(s, wd->value, "'weight_decay'", &t->weight_decay) &&
        !(t->weight_decay >= 0 && t->weight_decay < 1))
        hnn_diag_error(s->diag, wd->value->loc, "'weight_decay' must be from 0 up to (not including) 1; got %g",
                       t->weight_decay);
}

static void
hnn_sema_train_setting(hnn_sema *s, hnn_train *t, hnn_train_setting which, const hnn_ast_setting *st)
{
    const char *what = hnn_arena_printf(s->arena, "'%s'", st->name);
    const hnn_ast_value *v;
    uint64_t u;
    int c;
    switch (which) {
    case HNN_TRAIN_LOSS:
        if (!(v = hnn_sema_setting_value(s, st, "loss cross_entropy", "", NULL)))
            return;
        if ((c = hnn_sema_choice(s, v, "loss", "mse cross_entropy")) < 0)
            return;
        t->loss = (hnn_loss)c;
        break;
    case HNN_TRAIN_OPTIMIZER:
        if (!(v = hnn_sema_setting_value(s, st, "optimizer sgd(lr 0.05, momentum 0.9)", "", NULL)))
            return;
        hnn_sema_optimizer(s, t, v);
        break;
    case HNN_TRAIN_EPOCHS:
        if (!(v = hnn_sema_setting_value(s, st, "epochs 30", "", NULL)))
            return;
        if (!hnn_sema_uint(s, v, what, 1, 1000000, &u))
            return;
        t->epochs = (uint32_t)u;
        break;
    case HNN_TRAIN_BATCH:
        if (!(v = hnn_sema_setting_value(s, st, "batch 16", "", NULL)))
            return;
        if (!hnn_sema_uint(s, v, what, 1, 1u << 20, &u))
            return;
        t->batch = (uint32_t)u;
        break;
    case HNN_TRAIN_LEARN_T:
        if (!(v = hnn_sema_setting_value(s, st, "learn_T true", "", NULL)))
            return;
        if ((c = hnn_sema_choice(s, v, "learn_T", "true false")) < 0)
            return;
        t->learn_temperature = c == 0;
        break;
    case HNN_TRAIN_SEED:
        if (!(v = hnn_sema_setting_value(s, st, "seed 42", "", NULL)))
            return;
        if (!hnn_sema_uint(s, v, what, 0, 1ull << 53, &u))
            return;
        t->seed = u;
        break;
    case HNN_TRAIN__COUNT:
        return;
    }
    t->set[which] = true;
    t->setting_loc[which] = st->loc;
}

void
hnn_sema_train(hnn_sema *s, const hnn_ast_stmt *stmt)
{
    hnn_train *t = &s->model->train;
    t->present = true;
    t->loc = stmt->loc;
    t->lr = 0.01;
    t->lr_decay = 1;
    const hnn_ast_setting *seen[HNN_TRAIN__COUNT] = {0};
    for (const hnn_ast_setting *st = stmt->settings; st; st = st->next) {
        int i = hnn_sema_setting_index(s, st, "train", hnn_train_names, HNN_TRAIN__COUNT, seen);
        if (i >= 0)
            hnn_sema_train_setting(s, t, (hnn_train_setting)i, st);
    }
}

void
hnn_sema_train_defaults(hnn_sema *s)
{
    hnn_train *t = &s->model->train;
    if (!t->set[HNN_TRAIN_LOSS])
        t->loss = s->model->output && s->model->output->op == HNN_OP_SOFTARGMAX ? HNN_LOSS_CROSS_ENTROPY
                                                                               : HNN_LOSS_MSE;
    if (!t->set[HNN_TRAIN_OPTIMIZER] && !t->present) {
        t->lr = 0.01;
        t->lr_decay = 1;
    }
    if (!t->set[HNN_TRAIN_EPOCHS])
        t->epochs = 10;
    if (!t->set[HNN_TRAIN_BATCH])
        t->batch = 32;
    if (!t->set[HNN_TRAIN_LEARN_T])
        t->learn_temperature = true;
}
