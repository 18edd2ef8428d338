/* stack-init: PID 1 of every VM.  Mounts the kernel file systems, opens the
 * control port, says HELLO and then serves the host's frames with one epoll
 * loop (signalfd for children, never a busy wait). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

/* After the main process exited the host is expected to send SHUTDOWN; if
 * it does not (it went away), power off anyway. */
#define SHUTDOWN_GRACE_SEC 10

void init_poweroff(void) {
  sync();
  reboot(RB_AUTOBOOT); /* QEMU runs with -no-reboot: this ends it */
  reboot(RB_POWER_OFF);
  for (;;)
    pause();
}

/* The container's root: image disk under the data disk's upper layer, the
 * /etc files mounted, then made the root. */
static int prepare_root(const char *root_dev, const char *data_dev, char *msg, size_t msglen) {
  int r;
  if ((r = mounts_overlay(root_dev, data_dev, msg, msglen)) == 0 &&
      (r = sysconf_bind_etc(msg, msglen)) == 0)
    r = mounts_switch(msg, msglen);
  return r;
}

/* A template of an image is saved after this: its clones start with their
 * root mounted (the mounts are most of what configuring costs). */
static void on_prepare(struct init *in, const uint8_t *p, size_t n) {
  const char *root_dev = NULL, *data_dev = NULL;
  char msg[512] = "";
  int r;
  if (in->prepared || in->configured) {
    r = -EALREADY;
    snprintf(msg, sizeof msg, "already prepared");
  } else if (proto_dec_prepare(p, n, &root_dev, &data_dev) < 0) {
    r = -EBADMSG;
    snprintf(msg, sizeof msg, "malformed PREPARE frame");
  } else if ((r = prepare_root(root_dev, data_dev, msg, sizeof msg)) == 0) {
    in->prepared = 1;
    /* the template's disk file then holds what its guest believes */
    sync();
  }
  if (r < 0)
    fprintf(stderr, "stack-init: prepare: %s\n", msg);
  port_send_status(in, PROTO_PREPARED, 0, r, msg);
}

/* Compose's read_only: the root mount only; the mounts on it stay. */
static int read_only_root(const struct proto_configure *c, char *msg, size_t msglen) {
  if (!(c->flags & PROTO_CONFIGURE_READ_ONLY))
    return 0;
  if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
    int e = errno;
    snprintf(msg, msglen, "remount / read-only: %s", strerror(e));
    return -e;
  }
  return 0;
}

static void on_configure(struct init *in, const uint8_t *p, size_t n) {
  struct proto_configure *c = calloc(1, sizeof *c);
  char msg[512] = "";
  int r = -ENOMEM;
  if (c == NULL)
    goto out;
  if (in->configured) {
    r = -EALREADY;
    snprintf(msg, sizeof msg, "already configured");
  } else if (proto_dec_configure(p, n, c) < 0) {
    r = -EBADMSG;
    snprintf(msg, sizeof msg, "malformed CONFIGURE frame");
  } else {
    /* bound even if the configuration fails: the host may die before it
     * collects the error */
    in->host_bound = (c->flags & PROTO_CONFIGURE_HOST_BOUND) != 0;
    r = in->prepared ? 0 : prepare_root(c->root_dev, c->data_dev, msg, sizeof msg);
    if (r == 0) {
      in->prepared = 1;
      if ((r = sysconf_apply(c, msg, sizeof msg)) == 0 &&
          (r = net_configure(c, msg, sizeof msg)) == 0 &&
          (r = mounts_extra(c, msg, sizeof msg)) == 0 &&
          (r = sysconf_files(c, msg, sizeof msg)) == 0 &&
          (r = sysconf_sysctls(c, msg, sizeof msg)) == 0 &&
          (r = read_only_root(c, msg, sizeof msg)) == 0)
        in->configured = 1;
    }
  }
out:
  free(c);
  if (r < 0)
    fprintf(stderr, "stack-init: configure: %s\n", msg);
  port_send_status(in, PROTO_CONFIGURED, 0, r, msg);
}

