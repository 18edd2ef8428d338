/* Subnet pools, address allocation, and the names derived from a project. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/ipam.h"
#include "net/net_names.h"
#include "runtime/util/error.h"
#include "test.h"

static struct in_addr ip(const char *s) {
  struct in_addr a;
  inet_pton(AF_INET, s, &a);
  return a;
}

static void test_parse(void) {
  struct stack_error *err = NULL;
  struct ipam_subnet s;
  char buf[32];
  CHECK_INTEQ(ipam_parse_cidr("10.5.0.0/16", &s, &err), 0);
  ipam_format_cidr(&s, buf, sizeof(buf));
  CHECK_STREQ(buf, "10.5.0.0/16");
  const char *bad[] = {"10.5.0.1/16", "10.5.0.0", "10.5.0.0/33", "x/8", "10.5.0.0/", "10.5.0.0/8x"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    CHECK_MSG(ipam_parse_cidr(bad[i], &s, &err) < 0, "%s accepted", bad[i]);
    CHECK(err && strstr(err->msg, bad[i]));
  }
  CHECK(strstr(err->msg, "a.b.c.d/n"));
  CHECK_INTEQ(ipam_parse_cidr("10.5.0.1/16", &s, &err), -22);
  CHECK(strstr(err->msg, "10.5.0.0/16")); /* suggests the fix */
  struct ipam_pool p;
  CHECK_INTEQ(ipam_parse_pool(IPAM_DEFAULT_POOL, &p, &err), 0);
  CHECK_INTEQ(p.size, 24);
  CHECK(ipam_parse_pool("10.0.0.0/16:8", &p, &err) < 0);
  CHECK(ipam_parse_pool("10.0.0.0/16", &p, &err) < 0);
  stack_error_free(err);
}

static void test_pick(void) {
  struct stack_error *err = NULL;
  struct ipam_pool pool;
  CHECK_INTEQ(ipam_parse_pool("10.7.0.0/22:24", &pool, &err), 0);
  struct ipam_subnet avoid[3], got;
  ipam_parse_cidr("10.7.0.0/24", &avoid[0], &err);
  ipam_parse_cidr("10.7.1.128/25", &avoid[1], &err); /* partial overlap counts */
  ipam_parse_cidr("10.0.0.0/8", &avoid[2], &err);
  CHECK_INTEQ(ipam_pick_subnet(&pool, 1, avoid, 2, 0, &got, &err), 0);
  CHECK(got.net.s_addr == ip("10.7.2.0").s_addr && got.prefix == 24);
  CHECK_INTEQ(ipam_pick_subnet(&pool, 1, avoid, 2, 3, &got, &err), 0);
  CHECK(got.net.s_addr == ip("10.7.3.0").s_addr);
  CHECK_INTEQ(ipam_pick_subnet(&pool, 1, avoid, 2, 4, &got, &err), 0); /* wraps */
  CHECK(got.net.s_addr == ip("10.7.2.0").s_addr);
  CHECK(ipam_pick_subnet(&pool, 1, avoid, 3, 0, &got, &err) < 0);
  CHECK(err && strstr(err->msg, "pool"));
  stack_error_free(err);
}

