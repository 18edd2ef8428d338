/* The userspace port proxy on real sockets (loopback only; the guest side is
 * a server on 127.0.0.1 here, the project test covers a guest in a network
 * namespace): random host ports, ranges, a 16 MiB TCP transfer in both
 * directions with half-close, UDP round trips from two clients, a port in
 * use reported before anything is bound, and close releasing every port. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "net/portproxy.h"
#include "runtime/util/error.h"
#include "test.h"

#define BIG (16u << 20)

static int listen_on(int type, uint16_t *port) {
  int fd = socket(AF_INET, type, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof(a);
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || (type == SOCK_STREAM && listen(fd, 16) < 0) ||
      getsockname(fd, (struct sockaddr *)&a, &l) < 0)
    return -1;
  *port = ntohs(a.sin_port);
  return fd;
}

static int connect_to(int type, uint16_t port) {
  int fd = socket(AF_INET, type, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* The "guest": echoes a TCP connection back, transformed (each byte + 1),
 * until EOF, then closes. */
static void *tcp_guest(void *arg) {
  int lfd = *(int *)arg;
  int c = accept(lfd, NULL, NULL);
  char buf[65536];
  ssize_t n;
  while ((n = read(c, buf, sizeof(buf))) > 0) {
    for (ssize_t i = 0; i < n; i++)
      buf[i] = (char)(buf[i] + 1);
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(c, buf + off, (size_t)(n - off));
      if (w <= 0)
        goto out;
      off += w;
    }
  }
out:
  close(c);
  return NULL;
}

static void *udp_guest(void *arg) {
  int fd = *(int *)arg;
  char buf[2048];
  for (int i = 0; i < 4; i++) {
    struct sockaddr_in from;
    socklen_t l = sizeof(from);
    ssize_t n = recvfrom(fd, buf, sizeof(buf) - 4, 0, (struct sockaddr *)&from, &l);
    if (n <= 0)
      break;
    memmove(buf + 4, buf, (size_t)n);
    memcpy(buf, "ack:", 4);
    sendto(fd, buf, (size_t)n + 4, 0, (struct sockaddr *)&from, l);
  }
  return NULL;
}

struct writer {
  int fd;
  unsigned char *data;
};

static void *write_all(void *arg) {
  struct writer *w = arg;
  for (size_t off = 0; off < BIG;) {
    ssize_t n = write(w->fd, w->data + off, BIG - off > 65536 ? 65536 : BIG - off);
    if (n <= 0)
      break;
    off += (size_t)n;
  }
  shutdown(w->fd, SHUT_WR); /* half-close must reach the guest */
  return NULL;
}

struct runner {
  uv_loop_t loop;
  uv_async_t stop;
  pthread_t th;
};
static void stop_cb(uv_async_t *a) {
  uv_close((uv_handle_t *)a, NULL);
  uv_stop(a->loop);
}
static void *run(void *arg) {
  uv_run(&((struct runner *)arg)->loop, UV_RUN_DEFAULT);
  return NULL;
}

