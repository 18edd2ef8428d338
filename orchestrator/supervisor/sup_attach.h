/* `attach`'s input: what a user types goes to a service container's main
 * process (its output reaches them through a `logs` follow). */
#ifndef STACK_SUPERVISOR_SUP_ATTACH_H
#define STACK_SUPERVISOR_SUP_ATTACH_H

#include "sup_loop.h"

typedef struct cJSON cJSON;
struct sup_conn;
struct sup_request;
struct stack_error;

/* The "attach" request: params.service, params.index (1-based, default 1)
 * name a running container; params.data (base64, may be absent) goes to
 * its main process's stdin when the service has `stdin_open: true` (else
 * it is dropped, as Docker drops input to a container without an open
 * stdin).  Result {"name", "stdin_open"}; -ENOENT when it does not run. */
int sup_attach(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
               cJSON **result, struct stack_error **err);

#endif
