#include "sup_ctrs.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "orchestrator/compose/compose_model.h"
#include "procinfo.h"
#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/state_path.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"
#include "runtime/vm/jail_cgroup.h"
#include "runtime/vm/vm.h"
#include "pause_text.h"
#include "service_resources.h"
#include "sup_ctr_opts.h"
#include "sup_events.h"
#include "sup_net.h"
#include "sup_volumes.h"

#define KILL_WAIT_MS 5000 /* after SIGKILL, before the VM is killed from outside */

/* --- the state-change hook ------------------------------------------------ */

/* A change waiting for the subscribers to finish the one before. */
struct sup_change_item {
  struct sup_change ch;
  struct sup_change_item *next;
};

void sup_ctrs_subscribe(struct supervisor *s, sup_change_fn fn) {
  if (s->n_change_subs >= SUP_MAX_CHANGE_SUBS)
    abort(); /* a programming error: raise SUP_MAX_CHANGE_SUBS */
  s->change_subs[s->n_change_subs++] = fn;
}

void sup_ctrs_announce(struct supervisor *s, struct sup_ctr *c, enum sup_change_kind kind,
                       int exit_code) {
  struct sup_change_item *it = xcalloc(1, sizeof(*it));
  it->ch = (struct sup_change){kind, c, c ? c->name : NULL, c ? c->service : NULL, exit_code};
  struct sup_change_item **tail = &s->changes;
  while (*tail)
    tail = &(*tail)->next;
  *tail = it;
  /* A change made by a subscriber waits in the queue: the outermost call
   * announces it once every subscriber saw the current one.  A container
   * in the queue is not freed meanwhile: that happens on the loop
   * (on_ctr_timer_closed()), never during an announcement. */
  if (s->announcing)
    return;
  s->announcing = true;
  while (s->changes) {
    struct sup_change_item *cur = s->changes;
    s->changes = cur->next;
    for (size_t i = 0; i < s->n_change_subs; i++)
      s->change_subs[i](s, &cur->ch);
    free(cur);
  }
  s->announcing = false;
}

void sup_ctrs_changed(struct supervisor *s) { sup_ctrs_announce(s, NULL, SUP_CHANGE_REQUESTS, -1); }

/* --- the table ------------------------------------------------------------ */

struct sup_ctr *sup_ctr_find(struct supervisor *s, const char *name) {
  for (struct sup_ctr *c = s->ctrs; c; c = c->next)
    if (strcmp(c->name, name) == 0)
      return c;
  return NULL;
}

struct sup_ctr *sup_ctr_get(struct supervisor *s, const char *name, const char *service) {
  struct sup_ctr *c = sup_ctr_find(s, name);
  if (c)
    return c;
  c = xcalloc(1, sizeof(*c));
  c->sup = s;
  c->name = xstrdup(name);
  c->service = xstrdup(service);
  sup_log_init(&c->log, c->name, c->service);
  uv_timer_init(&s->loop, &c->timer);
  c->timer.data = c;
  uv_timer_init(&s->loop, &c->hc_timer);
  c->hc_timer.data = c;
  c->open_handles = 2;
  c->next = s->ctrs;
  s->ctrs = c;
  return c;
}

static struct ps_container *record(struct sup_ctr *c) {
  return project_state_find(c->sup->state, c->name);
}

/* A change is complete: event, state file, then the subscribers. */
static void changed(struct sup_ctr *c, const char *action, enum sup_change_kind kind,
                    int exit_code) {
  struct supervisor *s = c->sup;
  if (action)
    sup_emit_container(s, c->name, action, exit_code);
  sup_save(s, NULL);
  sup_ctrs_announce(s, c, kind, exit_code);
}

/* Docker's "kill" event: a signal sent to the container (a stop sends
 * its stop signal, then SIGKILL when the grace period is over). */
static void emit_kill(struct sup_ctr *c, int sig) {
  struct ps_container *r = record(c);
  if (r == NULL)
    return;
  cJSON *ev = sup_container_event(c->sup, r, "kill");
  char num[16];
  snprintf(num, sizeof num, "%d", sig);
  cJSON_AddStringToObject(cJSON_GetObjectItem(ev, "attributes"), "signal", num);
  sup_emit(c->sup, ev);
}

