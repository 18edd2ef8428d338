#include "compose_yaml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/strindex.h"
#include "runtime/util/xalloc.h"

#define CORE_TAG "tag:yaml.org,2002:"

/* A collection being built.  size and height count what the finished node
 * will hold, aliases included, so that anchors know their expanded cost. */
struct frame {
  struct cnode *node;
  char *anchor;
  size_t size;
  unsigned height;
  struct cnode *key; /* a map's key waiting for its value */
  struct cnode *merges; /* a map's `<<` sources, in order (a CNODE_SEQ) */
  struct strindex keys; /* a map's keys -> pair index, for duplicates */
};

struct anchor {
  char *name;
  struct cnode *node; /* owned copy-source */
  size_t size;
  unsigned height;
};

struct yparse {
  yaml_parser_t parser;
  struct cnode_src *src;
  struct frame *stack;
  size_t depth, stack_cap;
  struct anchor *anchors;
  size_t nanchors, anchors_cap;
  size_t own;      /* nodes written out in the input */
  size_t expanded; /* nodes made by alias expansion */
  struct cnode *docs;
  struct cnode *root; /* the current document's root once complete */
};

static void frame_clear(struct frame *f) {
  cnode_free(f->node);
  cnode_free(f->key);
  cnode_free(f->merges);
  free(f->anchor);
  strindex_free(&f->keys);
  memset(f, 0, sizeof(*f));
}

static void anchors_clear(struct yparse *y) {
  for (size_t i = 0; i < y->nanchors; i++) {
    free(y->anchors[i].name);
    cnode_free(y->anchors[i].node);
  }
  y->nanchors = 0;
}

static void yparse_done(struct yparse *y) {
  while (y->depth > 0)
    frame_clear(&y->stack[--y->depth]);
  free(y->stack);
  anchors_clear(y);
  free(y->anchors);
  cnode_free(y->docs);
  cnode_free(y->root);
  cnode_src_unref(y->src);
  yaml_parser_delete(&y->parser);
}

