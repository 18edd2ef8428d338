/* Variable interpolation in Compose files, as compose-go's template package:
 *
 *   $$             a literal $
 *   $VAR ${VAR}    the value, "" when unset
 *   ${VAR:-d}      d when VAR is unset or empty      ${VAR-d}  only when unset
 *   ${VAR:?e}      error e when VAR is unset or empty ${VAR?e}  only when unset
 *   ${VAR:+r}      r when VAR is set and not empty   ${VAR+r}  when set
 *
 * d, e and r are templates themselves (nested), and braces inside them may
 * nest ("${X:-{"a":1}}").  A `$` followed by anything else stays literal. */
#ifndef STACK_COMPOSE_INTERP_H
#define STACK_COMPOSE_INTERP_H

#include "node.h"

struct stack_error;

/* Returns the value of a variable, or NULL when it is unset. */
typedef const char *(*compose_lookup_fn)(const char *name, void *ud);

/* Deepest nesting of templates in defaults/replacements. */
#define COMPOSE_INTERP_MAX_DEPTH 64

/* Substitutes every variable in tmpl; *out is a new string.  Errors:
 * "Invalid template: ..." (-EINVAL) and "required variable X is missing a
 * value: <message>" (-EINVAL). */
int compose_interp_string(const char *tmpl, compose_lookup_fn lookup, void *ud, char **out,
                          struct stack_error **err);

/* Hears of each $VAR or ${VAR} whose VAR is unset (it becomes "", which
 * compose-go warns about). */
typedef void (*compose_unset_fn)(const char *name, void *ud);

/* Interpolates every scalar value of a tree in place (mapping keys are left
 * as written); unset (may be NULL) hears of the unset variables.  Errors
 * name file:line:col and the key path. */
int compose_interp_tree(struct cnode *root, compose_lookup_fn lookup, compose_unset_fn unset,
                        void *ud, struct stack_error **err);

#endif
