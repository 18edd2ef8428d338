/* Loading a large project: a generated compose file with N services (default
 * 500) using anchors, interpolation, ports, volumes, environment, healthchecks
 * and a dependency chain, loaded through the whole pipeline into the typed
 * model.  Prints min/median over the runs, and the same for
 * `docker-compose config -q` when docker-compose is installed.
 *
 *   bench_compose_load [services] [runs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "orchestrator/compose/compose_load.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static char *generate(int n) {
  struct sbuf b = SBUF_INIT;
  /* No top-level `name`: docker-compose 1.29 does not know it. */
  sbuf_puts(&b, "x-common: &common\n"
                "  restart: unless-stopped\n"
                "  environment:\n    LOG_LEVEL: ${LOG_LEVEL:-info}\n    REGION: eu\n"
                "  labels: [tier=backend, team=core]\n"
                "  healthcheck:\n    test: [\"CMD\", \"true\"]\n    interval: 10s\n"
                "    timeout: 2s\n    retries: 3\n"
                "services:\n");
  for (int i = 0; i < n; i++) {
    sbuf_printf(&b,
                "  svc%d:\n"
                "    <<: *common\n"
                "    image: \"registry.local/app%d:${TAG:-1.0}\"\n"
                "    command: [\"/bin/app\", \"--id\", \"%d\"]\n"
                "    ports: [\"%d:80\", \"127.0.0.1:%d:443/tcp\"]\n"
                "    volumes: [\"data%d:/data\", \"./conf/%d:/etc/app:ro\"]\n"
                "    environment: [\"ID=%d\", \"PEER=svc%d\"]\n"
                "    networks: [front, back]\n",
                i, i % 20, i, 10000 + i, 20000 + i, i, i, i, (i + 1) % n);
    if (i > 0)
      sbuf_printf(&b, "    depends_on:\n      svc%d:\n        condition: service_started\n", i - 1);
  }
  sbuf_puts(&b, "networks:\n  front: {}\n  back: {internal: true}\nvolumes:\n");
  for (int i = 0; i < n; i++)
    sbuf_printf(&b, "  data%d: {}\n", i);
  return sbuf_steal(&b);
}

static double run_peer(const char *dir) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir) < 0)
      _exit(127);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execlp("docker-compose", "docker-compose", "-f", "compose.yaml", "config", "-q", (char *)NULL);
    _exit(127);
  }
  double t0 = now_ms();
  int st = 0;
  waitpid(pid, &st, 0);
  double t = now_ms() - t0;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? t : -1;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 500;
  int runs = argc > 2 ? atoi(argv[2]) : 20;
  if (n < 1 || runs < 1)
    return 2;
  char dir[] = "/tmp/stack-bench-load-XXXXXX";
  if (mkdtemp(dir) == NULL)
    return 1;
  _cleanup_free_ char *yaml = generate(n);
  _cleanup_free_ char *file = fs_path_join(dir, "compose.yaml");
  _cleanup_error_ struct stack_error *err = NULL;
  if (fs_write_file_atomic(file, yaml, strlen(yaml), 0644, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  char *files[] = {file, NULL};
  char *env[] = {"TAG=2.0", NULL};
  struct compose_load_opts o = {.files = files, .environ = env, .working_dir = dir};
  double *t = xcalloc((size_t)runs, sizeof(*t));
  int rc = 0;
  for (int i = 0; i < runs; i++) {
    struct compose_project *p = NULL;
    double t0 = now_ms();
    int r = compose_load(&o, &p, &err);
    t[i] = now_ms() - t0;
    if (r < 0) {
      stack_error_print(err);
      rc = 1;
      break;
    }
    if (i == 0 && p->n_services != (size_t)n) {
      fprintf(stderr, "loaded %zu services, expected %d\n", p->n_services, n);
      rc = 1;
    }
    compose_project_free(p);
  }
  if (rc == 0) {
    qsort(t, (size_t)runs, sizeof(*t), cmp_double);
    printf("compose file: %d services, %zu bytes\n", n, strlen(yaml));
    printf("%-28s min %8.2f ms   median %8.2f ms   (%d runs)\n", "stack compose_load", t[0],
           t[runs / 2], runs);
    int peer_runs = runs < 3 ? runs : 3;
    double best = -1;
    for (int i = 0; i < peer_runs; i++) {
      double pt = run_peer(dir);
      if (pt < 0) {
        best = -1;
        break;
      }
      if (best < 0 || pt < best)
        best = pt;
    }
    if (best >= 0)
      printf("%-28s min %8.2f ms   (%d runs, includes process start)\n",
             "docker-compose config -q", best, peer_runs);
    else
      printf("%-28s not available (install Debian's docker-compose to compare)\n",
             "docker-compose config -q");
  }
  free(t);
  fs_rm_rf(dir, NULL);
  return rc;
}