/* A container ended: "die", and "stop" after it when a stop ended it (as
 * Docker says for `docker stop`), then the change. */
static void ended(struct sup_ctr *c, bool stopped, enum sup_change_kind kind, int exit_code) {
  sup_emit_container(c->sup, c->name, "die", exit_code);
  if (stopped)
    sup_emit_container(c->sup, c->name, "stop", -1);
  changed(c, NULL, kind, exit_code);
}

static void forget_vm(struct ps_container *r) {
  if (r) {
    r->qemu_pid = 0;
    r->qemu_start_time = 0;
    free(r->pause_reason);
    r->pause_reason = NULL;
  }
}

char *sup_command_text(const struct image_config *ic, char *const *ep, char *const *cmd) {
  _cleanup_strv_ char **argv = container_argv(ic, ep, cmd);
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  for (char **p = argv; p && *p; p++)
    sbuf_printf(&b, "%s%s", b.len ? " " : "", *p);
  return sbuf_steal(&b);
}

/* --- the runner's callbacks ---------------------------------------------- */

static void on_output(void *data, int fd, const uint8_t *p, size_t n) {
  struct sup_ctr *c = data;
  sup_log_bytes(c->sup, &c->log, fd, p, n);
}

/* Notes the VM's QEMU (pid and start time) in the state, so that a
 * supervisor started after this one dies finds it. */
static void record_vm(struct sup_ctr *c, struct ps_container *r) {
  pid_t pid = c->rt ? container_qemu_pid(c->rt) : 0;
  uint64_t t;
  if (pid > 0 && proc_start_time(pid, &t, NULL) == 0) {
    r->qemu_pid = pid;
    r->qemu_start_time = t;
  }
}

void sup_ctr_mark_started(struct supervisor *s, struct sup_ctr *c) {
  c->ran = true;
  c->ran_at = uv_now(&s->loop);
  struct ps_container *r = record(c);
  if (r) {
    r->status = CTR_RUNNING;
    r->started_ms = sup_wall_ms();
    r->exit_code = 0;
    record_vm(c, r); /* QEMU surely runs by now */
  }
  changed(c, "start", SUP_CHANGE_STARTED, -1);
}

void sup_ctr_mark_ended(struct supervisor *s, struct sup_ctr *c) {
  sup_log_flush(s, &c->log);
  /* a stop's SIGKILL timer must not reach the ended runner, nor a probe */
  uv_timer_stop(&c->timer);
  sup_ctrs_announce(s, c, SUP_CHANGE_ENDED, -1);
}

static void on_started(void *data) {
  struct sup_ctr *c = data;
  sup_ctr_mark_started(c->sup, c);
}

void sup_ctr_mark_vm_state(struct supervisor *s, struct sup_ctr *c,
                           const struct container_vm_state *st) {
  struct ps_container *r = record(c);
  const char *reason = pause_reason(st);
  _cleanup_free_ char *line = NULL;
  free(c->vm_message);
  c->vm_message = NULL;
  if (st->paused) {
    c->vm_message = pause_message(st, c->service);
    if (reason) { /* QEMU's doing, not a user's: the log says why and what to do */
      line = xstrdup(c->vm_message);
      free(c->pause_fs);
      c->pause_fs = st->fs ? xstrdup(st->fs) : NULL;
    }
    if (r && (r->status == CTR_RUNNING || r->status == CTR_PAUSED)) {
      r->status = CTR_PAUSED;
      free(r->pause_reason);
      r->pause_reason = reason ? xstrdup(reason) : NULL;
    }
  } else {
    if (!st->by_request && c->pause_fs) /* the runner's: space came back */
      line = pause_resumed_message(c->pause_fs);
    free(c->pause_fs);
    c->pause_fs = NULL;
    if (r && r->status == CTR_PAUSED)
      r->status = CTR_RUNNING;
    if (r) {
      free(r->pause_reason);
      r->pause_reason = NULL;
    }
  }
  if (line) {
    fprintf(stderr, "stack supervisor: container %s: %s\n", c->name, line);
    _cleanup_free_ char *msg = xasprintf("stack: %s", line);
    sup_log_line(s, &c->log, 2, msg, strlen(msg));
  }
  if (r) {
    cJSON *ev = sup_container_event(s, r, st->paused ? "pause" : "unpause");
    cJSON *attrs = cJSON_GetObjectItem(ev, "attributes");
    if (reason) {
      cJSON_AddStringToObject(attrs, "reason", reason);
      cJSON_AddStringToObject(attrs, "disk", st->disk);
      if (st->fs)
        cJSON_AddStringToObject(attrs, "filesystem", st->fs);
    }
    sup_emit(s, ev);
  }
  changed(c, NULL, st->paused ? SUP_CHANGE_PAUSED : SUP_CHANGE_RESUMED, -1);
}

