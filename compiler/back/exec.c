#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>
#include <sodium.h>
#include <time.h>

#include "back/exec.h"

static double
now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int
failed(hnnrt_status st, char *err, size_t len, const char *what, const char *detail)
{
    snprintf(err, len, "%s: %s%s%s", what, hnnrt_status_message(st), detail && *detail ? ": " : "",
             detail ? detail : "");
    return (int)st;
}

int
hnn_exec_keys_new(const hnn_plan *plan, hnn_exec_keys *keys, char *err, size_t err_len)
{
    memset(keys, 0, sizeof *keys);
    hnnrt_error e;
    hnnrt_status st = hnnrt_context_new(&keys->ctx, &plan->params.spec, 0, &e);
    if (st != HNNRT_OK)
        return failed(st, err, err_len, "parameters", e.message);
    hnnrt_keygen *kg;
    if ((st = hnnrt_keygen_new(keys->ctx, &kg)) != HNNRT_OK) {
        hnn_exec_keys_free(keys);
        return failed(st, err, err_len, "key generator", "");
    }
    st = hnnrt_keygen_secret(kg, 0, &keys->sk);
    if (st == HNNRT_OK)
        st = hnnrt_keygen_public(kg, keys->sk, &keys->pk);
    if (st == HNNRT_OK)
        st = hnnrt_keygen_relin(kg, keys->sk, &keys->rk);
    /* Galois keys for exactly the steps the circuit rotates by. */
    if (st == HNNRT_OK && (plan->n_rotation_steps || plan->conjugates)) {
        int *steps = malloc((plan->n_rotation_steps + 1) * sizeof *steps);
        if (!steps)
            st = HNNRT_ERR_ALLOC;
        for (uint32_t i = 0; steps && i < plan->n_rotation_steps; i++)
            steps[i] = plan->rotation_steps[i];
        if (st == HNNRT_OK)
            st = hnnrt_keygen_galois(kg, keys->sk, steps, plan->n_rotation_steps, plan->conjugates, &keys->gk);
        free(steps);
    }
    if (st != HNNRT_OK) {
        failed(st, err, err_len, "keys", hnnrt_keygen_last_error(kg));
        hnnrt_keygen_free(kg);
        hnn_exec_keys_free(keys);
        return (int)st;
    }
    hnnrt_keygen_free(kg);
    return 0;
}

void
hnn_exec_keys_free(hnn_exec_keys *keys)
{
    hnnrt_galois_keys_free(keys->gk);
    hnnrt_relin_key_free(keys->rk);
    hnnrt_public_key_free(keys->pk);
    hnnrt_secret_key_free(keys->sk);
    hnnrt_context_free(keys->ctx);
    memset(keys, 0, sizeof *keys);
}

/* A stack of spare ciphertexts: values die as the walk passes their last
 * use, and their buffers serve the next results, and the next evaluations'
 * (a server keeps its pool). Each is made with room for the largest value
 * the circuit has (parts, top level), so none grows in place: a growth
 * would be a new allocation, and its pages' first touch costs as much as
 * a fast operation. */
typedef struct ct_pool {
    hnnrt_ct **free;
    size_t n, cap;
    unsigned parts, level;
} ct_pool;

static hnnrt_ct *
pool_get(ct_pool *p, const hnnrt_context *ctx)
{
    if (p->n)
        return p->free[--p->n];
    hnnrt_ct *ct;
    if (hnnrt_ct_new(ctx, &ct) != HNNRT_OK)
        return NULL;
    if (hnnrt_ct_reserve(ct, p->parts, p->level) != HNNRT_OK) {
        hnnrt_ct_free(ct);
        return NULL;
    }
    return ct;
}

static void
pool_put(ct_pool *p, hnnrt_ct *ct)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        hnnrt_ct **f = realloc(p->free, cap * sizeof *f);
        if (!f) {
            hnnrt_ct_free(ct);
            return;
        }
        p->free = f;
        p->cap = cap;
    }
    p->free[p->n++] = ct;
}

static void
pool_free(ct_pool *p)
{
    for (size_t i = 0; i < p->n; i++)
        hnnrt_ct_free(p->free[i]);
    free(p->free);
}

/* ------------------------------------------------------------------ server */

/* An encoded plaintext: one per (plaintext, level, scale) met. */
typedef struct pt_entry {
    unsigned level;
    double scale;
    hnnrt_pt *pt;
    struct pt_entry *next;
} pt_entry;

/* A decomposition shared by the remaining ROTATEs of one value. */
typedef struct hoist_slot {
    uint32_t node;          /* HNN_HIR_NONE when free */
    uint32_t remaining;
    hnnrt_hoisted *h;
} hoist_slot;

struct hnn_exec_server {
    const hnn_plan *plan;
    ct_pool pool;           /* spare ciphertexts, kept between evaluations */
    hnn_arena *arena;       /* the LINEAR groups' tables */
    hnn_hir_linear_groups lin;
    const hnnrt_ct **lin_in; /* scratch for the largest group's operands and results */
    hnnrt_ct **lin_out;
    /* Runs of independent nodes computed side by side (parallel_op): per
     * node, the end of the run it starts (0: none); one evaluator per
     * thread, the first being ev. */
    uint32_t *run_end;
    bool *in_place;         /* per node of a run or refresh point: computed into its first operand's ciphertext */
    hnnrt_evaluator **evs;
    int n_evs;
    const hnnrt_context *ctx;
    hnnrt_evaluator *ev;
    hnnrt_encoder *enc;
    pt_entry **cache;       /* per plaintext index */
    double *slots;          /* a plaintext replicated over the slots */
    size_t n_slots;
    uint32_t *last;         /* per node: its last use */
    uint32_t *rot_users;    /* per node: ROTATEs of it */
    bool *is_output;
    hoist_slot *hoists;
    size_t n_hoists;
    hnn_exec_refresh_fn refresh;
    void *refresh_user;
    /* Refresh points: per node, the end of the run of REFRESH nodes it
     * starts (0: none); the largest run's ciphertexts and masks (one per
     * ciphertext, slots values each), the bits one mask is drawn from. */
    uint32_t *refresh_end;
    hnnrt_ct **refresh_cts;
    double *masks;
    uint64_t *mask_bits;
    hnnrt_pt *mask_pt;
};

