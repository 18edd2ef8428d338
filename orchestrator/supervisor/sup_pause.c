/* Through each runner's QMP connection (container_pause(),
 * container_resume()); the runner reports the change itself (its
 * vm_state callback, sup_ctr_mark_vm_state()), so a request here only
 * gathers the answers. */
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
#include "sup_conn.h"
#include "sup_ctrs.h"
#include "sup_select.h"

/* One request: answered when every container's QMP command is done. */
struct sup_pause_op {
  struct supervisor *sup;
  struct sup_conn *conn; /* NULL: the client went */
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

/* QEMU answered for one container (status 0: done). */
static void one_done(void *data, int status, const char *why) {
  struct pause_one *one = data;
  struct sup_pause_op *op = one->op;
  if (status == 0)
    cJSON_AddItemToArray(op->done, cJSON_CreateString(one->name));
  else if (op->error == NULL)
    op->error = xasprintf("%s container %s: %s", op->pause ? "pausing" : "unpausing", one->name,
                          why ? why : strerror(-status));
  free(one->name);
  free(one);
  if (--op->pending == 0)
    op_finish(op);
}

/* Starts the QMP command for one container; 0 or -errno. */
static int one_start(struct sup_pause_op *op, struct sup_ctr *c, struct stack_error **err) {
  if (c->rt == NULL)
    return stack_error_set(err, -ESRCH, "container %s has no VM", c->name);
  struct pause_one *one = xcalloc(1, sizeof(*one));
  one->op = op;
  one->name = xstrdup(c->name);
  int r = op->pause ? container_pause(c->rt, one_done, one, err)
                    : container_resume(c->rt, false, one_done, one, err);
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
    if (c == NULL || c->rt == NULL)
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
  /* forced: also on a full disk (the guest may end without writing; it
   * pauses again at its next write, and the stop's SIGKILL ends it) */
  _cleanup_error_ struct stack_error *e = NULL;
  if (container_resume(c->rt, true, NULL, NULL, &e) < 0)
    fprintf(stderr, "stack supervisor: unpausing %s: %s\n", c->name, e->msg);
}

void sup_pause_conn_gone(struct supervisor *s, struct sup_conn *conn) {
  for (struct sup_pause_op *op = s->pauses; op; op = op->next)
    if (op->conn == conn)
      op->conn = NULL;
}
