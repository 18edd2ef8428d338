#include "runtime/vm/jail_seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define JAIL_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define JAIL_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "jail_seccomp.c: add this architecture's AUDIT_ARCH"
#endif

/* Kernels and headers older than the calls: their numbers are fixed. */
#ifndef __NR_openat2
#define __NR_openat2 437
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif
#ifndef __O_TMPFILE
#define __O_TMPFILE (O_TMPFILE & ~O_DIRECTORY)
#endif

/* The low 32 bits of argument i: modes, flags and ids all fit. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

#define RET_ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define RET_ERRNO(e) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))

struct prog {
  struct sock_filter *p;
  size_t n;
};

static void emit(struct prog *g, struct sock_filter f) {
  if (g->n < JAIL_SECCOMP_MAX)
    g->p[g->n++] = f;
}

/* A block that runs only for system call nr (the accumulator holds the
 * number when it starts) and always returns: the test skips it otherwise. */
static void block(struct prog *g, long nr, const struct sock_filter *body, size_t len) {
  emit(g, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, (uint8_t)len));
  for (size_t i = 0; i < len; i++)
    emit(g, body[i]);
}

/* EPERM when argument arg has any of bits. */
static void deny_bits(struct prog *g, long nr, unsigned arg, uint32_t bits) {
  const struct sock_filter b[] = {
      LOAD(ARG_LO(arg)),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, bits, 0, 1),
      RET_ERRNO(EPERM),
      RET_ALLOW,
  };
  block(g, nr, b, sizeof b / sizeof b[0]);
}

/* open-like calls: the mode counts only when the flags create a file. */
static void deny_create_bits(struct prog *g, long nr, unsigned flags_arg, unsigned mode_arg) {
  const struct sock_filter b[] = {
      LOAD(ARG_LO(flags_arg)),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_CREAT | __O_TMPFILE, 1, 0),
      RET_ALLOW,
      LOAD(ARG_LO(mode_arg)),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, S_ISUID | S_ISGID, 0, 1),
      RET_ERRNO(EPERM),
      RET_ALLOW,
  };
  block(g, nr, b, sizeof b / sizeof b[0]);
}

/* mknod: no set-ID bits and no devices (FIFOs, sockets and regular files
 * are fine). */
static void deny_mknod(struct prog *g, long nr, unsigned mode_arg) {
  const struct sock_filter b[] = {
      LOAD(ARG_LO(mode_arg)),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, S_ISUID | S_ISGID, 4, 0),
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, S_IFMT),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFCHR, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFBLK, 1, 0),
      RET_ALLOW,
      RET_ERRNO(EPERM),
  };
  block(g, nr, b, sizeof b / sizeof b[0]);
}

/* chown to QEMU's own group: the one group whose S_ISGID the kernel would
 * let QEMU set. */
static void deny_own_group(struct prog *g, long nr, unsigned gid_arg, gid_t gid) {
  const struct sock_filter b[] = {
      LOAD(ARG_LO(gid_arg)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)gid, 0, 1),
      RET_ERRNO(EPERM),
      RET_ALLOW,
  };
  block(g, nr, b, sizeof b / sizeof b[0]);
}

static void fail_with(struct prog *g, long nr, int e) {
  const struct sock_filter b[] = {RET_ERRNO(e)};
  block(g, nr, b, 1);
}

size_t jail_seccomp_build(struct sock_filter *p, gid_t own_gid) {
  struct prog g = {p, 0};
  emit(&g, (struct sock_filter)LOAD(offsetof(struct seccomp_data, arch)));
  emit(&g, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, JAIL_AUDIT_ARCH, 1, 0));
  emit(&g, (struct sock_filter)RET_ERRNO(ENOSYS));
  emit(&g, (struct sock_filter)LOAD(offsetof(struct seccomp_data, nr)));
#ifdef __x86_64__
  /* x32 system calls share the architecture tag */
  emit(&g, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
  emit(&g, (struct sock_filter)RET_ERRNO(ENOSYS));
#endif
#ifdef __NR_chmod
  deny_bits(&g, __NR_chmod, 1, S_ISUID);
#endif
  deny_bits(&g, __NR_fchmod, 1, S_ISUID);
  deny_bits(&g, __NR_fchmodat, 2, S_ISUID);
  deny_bits(&g, __NR_fchmodat2, 2, S_ISUID);
#ifdef __NR_mkdir
  deny_bits(&g, __NR_mkdir, 1, S_ISUID);
#endif
  deny_bits(&g, __NR_mkdirat, 2, S_ISUID);
#ifdef __NR_creat
  deny_bits(&g, __NR_creat, 1, S_ISUID | S_ISGID);
#endif
#ifdef __NR_open
  deny_create_bits(&g, __NR_open, 1, 2);
#endif
  deny_create_bits(&g, __NR_openat, 2, 3);
#ifdef __NR_mknod
  deny_mknod(&g, __NR_mknod, 1);
#endif
  deny_mknod(&g, __NR_mknodat, 2);
#ifdef __NR_chown
  deny_own_group(&g, __NR_chown, 2, own_gid);
#endif
#ifdef __NR_lchown
  deny_own_group(&g, __NR_lchown, 2, own_gid);
#endif
  deny_own_group(&g, __NR_fchown, 2, own_gid);
  deny_own_group(&g, __NR_fchownat, 3, own_gid);
  fail_with(&g, __NR_openat2, ENOSYS);
  /* opens any file of a file system by handle (CAP_DAC_READ_SEARCH, which
   * QEMU never has: this says it once more) */
  fail_with(&g, __NR_open_by_handle_at, EPERM);
  fail_with(&g, __NR_io_uring_setup, ENOSYS);
  emit(&g, (struct sock_filter)RET_ALLOW);
  return g.n;
}

int jail_seccomp_install(gid_t own_gid) {
  struct sock_filter p[JAIL_SECCOMP_MAX];
  struct sock_fprog f = {.len = (unsigned short)jail_seccomp_build(p, own_gid), .filter = p};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &f) < 0)
    return -errno;
  return 0;
}
