/* What a service's container gets in its VM, built once for the service's
 * own containers (sup_ctr_start()) and for one-off ones (sup_run.c):
 * command, environment, user, resources, ulimits, tmpfs, volumes and bind
 * mounts, secrets and configs, sysctls, capabilities and security options.
 * The options point into buffers that live in the struct. */
#ifndef STACK_SUPERVISOR_SUP_CTR_OPTS_H
#define STACK_SUPERVISOR_SUP_CTR_OPTS_H

#include <stdbool.h>

#include "guest/proto.h"
#include "runtime/vm/container.h"
#include "runtime/vm/vm.h"

struct compose_service;
struct stack_error;
struct supervisor;

struct sup_ctr_opts {
  struct container_opts o;
  struct proto_rlimit rlimits[PROTO_MAX_RLIMITS];
  struct proto_mount mounts[PROTO_MAX_MOUNTS];
  struct vm_share shares[PROTO_MAX_MOUNTS];
  struct proto_file files[PROTO_MAX_FILES];
  char **strings; /* what mounts and shares point to */
  char **sysctls;
  char **env;
  char *binds;
};

/* A one-off container's additions to its service (all may be NULL/0). */
struct sup_ctr_extra {
  char *const *env;      /* "K=V" over the service's environment */
  char *const *cap_add;  /* on top of the service's cap_add */
  char *const *cap_drop; /* on top of the service's cap_drop */
  /* the service with -v's volumes in place of its own (NULL: svc) */
  const struct compose_service *volumes_from;
};

/* Fills *out for container name of svc (crowded: sup_crowded()).  Callers
 * override what differs (a one-off's command, tty, ...) before starting
 * it.  Errors name the service. */
int sup_ctr_opts_build(struct supervisor *s, const struct compose_service *svc, const char *name,
                       bool crowded, const struct sup_ctr_extra *extra,
                       struct sup_ctr_opts *out, struct stack_error **err);

void sup_ctr_opts_clear(struct sup_ctr_opts *b);

#endif
