/* One short QMP connection per container and request: a paused container
 * is rare, a connection per running VM would cost a socket each. */
#include "sup_pause.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"
#include "runtime/vm/qmp.h"
#include "sup_conn.h"
#include "sup_ctrs.h"
#include "sup_events.h"
#include "sup_select.h"

/* One request: answered when every container's QMP command is done. */
struct sup_pause_op {
  struct supervisor *sup;
  struct sup_conn *conn; /* NULL: nobody waits (a resume before a stop, or the client went) */
  cJSON *id;
  bool pause;
  int pending;
  cJSON *done;  /* the names paused (unpaused) */
  char *error;  /* the first failure */
  struct sup_pause_op *next;
};

struct pause_one {
  struct sup_pause_op *op;
  char *name;
  struct qmp *q;
};

static void op_finish(struct sup_pause_op *op) {
  struct supervisor *s = op->sup;
  if (op->conn) {
    if (op->error) {
      sup_conn_send(op->conn, sup_format_error(op->id, -EIO, op->error));
    } else {
      cJSON *res = cJSON_CreateObject();
      cJSON_AddItemToObject(res, op->pause ? "paused" : "unpaused", op->done);
      op->done = NULL;
      sup_conn_send(op->conn, sup_format_result(op->id, res));
    }
  }
  for (struct sup_pause_op **pp = &s->pauses; *pp; pp = &(*pp)->next)
    if (*pp == op) {
      *pp = op->next;
      break;
    }
  cJSON_Delete(op->done);
  cJSON_Delete(op->id);
  free(op->error);
  free(op);
}

/* The QMP command of one container ended (status 0: done). */
static void one_done(struct pause_one *one, int status, const char *why) {
  struct sup_pause_op *op = one->op;
  struct supervisor *s = op->sup;
  qmp_close(one->q);
  struct ps_container *r = project_state_find(s->state, one->name);
  struct sup_ctr *c = sup_ctr_find(s, one->name);
  if (status == 0 && r && c && c->rt) {
    r->status = op->pause ? CTR_PAUSED : CTR_RUNNING;
    sup_emit(s, sup_container_event(s, r, op->pause ? "pause" : "unpause"));
    cJSON_AddItemToArray(op->done, cJSON_CreateString(one->name));
    sup_save(s, NULL);
    sup_ctrs_announce(s, c, op->pause ? SUP_CHANGE_PAUSED : SUP_CHANGE_RESUMED, -1);
  } else if (op->error == NULL) {
    op->error = xasprintf("%s container %s: %s", op->pause ? "pausing" : "unpausing", one->name,
                          status == 0 ? "it stopped meanwhile" : why ? why : strerror(-status));
  }
  free(one->name);
  free(one);
  if (--op->pending == 0)
    op_finish(op);
}

static void on_reply(struct qmp *q, int status, const cJSON *ret, const char *error_desc,
                     void *data) {
  (void)q, (void)ret;
  one_done(data, status, error_desc);
}

static void on_state(struct qmp *q, int status, void *data) {
  struct pause_one *one = data;
  _cleanup_error_ struct stack_error *err = NULL;
  if (status < 0) {
    /* failed before the command was queued (pending ones were failed first) */
    one_done(one, status, "cannot reach the VM's QMP socket");
    return;
  }
  int r = one->op->pause ? qmp_stop(q, on_reply, one, &err) : qmp_cont(q, on_reply, one, &err);
  if (r < 0)
    one_done(one, r, err ? err->msg : NULL);
}

/* Starts the QMP command for one container; 0 or -errno. */
static int one_start(struct sup_pause_op *op, struct sup_ctr *c, struct stack_error **err) {
  const char *path = container_qmp_path(c->rt);
  if (path == NULL)
    return stack_error_set(err, -ESRCH, "container %s has no VM", c->name);
  struct pause_one *one = xcalloc(1, sizeof(*one));
  one->op = op;
  one->name = xstrdup(c->name);
  int r = qmp_connect(&op->sup->loop, path, on_state, NULL, one, &one->q, err);
  if (r < 0) {
    free(one->name);
    free(one);
    return r;
  }
  op->pending++;
  return 0;
}

static struct sup_pause_op *op_new(struct supervisor *s, struct sup_conn *conn, const cJSON *id,
                                   bool pause) {
  struct sup_pause_op *op = xcalloc(1, sizeof(*op));
  op->sup = s;
  op->conn = conn;
  op->id = id ? cJSON_Duplicate(id, true) : cJSON_CreateNull();
  op->pause = pause;
  op->done = cJSON_CreateArray();
  op->next = s->pauses;
  s->pauses = op;
  /* held until every container is started, so that a failure at once
   * does not finish the request early */
  op->pending = 1;
  return op;
}

int sup_pause(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
              bool pause, struct stack_error **err) {
  _cleanup_free_ bool *sel = NULL;
  int r = sup_select_containers(s, req->params, &sel, err);
  if (r < 0)
    return r;
  enum ctr_status from = pause ? CTR_RUNNING : CTR_PAUSED;
  /* check everything first: a request either starts for all or fails */
  for (size_t i = 0; i < s->state->n_containers; i++) {
    const struct ps_container *ct = &s->state->containers[i];
    if (!sel[i] || ct->status != from)
      continue;
    struct sup_ctr *c = sup_ctr_find(s, ct->name);
    if (c == NULL || c->rt == NULL || container_qmp_path(c->rt) == NULL)
      return stack_error_set(err, -EPERM,
                             "container %s runs in a VM started by an earlier supervisor: "
                             "it cannot be %s (restart it with stack restart %s)",
                             ct->name, pause ? "paused" : "unpaused", ct->service);
  }
  struct sup_pause_op *op = op_new(s, conn, req->id, pause);
  for (size_t i = 0; i < s->state->n_containers; i++) {
    const struct ps_container *ct = &s->state->containers[i];
    if (!sel[i] || ct->status != from)
      continue;
    _cleanup_error_ struct stack_error *e = NULL;
    if (one_start(op, sup_ctr_find(s, ct->name), &e) < 0 && op->error == NULL)
      op->error = xstrdup(e->msg);
  }
  if (--op->pending == 0)
    op_finish(op);
  return 1;
}

void sup_pause_resume_quiet(struct supervisor *s, struct sup_ctr *c) {
  struct ps_container *r = project_state_find(s->state, c->name);
  if (r == NULL || r->status != CTR_PAUSED || c->rt == NULL)
    return;
  struct sup_pause_op *op = op_new(s, NULL, NULL, false);
  _cleanup_error_ struct stack_error *e = NULL;
  if (one_start(op, c, &e) < 0)
    fprintf(stderr, "stack supervisor: unpausing %s: %s\n", c->name, e->msg);
  if (--op->pending == 0)
    op_finish(op);
}

void sup_pause_conn_gone(struct supervisor *s, struct sup_conn *conn) {
  for (struct sup_pause_op *op = s->pauses; op; op = op->next)
    if (op->conn == conn)
      op->conn = NULL;
}
