/* Isolation and NAT with nftables, through libnftables (no `nft` process).
 *
 * Each project owns one table, `inet stack_<hash>` (net_table_name()),
 * created and replaced atomically with all of the project's networks, and
 * deleted by `down`.  Rules: traffic routed between a project bridge and any
 * other stack bridge or tap ("stk*": other networks, other projects) is
 * dropped; `internal` networks forward nothing at all; other networks may
 * reach out, with masquerade unless it is turned off; nothing from outside
 * may open connections to the guests (published ports go through the
 * userspace proxy, which connects from the host). */
#ifndef STACK_NET_NFT_H
#define STACK_NET_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stack_error;

struct net_nft_network {
  const char *bridge; /* interface name */
  const char *subnet; /* "a.b.c.d/n" */
  bool internal;      /* no route out */
  bool external;      /* not ours: only the DNS redirect below applies */
  /* When dns_to is set, queries from the bridge to gateway:dns_from (UDP
   * and TCP) are redirected to port dns_to, where the DNS server listens
   * because dns_from was taken on the host. */
  const char *gateway;
  uint16_t dns_from, dns_to;
};

/* Creates or replaces the table with rules for these networks, in one
 * transaction (either all rules are in place or none changed). */
int net_nft_apply(const char *table, const struct net_nft_network *nets, size_t n,
                  bool masquerade, struct stack_error **err);

/* Deletes the table; a missing table is not an error. */
int net_nft_remove(const char *table, struct stack_error **err);

/* Whether the table exists. */
int net_nft_table_exists(const char *table, bool *exists, struct stack_error **err);

/* Runs an nft command (listing or counters, for tests and `stack inspect`)
 * and returns its output in *out (caller frees). */
int net_nft_run(const char *cmd, char **out, struct stack_error **err);

#endif
