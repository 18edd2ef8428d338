#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_project.h"
#include "orchestrator/compose/compose_model.h"
#include "orchestrator/supervisor/sup_net_spec.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "test.h"

static void test_networks(void) {
  char *aliases[] = {"db-alias", NULL};
  struct compose_service_network sn_web[] = {{.name = "front"}, {.name = "back"}};
  struct compose_service_network sn_db[] = {{.name = "back", .aliases = aliases,
                                             .ipv4_address = "10.9.0.5"}};
  struct compose_service svcs[] = {
      {.name = "web", .networks = sn_web, .n_networks = 2},
      {.name = "db", .networks = sn_db, .n_networks = 1},
  };
  char *subnets[] = {"10.9.0.0/24", NULL}, *gateways[] = {"", NULL};
  char *subnets2[] = {"10.8.0.0/24", NULL}, *gateways2[] = {"10.8.0.254", NULL};
  struct compose_network nets[] = {
      {.key = "front", .name = "p_front", .subnets = subnets2, .gateways = gateways2},
      {.key = "back", .name = "p_back", .internal = true, .subnets = subnets,
       .gateways = gateways},
      {.key = "unused", .name = "p_unused"},
      {.key = "ext", .name = "shared", .external = true},
  };
  struct compose_project p = {.name = "p", .services = svcs, .n_services = 2,
                              .networks = nets, .n_networks = 4};
  size_t n;
  _cleanup_free_ struct net_network_spec *ns = sup_net_spec_networks(&p, &n);
  CHECK_INTEQ(n, 2); /* unused and ext are used by no service */
  CHECK_STREQ(ns[0].name, "front");
  CHECK_STREQ(ns[0].subnet, "10.8.0.0/24");
  CHECK_STREQ(ns[0].gateway, "10.8.0.254");
  CHECK(!ns[0].internal);
  CHECK_STREQ(ns[1].name, "back");
  CHECK(ns[1].internal);
  CHECK(ns[1].gateway == NULL); /* "" in the model: not set */

  svcs[0].networks[1].name = "ext";
  _cleanup_free_ struct net_network_spec *ns2 = sup_net_spec_networks(&p, &n);
  CHECK_INTEQ(n, 3);
  CHECK_STREQ(ns2[2].name, "ext");
  CHECK(ns2[2].external);
  CHECK_STREQ(ns2[2].external_name, "shared");

  _cleanup_free_ struct net_endpoint_spec *eps = sup_net_spec_endpoints(&svcs[1]);
  CHECK_STREQ(eps[0].network, "back");
  CHECK_STREQ(eps[0].ipv4_address, "10.9.0.5");
  CHECK_INTEQ(eps[0].n_aliases, 1);
  CHECK_STREQ(eps[0].aliases[0], "db-alias");
}

static int ports_of(struct compose_port *cp, size_t n, struct net_port_spec **out) {
  struct compose_service svc = {.name = "web", .ports = cp, .n_ports = n};
  struct stack_error *err = NULL;
  int r = sup_net_spec_ports(&svc, out, &err);
  if (r < 0) {
    CHECK(strstr(err->msg, "service web: ports[") != NULL);
    stack_error_free(err);
  }
  return r;
}

static void test_ports(void) {
  struct compose_port cp[] = {
      {.target = 80, .published = "8080", .protocol = "tcp"},
      {.target = 53, .published = "5300-5310", .protocol = "udp", .host_ip = "127.0.0.1"},
      {.target = 9000, .protocol = "tcp"}, /* random host port */
  };
  struct net_port_spec *ps = NULL;
  CHECK_INTEQ(ports_of(cp, 3, &ps), 0);
  CHECK_INTEQ(ps[0].host_port, 8080);
  CHECK_INTEQ(ps[0].host_port_end, 8080);
  CHECK_INTEQ(ps[0].guest_port, 80);
  CHECK_INTEQ(ps[0].proto, IPPROTO_TCP);
  CHECK_INTEQ(ps[1].host_port, 5300);
  CHECK_INTEQ(ps[1].host_port_end, 5310);
  CHECK_INTEQ(ps[1].proto, IPPROTO_UDP);
  CHECK_STREQ(ps[1].host_ip, "127.0.0.1");
  CHECK_INTEQ(ps[2].host_port, 0);
  CHECK(ps[2].guest_ip == NULL); /* net/ fills in the first network's address */
  free(ps);

  static const char *bad[] = {"0", "65536", "80-70", "8080-", "-80", "x", "80x", "+80", "1-2-3"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct compose_port b = {.target = 80, .published = (char *)bad[i], .protocol = "tcp"};
    ps = NULL;
    CHECK_MSG(ports_of(&b, 1, &ps) == -EINVAL, "published \"%s\" was accepted", bad[i]);
    CHECK(ps == NULL);
  }
  struct compose_port sctp = {.target = 80, .protocol = "sctp"};
  ps = NULL;
  CHECK_INTEQ(ports_of(&sctp, 1, &ps), -EINVAL);
}

static void test_guest_files(void) {
  char *dns[] = {"9.9.9.9", NULL}, *search[] = {"a.test", "b.test", NULL},
       *opt[] = {"ndots:2", "timeout:1", NULL};
  struct compose_service svc = {.name = "x", .dns = dns, .dns_search = search, .dns_opt = opt};
  _cleanup_free_ char *r = sup_net_spec_resolv(&svc, "10.0.0.1");
  CHECK_STREQ(r, "nameserver 10.0.0.1\nnameserver 9.9.9.9\nsearch a.test b.test\n"
                 "options ndots:2 timeout:1\n");
  struct compose_service plain = {.name = "y"};
  CHECK(sup_net_spec_resolv(&plain, NULL) == NULL); /* the image's own */
  _cleanup_free_ char *r2 = sup_net_spec_resolv(&plain, "10.0.0.1");
  CHECK_STREQ(r2, "nameserver 10.0.0.1\n");

  char *hosts[] = {"db=10.0.0.9", "old:10.0.0.8", "v6=fd00::1", "junk", NULL};
  struct compose_service h = {.name = "z", .extra_hosts = hosts};
  _cleanup_strv_ char **lines = sup_net_spec_hosts(&h);
  CHECK_STREQ(lines[0], "10.0.0.9\tdb");
  CHECK_STREQ(lines[1], "10.0.0.8\told");
  CHECK_STREQ(lines[2], "fd00::1\tv6");
  CHECK_STREQ(lines[3], "junk");
  CHECK(lines[4] == NULL);
  _cleanup_strv_ char **none = sup_net_spec_hosts(&plain);
  CHECK(none != NULL && none[0] == NULL);
}

int main(void) {
  test_networks();
  test_ports();
  test_guest_files();
  TEST_DONE();
}
