/* Sessions: the main process (session 0) and exec sessions, each with its
 * own stdio streamed to the host as frames. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

struct session *session_find(struct init *in, uint16_t id) {
  for (int i = 0; i < INIT_MAX_SESSIONS; i++)
    if (in->sessions[i].used && in->sessions[i].id == id)
      return &in->sessions[i];
  return NULL;
}

struct session *session_new(struct init *in, uint16_t id) {
  for (int i = 0; i < INIT_MAX_SESSIONS; i++) {
    struct session *s = &in->sessions[i];
    if (!s->used) {
      memset(s, 0, sizeof *s);
      s->used = 1;
      s->id = id;
      s->in_fd = s->out_fd = s->err_fd = -1;
      return s;
    }
  }
  return NULL;
}

void session_watch(struct init *in, struct session *s, int fd, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.u64 = EV_SESSION(s - in->sessions, fd)};
  if (epoll_ctl(in->ep, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT)
    epoll_ctl(in->ep, EPOLL_CTL_ADD, fd, &ev);
}

static void close_fd(struct init *in, int *fd) {
  if (*fd < 0)
    return;
  epoll_ctl(in->ep, EPOLL_CTL_DEL, *fd, NULL);
  close(*fd);
  *fd = -1;
}

/* Reads one chunk; returns 1 if more may follow, 0 at EOF or error. */
static int pump_once(struct init *in, struct session *s, int fd) {
  uint8_t buf[PROTO_CHUNK];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n < 0 && errno == EINTR)
    return 1;
  if (n < 0 && errno == EAGAIN)
    return -1;
  if (n <= 0) /* EOF; EIO on a pty master once the slave is gone */
    return 0;
  port_send_data(in, fd == s->err_fd ? PROTO_STDERR : PROTO_STDOUT, s->id, buf, (size_t)n);
  return 1;
}

void session_pump(struct init *in, struct session *s, int fd) {
  if (pump_once(in, s, fd) == 0) {
    if (fd == s->err_fd) {
      close_fd(in, &s->err_fd);
    } else {
      /* with a pty, in_fd is the same master (dup'ed): keep it for stdin
       * until the process exits */
      close_fd(in, &s->out_fd);
    }
  }
}

void session_flush_stdin(struct init *in, struct session *s) {
  while (s->inlen > 0 && s->in_fd >= 0) {
    ssize_t n = write(s->in_fd, s->inbuf, s->inlen);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      session_watch(in, s, s->in_fd, EPOLLOUT);
      return;
    }
    if (n < 0) { /* the reader is gone: stdin is of no use any more */
      s->inlen = 0;
      close_fd(in, &s->in_fd);
      break;
    }
    memmove(s->inbuf, s->inbuf + n, s->inlen - (size_t)n);
    s->inlen -= (size_t)n;
  }
  if (s->in_fd >= 0 && s->inlen == 0) {
    /* nothing left to write: stop watching for EPOLLOUT, which a pipe or a
     * pty master would report forever */
    if (s->in_eof && !s->tty)
      close_fd(in, &s->in_fd);
    else
      epoll_ctl(in->ep, EPOLL_CTL_DEL, s->in_fd, NULL);
  }
  if (s->inlen == 0) {
    free(s->inbuf);
    s->inbuf = NULL;
  }
}

void session_stdin(struct init *in, struct session *s, const uint8_t *p, size_t n) {
  if (s->in_fd < 0)
    return;
  if (n == 0) {
    s->in_eof = 1;
    if (s->tty) /* end of input on a terminal is ^D */
      p = (const uint8_t *)"\004", n = 1;
    else {
      session_flush_stdin(in, s);
      return;
    }
  }
  if (s->inlen + n > INIT_STDIN_MAX) {
    init_log(in, "session %u: stdin overflow, %zu bytes dropped", s->id, n);
    return;
  }
  uint8_t *b = realloc(s->inbuf, s->inlen + n);
  if (b == NULL)
    return;
  memcpy(b + s->inlen, p, n);
  s->inbuf = b;
  s->inlen += n;
  session_flush_stdin(in, s);
}

void session_finish(struct init *in, struct session *s) {
  /* What the process wrote before it exited is in the pipe: forward it.
   * Stop at EAGAIN, since a child it left behind may hold the pipe. */
  int *fds[2] = {&s->out_fd, &s->err_fd};
  for (int i = 0; i < 2; i++) {
    while (*fds[i] >= 0 && pump_once(in, s, *fds[i]) > 0)
      ;
    close_fd(in, fds[i]);
  }
  close_fd(in, &s->in_fd);
  free(s->inbuf);
  s->inbuf = NULL;
  struct proto_exit e = {PROTO_EXIT_CODE, 0, ""};
  if (WIFSIGNALED(s->status)) {
    e.kind = PROTO_EXIT_SIGNAL;
    e.code = WTERMSIG(s->status);
  } else {
    e.code = WEXITSTATUS(s->status);
  }
  uint16_t id = s->id;
  s->used = 0;
  if (id == 0) {
    in->main_status = s->status;
    /* the container ends with its main process, as with Docker: nothing
     * may keep writing to the disks after they are synced */
    in->main_done = 1;
    kill(-1, SIGKILL);
    sync();
  }
  port_send_exit(in, id, &e);
}
