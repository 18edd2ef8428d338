#include "node.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/util/xalloc.h"

struct cnode_src *cnode_src_new(const char *path) {
  struct cnode_src *s = xcalloc(1, sizeof(*s));
  s->refs = 1;
  s->path = xstrdup(path);
  return s;
}

struct cnode_src *cnode_src_ref(struct cnode_src *s) {
  if (s)
    s->refs++;
  return s;
}

void cnode_src_unref(struct cnode_src *s) {
  if (s && --s->refs == 0) {
    free(s->path);
    free(s);
  }
}

struct cnode *cnode_new(enum cnode_kind kind, struct cnode_src *src, unsigned line, unsigned col) {
  struct cnode *n = xcalloc(1, sizeof(*n));
  n->kind = kind;
  n->src = cnode_src_ref(src);
  n->line = line;
  n->col = col;
  return n;
}

struct cnode *cnode_new_scalar(const char *s, bool quoted, struct cnode_src *src, unsigned line,
                               unsigned col) {
  struct cnode *n = cnode_new(CNODE_SCALAR, src, line, col);
  n->str = xstrdup(s);
  n->quoted = quoted;
  return n;
}

struct cnode *cnode_scalar_at(const char *s, bool quoted, const struct cnode *at) {
  return at ? cnode_new_scalar(s, quoted, at->src, at->line, at->col)
            : cnode_new_scalar(s, quoted, NULL, 0, 0);
}

void cnode_free(struct cnode *n) {
  if (n == NULL)
    return;
  for (size_t i = 0; i < n->n; i++) {
    if (n->kind == CNODE_SEQ) {
      cnode_free(n->items[i]);
    } else if (n->kind == CNODE_MAP) {
      cnode_free(n->pairs[i].key);
      cnode_free(n->pairs[i].value);
    }
  }
  free(n->items);
  free(n->pairs);
  free(n->str);
  free(n->tag);
  cnode_src_unref(n->src);
  free(n);
}

void cnode_freep(struct cnode **n) {
  cnode_free(*n);
  *n = NULL;
}

struct cnode *cnode_clone(const struct cnode *n) {
  if (n == NULL)
    return NULL;
  struct cnode *c = cnode_new(n->kind, n->src, n->line, n->col);
  c->tag = n->tag ? xstrdup(n->tag) : NULL;
  c->str = n->str ? xstrdup(n->str) : NULL;
  c->quoted = n->quoted;
  if (n->kind == CNODE_SEQ) {
    c->items = xcalloc(n->n ? n->n : 1, sizeof(*c->items));
    c->cap = n->n;
    for (size_t i = 0; i < n->n; i++)
      c->items[i] = cnode_clone(n->items[i]);
    c->n = n->n;
  } else if (n->kind == CNODE_MAP) {
    c->pairs = xcalloc(n->n ? n->n : 1, sizeof(*c->pairs));
    c->cap = n->n;
    for (size_t i = 0; i < n->n; i++) {
      c->pairs[i].key = cnode_clone(n->pairs[i].key);
      c->pairs[i].value = cnode_clone(n->pairs[i].value);
    }
    c->n = n->n;
  }
  return c;
}

void cnode_seq_append(struct cnode *seq, struct cnode *item) {
  seq->items = xgrow(seq->items, &seq->cap, seq->n + 1, sizeof(*seq->items));
  seq->items[seq->n++] = item;
}

struct cnode_pair *cnode_map_get_pair(const struct cnode *map, const char *key) {
  if (map == NULL || map->kind != CNODE_MAP)
    return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (strcmp(map->pairs[i].key->str, key) == 0)
      return &map->pairs[i];
  return NULL;
}

struct cnode *cnode_map_get(const struct cnode *map, const char *key) {
  struct cnode_pair *p = cnode_map_get_pair(map, key);
  return p ? p->value : NULL;
}

const char *cnode_map_get_str(const struct cnode *map, const char *key) {
  struct cnode *v = cnode_map_get(map, key);
  return v && v->kind == CNODE_SCALAR ? v->str : NULL;
}

void cnode_map_set_node(struct cnode *map, struct cnode *key, struct cnode *value) {
  struct cnode_pair *p = cnode_map_get_pair(map, key->str);
  if (p) {
    cnode_free(p->value);
    p->value = value;
    cnode_free(key);
    return;
  }
  map->pairs = xgrow(map->pairs, &map->cap, map->n + 1, sizeof(*map->pairs));
  map->pairs[map->n].key = key;
  map->pairs[map->n].value = value;
  map->n++;
}

void cnode_map_set(struct cnode *map, const char *key, struct cnode *value) {
  cnode_map_set_node(map, cnode_scalar_at(key, false, value), value);
}

struct cnode *cnode_map_take(struct cnode *map, const char *key) {
  if (map == NULL || map->kind != CNODE_MAP)
    return NULL;
  for (size_t i = 0; i < map->n; i++) {
    if (strcmp(map->pairs[i].key->str, key) == 0) {
      struct cnode *v = map->pairs[i].value;
      cnode_free(map->pairs[i].key);
      memmove(&map->pairs[i], &map->pairs[i + 1], (map->n - i - 1) * sizeof(*map->pairs));
      map->n--;
      return v;
    }
  }
  return NULL;
}

bool cnode_map_remove(struct cnode *map, const char *key) {
  struct cnode_pair *p = cnode_map_get_pair(map, key);
  if (p == NULL)
    return false;
  cnode_free(cnode_map_take(map, key));
  return true;
}

bool cnode_is_null(const struct cnode *n) {
  if (n == NULL || n->kind == CNODE_NULL)
    return true;
  if (n->kind != CNODE_SCALAR || n->quoted)
    return false;
  const char *s = n->str;
  return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
         strcmp(s, "NULL") == 0;
}

char *cnode_where(const struct cnode *n) {
  if (n == NULL || n->src == NULL)
    return xstrdup("<input>");
  if (n->line == 0)
    return xstrdup(n->src->path);
  return xasprintf("%s:%u:%u", n->src->path, n->line, n->col);
}
