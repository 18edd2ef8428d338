/* A one-off container of a service,
 * owned by the project's supervisor like the service's own containers (on
 * the project's networks with DNS, in `ps`, stopped by `stop`, removed by
 * `down`), named "<project>-<service>-run-<12 hex>" and recorded with
 * number 0 so that nothing takes it for a replica.  It starts once its
 * service's dependencies meet their conditions (the CLI brought them up
 * with `up` first, unless --no-deps), with the request's overrides of the
 * command, entrypoint, environment, user, working directory and ports.
 * Its stdio streams to the connection like an exec session's ("output"
 * events, exec_stdin/exec_resize/exec_signal notifications); the result is
 * its exit code.
 *
 * A run keeps no pointer into the service model (a later `up` replaces
 * it) and finds its connection only among the supervisor's live ones: the
 * client may go away at any time, the container goes on. */
#include "sup_run.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "dep_gate.h"
#include "naming.h"
#include "orchestrator/compose/compose_cli_specs.h"
#include "orchestrator/compose/compose_host_paths.h"
#include "orchestrator/compose/compose_model.h"
#include "procinfo.h"
#include "runtime/image/image.h"
#include "runtime/util/base64.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"
#include "runtime/vm/vm.h"
#include "service_resources.h"
#include "sup_conn.h"
#include "sup_ctr_opts.h"
#include "sup_ctrs.h"
#include "sup_events.h"
#include "sup_gate.h"
#include "sup_logs.h"
#include "sup_net.h"
#include "sup_project.h"

/* The run is re-evaluated when something changes (sup_run_on_change(), and
 * a closed connection); this slow tick is only a safety net for a change
 * that reaches it another way. */
#define RUN_TICK_MS 1000

enum run_phase { RUN_WAITING, RUN_RUNNING, RUN_EXITED };

struct sup_run {
  struct supervisor *sup;
  struct sup_run *next;
  struct sup_conn *conn; /* check with conn_live() before use */
  cJSON *id;
  char *name, *service;
  /* overrides; NULL: the service's */
  char **cmd, **entrypoint, **env;
  char *user, *workdir;
  char **cap_add, **cap_drop; /* added to the service's */
  struct compose_project *volumes; /* -v: its one service's volumes, or NULL */
  bool tty, interactive, detach, remove, service_ports, use_aliases;
  struct compose_project *ports; /* -p: its one service's ports, or NULL */
  unsigned rows, cols;
  enum run_phase phase;
  struct container *rt;
  struct sbuf pending_in; /* stdin sent before the VM started */
  bool pending_eof;
  bool answered;
  int exit_code;
  char *error; /* why it failed to start or ended abnormally */
  uv_timer_t tick;
};

/* --- small helpers -------------------------------------------------------- */

/* -v's bind mounts follow the Compose file's rule (compose_host_paths.h):
 * the service or the project must allow a sensitive host path. */
static int check_host_paths(struct supervisor *s, const struct compose_service *svc,
                            const struct compose_project *vols, struct stack_error **err) {
  if (compose_host_paths_allowed(s->project ? s->project->tree : NULL, svc ? svc->node : NULL))
    return 0;
  for (size_t i = 0; vols->n_services && i < vols->services[0].n_volumes; i++) {
    const struct compose_mount *m = &vols->services[0].volumes[i];
    if (!m->type || strcmp(m->type, "bind") != 0)
      continue;
    _cleanup_free_ char *why = compose_host_path_sensitive(m->source, NULL);
    if (why) {
      _cleanup_free_ char *msg = compose_host_path_refusal(m->source, why, m->read_only);
      return stack_error_set(err, -EPERM, "-v/--volume: %s", msg);
    }
  }
  return 0;
}

/* svc with -v's volumes: each replaces the service's of the same target,
 * or comes after them (*sv and *mounts hold the copy; the strings stay
 * svc's and the run's) */
