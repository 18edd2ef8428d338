/* The supervisor's request dispatcher: one handler per method. */
#ifndef STACK_SUPERVISOR_SUP_METHODS_H
#define STACK_SUPERVISOR_SUP_METHODS_H

#include "sup_loop.h"

struct sup_conn;
struct sup_request;

/* Handles one request; returns a line to send (or NULL when the handler
 * answers later or streams). */
char *sup_dispatch(struct supervisor *s, struct sup_conn *c, const struct sup_request *req);

#endif