void
hnn_exec_server_set_refresh(hnn_exec_server *srv, hnn_exec_refresh_fn fn, void *user)
{
    srv->refresh = fn;
    srv->refresh_user = user;
}

/* mask[0..slots): uniform in [-bound, bound) from the system CSPRNG, 52 bits
 * each (the generated server draws its masks the same way). */
static void
draw_mask(hnn_exec_server *s, double *mask, double bound)
{
    randombytes_buf(s->mask_bits, s->n_slots * sizeof *s->mask_bits);
    for (size_t i = 0; i < s->n_slots; i++)
        mask[i] = bound * ((double)(s->mask_bits[i] >> 11) * 0x1p-52 - 1.0);
}

/* out = a + mask k, a fresh mask drawn with the bound of REFRESH node x,
 * encoded at a's level and scale (out may be a). Why it failed in *why. */
static hnnrt_status
mask_value(hnn_exec_server *s, const hnn_hir_node *x, size_t k, hnnrt_ct *out, const hnnrt_ct *a, const char **why)
{
    double *mask = s->masks + k * s->n_slots;
    draw_mask(s, mask, x->c);
    hnnrt_status st = hnnrt_encode(s->enc, s->mask_pt, mask, s->n_slots, hnnrt_ct_scale(a), hnnrt_ct_level(a));
    if (st != HNNRT_OK)
        *why = hnnrt_encoder_last_error(s->enc);
    else if ((st = hnnrt_eval_add_pt(s->ev, out, a, s->mask_pt)) != HNNRT_OK)
        *why = hnnrt_evaluator_last_error(s->ev);
    return st;
}

/* ct -= mask k, encoded at ct's level and scale. */
static hnnrt_status
unmask_value(hnn_exec_server *s, size_t k, hnnrt_ct *ct, const char **why)
{
    hnnrt_status st = hnnrt_encode(s->enc, s->mask_pt, s->masks + k * s->n_slots, s->n_slots, hnnrt_ct_scale(ct),
                                   hnnrt_ct_level(ct));
    if (st != HNNRT_OK)
        *why = hnnrt_encoder_last_error(s->enc);
    else if ((st = hnnrt_eval_sub_pt(s->ev, ct, ct, s->mask_pt)) != HNNRT_OK)
        *why = hnnrt_evaluator_last_error(s->ev);
    return st;
}

/* Whether the key holder gave ct back as asked: two parts at `level`, its
 * scale within 2^-40 of `scale` (the generated server's test). */
static bool
refreshed_as_asked(const hnnrt_ct *ct, unsigned level, double scale)
{
    return hnnrt_ct_level(ct) == level && hnnrt_ct_size(ct) == 2 && fabs(hnnrt_ct_scale(ct) / scale - 1) < 0x1p-40;
}

/*
 * A refresh point: the REFRESH nodes [first, end), in one round trip with
 * the key holder. Each value v gets a mask r of its own, drawn per slot
 * uniform in [-M, M] with M = its node's c (set by the planner:
 * hnn_plan_refresh_masks) and added at v's level and scale; the callback
 * then gets every v + r at once and re-encrypts each at the point's level
 * and scale (the top of the chain); each r is removed there, encoded from
 * the same doubles, and the masks are wiped. A value whose last use is its
 * REFRESH is masked in place, so a point keeps no more ciphertexts alive
 * than its values.
 */
static hnnrt_status
eval_refreshes(hnn_exec_server *s, uint32_t first, uint32_t end, hnnrt_ct **val, ct_pool *pool, size_t *live,
               hnn_exec_stats *stats, char *err, size_t err_len)
{
    const hnn_hir *h = s->plan->hir;
    const hnn_hir_node *f = &h->nodes[first];
    const size_t n = end - first, slots = s->n_slots;
    const char *why = "no refresh callback: the key holder is needed";
    char where[64], detail[160] = "";
    size_t bytes = 0;
    hnnrt_status st = s->refresh ? HNNRT_OK : HNNRT_ERR_MISSING_KEY;
    for (uint32_t r = first; st == HNNRT_OK && r < end; r++) {
        const hnn_hir_node *x = &h->nodes[r];
        hnnrt_ct *a = val[x->a];
        if (s->in_place[r]) {
            val[r] = a;
            val[x->a] = NULL; /* now the REFRESH's, not to be released */
        } else if ((val[r] = pool_get(pool, s->ctx)) != NULL) {
            ++*live;
        } else {
            st = HNNRT_ERR_ALLOC;
            why = "out of memory";
            break;
        }
        /* a ciphertext at level l is 2 polynomials of l + 1 limbs of N = 2 slots
         * words: the one sent at a's level plus the one returned at the point's */
        bytes += 2 * ((size_t)hnnrt_ct_level(a) + 1 + (size_t)x->level + 1) * 2 * slots * 8;
        st = mask_value(s, x, r - first, val[r], a, &why);
        s->refresh_cts[r - first] = val[r];
    }
    if (st == HNNRT_OK) {
        double t0 = now_ms();
        st = (hnnrt_status)s->refresh(s->refresh_user, s->refresh_cts, n, f->level, f->scale);
        stats->refresh_ms += now_ms() - t0;
        stats->refresh_round_trips++;
        stats->refreshes += n;
        stats->refresh_bytes += bytes;
        why = st != HNNRT_OK ? "the key holder's refresh failed" : "";
    }
    for (size_t k = 0; st == HNNRT_OK && k < n; k++) {
        hnnrt_ct *ct = s->refresh_cts[k];
        if (!refreshed_as_asked(ct, f->level, f->scale)) {
            snprintf(detail, sizeof detail,
                     "the key holder returned ciphertext %zu of %zu at level %u scale %a, not level %u scale %a", k, n,
                     hnnrt_ct_level(ct), hnnrt_ct_scale(ct), f->level, f->scale);
            st = HNNRT_ERR_LEVEL_MISMATCH;
            why = detail;
            break;
        }
        st = unmask_value(s, k, ct, &why);
    }
    /* The masks are the server's secret against the key holder. */
    sodium_memzero(s->masks, n * slots * sizeof *s->masks);
    sodium_memzero(s->mask_bits, slots * sizeof *s->mask_bits);
    if (st != HNNRT_OK) {
        if (n > 1)
            snprintf(where, sizeof where, "%%%u..%%%u refresh", first, end - 1);
        else
            snprintf(where, sizeof where, "%%%u refresh", first);
        failed(st, err, err_len, where, why);
    }
    return st;
}

