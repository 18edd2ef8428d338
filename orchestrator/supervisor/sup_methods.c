#include "sup_methods.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "procinfo.h"
#include "runtime/vm/container.h"
#include "sup_attach.h"
#include "sup_conn.h"
#include "sup_ctrs.h"
#include "sup_events.h"
#include "sup_exec.h"
#include "sup_jobs.h"
#include "sup_logs.h"
#include "sup_net.h"
#include "sup_network.h"
#include "sup_pause.h"
#include "sup_run.h"
#include "sup_select.h"
#include "sup_shutdown.h"
#include "sup_stats.h"
#include "sup_top.h"
#include "sup_up.h"

static cJSON *container_json(const struct ps_container *c) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", c->name);
  cJSON_AddStringToObject(o, "id", c->id);
  cJSON_AddStringToObject(o, "service", c->service);
  cJSON_AddNumberToObject(o, "number", c->number);
  if (c->image)
    cJSON_AddStringToObject(o, "image", c->image);
  if (c->command)
    cJSON_AddStringToObject(o, "command", c->command);
  cJSON_AddStringToObject(o, "status", ctr_status_name(c->status));
  if (c->status == CTR_PAUSED && c->pause_reason)
    cJSON_AddStringToObject(o, "pause_reason", c->pause_reason);
  cJSON_AddNumberToObject(o, "exit_code", c->exit_code);
  cJSON_AddStringToObject(o, "health", health_status_name(c->health));
  cJSON_AddNumberToObject(o, "restart_count", c->restart_count);
  cJSON_AddNumberToObject(o, "created", (double)c->created_ms);
  cJSON_AddNumberToObject(o, "started", (double)c->started_ms);
  cJSON_AddNumberToObject(o, "finished", (double)c->finished_ms);
  cJSON *addrs = cJSON_AddArrayToObject(o, "addresses");
  for (size_t i = 0; i < c->n_addresses; i++) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "network", c->addresses[i].network);
    if (c->addresses[i].ip)
      cJSON_AddStringToObject(a, "ip", c->addresses[i].ip);
    cJSON_AddItemToArray(addrs, a);
  }
  return o;
}

static int m_ping(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                  cJSON **result, struct stack_error **err) {
  *result = cJSON_CreateObject();
  cJSON_AddStringToObject(*result, "project", s->paths.project);
  cJSON_AddNumberToObject(*result, "pid", getpid());
  cJSON_AddNumberToObject(*result, "protocol", SUP_PROTO_VERSION);
  return 0;
}

static int m_ps(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                cJSON **result, struct stack_error **err) {
  _cleanup_free_ bool *sel = NULL;
  int r = sup_select_containers(s, req->params, &sel, err);
  if (r < 0)
    return r;
  *result = cJSON_CreateObject();
  cJSON_AddStringToObject(*result, "project", s->paths.project);
  cJSON *arr = cJSON_AddArrayToObject(*result, "containers");
  for (size_t i = 0; i < s->state->n_containers; i++)
    if (sel[i]) {
      cJSON *o = container_json(&s->state->containers[i]);
      sup_net_ps(s, s->state->containers[i].name, o);
      cJSON_AddItemToArray(arr, o);
    }
  return 0;
}

/* Streams every event from now on; the stream ends when the client goes. */
static int m_events(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                    cJSON **result, struct stack_error **err) {
  return sup_events_subscribe(s, c, req->id, err);
}

/* Removes stopped containers (`rm`, and `down` once they are stopped). */
static int m_rm(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                cJSON **result, struct stack_error **err) {
  _cleanup_free_ bool *sel = NULL;
  int r = sup_select_containers(s, req->params, &sel, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < s->state->n_containers; i++) {
    const struct ps_container *ct = &s->state->containers[i];
    struct sup_ctr *rt = sel[i] ? sup_ctr_find(s, ct->name) : NULL;
    if (sel[i] && (ct->status == CTR_RUNNING || ct->status == CTR_PAUSED ||
                   ct->status == CTR_RESTARTING || ct->qemu_pid > 0 || (rt && rt->rt)))
      return stack_error_set(err, -EBUSY,
                             "container %s is %s: stop it first (stack stop %s)", ct->name,
                             ctr_status_name(ct->status), ct->service);
  }
  *result = cJSON_CreateObject();
  cJSON *removed = cJSON_AddArrayToObject(*result, "removed");
  /* Walk backwards: removing shifts the later entries and their flags. */
  for (size_t i = s->state->n_containers; i-- > 0;) {
    if (!sel[i])
      continue;
    struct ps_container *ct = &s->state->containers[i];
    cJSON_AddItemToArray(removed, cJSON_CreateString(ct->name));
    sup_ctr_remove(s, ct->name);
  }
  if ((r = sup_save(s, err)) < 0) {
    cJSON_Delete(*result);
    *result = NULL;
  }
  return r;
}

static int m_shutdown(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                      cJSON **result, struct stack_error **err) {
  bool busy = false;
  for (struct sup_ctr *ct = s->ctrs; ct; ct = ct->next)
    busy |= ct->rt != NULL;
  for (size_t i = 0; i < s->state->n_containers; i++)
    busy |= s->state->containers[i].qemu_pid > 0;
  if (busy)
      return stack_error_set(err, -EBUSY,
                             "project %s has running containers: stop them first (stack stop)",
                             s->paths.project);
  sup_shutdown_reply(s, c, sup_format_result(req->id, NULL));
  return 1;
}

static int m_up(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                cJSON **result, struct stack_error **err) {
  return sup_up(s, c, req, err);
}

/* Stops containers (all by default), dependents first; answers when they
 * are all down. */
