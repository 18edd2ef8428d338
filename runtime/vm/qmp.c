#include "runtime/vm/qmp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/uv_alloc.h"
#include "runtime/util/xalloc.h"

#define QMP_MAX_LINE (1u << 20)

enum qmp_state { QMP_CONNECTING, QMP_GREETING, QMP_NEGOTIATING, QMP_READY, QMP_CLOSED };

struct qmp_cmd {
  struct qmp_cmd *next;
  unsigned long id;
  char *json; /* the line to send, owned */
  bool sent;
  qmp_reply_cb cb;
  void *data;
};

struct qmp {
  uv_pipe_t pipe;
  uv_connect_t connect_req;
  bool connected; /* pipe is a live handle */
  enum qmp_state state;
  qmp_state_cb on_state;
  qmp_event_cb on_event;
  void *data;
  struct sbuf in; /* bytes of an incomplete line */
  struct qmp_cmd *head, *tail;
  unsigned long next_id;
};

struct qmp_write {
  uv_write_t req;
  char *buf;
};

static void cmd_free(struct qmp_cmd *c) {
  free(c->json);
  free(c);
}

static void fail_pending(struct qmp *q, int status, const char *why) {
  while (q->head) {
    struct qmp_cmd *c = q->head;
    q->head = c->next;
    if (c->cb)
      c->cb(q, status, NULL, why, c->data);
    cmd_free(c);
  }
  q->tail = NULL;
}

static void on_closed(uv_handle_t *h) {
  struct qmp *q = h->data;
  sbuf_free(&q->in);
  free(q);
}

/* Ends the connection from inside (EOF, error, protocol violation). */
static void qmp_shutdown(struct qmp *q, int status) {
  if (q->state == QMP_CLOSED)
    return;
  q->state = QMP_CLOSED;
  fail_pending(q, -ECONNRESET, "QMP connection closed");
  if (q->on_state)
    q->on_state(q, status, q->data);
}

static void on_written(uv_write_t *req, int status) {
  struct qmp_write *w = (struct qmp_write *)req;
  free(w->buf);
  free(w);
  (void)status; /* a failed write shows up as EOF/error on the read side */
}

/* Writes the commands not sent yet, once negotiation is done. */
static void flush(struct qmp *q) {
  if (q->state != QMP_READY)
    return;
  for (struct qmp_cmd *c = q->head; c; c = c->next) {
    if (c->sent)
      continue;
    c->sent = true;
    if (!q->connected) /* qmp_new_unconnected(): replies come from qmp_feed() */
      continue;
    struct qmp_write *w = xcalloc(1, sizeof(*w));
    w->buf = xasprintf("%s\r\n", c->json);
    uv_buf_t b = uv_buf_init(w->buf, (unsigned)strlen(w->buf));
    if (uv_write(&w->req, (uv_stream_t *)&q->pipe, &b, 1, on_written) < 0) {
      free(w->buf);
      free(w);
      qmp_shutdown(q, -EIO);
      return;
    }
  }
}

static void send_capabilities(struct qmp *q) {
  q->state = QMP_NEGOTIATING;
  if (!q->connected)
    return;
  static const char line[] = "{\"execute\":\"qmp_capabilities\",\"id\":\"cap\"}\r\n";
  struct qmp_write *w = xcalloc(1, sizeof(*w));
  w->buf = xstrdup(line);
  uv_buf_t b = uv_buf_init(w->buf, sizeof(line) - 1);
  if (uv_write(&w->req, (uv_stream_t *)&q->pipe, &b, 1, on_written) < 0) {
    free(w->buf);
    free(w);
    qmp_shutdown(q, -EIO);
  }
}

