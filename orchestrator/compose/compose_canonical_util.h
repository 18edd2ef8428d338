/* Helpers shared by the normalisation stages (compose_canonical.c,
 * compose_typing.c, compose_finalize.c, compose_paths.c); not a public API. */
#ifndef STACK_COMPOSE_CANONICAL_UTIL_H
#define STACK_COMPOSE_CANONICAL_UTIL_H

#include <stdint.h>

#include "node.h"

struct stack_error;

/* New quoted (string) / plain scalars, and empty containers, placed at `at`. */
struct cnode *cn_str(const char *s, const struct cnode *at);
struct cnode *cn_plain(const char *s, const struct cnode *at);
struct cnode *cn_container(enum cnode_kind kind, const struct cnode *at);

/* Sets *err to "<file:line:col>: [service "<svc>": ]<message>"; returns -EINVAL. */
int cn_fail(struct stack_error **err, const struct cnode *at, const char *service,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Splits a command string into words as compose-go does (go-shellwords:
 * quotes and backslashes, no expansion) into a new sequence of strings. */
int cn_shell_split(const struct cnode *at, const char *s, struct cnode **out,
                   struct stack_error **err);

/* path.Clean (lexical: "//", ".", ".." resolved). */
char *cn_clean_path(const char *p);

/* Gives every scalar of a canonical tree the type compose-go's model has for
 * it: booleans, integers, floats, byte sizes and durations (normalised
 * text), file modes, and strings (quoted) everywhere else; `x-`
 * extensions are left alone. */
int compose_apply_types(struct cnode *tree, struct stack_error **err);

/* Sorts each service's extra_hosts (and build.extra_hosts) as compose-go
 * prints them; merging appends, so the stages after it call this. */
void compose_sort_extra_hosts(struct cnode *project);

/* Formats nanoseconds as Go's time.Duration.String() does ("1m30s"). */
char *compose_format_duration(int64_t ns);

#endif
