/* The seccomp filter every QEMU gets before exec, under QEMU's own
 * `-sandbox` (filters stack: the strictest answer wins).
 *
 * QEMU serves 9p shares with the host's own file system calls, so what a
 * guest asks of a shared directory becomes QEMU's chmod, open and mknod on
 * the host.  With CAP_FOWNER (a VM with shares keeps it, jail.h) nothing in
 * the kernel stops QEMU from setting a set-user-ID bit, so the filter
 * refuses, with EPERM:
 *   - a mode with S_ISUID in chmod, fchmod, fchmodat, fchmodat2, mkdir,
 *     mkdirat, and in open, openat, creat when they create (O_CREAT,
 *     O_TMPFILE); S_ISGID too when a file is created (open, creat, mknod);
 *   - mknod and mknodat of character and block devices (QEMU has no
 *     CAP_MKNOD either: this says it once more);
 *   - chown, fchown, lchown and fchownat to QEMU's own group.
 * S_ISGID in chmod and mkdir is left to the kernel, which clears it unless
 * the file's group is one of QEMU's (QEMU has no CAP_FSETID): its only
 * group is its own, and no file can be given it.  So a guest leaves no
 * set-user-ID or set-group-ID executable on the host, whichever uid it
 * runs as.
 * io_uring_setup and openat2, whose requests a filter cannot read, fail with
 * ENOSYS (QEMU then uses epoll and openat); open_by_handle_at with EPERM.  Another architecture's system
 * calls (int 0x80, x32) fail with ENOSYS.
 */
#ifndef STACK_VM_JAIL_SECCOMP_H
#define STACK_VM_JAIL_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>
#include <sys/types.h>

#define JAIL_SECCOMP_MAX 128

/* Writes the program into prog (room for JAIL_SECCOMP_MAX instructions)
 * and returns its length.  Async-signal-safe: the child builds it with its
 * own gid between fork and exec. */
size_t jail_seccomp_build(struct sock_filter *prog, gid_t own_gid);

/* Builds and installs the filter for the calling thread (needs
 * no_new_privs or CAP_SYS_ADMIN).  Returns 0 or -errno.
 * Async-signal-safe. */
int jail_seccomp_install(gid_t own_gid);

#endif