static const struct compose_service *with_volumes(struct compose_service *sv,
                                                  const struct compose_service *svc,
                                                  const struct sup_run *run,
                                                  struct compose_mount **mounts) {
  if (run->volumes == NULL || run->volumes->n_services == 0)
    return svc;
  const struct compose_service *v = &run->volumes->services[0];
  struct compose_mount *m = xcalloc(svc->n_volumes + v->n_volumes + 1, sizeof(*m));
  size_t n = 0;
  for (size_t i = 0; i < svc->n_volumes; i++) {
    bool replaced = false;
    for (size_t k = 0; k < v->n_volumes && !replaced; k++)
      replaced = strcmp(v->volumes[k].target, svc->volumes[i].target) == 0;
    if (!replaced)
      m[n++] = svc->volumes[i];
  }
  for (size_t k = 0; k < v->n_volumes; k++)
    m[n++] = v->volumes[k];
  *sv = *svc;
  sv->volumes = m;
  sv->n_volumes = n;
  *mounts = m;
  return sv;
}


static unsigned json_uint(const cJSON *p, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
  return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 65536
             ? (unsigned)v->valuedouble
             : 0;
}

/* The connection, if it is still one of the supervisor's and still ours:
 * a connection that closed is freed, and a new one at the same address
 * has another run (or none). */
static struct sup_conn *conn_live(struct sup_run *run) {
  for (struct sup_conn *c = run->sup->conns; c; c = c->next)
    if (c == run->conn && c->run == run && !c->closing)
      return c;
  return NULL;
}

static void reply(struct sup_run *run, char *line) {
  struct sup_conn *c = conn_live(run);
  run->answered = true;
  if (c)
    sup_conn_send(c, line);
  else
    free(line);
}

/* Whether every port of p's one service is tcp or udp (what a VM's
 * network publishes). */
static bool ports_supported(const struct compose_project *p) {
  const struct compose_service *v = p->n_services ? &p->services[0] : NULL;
  for (size_t i = 0; v && i < v->n_ports; i++)
    if (strcmp(v->ports[i].protocol, "tcp") != 0 && strcmp(v->ports[i].protocol, "udp") != 0)
      return false;
  return true;
}

/* -p: read as a Compose file's short port syntax ("[IP:][HOST:]CONTAINER
 * [/PROTO]", HOST may be a range), all into *out; an error names the
 * first spec that is wrong. */
static int parse_publish(char **specs, struct compose_project **out, struct stack_error **err) {
  size_t n = 0;
  while (specs && specs[n])
    n++;
  if (n == 0)
    return 0;
  if (compose_port_specs(specs, n, out, NULL) == 0 && ports_supported(*out))
    return 0;
  compose_project_free(*out);
  *out = NULL;
  for (size_t i = 0; i < n; i++) {
    _cleanup_compose_project_ struct compose_project *one = NULL;
    if (compose_port_specs(&specs[i], 1, &one, NULL) < 0 || !ports_supported(one))
      return stack_error_set(err, -EINVAL,
                             "invalid --publish \"%s\": use "
                             "[IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]",
                             specs[i]);
  }
  return stack_error_set(err, -EINVAL, "invalid --publish: use "
                                       "[IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]");
}

/* --- the end of a run ----------------------------------------------------- */

/* What a run owns from its request. */
static void run_fields_free(struct sup_run *run) {
  free(run->name);
  free(run->service);
  strv_free(run->cmd);
  strv_free(run->entrypoint);
  strv_free(run->env);
  free(run->user);
  free(run->workdir);
  strv_free(run->cap_add);
  strv_free(run->cap_drop);
  compose_project_free(run->volumes);
  compose_project_free(run->ports);
}

static void on_tick_closed(uv_handle_t *h) {
  struct sup_run *run = h->data;
  cJSON_Delete(run->id);
  run_fields_free(run);
  sbuf_free(&run->pending_in);
  free(run->error);
  free(run);
}

static void run_free(struct sup_run *run) {
  struct supervisor *s = run->sup;
  struct sup_conn *c = conn_live(run);
  if (c)
    c->run = NULL;
  for (struct sup_run **pp = &s->runs; *pp; pp = &(*pp)->next)
    if (*pp == run) {
      *pp = run->next;
      break;
    }
  uv_close((uv_handle_t *)&run->tick, on_tick_closed);
}

