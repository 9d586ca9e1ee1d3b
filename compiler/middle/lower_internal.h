/*
 * Helpers shared by the lowerings (lower.c: batch packing, lower_vector.c:
 * vector packing). Internal to compiler/middle.
 */
#ifndef HNN_MIDDLE_LOWER_INTERNAL_H
#define HNN_MIDDLE_LOWER_INTERNAL_H

#include <stdint.h>

#include "middle/approx.h"
#include "middle/hir.h"

/*
 * Maps a polynomial program onto HE IR nodes charged to tensor-IR node `tir`:
 * MUL -> MUL_CT, RELIN, RESCALE; MULC -> MUL_CONST, RESCALE; ADD, SUB;
 * ADDC -> ADD_CONST. t is the HE IR id of the program's input; tmp holds
 * prog->n_instr ids (scratch). Returns the id of the result. The ops are
 * slot-wise, so the same mapping serves one element (batch packing) and a
 * whole packed vector.
 */
uint32_t hnn_lower_program(hnn_hir *h, const hnn_approx_program *prog, uint32_t t, uint32_t tir, uint32_t *tmp);

#endif