static void test_alloc(void) {
  struct stack_error *err = NULL;
  struct ipam_subnet s;
  struct ipam_net n;
  struct in_addr a;
  ipam_parse_cidr("10.9.0.0/29", &s, &err);
  CHECK_INTEQ(ipam_net_init(&n, &s, NULL, &err), 0);
  CHECK(n.gateway.s_addr == ip("10.9.0.1").s_addr);
  CHECK_INTEQ(ipam_net_reserve(&n, ip("10.9.0.4"), &err), 0);         /* ipv4_address */
  CHECK_INTEQ(ipam_net_reserve(&n, ip("10.9.0.4"), &err), -EADDRINUSE); /* twice */
  CHECK(ipam_net_reserve(&n, ip("10.9.0.1"), &err) < 0);             /* the gateway */
  CHECK(ipam_net_reserve(&n, ip("10.9.0.7"), &err) < 0);             /* broadcast */
  CHECK(ipam_net_reserve(&n, ip("10.9.1.2"), &err) < 0);             /* elsewhere */
  CHECK(strstr(err->msg, "10.9.0.0/29"));
  const char *want[] = {"10.9.0.2", "10.9.0.3", "10.9.0.5", "10.9.0.6"};
  for (int i = 0; i < 4; i++) {
    CHECK_INTEQ(ipam_net_alloc(&n, &a, &err), 0);
    CHECK(a.s_addr == ip(want[i]).s_addr);
  }
  CHECK_INTEQ(ipam_net_alloc(&n, &a, &err), -ENOSPC);
  ipam_net_release(&n, ip("10.9.0.3"));
  ipam_net_release(&n, ip("10.9.0.1")); /* the gateway stays taken */
  CHECK_INTEQ(ipam_net_alloc(&n, &a, &err), 0);
  CHECK(a.s_addr == ip("10.9.0.3").s_addr);
  CHECK_INTEQ(ipam_net_alloc(&n, &a, &err), -ENOSPC);
  ipam_net_free(&n);
  CHECK_INTEQ(ipam_net_init(&n, &s, "10.9.0.6", &err), 0); /* explicit gateway */
  CHECK_INTEQ(ipam_net_alloc(&n, &a, &err), 0);
  CHECK(a.s_addr == ip("10.9.0.1").s_addr);
  ipam_net_free(&n);
  CHECK(ipam_net_init(&n, &s, "10.8.0.1", &err) < 0);
  ipam_parse_cidr("10.0.0.0/8", &s, &err);
  CHECK(ipam_net_init(&n, &s, NULL, &err) < 0); /* too large */
  stack_error_free(err);
}

static void test_names(void) {
  char a[NET_IFNAME_SIZE], b[NET_IFNAME_SIZE], c[NET_IFNAME_SIZE], t[NET_IFNAME_SIZE];
  net_bridge_name("shop", "default", a);
  net_bridge_name("shop", "default", b);
  net_bridge_name("blog", "default", c);
  CHECK_STREQ(a, b);                 /* stable */
  CHECK(strcmp(a, c) != 0);          /* per project */
  CHECK_INTEQ(strlen(a), 15);        /* IFNAMSIZ - 1 */
  CHECK(strncmp(a, "stkb", 4) == 0);
  net_bridge_name("sho", "pdefault", b); /* joined with a separator */
  CHECK(strcmp(a, b) != 0);
  setenv("STACK_ROOT", "/tmp/another-store", 1); /* per store */
  net_bridge_name("shop", "default", b);
  CHECK(strcmp(a, b) != 0);
  unsetenv("STACK_ROOT");
  net_bridge_name("shop", "default", b);
  CHECK_STREQ(a, b);
  net_tap_name("shop", "default", "shop-web-1", t);
  CHECK_INTEQ(strlen(t), 15);
  CHECK(strncmp(t, "stkt", 4) == 0);
  uint8_t m1[6], m2[6];
  char s[18];
  net_container_mac("shop", "default", "shop-web-1", m1);
  net_container_mac("shop", "default", "shop-web-2", m2);
  CHECK(memcmp(m1, m2, 6) != 0);
  CHECK_INTEQ(m1[0] & 3, 2); /* locally administered unicast */
  uint8_t b1[6], b2[6], b3[6];
  net_bridge_mac("shop", "default", b1);
  net_bridge_mac("shop", "default", b2);
  net_bridge_mac("shop", "back", b3);
  CHECK(memcmp(b1, b2, 6) == 0); /* stable: a re-created bridge gets it again */
  CHECK(memcmp(b1, b3, 6) != 0);
  CHECK(memcmp(b1, m1, 6) != 0);
  CHECK_INTEQ(b1[0] & 3, 2);
  net_format_mac(m1, s);
  CHECK_INTEQ(strlen(s), 17);
  char tbl[32], tbl2[32];
  net_table_name("shop", tbl);
  net_table_name("blog", tbl2);
  CHECK(strncmp(tbl, "stack_", 6) == 0 && strcmp(tbl, tbl2) != 0);
}

int main(void) {
  test_parse();
  test_pick();
  test_alloc();
  test_names();
  TEST_DONE();
}
