#include "service_resources.h"

#include <errno.h>
#include <string.h>

#include "guest/proto.h"
#include "orchestrator/compose/compose_model.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/vm/accel.h"
#include "runtime/vm/rlimits.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

/* A security_opt "key[=:]value" split: *value is NULL when there is none. */
static size_t opt_key(const char *opt, const char **value) {
  size_t k = strcspn(opt, "=:");
  *value = opt[k] ? opt + k + 1 : NULL;
  return k;
}

static bool opt_is(const char *opt, size_t k, const char *key) {
  return strlen(key) == k && strncmp(opt, key, k) == 0;
}

bool sup_security_opt_no_new_privs(char *const *opts) {
  bool on = false;
  for (char *const *o = opts; o && *o; o++) {
    const char *v;
    size_t k = opt_key(*o, &v);
    if (opt_is(*o, k, "no-new-privileges"))
      on = v == NULL || strcmp(v, "true") == 0;
  }
  return on;
}

bool sup_security_opt_honoured(const char *opt) {
  const char *v;
  size_t k = opt_key(opt, &v);
  /* the guest applies no seccomp profile: unconfined is what it gets */
  return opt_is(opt, k, "no-new-privileges") ||
         (opt_is(opt, k, "seccomp") && v && strcmp(v, "unconfined") == 0);
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

static const char *keep_str(char ***strings, size_t *ns, char *owned) {
  *strings = xrealloc(*strings, (*ns + 2) * sizeof **strings);
  (*strings)[(*ns)++] = owned;
  (*strings)[*ns] = NULL;
  return owned;
}

int sup_service_mounts(const struct compose_service *svc, struct proto_mount *out, size_t max,
                       size_t *n, char ***strings, struct stack_error **err) {
  *n = 0;
  size_t ns = 0;
  *strings = NULL;
  for (size_t i = 0; svc->tmpfs && svc->tmpfs[i]; i++) {
    const char *t = svc->tmpfs[i];
    const char *colon = strchr(t, ':');
    if (t[0] != '/')
      return stack_error_set(err, -EINVAL,
                             "service %s: tmpfs %s: the mount point must be an absolute path",
                             svc->name, t);
    if (*n == max)
      return stack_error_set(err, -E2BIG, "service %s: more than %zu mounts", svc->name, max);
    char *target = colon ? xstrndup(t, (size_t)(colon - t)) : xstrdup(t);
    /* Docker's defaults for a --tmpfs mount, which the service's options
     * can undo (exec, suid, dev): the guest splits flags from data */
    struct sbuf o = SBUF_INIT;
    sbuf_puts(&o, "noexec,nosuid,nodev");
    if (colon && colon[1]) {
      if (strlen(colon + 1) > 512) {
        int r = stack_error_set(err, -EINVAL, "service %s: tmpfs %s: options too long",
                                svc->name, target);
        free(target);
        sbuf_free(&o);
        return r;
      }
      sbuf_printf(&o, ",%s", colon + 1);
    }
    out[(*n)++] = (struct proto_mount){"tmpfs", keep_str(strings, &ns, target), "tmpfs",
                                       keep_str(strings, &ns, o.data ? sbuf_steal(&o)
                                                                     : xstrdup(""))};
  }
  for (size_t i = 0; i < svc->n_volumes; i++) {
    const struct compose_mount *m = &svc->volumes[i];
    if (!m->type || strcmp(m->type, "tmpfs") != 0)
      continue;
    if (*n == max)
      return stack_error_set(err, -E2BIG, "service %s: more than %zu mounts", svc->name, max);
    struct sbuf o = SBUF_INIT;
    if (m->tmpfs_size > 0)
      sbuf_printf(&o, "size=%lld", (long long)m->tmpfs_size);
    if (m->tmpfs_mode)
      sbuf_printf(&o, "%smode=%o", o.len ? "," : "", (unsigned)m->tmpfs_mode);
    out[(*n)++] = (struct proto_mount){"tmpfs", keep_str(strings, &ns, xstrdup(m->target)),
                                       "tmpfs",
                                       keep_str(strings, &ns, o.data ? sbuf_steal(&o)
                                                                     : xstrdup(""))};
  }
  if (svc->shm_size > 0) {
    if (*n == max)
      return stack_error_set(err, -E2BIG, "service %s: more than %zu mounts", svc->name, max);
    out[(*n)++] = (struct proto_mount){
        "shm", "/dev/shm", "tmpfs",
        keep_str(strings, &ns, xasprintf("mode=1777,size=%lld", (long long)svc->shm_size))};
  }
  return 0;
}

char **sup_service_sysctls(const struct compose_service *svc) {
  if (svc->sysctls.n == 0)
    return NULL;
  char **v = xcalloc(svc->sysctls.n + 1, sizeof *v);
  size_t k = 0;
  for (size_t i = 0; i < svc->sysctls.n; i++)
    if (svc->sysctls.v[i].value)
      v[k++] = xasprintf("%s=%s", svc->sysctls.v[i].key, svc->sysctls.v[i].value);
  return v;
}

uint64_t sup_service_pids_max(const struct compose_service *svc) {
  int64_t n = svc->pids_limit > 0 ? svc->pids_limit : svc->deploy.pids_limit;
  return n > 0 ? (uint64_t)n : 0;
}

int sup_service_tcg_cache(const struct compose_service *svc, unsigned *mib,
                          struct stack_error **err) {
  *mib = 0;
  const struct cnode *map = svc->node;
  const struct cnode *v =
      map && map->kind == CNODE_MAP ? cnode_map_get(map, SUP_TCG_CACHE_KEY) : NULL;
  if (v == NULL)
    return 0;
  if (v->kind != CNODE_SCALAR || vm_tcg_cache_parse(v->str, mib) < 0) {
    *mib = 0;
    return stack_error_set(err, -EINVAL,
                           "service %s: %s must be a size in MiB (\"64\", \"64M\", \"1G\") of at "
                           "least %d",
                           svc->name, SUP_TCG_CACHE_KEY, VM_TCG_CACHE_MIN_MIB);
  }
  return 0;
}

int sup_service_template_ram(const struct compose_service *svc, enum vm_template_ram *out,
                             struct stack_error **err) {
  *out = VM_TEMPLATE_RAM_AUTO;
  const struct cnode *map = svc->node;
  const struct cnode *v =
      map && map->kind == CNODE_MAP ? cnode_map_get(map, SUP_TEMPLATE_RAM_KEY) : NULL;
  if (v == NULL)
    return 0;
  if (v->kind == CNODE_SCALAR && strcmp(v->str, "shared") == 0)
    *out = VM_TEMPLATE_RAM_SHARED;
  else if (v->kind == CNODE_SCALAR && strcmp(v->str, "private") == 0)
    *out = VM_TEMPLATE_RAM_PRIVATE;
  else if (!(v->kind == CNODE_SCALAR && strcmp(v->str, "auto") == 0))
    return stack_error_set(err, -EINVAL,
                           "service %s: %s must be \"shared\", \"private\" or \"auto\"",
                           svc->name, SUP_TEMPLATE_RAM_KEY);
  return 0;
}
