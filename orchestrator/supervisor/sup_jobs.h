/* Requests that wait for containers: `up` (until all started or, attached,
 * until all stopped; with --wait until all run and are healthy) and `stop`
 * (until all stopped, dependents first).  A subscriber of the container
 * table's hook: at every change it starts the containers whose
 * dependencies' conditions hold, steps the stops, and answers the requests
 * that are done. */
#ifndef STACK_SUPERVISOR_SUP_JOBS_H
#define STACK_SUPERVISOR_SUP_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "sup_change.h"
#include "sup_loop.h"

typedef struct cJSON cJSON;
struct sup_conn;

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

/* Queues a job (taken over) and looks at once whether it can progress. */
void sup_jobs_add(struct supervisor *s, struct sup_job *j);
/* The hook's subscriber. */
void sup_jobs_on_change(struct supervisor *s, const struct sup_change *ch);
/* Drops the requests of a connection that went away. */
void sup_jobs_conn_gone(struct supervisor *s, struct sup_conn *c);
/* Frees every job (the supervisor ended: their connections are gone). */
void sup_jobs_free(struct supervisor *s);

#endif
