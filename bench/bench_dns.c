/* DNS benchmark: query latency (median, p99) of the embedded DNS server,
 * one query at a time, for a project name (answered from the record table)
 * and a forwarded name served from the cache; then throughput with 64
 * queries in flight.  Beside it, the same against dnsmasq when installed (the
 * resolver Docker's and Podman's networks are most often compared with;
 * Docker's own embedded DNS only runs inside dockerd).
 *
 *   bench_dns [-n QUERIES]      (default 20000)
 */
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "net/dns.h"
#include "net/dns_packet.h"
#include "net/dns_records.h"
#include "runtime/util/error.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int udp_client(const char *from, uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET,
                                                           .sin_port = htons(port)};
  inet_pton(AF_INET, from, &src.sin_addr);
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
      connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Sequential queries: per-query latency in microseconds. */
static int latency(const char *label, uint16_t port, const char *name, int n) {
  int fd = udp_client("127.1.0.3", port);
  if (fd < 0)
    return -1;
  double *lat = calloc((size_t)n, sizeof(double));
  uint8_t q[512], a[512];
  int errors = 0;
  for (int i = 0; i < n; i++) {
    int len = dns_write_query((uint16_t)i, name, DNS_TYPE_A, q, sizeof(q));
    double t0 = now();
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (send(fd, q, (size_t)len, 0) != len || poll(&p, 1, 2000) <= 0 ||
        recv(fd, a, sizeof(a), 0) < DNS_HEADER_SIZE)
      errors++;
    lat[i] = (now() - t0) * 1e6;
  }
  qsort(lat, (size_t)n, sizeof(double), cmp_double);
  printf("%-34s median %7.1f us   p99 %7.1f us   errors %d/%d\n", label, lat[n / 2],
         lat[(size_t)((double)n * 0.99)], errors, n);
  free(lat);
  close(fd);
  return 0;
}

/* 64 queries in flight: answers per second. */
static void throughput(const char *label, uint16_t port, const char *name, int n) {
  int fd = udp_client("127.1.0.3", port);
  if (fd < 0)
    return;
  uint8_t q[512], a[512];
  int sent = 0, got = 0, inflight = 0;
  double t0 = now();
  while (got < n) {
    while (sent < n && inflight < 64) {
      int len = dns_write_query((uint16_t)sent, name, DNS_TYPE_A, q, sizeof(q));
      if (send(fd, q, (size_t)len, 0) == len)
        inflight++;
      sent++;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 2000) <= 0)
      break;
    if (recv(fd, a, sizeof(a), 0) > 0) {
      got++;
      inflight--;
    }
  }
  double dt = now() - t0;
  printf("%-34s %9.0f answers/s (%d of %d answered)\n", label, got / dt, got, n);
  close(fd);
}

struct ctx {
  uv_loop_t loop;
  uv_async_t stop;
};
static void stop_cb(uv_async_t *a) { uv_stop(a->loop); }
static void *run(void *arg) {
  uv_run(&((struct ctx *)arg)->loop, UV_RUN_DEFAULT);
  return NULL;
}

