#include "sup_client.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "sup_daemon.h"
#include "sup_paths.h"
#include "sup_proto.h"

struct sup_client {
  int fd;
  long next_id;
  struct sup_linebuf in;
  volatile int *interrupted;
};

void sup_client_set_interrupt(struct sup_client *c, volatile int *flag) { c->interrupted = flag; }

int sup_client_connect(const struct sup_paths *p, struct sup_client **out,
                       struct stack_error **err) {
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return stack_error_errno(err, -errno, "cannot create a socket");
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(p->socket) >= sizeof(sa.sun_path))
    return stack_error_set(err, -ENAMETOOLONG, "socket path too long: %s", p->socket);
  strcpy(sa.sun_path, p->socket);
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    return stack_error_errno(err, -errno, "no supervisor runs for project %s (%s)", p->project,
                             p->socket);
  struct sup_client *c = xcalloc(1, sizeof(*c));
  c->fd = steal_fd(&fd);
  c->next_id = 1;
  *out = c;
  return 0;
}

int sup_client_open(const struct sup_paths *p, const char *exe, struct sup_client **out,
                    struct stack_error **err) {
  int r = sup_client_connect(p, out, NULL);
  if (r != -ENOENT && r != -ECONNREFUSED)
    return r < 0 ? sup_client_connect(p, out, err) : 0;
  {
    _cleanup_close_ int lock = -1;
    if ((r = sup_daemon_lock(p, &lock, err)) < 0)
      return r;
    /* someone else may have started it while we waited for the lock */
    if (sup_client_connect(p, out, NULL) == 0)
      return 0;
    if ((r = sup_daemon_start(p, exe, lock, err)) < 0)
      return r;
  }
  return sup_client_connect(p, out, err);
}

int sup_client_fd(const struct sup_client *c) { return c->fd; }

static int send_all(int fd, const char *s, size_t n, struct stack_error **err) {
  while (n > 0) {
    ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return stack_error_errno(err, -errno, "cannot send to the supervisor");
    }
    s += w;
    n -= (size_t)w;
  }
  return 0;
}

/* The next line from the supervisor (caller frees). */
static int read_line(struct sup_client *c, char **line, size_t *len, struct stack_error **err) {
  for (;;) {
    int r = sup_linebuf_next(&c->in, line, len);
    if (r < 0)
      return stack_error_set(err, r, "the supervisor sent a line too long");
    if (r == 1)
      return 0;
    char buf[65536];
    ssize_t n = read(c->fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR && c->interrupted && *c->interrupted)
      return -EINTR;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return stack_error_errno(err, -errno, "cannot read from the supervisor");
    if (n == 0)
      return stack_error_set(err, -ECONNRESET,
                             "the supervisor closed the connection; see its log "
                             "(supervisor.log in the project's state directory)");
    if (sup_linebuf_feed(&c->in, buf, (size_t)n) < 0)
      return stack_error_set(err, -EMSGSIZE, "the supervisor sent a line too long");
  }
}

int sup_client_send(struct sup_client *c, const char *method, cJSON *params,
                    struct stack_error **err) {
  long id = c->next_id++;
  _cleanup_free_ char *req = sup_format_request(id, method, params);
  return send_all(c->fd, req, strlen(req), err);
}

int sup_client_call(struct sup_client *c, const char *method, cJSON *params,
                    int (*on_event)(const cJSON *event, void *ctx), void *ctx, cJSON **result,
                    struct stack_error **err) {
  int r = sup_client_send(c, method, params, err);
  if (r < 0)
    return r;
  return sup_client_resume(c, on_event, ctx, result, err);
}

int sup_client_resume(struct sup_client *c, int (*on_event)(const cJSON *event, void *ctx),
                      void *ctx, cJSON **result, struct stack_error **err) {
  long id = c->next_id - 1;
  for (;;) {
    _cleanup_free_ char *line = NULL;
    size_t len = 0;
    int r = read_line(c, &line, &len, err);
    if (r < 0)
      return r;
    cJSON *res = NULL, *ev = NULL;
    r = sup_parse_reply(line, len, id, &res, &ev, err);
    if (r < 0)
      return r;
    if (r == 0) {
      if (result)
        *result = res;
      else
        cJSON_Delete(res);
      return 0;
    }
    r = on_event ? on_event(ev, ctx) : 0;
    cJSON_Delete(ev);
    if (r != 0)
      return r;
  }
}

int sup_client_next_event(struct sup_client *c, cJSON **event, struct stack_error **err) {
  _cleanup_free_ char *line = NULL;
  size_t len = 0;
  int r = read_line(c, &line, &len, err);
  if (r < 0)
    return r;
  cJSON *res = NULL;
  *event = NULL;
  r = sup_parse_reply(line, len, c->next_id - 1, &res, event, err);
  if (r == 0) {
    cJSON_Delete(res);
    return stack_error_set(err, -ENOMSG, "the supervisor ended the stream");
  }
  return r < 0 ? r : 0;
}

void sup_client_free(struct sup_client *c) {
  if (c == NULL)
    return;
  close(c->fd);
  sup_linebuf_free(&c->in);
  free(c);
}

void sup_client_freep(struct sup_client **c) { sup_client_free(*c); }
