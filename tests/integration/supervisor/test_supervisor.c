/* A real supervisor process on a private STACK_ROOT / STACK_RUN_DIR: start
 * on demand, ping/ps from two clients, protocol errors, events, adoption of
 * the state it finds, SIGKILL and restart by the next client, concurrent
 * starts, shutdown.  No VMs: "QEMU" processes are stand-in children whose
 * liveness the supervisor checks by pid and start time. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "orchestrator/supervisor/procinfo.h"
#include "orchestrator/supervisor/project_state.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "orchestrator/supervisor/supervisor.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "test.h"

static char root[] = "/tmp/stack-itest-sup-XXXXXX";
static pid_t to_kill[16];
static size_t n_to_kill;

/* Whatever happens, leave no process and no directory behind. */
static void cleanup(void) {
  for (size_t i = 0; i < n_to_kill; i++)
    if (to_kill[i] > 0)
      kill(to_kill[i], SIGKILL);
  fs_rm_rf(root, NULL);
}

static void track(pid_t pid) {
  if (n_to_kill < sizeof(to_kill) / sizeof(to_kill[0]))
    to_kill[n_to_kill++] = pid;
}

/* Alive and not a zombie (a daemon's zombie waits for init to reap it). */
static bool running(pid_t pid) {
  uint64_t t;
  return proc_start_time(pid, &t, NULL) == 0 && proc_is_same(pid, t);
}

/* Waits (at most 5 s) for a process this test does not own to end. */
static void wait_gone(pid_t pid) {
  for (int i = 0; i < 500 && running(pid); i++)
    usleep(10000);
}

static pid_t sleeper(void) {
  pid_t pid = fork();
  if (pid == 0) {
    alarm(300);
    for (;;)
      pause();
  }
  track(pid);
  return pid;
}

static cJSON *call(struct sup_client *c, const char *method, cJSON *params) {
  cJSON *result = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  int r = sup_client_call(c, method, params, NULL, NULL, &result, &err);
  CHECK_MSG(r == 0, "%s: %s", method, err ? err->msg : "?");
  return result;
}

static int ping_pid(struct sup_client *c) {
  cJSON *res = call(c, "ping", NULL);
  const cJSON *pid = cJSON_GetObjectItem(res, "pid");
  int v = cJSON_IsNumber(pid) ? pid->valueint : -1;
  cJSON_Delete(res);
  if (v > 0)
    track(v);
  return v;
}

/* The status of a container per `ps`, or NULL. */
static char *ps_status(struct sup_client *c, const char *name, int *exit_code) {
  cJSON *res = call(c, "ps", NULL);
  const cJSON *ctr;
  char *out = NULL;
  cJSON_ArrayForEach(ctr, cJSON_GetObjectItem(res, "containers")) {
    if (strcmp(cJSON_GetObjectItem(ctr, "name")->valuestring, name) == 0) {
      out = xstrdup(cJSON_GetObjectItem(ctr, "status")->valuestring);
      if (exit_code)
        *exit_code = cJSON_GetObjectItem(ctr, "exit_code")->valueint;
    }
  }
  cJSON_Delete(res);
  return out;
}

static void seed_state(const struct sup_paths *p, pid_t live, pid_t dead) {
  _cleanup_project_state_ struct project_state *s = project_state_new("itest");
  struct ps_container *c = project_state_add(s, "itest-web-1", "web", 1);
  c->status = CTR_EXITED;
  c->exit_code = 0;
  uint64_t t = 0;
  c = project_state_add(s, "itest-db-1", "db", 1);
  c->status = CTR_RUNNING;
  c->qemu_pid = live;
  CHECK_INTEQ(proc_start_time(live, &t, NULL), 0);
  c->qemu_start_time = t;
  c = project_state_add(s, "itest-cache-1", "cache", 1);
  c->status = CTR_RUNNING;
  c->qemu_pid = dead;
  c->qemu_start_time = 12345;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK_INTEQ(fs_mkdir_p(p->state_dir, 0700, &err), 0);
  CHECK_INTEQ(project_state_save(s, p->state_file, &err), 0);
}

