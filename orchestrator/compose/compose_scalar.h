/* How a scalar of the Compose tree reads: quoted scalars are strings; plain
 * ones resolve as YAML 1.2 core does (and Go's yaml.v3, which compose-go
 * uses): null, true/false, integers (decimal, 0x, 0o, 0b, legacy 0-octal),
 * floats (including .inf/.nan), else strings. */
#ifndef STACK_COMPOSE_SCALAR_H
#define STACK_COMPOSE_SCALAR_H

#include <stdbool.h>
#include <stdint.h>

#include "node.h"

enum cscalar_type { CSCALAR_NULL, CSCALAR_BOOL, CSCALAR_INT, CSCALAR_FLOAT, CSCALAR_STRING };

/* The type of a scalar node (or CNODE_NULL); maps and sequences are strings
 * for lack of anything better (callers check kind first). */
enum cscalar_type cscalar_type(const struct cnode *n);
/* The type plain text would have. */
enum cscalar_type cscalar_type_of(const char *s);

/* Parses YAML integer text (any base cscalar_type_of accepts); false if it
 * is not one or overflows. */
bool cscalar_parse_int(const char *s, int64_t *out);
/* Parses YAML float or integer text. */
bool cscalar_parse_float(const char *s, double *out);
/* Parses true/false in the spellings YAML 1.2 allows. */
bool cscalar_parse_bool(const char *s, bool *out);

/* Whether two trees hold the same data (positions and tags ignored; a quoted
 * "1" differs from a plain 1). */
bool cnode_equal(const struct cnode *a, const struct cnode *b);

#endif
