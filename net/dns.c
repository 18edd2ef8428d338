#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "net/dns_cache.h"
#include "net/dns_packet.h"
#include "net/dns_records.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/dlist.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

#define MAX_PENDING 4096
#define MAX_TCP_CONNS 512
#define MAX_LOCAL_ANSWERS 32
#define TCP_MSG_MAX 65535

struct dns_server;

struct listener {
  uv_udp_t udp;
  uv_tcp_t tcp;
  struct dns_server *s;
  struct listener *next;
  int open; /* handles not yet closed: the struct goes with the last one */
};

struct tcp_conn {
  uv_tcp_t h;
  struct dns_server *s;
  struct tcp_conn *prev, *next;
  uint8_t *buf;
  size_t len, cap;
  int refs; /* pending forwarded queries still pointing here */
  uint64_t last; /* loop time of the last read, for the idle timeout */
  bool closed, freed_handle;
  struct in_addr peer;
};

/* Where an answer goes: a UDP client (listener + address) or a TCP connection. */
struct client {
  struct listener *lst;
  struct sockaddr_in addr;
  struct tcp_conn *conn;
};

struct pending {
  struct pending *next;
  struct client c;
  uint16_t up_id, client_id;
  unsigned attempt;
  uint64_t deadline;
  uint8_t *query;
  size_t qlen;
  char *key;
};

struct dns_server {
  uv_loop_t *loop;
  struct dns_records *records;
  struct sockaddr_in *upstreams;
  size_t n_upstreams;
  uint32_t ttl;
  unsigned timeout_ms;
  struct listener *listeners;
  struct tcp_conn *conns;
  size_t n_conns;
  uv_udp_t up;
  uv_timer_t sweep;
  uv_timer_t idle; /* closes TCP clients that stay silent */
  unsigned tcp_idle_ms;
  struct pending *pending;
  size_t n_pending;
  struct dns_cache *cache;
  uint64_t rng;
  int open_handles;
  bool closing;
  struct dns_server_stats stats;
  uint8_t rbuf[TCP_MSG_MAX + 2];
};

static uint16_t next_id(struct dns_server *s) {
  /* xorshift64*, seeded from getrandom: upstream ids must not be guessable,
   * or an off-path sender could poison the cache. */
  s->rng ^= s->rng >> 12;
  s->rng ^= s->rng << 25;
  s->rng ^= s->rng >> 27;
  return (uint16_t)((s->rng * 0x2545F4914F6CDD1DULL) >> 48);
}

static void maybe_free(struct dns_server *s) {
  if (!s->closing || s->open_handles > 0)
    return;
  dns_cache_free(s->cache);
  free(s->upstreams);
  free(s);
}

static void handle_closed(uv_handle_t *h) {
  struct dns_server *s = h->data;
  s->open_handles--;
  maybe_free(s);
}

static void conn_maybe_free(struct tcp_conn *c) {
  if (!c->freed_handle || c->refs > 0)
    return;
  free(c->buf);
  free(c);
}

static void conn_closed(uv_handle_t *h) {
  struct tcp_conn *c = h->data;
  struct dns_server *s = c->s;
  c->freed_handle = true;
  conn_maybe_free(c);
  s->open_handles--;
  maybe_free(s);
}

static void conn_close(struct tcp_conn *c) {
  if (c->closed)
    return;
  c->closed = true;
  struct dns_server *s = c->s;
  DLIST_REMOVE(&s->conns, c);
  s->n_conns--;
  uv_close((uv_handle_t *)&c->h, conn_closed);
}

struct tcp_write {
  uv_write_t req;
  uint8_t data[];
};

static void tcp_written(uv_write_t *req, int status) {
  struct tcp_write *w = (struct tcp_write *)req;
  struct tcp_conn *c = req->data;
  if (status < 0)
    conn_close(c);
  c->refs--;
  conn_maybe_free(c);
  free(w);
}

