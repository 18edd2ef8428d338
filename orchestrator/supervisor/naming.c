#include "naming.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_names.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

char *naming_container_name(const char *project, const char *service, unsigned number,
                            const char *container_name) {
  if (container_name != NULL && *container_name)
    return xstrdup(container_name);
  return xasprintf("%s-%s-%u", project, service, number);
}

char *naming_run_container_name(const char *project, const char *service, const char *id) {
  return xasprintf("%s-%s-run-%.12s", project, service, id);
}

long naming_container_number(const char *project, const char *service, const char *name) {
  size_t lp = strlen(project), ls = strlen(service);
  if (strncmp(name, project, lp) != 0 || name[lp] != '-' ||
      strncmp(name + lp + 1, service, ls) != 0 || name[lp + 1 + ls] != '-')
    return -1;
  const char *n = name + lp + ls + 2;
  if (*n < '1' || *n > '9' || strlen(n) > 9)
    return -1;
  for (const char *p = n; *p; p++)
    if (*p < '0' || *p > '9')
      return -1;
  return strtol(n, NULL, 10);
}

int naming_replicas(const char *service, int cli_scale, int deploy_replicas, int scale,
                    const char *container_name, unsigned *out, struct stack_error **err) {
  int n = cli_scale >= 0 ? cli_scale : deploy_replicas >= 0 ? deploy_replicas : scale >= 0 ? scale : 1;
  if (n > 1 && container_name != NULL && *container_name)
    return stack_error_set(err, -EINVAL,
                           "services.%s: can't set container_name and scale to %d as container "
                           "name must be unique: remove container_name or the scale",
                           service, n);
  *out = (unsigned)n;
  return 0;
}

unsigned naming_next_number(const unsigned *used, size_t n) {
  unsigned max = 0;
  for (size_t i = 0; i < n; i++)
    if (used[i] > max)
      max = used[i];
  return max == UINT_MAX ? max : max + 1;
}

int naming_check(const char *what, const char *name, struct stack_error **err) {
  return compose_name_check(strcmp(what, "project") == 0 ? COMPOSE_NAME_PROJECT
                                                          : COMPOSE_NAME_CONTAINER,
                            name, err);
}
