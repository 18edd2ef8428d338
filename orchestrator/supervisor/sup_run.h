/* `run` (Compose's `run SERVICE`): a one-off container of a service with
 * the request's overrides, started once its dependencies' conditions hold,
 * its stdio streamed to the connection like an exec session's; answered
 * with its exit code (with params.detach, its name once it runs). */
#ifndef STACK_SUPERVISOR_SUP_RUN_H
#define STACK_SUPERVISOR_SUP_RUN_H

#include <stdbool.h>

#include "sup_change.h"
#include "sup_loop.h"

struct sup_conn;
struct sup_request;
struct stack_error;

int sup_run(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
            struct stack_error **err);
/* The exec_stdin/exec_resize/exec_signal notifications when conn runs a
 * one-off container: handled (true), else false (an exec session's). */
bool sup_run_input(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req);
/* The hook's subscriber: the one-off containers look again at their gate,
 * VM and client (from the loop, not inside the announcement). */
void sup_run_on_change(struct supervisor *s, const struct sup_change *ch);
/* A connection closed: a one-off container it ran loses its input. */
void sup_run_conn_gone(struct supervisor *s, struct sup_conn *conn);

#endif
