/* `network rm` and `network prune` for a project whose supervisor runs:
 * its networks go when no container is attached to them. */
#ifndef STACK_SUPERVISOR_SUP_NETWORK_H
#define STACK_SUPERVISOR_SUP_NETWORK_H

#include "sup_loop.h"

typedef struct cJSON cJSON;
struct sup_conn;
struct sup_request;
struct stack_error;

/* The "network_rm" request: result {} once the networks are gone; -EBUSY
 * naming an attached container otherwise. */
int sup_network_rm(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                   cJSON **result, struct stack_error **err);

#endif
