/* Whole-buffer writes: write(2) and pwrite(2) may write less than asked (and
 * be interrupted); these loop until everything is written. */
#ifndef STACK_UTIL_FDIO_H
#define STACK_UTIL_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* 0, or -errno of the failing write. */
int fd_write_all(int fd, const void *data, size_t len);
int fd_pwrite_all(int fd, const void *data, size_t len, off_t off);

#endif
