#include "portproxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/util/dlist.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

#define PIPE_BYTES (1 << 20)
#define UDP_IDLE_MS 60000
#define UDP_MAX_FLOWS 1024

struct portproxy;

struct pp_listener {
  union {
    uv_poll_t tcp; /* on fd: the TCP side is raw sockets, for splice() */
    uv_udp_t udp;
  } h;
  int fd; /* TCP listening socket, -1 for UDP */
  int proto;
  struct portproxy *p;
  struct sockaddr_in guest;
  struct pp_listener *next;
};

/* One direction of a TCP connection: bytes move src -> pipe -> dst with
 * splice(), never through user space. */
struct pp_dir {
  int pipe_r, pipe_w;
  size_t in_pipe, cap;
  bool eof;  /* src said EOF */
  bool done; /* EOF passed on to dst (shutdown) */
};

struct pp_conn {
  uv_poll_t pa, pb; /* a: the client, b: the guest */
  int fa, fb;
  struct pp_dir ab, ba;
  struct portproxy *p;
  struct pp_conn *prev, *next;
  int open;
  bool connected, closing;
};

struct pp_flow {
  uv_udp_t up; /* connected to the guest */
  struct pp_listener *l; /* valid while the proxy is not closing */
  struct portproxy *p;
  struct sockaddr_in client;
  uint64_t last;
  struct pp_flow *prev, *next;
};

struct portproxy {
  uv_loop_t *loop;
  struct pp_listener *listeners;
  struct pp_conn *conns;
  struct pp_flow *flows;
  size_t n_conns, n_flows;
  uv_timer_t sweep;
  int open;
  bool closing;
  char ubuf[65536]; /* one UDP datagram at most */
};

static void maybe_free(struct portproxy *p) {
  if (p->closing && p->open == 0)
    free(p);
}

static void timer_closed(uv_handle_t *h) {
  struct portproxy *p = h->data;
  p->open--;
  maybe_free(p);
}

/* ---- TCP ---- */

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static void conn_handle_closed(uv_handle_t *h) {
  struct pp_conn *c = h->data;
  struct portproxy *p = c->p;
  if (--c->open == 0) {
    close_fd(&c->fa);
    close_fd(&c->fb);
    close_fd(&c->ab.pipe_r);
    close_fd(&c->ab.pipe_w);
    close_fd(&c->ba.pipe_r);
    close_fd(&c->ba.pipe_w);
    free(c);
  }
  p->open--;
  maybe_free(p);
}

static void conn_close(struct pp_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  struct portproxy *p = c->p;
  DLIST_REMOVE(&p->conns, c);
  p->n_conns--;
  uv_close((uv_handle_t *)&c->pa, conn_handle_closed);
  uv_close((uv_handle_t *)&c->pb, conn_handle_closed);
}

/* Moves what it can in one direction without blocking.  Returns 0, or -1
 * when the connection must end (reset, or an error on either side). */