static void on_start(struct init *in, uint16_t id, const uint8_t *p, size_t n) {
  struct proto_start st;
  struct proto_exit fail = {PROTO_EXIT_FAILED, EINVAL, ""};
  char msg[512] = "";
  if (!in->configured) {
    fail.message = "START before CONFIGURE";
    goto failed;
  }
  if (session_find(in, id) != NULL || (id == 0 && in->main_done)) {
    fail.message = "session id already in use";
    goto failed;
  }
  if (proto_dec_start(p, n, &st) < 0) {
    fail.message = "malformed START frame";
    goto failed;
  }
  struct session *s = session_new(in, id);
  if (s == NULL) {
    free(st.argv);
    free(st.env);
    fail.code = EAGAIN;
    fail.message = "too many sessions";
    goto failed;
  }
  int r = spawn_session(in, s, &st, msg, sizeof msg);
  free(st.argv);
  free(st.env);
  if (r < 0) {
    if (s->pid > 0) { /* exec failed in the child: it has exited already */
      while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
    for (int *fd = &s->in_fd; fd <= &s->err_fd; fd++)
      if (*fd >= 0)
        close(*fd);
    s->used = 0;
    fail.code = -r;
    fail.message = msg;
    goto failed;
  }
  if (id == 0) {
    in->main_started = 1;
    in->main_pid = s->pid;
  }
  struct proto_wr w = {0};
  if (proto_enc_u32s(&w, PROTO_STARTED, id, 1, (uint32_t)s->pid, 0) == 0)
    port_write(in, w.buf, w.len);
  proto_wr_free(&w);
  return;
failed:
  port_send_exit(in, id, &fail);
}

/* A new host took over (its predecessor died): what it must know, after
 * its nonce, which tells it where this frame starts. */
static void on_attach(struct init *in, const uint8_t *p, size_t n) {
  const uint8_t *nonce;
  if (proto_dec_attach(p, n, &nonce) < 0) {
    init_log(in, "malformed ATTACH frame");
    return;
  }
  struct proto_attached a = {0};
  memcpy(a.nonce, nonce, PROTO_NONCE_SIZE);
  if (in->configured)
    a.state |= PROTO_ATTACHED_CONFIGURED;
  if (in->main_started) {
    a.state |= PROTO_ATTACHED_STARTED;
    a.main_pid = (uint32_t)in->main_pid;
  }
  if (in->main_done) {
    a.state |= PROTO_ATTACHED_EXITED;
    if (WIFSIGNALED(in->main_status)) {
      a.exit_kind = PROTO_EXIT_SIGNAL;
      a.exit_code = WTERMSIG(in->main_status);
    } else {
      a.exit_kind = PROTO_EXIT_CODE;
      a.exit_code = WEXITSTATUS(in->main_status);
    }
  }
  for (int i = 0; i < INIT_MAX_SESSIONS; i++) {
    const struct session *s = &in->sessions[i];
    if (s->used && s->id != 0) {
      a.sessions++;
      if (s->id > a.last_session)
        a.last_session = s->id;
    }
  }
  struct proto_wr w = {0};
  if (proto_enc_attached(&w, &a) == 0)
    port_write(in, w.buf, w.len);
  proto_wr_free(&w);
}

static void on_frame(struct init *in, const struct proto_hdr *h, const uint8_t *p) {
  struct session *s = NULL;
  uint32_t a = 0, b = 0;
  switch (h->type) {
  case PROTO_CONFIGURE:
    on_configure(in, p, h->len);
    break;
  case PROTO_PREPARE:
    on_prepare(in, p, h->len);
    break;
  case PROTO_START:
    on_start(in, h->session, p, h->len);
    break;
  case PROTO_STDIN:
    if ((s = session_find(in, h->session)) != NULL)
      session_stdin(in, s, p, h->len);
    break;
  case PROTO_SIGNAL:
    if ((s = session_find(in, h->session)) != NULL &&
        proto_dec_u32s(p, h->len, 1, &a, &b) == 0 && a > 0 && a < NSIG && s->pid > 0)
      kill(s->pid, (int)a);
    break;
  case PROTO_RESIZE:
    if ((s = session_find(in, h->session)) != NULL && s->tty &&
        proto_dec_u32s(p, h->len, 2, &a, &b) == 0) {
      struct winsize ws = {.ws_row = (unsigned short)a, .ws_col = (unsigned short)b};
      ioctl(s->in_fd, TIOCSWINSZ, &ws);
    }
    break;
  case PROTO_TOP:
    procs_send(in, h->session);
    break;
  case PROTO_ATTACH:
    on_attach(in, p, h->len);
    break;
  case PROTO_SHUTDOWN:
    kill(-1, SIGKILL);
    init_poweroff();
  default:
    init_log(in, "unexpected frame type %u from the host", h->type);
    break;
  }
}

/* Before CONFIGURE the guest may be a template being saved or a clone
 * being restored: a clone's host may connect a moment after the restore, so
 * a hang-up then is normally brief and watched closely (every 10 ms); a VM
 * left unconfigured with no host for UNHOSTED_LIMIT_MS was abandoned (its
 * builder died) and powers off. */
#define UNHOSTED_RETRY_MS 10
#define UNHOSTED_LIMIT_MS 30000

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* With no host connected the port reports hang-up at once on every poll:
 * watch it again a little later instead of spinning (a second later once
 * configured: a supervisor that died is restarted by the next command).
 * A VM bound to its host ends instead: nobody will ever connect again to
 * collect it. */
static void port_pause(struct init *in) {
  /* what the host that went had sent of a frame will never be completed:
   * the next host starts with a frame of its own (ATTACH) */
  in->rlen = 0;
  if (in->host_bound) {
    fprintf(stderr, "stack-init: the host hung up; powering off\n");
    kill(-1, SIGKILL);
    init_poweroff();
  }
  struct itimerspec it = {.it_value = {.tv_sec = 1}};
  if (!in->configured) {
    long long now = now_ms();
    if (in->unhosted_since == 0)
      in->unhosted_since = now;
    else if (now - in->unhosted_since > UNHOSTED_LIMIT_MS) {
      fprintf(stderr, "stack-init: no host before configuration; powering off\n");
      init_poweroff();
    }
    it.it_value = (struct timespec){.tv_nsec = UNHOSTED_RETRY_MS * 1000000L};
  }
  epoll_ctl(in->ep, EPOLL_CTL_DEL, in->port, NULL);
  if (in->retryfd < 0) {
    in->retryfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_RETRY};
    epoll_ctl(in->ep, EPOLL_CTL_ADD, in->retryfd, &ev);
  }
  timerfd_settime(in->retryfd, 0, &it, NULL);
}

