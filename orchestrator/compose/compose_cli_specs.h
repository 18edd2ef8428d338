/* Specs given on a command line (`stack run SERVICE -v SPEC -p SPEC`), read
 * by the same code as a Compose file's short syntax: written as the
 * `volumes:` or `ports:` of a one-service file that goes through the
 * file's own pipeline (schema, canonical form, model). */
#ifndef STACK_COMPOSE_CLI_SPECS_H
#define STACK_COMPOSE_CLI_SPECS_H

#include <stddef.h>

struct compose_project;
struct stack_error;

/* Volumes: "[SOURCE:]TARGET[:OPTIONS]", a SOURCE that is a path (./, /, ~)
 * being a bind mount, any other a named volume.  Reads specs (n of them) with relative bind sources made absolute against
 * base_dir.  The mounts are *out's one service's `volumes` (n_volumes ==
 * n): a small project the caller frees with compose_project_free().
 * Errors say which spec is wrong and why. */
int compose_mount_specs(char *const *specs, size_t n, const char *base_dir,
                        struct compose_project **out, struct stack_error **err);

/* Ports: "[IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]" (ranges expand to
 * one port each).  The ports are *out's one service's `ports`: a small
 * project the caller frees with compose_project_free().  Errors say which
 * spec is wrong and why. */
int compose_port_specs(char *const *specs, size_t n, struct compose_project **out,
                       struct stack_error **err);

#endif
