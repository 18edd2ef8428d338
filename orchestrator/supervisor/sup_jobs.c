#include "sup_jobs.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_model.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "sup_conn.h"
#include "sup_ctrs.h"
#include "sup_gate.h"
#include "sup_pause.h"
#include "sup_rollback.h"

static struct ps_container *record(struct supervisor *s, const struct sup_ctr *c) {
  return project_state_find(s->state, c->name);
}

static bool job_has(const struct sup_job *j, const char *name) {
  for (size_t i = 0; j->names[i]; i++)
    if (strcmp(j->names[i], name) == 0)
      return true;
  return false;
}

/* A warning goes to the output of the requests that start the container
 * (Compose's up prints it), not into the container's logs. */
static void warn_jobs(struct supervisor *s, const char *name, const char *msg) {
  for (struct sup_job *j = s->jobs; j; j = j->next) {
    if (j->is_stop || !job_has(j, name))
      continue;
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "type", "warning");
    cJSON_AddStringToObject(ev, "message", msg);
    sup_conn_send(j->conn, sup_format_event(j->id, ev));
  }
}

/* Judges one waiting container's dependencies. */
static enum dep_verdict gate(struct supervisor *s, struct sup_ctr *c, char **error) {
  const struct compose_service *svc = compose_project_service(s->project, c->service);
  *error = NULL;
  if (svc == NULL)
    return DEP_GO;
  _cleanup_strv_ char **warnings = NULL;
  enum dep_verdict v = sup_service_gate(s, svc, c->name, c->gate_only, error, &warnings);
  for (size_t i = 0; warnings && warnings[i]; i++)
    warn_jobs(s, c->name, warnings[i]);
  return v;
}

/* Whether another service waits for service to complete successfully:
 * `up --wait` waits for it to exit then, and an exit 0 is its success
 * (Compose's getDependencyCondition()). */
static bool awaited_completion(const struct compose_project *p, const char *service) {
  for (size_t i = 0; p && i < p->n_services; i++)
    for (size_t k = 0; k < p->services[i].n_depends_on; k++)
      if (p->services[i].depends_on[k].condition == COMPOSE_DEP_COMPLETED_SUCCESSFULLY &&
          strcmp(p->services[i].depends_on[k].service, service) == 0)
        return true;
  return false;
}

static void job_free(struct sup_job *j) {
  cJSON_Delete(j->id);
  strv_free(j->names);
  strv_free(j->watch);
  free(j);
}

static void job_unlink(struct supervisor *s, struct sup_job *j) {
  for (struct sup_job **pp = &s->jobs; *pp; pp = &(*pp)->next)
    if (*pp == j) {
      *pp = j->next;
      break;
    }
  if (j->attached && j->conn->logs_id) {
    cJSON_Delete(j->conn->logs_id);
    j->conn->logs_id = NULL;
    strv_free(j->conn->logs_services);
    j->conn->logs_services = NULL;
  }
}

static void fail_jobs(struct supervisor *s, const char *name, const char *msg) {
  for (struct sup_job *j = s->jobs, *next; j; j = next) {
    next = j->next;
    if (j->is_stop || !job_has(j, name))
      continue;
    job_unlink(s, j);
    sup_conn_send(j->conn, sup_format_error(j->id, -EIO, msg));
    job_free(j);
  }
}

/* Whether an attached up waits for container name to stop: those of the
 * attached services, or all when no service is attached. */
static bool job_watches(const struct sup_job *j, const char *name) {
  if (j->watch == NULL || j->watch[0] == NULL)
    return true;
  for (size_t i = 0; j->watch[i]; i++)
    if (strcmp(j->watch[i], name) == 0)
      return true;
  return false;
}

static bool job_done(struct supervisor *s, const struct sup_job *j, char **failure) {
  for (size_t i = 0; j->names[i]; i++) {
    struct sup_ctr *c = sup_ctr_find(s, j->names[i]);
    if (c == NULL)
      continue;
    if (c->pending_start || (!j->is_stop && c->recreate))
      return false;
    if (!j->is_stop && c->start_failed && !*failure) {
      *failure = xasprintf("Error response from daemon: container %s could not be started: %s",
                           c->name, c->error ? c->error : "unknown error");
      /* attached, as with Compose: say so now, not once the others stop */
      if (j->attached)
        return true;
    }
    if (j->is_stop || (j->attached && job_watches(j, c->name))) {
      struct ps_container *r = record(s, c);
      if (c->rt || c->adopted || (r && r->status == CTR_RESTARTING))
        return false;
    } else if (c->rt && !c->ran) {
      return false;
    } else if (j->wait) {
      /* --wait: running (no health check can be run yet, see gate()) */
      struct ps_container *r = record(s, c);
      if (r && r->status == CTR_RESTARTING)
        return false;
      if (awaited_completion(s->project, c->service)) {
        if (c->rt)
          return false;
        if (r && r->exit_code != 0 && !*failure)
          *failure = xasprintf("service \"%s\" didn't complete successfully: exit %d",
                               c->service, r->exit_code);
        continue;
      }
      if (!c->rt && !*failure)
        *failure = xasprintf("container %s exited (%d)", c->name, r ? r->exit_code : -1);
      else if (c->rt && c->hs.status == HEALTH_STARTING)
        return false;
      else if (c->rt && c->hs.status == HEALTH_UNHEALTHY && !*failure)
        *failure = xasprintf("container %s is unhealthy", c->name);
    }
  }
  return true;
}

