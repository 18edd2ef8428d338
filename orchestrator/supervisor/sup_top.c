/* `top`: a running container's processes, listed by its guest init from
 * the guest's /proc (guest/proto.h TOP/PROCS), so that it works on images
 * without `ps`.  params.container names the container; the result, once
 * the guest answers, is {"total": N, "processes": [{pid, ppid, uid, user,
 * tty, age_ms, cpu_ms, cmd}...]} with the guest's words, unchecked (the
 * client formats them). */
#include "sup_top.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>

#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"
#include "sup_conn.h"
#include "sup_ctrs.h"
#include "sup_proto.h"

struct sup_top_req {
  struct supervisor *sup;
  struct sup_conn *conn;
  cJSON *id;
};

/* The connection if it is still open: one that closed is freed (a new one
 * at the same address only gets an answer whose id it does not wait for). */
static struct sup_conn *conn_live(struct sup_top_req *t) {
  for (struct sup_conn *c = t->sup->conns; c; c = c->next)
    if (c == t->conn && !c->closing)
      return c;
  return NULL;
}

static void on_procs(void *data, const struct proto_procs *ps, const char *error) {
  struct sup_top_req *t = data;
  struct sup_conn *conn = conn_live(t);
  if (conn && ps == NULL) {
    sup_conn_send(conn, sup_format_error(t->id, -EIO, error));
  } else if (conn) {
    cJSON *res = cJSON_CreateObject();
    cJSON_AddNumberToObject(res, "total", ps->total);
    cJSON *arr = cJSON_AddArrayToObject(res, "processes");
    for (uint32_t i = 0; i < ps->n; i++) {
      const struct proto_proc *p = &ps->procs[i];
      cJSON *o = cJSON_CreateObject();
      cJSON_AddNumberToObject(o, "pid", p->pid);
      cJSON_AddNumberToObject(o, "ppid", p->ppid);
      cJSON_AddNumberToObject(o, "uid", p->uid);
      cJSON_AddStringToObject(o, "user", p->user);
      cJSON_AddNumberToObject(o, "tty", p->tty);
      cJSON_AddNumberToObject(o, "age_ms", (double)p->age_ms);
      cJSON_AddNumberToObject(o, "cpu_ms", (double)p->cpu_ms);
      cJSON_AddStringToObject(o, "cmd", p->cmd);
      cJSON_AddItemToArray(arr, o);
    }
    sup_conn_send(conn, sup_format_result(t->id, res));
  }
  cJSON_Delete(t->id);
  free(t);
}

int sup_top(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
            cJSON **result, struct stack_error **err) {
  (void)result;
  const char *name =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req->params, "container"));
  if (name == NULL)
    return stack_error_set(err, -EINVAL, "top needs params.container");
  struct sup_ctr *ctr = sup_ctr_find(s, name);
  if (ctr == NULL || ctr->rt == NULL || !ctr->ran)
    return stack_error_set(err, -ENOENT, "container %s is not running", name);
  struct sup_top_req *t = xcalloc(1, sizeof(*t));
  t->sup = s;
  t->conn = c;
  t->id = req->id ? cJSON_Duplicate(req->id, true) : cJSON_CreateNull();
  int r = container_top(ctr->rt, on_procs, t, err);
  if (r < 0) {
    cJSON_Delete(t->id);
    free(t);
    return r;
  }
  return 1;
}
