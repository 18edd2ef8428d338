#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_model.h"
#include "guest/proto.h"
#include "orchestrator/supervisor/service_resources.h"
#include "test.h"

int main(void) {
  struct compose_service s;
  memset(&s, 0, sizeof(s));
  s.mem_limit = s.shm_size = s.pids_limit = -1;
  s.deploy.memory_limit = -1;

  /* security_opt: no-new-privileges (the last one wins), seccomp
   * unconfined honoured; profiles and labels are not (compose_support.c
   * names them) */
  char *sec[] = {"no-new-privileges", "seccomp:unconfined", "apparmor=foo", NULL};
  CHECK(sup_security_opt_no_new_privs(sec));
  CHECK(sup_security_opt_honoured("seccomp:unconfined"));
  CHECK(!sup_security_opt_honoured("apparmor=foo"));
  char *off[] = {"no-new-privileges=true", "no-new-privileges:false", NULL};
  CHECK(!sup_security_opt_no_new_privs(off));
  char *on[] = {"no-new-privileges:true", NULL};
  CHECK(sup_security_opt_no_new_privs(on));
  CHECK(!sup_security_opt_no_new_privs(NULL));
  CHECK(!sup_security_opt_honoured("seccomp=/profile.json"));

  CHECK_INTEQ(sup_service_mem_mib(&s), 0);
  CHECK_INTEQ(sup_service_cpus(&s), 0);

  struct compose_mount m;
  memset(&m, 0, sizeof(m));
  s.volumes = &m;
  s.n_volumes = 1;
  s.read_only = true;
  m.type = "tmpfs";

  /* tmpfs (short syntax with options, long syntax) and shm_size as mounts */
  char *tmpfs[] = {"/run", "/data:size=1m,mode=750,noexec", NULL};
  s.tmpfs = tmpfs;
  m.target = "/cache";
  m.tmpfs_size = 4096;
  m.tmpfs_mode = 0700;
  s.shm_size = 64 << 20;
  s.name = "web";
  struct proto_mount mounts[8];
  size_t n = 0;
  char **strings = NULL;
  CHECK(sup_service_mounts(&s, mounts, 8, &n, &strings, NULL) == 0);
  CHECK_INTEQ(n, 4);
  CHECK_STREQ(mounts[0].target, "/run");
  /* Docker's default flags first; the service's options after them win */
  CHECK_STREQ(mounts[0].options, "noexec,nosuid,nodev");
  CHECK_STREQ(mounts[1].target, "/data");
  CHECK_STREQ(mounts[1].options, "noexec,nosuid,nodev,size=1m,mode=750,noexec");
  CHECK_STREQ(mounts[2].target, "/cache");
  CHECK_STREQ(mounts[2].options, "size=4096,mode=700");
  CHECK_STREQ(mounts[3].target, "/dev/shm");
  CHECK_STREQ(mounts[3].options, "mode=1777,size=67108864");
  for (size_t i = 0; strings && strings[i]; i++)
    free(strings[i]);
  free(strings);
  /* too many, or a relative mount point: an error naming the service */
  strings = NULL;
  CHECK(sup_service_mounts(&s, mounts, 2, &n, &strings, NULL) == -E2BIG);
  for (size_t i = 0; strings && strings[i]; i++)
    free(strings[i]);
  free(strings);
  char *bad[] = {"run", NULL};
  s.tmpfs = bad;
  strings = NULL;
  CHECK(sup_service_mounts(&s, mounts, 8, &n, &strings, NULL) == -EINVAL);
  free(strings);
  s.tmpfs = NULL;
  s.shm_size = -1;
  m.type = NULL;
  m.target = NULL;

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
