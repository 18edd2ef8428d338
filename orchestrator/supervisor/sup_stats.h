/* `stats`: each running container's QEMU's CPU time, memory (PSS) and
 * limit, disk I/O and network bytes, sampled now. */
#ifndef STACK_SUPERVISOR_SUP_STATS_H
#define STACK_SUPERVISOR_SUP_STATS_H

#include "sup_loop.h"

typedef struct cJSON cJSON;
struct sup_conn;
struct sup_request;
struct stack_error;

int sup_stats(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
              cJSON **result, struct stack_error **err);

#endif