static void send_reply(struct dns_server *s, const struct client *c, const uint8_t *buf,
                       size_t len) {
  if (c->conn != NULL) {
    if (c->conn->closed)
      return;
    struct tcp_write *w = xmalloc(sizeof(*w) + len + 2);
    w->data[0] = (uint8_t)(len >> 8);
    w->data[1] = (uint8_t)len;
    memcpy(w->data + 2, buf, len);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len + 2);
    w->req.data = c->conn;
    c->conn->refs++;
    if (uv_write(&w->req, (uv_stream_t *)&c->conn->h, &b, 1, tcp_written) < 0) {
      c->conn->refs--;
      free(w);
      conn_close(c->conn);
    }
    return;
  }
  /* UDP is lossy anyway: when the socket buffer is full, the client retries;
   * no allocation or queueing on the hot path. */
  uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
  (void)uv_udp_try_send(&c->lst->udp, &b, 1, (const struct sockaddr *)&c->addr);
  (void)s;
}

static char *cache_key(const struct dns_question *q) {
  return xasprintf("%u/%u/%s", q->qtype, q->qclass, q->name);
}

static void client_ref(struct client *c) {
  if (c->conn)
    c->conn->refs++;
}

static void client_unref(struct client *c) {
  if (c->conn) {
    c->conn->refs--;
    conn_maybe_free(c->conn);
  }
}

static void pending_free(struct pending *p) {
  client_unref(&p->c);
  free(p->query);
  free(p->key);
  free(p);
}

static void send_servfail(struct dns_server *s, const struct client *c, const uint8_t *query,
                          size_t qlen, uint16_t client_id) {
  struct dns_header h;
  uint8_t out[DNS_HEADER_SIZE];
  if (dns_parse_header(query, qlen, &h) < 0)
    return;
  h.id = client_id;
  s->stats.failures++;
  send_reply(s, c, out, (size_t)dns_write_error(&h, DNS_RCODE_SERVFAIL, out));
}

static void upstream_send(struct dns_server *s, struct pending *p) {
  const struct sockaddr_in *to = &s->upstreams[p->attempt % s->n_upstreams];
  uv_buf_t b = uv_buf_init((char *)p->query, (unsigned)p->qlen);
  (void)uv_udp_try_send(&s->up, &b, 1, (const struct sockaddr *)to);
  p->deadline = uv_now(s->loop) + s->timeout_ms;
}

static void sweep_cb(uv_timer_t *t) {
  struct dns_server *s = t->data;
  uint64_t now = uv_now(s->loop);
  struct pending **pp = &s->pending;
  while (*pp) {
    struct pending *p = *pp;
    if (now < p->deadline) {
      pp = &p->next;
      continue;
    }
    /* Each upstream gets two tries, like the glibc resolver's default. */
    if (++p->attempt < 2 * s->n_upstreams) {
      upstream_send(s, p);
      pp = &p->next;
      continue;
    }
    *pp = p->next;
    s->n_pending--;
    send_servfail(s, &p->c, p->query, p->qlen, p->client_id);
    pending_free(p);
  }
  if (s->pending == NULL)
    uv_timer_stop(t);
}

static void forward(struct dns_server *s, const struct client *c, const uint8_t *buf, size_t len,
                    const struct dns_query *q) {
  if (s->n_upstreams == 0 || s->n_pending >= MAX_PENDING) {
    send_servfail(s, c, buf, len, q->hdr.id);
    return;
  }
  struct pending *p = xcalloc(1, sizeof(*p));
  p->c = *c;
  client_ref(&p->c);
  p->client_id = q->hdr.id;
  p->up_id = next_id(s);
  p->query = xmalloc(len);
  memcpy(p->query, buf, len);
  p->query[0] = (uint8_t)(p->up_id >> 8);
  p->query[1] = (uint8_t)p->up_id;
  p->qlen = len;
  p->key = cache_key(&q->q);
  p->next = s->pending;
  s->pending = p;
  s->n_pending++;
  s->stats.forwarded++;
  upstream_send(s, p);
  if (!uv_is_active((uv_handle_t *)&s->sweep))
    uv_timer_start(&s->sweep, sweep_cb, 100, 100);
}

