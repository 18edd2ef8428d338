#include "dep_gate.h"

#include <stdlib.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"

static bool is_exited(const struct dep_container *c) {
  return c->status == CTR_EXITED || c->status == CTR_DEAD;
}

/* Compose's isServiceHealthy(): DEP_GO when all are healthy (or running
 * without a check, with fallback), DEP_WAIT while one is still starting,
 * DEP_FAIL with the reason otherwise. */
static enum dep_verdict healthy(const struct dep_input *d, bool fallback_running, char **why) {
  for (size_t i = 0; i < d->n_containers; i++) {
    const struct dep_container *c = &d->containers[i];
    if (c->start_failed) {
      *why = xasprintf("container %s could not be started", c->name);
      return DEP_FAIL;
    }
    if (is_exited(c)) {
      *why = xasprintf("container %s exited (%d)", c->name, c->exit_code);
      return DEP_FAIL;
    }
    if (c->status == CTR_CREATED || c->status == CTR_RESTARTING)
      return DEP_WAIT;
    if (!c->has_healthcheck) {
      if (fallback_running) {
        if (c->status != CTR_RUNNING)
          return DEP_WAIT;
        continue;
      }
      if (c->just_started)
        return DEP_WAIT; /* an exit by the first look is reported as the exit */
      *why = xasprintf("container %s has no healthcheck configured", c->name);
      return DEP_FAIL;
    }
    switch (c->health) {
    case HEALTH_HEALTHY:
      continue;
    case HEALTH_UNHEALTHY:
      *why = xasprintf("container %s is unhealthy", c->name);
      return DEP_FAIL;
    default:
      return DEP_WAIT;
    }
  }
  return DEP_GO;
}

enum dep_verdict dep_check(const char *dependant, const struct dep_input *d, char **msg) {
  *msg = NULL;
  if (d->skip || d->scale == 0)
    return DEP_GO;
  if (d->n_containers == 0) {
    *msg = xasprintf("%s is missing dependency %s", dependant, d->service);
    return d->required ? DEP_FAIL : DEP_GO;
  }
  char *why = NULL;
  enum dep_verdict v;
  switch (d->condition) {
  case DEP_STARTED:
    v = DEP_GO;
    for (size_t i = 0; i < d->n_containers; i++) {
      const struct dep_container *c = &d->containers[i];
      if (c->start_failed) {
        why = xasprintf("container %s could not be started", c->name);
        v = DEP_FAIL;
        break;
      }
      if (c->status == CTR_CREATED)
        v = DEP_WAIT;
    }
    if (v != DEP_FAIL)
      return v;
    if (!d->required) {
      *msg = xasprintf("optional dependency \"%s\" failed to start: %s", d->service, why);
      free(why);
      return DEP_GO;
    }
    *msg = xasprintf("dependency failed to start: %s", why);
    free(why);
    return DEP_FAIL;

  case DEP_HEALTHY:
  case DEP_RUNNING_OR_HEALTHY:
    v = healthy(d, d->condition == DEP_RUNNING_OR_HEALTHY, &why);
    if (v != DEP_FAIL)
      return v;
    if (!d->required)
      *msg = xasprintf("optional dependency \"%s\" %s: %s", d->service,
                       d->condition == DEP_HEALTHY ? "failed to start"
                                                   : "is not running or is unhealthy",
                       why);
    else if (d->condition == DEP_HEALTHY)
      *msg = xasprintf("dependency failed to start: %s", why);
    else
      *msg = xasprintf("%s", why);
    free(why);
    return d->required ? DEP_FAIL : DEP_GO;

  case DEP_COMPLETED_OK:
    for (size_t i = 0; i < d->n_containers; i++) {
      const struct dep_container *c = &d->containers[i];
      int code;
      if (c->start_failed)
        code = is_exited(c) && c->exit_code ? c->exit_code : -1;
      else if (is_exited(c))
        code = c->exit_code;
      else
        continue;
      if (code == 0)
        return DEP_GO;
      *msg = xasprintf("%s \"%s\" didn't complete successfully: exit %d",
                       d->required ? "service" : "optional dependency", d->service, code);
      return d->required ? DEP_FAIL : DEP_GO;
    }
    return DEP_WAIT;
  }
  return DEP_GO;
}

static void strv_append(char ***v, char *s) {
  size_t k = 0;
  while (*v && (*v)[k])
    k++;
  *v = xrealloc(*v, (k + 2) * sizeof(char *));
  (*v)[k] = s;
  (*v)[k + 1] = NULL;
}

enum dep_verdict dep_gate(const char *dependant, const struct dep_input *deps, size_t n,
                          char **error, char ***warnings) {
  *error = NULL;
  enum dep_verdict all = DEP_GO;
  _cleanup_strv_ char **warn = NULL;
  for (size_t i = 0; i < n; i++) {
    char *msg = NULL;
    enum dep_verdict v = dep_check(dependant, &deps[i], &msg);
    if (v == DEP_FAIL) {
      *error = msg;
      return DEP_FAIL;
    }
    if (msg != NULL)
      strv_append(&warn, msg);
    if (v == DEP_WAIT)
      all = DEP_WAIT;
  }
  /* The gate is asked again on every change: warn once, when it opens. */
  if (all == DEP_GO)
    for (size_t i = 0; warn && warn[i]; i++)
      strv_append(warnings, steal_pointer(&warn[i]));
  return all;
}