static void handle_reply(struct qmp *q, const cJSON *msg, const cJSON *id) {
  if (cJSON_IsString(id) && strcmp(id->valuestring, "cap") == 0) {
    if (q->state != QMP_NEGOTIATING)
      return;
    if (!cJSON_GetObjectItemCaseSensitive(msg, "return")) {
      qmp_shutdown(q, -EPROTO);
      return;
    }
    q->state = QMP_READY;
    if (q->on_state)
      q->on_state(q, 0, q->data);
    flush(q);
    return;
  }
  if (!cJSON_IsNumber(id))
    return;
  struct qmp_cmd **pp = &q->head;
  while (*pp && (double)(*pp)->id != id->valuedouble)
    pp = &(*pp)->next;
  struct qmp_cmd *c = *pp;
  if (!c || !c->sent)
    return; /* not ours: ignore rather than trust it */
  *pp = c->next;
  if (q->tail == c) {
    q->tail = NULL;
    for (struct qmp_cmd *t = q->head; t; t = t->next)
      q->tail = t;
  }
  const cJSON *ret = cJSON_GetObjectItemCaseSensitive(msg, "return");
  const cJSON *error = cJSON_GetObjectItemCaseSensitive(msg, "error");
  if (c->cb) {
    if (error) {
      const cJSON *desc = cJSON_GetObjectItemCaseSensitive(error, "desc");
      c->cb(q, -EIO, NULL, cJSON_IsString(desc) ? desc->valuestring : "QMP error", c->data);
    } else {
      c->cb(q, 0, ret, NULL, c->data);
    }
  }
  cmd_free(c);
}

static int handle_line(struct qmp *q, const char *line, size_t len, struct stack_error **err) {
  while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
    len--;
  if (len == 0)
    return 0;
  cJSON *msg = cJSON_ParseWithLength(line, len);
  if (!msg || !cJSON_IsObject(msg)) {
    cJSON_Delete(msg);
    return stack_error_set(err, -EPROTO, "QMP: a line that is not a JSON object");
  }
  const cJSON *event = cJSON_GetObjectItemCaseSensitive(msg, "event");
  if (cJSON_GetObjectItemCaseSensitive(msg, "QMP")) {
    if (q->state == QMP_GREETING || q->state == QMP_CONNECTING)
      send_capabilities(q);
  } else if (cJSON_IsString(event)) {
    if (q->on_event)
      q->on_event(q, event->valuestring, cJSON_GetObjectItemCaseSensitive(msg, "data"), q->data);
  } else {
    handle_reply(q, msg, cJSON_GetObjectItemCaseSensitive(msg, "id"));
  }
  cJSON_Delete(msg);
  return 0;
}

int qmp_feed(struct qmp *q, const char *buf, size_t len, struct stack_error **err) {
  while (len && q->state != QMP_CLOSED) {
    const char *nl = memchr(buf, '\n', len);
    size_t n = nl ? (size_t)(nl - buf) : len;
    if (q->in.len + n > QMP_MAX_LINE)
      return stack_error_set(err, -EPROTO, "QMP: a line longer than %u bytes", QMP_MAX_LINE);
    if (!nl) {
      sbuf_append(&q->in, buf, n);
      return 0;
    }
    int r;
    if (q->in.len) {
      sbuf_append(&q->in, buf, n);
      r = handle_line(q, q->in.data, q->in.len, err);
      sbuf_reset(&q->in);
    } else {
      r = handle_line(q, buf, n, err);
    }
    if (r < 0)
      return r;
    buf += n + 1;
    len -= n + 1;
  }
  return 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct qmp *q = s->data;
  if (n > 0 && q->state != QMP_CLOSED) {
    _cleanup_error_ struct stack_error *err = NULL;
    if (qmp_feed(q, buf->base, (size_t)n, &err) < 0)
      qmp_shutdown(q, -EPROTO);
  } else if (n < 0) {
    uv_read_stop(s);
    qmp_shutdown(q, n == UV_EOF ? -ECONNRESET : (int)n);
  }
  free(buf->base);
}

static void on_connect(uv_connect_t *req, int status) {
  struct qmp *q = req->data;
  if (q->state == QMP_CLOSED)
    return;
  if (status < 0) {
    qmp_shutdown(q, status);
    return;
  }
  q->state = QMP_GREETING;
  uv_read_start((uv_stream_t *)&q->pipe, uv_alloc_heap, on_read);
}

static struct qmp *qmp_alloc(qmp_state_cb on_state, qmp_event_cb on_event, void *data) {
  struct qmp *q = xcalloc(1, sizeof(*q));
  q->on_state = on_state;
  q->on_event = on_event;
  q->data = data;
  q->next_id = 1;
  q->pipe.data = q;
  q->connect_req.data = q;
  return q;
}

