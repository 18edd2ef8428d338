#include "net_project.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/dns.h"
#include "net/dns_records.h"
#include "net/ipam.h"
#include "net/net_names.h"
#include "net/net_state.h"
#include "net/netlink.h"
#include "net/nft.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

struct np_network {
  char *name;
  char bridge[NET_IFNAME_SIZE];
  struct ipam_subnet subnet;
  struct ipam_net ipam;
  char subnet_str[20], gateway[INET_ADDRSTRLEN];
  bool internal, external, ipam_ready;
  unsigned mtu;
  uint16_t dns_redirect; /* the DNS server's real port when the usual one was taken */
};

struct np_container {
  char *name;
  struct net_attachment *att;
  size_t n_att;
  struct portproxy *proxy;
  struct np_container *next;
};

struct net_project {
  char *project, *state_path;
  char table[32];
  uv_loop_t *loop;
  struct np_network *nets;
  size_t n_nets;
  struct np_container *containers;
  struct dns_records *records;
  struct dns_server *dns;
  uint16_t dns_port;
  struct netlink *nl;
  struct net_state st;
  bool outbound;
  bool adopt; /* reusing what a previous supervisor left running */
};

static struct np_network *find_network(struct net_project *p, const char *name) {
  for (size_t i = 0; i < p->n_nets; i++)
    if (strcmp(p->nets[i].name, name) == 0)
      return &p->nets[i];
  return NULL;
}

static int save_state(struct net_project *p, struct stack_error **err) {
  int r = net_state_save(p->state_path, &p->st, err);
  return r < 0 ? stack_error_prefix(err, "project %s: saving the network state", p->project) : 0;
}

static int check_spec(const struct net_project_spec *spec, struct stack_error **err) {
  if (spec->project == NULL || *spec->project == '\0' || strchr(spec->project, '/'))
    return stack_error_set(err, -EINVAL, "invalid project name \"%s\"",
                           spec->project ? spec->project : "");
  if (spec->loop == NULL)
    return stack_error_set(err, -EINVAL, "project %s: no event loop given", spec->project);
  for (size_t i = 0; i < spec->n_networks; i++) {
    const struct net_network_spec *n = &spec->networks[i];
    if (n->name == NULL || *n->name == '\0')
      return stack_error_set(err, -EINVAL, "project %s: a network has no name", spec->project);
    if (n->driver && *n->driver && strcmp(n->driver, "bridge") != 0)
      return stack_error_set(err, -EOPNOTSUPP,
                             "network %s: driver \"%s\" is not supported (only \"bridge\"): "
                             "remove `driver:` from the network",
                             n->name, n->driver);
    if (n->n_driver_opts > 0)
      return stack_error_set(err, -EOPNOTSUPP,
                             "network %s: driver_opts are not supported: remove them", n->name);
    if (n->enable_ipv6)
      return stack_error_set(err, -EOPNOTSUPP,
                             "network %s: enable_ipv6 is not supported yet: remove it", n->name);
    if (n->external && n->subnet == NULL)
      return stack_error_set(err, -EINVAL,
                             "network %s: an external network needs its subnet in `ipam: "
                             "config: - subnet:` (stack does not query other tools)",
                             n->name);
    for (size_t j = 0; j < i; j++)
      if (strcmp(spec->networks[j].name, n->name) == 0)
        return stack_error_set(err, -EINVAL, "network %s is declared twice", n->name);
  }
  return 0;
}

int net_enable_forwarding(struct stack_error **err) {
  _cleanup_free_ char *cur = NULL;
  struct stack_error *ignored = NULL;
  if (fs_read_file("/proc/sys/net/ipv4/ip_forward", 16, &cur, NULL, &ignored) == 0 &&
      cur[0] == '1')
    return 0;
  stack_error_free(ignored);
  FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "w");
  if (f == NULL || fputs("1\n", f) < 0 || fclose(f) != 0)
    return stack_error_errno(err, -errno,
                             "cannot enable IPv4 forwarding (needed for outbound access from "
                             "the VMs; turn outbound access off to run without it)");
  return 0;
}

