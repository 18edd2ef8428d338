/* Shared by the net integration tests: shell helpers and network-namespace
 * stand-ins for VMs (a namespace per "container", a veth per network,
 * configured with what net_attach_container() hands to a guest). */
#ifndef STACK_TEST_HELPER_NETNS_H
#define STACK_TEST_HELPER_NETNS_H

#include <pthread.h>
#include <stdbool.h>
#include <uv.h>

#include "net/net_project.h"

/* Runs a shell command; returns its exit status (-1 if it did not exit). */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command and returns its stdout (at most 64 KiB; caller frees). */
char *capture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 6 random hex digits, for names that cannot clash with parallel runs. */
void random_suffix(char out[7]);

/* Exits 77 (skipped) unless running as root with /dev/net/tun, which
 * bridges, taps, namespaces and nftables need. */
void require_root_and_tun(void);

/* Creates namespace <prefix><name> with a veth per attachment: the host end
 * "stkv<suffix><hash of name, i>" on the attachment's bridge, the guest end
 * eth<i> with its MAC, MTU, address and (default_route) default route.
 * Returns 0 or the failing command's status. */
int netns_container(const char *suffix, const char *name, const struct net_container_net *cn);

/* Removes namespaces stk<suffix><name> (killing what runs in them) for each
 * of names, and any link named stkv<suffix>*. */
void netns_cleanup(const char *suffix, const char *const *names, int n);

/* Runs fn at exit and on SIGINT/SIGTERM/SIGALRM (then dies of the signal),
 * so that a failing or timed-out test still removes what it made. */
void cleanup_on_exit(void (*fn)(void));

/* Runs a libuv loop in a thread while the test drives clients; API calls
 * are made only while it is stopped (the API wants one thread at a time). */
struct loop_runner {
  uv_loop_t *loop;
  uv_async_t stop;
  pthread_t th;
};
void loop_runner_start(struct loop_runner *r, uv_loop_t *loop);
void loop_runner_stop(struct loop_runner *r);

/* Whether a link exists. */
bool link_exists(const char *name);

#endif
