/* A cgroup per VM (cgroup v2): each QEMU runs in <dir>/vm-<pid>, with
 * memory.max (the guest's RAM plus QEMU's own: see
 * jail_cgroup_memory_max()) and pids.max (QEMU's threads), so that a
 * guest that breaks into QEMU cannot take the host's memory or fill its
 * process table.
 *
 * <dir> is $STACK_CGROUP, else /sys/fs/cgroup/stack when cgroup v2 is
 * mounted on /sys/fs/cgroup ("off" or "" turns it off).  The directory is
 * made on first use, with the memory and pids controllers enabled for its
 * children (in its parent's cgroup.subtree_control too, if they are not).
 * On a host with cgroup v1 (or without the controllers) VMs run without
 * these limits, and `stack system info` says so.
 *
 * The child joins its cgroup between fork and exec (it creates
 * vm-<pid>, writes the limits and moves itself: no process writes another
 * one's cgroup); whoever reaps QEMU removes the directory.
 */
#ifndef STACK_VM_JAIL_CGROUP_H
#define STACK_VM_JAIL_CGROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/vm/accel.h"

/* pids.max of a VM's cgroup.  QEMU 7.2 with TCG and 9p runs its main
 * loop, the RCU thread, a thread per vCPU and up to 64 worker threads
 * (its thread pool, which serves 9p and disk requests); -sandbox forbids
 * fork and exec. */
#define JAIL_CGROUP_PIDS_MAX 256

/* QEMU's own memory besides the guest's RAM and, under TCG, its
 * translation cache (measured: see docs/how-it-works.md). */
#define JAIL_QEMU_OVERHEAD_MIB 256

/* Fills host->cgroup, cgroup_memory, cgroup_pids and cgroup_note. */
void jail_cgroup_probe(struct vm_host *host);

/* memory.max for a guest of mem_mib MiB (0 = VM_DEFAULT_MEM_MIB) with a
 * TCG translation cache of tcg_cache_mib (0 = the host's default; none
 * under KVM; vm_tcg_cache_mib()): its RAM, the cache and
 * JAIL_QEMU_OVERHEAD_MIB. */
uint64_t jail_cgroup_memory_max(const struct vm_host *host, uint64_t mem_mib,
                                unsigned tcg_cache_mib);

/* In the child, between fork and exec: makes <dir>/vm-<pid>, writes the
 * limits (0 = leave) and moves the calling process there.  Returns 0, or
 * -1 after writing why to fd 2.  Async-signal-safe. */
int jail_cgroup_enter(const char *dir, int pid, uint64_t memory_max, uint64_t pids_max);

/* Removes the cgroup of the VM whose QEMU had pid (once it was reaped). */
void jail_cgroup_remove(const char *dir, int pid);

/* The same for a caller without a vm_host (a supervisor that adopted the
 * VM): finds the directory first. */
void jail_cgroup_release(int pid);

/* Removes the empty cgroups of VMs that ended unseen (their supervisor
 * was killed). */
void jail_cgroup_gc(void);

#endif