/* After the process ended (or the VM was taken away, or it never
 * started): the record says exited, the client gets the exit code, and
 * with --rm the container goes. */
static void run_finish(struct sup_run *run) {
  struct supervisor *s = run->sup;
  struct sup_ctr *c = sup_ctr_find(s, run->name);
  if (c && run->rt && c->rt == run->rt) {
    container_free(run->rt);
    c->rt = NULL;
  }
  run->rt = NULL;
  if (c) {
    c->stopping = false;
    uv_timer_stop(&c->timer); /* a stop's SIGKILL timer */
  }
  struct ps_container *r = project_state_find(s->state, run->name);
  if (r && r->status != CTR_EXITED) {
    r->status = CTR_EXITED;
    r->exit_code = run->exit_code;
    r->finished_ms = sup_wall_ms();
    r->qemu_pid = 0;
    r->qemu_start_time = 0;
  }
  /* after the record: the networks go with the last VM that uses them */
  sup_net_detach(s, run->name);
  if (!run->answered) {
    if (run->error && run->phase == RUN_WAITING) {
      reply(run, sup_format_error(run->id, -EIO, run->error));
    } else {
      cJSON *res = cJSON_CreateObject();
      cJSON_AddStringToObject(res, "name", run->name);
      cJSON_AddNumberToObject(res, "exit_code", run->exit_code);
      if (run->error)
        cJSON_AddStringToObject(res, "error", run->error);
      reply(run, sup_format_result(run->id, res));
    }
  }
  sup_emit_container(s, run->name, "die", run->exit_code);
  if (run->remove && r)
    sup_ctr_remove(s, run->name);
  run_free(run);
  sup_save(s, NULL);
  sup_ctrs_changed(s);
}

/* --- the runner's callbacks ----------------------------------------------- */

static void on_output(void *data, int fd, const uint8_t *p, size_t n) {
  struct sup_run *run = data;
  if (n == 0 || (fd != 1 && fd != 2))
    return;
  struct sup_conn *conn = run->detach ? NULL : conn_live(run);
  if (conn) {
    _cleanup_free_ char *b64 = b64_encode(p, n);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "type", "output");
    cJSON_AddNumberToObject(ev, "fd", fd);
    cJSON_AddStringToObject(ev, "data", b64);
    sup_conn_send(conn, sup_format_event(run->id, ev));
    return;
  }
  /* detached (or the client went): into the container's log, where
   * `stack logs` finds it */
  struct sup_ctr *c = sup_ctr_find(run->sup, run->name);
  if (c)
    sup_log_bytes(run->sup, &c->log, fd, p, n);
}

static void on_started(void *data) {
  struct sup_run *run = data;
  struct supervisor *s = run->sup;
  if (run->detach && !run->answered) {
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "name", run->name);
    reply(run, sup_format_result(run->id, res));
  }
  /* recorded, its health check started (as Compose's run), announced */
  struct sup_ctr *c = sup_ctr_find(s, run->name);
  if (c)
    sup_ctr_mark_started(s, c);
}

/* recorded by the table; its client is told (it may give up waiting) */
static void on_vm_state(void *data, const struct container_vm_state *st) {
  struct sup_run *run = data;
  struct sup_ctr *c = sup_ctr_find(run->sup, run->name);
  if (c == NULL)
    return;
  sup_ctr_mark_vm_state(run->sup, c, st);
  struct sup_conn *conn = run->detach ? NULL : conn_live(run);
  if (conn)
    sup_conn_send(conn, sup_format_event(run->id, sup_ctr_vm_event(c, st->paused)));
}

static void run_tick(uv_timer_t *t);

static void on_exited(void *data, const struct container_status *st) {
  struct sup_run *run = data;
  struct sup_ctr *c = sup_ctr_find(run->sup, run->name);
  if (c)
    sup_ctr_mark_ended(run->sup, c); /* its last output, no more timers or probes */
  run->exit_code = st->exit_code;
  if (st->error) {
    free(run->error);
    run->error = xstrdup(st->error);
    fprintf(stderr, "stack supervisor: container %s: %s\n", run->name, st->error);
  }
  run->phase = RUN_EXITED;
  /* the runner is freed outside its own callback */
  uv_timer_start(&run->tick, run_tick, 0, RUN_TICK_MS);
}

