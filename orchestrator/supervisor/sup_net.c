/* The project's networks for the supervisor: the Compose model turned into
 * net/'s specs, one attachment per running container. */
#include "sup_net.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_project.h"
#include "orchestrator/compose/compose_model.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"
#include "sup_net_spec.h"
#include "sup_conn.h"
#include "sup_loop.h"

/* What one attached container holds: net/'s answer and the strings the
 * container options point into. */
struct sup_net_ctr {
  char *name;
  char *service;
  unsigned number;
  struct net_container_net net;
  struct container_net *nets;
  char (*addr)[24];   /* "a.b.c.d/n", one per attachment */
  const char **addrs; /* per attachment: {addr, NULL} */
  char **gateways;
  char *resolv;
  char **extra_hosts;
  struct sup_net_ctr *next;
};

struct sup_net {
  struct net_project *np;
  bool adopt; /* VMs of a dead supervisor run: keep their taps and addresses */
  struct sup_net_ctr *ctrs;
};

static struct sup_net *get(struct supervisor *s) {
  if (s->net == NULL)
    s->net = xcalloc(1, sizeof(*s->net));
  return s->net;
}

static void ctr_free(struct sup_net_ctr *k) {
  net_container_net_free(&k->net);
  free(k->name);
  free(k->service);
  free(k->nets);
  free(k->addr);
  free(k->addrs);
  strv_free(k->gateways);
  free(k->resolv);
  strv_free(k->extra_hosts);
  free(k);
}

static void log_error(const char *what, struct stack_error *e) {
  if (e)
    fprintf(stderr, "stack supervisor: %s: %s\n", what, e->msg);
}

void sup_net_recover(struct supervisor *s, bool adopted) {
  if (adopted) {
    get(s)->adopt = true;
    return;
  }
  _cleanup_error_ struct stack_error *e = NULL;
  if (net_project_down_from_state(s->paths.project, NULL, &e) < 0)
    log_error("removing the networks of an earlier run", e);
}

static int project_up(struct supervisor *s, struct sup_net *n, struct stack_error **err) {
  size_t k;
  _cleanup_free_ struct net_network_spec *specs = sup_net_spec_networks(s->project, &k);
  struct net_project_spec spec = {
      .project = s->paths.project,
      .networks = specs,
      .n_networks = k,
      .loop = &s->loop,
      .pool = getenv("STACK_NET_POOL"),
      .adopt = n->adopt,
  };
  int r = net_project_up(&spec, &n->np, err);
  n->adopt = false;
  return r < 0 ? stack_error_prefix(err, "project %s: networks", s->paths.project) : 0;
}

/* Brings the networks up, or again when the model gained a network and no
 * container is attached to the old set. */
static int ensure_up(struct supervisor *s, struct sup_net *n, const struct compose_service *svc,
                     struct stack_error **err) {
  if (n->np) {
    const char *missing = NULL;
    for (size_t i = 0; i < svc->n_networks && !missing; i++) {
      char bridge[16], subnet[20];
      _cleanup_error_ struct stack_error *e = NULL;
      if (net_project_network(n->np, svc->networks[i].name, bridge, subnet, &e) < 0)
        missing = svc->networks[i].name;
    }
    if (missing == NULL)
      return 0;
    if (n->ctrs)
      return stack_error_set(err, -EBUSY,
                             "network %s was added while other containers run: run stack down, "
                             "then stack up",
                             missing);
    _cleanup_error_ struct stack_error *e = NULL;
    if (net_project_down(n->np, &e) < 0)
      log_error("removing the networks", e);
    n->np = NULL;
  }
  return project_up(s, n, err);
}

static void record_addresses(struct supervisor *s, const char *name,
                             const struct net_container_net *net) {
  struct ps_container *r = project_state_find(s->state, name);
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_addresses; i++) {
    free(r->addresses[i].network);
    free(r->addresses[i].ip);
    free(r->addresses[i].mac);
  }
  free(r->addresses);
  r->addresses = xcalloc(net->n_att + 1, sizeof(*r->addresses));
  r->n_addresses = net->n_att;
  for (size_t i = 0; i < net->n_att; i++)
    r->addresses[i] = (struct ps_address){xstrdup(net->att[i].network),
                                          xstrdup(net->att[i].ip),
                                          xstrdup(net->att[i].mac_str)};
}

