/* Capability names and the set a container keeps, as Docker computes it. */
#include <errno.h>
#include <stdint.h>

#include "runtime/util/error.h"
#include "runtime/vm/caps.h"
#include "test.h"

int main(void) {
  CHECK(cap_from_name("NET_ADMIN") == 12);
  CHECK(cap_from_name("cap_net_raw") == 13);
  CHECK(cap_from_name("CHECKPOINT_RESTORE") == 40);
  CHECK(cap_from_name("NOPE") == -EINVAL);
  CHECK(cap_from_name(NULL) == -EINVAL);
  /* Docker's default CapEff */
  CHECK(caps_docker_default() == 0xa80425fbULL);

  uint64_t m = 0;
  char *add[] = {"NET_ADMIN", NULL};
  char *drop[] = {"CAP_NET_RAW", NULL};
  CHECK(caps_compute(false, NULL, NULL, &m, NULL) == 0 && m == 0xa80425fbULL);
  CHECK(caps_compute(false, add, drop, &m, NULL) == 0 && m == ((0xa80425fbULL | 1ULL << 12) & ~(1ULL << 13)));
  char *all[] = {"ALL", NULL};
  CHECK(caps_compute(false, add, all, &m, NULL) == 0 && m == 1ULL << 12);
  CHECK(caps_compute(false, all, drop, &m, NULL) == 0 && m == (UINT64_MAX & ~(1ULL << 13)));
  CHECK(caps_compute(true, NULL, all, &m, NULL) == 0 && m == UINT64_MAX);
  struct stack_error *err = NULL;
  char *bad[] = {"NET_ADMIN", "FLY", NULL};
  CHECK(caps_compute(false, bad, NULL, &m, &err) == -EINVAL);
  CHECK(err && strstr(err->msg, "FLY"));
  stack_error_free(err);
  TEST_DONE();
}