/* --- start ---------------------------------------------------------------- */

/* Whether the service's dependencies let it start now, as the supervisor
 * gates a service's own containers (sup_service_gate()). */
static enum dep_verdict run_gate(struct supervisor *s, const struct compose_service *svc,
                                 const char *name, char **error) {
  _cleanup_strv_ char **warnings = NULL;
  enum dep_verdict v = sup_service_gate(s, svc, name, NULL, error, &warnings);
  for (size_t i = 0; warnings && warnings[i]; i++)
    fprintf(stderr, "stack supervisor: %s: %s\n", name, warnings[i]);
  return v;
}

static int run_start(struct sup_run *run, const struct compose_service *svc,
                     struct stack_error **err) {
  struct supervisor *s = run->sup;
  struct sup_ctr *c = sup_ctr_find(s, run->name);
  if (c == NULL || c->img == NULL)
    return stack_error_set(err, -ENOENT, "container %s was removed before it started", run->name);
  /* the service's options, with the run's additions and overrides */
  struct compose_service sv;
  _cleanup_free_ struct compose_mount *extra_mounts = NULL;
  const struct sup_ctr_extra extra = {
      .env = run->env,
      .cap_add = run->cap_add,
      .cap_drop = run->cap_drop,
      .volumes_from = with_volumes(&sv, svc, run, &extra_mounts),
  };
  __attribute__((cleanup(sup_ctr_opts_clear))) struct sup_ctr_opts b = {0};
  int r = sup_ctr_opts_build(s, svc, run->name, sup_crowded(s, NULL, sup_service_cpus(svc)),
                             &extra, &b, err);
  if (r < 0)
    return r;
  struct container_opts *o = &b.o;
  if (run->entrypoint)
    o->entrypoint = run->entrypoint;
  if (run->cmd)
    o->cmd = run->cmd;
  if (run->user)
    o->user = run->user;
  if (run->workdir)
    o->workdir = run->workdir;
  o->tty = run->tty;
  o->interactive = run->interactive;
  o->rows = run->rows;
  o->cols = run->cols;
  /* Compose publishes no port of the service unless --service-ports;
   * -p publishes its own */
  struct compose_service v = *svc;
  if (!run->service_ports) {
    const struct compose_service *pub = run->ports ? &run->ports->services[0] : NULL;
    v.ports = pub ? pub->ports : NULL;
    v.n_ports = pub ? pub->n_ports : 0;
  }
  /* DNS: the run container answers to its own name only, not to the
   * service's name, container_name, hostname or aliases; with
   * --use-aliases, as Compose, to the service's name and aliases too */
  if (!run->use_aliases)
    v.name = run->name;
  v.container_name = NULL;
  v.hostname = NULL;
  _cleanup_free_ struct compose_service_network *nets =
      xcalloc(svc->n_networks + 1, sizeof(*nets));
  for (size_t i = 0; i < svc->n_networks; i++) {
    nets[i] = svc->networks[i];
    if (!run->use_aliases)
      nets[i].aliases = NULL;
  }
  v.networks = nets;
  if ((r = sup_net_attach(s, run->name, &v, o, err)) < 0)
    return r;
  if ((r = sup_ctr_health_configure(s, c, err)) < 0) {
    sup_net_detach(s, run->name);
    return r;
  }
  static const struct container_io io = {
      .output = on_output, .started = on_started, .exited = on_exited, .vm_state = on_vm_state};
  c->ran = false;
  c->start_failed = false;
  c->started_at = uv_now(&s->loop);
  if ((r = container_start(&s->loop, c->img, o, &io, run, &run->rt, err)) < 0) {
    sup_net_detach(s, run->name);
    return r;
  }
  c->rt = run->rt;
  run->phase = RUN_RUNNING;
  if (run->pending_in.len)
    container_write_stdin(run->rt, run->pending_in.data, run->pending_in.len);
  if (run->pending_eof)
    container_write_stdin(run->rt, NULL, 0);
  sbuf_free(&run->pending_in);
  return 0;
}