bool net_subnet_contested(struct netlink *nl, const char *bridge,
                          const struct ipam_subnet *subnet) {
  struct netlink_route *routes = NULL;
  size_t cnt = 0;
  if (netlink_routes_v4(nl, &routes, &cnt, NULL) < 0)
    return false;
  int mine = (int)if_nametoindex(bridge);
  bool clash = false;
  for (size_t i = 0; i < cnt && !clash; i++) {
    struct ipam_subnet s = {routes[i].dst, routes[i].prefix};
    clash = routes[i].oif != 0 && routes[i].oif != mine && s.prefix > 0 &&
            ipam_overlaps(&s, subnet);
  }
  free(routes);
  return clash;
}

static int create_bridge(struct net_project *p, struct np_network *n, struct stack_error **err) {
  int r;
  uint8_t mac[6];
  net_bridge_mac(p->project, n->name, mac);
  if ((r = netlink_bridge_create(p->nl, n->bridge, mac, n->mtu, err)) < 0 ||
      (r = netlink_addr_add(p->nl, n->bridge, n->ipam.gateway, n->subnet.prefix, err)) < 0 ||
      (r = netlink_link_set_up(p->nl, n->bridge, true, err)) < 0)
    return stack_error_prefix(err, "network %s", n->name);
  return 0;
}

static int setup_network(struct net_project *p, struct np_network *n,
                         const struct net_network_spec *ns, const struct ipam_pool *pool,
                         struct ipam_subnet **avoid, size_t *n_avoid, size_t *cap_avoid,
                         struct stack_error **err) {
  int r;
  /* Adopting: the subnet and gateway the running guests were given. */
  const char *saved = p->adopt && !ns->subnet ? net_state_get(p->st.subnets, n->name) : NULL;
  char saved_cidr[32] = "", saved_gw[INET_ADDRSTRLEN] = "";
  if (saved && sscanf(saved, "%31s %15s", saved_cidr, saved_gw) != 2)
    saved = NULL;
  for (int attempt = 0;; attempt++) {
    if (ns->subnet || saved) {
      if ((r = ipam_parse_cidr(saved ? saved_cidr : ns->subnet, &n->subnet, err)) < 0)
        return stack_error_prefix(err, "network %s: ipam subnet", n->name);
    } else {
      r = ipam_pick_subnet(pool, 1, *avoid, *n_avoid, ipam_seed(p->project, n->name),
                           &n->subnet, err);
      if (r < 0)
        return stack_error_prefix(err, "network %s", n->name);
    }
    *avoid = xgrow(*avoid, cap_avoid, *n_avoid + 1, sizeof(**avoid));
    (*avoid)[(*n_avoid)++] = n->subnet;
    ipam_format_cidr(&n->subnet, n->subnet_str, sizeof(n->subnet_str));
    if (n->ipam_ready)
      ipam_net_free(&n->ipam);
    n->ipam_ready = false;
    if ((r = ipam_net_init(&n->ipam, &n->subnet, saved ? saved_gw : ns->gateway, err)) < 0)
      return stack_error_prefix(err, "network %s", n->name);
    n->ipam_ready = true;
    inet_ntop(AF_INET, &n->ipam.gateway, n->gateway, sizeof(n->gateway));
    char rec[64];
    snprintf(rec, sizeof(rec), "%s %s", n->subnet_str, n->gateway);
    net_state_set(&p->st.subnets, n->name, rec);
    if (n->external) {
      const char *ext = ns->external_name ? ns->external_name : ns->name;
      if (strlen(ext) >= NET_IFNAME_SIZE || !netlink_link_exists(ext))
        return stack_error_set(err, -ENOENT,
                               "network %s is external, but there is no bridge named \"%s\": "
                               "create it first, or drop `external: true`",
                               n->name, ext);
      snprintf(n->bridge, sizeof(n->bridge), "%s", ext);
      return 0;
    }
    net_bridge_name(p->project, n->name, n->bridge);
    net_state_add(&p->st.bridges, n->bridge);
    if ((r = save_state(p, err)) < 0)
      return r;
    if (saved && netlink_link_exists(n->bridge)) {
      /* Still there with its guests attached: make sure it is complete.
       * Its MAC stays what the guests know (one made by an older stack
       * without a set MAC is pinned where it is). */
      if ((r = netlink_link_pin_mac(p->nl, n->bridge, err)) < 0 ||
          (r = netlink_addr_add(p->nl, n->bridge, n->ipam.gateway, n->subnet.prefix, err)) < 0 ||
          (r = netlink_link_set_up(p->nl, n->bridge, true, err)) < 0)
        return stack_error_prefix(err, "network %s", n->name);
      return 0;
    }
    if ((r = create_bridge(p, n, err)) < 0)
      return r;
    if (ns->subnet || saved || attempt >= 8 ||
        !net_subnet_contested(p->nl, n->bridge, &n->subnet))
      return 0;
    /* Lost a race for this subnet: give it up and take another. */
    if ((r = netlink_link_delete(p->nl, n->bridge, err)) < 0)
      return r;
  }
}

