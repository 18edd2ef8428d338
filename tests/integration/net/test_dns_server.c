/* The embedded DNS server against real clients: dig over UDP and TCP, answers
 * scoped by source address (askers are 127.x.y.z addresses, which stand in
 * for the guests' addresses on their bridges: every 127/8 address is local, so
 * a client can bind any of them), forwarding to an upstream (a second
 * instance of our server, as there is no internet here) with a cache,
 * malformed packets, and 10,000 queries with no error and no memory growth. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "net/dns.h"
#include "net/dns_packet.h"
#include "net/dns_records.h"
#include "runtime/util/error.h"
#include "test.h"

struct ctx {
  uv_loop_t loop;
  uv_async_t stop;
  struct dns_server *srv, *upstream, *dead;
  struct dns_records *rec, *up_rec;
  uint16_t port, up_port, dead_port;
};

static struct in_addr ip(const char *s) {
  struct in_addr a;
  inet_pton(AF_INET, s, &a);
  return a;
}

static void stop_cb(uv_async_t *a) {
  struct ctx *c = a->data;
  dns_server_close(c->srv);
  dns_server_close(c->upstream);
  dns_server_close(c->dead);
  uv_close((uv_handle_t *)a, NULL);
}

static void *loop_thread(void *arg) {
  struct ctx *c = arg;
  uv_run(&c->loop, UV_RUN_DEFAULT);
  return NULL;
}

/* Runs dig and returns its output (caller frees). */
static char *run_dig(const struct ctx *c, const char *from, const char *name, const char *extra) {
  char cmd[512];
  snprintf(cmd, sizeof(cmd),
           "timeout 20 dig @127.0.0.1 -p %u -b %s +tries=1 +time=3 +noall +comments +answer %s "
           "%s 2>&1",
           c->port, from, extra, name);
  FILE *p = popen(cmd, "r");
  if (p == NULL)
    return strdup("");
  char *out = calloc(1, 65536);
  size_t n = fread(out, 1, 65535, p);
  out[n] = '\0';
  pclose(p);
  return out;
}

struct row {
  const char *from, *name, *status;
  const char *addrs[3];
};

static void check_dig(const struct ctx *c, const struct row *w, const char *extra) {
  char *out = run_dig(c, w->from, w->name, extra);
  char want[64];
  snprintf(want, sizeof(want), "status: %s", w->status);
  CHECK_MSG(strstr(out, want) != NULL, "dig %s from %s %s: want %s, got:\n%s", w->name, w->from,
            extra, w->status, out);
  int n_lines = 0;
  for (const char *p = out; (p = strstr(p, "\tA\t")) != NULL; p++)
    n_lines++;
  int n_want = 0;
  for (int i = 0; i < 3 && w->addrs[i]; i++, n_want++)
    CHECK_MSG(strstr(out, w->addrs[i]) != NULL, "dig %s from %s: %s missing in:\n%s", w->name,
              w->from, w->addrs[i], out);
  CHECK_MSG(n_lines == n_want, "dig %s from %s: %d A records, want %d:\n%s", w->name, w->from,
            n_lines, n_want, out);
  free(out);
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof(line), f))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
      break;
  if (f)
    fclose(f);
  return kb;
}

/* Sends `count` queries from `from`, at most `window` outstanding, and counts
 * answers that are wrong or missing. */
static int load(const struct ctx *c, const char *from, int count, int window) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr = ip(from)};
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(c->port),
                            .sin_addr = ip("127.0.0.1")};
  if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
      connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0)
    return count;
  static const char *names[] = {"web", "api", "p-web-1", "upstream.test"};
  int sent = 0, ok = 0, errors = 0, outstanding = 0;
  uint8_t buf[512];
  while (ok + errors < count) {
    while (sent < count && outstanding < window) {
      int n = dns_write_query((uint16_t)sent, names[sent % 4], DNS_TYPE_A, buf, sizeof(buf));
      if (send(fd, buf, (size_t)n, 0) != n)
        errors++;
      else
        outstanding++;
      sent++;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 3000) <= 0) {
      errors += outstanding; /* lost */
      outstanding = 0;
      continue;
    }
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    outstanding--;
    int rcode;
    struct in_addr a[4];
    size_t na = 0;
    if (n > 0 && dns_read_a_answers(buf, (size_t)n, &rcode, a, 4, &na) == 0 && rcode == 0 &&
        na >= 1)
      ok++;
    else
      errors++;
  }
  close(fd);
  return errors;
}