static void handle_query(struct dns_server *s, const struct client *c, struct in_addr src,
                         const uint8_t *buf, size_t len) {
  struct dns_query q;
  int r = dns_parse_query(buf, len, &q);
  if (r < 0) {
    uint8_t out[DNS_HEADER_SIZE];
    s->stats.malformed++;
    /* Never answer something that claims to be a response: that is how
     * reflection loops between two servers start. */
    if (r == -EBADMSG && (len < DNS_HEADER_SIZE || (buf[2] & 0x80)))
      return;
    send_reply(s, c, out,
               (size_t)dns_write_error(&q.hdr, r == -EOPNOTSUPP ? DNS_RCODE_NOTIMP
                                                                : DNS_RCODE_FORMERR,
                                       out));
    return;
  }
  s->stats.queries++;
  size_t cap = c->conn ? TCP_MSG_MAX : DNS_UDP_MAX;
  uint8_t out[TCP_MSG_MAX];
  if (q.q.qclass == DNS_CLASS_IN || q.q.qclass == DNS_TYPE_ANY) {
    struct in_addr addrs[MAX_LOCAL_ANSWERS];
    size_t n = 0;
    enum dns_lookup_result lr =
        dns_records_lookup(s->records, src, q.q.name, addrs, MAX_LOCAL_ANSWERS, &n);
    if (lr != DNS_LOOKUP_UNKNOWN) {
      s->stats.local++;
      int w = dns_write_reply(buf, &q, lr == DNS_LOOKUP_FOUND ? DNS_RCODE_NOERROR
                                                               : DNS_RCODE_NXDOMAIN,
                              addrs, n, s->ttl, out, cap);
      if (w > 0)
        send_reply(s, c, out, (size_t)w);
      return;
    }
  }
  _cleanup_free_ char *key = cache_key(&q.q);
  size_t clen = 0;
  if (dns_cache_get(s->cache, key, uv_now(s->loop), out, sizeof(out), &clen) == 0) {
    s->stats.cache_hits++;
    out[0] = (uint8_t)(q.hdr.id >> 8);
    out[1] = (uint8_t)q.hdr.id;
    send_reply(s, c, out, clen);
    return;
  }
  forward(s, c, buf, len, &q);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct listener *l = h->data;
  (void)suggested;
  /* One buffer per server: libuv hands datagrams over one at a time. */
  *buf = uv_buf_init((char *)l->s->rbuf, sizeof(l->s->rbuf));
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                     unsigned flags) {
  struct listener *l = h->data;
  if (nread <= 0 || addr == NULL || addr->sa_family != AF_INET || (flags & UV_UDP_PARTIAL))
    return;
  struct client c = {.lst = l};
  memcpy(&c.addr, addr, sizeof(c.addr));
  handle_query(l->s, &c, c.addr.sin_addr, (const uint8_t *)buf->base, (size_t)nread);
}

static void up_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct dns_server *s = h->data;
  (void)suggested;
  *buf = uv_buf_init((char *)s->rbuf, sizeof(s->rbuf));
}

