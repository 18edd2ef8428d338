/* .dockerignore: which files of a build context stay out of it, as moby's
 * patternmatcher and ignorefile decide (the reference for docker build and
 * BuildKit): one pattern a line, `#` comments, `*` and `?` within a path
 * component, `**` across components, `[a-z]` classes, `\` escapes, `!`
 * exceptions re-including what an earlier pattern excluded, the last
 * matching pattern deciding.  A path is excluded when it or one of its
 * parent directories matches. */
#ifndef STACK_BUILDER_DOCKERIGNORE_H
#define STACK_BUILDER_DOCKERIGNORE_H
#include <stdbool.h>
#include <stddef.h>

#include "runtime/util/error.h"

struct dockerignore;

/* Parses the content of a .dockerignore (path names it in messages); a
 * malformed pattern (an unclosed `[`, a lone `!`, a trailing `\`) is an
 * error naming the line. */
int dockerignore_parse(const char *path, const char *data, size_t len, struct dockerignore **out,
                       struct stack_error **err);
/* The same from a list of patterns (NULL-terminated), e.g. Compose's
 * develop.watch ignore. */
int dockerignore_new(char *const *patterns, struct dockerignore **out, struct stack_error **err);
void dockerignore_free(struct dockerignore *di);
static inline void dockerignore_freep(struct dockerignore **di) { dockerignore_free(*di); }

/* Is path (slash-separated, relative to the context root) excluded? */
bool dockerignore_excludes(const struct dockerignore *di, const char *path);
/* Does any pattern start with `!`?  A walker may then not skip an excluded
 * directory: something below it may be included again. */
bool dockerignore_has_exceptions(const struct dockerignore *di);
/* The patterns as cleaned (with their `!`), NULL-terminated; for tests and
 * the build cache key. */
char *const *dockerignore_patterns(const struct dockerignore *di);

#endif