static void send_garbage(const struct ctx *c) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(c->port),
                            .sin_addr = ip("127.0.0.1")};
  uint8_t buf[600];
  unsigned seed = 12345;
  for (int i = 0; i < 2000; i++) {
    size_t n = (size_t)(rand_r(&seed) % sizeof(buf));
    for (size_t k = 0; k < n; k++)
      buf[k] = (uint8_t)rand_r(&seed);
    if (i % 3 == 0 && n > 12) { /* plausible header, hostile body */
      buf[2] = 0x01;
      buf[4] = 0;
      buf[5] = 1;
    }
    sendto(fd, buf, n, 0, (struct sockaddr *)&dst, sizeof(dst));
  }
  close(fd);
  /* And over TCP: a length prefix promising more than is sent, then close. */
  int t = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(t, (struct sockaddr *)&dst, sizeof(dst)) == 0) {
    const uint8_t partial[] = {0xff, 0xff, 1, 2, 3};
    CHECK(write(t, partial, sizeof(partial)) == (ssize_t)sizeof(partial));
  }
  close(t);
}

int main(void) {
  struct ctx c = {0};
  struct stack_error *err = NULL;
  if (system("command -v dig >/dev/null 2>&1") != 0)
    TEST_SKIP("dig (dnsutils) is not installed: run scripts/setup.sh");
  uv_loop_init(&c.loop);

  /* The upstream: an unknown asker anywhere sees network "world". */
  c.up_rec = dns_records_new();
  CHECK_INTEQ(dns_records_add_network(c.up_rec, "world", ip("0.0.0.0"), 0, &err), 0);
  const char *up_names[] = {"upstream.test"};
  CHECK_INTEQ(dns_records_add_endpoint(c.up_rec, "world", "up", ip("192.0.2.1"), up_names, 1, &err), 0);
  /* ... and nobody sees "nothing.invalid", so the upstream says NXDOMAIN. */
  CHECK_INTEQ(dns_records_add_network(c.up_rec, "nowhere", ip("203.0.113.0"), 24, &err), 0);
  const char *hidden[] = {"nothing.invalid"};
  CHECK_INTEQ(dns_records_add_endpoint(c.up_rec, "nowhere", "x", ip("203.0.113.5"), hidden, 1, &err), 0);
  CHECK_INTEQ(dns_server_new(&c.loop, c.up_rec, &(struct dns_server_config){.resolv_conf = "/nonexistent"}, &c.upstream, &err), 0);
  CHECK_INTEQ(dns_server_listen(c.upstream, "127.0.0.1", 0, &c.up_port, &err), 0);

  /* Our server: front (proxy, web) and back (web, api x2). */
  c.rec = dns_records_new();
  CHECK_INTEQ(dns_records_add_network(c.rec, "front", ip("127.1.0.0"), 24, &err), 0);
  CHECK_INTEQ(dns_records_add_network(c.rec, "back", ip("127.2.0.0"), 24, &err), 0);
  const char *web_f[] = {"web", "p-web-1"};
  const char *web_b[] = {"web", "p-web-1", "db-alias"};
  const char *proxy[] = {"proxy", "p-proxy-1"};
  const char *api1[] = {"api", "p-api-1"};
  const char *api2[] = {"api", "p-api-2"};
  dns_records_add_endpoint(c.rec, "front", "p-web-1", ip("127.1.0.2"), web_f, 2, &err);
  dns_records_add_endpoint(c.rec, "back", "p-web-1", ip("127.2.0.2"), web_b, 3, &err);
  dns_records_add_endpoint(c.rec, "front", "p-proxy-1", ip("127.1.0.3"), proxy, 2, &err);
  dns_records_add_endpoint(c.rec, "back", "p-api-1", ip("127.2.0.3"), api1, 2, &err);
  dns_records_add_endpoint(c.rec, "back", "p-api-2", ip("127.2.0.4"), api2, 2, &err);
  dns_records_add_private(c.rec, "p-proxy-1", "gw.example", ip("198.51.100.7"), &err);
  struct sockaddr_in up = {.sin_family = AF_INET, .sin_port = htons(c.up_port),
                           .sin_addr = ip("127.0.0.1")};
  CHECK_INTEQ(dns_server_new(&c.loop, c.rec, &(struct dns_server_config){.upstreams = &up, .n_upstreams = 1, .forward_timeout_ms = 500, .tcp_idle_ms = 400}, &c.srv, &err), 0);
  CHECK_INTEQ(dns_server_listen(c.srv, "127.0.0.1", 0, &c.port, &err), 0);
  if (err) {
    fprintf(stderr, "%s\n", err->msg);
    return 1;
  }
  /* A server whose upstream never answers (a UDP port bound but not read). */
  int silent = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sil = {.sin_family = AF_INET, .sin_addr = ip("127.0.0.1")};
  socklen_t sl = sizeof(sil);
  CHECK(bind(silent, (struct sockaddr *)&sil, sizeof(sil)) == 0);
  CHECK(getsockname(silent, (struct sockaddr *)&sil, &sl) == 0);
  CHECK_INTEQ(dns_server_new(&c.loop, c.rec, &(struct dns_server_config){.upstreams = &sil, .n_upstreams = 1, .forward_timeout_ms = 200}, &c.dead, &err), 0);
  CHECK_INTEQ(dns_server_listen(c.dead, "127.0.0.1", 0, &c.dead_port, &err), 0);
  uv_async_init(&c.loop, &c.stop, stop_cb);
  c.stop.data = &c;
  pthread_t th;
  pthread_create(&th, NULL, loop_thread, &c);

  const struct row rows[] = {
      {"127.1.0.3", "web", "NOERROR", {"127.1.0.2"}},
      {"127.1.0.3", "p-web-1.", "NOERROR", {"127.1.0.2"}},
      {"127.1.0.3", "api", "NXDOMAIN", {NULL}},
      {"127.1.0.3", "p-api-1", "NXDOMAIN", {NULL}},
      {"127.1.0.3", "db-alias", "NXDOMAIN", {NULL}},
      {"127.1.0.3", "gw.example", "NOERROR", {"198.51.100.7"}},
      {"127.2.0.3", "web", "NOERROR", {"127.2.0.2"}},
      {"127.2.0.3", "db-alias", "NOERROR", {"127.2.0.2"}},
      {"127.2.0.3", "proxy", "NXDOMAIN", {NULL}},
      {"127.2.0.2", "api", "NOERROR", {"127.2.0.3", "127.2.0.4"}},
      {"127.1.0.2", "proxy", "NOERROR", {"127.1.0.3"}},
      {"127.1.0.3", "upstream.test", "NOERROR", {"192.0.2.1"}}, /* forwarded */
      {"127.1.0.3", "nothing.invalid", "NXDOMAIN", {NULL}},     /* forwarded, negative */
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    check_dig(&c, &rows[i], "");
    check_dig(&c, &rows[i], "+tcp");
  }
  /* AAAA of a project name: the name exists, no IPv6 record. */
  char *out = run_dig(&c, "127.1.0.3", "web", "AAAA");
  CHECK_MSG(strstr(out, "status: NOERROR") && !strstr(out, "\tAAAA\t"), "%s", out);
  free(out);

  /* Forwarded answers are cached: the second ask does not reach upstream. */
  struct dns_server_stats before, after;
  dns_server_get_stats(c.srv, &before);
  check_dig(&c, &rows[11], "");
  dns_server_get_stats(c.srv, &after);
  CHECK_INTEQ(after.forwarded, before.forwarded);
  CHECK(after.cache_hits > before.cache_hits);

  /* Rotation: the first api record alternates between dig runs. */
  char *o1 = run_dig(&c, "127.2.0.2", "api", "+short");
  char *o2 = run_dig(&c, "127.2.0.2", "api", "+short");
  CHECK_MSG(strcmp(o1, o2) != 0, "no rotation: %s / %s", o1, o2);
  free(o1);
  free(o2);

  /* Malformed input never kills it; it still answers afterwards. */
  send_garbage(&c);
  check_dig(&c, &rows[0], "");
  dns_server_get_stats(c.srv, &after);
  CHECK(after.malformed > 0);

  /* A TCP client that stays silent is dropped (here after 0.4 s). */
  {
    int t = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(c.port),
                              .sin_addr = ip("127.0.0.1")};
    CHECK(connect(t, (struct sockaddr *)&dst, sizeof(dst)) == 0);
    struct pollfd pfd = {.fd = t, .events = POLLIN};
    char b;
    CHECK_MSG(poll(&pfd, 1, 3000) == 1 && read(t, &b, 1) == 0, "idle TCP client not dropped");
    close(t);
  }

  /* 10,000 queries (local names and a cached forwarded one), no error, and
   * no memory growth once warmed up. */
  CHECK_INTEQ(load(&c, "127.2.0.2", 1000, 16), 0);
  long rss0 = rss_kb();
  CHECK_INTEQ(load(&c, "127.2.0.2", 10000, 32), 0);
  long rss1 = rss_kb();
  printf("10000 queries: RSS %ld kB -> %ld kB\n", rss0, rss1);
#ifdef __SANITIZE_ADDRESS__
  /* ASan keeps freed memory in quarantine; its leak checker covers leaks. */
  const long slack = 8192;
#else
  const long slack = 512;
#endif
  CHECK_MSG(rss1 - rss0 < slack, "RSS grew by %ld kB", rss1 - rss0);

  /* An upstream that does not answer: SERVFAIL after the retries, no hang;
   * project names are still answered. */
  struct ctx dead = c;
  dead.port = c.dead_port;
  check_dig(&dead, &(struct row){"127.1.0.3", "elsewhere.test", "SERVFAIL", {NULL}}, "+time=5");
  check_dig(&dead, &rows[0], "");
  close(silent);
  uv_async_send(&c.stop);
  pthread_join(th, NULL);
  CHECK_INTEQ(uv_loop_close(&c.loop), 0); /* every handle was closed */
  dns_records_free(c.rec);
  dns_records_free(c.up_rec);
  stack_error_free(err);
  TEST_DONE();
}
