/* IPv4 address management: subnets for networks (from a pool, avoiding what
 * the host already routes, or from the Compose file's `ipam` config), the
 * gateway, and addresses for containers (allocated, or `ipv4_address`). */
#ifndef STACK_NET_IPAM_H
#define STACK_NET_IPAM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stack_error;

struct ipam_subnet {
  struct in_addr net; /* host bits zero */
  int prefix;
};

/* A pool: `base` split into subnets of /size. */
struct ipam_pool {
  struct ipam_subnet base;
  int size;
};

/* The default pool when none is configured (256 /24s). */
#define IPAM_DEFAULT_POOL "172.29.0.0/16:24"

/* Parses "a.b.c.d/n" (host bits must be zero). */
int ipam_parse_cidr(const char *s, struct ipam_subnet *out, struct stack_error **err);

/* Parses a pool "a.b.c.d/n:size", e.g. "10.89.0.0/16:24". */
int ipam_parse_pool(const char *s, struct ipam_pool *out, struct stack_error **err);

/* "a.b.c.d/n" (out: at least 19 bytes). */
void ipam_format_cidr(const struct ipam_subnet *s, char *out, size_t size);

bool ipam_overlaps(const struct ipam_subnet *a, const struct ipam_subnet *b);
bool ipam_contains(const struct ipam_subnet *s, struct in_addr a);

/* Picks a subnet of the pools that overlaps none of avoid (the host's routes
 * and the project's other networks).  seed (a hash of project and network)
 * chooses where the search starts, so concurrent projects rarely race for
 * the same subnet, and a project tends to get the same one again. */
int ipam_pick_subnet(const struct ipam_pool *pools, size_t n_pools,
                     const struct ipam_subnet *avoid, size_t n_avoid, uint64_t seed,
                     struct ipam_subnet *out, struct stack_error **err);

/* Addresses in use on one network. */
struct ipam_net {
  struct ipam_subnet subnet;
  struct in_addr gateway;
  uint32_t size; /* addresses in the subnet */
  uint8_t *used; /* bitmap by host number */
};

/* Sets up allocation in subnet (prefix 12..30) with gateway (NULL: the first
 * host address); the network, broadcast and gateway addresses are never
 * handed out. */
int ipam_net_init(struct ipam_net *n, const struct ipam_subnet *subnet, const char *gateway,
                  struct stack_error **err);
void ipam_net_free(struct ipam_net *n);

/* Reserves a specific address (`ipv4_address`): it must be a free host
 * address of the subnet. */
int ipam_net_reserve(struct ipam_net *n, struct in_addr a, struct stack_error **err);

/* Allocates the lowest free address. */
int ipam_net_alloc(struct ipam_net *n, struct in_addr *out, struct stack_error **err);

/* Returns an address to the pool (unknown addresses are ignored). */
void ipam_net_release(struct ipam_net *n, struct in_addr a);

/* A 64-bit FNV-1a hash of the strings (for seeds). */
uint64_t ipam_seed(const char *a, const char *b);

#endif
