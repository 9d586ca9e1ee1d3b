/*
 * The cost model: nanoseconds per CKKS operation at any ring and level,
 * fitted to the lines `make bench` prints (the default table ships in
 * compiler/middle/cost_default.c; `hnnc calibrate` rebuilds it from bench
 * JSON lines). The planner multiplies operation counts by these costs to
 * estimate latency, and uses them to choose packings, BSGS splits and the
 * key-switching digits of the parameter set.
 *
 * Form (docs/design/cost-model.md derives it from the runtime's code): the
 * cost of an op is a sum of at most HNN_COST_MAX_TERMS work terms, each a
 * count that follows from the algorithm (limb NTTs of N log N butterflies,
 * limb-wise products of N coefficients, ...) times a fitted constant:
 *
 *   cost(op, N, l, k, alpha) = sum_t c_op[t] * w_t(op, N, l, k, alpha)
 *
 * with l the RNS limbs at the operation's level (level + 1), k the special
 * primes, alpha the data primes per key-switching digit and
 * beta = ceil(l / alpha) the digits at that level. The bench measures one
 * chain length per ring, so the constants are fitted across rings (four
 * points per op), by least squares on the relative error with every constant
 * >= 0; a term whose constant would go negative is left out. Because every
 * w_t grows with N and with l, so does every cost.
 */
#ifndef HNN_MIDDLE_COST_H
#define HNN_MIDDLE_COST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hnnrt.h"

typedef enum hnn_cost_op {
    HNN_COST_ADD,
    HNN_COST_MUL_PT,
    HNN_COST_MUL_CONST,      /* no bench line: mul_pt's element-wise cost */
    HNN_COST_MUL_CT,
    HNN_COST_RELIN,
    HNN_COST_RESCALE,
    HNN_COST_ROTATE,         /* rotation or conjugation, one key switch */
    HNN_COST_ROTATE_HOISTED, /* per rotation after a shared decomposition */
    HNN_COST_HOIST,          /* the shared decomposition itself */
    HNN_COST_ENCODE,
    HNN_COST_ENCRYPT,
    HNN_COST_DECRYPT,
    HNN_COST_DECODE,
    HNN_COST_LINEAR,         /* per output of a linear combination: its reduction
                                and store; no bench line: add's cost */
    HNN_COST_LINEAR_TERM,    /* per term of a linear combination (bench "linear") */
    HNN_COST__COUNT
} hnn_cost_op;

#define HNN_COST_MAX_TERMS 3

/* "add", "mul_pt", ..., "hoist"; "?" out of range. */
const char *hnn_cost_op_name(hnn_cost_op op);

/*
 * The work terms of op at ring 2^log_n with `limbs` limbs, `special` special
 * primes and `alpha` data primes per digit, into w[0..HNN_COST_MAX_TERMS)
 * (unused terms 0). Returns how many terms the op has. limbs, special and
 * alpha below 1 count as 1.
 */
unsigned hnn_cost_terms(hnn_cost_op op, unsigned log_n, unsigned limbs, unsigned special, unsigned alpha,
                        double w[HNN_COST_MAX_TERMS]);

typedef struct hnn_cost_entry {
    hnn_cost_op op;
    double c_ns[HNN_COST_MAX_TERMS]; /* nanoseconds per unit of each work term */
    unsigned n_points;               /* bench lines the fit used; 0: not fitted (see source) */
    double max_ratio;                /* worst max(model/measured, measured/model) over them */
} hnn_cost_entry;

/* One bench line as the fit saw it, with what the fitted table predicts. */
typedef struct hnn_cost_point {
    char op[24];   /* the bench's name: "relin", "rotate_hoisted", "mul_relin", ... */
    unsigned log_n, levels, special, dnum;
    double median_ns;
    double model_ns;
    unsigned terms, outputs; /* "linear": the combination's terms and outputs; 0 otherwise */
} hnn_cost_point;

typedef struct hnn_cost_table {
    const hnn_cost_entry *entries; /* HNN_COST__COUNT of them, entries[op].op == op */
    size_t count;
    const hnn_cost_point *points;  /* the calibration lines, for the fit report */
    size_t n_points;
    int threads;                   /* the thread count the table was measured with */
    const char *source;            /* "default" or the calibration file */
} hnn_cost_table;

/* The table shipped with hnnc (measured on the reference machine, 1 thread). */
const hnn_cost_table *hnn_cost_default(void);

/* Nanoseconds of one op at ring 2^log_n with `limbs` limbs (level + 1).
 * Key-switching ops (RELIN, ROTATE, ROTATE_HOISTED, HOIST) assume the
 * runtime's default digits for one special prime: k = 1, alpha = 1. */
double hnn_cost_ns(const hnn_cost_table *t, hnn_cost_op op, unsigned log_n, unsigned limbs);
/* The same with the key-switching layout given: k special primes and alpha
 * data primes per digit (alpha = ceil((L + 1) / dnum) for a spec's dnum;
 * at `limbs` limbs the op works on ceil(limbs / alpha) digits). */
double hnn_cost_ks_ns(const hnn_cost_table *t, hnn_cost_op op, unsigned log_n, unsigned limbs, unsigned special,
                      unsigned alpha);
/* The op at a level of a parameter set (limbs = level + 1, its k and alpha). */
double hnn_cost_spec_ns(const hnn_cost_table *t, hnn_cost_op op, const hnnrt_params_spec *spec, unsigned level);

/*
 * Builds a table from `make bench` JSON lines (one object per line), keeping
 * the lines measured with 1 thread. Lines that do not start with '{' (blank,
 * make's echo of the command, comments) are skipped, and so are objects whose
 * op the model does not use (ntt_fwd, ntt_inv, keygen_galois, unknown names).
 * Returns false with a message in err ("line 3: missing field \"median_ns\"")
 * on an object that is not valid JSON or lacks a field, or when no line is
 * usable. Ops without lines keep the default table's constants (n_points 0).
 * The table is malloc'd; free with hnn_cost_table_free.
 */
bool hnn_cost_from_bench(FILE *in, hnn_cost_table **out, char *err, size_t err_len);
/* The same for the lines measured with `threads` threads. */
bool hnn_cost_from_bench_threads(FILE *in, int threads, hnn_cost_table **out, char *err, size_t err_len);
void hnn_cost_table_free(hnn_cost_table *t);

/* Writes a table as C source (for cost_default.c) or as JSON. */
void hnn_cost_write_c(FILE *out, const hnn_cost_table *t);
void hnn_cost_write_json(FILE *out, const hnn_cost_table *t);
/* The fit report: one row per calibration line, measured vs model and ratio. */
void hnn_cost_write_ratios(FILE *out, const hnn_cost_table *t);

#endif
