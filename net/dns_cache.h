/* The DNS forwarder's answer cache: whole upstream responses keyed by
 * "type/class/name", kept for their smallest TTL, bounded in size (the
 * oldest entry goes first).  Times are loop milliseconds (uv_now). */
#ifndef STACK_NET_DNS_CACHE_H
#define STACK_NET_DNS_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct dns_cache;

struct dns_cache *dns_cache_new(size_t max_entries);
void dns_cache_free(struct dns_cache *c);

/* Stores a copy of msg under key for ttl seconds (replacing an older one). */
void dns_cache_put(struct dns_cache *c, const char *key, const uint8_t *msg, size_t len,
                   uint32_t ttl, uint64_t now_ms);

/* Copies a live entry into out (with its TTLs aged by the time it spent in
 * the cache) and sets *len.  Returns 0, or -ENOENT when absent or expired
 * (an expired entry is dropped), -ENOBUFS when it does not fit. */
int dns_cache_get(struct dns_cache *c, const char *key, uint64_t now_ms, uint8_t *out,
                  size_t cap, size_t *len);

/* Number of entries (expired ones included until they are looked up). */
size_t dns_cache_size(const struct dns_cache *c);

#endif
