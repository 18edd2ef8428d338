/* The supervisor's context: the one struct every module of the supervisor
 * is handed, holding the loop and what lives on it (each module's own
 * state behind an opaque pointer), plus the two services every layer uses:
 * the wall clock and saving the project state.  Nothing here calls into a
 * module above. */
#ifndef STACK_SUPERVISOR_SUP_LOOP_H
#define STACK_SUPERVISOR_SUP_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "project_state.h"
#include "sup_change.h"
#include "sup_paths.h"

struct stack_error;
struct supervisor;
struct template_cache;
struct boot_queue;
struct compose_project;
struct image_handle;
struct sup_conn;
struct sup_ctr;
struct sup_job;
struct sup_exec;
struct sup_run;
struct sup_net;
struct sup_pause_op;
struct sup_change_item;
struct sup_log;

/* An image a container of this supervisor uses, by reference. */
struct sup_image {
  char *ref;
  struct image_handle *h;
};

/* A connection went away: its owner drops what waits for it.  Registered
 * with sup_conn_on_gone() (sup_conn.h). */
typedef void (*sup_conn_gone_fn)(struct supervisor *s, struct sup_conn *c);
#define SUP_MAX_CONN_GONE 8

struct supervisor {
  uv_loop_t loop;
  struct template_cache *templates; /* VM templates being built (runtime/vm/template.h) */
  struct boot_queue *boots;         /* VMs starting at once (runtime/vm/boot_queue.h) */
  uv_pipe_t listener;
  uv_signal_t sigterm, sigint;
  struct sup_paths paths;
  struct project_state *state;
  struct sup_conn *conns;
  sup_conn_gone_fn conn_gone[SUP_MAX_CONN_GONE]; /* sup_conn.c */
  size_t n_conn_gone;
  int lock_fd;
  bool loop_inited;
  bool stopping;
  struct compose_project *project; /* as the last `up` loaded it, or NULL */
  struct sup_ctr *ctrs; /* sup_ctrs.c: the container table */
  sup_change_fn change_subs[SUP_MAX_CHANGE_SUBS]; /* sup_ctrs.c: its hook */
  size_t n_change_subs;
  struct sup_change_item *changes; /* queued while subscribers run */
  bool announcing;
  struct sup_image *images;
  size_t n_images;
  struct sup_job *jobs;
  struct sup_exec *execs;
  struct sup_run *runs; /* sup_run.c: one-off containers (`stack run SERVICE`) */
  struct sup_net *net; /* sup_net.c: the project's networks, or NULL */
  struct sup_pause_op *pauses; /* sup_pause.c: QMP stop/cont under way */
  struct sup_log *logs_failing; /* sup_logs.c: logs whose lines wait for room */
  uv_timer_t *log_retry;        /* sup_logs.c: retries them, NULL until needed */
  bool save_failing;            /* the state file could not be written */
  uv_timer_t *save_retry;       /* sup_save() again, NULL until needed */
  uv_timer_t gate_timer; /* sup_gate.c: the next look at a dependency */
};

/* Writes the state file, atomically: a write that fails (a full file
 * system) leaves the previous file as it was.  The failure is said once in
 * the supervisor's log; the state in memory stays and is saved again every
 * SUP_SAVE_RETRY_MS (and at every change) until it works. */
int sup_save(struct supervisor *s, struct stack_error **err);
#define SUP_SAVE_RETRY_MS 2000
/* The supervisor ends: no more retries (after its last sup_save()). */
void sup_save_shutdown(struct supervisor *s);
/* Milliseconds since the epoch (the times the state records). */
int64_t sup_wall_ms(void);

#endif
