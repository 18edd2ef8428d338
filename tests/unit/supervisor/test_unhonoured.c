#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_model.h"
#include "orchestrator/supervisor/unhonoured.h"
#include "test.h"

int main(void) {
  struct compose_service s;
  memset(&s, 0, sizeof(s));
  s.mem_limit = s.shm_size = s.pids_limit = -1;
  s.deploy.memory_limit = -1;
  CHECK(sup_unhonoured_keys(&s) == NULL);
  CHECK_INTEQ(sup_service_mem_mib(&s), 0);
  CHECK_INTEQ(sup_service_cpus(&s), 0);

  struct compose_mount m;
  memset(&m, 0, sizeof(m));
  s.volumes = &m;
  s.n_volumes = 1;
  s.read_only = true;
  char *k = sup_unhonoured_keys(&s);
  CHECK_STREQ(k, "volumes, read_only");
  free(k);

  s.deploy.memory_limit = 256 << 20;
  s.deploy.cpus_limit = 1.5;
  CHECK_INTEQ(sup_service_mem_mib(&s), 256);
  CHECK_INTEQ(sup_service_cpus(&s), 2);
  s.mem_limit = 512 << 20; /* mem_limit wins, as in Compose */
  s.cpus = 0.5;
  CHECK_INTEQ(sup_service_mem_mib(&s), 512);
  CHECK_INTEQ(sup_service_cpus(&s), 1);
  TEST_DONE();
}