/* The key holder's side of refreshes: what decrypting and encrypting again
 * needs, made once for many refresh points. */
struct hnn_exec_key_holder {
    hnn_exec_keys *keys;
    size_t slots;
    hnnrt_encoder *enc;
    hnnrt_decryptor *dec;
    hnnrt_encryptor *encr;
    hnnrt_pt *pt;
    double *re, *im; /* a decrypted value, wiped once encrypted again */
};

int
hnn_exec_key_holder_new(hnn_exec_keys *keys, hnn_exec_key_holder **out)
{
    hnn_exec_key_holder *k = calloc(1, sizeof *k);
    *out = NULL;
    if (!k)
        return HNNRT_ERR_ALLOC;
    k->keys = keys;
    k->slots = hnnrt_context_slots(keys->ctx);
    k->re = malloc(k->slots * sizeof *k->re);
    k->im = malloc(k->slots * sizeof *k->im);
    hnnrt_status st = (!k->re || !k->im) ? HNNRT_ERR_ALLOC : HNNRT_OK;
    if (st == HNNRT_OK)
        st = hnnrt_encoder_new(keys->ctx, &k->enc);
    if (st == HNNRT_OK)
        st = hnnrt_decryptor_new(keys->ctx, keys->sk, &k->dec);
    if (st == HNNRT_OK)
        st = hnnrt_encryptor_new(keys->ctx, keys->pk, NULL, &k->encr);
    if (st == HNNRT_OK)
        st = hnnrt_pt_new(keys->ctx, &k->pt);
    if (st != HNNRT_OK) {
        hnn_exec_key_holder_free(k);
        return (int)st;
    }
    *out = k;
    return 0;
}

void
hnn_exec_key_holder_free(hnn_exec_key_holder *k)
{
    if (!k)
        return;
    free(k->re);
    free(k->im);
    hnnrt_pt_free(k->pt);
    hnnrt_encryptor_free(k->encr);
    hnnrt_decryptor_free(k->dec);
    hnnrt_encoder_free(k->enc);
    free(k);
}

int
hnn_exec_key_holder_refresh(void *user, hnnrt_ct *const *cts, size_t n, unsigned level, double scale)
{
    hnn_exec_key_holder *k = user;
    hnn_exec_keys *keys = k->keys;
    hnnrt_status st = HNNRT_OK;
    for (size_t i = 0; st == HNNRT_OK && i < n; i++) {
        st = hnnrt_decrypt(k->dec, k->pt, cts[i]);
        if (st == HNNRT_OK)
            st = hnnrt_decode_complex(k->enc, k->pt, k->re, k->im, k->slots);
        if (st == HNNRT_OK && keys->seen && keys->n_seen < keys->seen_cap)
            keys->seen[keys->n_seen++] = k->re[0];
        if (st == HNNRT_OK)
            st = hnnrt_encode_complex(k->enc, k->pt, k->re, k->im, k->slots, scale, level);
        if (st == HNNRT_OK)
            st = hnnrt_encrypt(k->encr, cts[i], k->pt);
        sodium_memzero(k->re, k->slots * sizeof *k->re);
        sodium_memzero(k->im, k->slots * sizeof *k->im);
    }
    return (int)st;
}

/* The runtime calls of the circuit's LINEAR nodes, one per group
 * (hnn_hir_linear_group_end), with the scratch for the largest. */
static bool
prepare_groups(hnn_exec_server *s)
{
    if (!(s->arena = hnn_arena_new()))
        return false;
    hnn_hir_linear_groups_build(s->plan->hir, s->arena, &s->lin);
    s->lin_in = malloc(s->lin.max_in * sizeof *s->lin_in);
    s->lin_out = malloc(s->lin.max_rows * sizeof *s->lin_out);
    return s->lin_in && s->lin_out;
}

/* Ops that touch no state of the server but an evaluator, so that
 * independent nodes of them can run on several threads at once, each with
 * its own evaluator: not the plaintexts (their cache), rotations (the
 * hoists), refreshes (the key holder) nor linear groups (parallel inside). */
static bool
parallel_op(hnn_hir_op op)
{
    switch (op) {
    case HNN_HIR_ADD:
    case HNN_HIR_SUB:
    case HNN_HIR_NEGATE:
    case HNN_HIR_ADD_CONST:
    case HNN_HIR_MUL_CONST:
    case HNN_HIR_MUL_CT:
    case HNN_HIR_RELIN:
    case HNN_HIR_RESCALE:
    case HNN_HIR_DROP_LEVEL:
    case HNN_HIR_CONJUGATE:
        return true;
    default:
        return false;
    }
}

/*
 * Runs of consecutive nodes that read nothing inside their run (a layer's
 * rescales, its biases, its squares): one parallel region for a run
 * instead of one or more per node, whose joins each wait for every thread
 * — and on a busy machine for a descheduled one. Each node is computed as
 * it would be alone, so the results do not change. With one thread there
 * are none.
 */
