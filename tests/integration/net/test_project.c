/* The project networking API against the real kernel: bridges, taps,
 * nftables isolation and NAT table, the DNS server on the gateways, published
 * ports, and `down` (also from the state file after a crash).
 *
 * STAND-INS: the VMs are not available to this test (the VM module is built
 * separately), so each "container" is a network namespace with one veth per
 * network, configured with exactly what net_attach_container() hands to a
 * guest (MAC, address, prefix, gateway, default route), its host end
 * enslaved to the project's bridge.  The taps the API creates for QEMU are
 * checked (they exist, on the right bridge) but carry no traffic here.
 *
 * Runs as root; every name has a random suffix so parallel runs never clash;
 * everything is removed at exit, also when a check fails or on SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "net/net_project.h"
#include "net/nft.h"
#include "helper_netns.h"
#include "runtime/util/error.h"
#include "test.h"

/* Whether the host has a network device of that name. */
static bool dev_exists(const char *name) {
  char path[64];
  snprintf(path, sizeof path, "/sys/class/net/%s", name);
  return access(path, F_OK) == 0;
}

static char suffix[7];
static char tmpdir[256];
static char state_a[PATH_MAX], state_b[PATH_MAX], state_c[PATH_MAX];
static char proj_a[32], proj_b[32], proj_c[32];

static void cleanup(void) {
  static const char *const ns[] = {"proxy", "web", "api", "bweb"};
  netns_cleanup(suffix, ns, 4);
  net_project_down_from_state(proj_a, state_a, NULL);
  net_project_down_from_state(proj_b, state_b, NULL);
  net_project_down_from_state(proj_c, state_c, NULL);
  if (tmpdir[0])
    sh("rm -rf '%s'", tmpdir);
}


static void make_container(const char *name, const struct net_container_net *cn) {
  CHECK_MSG(netns_container(suffix, name, cn) == 0, "namespace for %s", name);
}

static int ns_ping(const char *from, const char *ip) {
  return sh("ip netns exec stk%s%s busybox ping -c 1 -W 1 %s >/dev/null 2>&1", suffix, from, ip);
}

static int ns_tcp(const char *from, const char *ip, int port) {
  return sh("ip netns exec stk%s%s nc -z -w 1 %s %d >/dev/null 2>&1", suffix, from, ip, port);
}

static bool enslaved_to(const char *link, const char *bridge) {
  char path[256], target[256];
  snprintf(path, sizeof(path), "/sys/class/net/%s/master", link);
  ssize_t n = readlink(path, target, sizeof(target) - 1);
  if (n < 0)
    return false;
  target[n] = '\0';
  const char *base = strrchr(target, '/');
  return base && strcmp(base + 1, bridge) == 0;
}


static const struct net_attachment *att_on(const struct net_container_net *cn, const char *net) {
  for (size_t i = 0; i < cn->n_att; i++)
    if (strcmp(cn->att[i].network, net) == 0)
      return &cn->att[i];
  return NULL;
}

struct dns_row {
  const char *from, *name, *status;
  const char *want_ip; /* NULL: no A record */
};

static void check_dns(const struct dns_row *w, const char *server, uint16_t port) {
  char *out = capture("ip netns exec stk%s%s dig @%s -p %u +tries=2 +time=2 +noall +comments "
                      "+answer %s 2>&1",
                      suffix, w->from, server, port, w->name);
  char want[64];
  snprintf(want, sizeof(want), "status: %s", w->status);
  CHECK_MSG(strstr(out, want) != NULL, "from %s: %s: want %s:\n%s", w->from, w->name, w->status,
            out);
  if (w->want_ip)
    CHECK_MSG(strstr(out, w->want_ip) != NULL, "from %s: %s: want %s:\n%s", w->from, w->name,
              w->want_ip, out);
  else
    CHECK_MSG(strstr(out, "\tA\t") == NULL, "from %s: %s: unexpected A:\n%s", w->from, w->name,
              out);
  free(out);
}

