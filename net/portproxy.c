#include "portproxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/dlist.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

#define READ_CHUNK (256u << 10)
#define HIGH_WATER (4u << 20) /* stop reading while the other side lags */
#define LOW_WATER (1u << 20)
#define UDP_IDLE_MS 60000
#define UDP_MAX_FLOWS 1024

struct portproxy;

struct pp_listener {
  union {
    uv_tcp_t tcp;
    uv_udp_t udp;
  } h;
  int proto;
  struct portproxy *p;
  struct sockaddr_in guest;
  struct pp_listener *next;
};

struct pp_conn {
  uv_tcp_t a, b; /* a: the client, b: the guest */
  uv_connect_t creq;
  uv_shutdown_t sa, sb;
  struct portproxy *p;
  struct pp_conn *prev, *next;
  int open;
  bool a_eof, b_eof, a_shut, b_shut, connected, closing, a_paused, b_paused;
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

struct pp_write {
  uv_write_t req;
  struct pp_conn *c;
  char *base;
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

static void conn_handle_closed(uv_handle_t *h) {
  struct pp_conn *c = h->data;
  struct portproxy *p = c->p;
  if (--c->open == 0)
    free(c);
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
  uv_close((uv_handle_t *)&c->a, conn_handle_closed);
  uv_close((uv_handle_t *)&c->b, conn_handle_closed);
}

static void on_read(uv_stream_t *src, ssize_t nread, const uv_buf_t *buf);

static void rd_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  *buf = uv_buf_init(xmalloc(READ_CHUNK), READ_CHUNK);
}

static void written(uv_write_t *req, int status) {
  struct pp_write *w = (struct pp_write *)req;
  struct pp_conn *c = w->c;
  free(w->base);
  free(w);
  if (c->closing)
    return;
  if (status < 0) {
    conn_close(c);
    return;
  }
  /* Resume a side we paused once its peer's queue has drained. */
  if (c->a_paused && !c->a_eof && c->b.write_queue_size < LOW_WATER) {
    c->a_paused = false;
    uv_read_start((uv_stream_t *)&c->a, rd_alloc, on_read);
  }
  if (c->b_paused && !c->b_eof && c->a.write_queue_size < LOW_WATER) {
    c->b_paused = false;
    uv_read_start((uv_stream_t *)&c->b, rd_alloc, on_read);
  }
}

/* A side is shut once everything queued for it was written: the connection
 * ends when both are, so no data in flight is lost. */
static void shut_done(uv_shutdown_t *req, int status) {
  struct pp_conn *c = req->data;
  if (c->closing)
    return;
  if (req == &c->sa)
    c->a_shut = true;
  else
    c->b_shut = true;
  if (status < 0 || (c->a_shut && c->b_shut))
    conn_close(c);
}

static void on_read(uv_stream_t *src, ssize_t nread, const uv_buf_t *buf) {
  struct pp_conn *c = src->data;
  bool from_a = src == (uv_stream_t *)&c->a;
  uv_stream_t *dst = from_a ? (uv_stream_t *)&c->b : (uv_stream_t *)&c->a;
  if (nread == 0) {
    free(buf->base);
    return;
  }
  if (nread < 0) {
    free(buf->base);
    if (nread != UV_EOF || c->closing) {
      conn_close(c);
      return;
    }
    /* Half-close: pass the EOF on after the queued data. */
    uv_read_stop(src);
    if (from_a)
      c->a_eof = true;
    else
      c->b_eof = true;
    uv_shutdown_t *sr = from_a ? &c->sb : &c->sa;
    sr->data = c;
    if (uv_shutdown(sr, dst, shut_done) < 0)
      conn_close(c);
    return;
  }
  struct pp_write *w = xmalloc(sizeof(*w));
  w->c = c;
  w->base = buf->base;
  uv_buf_t out = uv_buf_init(buf->base, (unsigned)nread);
  if (uv_write(&w->req, dst, &out, 1, written) < 0) {
    free(w->base);
    free(w);
    conn_close(c);
    return;
  }
  if (dst->write_queue_size > HIGH_WATER) {
    uv_read_stop(src);
    if (from_a)
      c->a_paused = true;
    else
      c->b_paused = true;
  }
}

static void guest_connected(uv_connect_t *req, int status) {
  struct pp_conn *c = req->data;
  if (c->closing)
    return;
  if (status < 0) {
    conn_close(c); /* the guest is not listening (yet): the client sees a reset */
    return;
  }
  c->connected = true;
  uv_tcp_nodelay(&c->a, 1);
  uv_tcp_nodelay(&c->b, 1);
  if (uv_read_start((uv_stream_t *)&c->a, rd_alloc, on_read) < 0 ||
      uv_read_start((uv_stream_t *)&c->b, rd_alloc, on_read) < 0)
    conn_close(c);
}

static void tcp_accept(uv_stream_t *server, int status) {
  struct pp_listener *l = server->data;
  struct portproxy *p = l->p;
  if (status < 0 || p->closing)
    return;
  struct pp_conn *c = xcalloc(1, sizeof(*c));
  c->p = p;
  uv_tcp_init(p->loop, &c->a);
  uv_tcp_init(p->loop, &c->b);
  c->a.data = c->b.data = c;
  c->open = 2;
  p->open += 2;
  DLIST_PUSH(&p->conns, c);
  p->n_conns++;
  if (uv_accept(server, (uv_stream_t *)&c->a) < 0) {
    conn_close(c);
    return;
  }
  c->creq.data = c;
  if (uv_tcp_connect(&c->creq, &c->b, (const struct sockaddr *)&l->guest, guest_connected) < 0)
    conn_close(c);
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
  int r;
  if (proto == IPPROTO_TCP) {
    uv_tcp_init(p->loop, &l->h.tcp);
    l->h.tcp.data = l;
    r = uv_tcp_bind(&l->h.tcp, (const struct sockaddr *)host, 0);
    /* libuv may report EADDRINUSE only at listen time. */
    if (r == 0)
      r = uv_listen((uv_stream_t *)&l->h.tcp, 511, tcp_accept);
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
  int r = l->proto == IPPROTO_TCP
              ? uv_tcp_getsockname(&l->h.tcp, (struct sockaddr *)&a, &len)
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
  }
  p->listeners = NULL;
  while (p->conns)
    conn_close(p->conns);
  while (p->flows)
    flow_close(p->flows);
  uv_close((uv_handle_t *)&p->sweep, timer_closed);
}

size_t portproxy_active(const struct portproxy *p) { return p->n_conns + p->n_flows; }
