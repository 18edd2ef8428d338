#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "orchestrator/supervisor/procinfo.h"
#include "orchestrator/supervisor/project_state.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "test.h"

static void test_roundtrip(const char *dir) {
  _cleanup_free_ char *path = fs_path_join(dir, "state.json");
  struct stack_error *err = NULL;
  struct project_state *s = NULL;
  /* a missing file is an empty project */
  CHECK_INTEQ(project_state_load(path, "demo", &s, &err), 0);
  CHECK(s && s->n_containers == 0);
  CHECK_STREQ(s->project, "demo");
  s->working_dir = xstrdup("/src/demo");
  s->config_files = xcalloc(2, sizeof(char *));
  s->config_files[0] = xstrdup("/src/demo/compose.yaml");
  struct ps_container *c = project_state_add(s, "demo-web-1", "web", 1);
  CHECK_INTEQ(strlen(c->id), 64);
  c->config_hash = xstrdup("abc");
  c->status = CTR_RUNNING;
  c->health = HEALTH_HEALTHY;
  c->restart_count = 2;
  c->started_ms = 1700000000123;
  c->qemu_pid = 4242;
  c->qemu_start_time = 987654321;
  c->disk = xstrdup("/var/lib/stack/containers/x/disk.ext4");
  c->addresses = xcalloc(1, sizeof(*c->addresses));
  c->n_addresses = 1;
  c->addresses[0].network = xstrdup("default");
  c->addresses[0].ip = xstrdup("10.89.0.2");
  /* the health check an adopting supervisor resumes */
  c->healthcheck.argv = xcalloc(3, sizeof(char *));
  c->healthcheck.argv[0] = xstrdup("test");
  c->healthcheck.argv[1] = xstrdup("-e /x");
  c->healthcheck.interval_ms = 500;
  c->healthcheck.timeout_ms = 30000;
  c->healthcheck.start_period_ms = 3600000;
  c->healthcheck.start_interval_ms = 5000;
  c->healthcheck.retries = 7;
  c = project_state_add(s, "demo-db-1", "db", 1);
  c->status = CTR_EXITED;
  c->exit_code = 3;
  c->user_stopped = true;
  c = project_state_add(s, "demo-cache-1", "cache", 1);
  c->status = CTR_PAUSED;
  c->pause_reason = xstrdup("disk full");
  char id0[65];
  memcpy(id0, s->containers[0].id, 65);
  CHECK(strcmp(s->containers[0].id, s->containers[1].id) != 0);
  CHECK_INTEQ(project_state_save(s, path, &err), 0);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  project_state_free(s);

  s = NULL;
  CHECK_INTEQ(project_state_load(path, "demo", &s, &err), 0);
  CHECK_INTEQ(s->n_containers, 3);
  c = project_state_find(s, "demo-cache-1");
  CHECK(c && c->status == CTR_PAUSED);
  CHECK_STREQ(c ? c->pause_reason : NULL, "disk full");
  CHECK(project_state_remove(s, "demo-cache-1"));
  CHECK_STREQ(s->working_dir, "/src/demo");
  CHECK_STREQ(s->config_files[0], "/src/demo/compose.yaml");
  c = project_state_find(s, "demo-web-1");
  CHECK(c != NULL);
  if (c) {
    CHECK_STREQ(c->id, id0);
    CHECK_STREQ(c->service, "web");
    CHECK_INTEQ(c->number, 1);
    CHECK_INTEQ(c->status, CTR_RUNNING);
    CHECK_INTEQ(c->health, HEALTH_HEALTHY);
    CHECK_INTEQ(c->restart_count, 2);
    CHECK_INTEQ(c->started_ms, 1700000000123);
    CHECK_INTEQ(c->qemu_pid, 4242);
    CHECK_INTEQ(c->qemu_start_time, 987654321);
    CHECK_INTEQ(c->n_addresses, 1);
    CHECK_STREQ(c->addresses[0].ip, "10.89.0.2");
    const struct health_config *hc = &c->healthcheck;
    CHECK(hc->argv && hc->argv[0] && hc->argv[1] && !hc->argv[2]);
    CHECK_STREQ(hc->argv ? hc->argv[1] : NULL, "-e /x");
    CHECK(hc->interval_ms == 500 && hc->timeout_ms == 30000 && hc->start_period_ms == 3600000 &&
          hc->start_interval_ms == 5000 && hc->retries == 7);
  }
  c = project_state_find(s, "demo-db-1");
  CHECK(c && c->user_stopped && c->exit_code == 3 && c->status == CTR_EXITED);
  CHECK(c && c->healthcheck.argv == NULL); /* none: none saved */
  CHECK(project_state_remove(s, "demo-web-1"));
  CHECK(!project_state_remove(s, "demo-web-1"));
  CHECK_INTEQ(s->n_containers, 1);
  CHECK_STREQ(s->containers[0].name, "demo-db-1");
  project_state_free(s);
}

