/* Log files hold "<ms> <o|e> <line>" per line, rotated at LOG_MAX_BYTES
 * with one old file kept. */
#include "sup_logs.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "orchestrator/compose/compose_model.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/state_path.h"
#include "runtime/util/xalloc.h"
#include "runtime/util/fs_space.h"
#include "sup_conn.h"
#include "sup_events.h"

#define LOG_MAX_BYTES (10u << 20)
#define LOG_MAX_LINE 65536 /* longer lines are cut: a log is not a data channel */

/* logs/<name>.log, or .log.1 (the older one), under the project's state
 * directory; opened beneath it (state_path.h): a name that is not a plain
 * file name, or a symlink there, is refused (-errno). */
static int log_open_file(const struct supervisor *s, const char *name, bool old, int flags) {
  _cleanup_free_ char *file = xasprintf("%s.log%s", name, old ? ".1" : "");
  return state_open(s->paths.state_dir, (const char *const[]){"logs", file, NULL}, flags, 0600,
                    NULL);
}

static char *log_path(const struct supervisor *s, const char *name, bool old) {
  _cleanup_free_ char *file = xasprintf("%s.log%s", name, old ? ".1" : "");
  char *p = NULL;
  state_path_join(s->paths.state_dir, (const char *const[]){"logs", file, NULL}, &p, NULL);
  return p;
}

void sup_log_init(struct sup_log *l, const char *name, const char *service) {
  *l = (struct sup_log){.name = name, .service = service, .fd = -1};
}

static void unlist(struct sup_log *l) {
  if (l->sup == NULL)
    return;
  for (struct sup_log **pp = &l->sup->logs_failing; *pp; pp = &(*pp)->next_failing)
    if (*pp == l) {
      *pp = l->next_failing;
      break;
    }
  l->sup = NULL;
  l->next_failing = NULL;
}

void sup_log_clear(struct sup_log *l) {
  unlist(l);
  for (int i = 0; i < 3; i++)
    sbuf_free(&l->line[i]);
  if (l->fd >= 0)
    close(l->fd);
  l->fd = -1;
  log_hold_clear(&l->hold);
  free(l->fs);
  l->fs = NULL;
}

