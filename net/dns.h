/* The embedded DNS server: UDP and TCP on a libuv loop.
 *
 * Names of the project (service names, container names, aliases, ...) are
 * answered from a dns_records table, scoped by the asker's source address;
 * everything else is forwarded to the host's resolvers (from resolv.conf, or
 * an explicit list) and the answers are cached for their TTL.  A query that
 * cannot be parsed gets FORMERR (or nothing, if not even its header can be
 * read); nothing a client sends can crash the server. */
#ifndef STACK_NET_DNS_H
#define STACK_NET_DNS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct stack_error;
struct dns_records;
struct dns_server;

struct dns_server_config {
  /* Upstream resolvers; when n_upstreams is 0 they are read from resolv_conf
   * (NULL means /etc/resolv.conf; IPv4 nameservers only). */
  const struct sockaddr_in *upstreams;
  size_t n_upstreams;
  const char *resolv_conf;
  uint32_t ttl;                 /* TTL of our own answers; 0 means 10 s */
  unsigned forward_timeout_ms;  /* per upstream attempt; 0 means 2000 */
  size_t cache_max;             /* cached answers; 0 means 4096 */
  unsigned tcp_idle_ms;         /* silent TCP clients are dropped; 0 means 10 s */
};

struct dns_server_stats {
  uint64_t queries;   /* parsed queries, UDP and TCP */
  uint64_t local;     /* answered from the record table (incl. NXDOMAIN) */
  uint64_t forwarded; /* sent upstream */
  uint64_t cache_hits;
  uint64_t malformed; /* FORMERR or dropped */
  uint64_t failures;  /* SERVFAIL: upstream timeout or no upstream */
};

/* Creates a server on loop answering from records (borrowed: it must outlive
 * the server; the caller may change it at any time between callbacks). */
int dns_server_new(uv_loop_t *loop, struct dns_records *records,
                   const struct dns_server_config *cfg, struct dns_server **out,
                   struct stack_error **err);

/* Listens on ip:port for UDP and TCP (several addresses per server are fine:
 * one per bridge gateway).  port 0 picks a free port that is free for both;
 * *bound_port (may be NULL) receives it. */
int dns_server_listen(struct dns_server *s, const char *ip, uint16_t port, uint16_t *bound_port,
                      struct stack_error **err);

/* Counters since creation. */
void dns_server_get_stats(const struct dns_server *s, struct dns_server_stats *out);

/* Stops listening, drops pending queries and frees the server once the loop
 * has run the handles' close callbacks.  NULL is fine. */
void dns_server_close(struct dns_server *s);

/* Reads IPv4 "nameserver" lines of a resolv.conf into a new array. */
int dns_read_resolv_conf(const char *path, struct sockaddr_in **out, size_t *n,
                         struct stack_error **err);

#endif