static void on_port(struct init *in) {
  if (in->rcap - in->rlen < 65536) {
    size_t cap = in->rcap ? in->rcap * 2 : 131072;
    uint8_t *nb = realloc(in->rbuf, cap);
    if (nb == NULL)
      return;
    in->rbuf = nb;
    in->rcap = cap;
  }
  ssize_t n = read(in->port, in->rbuf + in->rlen, in->rcap - in->rlen);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    port_pause(in);
    return;
  }
  if (n < 0)
    return;
  in->unhosted_since = 0;
  in->rlen += (size_t)n;
  size_t off = 0;
  while (in->rlen - off >= PROTO_HDR_SIZE) {
    struct proto_hdr h;
    if (proto_hdr_decode(in->rbuf + off, &h) < 0) {
      /* a stream we cannot follow: the host is broken; end the VM */
      init_log(in, "bad frame from the host; powering off");
      kill(-1, SIGKILL);
      init_poweroff();
    }
    if (in->rlen - off - PROTO_HDR_SIZE < h.len) {
      if (h.len + PROTO_HDR_SIZE > in->rcap) {
        uint8_t *nb = realloc(in->rbuf, h.len + PROTO_HDR_SIZE + 65536);
        if (nb == NULL)
          break;
        in->rbuf = nb;
        in->rcap = h.len + PROTO_HDR_SIZE + 65536;
      }
      break;
    }
    on_frame(in, &h, in->rbuf + off + PROTO_HDR_SIZE);
    off += PROTO_HDR_SIZE + h.len;
  }
  memmove(in->rbuf, in->rbuf + off, in->rlen - off);
  in->rlen -= off;
}