int net_project_up(const struct net_project_spec *spec, struct net_project **out,
                   struct stack_error **err) {
  int r = check_spec(spec, err);
  if (r < 0)
    return r;
  struct ipam_pool pool;
  if ((r = ipam_parse_pool(spec->pool ? spec->pool : IPAM_DEFAULT_POOL, &pool, err)) < 0)
    return r;
  _cleanup_free_ char *state_path = NULL;
  if (spec->state_path)
    state_path = xstrdup(spec->state_path);
  else if ((r = net_state_default_path(spec->project, &state_path, err)) < 0)
    return r;
  struct net_state adopted = {0};
  bool have_state = false;
  if (spec->adopt) {
    if ((r = net_state_load(state_path, &adopted, &have_state, err)) < 0)
      return stack_error_prefix(err, "project %s: adopting the running networks",
                                spec->project);
  } else if ((r = net_project_down_from_state(spec->project, state_path, err)) < 0) {
    /* Leftovers of a crashed run are in the way of the same names. */
    return stack_error_prefix(err, "project %s: removing the networks of an earlier run",
                              spec->project);
  }

  struct net_project *p = xcalloc(1, sizeof(*p));
  p->adopt = have_state;
  if (have_state) {
    p->st = adopted;
    free(p->st.project);
    p->st.project = NULL;
  }
  p->project = xstrdup(spec->project);
  p->state_path = steal_pointer(&state_path);
  p->loop = spec->loop;
  p->outbound = !spec->no_outbound;
  p->dns_port = spec->dns_port ? spec->dns_port : 53;
  net_table_name(spec->project, p->table);
  p->st.project = xstrdup(spec->project);
  free(p->st.table);
  p->st.table = NULL;
  p->records = dns_records_new();
  p->nets = xcalloc(spec->n_networks ? spec->n_networks : 1, sizeof(*p->nets));
  struct ipam_subnet *avoid = NULL;
  size_t n_avoid = 0, cap_avoid = 0;
  if ((r = netlink_open(&p->nl, err)) < 0)
    goto fail;
  struct netlink_route *routes = NULL;
  size_t n_routes = 0;
  if ((r = netlink_routes_v4(p->nl, &routes, &n_routes, err)) < 0)
    goto fail;
  for (size_t i = 0; i < n_routes; i++) {
    avoid = xgrow(avoid, &cap_avoid, n_avoid + 1, sizeof(*avoid));
    avoid[n_avoid++] = (struct ipam_subnet){routes[i].dst, routes[i].prefix};
  }
  free(routes);
  /* Explicit subnets first, so the pool steers around them. */
  for (size_t i = 0; i < spec->n_networks; i++) {
    if (spec->networks[i].subnet == NULL)
      continue;
    struct ipam_subnet s;
    if ((r = ipam_parse_cidr(spec->networks[i].subnet, &s, err)) < 0) {
      stack_error_prefix(err, "network %s: ipam subnet", spec->networks[i].name);
      goto fail;
    }
    avoid = xgrow(avoid, &cap_avoid, n_avoid + 1, sizeof(*avoid));
    avoid[n_avoid++] = s;
  }
  for (size_t i = 0; i < spec->n_networks; i++) {
    const struct net_network_spec *ns = &spec->networks[i];
    struct np_network *n = &p->nets[p->n_nets++];
    n->name = xstrdup(ns->name);
    n->internal = ns->internal;
    n->external = ns->external;
    n->mtu = ns->mtu ? ns->mtu : 1500;
    if ((r = setup_network(p, n, ns, &pool, &avoid, &n_avoid, &cap_avoid, err)) < 0)
      goto fail;
    if ((r = dns_records_add_network(p->records, n->name, n->subnet.net, n->subnet.prefix,
                                     err)) < 0)
      goto fail;
  }
  /* Adopting: the addresses of the guests still running stay theirs, also
   * before (or without) their containers being attached again. */
  for (size_t i = 0; p->adopt && p->st.addresses && p->st.addresses[i]; i++) {
    const char *kv = p->st.addresses[i], *slash = strchr(kv, '/'), *eq = strchr(kv, '=');
    struct in_addr ip;
    if (slash == NULL || eq == NULL || eq < slash || inet_pton(AF_INET, eq + 1, &ip) != 1)
      continue;
    _cleanup_free_ char *net = xstrndup(slash + 1, (size_t)(eq - slash - 1));
    struct np_network *n = find_network(p, net);
    if (n && n->ipam_ready)
      (void)ipam_net_reserve(&n->ipam, ip, NULL);
  }
  /* One DNS server, listening on every gateway.  Where something else holds
   * the DNS port on that address (a host resolver bound to 0.0.0.0:53, say),
   * it listens on a free port and nftables redirects the guests' queries. */
  struct dns_server_config cfg = {.resolv_conf = spec->resolv_conf};
  if ((r = dns_server_new(p->loop, p->records, &cfg, &p->dns, err)) < 0)
    goto fail;
  for (size_t i = 0; i < p->n_nets; i++) {
    struct np_network *n = &p->nets[i];
    r = dns_server_listen(p->dns, n->gateway, p->dns_port, NULL, err);
    if (r == -EADDRINUSE)
      r = dns_server_listen(p->dns, n->gateway, 0, &n->dns_redirect, err);
    if (r < 0) {
      stack_error_prefix(err, "network %s", n->name);
      goto fail;
    }
  }
  /* The nftables table: isolation for the bridges we own. */
  struct net_nft_network *nn = xcalloc(p->n_nets + 1, sizeof(*nn));
  size_t cnt = 0;
  bool any_out = false;
  for (size_t i = 0; i < p->n_nets; i++) {
    const struct np_network *n = &p->nets[i];
    if (n->external && !n->dns_redirect)
      continue;
    nn[cnt++] = (struct net_nft_network){n->bridge, n->subnet_str, n->internal, n->external,
                                         n->gateway, n->dns_redirect ? p->dns_port : 0,
                                         n->dns_redirect};
    any_out = any_out || (!n->internal && !n->external);
  }
  p->st.table = xstrdup(p->table);
  if ((r = save_state(p, err)) == 0)
    r = net_nft_apply(p->table, nn, cnt, p->outbound, err);
  free(nn);
  if (r < 0)
    goto fail;
  if (p->outbound && any_out && (r = net_enable_forwarding(err)) < 0)
    goto fail;
  free(avoid);
  *out = p;
  return 0;
fail:
  free(avoid);
  {
    struct stack_error *e2 = NULL;
    net_project_down(p, &e2); /* best effort: the first error is the one to report */
    stack_error_free(e2);
  }
  stack_error_prefix(err, "project %s", spec->project);
  return r;
}

