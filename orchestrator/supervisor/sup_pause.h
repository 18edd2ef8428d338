/* `pause` and `unpause`: QMP stop/cont on each container's VM.  The vCPUs
 * halt, the guest's memory stays; the change is announced through the
 * container table's hook (health checks wait while it is paused). */
#ifndef STACK_SUPERVISOR_SUP_PAUSE_H
#define STACK_SUPERVISOR_SUP_PAUSE_H

#include <stdbool.h>

#include "sup_loop.h"

struct sup_conn;
struct sup_ctr;
struct sup_request;
struct stack_error;

/* The request (answered when done). */
int sup_pause(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
              bool pause, struct stack_error **err);
/* Unpauses a paused container without answering anyone: a stop or kill
 * must reach its guest. */
void sup_pause_resume_quiet(struct supervisor *s, struct sup_ctr *c);
void sup_pause_conn_gone(struct supervisor *s, struct sup_conn *conn);

#endif