static void up_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                    unsigned flags) {
  struct dns_server *s = h->data;
  if (nread < DNS_HEADER_SIZE || addr == NULL || addr->sa_family != AF_INET)
    return;
  uint8_t *msg = (uint8_t *)buf->base;
  size_t len = (size_t)nread;
  const struct sockaddr_in *from = (const struct sockaddr_in *)addr;
  uint16_t id = (uint16_t)(msg[0] << 8 | msg[1]);
  struct pending **pp = &s->pending;
  for (; *pp; pp = &(*pp)->next) {
    const struct sockaddr_in *to = &s->upstreams[(*pp)->attempt % s->n_upstreams];
    if ((*pp)->up_id == id && to->sin_addr.s_addr == from->sin_addr.s_addr &&
        to->sin_port == from->sin_port)
      break;
  }
  if (*pp == NULL)
    return; /* late, duplicate or spoofed */
  struct pending *p = *pp;
  uint32_t min_ttl;
  struct dns_header h2;
  size_t off = DNS_HEADER_SIZE;
  char qname[DNS_NAME_MAX + 1];
  if (dns_parse_response(msg, len, &min_ttl) < 0 || dns_parse_header(msg, len, &h2) < 0 ||
      !(h2.flags & DNS_FLAG_QR) || h2.qdcount != 1 ||
      dns_parse_name(msg, len, &off, qname) < 0 || off + 4 > len)
    return; /* not an answer to our question: keep waiting */
  struct dns_question rq;
  snprintf(rq.name, sizeof(rq.name), "%s", qname);
  rq.qtype = (uint16_t)(msg[off] << 8 | msg[off + 1]);
  rq.qclass = (uint16_t)(msg[off + 2] << 8 | msg[off + 3]);
  _cleanup_free_ char *key = cache_key(&rq);
  if (strcmp(key, p->key) != 0)
    return;
  *pp = p->next;
  s->n_pending--;
  int rcode = DNS_RCODE(h2.flags);
  if ((rcode == DNS_RCODE_NOERROR || rcode == DNS_RCODE_NXDOMAIN) && !(h2.flags & DNS_FLAG_TC) &&
      min_ttl > 0 && min_ttl != UINT32_MAX)
    dns_cache_put(s->cache, key, msg, len, min_ttl > 3600 ? 3600 : min_ttl, uv_now(s->loop));
  msg[0] = (uint8_t)(p->client_id >> 8);
  msg[1] = (uint8_t)p->client_id;
  send_reply(s, &p->c, msg, len);
  pending_free(p);
  (void)flags;
}

static void tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct tcp_conn *c = h->data;
  (void)suggested;
  if (c->cap - c->len < 4096) {
    size_t ncap = c->cap ? c->cap * 2 : 4096;
    if (ncap > TCP_MSG_MAX + 2 + 4096)
      ncap = TCP_MSG_MAX + 2 + 4096;
    c->buf = xrealloc(c->buf, ncap);
    c->cap = ncap;
  }
  *buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void tcp_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  struct tcp_conn *c = st->data;
  (void)buf;
  if (nread < 0) {
    conn_close(c);
    return;
  }
  c->len += (size_t)nread;
  c->last = uv_now(c->s->loop);
  size_t off = 0;
  while (c->len - off >= 2) {
    size_t mlen = (size_t)c->buf[off] << 8 | c->buf[off + 1];
    if (c->len - off - 2 < mlen)
      break;
    struct client cl = {.conn = c};
    handle_query(c->s, &cl, c->peer, c->buf + off + 2, mlen);
    off += 2 + mlen;
    if (c->closed)
      return;
  }
  memmove(c->buf, c->buf + off, c->len - off);
  c->len -= off;
}

