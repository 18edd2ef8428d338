/* stack run's default network against the real kernel: runs joining at
 * once (separate processes, as `stack run`s are) get distinct addresses on
 * one bridge, each with its own tap on it; a run killed with SIGKILL loses
 * its lease to the next join, which takes its address and tap back; a
 * tap left by a run that ended cleanly is reused, not made again.
 *
 * Runs as root; a private data root gives every name a unique hash;
 * everything is removed at exit (the state file lists it). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper_netns.h"
#include "net/net_project.h"
#include "net/run_network.h"
#include "runtime/util/error.h"
#include "test.h"

static char tmpdir[PATH_MAX], dir[PATH_MAX + 16], state[PATH_MAX + 32];

static void cleanup(void) {
  if (state[0])
    net_project_down_from_state(" run", state, NULL);
  if (tmpdir[0])
    sh("rm -rf '%s'", tmpdir);
}

/* A run in a child: joins, writes its address to fd out, then waits for
 * a byte on fd in (or for SIGKILL) and leaves. */
static pid_t child_run(int *to_child, int *from_child) {
  int down[2], up[2];
  if (pipe(down) < 0 || pipe(up) < 0)
    abort();
  pid_t pid = fork();
  if (pid == 0) {
    close(down[1]);
    close(up[0]);
    struct run_network_lease *l = NULL;
    struct net_attachment a;
    struct stack_error *err = NULL;
    char line[64] = "error\n";
    if (run_network_join(dir, &l, &a, &err) == 0)
      snprintf(line, sizeof line, "%s %s %s\n", a.ip, a.tap, a.bridge);
    else
      fprintf(stderr, "join: %s\n", err->msg);
    if (write(up[1], line, strlen(line)) < 0)
      _exit(1);
    char c;
    if (read(down[0], &c, 1) < 0)
      _exit(1);
    run_network_leave(l);
    _exit(0);
  }
  close(down[0]);
  close(up[1]);
  *to_child = down[1];
  *from_child = up[0];
  return pid;
}

static void read_line(int fd, char *buf, size_t size) {
  size_t n = 0;
  while (n + 1 < size) {
    ssize_t r = read(fd, buf + n, 1);
    if (r <= 0 || buf[n] == '\n')
      break;
    n++;
  }
  buf[n] = '\0';
}

/* The tap's bridge, from sysfs ("" if none). */
static void master_of(const char *tap, char *out, size_t size) {
  char path[128], link[PATH_MAX];
  snprintf(path, sizeof path, "/sys/class/net/%s/master", tap);
  ssize_t n = readlink(path, link, sizeof link - 1);
  out[0] = '\0';
  if (n > 0) {
    link[n] = '\0';
    snprintf(out, size, "%s", strrchr(link, '/') + 1);
  }
}

static int ifindex(const char *name) { return (int)if_nametoindex(name); }

int main(void) {
  require_root_and_tun();
  snprintf(tmpdir, sizeof tmpdir, "/tmp/stack-test-run-network.XXXXXX");
  if (mkdtemp(tmpdir) == NULL)
    return 1;
  char root[PATH_MAX + 8];
  snprintf(root, sizeof root, "%s/root", tmpdir);
  setenv("STACK_ROOT", root, 1); /* the names hash the data root */
  snprintf(dir, sizeof dir, "%s/rn", tmpdir);
  snprintf(state, sizeof state, "%s/network.json", dir);
  cleanup_on_exit(cleanup);

  /* four runs at once: four addresses, four taps, one bridge */
  enum { N = 4 };
  pid_t pids[N];
  int to[N], from[N];
  char got[N][64];
  for (int i = 0; i < N; i++)
    pids[i] = child_run(&to[i], &from[i]);
  for (int i = 0; i < N; i++)
    read_line(from[i], got[i], sizeof got[i]);
  char ip[N][16], tap[N][16], bridge[N][16];
  for (int i = 0; i < N; i++) {
    CHECK_MSG(sscanf(got[i], "%15s %15s %15s", ip[i], tap[i], bridge[i]) == 3, "run %d: %s", i,
              got[i]);
    char m[16];
    master_of(tap[i], m, sizeof m);
    CHECK_STREQ(m, bridge[i]);
    CHECK_STREQ(bridge[i], bridge[0]);
    for (int j = 0; j < i; j++) {
      CHECK_MSG(strcmp(ip[i], ip[j]) != 0, "runs %d and %d both got %s", i, j, ip[i]);
      CHECK(strcmp(tap[i], tap[j]) != 0);
    }
  }
  /* the first one ends cleanly: its tap stays; a join takes its address
   * and the same tap back (same link, not made again) */
  int kept = ifindex(tap[0]);
  if (write(to[0], "x", 1) < 0)
    abort();
  waitpid(pids[0], NULL, 0);
  CHECK(kept > 0 && ifindex(tap[0]) == kept);
  int to5, from5;
  pid_t p5 = child_run(&to5, &from5);
  char g5[64], ip5[16], tap5[16], br5[16];
  read_line(from5, g5, sizeof g5);
  CHECK(sscanf(g5, "%15s %15s %15s", ip5, tap5, br5) == 3);
  CHECK_STREQ(ip5, ip[0]);
  CHECK_STREQ(tap5, tap[0]);
  CHECK_INTEQ(ifindex(tap5), kept);
  /* the second one is killed with SIGKILL: its address is taken back by
   * the next join */
  kill(pids[1], SIGKILL);
  waitpid(pids[1], NULL, 0);
  int to6, from6;
  pid_t p6 = child_run(&to6, &from6);
  char g6[64], ip6[16];
  read_line(from6, g6, sizeof g6);
  CHECK(sscanf(g6, "%15s", ip6) == 1);
  CHECK_STREQ(ip6, ip[1]);
  char *leases = capture("ls '%s/leases' | wc -l", dir);
  CHECK_INTEQ(atoi(leases), N); /* runs 2, 3, 5 and 6 */
  free(leases);
  /* everyone leaves: no lease is left, the network stays */
  for (int i = 2; i < N; i++)
    if (write(to[i], "x", 1) < 0)
      abort();
  if (write(to5, "x", 1) < 0 || write(to6, "x", 1) < 0)
    abort();
  for (int i = 2; i < N; i++)
    waitpid(pids[i], NULL, 0);
  waitpid(p5, NULL, 0);
  waitpid(p6, NULL, 0);
  leases = capture("ls '%s/leases' | wc -l", dir);
  CHECK_INTEQ(atoi(leases), 0);
  free(leases);
  CHECK(link_exists(bridge[0]));
  TEST_DONE();
}
