/* The generic document tree the Compose loader works on.
 *
 * YAML is parsed into this tree (compose_yaml.c), then every later stage
 * (interpolation, merge, extends/include, normalisation, validation) rewrites
 * the tree; only the end of loading turns it into the typed, immutable model
 * (compose_model.h).  Every node keeps the file, line and column it came from,
 * so that any stage can name them in an error.
 */
#ifndef STACK_COMPOSE_NODE_H
#define STACK_COMPOSE_NODE_H

#include <stdbool.h>
#include <stddef.h>

enum cnode_kind { CNODE_NULL, CNODE_SCALAR, CNODE_SEQ, CNODE_MAP };

/* Where a node came from.  `file` is shared by every node of one file and
 * lives as long as any of them (reference counted). */
struct cnode_src {
  int refs;
  char *path; /* as given by the user, "-" for stdin */
};

struct cnode_pair;

struct cnode {
  enum cnode_kind kind;
  struct cnode_src *src; /* may be NULL for nodes made by the loader */
  unsigned line, col;    /* 1-based; 0 if unknown */
  char *tag;             /* explicit YAML tag ("!reset", "!override", ...) or NULL */
  /* CNODE_SCALAR: the text; `quoted` is true for quoted and block scalars
   * (always strings), false for plain ones (may be bool/int/null). */
  char *str;
  bool quoted;
  /* CNODE_SEQ: items[0..n); CNODE_MAP: pairs[0..n), keys unique. */
  size_t n, cap;
  struct cnode **items;
  struct cnode_pair *pairs;
};

struct cnode_pair {
  struct cnode *key; /* a scalar */
  struct cnode *value;
};

struct cnode *cnode_new(enum cnode_kind kind, struct cnode_src *src, unsigned line, unsigned col);
/* A new plain (quoted=false) or quoted scalar holding a copy of s. */
struct cnode *cnode_new_scalar(const char *s, bool quoted, struct cnode_src *src, unsigned line,
                               unsigned col);
/* A new scalar that takes its position from `at` (for values the loader makes). */
struct cnode *cnode_scalar_at(const char *s, bool quoted, const struct cnode *at);
void cnode_free(struct cnode *n);
void cnode_freep(struct cnode **n);
#define _cleanup_cnode_ __attribute__((cleanup(cnode_freep)))

/* Deep copy. */
struct cnode *cnode_clone(const struct cnode *n);

struct cnode_src *cnode_src_new(const char *path);
struct cnode_src *cnode_src_ref(struct cnode_src *s);
void cnode_src_unref(struct cnode_src *s);

/* Appends to a sequence (takes ownership of item). */
void cnode_seq_append(struct cnode *seq, struct cnode *item);
/* Sets key in a map, replacing (and freeing) an existing value; takes
 * ownership of value.  The key node is made at value's position. */
void cnode_map_set(struct cnode *map, const char *key, struct cnode *value);
/* Like cnode_map_set but with an existing key node (ownership taken). */
void cnode_map_set_node(struct cnode *map, struct cnode *key, struct cnode *value);
/* Removes key from a map; returns whether it was there. */
bool cnode_map_remove(struct cnode *map, const char *key);
/* Detaches and returns the value of key (the pair is removed), or NULL. */
struct cnode *cnode_map_take(struct cnode *map, const char *key);

/* Lookup in a map; NULL if map is not a map or has no such key. */
struct cnode *cnode_map_get(const struct cnode *map, const char *key);
/* The pair for key, for its key position; NULL if absent. */
struct cnode_pair *cnode_map_get_pair(const struct cnode *map, const char *key);
/* The scalar text of map[key], or NULL if absent or not a scalar. */
const char *cnode_map_get_str(const struct cnode *map, const char *key);

/* Whether a plain scalar reads as YAML null (~, null, Null, NULL, empty). */
bool cnode_is_null(const struct cnode *n);

/* "file:line:col" of a node for messages (a static-free, newly allocated
 * string; "<input>" where unknown).  Caller frees. */
char *cnode_where(const struct cnode *n);

#endif