cJSON *sup_ctr_vm_event(const struct sup_ctr *c, bool paused) {
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "type", "vm");
  cJSON_AddBoolToObject(ev, "paused", paused);
  _cleanup_free_ char *resumed = paused ? NULL : pause_resumed_message(NULL);
  _cleanup_free_ char *msg = xasprintf("container %s: %s", c->name,
                                       paused && c->vm_message ? c->vm_message
                                       : paused                ? "the VM is paused"
                                                               : resumed);
  cJSON_AddStringToObject(ev, "message", msg);
  return ev;
}

static void on_vm_state(void *data, const struct container_vm_state *st) {
  struct sup_ctr *c = data;
  sup_ctr_mark_vm_state(c->sup, c, st);
}

static void after_exit(uv_timer_t *t);

/* An adopted VM's guest answered (container_adopt()): its process runs. */
static void on_attached(void *data) {
  struct sup_ctr *c = data;
  struct ps_container *r = record(c);
  c->ran = true;
  c->attaching = false;
  bool was_running = r && (r->status == CTR_RUNNING || r->status == CTR_PAUSED);
  if (r) {
    health_config_copy(&c->hc, &r->healthcheck);
    c->resume_health = was_running;
    if (!was_running) {
      /* the dead supervisor spawned it but never recorded its start */
      r->status = CTR_RUNNING;
      r->started_ms = sup_wall_ms();
      r->exit_code = 0;
    }
    record_vm(c, r);
  }
  fprintf(stderr, "stack supervisor: container %s: adopted its running VM (pid %d)\n", c->name,
          c->rt ? (int)container_qemu_pid(c->rt) : 0);
  changed(c, was_running ? NULL : "start", SUP_CHANGE_STARTED, -1);
}

static void on_exited(void *data, const struct container_status *st) {
  struct sup_ctr *c = data;
  c->attaching = false;
  sup_log_flush(c->sup, &c->log);
  if (st->error) {
    _cleanup_free_ char *msg = xasprintf("stack: %s", st->error);
    sup_log_line(c->sup, &c->log, 2, msg, strlen(msg));
    fprintf(stderr, "stack supervisor: container %s: %s\n", c->name, st->error);
  }
  if (!c->ran && st->error) {
    c->start_failed = true;
    free(c->error);
    c->error = xstrdup(st->error);
  }
  c->exit_code = st->exit_code;
  c->crashed = st->error != NULL && c->ran;
  free(c->vm_message);
  c->vm_message = NULL;
  free(c->pause_fs);
  c->pause_fs = NULL;
  struct ps_container *r = record(c);
  if (r) {
    r->status = CTR_EXITED;
    r->exit_code = st->exit_code;
    r->finished_ms = sup_wall_ms();
    r->health = HEALTH_NONE;
    forget_vm(r);
  }
  sup_ctrs_announce(c->sup, c, SUP_CHANGE_ENDED, -1); /* no more probes */
  /* The runner is freed outside its own callback. */
  uv_timer_stop(&c->timer);
  uv_timer_start(&c->timer, after_exit, 0, 0);
}

static void do_restart(uv_timer_t *t) {
  struct sup_ctr *c = t->data;
  _cleanup_error_ struct stack_error *err = NULL;
  if (sup_ctr_start(c->sup, c, &err) < 0)
    fprintf(stderr, "stack supervisor: restarting %s: %s\n", c->name, err->msg);
}

