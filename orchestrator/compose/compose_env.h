/* An ordered set of environment variables (name -> value) as the loader
 * sees them: the process environment, .env / --env-file files, and the
 * variables a service's env_file provides.  Lookups are by exact name. */
#ifndef STACK_COMPOSE_ENV_H
#define STACK_COMPOSE_ENV_H

#include <stdbool.h>
#include <stddef.h>

struct compose_env {
  char **names;
  char **values;
  size_t n, cap;
};

#define COMPOSE_ENV_INIT {NULL, NULL, 0, 0}

void compose_env_free(struct compose_env *e);
#define _cleanup_compose_env_ __attribute__((cleanup(compose_env_free)))

/* The value of name, or NULL when unset (set-but-empty gives ""). */
const char *compose_env_get(const struct compose_env *e, const char *name);
/* Sets name, replacing a previous value. */
void compose_env_set(struct compose_env *e, const char *name, const char *value);
/* Sets name only if it is not set yet; returns whether it did. */
bool compose_env_set_default(struct compose_env *e, const char *name, const char *value);
/* Adds "NAME=value" strings (NULL-terminated); strings without '=' are
 * skipped.  Later entries replace earlier ones. */
void compose_env_add_environ(struct compose_env *e, char *const *environ);
/* A new NULL-terminated "NAME=value" list in insertion order (strv). */
char **compose_env_to_environ(const struct compose_env *e);
/* A lookup callback over a struct compose_env (ud), for compose_interp. */
const char *compose_env_lookup(const char *name, void *ud);

#endif
