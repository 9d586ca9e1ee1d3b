#include "middle/lower_internal.h"

static uint32_t
emit1(hnn_hir *h, hnn_hir_op op, uint32_t a, uint32_t tir)
{
    return hnn_hir_emit(h, op, a, HNN_HIR_NONE, tir);
}

static uint32_t
emit_const(hnn_hir *h, hnn_hir_op op, uint32_t a, double c, uint32_t tir)
{
    uint32_t id = emit1(h, op, a, tir);
    hnn_hir_at(h, id)->c = c;
    return id;
}

/* see lower_internal.h */
uint32_t
hnn_lower_program(hnn_hir *h, const hnn_approx_program *prog, uint32_t t, uint32_t tir, uint32_t *tmp)
{
    for (uint32_t i = 0; i < prog->n_instr; i++) {
        const hnn_approx_instr *in = &prog->instr[i];
        uint32_t a = in->a < i ? tmp[in->a] : HNN_HIR_NONE, b = in->b < i ? tmp[in->b] : HNN_HIR_NONE;
        switch (in->op) {
        case HNN_APPROX_INPUT:
            tmp[i] = t;
            break;
        case HNN_APPROX_MUL: {
            uint32_t m = hnn_hir_emit(h, HNN_HIR_MUL_CT, a, b, tir);
            m = emit1(h, HNN_HIR_RELIN, m, tir);
            tmp[i] = emit1(h, HNN_HIR_RESCALE, m, tir);
            break;
        }
        case HNN_APPROX_MULC:
            tmp[i] = emit1(h, HNN_HIR_RESCALE, emit_const(h, HNN_HIR_MUL_CONST, a, in->c, tir), tir);
            break;
        case HNN_APPROX_ADD:
            tmp[i] = hnn_hir_emit(h, HNN_HIR_ADD, a, b, tir);
            break;
        case HNN_APPROX_SUB:
            tmp[i] = hnn_hir_emit(h, HNN_HIR_SUB, a, b, tir);
            break;
        case HNN_APPROX_ADDC:
            tmp[i] = emit_const(h, HNN_HIR_ADD_CONST, a, in->c, tir);
            break;
        }
    }
    return tmp[prog->result];
}