static bool
prepare_runs(hnn_exec_server *s, const hnnrt_relin_key *rk, const hnnrt_galois_keys *gk)
{
    const hnn_hir *h = s->plan->hir;
    const int threads = hnnrt_context_threads(s->ctx);
    s->n_evs = threads > 1 ? threads : 1;
    s->run_end = calloc(h->n_nodes ? h->n_nodes : 1, sizeof *s->run_end);
    s->in_place = calloc(h->n_nodes ? h->n_nodes : 1, sizeof *s->in_place);
    s->evs = calloc((size_t)s->n_evs, sizeof *s->evs);
    uint32_t *readers = calloc(h->n_nodes ? h->n_nodes : 1, sizeof *readers);
    if (!s->run_end || !s->in_place || !s->evs || !readers) {
        free(readers);
        return false;
    }
    s->evs[0] = s->ev;
    for (int t = 1; t < s->n_evs; t++)
        if (hnnrt_evaluator_new(s->ctx, rk, gk, &s->evs[t]) != HNNRT_OK) {
            free(readers);
            return false;
        }
    for (uint32_t i = 0; s->n_evs > 1 && i < h->n_nodes;) {
        uint32_t e = i;
        for (bool earlier = true; e < h->n_nodes && earlier && parallel_op(h->nodes[e].op); e += earlier)
            for (unsigned k = 0; k < hnn_hir_arity(&h->nodes[e]) && earlier; k++)
                earlier = hnn_hir_arg(&h->nodes[e], k) < i;
        if (e > i + 1) {
            s->run_end[i] = e;
            /* A node whose first operand dies with it, read by no other node
             * of the run, overwrites it (every op here may: out may alias a):
             * a run allocates nothing and keeps no more alive than before. */
            for (uint32_t r = i; r < e; r++)
                for (unsigned k = 0; k < hnn_hir_arity(&h->nodes[r]); k++)
                    if (k == 0 || hnn_hir_arg(&h->nodes[r], k) != h->nodes[r].a)
                        readers[hnn_hir_arg(&h->nodes[r], k)]++;
            for (uint32_t r = i; r < e; r++) {
                const uint32_t x = h->nodes[r].a;
                s->in_place[r] = s->last[x] == r && readers[x] == 1 && !s->is_output[x] &&
                                 h->nodes[x].op != HNN_HIR_INPUT;
            }
            for (uint32_t r = i; r < e; r++)
                for (unsigned k = 0; k < hnn_hir_arity(&h->nodes[r]); k++)
                    readers[hnn_hir_arg(&h->nodes[r], k)] = 0;
        }
        i = e > i ? e : i + 1;
    }
    free(readers);
    return true;
}

/*
 * Refresh points: runs of consecutive REFRESH nodes of one tensor-IR node,
 * level and scale (hnn_hir_refresh_point_end, as the C generator), each one
 * round trip with the key holder. The scratch is sized for the largest run,
 * once.
 */
static bool
prepare_refreshes(hnn_exec_server *s)
{
    const hnn_hir *h = s->plan->hir;
    uint32_t largest;
    s->refresh_end = calloc(h->n_nodes ? h->n_nodes : 1, sizeof *s->refresh_end);
    if (!s->refresh_end)
        return false;
    hnn_hir_refresh_points(h, NULL, s->refresh_end, &largest);
    for (uint32_t r = 0; r < h->n_nodes; r++) {
        const uint32_t x = h->nodes[r].a;
        if (h->nodes[r].op == HNN_HIR_REFRESH)
            s->in_place[r] = s->last[x] == r && !s->is_output[x] && h->nodes[x].op != HNN_HIR_INPUT;
    }
    if (!largest)
        return true;
    s->refresh_cts = malloc(largest * sizeof *s->refresh_cts);
    s->masks = malloc(largest * s->n_slots * sizeof *s->masks);
    s->mask_bits = malloc(s->n_slots * sizeof *s->mask_bits);
    return s->refresh_cts && s->masks && s->mask_bits && hnnrt_pt_new(s->ctx, &s->mask_pt) == HNNRT_OK;
}

int
hnn_exec_server_new(const hnn_plan *plan, const hnnrt_context *ctx, const hnnrt_relin_key *rk,
                    const hnnrt_galois_keys *gk, hnn_exec_server **out, char *err, size_t err_len)
{
    const hnn_hir *h = plan->hir;
    hnn_exec_server *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return failed(HNNRT_ERR_ALLOC, err, err_len, "server", "out of memory");
    s->plan = plan;
    s->ctx = ctx;
    s->n_slots = hnnrt_context_slots(ctx);
    hnnrt_status st = hnnrt_evaluator_new(ctx, rk, gk, &s->ev);
    if (st == HNNRT_OK)
        st = hnnrt_encoder_new(ctx, &s->enc);
    size_t nodes = h->n_nodes ? h->n_nodes : 1;
    s->cache = calloc(h->n_pts ? h->n_pts : 1, sizeof *s->cache);
    s->slots = malloc(s->n_slots * sizeof *s->slots);
    s->last = calloc(nodes, sizeof *s->last);
    s->rot_users = calloc(nodes, sizeof *s->rot_users);
    s->is_output = calloc(nodes, sizeof *s->is_output);
    if (st == HNNRT_OK && (!s->cache || !s->slots || !s->last || !s->rot_users || !s->is_output))
        st = HNNRT_ERR_ALLOC;
    if (st != HNNRT_OK) {
        hnn_exec_server_free(s);
        return failed(st, err, err_len, "server", "setting up");
    }
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        const hnn_hir_node *n = &h->nodes[i];
        for (unsigned k = 0; k < hnn_hir_arity(n); k++)
            s->last[hnn_hir_arg(n, k)] = i;
        if (n->op == HNN_HIR_ROTATE)
            s->rot_users[n->a]++;
    }
    for (uint32_t k = 0; k < h->n_outputs; k++)
        s->is_output[h->outputs[k]] = true;
    s->pool.parts = 2;
    s->pool.level = h->top_level;
    for (uint32_t i = 0; i < h->n_nodes; i++)
        if (h->nodes[i].size > s->pool.parts)
            s->pool.parts = h->nodes[i].size;
    if (!prepare_groups(s) || !prepare_runs(s, rk, gk) || !prepare_refreshes(s)) {
        hnn_exec_server_free(s);
        return failed(HNNRT_ERR_ALLOC, err, err_len, "server", "out of memory");
    }
    *out = s;
    return 0;
}

