/* A loaded project handed on as data: the normalised tree as JSON values
 * (compose_emit_json_tree()) read back into a tree and a model, without
 * the files, interpolation, merging, extends or env files it came from.
 * `stack up` loads the project once, in the CLI (where the errors are
 * reported, with file:line:col), and hands the supervisor the result. */
#ifndef STACK_COMPOSE_TREE_JSON_H
#define STACK_COMPOSE_TREE_JSON_H

#include "node.h"

typedef struct cJSON cJSON;
struct compose_project;
struct stack_error;

/* The tree of JSON values j: objects are maps, arrays sequences, strings
 * quoted scalars, numbers (and raw values, exact integers), booleans and
 * null plain ones (the emitter's rule, compose_normalize.h).  NULL when j is nested too deeply. */
struct cnode *compose_tree_from_json(const cJSON *j);

/* The project whose normalised tree is j (a client's data: checked
 * against the schema and the project's consistency before the model is
 * built; the canonical and normalised forms are kept as they are).
 * working_dir is the project directory. */
int compose_project_from_json(const cJSON *j, const char *working_dir,
                              struct compose_project **out, struct stack_error **err);

#endif
