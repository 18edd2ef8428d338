/* Published-port benchmark: TCP throughput from the host to a server behind
 * a project bridge, through stack's userspace proxy, next to the same through
 * Docker's userland proxy (docker-proxy, from Debian's docker.io, run
 * directly) and straight to the guest address with no proxy, in the same run.
 *
 * The "guest" is a network namespace on the project's bridge (a stand-in for
 * a VM: this measures the proxy, not virtio-net), running a sink that counts
 * what it receives and reports the count at EOF.  Needs root.
 *
 *   bench_portproxy [-m MIB] [-r RUNS]   (default 512 MiB, 3 runs; medians)
 *   DOCKER_PROXY=/path/to/docker-proxy   if it is not on PATH or in /usr/sbin
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "net/net_project.h"
#include "net/portproxy.h"
#include "runtime/util/error.h"

static char ns[32], veth[16], state[128], project[32];

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *cmd) {
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void cleanup(void) {
  char cmd[512];
  snprintf(cmd, sizeof(cmd),
           "ip netns pids %s 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del %s "
           "2>/dev/null; ip link del %s 2>/dev/null",
           ns, ns, veth);
  run(cmd);
  net_project_down_from_state(project, state, NULL);
}

static void on_signal(int sig) {
  cleanup();
  _exit(128 + sig);
}

/* The sink, inside the namespace: per connection, count bytes to EOF and
 * answer with the count. */
static void sink(void) {
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  char path[64];
  snprintf(path, sizeof(path), "/run/netns/%s", ns);
  int nfd = open(path, O_RDONLY);
  if (nfd < 0 || setns(nfd, CLONE_NEWNET) < 0)
    _exit(1);
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5001)};
  if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 16) < 0)
    _exit(1);
  static char buf[1 << 18];
  for (;;) {
    int c = accept(l, NULL, NULL);
    if (c < 0)
      continue;
    unsigned long long total = 0;
    ssize_t n;
    while ((n = read(c, buf, sizeof(buf))) > 0)
      total += (unsigned long long)n;
    if (write(c, &total, sizeof(total)) != sizeof(total))
      total = 0;
    close(c);
  }
}

/* Sends mib MiB to ip:port and waits for the sink's count: MB/s, or -1. */
static double transfer(const char *ip, unsigned port, unsigned mib) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  for (int i = 0; i < 50 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0; i++) {
    close(fd);
    usleep(100000);
    fd = socket(AF_INET, SOCK_STREAM, 0);
  }
  static char buf[1 << 18];
  unsigned long long want = (unsigned long long)mib << 20, sent = 0, got = 0;
  double t0 = now();
  while (sent < want) {
    ssize_t n = write(fd, buf, sizeof(buf));
    if (n <= 0)
      break;
    sent += (unsigned long long)n;
  }
  shutdown(fd, SHUT_WR);
  ssize_t n = read(fd, &got, sizeof(got));
  double dt = now() - t0;
  close(fd);
  if (n != sizeof(got) || got != sent) {
    fprintf(stderr, "transfer to %s:%u: sent %llu, the sink counted %llu (read %zd)\n", ip, port,
            sent, got, n);
    return -1;
  }
  return (double)sent / 1e6 / dt;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Throughput of runs transfers; with a proxy process (pid > 0), also its
 * CPU time per GB moved (it is stopped and reaped here). */
static void measure(const char *label, const char *ip, unsigned port, unsigned mib, int runs,
                    pid_t pid) {
  double v[16];
  int ok = 0;
  for (int i = 0; i < runs && i < 16; i++) {
    double r = transfer(ip, port, mib);
    if (r > 0)
      v[ok++] = r;
  }
  char cpu[64] = "";
  if (pid > 0) {
    struct rusage ru;
    int st;
    kill(pid, SIGTERM);
    if (wait4(pid, &st, 0, &ru) == pid && ok > 0) {
      double secs = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
      snprintf(cpu, sizeof(cpu), ", proxy CPU %.2f s/GB", secs / ((double)ok * mib / 1024.0));
    }
  }
  if (ok == 0) {
    printf("%-36s failed\n", label);
    return;
  }
  qsort(v, (size_t)ok, sizeof(double), cmp_double);
  printf("%-36s %6.0f MB/s (median of %d)%s\n", label, v[ok / 2], ok, cpu);
}

static unsigned free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t l = sizeof(a);
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  unsigned port = 0;
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &l) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

/* stack's proxy alone in a process of its own, like docker-proxy, so that
 * both are measured the same way (throughput and CPU). */
static pid_t spawn_stack_proxy(unsigned port, const char *guest_ip) {
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  /* Not the parent's handlers: they would tear the bench network down. */
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct net_port_spec spec = {.host_ip = "127.0.0.1", .host_port = (uint16_t)port,
                               .guest_ip = guest_ip, .guest_port = 5001,
                               .proto = IPPROTO_TCP};
  struct portproxy *pp = NULL;
  if (portproxy_start(&loop, &spec, 1, &pp, NULL, NULL, NULL) < 0)
    _exit(1);
  uv_run(&loop, UV_RUN_DEFAULT);
  _exit(0);
}

