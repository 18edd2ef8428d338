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

/* Marks a service and, transitively, what it depends on (iteratively:
 * dependency chains may be long). */
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
      if (j != STRINDEX_NONE && !on[j]) {
        on[j] = true;
        todo[n++] = j;
      }
    }
  }
  free(todo);
}

int compose_profiles_apply(struct cnode *tree, char *const *profiles, char *const *services,
                           struct stack_error **err) {
  struct cnode *svcs = cnode_map_get(tree, "services");
  if (svcs == NULL || svcs->kind != CNODE_MAP)
    return 0;
  for (char *const *s = services; s && *s; s++)
    if (cnode_map_get_pair(svcs, *s) == NULL)
      return stack_error_set(err, -ENOENT, "no such service: %s", *s);
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
      const char *req = cnode_map_get_str(deps->pairs[j].value, "required");
      if (cnode_map_get_pair(svcs, deps->pairs[j].key->str) == NULL && req &&
          strcmp(req, "false") == 0) {
        cnode_map_remove(deps, deps->pairs[j].key->str);
        continue;
      }
      j++;
    }
  }
  return 0;
}
