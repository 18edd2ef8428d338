/* The names Docker and Compose accept, checked when a file is loaded and
 * for names given on the command line, so that a file that could not run
 * is refused before anything is created, and every name that later names
 * a file under stack's state is a plain one (runtime/util/state_path.h
 * refuses any other, as a second line):
 *
 *   project            [a-z0-9][a-z0-9_-]*, at most 128      Compose's rule
 *   container          [a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 200  Docker's (no
 *                      upper bound there; stack names files after it:
 *                      "<name>-anon-<hash>", "<name>.log.1")
 *   volume             [a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 255  Docker's
 *                      local driver (a directory is named after it)
 *   network            anything not blank                   Docker's rule
 *   secret, config     [a-zA-Z0-9]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?, at most
 *                      64                                   Docker's rule */
#ifndef STACK_COMPOSE_NAMES_H
#define STACK_COMPOSE_NAMES_H

struct stack_error;

enum compose_name_kind {
  COMPOSE_NAME_PROJECT,
  COMPOSE_NAME_CONTAINER,
  COMPOSE_NAME_VOLUME,
  COMPOSE_NAME_NETWORK,
  COMPOSE_NAME_SECRET,
  COMPOSE_NAME_CONFIG,
};

/* NULL when name follows kind's rule, else the rule as a sentence to show
 * the user ("use 2 to 128 letters, ..."). */
const char *compose_name_rule(enum compose_name_kind kind, const char *name);

/* "project", "container", ... */
const char *compose_name_kind_str(enum compose_name_kind kind);

/* Checks name: 0, or -EINVAL with "invalid <kind> name "<name>": <rule>"
 * (a long name shown cut). */
int compose_name_check(enum compose_name_kind kind, const char *name, struct stack_error **err);

/* The longest container name (see above). */
#define COMPOSE_CONTAINER_NAME_MAX 200

#endif