uint16_t net_project_dns_port(const struct net_project *p) { return p->dns_port; }

int net_project_network(const struct net_project *p, const char *network, char bridge[16],
                        char subnet[20], struct stack_error **err) {
  for (size_t i = 0; i < p->n_nets; i++) {
    if (strcmp(p->nets[i].name, network) == 0) {
      if (bridge)
        snprintf(bridge, 16, "%s", p->nets[i].bridge);
      if (subnet)
        snprintf(subnet, 20, "%s", p->nets[i].subnet_str);
      return 0;
    }
  }
  return stack_error_set(err, -ENOENT, "project %s has no network %s", p->project, network);
}

void net_container_net_free(struct net_container_net *n) {
  if (n == NULL)
    return;
  free(n->att);
  free(n->ports);
  memset(n, 0, sizeof(*n));
}

/* "host:ip", "host=ip" (IPv4); "host-gateway" means the first gateway. */
static int parse_extra_host(const char *s, const char *gateway, char *host, size_t hsize,
                            struct in_addr *addr, struct stack_error **err) {
  const char *sep = strchr(s, '=');
  if (sep == NULL)
    sep = strchr(s, ':');
  if (sep == NULL || sep == s || (size_t)(sep - s) >= hsize)
    return stack_error_set(err, -EINVAL, "extra_hosts entry \"%s\": write it as host:ip", s);
  memcpy(host, s, (size_t)(sep - s));
  host[sep - s] = '\0';
  const char *ip = sep + 1;
  if (strcmp(ip, "host-gateway") == 0)
    ip = gateway;
  if (inet_pton(AF_INET, ip, addr) != 1)
    return stack_error_set(err, -EINVAL,
                           "extra_hosts entry \"%s\": \"%s\" is not an IPv4 address (IPv6 is "
                           "not supported yet)",
                           s, sep + 1);
  return 0;
}

