/* Test helper: tree comparison for the conformance tests. */
#include "helper_tree_compare.h"

#include <stdio.h>
#include <string.h>

#include "orchestrator/compose/compose_scalar.h"
#include "runtime/util/sbuf.h"

char *tree_replace_all(const char *s, const char *from, const char *to) {
  struct sbuf b = SBUF_INIT;
  size_t fl = strlen(from);
  for (const char *p; (p = strstr(s, from)) != NULL; s = p + fl) {
    sbuf_append(&b, s, p - s);
    sbuf_puts(&b, to);
  }
  sbuf_puts(&b, s);
  return sbuf_steal(&b);
}

int tree_compare(const struct cnode *a, const struct cnode *b, const char *path, int quiet) {
  enum cnode_kind ka = a ? a->kind : CNODE_NULL, kb = b ? b->kind : CNODE_NULL;
  if (ka == CNODE_SCALAR && cscalar_type(a) == CSCALAR_NULL)
    ka = CNODE_NULL;
  if (kb == CNODE_SCALAR && cscalar_type(b) == CSCALAR_NULL)
    kb = CNODE_NULL;
  if (ka != kb) {
    if (!quiet)
      fprintf(stderr, "%s: kind %d, expected %d\n", path, ka, kb);
    return 1;
  }
  int diffs = 0;
  char sub[1024];
  switch (ka) {
  case CNODE_NULL:
    return 0;
  case CNODE_SCALAR: {
    enum cscalar_type ta = cscalar_type(a), tb = cscalar_type(b);
    double da, db;
    if (ta != tb || (ta == CSCALAR_FLOAT ? !(cscalar_parse_float(a->str, &da) &&
                                             cscalar_parse_float(b->str, &db) && da == db)
                                         : strcmp(a->str, b->str) != 0)) {
      if (!quiet)
      fprintf(stderr, "%s: %s\"%s\", expected %s\"%s\"\n", path, a->quoted ? "quoted " : "",
              a->str, b->quoted ? "quoted " : "", b->str);
      return 1;
    }
    return 0;
  }
  case CNODE_SEQ:
    if (a->n != b->n) {
      if (!quiet)
      fprintf(stderr, "%s: %zu items, expected %zu\n", path, a->n, b->n);
      return 1;
    }
    for (size_t i = 0; i < a->n; i++) {
      snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
      diffs += tree_compare(a->items[i], b->items[i], sub, quiet);
    }
    return diffs;
  case CNODE_MAP:
    for (size_t i = 0; i < a->n; i++) {
      snprintf(sub, sizeof(sub), "%s.%s", path, a->pairs[i].key->str);
      struct cnode_pair *p = cnode_map_get_pair(b, a->pairs[i].key->str);
      if (p == NULL) {
        if (!quiet)
      fprintf(stderr, "%s: not expected\n", sub);
        diffs++;
      } else {
        diffs += tree_compare(a->pairs[i].value, p->value, sub, quiet);
      }
    }
    for (size_t i = 0; i < b->n; i++)
      if (!cnode_map_get_pair(a, b->pairs[i].key->str)) {
        if (!quiet)
      fprintf(stderr, "%s.%s: missing\n", path, b->pairs[i].key->str);
        diffs++;
      }
    return diffs;
  }
  return 1;
}

