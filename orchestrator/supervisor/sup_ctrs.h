/* The container table: the project's containers on the supervisor's loop
 * and their lifecycle -- start through the container runner, output to the
 * logs, exit, restart by policy, user stops and kills, VMs adopted from an
 * earlier supervisor, removal.  Each change is recorded in the project state,
 * emitted as a container event and announced through the state-change hook
 * (sup_change.h), which is how the modules above learn of it: this module
 * never names them. */
#ifndef STACK_SUPERVISOR_SUP_CTRS_H
#define STACK_SUPERVISOR_SUP_CTRS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "health.h"
#include "project_state.h"
#include "restart_policy.h"
#include "sup_change.h"
#include "sup_logs.h"
#include "sup_loop.h"

struct container;
struct container_vm_state;
struct image_config;
struct image_handle;
struct stack_error;
struct sup_probe;

/* What replaces a running container once it is stopped (`up` recreating
 * a changed service, or restarting a dependent): stopped as `stop` does
 * first (stop signal, grace period, SIGKILL), as Compose does. */
struct sup_recreate {
  bool restart_only;  /* depends_on.restart: the same container starts again */
  int64_t timeout_ms; /* the grace period, -1 = the service's */
  bool renew_anon;    /* -V: the new container gets fresh anonymous volumes */
  /* a new container (restart_only false): its record's fields */
  char *config_hash, *image, *image_id, *command;
  const struct image_handle *img;
  struct restart_policy policy;
};

/* A container's life on this loop: its runner (runtime/vm/container.h)
 * while it runs, its restart state, its output.  Its record in the
 * project state (by name) holds what must survive us. */
struct sup_ctr {
  struct supervisor *sup;
  char *name;
  char *service;
  struct container *rt;            /* NULL when no VM runs */
  const struct image_handle *img;  /* in sup->images */
  struct restart_policy policy;
  struct restart_state rs;
  uv_timer_t timer; /* restart delay, stop grace period, deferred clean-up */
  uint64_t started_at; /* uv_now() */
  bool pending_start;  /* waits for its dependencies (sup_jobs.c starts it) */
  char **gate_only;    /* the services whose state it waits for (up --no-deps), or NULL: all */
  bool start_failed;
  bool stopping;       /* a user stop is under way */
  bool ran;            /* the main process started in this run */
  uint64_t ran_at;     /* uv_now() when it did */
  int exit_code;       /* of the last run, until after_exit() handles it */
  bool crashed;        /* the last run ended without the process's status */
  char *error;         /* why the last start failed, or NULL */
  struct sup_log log;
  /* its health check, resolved at each start (argv NULL: none); the
   * probes are sup_health.c's */
  struct health_config hc;
  struct health_state hs;
  uv_timer_t hc_timer;     /* the next probe, or the running probe's timeout */
  struct sup_probe *probe; /* the running probe, or NULL */
  int open_handles;        /* timers not yet closed */
  /* a VM found running whose guest could not be reached (pidfd), or NULL;
   * a VM whose guest answered is adopted as rt (container_adopt()) */
  uv_poll_t *adopted;
  /* rt was adopted and its guest answered: the health checks go on from
   * the recorded status instead of starting over */
  bool resume_health;
  /* adopted: the host side of its networks waits for a loaded project
   * (sup_ctrs_net_adopt()) */
  bool net_pending;
  /* adopted: its guest has not answered yet (sup_ctrs_attaching()) */
  bool attaching;
  /* while its VM is paused: what its waiting clients are told
   * (pause_text.h); NULL while it runs */
  char *vm_message;
  char *pause_fs; /* the file system a QEMU pause waited for, for the resume's line */
  /* to be stopped and replaced (sup_ctr_recreate_step()), or NULL */
  struct sup_recreate *recreate;
  struct sup_ctr *next;
};

struct sup_ctr *sup_ctr_find(struct supervisor *s, const char *name);
struct sup_ctr *sup_ctr_get(struct supervisor *s, const char *name, const char *service);
/* Boots the container's VM and runs its process; failures are recorded
 * on the container (start_failed), announced (DIED) and returned. */
int sup_ctr_start(struct supervisor *s, struct sup_ctr *c, struct stack_error **err);
/* Whether a VM with own_vcpus (0 = the default) started now shares the
 * host with more vCPUs than it has cores: the project's containers that
 * run or are about to start, other than self, counted (one-off containers
 * other than the one starting are not).  Such a VM gets one TCG thread. */
bool sup_crowded(struct supervisor *s, const struct sup_ctr *self, unsigned own_vcpus);
/* A user stop: stop signal, then SIGKILL after timeout_ms (-1: the
 * service's grace period); no policy restarts it.  A paused VM must be
 * resumed first (sup_pause_resume_quiet()). */
