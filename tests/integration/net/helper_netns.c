#include "helper_netns.h"

#include <fcntl.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif
#include <signal.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *capture(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  char *out = calloc(1, 65536);
  FILE *p = popen(cmd, "r");
  if (p) {
    size_t n = fread(out, 1, 65535, p);
    out[n] = '\0';
    pclose(p);
  }
  return out;
}

void random_suffix(char out[7]) {
  unsigned seed = 0;
  int fd = open("/dev/urandom", O_RDONLY);
  if (fd < 0 || read(fd, &seed, sizeof(seed)) != sizeof(seed))
    seed = (unsigned)getpid() * 2654435761u;
  if (fd >= 0)
    close(fd);
  snprintf(out, 7, "%06x", seed & 0xffffff);
}

void require_root_and_tun(void) {
  const char *why = geteuid() != 0                              ? "needs root (CAP_NET_ADMIN)"
                    : access("/dev/net/tun", R_OK | W_OK) != 0 ? "/dev/net/tun is not available"
                                                                : NULL;
  if (why == NULL)
    return;
  printf("SKIP: %s\n", why);
  exit(77);
}

int netns_container(const char *suffix, const char *name, const struct net_container_net *cn) {
  char ns[64];
  snprintf(ns, sizeof(ns), "stk%s%s", suffix, name);
  int r = sh("ip netns add %s && ip -n %s link set lo up", ns, ns);
  for (size_t i = 0; i < cn->n_att && r == 0; i++) {
    const struct net_attachment *a = &cn->att[i];
    char host[16];
    unsigned h = 2166136261u;
    for (const char *c = name; *c; c++)
      h = (h ^ (unsigned char)*c) * 16777619u;
    snprintf(host, sizeof(host), "stkv%.6s%03x", suffix, (h + (unsigned)i) & 0xfff);
    r = sh("ip link add %s type veth peer name eth%zu netns %s && "
           "ip link set %s master %s up && "
           "ip -n %s link set eth%zu address %s mtu %u up && "
           "ip -n %s addr add %s/%d dev eth%zu",
           host, i, ns, host, a->bridge, ns, i, a->mac_str, a->mtu, ns, a->ip, a->prefix, i);
    if (r == 0 && a->default_route)
      r = sh("ip -n %s route add default via %s", ns, a->gateway);
  }
  return r;
}

void netns_cleanup(const char *suffix, const char *const *names, int n) {
  for (int i = 0; i < n; i++)
    sh("ip netns pids stk%s%s 2>/dev/null | xargs -r kill 2>/dev/null; "
       "ip netns del stk%s%s 2>/dev/null",
       suffix, names[i], suffix, names[i]);
  sh("for l in $(ls /sys/class/net | grep '^stkv%s'); do ip link del $l 2>/dev/null; done",
     suffix);
}

bool link_exists(const char *name) { return if_nametoindex(name) != 0; }

static void (*cleanup_fn)(void); /* test process only: one cleanup per test */

static void cleanup_signal(int sig) {
  if (cleanup_fn)
    cleanup_fn();
  signal(sig, SIG_DFL);
  raise(sig);
}

void cleanup_on_exit(void (*fn)(void)) {
  cleanup_fn = fn;
  atexit(fn);
  signal(SIGTERM, cleanup_signal);
  signal(SIGINT, cleanup_signal);
  signal(SIGALRM, cleanup_signal);
  signal(SIGABRT, cleanup_signal);
#ifdef __SANITIZE_ADDRESS__
  /* A sanitizer report ends the process without atexit handlers. */
  __asan_set_death_callback(fn);
#endif
}

static void runner_stop_cb(uv_async_t *a) {
  uv_close((uv_handle_t *)a, NULL);
  uv_stop(a->loop);
}

static void *runner_main(void *arg) {
  struct loop_runner *r = arg;
  uv_run(r->loop, UV_RUN_DEFAULT);
  return NULL;
}

void loop_runner_start(struct loop_runner *r, uv_loop_t *loop) {
  r->loop = loop;
  uv_async_init(loop, &r->stop, runner_stop_cb);
  pthread_create(&r->th, NULL, runner_main, r);
}

void loop_runner_stop(struct loop_runner *r) {
  uv_async_send(&r->stop);
  pthread_join(r->th, NULL);
}