static const char *find_docker_proxy(void) {
  const char *env = getenv("DOCKER_PROXY");
  if (env && access(env, X_OK) == 0)
    return env;
  static const char *where[] = {"/usr/sbin/docker-proxy", "/usr/bin/docker-proxy",
                                "/usr/libexec/docker/docker-proxy"};
  for (size_t i = 0; i < 3; i++)
    if (access(where[i], X_OK) == 0)
      return where[i];
  return NULL;
}

struct loop_thread {
  uv_loop_t *loop;
  uv_async_t stop;
};
static void stop_cb(uv_async_t *a) { uv_stop(a->loop); }
static void *loop_main(void *arg) {
  uv_run(((struct loop_thread *)arg)->loop, UV_RUN_DEFAULT);
  return NULL;
}

int main(int argc, char **argv) {
  unsigned mib = 512;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "-m") == 0)
      mib = (unsigned)atoi(argv[i + 1]);
    else if (strcmp(argv[i], "-r") == 0)
      runs = atoi(argv[i + 1]);
  }
  if (geteuid() != 0) {
    fprintf(stderr, "bench_portproxy: needs root (bridge, namespace)\n");
    return 77;
  }
  snprintf(project, sizeof(project), "bpp%d", getpid());
  snprintf(ns, sizeof(ns), "stkbench%d", getpid());
  snprintf(veth, sizeof(veth), "stkvb%d", getpid() % 1000000);
  snprintf(state, sizeof(state), "/tmp/stack-bench-%d.json", getpid());
  atexit(cleanup);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN); /* a reset connection is a failed run, not a crash */
  setvbuf(stdout, NULL, _IOLBF, 0);

  struct stack_error *err = NULL;
  uv_loop_t loop;
  uv_loop_init(&loop);
  const struct net_network_spec nets[] = {{.name = "default"}};
  struct net_project *p = NULL;
  if (net_project_up(&(struct net_project_spec){.project = project, .networks = nets,
                                                .n_networks = 1, .loop = &loop,
                                                .state_path = state,
                                                .dns_port = (uint16_t)(20000 + getpid() % 20000),
                                                .resolv_conf = "/nonexistent"},
                     &p, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  const struct net_endpoint_spec eps[] = {{.network = "default"}};
  const struct net_port_spec ports[] = {
      {.host_ip = "127.0.0.1", .guest_port = 5001, .proto = IPPROTO_TCP}};
  struct net_container_net cn;
  if (net_attach_container(p, &(struct net_container_spec){.service = "sink",
                                                           .name = "bench-sink-1",
                                                           .endpoints = eps, .n_endpoints = 1,
                                                           .ports = ports, .n_ports = 1},
                           &cn, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  const struct net_attachment *a = &cn.att[0];
  char cmd[1024];
  snprintf(cmd, sizeof(cmd),
           "ip netns add %s && ip link add %s type veth peer name eth0 netns %s && "
           "ip link set %s master %s up && ip -n %s link set eth0 address %s up && "
           "ip -n %s addr add %s/%d dev eth0 && ip -n %s link set lo up",
           ns, veth, ns, veth, a->bridge, ns, a->mac_str, ns, a->ip, a->prefix, ns);
  if (run(cmd) != 0)
    return 1;
  pid_t sink_pid = fork();
  if (sink_pid == 0) {
    sink();
    _exit(0);
  }
  struct loop_thread lt = {.loop = &loop};
  uv_async_init(&loop, &lt.stop, stop_cb);
  pthread_t th;
  pthread_create(&th, NULL, loop_main, &lt);

  printf("TCP, host -> server behind the project bridge, %u MiB per run, %d runs\n", mib, runs);
  measure("no proxy (to the guest address)", a->ip, 5001, mib, runs, 0);
  char label[128];
  snprintf(label, sizeof(label), "stack, in the supervisor's loop");
  measure(label, "127.0.0.1", cn.ports[0].host_port, mib, runs, 0);
  unsigned sport = free_port();
  pid_t sp = spawn_stack_proxy(sport, a->ip);
  measure("stack, own process", "127.0.0.1", sport, mib, runs, sp);
  const char *dp = find_docker_proxy();
  if (dp) {
    unsigned dport = free_port();
    pid_t d = fork();
    if (d == 0) {
      char hp[16], cp[16];
      snprintf(hp, sizeof(hp), "%u", dport);
      snprintf(cp, sizeof(cp), "%u", 5001);
      /* docker-proxy reports readiness on fd 3 and then closes it: without
       * an fd 3 of our own it would close its own listening socket. */
      int devnull = open("/dev/null", O_WRONLY);
      if (devnull >= 0 && devnull != 3)
        dup2(devnull, 3);
      execl(dp, "docker-proxy", "-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", hp,
            "-container-ip", a->ip, "-container-port", cp, (char *)NULL);
      _exit(127);
    }
    measure("docker-proxy, own process", "127.0.0.1", dport, mib, runs, d);
  } else {
    printf("docker-proxy: not found (Debian's docker.io ships it in /usr/sbin; or set "
           "DOCKER_PROXY)\n");
  }
  uv_async_send(&lt.stop);
  pthread_join(th, NULL);
  kill(sink_pid, SIGTERM);
  waitpid(sink_pid, NULL, 0);
  net_container_net_free(&cn);
  if (net_project_down(p, &err) < 0)
    stack_error_print(err);
  uv_run(&loop, UV_RUN_NOWAIT);
  return 0;
}
