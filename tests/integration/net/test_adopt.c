/* A restarted supervisor adopts the networks of the one that died: the same
 * bridge (not recreated), subnet, addresses and taps (a running QEMU still
 * holds its tap), DNS names served again; `down` then removes everything,
 * also the taps of containers that were not attached again.  Root; random
 * names; removed at exit and on signals. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "helper_netns.h"
#include "net/net_project.h"
#include "runtime/util/error.h"
#include "test.h"

static char sfx[7], state[128], proj[32];

static void cleanup(void) {
  net_project_down_from_state(proj, state, NULL);
  unlink(state);
}

int main(void) {
  require_root_and_tun();
  random_suffix(sfx);
  snprintf(proj, sizeof(proj), "nad%s", sfx);
  snprintf(state, sizeof(state), "/tmp/stack-net-adopt-%s.json", sfx);
  cleanup_on_exit(cleanup);
  uint16_t dns_port = (uint16_t)(20000 + strtoul(sfx, NULL, 16) % 20000);
  const struct net_network_spec nets[] = {{.name = "front"}};
  const struct net_endpoint_spec eps[] = {{.network = "front"}};
  struct net_container_spec web = {.service = "web", .name = "nad-web-1", .endpoints = eps,
                                   .n_endpoints = 1};
  struct net_container_spec api = {.service = "api", .name = "nad-api-1", .endpoints = eps,
                                   .n_endpoints = 1};

  /* The first supervisor: up, two containers, then it dies. */
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t child = fork();
  if (child == 0) {
    uv_loop_t l;
    uv_loop_init(&l);
    struct net_project *p = NULL;
    struct net_container_net a, b;
    if (net_project_up(&(struct net_project_spec){.project = proj, .networks = nets,
                                                  .n_networks = 1, .loop = &l,
                                                  .state_path = state, .dns_port = dns_port,
                                                  .resolv_conf = "/nonexistent"},
                       &p, NULL) < 0 ||
        net_attach_container(p, &api, &b, NULL) < 0 || net_attach_container(p, &web, &a, NULL) < 0)
      _exit(2);
    dprintf(fds[1], "%s %s %s %s %s\n", a.att[0].ip, a.att[0].tap, a.att[0].bridge,
            b.att[0].tap, b.att[0].ip);
    _exit(0);
  }
  close(fds[1]);
  char line[256] = "", ip1[32] = "", tap1[16] = "", br1[16] = "", tap_api[16] = "",
       ip_api[32] = "";
  FILE *f = fdopen(fds[0], "r");
  if (f == NULL || fgets(line, sizeof(line), f) == NULL ||
      sscanf(line, "%31s %15s %15s %15s %31s", ip1, tap1, br1, tap_api, ip_api) != 5)
    CHECK_MSG(0, "the first supervisor did not set up: \"%s\"", line);
  if (f)
    fclose(f);
  int st;
  waitpid(child, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  unsigned br_idx = if_nametoindex(br1), tap_idx = if_nametoindex(tap1);
  CHECK(br_idx != 0 && tap_idx != 0 && if_nametoindex(tap_api) != 0);

  /* The second supervisor adopts. */
  struct stack_error *err = NULL;
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct net_project *p = NULL;
  int r = net_project_up(&(struct net_project_spec){.project = proj, .networks = nets,
                                                    .n_networks = 1, .loop = &loop,
                                                    .state_path = state, .dns_port = dns_port,
                                                    .resolv_conf = "/nonexistent",
                                                    .adopt = true},
                         &p, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  if (p == NULL)
    TEST_DONE();
  char br[16];
  CHECK_INTEQ(net_project_network(p, "front", br, NULL, &err), 0);
  CHECK_STREQ(br, br1);
  CHECK_INTEQ(if_nametoindex(br1), br_idx); /* the same bridge, not a new one */
  struct net_container_net a = {0};
  CHECK_INTEQ(net_attach_container(p, &web, &a, &err), 0);
  if (a.n_att == 1) {
    CHECK_STREQ(a.att[0].ip, ip1);
    CHECK_STREQ(a.att[0].tap, tap1);
  }
  CHECK_INTEQ(if_nametoindex(tap1), tap_idx); /* the same tap */
  /* Names are served again (a stand-in guest asks the gateway). */
  if (a.n_att == 1) {
    CHECK_INTEQ(netns_container(sfx, "g", &a), 0);
    struct loop_runner lr;
    loop_runner_start(&lr, &loop);
    char *out = capture("ip netns exec stk%sg dig @%s -p %u +short +tries=2 +time=2 web 2>&1",
                        sfx, a.att[0].gateway, dns_port);
    CHECK_MSG(strstr(out, ip1) != NULL, "dig web after adoption: %s", out);
    free(out);
    loop_runner_stop(&lr);
    static const char *const g[] = {"g"};
    netns_cleanup(sfx, g, 1);
  }
  /* A new container does not get the address of one still running but not
   * attached again (api). */
  struct net_container_net c = {0};
  struct net_container_spec other = {.service = "new", .name = "nad-new-1", .endpoints = eps,
                                     .n_endpoints = 1};
  CHECK_INTEQ(net_attach_container(p, &other, &c, &err), 0);
  if (c.n_att == 1)
    CHECK_MSG(strcmp(c.att[0].ip, ip1) != 0 && strcmp(c.att[0].ip, ip_api) != 0,
              "new container got %s (web %s, api %s)", c.att[0].ip, ip1, ip_api);
  net_container_net_free(&a);
  net_container_net_free(&c);

  CHECK_INTEQ(net_project_down(p, &err), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INTEQ(uv_loop_close(&loop), 0);
  CHECK(if_nametoindex(br1) == 0 && if_nametoindex(tap1) == 0);
  CHECK_MSG(if_nametoindex(tap_api) == 0, "the tap of a container not attached again is left");
  CHECK(access(state, F_OK) != 0);
  stack_error_free(err);
  TEST_DONE();
}
