#include "sup_up.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_hash.h"
#include "naming.h"
#include "orchestrator/compose/compose_graph.h"
#include "orchestrator/compose/compose_model.h"
#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"
#include "sup_conn.h"
#include "sup_ctrs.h"
#include "sup_events.h"
#include "sup_jobs.h"
#include "sup_project.h"
#include "sup_rollback.h"
#include "sup_volumes.h"

static bool strv_has(char **v, const char *x) {
  for (; v && *v; v++)
    if (strcmp(*v, x) == 0)
      return true;
  return false;
}

/* The services an attached `up` shows and waits for, as Compose picks
 * them: --attach's list (services of this run only), else the services
 * named (all by default), with what they depend on under
 * --attach-dependencies, leaving out those with `attach: false`; always
 * the --exit-code-from service; never those of --no-attach. */
static int attach_set(const struct compose_project *p, const size_t *want, size_t n_want,
                      const size_t *order, size_t n_order, const cJSON *params, char ***out,
                      struct stack_error **err) {
  _cleanup_strv_ char **explicit = NULL, **no_attach = NULL;
  int r;
  if ((r = sup_param_strv(params, "attach", false, &explicit, err)) < 0 ||
      (r = sup_param_strv(params, "no_attach", false, &no_attach, err)) < 0)
    return r;
  char **set = xcalloc(n_order + 1, sizeof(char *));
  size_t n = 0;
  bool deps = sup_param_true(params, "attach_dependencies");
  const char *exit_from = sup_param_str(params, "exit_code_from");
  for (char **a = explicit; a && *a; a++) {
    bool in_run = false;
    for (size_t k = 0; k < n_order && !in_run; k++)
      in_run = strcmp(p->services[order[k]].name, *a) == 0;
    if (!in_run) {
      strv_free(set);
      return stack_error_set(err, -EINVAL, "cannot attach to services not included in up: %s",
                             *a);
    }
  }
  for (size_t k = 0; k < n_order; k++) {
    const struct compose_service *svc = &p->services[order[k]];
    bool pick;
    if (explicit) {
      pick = strv_has(explicit, svc->name);
    } else {
      pick = deps;
      for (size_t w = 0; w < n_want && !pick; w++)
        pick = want[w] == order[k];
      pick = pick && svc->attach;
    }
    if (exit_from && strcmp(exit_from, svc->name) == 0)
      pick = true;
    if (pick && !strv_has(no_attach, svc->name))
      set[n++] = xstrdup(svc->name);
  }
  *out = set;
  return 0;
}

static int policy_for(const struct compose_service *svc, struct restart_policy *p,
                      struct stack_error **err) {
  _cleanup_free_ char *where = xasprintf("services.%s", svc->name);
  int r = restart_policy_parse(svc->restart, where, p, err);
  const struct compose_restart_policy *d = &svc->deploy.restart_policy;
  if (r == 0 && (d->condition || d->max_attempts >= 0 || d->delay_ns >= 0 || d->window_ns >= 0))
    r = restart_policy_apply_deploy(p, d->condition, d->delay_ns >= 0 ? d->delay_ns / 1000000 : -1,
                                    d->window_ns >= 0 ? d->window_ns / 1000000 : -1,
                                    d->max_attempts, where, err);
  return r;
}

static void strv_add(char ***v, size_t *n, const char *s) {
  *v = xrealloc(*v, (*n + 2) * sizeof(char *));
  (*v)[(*n)++] = xstrdup(s);
  (*v)[*n] = NULL;
}

/* Creates, recreates or keeps the containers of one service; their names
 * go to *names. */
