#include "sup_conn.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"

struct write_req {
  uv_write_t req;
  char *data;
};

static void on_written(uv_write_t *req, int status) {
  (void)status; /* a client that went away is not our error */
  struct write_req *w = (struct write_req *)req;
  free(w->data);
  free(w);
}

static void on_conn_closed(uv_handle_t *h) {
  struct sup_conn *c = (struct sup_conn *)h;
  sup_linebuf_free(&c->in);
  cJSON_Delete(c->events_id);
  cJSON_Delete(c->logs_id);
  strv_free(c->logs_services);
  free(c);
}

struct sup_conn *sup_conn_accept(struct supervisor *s, uv_stream_t *server) {
  struct sup_conn *c = xcalloc(1, sizeof(*c));
  c->sup = s;
  uv_pipe_init(&s->loop, &c->pipe, 0);
  if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
    c->closing = true;
    uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
    return NULL;
  }
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  return c;
}

void sup_conn_on_gone(struct supervisor *s, sup_conn_gone_fn fn) {
  if (s->n_conn_gone < SUP_MAX_CONN_GONE)
    s->conn_gone[s->n_conn_gone++] = fn;
  else
    abort(); /* a programming error: raise SUP_MAX_CONN_GONE */
}

void sup_conn_close(struct sup_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  struct supervisor *s = c->sup;
  for (size_t i = 0; i < s->n_conn_gone; i++)
    s->conn_gone[i](s, c);
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void on_conn_shutdown(uv_shutdown_t *req, int status) {
  (void)status;
  sup_conn_close((struct sup_conn *)req->handle);
  free(req);
}

void sup_conn_finish(struct sup_conn *c) {
  if (c->closing)
    return;
  uv_read_stop((uv_stream_t *)&c->pipe);
  uv_shutdown_t *req = xmalloc(sizeof(*req));
  if (uv_shutdown(req, (uv_stream_t *)&c->pipe, on_conn_shutdown) < 0) {
    free(req);
    sup_conn_close(c);
  }
}

void sup_conn_send(struct sup_conn *c, char *line) {
  if (c->closing) {
    free(line);
    return;
  }
  struct write_req *w = xmalloc(sizeof(*w));
  w->data = line;
  uv_buf_t buf = uv_buf_init(line, (unsigned)strlen(line));
  if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, on_written) < 0) {
    free(line);
    free(w);
    sup_conn_close(c);
  }
}