int main(int argc, char **argv) {
  int n = 20000;
  if (argc == 3 && strcmp(argv[1], "-n") == 0)
    n = atoi(argv[2]);
  struct stack_error *err = NULL;
  struct ctx c;
  uv_loop_init(&c.loop);
  struct in_addr net, a1, a2, a3;
  inet_pton(AF_INET, "127.1.0.0", &net);
  inet_pton(AF_INET, "127.1.0.2", &a1);
  inet_pton(AF_INET, "127.1.0.3", &a2);
  inet_pton(AF_INET, "192.0.2.1", &a3);
  /* A project of 50 services, and an upstream that knows one outside name. */
  struct dns_records *rec = dns_records_new(), *up = dns_records_new();
  dns_records_add_network(rec, "front", net, 24, &err);
  for (int i = 0; i < 50; i++) {
    char svc[32], cname[48];
    snprintf(svc, sizeof(svc), "svc%d", i);
    snprintf(cname, sizeof(cname), "bench-svc%d-1", i);
    const char *names[] = {svc, cname};
    struct in_addr ip = {htonl(ntohl(net.s_addr) + 10 + (uint32_t)i)};
    dns_records_add_endpoint(rec, "front", cname, ip, names, 2, &err);
  }
  const char *web[] = {"web"};
  dns_records_add_endpoint(rec, "front", "bench-web-1", a1, web, 1, &err);
  dns_records_add_endpoint(rec, "front", "bench-client-1", a2, NULL, 0, &err);
  struct in_addr any = {0};
  dns_records_add_network(up, "world", any, 0, &err);
  const char *outside[] = {"outside.example"};
  dns_records_add_endpoint(up, "world", "x", a3, outside, 1, &err);
  struct dns_server *srv = NULL, *upsrv = NULL;
  uint16_t port = 0, up_port = 0;
  if (dns_server_new(&c.loop, up, &(struct dns_server_config){.resolv_conf = "/nonexistent"},
                     &upsrv, &err) < 0 ||
      dns_server_listen(upsrv, "127.0.0.1", 0, &up_port, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  struct sockaddr_in ups = {.sin_family = AF_INET, .sin_port = htons(up_port)};
  inet_pton(AF_INET, "127.0.0.1", &ups.sin_addr);
  if (dns_server_new(&c.loop, rec, &(struct dns_server_config){.upstreams = &ups, .n_upstreams = 1}, &srv, &err) < 0 ||
      dns_server_listen(srv, "127.0.0.1", 0, &port, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  uv_async_init(&c.loop, &c.stop, stop_cb);
  pthread_t th;
  pthread_create(&th, NULL, run, &c);

  printf("DNS, %d queries over UDP on loopback, one at a time (client and server share 2 "
         "cores)\n",
         n);
  latency("stack: project name (web)", port, "web", n);
  latency("stack: forwarded, cached", port, "outside.example", n);
  throughput("stack: project name, 64 in flight", port, "svc42", n * 5);

  /* The peer, if installed: dnsmasq answering the same name from a hosts
   * file, no upstream. */
  if (system("command -v dnsmasq >/dev/null 2>&1") == 0) {
    char hosts[] = "/tmp/bench-dns-hosts-XXXXXX";
    int hfd = mkstemp(hosts);
    dprintf(hfd, "127.1.0.2 web\n");
    close(hfd);
    uint16_t dport = (uint16_t)(30000 + getpid() % 20000);
    pid_t pid = fork();
    if (pid == 0) {
      char portarg[32], hostsarg[64];
      snprintf(portarg, sizeof(portarg), "--port=%u", dport);
      snprintf(hostsarg, sizeof(hostsarg), "--addn-hosts=%s", hosts);
      execlp("dnsmasq", "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
             "--listen-address=127.0.0.1", "--bind-interfaces", portarg, hostsarg,
             "--user=root", "--pid-file=", (char *)NULL);
      _exit(127);
    }
    usleep(300000);
    latency("dnsmasq: hosts-file name (web)", dport, "web", n);
    throughput("dnsmasq: hosts-file name, 64 in flight", dport, "web", n * 5);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unlink(hosts);
  } else {
    printf("dnsmasq: not installed, no side-by-side figure (apt-get install dnsmasq-base)\n");
  }
  struct dns_server_stats st;
  dns_server_get_stats(srv, &st);
  printf("stack server: %llu queries, %llu local, %llu forwarded, %llu cache hits, %llu "
         "failures\n",
         (unsigned long long)st.queries, (unsigned long long)st.local,
         (unsigned long long)st.forwarded, (unsigned long long)st.cache_hits,
         (unsigned long long)st.failures);
  uv_async_send(&c.stop);
  pthread_join(th, NULL);
  return 0;
}
