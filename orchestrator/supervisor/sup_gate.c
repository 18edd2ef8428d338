#include "sup_gate.h"

#include <string.h>

#include "orchestrator/compose/compose_model.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"
#include "sup_ctrs.h"

static void on_first_look(uv_timer_t *t) {
  sup_ctrs_changed(t->data); /* the gates are judged again */
}

/* Judges again once a dependency that started at ran_at is DEP_FIRST_LOOK_MS
 * old (the earliest such time wins). */
static void look_again(struct supervisor *s, uint64_t ran_at) {
  uint64_t now = uv_now(&s->loop), due = ran_at + DEP_FIRST_LOOK_MS;
  uint64_t in = due > now ? due - now : 0;
  if (uv_is_active((uv_handle_t *)&s->gate_timer) &&
      uv_timer_get_due_in(&s->gate_timer) <= in)
    return;
  s->gate_timer.data = s;
  uv_timer_start(&s->gate_timer, on_first_look, in, 0);
}

static bool listed(char *const *v, const char *x) {
  for (; v && *v; v++)
    if (strcmp(*v, x) == 0)
      return true;
  return false;
}

enum dep_verdict sup_service_gate(struct supervisor *s, const struct compose_service *svc,
                                  const char *name, char *const *only, char **error,
                                  char ***warnings) {
  _cleanup_free_ struct dep_input *deps = xcalloc(svc->n_depends_on + 1, sizeof(*deps));
  _cleanup_free_ struct dep_container *all =
      xcalloc(s->state->n_containers + 1, sizeof(*all));
  size_t n = 0, used = 0;
  for (size_t i = 0; i < svc->n_depends_on; i++) {
    const struct compose_dependency *d = &svc->depends_on[i];
    const struct compose_service *ds = compose_project_service(s->project, d->service);
    if (ds == NULL || (only && !listed(only, d->service)))
      continue; /* disabled by a profile, or not part of an up --no-deps */
    struct dep_input *in = &deps[n++];
    in->service = d->service;
    in->condition = d->condition == COMPOSE_DEP_HEALTHY               ? DEP_HEALTHY
                    : d->condition == COMPOSE_DEP_COMPLETED_SUCCESSFULLY ? DEP_COMPLETED_OK
                                                                       : DEP_STARTED;
    in->required = d->required;
    in->containers = all + used;
    for (size_t k = 0; k < s->state->n_containers; k++) {
      const struct ps_container *r = &s->state->containers[k];
      /* one-off containers (`run SERVICE`, number 0) are not the service */
      if (strcmp(r->service, d->service) != 0 || r->number == 0)
        continue;
      struct sup_ctr *dc = sup_ctr_find(s, r->name);
      struct dep_container *x = &all[used++];
      x->name = r->name;
      x->status = r->status;
      /* a container that waits or boots has not started yet */
      if (dc && (dc->pending_start || (dc->rt && !dc->ran)))
        x->status = CTR_CREATED;
      x->exit_code = r->exit_code;
      x->start_failed = dc && dc->start_failed;
      /* known once it started: before that it waits anyway */
      x->has_healthcheck = dc && dc->hc.argv != NULL;
      x->health = r->health;
      if (dc && dc->rt && dc->ran && uv_now(&s->loop) - dc->ran_at < DEP_FIRST_LOOK_MS) {
        x->just_started = true;
        look_again(s, dc->ran_at);
      }
      in->n_containers++;
    }
    /* No container at all: not part of this run (--no-deps), nothing to
     * wait for. */
    in->scale = (unsigned)in->n_containers;
  }
  return dep_gate(name, deps, n, error, warnings);
}
