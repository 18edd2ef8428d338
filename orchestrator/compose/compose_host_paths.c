#include "compose_host_paths.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "compose_canonical_util.h"
#include "compose_scalar.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"

/* Whether path is dir or lies below it. */
static bool under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  if (strcmp(dir, "/") == 0)
    return true;
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* The rule for one spelling of the path. */
static char *check(const char *p, const char *const *stack_dirs) {
  if (strcmp(p, "/") == 0)
    return xstrdup("the host's root file system");
  if (strcmp(p, "/etc") == 0)
    return xstrdup("the host's configuration (/etc)");
  static const char *const kernel[] = {"/proc", "/sys", "/dev"};
  for (size_t i = 0; i < 3; i++)
    if (under(p, kernel[i]))
      return xasprintf("the host kernel's interface %s", kernel[i]);
  static const char *const docker[] = {"/var/run/docker.sock", "/run/docker.sock"};
  for (size_t i = 0; i < 2; i++)
    if (under(docker[i], p))
      return strcmp(docker[i], p) == 0
                 ? xstrdup("the Docker daemon's socket")
                 : xasprintf("the Docker daemon's socket (%s)", docker[i]);
  for (size_t i = 0; stack_dirs && stack_dirs[i]; i++) {
    _cleanup_free_ char *d = cn_clean_path(stack_dirs[i]);
    if (d[0] == '/' && (under(p, d) || under(d, p)))
      return xasprintf("stack's own state (%s)", d);
  }
  return NULL;
}

char *compose_host_path_sensitive(const char *path, const char *const *stack_dirs) {
  if (path == NULL || path[0] != '/')
    return NULL;
  _cleanup_free_ char *data = NULL, *cache = NULL, *run = NULL;
  const char *defaults[4] = {NULL};
  if (stack_dirs == NULL) {
    defaults[0] = data = stack_data_root();
    defaults[1] = cache = stack_cache_dir();
    defaults[2] = run = stack_run_dir();
    stack_dirs = defaults;
  }
  _cleanup_free_ char *clean = cn_clean_path(path);
  char *why = check(clean, stack_dirs);
  if (why)
    return why;
  _cleanup_free_ char *real = realpath(clean, NULL);
  return real && strcmp(real, clean) != 0 ? check(real, stack_dirs) : NULL;
}

static bool truthy(const struct cnode *map) {
  const struct cnode *v = map && map->kind == CNODE_MAP ? cnode_map_get(map, COMPOSE_ALLOW_HOST_PATHS)
                                                        : NULL;
  bool b = false;
  return v && v->kind == CNODE_SCALAR && cscalar_parse_bool(v->str, &b) && b;
}

bool compose_host_paths_allowed(const struct cnode *project, const struct cnode *service) {
  return truthy(service) || truthy(project);
}

char *compose_host_path_refusal(const char *path, const char *why, bool read_only) {
  return xasprintf("a bind mount of %s shares %s with the VM: root in the guest could read it%s; "
                   "stack refuses it unless the service sets \"%s: true\" (or the project does, "
                   "at the top level)",
                   path, why, read_only ? "" : " and change it on the host",
                   COMPOSE_ALLOW_HOST_PATHS);
}
