#include "sup_select.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

int sup_select_containers(struct supervisor *s, const cJSON *params, bool **out,
                          struct stack_error **err) {
  _cleanup_free_ bool *sel = xcalloc(s->state->n_containers + 1, sizeof(bool));
  const cJSON *names = cJSON_GetObjectItemCaseSensitive(params, "containers");
  if (names == NULL) {
    for (size_t i = 0; i < s->state->n_containers; i++)
      sel[i] = true;
    *out = steal_pointer(&sel);
    return 0;
  }
  if (!cJSON_IsArray(names))
    return stack_error_set(err, -EINVAL, "params.containers must be a list of names");
  const cJSON *n;
  cJSON_ArrayForEach(n, names) {
    if (!cJSON_IsString(n))
      return stack_error_set(err, -EINVAL, "params.containers must be a list of names");
    bool found = false;
    for (size_t i = 0; i < s->state->n_containers; i++) {
      const struct ps_container *c = &s->state->containers[i];
      if (strcmp(c->name, n->valuestring) == 0 || strcmp(c->service, n->valuestring) == 0)
        sel[i] = found = true;
    }
    if (!found)
      return stack_error_set(err, -ENOENT, "no such service or container: %s", n->valuestring);
  }
  *out = steal_pointer(&sel);
  return 0;
}