static void tcp_accept(uv_stream_t *server, int status) {
  struct listener *l = server->data;
  struct dns_server *s = l->s;
  if (status < 0 || s->closing)
    return;
  struct tcp_conn *c = xcalloc(1, sizeof(*c));
  c->s = s;
  uv_tcp_init(s->loop, &c->h);
  c->h.data = c;
  s->open_handles++;
  DLIST_PUSH(&s->conns, c);
  s->n_conns++;
  if (uv_accept(server, (uv_stream_t *)&c->h) < 0 || s->n_conns > MAX_TCP_CONNS) {
    conn_close(c);
    return;
  }
  struct sockaddr_storage ss;
  int sl = sizeof(ss);
  if (uv_tcp_getpeername(&c->h, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET)
    c->peer = ((struct sockaddr_in *)&ss)->sin_addr;
  c->last = uv_now(s->loop);
  if (uv_read_start((uv_stream_t *)&c->h, tcp_alloc, tcp_read) < 0)
    conn_close(c);
}

/* A TCP client that sends nothing for a while is dropped, so that idle
 * connections cannot use up the connection limit. */
static void idle_cb(uv_timer_t *t) {
  struct dns_server *s = t->data;
  uint64_t now = uv_now(s->loop);
  for (struct tcp_conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    if (now - c->last >= s->tcp_idle_ms && c->refs == 0)
      conn_close(c);
  }
}

int dns_read_resolv_conf(const char *path, struct sockaddr_in **out, size_t *n,
                         struct stack_error **err) {
  _cleanup_free_ char *text = NULL;
  int r = fs_read_file(path, 1 << 20, &text, NULL, err);
  if (r < 0)
    return r;
  struct sockaddr_in *v = NULL;
  size_t cnt = 0, cap = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char ip[64];
    if (sscanf(line, " nameserver %63s", ip) != 1)
      continue;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
      continue; /* IPv6 upstreams: not yet */
    v = xgrow(v, &cap, cnt + 1, sizeof(*v));
    v[cnt++] = a;
  }
  *out = v;
  *n = cnt;
  return 0;
}

int dns_server_new(uv_loop_t *loop, struct dns_records *records,
                   const struct dns_server_config *cfg, struct dns_server **out,
                   struct stack_error **err) {
  static const struct dns_server_config defaults = {0};
  if (cfg == NULL)
    cfg = &defaults;
  struct dns_server *s = xcalloc(1, sizeof(*s));
  s->loop = loop;
  s->records = records;
  s->ttl = cfg->ttl ? cfg->ttl : 10;
  s->timeout_ms = cfg->forward_timeout_ms ? cfg->forward_timeout_ms : 2000;
  if (cfg->n_upstreams > 0) {
    s->upstreams = xmalloc(cfg->n_upstreams * sizeof(*s->upstreams));
    memcpy(s->upstreams, cfg->upstreams, cfg->n_upstreams * sizeof(*s->upstreams));
    s->n_upstreams = cfg->n_upstreams;
  } else {
    const char *rc = cfg->resolv_conf ? cfg->resolv_conf : "/etc/resolv.conf";
    struct stack_error *ignored = NULL;
    /* No resolv.conf means no forwarding (SERVFAIL), not a failure to serve
     * the project's own names. */
    if (dns_read_resolv_conf(rc, &s->upstreams, &s->n_upstreams, &ignored) < 0)
      stack_error_free(ignored);
  }
  if (getrandom(&s->rng, sizeof(s->rng), 0) != sizeof(s->rng) || s->rng == 0)
    s->rng = (uint64_t)uv_hrtime() | 1;
  s->cache = dns_cache_new(cfg->cache_max ? cfg->cache_max : 4096);
  uv_timer_init(loop, &s->sweep);
  s->sweep.data = s;
  s->open_handles++;
  s->tcp_idle_ms = cfg->tcp_idle_ms ? cfg->tcp_idle_ms : 10000;
  uv_timer_init(loop, &s->idle);
  s->idle.data = s;
  s->open_handles++;
  uint64_t period = s->tcp_idle_ms / 4 ? s->tcp_idle_ms / 4 : 1;
  uv_timer_start(&s->idle, idle_cb, period, period);
  uv_unref((uv_handle_t *)&s->idle); /* it alone must not keep the loop running */
  uv_udp_init(loop, &s->up);
  s->up.data = s;
  s->open_handles++;
  struct sockaddr_in any = {.sin_family = AF_INET};
  int r = uv_udp_bind(&s->up, (const struct sockaddr *)&any, 0);
  if (r == 0)
    r = uv_udp_recv_start(&s->up, up_alloc, up_recv);
  if (r < 0) {
    stack_error_set(err, -EIO, "DNS server: cannot open the upstream socket: %s", uv_strerror(r));
    dns_server_close(s);
    return -EIO;
  }
  *out = s;
  return 0;
}