static void after_exit(uv_timer_t *t) {
  struct sup_ctr *c = t->data;
  struct supervisor *s = c->sup;
  if (c->rt) {
    container_free(c->rt);
    c->rt = NULL;
  }
  sup_net_detach(s, c->name); /* its taps, names and published ports */
  struct ps_container *r = record(c);
  uint64_t ran_ms = uv_now(&s->loop) - c->started_at;
  struct restart_exit e = {c->exit_code, c->crashed, c->stopping || (r && r->user_stopped)};
  bool stopped = c->stopping;
  c->stopping = false;
  int64_t delay = 0;
  bool again = !c->start_failed && !s->stopping &&
               restart_decide(&c->policy, &c->rs, &e, (int64_t)ran_ms, &delay);
  if (r) {
    r->restart_count = c->rs.restart_count;
    if (again)
      r->status = CTR_RESTARTING;
  }
  if (again)
    uv_timer_start(&c->timer, do_restart, (uint64_t)delay, 0);
  ended(c, stopped, SUP_CHANGE_EXITED, c->exit_code);
}

static void unwatch(struct sup_ctr *c);

/* --- start and stop ------------------------------------------------------ */

static int parse_signal(const char *name) {
  if (name == NULL || *name == '\0')
    return SIGTERM;
  char *end;
  long n = strtol(name, &end, 10);
  if (*end == '\0')
    return n > 0 && n < 65 ? (int)n : SIGTERM;
  if (strncasecmp(name, "SIG", 3) == 0)
    name += 3;
  for (int i = 1; i < 65; i++) {
    const char *abbrev = sigabbrev_np(i);
    if (abbrev && strcasecmp(abbrev, name) == 0)
      return i;
  }
  return SIGTERM;
}

static unsigned vcpus_of(const struct compose_service *svc) {
  unsigned n = svc ? sup_service_cpus(svc) : 0;
  return n ? n : vm_default_cpus();
}

bool sup_crowded(struct supervisor *s, const struct sup_ctr *self, unsigned own_vcpus) {
  unsigned long vcpus = own_vcpus ? own_vcpus : vm_default_cpus();
  for (const struct sup_ctr *c = s->ctrs; c; c = c->next)
    if (c != self && (c->rt || c->adopted || c->pending_start))
      vcpus += vcpus_of(s->project ? compose_project_service(s->project, c->service) : NULL);
  long host = sysconf(_SC_NPROCESSORS_ONLN);
  return vcpus > (unsigned long)(host > 0 ? host : 1);
}

int sup_ctr_health_configure(struct supervisor *s, struct sup_ctr *c, struct stack_error **err) {
  health_config_clear(&c->hc);
  const struct compose_service *svc =
      s->project ? compose_project_service(s->project, c->service) : NULL;
  if (svc == NULL)
    return 0;
  const struct compose_healthcheck *h = &svc->healthcheck;
  struct health_spec spec = {h->test, h->disable, h->interval_ns / 1000000,
                             h->timeout_ns / 1000000, h->start_period_ns / 1000000,
                             h->start_interval_ns / 1000000, h->retries};
  struct health_spec ispec = {NULL, false, -1, -1, -1, -1, -1};
  if (c->img) {
    const struct image_config *ic = &c->img->config;
    ispec = (struct health_spec){ic->health_test, false, ic->health_interval_ns / 1000000,
                                 ic->health_timeout_ns / 1000000,
                                 ic->health_start_period_ns / 1000000,
                                 ic->health_start_interval_ns / 1000000, ic->health_retries};
  }
  _cleanup_free_ char *where = xasprintf("services.%s", svc->name);
  return health_config_resolve(&spec, &ispec, where, &c->hc, err);
}

/* The layer's directory made, and a layer kept from an earlier run checked:
 * QEMU opens it by path, so it must be a file of ours, not a symlink. */
static int prepare_layer(struct supervisor *s, const char *name, char **out,
                         struct stack_error **err) {
  _cleanup_free_ char *file = xasprintf("%s.img", name);
  int r = state_mkdir(s->paths.state_dir, (const char *const[]){"layers", NULL}, 0700, err);
  if (r < 0)
    return r;
  _cleanup_error_ struct stack_error *e = NULL;
  _cleanup_close_ int fd =
      state_open(s->paths.state_dir, (const char *const[]){"layers", file, NULL}, O_PATH, 0, &e);
  struct stat st;
  if (fd < 0 && fd != -ENOENT) {
    if (err)
      *err = steal_pointer(&e);
    return fd;
  }
  if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)))
    return stack_error_set(err, -EINVAL,
                           "the writable layer of %s under %s/layers is not a regular file; "
                           "remove it",
                           name, s->paths.state_dir);
  return sup_paths_layer(&s->paths, name, out, err);
}

