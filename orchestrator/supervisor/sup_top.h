/* `top`: a running container's processes as its guest lists them
 * (answered when the guest does). */
#ifndef STACK_SUPERVISOR_SUP_TOP_H
#define STACK_SUPERVISOR_SUP_TOP_H

#include "sup_loop.h"

typedef struct cJSON cJSON;
struct sup_conn;
struct sup_request;
struct stack_error;

int sup_top(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
            cJSON **result, struct stack_error **err);

#endif