static int listen_once(struct dns_server *s, struct listener *l, const struct sockaddr_in *a,
                       uint16_t *port) {
  int r = uv_udp_bind(&l->udp, (const struct sockaddr *)a, 0);
  if (r < 0)
    return r;
  struct sockaddr_in got;
  int gl = sizeof(got);
  if ((r = uv_udp_getsockname(&l->udp, (struct sockaddr *)&got, &gl)) < 0)
    return r;
  r = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&got, 0);
  if (r == 0)
    r = uv_listen((uv_stream_t *)&l->tcp, 128, tcp_accept);
  if (r < 0)
    return r;
  if ((r = uv_udp_recv_start(&l->udp, alloc_cb, udp_recv)) < 0)
    return r;
  *port = ntohs(got.sin_port);
  (void)s;
  return 0;
}

static void listener_abandoned(uv_handle_t *h) {
  struct listener *l = h->data;
  if (--l->open == 0)
    free(l);
}

int dns_server_listen(struct dns_server *s, const char *ip, uint16_t port, uint16_t *bound_port,
                      struct stack_error **err) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
    return stack_error_set(err, -EINVAL, "DNS server: \"%s\" is not an IPv4 address", ip);
  /* With port 0 the kernel picks a UDP port that may be taken for TCP:
   * retry a few times with fresh sockets. */
  int r = 0;
  for (int attempt = 0; attempt < (port == 0 ? 20 : 1); attempt++) {
    struct listener *l = xcalloc(1, sizeof(*l));
    l->s = s;
    uv_udp_init(s->loop, &l->udp);
    uv_tcp_init(s->loop, &l->tcp);
    l->udp.data = l->tcp.data = l;
    uint16_t got = 0;
    r = listen_once(s, l, &a, &got);
    if (r == 0) {
      l->next = s->listeners;
      s->listeners = l;
      s->open_handles += 2;
      if (bound_port)
        *bound_port = got;
      return 0;
    }
    uv_udp_recv_stop(&l->udp);
    l->open = 2;
    uv_close((uv_handle_t *)&l->udp, listener_abandoned);
    uv_close((uv_handle_t *)&l->tcp, listener_abandoned);
    if (r != UV_EADDRINUSE)
      break;
  }
  return stack_error_set(err, r == UV_EADDRINUSE ? -EADDRINUSE : -EIO,
                         "DNS server: cannot listen on %s:%u (UDP and TCP): %s", ip, port,
                         uv_strerror(r));
}

void dns_server_get_stats(const struct dns_server *s, struct dns_server_stats *out) {
  *out = s->stats;
}

static void listener_handle_closed(uv_handle_t *h) {
  struct listener *l = h->data;
  struct dns_server *s = l->s;
  if (--l->open == 0)
    free(l);
  s->open_handles--;
  maybe_free(s);
}

void dns_server_close(struct dns_server *s) {
  if (s == NULL || s->closing)
    return;
  s->closing = true;
  while (s->pending) {
    struct pending *p = s->pending;
    s->pending = p->next;
    pending_free(p);
  }
  s->n_pending = 0;
  for (struct listener *l = s->listeners, *next; l; l = next) {
    next = l->next;
    l->open = 2;
    uv_close((uv_handle_t *)&l->udp, listener_handle_closed);
    uv_close((uv_handle_t *)&l->tcp, listener_handle_closed);
  }
  s->listeners = NULL;
  while (s->conns)
    conn_close(s->conns);
  uv_close((uv_handle_t *)&s->up, handle_closed);
  uv_close((uv_handle_t *)&s->sweep, handle_closed);
  uv_close((uv_handle_t *)&s->idle, handle_closed);
}
