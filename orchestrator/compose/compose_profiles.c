#include "compose_profiles.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/strindex.h"
#include "runtime/util/xalloc.h"

static bool in_list(char *const *list, const char *s) {
  for (char *const *p = list; p && *p; p++)
    if (strcmp(*p, s) == 0)
      return true;
  return false;
}

static bool profile_active(const struct cnode *svc, char *const *profiles) {
  const struct cnode *pl = cnode_map_get(svc, "profiles");
  if (pl == NULL || pl->kind != CNODE_SEQ || pl->n == 0)
    return true;
  if (in_list(profiles, "*"))
    return true;
  for (size_t i = 0; i < pl->n; i++)
    if (pl->items[i]->kind == CNODE_SCALAR && in_list(profiles, pl->items[i]->str))
      return true;
  return false;
}

static bool dep_required(const struct cnode *dep) {
  const char *req = cnode_map_get_str(dep, "required");
  return req == NULL || strcmp(req, "false") != 0;
}

/* Marks a service and, transitively, what it requires (iteratively:
 * dependency chains may be long).  An optional dependency (`required:
 * false`) does not enable a service. */
static void enable(const struct cnode *services, const struct strindex *idx, size_t first,
                   bool *on) {
  size_t *todo = xcalloc(services->n + 1, sizeof(*todo)), n = 0;
  if (!on[first]) {
    on[first] = true;
    todo[n++] = first;
  }
  while (n > 0) {
    const struct cnode *deps = cnode_map_get(services->pairs[todo[--n]].value, "depends_on");
    for (size_t i = 0; deps && deps->kind == CNODE_MAP && i < deps->n; i++) {
      size_t j = strindex_get(idx, deps->pairs[i].key->str);
      if (j != STRINDEX_NONE && !on[j] && dep_required(deps->pairs[i].value)) {
        on[j] = true;
        todo[n++] = j;
      }
    }
  }
  free(todo);
}

/* The active profiles and those of the named services: naming a service
 * activates its profiles (compose-go's WithServicesEnabled()). */
static char **with_named_profiles(const struct cnode *svcs, char *const *profiles,
                                  char *const *services) {
  size_t n = 0, cap = 0;
  char **all = NULL;
  for (char *const *p = profiles; p && *p; p++) {
    all = xgrow(all, &cap, n + 2, sizeof(*all));
    all[n++] = xstrdup(*p);
  }
  for (char *const *s = services; s && *s; s++) {
    const struct cnode *pl = cnode_map_get(cnode_map_get(svcs, *s), "profiles");
    for (size_t i = 0; pl && pl->kind == CNODE_SEQ && i < pl->n; i++)
      if (pl->items[i]->kind == CNODE_SCALAR && pl->items[i]->str) {
        all = xgrow(all, &cap, n + 2, sizeof(*all));
        all[n++] = xstrdup(pl->items[i]->str);
      }
  }
  if (all)
    all[n] = NULL;
  return all;
}

int compose_profiles_apply(struct cnode *tree, char *const *given, char *const *services,
                           bool services_optional, struct stack_error **err) {
  struct cnode *svcs = cnode_map_get(tree, "services");
  if (svcs == NULL || svcs->kind != CNODE_MAP)
    return 0;
  for (char *const *s = services; s && *s && !services_optional; s++)
    if (cnode_map_get_pair(svcs, *s) == NULL)
      return stack_error_set(err, -ENOENT, "no such service: %s", *s);
  _cleanup_strv_ char **profiles = with_named_profiles(svcs, given, services);
  _cleanup_free_ bool *on = xcalloc(svcs->n + 1, sizeof(*on));
  _cleanup_free_ bool *active = xcalloc(svcs->n + 1, sizeof(*active));
  for (size_t i = 0; i < svcs->n; i++)
    active[i] = profile_active(svcs->pairs[i].value, profiles);
  _cleanup_strindex_ struct strindex idx = STRINDEX_INIT;
  for (size_t i = 0; i < svcs->n; i++)
    strindex_put(&idx, svcs->pairs[i].key->str, i);
  for (size_t i = 0; i < svcs->n; i++)
    if (active[i] || in_list(services, svcs->pairs[i].key->str))
      enable(svcs, &idx, i, on);
  size_t w = 0;
  for (size_t i = 0; i < svcs->n; i++) {
    if (on[i]) {
      svcs->pairs[w++] = svcs->pairs[i];
      continue;
    }
    cnode_free(svcs->pairs[i].key);
    cnode_free(svcs->pairs[i].value);
  }
  svcs->n = w;
  /* Optional dependencies on services that are now gone are dropped. */
  for (size_t i = 0; i < svcs->n; i++) {
    struct cnode *deps = cnode_map_get(svcs->pairs[i].value, "depends_on");
    for (size_t j = 0; deps && deps->kind == CNODE_MAP && j < deps->n;) {
      if (cnode_map_get_pair(svcs, deps->pairs[j].key->str) == NULL &&
          !dep_required(deps->pairs[j].value)) {
        cnode_map_remove(deps, deps->pairs[j].key->str);
        continue;
      }
      j++;
    }
  }
  return 0;
}
