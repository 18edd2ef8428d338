/* Which keys of a service the VM runtime does not honour yet: `up` and
 * `run` name them instead of silently running the service without them
 * (docs/compose-compat.md, "runtime" column). */
#ifndef STACK_SUPERVISOR_SERVICE_WARNINGS_H
#define STACK_SUPERVISOR_SERVICE_WARNINGS_H

struct compose_service;

/* A ", "-separated list of the keys svc sets that stack cannot honour yet,
 * or NULL when there are none.  Caller frees. */
char *sup_unhonoured_keys(const struct compose_service *svc);

#endif
