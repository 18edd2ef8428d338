/* Output of the normalised project tree as `docker compose config` prints
 * it: YAML (libyaml emitter) in compose-go's key order, or JSON (cJSON). */
#ifndef STACK_COMPOSE_EMIT_H
#define STACK_COMPOSE_EMIT_H

#include <stdbool.h>
#include <stdio.h>

#include "node.h"

struct stack_error;

enum compose_emit_format { COMPOSE_EMIT_YAML, COMPOSE_EMIT_JSON };

/* Writes the project tree.  Quoted scalars are strings, plain ones numbers,
 * booleans or null (see compose_normalize.h).  With `escape_dollar`, every
 * "$" in a string is written as "$$" so that the output loads again to the
 * same project, as Compose does.  Returns 0 or -errno. */
int compose_emit(FILE *out, const struct cnode *project, enum compose_emit_format fmt,
                 bool escape_dollar, struct stack_error **err);

typedef struct cJSON cJSON;

/* A tree (the project's, or a subtree such as a service's node) as the
 * JSON output holds its values, as cJSON values in memory (no text to parse
 * back), its mapping keys in the tree's own order.  Caller frees with
 * cJSON_Delete(). */
cJSON *compose_emit_json_tree(const struct cnode *n, bool escape_dollar);

/* The same into a newly allocated string (*text, caller frees). */
int compose_emit_string(char **text, const struct cnode *project, enum compose_emit_format fmt,
                        bool escape_dollar, struct stack_error **err);

#endif
