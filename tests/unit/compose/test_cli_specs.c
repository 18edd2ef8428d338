/* `run -v` and `run -p` specs read as a Compose file's short syntax: binds
 * with relative sources made absolute, named and anonymous volumes,
 * options; ports with host IPs, host ports, ranges and protocols; errors
 * that name the spec, not a generated file. */
#include <string.h>

#include "orchestrator/compose/compose_model.h"
#include "orchestrator/compose/compose_cli_specs.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "test.h"

static void test_specs(void) {
  char *specs[] = {"./src:/app/src:ro", "cache:/cache:nocopy", "/anon", "~/x:/x",
                   "/abs/${Y}:/y"};
  _cleanup_compose_project_ struct compose_project *p = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(compose_mount_specs(specs, 5, "/base/dir", &p, &err) == 0);
  if (p == NULL)
    return;
  CHECK_INTEQ(p->n_services, 1);
  const struct compose_service *s = &p->services[0];
  CHECK_INTEQ(s->n_volumes, 5);
  CHECK_STREQ(s->volumes[0].type, "bind");
  CHECK_STREQ(s->volumes[0].source, "/base/dir/src");
  CHECK_STREQ(s->volumes[0].target, "/app/src");
  CHECK(s->volumes[0].read_only);
  CHECK_STREQ(s->volumes[1].type, "volume");
  CHECK_STREQ(s->volumes[1].source, "cache");
  CHECK(s->volumes[1].volume_nocopy);
  CHECK(!s->volumes[1].read_only);
  CHECK_STREQ(s->volumes[2].type, "volume");
  CHECK(s->volumes[2].source == NULL || s->volumes[2].source[0] == '\0');
  CHECK_STREQ(s->volumes[2].target, "/anon");
  CHECK_STREQ(s->volumes[3].type, "bind");
  CHECK(s->volumes[3].source[0] == '/'); /* ~ is $HOME */
  /* no interpolation: a spec is taken as written */
  CHECK_STREQ(s->volumes[4].source, "/abs/${Y}");
}

static void test_errors(void) {
  char *bad[] = {"bad::x"};
  _cleanup_compose_project_ struct compose_project *p = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(compose_mount_specs(bad, 1, "/w", &p, &err) < 0);
  CHECK(p == NULL);
  CHECK(err && strcmp(err->msg, "-v/--volume: invalid volume \"bad::x\": empty section between "
                                "colons") == 0);
}

static void test_ports(void) {
  char *specs[] = {"127.0.0.1:8080:80", "80", "9000:90/udp", "[::1]:81:81", "7000-7001:70-71"};
  _cleanup_compose_project_ struct compose_project *p = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(compose_port_specs(specs, 5, &p, &err) == 0);
  if (p == NULL)
    return;
  const struct compose_service *s = &p->services[0];
  CHECK_INTEQ(s->n_ports, 6);
  CHECK_STREQ(s->ports[0].host_ip, "127.0.0.1");
  CHECK_STREQ(s->ports[0].published, "8080");
  CHECK_INTEQ(s->ports[0].target, 80);
  CHECK_STREQ(s->ports[0].protocol, "tcp");
  CHECK_STREQ(s->ports[0].mode, "ingress");
  CHECK(s->ports[1].host_ip == NULL);
  CHECK(s->ports[1].published == NULL || s->ports[1].published[0] == '\0');
  CHECK_INTEQ(s->ports[1].target, 80);
  CHECK_STREQ(s->ports[2].protocol, "udp");
  CHECK_STREQ(s->ports[2].published, "9000");
  CHECK_STREQ(s->ports[3].host_ip, "::1");
  CHECK_STREQ(s->ports[4].published, "7000");
  CHECK_INTEQ(s->ports[5].target, 71);
  CHECK_STREQ(s->ports[5].published, "7001");

  char *bad[] = {"x:y"};
  _cleanup_compose_project_ struct compose_project *q = NULL;
  _cleanup_error_ struct stack_error *e2 = NULL;
  CHECK(compose_port_specs(bad, 1, &q, &e2) < 0);
  CHECK(e2 && strstr(e2->msg, "-p/--publish: invalid port \"x:y\"") == e2->msg);
}

int main(void) {
  test_specs();
  test_errors();
  test_ports();
  TEST_DONE();
}
