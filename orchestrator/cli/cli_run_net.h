/* The network of `stack run IMAGE` (cli_run.c), as `docker run` gives it:
 * by default an interface on stack run's default network
 * (net/run_network.h: an address, the default route through NAT, the
 * host's DNS servers in /etc/resolv.conf), published ports (-p, -P)
 * proxied by this process (net/portproxy.h) for as long as the run lives,
 * --dns, --dns-search, --dns-option and --add-host; `--network none`: only
 * the loopback. */
#ifndef STACK_CLI_RUN_NET_H
#define STACK_CLI_RUN_NET_H

#include <stdbool.h>
#include <uv.h>

struct container_opts;
struct image_config;
struct stack_error;
struct cli_run_net;

struct cli_run_net_opts {
  const char *network; /* NULL, "bridge" or "default": the default network; "none" */
  char **publish;      /* -p specs (NULL-terminated, or NULL) */
  bool publish_all;    /* -P: the image's ExposedPorts to random host ports */
  char **dns, **dns_search, **dns_option;
  char **add_host; /* "host:ip" / "host=ip"; ip may be "host-gateway" */
};

/* Checks the options (before anything is pulled or made). */
int cli_run_net_check(const struct cli_run_net_opts *o, struct stack_error **err);

/* Joins the network, binds the published ports on loop (a port in use
 * fails here, before the VM starts) and points co's network fields into
 * *out, which must outlive the container. */
int cli_run_net_setup(uv_loop_t *loop, const struct cli_run_net_opts *o,
                      const struct image_config *ic, struct container_opts *co,
                      struct cli_run_net **out, struct stack_error **err);

/* After the VM is gone: closes the ports (their handles close on the
 * loop: run it once more) and leaves the network.  NULL is fine. */
void cli_run_net_free(struct cli_run_net *n);

#endif
