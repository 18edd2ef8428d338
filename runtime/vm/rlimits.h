/* Resource limits by the names Docker and Compose give them ("nofile",
 * "nproc", ...), for `stack run --ulimit` and a service's `ulimits`. */
#ifndef STACK_VM_RLIMITS_H
#define STACK_VM_RLIMITS_H

#include <stddef.h>
#include <stdint.h>

struct proto_rlimit;

/* RLIMIT_* for a name, or -EINVAL for an unknown one. */
int rlimit_from_name(const char *name, size_t len);

/* Fills out from soft and hard values where -1 means unlimited; -EINVAL
 * when soft > hard or a value is below -1. */
int rlimit_set(int resource, long long soft, long long hard, struct proto_rlimit *out);

#endif