void sup_ctr_stop(struct supervisor *s, struct sup_ctr *c, int64_t timeout_ms);
/* Steps a container marked for recreation (c->recreate): its VM is
 * stopped gracefully, then it is removed ("destroy") and the new container
 * created ("create") and made pending to start, or the same one made
 * pending (restart_only).  Returns whether it is done. */
bool sup_ctr_recreate_step(struct supervisor *s, struct sup_ctr *c);
/* Frees a recreation plan. */
void sup_recreate_free(struct sup_recreate *rc);
/* Kills at once and forgets the runner (remove of a container that will
 * not be stopped first, the supervisor's end); announces ENDED. */
void sup_ctr_kill_now(struct supervisor *s, struct sup_ctr *c);
/* Takes over the VM of a container that a previous supervisor started and
 * that still runs (found by the record's id: its pid file, written before
 * QEMU ran, so also a VM the state never recorded): its guest channel
 * is reconnected (container_adopt()), so exec, health checks, logs, stop
 * and its exit status work as for a VM this supervisor started.  A VM
 * whose guest cannot be reached is only watched (r->qemu_pid): `ps`
 * reports it, `stop`/`down` end it. */
void sup_adopt(struct supervisor *s, struct ps_container *r);
/* Kills the VMs this project's supervisors started that no record names
 * (a supervisor killed between removing a record and saving the state,
 * or before recording a new one); returns how many. */
int sup_ctrs_reap_strays(struct supervisor *s);
/* Whether an adopted VM's guest has not answered yet: a new supervisor
 * waits for them before it serves requests, so that what it says (ps,
 * exec) is what the guests said. */
bool sup_ctrs_attaching(const struct supervisor *s);
/* Whether a VM adopted from a dead supervisor runs. */
bool sup_ctrs_adopted(const struct supervisor *s);
/* Once a project is loaded: the adopted VMs get their networks' host side
 * back (sup_net_adopting()). */
void sup_ctrs_net_adopt(struct supervisor *s);
/* Forgets a container's runtime, its writable layer and bind directory
 * (its record is removed or recreated). */
void sup_ctr_forget(struct supervisor *s, const char *name);
/* Removes a stopped container: "destroy" event, runtime, logs, record. */
void sup_ctr_remove(struct supervisor *s, const char *name);
/* Resolves the container's health check (service over image); errors
 * name the service. */
int sup_ctr_health_configure(struct supervisor *s, struct sup_ctr *c, struct stack_error **err);
/* For a runner that is not the table's own (a one-off run's): its main
 * process started (recorded, "start" emitted, STARTED announced) ... */
void sup_ctr_mark_started(struct supervisor *s, struct sup_ctr *c);
/* ... and ended (last output logged, timers stopped, ENDED announced). */
void sup_ctr_mark_ended(struct supervisor *s, struct sup_ctr *c);
/* ... and its VM was paused or resumed (the runner's vm_state): recorded
 * with the reason `ps` shows, a "pause"/"unpause" event (with the reason),
 * a line in its log when QEMU paused it on a failed write or the runner
 * resumed it, PAUSED/RESUMED announced.  The table's own runners report
 * here by themselves. */
void sup_ctr_mark_vm_state(struct supervisor *s, struct sup_ctr *c,
                           const struct container_vm_state *st);
/* The "vm" event for the clients of c's exec sessions and one-off run
 * after its VM was paused (c->vm_message says why) or resumed: type "vm",
 * paused, message.  Newly allocated. */
cJSON *sup_ctr_vm_event(const struct sup_ctr *c, bool paused);
/* Frees every runtime (the supervisor ends). */
void sup_ctrs_free(struct supervisor *s);

/* The state-change hook.  Registers fn (subscribers run in registration
 * order). */
void sup_ctrs_subscribe(struct supervisor *s, sup_change_fn fn);
/* Announces a change of c (see sup_change.h for when it runs). */
void sup_ctrs_announce(struct supervisor *s, struct sup_ctr *c, enum sup_change_kind kind,
                       int exit_code);
/* Announces that a request added or ended work (SUP_CHANGE_REQUESTS). */
void sup_ctrs_changed(struct supervisor *s);

/* The command a container of image ic with these entrypoint and command
 * overrides (NULL: the image's) runs, as `ps` shows it: the VM's argv
 * (container_argv()) joined by blanks.  Newly allocated. */
char *sup_command_text(const struct image_config *ic, char *const *ep, char *const *cmd);

#endif
