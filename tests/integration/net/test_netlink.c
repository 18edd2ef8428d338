/* rtnetlink helpers against the kernel: bridge and persistent tap creation,
 * enslaving, MTU, up, addresses, the routing table, deletion (idempotent),
 * and clear errors for names that exist or cannot be names; a bridge's MAC
 * (given at creation, or pinned later) stays when the port whose MAC is
 * lowest goes.  Root; random names; removed at exit and on signals. */
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

static char br[16], tap[16], br2[16], tap2[16];

static void cleanup(void) {
  sh("ip link del %s 2>/dev/null; ip link del %s 2>/dev/null", tap, br);
  sh("ip link del %s 2>/dev/null; ip link del %s 2>/dev/null", tap2, br2);
}


/* A sysfs attribute's first line (kept: tests are short-lived). */
static char *sysfs_str(const char *link, const char *attr) {
  char *s = capture("cat /sys/class/net/%s/%s 2>/dev/null", link, attr);
  s[strcspn(s, "\n")] = '\0';
  return s;
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
  snprintf(br2, sizeof(br2), "stkby%s", sfx);
  snprintf(tap2, sizeof(tap2), "stkty%s", sfx);
  cleanup_on_exit(cleanup);

  struct stack_error *err = NULL;
  struct netlink *nl = NULL;
  CHECK_INTEQ(netlink_open(&nl, &err), 0);
  if (nl == NULL)
    TEST_DONE();
  static const uint8_t mac[6] = {0x02, 0x5c, 0x11, 0x22, 0x33, 0x44};
  CHECK_INTEQ(netlink_bridge_create(nl, br, mac, 1400, &err), 0);
  CHECK(link_exists(br));
  CHECK_STREQ(sysfs_str(br, "address"), "02:5c:11:22:33:44");
  CHECK_INTEQ(sysfs_long(br, "addr_assign_type"), 3); /* NET_ADDR_SET: the kernel keeps it */
  CHECK_INTEQ(netlink_bridge_create(nl, br, NULL, 0, &err), -EEXIST);
  CHECK_MSG(err && strstr(err->msg, br) && strstr(err->msg, "stack down"), "%s",
            err ? err->msg : "");
  CHECK_INTEQ(netlink_bridge_create(nl, "a-name-too-long-for-linux", NULL, 0, &err), -EINVAL);
  CHECK_INTEQ(netlink_bridge_create(nl, "", NULL, 0, &err), -EINVAL);

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

  /* A port joining or leaving never changes a bridge's given MAC. */
  CHECK_STREQ(sysfs_str(br, "address"), "02:5c:11:22:33:44");
  CHECK_INTEQ(netlink_tap_create(tap2, (uid_t)-1, &err), 0);
  CHECK_INTEQ(netlink_link_set_master(nl, tap2, br, &err), 0);
  CHECK_STREQ(sysfs_str(br, "address"), "02:5c:11:22:33:44");
  CHECK_INTEQ(netlink_link_delete(nl, tap, &err), 0);
  CHECK_STREQ(sysfs_str(br, "address"), "02:5c:11:22:33:44");
  CHECK_INTEQ(netlink_link_set_master(nl, tap2, NULL, &err), 0);

  /* A bridge made without a MAC follows its lowest port's; pinned, it
   * keeps the one it has when that port goes. */
  CHECK_INTEQ(netlink_bridge_create(nl, br2, NULL, 0, &err), 0);
  CHECK_INTEQ(netlink_tap_create(tap, (uid_t)-1, &err), 0);
  CHECK_INTEQ(netlink_link_set_master(nl, tap, br2, &err), 0);
  CHECK_INTEQ(netlink_link_set_master(nl, tap2, br2, &err), 0);
  char *before = sysfs_str(br2, "address");
  const char *lowest = strcmp(sysfs_str(tap, "address"), sysfs_str(tap2, "address")) < 0 ? tap
                                                                                           : tap2;
  CHECK_STREQ(before, sysfs_str(lowest, "address"));
  CHECK_INTEQ(netlink_link_pin_mac(nl, br2, &err), 0);
  CHECK_INTEQ(sysfs_long(br2, "addr_assign_type"), 3);
  CHECK_STREQ(sysfs_str(br2, "address"), before);
  CHECK_INTEQ(netlink_link_delete(nl, lowest, &err), 0);
  CHECK_STREQ(sysfs_str(br2, "address"), before);
  CHECK_INTEQ(netlink_link_pin_mac(nl, "stknosuchlink", &err), -ENODEV);
  CHECK_INTEQ(netlink_link_delete(nl, br2, &err), 0);
  CHECK_INTEQ(netlink_link_delete(nl, tap, &err), 0);
  CHECK_INTEQ(netlink_link_delete(nl, tap2, &err), 0);
  CHECK_INTEQ(netlink_link_delete(nl, br, &err), 0);
  CHECK(!link_exists(tap) && !link_exists(br));
  CHECK_INTEQ(netlink_link_delete(nl, br, &err), 0); /* idempotent */
  netlink_close(nl);
  stack_error_free(err);
  TEST_DONE();
}