/* Opens (or rotates) the file: its fd, or -errno. */
static int log_open(struct supervisor *s, struct sup_log *l) {
  if (l->bytes >= LOG_MAX_BYTES) {
    _cleanup_free_ char *path = log_path(s, l->name, false);
    _cleanup_free_ char *old = log_path(s, l->name, true);
    close(l->fd);
    l->fd = -1;
    if (path && old)
      rename(path, old);
  }
  if (l->fd >= 0)
    return l->fd;
  int fd = log_open_file(s, l->name, false, O_WRONLY | O_CREAT | O_APPEND);
  if (fd < 0)
    return fd;
  l->fd = fd;
  struct stat st;
  l->bytes = fstat(l->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
  return l->fd;
}

/* The line that replaces those that did not fit in memory. */
static char *lost_line(void *ctx, uint64_t lost, int error) {
  struct sup_log *l = ctx;
  if (error == ENOSPC || error == EDQUOT)
    return xasprintf("%lld e stack: %llu log lines lost: %s on %s\n", (long long)sup_wall_ms(),
                     (unsigned long long)lost,
                     error == ENOSPC ? "no space left" : "disk quota exceeded",
                     l->fs ? l->fs : "the log's file system");
  return xasprintf("%lld e stack: %llu log lines lost: the log file could not be written (%s)\n",
                   (long long)sup_wall_ms(), (unsigned long long)lost, strerror(error));
}

static void on_log_retry(uv_timer_t *t);

/* A container event about its log (log-error, log-resumed). */
static void log_event_emit(struct supervisor *s, struct sup_log *l, const char *action,
                           const char *error, uint64_t lost) {
  struct ps_container *r = project_state_find(s->state, l->name);
  if (r == NULL)
    return;
  cJSON *ev = sup_container_event(s, r, action);
  cJSON *attrs = cJSON_GetObjectItem(ev, "attributes");
  _cleanup_free_ char *path = log_path(s, l->name, false);
  if (path)
    cJSON_AddStringToObject(attrs, "file", path);
  if (error)
    cJSON_AddStringToObject(attrs, "error", error);
  if (l->fs)
    cJSON_AddStringToObject(attrs, "filesystem", l->fs);
  if (!error) {
    char n[32];
    snprintf(n, sizeof n, "%llu", (unsigned long long)lost);
    cJSON_AddStringToObject(attrs, "lost", n);
  }
  sup_emit(s, ev);
}

/* Writes text (whole lines, or nothing to retry) and says once when the
 * file cannot be written, and again when it can. */
static void log_write(struct supervisor *s, struct sup_log *l, const char *text, size_t len) {
  int fd = log_open(s, l);
  uint64_t lost = l->hold.lost;
  switch (log_hold_write(&l->hold, fd, &l->bytes, text, len, lost_line, l)) {
  case LOG_HOLD_OK:
  case LOG_HOLD_FAILING:
    return;
  case LOG_HOLD_FAILED: {
    _cleanup_free_ char *path = log_path(s, l->name, false);
    free(l->fs);
    l->fs = path ? fs_mount_point(path) : NULL;
    const char *why = strerror(l->hold.error);
    fprintf(stderr,
            "stack supervisor: container %s: cannot write its log %s: %s; its lines wait in "
            "memory (up to %u KiB, those beyond are counted) and are written once it can be "
            "(free space on %s)\n",
            l->name, path ? path : "", why, LOG_HOLD_MAX >> 10, l->fs ? l->fs : "its file system");
    log_event_emit(s, l, "log-error", why, 0);
    if (l->sup == NULL) {
      l->sup = s;
      l->next_failing = s->logs_failing;
      s->logs_failing = l;
    }
    if (s->log_retry == NULL) {
      s->log_retry = xcalloc(1, sizeof *s->log_retry);
      uv_timer_init(&s->loop, s->log_retry);
      s->log_retry->data = s;
    }
    if (!uv_is_active((uv_handle_t *)s->log_retry))
      uv_timer_start(s->log_retry, on_log_retry, SUP_LOG_RETRY_MS, SUP_LOG_RETRY_MS);
    return;
  }
  case LOG_HOLD_RECOVERED:
    fprintf(stderr, "stack supervisor: container %s: its log is written again (%llu lines lost)\n",
            l->name, (unsigned long long)lost);
    log_event_emit(s, l, "log-resumed", NULL, lost);
    unlist(l);
    return;
  }
}

static void on_log_retry(uv_timer_t *t) {
  struct supervisor *s = t->data;
  for (struct sup_log *l = s->logs_failing, *next; l; l = next) {
    next = l->next_failing;
    log_write(s, l, "", 0);
  }
  if (s->logs_failing == NULL)
    uv_timer_stop(t);
}

static void on_retry_closed(uv_handle_t *h) { free(h); }

void sup_logs_shutdown(struct supervisor *s) {
  for (struct sup_log *l = s->logs_failing, *next; l; l = next) {
    next = l->next_failing;
    log_write(s, l, "", 0);
  }
  for (struct sup_log *l = s->logs_failing; l; l = l->next_failing)
    fprintf(stderr, "stack supervisor: container %s: %llu log lines lost: its log could not be "
            "written (%s)\n",
            l->name, (unsigned long long)log_hold_waiting_lines(&l->hold),
            strerror(l->hold.error));
  if (s->log_retry) {
    uv_close((uv_handle_t *)s->log_retry, on_retry_closed);
    s->log_retry = NULL;
  }
}

static bool follows(const struct sup_conn *conn, const char *service) {
  if (conn->logs_id == NULL)
    return false;
  if (conn->logs_services == NULL)
    return true;
  for (char **p = conn->logs_services; *p; p++)
    if (strcmp(*p, service) == 0)
      return true;
  return false;
}

static cJSON *log_event(const char *name, const char *service, int fd, int64_t ms,
                        const char *line, size_t len) {
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "type", "log");
  cJSON_AddStringToObject(ev, "name", name);
  cJSON_AddStringToObject(ev, "service", service);
  cJSON_AddStringToObject(ev, "stream", fd == 2 ? "stderr" : "stdout");
  cJSON_AddNumberToObject(ev, "time", (double)ms);
  _cleanup_free_ char *text = xstrndup(line, len);
  cJSON_AddStringToObject(ev, "line", text);
  return ev;
}

