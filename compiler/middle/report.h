/*
 * The plan report: what a circuit costs — depth, parameters and security,
 * operation counts, key memory, estimated latency — per layer and in all,
 * as a readable table or as the versioned JSON document described in
 * docs/report-schema.md (schema file docs/report.schema.json).
 */
#ifndef HNN_MIDDLE_REPORT_H
#define HNN_MIDDLE_REPORT_H

#include <stdio.h>

#include "middle/plan.h"

#define HNN_REPORT_SCHEMA_VERSION 1

typedef struct hnn_report_layer {
    const char *name;
    const char *kind;
    uint32_t size;
    uint32_t level_in, level_out;
    uint64_t ops[HNN_HIR__COUNT];
    uint64_t linear_terms;    /* terms of its LINEAR ops (multiply-accumulates) */
    double est_ms;
} hnn_report_layer;

typedef struct hnn_report {
    const hnn_plan *plan;
    hnn_report_layer *layers; /* one per tensor-IR node but the input */
    uint32_t n_layers;
    uint64_t ops[HNN_HIR__COUNT];
    uint64_t linear_terms;
    double est_ms;            /* one evaluation of the circuit */
    double relin_key_mb, galois_keys_mb, ciphertext_mb;
    uint32_t ciphertexts_in, ciphertexts_out;
} hnn_report;

/* Summarises a plan with the default cost table. */
void hnn_report_build(hnn_report *r, const hnn_plan *plan, hnn_arena *arena);
void hnn_report_print_text(FILE *out, const hnn_report *r);
/* The JSON report; returns 0, or -1 when it could not be written. */
int hnn_report_print_json(FILE *out, const hnn_report *r);

#endif
