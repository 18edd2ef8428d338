#include "ipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

static uint32_t mask_of(int prefix) {
  return prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

int ipam_parse_cidr(const char *s, struct ipam_subnet *out, struct stack_error **err) {
  char ip[INET_ADDRSTRLEN];
  const char *slash = strchr(s, '/');
  char *end = NULL;
  if (slash == NULL || (size_t)(slash - s) >= sizeof(ip))
    return stack_error_set(err, -EINVAL, "\"%s\" is not an IPv4 subnet: write it as a.b.c.d/n",
                           s);
  memcpy(ip, s, (size_t)(slash - s));
  ip[slash - s] = '\0';
  errno = 0;
  long prefix = strtol(slash + 1, &end, 10);
  struct in_addr a;
  if (inet_pton(AF_INET, ip, &a) != 1 || end == slash + 1 || *end != '\0' || prefix < 0 ||
      prefix > 32)
    return stack_error_set(err, -EINVAL, "\"%s\" is not an IPv4 subnet: write it as a.b.c.d/n",
                           s);
  if (ntohl(a.s_addr) & ~mask_of((int)prefix))
    return stack_error_set(err, -EINVAL,
                           "subnet \"%s\" has host bits set: did you mean %s/%ld with the "
                           "host part zero?",
                           s, inet_ntoa((struct in_addr){htonl(ntohl(a.s_addr) & mask_of((int)prefix))}),
                           prefix);
  out->net = a;
  out->prefix = (int)prefix;
  return 0;
}

int ipam_parse_pool(const char *s, struct ipam_pool *out, struct stack_error **err) {
  char buf[64];
  const char *colon = strrchr(s, ':');
  if (colon == NULL || (size_t)(colon - s) >= sizeof(buf))
    return stack_error_set(err, -EINVAL,
                           "address pool \"%s\": write it as base/prefix:size, e.g. %s", s,
                           IPAM_DEFAULT_POOL);
  memcpy(buf, s, (size_t)(colon - s));
  buf[colon - s] = '\0';
  int r = ipam_parse_cidr(buf, &out->base, err);
  if (r < 0)
    return stack_error_prefix(err, "address pool \"%s\"", s);
  char *end = NULL;
  long size = strtol(colon + 1, &end, 10);
  if (end == colon + 1 || *end || size < out->base.prefix || size < 12 || size > 30)
    return stack_error_set(err, -EINVAL,
                           "address pool \"%s\": the subnet size must be between /%d and /30", s,
                           out->base.prefix > 12 ? out->base.prefix : 12);
  out->size = (int)size;
  return 0;
}

void ipam_format_cidr(const struct ipam_subnet *s, char *out, size_t size) {
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &s->net, ip, sizeof(ip));
  snprintf(out, size, "%s/%d", ip, s->prefix);
}

bool ipam_overlaps(const struct ipam_subnet *a, const struct ipam_subnet *b) {
  uint32_t m = mask_of(a->prefix < b->prefix ? a->prefix : b->prefix);
  return (ntohl(a->net.s_addr) & m) == (ntohl(b->net.s_addr) & m);
}

bool ipam_contains(const struct ipam_subnet *s, struct in_addr a) {
  uint32_t m = mask_of(s->prefix);
  return (ntohl(a.s_addr) & m) == (ntohl(s->net.s_addr) & m);
}