static int attach_endpoint(struct net_project *p, const struct net_container_spec *c,
                           const struct net_endpoint_spec *e, struct net_attachment *a,
                           struct stack_error **err) {
  struct np_network *n = find_network(p, e->network);
  if (n == NULL)
    return stack_error_set(err, -ENOENT,
                           "service %s: network %s is not declared in the project's networks",
                           c->service, e->network);
  struct in_addr ip;
  int r;
  char key[512];
  snprintf(key, sizeof(key), "%s/%s", c->name, n->name);
  const char *saved = p->adopt ? net_state_get(p->st.addresses, key) : NULL;
  if (saved && !e->ipv4_address && inet_pton(AF_INET, saved, &ip) == 1) {
    r = 0; /* the address the guest still has, reserved since up */
  } else if (e->ipv4_address) {
    if (inet_pton(AF_INET, e->ipv4_address, &ip) != 1)
      return stack_error_set(err, -EINVAL, "service %s: ipv4_address \"%s\" is not an IPv4 "
                             "address", c->service, e->ipv4_address);
    r = ipam_net_reserve(&n->ipam, ip, err);
  } else {
    r = ipam_net_alloc(&n->ipam, &ip, err);
  }
  if (r < 0)
    return stack_error_prefix(err, "service %s on network %s", c->service, n->name);
  snprintf(a->network, sizeof(a->network), "%s", n->name);
  snprintf(a->bridge, sizeof(a->bridge), "%s", n->bridge);
  net_tap_name(p->project, n->name, c->name, a->tap);
  net_container_mac(p->project, n->name, c->name, a->mac);
  net_format_mac(a->mac, a->mac_str);
  inet_ntop(AF_INET, &ip, a->ip, sizeof(a->ip));
  a->prefix = n->subnet.prefix;
  snprintf(a->gateway, sizeof(a->gateway), "%s", n->gateway);
  snprintf(a->dns, sizeof(a->dns), "%s", n->gateway);
  a->mtu = n->mtu;
  bool reuse = p->adopt && netlink_link_exists(a->tap); /* a running QEMU holds it */
  net_state_add(&p->st.taps, a->tap);
  net_state_set(&p->st.addresses, key, a->ip);
  if ((r = save_state(p, err)) < 0)
    return r;
  if ((!reuse && (r = netlink_tap_create(a->tap, (uid_t)-1, err)) < 0) ||
      (r = netlink_link_set_master(p->nl, a->tap, n->bridge, err)) < 0 ||
      (r = netlink_link_set_mtu(p->nl, a->tap, n->mtu, err)) < 0 ||
      (r = netlink_link_set_up(p->nl, a->tap, true, err)) < 0)
    return stack_error_prefix(err, "service %s on network %s", c->service, n->name);
  const char *names[64];
  size_t nn = 0;
  names[nn++] = c->service;
  names[nn++] = c->name;
  if (c->container_name)
    names[nn++] = c->container_name;
  if (c->hostname)
    names[nn++] = c->hostname;
  for (size_t i = 0; i < e->n_aliases && nn < 64; i++)
    names[nn++] = e->aliases[i];
  r = dns_records_add_endpoint(p->records, n->name, c->name, ip, names, nn, err);
  return r < 0 ? stack_error_prefix(err, "service %s", c->service) : 0;
}

