/* How a service's keys map onto its VM: memory, vCPUs, process and
 * resource limits, the file systems the guest mounts, sysctls, security
 * options.  Pure translation of the Compose model. */
#ifndef STACK_SUPERVISOR_SERVICE_RESOURCES_H
#define STACK_SUPERVISOR_SERVICE_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orchestrator/compose/compose_validate.h"
#include "runtime/vm/accel.h"

struct compose_service;

/* The VM's memory in MiB and vCPUs from `mem_limit` / `cpus`, else
 * `deploy.resources.limits`; 0 = the VM default. */
unsigned long long sup_service_mem_mib(const struct compose_service *svc);
unsigned sup_service_cpus(const struct compose_service *svc);
/* Docker's security options: whether opts ask for no-new-privileges (the
 * last of "no-new-privileges[:true|:false]" wins), and whether the VM
 * runtime does what opt asks (no-new-privileges, seccomp=unconfined; not
 * seccomp profiles, AppArmor or SELinux labels). */
bool sup_security_opt_no_new_privs(char *const *opts);
bool sup_security_opt_honoured(const char *opt);

/* The container's process limit from `pids_limit`, else
 * `deploy.resources.limits.pids`; 0 = none. */
uint64_t sup_service_pids_max(const struct compose_service *svc);

struct proto_rlimit;
struct stack_error;

/* The service's `x-stack-tcg-cache` (TCG's translation cache in MiB, or
 * "64M", "1G"): *mib is 0 when it is not set (the host's default).  A bad
 * value is an error naming the service (the loader has already refused it
 * with its file position: compose_validate_runnable()). */
#define SUP_TCG_CACHE_KEY COMPOSE_TCG_CACHE_KEY
/* The service's `x-stack-template-ram` ("shared", "private" or "auto",
 * the default): whether its VM maps its template's RAM (less memory,
 * freed memory kept) or copies it (freed memory returned).  A bad value
 * is an error naming the service (refused at load already). */
#define SUP_TEMPLATE_RAM_KEY COMPOSE_TEMPLATE_RAM_KEY
int sup_service_template_ram(const struct compose_service *svc, enum vm_template_ram *out,
                             struct stack_error **err);
int sup_service_tcg_cache(const struct compose_service *svc, unsigned *mib,
                          struct stack_error **err);

/* The service's `ulimits` as the guest applies them (at most max);
 * an unknown name is an error naming the service. */
int sup_service_rlimits(const struct compose_service *svc, struct proto_rlimit *out, size_t max,
                        size_t *n, struct stack_error **err);

struct proto_mount;

/* The file systems the guest mounts for the service: `tmpfs` entries
 * ("/path" or "/path:opt,opt"), `volumes` of type tmpfs (size, mode) and
 * `shm_size` (a tmpfs over /dev/shm).  At most max; the strings they point
 * to are added to *strings (a strv the caller frees after use). */
int sup_service_mounts(const struct compose_service *svc, struct proto_mount *out, size_t max,
                       size_t *n, char ***strings, struct stack_error **err);

/* The service's `sysctls` as "name=value" (strv; NULL when none). */
char **sup_service_sysctls(const struct compose_service *svc);

#endif
