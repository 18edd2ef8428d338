/* rtnetlink helpers against the kernel: bridge and persistent tap creation,
 * enslaving, MTU, up, addresses, the routing table, deletion (idempotent),
 * and clear errors for names that exist or cannot be names.  Root; random
 * names; removed at exit and on signals. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper_netns.h"
#include "net/ipam.h"
#include "net/netlink.h"
#include "runtime/util/error.h"
#include "test.h"

static char br[16], tap[16];

static void cleanup(void) {
  sh("ip link del %s 2>/dev/null; ip link del %s 2>/dev/null", tap, br);
}


static long sysfs_long(const char *link, const char *attr) {
  char *s = capture("cat /sys/class/net/%s/%s 2>/dev/null", link, attr);
  long v = strtol(s, NULL, 0);
  free(s);
  return v;
}

int main(void) {
  require_root_and_tun();
  char sfx[7];
  random_suffix(sfx);
  snprintf(br, sizeof(br), "stkbz%s", sfx);
  snprintf(tap, sizeof(tap), "stktz%s", sfx);
  cleanup_on_exit(cleanup);

  struct stack_error *err = NULL;
  struct netlink *nl = NULL;
  CHECK_INTEQ(netlink_open(&nl, &err), 0);
  if (nl == NULL)
    TEST_DONE();
  CHECK_INTEQ(netlink_bridge_create(nl, br, 1400, &err), 0);
  CHECK(link_exists(br));
  CHECK_INTEQ(netlink_bridge_create(nl, br, 0, &err), -EEXIST);
  CHECK_MSG(err && strstr(err->msg, br) && strstr(err->msg, "stack down"), "%s",
            err ? err->msg : "");
  CHECK_INTEQ(netlink_bridge_create(nl, "a-name-too-long-for-linux", 0, &err), -EINVAL);
  CHECK_INTEQ(netlink_bridge_create(nl, "", 0, &err), -EINVAL);

  CHECK_INTEQ(netlink_tap_create(tap, (uid_t)-1, &err), 0);
  CHECK(link_exists(tap)); /* persistent: outlives the fd that made it */
  CHECK_INTEQ(netlink_tap_create(tap, (uid_t)-1, &err), -EEXIST);
  CHECK_INTEQ(netlink_link_set_master(nl, tap, br, &err), 0);
  char *master = capture("basename $(readlink /sys/class/net/%s/master)", tap);
  CHECK(strncmp(master, br, strlen(br)) == 0);
  free(master);
  CHECK_INTEQ(netlink_link_set_mtu(nl, tap, 1400, &err), 0);
  CHECK_INTEQ(sysfs_long(tap, "mtu"), 1400);
  CHECK_INTEQ(netlink_link_set_up(nl, tap, true, &err), 0);
  CHECK_INTEQ(netlink_link_set_up(nl, br, true, &err), 0);
  CHECK(sysfs_long(br, "flags") & 1);
  CHECK_INTEQ(netlink_link_set_up(nl, br, false, &err), 0);
  CHECK(!(sysfs_long(br, "flags") & 1));
  CHECK_INTEQ(netlink_link_set_up(nl, "stknosuchlink", true, &err), -ENODEV);
  CHECK(err && strstr(err->msg, "stknosuchlink"));

  /* An address on the bridge shows up as a route the pool must avoid. */
  unsigned k = (unsigned)strtoul(sfx, NULL, 16);
  struct in_addr gw = {htonl((100u << 24) | ((k & 0xffff) << 8) | 1u)}; /* 100.x.y.1 */
  CHECK_INTEQ(netlink_addr_add(nl, br, gw, 24, &err), 0);
  CHECK_INTEQ(netlink_addr_add(nl, br, gw, 24, &err), 0); /* again: fine */
  CHECK_INTEQ(netlink_link_set_up(nl, br, true, &err), 0);
  struct netlink_route *routes = NULL;
  size_t n = 0;
  CHECK_INTEQ(netlink_routes_v4(nl, &routes, &n, &err), 0);
  struct ipam_subnet mine = {{htonl(ntohl(gw.s_addr) & 0xffffff00u)}, 24};
  bool found = false;
  for (size_t i = 0; i < n; i++)
    found = found || (routes[i].prefix == 24 && routes[i].dst.s_addr == mine.net.s_addr);
  CHECK_MSG(found, "the bridge's subnet is not in the %zu routes read", n);
  free(routes);

  CHECK_INTEQ(netlink_link_delete(nl, tap, &err), 0);
  CHECK_INTEQ(netlink_link_delete(nl, br, &err), 0);
  CHECK(!link_exists(tap) && !link_exists(br));
  CHECK_INTEQ(netlink_link_delete(nl, br, &err), 0); /* idempotent */
  netlink_close(nl);
  stack_error_free(err);
  TEST_DONE();
}