static int add_private_names(struct net_project *p, const struct net_container_spec *c,
                             const struct net_attachment *first, struct stack_error **err) {
  int r;
  for (size_t i = 0; i < c->n_extra_hosts; i++) {
    char host[256];
    struct in_addr a;
    if ((r = parse_extra_host(c->extra_hosts[i], first->gateway, host, sizeof(host), &a, err)) <
            0 ||
        (r = dns_records_add_private(p->records, c->name, host, a, err)) < 0)
      return stack_error_prefix(err, "service %s", c->service);
  }
  struct in_addr self;
  inet_pton(AF_INET, first->ip, &self);
  for (size_t i = 0; i < c->n_links; i++) {
    char target[256];
    const char *colon = strchr(c->links[i], ':');
    size_t tl = colon ? (size_t)(colon - c->links[i]) : strlen(c->links[i]);
    if (tl == 0 || tl >= sizeof(target))
      return stack_error_set(err, -EINVAL, "service %s: invalid link \"%s\"", c->service,
                             c->links[i]);
    memcpy(target, c->links[i], tl);
    target[tl] = '\0';
    const char *alias = colon ? colon + 1 : target;
    struct in_addr addrs[32];
    size_t n = 0;
    /* a target that does not run (up --no-deps) or shares no network:
     * the link does not resolve, and the container starts anyway, as
     * with Docker's links on a user-defined network */
    if (dns_records_lookup(p->records, self, target, addrs, 32, &n) != DNS_LOOKUP_FOUND)
      continue;
    for (size_t k = 0; k < n; k++)
      if ((r = dns_records_add_private(p->records, c->name, alias, addrs[k], err)) < 0)
        return stack_error_prefix(err, "service %s", c->service);
  }
  return 0;
}

int net_attach_container(struct net_project *p, const struct net_container_spec *c,
                         struct net_container_net *out, struct stack_error **err) {
  memset(out, 0, sizeof(*out));
  if (c->name == NULL || c->service == NULL)
    return stack_error_set(err, -EINVAL, "a container needs a service and a name");
  for (struct np_container *k = p->containers; k; k = k->next)
    if (strcmp(k->name, c->name) == 0)
      return stack_error_set(err, -EEXIST, "container %s is already attached", c->name);
  struct np_container *k = xcalloc(1, sizeof(*k));
  k->name = xstrdup(c->name);
  k->att = xcalloc(c->n_endpoints ? c->n_endpoints : 1, sizeof(*k->att));
  k->next = p->containers;
  p->containers = k;
  int r = 0;
  bool have_default = false;
  for (size_t i = 0; i < c->n_endpoints && r == 0; i++) {
    r = attach_endpoint(p, c, &c->endpoints[i], &k->att[i], err);
    if (r == 0 || k->att[i].tap[0])
      k->n_att = i + 1; /* a partly made tap is removed by the detach below */
    if (r == 0 && !have_default && !find_network(p, c->endpoints[i].network)->internal)
      k->att[i].default_route = have_default = true;
  }
  if (r == 0 && k->n_att > 0)
    r = add_private_names(p, c, &k->att[0], err);
  if (r == 0 && c->n_ports > 0) {
    struct net_port_spec *ps = xcalloc(c->n_ports, sizeof(*ps));
    for (size_t i = 0; i < c->n_ports; i++) {
      ps[i] = c->ports[i];
      if (ps[i].guest_ip == NULL)
        ps[i].guest_ip = k->n_att ? k->att[0].ip : NULL;
      if (ps[i].service == NULL)
        ps[i].service = c->service;
    }
    r = portproxy_start(p->loop, ps, c->n_ports, &k->proxy, &out->ports, &out->n_ports, err);
    free(ps);
  }
  if (r < 0) {
    struct stack_error *e2 = NULL;
    net_detach_container(p, c->name, &e2);
    stack_error_free(e2);
    return r;
  }
  out->att = xmalloc(k->n_att * sizeof(*out->att) + 1);
  memcpy(out->att, k->att, k->n_att * sizeof(*out->att));
  out->n_att = k->n_att;
  return 0;
}