int sup_ctr_start(struct supervisor *s, struct sup_ctr *c, struct stack_error **err) {
  const struct compose_service *svc =
      s->project ? compose_project_service(s->project, c->service) : NULL;
  struct ps_container *r = record(c);
  int ret;
  if (svc == NULL || c->img == NULL || r == NULL) {
    ret = stack_error_set(err, -ENOENT,
                          "container %s: its service %s is not in the loaded project: run "
                          "stack up",
                          c->name, c->service);
  } else {
    __attribute__((cleanup(sup_ctr_opts_clear))) struct sup_ctr_opts b = {0};
    if ((ret = sup_ctr_opts_build(s, svc, c->name, sup_crowded(s, c, sup_service_cpus(svc)),
                                  NULL, &b, err)) < 0)
      goto failed;
    struct container_opts *o = &b.o;
    /* the container's writable layer outlives its VM, as a Docker
     * container's does across stop/start and restarts; it goes when the
     * container is removed or recreated (sup_ctr_forget()) */
    _cleanup_free_ char *layer = NULL;
    if ((ret = prepare_layer(s, c->name, &layer, err)) < 0)
      goto failed;
    o->data_disk = layer;
    static const struct container_io io = {.output = on_output,
                                           .started = on_started,
                                           .exited = on_exited,
                                           .vm_state = on_vm_state,
                                           .attached = on_attached};
    if ((ret = sup_ctr_health_configure(s, c, err)) < 0 ||
        (ret = sup_net_attach(s, c->name, svc, o, err)) < 0)
      goto failed;
    /* write-ahead: what a supervisor that adopts this VM needs (its id,
     * its health check) is on disk before the VM exists */
    health_config_copy(&r->healthcheck, &c->hc);
    if ((ret = sup_save(s, err)) < 0) {
      sup_net_detach(s, c->name);
      goto failed;
    }
    c->ran = false;
    c->start_failed = false;
    c->crashed = false;
    c->started_at = uv_now(&s->loop);
    ret = container_start(&s->loop, c->img, o, &io, c, &c->rt, err);
    if (ret == 0) {
      r->user_stopped = false;
      return 0;
    }
  }
failed:
  c->start_failed = true;
  free(c->error);
  c->error = xstrdup(err && *err ? (*err)->msg : "cannot start");
  if (r) {
    r->status = CTR_EXITED;
    r->exit_code = CONTAINER_EXIT_FAILED;
    r->finished_ms = sup_wall_ms();
  }
  /* inside a subscriber (a start by sup_jobs.c) this is queued */
  changed(c, "die", SUP_CHANGE_DIED, CONTAINER_EXIT_FAILED);
  return ret;
}

static void on_kill_timeout(uv_timer_t *t) {
  struct sup_ctr *c = t->data;
  /* the guest did not end after SIGKILL: take the VM away */
  fprintf(stderr, "stack supervisor: container %s: the VM did not stop; killing it\n", c->name);
  bool stopped = c->stopping;
  sup_ctr_kill_now(c->sup, c);
  ended(c, stopped, SUP_CHANGE_DIED, 137);
}

static void on_stop_timeout(uv_timer_t *t) {
  struct sup_ctr *c = t->data;
  emit_kill(c, SIGKILL);
  if (c->rt == NULL || container_signal(c->rt, SIGKILL) < 0) {
    on_kill_timeout(t);
    return;
  }
  uv_timer_start(&c->timer, on_kill_timeout, KILL_WAIT_MS, 0);
}

static void on_adopted_timeout(uv_timer_t *t) {
  struct sup_ctr *c = t->data;
  struct ps_container *r = record(c);
  if (c->adopted && r && proc_is_same(r->qemu_pid, r->qemu_start_time)) {
    emit_kill(c, SIGKILL);
    kill(r->qemu_pid, SIGKILL);
  }
}