int main(void) {
  require_root_and_tun();
  if (sh("command -v dig >/dev/null && command -v busybox >/dev/null && command -v nc "
         ">/dev/null && command -v python3 >/dev/null") != 0)
    TEST_SKIP("dig, busybox, nc or python3 missing: run scripts/setup.sh");
  random_suffix(suffix);
  unsigned seed = (unsigned)strtoul(suffix, NULL, 16);
  snprintf(proj_a, sizeof(proj_a), "nta%s", suffix);
  snprintf(proj_b, sizeof(proj_b), "ntb%s", suffix);
  snprintf(proj_c, sizeof(proj_c), "ntc%s", suffix);
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/stack-net-test-XXXXXX");
  if (mkdtemp(tmpdir) == NULL)
    return 1;
  snprintf(state_a, sizeof(state_a), "%s/a/network.json", tmpdir);
  snprintf(state_b, sizeof(state_b), "%s/b/network.json", tmpdir);
  snprintf(state_c, sizeof(state_c), "%s/c/network.json", tmpdir);
  cleanup_on_exit(cleanup);
  alarm(300);

  struct stack_error *err = NULL;
  uv_loop_t loop;
  uv_loop_init(&loop);
  uint16_t dns_port = (uint16_t)(20000 + seed % 20000);

  /* Two projects with the same network name "front". */
  const struct net_network_spec nets_a[] = {{.name = "front"}, {.name = "back"}};
  const struct net_network_spec nets_b[] = {{.name = "front"}};
  struct net_project *pa = NULL, *pb = NULL;
  int r = net_project_up(&(struct net_project_spec){.project = proj_a, .networks = nets_a,
                                                    .n_networks = 2, .loop = &loop,
                                                    .state_path = state_a, .dns_port = dns_port,
                                                    .resolv_conf = "/nonexistent"},
                         &pa, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  r = net_project_up(&(struct net_project_spec){.project = proj_b, .networks = nets_b,
                                                .n_networks = 1, .loop = &loop,
                                                .state_path = state_b, .dns_port = dns_port,
                                                .resolv_conf = "/nonexistent"},
                     &pb, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  if (pa == NULL || pb == NULL)
    TEST_DONE();
  char br_af[16], br_ab[16], br_bf[16], sub_af[20], sub_bf[20];
  CHECK_INTEQ(net_project_network(pa, "front", br_af, sub_af, &err), 0);
  CHECK_INTEQ(net_project_network(pa, "back", br_ab, NULL, &err), 0);
  CHECK_INTEQ(net_project_network(pb, "front", br_bf, sub_bf, &err), 0);
  CHECK(strcmp(br_af, br_bf) != 0);
  CHECK(strcmp(sub_af, sub_bf) != 0);
  CHECK(link_exists(br_af) && link_exists(br_ab) && link_exists(br_bf));
  CHECK(net_project_network(pa, "nope", NULL, NULL, &err) == -ENOENT);

  /* Containers: web (front+back, published ports), api (back), proxy (front
   * with an alias on front); b's web on b's front. */
  const char *web_back_alias[] = {"backend"};
  const struct net_endpoint_spec web_eps[] = {
      {.network = "front"}, {.network = "back", .aliases = web_back_alias, .n_aliases = 1}};
  const struct net_port_spec web_ports[] = {
      {.host_ip = "127.0.0.1", .guest_port = 8080, .proto = IPPROTO_TCP},
      {.host_ip = "127.0.0.1", .guest_port = 9090, .proto = IPPROTO_UDP}};
  struct net_container_net web = {0}, api = {0}, proxy = {0}, bweb = {0}, clash = {0};
  r = net_attach_container(pa, &(struct net_container_spec){.service = "web",
                                                            .name = "p-web-1",
                                                            .endpoints = web_eps,
                                                            .n_endpoints = 2,
                                                            .ports = web_ports, .n_ports = 2},
                           &web, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  const struct net_endpoint_spec api_eps[] = {{.network = "back"}};
  r = net_attach_container(pa, &(struct net_container_spec){.service = "api", .name = "p-api-1",
                                                            .endpoints = api_eps,
                                                            .n_endpoints = 1},
                           &api, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  const char *extra[] = {"outside.example:192.0.2.44"};
  const char *links[] = {"web:www"};
  const struct net_endpoint_spec proxy_eps[] = {{.network = "front"}};
  r = net_attach_container(pa, &(struct net_container_spec){.service = "proxy",
                                                            .name = "p-proxy-1",
                                                            .hostname = "edge",
                                                            .endpoints = proxy_eps,
                                                            .n_endpoints = 1,
                                                            .extra_hosts = extra,
                                                            .n_extra_hosts = 1,
                                                            .links = links, .n_links = 1},
                           &proxy, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  const struct net_endpoint_spec bweb_eps[] = {{.network = "front", .ipv4_address = NULL}};
  r = net_attach_container(pb, &(struct net_container_spec){.service = "web", .name = "q-web-1",
                                                            .endpoints = bweb_eps,
                                                            .n_endpoints = 1},
                           &bweb, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  if (web.n_att != 2 || api.n_att != 1 || proxy.n_att != 1 || bweb.n_att != 1 ||
      web.n_ports != 2)
    TEST_DONE();

  /* What a guest gets. */
  const struct net_attachment *wf = att_on(&web, "front"), *wb = att_on(&web, "back");
  CHECK(wf && wb && wf->default_route && !wb->default_route);
  CHECK(link_exists(wf->tap) && enslaved_to(wf->tap, br_af));
  CHECK(link_exists(wb->tap) && enslaved_to(wb->tap, br_ab));
  CHECK(strcmp(wf->mac_str, wb->mac_str) != 0);
  CHECK_STREQ(wf->dns, wf->gateway);
  CHECK(web.ports[0].host_port != 0 && web.ports[1].host_port != 0);

  /* A published port that is taken fails before anything starts, and leaves
   * no tap behind. */
  const struct net_port_spec taken[] = {{.host_ip = "127.0.0.1",
                                         .host_port = web.ports[0].host_port,
                                         .guest_port = 80, .proto = IPPROTO_TCP}};
  const struct net_endpoint_spec clash_eps[] = {{.network = "front"}};
  r = net_attach_container(pa, &(struct net_container_spec){.service = "clash",
                                                            .name = "p-clash-1",
                                                            .endpoints = clash_eps,
                                                            .n_endpoints = 1, .ports = taken,
                                                            .n_ports = 1},
                           &clash, &err);
  CHECK_INTEQ(r, -EADDRINUSE);
  CHECK_MSG(err && strstr(err->msg, "already in use") && strstr(err->msg, "clash"), "%s",
            err ? err->msg : "");
  char clash_tap[16];
  {
    /* Its tap name is derived, so it can be checked for absence. */
    struct net_container_net again = {0};
    const struct net_endpoint_spec e2[] = {{.network = "front"}};
    CHECK_INTEQ(net_attach_container(pa, &(struct net_container_spec){.service = "clash",
                                                                      .name = "p-clash-1",
                                                                      .endpoints = e2,
                                                                      .n_endpoints = 1},
                                     &again, &err),
                0);
    snprintf(clash_tap, sizeof(clash_tap), "%s", again.att[0].tap);
    net_container_net_free(&again);
    CHECK_INTEQ(net_detach_container(pa, "p-clash-1", &err), 0);
    CHECK(!link_exists(clash_tap));
  }

  make_container("web", &web);
  make_container("api", &api);
  make_container("proxy", &proxy);
  make_container("bweb", &bweb);

  /* Servers inside the stand-ins: HTTP and UDP echo in web, TCP in api. */
  sh("mkdir -p %s/www && echo hello-from-web > %s/www/index.html", tmpdir, tmpdir);
  sh("ip netns exec stk%sweb python3 -m http.server 8080 --directory %s/www >/dev/null 2>&1 &",
     suffix, tmpdir);
  sh("ip netns exec stk%sweb python3 -c 'import socket\n"
     "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind((\"0.0.0.0\",9090))\n"
     "while True:\n d,a=s.recvfrom(2048);s.sendto(b\"echo:\"+d,a)' >/dev/null 2>&1 &",
     suffix);
  sh("ip netns exec stk%sapi python3 -m http.server 8081 --directory %s/www >/dev/null 2>&1 &",
     suffix, tmpdir);
  sh("ip netns exec stk%sbweb python3 -m http.server 8080 --directory %s/www >/dev/null 2>&1 &",
     suffix, tmpdir);
  /* Wait (bounded) for the servers to listen. */
  for (int i = 0; i < 150 && (ns_tcp("web", "127.0.0.1", 8080) != 0 ||
                             ns_tcp("api", "127.0.0.1", 8081) != 0 ||
                             ns_tcp("bweb", "127.0.0.1", 8080) != 0);
       i++)
    usleep(100000);

  struct loop_runner lr;
  loop_runner_start(&lr, &loop);

  /* Isolation: within a network yes; across networks or projects no. */
  const struct net_attachment *ab = &api.att[0], *pf = &proxy.att[0], *bf = &bweb.att[0];
  CHECK_MSG(ns_ping("proxy", wf->ip) == 0, "proxy -> web (front) ping");
  CHECK_MSG(ns_tcp("proxy", wf->ip, 8080) == 0, "proxy -> web:8080 (front)");
  CHECK_MSG(ns_tcp("api", wb->ip, 8080) == 0, "api -> web:8080 (back)");
  CHECK_MSG(ns_ping("api", wb->ip) == 0, "api -> web (back) ping");
  CHECK_MSG(ns_tcp("proxy", ab->ip, 8081) != 0, "proxy -> api (other network) must fail");
  CHECK_MSG(ns_ping("proxy", ab->ip) != 0, "proxy -> api ping must fail");
  CHECK_MSG(ns_tcp("api", pf->ip, 8080) != 0 && ns_ping("api", pf->ip) != 0,
            "api -> proxy must fail");
  CHECK_MSG(ns_tcp("proxy", bf->ip, 8080) != 0, "project a -> project b must fail");
  CHECK_MSG(ns_ping("bweb", pf->ip) != 0 && ns_ping("bweb", wf->ip) != 0,
            "project b -> project a must fail");
  /* ... and it is our rules that dropped them (the counters moved). */
  char table[32];
  {
    char *out = NULL;
    CHECK_INTEQ(net_nft_run("list tables inet", &out, &err), 0);
    char *t = out ? strstr(out, "stack_") : NULL;
    free(out);
    CHECK(t != NULL);
  }
  {
    char *state = capture("cat %s", state_a);
    char *t = strstr(state, "\"table\":");
    CHECK(t != NULL && sscanf(t, "\"table\": \"%31[^\"]\"", table) == 1);
    free(state);
    char *out = capture("nft list table inet %s", table);
    long dropped = 0;
    for (const char *q = out; (q = strstr(q, "counter packets ")) != NULL; q++) {
      long pk = 0, by = 0;
      char verdict[16] = "";
      if (sscanf(q, "counter packets %ld bytes %ld %15s", &pk, &by, verdict) == 3 &&
          strcmp(verdict, "drop") == 0)
        dropped += pk;
    }
    CHECK_MSG(dropped > 0, "no drop counter moved:\n%s", out);
    free(out);
  }

  /* DNS by name, scoped by the asker (table: from, name, expected). */
  const struct dns_row dns_rows[] = {
      {"proxy", "web", "NOERROR", wf->ip},
      {"proxy", "p-web-1", "NOERROR", wf->ip},
      {"proxy", "api", "NXDOMAIN", NULL},
      {"proxy", "backend", "NXDOMAIN", NULL}, /* alias on back only */
      {"proxy", "www", "NOERROR", wf->ip},     /* links alias */
      {"proxy", "outside.example", "NOERROR", "192.0.2.44"},
      {"api", "web", "NOERROR", wb->ip},
      {"api", "backend", "NOERROR", wb->ip},
      {"api", "proxy", "NXDOMAIN", NULL},
      {"api", "edge", "NXDOMAIN", NULL},
      {"web", "edge", "NOERROR", pf->ip},
      {"web", "api", "NOERROR", ab->ip},
      {"bweb", "web", "NOERROR", bf->ip}, /* project b's own web */
      {"bweb", "api", "SERVFAIL", NULL},  /* not b's: forwarded, no upstream */
  };
  for (size_t i = 0; i < sizeof(dns_rows) / sizeof(dns_rows[0]); i++) {
    const struct dns_row *w = &dns_rows[i];
    const char *gw = strcmp(w->from, "bweb") == 0 ? bf->gateway
                     : strcmp(w->from, "api") == 0 ? ab->gateway
                                                   : (strcmp(w->from, "web") == 0 ? wb->gateway
                                                                                  : pf->gateway);
    check_dns(w, gw, dns_port);
  }

  /* Published ports: TCP via curl, UDP via a datagram round trip. */
  char *body = capture("curl -s -m 5 http://127.0.0.1:%u/", web.ports[0].host_port);
  CHECK_MSG(strstr(body, "hello-from-web") != NULL, "curl via the proxy got: %s", body);
  free(body);
  char *echo = capture("python3 -c 'import socket\n"
                       "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(3)\n"
                       "s.sendto(b\"ping\",(\"127.0.0.1\",%u));print(s.recvfrom(2048)[0].decode())'"
                       " 2>&1",
                       web.ports[1].host_port);
  CHECK_MSG(strstr(echo, "echo:ping") != NULL, "UDP via the proxy got: %s", echo);
  free(echo);

  loop_runner_stop(&lr);

  /* A crashed supervisor: project c is brought up in a child that dies
   * without cleaning up; down from the state file removes everything. */
  pid_t child = fork();
  if (child == 0) {
    uv_loop_t l2;
    uv_loop_init(&l2);
    struct net_project *pc = NULL;
    const struct net_network_spec nets_c[] = {{.name = "default", .internal = true}};
    if (net_project_up(&(struct net_project_spec){.project = proj_c, .networks = nets_c,
                                                  .n_networks = 1, .loop = &l2,
                                                  .state_path = state_c,
                                                  .dns_port = (uint16_t)(dns_port + 1)},
                       &pc, NULL) < 0)
      _exit(2);
    const struct net_endpoint_spec ce[] = {{.network = "default"}};
    struct net_container_net cn;
    if (net_attach_container(pc, &(struct net_container_spec){.service = "s", .name = "c-s-1",
                                                              .endpoints = ce,
                                                              .n_endpoints = 1},
                             &cn, NULL) < 0)
      _exit(3);
    _exit(0); /* no cleanup: as if killed */
  }
  int st = 0;
  waitpid(child, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  char *state_text = capture("cat %s", state_c);
  CHECK(strstr(state_text, "stkt") && strstr(state_text, "stkb") && strstr(state_text, "stack_"));
  /* the child's bridge and tap, by name: tests running alongside make and
   * remove devices of their own, so a count of stk* devices would race */
  char devs[2][16] = {"", ""};
  for (int k = 0; k < 2; k++) {
    const char *at = strstr(state_text, k ? "\"stkt" : "\"stkb");
    if (at)
      sscanf(at + 1, "%15[^\"]", devs[k]);
    CHECK(devs[k][0] && dev_exists(devs[k]));
  }
  free(state_text);
  CHECK_INTEQ(net_project_down_from_state(proj_c, state_c, &err), 0);
  for (int k = 0; k < 2; k++)
    CHECK(!dev_exists(devs[k]));
  CHECK(access(state_c, F_OK) != 0);
  CHECK_INTEQ(net_project_down_from_state(proj_c, state_c, &err), 0); /* idempotent */

  /* down leaves nothing: no bridge, tap, table, state file or proxy socket. */
  char taps[4][16];
  snprintf(taps[0], 16, "%s", wf->tap);
  snprintf(taps[1], 16, "%s", wb->tap);
  snprintf(taps[2], 16, "%s", ab->tap);
  snprintf(taps[3], 16, "%s", bf->tap);
  uint16_t tcp_port = web.ports[0].host_port;
  net_container_net_free(&web);
  net_container_net_free(&api);
  net_container_net_free(&proxy);
  net_container_net_free(&bweb);
  CHECK_INTEQ(net_project_down(pa, &err), 0);
  CHECK_INTEQ(net_project_down(pb, &err), 0);
  uv_run(&loop, UV_RUN_DEFAULT); /* lets the closed handles go */
  CHECK_INTEQ(uv_loop_close(&loop), 0);
  CHECK(!link_exists(br_af) && !link_exists(br_ab) && !link_exists(br_bf));
  for (int i = 0; i < 4; i++)
    CHECK_MSG(!link_exists(taps[i]), "tap %s left", taps[i]);
  char *tables = capture("nft list tables inet");
  CHECK_MSG(strstr(tables, table) == NULL, "table %s left:\n%s", table, tables);
  free(tables);
  CHECK(access(state_a, F_OK) != 0 && access(state_b, F_OK) != 0);
  CHECK_MSG(sh("nc -z -w 1 127.0.0.1 %u", tcp_port) != 0, "proxy port %u still open", tcp_port);
  CHECK_INTEQ(net_project_down_from_state(proj_a, state_a, &err), 0);
  if (err)
    fprintf(stderr, "last error: %s\n", err->msg);
  stack_error_free(err);
  TEST_DONE();
}