static void run_fail(struct sup_run *run, const char *msg) {
  struct sup_ctr *c = sup_ctr_find(run->sup, run->name);
  if (c) {
    c->start_failed = true;
    free(c->error);
    c->error = xstrdup(msg);
  }
  free(run->error);
  run->error = xstrdup(msg);
  run->exit_code = CONTAINER_EXIT_FAILED;
  fprintf(stderr, "stack supervisor: %s: %s\n", run->name, msg);
  run_finish(run);
}

/* After each change (and every RUN_TICK_MS): the gate while waiting; while
 * running, whether the VM was taken away (a stop that had to kill it) and
 * whether the client went (its input ends); after the exit, the clean-up. */
static void run_tick(uv_timer_t *t) {
  struct sup_run *run = t->data;
  struct supervisor *s = run->sup;
  if (s->stopping) {
    /* the supervisor ends: its clean-up killed every VM already */
    run->rt = NULL;
    run_free(run);
    return;
  }
  struct sup_ctr *c = sup_ctr_find(s, run->name);
  struct ps_container *r = project_state_find(s->state, run->name);
  switch (run->phase) {
  case RUN_WAITING: {
    if (c == NULL || r == NULL) {
      run_fail(run, "the container was removed before it started");
      return;
    }
    if (r->user_stopped) {
      run_fail(run, "the container was stopped before it started");
      return;
    }
    const struct compose_service *svc =
        s->project ? compose_project_service(s->project, run->service) : NULL;
    if (svc == NULL) {
      run_fail(run, "its service is no longer in the project");
      return;
    }
    _cleanup_free_ char *error = NULL;
    enum dep_verdict v = run_gate(s, svc, run->name, &error);
    if (v == DEP_WAIT)
      return;
    if (v == DEP_FAIL) {
      run_fail(run, error ? error : "a dependency failed");
      return;
    }
    _cleanup_error_ struct stack_error *err = NULL;
    if (run_start(run, svc, &err) < 0)
      run_fail(run, err ? err->msg : "cannot start");
    return;
  }
  case RUN_RUNNING:
    if (c == NULL || c->rt != run->rt) {
      /* sup_ctr_kill_now() freed the runner: no exit status comes */
      run->rt = NULL;
      run->exit_code = r ? r->exit_code : 137;
      run->phase = RUN_EXITED;
      run_finish(run);
      return;
    }
    if (run->conn && conn_live(run) == NULL) {
      run->conn = NULL;
      /* nobody types into it any more: a shell would wait forever */
      if (run->interactive)
        container_write_stdin(run->rt, NULL, 0);
      if (run->tty)
        container_signal(run->rt, SIGHUP);
    }
    return;
  case RUN_EXITED:
    run_finish(run);
    return;
  }
}

/* --- the requests --------------------------------------------------------- */

bool sup_run_input(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req) {
  struct sup_run *run = conn->run;
  if (run == NULL)
    return false;
  (void)s;
  const cJSON *p = req->params;
  if (strcmp(req->method, "exec_stdin") == 0) {
    if (!run->interactive)
      return true;
    const char *b64 = sup_param_str(p, "data");
    size_t n = 0;
    _cleanup_free_ unsigned char *buf = b64 ? b64_decode(b64, &n) : NULL;
    bool eof = sup_param_true(p, "eof");
    if (run->phase == RUN_WAITING) {
      if (n)
        sbuf_append(&run->pending_in, (const char *)buf, n);
      run->pending_eof |= eof;
    } else if (run->phase == RUN_RUNNING) {
      if (n)
        container_write_stdin(run->rt, buf, n);
      if (eof)
        container_write_stdin(run->rt, NULL, 0);
    }
  } else if (strcmp(req->method, "exec_resize") == 0) {
    unsigned rows = json_uint(p, "rows"), cols = json_uint(p, "cols");
    if (run->phase == RUN_RUNNING && run->tty && rows > 0 && cols > 0)
      container_resize(run->rt, rows, cols);
  } else if (strcmp(req->method, "exec_signal") == 0) {
    unsigned sig = json_uint(p, "signal");
    if (run->phase == RUN_RUNNING && sig > 0 && sig < 65) {
      container_signal(run->rt, (int)sig);
    } else if (run->phase == RUN_WAITING && (sig == SIGINT || sig == SIGTERM || sig == SIGHUP ||
                                             sig == SIGQUIT)) {
      /* Ctrl-C while its dependencies get ready: it never starts */
      run_fail(run, "interrupted before it started");
    }
  }
  return true;
}

