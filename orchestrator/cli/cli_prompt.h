/* The confirmation the prune commands ask for, as the docker CLI asks it. */
#ifndef STACK_CLI_PROMPT_H
#define STACK_CLI_PROMPT_H

#include <stdbool.h>

/* Prints warning (ending in a newline) and "Are you sure you want to
 * continue? [y/N] " on stdout and reads a line from stdin: true for "y" or
 * "yes" (any case).  Without input (no terminal, nothing piped) it is no,
 * and the caller does nothing and exits 0, as docker does. */
bool cli_confirm(const char *warning);

#endif