int sup_net_attach(struct supervisor *s, const char *name, const struct compose_service *svc,
                   struct container_opts *o, struct stack_error **err) {
  sup_net_detach(s, name);
  if (svc->network_mode && strcmp(svc->network_mode, "none") != 0)
    return stack_error_set(err, -ENOTSUP,
                           "service %s: network_mode %s is not supported: each service runs "
                           "in its own VM; use networks:",
                           svc->name, svc->network_mode);
  struct sup_net *n = get(s);
  struct sup_net_ctr *k = xcalloc(1, sizeof(*k));
  k->name = xstrdup(name);
  k->service = xstrdup(svc->name);
  struct ps_container *rec = project_state_find(s->state, name);
  k->number = rec ? rec->number : 1;
  k->extra_hosts = sup_net_spec_hosts(svc);
  bool no_net = svc->network_mode != NULL || svc->n_networks == 0;
  int r = 0;
  if (!no_net) {
    _cleanup_free_ struct net_endpoint_spec *eps = sup_net_spec_endpoints(svc);
    _cleanup_free_ struct net_port_spec *ports = NULL;
    size_t n_links = 0, n_extra = 0;
    while (svc->links && svc->links[n_links])
      n_links++;
    while (svc->extra_hosts && svc->extra_hosts[n_extra])
      n_extra++;
    struct net_container_spec cs = {
        .service = svc->name,
        .name = name,
        .container_name = svc->container_name,
        .hostname = svc->hostname,
        .endpoints = eps,
        .n_endpoints = svc->n_networks,
        .links = (const char *const *)svc->links,
        .n_links = n_links,
        .extra_hosts = (const char *const *)svc->extra_hosts,
        .n_extra_hosts = n_extra,
        .n_ports = svc->n_ports,
    };
    if ((r = sup_net_spec_ports(svc, &ports, err)) == 0 && (r = ensure_up(s, n, svc, err)) == 0) {
      cs.ports = ports;
      r = net_attach_container(n->np, &cs, &k->net, err);
    }
    if (r < 0) {
      ctr_free(k);
      return stack_error_prefix(err, "container %s", name);
    }
  }
  size_t na = k->net.n_att;
  k->nets = xcalloc(na + 1, sizeof(*k->nets));
  k->addr = xcalloc(na + 1, sizeof(*k->addr));
  k->addrs = xcalloc(2 * na + 1, sizeof(*k->addrs));
  k->gateways = xcalloc(2, sizeof(char *));
  for (size_t i = 0; i < na; i++) {
    const struct net_attachment *a = &k->net.att[i];
    snprintf(k->addr[i], sizeof(k->addr[i]), "%s/%d", a->ip, a->prefix);
    k->addrs[2 * i] = k->addr[i];
    k->nets[i] = (struct container_net){.tap = a->tap,
                                        .mac = a->mac_str,
                                        .mtu = a->mtu,
                                        .addrs = &k->addrs[2 * i]};
    if (a->default_route && k->gateways[0] == NULL)
      k->gateways[0] = xstrdup(a->gateway);
  }
  k->resolv = sup_net_spec_resolv(svc, na ? k->net.att[0].dns : NULL);
  record_addresses(s, name, &k->net);
  o->nets = k->nets;
  o->n_nets = na;
  o->gateways = (const char *const *)k->gateways;
  o->resolv_conf = k->resolv;
  o->extra_hosts = (const char *const *)k->extra_hosts;
  k->next = n->ctrs;
  n->ctrs = k;
  return 0;
}

bool sup_net_adopting(const struct supervisor *s) {
  return s->net != NULL && s->net->adopt && s->project != NULL;
}

/* Removes the networks once no container uses them: `down` answers only
 * after its `rm`, so they are gone when it returns. */
static void down_if_unused(struct supervisor *s) {
  struct sup_net *n = s->net;
  if (n->ctrs || (n->np == NULL && !n->adopt))
    return;
  /* a VM that runs (ours, or adopted from a dead supervisor) has its
   * QEMU recorded; one that boots has its attachment */
  for (size_t i = 0; i < s->state->n_containers; i++)
    if (s->state->containers[i].qemu_pid > 0)
      return;
  _cleanup_error_ struct stack_error *e = NULL;
  /* adopted: a dead supervisor's networks, known from the state file */
  if (n->np ? net_project_down(n->np, &e) < 0
            : net_project_down_from_state(s->paths.project, NULL, &e) < 0)
    log_error("removing the networks", e);
  n->np = NULL;
  n->adopt = false;
}

const char *sup_net_release(struct supervisor *s) {
  struct sup_net *n = s->net;
  if (n && n->ctrs)
    return n->ctrs->name;
  for (size_t i = 0; i < s->state->n_containers; i++)
    if (s->state->containers[i].qemu_pid > 0)
      return s->state->containers[i].name;
  if (n)
    down_if_unused(s);
  return NULL;
}