static void on_sigchld(struct init *in) {
  struct signalfd_siginfo si;
  while (read(in->sigfd, &si, sizeof si) > 0)
    ;
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (int i = 0; i < INIT_MAX_SESSIONS; i++) {
      struct session *s = &in->sessions[i];
      if (s->used && s->pid == pid) {
        s->status = status;
        session_finish(in, s);
        break;
      }
    }
  }
  if (in->main_done && in->timerfd < 0) {
    in->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec it = {.it_value = {.tv_sec = SHUTDOWN_GRACE_SEC}};
    timerfd_settime(in->timerfd, 0, &it, NULL);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_TIMER};
    epoll_ctl(in->ep, EPOLL_CTL_ADD, in->timerfd, &ev);
  }
}

static void add_fd(struct init *in, int fd, uint64_t tag) {
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
  epoll_ctl(in->ep, EPOLL_CTL_ADD, fd, &ev);
}

int main(void) {
  struct init in_storage;
  struct init *in = &in_storage;
  memset(in, 0, sizeof *in);
  in->port = in->timerfd = in->retryfd = -1;

  mounts_early();
  /* inherited by every process the init starts (spawn.c applies a
   * container's own ulimits over it) */
  struct rlimit nofile = {INIT_NOFILE, INIT_NOFILE};
  int nofile_err = setrlimit(RLIMIT_NOFILE, &nofile) < 0 ? errno : 0;
  int con = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (con >= 0) {
    dup2(con, 1);
    dup2(con, 2);
    if (con > 2)
      close(con);
  }
  memory_setup();
  if (nofile_err)
    fprintf(stderr, "stack-init: RLIMIT_NOFILE %d: %s\n", INIT_NOFILE, strerror(nofile_err));
  in->port = port_open();
  if (in->port < 0) {
    fprintf(stderr, "stack-init: no control port %s: %s\n", PROTO_PORT_NAME, strerror(-in->port));
    init_poweroff();
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  signal(SIGPIPE, SIG_IGN);
  in->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  in->ep = epoll_create1(EPOLL_CLOEXEC);

  int r = net_loopback_up();
  if (r < 0)
    fprintf(stderr, "stack-init: bring up lo: %s\n", strerror(-r));
  struct utsname un;
  uname(&un);
  struct proto_wr w = {0};
  if (proto_enc_hello(&w, PROTO_VERSION, PROTO_CAP_EXEC | PROTO_CAP_TTY | PROTO_CAP_NETLINK,
                      un.release) == 0)
    port_write(in, w.buf, w.len);
  proto_wr_free(&w);

  add_fd(in, in->port, EV_PORT);
  add_fd(in, in->sigfd, EV_SIGNAL);
  for (;;) {
    struct epoll_event evs[16];
    int n = epoll_wait(in->ep, evs, 16, -1);
    for (int i = 0; i < n; i++) {
      uint64_t tag = evs[i].data.u64;
      if (tag == EV_PORT) {
        if ((evs[i].events & (EPOLLHUP | EPOLLERR)) && !(evs[i].events & EPOLLIN))
          port_pause(in);
        else
          on_port(in);
      } else if (tag == EV_RETRY) {
        uint64_t ticks;
        (void)!read(in->retryfd, &ticks, sizeof ticks);
        add_fd(in, in->port, EV_PORT);
      } else if (tag == EV_SIGNAL) {
        on_sigchld(in);
      } else if (tag == EV_TIMER) {
        init_poweroff();
      } else {
        struct session *s = &in->sessions[tag & 0xffff];
        int fd = (int)(tag >> 32);
        if (!s->used)
          continue;
        if (fd == s->in_fd && (evs[i].events & EPOLLOUT))
          session_flush_stdin(in, s);
        else if (fd == s->out_fd || fd == s->err_fd)
          session_pump(in, s, fd);
      }
    }
  }
}
