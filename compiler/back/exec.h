/*
 * The plan executor: runs a planned HE IR on libhnnrt. It is the engine of
 * `hnnc run` and the check that a plan is what runs: tests compare its
 * decrypted outputs with the tensor IR evaluated on doubles.
 *
 * The key holder's side (keys, encryption, decryption) and the server's
 * (evaluation with the public evaluation keys only) are separate calls, so
 * the executor can be split across processes; hnn_exec_run does both in one
 * process.
 */
#ifndef HNN_BACK_EXEC_H
#define HNN_BACK_EXEC_H

#include <stddef.h>

#include "hnnrt.h"
#include "middle/plan.h"

typedef struct hnn_exec_keys {
    hnnrt_context *ctx;
    hnnrt_secret_key *sk;
    hnnrt_public_key *pk;
    hnnrt_relin_key *rk;
    hnnrt_galois_keys *gk;
    /* Tests of the refresh mask: the slot values the key holder decrypted
     * at refreshes (slot 0 of each ciphertext, in the order handed over), up
     * to seen_cap of them. */
    double *seen;
    size_t n_seen, seen_cap;
} hnn_exec_keys;

typedef struct hnn_exec_stats {
    double keygen_ms;
    double encrypt_ms;
    double eval_ms;               /* all evaluations */
    double decrypt_ms;
    size_t peak_live_ciphertexts;
    size_t evaluations;           /* circuit evaluations (vector packing: one per sample) */
    size_t pt_encodes;            /* plaintexts encoded (each (pt, level, scale) once) */
    size_t pt_reuses;             /* MUL_PT/ADD_PT served from the cache */
    size_t rotations;             /* ROTATEs with their own key switch */
    size_t hoists;                /* decompositions shared by several ROTATEs */
    size_t hoisted_rotations;     /* ROTATEs served from a shared decomposition */
    size_t refreshes;             /* ciphertexts refreshed by the key holder */
    size_t refresh_round_trips;   /* calls of the refresh callback: one per refresh point */
    size_t refresh_bytes;         /* ciphertext bytes sent to the key holder and back */
    double refresh_ms;            /* time spent in the key holder's refresh callback */
} hnn_exec_stats;

/*
 * The key holder's side of a masked refresh, one call (one round trip) per
 * refresh point. The server hands over the point's n ciphertexts cts[0..n),
 * each encrypting v + r with r a uniform mask of its own that the server
 * drew (the key holder sees only v + r); the callback replaces each cts[i],
 * in place, by a fresh encryption of the same slots at `level` with `scale`
 * (the top of the chain). The server then subtracts each r. 0, or an
 * hnnrt_status.
 */
typedef int (*hnn_exec_refresh_fn)(void *user, hnnrt_ct *const *cts, size_t n, unsigned level, double scale);

/* A context for the plan's parameters and a fresh key set (secret, public,
 * relinearisation, and Galois keys for exactly the plan's rotation steps
 * and conjugation). 0 or an hnnrt_status. */
int hnn_exec_keys_new(const hnn_plan *plan, hnn_exec_keys *keys, char *err, size_t err_len);
void hnn_exec_keys_free(hnn_exec_keys *keys);

/*
 * x holds n_samples rows of plan->hir->n_inputs features; y receives
 * n_samples rows of n_outputs values (the circuit's outputs: logits before
 * a softargmax). Encrypts, evaluates, decrypts. Batch packing: one
 * evaluation per batch of up to `slots` samples, feature k of sample s in
 * slot s of ciphertext k. Vector packing: one evaluation per sample, its
 * features in slots 0..n_inputs-1 replicated every `period` slots, its
 * outputs read from slots 0..n_outputs-1; the plaintexts are encoded once
 * for all the samples. 0, or an hnnrt_status with a message in err.
 */
/* The slots of input ciphertext k: batch packing, feature k of samples
 * x[0..n_samples) in slots 0..n_samples-1; vector packing, the features of
 * sample `first` in slots 0..n_inputs-1 repeated every period over n_slots
 * slots, or ciphertext k of the plan's client layout (hir->in_layout). Each
 * value is clamped into its element's declared range (the plan's bounds hold
 * only there; hnn_input_clamp counts them beforehand).
 * Returns the slots filled in buf. */
size_t hnn_exec_input_slots(const hnn_plan *plan, const double *x, size_t first, size_t n_samples, uint32_t k,
                            double *buf, size_t n_slots);

int hnn_exec_run(const hnn_plan *plan, hnn_exec_keys *keys, const double *x, size_t n_samples, double *y,
                 hnn_exec_stats *stats, char *err, size_t err_len);

/*
 * The server side alone. A server holds the evaluation keys (borrowed: they
 * must outlive it) and the plaintexts of the circuit, encoded on first use
 * at each (plaintext, level, scale) and kept for the next evaluations.
 * in[k] is input ciphertext k and out[k] receives output ciphertext k,
 * k < plan->ciphertexts_in / ciphertexts_out (allocated by the call, freed
 * by the caller). Rotations of one value by several steps share one
 * decomposition (hoisting). Its working ciphertexts are kept from one
 * evaluation to the next, so later evaluations allocate only the table of
 * values and the output ciphertexts. Stats, when given, are added to.
 */
typedef struct hnn_exec_server hnn_exec_server;

int hnn_exec_server_new(const hnn_plan *plan, const hnnrt_context *ctx, const hnnrt_relin_key *rk,
                        const hnnrt_galois_keys *gk, hnn_exec_server **out, char *err, size_t err_len);
int hnn_exec_server_eval(hnn_exec_server *srv, hnnrt_ct *const *in, hnnrt_ct **out, hnn_exec_stats *stats,
                         char *err, size_t err_len);
void hnn_exec_server_free(hnn_exec_server *srv);
/* Where REFRESH nodes go: without a callback they fail. */
void hnn_exec_server_set_refresh(hnn_exec_server *srv, hnn_exec_refresh_fn fn, void *user);
/*
 * The in-process key holder: decrypts each ciphertext, decodes its complex
 * slots and encodes and encrypts them again at (level, scale), wiping the
 * decoded values. A key holder object keeps its encoder, decryptor and
 * encryptor (borrowing keys, which must outlive it) for many refresh points;
 * hnn_exec_key_holder_refresh is an hnn_exec_refresh_fn (user: the object).
 * The values seen are recorded when keys->seen is
 * set, for tests of the mask. 0, or an hnnrt_status.
 */
typedef struct hnn_exec_key_holder hnn_exec_key_holder;
int hnn_exec_key_holder_new(hnn_exec_keys *keys, hnn_exec_key_holder **out);
void hnn_exec_key_holder_free(hnn_exec_key_holder *holder);
int hnn_exec_key_holder_refresh(void *user, hnnrt_ct *const *cts, size_t n, unsigned level, double scale);

/* One evaluation with a server made and freed for it. */
int hnn_exec_eval(const hnn_plan *plan, const hnnrt_context *ctx, const hnnrt_relin_key *rk,
                  const hnnrt_galois_keys *gk, hnnrt_ct *const *in, hnnrt_ct **out, size_t *peak_live, char *err,
                  size_t err_len);

#endif
