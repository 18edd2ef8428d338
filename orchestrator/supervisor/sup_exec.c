/* An exec session's output streams back to the client as "output" events (data in
 * base64: output is bytes, JSON strings are text) and the exit code is the
 * result.  With params.interactive the client streams the session's stdin
 * on the same connection ("exec_stdin"), with params.tty its window size
 * ("exec_resize"), and signals ("exec_signal"): notifications that get no
 * reply, so they never interleave with the exec's own replies. */
#include "sup_exec.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/base64.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"
#include "sup_conn.h"
#include "sup_ctrs.h"

/* One session.  The connection may go first: then conn is NULL and the
 * session only waits for its end. */
struct sup_exec {
  struct supervisor *sup;
  struct sup_conn *conn;
  cJSON *id;
  char *ctr_name;
  struct container *rt; /* check with live_rt() before use */
  uint16_t session;
  bool interactive, tty;
  struct sup_exec *next;
};

static void on_output(void *data, int fd, const uint8_t *p, size_t n) {
  struct sup_exec *e = data;
  if (e->conn == NULL || n == 0)
    return;
  _cleanup_free_ char *b64 = b64_encode(p, n);
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "type", "output");
  cJSON_AddNumberToObject(ev, "fd", fd);
  cJSON_AddStringToObject(ev, "data", b64);
  sup_conn_send(e->conn, sup_format_event(e->id, ev));
}

static void on_exited(void *data, const struct container_status *st) {
  struct sup_exec *e = data;
  if (e->conn) {
    if (st->error && st->exit_code == CONTAINER_EXIT_FAILED) {
      sup_conn_send(e->conn, sup_format_error(e->id, -EIO, st->error));
    } else {
      cJSON *res = cJSON_CreateObject();
      cJSON_AddNumberToObject(res, "exit_code", st->exit_code);
      if (st->error)
        cJSON_AddStringToObject(res, "error", st->error);
      sup_conn_send(e->conn, sup_format_result(e->id, res));
    }
  }
  struct supervisor *s = e->sup;
  for (struct sup_exec **pp = &s->execs; *pp; pp = &(*pp)->next)
    if (*pp == e) {
      *pp = e->next;
      break;
    }
  cJSON_Delete(e->id);
  free(e->ctr_name);
  free(e);
}

void sup_exec_on_change(struct supervisor *s, const struct sup_change *ch) {
  if ((ch->kind != SUP_CHANGE_PAUSED && ch->kind != SUP_CHANGE_RESUMED) || ch->ctr == NULL)
    return;
  for (struct sup_exec *e = s->execs; e; e = e->next)
    if (e->conn && ch->ctr->rt == e->rt && strcmp(e->ctr_name, ch->name) == 0)
      sup_conn_send(e->conn, sup_format_event(e->id, sup_ctr_vm_event(
                                                        ch->ctr, ch->kind == SUP_CHANGE_PAUSED)));
}

void sup_exec_conn_gone(struct supervisor *s, struct sup_conn *conn) {
  for (struct sup_exec *e = s->execs; e; e = e->next)
    if (e->conn == conn) {
      e->conn = NULL;
      struct sup_ctr *c = sup_ctr_find(s, e->ctr_name);
      if (c == NULL || c->rt != e->rt)
        continue;
      /* nobody types into it any more: a shell would wait forever */
      if (e->interactive)
        container_exec_stdin(e->rt, e->session, NULL, 0);
      if (e->tty)
        container_exec_signal(e->rt, e->session, SIGHUP);
    }
}

/* The connection's session that notifications address: the one its last
 * exec started (a CLI runs one at a time), if its VM is still the
 * container's (sessions end with it, but a freed runner must never be
 * reached through a stale pointer). */
static struct sup_exec *conn_exec(struct supervisor *s, struct sup_conn *conn) {
  for (struct sup_exec *e = s->execs; e; e = e->next)
    if (e->conn == conn) {
      struct sup_ctr *c = sup_ctr_find(s, e->ctr_name);
      return c && c->rt == e->rt ? e : NULL;
    }
  return NULL;
}

static unsigned param_uint(const cJSON *p, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
  return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 65536
             ? (unsigned)v->valuedouble
             : 0;
}

/* Notifications: 1 (no reply) whatever happens -- a late one for a session
 * that just ended is normal, and a reply would confuse the client. */
