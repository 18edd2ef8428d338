#include "sup_health.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_model.h"
#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"
#include "sup_ctrs.h"
#include "sup_events.h"

/* One probe.  It outlives its container's run when the VM goes first:
 * then ctr is NULL and the probe only waits for its callback to free it. */
struct sup_probe {
  struct sup_ctr *ctr;
  uint16_t session;
  uint64_t started; /* uv_now() */
  int64_t started_wall;
  bool timed_out;
};

static void schedule(struct sup_ctr *c);

static struct ps_container *record(struct sup_ctr *c) {
  return project_state_find(c->sup->state, c->name);
}

static void probe_done(struct sup_ctr *c, int exit_code) {
  struct supervisor *s = c->sup;
  struct sup_probe *p = c->probe;
  c->probe = NULL;
  uv_timer_stop(&c->hc_timer);
  int64_t start = p ? (int64_t)p->started : (int64_t)uv_now(&s->loop);
  bool changed = health_record(&c->hs, &c->hc, start, exit_code);
  struct ps_container *r = record(c);
  if (changed && r) {
    r->health = c->hs.status;
    cJSON *ev = sup_container_event(s, r, "health_status");
    cJSON_AddStringToObject(cJSON_GetObjectItem(ev, "attributes"), "health_status",
                            health_status_name(c->hs.status));
    sup_emit(s, ev);
    sup_save(s, NULL);
    sup_ctrs_announce(s, c, SUP_CHANGE_HEALTH, -1);
  }
  schedule(c);
}

static void on_probe_output(void *data, int fd, const uint8_t *p, size_t n) {
  (void)data, (void)fd, (void)p, (void)n; /* Docker keeps it for inspect only */
}

static void on_probe_exited(void *data, const struct container_status *st) {
  struct sup_probe *p = data;
  struct sup_ctr *c = p->ctr;
  if (c != NULL && c->probe == p) {
    if (c->rt == NULL)
      c->probe = NULL; /* the VM was taken away first: no verdict */
    else
      probe_done(c, p->timed_out ? HEALTH_EXIT_TIMEOUT : st->error ? -1 : st->exit_code);
  }
  free(p);
}

static void on_probe_timeout(uv_timer_t *t) {
  struct sup_ctr *c = t->data;
  struct sup_probe *p = c->probe;
  if (p == NULL)
    return;
  p->timed_out = true;
  if (c->rt == NULL || container_exec_signal(c->rt, p->session, SIGKILL) < 0) {
    p->ctr = NULL; /* its callback may still come: it frees the probe */
    probe_done(c, HEALTH_EXIT_TIMEOUT);
  }
}

static void on_probe_due(uv_timer_t *t) {
  struct sup_ctr *c = t->data;
  if (c->rt == NULL || !c->ran || c->hc.argv == NULL || c->probe)
    return;
  struct sup_probe *p = xcalloc(1, sizeof(*p));
  p->ctr = c;
  p->started = uv_now(&c->sup->loop);
  struct container_exec_opts o = {.argv = c->hc.argv};
  static const struct container_exec_io io = {on_probe_output, on_probe_exited};
  _cleanup_error_ struct stack_error *err = NULL;
  if (container_exec(c->rt, &o, &io, p, &p->session, &err) < 0) {
    /* a check that cannot run is a failing check, as in Docker */
    free(p);
    probe_done(c, -1);
    return;
  }
  c->probe = p;
  uv_timer_start(&c->hc_timer, on_probe_timeout, (uint64_t)c->hc.timeout_ms, 0);
}

static void schedule(struct sup_ctr *c) {
  struct ps_container *r = record(c);
  if (c->rt == NULL || c->hc.argv == NULL || (r && r->status == CTR_PAUSED))
    return;
  int64_t delay = health_next_delay(&c->hc, &c->hs, (int64_t)uv_now(&c->sup->loop));
  uv_timer_start(&c->hc_timer, on_probe_due, (uint64_t)(delay > 0 ? delay : 0), 0);
}

static void probes_start(struct supervisor *s, struct sup_ctr *c) {
  if (c->rt == NULL)
    return; /* taken away again before this was announced */
  int64_t now = (int64_t)uv_now(&s->loop);
  health_start(&c->hs, &c->hc, now);
  struct ps_container *r = record(c);
  if (c->resume_health && r && c->hc.argv) {
    /* a VM taken over from a dead supervisor: the checks go on where they
     * were, the start period counted from the process's start */
    if (r->health != HEALTH_NONE)
      c->hs.status = r->health;
    int64_t ran = r->started_ms > 0 ? sup_wall_ms() - r->started_ms : 0;
    c->hs.started_ms = now - (ran > 0 ? ran : 0);
  }
  c->resume_health = false;
  if (r)
    r->health = c->hs.status;
  schedule(c);
}

static void probes_pause(struct sup_ctr *c) {
  uv_timer_stop(&c->hc_timer);
  if (c->probe) {
    /* freed by its callback, if the runner still calls it; a paused
     * probe's timeout must not count as a failure */
    c->probe->ctr = NULL;
    c->probe = NULL;
  }
}

static void probes_stop(struct sup_ctr *c) {
  probes_pause(c);
  c->hs.status = HEALTH_NONE;
}

void sup_health_on_change(struct supervisor *s, const struct sup_change *ch) {
  switch (ch->kind) {
  case SUP_CHANGE_STARTED:
    probes_start(s, ch->ctr);
    break;
  case SUP_CHANGE_ENDED:
    probes_stop(ch->ctr);
    break;
  case SUP_CHANGE_PAUSED: /* no probes (a running one is dropped), the status stays */
    probes_pause(ch->ctr);
    break;
  case SUP_CHANGE_RESUMED:
    schedule(ch->ctr);
    break;
  default:
    break;
  }
}
