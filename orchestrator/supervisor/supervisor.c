#include "supervisor.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "procinfo.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/boot_queue.h"
#include "runtime/vm/container.h"
#include "runtime/vm/template.h"
#include "sup_conn.h"
#include "sup_ctrs.h"
#include "sup_exec.h"
#include "sup_health.h"
#include "sup_jobs.h"
#include "sup_logs.h"
#include "sup_loop.h"
#include "sup_methods.h"
#include "sup_net.h"
#include "sup_pause.h"
#include "sup_run.h"
#include "sup_shutdown.h"

/* --- connections ---------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  buf->base = xmalloc(65536);
  buf->len = 65536;
}

static void handle_line(struct sup_conn *c, const char *line, size_t len) {
  struct supervisor *s = c->sup;
  struct sup_request req;
  _cleanup_error_ struct stack_error *err = NULL;
  if (sup_request_parse(line, len, &req, &err) < 0) {
    sup_conn_send(c, sup_format_error(req.id, err->code, err->msg));
  } else {
    char *reply = sup_dispatch(s, c, &req);
    if (reply)
      sup_conn_send(c, reply);
  }
  sup_request_clear(&req);
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf) {
  struct sup_conn *c = (struct sup_conn *)stream;
  _cleanup_free_ char *data = buf->base;
  if (n < 0) {
    sup_conn_close(c);
    return;
  }
  if (sup_linebuf_feed(&c->in, data, (size_t)n) < 0) {
    sup_conn_send(c, sup_format_error(NULL, -EMSGSIZE, "request line too long"));
    sup_conn_finish(c);
    return;
  }
  for (;;) {
    _cleanup_free_ char *line = NULL;
    size_t len = 0;
    int r = sup_linebuf_next(&c->in, &line, &len);
    /* after a shutdown request nothing more is started */
    if (r <= 0 || c->closing || c->sup->stopping)
      break;
    if (len > 0)
      handle_line(c, line, len);
  }
}