static int pump(struct pp_dir *d, int src, int dst) {
  for (int round = 0; round < 16; round++) {
    bool moved = false;
    if (!d->eof && d->in_pipe < d->cap) {
      ssize_t n = splice(src, NULL, d->pipe_w, NULL, d->cap - d->in_pipe,
                         SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (n > 0) {
        d->in_pipe += (size_t)n;
        moved = true;
      } else if (n == 0) {
        d->eof = true;
      } else if (errno != EAGAIN && errno != EINTR) {
        return -1;
      }
    }
    if (d->in_pipe > 0) {
      ssize_t n = splice(d->pipe_r, NULL, dst, NULL, d->in_pipe,
                         SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (n > 0) {
        d->in_pipe -= (size_t)n;
        moved = true;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return -1;
      }
    }
    if (d->eof && d->in_pipe == 0 && !d->done) {
      /* Half-close: the peer sees EOF only after all the data. */
      shutdown(dst, SHUT_WR);
      d->done = true;
    }
    if (!moved)
      break;
  }
  return 0;
}

static void conn_poll_cb(uv_poll_t *h, int status, int events);

/* Watches for exactly what each side can do next. */
static void conn_update(struct pp_conn *c) {
  int ea = 0, eb = 0;
  if (!c->connected) {
    eb = UV_WRITABLE;
  } else {
    if (!c->ab.eof && c->ab.in_pipe < c->ab.cap)
      ea |= UV_READABLE;
    if (c->ba.in_pipe > 0)
      ea |= UV_WRITABLE;
    if (!c->ba.eof && c->ba.in_pipe < c->ba.cap)
      eb |= UV_READABLE;
    if (c->ab.in_pipe > 0)
      eb |= UV_WRITABLE;
  }
  if (ea)
    uv_poll_start(&c->pa, ea, conn_poll_cb);
  else
    uv_poll_stop(&c->pa);
  if (eb)
    uv_poll_start(&c->pb, eb, conn_poll_cb);
  else
    uv_poll_stop(&c->pb);
}

static void conn_poll_cb(uv_poll_t *h, int status, int events) {
  struct pp_conn *c = h->data;
  (void)events;
  if (c->closing)
    return;
  if (status < 0) {
    conn_close(c);
    return;
  }
  if (!c->connected) {
    int e = 0;
    socklen_t l = sizeof(e);
    if (getsockopt(c->fb, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e != 0) {
      /* The guest is not listening (yet): the client sees a reset. */
      struct linger lg = {1, 0};
      setsockopt(c->fa, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      conn_close(c);
      return;
    }
    c->connected = true;
  }
  if (pump(&c->ab, c->fa, c->fb) < 0 || pump(&c->ba, c->fb, c->fa) < 0) {
    conn_close(c);
    return;
  }
  if (c->ab.done && c->ba.done) {
    conn_close(c);
    return;
  }
  conn_update(c);
}

static int dir_init(struct pp_dir *d) {
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
    return -1;
  d->pipe_r = fds[0];
  d->pipe_w = fds[1];
  /* A bigger pipe means fewer wake-ups per megabyte; the default limit
   * (pipe-max-size) allows 1 MiB to anyone. */
  (void)fcntl(d->pipe_w, F_SETPIPE_SZ, PIPE_BYTES);
  int sz = fcntl(d->pipe_w, F_GETPIPE_SZ);
  d->cap = sz > 0 ? (size_t)sz : 65536;
  return 0;
}

static void new_conn(struct pp_listener *l, int fa) {
  struct portproxy *p = l->p;
  struct pp_conn *c = xcalloc(1, sizeof(*c));
  c->p = p;
  c->fa = fa;
  c->ab.pipe_r = c->ab.pipe_w = c->ba.pipe_r = c->ba.pipe_w = -1;
  c->fb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (c->fb < 0 || dir_init(&c->ab) < 0 || dir_init(&c->ba) < 0 ||
      (connect(c->fb, (const struct sockaddr *)&l->guest, sizeof(l->guest)) < 0 &&
       errno != EINPROGRESS) ||
      uv_poll_init(p->loop, &c->pa, c->fa) < 0) {
    close_fd(&c->fb);
    close_fd(&c->fa);
    close_fd(&c->ab.pipe_r);
    close_fd(&c->ab.pipe_w);
    close_fd(&c->ba.pipe_r);
    close_fd(&c->ba.pipe_w);
    free(c);
    return;
  }
  setsockopt(c->fa, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(c->fb, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->pa.data = c;
  c->open = 1;
  p->open++;
  DLIST_PUSH(&p->conns, c);
  p->n_conns++;
  if (uv_poll_init(p->loop, &c->pb, c->fb) < 0) {
    /* Only pa exists: close it alone. */
    c->closing = true;
    DLIST_REMOVE(&p->conns, c);
    p->n_conns--;
    uv_close((uv_handle_t *)&c->pa, conn_handle_closed);
    return;
  }
  c->pb.data = c;
  c->open = 2;
  p->open++;
  conn_update(c);
}

static void tcp_accept(uv_poll_t *h, int status, int events) {
  struct pp_listener *l = h->data;
  (void)events;
  if (status < 0 || l->p->closing)
    return;
  /* Take everything that is waiting, up to a bound, then yield. */
  for (int i = 0; i < 64; i++) {
    int fa = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fa < 0)
      return;
    new_conn(l, fa);
  }
}

/* ---- UDP ---- */

static void flow_closed(uv_handle_t *h) {
  struct pp_flow *f = h->data;
  struct portproxy *p = f->p;
  free(f);
  p->open--;
  maybe_free(p);
}

static void flow_close(struct pp_flow *f) {
  struct portproxy *p = f->p;
  DLIST_REMOVE(&p->flows, f);
  p->n_flows--;
  uv_close((uv_handle_t *)&f->up, flow_closed);
}

static void flow_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                      unsigned flags) {
  struct pp_flow *f = h->data;
  (void)addr;
  (void)flags;
  if (nread <= 0)
    return;
  if (f->p->closing)
    return;
  f->last = uv_now(f->p->loop);
  uv_buf_t b = uv_buf_init(buf->base, (unsigned)nread);
  (void)uv_udp_try_send(&f->l->h.udp, &b, 1, (const struct sockaddr *)&f->client);
}

static void flow_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct pp_flow *f = h->data;
  (void)suggested;
  *buf = uv_buf_init(f->p->ubuf, sizeof(f->p->ubuf));
}

static void sweep_cb(uv_timer_t *t) {
  struct portproxy *p = t->data;
  uint64_t now = uv_now(p->loop);
  for (struct pp_flow *f = p->flows, *next; f; f = next) {
    next = f->next;
    if (now - f->last >= UDP_IDLE_MS)
      flow_close(f);
  }
  if (p->flows == NULL)
    uv_timer_stop(t);
}

static void listener_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                          const struct sockaddr *addr, unsigned flags) {
  struct pp_listener *l = h->data;
  struct portproxy *p = l->p;
  (void)flags;
  if (nread < 0 || addr == NULL || addr->sa_family != AF_INET || p->closing)
    return;
  const struct sockaddr_in *from = (const struct sockaddr_in *)addr;
  struct pp_flow *f = p->flows;
  for (; f; f = f->next)
    if (f->l == l && f->client.sin_port == from->sin_port &&
        f->client.sin_addr.s_addr == from->sin_addr.s_addr)
      break;
  if (f == NULL) {
    if (p->n_flows >= UDP_MAX_FLOWS)
      return;
    f = xcalloc(1, sizeof(*f));
    f->l = l;
    f->p = p;
    f->client = *from;
    uv_udp_init(p->loop, &f->up);
    f->up.data = f;
    p->open++;
    DLIST_PUSH(&p->flows, f);
    p->n_flows++;
    if (uv_udp_connect(&f->up, (const struct sockaddr *)&l->guest) < 0 ||
        uv_udp_recv_start(&f->up, flow_alloc, flow_recv) < 0) {
      flow_close(f);
      return;
    }
    if (!uv_is_active((uv_handle_t *)&p->sweep))
      uv_timer_start(&p->sweep, sweep_cb, 5000, 5000);
  }
  f->last = uv_now(p->loop);
  uv_buf_t b = uv_buf_init(buf->base, (unsigned)nread);
  (void)uv_udp_try_send(&f->up, &b, 1, NULL);
}

static void listener_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct pp_listener *l = h->data;
  (void)suggested;
  *buf = uv_buf_init(l->p->ubuf, sizeof(l->p->ubuf));
}

/* ---- setup ---- */

static void listener_closed(uv_handle_t *h) {
  struct pp_listener *l = h->data;
  struct portproxy *p = l->p;
  if (l->fd >= 0)
    close(l->fd);
  free(l);
  p->open--;
  maybe_free(p);
}

/* Binds and listens on ip:port; returns 0 or a libuv error. */
static int try_listen(struct portproxy *p, int proto, const struct sockaddr_in *host,
                      const struct sockaddr_in *guest, struct pp_listener **out) {
  struct pp_listener *l = xcalloc(1, sizeof(*l));
  l->proto = proto;
  l->p = p;
  l->guest = *guest;
  l->fd = -1;
  int r;
  if (proto == IPPROTO_TCP) {
    int one = 1;
    l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0) {
      r = uv_translate_sys_error(errno);
      free(l);
      return r;
    }
    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    r = 0;
    if (bind(l->fd, (const struct sockaddr *)host, sizeof(*host)) < 0 || listen(l->fd, 511) < 0)
      r = uv_translate_sys_error(errno);
    uv_poll_init(p->loop, &l->h.tcp, l->fd);
    l->h.tcp.data = l;
    if (r == 0)
      r = uv_poll_start(&l->h.tcp, UV_READABLE, tcp_accept);
  } else {
    uv_udp_init(p->loop, &l->h.udp);
    l->h.udp.data = l;
    r = uv_udp_bind(&l->h.udp, (const struct sockaddr *)host, 0);
    if (r == 0)
      r = uv_udp_recv_start(&l->h.udp, listener_alloc, listener_recv);
  }
  p->open++;
  if (r < 0) {
    uv_close((uv_handle_t *)&l->h, listener_closed);
    return r;
  }
  l->next = p->listeners;
  p->listeners = l;
  *out = l;
  return 0;
}

