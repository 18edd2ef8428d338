/* The embedded DNS server's record table: which names resolve to which
 * addresses, and for whom.
 *
 * Every record belongs to a network (a name is only visible to askers on that
 * network) or to one container (extra_hosts: only that container sees it).
 * The asker is identified by its source address: the container that owns the
 * address sees the names of every network it is attached to; an unknown
 * address inside a network's subnet sees that network's names.  A name that
 * exists in the table but is not visible to the asker is reported as such, so
 * the server answers NXDOMAIN instead of leaking it to the host's resolvers. */
#ifndef STACK_NET_DNS_RECORDS_H
#define STACK_NET_DNS_RECORDS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

struct stack_error;
struct dns_records;

enum dns_lookup_result {
  DNS_LOOKUP_UNKNOWN = 0, /* not a name of ours: forward it */
  DNS_LOOKUP_FOUND,       /* visible: answer with the addresses */
  DNS_LOOKUP_HIDDEN,      /* ours, but not visible to this asker: NXDOMAIN */
};

struct dns_records *dns_records_new(void);
void dns_records_free(struct dns_records *r);

/* Declares a network and its subnet (addresses inside it that belong to no
 * known container see this network's names). */
int dns_records_add_network(struct dns_records *r, const char *network, struct in_addr subnet,
                            int prefix, struct stack_error **err);

/* Attaches container to network at addr, and makes each of names (service
 * name, container name, hostname, aliases, ...) resolve to addr for askers on
 * that network.  Adding the same (name, addr) twice is harmless. */
int dns_records_add_endpoint(struct dns_records *r, const char *network, const char *container,
                             struct in_addr addr, const char *const *names, size_t n_names,
                             struct stack_error **err);

/* A name only `container` sees (extra_hosts, links aliases). */
int dns_records_add_private(struct dns_records *r, const char *container, const char *name,
                            struct in_addr addr, struct stack_error **err);

/* Removes everything about a container (its endpoints, its names, its
 * private names). */
void dns_records_remove_container(struct dns_records *r, const char *container);

/* Looks name (any case, with or without a trailing dot) up for an asker at
 * src.  Fills up to max addresses, rotated between calls so that clients
 * spread over the instances of a service, and sets *n. */
enum dns_lookup_result dns_records_lookup(struct dns_records *r, struct in_addr src,
                                          const char *name, struct in_addr *out, size_t max,
                                          size_t *n);

#endif