void
hnn_exec_server_free(hnn_exec_server *s)
{
    if (!s)
        return;
    for (uint32_t p = 0; s->cache && p < s->plan->hir->n_pts; p++)
        for (pt_entry *e = s->cache[p], *next; e; e = next) {
            next = e->next;
            hnnrt_pt_free(e->pt);
            free(e);
        }
    for (size_t i = 0; i < s->n_hoists; i++)
        hnnrt_hoisted_free(s->hoists[i].h);
    free(s->hoists);
    free(s->cache);
    free(s->slots);
    free(s->last);
    free(s->rot_users);
    free(s->is_output);
    pool_free(&s->pool);
    for (int t = 1; s->evs && t < s->n_evs; t++)
        hnnrt_evaluator_free(s->evs[t]);
    free(s->evs);
    free(s->run_end);
    free(s->in_place);
    free(s->refresh_end);
    free(s->refresh_cts);
    free(s->masks);
    free(s->mask_bits);
    free(s->lin_in);
    free(s->lin_out);
    hnn_arena_free(s->arena);
    hnnrt_pt_free(s->mask_pt);
    hnnrt_encoder_free(s->enc);
    hnnrt_evaluator_free(s->ev);
    free(s);
}

/* Plaintext p at (level, scale), encoded on first use; its values repeat
 * every `len` slots (the period) over all the slots. */
static hnnrt_status
cached_pt(hnn_exec_server *s, uint32_t p, unsigned level, double scale, const hnnrt_pt **out,
          hnn_exec_stats *stats)
{
    for (pt_entry *e = s->cache[p]; e; e = e->next)
        if (e->level == level && e->scale == scale) {
            stats->pt_reuses++;
            *out = e->pt;
            return HNNRT_OK;
        }
    const hnn_hir_pt *v = &s->plan->hir->pts[p];
    size_t count = v->len < s->n_slots ? s->n_slots : v->len;
    for (size_t i = 0; i < count && v->len < s->n_slots; i++)
        s->slots[i] = v->values[i % v->len];
    pt_entry *e = calloc(1, sizeof *e);
    if (!e)
        return HNNRT_ERR_ALLOC;
    hnnrt_status st = hnnrt_pt_new(s->ctx, &e->pt);
    if (st == HNNRT_OK)
        st = hnnrt_encode(s->enc, e->pt, v->len < s->n_slots ? s->slots : v->values, count, scale, level);
    if (st != HNNRT_OK) {
        hnnrt_pt_free(e->pt);
        free(e);
        return st;
    }
    e->level = level;
    e->scale = scale;
    e->next = s->cache[p];
    s->cache[p] = e;
    stats->pt_encodes++;
    *out = e->pt;
    return HNNRT_OK;
}

/* Rotation of node n's operand: from a shared decomposition when several
 * ROTATEs take the same value (the baby steps of a diagonal product). */
static hnnrt_status
rotate(hnn_exec_server *s, const hnn_hir_node *n, hnnrt_ct *out, const hnnrt_ct *a, hnn_exec_stats *stats)
{
    if (s->rot_users[n->a] < 2) {
        stats->rotations++;
        return hnnrt_eval_rotate(s->ev, out, a, n->step);
    }
    hoist_slot *slot = NULL, *free_slot = NULL;
    for (size_t i = 0; i < s->n_hoists && !slot; i++) {
        if (s->hoists[i].node == n->a)
            slot = &s->hoists[i];
        else if (s->hoists[i].node == HNN_HIR_NONE && !free_slot)
            free_slot = &s->hoists[i];
    }
    hnnrt_status st;
    if (!slot) {
        if (!free_slot) {
            hoist_slot *grown = realloc(s->hoists, (s->n_hoists + 1) * sizeof *grown);
            if (!grown)
                return HNNRT_ERR_ALLOC;
            s->hoists = grown;
            free_slot = &s->hoists[s->n_hoists];
            free_slot->h = NULL;
            free_slot->node = HNN_HIR_NONE;
            if ((st = hnnrt_hoisted_new(s->ev, &free_slot->h)) != HNNRT_OK)
                return st;
            s->n_hoists++;
        }
        slot = free_slot;
        if ((st = hnnrt_eval_hoist(s->ev, slot->h, a)) != HNNRT_OK)
            return st;
        slot->node = n->a;
        slot->remaining = s->rot_users[n->a];
        stats->hoists++;
    }
    st = hnnrt_eval_rotate_hoisted(s->ev, out, slot->h, n->step);
    stats->hoisted_rotations++;
    if (--slot->remaining == 0)
        slot->node = HNN_HIR_NONE;
    return st;
}

static hnnrt_status
eval_node(hnn_exec_server *s, hnnrt_evaluator *ev, const hnn_hir_node *n, hnnrt_ct *out, hnnrt_ct *const *val,
          hnn_exec_stats *stats)
{
    const hnnrt_ct *a = hnn_hir_op_operands(n->op) >= 1 ? val[n->a] : NULL;
    const hnnrt_ct *b = hnn_hir_op_operands(n->op) >= 2 ? val[n->b] : NULL;
    const hnnrt_pt *pt;
    hnnrt_status st;
    switch (n->op) { /* grep ORDER HIR */
    case HNN_HIR_ADD:
        return hnnrt_eval_add(ev, out, a, b);
    case HNN_HIR_SUB:
        return hnnrt_eval_sub(ev, out, a, b);
    case HNN_HIR_NEGATE:
        return hnnrt_eval_negate(ev, out, a);
    case HNN_HIR_ADD_CONST:
        return hnnrt_eval_add_const(ev, out, a, n->c);
    case HNN_HIR_MUL_CONST:
        return hnnrt_eval_mul_const(ev, out, a, n->c, n->c_scale);
    case HNN_HIR_ADD_PT:
        /* at the value's own scale, so the sum needs no alignment */
        if ((st = cached_pt(s, n->pt, hnnrt_ct_level(a), hnnrt_ct_scale(a), &pt, stats)) != HNNRT_OK)
            return st;
        return hnnrt_eval_add_pt(ev, out, a, pt);
    case HNN_HIR_MUL_PT:
        if ((st = cached_pt(s, n->pt, hnnrt_ct_level(a), n->c_scale, &pt, stats)) != HNNRT_OK)
            return st;
        return hnnrt_eval_mul_pt(ev, out, a, pt);
    case HNN_HIR_MUL_CT:
        return hnnrt_eval_mul_ct(ev, out, a, b);
    case HNN_HIR_RELIN:
        return hnnrt_eval_relin(ev, out, a);
    case HNN_HIR_RESCALE:
        return hnnrt_eval_rescale(ev, out, a);
    case HNN_HIR_DROP_LEVEL:
        return hnnrt_eval_drop_to(ev, out, a, n->level);
    case HNN_HIR_ROTATE:
        return rotate(s, n, out, a, stats);
    case HNN_HIR_CONJUGATE:
        return hnnrt_eval_conjugate(ev, out, a);
    default:
        return HNNRT_ERR_ARG; /* INPUT is bound by the caller, REFRESH runs by point (eval_refreshes) */
    }
}

