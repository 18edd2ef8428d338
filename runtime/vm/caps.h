/* Linux capabilities by the names Docker and Compose give them ("NET_ADMIN"
 * or "CAP_NET_ADMIN"), and the set a container's processes keep: Docker's
 * default set, changed by cap_add / cap_drop, or every one with privileged.
 * The VM is the isolation boundary; the set is there so that a container
 * behaves as it does under Docker (a process that drops NET_RAW cannot
 * ping, one given NET_ADMIN can configure its interfaces). */
#ifndef STACK_VM_CAPS_H
#define STACK_VM_CAPS_H

#include <stdbool.h>
#include <stdint.h>

struct stack_error;

/* The capability number of name (with or without "CAP_", any case), or
 * -EINVAL. */
int cap_from_name(const char *name);

/* Docker's default set: CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD,
 * NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT,
 * KILL, AUDIT_WRITE. */
uint64_t caps_docker_default(void);

/* What a container's processes keep, as Docker computes it: every
 * capability with privileged; else with "ALL" in add, every one but drop;
 * with "ALL" in drop, only add; else the default set plus add minus drop.
 * add and drop are NULL-terminated (may be NULL).  An unknown name is an
 * error naming it (what is prefixed by the caller: service, flag). */
int caps_compute(bool privileged, char *const *add, char *const *drop, uint64_t *out,
                 struct stack_error **err);

#endif