static int fail_at(struct yparse *y, unsigned line, unsigned col, struct stack_error **err,
                   int code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail_at(struct yparse *y, unsigned line, unsigned col, struct stack_error **err,
                   int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  return stack_error_set(err, code, "%s:%u:%u: %s", y->src->path, line, col, msg);
}

static int fail_node(struct yparse *y, const struct cnode *n, struct stack_error **err,
                     const char *what) {
  return fail_at(y, n->line, n->col, err, -EINVAL, "%s", what);
}

/* Applies the tag of an event to a new node.  Core tags carry no meaning for
 * Compose except that `!!str` makes a plain scalar a string. */
static void apply_tag(struct cnode *n, const yaml_char_t *tag) {
  if (tag == NULL)
    return;
  const char *t = (const char *)tag;
  if (strncmp(t, CORE_TAG, strlen(CORE_TAG)) == 0) {
    if (n->kind == CNODE_SCALAR && strcmp(t + strlen(CORE_TAG), "str") == 0)
      n->quoted = true;
    return;
  }
  n->tag = xstrdup(t);
}

static bool is_merge_key(const struct cnode *k) {
  return k->kind == CNODE_SCALAR && !k->quoted && strcmp(k->str, "<<") == 0 &&
         (k->tag == NULL || strcmp(k->tag, CORE_TAG "merge") == 0);
}

static void append_pair(struct frame *f, struct cnode *key, struct cnode *value) {
  struct cnode *map = f->node;
  map->pairs = xgrow(map->pairs, &map->cap, map->n + 1, sizeof(*map->pairs));
  map->pairs[map->n].key = key;
  map->pairs[map->n].value = value;
  strindex_put(&f->keys, key->str, map->n);
  map->n++;
}

/* Moves the keys of one merge source that the map does not have yet. */
static int merge_from(struct yparse *y, struct frame *f, struct cnode *srcmap,
                      struct stack_error **err) {
  if (srcmap->kind != CNODE_MAP)
    return fail_node(y, srcmap, err,
                     "a merge key (<<) takes a mapping or a list of mappings (use an alias "
                     "like <<: *name)");
  for (size_t i = 0; i < srcmap->n; i++) {
    struct cnode_pair *p = &srcmap->pairs[i];
    if (strindex_get(&f->keys, p->key->str) != STRINDEX_NONE)
      continue;
    append_pair(f, steal_pointer(&p->key), steal_pointer(&p->value));
  }
  return 0;
}

static int apply_merges(struct yparse *y, struct frame *f, struct stack_error **err) {
  struct cnode *m = f->merges;
  for (size_t i = 0; m && i < m->n; i++) {
    struct cnode *v = m->items[i];
    int r = 0;
    if (v->kind == CNODE_SEQ) {
      for (size_t j = 0; r == 0 && j < v->n; j++)
        r = merge_from(y, f, v->items[j], err);
    } else {
      r = merge_from(y, f, v, err);
    }
    if (r < 0)
      return r;
  }
  return 0;
}

/* Hands a finished node to its parent (or makes it the document root). */
static int deliver(struct yparse *y, struct cnode *node, size_t size, unsigned height,
                   struct stack_error **err) {
  _cleanup_cnode_ struct cnode *n = node;
  if (y->depth == 0) {
    cnode_free(y->root);
    y->root = steal_pointer(&n);
    return 0;
  }
  struct frame *f = &y->stack[y->depth - 1];
  f->size += size;
  if (height + 1 > f->height)
    f->height = height + 1;
  if (f->node->kind == CNODE_SEQ) {
    cnode_seq_append(f->node, steal_pointer(&n));
    return 0;
  }
  if (f->key == NULL) {
    if (n->kind != CNODE_SCALAR)
      return fail_node(y, n, err, "mapping keys must be strings, not lists or mappings");
    f->key = steal_pointer(&n);
    return 0;
  }
  _cleanup_cnode_ struct cnode *key = steal_pointer(&f->key);
  if (is_merge_key(key)) {
    if (f->merges == NULL)
      f->merges = cnode_new(CNODE_SEQ, NULL, 0, 0);
    cnode_seq_append(f->merges, steal_pointer(&n));
    return 0;
  }
  size_t dup_at = strindex_get(&f->keys, key->str);
  if (dup_at != STRINDEX_NONE) {
    const struct cnode_pair *dup = &f->node->pairs[dup_at];
    _cleanup_free_ char *msg =
        xasprintf("duplicate key \"%s\" (already defined at line %u, column %u); remove one of "
                  "them",
                  key->str, dup->key->line, dup->key->col);
    return fail_node(y, key, err, msg);
  }
  append_pair(f, steal_pointer(&key), steal_pointer(&n));
  return 0;
}

static void add_anchor(struct yparse *y, char *name, const struct cnode *n, size_t size,
                       unsigned height) {
  y->anchors = xgrow(y->anchors, &y->anchors_cap, y->nanchors + 1, sizeof(*y->anchors));
  y->anchors[y->nanchors++] =
      (struct anchor){.name = name, .node = cnode_clone(n), .size = size, .height = height};
}

static int on_alias(struct yparse *y, const yaml_event_t *ev, struct stack_error **err) {
  unsigned line = (unsigned)ev->start_mark.line + 1, col = (unsigned)ev->start_mark.column + 1;
  const char *name = (const char *)ev->data.alias.anchor;
  const struct anchor *a = NULL;
  for (size_t i = y->nanchors; i-- > 0;) {
    if (strcmp(y->anchors[i].name, name) == 0) {
      a = &y->anchors[i];
      break;
    }
  }
  if (a == NULL)
    return fail_at(y, line, col, err, -EINVAL,
                   "unknown anchor '%s' referenced (define it with &%s before using *%s; an "
                   "anchor cannot refer to itself)",
                   name, name, name);
  size_t total = y->expanded + a->size;
  if (total > COMPOSE_YAML_MAX_EXPANDED ||
      (total > COMPOSE_YAML_ALIAS_FREE && total / 10 > y->own))
    return fail_at(y, line, col, err, -E2BIG,
                   "aliases would expand to %zu nodes from a document of %zu nodes: refusing "
                   "excessive aliasing (an alias bomb?); use fewer nested anchors",
                   total, y->own);
  if (y->depth + a->height > COMPOSE_YAML_MAX_DEPTH)
    return fail_at(y, line, col, err, -EINVAL, "alias '%s' nests deeper than %u levels", name,
                   COMPOSE_YAML_MAX_DEPTH);
  y->expanded = total;
  return deliver(y, cnode_clone(a->node), a->size, a->height, err);
}

static int on_scalar(struct yparse *y, const yaml_event_t *ev, struct stack_error **err) {
  unsigned line = (unsigned)ev->start_mark.line + 1, col = (unsigned)ev->start_mark.column + 1;
  const char *v = (const char *)ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  if (memchr(v, '\0', len))
    return fail_at(y, line, col, err, -EINVAL, "strings may not contain NUL characters");
  struct cnode *n = cnode_new(CNODE_SCALAR, y->src, line, col);
  n->str = xstrndup(v, len);
  n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
  apply_tag(n, ev->data.scalar.tag);
  y->own++;
  if (ev->data.scalar.anchor)
    add_anchor(y, xstrdup((const char *)ev->data.scalar.anchor), n, 1, 0);
  return deliver(y, n, 1, 0, err);
}

static int on_start(struct yparse *y, const yaml_event_t *ev, enum cnode_kind kind,
                    struct stack_error **err) {
  unsigned line = (unsigned)ev->start_mark.line + 1, col = (unsigned)ev->start_mark.column + 1;
  if (y->depth >= COMPOSE_YAML_MAX_DEPTH)
    return fail_at(y, line, col, err, -EINVAL, "nesting deeper than %u levels",
                   COMPOSE_YAML_MAX_DEPTH);
  const yaml_char_t *tag, *anchor;
  if (kind == CNODE_SEQ) {
    tag = ev->data.sequence_start.tag;
    anchor = ev->data.sequence_start.anchor;
  } else {
    tag = ev->data.mapping_start.tag;
    anchor = ev->data.mapping_start.anchor;
  }
  y->stack = xgrow(y->stack, &y->stack_cap, y->depth + 1, sizeof(*y->stack));
  struct frame *f = &y->stack[y->depth++];
  memset(f, 0, sizeof(*f));
  f->node = cnode_new(kind, y->src, line, col);
  apply_tag(f->node, tag);
  f->anchor = anchor ? xstrdup((const char *)anchor) : NULL;
  f->size = 1;
  y->own++;
  return 0;
}

static int on_end(struct yparse *y, struct stack_error **err) {
  struct frame *f = &y->stack[y->depth - 1];
  if (f->node->kind == CNODE_MAP) {
    int r = apply_merges(y, f, err);
    if (r < 0)
      return r;
  }
  struct cnode *n = steal_pointer(&f->node);
  char *anchor = steal_pointer(&f->anchor);
  size_t size = f->size;
  unsigned height = f->height;
  frame_clear(f);
  y->depth--;
  if (anchor)
    add_anchor(y, anchor, n, size, height);
  return deliver(y, n, size, height, err);
}

static int parser_error(struct yparse *y, struct stack_error **err) {
  const yaml_parser_t *p = &y->parser;
  if (p->error == YAML_MEMORY_ERROR) {
    return stack_error_set(err, -ENOMEM, "%s: out of memory while parsing YAML", y->src->path);
  }
  const char *problem = p->problem ? p->problem : "invalid YAML";
  if (p->context)
    return fail_at(y, (unsigned)p->problem_mark.line + 1, (unsigned)p->problem_mark.column + 1,
                   err, -EINVAL, "invalid YAML: %s %s (line %u)", problem, p->context,
                   (unsigned)p->context_mark.line + 1);
  return fail_at(y, (unsigned)p->problem_mark.line + 1, (unsigned)p->problem_mark.column + 1, err,
                 -EINVAL, "invalid YAML: %s", problem);
}

static int handle(struct yparse *y, const yaml_event_t *ev, struct stack_error **err) {
  switch (ev->type) {
  case YAML_DOCUMENT_START_EVENT:
    anchors_clear(y); /* anchors are scoped to one document */
    return 0;
  case YAML_DOCUMENT_END_EVENT: {
    struct cnode *root = steal_pointer(&y->root);
    if (root == NULL)
      root = cnode_new_scalar("", false, y->src, (unsigned)ev->start_mark.line + 1,
                              (unsigned)ev->start_mark.column + 1);
    cnode_seq_append(y->docs, root);
    return 0;
  }
  case YAML_SCALAR_EVENT:
    return on_scalar(y, ev, err);
  case YAML_ALIAS_EVENT:
    return on_alias(y, ev, err);
  case YAML_SEQUENCE_START_EVENT:
    return on_start(y, ev, CNODE_SEQ, err);
  case YAML_MAPPING_START_EVENT:
    return on_start(y, ev, CNODE_MAP, err);
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    return on_end(y, err);
  default:
    return 0;
  }
}

int compose_yaml_parse_all(const char *buf, size_t len, const char *path, struct cnode **out,
                           struct stack_error **err) {
  struct yparse y = {0};
  if (!yaml_parser_initialize(&y.parser))
    return stack_error_set(err, -ENOMEM, "cannot initialise the YAML parser");
  y.src = cnode_src_new(path);
  y.docs = cnode_new(CNODE_SEQ, y.src, 1, 1);
  yaml_parser_set_input_string(&y.parser, (const unsigned char *)buf, len);
  int r = 0;
  for (bool done = false; !done && r == 0;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&y.parser, &ev)) {
      r = parser_error(&y, err);
      break;
    }
    done = ev.type == YAML_STREAM_END_EVENT;
    r = handle(&y, &ev, err);
    yaml_event_delete(&ev);
  }
  if (r == 0)
    *out = steal_pointer(&y.docs);
  yparse_done(&y);
  return r;
}

int compose_yaml_parse(const char *buf, size_t len, const char *path, struct cnode **out,
                       struct stack_error **err) {
  _cleanup_cnode_ struct cnode *docs = NULL;
  int r = compose_yaml_parse_all(buf, len, path, &docs, err);
  if (r < 0)
    return r;
  if (docs->n > 1)
    return stack_error_set(err, -EINVAL,
                           "%s:%u:%u: expected a single YAML document, found %zu (remove the "
                           "extra '---' separators)",
                           path, docs->items[1]->line, docs->items[1]->col, docs->n);
  if (docs->n == 0) {
    *out = cnode_new_scalar("", false, docs->src, 1, 1);
    return 0;
  }
  *out = steal_pointer(&docs->items[0]);
  return 0;
}

int compose_yaml_read_file(const char *path, struct cnode **out, struct stack_error **err) {
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  int r = strcmp(path, "-") == 0
              ? fs_read_fd(0, "standard input", COMPOSE_YAML_MAX_FILE, &buf, &len, err)
              : fs_read_file(path, COMPOSE_YAML_MAX_FILE, &buf, &len, err);
  if (r < 0)
    return r;
  return compose_yaml_parse_all(buf, len, path, out, err);
}