/* The LINEAR nodes of group g in one runtime call, into fresh ciphertexts
 * (the runtime wants outputs apart from the operands). */
static hnnrt_status
eval_group(hnn_exec_server *s, const hnn_hir_linear_group *g, hnnrt_ct **val, ct_pool *pool, size_t *live,
           char *err, size_t err_len)
{
    const hnn_hir_node *f = &s->plan->hir->nodes[g->first];
    const uint32_t rows = g->end - g->first;
    for (uint32_t r = 0; r < rows; r++) {
        if (!(s->lin_out[r] = pool_get(pool, s->ctx)))
            return failed(HNNRT_ERR_ALLOC, err, err_len, "evaluate", "out of memory");
        val[g->first + r] = s->lin_out[r];
        ++*live;
    }
    for (uint32_t k = 0; k < g->n_in; k++)
        s->lin_in[k] = val[g->in[k]];
    const hnnrt_linear_map map = {rows, g->n_in, g->row_start, g->col, g->coeff};
    hnnrt_status st = hnnrt_eval_linear(s->ev, s->lin_out, s->lin_in, &map, f->c_scale, f->level);
    if (st != HNNRT_OK) {
        char where[64];
        snprintf(where, sizeof where, "%%%u..%%%u linear", g->first, g->end - 1);
        failed(st, err, err_len, where, hnnrt_evaluator_last_error(s->ev));
    }
    return st;
}

/* Nodes [first, end), a run of prepare_runs, on the context's threads. */
static hnnrt_status
eval_run(hnn_exec_server *s, uint32_t first, uint32_t end, hnnrt_ct **val, ct_pool *pool, size_t *live,
         hnn_exec_stats *stats, char *err, size_t err_len)
{
    const hnn_hir *h = s->plan->hir;
    /* Allocate before aliasing: a failure then leaves no ciphertext in two slots. */
    for (uint32_t r = first; r < end; r++) {
        if (s->in_place[r])
            continue;
        if (!(val[r] = pool_get(pool, s->ctx)))
            return failed(HNNRT_ERR_ALLOC, err, err_len, "evaluate", "out of memory");
        ++*live;
    }
    for (uint32_t r = first; r < end; r++)
        if (s->in_place[r]) /* the operand's ciphertext becomes the result's */
            val[r] = val[h->nodes[r].a];
    uint32_t bad = UINT32_MAX;
    int bad_thread = 0;
    hnnrt_status bad_st = HNNRT_OK;
#pragma omp parallel for num_threads(s->n_evs) schedule(dynamic, 4)
    for (uint32_t r = first; r < end; r++) {
        const int t = omp_get_thread_num();
        hnnrt_status st = eval_node(s, s->evs[t], &h->nodes[r], val[r], val, stats);
        if (st != HNNRT_OK) {
#pragma omp critical(hnn_exec_run_failure)
            if (r < bad) {
                bad = r;
                bad_st = st;
                bad_thread = t;
            }
        }
    }
    for (uint32_t r = first; r < end; r++)
        if (s->in_place[r])
            val[h->nodes[r].a] = NULL; /* now the result's, not to be released */
    if (bad_st != HNNRT_OK) {
        char where[64];
        snprintf(where, sizeof where, "%%%u %s", bad, hnn_hir_op_name(h->nodes[bad].op));
        failed(bad_st, err, err_len, where, hnnrt_evaluator_last_error(s->evs[bad_thread]));
    }
    return bad_st;
}

/* The output ciphertexts: the distinct nodes of the output list, in order. */
static uint32_t
output_node(const hnn_hir *h, uint32_t k)
{
    uint32_t seen = 0;
    for (uint32_t i = 0; i < h->n_outputs; i++) {
        bool first = true;
        for (uint32_t j = 0; j < i && first; j++)
            first = h->outputs[j] != h->outputs[i];
        if (first && seen++ == k)
            return h->outputs[i];
    }
    return HNN_HIR_NONE;
}

/* Returns x's ciphertext to the pool when its last reader comes before `end`
 * (inputs belong to the caller, outputs to the end of the evaluation). */
static void
release_dead(hnn_exec_server *s, uint32_t x, uint32_t end, hnnrt_ct **val, size_t *live)
{
    if (s->last[x] < end && !s->is_output[x] && s->plan->hir->nodes[x].op != HNN_HIR_INPUT && val[x]) {
        pool_put(&s->pool, val[x]);
        val[x] = NULL;
        (*live)--;
    }
}