static int converge_service(struct supervisor *s, const struct compose_service *svc,
                            const cJSON *params, bool start_only, char ***names, size_t *n_names,
                            bool *recreated, struct stack_error **err) {
  if (start_only) {
    for (size_t i = 0; i < s->state->n_containers; i++)
      if (strcmp(s->state->containers[i].service, svc->name) == 0 &&
          s->state->containers[i].number != 0) /* not one-off `run` containers */
        strv_add(names, n_names, s->state->containers[i].name);
    return 0;
  }
  const struct image_handle *img =
      svc->image ? sup_project_image(s, svc, sup_param_true(params, "quiet_pull"), err) : NULL;
  if (img == NULL)
    return svc->image ? -EIO
                      : stack_error_set(err, -EINVAL,
                                        "service %s has no image: building images is not "
                                        "supported; set image:",
                                        svc->name);
  char hash[65];
  int r = config_hash_service(svc, img->config_digest, hash, err);
  if (r < 0)
    return r;
  struct restart_policy policy;
  if ((r = policy_for(svc, &policy, err)) < 0)
    return r;
  const cJSON *scale_j = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(params, "scale"), svc->name);
  unsigned replicas;
  if ((r = naming_replicas(svc->name, cJSON_IsNumber(scale_j) ? scale_j->valueint : -1,
                           svc->deploy.replicas, svc->scale, svc->container_name, &replicas,
                           err)) < 0)
    return r;
  bool force = sup_param_true(params, "force_recreate"), keep = sup_param_true(params, "no_recreate");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(params, "timeout");
  int64_t timeout_ms =
      cJSON_IsNumber(t) && t->valuedouble >= 0 ? (int64_t)(t->valuedouble * 1000) : -1;

  /* Replicas past the wanted count go, the highest numbers first. */
  for (size_t i = s->state->n_containers; i-- > 0;) {
    struct ps_container *rec = &s->state->containers[i];
    if (strcmp(rec->service, svc->name) == 0 && rec->number > replicas)
      sup_ctr_remove(s, rec->name);
  }
  for (unsigned num = 1; num <= replicas; num++) {
    _cleanup_free_ char *name =
        naming_container_name(s->paths.project, svc->name, num, svc->container_name);
    struct ps_container *rec = project_state_find(s->state, name);
    bool stale = rec && (force || (!keep && (rec->config_hash == NULL ||
                                             strcmp(rec->config_hash, hash) != 0)));
    struct sup_ctr *old = rec ? sup_ctr_find(s, name) : NULL;
    if (stale && old && (old->rt || old->adopted || rec->status == CTR_RUNNING ||
                         rec->status == CTR_PAUSED || rec->status == CTR_RESTARTING)) {
      /* it runs: stopped as `stop` does, then replaced (sup_jobs.c) */
      *recreated = true;
      struct sup_recreate *rc = xcalloc(1, sizeof(*rc));
      rc->timeout_ms = timeout_ms;
      rc->renew_anon = sup_param_true(params, "renew_anon_volumes");
      rc->config_hash = xstrdup(hash);
      rc->image = xstrdup(svc->image);
      rc->image_id = xstrdup(img->config_digest);
      rc->command = sup_command_text(&img->config, svc->entrypoint, svc->command);
      rc->img = img;
      rc->policy = policy;
      sup_recreate_free(old->recreate);
      old->recreate = rc;
      old->pending_start = false;
      strv_add(names, n_names, name);
      continue;
    }
    if (stale) {
      *recreated |= rec->status == CTR_RUNNING || rec->status == CTR_RESTARTING;
      sup_ctr_remove(s, name);
      rec = NULL;
      /* -V: fresh anonymous volumes, not the old container's */
      if (sup_param_true(params, "renew_anon_volumes") &&
          (r = sup_volumes_remove_anon(name, err)) < 0)
        return r;
    }
    if (rec == NULL) {
      rec = project_state_add(s->state, name, svc->name, num);
      rec->config_hash = xstrdup(hash);
      rec->image = xstrdup(svc->image);
      rec->image_id = xstrdup(img->config_digest);
      rec->command = sup_command_text(&img->config, svc->entrypoint, svc->command);
      rec->created_ms = sup_wall_ms();
      sup_emit(s, sup_container_event(s, rec, "create"));
    }
    struct sup_ctr *c = sup_ctr_get(s, name, svc->name);
    c->img = img;
    c->policy = policy;
    strv_add(names, n_names, name);
  }
  return 0;
}

/* depends_on.<dep>.restart: true: when up recreated dep's running
 * container, the dependent's running containers restart too (as Compose's
 * up does), transitively; up then waits for them as for its own. */
static void restart_dependents(struct supervisor *s, bool *recreated, char ***names,
                               size_t *n_names) {
  const struct compose_project *p = s->project;
  for (bool grew = true; grew;) {
    grew = false;
    for (size_t i = 0; i < p->n_services; i++) {
      const struct compose_service *svc = &p->services[i];
      bool due = false;
      for (size_t k = 0; k < svc->n_depends_on && !recreated[i] && !due; k++) {
        int d = compose_project_service_index(p, svc->depends_on[k].service);
        due = svc->depends_on[k].restart && d >= 0 && recreated[d];
      }
      if (!due)
        continue;
      recreated[i] = grew = true; /* its own dependents follow */
      for (struct sup_ctr *c = s->ctrs; c; c = c->next) {
        struct ps_container *rec = project_state_find(s->state, c->name);
        if (strcmp(c->service, svc->name) != 0 || !(c->rt || c->adopted) || rec == NULL ||
            rec->number == 0 || c->recreate)
          continue;
        /* restarted as `restart` does: stopped gracefully, started again */
        c->recreate = xcalloc(1, sizeof(*c->recreate));
        c->recreate->restart_only = true;
        c->recreate->timeout_ms = -1;
        bool listed = false;
        for (size_t n = 0; n < *n_names && !listed; n++)
          listed = strcmp((*names)[n], c->name) == 0;
        if (!listed)
          strv_add(names, n_names, c->name);
      }
    }
  }
}

