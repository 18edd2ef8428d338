/* YAML -> cnode tree (libyaml).
 *
 * Every node keeps its file, line and column.  Explicit tags (`!reset`,
 * `!override`) are kept on the node; the core `!!str` tag turns a plain
 * scalar into a string (quoted = true), other core (`tag:yaml.org,2002:`)
 * tags are dropped.  Anchors and aliases are expanded into copies, merge keys
 * (`<<: *x`, `<<: [*a, *b]`) are applied (explicit keys win, earlier sources
 * win over later ones), duplicate keys are an error naming both positions, and
 * alias expansion is bounded so that an alias bomb ("billion laughs") is
 * rejected before it can use up memory.
 */
#ifndef STACK_COMPOSE_YAML_H
#define STACK_COMPOSE_YAML_H

#include <stddef.h>

#include "node.h"

struct stack_error;

/* Nodes produced by alias expansion, across one input, may not exceed this
 * nor (once past COMPOSE_YAML_ALIAS_FREE) ten times the nodes written out in
 * the input itself. */
#define COMPOSE_YAML_MAX_EXPANDED 1000000u
#define COMPOSE_YAML_ALIAS_FREE 100000u
/* Deeper nesting is rejected: every later stage walks the tree recursively. */
#define COMPOSE_YAML_MAX_DEPTH 256u
/* Largest Compose file read from disk or stdin. */
#define COMPOSE_YAML_MAX_FILE (64u << 20)

/* Parses every document of buf[0..len) into a CNODE_SEQ of document roots
 * (an empty input gives an empty sequence; an empty document a null scalar).
 * path names the input in positions and messages ("-" for stdin). */
int compose_yaml_parse_all(const char *buf, size_t len, const char *path, struct cnode **out,
                           struct stack_error **err);

/* Like compose_yaml_parse_all() for input that must hold at most one
 * document; *out is its root (a null scalar for empty input). */
int compose_yaml_parse(const char *buf, size_t len, const char *path, struct cnode **out,
                       struct stack_error **err);

/* Reads path ("-" = standard input) and parses all its documents as
 * compose_yaml_parse_all() does. */
int compose_yaml_read_file(const char *path, struct cnode **out, struct stack_error **err);

#endif
