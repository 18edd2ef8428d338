/* The Compose model turned into net/'s specs (net/net_project.h) and into
 * what the guest is told (/etc/resolv.conf, /etc/hosts lines): pure
 * translation, no system calls. */
#ifndef STACK_SUPERVISOR_SUP_NET_SPEC_H
#define STACK_SUPERVISOR_SUP_NET_SPEC_H

#include <stddef.h>

struct stack_error;
struct compose_project;
struct compose_service;
struct net_network_spec;
struct net_endpoint_spec;
struct net_port_spec;

/* The project's networks that some service uses (*n of them; free the
 * array; its strings point into p). */
struct net_network_spec *sup_net_spec_networks(const struct compose_project *p, size_t *n);

/* The service's endpoints, one per network it joins (free the array). */
struct net_endpoint_spec *sup_net_spec_endpoints(const struct compose_service *svc);

/* The service's ports: (free *out; strings point into svc).  An invalid
 * published port or protocol is an error naming the service and entry. */
int sup_net_spec_ports(const struct compose_service *svc, struct net_port_spec **out,
                   struct stack_error **err);

/* /etc/resolv.conf: nameserver dns (the project's DNS server; NULL: none),
 * then the service's dns, dns_search, dns_opt; NULL when all are empty. */
char *sup_net_spec_resolv(const struct compose_service *svc, const char *dns);

/* extra_hosts ("host=ip", or "host:ip") as "ip<TAB>host" lines for
 * /etc/hosts (NULL-terminated, never NULL). */
char **sup_net_spec_hosts(const struct compose_service *svc);

#endif