void sup_ctr_stop(struct supervisor *s, struct sup_ctr *c, int64_t timeout_ms) {
  struct ps_container *r = record(c);
  if (r)
    r->user_stopped = true;
  c->pending_start = false;
  if (c->rt == NULL && c->adopted) {
    /* no guest channel to it: QEMU's own orderly exit, then SIGKILL */
    if (c->stopping)
      return;
    c->stopping = true;
    emit_kill(c, timeout_ms == 0 ? SIGKILL : SIGTERM);
    if (r && proc_is_same(r->qemu_pid, r->qemu_start_time))
      kill(r->qemu_pid, timeout_ms == 0 ? SIGKILL : SIGTERM);
    uv_timer_start(&c->timer, on_adopted_timeout, timeout_ms > 0 ? (uint64_t)timeout_ms : 10000,
                   0);
    return;
  }
  if (c->rt == NULL) {
    uv_timer_stop(&c->timer); /* a restart that was due */
    if (r && r->status == CTR_RESTARTING)
      r->status = CTR_EXITED;
    return;
  }
  if (c->stopping)
    return;
  c->stopping = true;
  const struct compose_service *svc =
      s->project ? compose_project_service(s->project, c->service) : NULL;
  const char *sig = svc && svc->stop_signal ? svc->stop_signal
                    : c->img                ? c->img->config.stop_signal
                                            : NULL;
  if (timeout_ms < 0)
    timeout_ms = svc && svc->stop_grace_period_ns >= 0 ? svc->stop_grace_period_ns / 1000000
                                                        : 10000;
  if (timeout_ms > 0)
    emit_kill(c, parse_signal(sig));
  if (timeout_ms == 0 || container_signal(c->rt, parse_signal(sig)) < 0) {
    on_stop_timeout(&c->timer);
    return;
  }
  uv_timer_start(&c->timer, on_stop_timeout, (uint64_t)timeout_ms, 0);
}

void sup_ctr_kill_now(struct supervisor *s, struct sup_ctr *c) {
  uv_timer_stop(&c->timer);
  c->pending_start = false;
  c->stopping = false;
  struct ps_container *r = record(c);
  bool had_vm = c->rt || c->adopted;
  if (c->adopted) {
    if (r && proc_is_same(r->qemu_pid, r->qemu_start_time))
      kill(r->qemu_pid, SIGKILL);
    unwatch(c);
  }
  if (c->rt) {
    /* no probe may reach the runner from here on, even a late callback */
    struct container *rt = c->rt;
    c->rt = NULL;
    container_free(rt);
  }
  if (had_vm && r) {
    r->status = CTR_EXITED;
    r->exit_code = 137;
    r->finished_ms = sup_wall_ms();
    forget_vm(r);
  }
  sup_ctrs_announce(s, c, SUP_CHANGE_ENDED, -1);
}

/* --- VMs of an earlier supervisor ----------------------------------------- */

static void on_poll_closed(uv_handle_t *h) {
  close(((uv_poll_t *)h)->io_watcher.fd);
  free(h);
}

static void unwatch(struct sup_ctr *c) {
  if (c->adopted == NULL)
    return;
  uv_poll_stop(c->adopted);
  uv_close((uv_handle_t *)c->adopted, on_poll_closed);
  c->adopted = NULL;
}

static void on_adopted_exit(uv_poll_t *h, int status, int events) {
  struct sup_ctr *c = h->data;
  struct ps_container *r = record(c);
  bool stopped = c->stopping;
  unwatch(c);
  c->stopping = false;
  uv_timer_stop(&c->timer);
  /* Not our child: its exit status is lost.  Docker says 255 for
   * containers that died with their daemon; a stop says 137. */
  int code = stopped ? 137 : 255;
  if (r) {
    jail_cgroup_release(r->qemu_pid); /* its per-VM cgroup (runtime/vm/jail_cgroup.h) */
    r->status = CTR_EXITED;
    r->exit_code = code;
    r->finished_ms = sup_wall_ms();
    r->health = HEALTH_NONE;
    forget_vm(r);
  }
  /* after the record: the networks go with the last VM that uses them */
  sup_net_detach(c->sup, c->name);
  ended(c, stopped, SUP_CHANGE_DIED, code);
}

static void watch_only(struct supervisor *s, struct ps_container *r);

