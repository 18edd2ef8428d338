/* Volume specs given on a command line (`stack run SERVICE -v SPEC`), read
 * exactly as the `volumes:` short syntax of a Compose file is:
 * "[SOURCE:]TARGET[:OPTIONS]", a SOURCE that is a path (./, /, ~) being a
 * bind mount, any other a named volume. */
#ifndef STACK_COMPOSE_MOUNT_SPEC_H
#define STACK_COMPOSE_MOUNT_SPEC_H

#include <stddef.h>

struct compose_project;
struct stack_error;

/* Reads specs (n of them) with relative bind sources made absolute against
 * base_dir.  The mounts are *out's one service's `volumes` (n_volumes ==
 * n): a small project the caller frees with compose_project_free().
 * Errors say which spec is wrong and why. */
int compose_mount_specs(char *const *specs, size_t n, const char *base_dir,
                        struct compose_project **out, struct stack_error **err);

#endif
