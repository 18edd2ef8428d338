/* Outbound access: a non-internal network reaches the outside through NAT
 * (masquerade: the outside sees the host's address), an `internal: true`
 * network does not (even with a route forced into the guest and a route
 * back from the outside), and with outbound turned off nothing is
 * masqueraded.
 *
 * STAND-INS: "containers" are network namespaces with veths configured as
 * net_attach_container() tells a guest (no VMs here); "the outside" is one
 * more namespace behind a veth of the host, routing everything back
 * through the host.  Root; random names; cleaned up at
 * exit and on signals. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "helper_netns.h"
#include "net/net_project.h"
#include "runtime/util/error.h"
#include "test.h"

static char suffix[7], tmpdir[128], state[2][200], proj[2][32];

static void cleanup(void) {
  static const char *const ns[] = {"pub", "priv", "off", "out"};
  netns_cleanup(suffix, ns, 4);
  sh("ip link del xo%s 2>/dev/null", suffix);
  for (int i = 0; i < 2; i++)
    net_project_down_from_state(proj[i], state[i], NULL);
  if (tmpdir[0])
    sh("rm -rf '%s'", tmpdir);
}


/* Asks the outside which address a TCP connection from `from` arrives with
 * ("" when it does not arrive). */
static char *peer_seen_from(const char *from, const char *outside_ip) {
  sh("ip netns exec stk%sout timeout 20 python3 -c 'import socket\n"
     "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
     "s.bind((\"0.0.0.0\",7070));s.listen(8)\n"
     "while True:\n c,a=s.accept();c.sendall(a[0].encode());c.close()' >/dev/null 2>&1 &",
     suffix);
  for (int i = 0; i < 150 && sh("ip netns exec stk%sout ss -ltn | grep -q ':7070 '", suffix) != 0;
       i++)
    usleep(100000);
  char *out = capture("ip netns exec stk%s%s nc -w 2 %s 7070 </dev/null 2>/dev/null", suffix,
                      from, outside_ip);
  sh("ip netns pids stk%sout 2>/dev/null | xargs -r kill 2>/dev/null", suffix);
  usleep(100000);
  return out;
}

int main(void) {
  if (geteuid() != 0)
    TEST_SKIP("needs root (bridges, network namespaces, nftables)");
  if (sh("command -v nc >/dev/null && command -v python3 >/dev/null && command -v busybox "
         ">/dev/null") != 0)
    TEST_SKIP("nc, python3 or busybox missing: run scripts/setup.sh");
  random_suffix(suffix);
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/stack-net-out-XXXXXX");
  if (mkdtemp(tmpdir) == NULL)
    return 1;
  for (int i = 0; i < 2; i++) {
    snprintf(proj[i], sizeof(proj[i]), "no%d%s", i, suffix);
    snprintf(state[i], sizeof(state[i]), "%s/%d.json", tmpdir, i);
  }
  cleanup_on_exit(cleanup);
  alarm(240);

  /* The outside: 198.18.<k>.2 behind the host's 198.18.<k>.1. */
  unsigned k = (unsigned)strtoul(suffix, NULL, 16) % 250 + 1;
  char out_ip[32];
  snprintf(out_ip, sizeof(out_ip), "198.18.%u.2", k);
  CHECK_INTEQ(sh("ip netns add stk%sout && ip link add xo%s type veth peer name up0 netns "
                 "stk%sout && ip addr add 198.18.%u.1/30 dev xo%s && ip link set xo%s up && "
                 "ip -n stk%sout addr add %s/30 dev up0 && ip -n stk%sout link set up0 up && "
                 "ip -n stk%sout link set lo up && "
                 "ip -n stk%sout route add default via 198.18.%u.1",
                 suffix, suffix, suffix, k, suffix, suffix, suffix, out_ip, suffix, suffix,
                 suffix, k),
              0);

  struct stack_error *err = NULL;
  uv_loop_t loop;
  uv_loop_init(&loop);
  uint16_t dns_port = (uint16_t)(20000 + strtoul(suffix, NULL, 16) % 20000);
  const struct net_network_spec nets[] = {{.name = "pub"}, {.name = "priv", .internal = true}};
  const struct net_network_spec nets_off[] = {{.name = "pub"}};
  struct net_project *p = NULL, *poff = NULL;
  int r = net_project_up(&(struct net_project_spec){.project = proj[0], .networks = nets,
                                                    .n_networks = 2, .loop = &loop,
                                                    .state_path = state[0],
                                                    .dns_port = dns_port,
                                                    .resolv_conf = "/nonexistent"},
                         &p, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  r = net_project_up(&(struct net_project_spec){.project = proj[1], .networks = nets_off,
                                                .n_networks = 1, .loop = &loop,
                                                .no_outbound = true, .state_path = state[1],
                                                .dns_port = dns_port,
                                                .resolv_conf = "/nonexistent"},
                     &poff, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  if (p == NULL || poff == NULL)
    TEST_DONE();
  struct net_container_net pub = {0}, priv = {0}, off = {0};
  const struct net_endpoint_spec e_pub[] = {{.network = "pub"}}, e_priv[] = {{.network = "priv"}};
  CHECK_INTEQ(net_attach_container(p, &(struct net_container_spec){.service = "a", .name = "x-a-1", .endpoints = e_pub, .n_endpoints = 1}, &pub, &err), 0);
  CHECK_INTEQ(net_attach_container(p, &(struct net_container_spec){.service = "b", .name = "x-b-1", .endpoints = e_priv, .n_endpoints = 1}, &priv, &err), 0);
  CHECK_INTEQ(net_attach_container(poff, &(struct net_container_spec){.service = "a", .name = "y-a-1", .endpoints = e_pub, .n_endpoints = 1}, &off, &err), 0);
  if (pub.n_att != 1 || priv.n_att != 1 || off.n_att != 1)
    TEST_DONE();
  CHECK(pub.att[0].default_route);
  CHECK(!priv.att[0].default_route); /* internal: the guest gets no default route */
  CHECK_INTEQ(netns_container(suffix, "pub", &pub), 0);
  CHECK_INTEQ(netns_container(suffix, "priv", &priv), 0);
  CHECK_INTEQ(netns_container(suffix, "off", &off), 0);
  /* Force a route into the internal one: the host must still not forward. */
  CHECK_INTEQ(sh("ip -n stk%spriv route add default via %s", suffix, priv.att[0].gateway), 0);

  char want[32];
  snprintf(want, sizeof(want), "198.18.%u.1", k);
  char *seen = peer_seen_from("pub", out_ip);
  CHECK_MSG(strcmp(seen, want) == 0, "outside saw \"%s\" from pub, want the host's %s", seen,
            want);
  free(seen);
  CHECK_MSG(sh("ip netns exec stk%spriv busybox ping -c 1 -W 1 %s >/dev/null 2>&1", suffix,
               out_ip) != 0,
            "internal network reached the outside");
  /* Outbound off: routed as is, not masqueraded (the outside routes the
   * answer back through the host here, so the guest's own address shows). */
  seen = peer_seen_from("off", out_ip);
  CHECK_MSG(strcmp(seen, off.att[0].ip) == 0,
            "outside saw \"%s\" from a project without outbound, want %s", seen, off.att[0].ip);
  free(seen);

  net_container_net_free(&pub);
  net_container_net_free(&priv);
  net_container_net_free(&off);
  CHECK_INTEQ(net_project_down(p, &err), 0);
  CHECK_INTEQ(net_project_down(poff, &err), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INTEQ(uv_loop_close(&loop), 0);
  stack_error_free(err);
  TEST_DONE();
}
