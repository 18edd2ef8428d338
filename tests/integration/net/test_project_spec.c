/* Network options from the Compose file as the project API sees them:
 * unsupported ones are refused with a message that says what to change,
 * explicit ipam subnets and gateways and ipv4_address are honoured, and an
 * external network uses an existing bridge and leaves it in place at down.
 * Root; random names; removed at exit and on signals. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "helper_netns.h"
#include "net/net_project.h"
#include "net/netlink.h"
#include "runtime/util/error.h"
#include "test.h"

static char sfx[7], ext[16], state[128], proj[32];

static void cleanup(void) {
  static const char *const g[] = {"g"};
  netns_cleanup(sfx, g, 1);
  net_project_down_from_state(proj, state, NULL);
  sh("ip link del %s 2>/dev/null; rm -f %s", ext, state);
}


struct bad {
  struct net_network_spec net;
  int code;
  const char *says;
};

int main(void) {
  require_root_and_tun();
  random_suffix(sfx);
  snprintf(ext, sizeof(ext), "stkxe%s", sfx);
  snprintf(proj, sizeof(proj), "nps%s", sfx);
  snprintf(state, sizeof(state), "/tmp/stack-net-spec-%s.json", sfx);
  cleanup_on_exit(cleanup);

  struct stack_error *err = NULL;
  uv_loop_t loop;
  uv_loop_init(&loop);
  uint16_t dns_port = (uint16_t)(20000 + strtoul(sfx, NULL, 16) % 20000);
  struct net_project_spec base = {.project = proj, .n_networks = 1, .loop = &loop,
                                  .state_path = state, .dns_port = dns_port,
                                  .resolv_conf = "/nonexistent"};

  const struct bad bads[] = {
      {{.name = "n", .driver = "overlay"}, -EOPNOTSUPP, "driver"},
      {{.name = "n", .n_driver_opts = 1}, -EOPNOTSUPP, "driver_opts"},
      {{.name = "n", .enable_ipv6 = true}, -EOPNOTSUPP, "enable_ipv6"},
      {{.name = "n", .external = true}, -EINVAL, "subnet"},
      {{.name = "n", .subnet = "10.1.2.3/24"}, -EINVAL, "host bits"},
      {{.name = "n", .subnet = "100.65.0.0/24", .gateway = "100.66.0.1"}, -EINVAL, "gateway"},
      {{.name = "n", .external = true, .external_name = "stknosuchbr", .subnet = "100.65.0.0/24"},
       -ENOENT, "stknosuchbr"},
  };
  for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
    struct net_project *p = NULL;
    struct net_project_spec s = base;
    s.networks = &bads[i].net;
    int r = net_project_up(&s, &p, &err);
    CHECK_MSG(r == bads[i].code, "case %zu: %d, want %d (%s)", i, r, bads[i].code,
              err ? err->msg : "");
    CHECK_MSG(err && strstr(err->msg, bads[i].says), "case %zu: \"%s\" does not mention %s", i,
              err ? err->msg : "", bads[i].says);
    CHECK(p == NULL);
    CHECK(access(state, F_OK) != 0); /* a refused up leaves nothing */
  }
  uv_run(&loop, UV_RUN_DEFAULT);

  /* An external bridge (made by hand here), and a network with an explicit
   * subnet and gateway. */
  unsigned k = (unsigned)strtoul(sfx, NULL, 16) & 0x3fff;
  char ext_subnet[32], own_subnet[32], own_gw[32], fixed_ip[32];
  snprintf(ext_subnet, sizeof(ext_subnet), "100.%u.%u.0/24", 64 + (k >> 8) % 32, k & 0xff);
  snprintf(own_subnet, sizeof(own_subnet), "100.%u.%u.0/24", 96 + (k >> 8) % 32, k & 0xff);
  snprintf(own_gw, sizeof(own_gw), "100.%u.%u.254", 96 + (k >> 8) % 32, k & 0xff);
  snprintf(fixed_ip, sizeof(fixed_ip), "100.%u.%u.77", 96 + (k >> 8) % 32, k & 0xff);
  struct netlink *nl = NULL;
  CHECK_INTEQ(netlink_open(&nl, &err), 0);
  CHECK_INTEQ(netlink_bridge_create(nl, ext, NULL, 0, &err), 0);
  struct in_addr ext_gw;
  char gwtxt[32];
  snprintf(gwtxt, sizeof(gwtxt), "100.%u.%u.1", 64 + (k >> 8) % 32, k & 0xff);
  inet_pton(AF_INET, gwtxt, &ext_gw);
  CHECK_INTEQ(netlink_addr_add(nl, ext, ext_gw, 24, &err), 0);
  CHECK_INTEQ(netlink_link_set_up(nl, ext, true, &err), 0);

  /* Something else holds the DNS port on every address (as a host resolver
   * bound to 0.0.0.0:53 would): the server moves, nftables redirects. */
  int hold_u = socket(AF_INET, SOCK_DGRAM, 0), hold_t = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(dns_port)};
  CHECK(bind(hold_u, (struct sockaddr *)&any, sizeof(any)) == 0);
  CHECK(bind(hold_t, (struct sockaddr *)&any, sizeof(any)) == 0 && listen(hold_t, 1) == 0);

  const struct net_network_spec nets[] = {
      {.name = "shared", .external = true, .external_name = ext, .subnet = ext_subnet},
      {.name = "own", .subnet = own_subnet, .gateway = own_gw, .mtu = 1400}};
  struct net_project *p = NULL;
  struct net_project_spec s = base;
  s.networks = nets;
  s.n_networks = 2;
  int r = net_project_up(&s, &p, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  if (p == NULL)
    TEST_DONE();
  char br[16], sub[20];
  CHECK_INTEQ(net_project_network(p, "shared", br, sub, &err), 0);
  CHECK_STREQ(br, ext);
  CHECK_STREQ(sub, ext_subnet);
  const struct net_endpoint_spec eps[] = {{.network = "own", .ipv4_address = fixed_ip},
                                          {.network = "shared"}};
  struct net_container_net cn = {0};
  r = net_attach_container(p, &(struct net_container_spec){.service = "s", .name = "nps-s-1",
                                                           .endpoints = eps, .n_endpoints = 2},
                           &cn, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  if (cn.n_att == 2) {
    CHECK_STREQ(cn.att[0].ip, fixed_ip);
    CHECK_STREQ(cn.att[0].gateway, own_gw);
    CHECK_INTEQ(cn.att[0].mtu, 1400);
    CHECK(cn.att[0].default_route && !cn.att[1].default_route);
    CHECK_STREQ(cn.att[1].bridge, ext);
    char want[32];
    snprintf(want, sizeof(want), "100.%u.%u.2", 64 + (k >> 8) % 32, k & 0xff);
    CHECK_STREQ(cn.att[1].ip, want);
  }
  /* The same fixed address twice is refused, naming it. */
  struct net_container_net cn2 = {0};
  const struct net_endpoint_spec eps2[] = {{.network = "own", .ipv4_address = fixed_ip}};
  CHECK_INTEQ(net_attach_container(p, &(struct net_container_spec){.service = "t", .name = "nps-t-1",
                                                                   .endpoints = eps2,
                                                                   .n_endpoints = 1},
                                   &cn2, &err),
              -EADDRINUSE);
  CHECK(err && strstr(err->msg, fixed_ip));
  /* An unknown network is refused. */
  const struct net_endpoint_spec eps3[] = {{.network = "nope"}};
  CHECK_INTEQ(net_attach_container(p, &(struct net_container_spec){.service = "u", .name = "nps-u-1",
                                                                   .endpoints = eps3,
                                                                   .n_endpoints = 1},
                                   &cn2, &err),
              -ENOENT);
  /* A guest stand-in (namespace + veths) asks the gateway on the usual port. */
  if (cn.n_att == 2) {
    CHECK_INTEQ(netns_container(sfx, "g", &cn), 0);
    struct loop_runner lr;
    loop_runner_start(&lr, &loop);
    for (int proto = 0; proto < 2; proto++) {
      char *out = capture("ip netns exec stk%sg dig @%s -p %u %s +tries=2 +time=2 +short "
                          "nps-s-1 2>&1",
                          sfx, own_gw, dns_port, proto ? "+tcp" : "");
      CHECK_MSG(strstr(out, fixed_ip) != NULL, "redirected DNS (%s) answered: %s",
                proto ? "tcp" : "udp", out);
      free(out);
    }
    loop_runner_stop(&lr);
    static const char *const g[] = {"g"};
    netns_cleanup(sfx, g, 1);
  }
  close(hold_u);
  close(hold_t);
  char tap_own[16], tap_ext[16];
  snprintf(tap_own, sizeof(tap_own), "%s", cn.att[0].tap);
  snprintf(tap_ext, sizeof(tap_ext), "%s", cn.att[1].tap);
  net_container_net_free(&cn);
  CHECK_INTEQ(net_project_down(p, &err), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(link_exists(ext)); /* external: not ours to remove */
  CHECK(!link_exists(tap_own) && !link_exists(tap_ext));
  CHECK(!link_exists(br) || strcmp(br, ext) == 0);
  CHECK_INTEQ(uv_loop_close(&loop), 0);
  netlink_close(nl);
  stack_error_free(err);
  TEST_DONE();
}
