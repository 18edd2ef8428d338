/* Small pieces of argument handling the Compose verbs share. */
#ifndef STACK_CLI_ARGS_H
#define STACK_CLI_ARGS_H

#include "cli.h"

typedef struct cJSON cJSON;

/* For a verb whose only option is -h/--help: prints usage (a format with
 * one %s, the program name) for -h and returns 0, or on stderr for an
 * unknown option and returns 1; returns -1 when there was no option (go
 * on with argv[optind..]). */
int cli_help_only(const struct cli_globals *g, int argc, char **argv, const char *usage);

/* Adds argv[optind..argc) as a list params[key] (names of services or
 * containers); nothing when there are none. */
void cli_add_names(cJSON *params, const char *key, int argc, char **argv);

/* When no operand follows the options (next, the first operand, is
 * argc): prints "<prog>: '<cmd>' requires at least 1 argument" and the
 * usage line "<prog> <cmd> <operands>", as Docker's CLI does, and returns
 * false. */
bool cli_need_args(const char *prog, int argc, int next, const char *cmd,
                   const char *operands);

#endif
