/* Internals shared by the supervisor's loop (supervisor.c) and its request
 * handlers (sup_methods.c); not an API for other modules. */
#ifndef STACK_SUPERVISOR_SUP_SERVER_H
#define STACK_SUPERVISOR_SUP_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "dep_gate.h"

#include "health.h"
#include "project_state.h"
#include "restart_policy.h"
#include "runtime/util/sbuf.h"
#include "sup_conn.h"
#include "sup_events.h"
#include "sup_loop.h"
#include "sup_paths.h"
#include "sup_proto.h"

typedef struct cJSON cJSON;
struct stack_error;

struct container;
struct image_handle;
struct compose_project;

/* A container's life on this loop: its runner (runtime/vm/container.h)
 * while it runs, its restart state, its partial output lines.  Its record
 * in the project state (by name) holds what must survive us. */
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
  bool pending_start;  /* waits for its dependencies */
  bool start_failed;
  bool stopping;       /* a user stop is under way */
  bool ran;            /* the main process started in this run */
  int exit_code;       /* of the last run, until after_exit() handles it */
  bool crashed;        /* the last run ended without the process's status */
  char *error;         /* why the last start failed, or NULL */
  struct sbuf line[3]; /* partial output lines, by fd */
  int log_fd;          /* its log file, -1 until the first line */
  uint64_t log_bytes;
  struct health_config hc; /* argv NULL: no health check */
  struct health_state hs;
  uv_timer_t hc_timer;     /* the next probe, or the running probe's timeout */
  struct sup_probe *probe; /* the running probe, or NULL */
  int open_handles;        /* timers not yet closed */
  uv_poll_t *adopted;      /* a VM found running by this supervisor (pidfd), or NULL */
  struct sup_ctr *next;
};

/* A request waiting for containers: `up` (until all started or, attached,
 * until all stopped), `stop` (until all stopped). */
struct sup_job {
  bool is_stop;
  bool attached;
  bool wait; /* up --wait: answer once all run, fail if one exits */
  bool fresh; /* up of a project that had no container: undone if a start fails */
  int64_t timeout_ms; /* stop: the grace period, -1 = the service's */
  struct sup_conn *conn;
  cJSON *id;
  char **names;
  char **watch; /* attached up: the containers it shows and waits for */
  struct sup_job *next;
};

struct compose_service;

/* Starts an orderly shutdown: stop listening, finish writes, end the loop. */
void sup_shutdown(struct supervisor *s);
/* The same, sending line (taken over) to conn once everything is down
 * (and, with no container left, the project's files are gone), before the
 * connections close. */
void sup_shutdown_reply(struct supervisor *s, struct sup_conn *conn, char *line);

/* sup_up.c: the command a container runs as `ps` shows it (entrypoint
 * then command, joined by blanks).  Newly allocated. */
char *sup_command_text(char *const *ep, char *const *cmd);

/* sup_lifecycle.c: containers on the loop. */
struct sup_ctr *sup_ctr_find(struct supervisor *s, const char *name);
struct sup_ctr *sup_ctr_get(struct supervisor *s, const char *name, const char *service);
/* Boots the container's VM and runs its process; failures are recorded
 * on the container (start_failed) and returned. */
int sup_ctr_start(struct supervisor *s, struct sup_ctr *c, struct stack_error **err);
/* Whether a VM with own_vcpus (0 = the default) started now shares the
 * host with more vCPUs than it has cores: the project's containers that
 * run or are about to start, other than self, counted (one-off containers
 * other than the one starting are not).  Such a VM gets one TCG thread. */
bool sup_crowded(struct supervisor *s, const struct sup_ctr *self, unsigned own_vcpus);
/* A user stop: stop signal, then SIGKILL after timeout_ms; no policy
 * restarts it. */
void sup_ctr_stop(struct supervisor *s, struct sup_ctr *c, int64_t timeout_ms);
/* Kills at once and forgets the runner (recreate, remove). */
void sup_ctr_kill_now(struct supervisor *s, struct sup_ctr *c);
/* Watches the VM of a container that a previous supervisor started and
 * that still runs (r->qemu_pid, checked): `ps` reports it, `stop`/`down`
 * end it. */
void sup_adopt(struct supervisor *s, struct ps_container *r);
/* Forgets a container's runtime (its record was removed). */
void sup_ctr_forget(struct supervisor *s, const char *name);
/* Where container name keeps its writable layer between runs of its VM:
 * <project state dir>/layers/<name>.img into *out (caller frees); an error
 * if name is not a plain file name (state_path_join()). */
int sup_ctr_layer_path(const struct supervisor *s, const char *name, char **out,
                       struct stack_error **err);
/* <state dir>/binds/<name>: the directories through which the container's
 * single-file bind mounts are shared (sup_volumes.h); made afresh at each
 * start, removed with the container.  As above. */
int sup_ctr_binds_dir(const struct supervisor *s, const char *name, char **out,
                      struct stack_error **err);
/* Judges service svc's depends_on for a container called name: go, wait
 * or fail (*error says why); *warnings (strv) names optional dependencies
 * that failed.  One-off containers never count as their service. */
enum dep_verdict sup_service_gate(struct supervisor *s, const struct compose_service *svc,
                                  const char *name, char **error, char ***warnings);
/* Re-evaluates dependency gates and waiting requests; called after every
 * change of a container's state. */
