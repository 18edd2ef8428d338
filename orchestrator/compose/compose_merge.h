/* Merging Compose trees with compose-go's override rules
 * (override/merge.go + override/uncity.go), on canonical (long-syntax)
 * trees:
 *
 *   mappings merge key by key; a null override keeps the base value;
 *   sequences append, then entries that redefine an earlier one replace it
 *   in place (ports by ip:published:target/protocol, volumes/devices by
 *   target, secrets/configs by target, env_file by path, environment-like
 *   lists, dns*, cap_*, profiles, tmpfs, links, aliases by value);
 *   command, entrypoint, healthcheck.test and ulimits.* are replaced;
 *   logging is merged only if both drivers agree (or one is unset);
 *   extra_hosts appends entries not already present;
 *   `!reset` removes the key, `!override` replaces the value, `!merge` on a
 *   sequence merges it element by element with the base.
 */
#ifndef STACK_COMPOSE_MERGE_H
#define STACK_COMPOSE_MERGE_H

#include "node.h"

struct stack_error;

/* Merges `over` into `*base` (a mapping, or NULL for an empty one) and
 * takes ownership of `over`, also on failure.  `!reset`/`!override` tags
 * are resolved, so the result holds none.  Returns 0 or -EINVAL ("cannot
 * override <path>" with file:line:col when a mapping meets a non-mapping). */
int compose_merge(struct cnode **base, struct cnode *over, struct stack_error **err);

/* Merges two nodes found at `path` (e.g. "services.web", for extends) with
 * the same rules; takes ownership of over. */
int compose_merge_at(struct cnode **base, struct cnode *over, const char *path,
                     struct stack_error **err);

/* Drops later redefinitions in the sequences compose-go keeps unique (see
 * above); compose_merge() applies it to its result. */
void compose_merge_unicity(struct cnode *tree);

/* Tags that steer merging (!reset, !override, !merge) remembered by key
 * path, because compose_canonical() rebuilds the nodes it rewrites.  Save
 * before canonicalising, restore after; restore frees the list. */
struct compose_tags;
struct compose_tags *compose_tags_save(const struct cnode *tree);
void compose_tags_restore(struct cnode *tree, struct compose_tags *tags);

#endif