void sup_net_detach(struct supervisor *s, const char *name) {
  if (s->net == NULL)
    return;
  for (struct sup_net_ctr **kp = &s->net->ctrs; *kp; kp = &(*kp)->next) {
    struct sup_net_ctr *k = *kp;
    if (strcmp(k->name, name) != 0)
      continue;
    *kp = k->next;
    _cleanup_error_ struct stack_error *e = NULL;
    if (s->net->np && net_detach_container(s->net->np, name, &e) < 0)
      log_error(name, e);
    ctr_free(k);
    break;
  }
}

void sup_net_forget(struct supervisor *s, const char *name) {
  sup_net_detach(s, name);
  if (s->net)
    down_if_unused(s);
}

void sup_net_down(struct supervisor *s) {
  struct sup_net *n = s->net;
  while (n && n->ctrs)
    sup_net_detach(s, n->ctrs->name);
  _cleanup_error_ struct stack_error *e = NULL;
  if (n && n->np) {
    if (net_project_down(n->np, &e) < 0)
      log_error("removing the networks", e);
  } else if (net_project_down_from_state(s->paths.project, NULL, &e) < 0) {
    log_error("removing the networks", e);
  }
  free(n);
  s->net = NULL;
}

static const struct sup_net_ctr *find(const struct supervisor *s, const char *name) {
  const struct sup_net_ctr *k = s->net ? s->net->ctrs : NULL;
  while (k && strcmp(k->name, name) != 0)
    k = k->next;
  return k;
}

void sup_net_ps(const struct supervisor *s, const char *name, cJSON *obj) {
  const struct sup_net_ctr *k = find(s, name);
  if (k == NULL || k->net.n_ports == 0)
    return;
  cJSON *arr = cJSON_AddArrayToObject(obj, "ports");
  for (size_t i = 0; i < k->net.n_ports; i++) {
    const struct net_port_binding *b = &k->net.ports[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "host_ip", b->host_ip);
    cJSON_AddNumberToObject(o, "host_port", b->host_port);
    cJSON_AddNumberToObject(o, "target", b->guest_port);
    cJSON_AddStringToObject(o, "protocol", b->proto == IPPROTO_UDP ? "udp" : "tcp");
    cJSON_AddItemToArray(arr, o);
  }
}

static unsigned long long tap_counter(const char *tap, const char *which) {
  _cleanup_free_ char *path = xasprintf("/sys/class/net/%s/statistics/%s", tap, which);
  _cleanup_free_ char *text = NULL;
  if (fs_read_file(path, 64, &text, NULL, NULL) < 0)
    return 0;
  return strtoull(text, NULL, 10);
}

void sup_net_io(const struct supervisor *s, const char *name, unsigned long long *rx,
                unsigned long long *tx) {
  *rx = *tx = 0;
  const struct sup_net_ctr *k = find(s, name);
  for (size_t i = 0; k && i < k->net.n_att; i++) {
    *rx += tap_counter(k->net.att[i].tap, "tx_bytes");
    *tx += tap_counter(k->net.att[i].tap, "rx_bytes");
  }
}

int sup_net_port(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                 cJSON **result, struct stack_error **err) {
  (void)c;
  const char *service =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req->params, "service"));
  const cJSON *port = cJSON_GetObjectItemCaseSensitive(req->params, "private_port");
  const cJSON *index = cJSON_GetObjectItemCaseSensitive(req->params, "index");
  const char *proto =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req->params, "protocol"));
  if (service == NULL || !cJSON_IsNumber(port))
    return stack_error_set(err, -EINVAL, "port: params.service and params.private_port are "
                                         "required");
  int want_proto = proto && strcmp(proto, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
  unsigned num = cJSON_IsNumber(index) && index->valueint > 0 ? (unsigned)index->valueint : 1;
  const struct sup_net_ctr *k = s->net ? s->net->ctrs : NULL;
  while (k && (strcmp(k->service, service) != 0 || k->number != num))
    k = k->next;
  if (k == NULL)
    return stack_error_set(err, -ENOENT, "service %s (index %u) is not running", service, num);
  *result = cJSON_CreateObject();
  cJSON *arr = cJSON_AddArrayToObject(*result, "bindings");
  for (size_t i = 0; i < k->net.n_ports; i++) {
    const struct net_port_binding *b = &k->net.ports[i];
    if (b->guest_port != port->valueint || b->proto != want_proto)
      continue;
    _cleanup_free_ char *text = xasprintf("%s:%u", b->host_ip, b->host_port);
    cJSON_AddItemToArray(arr, cJSON_CreateString(text));
  }
  return 0;
}
