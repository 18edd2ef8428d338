/* The supervisor's orderly end: stop listening, free every container's
 * runtime, the networks and the model, save the state (or, with no
 * container left, remove the project's files), finish the connections'
 * writes; the loop then ends.  What waits on a connection goes with it
 * (sup_conn_on_gone()). */
#ifndef STACK_SUPERVISOR_SUP_SHUTDOWN_H
#define STACK_SUPERVISOR_SUP_SHUTDOWN_H

#include "sup_loop.h"

struct sup_conn;

void sup_shutdown(struct supervisor *s);
/* The same, sending line (taken over) to conn once everything is down
 * (and, with no container left, the project's files are gone), before the
 * connections close. */
void sup_shutdown_reply(struct supervisor *s, struct sup_conn *conn, char *line);

#endif