int
hnn_exec_server_eval(hnn_exec_server *s, hnnrt_ct *const *in, hnnrt_ct **out, hnn_exec_stats *stats, char *err,
                     size_t err_len)
{
    const hnn_plan *plan = s->plan;
    const hnn_hir *h = plan->hir;
    hnn_exec_stats local = {0};
    if (!stats)
        stats = &local;
    hnnrt_ct **val = calloc(h->n_nodes ? h->n_nodes : 1, sizeof *val);
    ct_pool *pool = &s->pool;
    if (!val)
        return failed(HNNRT_ERR_ALLOC, err, err_len, "evaluate", "out of memory");
    for (size_t i = 0; i < s->n_hoists; i++)
        s->hoists[i].node = HNN_HIR_NONE;
    hnnrt_status st = HNNRT_OK;
    size_t live = 0, peak = 0;
    for (uint32_t i = 0; i < h->n_nodes && st == HNNRT_OK; i++) {
        const hnn_hir_node *n = &h->nodes[i];
        if (n->op == HNN_HIR_LINEAR) {
            const hnn_hir_linear_group *g = &s->lin.groups[s->lin.group_of[i]];
            st = eval_group(s, g, val, pool, &live, err, err_len);
            if (live > peak)
                peak = live;
            /* Operands whose last use is in the group, once the call is done. */
            for (uint32_t k = 0; st == HNNRT_OK && k < g->n_in; k++) {
                uint32_t x = g->in[k];
                release_dead(s, x, g->end, val, &live);
            }
            i = g->end - 1;
            continue;
        }
        if (s->refresh_end[i]) {
            const uint32_t end = s->refresh_end[i];
            st = eval_refreshes(s, i, end, val, pool, &live, stats, err, err_len);
            if (live > peak)
                peak = live;
            for (uint32_t r = i; st == HNNRT_OK && r < end; r++) {
                const uint32_t x = h->nodes[r].a;
                release_dead(s, x, end, val, &live);
            }
            i = end - 1;
            continue;
        }
        if (s->run_end[i]) {
            const uint32_t end = s->run_end[i];
            st = eval_run(s, i, end, val, pool, &live, stats, err, err_len);
            if (live > peak)
                peak = live;
            for (uint32_t r = i; st == HNNRT_OK && r < end; r++)
                for (unsigned k = 0; k < hnn_hir_arity(&h->nodes[r]); k++) {
                    uint32_t x = hnn_hir_arg(&h->nodes[r], k);
                    release_dead(s, x, end, val, &live);
                }
            i = end - 1;
            continue;
        }
        if (n->op == HNN_HIR_INPUT) {
            val[i] = in[n->pt];
        } else {
            hnnrt_ct *o = pool_get(pool, s->ctx);
            if (!o) {
                st = failed(HNNRT_ERR_ALLOC, err, err_len, "evaluate", "out of memory");
                break;
            }
            st = eval_node(s, s->ev, n, o, val, stats);
            val[i] = o;
            live++;
            if (st != HNNRT_OK) {
                char where[64];
                snprintf(where, sizeof where, "%%%u %s", i, hnn_hir_op_name(n->op));
                failed(st, err, err_len, where, hnnrt_evaluator_last_error(s->ev));
                break;
            }
        }
        if (live > peak)
            peak = live;
        /* Release operands whose last use this was. */
        for (unsigned k = 0; k < hnn_hir_op_operands(n->op); k++) {
            uint32_t x = k == 0 ? n->a : n->b;
            if (k == 0 || n->b != n->a)
                release_dead(s, x, i + 1, val, &live);
        }
    }
    for (uint32_t k = 0; st == HNNRT_OK && k < plan->ciphertexts_out; k++) {
        uint32_t id = output_node(h, k);
        hnnrt_ct *o = NULL;
        if ((st = hnnrt_ct_new(s->ctx, &o)) != HNNRT_OK || (st = hnnrt_ct_copy(o, val[id])) != HNNRT_OK) {
            hnnrt_ct_free(o);
            failed(st, err, err_len, "outputs", "");
            break;
        }
        out[k] = o;
    }
    if (peak > stats->peak_live_ciphertexts)
        stats->peak_live_ciphertexts = peak;
    stats->evaluations++;
    for (uint32_t i = 0; i < h->n_nodes; i++)
        if (val[i] && h->nodes[i].op != HNN_HIR_INPUT)
            pool_put(pool, val[i]);
    free(val);
    return (int)st;
}

int
hnn_exec_eval(const hnn_plan *plan, const hnnrt_context *ctx, const hnnrt_relin_key *rk,
              const hnnrt_galois_keys *gk, hnnrt_ct *const *in, hnnrt_ct **out, size_t *peak_live, char *err,
              size_t err_len)
{
    hnn_exec_server *s;
    int rc = hnn_exec_server_new(plan, ctx, rk, gk, &s, err, err_len);
    if (rc)
        return rc;
    hnn_exec_stats stats = {0};
    rc = hnn_exec_server_eval(s, in, out, &stats, err, err_len);
    if (peak_live)
        *peak_live = stats.peak_live_ciphertexts;
    hnn_exec_server_free(s);
    return rc;
}

/* ------------------------------------------------------------------ client and server in one */

/* The client's encoding of sample block `first`: batch packing puts
 * feature k of sample s in slot s of ciphertext k; vector packing puts the
 * one sample's features in slots 0..n_inputs-1, repeated every period, or
 * where the plan's client layout says (ciphertext k of hir->in_layout). */
size_t
hnn_exec_input_slots(const hnn_plan *plan, const double *x, size_t first, size_t n_samples, uint32_t k, double *buf,
                     size_t n_slots)
{
    const hnn_hir *h = plan->hir;
    const hnn_layer *input = plan->model->input;
    if (h->packing == HNN_HIR_PACK_BATCH) {
        for (size_t s = 0; s < n_samples; s++)
            buf[s] = hnn_input_clamp_value(input, k, x[s * h->n_inputs + k]);
        return n_samples;
    }
    const double *row = x + first * h->n_inputs;
    const uint32_t *layout = h->in_layout ? h->in_layout + (size_t)k * h->in_period : NULL;
    for (size_t i = 0; i < n_slots; i++) {
        size_t j = i % (layout ? h->in_period : h->period);
        uint32_t v = layout ? layout[j] : j < h->n_inputs ? (uint32_t)j : HNN_HIR_NONE;
        buf[i] = v != HNN_HIR_NONE ? hnn_input_clamp_value(input, v, row[v]) : 0.0;
    }
    return n_slots;
}

