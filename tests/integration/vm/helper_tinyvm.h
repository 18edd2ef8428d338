/* Shared by the VM integration tests and bench/bench_boot.c: a tiny static
 * init (guest/tinyinit.c, built with musl-gcc) packed into an uncompressed
 * cpio initramfs with libarchive. */
#ifndef STACK_TEST_HELPER_TINYVM_H
#define STACK_TEST_HELPER_TINYVM_H

struct stack_error;

/* Builds <dir>/tinyinit and <dir>/initrd.cpio; sets *initrd to the cpio
 * path (caller frees). */
int tinyvm_build_initrd(const char *dir, char **initrd, struct stack_error **err);

#endif
