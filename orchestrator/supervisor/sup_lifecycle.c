/* Containers on the supervisor's loop: start through the container runner,
 * output, exit, restart by policy, user stops, dependency gates and the
 * requests that wait for them. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "dep_gate.h"
#include "procinfo.h"
#include "health.h"
#include "naming.h"
#include "orchestrator/compose/compose_model.h"
#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/state_path.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"
#include "runtime/vm/jail_cgroup.h"
#include "runtime/vm/vm.h"
#include "sup_ctr_opts.h"
#include "sup_net.h"
#include "sup_server.h"
#include "unhonoured.h"

#define KILL_WAIT_MS 5000 /* after SIGKILL, before the VM is killed from outside */

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
  c->log_fd = -1;
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

static void changed(struct sup_ctr *c, const char *action, int exit_code) {
  struct supervisor *s = c->sup;
  if (action)
    sup_emit_container(s, c->name, action, exit_code);
  sup_save(s, NULL);
  sup_progress(s);
}

static void forget_vm(struct ps_container *r) {
  if (r) {
    r->qemu_pid = 0;
    r->qemu_start_time = 0;
  }
}

/* --- the runner's callbacks ---------------------------------------------- */

static void on_output(void *data, int fd, const uint8_t *p, size_t n) {
  struct sup_ctr *c = data;
  sup_log_bytes(c->sup, c, fd, p, n);
}

/* Notes the VM's QEMU (pid and start time) in the state, so that a
 * supervisor started after this one dies finds it. */
static void record_vm(struct sup_ctr *c, struct ps_container *r) {
  /* QEMU is our child, running with -name guest=<container name> */
  _cleanup_free_ char *needle = xasprintf("-name guest=%s ", c->name);
  pid_t pid;
  uint64_t t;
  if (proc_find_cmdline(needle, getpid(), &pid) == 0 && proc_start_time(pid, &t, NULL) == 0) {
    r->qemu_pid = pid;
    r->qemu_start_time = t;
  }
}

static void on_started(void *data) {
  struct sup_ctr *c = data;
  c->ran = true;
  struct ps_container *r = record(c);
  if (r) {
    r->status = CTR_RUNNING;
    r->started_ms = sup_wall_ms();
    r->exit_code = 0;
    record_vm(c, r); /* QEMU surely runs by now */
  }
  sup_health_start(c->sup, c);
  changed(c, "start", -1);
}

static void after_exit(uv_timer_t *t);

static void on_exited(void *data, const struct container_status *st) {
  struct sup_ctr *c = data;
  sup_log_flush(c->sup, c);
  if (st->error) {
    _cleanup_free_ char *msg = xasprintf("stack: %s", st->error);
    sup_log_line(c->sup, c, 2, msg, strlen(msg));
    fprintf(stderr, "stack supervisor: container %s: %s\n", c->name, st->error);
  }
  if (!c->ran && st->error) {
    c->start_failed = true;
    free(c->error);
    c->error = xstrdup(st->error);
  }
  c->exit_code = st->exit_code;
  c->crashed = st->error != NULL && c->ran;
  sup_health_stop(c);
  struct ps_container *r = record(c);
  if (r) {
    r->status = CTR_EXITED;
    r->exit_code = st->exit_code;
    r->finished_ms = sup_wall_ms();
    r->health = HEALTH_NONE;
    forget_vm(r);
  }
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
  sup_log_exit(s, c, c->exit_code);
  changed(c, "die", c->exit_code);
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
  return sup_ctr_layer_path(s, name, out, err);
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
    if ((ret = sup_ctr_opts_build(s, svc, c->name, c, NULL, &b, err)) < 0)
      goto failed;
    struct container_opts *o = &b.o;
    /* the container's writable layer outlives its VM, as a Docker
     * container's does across stop/start and restarts; it goes when the
     * container is removed or recreated (sup_ctr_forget()) */
    _cleanup_free_ char *layer = NULL;
    if ((ret = prepare_layer(s, c->name, &layer, err)) < 0)
      goto failed;
    o->data_disk = layer;
    static const struct container_io io = {on_output, on_started, on_exited};
    if ((ret = sup_health_configure(s, c, err)) < 0 ||
        (ret = sup_net_attach(s, c->name, svc, o, err)) < 0)
      goto failed;
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
  changed(c, "die", CONTAINER_EXIT_FAILED);
  return ret;
}

static void on_kill_timeout(uv_timer_t *t) {
  struct sup_ctr *c = t->data;
  /* the guest did not end after SIGKILL: take the VM away */
  fprintf(stderr, "stack supervisor: container %s: the VM did not stop; killing it\n", c->name);
  sup_ctr_kill_now(c->sup, c);
  changed(c, "die", 137);
}

