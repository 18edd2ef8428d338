/* Paths into the Compose tree ("services.web.ports.[].target") and patterns
 * over them, for the stages that treat keys by where they are. */
#ifndef STACK_COMPOSE_PATH_H
#define STACK_COMPOSE_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define CPATH_MAX_DEPTH 300

struct cpath {
  const char *segs[CPATH_MAX_DEPTH]; /* a map key, or NULL for a sequence index */
  size_t depth;
};

/* Whether the path matches a pattern: segments joined by '.', where '*' is
 * any key, '[]' any sequence index and 'a|b' either key. */
bool cpath_match(const char *pattern, const struct cpath *p);

/* How many segments a pattern has: a path of another depth never matches,
 * which callers check first since most paths fail there. */
size_t cpath_pattern_depth(const char *pattern);

/* "services.web.ports.[]" (caller frees). */
char *cpath_string(const struct cpath *p);

/* The service a path is under ("services.<name>..."), or NULL. */
const char *cpath_service(const struct cpath *p);

#endif