static cJSON *job_result(struct supervisor *s, const struct sup_job *j) {
  cJSON *res = cJSON_CreateObject();
  cJSON *arr = cJSON_AddArrayToObject(res, "containers");
  for (size_t i = 0; j->names[i]; i++) {
    struct ps_container *r = project_state_find(s->state, j->names[i]);
    if (r == NULL)
      continue;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddStringToObject(o, "service", r->service);
    cJSON_AddStringToObject(o, "status", ctr_status_name(r->status));
    cJSON_AddNumberToObject(o, "exit_code", r->exit_code);
    cJSON_AddItemToArray(arr, o);
  }
  return res;
}

/* Whether a container of the job still runs that depends on c's service:
 * stopping goes in reverse dependency order. */
static bool dependents_run(struct supervisor *s, const struct sup_job *j, const struct sup_ctr *c) {
  for (size_t i = 0; s->project && j->names[i]; i++) {
    struct sup_ctr *o = sup_ctr_find(s, j->names[i]);
    const struct compose_service *svc =
        o && (o->rt || o->adopted) ? compose_project_service(s->project, o->service) : NULL;
    for (size_t k = 0; svc && k < svc->n_depends_on; k++)
      if (strcmp(svc->depends_on[k].service, c->service) == 0)
        return true;
  }
  return false;
}

static void stop_step(struct supervisor *s, struct sup_job *j) {
  for (size_t i = 0; j->names[i]; i++) {
    struct sup_ctr *c = sup_ctr_find(s, j->names[i]);
    if (c == NULL || c->stopping)
      continue;
    if (c->rt == NULL || !dependents_run(s, j, c)) {
      if (c->rt)
        sup_pause_resume_quiet(s, c); /* a paused guest would not see the signal */
      sup_ctr_stop(s, c, j->timeout_ms);
    }
  }
}

/* Whether job j (finished) failed because one of its containers could not
 * be started (not for a dependency's condition, an exit under --wait, ...,
 * which leave the containers as Compose does): a first `up` is undone
 * then (sup_rollback.h). */
static bool rollback_due(struct supervisor *s, const struct sup_job *j) {
  if (!j->fresh || j->is_stop || s->stopping)
    return false;
  for (size_t i = 0; j->names[i]; i++) {
    struct sup_ctr *c = sup_ctr_find(s, j->names[i]);
    if (c && c->start_failed)
      return true;
  }
  return false;
}

static void progress(struct supervisor *s) {
  if (s->stopping)
    return; /* no container or request is left to wait for */
  for (struct sup_job *j = s->jobs; j; j = j->next)
    if (j->is_stop)
      stop_step(s, j);
  /* containers up replaces: stopped first, then removed and created
   * again (a replacement changes the table: walk it from the start) */
  for (bool again = s->project != NULL; again;) {
    again = false;
    for (struct sup_ctr *c = s->ctrs; c && !again; c = c->next) {
      if (c->recreate == NULL)
        continue;
      if (c->rt && !c->stopping)
        sup_pause_resume_quiet(s, c); /* a paused guest would not see the signal */
      again = sup_ctr_recreate_step(s, c);
    }
  }
  if (s->project) {
    for (struct sup_ctr *c = s->ctrs; c; c = c->next) {
      if (!c->pending_start)
        continue;
      _cleanup_free_ char *error = NULL;
      enum dep_verdict v = gate(s, c, &error);
      if (v == DEP_WAIT)
        continue;
      c->pending_start = false;
      if (v == DEP_FAIL) {
        fprintf(stderr, "stack supervisor: %s: %s\n", c->name, error);
        fail_jobs(s, c->name, error);
        continue;
      }
      _cleanup_error_ struct stack_error *err = NULL;
      /* a failure is announced once this round is over (sup_change.h):
       * the jobs see it then */
      if (sup_ctr_start(s, c, &err) < 0)
        fprintf(stderr, "stack supervisor: %s\n", err->msg);
    }
  }
  for (struct sup_job *j = s->jobs, *next; j; j = next) {
    next = j->next;
    _cleanup_free_ char *failure = NULL;
    if (!job_done(s, j, &failure))
      continue;
    job_unlink(s, j);
    char *reply = failure ? sup_format_error(j->id, -EIO, failure)
                          : sup_format_result(j->id, job_result(s, j));
    if (failure && rollback_due(s, j)) {
      /* the supervisor ends: the other jobs go with their connections */
      sup_rollback(s, j->conn, reply);
      job_free(j);
      return;
    }
    sup_conn_send(j->conn, reply);
    job_free(j);
  }
}

void sup_jobs_on_change(struct supervisor *s, const struct sup_change *ch) {
  /* the end of a process is followed by its EXITED (or DIED): nothing to
   * judge before; pausing changes nothing a job waits for */
  if (ch->kind == SUP_CHANGE_ENDED || ch->kind == SUP_CHANGE_PAUSED ||
      ch->kind == SUP_CHANGE_RESUMED)
    return;
  progress(s);
}

void sup_jobs_add(struct supervisor *s, struct sup_job *j) {
  j->next = s->jobs;
  s->jobs = j;
  sup_ctrs_changed(s);
}

void sup_jobs_conn_gone(struct supervisor *s, struct sup_conn *conn) {
  for (struct sup_job *j = s->jobs, *next; j; j = next) {
    next = j->next;
    if (j->conn != conn)
      continue;
    for (struct sup_job **pp = &s->jobs; *pp; pp = &(*pp)->next)
      if (*pp == j) {
        *pp = j->next;
        break;
      }
    job_free(j);
  }
}

void sup_jobs_free(struct supervisor *s) {
  for (struct sup_job *j = s->jobs, *next; j; j = next) {
    next = j->next;
    job_free(j);
  }
  s->jobs = NULL;
}
