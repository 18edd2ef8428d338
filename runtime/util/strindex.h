/* A hash index from strings to positions (open addressing, FNV-1a), for
 * lookups that would otherwise scan an array once per element.  Keys are
 * borrowed: they must stay valid and unchanged while indexed. */
#ifndef STACK_UTIL_STRINDEX_H
#define STACK_UTIL_STRINDEX_H

#include <stddef.h>
#include <stdint.h>

#define STRINDEX_NONE SIZE_MAX

struct strindex_slot {
  const char *key;
  size_t val;
};

struct strindex {
  struct strindex_slot *slots;
  size_t cap, n; /* cap is 0 or a power of two */
};

#define STRINDEX_INIT {NULL, 0, 0}

/* The value stored for key, or STRINDEX_NONE. */
size_t strindex_get(const struct strindex *s, const char *key);
/* Stores key -> val, replacing the value of an equal key. */
void strindex_put(struct strindex *s, const char *key, size_t val);
/* Empties the index (keeps its memory). */
void strindex_clear(struct strindex *s);
void strindex_free(struct strindex *s);
#define _cleanup_strindex_ __attribute__((cleanup(strindex_free)))

#endif
