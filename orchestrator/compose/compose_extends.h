/* `extends`: a service built on another one, from the same file or from
 * another file, recursively, with cycles reported.  The extended service is
 * copied and the extending one merged over it with the usual override rules
 * (compose_merge.h). */
#ifndef STACK_COMPOSE_EXTENDS_H
#define STACK_COMPOSE_EXTENDS_H

#include "node.h"

struct stack_error;

/* Loads another Compose file (path as written, relative to base_dir) into
 * a canonical tree whose relative paths are already resolved against that
 * file's directory.  *abs_path is its absolute path (caller frees). */
typedef int (*compose_extends_loader)(void *ud, const char *base_dir, const char *path,
                                      struct cnode **tree, char **abs_path,
                                      struct stack_error **err);

/* Resolves every `extends` in the services of one canonical file tree.
 * file_path is the tree's own absolute path (for cycle detection) and
 * base_dir its directory. */
int compose_extends_apply(struct cnode *tree, const char *file_path, const char *base_dir,
                          compose_extends_loader load, void *ud, struct stack_error **err);

#endif
