#include "unhonoured.h"

#include <errno.h>
#include <string.h>

#include "guest/proto.h"
#include "orchestrator/compose/compose_model.h"
#include "runtime/util/error.h"
#include "runtime/vm/rlimits.h"
#include "runtime/util/sbuf.h"

static void add(struct sbuf *b, const char *key) {
  if (b->len)
    sbuf_puts(b, ", ");
  sbuf_puts(b, key);
}

char *sup_unhonoured_keys(const struct compose_service *svc) {
  struct sbuf b = SBUF_INIT;
  if (svc->n_volumes)
    add(&b, "volumes");
  if (svc->tmpfs && svc->tmpfs[0])
    add(&b, "tmpfs");
  if (svc->n_secrets)
    add(&b, "secrets");
  if (svc->n_configs)
    add(&b, "configs");
  if (svc->sysctls.n)
    add(&b, "sysctls");
  if (svc->read_only)
    add(&b, "read_only");
  if (svc->privileged)
    add(&b, "privileged");
  if ((svc->cap_add && svc->cap_add[0]) || (svc->cap_drop && svc->cap_drop[0]))
    add(&b, "cap_add/cap_drop");
  if (svc->shm_size > 0)
    add(&b, "shm_size");
  if (svc->pids_limit > 0)
    add(&b, "pids_limit");
  if (svc->stdin_open)
    add(&b, "stdin_open");
  return b.len ? sbuf_steal(&b) : NULL;
}

unsigned long long sup_service_mem_mib(const struct compose_service *svc) {
  int64_t m = svc->mem_limit > 0 ? svc->mem_limit : svc->deploy.memory_limit;
  return m > 0 ? (unsigned long long)m >> 20 : 0;
}

unsigned sup_service_cpus(const struct compose_service *svc) {
  double c = svc->cpus > 0 ? svc->cpus : svc->deploy.cpus_limit;
  return c > 0 ? (unsigned)(c + 0.999) : 0; /* a fraction of a CPU still needs one vCPU */
}

int sup_service_rlimits(const struct compose_service *svc, struct proto_rlimit *out, size_t max,
                        size_t *n, struct stack_error **err) {
  *n = 0;
  for (size_t i = 0; i < svc->n_ulimits; i++) {
    const struct compose_ulimit *u = &svc->ulimits[i];
    int res = rlimit_from_name(u->name, strlen(u->name));
    if (res < 0)
      return stack_error_set(err, -EINVAL, "service %s: ulimits: unknown limit \"%s\"", svc->name,
                             u->name);
    if (*n == max)
      return stack_error_set(err, -E2BIG, "service %s: ulimits: more than %zu limits", svc->name,
                             max);
    long long hard = u->hard;
    if (rlimit_set(res, u->soft, hard, &out[*n]) < 0)
      return stack_error_set(err, -EINVAL,
                             "service %s: ulimits: %s: soft limit %lld is above hard limit %lld",
                             svc->name, u->name, (long long)u->soft, hard);
    (*n)++;
  }
  return 0;
}