void sup_log_line(struct supervisor *s, struct sup_log *l, int fd, const char *line, size_t len) {
  if (len > LOG_MAX_LINE)
    len = LOG_MAX_LINE;
  int64_t now = sup_wall_ms();
  _cleanup_sbuf_ struct sbuf text = SBUF_INIT;
  sbuf_printf(&text, "%lld %c ", (long long)now, fd == 2 ? 'e' : 'o');
  sbuf_append(&text, line, len);
  sbuf_putc(&text, '\n');
  log_write(s, l, text.data, text.len);
  for (struct sup_conn *conn = s->conns; conn; conn = conn->next)
    if (follows(conn, l->service))
      sup_conn_send(conn, sup_format_event(conn->logs_id,
                                           log_event(l->name, l->service, fd, now, line, len)));
}

struct stored_line {
  int64_t ms;
  size_t seq; /* keeps the file order among equal times */
  cJSON *ev;
};

static int by_time(const void *a, const void *b) {
  const struct stored_line *x = a, *y = b;
  if (x->ms != y->ms)
    return x->ms < y->ms ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The lines a `logs` request asks for: written in [since_ms, until_ms),
 * then the last `tail` of them (-1: all). */
struct log_filter {
  long tail;
  int64_t since_ms, until_ms;
};

/* Appends the lines of one log file (old rotation first) to *v. */
static void read_log(struct supervisor *s, const struct ps_container *r,
                     const struct log_filter *f, struct stored_line **v, size_t *n,
                     size_t *cap) {
  long tail = f->tail;
  size_t first = *n;
  for (int old = 1; old >= 0; old--) {
    _cleanup_close_ int fd = log_open_file(s, r->name, old, O_RDONLY);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (fd < 0 || fs_read_fd(fd, "a log", 2 * LOG_MAX_BYTES, &text, &len, NULL) < 0)
      continue;
    for (char *p = text, *nl; p < text + len; p = nl + 1) {
      nl = memchr(p, '\n', (size_t)(text + len - p));
      if (nl == NULL)
        break; /* a line being written */
      char *end;
      long long ms = strtoll(p, &end, 10);
      if (end == p || end + 3 > nl || end[0] != ' ' || (end[1] != 'o' && end[1] != 'e') ||
          end[2] != ' ')
        continue; /* not ours: skip rather than fail */
      if (ms < f->since_ms || ms >= f->until_ms)
        continue;
      *v = xgrow(*v, cap, *n + 1, sizeof(**v));
      (*v)[*n] = (struct stored_line){ms, *n,
                                      log_event(r->name, r->service, end[1] == 'e' ? 2 : 1, ms,
                                                end + 3, (size_t)(nl - end - 3))};
      (*n)++;
    }
  }
  if (tail >= 0 && *n - first > (size_t)tail) {
    size_t drop = *n - first - (size_t)tail;
    for (size_t i = first; i < first + drop; i++)
      cJSON_Delete((*v)[i].ev);
    memmove(*v + first, *v + first + drop, (*n - first - drop) * sizeof(**v));
    *n -= drop;
  }
}

int sup_logs_send(struct supervisor *s, struct sup_conn *conn, const cJSON *id,
                  const cJSON *params, struct stack_error **err) {
  const cJSON *names = cJSON_GetObjectItemCaseSensitive(params, "services");
  const cJSON *tail_j = cJSON_GetObjectItemCaseSensitive(params, "tail");
  bool follow = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(params, "follow"));
  long tail = cJSON_IsNumber(tail_j) && tail_j->valuedouble >= 0 ? (long)tail_j->valuedouble : -1;
  const cJSON *since_j = cJSON_GetObjectItemCaseSensitive(params, "since_ms");
  const cJSON *until_j = cJSON_GetObjectItemCaseSensitive(params, "until_ms");
  struct log_filter filter = {tail, cJSON_IsNumber(since_j) ? (int64_t)since_j->valuedouble : 0,
                              cJSON_IsNumber(until_j) ? (int64_t)until_j->valuedouble : INT64_MAX};
  /* following goes on from now: nothing new comes before an until */
  if (cJSON_IsNumber(until_j))
    follow = false;
  if (names && !cJSON_IsArray(names))
    return stack_error_set(err, -EINVAL, "params.services must be a list of names");
  if (follow && conn->logs_id)
    return stack_error_set(err, -EBUSY, "this connection already follows logs");
  _cleanup_strv_ char **services = NULL;
  if (names && cJSON_GetArraySize(names) > 0) {
    services = xcalloc((size_t)cJSON_GetArraySize(names) + 1, sizeof(char *));
    size_t k = 0;
    const cJSON *n;
    cJSON_ArrayForEach(n, names) {
      if (!cJSON_IsString(n))
        return stack_error_set(err, -EINVAL, "params.services must be a list of names");
      bool known = false;
      for (size_t i = 0; i < s->state->n_containers; i++)
        known |= strcmp(s->state->containers[i].service, n->valuestring) == 0;
      if (!known && !(s->project && compose_project_service(s->project, n->valuestring)))
        return stack_error_set(err, -ENOENT, "no such service: %s", n->valuestring);
      services[k++] = xstrdup(n->valuestring);
    }
  }
  _cleanup_free_ struct stored_line *v = NULL;
  size_t n = 0, cap = 0;
  for (size_t i = 0; i < s->state->n_containers; i++) {
    const struct ps_container *r = &s->state->containers[i];
    bool wanted = services == NULL;
    for (char **p = services; p && *p; p++)
      wanted |= strcmp(*p, r->service) == 0;
    if (wanted)
      read_log(s, r, &filter, &v, &n, &cap);
  }
  if (n)
    qsort(v, n, sizeof(*v), by_time);
  for (size_t i = 0; i < n; i++)
    sup_conn_send(conn, sup_format_event(id, v[i].ev));
  if (follow) {
    conn->logs_id = id ? cJSON_Duplicate(id, true) : cJSON_CreateNull();
    conn->logs_services = steal_pointer(&services);
    return 1;
  }
  return 0;
}