static uint16_t bound_port(struct pp_listener *l) {
  struct sockaddr_in a;
  int len = sizeof(a);
  socklen_t sl = sizeof(a);
  int r = l->proto == IPPROTO_TCP ? getsockname(l->fd, (struct sockaddr *)&a, &sl)
                                  : uv_udp_getsockname(&l->h.udp, (struct sockaddr *)&a, &len);
  return r == 0 ? ntohs(a.sin_port) : 0;
}

static int start_spec(struct portproxy *p, const struct net_port_spec *s,
                      struct net_port_binding **v, size_t *cnt, size_t *cap,
                      struct stack_error **err) {
  const char *svc = s->service ? s->service : "published port";
  const char *proto = s->proto == IPPROTO_UDP ? "udp" : "tcp";
  const char *hip = s->host_ip && *s->host_ip ? s->host_ip : "0.0.0.0";
  if (s->proto != IPPROTO_TCP && s->proto != IPPROTO_UDP)
    return stack_error_set(err, -EINVAL, "%s: protocol must be tcp or udp", svc);
  struct sockaddr_in host = {.sin_family = AF_INET}, guest = {.sin_family = AF_INET};
  if (inet_pton(AF_INET, hip, &host.sin_addr) != 1)
    return stack_error_set(err, -EINVAL, "%s: host IP \"%s\" is not an IPv4 address", svc, hip);
  if (s->guest_ip == NULL || inet_pton(AF_INET, s->guest_ip, &guest.sin_addr) != 1)
    return stack_error_set(err, -EINVAL, "%s: guest IP \"%s\" is not an IPv4 address", svc,
                           s->guest_ip ? s->guest_ip : "(none)");
  unsigned h0 = s->host_port, h1 = s->host_port_end > h0 ? s->host_port_end : h0;
  unsigned g0 = s->guest_port, g1 = s->guest_port_end > g0 ? s->guest_port_end : g0;
  if (g0 == 0)
    return stack_error_set(err, -EINVAL, "%s: the container port is missing", svc);
  if (g1 > g0 && (h0 == 0 || h1 - h0 != g1 - g0))
    return stack_error_set(err, -EINVAL,
                           "%s: host port range %u-%u and container port range %u-%u differ in "
                           "size: give both ranges the same length",
                           svc, h0, h1, g0, g1);
  bool pick_one = g1 == g0 && h1 > h0; /* "8000-8010:80": the first free port */
  int last = 0;
  for (unsigned hp = h0; hp <= h1; hp++) {
    unsigned gp = pick_one ? g0 : g0 + (hp - h0);
    host.sin_port = htons((uint16_t)hp);
    guest.sin_port = htons((uint16_t)gp);
    struct pp_listener *l = NULL;
    last = try_listen(p, s->proto, &host, &guest, &l);
    if (last < 0 && pick_one && hp < h1)
      continue;
    if (last < 0) {
      if (last == UV_EADDRINUSE)
        return stack_error_set(err, -EADDRINUSE,
                               "%s: host port %s:%u/%s is already in use%s: stop what uses it, "
                               "or choose another host port in `ports:`",
                               svc, hip, pick_one ? h0 : hp, proto,
                               pick_one ? " (the whole range)" : "");
      return stack_error_set(err, -EIO, "%s: cannot listen on %s:%u/%s: %s", svc, hip, hp, proto,
                             uv_strerror(last));
    }
    *v = xgrow(*v, cap, *cnt + 1, sizeof(**v));
    struct net_port_binding *b = &(*v)[(*cnt)++];
    snprintf(b->host_ip, sizeof(b->host_ip), "%s", hip);
    b->host_port = bound_port(l);
    snprintf(b->guest_ip, sizeof(b->guest_ip), "%s", s->guest_ip);
    b->guest_port = (uint16_t)gp;
    b->proto = s->proto;
    if (pick_one || hp == 0)
      break;
  }
  return 0;
}