/* Sends raw bytes on a new connection and returns the first reply line. */
static char *raw_exchange(const struct sup_paths *p, const char *data, size_t len) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strcpy(sa.sun_path, p->socket);
  CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
  size_t off = 0;
  while (off < len) {
    ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
    if (n <= 0)
      break; /* the server may close on an overlong line */
    off += (size_t)n;
  }
  char buf[4096];
  size_t got = 0;
  while (got < sizeof(buf) - 1) {
    ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
    if (n <= 0)
      break;
    got += (size_t)n;
    if (memchr(buf, '\n', got))
      break;
  }
  buf[got] = '\0';
  close(fd);
  return xstrdup(buf);
}

static void test_protocol_errors(const struct sup_paths *p) {
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"not json\n", "\"code\":-74"},
      {"[1,2]\n", "request must be a JSON object"},
      {"{\"id\":5}\n", "\"id\":5,\"error\""},
      {"{\"id\":{},\"method\":\"ping\"}\n", "id must be a number or a string"},
      {"{\"id\":\"x\",\"method\":\"fly\"}\n", "unknown method \\\"fly\\\""},
      {"{\"id\":2,\"method\":\"ps\",\"params\":[]}\n", "params must be an object"},
      {"{\"id\":3,\"method\":\"ps\",\"params\":{\"containers\":[\"nope\"]}}\n",
       "no such service or container: nope"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    _cleanup_free_ char *reply = raw_exchange(p, cases[i].in, strlen(cases[i].in));
    CHECK_MSG(strstr(reply, cases[i].want) != NULL, "%s -> %s", cases[i].in, reply);
  }
  /* an overlong line gets an error and the connection is closed */
  size_t big = (2u << 20);
  _cleanup_free_ char *junk = xmalloc(big);
  memset(junk, 'a', big);
  _cleanup_free_ char *reply = raw_exchange(p, junk, big);
  CHECK_MSG(strstr(reply, "request line too long") != NULL, "got %s", reply);
}

static int stop_at_first(const cJSON *ev, void *ctx) {
  *(char **)ctx = cJSON_PrintUnformatted(ev);
  return 1;
}

static void test_events_and_rm(struct sup_client *a, struct sup_client *b) {
  _cleanup_free_ char *first = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK_INTEQ(sup_client_call(a, "events", NULL, stop_at_first, &first, NULL, &err), 1);
  CHECK(first && strstr(first, "subscribed"));

  /* a running container cannot be removed */
  cJSON *params = cJSON_Parse("{\"containers\":[\"db\"]}");
  cJSON *res = NULL;
  CHECK_INTEQ(sup_client_call(b, "rm", params, NULL, NULL, &res, &err), -EBUSY);
  CHECK(err && strstr(err->msg, "itest-db-1 is running"));
  stack_error_free(err);
  err = NULL;

  params = cJSON_Parse("{\"containers\":[\"web\"]}");
  res = call(b, "rm", params);
  _cleanup_free_ char *txt = cJSON_PrintUnformatted(res);
  CHECK_STREQ(txt, "{\"removed\":[\"itest-web-1\"]}");
  cJSON_Delete(res);

  cJSON *ev = NULL;
  CHECK_INTEQ(sup_client_next_event(a, &ev, &err), 0);
  CHECK_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "action")), "destroy");
  CHECK_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "service")), "web");
  cJSON_Delete(ev);
  _cleanup_free_ char *gone = ps_status(b, "itest-web-1", NULL);
  CHECK(gone == NULL);
}

static void test_concurrent_start(const struct sup_paths *p) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t kids[3];
  for (int i = 0; i < 3; i++) {
    kids[i] = fork();
    if (kids[i] == 0) {
      struct sup_client *c = NULL;
      int pid = -1;
      if (sup_client_open(p, NULL, &c, NULL) == 0) {
        cJSON *res = NULL;
        if (sup_client_call(c, "ping", NULL, NULL, NULL, &res, NULL) == 0)
          pid = cJSON_GetObjectItem(res, "pid")->valueint;
      }
      if (write(fds[1], &pid, sizeof(pid)) != sizeof(pid))
        _exit(2);
      _exit(0);
    }
  }
  close(fds[1]);
  int pids[3] = {0};
  for (int i = 0; i < 3; i++) {
    CHECK(read(fds[0], &pids[i], sizeof(int)) == sizeof(int));
    waitpid(kids[i], NULL, 0);
    if (pids[i] > 0)
      track(pids[i]);
  }
  close(fds[0]);
  CHECK(pids[0] > 0);
  CHECK_INTEQ(pids[0], pids[1]);
  CHECK_INTEQ(pids[1], pids[2]);
}