void sup_progress(struct supervisor *s);
/* Drops the requests of a connection that went away. */
void sup_jobs_conn_gone(struct supervisor *s, struct sup_conn *c);
/* Frees every runtime (the supervisor ends). */
void sup_lifecycle_free(struct supervisor *s);

/* sup_health.c: health checks through exec sessions in the guest. */
/* Resolves the container's check (service over image); errors name the
 * service. */
int sup_health_configure(struct supervisor *s, struct sup_ctr *c, struct stack_error **err);
/* The main process started: status starting, first probe after a delay. */
void sup_health_start(struct supervisor *s, struct sup_ctr *c);
/* The container stopped: no more probes. */
void sup_health_stop(struct sup_ctr *c);
/* The container was paused: no probes (a running one is dropped), the
 * status stays; resumed: probes go on. */
void sup_health_pause(struct sup_ctr *c);
void sup_health_resume(struct sup_ctr *c);

/* sup_logs.c: container output, to disk and to followers. */
void sup_log_line(struct supervisor *s, struct sup_ctr *c, int fd, const char *line, size_t len);
/* A chunk of c's stdout (fd 1) or stderr (2): every complete line goes to
 * sup_log_line(), the rest waits in c->line[fd] for more. */
void sup_log_bytes(struct supervisor *s, struct sup_ctr *c, int fd, const uint8_t *p, size_t n);
/* Logs what c->line holds once its process ended (a last line without
 * its newline). */
void sup_log_flush(struct supervisor *s, struct sup_ctr *c);
/* Streams the stored output of the named containers (then, with follow,
 * what comes) as "log" events. */
int sup_logs_send(struct supervisor *s, struct sup_conn *conn, const cJSON *id,
                  const cJSON *params, struct stack_error **err);

/* Deletes a container's log files (it was removed or recreated). */
void sup_logs_remove(struct supervisor *s, const char *name);
/* Tells the followers of a container's output that it exited. */
void sup_log_exit(struct supervisor *s, struct sup_ctr *c, int exit_code);

/* sup_exec.c: `exec` sessions (answered when the process exits). */
int sup_exec(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
             struct stack_error **err);
void sup_exec_conn_gone(struct supervisor *s, struct sup_conn *conn);
/* Notifications (no reply) to the connection's exec session: params.data
 * (base64) and params.eof; params.rows and cols; params.signal. */
int sup_exec_stdin(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
                   cJSON **result, struct stack_error **err);
int sup_exec_resize(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
                    cJSON **result, struct stack_error **err);
int sup_exec_signal(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
                    cJSON **result, struct stack_error **err);

/* sup_run.c: `run` (Compose's `run SERVICE`): a one-off container of a
 * service with the request's overrides, started once its dependencies'
 * conditions hold, its stdio streamed to the connection like an exec
 * session's; answered with its exit code (with params.detach, its name once
 * it runs). */
int sup_run(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
            struct stack_error **err);
/* The exec_stdin/exec_resize/exec_signal notifications when conn runs a
 * one-off container: handled (true), else false (an exec session's). */
bool sup_run_input(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req);
/* Something changed (a container's state, a connection closed): the
 * one-off containers look again at their gate, VM and client. */
void sup_run_progress(struct supervisor *s);
/* A connection closed: a one-off container it ran loses its input. */
void sup_run_conn_gone(struct supervisor *s, struct sup_conn *conn);

/* sup_rollback.c: a failed `up` of a project that had no container.
 * Whether job j (finished) failed because one of its containers could not
 * be started (not for a dependency's condition, an exit under --wait, ...,
 * which leave the containers as Compose does). */
bool sup_rollback_due(struct supervisor *s, const struct sup_job *j);
/* Removes every container (VMs killed), then shuts the supervisor down:
 * networks, state and the project's directories go, reply (taken over) is
 * sent to conn last.  Volumes stay, as with `down`. */
void sup_rollback(struct supervisor *s, struct sup_conn *conn, char *reply);

/* sup_up.c: the `up` and `start` requests (answered through a job). */
int sup_up(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
           struct stack_error **err);

/* sup_methods.c: the containers params.containers names (names or
 * services; all when absent), as flags by index into the state; an unknown
 * name is an error. */
int sup_select_containers(struct supervisor *s, const cJSON *params, bool **out,
                          struct stack_error **err);

/* sup_pause.c: `pause`/`unpause` (QMP stop/cont; answered when done). */
int sup_pause(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
              bool pause, struct stack_error **err);
/* Unpauses a paused container without answering anyone: a stop or kill
 * must reach its guest. */
void sup_pause_resume_quiet(struct supervisor *s, struct sup_ctr *c);
void sup_pause_conn_gone(struct supervisor *s, struct sup_conn *conn);

/* sup_top.c: `top`, a running container's processes as its guest lists
 * them (answered when the guest does). */
int sup_top(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
            cJSON **result, struct stack_error **err);
/* sup_stats.c: `stats`, each running container's QEMU's CPU time, memory
 * (PSS) and limit, disk I/O, sampled now. */
int sup_stats(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
              cJSON **result, struct stack_error **err);

/* Handles one request; returns a line to send (or NULL when the handler
 * answers later or streams). */
char *sup_dispatch(struct supervisor *s, struct sup_conn *c, const struct sup_request *req);

#endif
