/* Validation of Compose files: against the Compose JSON schema per file
 * (before merging, so errors point into the file the user wrote), and of the
 * whole project after merging (references between services and top-level
 * resources, dependency cycles, port clashes). */
#ifndef STACK_COMPOSE_VALIDATE_H
#define STACK_COMPOSE_VALIDATE_H

#include "node.h"

struct stack_error;

/* Checks one parsed (and interpolated) file against the embedded Compose
 * schema (compose-spec.json): unknown keys, wrong types, bad enum values.
 * YAML plain scalars count as numbers/booleans where they read as such.
 * Errors name file:line:col and the service; returns 0 or -EINVAL. */
int compose_validate_schema(const struct cnode *file_tree, struct stack_error **err);

/* Checks the merged, canonical project tree: every service has an image or
 * a build; networks, volumes, secrets and configs a service names are
 * defined; depends_on names existing services and has no cycle (the message
 * names it, "a -> b -> a"); no two services publish the same host
 * ip/port/protocol; no bind mount shares a sensitive host path without
 * x-stack-allow-host-paths (compose_host_paths.h).  Returns 0 or -EINVAL. */
int compose_validate_project(const struct cnode *project, struct stack_error **err);

/* Linux's limit for one argument or environment string (MAX_ARG_STRLEN,
 * with its NUL), and what stack passes to a container's process in all
 * (command, entrypoint and environment; the guest channel carries at most
 * 1 MiB with everything else a container needs). */
#define COMPOSE_ARG_MAX 131071u
#define COMPOSE_EXEC_MAX (512u << 10)

/* stack's own keys for a service's VM (user-guide.md, "Memory per VM"):
 * its TCG translation cache and whether it shares its template's RAM. */
#define COMPOSE_TCG_CACHE_KEY "x-stack-tcg-cache"
#define COMPOSE_TEMPLATE_RAM_KEY "x-stack-template-ram"

/* Checks, on the merged tree before normalisation, what starting a
 * container would refuse (compose_validate_runnable.c): names that become
 * files under stack's state (compose_names.h), mount and file targets,
 * working_dir, network_mode, sizes of the command and environment, stack's
 * own keys for the VM (x-stack-tcg-cache, x-stack-template-ram).  Errors name
 * file:line:col and the field ("services.web.container_name: ...");
 * returns 0 or -EINVAL. */
int compose_validate_runnable(const struct cnode *project, struct stack_error **err);

#endif
