/* Which project a Compose verb works on, and a connection to its
 * supervisor: shared by cli_ps.c, cli_events.c, cli_up.c, ... */
#ifndef STACK_CLI_PROJECT_H
#define STACK_CLI_PROJECT_H

#include <stdbool.h>

#include "cli.h"
#include "runtime/image/image.h"

struct stack_error;
struct sup_paths;
struct sup_client;

/* The project name: -p (checked), else the one compose_load() finds
 * (COMPOSE_PROJECT_NAME, the file's `name`, the directory). */
int cli_project_name(const struct cli_globals *g, char **name, struct stack_error **err);

struct compose_load_opts;
/* compose_load_opts.warn for the CLI: Compose's warning line on stderr, each
 * message once per command (ud: g->warned, or NULL). */
void cli_project_print_load_warning(const char *msg, void *ud);
/* The compose_load() options the global flags ask for (-f, --env-file,
 * --profile, -p, --project-directory), with the warnings printed; the
 * strings stay g's. */
void cli_project_load_opts(const struct cli_globals *g, struct compose_load_opts *o);

/* Connects to the supervisor of the project named by g.  With start, one
 * is started when none runs; without it, *out is NULL (and 0 returned) when
 * the project has no state at all: there is nothing to ask about. */
int cli_project_client(const struct cli_globals *g, bool start, struct sup_paths *paths,
                       struct sup_client **out, struct stack_error **err);

typedef struct cJSON cJSON;
/* Whether the project is named by -p alone (no -f): as Compose does, the
 * verbs that act on existing containers then read no file at all, from any
 * directory; the supervisor uses what it knows of the project. */
bool cli_project_by_name(const struct cli_globals *g);

/* Adds to params what the supervisor needs to load the project as this
 * command sees it: -f, --env-file, --profile, -p, --project-directory, the
 * working directory and the environment (for interpolation). */
void cli_project_load_params(const struct cli_globals *g, cJSON *params);
/* As cli_project_load_params(), or only "by_name" when
 * cli_project_by_name(). */
void cli_project_existing_params(const struct cli_globals *g, cJSON *params);

/* A request's event handler for sup_client_call() that prints the
 * supervisor's warnings (as `up` does) and ignores the rest. */
int cli_project_print_warning(const cJSON *ev, void *data);

struct compose_project;
/* Adds the project this command loaded, as the supervisor builds its
 * model from it (params.model: its normalised tree and directory), so that
 * the supervisor does not load the files again.  Left out when it would
 * not fit in a request line: the supervisor loads the files then. */
void cli_project_model_param(const struct compose_project *p, cJSON *params);

/* Parses a -t/--timeout value (seconds, >= 0) for verb; prints the error
 * and returns -1 when it is not one. */
int cli_parse_timeout(const struct cli_globals *g, const char *verb, const char *arg,
                      double *out);

/* cli_rm_kill.c: calls the supervisor's method with params (taken over)
 * and the services named in argv[optind..] as params.containers, printing
 * " Container NAME  <done>" for each name in result[key]; returns the exit
 * code. */
int cli_call_named(struct cli_globals *g, int argc, char **argv, const char *method,
                   cJSON *params, const char *key, const char *done);

struct compose_service;
/* Whether v is a `--pull` value of `up`, `create` and `run`: always,
 * missing, never, policy (the service's pull_policy, the default); prints
 * why not for verb and returns false otherwise. */
bool cli_pull_flag_ok(const struct cli_globals *g, const char *verb, const char *v);

/* How a service's image is got: the `--pull` value (NULL = policy), else
 * its pull_policy (always, never; anything else pulls what is missing). */
enum image_pull_policy cli_pull_policy(const char *flag, const struct compose_service *sv);

struct compose_project;
/* Gets the images of p's services at indices order[0..n) (those with an
 * image), as --pull (NULL = each pull_policy) says, printing progress
 * unless quiet; a failure is printed, naming the service, and is -1.
 * Images come before the supervisor is asked: a pull shows its progress in
 * the CLI, and the supervisor's loop never waits on a registry. */
int cli_pull_images(const struct compose_project *p, const size_t *order, size_t n,
                    const char *pull, bool quiet);

/* The executable a supervisor is started from. */
#define CLI_SUPERVISOR_EXE "/proc/self/exe"

#endif
