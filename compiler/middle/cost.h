/*
 * The cost model: per-operation costs at each ring and level, from a
 * calibration table measured by `make bench` (the default table ships in
 * compiler/middle/cost_default.c; `hnnc calibrate` rebuilds it from bench
 * JSON lines). The planner multiplies operation counts by these costs to
 * estimate latency, and uses them to choose packings and BSGS splits.
 *
 * Costs are modelled per (op, log N) as a + b * limbs, where limbs is the
 * number of RNS limbs at the operation's level (level + 1), with key-switching
 * operations also depending on the special primes and digits; the fit comes
 * from bench lines at several chain lengths.
 */
#ifndef HNN_MIDDLE_COST_H
#define HNN_MIDDLE_COST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum hnn_cost_op {
    HNN_COST_ADD,
    HNN_COST_MUL_PT,
    HNN_COST_MUL_CONST,
    HNN_COST_MUL_CT,
    HNN_COST_RELIN,
    HNN_COST_RESCALE,
    HNN_COST_ROTATE,
    HNN_COST_ROTATE_HOISTED, /* per rotation after a shared decomposition */
    HNN_COST_HOIST,          /* the shared decomposition itself */
    HNN_COST_ENCODE,
    HNN_COST_ENCRYPT,
    HNN_COST_DECRYPT,
    HNN_COST_DECODE,
    HNN_COST__COUNT
} hnn_cost_op;

const char *hnn_cost_op_name(hnn_cost_op op);

typedef struct hnn_cost_entry {
    hnn_cost_op op;
    unsigned log_n;
    double a_ns, b_ns; /* cost(limbs) = a + b * limbs, nanoseconds */
} hnn_cost_entry;

typedef struct hnn_cost_table {
    hnn_cost_entry *entries;
    size_t count;
    int threads;         /* the thread count the table was measured with */
    const char *source;  /* "default" or the calibration file */
} hnn_cost_table;

/* The table shipped with hnnc (measured on the reference machine, 1 thread). */
const hnn_cost_table *hnn_cost_default(void);
/* Nanoseconds of one op at ring 2^log_n with `limbs` limbs (level + 1);
 * log_n between table rows is interpolated by N log N scaling. */
double hnn_cost_ns(const hnn_cost_table *t, hnn_cost_op op, unsigned log_n, unsigned limbs);

/* Builds a table from `make bench` JSON lines (one object per line). Returns
 * false with a message in err on malformed input. The table is malloc'd;
 * free with hnn_cost_table_free. */
bool hnn_cost_from_bench(FILE *in, hnn_cost_table **out, char *err, size_t err_len);
void hnn_cost_table_free(hnn_cost_table *t);
/* Writes a table as C source (for cost_default.c) or as JSON. */
void hnn_cost_write_c(FILE *out, const hnn_cost_table *t);
void hnn_cost_write_json(FILE *out, const hnn_cost_table *t);

#endif