/* Loads the project as the client sees it; it becomes the supervisor's
 * model, as with `up` (a run may be the first request of a project). */
static int run_load(struct supervisor *s, const cJSON *params, const char *service,
                    struct stack_error **err) {
  _cleanup_strv_ char **files = NULL;
  char *services[] = {(char *)service, NULL}; /* a service behind a profile runs when named */
  _cleanup_compose_project_ struct compose_project *p = NULL;
  int r = sup_project_load(s, params, services, &p, &files, err);
  if (r < 0)
    return r;
  sup_project_use(s, steal_pointer(&p));
  if (s->state->working_dir == NULL) {
    s->state->working_dir = xstrdup(s->project->working_dir);
    strv_free(s->state->config_files);
    s->state->config_files = steal_pointer(&files);
  }
  return 0;
}

int sup_run(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
            struct stack_error **err) {
  const cJSON *p = req->params;
  const char *service = sup_param_str(p, "service");
  if (service == NULL)
    return stack_error_set(err, -EINVAL, "run needs params.service");
  if (conn->run)
    return stack_error_set(err, -EBUSY, "this connection runs a container already");
  int r = run_load(s, p, service, err);
  if (r < 0)
    return r;
  const struct compose_service *svc = compose_project_service(s->project, service);
  if (svc == NULL)
    return stack_error_set(err, -ENOENT, "no such service: %s", service);
  if (svc->image == NULL)
    return stack_error_set(err, -EINVAL,
                           "service %s has no image: building images is not supported; set "
                           "image:",
                           service);
  /* the CLI pulled it */
  const struct image_handle *img = sup_project_image(s, svc, true, err);
  if (img == NULL)
    return stack_error_prefix(err, "service %s", service);

  _cleanup_free_ struct sup_run *run = xcalloc(1, sizeof(*run));
  run->sup = s;
  run->service = xstrdup(service);
  /* the request's overrides, checked before anything is created */
  {
    _cleanup_strv_ char **publish = NULL;
    if (sup_param_strv(p, "publish", false, &publish, NULL) < 0) {
      r = stack_error_set(err, -EINVAL, "params.publish must be a list of strings");
      goto bad;
    }
    if ((r = parse_publish(publish, &run->ports, err)) < 0)
      goto bad;
  }
  if ((r = sup_param_strv(p, "argv", true, &run->cmd, err)) < 0 ||
      (r = sup_param_strv(p, "entrypoint", true, &run->entrypoint, err)) < 0 ||
      (r = sup_param_strv(p, "env", true, &run->env, err)) < 0 ||
      (r = sup_param_strv(p, "cap_add", false, &run->cap_add, err)) < 0 ||
      (r = sup_param_strv(p, "cap_drop", false, &run->cap_drop, err)) < 0)
    goto bad;
  {
    _cleanup_strv_ char **specs = NULL;
    if ((r = sup_param_strv(p, "volumes", false, &specs, err)) < 0)
      goto bad;
    const char *base = sup_param_str(p, "working_dir");
    size_t nspecs = 0;
    while (specs && specs[nspecs])
      nspecs++;
    if (nspecs && (r = compose_mount_specs(specs, nspecs,
                                           base                 ? base
                                           : s->project         ? s->project->working_dir
                                                                : "/",
                                           &run->volumes, err)) < 0)
      goto bad;
    if (run->volumes && (r = check_host_paths(s, svc, run->volumes, err)) < 0)
      goto bad;
  }
  if (run->cmd && run->cmd[0] == NULL) {
    strv_free(run->cmd);
    run->cmd = NULL;
  }
  for (char **e = run->env; e && *e; e++)
    if (strchr(*e, '=') == NULL || **e == '=') {
      r = stack_error_set(err, -EINVAL, "invalid environment entry \"%s\": use KEY=VALUE", *e);
      goto bad;
    }
  const char *user = sup_param_str(p, "user"), *workdir = sup_param_str(p, "workdir");
  run->user = user ? xstrdup(user) : NULL;
  run->workdir = workdir ? xstrdup(workdir) : NULL;
  run->tty = sup_param_true(p, "tty");
  run->detach = sup_param_true(p, "detach");
  run->interactive = sup_param_true(p, "interactive") && !run->detach;
  run->remove = sup_param_true(p, "rm");
  run->service_ports = sup_param_true(p, "service_ports");
  run->use_aliases = sup_param_true(p, "use_aliases");
  run->rows = json_uint(p, "rows");
  run->cols = json_uint(p, "cols");

  const char *name = sup_param_str(p, "name");
  if (name) {
    if ((r = naming_check("container", name, err)) < 0)
      goto bad;
    run->name = xstrdup(name);
  } else {
    uint8_t rnd[6];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
      r = stack_error_errno(err, -errno, "cannot read random bytes");
      goto bad;
    }
    char hex[13];
    for (size_t i = 0; i < sizeof rnd; i++)
      snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    run->name = naming_run_container_name(s->paths.project, service, hex);
  }
  if (project_state_find(s->state, run->name)) {
    r = stack_error_set(err, -EEXIST,
                        "the container name \"%s\" is already in use: remove it (stack rm) or "
                        "choose another --name",
                        run->name);
    goto bad;
  }

  /* number 0: a one-off, never one of the service's replicas */
  struct ps_container *rec = project_state_add(s->state, run->name, service, 0);
  rec->image = xstrdup(svc->image);
  rec->image_id = xstrdup(img->config_digest);
  /* what the VM will run (run_start() overrides the service's options
   * with these) */
  rec->command = sup_command_text(&img->config, run->entrypoint ? run->entrypoint : svc->entrypoint,
                                  run->cmd ? run->cmd : svc->command);
  rec->created_ms = sup_wall_ms();
  sup_emit_container(s, run->name, "create", -1);
  struct sup_ctr *c = sup_ctr_get(s, run->name, service);
  c->img = img;
  c->policy = (struct restart_policy){.mode = RESTART_NO, .delay_ms = -1, .window_ms = -1};
  c->rs = (struct restart_state){0};
  sup_save(s, NULL);

  run->conn = conn;
  conn->run = run;
  run->id = req->id ? cJSON_Duplicate(req->id, true) : cJSON_CreateNull();
  run->exit_code = CONTAINER_EXIT_FAILED;
  uv_timer_init(&s->loop, &run->tick);
  run->tick.data = run;
  /* the loop may end (the supervisor shuts down) while a run waits */
  uv_unref((uv_handle_t *)&run->tick);
  struct sup_run *live = steal_pointer(&run);
  live->next = s->runs;
  s->runs = live;
  uv_timer_start(&live->tick, run_tick, 0, RUN_TICK_MS);
  return 1;

bad:
  run_fields_free(run);
  return r;
}

static void run_progress(struct supervisor *s) {
  /* from the loop, not inside the caller (which may be a runner's own
   * callback, or in the middle of removing a container) */
  for (struct sup_run *run = s->runs; run; run = run->next)
    uv_timer_start(&run->tick, run_tick, 0, RUN_TICK_MS);
}

void sup_run_on_change(struct supervisor *s, const struct sup_change *ch) {
  /* the end of a process is followed by its EXITED or DIED; pausing
   * changes nothing a run waits for */
  if (ch->kind == SUP_CHANGE_ENDED || ch->kind == SUP_CHANGE_PAUSED ||
      ch->kind == SUP_CHANGE_RESUMED)
    return;
  run_progress(s);
}

void sup_run_conn_gone(struct supervisor *s, struct sup_conn *conn) {
  if (conn->run)
    run_progress(s); /* its one-off container's input ends */
}
