/* Compose model -> net/ specs and guest files. */
#include "sup_net_spec.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_project.h"
#include "orchestrator/compose/compose_model.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

static bool uses(const struct compose_service *svc, const char *key) {
  for (size_t i = 0; i < svc->n_networks; i++)
    if (strcmp(svc->networks[i].name, key) == 0)
      return true;
  return false;
}

struct net_network_spec *sup_net_spec_networks(const struct compose_project *p, size_t *n) {
  struct net_network_spec *specs = xcalloc(p->n_networks + 1, sizeof(*specs));
  size_t k = 0;
  for (size_t i = 0; i < p->n_networks; i++) {
    const struct compose_network *cn = &p->networks[i];
    bool used = false;
    for (size_t j = 0; j < p->n_services && !used; j++)
      used = uses(&p->services[j], cn->key);
    if (!used)
      continue; /* as Compose: declared but unused networks are not made */
    const char *subnet = cn->subnets && cn->subnets[0] ? cn->subnets[0] : NULL;
    const char *gw =
        subnet && cn->gateways && cn->gateways[0] && *cn->gateways[0] ? cn->gateways[0] : NULL;
    specs[k++] = (struct net_network_spec){
        .name = cn->key,
        .subnet = subnet,
        .gateway = gw,
        .internal = cn->internal,
        .external = cn->external,
        .external_name = cn->external ? cn->name : NULL,
        .driver = cn->driver,
        .n_driver_opts = cn->driver_opts.n,
        .enable_ipv6 = cn->enable_ipv6,
    };
  }
  *n = k;
  return specs;
}

struct net_endpoint_spec *sup_net_spec_endpoints(const struct compose_service *svc) {
  struct net_endpoint_spec *eps = xcalloc(svc->n_networks + 1, sizeof(*eps));
  for (size_t i = 0; i < svc->n_networks; i++) {
    const struct compose_service_network *sn = &svc->networks[i];
    size_t na = 0;
    while (sn->aliases && sn->aliases[na])
      na++;
    eps[i] = (struct net_endpoint_spec){sn->name, sn->ipv4_address,
                                        (const char *const *)sn->aliases, na};
  }
  return eps;
}

static int parse_port_range(const char *text, uint16_t *lo, uint16_t *hi) {
  char *end;
  unsigned long a = strtoul(text, &end, 10), b = a;
  if (end == text || *text == '-' || *text == '+')
    return -EINVAL;
  if (*end == '-') {
    const char *t = end + 1;
    if (*t < '0' || *t > '9')
      return -EINVAL;
    b = strtoul(t, &end, 10);
  }
  if (*end || a == 0 || a > 65535 || b < a || b > 65535)
    return -EINVAL;
  *lo = (uint16_t)a;
  *hi = (uint16_t)b;
  return 0;
}

int sup_net_spec_ports(const struct compose_service *svc, struct net_port_spec **out,
                   struct stack_error **err) {
  _cleanup_free_ struct net_port_spec *ps = xcalloc(svc->n_ports + 1, sizeof(*ps));
  for (size_t i = 0; i < svc->n_ports; i++) {
    const struct compose_port *cp = &svc->ports[i];
    struct net_port_spec *p = &ps[i];
    if (cp->protocol && strcmp(cp->protocol, "tcp") != 0 && strcmp(cp->protocol, "udp") != 0)
      return stack_error_set(err, -EINVAL,
                             "service %s: ports[%zu]: protocol %s is not supported: use tcp or "
                             "udp",
                             svc->name, i, cp->protocol);
    p->host_ip = cp->host_ip;
    p->guest_port = cp->target;
    p->proto = cp->protocol && strcmp(cp->protocol, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
    p->service = svc->name;
    if (cp->published && *cp->published &&
        parse_port_range(cp->published, &p->host_port, &p->host_port_end) < 0)
      return stack_error_set(err, -EINVAL,
                             "service %s: ports[%zu]: invalid published port \"%s\": give a "
                             "port or a range such as 8000-8010",
                             svc->name, i, cp->published);
  }
  *out = steal_pointer(&ps);
  return 0;
}

static void line(struct sbuf *b, const char *word, char **v) {
  if (v == NULL || v[0] == NULL)
    return;
  sbuf_puts(b, word);
  for (; *v; v++)
    sbuf_printf(b, " %s", *v);
  sbuf_puts(b, "\n");
}

char *sup_net_spec_resolv(const struct compose_service *svc, const char *dns) {
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  if (dns && *dns)
    sbuf_printf(&b, "nameserver %s\n", dns);
  for (char **d = svc->dns; d && *d; d++)
    sbuf_printf(&b, "nameserver %s\n", *d);
  line(&b, "search", svc->dns_search);
  line(&b, "options", svc->dns_opt);
  return b.len ? sbuf_steal(&b) : NULL;
}

char **sup_net_spec_hosts(const struct compose_service *svc) {
  size_t n = 0;
  while (svc->extra_hosts && svc->extra_hosts[n])
    n++;
  char **v = xcalloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++) {
    const char *e = svc->extra_hosts[i];
    size_t cut = strcspn(e, "=");
    if (e[cut] == '\0')
      cut = strcspn(e, ":");
    v[i] = e[cut] ? xasprintf("%s\t%.*s", e + cut + 1, (int)cut, e) : xstrdup(e);
  }
  return v;
}
