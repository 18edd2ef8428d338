/* `pause` and `unpause`: QMP stop/cont on each container's VM.  The vCPUs
 * halt, the guest's memory stays; the runner reports the change to the
 * container table, which announces it through its hook (health checks
 * wait while it is paused).  `unpause` also resumes a VM that QEMU paused
 * on a full disk, once some space was freed (container_resume()). */
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
/* Unpauses a paused container without answering anyone, also on a full
 * disk: a stop or kill must reach its guest. */
void sup_pause_resume_quiet(struct supervisor *s, struct sup_ctr *c);
void sup_pause_conn_gone(struct supervisor *s, struct sup_conn *conn);

#endif