static int m_stop(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                  cJSON **result, struct stack_error **err) {
  _cleanup_free_ bool *sel = NULL;
  int r = sup_select_containers(s, req->params, &sel, err);
  if (r < 0)
    return r;
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(req->params, "timeout");
  struct sup_job *j = xcalloc(1, sizeof(*j));
  j->is_stop = true;
  j->timeout_ms = cJSON_IsNumber(t) && t->valuedouble >= 0 ? (int64_t)(t->valuedouble * 1000) : -1;
  j->conn = c;
  j->id = req->id ? cJSON_Duplicate(req->id, true) : cJSON_CreateNull();
  j->names = xcalloc(s->state->n_containers + 1, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; i < s->state->n_containers; i++)
    if (sel[i]) {
      j->names[n++] = xstrdup(s->state->containers[i].name);
      /* a stopped container stays stopped, also across supervisors */
      s->state->containers[i].user_stopped = true;
    }
  sup_save(s, NULL);
  sup_jobs_add(s, j);
  return 1;
}

static int m_logs(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                  cJSON **result, struct stack_error **err) {
  int r = sup_logs_send(s, c, req->id, req->params, err);
  if (r == 0)
    *result = cJSON_CreateObject();
  return r;
}

/* Sends a signal to the main process of running containers (to QEMU for a
 * VM adopted from an earlier supervisor: SIGKILL ends the VM). */
static int m_kill(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                  cJSON **result, struct stack_error **err) {
  _cleanup_free_ bool *sel = NULL;
  int r = sup_select_containers(s, req->params, &sel, err);
  if (r < 0)
    return r;
  const cJSON *sig = cJSON_GetObjectItemCaseSensitive(req->params, "signal");
  int signum = cJSON_IsNumber(sig) ? sig->valueint : SIGKILL;
  if (signum <= 0 || signum > 64)
    return stack_error_set(err, -EINVAL, "invalid signal %d", signum);
  *result = cJSON_CreateObject();
  cJSON *killed = cJSON_AddArrayToObject(*result, "killed");
  for (size_t i = 0; i < s->state->n_containers; i++) {
    struct ps_container *ct = &s->state->containers[i];
    struct sup_ctr *rt = sel[i] ? sup_ctr_find(s, ct->name) : NULL;
    if (rt == NULL)
      continue;
    sup_pause_resume_quiet(s, rt); /* a paused guest would not see it */
    if (rt->rt && container_signal(rt->rt, signum) == 0) {
      /* a kill by the user is a stop: no policy undoes it */
      if (signum == SIGKILL || signum == SIGTERM)
        ct->user_stopped = true;
      cJSON_AddItemToArray(killed, cJSON_CreateString(ct->name));
    } else if (rt->adopted && proc_is_same(ct->qemu_pid, ct->qemu_start_time) &&
               kill(ct->qemu_pid, signum) == 0) {
      ct->user_stopped = true;
      cJSON_AddItemToArray(killed, cJSON_CreateString(ct->name));
    }
  }
  sup_save(s, NULL);
  return 0;
}

static int m_pause(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                   cJSON **result, struct stack_error **err) {
  return sup_pause(s, c, req, true, err);
}

static int m_unpause(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                     cJSON **result, struct stack_error **err) {
  return sup_pause(s, c, req, false, err);
}

static int m_exec(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                  cJSON **result, struct stack_error **err) {
  return sup_exec(s, c, req, err);
}

static int m_run(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                 cJSON **result, struct stack_error **err) {
  return sup_run(s, c, req, err);
}

/* Input notifications go to the connection's one-off container when it
 * runs one (`stack run SERVICE` sends them as `stack exec` does), else to
 * its exec session. */
static int m_exec_stdin(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                        cJSON **result, struct stack_error **err) {
  return sup_run_input(s, c, req) ? 1 : sup_exec_stdin(s, c, req, result, err);
}

static int m_exec_resize(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                         cJSON **result, struct stack_error **err) {
  return sup_run_input(s, c, req) ? 1 : sup_exec_resize(s, c, req, result, err);
}

static int m_exec_signal(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                         cJSON **result, struct stack_error **err) {
  return sup_run_input(s, c, req) ? 1 : sup_exec_signal(s, c, req, result, err);
}

typedef int (*method_fn)(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                         cJSON **result, struct stack_error **err);

static const struct {
  const char *name;
  method_fn fn;
} methods[] = {
    {"ping", m_ping}, {"ps", m_ps},     {"events", m_events}, {"rm", m_rm},
    {"up", m_up},     {"stop", m_stop}, {"logs", m_logs},     {"shutdown", m_shutdown},
    {"kill", m_kill}, {"exec", m_exec}, {"port", sup_net_port},
    {"pause", m_pause}, {"unpause", m_unpause}, {"stats", sup_stats},
    {"exec_stdin", m_exec_stdin}, {"exec_resize", m_exec_resize},
    {"exec_signal", m_exec_signal}, {"run", m_run}, {"top", sup_top},
    {"network_rm", sup_network_rm}, {"attach", sup_attach},
};

char *sup_dispatch(struct supervisor *s, struct sup_conn *c, const struct sup_request *req) {
  for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
    if (strcmp(methods[i].name, req->method) != 0)
      continue;
    cJSON *result = NULL;
    _cleanup_error_ struct stack_error *err = NULL;
    /* 1: the handler answered (or streams) itself */
    int r = methods[i].fn(s, c, req, &result, &err);
    if (r < 0)
      return sup_format_error(req->id, r, err ? err->msg : "request failed");
    return r == 1 ? NULL : sup_format_result(req->id, result);
  }
  _cleanup_free_ char *msg = xasprintf("unknown method \"%s\"", req->method);
  return sup_format_error(req->id, -ENOSYS, msg);
}