void sup_logs_on_change(struct supervisor *s, const struct sup_change *ch) {
  if (ch->kind != SUP_CHANGE_EXITED)
    return;
  for (struct sup_conn *conn = s->conns; conn; conn = conn->next) {
    if (!follows(conn, ch->service))
      continue;
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "type", "exit");
    cJSON_AddStringToObject(ev, "name", ch->name);
    cJSON_AddStringToObject(ev, "service", ch->service);
    cJSON_AddNumberToObject(ev, "exit_code", ch->exit_code);
    sup_conn_send(conn, sup_format_event(conn->logs_id, ev));
  }
}

void sup_logs_remove(struct supervisor *s, const char *name) {
  for (int old = 0; old < 2; old++) {
    _cleanup_free_ char *path = log_path(s, name, old);
    if (path)
      unlink(path);
  }
}

void sup_log_bytes(struct supervisor *s, struct sup_log *l, int fd, const uint8_t *p, size_t n) {
  if (fd != 1 && fd != 2)
    return;
  struct sbuf *b = &l->line[fd];
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '\n') {
      sup_log_line(s, l, fd, b->data ? b->data : "", b->len);
      sbuf_reset(b);
    } else {
      sbuf_putc(b, (char)p[i]);
    }
  }
}

void sup_log_flush(struct supervisor *s, struct sup_log *l) {
  for (int fd = 1; fd <= 2; fd++)
    if (l->line[fd].len) {
      sup_log_line(s, l, fd, l->line[fd].data, l->line[fd].len);
      sbuf_reset(&l->line[fd]);
    }
}
