/* Published ports: a userspace TCP and UDP proxy on a libuv loop, from a host
 * address and port to a guest address and port (like Docker's userland proxy
 * and Apple's `container run -p`).  The host sockets are all bound and
 * listening before portproxy_start() returns, so a port that is already in
 * use is reported, with nothing left open, before any VM starts. */
#ifndef STACK_NET_PORTPROXY_H
#define STACK_NET_PORTPROXY_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct stack_error;
struct portproxy;

struct net_port_spec {
  const char *host_ip;    /* NULL or "" means 0.0.0.0 */
  uint16_t host_port;     /* 0: a random free port */
  uint16_t host_port_end; /* 0 or == host_port: one port; else an inclusive range */
  const char *guest_ip;
  uint16_t guest_port;
  uint16_t guest_port_end; /* 0 or == guest_port: one port */
  int proto;               /* IPPROTO_TCP or IPPROTO_UDP */
  const char *service;     /* for error messages; may be NULL */
};

/* One forwarded port, as bound (random ports resolved). */
struct net_port_binding {
  char host_ip[INET_ADDRSTRLEN];
  uint16_t host_port;
  char guest_ip[INET_ADDRSTRLEN];
  uint16_t guest_port;
  int proto;
};

/* Binds and starts every mapping.  A host range with a single guest port
 * (Compose's "8000-8010:80") takes the first free port of the range; equal
 * ranges map one to one.  On success *bindings (caller frees) lists what was
 * bound.  On failure nothing stays bound. */
int portproxy_start(uv_loop_t *loop, const struct net_port_spec *specs, size_t n,
                    struct portproxy **out, struct net_port_binding **bindings,
                    size_t *n_bindings, struct stack_error **err);

/* Closes every listener and connection; memory is freed once the loop has
 * run the close callbacks.  NULL is fine. */
void portproxy_close(struct portproxy *p);

/* Live proxied connections (TCP) and flows (UDP), for tests and `stack ps`. */
size_t portproxy_active(const struct portproxy *p);

#endif
