#include "cli_run_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_project.h"
#include "net/portproxy.h"
#include "net/resolv_conf.h"
#include "net/run_network.h"
#include "orchestrator/compose/compose_cli_specs.h"
#include "orchestrator/compose/compose_model.h"
#include "orchestrator/supervisor/sup_net_spec.h"
#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"

struct cli_run_net {
  struct run_network_lease *lease;
  struct net_attachment att;
  struct portproxy *proxy;
  struct container_net net;
  char addr[24];
  const char *addrs[2];
  const char *gateways[2];
  char *resolv;
  char **hosts;
};

static bool is_default(const char *network) {
  return network == NULL || strcmp(network, "bridge") == 0 || strcmp(network, "default") == 0;
}

static size_t count(char **v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

/* "host:ip" or "host=ip" (Docker's two forms; an IPv6 address may hold
 * colons, so the first separator splits); *ip points into s. */
static int split_host(const char *s, char *host, size_t size, const char **ip,
                      struct stack_error **err) {
  size_t cut = strcspn(s, "=");
  if (s[cut] == '\0')
    cut = strcspn(s, ":");
  if (s[cut] == '\0' || cut == 0 || cut >= size || s[cut + 1] == '\0')
    return stack_error_set(err, -EINVAL,
                           "invalid --add-host \"%s\": write it as HOST:IP (or HOST:host-gateway)",
                           s);
  memcpy(host, s, cut);
  host[cut] = '\0';
  *ip = s + cut + 1;
  return 0;
}

int cli_run_net_check(const struct cli_run_net_opts *o, struct stack_error **err) {
  bool none = o->network && strcmp(o->network, "none") == 0;
  if (o->network && strcmp(o->network, "host") == 0)
    return stack_error_set(err, -ENOTSUP,
                           "--network host: each container runs in its own VM, which cannot "
                           "share the host's network: publish ports with -p instead");
  if (!none && !is_default(o->network))
    return stack_error_set(
        err, -ENOTSUP,
        "--network %s: `stack run IMAGE` joins \"bridge\" (the default) or \"none\"; it cannot "
        "join a Compose project's network.  To reach a project's services by name, run the "
        "command in a service of the project (`stack run SERVICE COMMAND` in the project's "
        "directory, or with -f/-p), or publish their ports and reach them through the host "
        "(--add-host NAME:host-gateway)",
        o->network);
  if (none && (count(o->publish) || o->publish_all))
    return stack_error_set(err, -EINVAL,
                           "--network none has no interface to publish ports on: drop -p/-P, "
                           "or the --network none");
  for (char **h = o->add_host; h && *h; h++) {
    char host[256];
    const char *ip;
    if (split_host(*h, host, sizeof host, &ip, err) < 0)
      return -EINVAL;
    unsigned char buf[16];
    if (strcmp(ip, "host-gateway") == 0) {
      if (none)
        return stack_error_set(err, -EINVAL,
                               "--add-host %s: with --network none there is no gateway", *h);
    } else if (inet_pton(AF_INET, ip, buf) != 1 && inet_pton(AF_INET6, ip, buf) != 1) {
      return stack_error_set(err, -EINVAL, "invalid --add-host \"%s\": \"%s\" is not an IP address",
                             *h, ip);
    }
  }
  return 0;
}

/* -p specs and, with -P, the image's exposed ports, read as a Compose
 * file's short syntax (compose_cli_specs.h), with the guest's address. */
static int bind_ports(uv_loop_t *loop, const struct cli_run_net_opts *o,
                      const struct image_config *ic, struct cli_run_net *n,
                      struct stack_error **err) {
  _cleanup_strv_ char **specs = NULL;
  size_t ns = 0;
  for (char **p = o->publish; p && *p; p++) {
    specs = xrealloc(specs, (ns + 2) * sizeof(*specs));
    specs[ns++] = xstrdup(*p);
    specs[ns] = NULL;
  }
  for (char **e = o->publish_all && ic ? ic->exposed_ports : NULL; e && *e; e++) {
    const char *slash = strchr(*e, '/');
    if (slash && strcmp(slash, "/tcp") != 0 && strcmp(slash, "/udp") != 0)
      continue; /* sctp: not proxied */
    specs = xrealloc(specs, (ns + 2) * sizeof(*specs));
    specs[ns++] = xstrdup(*e);
    specs[ns] = NULL;
  }
  if (ns == 0)
    return 0;
  _cleanup_compose_project_ struct compose_project *p = NULL;
  _cleanup_free_ struct net_port_spec *ps = NULL;
  int r = compose_port_specs(specs, ns, &p, err);
  if (r < 0)
    return r;
  const struct compose_service *svc = &p->services[0];
  if ((r = sup_net_spec_ports(svc, &ps, err)) < 0)
    return r;
  for (size_t i = 0; i < svc->n_ports; i++) {
    ps[i].guest_ip = n->att.ip;
    ps[i].service = "--publish";
  }
  struct net_port_binding *b = NULL;
  size_t nb = 0;
  r = portproxy_start(loop, ps, svc->n_ports, &n->proxy, &b, &nb, err);
  free(b);
  return r;
}

int cli_run_net_setup(uv_loop_t *loop, const struct cli_run_net_opts *o,
                      const struct image_config *ic, struct container_opts *co,
                      struct cli_run_net **out, struct stack_error **err) {
  struct cli_run_net *n = xcalloc(1, sizeof(*n));
  int r = 0;
  bool none = o->network && strcmp(o->network, "none") == 0;
  if (!none) {
    r = run_network_join(NULL, &n->lease, &n->att, err);
    if (r == -EPERM || r == -EACCES)
      stack_error_prefix(err, "the default network needs root (CAP_NET_ADMIN); without it, "
                              "run with --network none");
    if (r == 0)
      r = bind_ports(loop, o, ic, n, err);
    if (r < 0) {
      cli_run_net_free(n);
      return r;
    }
    snprintf(n->addr, sizeof n->addr, "%s/%d", n->att.ip, n->att.prefix);
    n->addrs[0] = n->addr;
    n->net = (struct container_net){
        .tap = n->att.tap, .mac = n->att.mac_str, .mtu = n->att.mtu, .addrs = n->addrs};
    n->gateways[0] = n->att.gateway;
    co->nets = &n->net;
    co->n_nets = 1;
    co->gateways = n->gateways;
  }
  _cleanup_free_ char *host = resolv_conf_host(NULL);
  n->resolv = resolv_conf_for_guest(host, (const char *const *)o->dns,
                                    (const char *const *)o->dns_search,
                                    (const char *const *)o->dns_option);
  co->resolv_conf = n->resolv;
  size_t nh = count(o->add_host);
  n->hosts = xcalloc(nh + 1, sizeof(char *));
  for (size_t i = 0; i < nh; i++) {
    char name[256];
    const char *ip;
    if ((r = split_host(o->add_host[i], name, sizeof name, &ip, err)) < 0) {
      cli_run_net_free(n);
      return r;
    }
    if (strcmp(ip, "host-gateway") == 0)
      ip = n->att.gateway;
    n->hosts[i] = xasprintf("%s\t%s", ip, name);
  }
  co->extra_hosts = (const char *const *)n->hosts;
  *out = n;
  return 0;
}

void cli_run_net_free(struct cli_run_net *n) {
  if (n == NULL)
    return;
  portproxy_close(n->proxy);
  run_network_leave(n->lease);
  free(n->resolv);
  strv_free(n->hosts);
  free(n);
}
