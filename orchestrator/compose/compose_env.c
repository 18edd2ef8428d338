#include "compose_env.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/util/xalloc.h"

void compose_env_free(struct compose_env *e) {
  for (size_t i = 0; i < e->n; i++) {
    free(e->names[i]);
    free(e->values[i]);
  }
  free(e->names);
  free(e->values);
  memset(e, 0, sizeof(*e));
}

static long find(const struct compose_env *e, const char *name) {
  for (size_t i = 0; i < e->n; i++)
    if (strcmp(e->names[i], name) == 0)
      return (long)i;
  return -1;
}

const char *compose_env_get(const struct compose_env *e, const char *name) {
  long i = find(e, name);
  return i < 0 ? NULL : e->values[i];
}

void compose_env_set(struct compose_env *e, const char *name, const char *value) {
  long i = find(e, name);
  if (i >= 0) {
    free(e->values[i]);
    e->values[i] = xstrdup(value);
    return;
  }
  size_t cap = e->cap;
  e->names = xgrow(e->names, &cap, e->n + 1, sizeof(*e->names));
  e->values = xgrow(e->values, &e->cap, e->n + 1, sizeof(*e->values));
  e->names[e->n] = xstrdup(name);
  e->values[e->n] = xstrdup(value);
  e->n++;
}

bool compose_env_set_default(struct compose_env *e, const char *name, const char *value) {
  if (find(e, name) >= 0)
    return false;
  compose_env_set(e, name, value);
  return true;
}

void compose_env_add_environ(struct compose_env *e, char *const *environ) {
  for (char *const *p = environ; p && *p; p++) {
    const char *eq = strchr(*p, '=');
    if (eq == NULL || eq == *p)
      continue;
    char *name = xstrndup(*p, (size_t)(eq - *p));
    compose_env_set(e, name, eq + 1);
    free(name);
  }
}

char **compose_env_to_environ(const struct compose_env *e) {
  char **v = xcalloc(e->n + 1, sizeof(*v));
  for (size_t i = 0; i < e->n; i++)
    v[i] = xasprintf("%s=%s", e->names[i], e->values[i]);
  return v;
}

const char *compose_env_lookup(const char *name, void *ud) {
  return compose_env_get(ud, name);
}