int main(void) {
  alarm(120);
  CHECK(mkdtemp(root) != NULL);
  atexit(cleanup);
  _cleanup_free_ char *data = xasprintf("%s/data", root);
  _cleanup_free_ char *run = xasprintf("%s/run", root);
  setenv("STACK_ROOT", data, 1);
  setenv("STACK_RUN_DIR", run, 1);

  struct sup_paths p;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK_INTEQ(sup_paths_init(&p, "itest", &err), 0);
  struct sup_client *a = NULL, *b = NULL;
  CHECK_INTEQ(sup_client_connect(&p, &a, &err), -ENOENT);
  CHECK(err && strstr(err->msg, "no supervisor runs for project itest"));

  pid_t live = sleeper(), dead = sleeper();
  kill(dead, SIGKILL);
  waitpid(dead, NULL, 0);
  seed_state(&p, live, dead);

  /* started on demand; a second client finds the same one */
  CHECK_INTEQ(sup_client_open(&p, NULL, &a, &err), 0);
  CHECK_INTEQ(sup_client_connect(&p, &b, &err), 0);
  if (a == NULL || b == NULL)
    TEST_DONE();
  int pid1 = ping_pid(a);
  CHECK(pid1 > 0 && pid1 != getpid());
  CHECK_INTEQ(ping_pid(b), pid1);

  /* adoption: the live VM stays running, the dead one is accounted for */
  int code = 0;
  _cleanup_free_ char *db = ps_status(a, "itest-db-1", NULL);
  CHECK_STREQ(db, "running");
  _cleanup_free_ char *cache = ps_status(a, "itest-cache-1", &code);
  CHECK_STREQ(cache, "exited");
  CHECK_INTEQ(code, 255);

  /* one supervisor per project */
  struct supervisor_opts o = {"itest", -1};
  struct stack_error *e2 = NULL;
  CHECK_INTEQ(supervisor_run(&o, &e2), -EBUSY);
  CHECK(e2 && strstr(e2->msg, "already running"));
  stack_error_free(e2);

  test_protocol_errors(&p);
  test_events_and_rm(a, b);
  /* clients survive each other's protocol errors */
  CHECK_INTEQ(ping_pid(b), pid1);

  /* SIGKILL: the next client starts a new supervisor that knows the state */
  sup_client_free(a);
  sup_client_free(b);
  a = b = NULL;
  kill(pid1, SIGKILL);
  wait_gone(pid1);
  CHECK_INTEQ(sup_client_connect(&p, &a, &err), -ECONNREFUSED);
  stack_error_free(err);
  err = NULL;
  CHECK_INTEQ(sup_client_open(&p, NULL, &a, &err), 0);
  int pid2 = a ? ping_pid(a) : -1;
  CHECK(pid2 > 0 && pid2 != pid1);
  _cleanup_free_ char *db2 = a ? ps_status(a, "itest-db-1", NULL) : NULL;
  CHECK_STREQ(db2, "running");
  _cleanup_free_ char *web2 = a ? ps_status(a, "itest-web-1", NULL) : NULL;
  CHECK(web2 == NULL); /* the removal was saved */

  /* shutdown is refused while a VM runs */
  cJSON *res = NULL;
  CHECK_INTEQ(sup_client_call(a, "shutdown", NULL, NULL, NULL, &res, &err), -EBUSY);
  stack_error_free(err);
  err = NULL;
  sup_client_free(a);
  a = NULL;

  /* the "VM" dies while the supervisor is down: found exited on restart */
  kill(pid2, SIGKILL);
  kill(live, SIGKILL);
  waitpid(live, NULL, 0);
  wait_gone(pid2);
  test_concurrent_start(&p);
  CHECK_INTEQ(sup_client_connect(&p, &a, &err), 0);
  if (a) {
    _cleanup_free_ char *db3 = ps_status(a, "itest-db-1", &code);
    CHECK_STREQ(db3, "exited");
    CHECK_INTEQ(code, 255);
    int pid3 = ping_pid(a);
    res = call(a, "shutdown", NULL);
    cJSON_Delete(res);
    wait_gone(pid3);
    CHECK(!running(pid3));
    sup_client_free(a);
  }
  CHECK(!fs_exists(p.socket));
  _cleanup_free_ char *log = NULL;
  CHECK_INTEQ(fs_read_file(p.log_file, 0, &log, NULL, &err), 0);
  CHECK(log && strstr(log, "listening on"));
  sup_paths_clear(&p);
  TEST_DONE();
}