uint64_t ipam_seed(const char *a, const char *b) {
  uint64_t h = 1469598103934665603ULL;
  for (const char *s = a; s && *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  h = (h ^ 0xff) * 1099511628211ULL;
  for (const char *s = b; s && *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

int ipam_pick_subnet(const struct ipam_pool *pools, size_t n_pools,
                     const struct ipam_subnet *avoid, size_t n_avoid, uint64_t seed,
                     struct ipam_subnet *out, struct stack_error **err) {
  for (size_t p = 0; p < n_pools; p++) {
    uint32_t count = 1u << (pools[p].size - pools[p].base.prefix);
    uint32_t base = ntohl(pools[p].base.net.s_addr);
    for (uint32_t i = 0; i < count; i++) {
      uint32_t k = (uint32_t)((seed + i) % count);
      struct ipam_subnet cand = {{htonl(base + (k << (32 - pools[p].size)))}, pools[p].size};
      bool clash = false;
      for (size_t a = 0; a < n_avoid && !clash; a++)
        clash = ipam_overlaps(&cand, &avoid[a]);
      if (!clash) {
        *out = cand;
        return 0;
      }
    }
  }
  return stack_error_set(err, -ENOSPC,
                         "no free subnet left in the address pool: remove unused networks "
                         "(`stack down`), or set a larger pool or an explicit `ipam` subnet");
}

static bool test_bit(const uint8_t *b, uint32_t i) { return b[i / 8] & (1u << (i % 8)); }
static void set_bit(uint8_t *b, uint32_t i, bool on) {
  if (on)
    b[i / 8] = (uint8_t)(b[i / 8] | (1u << (i % 8)));
  else
    b[i / 8] = (uint8_t)(b[i / 8] & ~(1u << (i % 8)));
}

int ipam_net_init(struct ipam_net *n, const struct ipam_subnet *subnet, const char *gateway,
                  struct stack_error **err) {
  char cidr[32];
  ipam_format_cidr(subnet, cidr, sizeof(cidr));
  memset(n, 0, sizeof(*n));
  if (subnet->prefix < 12 || subnet->prefix > 30)
    return stack_error_set(err, -EINVAL,
                           "subnet %s: the prefix length must be between /12 and /30", cidr);
  n->subnet = *subnet;
  n->size = 1u << (32 - subnet->prefix);
  n->used = xcalloc(n->size / 8 + 1, 1);
  set_bit(n->used, 0, true);           /* network address */
  set_bit(n->used, n->size - 1, true); /* broadcast */
  struct in_addr gw = {htonl(ntohl(subnet->net.s_addr) + 1)};
  if (gateway != NULL && inet_pton(AF_INET, gateway, &gw) != 1) {
    ipam_net_free(n);
    return stack_error_set(err, -EINVAL, "gateway \"%s\" is not an IPv4 address", gateway);
  }
  int r = ipam_net_reserve(n, gw, err);
  if (r < 0) {
    ipam_net_free(n);
    return stack_error_prefix(err, "gateway of subnet %s", cidr);
  }
  n->gateway = gw;
  return 0;
}

void ipam_net_free(struct ipam_net *n) {
  free(n->used);
  n->used = NULL;
}

int ipam_net_reserve(struct ipam_net *n, struct in_addr a, struct stack_error **err) {
  char cidr[32], ip[INET_ADDRSTRLEN];
  ipam_format_cidr(&n->subnet, cidr, sizeof(cidr));
  inet_ntop(AF_INET, &a, ip, sizeof(ip));
  if (!ipam_contains(&n->subnet, a))
    return stack_error_set(err, -EINVAL, "address %s is not in the network's subnet %s", ip,
                           cidr);
  uint32_t host = ntohl(a.s_addr) - ntohl(n->subnet.net.s_addr);
  if (test_bit(n->used, host))
    return stack_error_set(err, -EADDRINUSE,
                           "address %s is already in use on subnet %s (the network, broadcast "
                           "and gateway addresses, and other containers' addresses, are taken)",
                           ip, cidr);
  set_bit(n->used, host, true);
  return 0;
}

int ipam_net_alloc(struct ipam_net *n, struct in_addr *out, struct stack_error **err) {
  for (uint32_t h = 1; h + 1 < n->size; h++) {
    if (!test_bit(n->used, h)) {
      set_bit(n->used, h, true);
      out->s_addr = htonl(ntohl(n->subnet.net.s_addr) + h);
      return 0;
    }
  }
  char cidr[32];
  ipam_format_cidr(&n->subnet, cidr, sizeof(cidr));
  return stack_error_set(err, -ENOSPC, "subnet %s is full: use a larger subnet", cidr);
}

void ipam_net_release(struct ipam_net *n, struct in_addr a) {
  if (n->used == NULL || !ipam_contains(&n->subnet, a))
    return;
  uint32_t host = ntohl(a.s_addr) - ntohl(n->subnet.net.s_addr);
  if (host == 0 || host + 1 >= n->size || a.s_addr == n->gateway.s_addr)
    return;
  set_bit(n->used, host, false);
}
