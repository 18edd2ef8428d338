/* `exec`: a process in a running container, as an exec session in its
 * guest, answered when the process exits. */
#ifndef STACK_SUPERVISOR_SUP_EXEC_H
#define STACK_SUPERVISOR_SUP_EXEC_H

#include "sup_loop.h"

typedef struct cJSON cJSON;
struct sup_conn;
struct sup_request;
struct stack_error;

int sup_exec(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
             struct stack_error **err);
void sup_exec_conn_gone(struct supervisor *s, struct sup_conn *conn);
/* The container table's hook (sup_change.h): a session's client hears
 * when its container's VM is paused or resumed (a "vm" event,
 * sup_ctr_vm_event()), so that it can tell its user and give up on a
 * command that cannot go on. */
void sup_exec_on_change(struct supervisor *s, const struct sup_change *ch);
/* Notifications (no reply) to the connection's exec session: params.data
 * (base64) and params.eof; params.rows and cols; params.signal. */
int sup_exec_stdin(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
                   cJSON **result, struct stack_error **err);
int sup_exec_resize(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
                    cJSON **result, struct stack_error **err);
int sup_exec_signal(struct supervisor *s, struct sup_conn *conn, const struct sup_request *req,
                    cJSON **result, struct stack_error **err);

#endif