int portproxy_start(uv_loop_t *loop, const struct net_port_spec *specs, size_t n,
                    struct portproxy **out, struct net_port_binding **bindings,
                    size_t *n_bindings, struct stack_error **err) {
  struct portproxy *p = xcalloc(1, sizeof(*p));
  p->loop = loop;
  uv_timer_init(loop, &p->sweep);
  p->sweep.data = p;
  p->open = 1;
  struct net_port_binding *v = NULL;
  size_t cnt = 0, cap = 0;
  for (size_t i = 0; i < n; i++) {
    int r = start_spec(p, &specs[i], &v, &cnt, &cap, err);
    if (r < 0) {
      free(v);
      portproxy_close(p);
      return r;
    }
  }
  *out = p;
  if (bindings)
    *bindings = v;
  else
    free(v);
  if (n_bindings)
    *n_bindings = cnt;
  return 0;
}

void portproxy_close(struct portproxy *p) {
  if (p == NULL || p->closing)
    return;
  p->closing = true;
  for (struct pp_listener *l = p->listeners, *next; l; l = next) {
    next = l->next;
    uv_close((uv_handle_t *)&l->h, listener_closed);
    /* Free the port now, not a loop tick later: a container recreated in the
     * same `up` binds it again right away.  uv_close() already took the fd
     * out of epoll. */
    if (l->fd >= 0) {
      close(l->fd);
      l->fd = -1;
    }
  }
  p->listeners = NULL;
  while (p->conns)
    conn_close(p->conns);
  while (p->flows)
    flow_close(p->flows);
  uv_close((uv_handle_t *)&p->sweep, timer_closed);
}

size_t portproxy_active(const struct portproxy *p) { return p->n_conns + p->n_flows; }
