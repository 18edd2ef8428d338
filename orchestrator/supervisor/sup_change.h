/* The container table's state-change hook (sup_ctrs.h): what its
 * subscribers are told.  Jobs (`up`, `stop`), one-off runs, health checks
 * and log followers learn of every change of a container through it
 * instead of being called by name; modules below the table can subscribe
 * too, since all they need is this header.
 *
 * A change is announced after it is complete (state recorded, event
 * emitted, state file saved).  Subscribers run in the order they were
 * registered.  A change made while subscribers run (a start that fails
 * inside a handler, a kill) is queued and announced once the current one
 * has reached every subscriber: no handler is ever re-entered. */
#ifndef STACK_SUPERVISOR_SUP_CHANGE_H
#define STACK_SUPERVISOR_SUP_CHANGE_H

struct supervisor;
struct sup_ctr;

enum sup_change_kind {
  SUP_CHANGE_STARTED, /* the main process runs */
  SUP_CHANGE_ENDED,   /* no process any more (it exited, or the VM was taken away) */
  SUP_CHANGE_EXITED,  /* the exit was handled (restart decided): exit_code is the process's */
  SUP_CHANGE_DIED,    /* gone another way: a start failed, an adopted VM ended, a kill */
  SUP_CHANGE_HEALTH,  /* the health status changed */
  SUP_CHANGE_PAUSED,  /* the VM was paused */
  SUP_CHANGE_RESUMED, /* ... and resumed */
  SUP_CHANGE_REQUESTS, /* no container: a request added or ended work (ctr NULL) */
};

struct sup_change {
  enum sup_change_kind kind;
  struct sup_ctr *ctr; /* valid while the change is announced; NULL for REQUESTS */
  const char *name, *service; /* the container's (NULL for REQUESTS) */
  int exit_code;              /* EXITED, DIED */
};

typedef void (*sup_change_fn)(struct supervisor *s, const struct sup_change *ch);

#define SUP_MAX_CHANGE_SUBS 8

#endif
