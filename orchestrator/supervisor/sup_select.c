#include "sup_select.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

#include "orchestrator/compose/compose_model.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "sup_proto.h"

static bool selected_service(const struct supervisor *s, const bool *sel, const char *service) {
  for (size_t i = 0; i < s->state->n_containers; i++)
    if (sel[i] && strcmp(s->state->containers[i].service, service) == 0)
      return true;
  return false;
}

/* Adds the containers of the services that declare
 * depends_on.<a selected service>.restart: true, transitively. */
static void add_restart_dependents(struct supervisor *s, bool *sel, bool one_off) {
  const struct compose_project *p = s->project;
  for (bool grew = p != NULL; grew;) {
    grew = false;
    for (size_t i = 0; i < p->n_services; i++) {
      const struct compose_service *svc = &p->services[i];
      bool due = false;
      for (size_t k = 0; k < svc->n_depends_on && !due; k++)
        due = svc->depends_on[k].restart && selected_service(s, sel, svc->depends_on[k].service);
      for (size_t c = 0; due && c < s->state->n_containers; c++) {
        const struct ps_container *r = &s->state->containers[c];
        if (!sel[c] && strcmp(r->service, svc->name) == 0 && (one_off || r->number != 0))
          sel[c] = grew = true;
      }
    }
  }
}

int sup_select_containers(struct supervisor *s, const cJSON *params, bool **out,
                          struct stack_error **err) {
  _cleanup_free_ bool *sel = xcalloc(s->state->n_containers + 1, sizeof(bool));
  const cJSON *names = cJSON_GetObjectItemCaseSensitive(params, "containers");
  /* Compose's start/stop/restart leave one-off (`run`) containers be */
  bool one_off = !sup_param_true(params, "exclude_one_off");
  if (names == NULL) {
    for (size_t i = 0; i < s->state->n_containers; i++)
      sel[i] = one_off || s->state->containers[i].number != 0;
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
      if (strcmp(c->name, n->valuestring) == 0 ||
          (strcmp(c->service, n->valuestring) == 0 && (one_off || c->number != 0)))
        sel[i] = true;
      if (strcmp(c->name, n->valuestring) == 0 || strcmp(c->service, n->valuestring) == 0)
        found = true;
    }
    if (!found)
      return stack_error_set(err, -ENOENT, "no such service or container: %s", n->valuestring);
  }
  if (sup_param_true(params, "restart_dependents"))
    add_restart_dependents(s, sel, one_off);
  *out = steal_pointer(&sel);
  return 0;
}