int
hnn_exec_run(const hnn_plan *plan, hnn_exec_keys *keys, const double *x, size_t n_samples, double *y,
             hnn_exec_stats *stats, char *err, size_t err_len)
{
    const hnn_hir *h = plan->hir;
    const hnnrt_context *ctx = keys->ctx;
    size_t slots = hnnrt_context_slots(ctx);
    bool vector = h->packing == HNN_HIR_PACK_VECTOR;
    if (n_samples == 0) {
        snprintf(err, err_len, "run: no sample");
        return HNNRT_ERR_ARG;
    }
    if (vector && (hnn_hir_slots_used(h) == 0 || hnn_hir_slots_used(h) > slots || slots % hnn_hir_slots_used(h))) {
        snprintf(err, err_len, "run: period %u does not divide the %zu slots", hnn_hir_slots_used(h), slots);
        return HNNRT_ERR_ARG;
    }
    hnn_exec_stats local = {0};
    hnnrt_encoder *enc = NULL;
    hnnrt_encryptor *encr = NULL;
    hnnrt_decryptor *dec = NULL;
    hnnrt_pt *pt = NULL;
    hnn_exec_server *srv = NULL;
    hnn_exec_key_holder *holder = NULL;
    uint32_t n_in = plan->ciphertexts_in, n_out = plan->ciphertexts_out;
    hnnrt_ct **in = calloc(n_in ? n_in : 1, sizeof *in), **out = calloc(n_out ? n_out : 1, sizeof *out);
    double *buf = malloc((slots > h->n_outputs ? slots : h->n_outputs) * sizeof *buf);
    hnnrt_status st = (!in || !out || !buf) ? HNNRT_ERR_ALLOC : HNNRT_OK;
    if (st == HNNRT_OK)
        st = hnnrt_encoder_new(ctx, &enc);
    if (st == HNNRT_OK)
        st = hnnrt_encryptor_new(ctx, keys->pk, NULL, &encr);
    if (st == HNNRT_OK)
        st = hnnrt_decryptor_new(ctx, keys->sk, &dec);
    if (st == HNNRT_OK)
        st = hnnrt_pt_new(ctx, &pt);
    if (st != HNNRT_OK) {
        failed(st, err, err_len, "run", "setting up");
        goto done;
    }
    if ((st = (hnnrt_status)hnn_exec_server_new(plan, ctx, keys->rk, keys->gk, &srv, err, err_len)) != HNNRT_OK)
        goto done;
    if (plan->n_refresh_points && (st = (hnnrt_status)hnn_exec_key_holder_new(keys, &holder)) != HNNRT_OK) {
        failed(st, err, err_len, "run", "the key holder");
        goto done;
    }
    hnn_exec_server_set_refresh(srv, hnn_exec_key_holder_refresh, holder);
    /* Batch packing: one pass per batch of `slots` samples; vector: one per
     * sample. The server, its encoded plaintexts and its ciphertexts' memory
     * serve every pass. */
    size_t passes = vector ? n_samples : (n_samples + slots - 1) / slots;
    for (size_t pass = 0; pass < passes && st == HNNRT_OK; pass++) {
        const size_t first = vector ? pass : pass * slots;
        const size_t per_pass = vector ? 1 : (n_samples - first < slots ? n_samples - first : slots);
        const double *xp = vector ? x : x + first * h->n_inputs;
        double t0 = now_ms();
        for (uint32_t k = 0; k < n_in && st == HNNRT_OK; k++) {
            size_t count = hnn_exec_input_slots(plan, xp, pass, per_pass, k, buf, slots);
            if (!in[k])
                st = hnnrt_ct_new(ctx, &in[k]);
            if (st == HNNRT_OK)
                st = hnnrt_encode(enc, pt, buf, count, plan->level_scale[h->top_level], h->top_level);
            if (st == HNNRT_OK)
                st = hnnrt_encrypt(encr, in[k], pt);
            if (st != HNNRT_OK)
                failed(st, err, err_len, "encrypt", hnnrt_encoder_last_error(enc));
        }
        local.encrypt_ms += now_ms() - t0;
        if (st == HNNRT_OK) {
            t0 = now_ms();
            st = (hnnrt_status)hnn_exec_server_eval(srv, in, out, &local, err, err_len);
            local.eval_ms += now_ms() - t0;
        }
        t0 = now_ms();
        for (uint32_t k = 0; k < n_out && st == HNNRT_OK; k++) {
            st = hnnrt_decrypt(dec, pt, out[k]);
            if (st == HNNRT_OK)
                st = hnnrt_decode(enc, pt, buf, vector ? h->n_outputs : per_pass);
            if (st != HNNRT_OK) {
                failed(st, err, err_len, "decrypt", hnnrt_encoder_last_error(enc));
                break;
            }
            if (vector)
                memcpy(y + pass * h->n_outputs, buf, h->n_outputs * sizeof *y);
            else
                for (size_t s = 0; s < per_pass; s++)
                    y[(first + s) * h->n_outputs + k] = buf[s];
        }
        for (uint32_t k = 0; k < n_out; k++) {
            hnnrt_ct_free(out[k]);
            out[k] = NULL;
        }
        local.decrypt_ms += now_ms() - t0;
    }
    if (stats)
        *stats = local;
done:
    hnn_exec_server_free(srv);
    hnn_exec_key_holder_free(holder);
    for (uint32_t k = 0; in && k < n_in; k++)
        hnnrt_ct_free(in[k]);
    for (uint32_t k = 0; out && k < n_out; k++)
        hnnrt_ct_free(out[k]);
    free(in);
    free(out);
    free(buf);
    hnnrt_pt_free(pt);
    hnnrt_decryptor_free(dec);
    hnnrt_encryptor_free(encr);
    hnnrt_encoder_free(enc);
    return (int)st;
}