static void on_stop_timeout(uv_timer_t *t) {
  struct sup_ctr *c = t->data;
  if (c->rt == NULL || container_signal(c->rt, SIGKILL) < 0) {
    on_kill_timeout(t);
    return;
  }
  uv_timer_start(&c->timer, on_kill_timeout, KILL_WAIT_MS, 0);
}

static void on_adopted_timeout(uv_timer_t *t) {
  struct sup_ctr *c = t->data;
  struct ps_container *r = record(c);
  if (c->adopted && r && proc_is_same(r->qemu_pid, r->qemu_start_time))
    kill(r->qemu_pid, SIGKILL);
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
  sup_pause_resume_quiet(s, c); /* a paused guest would not see the signal */
  const struct compose_service *svc =
      s->project ? compose_project_service(s->project, c->service) : NULL;
  const char *sig = svc && svc->stop_signal ? svc->stop_signal
                    : c->img                ? c->img->config.stop_signal
                                            : NULL;
  if (timeout_ms < 0)
    timeout_ms = svc && svc->stop_grace_period_ns >= 0 ? svc->stop_grace_period_ns / 1000000
                                                        : 10000;
  if (timeout_ms == 0 || container_signal(c->rt, parse_signal(sig)) < 0) {
    on_stop_timeout(&c->timer);
    return;
  }
  uv_timer_start(&c->timer, on_stop_timeout, (uint64_t)timeout_ms, 0);
}

void sup_ctr_kill_now(struct supervisor *s, struct sup_ctr *c) {
  uv_timer_stop(&c->timer);
  sup_health_stop(c);
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
    container_free(c->rt);
    c->rt = NULL;
  }
  if (had_vm && r) {
    r->status = CTR_EXITED;
    r->exit_code = 137;
    r->finished_ms = sup_wall_ms();
    forget_vm(r);
  }
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
  sup_net_detach(c->sup, c->name);
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
  changed(c, "die", code);
}

