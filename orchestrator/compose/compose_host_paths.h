/* Host directories a bind mount may not share without an explicit opt-in.
 *
 * A bind mount gives the guest what Docker gives a container: its root
 * may change the files (read_only aside), with the host's owners and
 * modes.  Some host paths make that the whole host: its root file system,
 * /etc, the kernel's interfaces (/proc, /sys, /dev and what lies in them),
 * the Docker daemon's socket (and a directory holding it), and stack's own
 * state (its data root, cache and run directories, what lies in them and
 * the directories holding them: other projects' volumes, the images every
 * VM boots).  A Compose file that bind-mounts one is refused at load,
 * naming file:line:col, unless the service -- or the project, at the top
 * level -- sets `x-stack-allow-host-paths: true`.  Paths are compared as
 * written (cleaned) and with their symbolic links resolved. */
#ifndef STACK_COMPOSE_HOST_PATHS_H
#define STACK_COMPOSE_HOST_PATHS_H

#include <stdbool.h>

#include "node.h"

#define COMPOSE_ALLOW_HOST_PATHS "x-stack-allow-host-paths"

/* Why path may not be shared ("the host's root file system", ...), newly
 * allocated; NULL when it may.  stack_dirs: NULL-terminated directories of
 * stack's own state (NULL: stack's data root, cache and run directories). */
char *compose_host_path_sensitive(const char *path, const char *const *stack_dirs);

/* Whether the service (its mapping) or the project (the whole tree, either
 * may be NULL) sets x-stack-allow-host-paths: true. */
bool compose_host_paths_allowed(const struct cnode *project, const struct cnode *service);

/* The refusal for a bind mount of path (why: from
 * compose_host_path_sensitive()), newly allocated: what it gives away and
 * how to allow it. */
char *compose_host_path_refusal(const char *path, const char *why, bool read_only);

#endif