void sup_adopt(struct supervisor *s, struct ps_container *r) {
  int pid = r->id ? container_vm_pid(r->id) : -ESRCH;
  if (pid < 0) {
    watch_only(s, r); /* perhaps a VM of a stack without pid files */
    return;
  }
  struct sup_ctr *c = sup_ctr_get(s, r->name, r->service);
  static const struct container_io io = {.output = on_output,
                                         .started = on_started,
                                         .exited = on_exited,
                                         .vm_state = on_vm_state,
                                         .attached = on_attached};
  struct container_adopt_opts o = {.id = r->id, .name = r->name, .pid = pid, .remove = true};
  _cleanup_error_ struct stack_error *err = NULL;
  uint64_t t;
  if (container_adopt(&s->loop, &o, &io, c, &c->rt, &err) < 0) {
    fprintf(stderr, "stack supervisor: %s; ending the VM\n", err->msg);
    /* a VM nobody can talk to holds its name and addresses: it goes, and
     * the record says the container died with its supervisor */
    container_vm_kill(r->id, KILL_WAIT_MS);
    forget_vm(r);
    if (r->status == CTR_RUNNING || r->status == CTR_PAUSED || r->status == CTR_RESTARTING) {
      r->status = CTR_EXITED;
      r->exit_code = 255;
      r->finished_ms = sup_wall_ms();
    }
    r->health = HEALTH_NONE;
    return;
  }
  c->ran = false; /* until the guest answers (on_attached()) */
  c->net_pending = true;
  c->attaching = true;
  c->started_at = uv_now(&s->loop);
  if (proc_start_time(pid, &t, NULL) == 0) {
    r->qemu_pid = pid;
    r->qemu_start_time = t;
  }
}

int sup_ctrs_reap_strays(struct supervisor *s) {
  _cleanup_strv_ char **ids = container_list_owned(s->paths.project);
  int n = 0;
  for (char **id = ids; *id; id++) {
    bool known = false;
    for (size_t i = 0; i < s->state->n_containers && !known; i++)
      known = s->state->containers[i].id && strcmp(s->state->containers[i].id, *id) == 0;
    if (known || container_vm_pid(*id) < 0)
      continue;
    fprintf(stderr, "stack supervisor: ending VM of container %.12s: no record names it\n", *id);
    if (container_vm_kill(*id, KILL_WAIT_MS) > 0)
      n++;
  }
  return n;
}

static void watch_only(struct supervisor *s, struct ps_container *r) {
  if (r->qemu_pid <= 0)
    return;
  int fd = (int)syscall(SYS_pidfd_open, r->qemu_pid, 0);
  if (fd < 0 || !proc_is_same(r->qemu_pid, r->qemu_start_time)) {
    if (fd >= 0)
      close(fd);
    return; /* reconcile() accounts for it */
  }
  struct sup_ctr *c = sup_ctr_get(s, r->name, r->service);
  c->adopted = xcalloc(1, sizeof(*c->adopted));
  uv_poll_init(&s->loop, c->adopted, fd);
  c->adopted->data = c;
  uv_poll_start(c->adopted, UV_READABLE, on_adopted_exit);
  fprintf(stderr, "stack supervisor: container %s: adopted its running VM (pid %d)\n", r->name,
          (int)r->qemu_pid);
}

bool sup_ctrs_attaching(const struct supervisor *s) {
  for (const struct sup_ctr *c = s->ctrs; c; c = c->next)
    if (c->attaching && c->rt)
      return true;
  return false;
}

bool sup_ctrs_adopted(const struct supervisor *s) {
  for (const struct sup_ctr *c = s->ctrs; c; c = c->next)
    if (c->adopted || c->net_pending)
      return true;
  return false;
}

void sup_ctrs_net_adopt(struct supervisor *s) {
  if (!sup_net_adopting(s))
    return;
  for (struct sup_ctr *c = s->ctrs; c; c = c->next) {
    const struct compose_service *svc = compose_project_service(s->project, c->service);
    if ((c->adopted == NULL && !c->net_pending) || svc == NULL)
      continue;
    c->net_pending = false;
    /* the VM is configured already: only the host side is wanted */
    struct container_opts unused = {0};
    _cleanup_error_ struct stack_error *e = NULL;
    if (sup_net_attach(s, c->name, svc, &unused, &e) < 0)
      fprintf(stderr, "stack supervisor: %s: %s\n", c->name, e->msg);
  }
}

/* --- recreation ----------------------------------------------------------- */

