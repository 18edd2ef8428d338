/* Compose's `run SERVICE` form of `stack run` (cli_compose_run.c), told
 * apart from the image form (cli_run.c) by cli_compose_run_wanted(). */
#ifndef STACK_CLI_COMPOSE_RUN_H
#define STACK_CLI_COMPOSE_RUN_H

#include "cli.h"

/* Whether `stack run ARGS` is Compose's form: a Compose project is in
 * effect (-f, or a file found from the working directory as `up` finds
 * it) and the first argument after the run options names one of its
 * services.  1: the Compose form, 0: the image form (no project applies),
 * -1: the files named with -f cannot be loaded, -2: a project applies and
 * has no service of that name (Compose's `no such service: NAME`, exit
 * 1); messages printed. */
int cli_compose_run_wanted(struct cli_globals *g, int argc, char **argv);

/* `stack run [OPTIONS] SERVICE [COMMAND] [ARGS...]`: a one-off container
 * of the service, run by the project's supervisor after its dependencies
 * (unless --no-deps); returns its exit code. */
int cli_compose_run(struct cli_globals *g, int argc, char **argv);

#endif
