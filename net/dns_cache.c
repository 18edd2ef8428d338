#include "dns_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/dns_packet.h"
#include "runtime/util/xalloc.h"

#define N_BUCKETS 1024

struct entry {
  struct entry *bnext;         /* bucket chain */
  struct entry *older, *newer; /* insertion order, for eviction */
  char *key;
  uint8_t *msg;
  size_t len;
  uint64_t stored_ms, expires_ms;
};

struct dns_cache {
  struct entry *buckets[N_BUCKETS];
  struct entry *oldest, *newest;
  size_t n, max;
};

static size_t bucket_of(const char *key) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)key; *p; p++)
    h = (h ^ *p) * 1099511628211ULL;
  return (size_t)(h % N_BUCKETS);
}

struct dns_cache *dns_cache_new(size_t max_entries) {
  struct dns_cache *c = xcalloc(1, sizeof(*c));
  c->max = max_entries ? max_entries : 1;
  return c;
}

static void unlink_entry(struct dns_cache *c, struct entry *e) {
  struct entry **pp = &c->buckets[bucket_of(e->key)];
  while (*pp != e)
    pp = &(*pp)->bnext;
  *pp = e->bnext;
  if (e->older)
    e->older->newer = e->newer;
  else
    c->oldest = e->newer;
  if (e->newer)
    e->newer->older = e->older;
  else
    c->newest = e->older;
  c->n--;
  free(e->key);
  free(e->msg);
  free(e);
}

void dns_cache_free(struct dns_cache *c) {
  if (c == NULL)
    return;
  while (c->oldest)
    unlink_entry(c, c->oldest);
  free(c);
}

static struct entry *find(struct dns_cache *c, const char *key) {
  for (struct entry *e = c->buckets[bucket_of(key)]; e; e = e->bnext)
    if (strcmp(e->key, key) == 0)
      return e;
  return NULL;
}

void dns_cache_put(struct dns_cache *c, const char *key, const uint8_t *msg, size_t len,
                   uint32_t ttl, uint64_t now_ms) {
  struct entry *old = find(c, key);
  if (old)
    unlink_entry(c, old);
  while (c->n >= c->max)
    unlink_entry(c, c->oldest);
  struct entry *e = xcalloc(1, sizeof(*e));
  e->key = xstrdup(key);
  e->msg = xmalloc(len);
  memcpy(e->msg, msg, len);
  e->len = len;
  e->stored_ms = now_ms;
  e->expires_ms = now_ms + (uint64_t)ttl * 1000;
  size_t b = bucket_of(key);
  e->bnext = c->buckets[b];
  c->buckets[b] = e;
  e->older = c->newest;
  if (c->newest)
    c->newest->newer = e;
  else
    c->oldest = e;
  c->newest = e;
  c->n++;
}

int dns_cache_get(struct dns_cache *c, const char *key, uint64_t now_ms, uint8_t *out,
                  size_t cap, size_t *len) {
  struct entry *e = find(c, key);
  if (e == NULL)
    return -ENOENT;
  if (now_ms >= e->expires_ms) {
    unlink_entry(c, e);
    return -ENOENT;
  }
  if (e->len > cap)
    return -ENOBUFS;
  memcpy(out, e->msg, e->len);
  *len = e->len;
  if (dns_age_response(out, e->len, (uint32_t)((now_ms - e->stored_ms) / 1000)) < 0) {
    unlink_entry(c, e);
    return -ENOENT;
  }
  return 0;
}

size_t dns_cache_size(const struct dns_cache *c) { return c->n; }