void sup_recreate_free(struct sup_recreate *rc) {
  if (rc == NULL)
    return;
  free(rc->config_hash);
  free(rc->image);
  free(rc->image_id);
  free(rc->command);
  free(rc);
}

bool sup_ctr_recreate_step(struct supervisor *s, struct sup_ctr *c) {
  struct sup_recreate *rc = c->recreate;
  if (rc == NULL)
    return true;
  struct ps_container *r = record(c);
  if (c->rt || c->adopted || (r && r->status == CTR_RESTARTING)) {
    /* as `stop` does; the VM's end steps it again (EXITED, DIED) */
    sup_ctr_stop(s, c, rc->timeout_ms);
    if (c->rt || c->adopted)
      return false;
  }
  c->recreate = NULL;
  if (rc->restart_only || r == NULL) {
    c->pending_start = true;
    c->start_failed = false;
    c->rs = (struct restart_state){0};
    if (r)
      r->user_stopped = false;
  } else {
    _cleanup_free_ char *name = xstrdup(c->name), *service = xstrdup(c->service);
    unsigned number = r->number;
    sup_ctr_remove(s, name); /* "destroy"; c goes */
    _cleanup_error_ struct stack_error *verr = NULL;
    if (rc->renew_anon && sup_volumes_remove_anon(name, &verr) < 0)
      fprintf(stderr, "stack supervisor: %s: its anonymous volumes stay: %s\n", name, verr->msg);
    struct ps_container *nr = project_state_add(s->state, name, service, number);
    nr->config_hash = steal_pointer(&rc->config_hash);
    nr->image = steal_pointer(&rc->image);
    nr->image_id = steal_pointer(&rc->image_id);
    nr->command = steal_pointer(&rc->command);
    nr->created_ms = sup_wall_ms();
    sup_emit(s, sup_container_event(s, nr, "create"));
    struct sup_ctr *nc = sup_ctr_get(s, name, service);
    nc->img = rc->img;
    nc->policy = rc->policy;
    nc->pending_start = true;
  }
  sup_recreate_free(rc);
  sup_save(s, NULL);
  return true;
}

/* --- removal -------------------------------------------------------------- */

static void on_ctr_timer_closed(uv_handle_t *h) {
  struct sup_ctr *c = h->data;
  if (--c->open_handles > 0)
    return;
  health_config_clear(&c->hc);
  sup_recreate_free(c->recreate);
  sup_log_clear(&c->log);
  free(c->name);
  free(c->service);
  free(c->error);
  free(c->vm_message);
  free(c->pause_fs);
  strv_free(c->gate_only);
  free(c);
}

void sup_ctr_forget(struct supervisor *s, const char *name) {
  _cleanup_free_ char *layer = NULL, *binds = NULL;
  sup_paths_layer(&s->paths, name, &layer, NULL);
  sup_paths_binds(&s->paths, name, &binds, NULL);
  for (struct sup_ctr **pp = &s->ctrs; *pp; pp = &(*pp)->next) {
    struct sup_ctr *c = *pp;
    if (strcmp(c->name, name) != 0)
      continue;
    sup_ctr_kill_now(s, c);
    *pp = c->next;
    sup_net_forget(s, name);
    uv_close((uv_handle_t *)&c->timer, on_ctr_timer_closed);
    uv_close((uv_handle_t *)&c->hc_timer, on_ctr_timer_closed);
    break;
  }
  /* its VM is gone (killed above): the writable layer goes too */
  if (layer)
    unlink(layer);
  if (binds)
    fs_rm_rf(binds, NULL);
}

void sup_ctr_remove(struct supervisor *s, const char *name) {
  _cleanup_free_ char *copy = xstrdup(name); /* name may be the record's */
  sup_emit_container(s, copy, "destroy", -1);
  sup_ctr_forget(s, copy);
  sup_logs_remove(s, copy);
  project_state_remove(s->state, copy);
}

void sup_ctrs_free(struct supervisor *s) {
  for (struct sup_ctr *c = s->ctrs, *next; c; c = next) {
    next = c->next;
    sup_ctr_kill_now(s, c);
    uv_close((uv_handle_t *)&c->timer, on_ctr_timer_closed);
    uv_close((uv_handle_t *)&c->hc_timer, on_ctr_timer_closed);
  }
  s->ctrs = NULL;
}
