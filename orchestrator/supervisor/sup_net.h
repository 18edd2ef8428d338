/* The project's networks on the supervisor's loop (net/net_project.h):
 * brought up from the Compose model when the first container starts, one
 * attachment (taps, addresses, DNS names, published ports) per running
 * container, everything removed when the supervisor ends.  net/ keeps its
 * own state file (<data root>/projects/<project>/network.json), so a
 * supervisor started after a crash removes what the dead one left. */
#ifndef STACK_SUPERVISOR_SUP_NET_H
#define STACK_SUPERVISOR_SUP_NET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cJSON cJSON;
struct stack_error;
struct supervisor;
struct compose_service;
struct container_opts;
struct sup_request;
struct sup_conn;

/* At supervisor start, after adopting VMs: with none adopted, removes the
 * networks a crashed supervisor left; else the next attach adopts them. */
void sup_net_recover(struct supervisor *s, bool adopted);

/* Connects container `name` of service svc (detaching an earlier
 * attachment first), bringing the project's networks up if needed, and
 * fills o's nets, gateways, resolv_conf and extra_hosts; they stay valid
 * until sup_net_detach().  Records the addresses in the project state.
 * A published port in use fails here, before the VM starts. */
int sup_net_attach(struct supervisor *s, const char *name, const struct compose_service *svc,
                   struct container_opts *o, struct stack_error **err);

/* Whether the networks are a dead supervisor's, waiting for the VMs
 * adopted from it to get their host side back (same taps and addresses,
 * DNS names, published ports) through sup_net_attach() once a project is
 * loaded (sup_ctrs_net_adopt()). */
bool sup_net_adopting(const struct supervisor *s);

/* Disconnects a container; unknown names are fine. */
void sup_net_detach(struct supervisor *s, const char *name);

/* A container was removed or is recreated: disconnects it, and removes
 * the networks when no other container uses them. */
void sup_net_forget(struct supervisor *s, const char *name);

/* `network rm` and `network prune`: removes the project's networks when
 * no container is attached to any of them (the next start makes them
 * again), and returns NULL; else the name of an attached container, and
 * nothing is removed. */
const char *sup_net_release(struct supervisor *s);

/* Removes the project's networks (the supervisor ends): live ones, or what
 * the state file lists. */
void sup_net_down(struct supervisor *s);

/* Adds the container's published ports, as bound, to its `ps` object:
 * "ports": [{host_ip, host_port, target, protocol}] (nothing when none). */
void sup_net_ps(const struct supervisor *s, const char *name, cJSON *obj);

/* Bytes the container received and sent over its networks, read from its
 * taps' counters on the host (what the host sends into a tap the guest
 * receives); 0 when it has no network. */
void sup_net_io(const struct supervisor *s, const char *name, unsigned long long *rx,
                unsigned long long *tx);

/* The `port` request: params {service, private_port, protocol?, index?}
 * -> {bindings: ["0.0.0.0:49153", ...]}. */
int sup_net_port(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                 cJSON **result, struct stack_error **err);

#endif