static void test_bad_input(void) {
  const char *bad[] = {
      "",
      "[]",
      "{\"version\":1}",
      "{\"version\":2,\"project\":\"p\"}",
      "{\"version\":1,\"project\":\"p\",\"containers\":{}}",
      "{\"version\":1,\"project\":\"p\",\"containers\":[1]}",
      "{\"version\":1,\"project\":\"p\",\"containers\":[{\"name\":\"a\",\"id\":\"x\","
      "\"service\":\"s\",\"status\":\"flying\"}]}",
      "{\"version\":1,\"project\":\"p\",\"containers\":[{\"name\":\"a\",\"id\":\"x\","
      "\"service\":\"s\",\"status\":\"running\",\"qemu_pid\":-5}]}",
      "{\"version\":1,\"project\":\"p\",\"containers\":[{\"name\":\"a\",\"id\":\"x\","
      "\"service\":\"s\",\"status\":\"running\",\"exit_code\":1.5}]}",
      "{\"version\":1,\"project\":\"p\",\"containers\":[{\"name\":\"a\",\"id\":\"x\","
      "\"service\":\"s\",\"status\":\"running\"},{\"name\":\"a\",\"id\":\"y\","
      "\"service\":\"s\",\"status\":\"running\"}]}",
      "{\"version\":1,\"project\":\"p\",\"config_files\":[3]}",
      "{\"version\":1,\"project\":\"p\",\"containers\":[{\"name\":\"a\",\"id\":\"x\","
      "\"service\":\"s\",\"status\":\"running\",\"healthcheck\":{\"test\":[]}}]}",
      "{\"version\":1,\"project\":\"p\",\"containers\":[{\"name\":\"a\",\"id\":\"x\","
      "\"service\":\"s\",\"status\":\"running\",\"healthcheck\":{\"test\":[\"a\",1]}}]}",
      "{\"version\":1,\"project\":\"p\",\"containers\":[{\"name\":\"a\",\"id\":\"x\","
      "\"service\":\"s\",\"status\":\"running\",\"healthcheck\":{\"test\":[\"a\"],"
      "\"interval\":-1}}]}",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct stack_error *err = NULL;
    struct project_state *s = NULL;
    int r = project_state_parse(bad[i], strlen(bad[i]), "/x/state.json", &s, &err);
    CHECK_MSG(r < 0, "accepted: %s", bad[i]);
    CHECK(s == NULL);
    CHECK(err && strstr(err->msg, "/x/state.json"));
    stack_error_free(err);
  }
}

static bool alive_if_even(pid_t pid, uint64_t start_time, void *ctx) {
  (void)start_time;
  (*(int *)ctx)++;
  return pid % 2 == 0;
}

static void test_reconcile(void) {
  _cleanup_project_state_ struct project_state *s = project_state_new("p");
  struct ps_container *c;
  c = project_state_add(s, "p-a-1", "a", 1);
  c->status = CTR_RUNNING, c->qemu_pid = 10;
  c = project_state_add(s, "p-b-1", "b", 1);
  c->status = CTR_RUNNING, c->qemu_pid = 11, c->health = HEALTH_HEALTHY;
  c = project_state_add(s, "p-c-1", "c", 1);
  c->status = CTR_EXITED, c->exit_code = 0;
  c = project_state_add(s, "p-d-1", "d", 1);
  c->status = CTR_RUNNING; /* no pid recorded: the VM never came up */
  int calls = 0;
  CHECK_INTEQ(project_state_reconcile(s, 5000, alive_if_even, &calls), 2);
  CHECK_INTEQ(calls, 2);
  CHECK_INTEQ(s->containers[0].status, CTR_RUNNING);
  CHECK_INTEQ(s->containers[0].qemu_pid, 10);
  CHECK_INTEQ(s->containers[1].status, CTR_EXITED);
  CHECK_INTEQ(s->containers[1].exit_code, 255);
  CHECK_INTEQ(s->containers[1].qemu_pid, 0);
  CHECK_INTEQ(s->containers[1].health, HEALTH_NONE);
  CHECK_INTEQ(s->containers[1].finished_ms, 5000);
  CHECK_INTEQ(s->containers[2].status, CTR_EXITED);
  CHECK_INTEQ(s->containers[2].exit_code, 0);
  CHECK_INTEQ(s->containers[3].status, CTR_EXITED);
}

static void test_procinfo(void) {
  uint64_t t = 0, t2 = 0;
  struct stack_error *err = NULL;
  CHECK_INTEQ(proc_start_time(getpid(), &t, &err), 0);
  CHECK(t > 0);
  CHECK(proc_is_same(getpid(), t));
  CHECK(!proc_is_same(getpid(), t + 1));
  CHECK(!proc_is_same(0, t));
  /* a child that exited (zombie, then reaped) is no longer the same process */
  pid_t pid = fork();
  if (pid == 0)
    _exit(0);
  CHECK_INTEQ(proc_start_time(pid, &t2, &err), 0);
  waitpid(pid, NULL, 0);
  CHECK(!proc_is_same(pid, t2));
  CHECK_INTEQ(proc_start_time(pid, &t2, &err), -ESRCH);
  stack_error_free(err);
  uint64_t v = 0;
  CHECK_INTEQ(proc_parse_stat_start_time(
                  "1 (a) b) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0", &v),
              0);
  CHECK_INTEQ(v, 777);
  CHECK_INTEQ(proc_parse_stat_start_time("1 (a) S 0 1", &v), -EINVAL);
  CHECK_INTEQ(proc_parse_stat_start_time("garbage", &v), -EINVAL);
}

int main(void) {
  char tmpl[] = "/tmp/stack-test-state-XXXXXX";
  char *dir = mkdtemp(tmpl);
  CHECK(dir != NULL);
  if (dir == NULL)
    TEST_DONE();
  test_roundtrip(dir);
  test_bad_input();
  test_reconcile();
  test_procinfo();
  fs_rm_rf(dir, NULL);
  TEST_DONE();
}
