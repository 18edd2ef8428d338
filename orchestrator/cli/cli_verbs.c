/* The verb table: one line per verb, implemented in cli_<verb>.c. */
#include "cli.h"

const struct cli_verb cli_verbs[] = {
    {"version", "Show the stack version information", cli_version},
    {"system", "Show host facts: guest kernel, accelerator, QEMU (system info)", cli_system},
    {"pull", "Pull images from a registry (stack pull IMAGE...)", cli_pull},
    {NULL, NULL, NULL},
};
