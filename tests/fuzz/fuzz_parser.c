/*
 * libFuzzer harness for the .hnn front end: any bytes go through the scanner,
 * the parser, sema (with no file access), the diagnostics printer, the
 * pretty-printer and the model dump. Built and run by `make fuzz`; crashing
 * inputs it finds belong in tests/golden/robust/ as regression cases.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "front/front.h"
#include "front/print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    hnn_arena *arena = hnn_arena_new();
    hnn_diag *diag = hnn_diag_new();
    if (!arena || !diag || !sink) {
        hnn_arena_free(arena);
        hnn_diag_free(diag);
        return 0;
    }
    hnn_front_options opt = {.no_io = true};
    hnn_ast_model *ast = NULL;
    hnn_model *model = hnn_front_check_text("fuzz.hnn", (const char *)data, size, "", &opt, arena, diag, &ast);
    hnn_diag_print(diag, sink);
    if (ast)
        hnn_ast_print(sink, ast);
    if (model)
        hnn_model_dump(sink, model);
    hnn_diag_free(diag);
    hnn_arena_free(arena);
    return 0;
}
