#include <string.h>

#include "driver/driver.h"

extern const hnn_driver_cmd hnn_driver_cmd_check;
extern const hnn_driver_cmd hnn_driver_cmd_report;
extern const hnn_driver_cmd hnn_driver_cmd_compile;
extern const hnn_driver_cmd hnn_driver_cmd_graph;
extern const hnn_driver_cmd hnn_driver_cmd_calibrate;
extern const hnn_driver_cmd hnn_driver_cmd_run;
extern const hnn_driver_cmd hnn_driver_cmd_keygen;
extern const hnn_driver_cmd hnn_driver_cmd_encrypt;
extern const hnn_driver_cmd hnn_driver_cmd_eval;
extern const hnn_driver_cmd hnn_driver_cmd_decrypt;
extern const hnn_driver_cmd hnn_driver_cmd_refresh;
extern const hnn_driver_cmd hnn_driver_cmd_train;
extern const hnn_driver_cmd hnn_driver_cmd_help;

/* To add a command: write cmd_NAME.c defining hnn_driver_cmd_NAME, list it here. */
const hnn_driver_cmd *const hnn_driver_commands[] = {
    &hnn_driver_cmd_check,
    &hnn_driver_cmd_report,
    &hnn_driver_cmd_compile,
    &hnn_driver_cmd_graph,
    &hnn_driver_cmd_calibrate,
    &hnn_driver_cmd_run,
    &hnn_driver_cmd_keygen,
    &hnn_driver_cmd_encrypt,
    &hnn_driver_cmd_eval,
    &hnn_driver_cmd_decrypt,
    &hnn_driver_cmd_refresh,
    &hnn_driver_cmd_train,
    &hnn_driver_cmd_help,
    NULL,
};

const hnn_driver_cmd *
hnn_driver_find(const char *name)
{
    for (size_t i = 0; hnn_driver_commands[i]; i++)
        if (strcmp(hnn_driver_commands[i]->name, name) == 0)
            return hnn_driver_commands[i];
    return NULL;
}
