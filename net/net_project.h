/* The networking of one Compose project, for the supervisor.
 *
 *   net_project_up()         one bridge per network (subnet from the pool or
 *                            the network's ipam config, gateway address on
 *                            the bridge), the project's nftables table, and
 *                            one DNS server listening on every gateway
 *   net_attach_container()   per network a tap on the bridge, an address, a
 *                            stable MAC; DNS records for its names; its
 *                            published ports (bound now: a port in use fails
 *                            here, before the VM starts)
 *   net_detach_container()   the reverse, for one container
 *   net_project_down()       removes everything; idempotent
 *   net_project_down_from_state()  the same from the state file alone, after
 *                            a crash (no live net_project needed)
 *   spec.adopt               a restarted supervisor takes over what runs
 *
 * The DNS server and the port proxies run on the caller's libuv loop; all
 * calls must be made from the loop's thread.  Everything created is written
 * to the state file before it is created.  Needs root (CAP_NET_ADMIN).
 *
 * Turning on outbound access (the default) sets net.ipv4.ip_forward=1, as
 * Docker does: routing for the VMs needs it. */
#ifndef STACK_NET_NET_PROJECT_H
#define STACK_NET_NET_PROJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "net/portproxy.h"

struct stack_error;
struct net_project;

struct net_network_spec {
  const char *name;    /* the Compose network key */
  const char *subnet;  /* ipam.config[0].subnet, or NULL for the pool */
  const char *gateway; /* ipam.config[0].gateway, or NULL for the first host */
  bool internal;       /* no route out */
  bool external;       /* use an existing bridge, create nothing */
  const char *external_name; /* its interface name (NULL: name); needs subnet */
  const char *driver;  /* NULL or "bridge"; anything else is refused */
  size_t n_driver_opts; /* driver_opts: refused (not supported) */
  bool enable_ipv6;    /* refused (not supported yet) */
  unsigned mtu;        /* 0: 1500 */
};

struct net_project_spec {
  const char *project;
  const struct net_network_spec *networks;
  size_t n_networks;
  uv_loop_t *loop;
  bool no_outbound;        /* turn masquerade (outbound access) off */
  const char *pool;        /* "base/prefix:size"; NULL: IPAM_DEFAULT_POOL */
  const char *state_path;  /* NULL: net_state_default_path(project) */
  uint16_t dns_port;       /* 0: 53 (tests use a free port) */
  const char *resolv_conf; /* host resolvers; NULL: /etc/resolv.conf */
  /* A restarted supervisor: instead of removing what the state file lists,
   * keep it: the same bridges and subnets, and, when the containers are
   * attached again (same names), the same addresses and the taps their QEMUs
   * still hold.  Without a state file this is an ordinary up. */
  bool adopt;
};

struct net_endpoint_spec {
  const char *network;      /* a key of the project's networks */
  const char *ipv4_address; /* NULL: allocate */
  const char *const *aliases;
  size_t n_aliases;
};

struct net_container_spec {
  const char *service;
  const char *name;           /* "<project>-<service>-<n>" */
  const char *container_name; /* an explicit container_name, or NULL */
  const char *hostname;       /* or NULL */
  const struct net_endpoint_spec *endpoints;
  size_t n_endpoints;
  const char *const *links;   /* "service" or "service:alias" */
  size_t n_links;
  const char *const *extra_hosts; /* "host:ip" or "host=ip" */
  size_t n_extra_hosts;
  const struct net_port_spec *ports; /* guest_ip NULL: the first network's address */
  size_t n_ports;
};

/* What the guest needs for one network interface (in endpoint order). */
struct net_attachment {
  char network[128];
  char tap[16];    /* open it with QEMU's -netdev tap,ifname=...,script=no */
  char bridge[16];
  uint8_t mac[6];
  char mac_str[18];
  char ip[16];
  int prefix;
  char gateway[16];
  char dns[16];        /* the DNS server for resolv.conf (the gateway) */
  unsigned mtu;
  bool default_route;  /* the first non-internal network carries it */
};

struct net_container_net {
  struct net_attachment *att;
  size_t n_att;
  struct net_port_binding *ports; /* as bound: `stack port` reports these */
  size_t n_ports;
};

/* Creates the project's networks and DNS server. On failure everything
 * created so far is removed again. */
int net_project_up(const struct net_project_spec *spec, struct net_project **out,
                   struct stack_error **err);

/* Port the DNS server listens on (53 unless the spec said otherwise). */
uint16_t net_project_dns_port(const struct net_project *p);

/* Bridge name and subnet ("a.b.c.d/n") of a network, or -ENOENT. */
int net_project_network(const struct net_project *p, const char *network, char bridge[16],
                        char subnet[20], struct stack_error **err);

/* Connects a container to its networks; *out is filled (free it with
 * net_container_net_free()). */
int net_attach_container(struct net_project *p, const struct net_container_spec *c,
                         struct net_container_net *out, struct stack_error **err);

void net_container_net_free(struct net_container_net *n);

/* Disconnects a container: taps, addresses, DNS records, published ports.
 * An unknown container is not an error. */
int net_detach_container(struct net_project *p, const char *name, struct stack_error **err);

/* Removes everything and frees p (its handles close on the loop). */
int net_project_down(struct net_project *p, struct stack_error **err);

/* Removes what a state file lists (taps, bridges, nftables table) and the
 * file itself; a missing file is fine.  state_path NULL: the default. */
int net_project_down_from_state(const char *project, const char *state_path,
                                struct stack_error **err);

/* Sets net.ipv4.ip_forward=1 (as Docker does) unless it is set: routing
 * the VMs' traffic out needs it. */
int net_enable_forwarding(struct stack_error **err);

struct netlink;
struct ipam_subnet;
/* Whether an interface other than bridge routes a subnet overlapping
 * subnet: someone starting at the same moment picked it from the pool
 * too (checked after making the bridge; the loser takes another). */
bool net_subnet_contested(struct netlink *nl, const char *bridge,
                          const struct ipam_subnet *subnet);

#endif