/* The services of the project's containers (not one-off ones). */
static char **container_services(struct supervisor *s) {
  char **v = xcalloc(s->state->n_containers + 1, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; i < s->state->n_containers; i++) {
    const struct ps_container *r = &s->state->containers[i];
    if (r->number != 0 && !strv_has(v, r->service))
      v[n++] = xstrdup(r->service);
  }
  return v;
}

static int up(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
              bool fresh, struct stack_error **err) {
  const cJSON *params = req->params;
  bool start_only = sup_param_true(params, "start_only");
  _cleanup_strv_ char **files = NULL, **wanted = NULL, **existing = NULL;
  _cleanup_compose_project_ struct compose_project *loaded = NULL;
  int r = sup_param_strv(params, "services", false, &wanted, err);
  if (r < 0)
    return r;
  /* `start`/`restart` act on the existing containers, also those of a
   * service behind a profile that was named when they were made. */
  if (start_only && wanted == NULL)
    existing = container_services(s);
  /* -p alone: the model the supervisor has, when it knows those services */
  const struct compose_project *p = s->project;
  bool keep = start_only && sup_param_true(params, "by_name") && p;
  for (char **v = wanted ? wanted : existing; keep && v && *v; v++)
    keep = compose_project_service(p, *v) != NULL;
  if (!keep) {
    if ((r = sup_project_load(s, params, wanted ? wanted : existing, &loaded, &files, err)) < 0)
      return r;
    p = loaded;
  }
  _cleanup_compose_graph_ struct compose_graph *g = NULL;
  if ((r = compose_graph_build(p, &g, err)) < 0)
    return r;
  /* The services to bring up: those named (all by default) and, unless
   * --no-deps, what they depend on; in start order. */
  _cleanup_free_ size_t *want = xcalloc(p->n_services + 1, sizeof(size_t));
  _cleanup_free_ size_t *order = xcalloc(p->n_services + 1, sizeof(size_t));
  size_t n_want = 0, n_order;
  for (size_t i = 0; i < p->n_services; i++) {
    bool named = wanted == NULL;
    for (char **w = wanted; w && *w; w++)
      named |= strcmp(*w, p->services[i].name) == 0;
    if (named)
      want[n_want++] = i;
  }
  for (char **w = wanted; w && *w; w++)
    if (compose_project_service_index(p, *w) < 0)
      return stack_error_set(err, -ENOENT, "no such service: %s", *w);
  if (sup_param_true(params, "no_deps")) {
    n_order = n_want;
    memcpy(order, want, n_want * sizeof(size_t));
  } else {
    n_order = compose_graph_closure(g, want, n_want, order);
  }

  _cleanup_strv_ char **attach = NULL;
  if ((r = attach_set(p, want, n_want, order, n_order, params, &attach, err)) < 0)
    return r;

  /* Containers of services that are no longer in the files. */
  _cleanup_sbuf_ struct sbuf orphans = SBUF_INIT;
  for (size_t i = s->state->n_containers; !start_only && i-- > 0;) {
    struct ps_container *rec = &s->state->containers[i];
    if (compose_project_service(p, rec->service))
      continue;
    if (!sup_param_true(params, "remove_orphans")) {
      sbuf_printf(&orphans, "%s%s", orphans.len ? " " : "", rec->name);
      continue;
    }
    sup_ctr_remove(s, rec->name);
  }
  if (orphans.len) {
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "type", "warning");
    _cleanup_free_ char *msg =
        xasprintf("Found orphan containers ([%s]) for this project. If you removed or renamed "
                  "this service in your compose file, you can run this command with the "
                  "--remove-orphans flag to clean it up.",
                  orphans.data);
    cJSON_AddStringToObject(ev, "message", msg);
    sup_conn_send(conn, sup_format_event(req->id, ev));
  }

  /* The new model replaces the old one: the runtimes point into it. */
  if (loaded)
    sup_project_use(s, steal_pointer(&loaded));
  if (!start_only) {
    free(s->state->working_dir);
    s->state->working_dir = xstrdup(s->project->working_dir);
    strv_free(s->state->config_files);
    s->state->config_files = steal_pointer(&files);
  }
  _cleanup_strv_ char **names = NULL;
  size_t n_names = 0;
  _cleanup_free_ bool *recreated = xcalloc(s->project->n_services + 1, sizeof(bool));
  for (size_t k = 0; k < n_order; k++) {
    const struct compose_service *svc = &s->project->services[order[k]];
    if ((r = converge_service(s, svc, params, start_only, &names, &n_names,
                              &recreated[order[k]], err)) < 0) {
      sup_save(s, NULL);
      return stack_error_prefix(err, "service %s", svc->name);
    }
  }
  restart_dependents(s, recreated, &names, &n_names);
  if (names == NULL)
    names = xcalloc(1, sizeof(char *));
  /* Images and configuration for containers this run did not touch (an
   * earlier supervisor made them): `start` needs them to boot. */
  for (size_t i = 0; i < s->state->n_containers; i++) {
    struct ps_container *rec = &s->state->containers[i];
    const struct compose_service *svc = compose_project_service(s->project, rec->service);
    struct sup_ctr *c = svc ? sup_ctr_get(s, rec->name, rec->service) : NULL;
    if (c && c->img == NULL && svc->image) {
      _cleanup_error_ struct stack_error *e = NULL;
      c->img = sup_project_image(s, svc, true, &e);
      policy_for(svc, &c->policy, NULL);
    }
  }
  bool no_start = sup_param_true(params, "no_start");
  for (size_t i = 0; !no_start && names[i]; i++) {
    struct sup_ctr *c = sup_ctr_find(s, names[i]);
    struct ps_container *rec = project_state_find(s->state, names[i]);
    if (c == NULL || rec == NULL || c->rt || c->adopted || c->recreate ||
        rec->status == CTR_RESTARTING)
      continue; /* running already (or being replaced): `up` leaves it be */
    c->pending_start = true;
    strv_free(c->gate_only);
    c->gate_only = NULL;
    if (sup_param_true(params, "no_deps")) {
      c->gate_only = xcalloc(n_order + 1, sizeof(char *));
      for (size_t k = 0; k < n_order; k++)
        c->gate_only[k] = xstrdup(s->project->services[order[k]].name);
    }
    c->start_failed = false;
    c->rs = (struct restart_state){0};
    rec->user_stopped = false;
  }
  sup_save(s, NULL);

  struct sup_job *j = xcalloc(1, sizeof(*j));
  j->conn = conn;
  j->id = req->id ? cJSON_Duplicate(req->id, true) : cJSON_CreateNull();
  j->names = steal_pointer(&names);
  j->attached = !sup_param_true(params, "detach") && !no_start && !start_only;
  j->wait = !j->attached && !no_start && sup_param_true(params, "wait");
  j->fresh = fresh;
  if (j->attached) {
    /* The containers of the attached services: their output is shown, and
     * up ends when they have all stopped (when none is, when every
     * container of this run has). */
    size_t n = 0;
    for (size_t i = 0; j->names[i]; i++)
      n++;
    j->watch = xcalloc(n + 1, sizeof(char *));
    n = 0;
    for (size_t i = 0; j->names[i]; i++) {
      struct sup_ctr *c = sup_ctr_find(s, j->names[i]);
      if (c && strv_has(attach, c->service))
        j->watch[n++] = xstrdup(j->names[i]);
    }
  }
  if (j->attached && conn->logs_id == NULL) {
    conn->logs_id = cJSON_Duplicate(j->id, true);
    conn->logs_services = steal_pointer(&attach);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "type", "attach");
    cJSON *arr = cJSON_AddArrayToObject(ev, "names");
    for (size_t i = 0; j->watch[i]; i++)
      cJSON_AddItemToArray(arr, cJSON_CreateString(j->watch[i]));
    sup_conn_send(conn, sup_format_event(j->id, ev));
  }
  sup_jobs_add(s, j);
  return 1;
}

int sup_up(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
           struct stack_error **err) {
  /* the first `up` of a project: if it fails, nothing it made stays */
  bool fresh = s->state->n_containers == 0 && !sup_param_true(req->params, "start_only");
  int r = up(s, conn, req, fresh, err);
  if (r < 0 && fresh && !s->stopping) {
    sup_rollback(s, conn, sup_format_error(req->id, r, *err ? (*err)->msg : "up failed"));
    return 1;
  }
  return r;
}
