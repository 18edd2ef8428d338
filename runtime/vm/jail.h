/* QEMU's jail: what a VM's QEMU process may do on the host if a guest
 * breaks out into it (docs/how-it-works.md, "What the VM boundary
 * protects").  The model is Firecracker's jailer, applied by stack itself
 * between fork and exec, so QEMU never holds root at all:
 *
 *   - its own uid and gid, uid_base + its pid (numeric: no passwd entry,
 *     unique among running VMs, so one QEMU cannot signal, trace or read
 *     another);
 *   - its own network namespace (nothing in it: its taps and sockets come
 *     as fds) and IPC namespace;
 *   - its own mount namespace whose root is an empty read-only tmpfs
 *     holding only what it opens, bound at the same paths as on the host:
 *     /usr (read-only, with /bin, /lib... as on the host), the
 *     dynamic loader's cache, the kernel and initramfs, the image disk
 *     (read-only), its writable disk and console log, its shared
 *     directories, a /dev with null, zero, random, urandom (and kvm), and a
 *     /proc of its own (hidepid: QEMU sees no other process); nosuid and
 *     nodev on all of it;
 *   - no capabilities at all, except for a VM with shared directories:
 *     CAP_DAC_OVERRIDE and CAP_FOWNER (it serves files of every owner), and
 *     CAP_CHOWN with a bind mount (files keep the guest's owners, as with
 *     Docker); the bounding set holds nothing else, and no_new_privs is set;
 *   - a seccomp filter (jail_seccomp.h) under QEMU's own -sandbox;
 *   - a cgroup with memory and pids limits (jail_cgroup.h).
 * The files QEMU opens by name and writes (its disk, console log, the
 * template builder's migration socket) are given to its uid first.
 * Everything else it needs arrives as open file descriptors: the QMP and
 * control sockets, taps, a template's state.
 *
 * When stack does not run as root, QEMU runs as the same user, only with
 * no_new_privs and the seccomp filter.
 */
#ifndef STACK_VM_JAIL_H
#define STACK_VM_JAIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/vm/accel.h"
#include "runtime/vm/vm.h"

struct stack_error;
struct jail;

/* uid_base unless $STACK_VM_UID_BASE or the config file's "vm_uid_base"
 * says otherwise: the range systemd leaves unused (1879048192 and up; a
 * pid is below 4194304). */
#define JAIL_UID_BASE_DEFAULT 0x70000000u

/* Fills host->jail, uid_base and the cgroup fields; fails only on a bad
 * vm_uid_base. */
int jail_probe(struct vm_host *host, struct stack_error **err);

struct jail_opts {
  const struct vm_spec *spec;
  const struct vm_host *host;
  const char *qemu;    /* QEMU's path (fs_which()) */
  const char *kernel;  /* the resolved kernel */
  const char *console; /* the console log: made (emptied) and given to the VM */
};

/* Plans the jail in the parent (paths resolved, files checked). */
int jail_new(const struct jail_opts *o, struct jail **out, struct stack_error **err);
void jail_free(struct jail *j);

/* What to exec: QEMU's real path, which the jail shows. */
const char *jail_exec_path(const struct jail *j);

/* The capabilities a QEMU serving these shares keeps (a mask of
 * 1 << CAP_*). */
uint64_t jail_caps(const struct vm_share *shares, size_t n_shares);

/* In the child, between fork and exec: cgroup, files given to the VM's
 * uid, mount namespace, credentials, seccomp.  Returns 0, or -1 after
 * writing why to fd 2.  Async-signal-safe. */
int jail_enter(const struct jail *j);

/* The cgroup directory of the VM whose QEMU has pid ("" = none), for
 * removing it after the exit. */
const char *jail_cgroup_dir(const struct jail *j);

#endif