int main(void) {
  struct stack_error *err = NULL;
  struct runner r;
  uv_loop_init(&r.loop);
  uint16_t tcp_port, udp_port;
  int tl = listen_on(SOCK_STREAM, &tcp_port), ul = listen_on(SOCK_DGRAM, &udp_port);
  CHECK(tl >= 0 && ul >= 0);

  /* A host port that is in use: a clear error, and nothing else stays bound
   * (the first, random, port of the same call is released). */
  uint16_t busy;
  int busy_fd = listen_on(SOCK_STREAM, &busy);
  struct portproxy *p = NULL;
  struct net_port_binding *b = NULL;
  size_t nb = 0;
  const struct net_port_spec bad[] = {
      {.host_ip = "127.0.0.1", .guest_ip = "127.0.0.1", .guest_port = tcp_port,
       .proto = IPPROTO_TCP, .service = "web"},
      {.host_ip = "127.0.0.1", .host_port = busy, .guest_ip = "127.0.0.1",
       .guest_port = tcp_port, .proto = IPPROTO_TCP, .service = "web"}};
  CHECK_INTEQ(portproxy_start(&r.loop, bad, 2, &p, &b, &nb, &err), -EADDRINUSE);
  CHECK_MSG(err && strstr(err->msg, "web") && strstr(err->msg, "in use"), "%s",
            err ? err->msg : "");
  uv_run(&r.loop, UV_RUN_NOWAIT);
  /* Invalid specs. */
  const struct net_port_spec inval[] = {
      {.guest_ip = "nope", .guest_port = 1, .proto = IPPROTO_TCP},
      {.guest_ip = "127.0.0.1", .guest_port = 0, .proto = IPPROTO_TCP},
      {.host_port = 100, .host_port_end = 102, .guest_ip = "127.0.0.1", .guest_port = 1,
       .guest_port_end = 2, .proto = IPPROTO_TCP},
      {.host_ip = "::1", .guest_ip = "127.0.0.1", .guest_port = 1, .proto = IPPROTO_TCP}};
  for (size_t i = 0; i < 4; i++)
    CHECK_MSG(portproxy_start(&r.loop, &inval[i], 1, &p, &b, &nb, &err) == -EINVAL, "spec %zu",
              i);
  uv_run(&r.loop, UV_RUN_NOWAIT);

  /* A range with one guest port takes the first free port of the range: make
   * the first one busy. */
  uint16_t range_start = busy;
  const struct net_port_spec specs[] = {
      {.host_ip = "127.0.0.1", .guest_ip = "127.0.0.1", .guest_port = tcp_port,
       .proto = IPPROTO_TCP},
      {.host_ip = "127.0.0.1", .guest_ip = "127.0.0.1", .guest_port = udp_port,
       .proto = IPPROTO_UDP},
      {.host_ip = "127.0.0.1", .host_port = range_start, .host_port_end = range_start + 20,
       .guest_ip = "127.0.0.1", .guest_port = tcp_port, .proto = IPPROTO_TCP}};
  int rc = portproxy_start(&r.loop, specs, 3, &p, &b, &nb, &err);
  CHECK_MSG(rc == 0, "%s", err ? err->msg : "");
  if (rc < 0)
    TEST_DONE();
  CHECK_INTEQ(nb, 3);
  CHECK(b[0].host_port != 0 && b[1].host_port != 0);
  CHECK(b[2].host_port > range_start && b[2].host_port <= range_start + 20);
  CHECK_INTEQ(b[2].guest_port, tcp_port);
  CHECK_STREQ(b[1].host_ip, "127.0.0.1");
  close(busy_fd);
  r.stop.data = NULL;
  uv_async_init(&r.loop, &r.stop, stop_cb);
  pthread_create(&r.th, NULL, run, &r);

  /* TCP: 16 MiB through the proxy and back, checked byte by byte. */
  pthread_t g, w, ug;
  pthread_create(&g, NULL, tcp_guest, &tl);
  int c = connect_to(SOCK_STREAM, b[0].host_port);
  CHECK(c >= 0);
  unsigned char *data = malloc(BIG), *back = malloc(BIG);
  for (size_t i = 0; i < BIG; i++)
    data[i] = (unsigned char)(i * 7 + (i >> 13));
  struct writer wr = {c, data};
  pthread_create(&w, NULL, write_all, &wr);
  size_t got = 0;
  for (;;) {
    struct pollfd pfd = {.fd = c, .events = POLLIN};
    if (poll(&pfd, 1, 10000) <= 0)
      break;
    ssize_t n = read(c, back + got, BIG - got > 65536 ? 65536 : BIG - got);
    if (n <= 0)
      break; /* EOF: the guest closed after our half-close */
    got += (size_t)n;
  }
  pthread_join(w, NULL);
  pthread_join(g, NULL);
  CHECK_INTEQ(got, BIG);
  size_t bad_at = BIG;
  for (size_t i = 0; i < got && bad_at == BIG; i++)
    if (back[i] != (unsigned char)(data[i] + 1))
      bad_at = i;
  CHECK_MSG(bad_at == BIG, "corrupted at byte %zu", bad_at);
  close(c);
  free(data);
  free(back);

  /* UDP: two clients, each gets its own answers. */
  pthread_create(&ug, NULL, udp_guest, &ul);
  int u1 = connect_to(SOCK_DGRAM, b[1].host_port), u2 = connect_to(SOCK_DGRAM, b[1].host_port);
  for (int round = 0; round < 2; round++) {
    char msg[32], buf[64];
    for (int k = 0; k < 2; k++) {
      int fd = k ? u2 : u1;
      snprintf(msg, sizeof(msg), "c%d-r%d", k, round);
      CHECK(send(fd, msg, strlen(msg), 0) == (ssize_t)strlen(msg));
      struct pollfd pfd = {.fd = fd, .events = POLLIN};
      ssize_t n = poll(&pfd, 1, 3000) > 0 ? recv(fd, buf, sizeof(buf) - 1, 0) : -1;
      buf[n > 0 ? n : 0] = '\0';
      char want[64];
      snprintf(want, sizeof(want), "ack:%s", msg);
      CHECK_STREQ(buf, want);
    }
  }
  pthread_join(ug, NULL);
  close(u1);
  close(u2);

  uv_async_send(&r.stop);
  pthread_join(r.th, NULL);
  CHECK_INTEQ(portproxy_active(p), 2); /* two UDP flows still open */
  portproxy_close(p);
  uv_run(&r.loop, UV_RUN_DEFAULT);
  CHECK_INTEQ(uv_loop_close(&r.loop), 0);
  /* Every host port is free again. */
  for (size_t i = 0; i < nb; i++) {
    int fd = socket(AF_INET, b[i].proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(b[i].host_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    CHECK_MSG(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "port %u still bound",
              b[i].host_port);
    close(fd);
  }
  free(b);
  close(tl);
  close(ul);
  stack_error_free(err);
  TEST_DONE();
}