int net_detach_container(struct net_project *p, const char *name, struct stack_error **err) {
  struct np_container **kp = &p->containers;
  while (*kp && strcmp((*kp)->name, name) != 0)
    kp = &(*kp)->next;
  if (*kp == NULL)
    return 0;
  struct np_container *k = *kp;
  *kp = k->next;
  portproxy_close(k->proxy);
  dns_records_remove_container(p->records, k->name);
  int first = 0;
  for (size_t i = 0; i < k->n_att; i++) {
    struct net_attachment *a = &k->att[i];
    struct np_network *n = find_network(p, a->network);
    struct in_addr ip;
    if (n && n->ipam_ready && inet_pton(AF_INET, a->ip, &ip) == 1)
      ipam_net_release(&n->ipam, ip);
    char key[512];
    snprintf(key, sizeof(key), "%s/%s", name, a->network);
    net_state_unset(&p->st.addresses, key);
    if (a->tap[0] == '\0')
      continue;
    int r = netlink_link_delete(p->nl, a->tap, first ? NULL : err);
    if (r < 0 && first == 0)
      first = r;
    else if (r == 0)
      net_state_remove(&p->st.taps, a->tap);
  }
  free(k->att);
  free(k->name);
  free(k);
  int r = save_state(p, first ? NULL : err);
  return first ? first : r;
}

int net_project_down(struct net_project *p, struct stack_error **err) {
  if (p == NULL)
    return 0;
  int first = 0, r;
  while (p->containers) {
    r = net_detach_container(p, p->containers->name, first ? NULL : err);
    first = first ? first : r;
  }
  dns_server_close(p->dns); /* no callback reads the records after this */
  dns_records_free(p->records);
  if (p->nl != NULL) {
    /* The state lists everything, also taps of adopted containers that were
     * never attached again. */
    for (size_t i = 0; p->st.taps && p->st.taps[i]; i++) {
      r = netlink_link_delete(p->nl, p->st.taps[i], first ? NULL : err);
      first = first ? first : r;
    }
    r = net_nft_remove(p->table, first ? NULL : err);
    first = first ? first : r;
    for (size_t i = 0; p->st.bridges && p->st.bridges[i]; i++) {
      r = netlink_link_delete(p->nl, p->st.bridges[i], first ? NULL : err);
      first = first ? first : r;
    }
  }
  if (first == 0 && unlink(p->state_path) < 0 && errno != ENOENT)
    first = stack_error_errno(err, -errno, "cannot remove %s", p->state_path);
  for (size_t i = 0; i < p->n_nets; i++) {
    free(p->nets[i].name);
    if (p->nets[i].ipam_ready)
      ipam_net_free(&p->nets[i].ipam);
  }
  free(p->nets);
  netlink_close(p->nl);
  net_state_free(&p->st);
  free(p->project);
  free(p->state_path);
  free(p);
  return first;
}

int net_project_down_from_state(const char *project, const char *state_path,
                                struct stack_error **err) {
  _cleanup_free_ char *path = NULL;
  int r = 0;
  if (state_path)
    path = xstrdup(state_path);
  else if ((r = net_state_default_path(project, &path, err)) < 0)
    return r;
  struct net_state st;
  bool exists;
  r = net_state_load(path, &st, &exists, err);
  if (r < 0 || !exists)
    return r;
  struct netlink *nl = NULL;
  if ((r = netlink_open(&nl, err)) < 0) {
    net_state_free(&st);
    return r;
  }
  int first = 0;
  for (size_t i = 0; st.taps && st.taps[i]; i++) {
    r = netlink_link_delete(nl, st.taps[i], first ? NULL : err);
    first = first ? first : r;
  }
  if (st.table) {
    r = net_nft_remove(st.table, first ? NULL : err);
    first = first ? first : r;
  }
  for (size_t i = 0; st.bridges && st.bridges[i]; i++) {
    r = netlink_link_delete(nl, st.bridges[i], first ? NULL : err);
    first = first ? first : r;
  }
  netlink_close(nl);
  net_state_free(&st);
  if (first == 0 && unlink(path) < 0 && errno != ENOENT)
    first = stack_error_errno(err, -errno, "cannot remove %s", path);
  return first;
}
