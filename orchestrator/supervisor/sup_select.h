/* Which containers a request names. */
#ifndef STACK_SUPERVISOR_SUP_SELECT_H
#define STACK_SUPERVISOR_SUP_SELECT_H

#include <stdbool.h>

#include "sup_loop.h"

typedef struct cJSON cJSON;
struct stack_error;

/* The containers params.containers names (names or services; all when
 * absent), as flags by index into the state; an unknown name is an error.
 * With params.exclude_one_off, a service or "all" means its service
 * containers only (not `run`'s); with params.restart_dependents, the
 * containers of services whose depends_on on a selected one says
 * `restart: true` are added, transitively (the project as loaded). */
int sup_select_containers(struct supervisor *s, const cJSON *params, bool **out,
                          struct stack_error **err);

#endif
