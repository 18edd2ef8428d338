/* `up` and `start`: load the project as the client sees it, decide which
 * containers to create, recreate, keep or remove (config hashes), and queue
 * their start behind their dependencies (a job, sup_jobs.h). */
#ifndef STACK_SUPERVISOR_SUP_UP_H
#define STACK_SUPERVISOR_SUP_UP_H

#include "sup_loop.h"

struct sup_conn;
struct sup_request;
struct stack_error;

/* Answered through a job: returns 1, or an error before anything changed
 * (or, naming the service, after the containers before it were made). */
int sup_up(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
           struct stack_error **err);

#endif
