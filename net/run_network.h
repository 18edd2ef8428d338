/* The default network of `stack run IMAGE` (Docker's default bridge,
 * docker0): one bridge per data root, its subnet from the pool, an nftables
 * table with isolation and masquerade (net_nft_apply(), as a project
 * network's), and one tap per address.
 *
 * State in <data root>/run-network/: network.json (net_state.h: the bridge,
 * the table, the subnet, every tap made), a lock file taken while a run
 * joins, and one lease per run in leases/<address> ("pid tap"), which its
 * run keeps flock()ed for as long as it lives.  A lease whose lock can be
 * taken belongs to a run that is gone (even by SIGKILL: the kernel drops
 * the lock): the next join removes it and its address is free again.
 *
 * Like docker0, the network stays when its last run ends, and so does each
 * address's tap (detached, on the bridge): making them costs a run about
 * 10 ms and removing them 20 ms (the kernel waits for RCU to remove a
 * link), and nftables another 100 ms, which would more than double the
 * ~0.16 s that a run restored from a template takes.  A tap still held by
 * a QEMU (of a run killed a moment ago) is never reused: it is made anew.
 * Taps are as many as runs ever ran at once.
 *
 * No DNS server: as on Docker's default bridge, the guest uses the host's
 * resolvers (resolv_conf.h) through the NAT. */
#ifndef STACK_NET_RUN_NETWORK_H
#define STACK_NET_RUN_NETWORK_H

#include "net/net_project.h"

struct stack_error;
struct run_network_lease;

/* Joins the default network: creates it when missing, reaps the leases
 * of dead runs, takes the lowest free address and makes its tap (on the
 * bridge, up).  dir NULL: <data root>/run-network.  *att says what the
 * guest gets (tap, MAC, address, gateway, MTU; default_route set). */
int run_network_join(const char *dir, struct run_network_lease **out, struct net_attachment *att,
                     struct stack_error **err);

/* Leaves, once the run's QEMU has exited: the lease goes (its address is
 * free), the tap stays for the next run of that address.  NULL is fine. */
void run_network_leave(struct run_network_lease *l);

#endif
