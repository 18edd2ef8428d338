/* Container names and counts, as Compose does them: `<project>-<service>-<n>`
 * (or the service's container_name), replicas from --scale, deploy.replicas
 * or scale, new containers numbered after the highest existing one. */
#ifndef STACK_SUPERVISOR_NAMING_H
#define STACK_SUPERVISOR_NAMING_H

#include <stddef.h>

struct stack_error;

/* The name of container `number` (1-based) of a service; container_name
 * (may be NULL) wins.  Caller frees. */
char *naming_container_name(const char *project, const char *service, unsigned number,
                            const char *container_name);

/* The name of a one-off container (`stack run SERVICE`), as Compose names
 * them: "<project>-<service>-run-<first 12 characters of id>".  Caller
 * frees. */
char *naming_run_container_name(const char *project, const char *service, const char *id);

/* Parses "<project>-<service>-<n>" back into n; -1 if name is not one of
 * this service's generated names. */
long naming_container_number(const char *project, const char *service, const char *name);

/* How many containers a service gets: cli_scale (from --scale, -1 unset),
 * else deploy_replicas (-1 unset), else scale (-1 unset), else 1.  A
 * container_name with more than one replica is Compose's error. */
int naming_replicas(const char *service, int cli_scale, int deploy_replicas, int scale,
                    const char *container_name, unsigned *out, struct stack_error **err);

/* The number for the next new container, given the numbers in use. */
unsigned naming_next_number(const unsigned *used, size_t n);

/* Checks a project name (what "project") against Compose's rule, any
 * other against Docker's rule for container names (compose_names.h), so
 * that it can name files and sockets. */
int naming_check(const char *what, const char *name, struct stack_error **err);

#endif