void sup_adopt(struct supervisor *s, struct ps_container *r) {
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

/* --- gates and waiting requests ------------------------------------------ */

static void fail_jobs(struct supervisor *s, const char *name, const char *msg);

enum dep_verdict sup_service_gate(struct supervisor *s, const struct compose_service *svc,
                                  const char *name, char **error, char ***warnings) {
  _cleanup_free_ struct dep_input *deps = xcalloc(svc->n_depends_on + 1, sizeof(*deps));
  _cleanup_free_ struct dep_container *all =
      xcalloc(s->state->n_containers + 1, sizeof(*all));
  size_t n = 0, used = 0;
  for (size_t i = 0; i < svc->n_depends_on; i++) {
    const struct compose_dependency *d = &svc->depends_on[i];
    const struct compose_service *ds = compose_project_service(s->project, d->service);
    if (ds == NULL)
      continue; /* disabled by a profile */
    struct dep_input *in = &deps[n++];
    in->service = d->service;
    in->condition = d->condition == COMPOSE_DEP_HEALTHY               ? DEP_HEALTHY
                    : d->condition == COMPOSE_DEP_COMPLETED_SUCCESSFULLY ? DEP_COMPLETED_OK
                                                                       : DEP_STARTED;
    in->required = d->required;
    in->containers = all + used;
    for (size_t k = 0; k < s->state->n_containers; k++) {
      const struct ps_container *r = &s->state->containers[k];
      /* one-off containers (`run SERVICE`, number 0) are not the service */
      if (strcmp(r->service, d->service) != 0 || r->number == 0)
        continue;
      struct sup_ctr *dc = sup_ctr_find(s, r->name);
      struct dep_container *x = &all[used++];
      x->name = r->name;
      x->status = r->status;
      /* a container that waits or boots has not started yet */
      if (dc && (dc->pending_start || (dc->rt && !dc->ran)))
        x->status = CTR_CREATED;
      x->exit_code = r->exit_code;
      x->start_failed = dc && dc->start_failed;
      /* known once it started: before that it waits anyway */
      x->has_healthcheck = dc && dc->hc.argv != NULL;
      x->health = r->health;
      in->n_containers++;
    }
    /* No container at all: not part of this run (--no-deps), nothing to
     * wait for. */
    in->scale = (unsigned)in->n_containers;
  }
  return dep_gate(name, deps, n, error, warnings);
}

/* Judges one waiting container's dependencies. */
static enum dep_verdict gate(struct supervisor *s, struct sup_ctr *c, char **error) {
  const struct compose_service *svc = compose_project_service(s->project, c->service);
  *error = NULL;
  if (svc == NULL)
    return DEP_GO;
  _cleanup_strv_ char **warnings = NULL;
  enum dep_verdict v = sup_service_gate(s, svc, c->name, error, &warnings);
  for (size_t i = 0; warnings && warnings[i]; i++) {
    _cleanup_free_ char *w = xasprintf("WARNING: %s", warnings[i]);
    sup_log_line(s, c, 2, w, strlen(w));
  }
  return v;
}

static bool job_has(const struct sup_job *j, const char *name) {
  for (size_t i = 0; j->names[i]; i++)
    if (strcmp(j->names[i], name) == 0)
      return true;
  return false;
}

static void job_free(struct sup_job *j) {
  cJSON_Delete(j->id);
  strv_free(j->names);
  strv_free(j->watch);
  free(j);
}

static void job_unlink(struct supervisor *s, struct sup_job *j) {
  for (struct sup_job **pp = &s->jobs; *pp; pp = &(*pp)->next)
    if (*pp == j) {
      *pp = j->next;
      break;
    }
  if (j->attached && j->conn->logs_id) {
    cJSON_Delete(j->conn->logs_id);
    j->conn->logs_id = NULL;
    strv_free(j->conn->logs_services);
    j->conn->logs_services = NULL;
  }
}

static void fail_jobs(struct supervisor *s, const char *name, const char *msg) {
  for (struct sup_job *j = s->jobs, *next; j; j = next) {
    next = j->next;
    if (j->is_stop || !job_has(j, name))
      continue;
    job_unlink(s, j);
    sup_conn_send(j->conn, sup_format_error(j->id, -EIO, msg));
    job_free(j);
  }
}

/* Whether an attached up waits for container name to stop: those of the
 * attached services, or all when no service is attached. */
static bool job_watches(const struct sup_job *j, const char *name) {
  if (j->watch == NULL || j->watch[0] == NULL)
    return true;
  for (size_t i = 0; j->watch[i]; i++)
    if (strcmp(j->watch[i], name) == 0)
      return true;
  return false;
}

static bool job_done(struct supervisor *s, const struct sup_job *j, char **failure) {
  for (size_t i = 0; j->names[i]; i++) {
    struct sup_ctr *c = sup_ctr_find(s, j->names[i]);
    if (c == NULL)
      continue;
    if (c->pending_start)
      return false;
    if (!j->is_stop && c->start_failed && !*failure) {
      *failure = xasprintf("Error response from daemon: container %s could not be started: %s",
                           c->name, c->error ? c->error : "unknown error");
      /* attached, as with Compose: say so now, not once the others stop */
      if (j->attached)
        return true;
    }
    if (j->is_stop || (j->attached && job_watches(j, c->name))) {
      struct ps_container *r = record(c);
      if (c->rt || c->adopted || (r && r->status == CTR_RESTARTING))
        return false;
    } else if (c->rt && !c->ran) {
      return false;
    } else if (j->wait) {
      /* --wait: running (no health check can be run yet, see gate()) */
      struct ps_container *r = record(c);
      if (r && r->status == CTR_RESTARTING)
        return false;
      if (!c->rt && !*failure)
        *failure = xasprintf("container %s exited (%d)", c->name, r ? r->exit_code : -1);
      else if (c->rt && c->hs.status == HEALTH_STARTING)
        return false;
      else if (c->rt && c->hs.status == HEALTH_UNHEALTHY && !*failure)
        *failure = xasprintf("container %s is unhealthy", c->name);
    }
  }
  return true;
}

static cJSON *job_result(struct supervisor *s, const struct sup_job *j) {
  cJSON *res = cJSON_CreateObject();
  cJSON *arr = cJSON_AddArrayToObject(res, "containers");
  for (size_t i = 0; j->names[i]; i++) {
    struct ps_container *r = project_state_find(s->state, j->names[i]);
    if (r == NULL)
      continue;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddStringToObject(o, "service", r->service);
    cJSON_AddStringToObject(o, "status", ctr_status_name(r->status));
    cJSON_AddNumberToObject(o, "exit_code", r->exit_code);
    cJSON_AddItemToArray(arr, o);
  }
  return res;
}

/* Whether a container of the job still runs that depends on c's service:
 * stopping goes in reverse dependency order. */
static bool dependents_run(struct supervisor *s, const struct sup_job *j, const struct sup_ctr *c) {
  for (size_t i = 0; s->project && j->names[i]; i++) {
    struct sup_ctr *o = sup_ctr_find(s, j->names[i]);
    const struct compose_service *svc =
        o && (o->rt || o->adopted) ? compose_project_service(s->project, o->service) : NULL;
    for (size_t k = 0; svc && k < svc->n_depends_on; k++)
      if (strcmp(svc->depends_on[k].service, c->service) == 0)
        return true;
  }
  return false;
}

static void stop_step(struct supervisor *s, struct sup_job *j) {
  for (size_t i = 0; j->names[i]; i++) {
    struct sup_ctr *c = sup_ctr_find(s, j->names[i]);
    if (c == NULL || c->stopping)
      continue;
    if (c->rt == NULL || !dependents_run(s, j, c))
      sup_ctr_stop(s, c, j->timeout_ms);
  }
}

void sup_progress(struct supervisor *s) {
  sup_run_progress(s);
  if (s->stopping)
    return; /* no container or request is left to wait for */
  for (struct sup_job *j = s->jobs; j; j = j->next)
    if (j->is_stop)
      stop_step(s, j);
  if (s->project) {
    for (struct sup_ctr *c = s->ctrs; c; c = c->next) {
      if (!c->pending_start)
        continue;
      _cleanup_free_ char *error = NULL;
      enum dep_verdict v = gate(s, c, &error);
      if (v == DEP_WAIT)
        continue;
      c->pending_start = false;
      if (v == DEP_FAIL) {
        fprintf(stderr, "stack supervisor: %s: %s\n", c->name, error);
        fail_jobs(s, c->name, error);
        continue;
      }
      _cleanup_error_ struct stack_error *err = NULL;
      if (sup_ctr_start(s, c, &err) < 0) {
        fprintf(stderr, "stack supervisor: %s\n", err->msg);
        return; /* sup_ctr_start() came back here already */
      }
    }
  }
  for (struct sup_job *j = s->jobs, *next; j; j = next) {
    next = j->next;
    _cleanup_free_ char *failure = NULL;
    if (!job_done(s, j, &failure))
      continue;
    job_unlink(s, j);
    char *reply = failure ? sup_format_error(j->id, -EIO, failure)
                          : sup_format_result(j->id, job_result(s, j));
    if (failure && sup_rollback_due(s, j)) {
      sup_rollback(s, j->conn, reply); /* every other job is gone with it */
      job_free(j);
      return;
    }
    sup_conn_send(j->conn, reply);
    job_free(j);
  }
}

void sup_jobs_conn_gone(struct supervisor *s, struct sup_conn *conn) {
  for (struct sup_job *j = s->jobs, *next; j; j = next) {
    next = j->next;
    if (j->conn != conn)
      continue;
    for (struct sup_job **pp = &s->jobs; *pp; pp = &(*pp)->next)
      if (*pp == j) {
        *pp = j->next;
        break;
      }
    job_free(j);
  }
}

static void on_ctr_timer_closed(uv_handle_t *h) {
  struct sup_ctr *c = h->data;
  if (--c->open_handles > 0)
    return;
  health_config_clear(&c->hc);
  for (int i = 0; i < 3; i++)
    sbuf_free(&c->line[i]);
  free(c->name);
  free(c->service);
  free(c->error);
  if (c->log_fd >= 0)
    close(c->log_fd);
  free(c);
}

int sup_ctr_layer_path(const struct supervisor *s, const char *name, char **out,
                       struct stack_error **err) {
  _cleanup_free_ char *file = xasprintf("%s.img", name);
  return state_path_join(s->paths.state_dir, (const char *const[]){"layers", file, NULL}, out,
                         err);
}

int sup_ctr_binds_dir(const struct supervisor *s, const char *name, char **out,
                      struct stack_error **err) {
  return state_path_join(s->paths.state_dir, (const char *const[]){"binds", name, NULL}, out,
                         err);
}

void sup_ctr_forget(struct supervisor *s, const char *name) {
  _cleanup_free_ char *layer = NULL, *binds = NULL;
  sup_ctr_layer_path(s, name, &layer, NULL);
  sup_ctr_binds_dir(s, name, &binds, NULL);
  for (struct sup_ctr **pp = &s->ctrs; *pp; pp = &(*pp)->next) {
    struct sup_ctr *c = *pp;
    if (strcmp(c->name, name) != 0)
      continue;
    *pp = c->next;
    sup_ctr_kill_now(s, c);
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

void sup_lifecycle_free(struct supervisor *s) {
  for (struct sup_ctr *c = s->ctrs, *next; c; c = next) {
    next = c->next;
    sup_ctr_kill_now(s, c);
    uv_close((uv_handle_t *)&c->timer, on_ctr_timer_closed);
    uv_close((uv_handle_t *)&c->hc_timer, on_ctr_timer_closed);
  }
  s->ctrs = NULL;
  for (struct sup_job *j = s->jobs, *next; j; j = next) {
    next = j->next;
    job_free(j);
  }
  s->jobs = NULL;
  for (size_t i = 0; i < s->n_images; i++) {
    free(s->images[i].ref);
    image_handle_free(s->images[i].h);
  }
  free(s->images);
  s->images = NULL;
  s->n_images = 0;
  compose_project_free(s->project);
  s->project = NULL;
}