int qmp_connect(uv_loop_t *loop, const char *path, qmp_state_cb on_state, qmp_event_cb on_event,
                void *data, struct qmp **out, struct stack_error **err) {
  struct qmp *q = qmp_alloc(on_state, on_event, data);
  int r = uv_pipe_init(loop, &q->pipe, 0);
  if (r < 0) {
    free(q);
    return stack_error_set(err, r, "QMP %s: %s", path, uv_strerror(r));
  }
  q->connected = true;
  uv_pipe_connect(&q->connect_req, &q->pipe, path, on_connect);
  *out = q;
  return 0;
}

struct qmp *qmp_new_unconnected(qmp_state_cb on_state, qmp_event_cb on_event, void *data) {
  struct qmp *q = qmp_alloc(on_state, on_event, data);
  q->state = QMP_GREETING;
  return q;
}

void qmp_free_unconnected(struct qmp *q) {
  if (!q)
    return;
  q->on_state = NULL;
  qmp_shutdown(q, -ECONNRESET);
  sbuf_free(&q->in);
  free(q);
}

int qmp_execute(struct qmp *q, const char *command, cJSON *args, qmp_reply_cb cb, void *data,
                struct stack_error **err) {
  if (q->state == QMP_CLOSED) {
    cJSON_Delete(args);
    return stack_error_set(err, -ENOTCONN, "QMP: not connected (%s)", command);
  }
  cJSON *msg = cJSON_CreateObject();
  cJSON_AddStringToObject(msg, "execute", command);
  if (args)
    cJSON_AddItemToObject(msg, "arguments", args);
  struct qmp_cmd *c = xcalloc(1, sizeof(*c));
  c->id = q->next_id++;
  cJSON_AddNumberToObject(msg, "id", (double)c->id);
  c->json = cJSON_PrintUnformatted(msg);
  cJSON_Delete(msg);
  if (!c->json)
    abort(); /* cJSON only fails on allocation */
  c->cb = cb;
  c->data = data;
  if (q->tail)
    q->tail->next = c;
  else
    q->head = c;
  q->tail = c;
  flush(q);
  return 0;
}

int qmp_stop(struct qmp *q, qmp_reply_cb cb, void *data, struct stack_error **err) {
  return qmp_execute(q, "stop", NULL, cb, data, err);
}

int qmp_cont(struct qmp *q, qmp_reply_cb cb, void *data, struct stack_error **err) {
  return qmp_execute(q, "cont", NULL, cb, data, err);
}

int qmp_quit(struct qmp *q, qmp_reply_cb cb, void *data, struct stack_error **err) {
  return qmp_execute(q, "quit", NULL, cb, data, err);
}

cJSON *qmp_ignore_shared_args(void) {
  cJSON *args = cJSON_CreateObject();
  cJSON *caps = cJSON_AddArrayToObject(args, "capabilities");
  cJSON *cap = cJSON_CreateObject();
  cJSON_AddStringToObject(cap, "capability", "x-ignore-shared");
  cJSON_AddBoolToObject(cap, "state", 1);
  cJSON_AddItemToArray(caps, cap);
  return args;
}

int qmp_system_powerdown(struct qmp *q, qmp_reply_cb cb, void *data, struct stack_error **err) {
  return qmp_execute(q, "system_powerdown", NULL, cb, data, err);
}

int qmp_query_status(struct qmp *q, qmp_reply_cb cb, void *data, struct stack_error **err) {
  return qmp_execute(q, "query-status", NULL, cb, data, err);
}

static const char *str_member(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}

int qmp_io_error_parse(const cJSON *event_data, struct qmp_io_error *out) {
  *out = (struct qmp_io_error){"", "", "", "", false};
  if (!cJSON_IsObject(event_data))
    return -EPROTO;
  out->device = str_member(event_data, "device");
  out->operation = str_member(event_data, "operation");
  out->action = str_member(event_data, "action");
  out->reason = str_member(event_data, "reason");
  out->nospace = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(event_data, "nospace"));
  return *out->action ? 0 : -EPROTO;
}

void qmp_close(struct qmp *q) {
  if (!q)
    return;
  q->on_state = NULL;
  qmp_shutdown(q, -ECONNRESET);
  if (q->connected && !uv_is_closing((uv_handle_t *)&q->pipe))
    uv_close((uv_handle_t *)&q->pipe, on_closed);
}
