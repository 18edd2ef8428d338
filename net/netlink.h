/* Links and addresses over rtnetlink (raw NETLINK_ROUTE sockets, no `ip`
 * subprocess): bridges, persistent taps, enslaving, up/down, MTU, IPv4
 * addresses, and the IPv4 routing table (for the address pool). */
#ifndef STACK_NET_NETLINK_H
#define STACK_NET_NETLINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct stack_error;
struct netlink;

/* Opens a rtnetlink socket (one per caller; not thread-safe). */
int netlink_open(struct netlink **out, struct stack_error **err);
void netlink_close(struct netlink *nl);

/* Creates a bridge with the MAC mac (NULL: the kernel's choice, which
 * then follows the lowest MAC of the bridge's ports: give one).  -EEXIST
 * (with a message) when a link of that name exists. mtu 0 keeps the
 * default. */
int netlink_bridge_create(struct netlink *nl, const char *name, const uint8_t mac[6],
                          unsigned mtu, struct stack_error **err);

/* Makes the link's current MAC its set one, so that the kernel never
 * changes it (a bridge made without a MAC follows its ports'); its
 * neighbours' ARP entries stay valid. */
int netlink_link_pin_mac(struct netlink *nl, const char *name, struct stack_error **err);

/* Creates a persistent tap (TUNSETIFF + TUNSETPERSIST, IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, the layout QEMU's virtio-net expects) that owner_uid may open
 * (-1: root only). -EEXIST when a link of that name exists. */
int netlink_tap_create(const char *name, uid_t owner_uid, struct stack_error **err);

/* Deletes a link; a missing link is not an error (down is idempotent). */
int netlink_link_delete(struct netlink *nl, const char *name, struct stack_error **err);

/* Whether a link of that name exists. */
bool netlink_link_exists(const char *name);

/* Enslaves name to bridge master (NULL: release it). */
int netlink_link_set_master(struct netlink *nl, const char *name, const char *master,
                            struct stack_error **err);

/* Sets the link administratively up or down. */
int netlink_link_set_up(struct netlink *nl, const char *name, bool up, struct stack_error **err);

/* Sets the MTU. */
int netlink_link_set_mtu(struct netlink *nl, const char *name, unsigned mtu,
                         struct stack_error **err);

/* Adds addr/prefix to the link (an address already there is fine). */
int netlink_addr_add(struct netlink *nl, const char *name, struct in_addr addr, int prefix,
                     struct stack_error **err);

struct netlink_route {
  struct in_addr dst;
  int prefix;
  int oif; /* output interface index, 0 if none */
};

/* Lists the destinations of the IPv4 main routing table (default route
 * excluded) into a new array. */
int netlink_routes_v4(struct netlink *nl, struct netlink_route **out, size_t *n,
                      struct stack_error **err);

#endif
