/* `exec`: a process in a running container, as an exec session in its
 * guest; its output streams back to the client as "output" events (data in
 * base64: output is bytes, JSON strings are text) and the exit code is the
 * result.  No stdin yet (`exec -T`). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"
#include "sup_server.h"

/* One session.  The connection may go first: then conn is NULL and the
 * session only waits for its end. */
struct sup_exec {
  struct supervisor *sup;
  struct sup_conn *conn;
  cJSON *id;
  struct sup_exec *next;
};

static void on_output(void *data, int fd, const uint8_t *p, size_t n) {
  struct sup_exec *e = data;
  if (e->conn == NULL || n == 0)
    return;
  _cleanup_free_ char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);
  EVP_EncodeBlock((unsigned char *)b64, p, (int)n);
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
  free(e);
}

void sup_exec_conn_gone(struct supervisor *s, struct sup_conn *conn) {
  for (struct sup_exec *e = s->execs; e; e = e->next)
    if (e->conn == conn)
      e->conn = NULL;
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
  e->next = s->execs;
  s->execs = e;
  return 1;
}
