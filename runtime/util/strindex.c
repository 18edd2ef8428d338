#include "strindex.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static size_t hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)h;
}

static struct strindex_slot *find(const struct strindex *s, const char *key) {
  size_t mask = s->cap - 1;
  for (size_t i = hash(key) & mask;; i = (i + 1) & mask)
    if (s->slots[i].key == NULL || strcmp(s->slots[i].key, key) == 0)
      return &s->slots[i];
}

size_t strindex_get(const struct strindex *s, const char *key) {
  if (s->cap == 0)
    return STRINDEX_NONE;
  const struct strindex_slot *slot = find(s, key);
  return slot->key ? slot->val : STRINDEX_NONE;
}

static void grow(struct strindex *s) {
  struct strindex old = *s;
  s->cap = old.cap ? old.cap * 2 : 16;
  s->slots = xcalloc(s->cap, sizeof(*s->slots));
  s->n = 0;
  for (size_t i = 0; i < old.cap; i++)
    if (old.slots[i].key)
      strindex_put(s, old.slots[i].key, old.slots[i].val);
  free(old.slots);
}

void strindex_put(struct strindex *s, const char *key, size_t val) {
  /* At most half full, so that probes stay short. */
  if ((s->n + 1) * 2 > s->cap)
    grow(s);
  struct strindex_slot *slot = find(s, key);
  if (slot->key == NULL) {
    slot->key = key;
    s->n++;
  }
  slot->val = val;
}

void strindex_clear(struct strindex *s) {
  if (s->slots)
    memset(s->slots, 0, s->cap * sizeof(*s->slots));
  s->n = 0;
}

void strindex_free(struct strindex *s) {
  free(s->slots);
  s->slots = NULL;
  s->cap = s->n = 0;
}