static void on_connection(uv_stream_t *server, int status) {
  struct supervisor *s = server->data;
  if (status < 0 || s->stopping)
    return;
  struct sup_conn *c = sup_conn_accept(s, server);
  if (c == NULL)
    return;
  uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* --- lifecycle ------------------------------------------------------------ */

static void on_signal(uv_signal_t *h, int signum) {
  (void)signum;
  sup_shutdown(h->data);
}

static bool pid_alive(pid_t pid, uint64_t start_time, void *ctx) {
  (void)ctx;
  return proc_is_same(pid, start_time);
}

static int take_lock(struct supervisor *s, struct stack_error **err) {
  _cleanup_error_ struct stack_error *e = NULL;
  s->lock_fd = fs_lock_path(s->paths.lock, LOCK_EX | LOCK_NB, &e);
  if (s->lock_fd == -EWOULDBLOCK)
    return stack_error_set(err, -EBUSY, "another supervisor is already running for project %s",
                           s->paths.project);
  if (s->lock_fd < 0) {
    int r = s->lock_fd;
    if (err)
      *err = steal_pointer(&e);
    return r;
  }
  char pid[32];
  int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
  if (ftruncate(s->lock_fd, 0) < 0 || write(s->lock_fd, pid, (size_t)n) != n)
    return stack_error_errno(err, -errno, "cannot write %s", s->paths.lock);
  return 0;
}

/* How long a new supervisor waits for the guests of the VMs it adopted to
 * answer before it serves requests anyway (under the starter's wait for
 * it, sup_daemon.c). */
#define SETTLE_MS 20000

static void on_settle_timeout(uv_timer_t *t) { *(bool *)t->data = true; }

/* Runs the loop until every adopted guest answered (or SETTLE_MS). */
static void settle(struct supervisor *s) {
  bool expired = false;
  uv_timer_t t;
  uv_timer_init(&s->loop, &t);
  t.data = &expired;
  uv_timer_start(&t, on_settle_timeout, SETTLE_MS, 0);
  while (!expired && sup_ctrs_attaching(s))
    uv_run(&s->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&s->loop, UV_RUN_NOWAIT); /* the timer's close */
}

static int start(struct supervisor *s, const char *project, struct stack_error **err) {
  int r = sup_paths_init(&s->paths, project, err);
  if (r == 0)
    r = sup_paths_mkdirs(&s->paths, err);
  if (r == 0)
    r = take_lock(s, err);
  if (r == 0)
    sup_paths_clean_tmp(&s->paths); /* a killed supervisor's half-written files */
  if (r == 0)
    r = project_state_load(s->paths.state_file, project, &s->state, err);
  if (r < 0)
    return r;

  if ((r = uv_loop_init(&s->loop)) < 0)
    return stack_error_set(err, r, "cannot start the event loop: %s", uv_strerror(r));
  s->loop_inited = true;
  if (s->save_failing)
    sup_save(s, NULL); /* retried from now on */
  s->templates = template_cache_new(&s->loop);
  const char *slots = getenv("STACK_BOOT_SLOTS");
  s->boots = boot_queue_new(&s->loop, slots ? (unsigned)strtoul(slots, NULL, 10) : 0);
  /* The container table's subscribers, in this order: a container's
   * health status is known before anyone judges it, its followers hear
   * of its exit before the request that shows it ends. */
  sup_ctrs_subscribe(s, sup_health_on_change);
  sup_ctrs_subscribe(s, sup_logs_on_change);
  sup_ctrs_subscribe(s, sup_run_on_change);
  sup_ctrs_subscribe(s, sup_exec_on_change);
  sup_ctrs_subscribe(s, sup_jobs_on_change);
  /* what waits for a connection goes with it */
  sup_conn_on_gone(s, sup_jobs_conn_gone);
  sup_conn_on_gone(s, sup_exec_conn_gone);
  sup_conn_on_gone(s, sup_pause_conn_gone);
  sup_conn_on_gone(s, sup_run_conn_gone);
  uv_timer_init(&s->loop, &s->gate_timer);
  s->gate_timer.data = s;
  /* Every VM of the project that still runs is taken over, recorded or
   * not (its pid file was written before QEMU ran); those no record names
   * end; VMs that died while no supervisor watched are accounted for:
   * all before anyone can ask. */
  for (size_t i = 0; i < s->state->n_containers; i++)
    sup_adopt(s, &s->state->containers[i]);
  sup_ctrs_reap_strays(s);
  settle(s);
  project_state_reconcile(s->state, sup_wall_ms(), pid_alive, NULL);
  sup_save(s, NULL); /* one that cannot be saved now (a full disk) is saved again later */
  sup_net_recover(s, sup_ctrs_adopted(s));
  uv_pipe_init(&s->loop, &s->listener, 0);
  s->listener.data = s;
  /* The lock is ours: a socket file left there is a dead supervisor's. */
  unlink(s->paths.socket);
  mode_t old = umask(0077);
  r = uv_pipe_bind(&s->listener, s->paths.socket);
  umask(old);
  if (r == 0)
    r = uv_listen((uv_stream_t *)&s->listener, 128, on_connection);
  if (r < 0) {
    uv_close((uv_handle_t *)&s->listener, NULL);
    return stack_error_set(err, r, "cannot listen on %s: %s", s->paths.socket, uv_strerror(r));
  }
  uv_signal_init(&s->loop, &s->sigterm);
  uv_signal_init(&s->loop, &s->sigint);
  s->sigterm.data = s->sigint.data = s;
  uv_signal_start(&s->sigterm, on_signal, SIGTERM);
  uv_signal_start(&s->sigint, on_signal, SIGINT);
  container_gc(); /* states of --rm containers whose owner died */
  return 0;
}

static void report_ready(int fd, const struct stack_error *e) {
  if (fd < 0)
    return;
  _cleanup_free_ char *msg = e ? xasprintf("%s\n", e->msg) : xstrdup("ok\n");
  ssize_t n = write(fd, msg, strlen(msg));
  (void)n; /* the starter may have given up; nothing to do about it */
  close(fd);
}

int supervisor_run(const struct supervisor_opts *o, struct stack_error **err) {
  _cleanup_free_ struct supervisor *s = xcalloc(1, sizeof(*s));
  s->lock_fd = -1;
  _cleanup_error_ struct stack_error *e = NULL;
  signal(SIGPIPE, SIG_IGN);
  int r = start(s, o->project, &e);
  report_ready(o->ready_fd, r < 0 ? e : NULL);
  if (r == 0) {
    fprintf(stderr, "stack supervisor: project %s: listening on %s (pid %d)\n", o->project,
            s->paths.socket, (int)getpid());
    uv_run(&s->loop, UV_RUN_DEFAULT);
    fprintf(stderr, "stack supervisor: project %s: stopped\n", o->project);
  }
  if (s->loop_inited) {
    /* every handle is closing by now; let their callbacks run */
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
  }
  sup_jobs_free(s); /* gone with their connections already */
  project_state_free(s->state);
  sup_paths_clear(&s->paths);
  if (s->lock_fd >= 0)
    close(s->lock_fd);
  if (r < 0 && err)
    *err = steal_pointer(&e);
  return r;
}
