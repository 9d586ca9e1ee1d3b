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
} hnn_exec_keys;

typedef struct hnn_exec_stats {
    double keygen_ms;
    double encrypt_ms;
    double eval_ms;
    double decrypt_ms;
    size_t peak_live_ciphertexts;
} hnn_exec_stats;

/* A context for the plan's parameters and a fresh key set (secret, public,
 * relinearisation, the Galois keys the plan uses). 0 or an hnnrt_status. */
int hnn_exec_keys_new(const hnn_plan *plan, hnn_exec_keys *keys, char *err, size_t err_len);
void hnn_exec_keys_free(hnn_exec_keys *keys);

/*
 * Batch packing: x holds n_samples rows of plan->hir->n_inputs features
 * (n_samples <= slots); y receives n_samples rows of n_outputs values
 * (the circuit's outputs: logits before a softargmax). Encrypts, evaluates,
 * decrypts. 0, or an hnnrt_status with a message in err.
 */
int hnn_exec_run(const hnn_plan *plan, hnn_exec_keys *keys, const double *x, size_t n_samples, double *y,
                 hnn_exec_stats *stats, char *err, size_t err_len);

/* The server side alone: in[k] is the ciphertext of input k; out[k]
 * receives output k (allocated by the call, freed by the caller). */
int hnn_exec_eval(const hnn_plan *plan, const hnnrt_context *ctx, const hnnrt_relin_key *rk,
                  const hnnrt_galois_keys *gk, hnnrt_ct *const *in, hnnrt_ct **out, size_t *peak_live, char *err,
                  size_t err_len);

#endif
