#include "sup_ctr_opts.h"

#include <string.h>

#include "orchestrator/compose/compose_model.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/caps.h"
#include "service_resources.h"
#include "sup_files.h"
#include "sup_loop.h"
#include "sup_volumes.h"

/* The service's environment with over's K=V entries over it. */
static char **env_over(const struct compose_service *svc, char *const *over) {
  size_t n_over = 0;
  while (over && over[n_over])
    n_over++;
  char **env = xcalloc(svc->environment.n + n_over + 1, sizeof(char *));
  size_t k = 0;
  for (size_t i = 0; i < svc->environment.n; i++) {
    const struct compose_kv *kv = &svc->environment.v[i];
    if (kv->value == NULL)
      continue;
    bool replaced = false;
    size_t kl = strlen(kv->key);
    for (size_t j = 0; j < n_over && !replaced; j++)
      replaced = strncmp(over[j], kv->key, kl) == 0 && over[j][kl] == '=';
    if (!replaced)
      env[k++] = xasprintf("%s=%s", kv->key, kv->value);
  }
  for (size_t j = 0; j < n_over; j++)
    env[k++] = xstrdup(over[j]);
  return env;
}

/* a's strings then b's, copied (NULL when both are empty) */
static char **strv_join2(char *const *a, char *const *b) {
  size_t n = 0;
  for (char *const *v = a; v && *v; v++)
    n++;
  for (char *const *v = b; v && *v; v++)
    n++;
  if (n == 0)
    return NULL;
  char **out = xcalloc(n + 1, sizeof(char *));
  n = 0;
  for (char *const *v = a; v && *v; v++)
    out[n++] = xstrdup(*v);
  for (char *const *v = b; v && *v; v++)
    out[n++] = xstrdup(*v);
  return out;
}

int sup_ctr_opts_build(struct supervisor *s, const struct compose_service *svc, const char *name,
                       bool crowded, const struct sup_ctr_extra *extra,
                       struct sup_ctr_opts *b, struct stack_error **err) {
  static const struct sup_ctr_extra none = {0};
  if (extra == NULL)
    extra = &none;
  memset(b, 0, sizeof(*b));
  b->env = env_over(svc, extra->env);
  b->sysctls = sup_service_sysctls(svc);
  unsigned cpus = sup_service_cpus(svc);
  const struct ps_container *rec = project_state_find(s->state, name);
  b->o = (struct container_opts){
      /* the record's id, saved before the VM is spawned: a supervisor
       * that starts after this one dies finds the VM by it (its state
       * directory and pid file), recorded running or not */
      .id = rec ? rec->id : NULL,
      .owner = s->paths.project,
      .name = name,
      .entrypoint = svc->entrypoint,
      .cmd = svc->command,
      .env = b->env,
      .user = svc->user,
      .workdir = svc->working_dir,
      .hostname = svc->hostname,
      .domainname = svc->domainname,
      .tty = svc->tty,
      /* stdin_open: a pipe nobody writes to (reads wait), not /dev/null */
      .interactive = svc->stdin_open,
      .mem_mib = sup_service_mem_mib(svc),
      .cpus = cpus,
      .crowded = crowded,
      /* every start makes a fresh VM state: keep none behind */
      .remove = true,
      .templates = s->templates,
      .boots = s->boots,
      .rlimits = b->rlimits,
      .mounts = b->mounts,
      .shares = b->shares,
      .files = b->files,
      .sysctls = (const char *const *)b->sysctls,
      .read_only = svc->read_only,
      .limit_caps = true,
      .pids_max = sup_service_pids_max(svc),
      .no_new_privs = sup_security_opt_no_new_privs(svc->security_opt),
  };
  struct container_opts *o = &b->o;
  int r;
  if ((r = sup_paths_binds(&s->paths, name, &b->binds, err)) < 0 ||
      (r = sup_service_tcg_cache(svc, &o->tcg_cache_mib, err)) < 0 ||
      (r = sup_service_template_ram(svc, &o->template_ram, err)) < 0 ||
      (r = sup_service_rlimits(svc, b->rlimits, PROTO_MAX_RLIMITS, &o->n_rlimits, err)) < 0 ||
      (r = sup_service_mounts(svc, b->mounts, PROTO_MAX_MOUNTS, &o->n_mounts, &b->strings,
                              err)) < 0 ||
      (r = sup_volumes_resolve(s->project, extra->volumes_from ? extra->volumes_from : svc, name,
                               b->binds, b->shares, PROTO_MAX_MOUNTS, &o->n_shares, b->mounts,
                               PROTO_MAX_MOUNTS, &o->n_mounts, &b->strings, err)) < 0 ||
      (r = sup_service_files(s->project, svc, b->files, PROTO_MAX_FILES, &o->n_files, b->mounts,
                             PROTO_MAX_MOUNTS, &o->n_mounts, &b->strings, err)) < 0)
    return r;
  _cleanup_strv_ char **cap_add = strv_join2(svc->cap_add, extra->cap_add);
  _cleanup_strv_ char **cap_drop = strv_join2(svc->cap_drop, extra->cap_drop);
  if ((r = caps_compute(svc->privileged, cap_add, cap_drop, &o->caps, err)) < 0)
    return stack_error_prefix(err, "service %s", svc->name);
  return 0;
}

void sup_ctr_opts_clear(struct sup_ctr_opts *b) {
  strv_free(b->strings);
  strv_free(b->sysctls);
  strv_free(b->env);
  free(b->binds);
  memset(b, 0, sizeof(*b));
}
