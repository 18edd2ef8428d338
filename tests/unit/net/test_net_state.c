/* The network state file: lists and maps, a save/load round trip, and
 * refusal of files that would make `down` touch anything not stack's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net_state.h"
#include "runtime/util/error.h"
#include "test.h"

int main(void) {
  struct stack_error *err = NULL;
  char dir[] = "/tmp/stack-net-state-XXXXXX";
  if (mkdtemp(dir) == NULL)
    return 1;
  char path[128], bad[128];
  snprintf(path, sizeof(path), "%s/sub/network.json", dir);
  snprintf(bad, sizeof(bad), "%s/bad.json", dir);

  struct net_state st = {0};
  st.project = strdup("shop");
  st.table = strdup("stack_0123456789ab");
  net_state_add(&st.bridges, "stkb0123456789a");
  net_state_add(&st.bridges, "stkb0123456789a"); /* no duplicates */
  net_state_add(&st.taps, "stkt1");
  net_state_add(&st.taps, "stkt2");
  net_state_add(&st.taps, "stkt3");
  net_state_remove(&st.taps, "stkt2");
  net_state_set(&st.subnets, "front", "172.29.5.0/24 172.29.5.1");
  net_state_set(&st.addresses, "shop-web-1/front", "172.29.5.2");
  net_state_set(&st.addresses, "shop-api-1/front", "172.29.5.3");
  net_state_set(&st.addresses, "shop-db-1/front", "172.29.5.4");
  net_state_set(&st.addresses, "shop-web-1/front", "172.29.5.9"); /* replaces */
  net_state_unset(&st.addresses, "shop-api-1/front");
  net_state_unset(&st.addresses, "nothing");
  CHECK_STREQ(net_state_get(st.addresses, "shop-web-1/front"), "172.29.5.9");
  CHECK(net_state_get(st.addresses, "shop-api-1/front") == NULL);
  CHECK_STREQ(net_state_get(st.addresses, "shop-db-1/front"), "172.29.5.4");
  CHECK(net_state_get(st.addresses, "shop-web-1") == NULL); /* whole keys only */
  CHECK_INTEQ(net_state_save(path, &st, &err), 0);
  net_state_free(&st);

  bool exists = false;
  CHECK_INTEQ(net_state_load(path, &st, &exists, &err), 0);
  CHECK(exists);
  CHECK_STREQ(st.project, "shop");
  CHECK_STREQ(st.table, "stack_0123456789ab");
  CHECK(st.bridges && st.bridges[0] && st.bridges[1] == NULL);
  CHECK(st.taps && st.taps[0] && st.taps[1] && st.taps[2] == NULL);
  CHECK_STREQ(st.taps[1], "stkt3");
  CHECK_STREQ(net_state_get(st.subnets, "front"), "172.29.5.0/24 172.29.5.1");
  CHECK_STREQ(net_state_get(st.addresses, "shop-web-1/front"), "172.29.5.9");
  CHECK(net_state_get(st.addresses, "shop-api-1/front") == NULL);
  net_state_free(&st);

  /* Missing: empty, not an error. */
  snprintf(bad, sizeof(bad), "%s/missing.json", dir);
  CHECK_INTEQ(net_state_load(bad, &st, &exists, &err), 0);
  CHECK(!exists);
  /* Files that name other things are refused. */
  const char *refused[] = {"{\"bridges\":[\"eth0\"]}", "{\"taps\":[\"stkt1\", 5]}",
                           "{\"table\":\"filter\"}", "{\"addresses\":{\"a=b\":\"1.2.3.4\"}}",
                           "not json"};
  snprintf(bad, sizeof(bad), "%s/bad.json", dir);
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    FILE *f = fopen(bad, "w");
    fputs(refused[i], f);
    fclose(f);
    CHECK_MSG(net_state_load(bad, &st, &exists, &err) < 0, "accepted %s", refused[i]);
    CHECK(err && strstr(err->msg, bad));
  }
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
  stack_error_free(err);
  TEST_DONE();
}
