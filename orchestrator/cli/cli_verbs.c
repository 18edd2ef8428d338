/* The verb table: one line per verb, implemented in cli_<verb>.c. */
#include "cli.h"

const struct cli_verb cli_verbs[] = {
    {"version", "Show the stack version information", cli_version},
    {NULL, NULL, NULL},
};