int sup_exec_stdin(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
                 cJSON **result, struct stack_error **err) {
  (void)result;
  (void)err;
  struct sup_exec *e = conn_exec(s, conn);
  const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req->params, "data"));
  if (e == NULL || !e->interactive)
    return 1;
  size_t n = 0;
  _cleanup_free_ unsigned char *buf = b64 ? b64_decode(b64, &n) : NULL;
  if (n > 0)
    container_exec_stdin(e->rt, e->session, buf, n);
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req->params, "eof")))
    container_exec_stdin(e->rt, e->session, NULL, 0);
  return 1;
}

int sup_exec_resize(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
                 cJSON **result, struct stack_error **err) {
  (void)result;
  (void)err;
  struct sup_exec *e = conn_exec(s, conn);
  unsigned rows = param_uint(req->params, "rows"), cols = param_uint(req->params, "cols");
  if (e && e->tty && rows > 0 && cols > 0)
    container_exec_resize(e->rt, e->session, rows, cols);
  return 1;
}

int sup_exec_signal(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
                 cJSON **result, struct stack_error **err) {
  (void)result;
  (void)err;
  struct sup_exec *e = conn_exec(s, conn);
  unsigned sig = param_uint(req->params, "signal");
  if (e && sig > 0 && sig < 65)
    container_exec_signal(e->rt, e->session, (int)sig);
  return 1;
}

int sup_exec(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
             struct stack_error **err) {
  const cJSON *p = req->params;
  const char *service = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "service"));
  const cJSON *index = cJSON_GetObjectItemCaseSensitive(p, "index");
  const cJSON *argv_j = cJSON_GetObjectItemCaseSensitive(p, "argv");
  if (service == NULL || !cJSON_IsArray(argv_j) || cJSON_GetArraySize(argv_j) == 0)
    return stack_error_set(err, -EINVAL, "exec needs params.service and a non-empty params.argv");
  unsigned want = cJSON_IsNumber(index) && index->valuedouble >= 1 ? (unsigned)index->valuedouble : 1;
  struct sup_ctr *c = NULL;
  for (size_t i = 0; i < s->state->n_containers && !c; i++) {
    const struct ps_container *r = &s->state->containers[i];
    if (strcmp(r->service, service) == 0 && r->number == want)
      c = sup_ctr_find(s, r->name);
  }
  if (c == NULL || c->rt == NULL || !c->ran)
    return stack_error_set(err, -ENOENT, "service \"%s\" is not running", service);
  _cleanup_strv_ char **argv = xcalloc((size_t)cJSON_GetArraySize(argv_j) + 1, sizeof(char *));
  _cleanup_strv_ char **env = NULL;
  size_t n = 0;
  const cJSON *x;
  cJSON_ArrayForEach(x, argv_j) {
    if (!cJSON_IsString(x))
      return stack_error_set(err, -EINVAL, "params.argv must be a list of strings");
    argv[n++] = xstrdup(x->valuestring);
  }
  const cJSON *env_j = cJSON_GetObjectItemCaseSensitive(p, "env");
  if (cJSON_IsArray(env_j)) {
    env = xcalloc((size_t)cJSON_GetArraySize(env_j) + 1, sizeof(char *));
    n = 0;
    cJSON_ArrayForEach(x, env_j) {
      if (!cJSON_IsString(x))
        return stack_error_set(err, -EINVAL, "params.env must be a list of K=V strings");
      env[n++] = xstrdup(x->valuestring);
    }
  }
  struct container_exec_opts o = {
      .argv = argv,
      .env = env,
      .user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "user")),
      .workdir = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "workdir")),
      .tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "tty")),
      .interactive = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "interactive")),
      .rows = param_uint(p, "rows"),
      .cols = param_uint(p, "cols"),
  };
  struct sup_exec *e = xcalloc(1, sizeof(*e));
  e->sup = s;
  e->conn = conn;
  e->id = req->id ? cJSON_Duplicate(req->id, true) : cJSON_CreateNull();
  static const struct container_exec_io io = {on_output, on_exited};
  uint16_t session;
  int r = container_exec(c->rt, &o, &io, e, &session, err);
  if (r < 0) {
    cJSON_Delete(e->id);
    free(e);
    return r;
  }
  e->ctr_name = xstrdup(c->name);
  e->rt = c->rt;
  e->session = session;
  e->interactive = o.interactive;
  e->tty = o.tty;
  e->next = s->execs;
  s->execs = e;
  return 1;
}
